//! `bpfabi probe` on the running kernel: helper availability per program
//! type equals `bpftool feature probe kernel -j` (differences explained and
//! asserted one by one), known refusals and acceptances, nothing left
//! loaded, and `check` with the probe agreeing with real loads.
//!
//! Needs root (BPF_PROG_LOAD of every program type), kernel BTF and
//! bpftool; skips with a printed reason otherwise.

mod common;
use bpfabi::check::{check_object, CheckOptions, Verdict};
use bpfabi::model::KernelModel;
use bpfabi::probe::{Decision, LoadOutcome, Probe, ProbeIndex, ProbeOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

fn skip_reason() -> Option<String> {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("no /sys/kernel/btf/vmlinux".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: probing loads programs of every type".into());
    }
    if Command::new("bpftool").arg("version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Some("no bpftool".into());
    }
    None
}

/// The probe of the running kernel, made once per test binary.
fn live() -> Option<&'static Probe> {
    static P: OnceLock<Option<Probe>> = OnceLock::new();
    P.get_or_init(|| {
        if let Some(r) = skip_reason() {
            eprintln!("skipping live probe tests: {r}");
            return None;
        }
        let p = bpfabi::probe::run(&ProbeOptions::default()).expect("probe of the running kernel");
        eprintln!("probe: {} variants, {} loads in {} ms on {} threads", p.summary.variants, p.summary.loads, p.summary.duration_ms, p.summary.threads);
        Some(p)
    })
    .as_ref()
}

fn variant<'a>(p: &'a Probe, label: &str) -> &'a bpfabi::probe::VariantResult {
    p.variants.iter().find(|v| v.variant.label == label).unwrap_or_else(|| panic!("no variant {label}"))
}

fn helper<'a>(p: &'a Probe, label: &str, name: &str) -> &'a Decision {
    &variant(p, label).helpers.iter().find(|h| h.name == name).unwrap_or_else(|| panic!("{label}: no helper {name}")).decision
}

fn kfunc<'a>(p: &'a Probe, label: &str, name: &str) -> &'a Decision {
    &variant(p, label).kfuncs.iter().find(|h| h.name == name).unwrap_or_else(|| panic!("{label}: no kfunc {name}")).decision
}

/// bpftool's program type name -> the probe variant loaded the same way
/// (libbpf's probe_prog_load: sock_addr as connect4, sockopt as
/// getsockopt, cgroup_sock defaulted by the kernel to sock_create, syscall
/// with BPF_F_SLEEPABLE, the others with expected_attach_type 0).
const BPFTOOL_TYPES: &[(&str, &str)] = &[
    ("socket_filter", "socket"),
    ("kprobe", "kprobe"),
    ("sched_cls", "tc"),
    ("sched_act", "action"),
    ("tracepoint", "tracepoint"),
    ("xdp", "xdp"),
    ("perf_event", "perf_event"),
    ("cgroup_skb", "cgroup_skb/ingress"),
    ("cgroup_sock", "cgroup/sock_create"),
    ("lwt_in", "lwt_in"),
    ("lwt_out", "lwt_out"),
    ("lwt_xmit", "lwt_xmit"),
    ("sock_ops", "sockops"),
    ("sk_skb", "sk_skb/stream_parser"),
    ("cgroup_device", "cgroup/dev"),
    ("sk_msg", "sk_msg"),
    ("raw_tracepoint", "raw_tp"),
    ("cgroup_sock_addr", "cgroup/connect4"),
    ("lwt_seg6local", "lwt_seg6local"),
    ("lirc_mode2", "lirc_mode2"),
    ("sk_reuseport", "sk_reuseport"),
    ("flow_dissector", "flow_dissector"),
    ("cgroup_sysctl", "cgroup/sysctl"),
    ("raw_tracepoint_writable", "raw_tp.w"),
    ("cgroup_sockopt", "cgroup/getsockopt"),
    ("sk_lookup", "sk_lookup"),
    ("syscall", "syscall"),
    ("netfilter", "netfilter"),
];

/// Refusals libbpf's helper probe does not recognise (it knows only
/// "invalid func", "unknown func" and "program of this type cannot use
/// helper", and assumes "supported" on any other error), so bpftool lists
/// these helpers as available although the verifier refuses every call.
const REFUSALS_BPFTOOL_MISSES: &[&str] = &["helper call might sleep in a non-sleepable prog", "helper call is not allowed in probe"];

