//! Programs and the manifest: `policy compat`'s header compiled with clang
//! into a program that loads (by `check`) before and after a rename, and
//! `check --policy` warning at the source line of a deprecated kfunc's call
//! (`.BTF.ext` line info of a program built with `-g`), with an error on a
//! kernel past the removal. Kernels: a synthetic rename history written as
//! corpus-style directories.

#[path = "policy/kernels.rs"]
mod kernels;
use kernels::{kernel_dir, kf};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bpfabi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn have_clang() -> bool {
    let ok = Command::new("clang").arg("--version").output().is_ok_and(|o| o.status.success()) && Path::new("/usr/include/bpf/bpf_helpers.h").exists();
    if !ok {
        eprintln!("skipped: needs clang and libbpf-dev headers");
    }
    ok
}

fn workdir(rel: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(rel);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/policy").join(name)
}

fn compile(name: &str, include: &Path, out: &Path) -> PathBuf {
    let o = out.join(name.replace(".c", ".o"));
    let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let r = Command::new("clang")
        .args(["-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-I"])
        .arg(include)
        .arg("-I")
        .arg(src(""))
        .arg(format!("-I{multiarch}"))
        .arg("-c")
        .arg(src(name))
        .arg("-o")
        .arg(&o)
        .output()
        .unwrap();
    assert!(r.status.success(), "clang {name}: {}", String::from_utf8_lossy(&r.stderr));
    o
}

/// 6.13 has bpf_old_thing, 6.14 both, 6.15 only bpf_new_thing; a manifest
/// from `policy init` with the deprecation decided.
fn setup(dir: &Path) -> (Vec<PathBuf>, PathBuf) {
    let old = kf("bpf_old_thing", &[("a", "int"), ("b", "int")], 0);
    let new = kf("bpf_new_thing", &[("a", "int"), ("b", "int")], 0);
    let ks = [("6.13", vec![old.clone()]), ("6.14", vec![old, new.clone()]), ("6.15", vec![new])];
    let mut paths = Vec::new();
    for (rel, kfs) in &ks {
        let p = dir.join(rel);
        kernel_dir(&p, rel, kfs, &["map_lookup_elem"]);
        paths.push(p);
    }
    let m = dir.join("policy.toml");
    let out = bpfabi().args(["policy", "init", "-o"]).arg(&m).args(&paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&m).unwrap();
    let text = text.replace(
        "[kfunc.bpf_old_thing.facts]",
        "[kfunc.bpf_old_thing]\ndeprecated_since = \"6.13\"\nremoval_not_before = \"6.15\"\nreplacement = \"bpf_new_thing\"\nreason = \"renamed\"\n\n[kfunc.bpf_old_thing.facts]",
    );
    std::fs::write(&m, text).unwrap();
    (paths, m)
}

