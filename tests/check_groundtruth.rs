//! `check` against real loads: the corpus ground truth (every program of
//! every corpus object loaded for real on 5.10, 6.1 and 6.12.117, see
//! `../shared/corpus/groundtruth/README.md`), scored with the rules of
//! `../shared/tools/score-check`: a program that really failed for a static
//! reason must be predicted `fails` (placeholder `dummy_*` attach targets may
//! be `warns`), a program that really loaded must not be. The figures are
//! the ones in docs/check-corpus.md; a change that loses one fails here.

mod common;
use bpfabi::check::{check_object, CheckOptions, Verdict};
use bpfabi::model::KernelModel;
use common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// (groundtruth file, corpus kernel dir, caught, missed, false alarms).
const EXPECTED: &[(&str, &str, usize, usize, usize)] =
    &[("5.10.0-32-amd64", "5.10.223-1", 169, 0, 0), ("6.1.0-56-amd64", "6.1.192-2", 51, 0, 0), ("6.12.117+deb13-amd64", "6.12.117-1", 104, 0, 0)];

/// The error lines score-check counts as static failures.
fn is_static(error: &str) -> bool {
    let e = error.to_lowercase();
    [
        "failed to find btf for extern",
        "not found in kernel btf",
        "not found in kernel or module btfs",
        "invalid func unknown#",
        "unknown func ",
        "cannot use helper",
        "failed to resolve co-re",
        "co-re relocat",
        "failed to find kernel btf type id",
        "is referenced but wasn't resolved",
    ]
    .iter()
    .any(|p| e.contains(p))
}

type Verdicts = HashMap<(String, String), Verdict>;

/// The ground-truth records (one per program or struct_ops unit) of kernel
/// `rel` and `check`'s verdict for every program of their objects on the
/// corpus kernel `kdir`, with the committed probe data of that kernel
/// (data/probe, made in the kernel booted under QEMU), as `check --kernel
/// DIR` uses it.
fn ground_truth_and_verdicts(root: &std::path::Path, names: &BTreeMap<u32, String>, rel: &str, kdir: &str) -> (Vec<serde_json::Value>, Verdicts) {
    let text = std::fs::read_to_string(root.join("groundtruth").join(format!("{rel}.jsonl"))).unwrap();
    let gt: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).filter(|g: &serde_json::Value| g["program"].is_string()).collect();
    let objects: BTreeSet<&str> = gt.iter().filter_map(|g| g["object"].as_str()).collect();
    let mut ki = KernelModel::new(load_dir(kdir));
    bpfabi::probe::attach::attach(std::slice::from_mut(&mut ki), &[], &[]).unwrap();
    assert!(ki.probe().is_some(), "{rel}: no data/probe/{rel}.json");
    let mut verdict = Verdicts::new();
    for o in &objects {
        let obj = bpfabi::object::read_path(&root.join("bpf-objects").join(o)).unwrap().remove(0).1;
        for r in check_object(&obj, &ki, names, &CheckOptions::default()) {
            verdict.insert((o.to_string(), r.program), r.verdict);
        }
    }
    (gt, verdict)
}

