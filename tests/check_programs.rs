//! `check` verdicts for the test programs under tests/bpf (one requirement
//! each, built with clang by tests/bpf/build.sh) on every corpus kernel, and
//! on the running kernel confirmed by loading them for real.

mod common;
use bpfabi::check::{check_object, CheckOptions, Verdict};
use bpfabi::model::KernelModel;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/build.sh");
        let o = Command::new("bash").arg(&script).arg(&out).env("BPFABI_CORPUS", corpus()).output().expect("bash");
        assert!(o.status.success(), "tests/bpf/build.sh: {}", String::from_utf8_lossy(&o.stderr));
        out
    })
}

fn object(name: &str) -> bpfabi::object::BpfObject {
    let p = built().join(format!("{name}.bpf.o"));
    bpfabi::object::read_path(&p).unwrap().remove(0).1
}

/// (program object, per kernel in KERNELS order: expected verdict, and the
/// reason kind that must explain a failure or warning). Derived from kernel
/// history: bpf_task_from_pid/bpf_task_release arrived in 6.2, helper 160 in
/// 5.11, task_struct::__state in 5.14, nf_conntrack kfuncs in 6.0 (built
/// into the live 6.18 kernel, a module elsewhere), kfuncs at all in 5.13.
const EXPECTED: &[(&str, [(Verdict, &str); 5])] = {
    use Verdict::*;
    &[
        ("kfunc_new", [(Fails, "kfunc_missing"), (Fails, "kfunc_missing"), (Loads, ""), (Loads, ""), (Loads, "")]),
        // The same calls under a non-GPL license: refused wherever the
        // kernel has kfuncs at all (add_kfunc_call).
        (
            "kfunc_nogpl",
            [
                (Fails, "kfunc_missing"),
                (Fails, "kfunc_from_non_gpl_program"),
                (Fails, "kfunc_from_non_gpl_program"),
                (Fails, "kfunc_from_non_gpl_program"),
                (Fails, "kfunc_from_non_gpl_program"),
            ],
        ),
        ("kfunc_weak", [(Warns, "kfunc_missing"), (Warns, "kfunc_missing"), (Loads, ""), (Loads, ""), (Loads, "")]),
        (
            "kfunc_mismatch",
            [
                (Fails, "kfunc_missing"),
                (Fails, "kfunc_missing"),
                (Fails, "kfunc_proto_mismatch"),
                (Fails, "kfunc_proto_mismatch"),
                (Fails, "kfunc_proto_mismatch"),
            ],
        ),
        ("helper_new", [(Fails, "helper_missing"), (Loads, ""), (Loads, ""), (Loads, ""), (Loads, "")]),
        // 6.1's probe file has no module kfunc (the probed kernel listed
        // none: no decl tags in 6.1, no .BTF_ids in /sys/kernel/btf):
        // never measured, so unknown.
        ("module_kfunc", [(Fails, "kfunc_missing"), (Unknown, "kfunc_not_probed"), (Loads, ""), (Loads, ""), (Loads, "")]),
        (
            "fentry_missing",
            [
                (Fails, "attach_target_missing"),
                (Fails, "attach_target_missing"),
                (Fails, "attach_target_missing"),
                (Fails, "attach_target_missing"),
                (Fails, "attach_target_missing"),
            ],
        ),
    ]
};

#[test]
fn verdicts_on_every_corpus_kernel() {
    if !common::have_corpus() {
        return;
    }
    let mut idx: Vec<KernelModel> = KERNELS.iter().map(|k| KernelModel::new(load_dir(k))).collect();
    // The project's probe data (data/probe) where it belongs to the kernel:
    // without it, availability was never measured and whatever does not
    // fail is `unknown`.
    let dirs: Vec<PathBuf> = KERNELS.iter().map(|k| kernel_dir(k)).collect();
    bpfabi::probe::attach::attach(&mut idx, &[], &dirs).unwrap();
    let unmeasured = |ki: &KernelModel, v: Verdict| if ki.probe().is_none() && v != Verdict::Fails { Verdict::Unknown } else { v };
    let names = Default::default();
    for (name, want) in EXPECTED {
        let o = object(name);
        for (ki, (kname, (verdict, reason))) in idx.iter().zip(KERNELS.iter().zip(want.iter())) {
            let r = check_object(&o, ki, &names, &CheckOptions::default());
            assert_eq!(r.len(), 1, "{name}");
            assert_eq!(r[0].verdict, unmeasured(ki, *verdict), "{name} on {kname}: {:#?}", r[0].reasons);
            if !reason.is_empty() {
                assert!(r[0].reasons.iter().any(|x| x.kind == *reason), "{name} on {kname}: {:#?}", r[0].reasons);
            }
        }
    }
    // CO-RE: the unguarded __state read fails on 5.10 only; the guarded
    // program loads everywhere: the kernel's answer to the existence check
    // makes the other branch dead code, and --explain says which.
    let o = object("core_field");
    for (ki, kname) in idx.iter().zip(KERNELS) {
        let r = check_object(&o, ki, &names, &CheckOptions::default().explain(true));
        let get = |p: &str| r.iter().find(|x| x.program == p).unwrap();
        let old = *kname == "5.10.223-1";
        assert_eq!(get("core_unguarded").verdict, if old { Verdict::Fails } else { unmeasured(ki, Verdict::Loads) }, "{kname}");
        if old {
            assert!(get("core_unguarded").reasons.iter().any(|x| x.kind == "core_unresolved" && x.name.contains("task_struct->__state")));
        }
        let g = get("core_guarded");
        assert_eq!(g.verdict, unmeasured(ki, Verdict::Loads), "{kname}: {:#?}", g.reasons);
        let pruned: Vec<&str> = g.satisfied.iter().filter(|x| x.kind == "branch_pruned").map(|x| x.message.as_str()).collect();
        assert!(
            pruned.iter().any(|m| m.contains("FIELD_EXISTS task_struct->__state = ") && m.ends_with(if old { "= 0" } else { "= 1" })),
            "{kname}: {pruned:?}"
        );
    }
}

