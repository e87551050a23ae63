//! Availability in context (issue #22): the context programs of tests/bpf
//! (an iter/tcp program with bpf_setsockopt/bpf_getsockopt, a sleepable
//! kfunc in a bpf_wq and in a bpf_timer callback, an arena program, a
//! struct_ops map without programs, a uprobe with bpf_probe_write_user)
//! judged on the corpus kernels with the project's probe data, and on the
//! running kernel with a probe made now, against real loads there.

mod common;
use bpfabi::check::{check_object, CheckOptions, ProgramResult, Verdict};
use bpfabi::model::KernelModel;
use bpfabi::probe::{ProbeIndex, ProbeOptions};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

fn built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf-contexts");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/build.sh");
        let o = Command::new("bash").arg(&script).arg(&out).env("BPFABI_CORPUS", corpus()).output().expect("bash");
        assert!(o.status.success(), "tests/bpf/build.sh: {}", String::from_utf8_lossy(&o.stderr));
        out
    })
}

fn object(name: &str) -> bpfabi::object::BpfObject {
    bpfabi::object::read_path(&built().join(format!("{name}.bpf.o"))).unwrap().remove(0).1
}

/// A corpus kernel with the project's probe data for it (data/probe).
fn corpus_kernel(name: &str) -> KernelModel {
    let mut ks = vec![KernelModel::new(load_dir(name))];
    bpfabi::probe::attach::attach(&mut ks, &[], &[kernel_dir(name)]).unwrap();
    assert!(ks[0].probe().is_some(), "{name}: no data/probe file matches");
    ks.remove(0)
}

fn judge(name: &str, ki: &KernelModel) -> Vec<ProgramResult> {
    check_object(&object(name), ki, &Default::default(), &CheckOptions::default())
}

fn worst(rs: &[ProgramResult]) -> Verdict {
    rs.iter().map(|r| r.verdict).max().unwrap()
}

fn has(rs: &[ProgramResult], kind: &str, text: &str) -> bool {
    rs.iter().flat_map(|r| r.reasons.iter()).any(|x| x.kind == kind && x.message.contains(text))
}

