//! `policy check` over the real history of the corpus kernels with the
//! project's baseline (policy/upstream.toml): the real events are found,
//! the recorded facts agree, and the CLI's formats and exit codes hold.

mod common;
use common::*;
use std::process::Command;

fn bpfabi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn kernels() -> Vec<String> {
    KERNELS.iter().map(|k| kernel_dir(k).display().to_string()).collect()
}

fn baseline() -> String {
    format!("{}/policy/upstream.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn upstream_baseline_over_the_corpus_history() {
    if !have_corpus() {
        return;
    }
    // Kernels in any order: sorted by release.
    let mut ks = kernels();
    ks.reverse();
    let out = bpfabi().args(["policy", "check", "--manifest", &baseline(), "--format", "json"]).args(&ks).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "bpfabi.policy-check/1");
    assert_eq!(v["kernels"], serde_json::json!(["5.10", "6.1", "6.12.95", "6.12.117", "6.18.44"]));
    let f = v["findings"].as_array().unwrap();
    let has = |code: &str, kfunc: &str, release: &str| {
        f.iter().find(|x| x["code"] == code && x["kfunc"] == kfunc && x["release"] == release).unwrap_or_else(|| panic!("{code} {kfunc} {release} in {f:#?}"))
    };
    // cgroup_rstat_flush: renamed to css_rstat_flush with a new signature, no deprecation.
    let x = has("P011", "cgroup_rstat_flush", "6.18.44");
    assert_eq!(x["level"], "warn");
    assert!(x["waived_by"].is_null());
    // tcp_bbr's struct_ops kfunc gained parameters.
    let x = has("P010", "bbr_main", "6.12.95");
    assert_eq!(x["change"], "proto_incompatible");
    assert!(x["message"].as_str().unwrap().contains("`u32 ack` added"), "{x}");
    let x = has("P010", "bpf_wq_set_callback_impl", "6.18.44");
    assert_eq!(x["change"], "param_annotation_changed");
    // Configuration artefacts of the live kernel are waived with a reason.
    let x = has("P011", "crash_kexec", "6.18.44");
    assert!(x["waived_by"].as_str().unwrap().contains("CONFIG_KEXEC"), "{x}");
    // Module kfuncs are unknown (not removed) in a kernel read without modules.
    assert!(!f.iter().any(|x| x["kfunc"] == "bbr_main" && x["code"] == "P011"));
    // The baseline's facts match the kernels; every kfunc is listed; no stale waiver.
    for code in ["P001", "P002", "P018", "P021"] {
        assert!(!f.iter().any(|x| x["code"] == code), "{code}: {f:#?}");
    }
    let s = &v["summary"];
    assert_eq!(s["deny"], 0);
    assert_eq!(s["waived"].as_u64().unwrap() as usize, f.iter().filter(|x| !x["waived_by"].is_null()).count());

    // Text: last line counts; SARIF locates findings in the manifest.
    let out = bpfabi().args(["policy", "check", "--manifest", &baseline()]).args(&ks).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert_eq!(last, format!("0 deny, {} warn, {} waived", s["warn"], s["waived"]));
    let out = bpfabi().args(["policy", "check", "--manifest", &baseline(), "--format", "sarif"]).args(&ks).output().unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &sarif["runs"][0]["results"];
    let rstat = r.as_array().unwrap().iter().find(|x| x["message"]["text"].as_str().unwrap().starts_with("cgroup_rstat_flush")).unwrap();
    assert_eq!(rstat["ruleId"], "P011");
    assert!(rstat["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap() > 1);
}

#[test]
fn a_stricter_overlay_denies_and_fix_repairs_facts() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("policy-overlay");
    std::fs::copy(baseline(), dir.join("upstream.toml")).unwrap();
    // A distribution that promises more: cgroup_rstat_flush stable, and a
    // wrong fact to repair.
    let overlay = "schema = 1\nextends = [\"upstream.toml\"]\n\n# ours\n[kfunc.cgroup_rstat_flush]\ntier = \"stable\" # promised\n\n[kfunc.bpf_task_acquire.facts]\nfirst_release = \"6.0\"\n";
    std::fs::write(dir.join("distro.toml"), overlay).unwrap();
    let m = dir.join("distro.toml");
    let out = bpfabi().args(["policy", "check", "--manifest"]).arg(&m).args(kernels()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("deny[P011] 6.18.44 cgroup_rstat_flush"), "{text}");
    assert!(text.contains("warn[P018]") && text.contains("bpf_task_acquire"), "{text}");
    let out = bpfabi().args(["policy", "check", "--fix", "--manifest"]).arg(&m).args(kernels()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("P018"), "{text}");
    let fixed = std::fs::read_to_string(&m).unwrap();
    assert!(fixed.contains("# ours\n[kfunc.cgroup_rstat_flush]\ntier = \"stable\" # promised"), "{fixed}");
    assert!(fixed.contains("first_release = \"6.1\""), "{fixed}");
}

/// Debian kernels past the corpus that `bpfabi kernels debian:NAME` keeps in
/// the cache (sid 7.2.13, trixie-backports 7.3.4), when they are there.
fn cached_debian_kernels() -> Option<Vec<String>> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    let dirs: Vec<_> = ["7.2.13+deb14-amd64", "7.3.4+deb13-amd64"].iter().map(|r| cache.join("bpfabi/debian/kernels").join(r)).collect();
    match dirs.iter().find(|d| !d.join("vmlinux.btf").is_file()) {
        Some(d) => {
            eprintln!("skipped: {} is not cached (run `bpfabi kernels debian:sid debian:trixie-backports`)", d.display());
            None
        }
        None => Some(dirs.iter().map(|d| d.display().to_string()).collect()),
    }
}

