//! Programs picked at run time (src/check/alternatives.rs) and partial
//! answers offline, on the corpus's libbpf-tools 0.26 objects: the bookworm
//! figure and what --optional/--autoload-off change, alternative groups
//! confirmed with real loads on the running kernel, and a catalog kernel
//! against the full kernel it was cut from.

mod common;

use bpfabi::check::alternatives::{object_verdicts, Pick, PickRule, Role, Selection};
use bpfabi::check::{CheckOptions, ReasonKind, Verdict};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::object::BpfObject;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tools_dir() -> PathBuf {
    common::corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1")
}

fn tools() -> Vec<BpfObject> {
    let objs = bpfabi::inputs::find_objects(&[tools_dir()], true).objects;
    assert_eq!(objs.len(), 52);
    objs
}

fn kernel(dir: &Path) -> KernelModel {
    KernelModel::load(&[dir.to_path_buf()], &LoadOptions::default()).unwrap()
}

fn file(o: &str) -> &str {
    o.rsplit('/').next().unwrap_or(o)
}

/// Bookworm's kernel (the corpus's 6.1): 5 of the 52 tools fail, through 7
/// programs, and every one of those is a program libbpf-tools' user space
/// retargets (`bpf_program__set_attach_target`: folio_account_dirtied,
/// __blk_account_io_start, __do_page_cache_readahead) or a module function
/// (md_flush_request), not one of a group: the groups do not change them.
/// The real 6.1 refused every one of the 7 (groundtruth/).
#[test]
fn bookworm_failures_are_retargeted_programs_not_groups() {
    if !common::have_corpus() {
        return;
    }
    let objs = tools();
    let k = kernel(&common::kernel_dir("6.1.192-2"));
    let results = bpfabi::check::check(&objs, std::slice::from_ref(&k), &CheckOptions::default());
    let failing: Vec<(String, String)> =
        results.iter().filter(|r| r.verdict == Verdict::Fails).map(|r| (file(&r.object).to_string(), r.program.clone())).collect();
    assert_eq!(failing.len(), 7, "{failing:?}");
    assert!(results.iter().filter(|r| r.verdict == Verdict::Fails).all(|r| r.role == Role::Required));
    let objects = object_verdicts(&results);
    let fails: BTreeSet<&str> = objects.iter().filter(|o| o.verdict == Verdict::Fails).map(|o| file(&o.object)).collect();
    assert_eq!(fails, BTreeSet::from(["biosnoop.bpf.o", "biostacks.bpf.o", "cachestat.bpf.o", "mdflush.bpf.o", "readahead.bpf.o"]));
    // Real loads agree: every one of the 7 was refused by the real 6.1.
    let truth = std::fs::read_to_string(common::corpus().join("groundtruth/6.1.0-56-amd64.jsonl")).unwrap();
    let refused: BTreeSet<(String, String)> = truth
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["object"].as_str().is_some_and(|o| o.starts_with("libbpf-tools/")) && v["loaded"] == false)
        .filter_map(|v| Some((file(v["object"].as_str()?).to_string(), v["program"].as_str()?.to_string())))
        .collect();
    for f in &failing {
        assert!(refused.contains(f), "{f:?} predicted to fail, but loaded on the real 6.1");
    }
    // 14 of the tools carry groups: 49 hooks reached by two mechanisms.
    let groups: BTreeSet<(&str, &str)> = results
        .iter()
        .filter_map(|r| match &r.role {
            Role::Alternative { hook, .. } => Some((file(&r.object), hook.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(groups.iter().map(|g| g.0).collect::<BTreeSet<_>>().len(), 14);
    assert_eq!(groups.len(), 49);
    assert!(groups.contains(&("vfsstat.bpf.o", "function vfs_read")));
    assert!(groups.contains(&("runqlat.bpf.o", "tracepoint sched_switch")));
}

/// What the user states decides: cachestat's account_page_dirtied
/// optional, mdflush's only program off: neither fails any more, and the
/// exit code follows (1 without, 0 with); a glob naming no program is a
/// usage error (2).
#[test]
fn optional_and_autoload_off_change_the_object_verdict() {
    if !common::have_corpus() {
        return;
    }
    let objs = tools();
    let k = kernel(&common::kernel_dir("6.1.192-2"));
    let sel = Selection::new(vec![
        PickRule::parse("cachestat.bpf.o:account_page_dirtied", Pick::Optional).unwrap(),
        PickRule::parse("mdflush*:*", Pick::AutoloadOff).unwrap(),
    ]);
    let results = bpfabi::check::check(&objs, std::slice::from_ref(&k), &CheckOptions::default().selection(sel));
    assert!(!results.iter().any(|r| file(&r.object) == "mdflush.bpf.o"), "autoload off: not judged");
    let objects = object_verdicts(&results);
    let cachestat = objects.iter().find(|o| file(&o.object) == "cachestat.bpf.o").unwrap();
    assert_eq!(cachestat.verdict, Verdict::Loads);
    assert_eq!(cachestat.optional_failing, vec!["account_page_dirtied".to_string()]);
    assert_eq!(cachestat.to_string(), "loads (1 optional fail)");
    let r = results.iter().find(|r| r.program == "account_page_dirtied").unwrap();
    assert_eq!((r.verdict, &r.role), (Verdict::Fails, &Role::Optional), "still judged");

    let cli = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bpfabi"));
        c.arg("check").arg(tools_dir().join("cachestat.bpf.o")).arg("--kernel").arg(common::kernel_dir("6.1.192-2")).args(extra);
        c.output().unwrap()
    };
    assert_eq!(cli(&[]).status.code(), Some(1));
    let out = cli(&["--optional", "cachestat*:account_page_*"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("loads (1 optional fail)"), "{text}");
    assert!(text.contains("fails (optional): attach_target_missing account_page_dirtied"), "{text}");
    let out = cli(&["--autoload-off", "account_page_dirtied", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 3);
    assert_eq!(doc["objects"][0]["verdict"], "loads");
    assert_eq!(doc["object_summary"]["fails"], 0);
    let out = cli(&["--optional", "acount_page_dirtied"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no program of the objects matches acount_page_dirtied"));
}

/// vfsstat's five fentry/kprobe groups loaded for real on the running
/// kernel (root, libbpf): every group has a variant that loads, so the
/// object loads; where the machine refuses fentry (EPERM, as this project's
/// 6.18 build machine does), each group's choice is its kprobe program.
#[cfg(feature = "libbpf")]
#[test]
fn groups_confirmed_by_real_loads_on_the_running_kernel() {
    if !common::have_corpus() {
        return;
    }
    if !common::is_root() || !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: not root or no kernel BTF: nothing to load");
        return;
    }
    let path = tools_dir().join("vfsstat.bpf.o");
    let inputs = bpfabi::vmtest::read_objects(std::slice::from_ref(&path), None).unwrap();
    let objs = bpfabi::inputs::find_objects(std::slice::from_ref(&path), true).objects;
    let k = KernelModel::running(&LoadOptions::default()).unwrap();
    let preds = bpfabi::check::check(&objs, std::slice::from_ref(&k), &CheckOptions::default());
    let records = bpfabi::vmtest::load_here(&inputs);
    let recs: Vec<_> = records.iter().map(|(_, r)| r).collect();
    assert_eq!(recs.len(), 10);
    let kprobes_loaded = recs.iter().filter(|r| r.section.as_deref().is_some_and(|s| s.starts_with("kprobe/")) && r.loaded).count();
    assert_eq!(kprobes_loaded, 5, "every kprobe variant loads here");
    let v = bpfabi::vmtest::compare::real_object_verdict(k.label(), &recs, &preds).unwrap();
    assert_eq!(v.verdict, Verdict::Loads, "{v:?}");
    let fentry_refused = recs.iter().filter(|r| r.section.as_deref().is_some_and(|s| s.starts_with("fentry/")) && !r.loaded).count();
    eprintln!("fentry refused here: {fentry_refused} of 5");
    assert_eq!(v.choices.len(), fentry_refused);
    for g in &v.choices {
        assert_eq!(g.chosen().len(), 1);
        assert!(g.chosen()[0].starts_with("kprobe_vfs_"), "{g:?}");
    }
}

/// Offline: the catalog cut of 6.1 against the full 6.1 it was cut from,
/// on wakeuptime (whose `targ_pid` branch reads task_struct members): the
/// full kernel finds nothing wrong; the catalog kernel gives the same
/// verdicts, no `depends_on_rodata` warning for members it does not have,
/// and says per program what it could not check, counted apart.
#[test]
fn catalog_answers_say_they_are_partial() {
    if !common::have_corpus() {
        return;
    }
    let dir = common::workdir("alternatives-catalog");
    let src = common::kernel_dir("6.1.192-2");
    let entry = bpfabi::catalog::add(&dir, &src, &Default::default()).unwrap();
    let (full, reduced) = (kernel(&src), kernel(&dir.join(&entry.release)));
    assert!(reduced.kernel().info.reduced);
    let objs = bpfabi::inputs::find_objects(&[tools_dir().join("wakeuptime.bpf.o")], true).objects;
    let on = |k: &KernelModel| bpfabi::check::check(&objs, std::slice::from_ref(k), &CheckOptions::default());
    let (f, r) = (on(&full), on(&reduced));
    assert_eq!(f.len(), 2);
    let kinds = |rs: &[bpfabi::check::ProgramResult]| rs.iter().flat_map(|r| r.reasons.iter().map(|x| x.kind)).collect::<BTreeSet<_>>();
    // No probe data for either: `unknown` for the helpers, nothing else.
    assert_eq!(kinds(&f), BTreeSet::from([ReasonKind::ProgTypeUnverified]));
    assert_eq!(kinds(&r), kinds(&f), "the catalog adds no warning about the program");
    assert_eq!(f.iter().map(|x| x.verdict).collect::<Vec<_>>(), r.iter().map(|x| x.verdict).collect::<Vec<_>>());
    assert!(f.iter().all(|x| x.not_checked.is_empty()));
    let wakeup = r.iter().find(|x| x.program == "sched_wakeup").unwrap();
    assert_eq!(wakeup.not_checked.len(), 1);
    assert_eq!(wakeup.not_checked[0].kind, ReasonKind::NotCheckedReducedKernel);
    assert!(wakeup.not_checked[0].message.contains("members of struct task_struct"), "{}", wakeup.not_checked[0].message);
    assert_eq!(bpfabi::report::check::counts(&r).not_checked_offline, 2);
    assert_eq!(bpfabi::report::check::counts(&f).not_checked_offline, 0);
    let mut table = Vec::new();
    bpfabi::report::check::matrix(&mut table, &[reduced.label().to_string()], &r).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert!(table.contains("not checked offline"), "{table}");
    assert!(
        table.contains(
            "wakeuptime.bpf.o on 6.1.0-56-amd64: catalog has no attach targets (btf_trace_sched_switch, btf_trace_sched_wakeup); members of struct task_struct"
        ),
        "{table}"
    );
    assert!(table.contains("2 results: 0 load, 0 warn, 2 unknown, 0 fail; 2 not fully checked offline"), "{table}");
}

/// `check --load --autoload-off`: the programs switched off are not loaded
/// (libbpf loads no program with autoload off), so vfsstat's five fentry
/// programs give no real record and no comparison row; the five kprobe
/// variants load and agree with the prediction (exit 0).
#[cfg(feature = "libbpf")]
#[test]
fn check_load_does_not_load_programs_switched_off() {
    if !common::have_corpus() {
        return;
    }
    if !common::is_root() || !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: not root or no kernel BTF: nothing to load");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_bpfabi"))
        .args(["check", "--load", "--json", "--autoload-off", "vfsstat*:fentry_*"])
        .arg(tools_dir().join("vfsstat.bpf.o"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let units = |key: &str, field: &str| -> BTreeSet<String> {
        let v = if key.is_empty() { &doc["results"] } else { &doc[key]["rows"] };
        v.as_array().unwrap().iter().map(|r| r[field].as_str().unwrap().to_string()).collect()
    };
    let expected: BTreeSet<String> = ["read", "write", "fsync", "open", "create"].iter().map(|f| format!("kprobe_vfs_{f}")).collect();
    assert_eq!(units("", "program"), expected, "real loads: {doc:#}");
    assert_eq!(units("comparison", "unit"), expected);
    assert!(doc["comparison"]["rows"].as_array().unwrap().iter().all(|r| r["outcome"] == "true_load"), "{doc:#}");
    assert_eq!(out.status.code(), Some(0));
}

/// `--retarget`: libbpf-tools' cachestat fails on 6.12.117 by its section
/// name (`account_page_dirtied` is gone); its user space retargets the
/// program (`bpf_program__set_attach_target`) and, judged on
/// `__folio_mark_dirty` (in 6.12.117), it loads (exit 0). A retarget does
/// not hide a real failure: on 6.1, `folio_account_dirtied` is not in the
/// BTF either and the object still fails, naming the new target. A glob
/// that names no program is a usage error.
#[test]
fn retarget_judges_the_target_user_space_sets() {
    if !common::have_corpus() {
        return;
    }
    let cli = |kernel: &str, extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bpfabi"));
        c.arg("check").arg(tools_dir().join("cachestat.bpf.o")).arg("--kernel").arg(common::kernel_dir(kernel)).args(extra);
        let o = c.output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr))
    };
    let (code, text) = cli("6.12.117-1", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("attach_target_missing account_page_dirtied"), "{text}");
    let (code, text) = cli("6.12.117-1", &["--retarget", "cachestat*:account_page_dirtied=__folio_mark_dirty"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("attach_target_missing"), "{text}");
    let (code, text) = cli("6.1.192-2", &["--retarget", "account_page_dirtied=folio_account_dirtied"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("attach_target_missing folio_account_dirtied"), "{text}");
    let (code, text) = cli("6.1.192-2", &["--retarget", "acount_page_dirtied=folio_account_dirtied"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--retarget: no program of the objects matches acount_page_dirtied"), "{text}");
}