/// On the ground-truth kernels, with the probe files made in their VMs
/// (5.10's before contexts existed: `contexts_measured` is false in it;
/// 6.1's and 6.12's made again with contexts).
#[test]
fn context_programs_on_corpus_kernels() {
    if !have_corpus() {
        return;
    }
    use Verdict::*;
    let k510 = corpus_kernel("5.10.223-1");
    let k61 = corpus_kernel("6.1.192-2");
    let k612 = corpus_kernel("6.12.117-1");

    // iter/tcp: 5.10's tcp target has no get_func_proto (v5.19; no FUNC
    // bpf_iter_tcp_get_func_proto in its BTF), so the refusal measured on
    // iter/task stands (its probe file predates contexts: a target with a
    // get_func_proto would be unknown there). The 6.1 and 6.12 probe files
    // were made again with contexts: their iter/tcp context allows the
    // helpers, as the real loads say (groundtruth: tests/fixtures/contexts).
    let r = judge("iter_tcp", &k510);
    assert_eq!(worst(&r), Fails, "{r:#?}");
    assert!(has(&r, "helper_not_allowed", "bpf_setsockopt"));
    assert!(!k510.probe().unwrap().probe.contexts_measured);
    for k in [&k61, &k612] {
        assert!(k.probe().unwrap().probe.contexts_measured);
        let explained = check_object(&object("iter_tcp"), k, &Default::default(), &CheckOptions::default().explain(true));
        assert_eq!(worst(&explained), Loads, "{}: {explained:#?}", k.label());
        assert!(
            explained.iter().flat_map(|x| &x.satisfied).any(|x| x.kind == "helper_allowed" && x.name == "bpf_setsockopt" && x.message.contains("(iter/tcp)")),
            "{explained:#?}"
        );
    }

    // The sleepable kfunc in a bpf_wq callback of a tc program: the wq
    // kfuncs came in 6.10 and bpf_copy_from_user_str in 6.12.
    for k in [&k510, &k61] {
        assert_eq!(worst(&judge("async_wq", k)), Fails, "{}", k.label());
    }
    // 6.12.117's probe measured callbacks (verifier.c push_async_cb sets
    // in_sleepable for a wq callback there): the kfunc is allowed in the
    // wq callback of a tc program, as the real load says.
    assert!(k612.probe().unwrap().probe.callbacks_measured);
    let explained = check_object(&object("async_wq"), &k612, &Default::default(), &CheckOptions::default().explain(true));
    assert_eq!(worst(&explained), Loads, "{explained:#?}");
    assert!(
        explained
            .iter()
            .flat_map(|x| &x.satisfied)
            .any(|x| x.kind == "kfunc_allowed" && x.name == "bpf_copy_from_user_str" && x.message.contains("wq_set_callback")),
        "{explained:#?}"
    );
    // A probe file without that measurement leaves it unknown.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe/6.12.117+deb13-amd64.json");
    let mut older = bpfabi::probe::read_probe(&std::fs::read(&path).unwrap(), "6.12.117 before callbacks").unwrap();
    older.callbacks_measured = false;
    let mut ki = KernelModel::new(load_dir("6.12.117-1"));
    ki.set_probe(Arc::new(ProbeIndex::new(older, "6.12.117 before callbacks").with_kernel_facts(ki.kernel())));
    let r = judge("async_wq", &ki);
    assert_eq!(worst(&r), Unknown, "{r:#?}");
    assert!(has(&r, "probe_undecided", "is_async_cb_sleepable"), "{r:#?}");
    // The same kfunc in a timer callback: the callback is not sleepable.
    let r = judge("async_timer", &k612);
    assert_eq!(worst(&r), Fails, "{r:#?}");
    assert!(has(&r, "kfunc_not_allowed", "must be sleepable"), "{r:#?}");

    // Arena maps came in 6.9.
    for k in [&k510, &k61] {
        assert!(has(&judge("arena", k), "map_type_missing", ""), "{}", k.label());
    }
    assert_ne!(worst(&judge("arena", &k612)), Fails);

    // No kernel of the corpus has sched_ext: the map alone fails.
    for k in [&k510, &k61, &k612] {
        let r = judge("struct_ops_noprog", k);
        let unit = r.iter().find(|x| x.program == "struct_ops:defaults_only").expect("a result for the map");
        assert_eq!(unit.verdict, Fails);
        assert!(unit.reasons.iter().any(|x| x.kind == "struct_ops_type_missing"));
    }

    // The data probes were made with --full: bpf_probe_write_user was
    // measured there, so the uprobe has a verdict.
    for k in [&k510, &k61, &k612] {
        let v = worst(&judge("uprobe_write_user", k));
        assert!(matches!(v, Loads | Fails), "{}: {v:?}", k.label());
    }
}

/// Without probe data nothing about helper and kfunc availability was
/// measured: unknown, never loads.
#[test]
fn no_probe_is_unknown() {
    if !have_corpus() {
        return;
    }
    let ki = KernelModel::new(load_dir("6.12.95-1~bpo12+1"));
    let r = judge("uprobe_write_user", &ki);
    assert_eq!(r[0].verdict, Verdict::Unknown, "{r:#?}");
    assert!(r[0].reasons.iter().any(|x| x.kind == "prog_type_unverified" && x.message.contains("bpfabi probe")));
}