#[test]
fn helpers_agree_with_bpftool_feature_probe() {
    let Some(p) = live() else { return };
    let out = common::bpftool(&["feature", "probe", "kernel", "-j"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let bt = doc["helpers"].as_object().unwrap();
    let (mut types, mut pairs, mut raw_diff, mut unexplained) = (0, 0, 0, Vec::new());
    for (key, list) in bt {
        let ty = key.strip_suffix("_available_helpers").unwrap();
        // bpftool does not probe helpers of tracing, ext, lsm and struct_ops
        // (they need an attach target): it prints empty lists for them.
        if matches!(ty, "tracing" | "ext" | "lsm" | "struct_ops") {
            assert!(list.as_array().unwrap().is_empty());
            continue;
        }
        let label = BPFTOOL_TYPES.iter().find(|t| t.0 == ty).unwrap_or_else(|| panic!("bpftool type {ty} not mapped")).1;
        let bpftool: BTreeSet<String> = list.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let v = variant(p, label);
        let ours: BTreeSet<String> = v.helpers.iter().filter(|h| h.decision.available() == Some(true)).map(|h| h.name.clone()).collect();
        // What bpftool would conclude from our verifier logs.
        let missed: BTreeSet<String> =
            v.helpers.iter().filter(|h| REFUSALS_BPFTOOL_MISSES.iter().any(|m| h.decision.detail().contains(m))).map(|h| h.name.clone()).collect();
        let mut as_bpftool: BTreeSet<String> = ours.union(&missed).cloned().collect();
        // bpftool loads cgroup_device and cgroup_sysctl with expected_attach_type 0
        // (BPF_CGROUP_INET_INGRESS), for which cgroup_common_func_proto()
        // withholds get_retval/set_retval; libbpf loads SEC("cgroup/dev") and
        // SEC("cgroup/sysctl") with BPF_CGROUP_DEVICE / BPF_CGROUP_SYSCTL, as the probe does.
        if matches!(ty, "cgroup_device" | "cgroup_sysctl") {
            for h in ["bpf_get_retval", "bpf_set_retval"] {
                assert!(ours.contains(h), "{ty}: {h}");
                assert!(!bpftool.contains(h), "{ty}: {h}");
                as_bpftool.remove(h);
            }
        }
        types += 1;
        pairs += v.helpers.len();
        raw_diff += ours.symmetric_difference(&bpftool).count();
        if as_bpftool != bpftool {
            unexplained.push(format!(
                "{ty} ({label}): only probe {:?}, only bpftool {:?}",
                as_bpftool.difference(&bpftool).collect::<Vec<_>>(),
                bpftool.difference(&as_bpftool).collect::<Vec<_>>()
            ));
        }
        if matches!(v.load, LoadOutcome::Unsupported { .. }) {
            assert!(bpftool.is_empty(), "{ty}: unsupported here, bpftool lists helpers");
        }
    }
    eprintln!("{types} program types, {pairs} (type, helper) pairs: {raw_diff} differ from bpftool before, 0 after the explained adjustments");
    assert!(types >= 25, "only {types} program types compared");
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
}

/// The shared probe (kfunc verdicts taken from the leader of a program
/// type and, for refusals as no member of a hook's set, from the first
/// program type of its kfunc hook group; helper verdicts from the leader of
/// a helper group and sleepability; struct_ops members from their type's
/// first member; helpers asked under a non-GPL license first; callback
/// answers from the leader of a program type, kfunc answers in async
/// callbacks from the first variant that asks them (no context parameter,
/// no filter, not special), `bpf_loop` callbacks only loaded; iterator
/// targets asked only what had no proto:
/// src/probe/reuse.rs) answers exactly as asking everything in every
/// variant, on every program type of the running kernel, with fewer loads.
#[test]
fn shared_verdicts_equal_per_variant_ones() {
    if let Some(r) = skip_reason() {
        eprintln!("skipping: {r}");
        return;
    }
    let opts = ProbeOptions::default();
    let shared = bpfabi::probe::run(&opts).expect("shared probe");
    let each = bpfabi::probe::run_unshared(&opts).expect("per-variant probe");
    eprintln!("shared: {} loads, per variant: {} loads", shared.summary.loads, each.summary.loads);
    assert!(shared.summary.loads < each.summary.loads, "{} vs {}", shared.summary.loads, each.summary.loads);
    assert_eq!(shared.variants.len(), each.variants.len());
    assert!(shared.variants.iter().filter(|v| v.load == LoadOutcome::Loadable).count() >= 40);
    for (a, b) in shared.variants.iter().zip(&each.variants) {
        assert_eq!(a.variant.label, b.variant.label);
        assert_eq!(a.load, b.load, "{}", a.variant.label);
        assert_eq!(a.helpers, b.helpers, "{}: helpers", a.variant.label);
        assert_eq!(a.kfuncs, b.kfuncs, "{}: kfuncs", a.variant.label);
        assert_eq!(a.gpl_only_helpers, b.gpl_only_helpers, "{}: gpl_only", a.variant.label);
        assert_eq!(a.contexts, b.contexts, "{}: contexts", a.variant.label);
        assert_eq!(a.members, b.members, "{}: members", a.variant.label);
    }
    // Each rule applied here: tc and action share helper verdicts, the
    // cgroup types kfunc refusals (their answers are compared above).
    for l in ["action", "cgroup/sock_create", "lwt_out", "raw_tp.w", "sk_lookup"] {
        assert!(shared.variants.iter().any(|v| v.variant.label == l && v.load == LoadOutcome::Loadable), "{l}");
    }
}

#[test]
fn known_refusals_and_acceptances() {
    let Some(p) = live() else { return };
    let refused = |label: &str, name: &str, msg: &str| {
        let d = helper(p, label, name);
        assert!(matches!(d, Decision::VerifierRejectedNotAllowed { message } if message.contains(msg)), "{label} {name}: {d:?}");
    };
    // Socket helpers from a raw tracepoint; the coarse clock from kprobes
    // (bpf_tracing_func_proto has no bpf_ktime_get_coarse_ns).
    refused("raw_tp", "bpf_get_socket_cookie", "program of this type cannot use helper bpf_get_socket_cookie#46");
    refused("kprobe", "bpf_ktime_get_coarse_ns", "program of this type cannot use helper bpf_ktime_get_coarse_ns#160");
    // Sleepable helpers outside sleepable programs; allowed in sleepable ones.
    refused("kprobe", "bpf_copy_from_user", "might sleep");
    assert_eq!(helper(p, "uprobe.s", "bpf_copy_from_user").available(), Some(true));
    // Accepted calls: no-argument helpers load outright, others fail on arguments.
    assert_eq!(helper(p, "kprobe", "bpf_ktime_get_ns"), &Decision::VerifierAccepted);
    assert_eq!(helper(p, "tc", "bpf_ktime_get_coarse_ns"), &Decision::VerifierAccepted);
    assert!(matches!(helper(p, "kprobe", "bpf_map_lookup_elem"), Decision::RejectedOther { message } if message.contains("expected=map_ptr")));
    // kfuncs: bpf_task_from_pid is registered for tracepoints, not kprobes.
    assert!(
        matches!(kfunc(p, "kprobe", "bpf_task_from_pid"), Decision::VerifierRejectedNotAllowed { message } if message == "calling kernel function bpf_task_from_pid is not allowed")
    );
    assert_eq!(kfunc(p, "tracepoint", "bpf_task_from_pid").available(), Some(true));
    // Sleepable kfuncs need a sleepable program.
    assert!(
        matches!(kfunc(p, "tracepoint", "bpf_copy_from_user_str"), Decision::VerifierRejectedNotAllowed { message } if message.contains("must be sleepable"))
    );
    assert_eq!(kfunc(p, "syscall", "bpf_copy_from_user_str").available(), Some(true));
    // libbpf loads SEC("syscall") sleepable; this kernel refuses non-sleepable ones.
    assert!(matches!(&variant(p, "syscall.nonsleepable").load, LoadOutcome::Unsupported { message } if message.contains("only be sleepable")));
    // This machine refuses fentry loads with EPERM: recorded, not guessed.
    let f = variant(p, "fentry");
    assert!(matches!(&f.load, LoadOutcome::Undecided { reason } if reason.starts_with("EPERM")), "{:?}", f.load);
    assert!(f.helpers.is_empty() && f.allowed_helpers.is_empty());
    // Every variant the kernel has is there, and the side-effect helpers wait for --full.
    let btf_types = common::bpftool(&["btf", "dump", "file", "/sys/kernel/btf/vmlinux"]);
    let enumerators = btf_types
        .lines()
        .skip_while(|l| !l.contains("ENUM 'bpf_prog_type'"))
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .map(|l| l.trim().split('\'').nth(1).unwrap().to_string());
    let mut n = 0;
    for name in enumerators.filter(|n| n != "BPF_PROG_TYPE_UNSPEC" && !n.starts_with("__")) {
        assert!(p.variants.iter().any(|v| v.variant.prog_type == name), "no variant for {name}");
        n += 1;
    }
    assert!(n >= 30, "{n} program types in bpftool's dump");
    assert!(matches!(helper(p, "kprobe", "bpf_trace_printk"), Decision::Undecided { .. }));
    let fp = bpfabi::probe::file::fingerprint_bytes(&std::fs::read("/sys/kernel/btf/vmlinux").unwrap());
    assert_eq!(p.kernel.btf, fp);
}

#[test]
fn nothing_is_left_loaded() {
    let Some(_) = live() else { return };
    // Programs are freed after an RCU grace period: give it a moment.
    for _ in 0..50 {
        let out = common::bpftool(&["prog", "show", "-j"]);
        let progs: serde_json::Value = serde_json::from_str(&out).unwrap();
        let left = progs.as_array().unwrap().iter().filter(|p| p["name"] == "bpfabi_probe").count();
        if left == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("bpfabi_probe programs still loaded after the probe");
}

fn objects() -> Option<PathBuf> {
    let corpus = std::env::var_os("BPFABI_CORPUS").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if !corpus.join("kernels/6.12.117-1/vmlinux.btf").exists() {
        eprintln!("no corpus (BPFABI_CORPUS): test programs cannot be built");
        return None;
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    Some(
        DIR.get_or_init(|| {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf-probe");
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/build.sh");
            let o = Command::new("bash").arg(&script).arg(&out).env("BPFABI_CORPUS", &corpus).output().unwrap();
            assert!(o.status.success(), "tests/bpf/build.sh: {}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .clone(),
    )
}

/// check with the probe predicts exactly what real loads do, including the
/// refusals check cannot see without it.
#[test]
fn check_with_probe_agrees_with_real_loads() {
    let Some(p) = live() else { return };
    let Some(dir) = objects() else { return };
    let plain = KernelModel::running(&Default::default()).unwrap();
    let mut ki = KernelModel::running(&Default::default()).unwrap();
    ki.set_probe(Arc::new(ProbeIndex::new(p.clone(), "live probe")));
    let expected: &[(&str, Verdict, &str)] = &[
        ("probe_helper_kprobe", Verdict::Fails, "helper_not_allowed"),
        ("probe_kfunc_kprobe", Verdict::Fails, "kfunc_not_allowed"),
        // bpf_probe_read_kernel is gpl_only: refused under "Dual BSD/MIT".
        ("helper_nogpl", Verdict::Fails, "helper_gpl_only"),
        ("probe_kfunc_tp", Verdict::Loads, ""),
        ("helper_new", Verdict::Loads, ""),
        ("kfunc_new", Verdict::Loads, ""),
    ];
    let names = BTreeMap::new();
    for &(name, verdict, kind) in expected {
        let path = dir.join(format!("{name}.bpf.o"));
        let o = bpfabi::object::read_path(&path).unwrap().remove(0).1;
        let r = check_object(&o, &ki, &names, &CheckOptions::default().explain(true));
        assert_eq!(r[0].verdict, verdict, "{name}: {:?}", r[0].reasons);
        if !kind.is_empty() {
            assert!(r[0].reasons.iter().any(|x| x.kind == kind), "{name}: {:?}", r[0].reasons);
        }
        // Without the probe, check could not tell: unknown, never "loads".
        let before = check_object(&o, &plain, &names, &CheckOptions::default());
        assert_eq!(before[0].verdict, Verdict::Unknown, "{name} without probe");
        let pin = format!("/sys/fs/bpf/bpfabi-probe-test-{}-{name}", std::process::id());
        let out = Command::new("bpftool").args(["prog", "loadall"]).arg(&path).arg(&pin).output().unwrap();
        let _ = std::fs::remove_dir_all(&pin);
        assert_eq!(out.status.success(), verdict == Verdict::Loads, "{name}: bpftool: {}", String::from_utf8_lossy(&out.stderr));
        if kind == "helper_gpl_only" {
            assert!(String::from_utf8_lossy(&out.stderr).contains("cannot call GPL-restricted function"), "{name}");
        }
    }
    // The probe measured the flag per variant: the tracing helpers that the
    // kernel declares gpl_only, and ordinary ones that it does not.
    let kprobe = variant(p, "kprobe");
    let id = |n: &str| kprobe.helpers.iter().find(|h| h.name == n).map(|h| h.id).unwrap();
    assert!(p.helper_gpl_measured);
    for n in ["bpf_probe_read_kernel", "bpf_get_current_task", "bpf_perf_event_output"] {
        assert!(kprobe.gpl_only_helpers.contains(&id(n)), "{n}");
    }
    for n in ["bpf_map_lookup_elem", "bpf_ktime_get_ns", "bpf_get_current_pid_tgid"] {
        assert!(kprobe.allowed_helpers.contains(&id(n)) && !kprobe.gpl_only_helpers.contains(&id(n)), "{n}");
    }
}

/// The CLI: probe to a file, check with it, refuse it for another kernel.
#[test]
fn cli_probe_file_round_trip() {
    let Some(_) = live() else { return };
    let Some(dir) = objects() else { return };
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe-kprobe.json");
    let o = Command::new(bin).args(["probe", "--only", "kprobe", "--only", "tracepoint", "-o"]).arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.lines().any(|l| l.starts_with("kprobe ") && l.contains("loadable")), "{table}");
    let p = bpfabi::probe::file::load_probe(&file).unwrap();
    assert!(p.variants.iter().all(|v| v.variant.prog_type == "BPF_PROG_TYPE_KPROBE" || v.variant.prog_type == "BPF_PROG_TYPE_TRACEPOINT"));
    let obj = dir.join("probe_helper_kprobe.bpf.o");
    let c = Command::new(bin).arg("check").arg(&obj).arg("--probe").arg(&file).arg("--explain").output().unwrap();
    assert_eq!(c.status.code(), Some(1), "{}", String::from_utf8_lossy(&c.stdout));
    assert!(String::from_utf8_lossy(&c.stdout).contains("helper_not_allowed"));
    // The same probe for a corpus kernel: refused, exit 2.
    let corpus_kernel = common::kernel_dir("6.12.117-1");
    let c = Command::new(bin).arg("check").arg(&obj).arg("--kernel").arg(&corpus_kernel).arg("--probe").arg(&file).output().unwrap();
    assert_eq!(c.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&c.stderr).contains("probe of another kernel"), "{}", String::from_utf8_lossy(&c.stderr));
}

/// struct_ops members are probed one by one (schema /2): the running
/// kernel's `bpf_tcp_ca_get_func_proto` refuses `bpf_setsockopt` and
/// `bpf_getsockopt` to `tcp_congestion_ops.release` only; the variant's own
/// member (the first function pointer) may call them, and every other
/// member has the variant's answer (no differing decision listed).
#[test]
fn struct_ops_members_probed_one_by_one() {
    let Some(p) = live() else { return };
    let Some(ca) = p.variants.iter().find(|v| v.variant.label == "struct_ops/tcp_congestion_ops") else {
        eprintln!("no tcp_congestion_ops struct_ops on this kernel: skipped");
        return;
    };
    assert_eq!(p.schema, "bpfabi.probe/2");
    let own = ca.variant.struct_ops_member.clone().unwrap();
    assert_ne!(own, "release");
    assert_eq!(helper(p, "struct_ops/tcp_congestion_ops", "bpf_setsockopt").available(), Some(true));
    let release = ca.member("release").expect("release probed");
    assert_eq!(release.load, LoadOutcome::Loadable);
    let differs: BTreeSet<&str> = release.helpers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(differs, BTreeSet::from(["bpf_getsockopt", "bpf_setsockopt"]));
    assert!(
        release.helpers.iter().all(|h| h.decision.available() == Some(false) && h.decision.detail().contains("cannot use helper")),
        "{:?}",
        release.helpers
    );
    // Members are listed by kernel member index, the variant's own left out.
    assert!(ca.members.iter().all(|m| m.member != own) && ca.members.windows(2).all(|w| w[0].index < w[1].index));
    assert!(ca.members.iter().filter(|m| m.member != "release").all(|m| m.helpers.is_empty()), "{:#?}", ca.members);
}