/// A unit's verdict: its program's, or the worst of a struct_ops map's.
fn unit_verdict(g: &serde_json::Value, verdict: &Verdicts) -> Verdict {
    let o = g["object"].as_str().unwrap_or("");
    let p = g["program"].as_str().unwrap_or("");
    let programs: Vec<&str> = if g["unit"] == "struct_ops_map" {
        g["programs"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default()
    } else {
        vec![p]
    };
    programs.iter().map(|x| *verdict.get(&(o.to_string(), x.to_string())).unwrap_or_else(|| panic!("no verdict for {o}:{x}"))).max().unwrap_or(Verdict::Loads)
}

/// Refusals score-check does not score but `check` predicts (docs/check-corpus.md,
/// "Beyond score-check"): (decisive words, predicted verdict, units over
/// the three kernels).
#[test]
fn other_static_refusals_against_real_loads() {
    if !have_corpus() {
        return;
    }
    let root = corpus();
    let names = BTreeMap::new();
    let want: &[(&str, Verdict, usize)] = &[
        ("cannot call GPL-restricted function from non-GPL compatible program", Verdict::Fails, 3),
        ("struct ops programs must have a GPL compatible license", Verdict::Fails, 3),
        ("attach to unsupported member", Verdict::Fails, 3),
        // freplace: its target program is given at run time, and no probe
        // variant measures it: unknown (never "loads").
        ("attach program FD is not set", Verdict::Unknown, 6),
    ];
    let mut got: BTreeMap<(&str, Verdict), usize> = BTreeMap::new();
    let mut unknown_section: BTreeMap<Verdict, usize> = BTreeMap::new();
    for &(rel, kdir, ..) in EXPECTED {
        let (gt, verdict) = ground_truth_and_verdicts(&root, &names, rel, kdir);
        for g in gt.iter().filter(|g| g["loaded"] == false) {
            let error = g["error"].as_str().unwrap_or("");
            if let Some(&(words, ..)) = want.iter().find(|(w, ..)| error.contains(w)) {
                *got.entry((words, unit_verdict(g, &verdict))).or_default() += 1;
            } else if error.contains("missing BPF prog type") {
                *unknown_section.entry(unit_verdict(g, &verdict)).or_default() += 1;
            }
        }
    }
    for &(words, v, n) in want {
        assert_eq!(got.get(&(words, v)).copied().unwrap_or(0), n, "{words}: {got:#?}");
    }
    // libbpf v1.7.0's section matching: a name following no convention is
    // never predicted to load.
    assert_eq!(unknown_section.get(&Verdict::Loads), None, "{unknown_section:?}");
    assert_eq!(unknown_section.values().sum::<usize>(), 96);
}

#[test]
fn score_against_real_loads() {
    if !have_corpus() {
        return;
    }
    let root = corpus();
    let names = BTreeMap::new();
    for &(rel, kdir, caught_want, missed_want, fa_want) in EXPECTED {
        let (gt, verdict) = ground_truth_and_verdicts(&root, &names, rel, kdir);
        let (mut caught, mut missed, mut fa, mut misses) = (0, 0, 0, Vec::new());
        for g in &gt {
            let o = g["object"].as_str().unwrap_or("");
            let p = g["program"].as_str().unwrap_or("");
            let v = unit_verdict(g, &verdict);
            let error = g["error"].as_str().unwrap_or("");
            if g["loaded"] == true {
                if v == Verdict::Fails {
                    fa += 1;
                    misses.push(format!("false alarm {o}:{p}"));
                }
            } else if is_static(error) {
                if v == Verdict::Fails || (v == Verdict::Warns && error.contains("dummy_")) {
                    caught += 1;
                } else {
                    missed += 1;
                    misses.push(format!("missed {o}:{p}"));
                }
            }
        }
        assert_eq!((caught, missed, fa), (caught_want, missed_want, fa_want), "{rel}: {misses:#?}");
    }
}

/// The three residual misses before per-member struct_ops probing, now
/// caught from the probe data: selftests' bpf_dctcp_release calls
/// `bpf_setsockopt` from `tcp_congestion_ops.release`, which
/// `bpf_tcp_ca_get_func_proto` refuses (`prog_ops_moff(prog) ==
/// offsetof(struct tcp_congestion_ops, release)`) on 6.1 and 6.12.117,
/// while the first member (`ssthresh`) may call it; 5.10's tcp_ca offers
/// it to no member.
#[test]
fn struct_ops_judged_per_member() {
    if !have_corpus() {
        return;
    }
    let root = corpus();
    let obj = bpfabi::object::read_path(&root.join("bpf-objects/selftests-6.1/bpf_dctcp_release.bpf.o")).unwrap().remove(0).1;
    let so = &obj.struct_ops[0];
    assert_eq!(so.kernel_type, "tcp_congestion_ops");
    assert!(so.slots.iter().any(|s| s.member == "release" && s.program == "dctcp_nouse_release"), "{:?}", so.slots);
    for (kdir, verifier_says) in [
        ("5.10.223-1", "unknown func bpf_setsockopt#49"),
        ("6.1.192-2", "unknown func bpf_setsockopt#49"),
        ("6.12.117-1", "program of this type cannot use helper bpf_setsockopt#49"),
    ] {
        let mut ki = KernelModel::new(load_dir(kdir));
        bpfabi::probe::attach::attach(std::slice::from_mut(&mut ki), &[], &[]).unwrap();
        let r = check_object(&obj, &ki, &BTreeMap::new(), &CheckOptions::default());
        let rel = r.iter().find(|r| r.program == "dctcp_nouse_release").unwrap();
        assert_eq!(rel.verdict, Verdict::Fails, "{kdir}: {:#?}", rel.reasons);
        let why = rel.reasons.iter().find(|x| x.kind.as_str() == "helper_not_allowed" && x.name == "bpf_setsockopt").unwrap();
        assert!(why.message.contains("struct_ops/tcp_congestion_ops.release programs") && why.message.contains(verifier_says), "{kdir}: {}", why.message);
        assert!(!why.indirect, "{kdir}: measured on the member itself");
    }
}