/// "Unknown is a verdict": a helper the probe skipped (bpf_probe_write_user
/// is loaded only with `probe --full`: its verification warns in the kernel
/// log) is unmeasured, so a uprobe calling it is `unknown`, with the
/// command that would decide it, never `loads`. The probe file is the
/// project's 6.12.117 one (made with --full) with that helper's decisions
/// as a default probe writes them.
#[test]
fn unmeasured_helper_is_unknown_with_the_deciding_command() {
    if !have_corpus() {
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe/6.12.117+deb13-amd64.json");
    let mut probe = bpfabi::probe::read_probe(&std::fs::read(&path).unwrap(), "6.12.117 without --full").unwrap();
    probe.options.full = false;
    let mut skipped = 0;
    for v in &mut probe.variants {
        for h in v.helpers.iter_mut().filter(|h| h.name == "bpf_probe_write_user") {
            h.decision = bpfabi::probe::Decision::Undecided {
                reason: "not probed: loading it has side effects (kernel log notice, trace buffers); `probe --full` probes it".into(),
            };
            skipped += 1;
        }
        v.allowed_helpers.retain(|&id| id != 36);
    }
    assert!(skipped > 0);
    let mut ki = KernelModel::new(load_dir("6.12.117-1"));
    ki.set_probe(Arc::new(ProbeIndex::new(probe, "6.12.117 without --full").with_kernel_facts(ki.kernel())));
    let r = judge("uprobe_write_user", &ki);
    assert_eq!(worst(&r), Verdict::Unknown, "{r:#?}");
    let reason = r.iter().flat_map(|x| &x.reasons).find(|x| x.kind == "probe_undecided" && x.name == "bpf_probe_write_user");
    assert!(reason.is_some_and(|x| x.message.contains("bpfabi probe --full") && x.severity == Verdict::Unknown), "{r:#?}");
    // The same program with the measured (--full) file: a verdict.
    let v = worst(&judge("uprobe_write_user", &corpus_kernel("6.12.117-1")));
    assert_eq!(v, Verdict::Loads);

    // A probe made without kfuncs (`probe --no-kfuncs`): a kfunc call is
    // unmeasured, not `loads` (with kfuncs, 6.12 refuses bpf_task_from_pid
    // to a kprobe).
    assert_eq!(worst(&judge("probe_kfunc_kprobe", &corpus_kernel("6.12.117-1"))), Verdict::Fails);
    let mut probe = bpfabi::probe::read_probe(&std::fs::read(&path).unwrap(), "6.12.117 without kfuncs").unwrap();
    probe.options.kfuncs = false;
    for v in &mut probe.variants {
        v.kfuncs.clear();
        v.allowed_kfuncs.clear();
        v.contexts.clear();
    }
    let mut ki = KernelModel::new(load_dir("6.12.117-1"));
    ki.set_probe(Arc::new(ProbeIndex::new(probe, "6.12.117 without kfuncs").with_kernel_facts(ki.kernel())));
    let r = judge("probe_kfunc_kprobe", &ki);
    assert_eq!(worst(&r), Verdict::Unknown, "{r:#?}");
    assert!(r.iter().flat_map(|x| &x.reasons).any(|x| x.kind == "probe_undecided" && x.message.contains("without kfuncs")), "{r:#?}");
}

fn bpffs() -> bool {
    let mounted = std::fs::read_to_string("/proc/mounts").is_ok_and(|m| m.lines().any(|l| l.split_whitespace().nth(2) == Some("bpf")));
    mounted || Command::new("mount").args(["-t", "bpf", "bpf", "/sys/fs/bpf"]).status().is_ok_and(|s| s.success())
}

/// Load with bpftool (root): Ok, or the error text.
fn real_load(name: &str) -> Result<(), String> {
    let pin = format!("/sys/fs/bpf/bpfabi-ctx-{}-{name}", std::process::id());
    let out = Command::new("bpftool").args(["prog", "loadall"]).arg(built().join(format!("{name}.bpf.o"))).arg(&pin).output().unwrap();
    let _ = std::fs::remove_dir_all(&pin);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// On the running kernel, with a probe made now (a default probe, without
/// --full): every prediction that is not `unknown` agrees with a real load;
/// what the probe could not measure is `unknown`.
#[test]
fn context_programs_agree_with_real_loads_on_the_running_kernel() {
    if !have_corpus() {
        return;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() || !bpffs() || !is_root() {
        eprintln!("not root, no kernel BTF or no bpffs here: nothing to load");
        return;
    }
    let mut ki = KernelModel::running(&Default::default()).unwrap();
    let probe = match bpfabi::probe::run(&ProbeOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("no probe here ({e}): nothing to compare");
            return;
        }
    };
    assert!(probe.contexts_measured);
    ki.set_probe(Arc::new(ProbeIndex::new(probe, "live probe").with_kernel_facts(ki.kernel())));
    let mut compared = 0;
    for name in [
        "iter_tcp",
        "async_wq",
        "async_timer",
        "arena",
        "struct_ops_noprog",
        "uprobe_write_user",
        "sock_destroy",
        "qdisc_drop_enqueue",
        "qdisc_drop_dequeue",
        "lsm_sleepable",
        "scx_move_dispatch",
        "scx_move_enqueue",
        "scx_reenq_cpu_release",
        "scx_reenq_enqueue",
        "hid_sleepable_event",
        "hid_sleepable_fixup",
    ] {
        let r = judge(name, &ki);
        let predicted = worst(&r);
        let real = real_load(name);
        if real.as_ref().is_err_and(|e| e.contains("Operation not permitted") && name != "arena") {
            eprintln!("{name}: EPERM (no CAP_BPF here?)");
            continue;
        }
        eprintln!("{name}: predicted {predicted:?}, real {}", if real.is_ok() { "loaded".to_string() } else { "refused".to_string() });
        if predicted == Verdict::Unknown {
            // Nothing claimed; but never for a program the probe measured.
            assert!(r.iter().flat_map(|x| &x.reasons).any(|x| x.severity == Verdict::Unknown));
            continue;
        }
        assert_eq!(real.is_ok(), predicted != Verdict::Fails, "{name}: predicted {predicted:?}, bpftool said: {:?}\n{r:#?}", real.err());
        compared += 1;
    }
    // The probe did not load bpf_probe_write_user (side effects): unknown.
    assert_eq!(worst(&judge("uprobe_write_user", &ki)), Verdict::Unknown);
    // The iter/tcp context gives the helpers: loads, as the kernel says.
    assert_eq!(worst(&judge("iter_tcp", &ki)), Verdict::Loads);
    eprintln!("{compared} context programs compared with real loads");
}

/// The effective uid is not 0 (/proc/self/status `Uid:` real, effective, ...).
/// A kernel of the cache `bpfabi kernels` fills (`debian/kernels/<name>`),
/// with the project's data/probe file when one matches it. Of its modules
/// only `hid` is read (HID-BPF's `hid_bpf_ops` lives there; vmtest inserts
/// it): a directory of links to the vmlinux files and that module.
fn cached_kernel(name: &str) -> Option<KernelModel> {
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let src = cache.join("bpfabi/debian/kernels").join(name);
    if !src.join("vmlinux.btf").exists() {
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("contexts-kernel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("modules")).unwrap();
    for f in ["vmlinux.btf", "vmlinux.btf_ids", "config", "meta.json", "modules/hid.btf"] {
        if src.join(f).exists() {
            std::os::unix::fs::symlink(src.join(f), dir.join(f)).unwrap();
        }
    }
    let loaded = KernelModel::load(std::slice::from_ref(&dir), &Default::default());
    let _ = std::fs::remove_dir_all(&dir);
    let mut ks = vec![loaded.unwrap()];
    bpfabi::probe::attach::attach(&mut ks, &[], &[]).unwrap();
    Some(ks.remove(0))
}

/// One line of tests/fixtures/contexts/*.jsonl: a real load in vmtest.
#[derive(serde::Deserialize)]
struct RealLoad {
    object: String,
    program: String,
    loaded: bool,
    error: String,
}

/// The context programs against their real loads in vmtest on 6.12.117,
/// 7.2.13 and 7.3.4 (tests/fixtures/contexts): every prediction that is
/// not `unknown` agrees, and the kernel filters (src/check/filters.rs)
/// decide the programs they refuse, with or without a probe.
#[test]
fn context_programs_agree_with_vm_loads() {
    if !have_corpus() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contexts");
    let mut compared = 0;
    for (release, kernel) in [
        ("6.12.117+deb13-amd64", Some(corpus_kernel("6.12.117-1"))),
        ("7.2.13+deb14-amd64", cached_kernel("7.2.13+deb14-amd64")),
        ("7.3.4+deb13-amd64", cached_kernel("7.3.4+deb13-amd64")),
    ] {
        let Some(ki) = kernel else {
            eprintln!("{release}: not in the kernel cache (`bpfabi kernels`): skipped");
            continue;
        };
        let text = std::fs::read_to_string(dir.join(format!("{release}.jsonl"))).unwrap();
        let (mut unknown, mut agreed) = (0, 0);
        for line in text.lines() {
            let real: RealLoad = serde_json::from_str(line).unwrap();
            let name = real.object.trim_start_matches("tests/bpf/").trim_end_matches(".bpf.o");
            let all = judge(name, &ki);
            // A struct_ops map is loaded with all its programs: one unit.
            let unit: Vec<&ProgramResult> =
                if real.program.starts_with("struct_ops:") { all.iter().collect() } else { all.iter().filter(|r| r.program == real.program).collect() };
            assert!(!unit.is_empty(), "{release} {name} {}: no result", real.program);
            let predicted = unit.iter().map(|r| r.verdict).max().unwrap();
            eprintln!("{release} {name} {}: predicted {predicted:?}, loaded {}", real.program, real.loaded);
            if predicted == Verdict::Unknown {
                unknown += 1;
                continue;
            }
            assert_eq!(predicted != Verdict::Fails, real.loaded, "{release} {name} {}: predicted {predicted:?}, real: {}\n{unit:#?}", real.program, real.error);
            compared += 1;
            agreed += 1;
        }
        let reasons = |name: &str, program: &str| -> Vec<(String, String)> {
            judge(name, &ki).into_iter().filter(|r| r.program == program).flat_map(|r| r.reasons).map(|x| (x.kind.to_string(), x.message)).collect()
        };
        // tracing_iter_filter: in every kernel here.
        let r = reasons("sock_destroy", "tp_btf_destroy");
        assert!(r.iter().any(|(k, m)| k == "kfunc_not_allowed" && m.contains("tracing_iter_filter")), "{release}: {r:?}");
        // The sleepable LSM hooks, from .BTF_ids.
        let r = reasons("lsm_sleepable", "lsm_s_sock_rcv_skb");
        assert!(r.iter().any(|(k, m)| k == "attach_target_not_sleepable" && m.contains("bpf_lsm_socket_sock_rcv_skb is not sleepable")), "{release}: {r:?}");
        assert!(!reasons("lsm_sleepable", "lsm_s_file_open").iter().any(|(k, _)| k == "attach_target_not_sleepable"));
        // bpf_qdisc_kfunc_filter: 7.x only (6.12 has no BPF qdisc).
        let r = reasons("qdisc_drop_dequeue", "qdisc_dequeue");
        let filtered = r.iter().any(|(k, m)| k == "kfunc_not_allowed" && m.contains("bpf_qdisc_kfunc_filter"));
        assert_eq!(filtered, release.starts_with('7'), "{release}: {r:?}");
        assert!(!reasons("qdisc_drop_enqueue", "qdisc_enqueue").iter().any(|(k, _)| k == "kfunc_not_allowed"));
        // scx_kfunc_context_filter: 7.x only (6.12 has no sched_ext kfuncs
        // of these names); decided without a probe (7.3.4 has none).
        for (name, program, kfunc) in
            [("scx_move_enqueue", "scx_enqueue", "scx_bpf_dsq_move_to_local"), ("scx_reenq_enqueue", "scx_enqueue", "scx_bpf_reenqueue_local")]
        {
            let r = reasons(name, program);
            let filtered = r.iter().any(|(k, m)| k == "kfunc_not_allowed" && m.contains("scx_kfunc_context_filter") && m.contains(kfunc));
            assert_eq!(filtered, release.starts_with('7'), "{release} {name}: {r:?}");
        }
        for (name, program) in [("scx_move_dispatch", "scx_dispatch"), ("scx_reenq_cpu_release", "scx_cpu_release")] {
            assert!(!reasons(name, program).iter().any(|(k, _)| k == "kfunc_not_allowed"), "{release} {name}");
        }
        // hid_bpf_ops_check_member: a sleepable hid_device_event, on the
        // kernels whose hid module has HID-BPF struct_ops (7.x here).
        let r = reasons("hid_sleepable_event", "hid_event");
        let refused = r.iter().any(|(k, m)| k == "attach_target_not_sleepable" && m.contains("attach to unsupported member hid_device_event"));
        assert_eq!(refused, release.starts_with('7'), "{release}: {r:?}");
        assert!(!reasons("hid_sleepable_fixup", "hid_fixup").iter().any(|(k, _)| k == "attach_target_not_sleepable"));
        // check_map_prog_compatibility: the spin lock is refused to a
        // kprobe everywhere here, the timer up to v6.19 (7.x have
        // bpf_timer_cancel_async, v7.0, and load it: tests/fixtures).
        let r = reasons("map_compat_kprobe", "kprobe_lock");
        assert!(r.iter().any(|(k, m)| k == "map_prog_incompatible" && m.contains("tracing progs cannot use bpf_spin_lock yet")), "{release}: {r:?}");
        let r = reasons("map_compat_kprobe", "kprobe_timer");
        assert_eq!(r.iter().any(|(k, m)| k == "map_prog_incompatible" && m.contains("bpf_timer")), !release.starts_with('7'), "{release}: {r:?}");
        eprintln!("{release}: {agreed} agree, 0 disagree, {unknown} unknown");
    }
    eprintln!("{compared} units compared with real loads");
    assert!(compared >= 14, "{compared}");
}

/// A probe as `bpfabi probe` writes it where `module` is not loaded: the
/// module is not in `kernel.modules` and none of its kfuncs was asked.
fn without_module(mut probe: bpfabi::probe::Probe, module: &str) -> bpfabi::probe::Probe {
    probe.kernel.modules.retain(|m| m != module);
    let ours = |k: &bpfabi::probe::KfuncDecision| k.module.as_deref() == Some(module);
    let mut removed = 0;
    for v in &mut probe.variants {
        let gone: Vec<String> = v.kfuncs.iter().filter(|k| ours(k)).map(|k| k.name.clone()).collect();
        removed += gone.len();
        v.kfuncs.retain(|k| !ours(k));
        v.allowed_kfuncs.retain(|n| !gone.contains(n));
        for m in &mut v.members {
            m.kfuncs.retain(|k| !ours(k));
        }
        for c in &mut v.contexts {
            c.kfuncs.retain(|k| !ours(k));
        }
    }
    assert!(removed > 0, "the probe had no kfunc of {module}");
    probe
}

/// "Never `loads` without a measurement", for module kfuncs: a kfunc of a
/// module that was not loaded when the probe ran was never asked, so a
/// program calling it is `unknown`, with the reason and the command that
/// decides it; weak externs behind bpf_ksym_exists() keep `loads` (libbpf
/// resolves them to 0 where the module is not loaded), explained.
#[test]
fn module_kfunc_the_probe_never_asked_is_unknown() {
    if !have_corpus() {
        return;
    }
    use Verdict::*;
    // Measured: 6.12.117's probe was made with nf_conntrack loaded; it
    // allows the conntrack kfuncs to tc programs, as the real load in
    // vmtest says (tests/vmtest.rs: module_kfunc loads).
    let k612 = corpus_kernel("6.12.117-1");
    assert!(k612.probe().unwrap().probe.kernel.modules.iter().any(|m| m == "nf_conntrack"));
    assert_eq!(worst(&judge("module_kfunc", &k612)), Loads);

    // The same probe as made with nf_conntrack not loaded.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe/6.12.117+deb13-amd64.json");
    let probe = without_module(bpfabi::probe::read_probe(&std::fs::read(&path).unwrap(), "no nf_conntrack").unwrap(), "nf_conntrack");
    let mut ki = KernelModel::new(load_dir("6.12.117-1"));
    ki.set_probe(Arc::new(ProbeIndex::new(probe, "no nf_conntrack").with_kernel_facts(ki.kernel())));
    let r = judge("module_kfunc", &ki);
    assert_eq!(worst(&r), Unknown, "{r:#?}");
    for kfunc in ["bpf_skb_ct_lookup", "bpf_ct_release"] {
        let why = r.iter().flat_map(|x| &x.reasons).find(|x| x.kind == "kfunc_not_probed" && x.name == kfunc);
        assert!(
            why.is_some_and(|x| x.severity == Unknown
                && x.message.contains("module nf_conntrack, which was not loaded when the probe ran")
                && x.message.contains("`modprobe nf_conntrack`")
                && x.message.contains("`bpfabi vmtest`")),
            "{kfunc}: {r:#?}"
        );
    }
    // Weak externs behind bpf_ksym_exists(): warns (loads without the
    // module, unmeasured with it), never loads, and the reason says why.
    let r = check_object(&object("module_kfunc_weak"), &ki, &Default::default(), &CheckOptions::default().explain(true));
    assert_eq!(worst(&r), Warns, "{r:#?}");
    assert!(
        r.iter()
            .flat_map(|x| &x.reasons)
            .any(|x| x.kind == "kfunc_not_probed" && x.name == "bpf_skb_ct_lookup" && x.severity == Warns && x.message.contains("the extern is weak")),
        "{r:#?}"
    );

    // 6.1's probe file: nf_conntrack was loaded, but the probed kernel
    // listed no module kfunc (6.1 has no decl tags, and /sys/kernel/btf no
    // .BTF_ids), so none was asked: unknown, where it used to read loads.
    let k61 = corpus_kernel("6.1.192-2");
    assert!(k61.probe().unwrap().probe.kernel.modules.iter().any(|m| m == "nf_conntrack"));
    let r = judge("module_kfunc", &k61);
    assert_eq!(worst(&r), Unknown, "{r:#?}");
    assert!(has(&r, "kfunc_not_probed", "was not asked by the probe"), "{r:#?}");
}

/// verifier.c `check_map_prog_compatibility` (src/check/maps.rs): kprobes
/// whose maps hold a bpf_timer or a bpf_spin_lock, on the corpus kernels.
#[test]
fn map_compat_on_corpus_kernels() {
    if !have_corpus() {
        return;
    }
    let incompatible = |r: &[ProgramResult], program: &str| -> Vec<String> {
        r.iter().filter(|x| x.program == program).flat_map(|x| &x.reasons).filter(|x| x.kind == "map_prog_incompatible").map(|x| x.message.clone()).collect()
    };
    // 6.12.117: both refused, the tc program using the same maps is not.
    let r = judge("map_compat_kprobe", &corpus_kernel("6.12.117-1"));
    let timer = incompatible(&r, "kprobe_timer");
    assert!(timer.len() == 1 && timer[0].contains("tracing progs cannot use bpf_timer yet") && timer[0].contains("map timers"), "{r:#?}");
    let lock = incompatible(&r, "kprobe_lock");
    assert!(lock.len() == 1 && lock[0].contains("tracing progs cannot use bpf_spin_lock yet"), "{r:#?}");
    for p in ["kprobe_plain", "tc_timer_lock"] {
        assert!(incompatible(&r, p).is_empty(), "{p}: {r:#?}");
        assert!(r.iter().any(|x| x.program == p && x.verdict != Verdict::Fails), "{p}: {r:#?}");
    }
    for p in ["kprobe_timer", "kprobe_lock"] {
        assert!(r.iter().any(|x| x.program == p && x.verdict == Verdict::Fails), "{p}");
    }
    // 5.10 has no bpf_timer (v5.15): its kernel does not look for one, and
    // the kprobe using the timer map is not refused for it; the spin lock
    // is.
    let r = judge("map_compat_kprobe", &corpus_kernel("5.10.223-1"));
    assert!(incompatible(&r, "kprobe_timer").is_empty(), "{r:#?}");
    assert!(incompatible(&r, "kprobe_lock").iter().any(|m| m.contains("bpf_spin_lock")), "{r:#?}");
}

/// The same programs loaded for real, one by one (libbpf), on the running
/// kernel: each prediction that is not `unknown` agrees, and the two
/// refusals are the verifier's own words.
#[cfg(feature = "libbpf")]
#[test]
fn map_compat_agrees_with_real_loads_on_the_running_kernel() {
    if !have_corpus() {
        return;
    }
    if !is_root() || !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("not root or no kernel BTF: nothing to load");
        return;
    }
    let mut ki = KernelModel::running(&Default::default()).unwrap();
    let opts = ProbeOptions { only: vec!["kprobe".into(), "SCHED_CLS".into()], ..ProbeOptions::default() };
    if let Ok(probe) = bpfabi::probe::run(&opts) {
        ki.set_probe(Arc::new(ProbeIndex::new(probe, "live probe").with_kernel_facts(ki.kernel())));
    }
    let path = built().join("map_compat_kprobe.bpf.o");
    let inputs = bpfabi::vmtest::read_objects(std::slice::from_ref(&path), None).unwrap();
    let r = judge("map_compat_kprobe", &ki);
    let records = bpfabi::vmtest::load_here(&inputs);
    let mut compared = 0;
    for (_, rec) in &records {
        let Some(program) = rec.program.as_deref() else { continue };
        let predicted = r.iter().find(|x| x.program == program).map(|x| x.verdict).unwrap();
        eprintln!("{program}: predicted {predicted:?}, loaded {} {}", rec.loaded, rec.error.lines().last().unwrap_or(""));
        if predicted == Verdict::Unknown {
            continue;
        }
        assert_eq!(rec.loaded, predicted != Verdict::Fails, "{program}: predicted {predicted:?}, real: {}", rec.error);
        compared += 1;
    }
    let refused = |p: &str, words: &str| records.iter().any(|(_, x)| x.program.as_deref() == Some(p) && !x.loaded && x.error.contains(words));
    assert!(refused("kprobe_lock", "tracing progs cannot use bpf_spin_lock yet"), "{records:#?}");
    // A kernel with bpf_timer_cancel_async (v7.0) lets tracing programs
    // use timers; the prediction follows its BTF either way.
    let cancel_async = ki.vmlinux().by_name("bpf_timer_cancel_async").next().is_some();
    assert_eq!(refused("kprobe_timer", "tracing progs cannot use bpf_timer yet"), !cancel_async, "{records:#?}");
    assert!(compared >= 2, "{compared}");
}