#[test]
fn upstream_baseline_over_the_history_with_debian_7x() {
    if !have_corpus() {
        return;
    }
    let Some(extra) = cached_debian_kernels() else { return };
    let mut ks = kernels();
    ks.extend(extra);
    let out = bpfabi().args(["policy", "check", "--manifest", &baseline(), "--format", "json"]).args(&ks).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kernels"], serde_json::json!(["5.10", "6.1", "6.12.95", "6.12.117", "6.18.44", "7.2.13", "7.3.4"]));
    let f = v["findings"].as_array().unwrap();
    let has = |code: &str, kfunc: &str, release: &str| {
        f.iter().find(|x| x["code"] == code && x["kfunc"] == kfunc && x["release"] == release).unwrap_or_else(|| panic!("{code} {kfunc} {release} in {f:#?}"))
    };
    // The baseline records the whole history: every kfunc, facts that agree, no stale waiver.
    for code in ["P001", "P002", "P015", "P018", "P021"] {
        assert!(!f.iter().any(|x| x["code"] == code), "{code}: {f:#?}");
    }
    assert_eq!(v["summary"]["deny"], 0);
    // 7.2.13: the _impl kfuncs went away without a deprecation (KF_IMPLICIT_ARGS).
    let x = has("P011", "bpf_wq_set_callback_impl", "7.2.13");
    assert_eq!(x["level"], "warn");
    assert!(x["waived_by"].is_null());
    has("P011", "bpf_stream_vprintk_impl", "7.2.13");
    has("P011", "bbr_cwnd_event", "7.2.13");
    // dynptr sizes widened, the __opt annotation renamed.
    let x = has("P010", "bpf_dynptr_size", "7.2.13");
    assert!(x["message"].as_str().unwrap().contains("return type changed from `__u32` to `u64`"), "{x}");
    let mut slice: Vec<_> = f.iter().filter(|x| x["kfunc"] == "bpf_dynptr_slice" && x["release"] == "7.2.13").map(|x| x["change"].as_str().unwrap()).collect();
    slice.sort();
    assert_eq!(slice, ["param_annotation_changed", "proto_incompatible"]);
    let x = has("P010", "bpf_session_cookie", "7.2.13");
    assert!(x["message"].as_str().unwrap().contains("`void * ctx` added"), "{x}");
    // 7.3.4: __map -> __const_map, sched_ext changes.
    let x = has("P010", "bpf_wq_init", "7.3.4");
    assert!(x["message"].as_str().unwrap().contains("`__map` -> `__const_map`"), "{x}");
    has("P010", "scx_bpf_cidperf_set", "7.3.4");
    // scx_bpf_cpu_rq: deprecated in 6.18, its window over: an allowed removal for an unstable kfunc.
    assert!(!f.iter().any(|x| x["kfunc"] == "scx_bpf_cpu_rq"), "{f:#?}");
    // A module kfunc absent only from the module-less 6.18 is not a reused name.
    assert!(!f.iter().any(|x| x["kfunc"] == "bpf_xdp_flow_lookup"), "{f:#?}");
    // Config artefacts of the live 6.18 coming back with const arguments: waived with a reason.
    let x = has("P016", "bpf_get_fsverity_digest", "7.2.13");
    assert!(x["waived_by"].as_str().unwrap().contains("configuration"), "{x}");
    // The facts cover the history.
    let text = std::fs::read_to_string(baseline()).unwrap();
    assert!(text.contains("[kfunc.bpf_wq_set_callback_impl.facts]\nfirst_release = \"6.12.95\"\nremoved_in = \"7.2.13\""), "facts of the removal");
}