#[test]
fn compat_header_loads_before_and_after_the_rename() {
    if !have_clang() {
        return;
    }
    let dir = workdir("policy-compat");
    let (ks, m) = setup(&dir);
    // The history itself is clean: deprecated 6.13, removed 6.15 (2 releases, tier unstable).
    let out = bpfabi().args(["policy", "check", "--manifest"]).arg(&m).args(&ks).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("P011") && !text.contains("P012"), "{text}");

    let h = dir.join("policy_compat.h");
    let out = bpfabi().args(["policy", "compat", "--manifest"]).arg(&m).arg("-o").arg(&h).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let header = std::fs::read_to_string(&h).unwrap();
    assert!(header.contains("extern int bpf_old_thing(int a, int b) __ksym __weak;"), "{header}");
    assert!(header.contains("extern int bpf_new_thing(int a, int b) __ksym __weak;"), "{header}");
    assert!(header.contains("deprecated since 6.13, removal not before 6.15, removed in 6.15"), "{header}");
    assert!(header.contains("static __always_inline int bpf_new_thing_compat(int a, int b)"), "{header}");
    let obj = compile("compat_user.bpf.c", &dir, &dir);

    let out = bpfabi().arg("check").arg(&obj).args(ks.iter().flat_map(|k| ["--kernel".as_ref(), k.as_os_str()])).arg("--json").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{v:#}");
    for r in results {
        assert_ne!(r["verdict"], "fails", "{r:#}");
    }
    assert_eq!(out.status.code(), Some(0));
    // The same call without the header fails after the rename.
    let obj = compile("deprecated_user.bpf.c", &dir, &dir);
    let out = bpfabi().arg("check").arg(&obj).args(["--kernel".as_ref(), ks[2].as_os_str()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn check_policy_warns_at_the_source_line() {
    if !have_clang() {
        return;
    }
    let dir = workdir("policy-uses");
    let (ks, m) = setup(&dir);
    let obj = compile("deprecated_user.bpf.c", &dir, &dir);
    let source = std::fs::read_to_string(src("deprecated_user.bpf.c")).unwrap();
    let line = source.lines().position(|l| l.contains("bpf_old_thing(x")).unwrap() + 1;

    // 6.13: the program loads; a warning at the call.
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[0]).arg("--policy").arg(&m).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let warn = text.lines().find(|l| l.contains("[P100]")).unwrap_or_else(|| panic!("{text}"));
    assert!(warn.contains(&format!("deprecated_user.bpf.c:{line}:")), "{warn}");
    assert!(warn.contains(": warning: `bpf_old_thing` is deprecated since 6.13; use `bpf_new_thing`; removed in 6.15"), "{warn}");
    assert!(warn.contains("program uses_old (uses_old), insn "), "{warn}");
    assert!(!text.contains("[P101]"));

    // 6.15 is past the removal: an error as well.
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[2]).arg("--policy").arg(&m).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let err = text.lines().find(|l| l.contains("[P101]")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        err.contains(&format!("deprecated_user.bpf.c:{line}:"))
            && err.contains(": error: `bpf_old_thing` is removed in 6.15 and the target kernel 6.15 lacks it"),
        "{err}"
    );

    // --deny-deprecated: the warning is an error in CI.
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[0]).arg("--policy").arg(&m).arg("--deny-deprecated").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": error: `bpf_old_thing` is deprecated"));

    // The manifest's [grades]: a use denied, the use past removal allowed
    // (the load itself still fails on 6.15: check says so, exit 1).
    let graded = dir.join("graded.toml");
    std::fs::write(&graded, format!("{}\n[grades]\nP100 = \"deny\"\nP101 = \"allow\"\n", std::fs::read_to_string(&m).unwrap())).unwrap();
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[0]).arg("--policy").arg(&graded).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("deprecated_user.bpf.c:{line}:")) && text.contains(": error: `bpf_old_thing` is deprecated since 6.13"), "{text}");
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[2]).arg("--policy").arg(&graded).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("[P100]") && !text.contains("[P101]"), "{text}");

    // SARIF: the result sits on the source line.
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[0]).arg("--policy").arg(&m).args(["--format", "sarif"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = v["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "P100").expect("P100 in SARIF").clone();
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64(), Some(line as u64), "{r:#}");
    assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().ends_with("deprecated_user.bpf.c"));
}

#[test]
fn an_announced_removal_is_not_a_removal_and_misspelled_entries_are_named() {
    if !have_clang() {
        return;
    }
    let dir = workdir("policy-announced");
    let (ks, m) = setup(&dir);
    let obj = compile("deprecated_user.bpf.c", &dir, &dir);
    // Announced for 6.14, no removal recorded yet; the 6.14 kernel still has it.
    let text =
        std::fs::read_to_string(&m).unwrap().replace("removal_not_before = \"6.15\"", "removal_not_before = \"6.14\"").replace("removed_in = \"6.15\"\n", "");
    let text = format!("{text}\n[kfunc.bpf_old_thingg]\ntier = \"stable\"\n");
    std::fs::write(&m, text).unwrap();
    let out = bpfabi().arg("check").arg(&obj).arg("--kernel").arg(&ks[1]).arg("--policy").arg(&m).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let warn = text.lines().find(|l| l.contains("[P100]")).unwrap_or_else(|| panic!("{text}"));
    assert!(warn.contains("; removal announced for 6.14 or later"), "{warn}");
    assert!(!text.contains("removed in") && !text.contains("[P101]"), "{text}");
    // The misspelled entry: named, with the kfunc it probably means.
    let typo = text.lines().find(|l| l.contains("[P002]")).unwrap_or_else(|| panic!("{text}"));
    assert!(typo.contains("policy.toml:") && typo.contains("`bpf_old_thingg` names no kfunc") && typo.contains("did you mean `bpf_old_thing`?"), "{typo}");
    // policy check: the stale entry gets the same hint.
    let out = bpfabi().args(["policy", "check", "--manifest"]).arg(&m).args(&ks).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let typo = text.lines().find(|l| l.contains("[P002]")).unwrap_or_else(|| panic!("{text}"));
    assert!(typo.contains("bpf_old_thingg") && typo.contains("did you mean `bpf_old_thing`?"), "{typo}");
}