fn bpffs() -> bool {
    let mounted = std::fs::read_to_string("/proc/mounts").is_ok_and(|m| m.lines().any(|l| l.split_whitespace().nth(2) == Some("bpf")));
    mounted || Command::new("mount").args(["-t", "bpf", "bpf", "/sys/fs/bpf"]).status().is_ok_and(|s| s.success())
}

#[test]
fn predictions_agree_with_real_loads_on_the_running_kernel() {
    if !common::have_corpus() {
        return;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() || !bpffs() {
        eprintln!("no kernel BTF or no bpffs here: nothing to load");
        return;
    }
    let ki = KernelModel::running(&Default::default()).unwrap();
    let mut loaded = 0;
    for (name, _) in EXPECTED.iter().chain([("core_field", EXPECTED[0].1)].iter()) {
        // This machine's kernel refuses fentry/fexit loads with EPERM whatever
        // the program: an environment limit, not a verdict.
        if *name == "fentry_missing" {
            continue;
        }
        let o = object(name);
        let predicted = check_object(&o, &ki, &Default::default(), &CheckOptions::default()).iter().map(|r| r.verdict).max().unwrap();
        let pin = format!("/sys/fs/bpf/bpfabi-test-{}-{name}", std::process::id());
        let out = Command::new("bpftool").args(["prog", "loadall"]).arg(built().join(format!("{name}.bpf.o"))).arg(&pin).output().unwrap();
        let _ = std::fs::remove_dir_all(&pin);
        let ok = out.status.success();
        if !ok && String::from_utf8_lossy(&out.stderr).contains("Operation not permitted") {
            eprintln!("{name}: EPERM (no CAP_BPF here?)");
            continue;
        }
        assert_eq!(ok, predicted != Verdict::Fails, "{name}: predicted {predicted:?}, bpftool said: {}", String::from_utf8_lossy(&out.stderr));
        loaded += ok as usize;
    }
    eprintln!("{loaded} test programs loaded and removed");
}

#[test]
fn cli_check_formats_and_exit_codes() {
    if !common::have_corpus() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let obj = |n: &str| built().join(format!("{n}.bpf.o")).to_str().unwrap().to_string();
    let k = |n: &str| kernel_dir(n).to_str().unwrap().to_string();
    // Everything loads: exit 0.
    let o = Command::new(bin).args(["check", &obj("kfunc_new"), "--kernel", &k("6.12.117-1")]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    // Warnings only: still 0.
    let o = Command::new(bin).args(["check", &obj("kfunc_weak"), "--kernel", &k("6.1.192-2")]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("warns"));
    // A failure somewhere: 1; SARIF names the rule and the object.
    let o = Command::new(bin)
        .args(["check", &obj("kfunc_new"), &obj("helper_new"), "--kernel", &k("5.10.223-1"), "--kernel", &k("6.12.117-1"), "--sarif"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "helper_missing" && r["level"] == "error"));
    assert!(results.iter().all(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().ends_with(".bpf.o")));
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(rules.contains(&"kfunc_missing") && rules.contains(&"helper_missing"));
    // --explain lists satisfied requirements and where.
    let o = Command::new(bin).args(["check", &obj("module_kfunc"), "--kernel", &k("6.1.192-2"), "--explain"]).output().unwrap();
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("kfunc_ok") && t.contains("in nf_conntrack"), "{t}");
    // JSON contract.
    let o = Command::new(bin).args(["check", &obj("kfunc_mismatch"), "--kernel", &k("6.12.117-1"), "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "bpfabi.check/1");
    assert_eq!(v["results"][0]["verdict"], "fails");
    assert_eq!(v["results"][0]["reasons"][0]["kind"], "kfunc_proto_mismatch");
    // inspect
    let o = Command::new(bin).args(["inspect", &obj("core_field"), "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let relos = v["objects"][0]["core_relos"].as_array().unwrap();
    assert!(relos.iter().any(|r| r["kind"] == "FIELD_EXISTS" && r["path"] == "task_struct->__state" && r["is_check"] == true));
    assert!(relos.iter().any(|r| r["path"] == "task_struct___old->state"));
    // Not a BPF object: exit 2.
    let o = Command::new(bin).args(["inspect", kernel_dir("6.1.192-2").join("config").to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