#[test]
fn fix_with_fewer_kernels_keeps_the_recorded_history() {
    if !have_corpus() {
        return;
    }
    // The baseline records 5.10 .. 7.3.4; the kernels given are a few of them.
    let dir = workdir("policy-fewer");
    let m = dir.join("upstream.toml");
    let ks = kernels();
    for given in [vec![ks[3].clone(), ks[4].clone()], vec![ks[0].clone(), ks[3].clone()], vec![ks[2].clone()]] {
        std::fs::copy(baseline(), &m).unwrap();
        let out = bpfabi().args(["policy", "check", "--fix", "--format", "json", "--manifest"]).arg(&m).args(&given).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!v["findings"].as_array().unwrap().iter().any(|x| x["code"] == "P018"), "{given:?}: {v:#}");
        assert_eq!(std::fs::read_to_string(&m).unwrap(), std::fs::read_to_string(baseline()).unwrap(), "--fix with {given:?} changed the history");
    }
    // Shrinking to what the kernels show takes an explicit flag.
    let out = bpfabi().args(["policy", "check", "--fix", "--shrink", "--manifest"]).arg(&m).args([&ks[3], &ks[4]]).output().unwrap();
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    let shrunk = std::fs::read_to_string(&m).unwrap();
    assert!(shrunk.contains("[kfunc.bbr_cwnd_event.facts]\nfirst_release = \"6.12.117\"\n"), "{shrunk}");
    let out = bpfabi().args(["policy", "check", "--shrink", "--manifest"]).arg(&m).args([&ks[3]]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--shrink without --fix is a usage error");
}

#[test]
fn compat_of_the_baseline_wraps_the_sched_ext_renames() {
    // The project's own baseline (no kernels needed): the sched_ext renames
    // are tombstones without a prototype of their own; a rename keeps it.
    let out = bpfabi().args(["policy", "compat", "--manifest", &baseline()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let h = String::from_utf8(out.stdout).unwrap();
    for (old, new, params, args) in [
        ("scx_bpf_dispatch", "scx_bpf_dsq_insert", "struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags", "p, dsq_id, slice, enq_flags"),
        (
            "scx_bpf_dispatch_vtime",
            "scx_bpf_dsq_insert_vtime",
            "struct task_struct *p, u64 dsq_id, u64 slice, u64 vtime, u64 enq_flags",
            "p, dsq_id, slice, vtime, enq_flags",
        ),
    ] {
        assert!(h.contains(&format!("static __always_inline void {new}_compat({params})\n{{\n\tif (bpf_ksym_exists({new}))\n\t\t{new}({args});\n\tif (bpf_ksym_exists({old}))\n\t\t{old}({args});\n}}")), "{old}: {h}");
        assert!(h.contains(&format!("extern void {old}({params}) __ksym __weak;")), "{h}");
    }
    assert!(h.contains("static __always_inline bool scx_bpf_dsq_move_to_local_compat(u64 dsq_id)"), "{h}");
    assert!(!h.contains("the manifest has no prototype of scx_bpf_"), "{h}");
    // A real difference is named as one: scx_bpf_locked_rq() lost the cpu argument.
    assert!(h.contains("/* no wrapper: the prototypes differ (parameters `(s32 cpu)` vs `(void)`); call sites must change */"), "{h}");
    assert!(!h.contains("(`struct rq *` vs `struct rq *`)"), "{h}");
}

#[test]
fn one_more_kernel_gives_a_readable_report() {
    if !have_corpus() {
        return;
    }
    // A manifest of a 3-kernel history, checked with one more kernel.
    let dir = workdir("policy-one-more");
    let m = dir.join("m.toml");
    let ks = kernels();
    let out = bpfabi().args(["policy", "init", "-o"]).arg(&m).args(&ks[..3]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bpfabi().args(["policy", "check", "--format", "json", "--manifest"]).arg(&m).args(&ks[..3]).arg(&ks[4]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let n = |code: &str| f.iter().filter(|x| x["code"] == code).count();
    // The new kernel's removals and fingerprints are facts to record, not disagreements.
    assert_eq!(n("P018"), 0, "{f:#?}");
    assert!(n("P019") > 20 && n("P001") > 20 && n("P011") > 0, "P019 {} P001 {} P011 {}", n("P019"), n("P001"), n("P011"));
    let removed = f.iter().find(|x| x["code"] == "P019" && x["kfunc"] == "cgroup_rstat_flush").expect("the removal to record");
    assert!(removed["message"].as_str().unwrap().contains("removed_in - (kernels: 6.18.44)"), "{removed}");
    // Text: one line for the facts to record, one per release for unlisted kfuncs.
    let out = bpfabi().args(["policy", "check", "--manifest"]).arg(&m).args(&ks[..3]).arg(&ks[4]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("[P018]"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("[P019]")).count(), 1, "{text}");
    assert!(text.contains(&format!("warn[P019]: {} kfuncs have facts to record from these kernels", n("P019"))), "{text}");
    let p001: Vec<&str> = text.lines().filter(|l| l.contains("[P001]")).collect();
    assert_eq!(p001.len(), 1, "{text}");
    assert!(p001[0].starts_with(&format!("warn[P001] 6.18.44: {} kfuncs not in the manifest: ", n("P001"))), "{}", p001[0]);
    assert!(text.lines().count() < n("P011") + n("P010") + n("P017") + 10, "{text}");
    // --fix records them: nothing left to record.
    let out = bpfabi().args(["policy", "check", "--fix", "--format", "json", "--manifest"]).arg(&m).args(&ks[..3]).arg(&ks[4]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["findings"].as_array().unwrap().iter().any(|x| x["code"] == "P019" || x["code"] == "P001" || x["code"] == "P018"), "{v:#}");
}

/// A manifest's `[grades]` changes the grade of a lifecycle finding of
/// `policy check` (P018, facts that disagree: warn by default) and of a
/// `lint` finding (`type_duplicate`: info by default) on real kernels.
#[test]
fn grades_change_a_lifecycle_finding_and_a_lint_finding() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("policy-grades");
    std::fs::copy(baseline(), dir.join("upstream.toml")).unwrap();
    let wrong = "schema = 1\nextends = [\"upstream.toml\"]\n\n[kfunc.bpf_task_acquire.facts]\nfirst_release = \"6.0\"\n";
    std::fs::write(dir.join("default.toml"), wrong).unwrap();
    std::fs::write(dir.join("graded.toml"), format!("{wrong}\n[grades]\nP018 = \"deny\"\ntype_duplicate = \"deny\"\n")).unwrap();
    let check = |m: &str| {
        let out = bpfabi().args(["policy", "check", "--format", "json", "--manifest"]).arg(dir.join(m)).args(kernels()).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let f = v["findings"].as_array().unwrap().iter().find(|x| x["code"] == "P018" && x["kfunc"] == "bpf_task_acquire").cloned();
        (out.status.code(), f.unwrap_or_else(|| panic!("P018 in {v:#}")))
    };
    let (code, f) = check("default.toml");
    assert_eq!((code, f["level"].as_str()), (Some(0), Some("warn")), "{f:#}");
    let (code, f) = check("graded.toml");
    assert_eq!((code, f["level"].as_str()), (Some(1), Some("deny")), "{f:#}");

    let lint = |m: Option<&str>| {
        let mut c = bpfabi();
        c.arg("lint").arg(kernel_dir("5.10.223-1")).arg("--json");
        if let Some(m) = m {
            c.arg("--policy").arg(dir.join(m));
        }
        let out = c.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let f = v["findings"].as_array().unwrap().iter().find(|x| x["code"] == "type_duplicate").cloned();
        (out.status.code(), f.unwrap_or_else(|| panic!("type_duplicate in {v:#}")))
    };
    let (code, f) = lint(None);
    assert_eq!((code, f["severity"].as_str()), (Some(0), Some("info")), "{f:#}");
    let (code, f) = lint(Some("graded.toml"));
    assert_eq!((code, f["severity"].as_str()), (Some(1), Some("error")), "{f:#}");
}
