//! The build-tool integrations (docs/integration.md), each run for real on
//! the examples: a cargo build script (`cargo build --offline`), Make,
//! CMake, the Go generate directive, the pre-commit hook (with the
//! `pre-commit` tool) and the CI action's script. Kernels are `debian:`
//! names resolved to the built-in catalog (`BPFABI_CATALOG=only`: offline,
//! no apt), materialised in a cache under the test's own directory.
//!
//! The examples' manifest deprecates `cgroup_rstat_flush`; every
//! integration must print the warning at the source line of its call in
//! examples/bpf/cgroup_stats.bpf.c, and fail on a kernel past its removal
//! (sid's 7.2.13).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bpfabi() -> &'static str {
    env!("CARGO_BIN_EXE_bpfabi")
}

/// A fresh directory under cargo's test scratch space.
fn workdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd).arg(arg).output().is_ok_and(|o| o.status.success())
}

/// clang with libbpf's headers, which every example compiles with.
fn have_clang() -> bool {
    let ok = have("clang", "--version") && Path::new("/usr/include/bpf/bpf_helpers.h").exists();
    if !ok {
        eprintln!("skipped: needs clang and libbpf-dev headers");
    }
    ok
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "build" {
                copy_dir(&e.path(), &dst);
            }
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// `examples/` and `integration/` copied into `dir` (the examples refer to
/// each other and to the snippets by relative paths).
fn examples_in(dir: &Path) -> PathBuf {
    copy_dir(&repo().join("examples/bpf"), &dir.join("examples/bpf"));
    std::fs::copy(repo().join("examples/bpfabi-policy.toml"), dir.join("examples/bpfabi-policy.toml")).unwrap();
    copy_dir(&repo().join("integration"), &dir.join("integration"));
    dir.join("examples")
}

/// Offline catalog kernels, cached under `dir`.
fn catalog_env<'a>(cmd: &'a mut Command, dir: &Path) -> &'a mut Command {
    cmd.env("BPFABI_CATALOG", "only").env("XDG_CACHE_HOME", dir.join("cache"))
}

/// `file:line:col` of the call of `cgroup_rstat_flush` in the example
/// program (column: 1-based, a tab counts one, as clang counts).
fn call_line() -> (usize, usize) {
    let src = std::fs::read_to_string(repo().join("examples/bpf/cgroup_stats.bpf.c")).unwrap();
    let (i, l) = src.lines().enumerate().find(|(_, l)| l.trim_start().starts_with("cgroup_rstat_flush(")).unwrap();
    (i + 1, l.len() - l.trim_start().len() + 1)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The deprecation warning, GNU style, at the call (`cgroup_stats.bpf.c:L:C:`).
fn assert_warning_at_call(out: &str) {
    let (line, col) = call_line();
    let want = format!("bpf/cgroup_stats.bpf.c:{line}:{col}: warning: `cgroup_rstat_flush` is deprecated since 6.12; use `css_rstat_flush`; removed in 6.16");
    assert!(out.contains(&want), "no `{want}` in:\n{out}");
    // (Not-measured notes are not about the program: catalog kernels carry
    // no probe data and no members, so every program gets those.)
    let diag = |l: &&str| {
        (l.contains(": warning: ") || l.contains(": error: ")) && !l.contains("[prog_type_unverified]") && !l.contains("[not_checked_reduced_kernel]")
    };
    assert!(!out.lines().filter(diag).any(|l| l.contains("xdp_count")), "the program without kfuncs got a diagnostic:\n{out}");
}

/// The removal error on sid (7.2.13): P101 at the call, and check's own
/// kfunc_missing there too.
fn assert_error_on_sid(out: &str) {
    let (line, col) = call_line();
    let want = format!("bpf/cgroup_stats.bpf.c:{line}:{col}: error: `cgroup_rstat_flush` is removed in 6.16 and the target kernel 7.2.13 lacks it");
    assert!(out.contains(&want), "no `{want}` in:\n{out}");
    let missing = format!(
        "bpf/cgroup_stats.bpf.c:{line}:{col}: error: fails on 7.2.13+deb14-amd64: cgroup_rstat_flush: kfunc `cgroup_rstat_flush` is not in this kernel"
    );
    assert!(out.contains(&missing), "no `{missing}` in:\n{out}");
}

// ---- cargo build script --------------------------------------------------

#[test]
fn cargo_build_script_warns_at_the_source_line_and_fails_on_deny() {
    if !have_clang() {
        return;
    }
    let dir = workdir("cargo");
    let examples = examples_in(&dir);
    let krate = examples.join("cargo-build-script");
    copy_dir(&repo().join("examples/cargo-build-script"), &krate);
    // The path dependency points at this checkout; the lock file pins the
    // versions this checkout builds with (all in the local registry cache).
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("path = \"../..\""));
    std::fs::write(krate.join("Cargo.toml"), manifest.replace("path = \"../..\"", &format!("path = {:?}", repo().display().to_string()))).unwrap();
    std::fs::copy(repo().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // One target directory kept between runs (dependencies build once: the
    // example depends on bpfabi without default features).
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration-cargo-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let build = || {
        let mut c = Command::new(&cargo);
        c.args(["build", "--offline"]).current_dir(&krate).env("CARGO_TARGET_DIR", &target).env_remove("RUSTFLAGS");
        catalog_env(&mut c, &dir).output().unwrap()
    };
    let o = build();
    let out = text(&o);
    assert!(o.status.success(), "cargo build failed:\n{out}");
    // cargo prints the script's cargo:warning= lines as `warning: PKG@VER: ...`.
    assert_warning_at_call(&out);
    let (line, _) = call_line();
    assert!(out.contains(&format!("warning: cgroup-stats@0.1.0: {}", krate.join("../bpf/cgroup_stats.bpf.c").display())), "{out}");
    assert!(out.lines().filter(|l| l.contains(&format!("cgroup_stats.bpf.c:{line}:"))).count() == 1, "{out}");

    // sid (7.2.13) no longer has the kfunc: P101 is `deny`, the build fails.
    let m = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), m.replace("kernels = [\"debian:bookworm\", \"debian:trixie\"]", "kernels = [\"debian:trixie\", \"debian:sid\"]"))
        .unwrap();
    let o = build();
    let out = text(&o);
    assert!(!o.status.success(), "the build passed with a deny finding:\n{out}");
    assert_error_on_sid(&out);
    assert!(out.contains("bpfabi: 2 error(s) against 6.12.118+deb13-amd64, 7.2.13+deb14-amd64"), "{out}");
}

// ---- Make and CMake ------------------------------------------------------

#[test]
fn make_snippet_checks_both_programs() {
    if !have_clang() || !have("make", "--version") {
        eprintln!("skipped: needs make");
        return;
    }
    let dir = workdir("make");
    let examples = examples_in(&dir);
    copy_dir(&repo().join("examples/make-cmake"), &examples.join("make-cmake"));
    let make = |extra: &[&str]| {
        let mut c = Command::new("make");
        c.arg("-C").arg(examples.join("make-cmake")).arg(format!("BPFABI={}", bpfabi())).args(extra);
        catalog_env(&mut c, &dir).output().unwrap()
    };
    let o = make(&[]);
    let out = text(&o);
    assert!(o.status.success(), "make failed:\n{out}");
    assert!(out.contains("--kernel debian:bookworm --kernel debian:trixie"), "{out}");
    assert!(out.contains("build/cgroup_stats.bpf.o build/xdp_count.bpf.o"), "both objects are checked:\n{out}");
    assert_warning_at_call(&out);
    // A second `make` rebuilds nothing and checks again.
    let o = make(&["BPFABI_KERNELS=debian:sid"]);
    let out = text(&o);
    assert!(!o.status.success(), "make passed on sid:\n{out}");
    assert!(!out.contains("clang "), "objects rebuilt:\n{out}");
    assert_error_on_sid(&out);
}

#[test]
fn cmake_module_adds_a_check_target() {
    if !have_clang() || !have("cmake", "--version") {
        eprintln!("skipped: needs cmake (apt-get install cmake)");
        return;
    }
    let dir = workdir("cmake");
    let examples = examples_in(&dir);
    copy_dir(&repo().join("examples/make-cmake"), &examples.join("make-cmake"));
    let b = dir.join("b");
    let o =
        Command::new("cmake").arg("-S").arg(examples.join("make-cmake")).arg("-B").arg(&b).arg(format!("-DBPFABI_EXECUTABLE={}", bpfabi())).output().unwrap();
    assert!(o.status.success(), "cmake configure:\n{}", text(&o));
    let build = |target: Option<&str>| {
        let mut c = Command::new("cmake");
        c.arg("--build").arg(&b);
        if let Some(t) = target {
            c.args(["--target", t]);
        }
        catalog_env(&mut c, &dir).output().unwrap()
    };
    let o = build(None);
    let out = text(&o);
    assert!(o.status.success(), "cmake --build:\n{out}");
    assert_warning_at_call(&out);
    let o = Command::new("cmake").arg("-DBPFABI_KERNELS=debian:sid").arg(&b).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = build(Some("bpfabi-check"));
    let out = text(&o);
    assert!(!o.status.success(), "bpfabi-check passed on sid:\n{out}");
    assert_error_on_sid(&out);
}

// ---- Go generate ---------------------------------------------------------

/// The `//go:generate` lines of the example, as argument vectors.
fn go_generate_lines() -> Vec<Vec<String>> {
    let src = std::fs::read_to_string(repo().join("examples/go-generate/gen.go")).unwrap();
    src.lines()
        .filter_map(|l| l.strip_prefix("//go:generate "))
        .map(|l| {
            // go generate's quoting: double-quoted strings are one argument.
            let mut args = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for c in l.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ' ' if !quoted => {
                        if !cur.is_empty() {
                            args.push(std::mem::take(&mut cur));
                        }
                    }
                    c => cur.push(c),
                }
            }
            if !cur.is_empty() {
                args.push(cur);
            }
            args
        })
        .collect()
}

/// The Go toolchain and GOPATH tree `scripts/build-loaders cilium` extracted
/// from Debian packages (BPFABI_GO_ENV: its `go-SUITE.env`, KEY=VALUE lines),
/// with which `go generate` runs bpf2go offline in GOPATH mode.
fn go_env() -> Option<Vec<(String, String)>> {
    let Some(file) = std::env::var_os("BPFABI_GO_ENV") else {
        eprintln!("note: BPFABI_GO_ENV not set (scripts/build-loaders cilium writes it): bpf2go is not run");
        return None;
    };
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("BPFABI_GO_ENV {}: {e}", Path::new(&file).display()));
    let env: Vec<(String, String)> = text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert!(env.iter().any(|(k, _)| k == "GOROOT"), "no GOROOT in {}", Path::new(&file).display());
    Some(env)
}

#[test]
fn go_generate_checks_what_bpf2go_wrote() {
    if !have_clang() {
        return;
    }
    let dir = workdir("go");
    let examples = examples_in(&dir);
    let module = examples.join("go-generate");
    copy_dir(&repo().join("examples/go-generate"), &module);
    let lines = go_generate_lines();
    assert_eq!(lines.len(), 2, "bpf2go, then bpfabi");
    let (bpf2go, check) = (&lines[0], &lines[1]);
    assert!(bpf2go.iter().any(|a| a.ends_with("cmd/bpf2go")) && bpf2go.contains(&"-target".to_string()));
    assert_eq!(check[0], "bpfabi");
    let object = module.join(check.last().unwrap());
    let bin_dir = Path::new(bpfabi()).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    if let Some(env) = go_env() {
        // The real thing: `go generate` runs bpf2go (`go run` builds it from
        // Debian's GOPATH tree, offline) and then the bpfabi directive.
        let go = Path::new(&env.iter().find(|(k, _)| k == "GOROOT").unwrap().1).join("bin/go");
        let run = |args: &[&str]| {
            let mut c = Command::new(&go);
            c.args(args).current_dir(&module).envs(env.iter().map(|(k, v)| (k, v))).env("PATH", &path);
            catalog_env(&mut c, &dir).output().unwrap()
        };
        let o = run(&["generate", "./..."]);
        let out = text(&o);
        assert!(o.status.success(), "go generate:\n{out}");
        assert!(object.exists() && module.join("cgroupstats_bpfel.go").exists(), "bpf2go wrote nothing:\n{out}");
        assert_warning_at_call(&out);
        // The generated bindings compile against cilium/ebpf, and its reader
        // takes the object (examples/go-generate/load_test.go).
        let o = run(&["test", "-count=1", "."]);
        assert!(o.status.success(), "go test:\n{}", text(&o));
        return;
    }
    eprintln!("note: no Go toolchain: compiling as bpf2go does, then running the bpfabi directive");
    // bpf2go -target bpfel IDENT SRC: clang -target bpfel with -cflags, into <ident lowercased>_bpfel.o.
    let i = bpf2go.iter().position(|a| a == "-cflags").unwrap();
    let cflags: Vec<&str> = bpf2go[i + 1].split(' ').collect();
    let src = module.join(bpf2go.last().unwrap());
    let ident = &bpf2go[bpf2go.len() - 2];
    assert_eq!(object.file_name().unwrap().to_str().unwrap(), format!("{}_bpfel.o", ident.to_lowercase()));
    let o = Command::new("clang").args(&cflags).args(["-target", "bpfel", "-c"]).arg(&src).arg("-o").arg(&object).output().unwrap();
    assert!(o.status.success(), "clang:\n{}", text(&o));
    let mut c = Command::new(bpfabi());
    c.args(&check[1..]).current_dir(&module);
    let o = catalog_env(&mut c, &dir).output().unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_warning_at_call(&out);
    // Only diagnostics: `go vet`'s form, nothing else on stdout.
    for l in String::from_utf8_lossy(&o.stdout).lines() {
        assert!(l.contains(": warning: ") || l.contains(": error: ") || l.contains(": note: "), "not a diagnostic: {l}");
    }
}

// ---- pre-commit and CI ---------------------------------------------------

/// A git repository with the examples' manifest at its root as
/// `bpfabi-policy.toml` and the two objects under `bpf/`.
fn sample_repo(dir: &Path, config: Option<&str>) -> PathBuf {
    let r = dir.join("repo");
    std::fs::create_dir_all(r.join("bpf")).unwrap();
    for f in ["cgroup_stats.bpf.c", "xdp_count.bpf.c", "kernel_types.h"] {
        std::fs::copy(repo().join("examples/bpf").join(f), r.join("bpf").join(f)).unwrap();
    }
    std::fs::copy(repo().join("examples/bpfabi-policy.toml"), r.join("bpfabi-policy.toml")).unwrap();
    if let Some(c) = config {
        std::fs::write(r.join(".bpfabi.toml"), c).unwrap();
    }
    for p in ["cgroup_stats", "xdp_count"] {
        let o = Command::new("clang")
            .args(["-O2", "-g", "-Wall", "-target", "bpf", "-c"])
            .arg(format!("bpf/{p}.bpf.c"))
            .arg("-o")
            .arg(format!("bpf/{p}.bpf.o"))
            .current_dir(&r)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    r
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
}

/// The `pre-commit` tool: BPFABI_PRE_COMMIT (.ci/run installs it into a
/// venv) or on PATH.
fn pre_commit() -> Option<String> {
    let p = std::env::var("BPFABI_PRE_COMMIT").unwrap_or_else(|_| "pre-commit".to_string());
    have(&p, "--version").then_some(p)
}

#[test]
fn pre_commit_hook_checks_staged_objects() {
    if !have_clang() {
        return;
    }
    let Some(pc) = pre_commit() else {
        eprintln!("skipped: needs the pre-commit tool (pip install pre-commit; BPFABI_PRE_COMMIT=path)");
        return;
    };
    let dir = workdir("pre-commit");
    let r = sample_repo(&dir, Some("kernels = [\"debian:bookworm\", \"debian:trixie\"]\n"));
    git(&r, &["init", "-q"]);
    git(&r, &["add", "."]);
    let bin_dir = Path::new(bpfabi()).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    // try-repo: the hook as this checkout defines it (uncommitted changes included).
    let run = |r: &Path| {
        let mut c = Command::new(&pc);
        c.arg("try-repo")
            .arg(repo())
            .arg("bpfabi-check")
            .current_dir(r)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", dir.join("pre-commit-home"))
            .env_remove("GIT_DIR");
        catalog_env(&mut c, &dir).output().unwrap()
    };
    let o = run(&r);
    let out = text(&o);
    assert!(o.status.success(), "hook failed:\n{out}");
    assert!(out.contains("bpfabi check") && out.contains("Passed"), "{out}");
    // pre-commit shows a passing hook's output only with --verbose; the
    // findings are in the failing run below, and here through the same
    // command pre-commit ran.
    let o = Command::new(repo().join("integration/pre-commit-hook"))
        .args(["bpf/cgroup_stats.bpf.o", "bpf/xdp_count.bpf.o"])
        .current_dir(&r)
        .env("PATH", &path)
        .env("BPFABI_CATALOG", "only")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_warning_at_call(&text(&o));
    // Kernels from the configuration: sid makes the staged object fail.
    std::fs::write(r.join(".bpfabi.toml"), "kernels = [\"debian:sid\"]\n").unwrap();
    git(&r, &["add", "."]);
    let o = run(&r);
    let out = text(&o);
    assert!(!o.status.success(), "hook passed on sid:\n{out}");
    assert!(out.contains("Failed"), "{out}");
    assert_error_on_sid(&out);
}

#[test]
fn pre_commit_hook_definition_runs_the_script() {
    let y = std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(y.contains("- id: bpfabi-check") && y.contains("entry: integration/pre-commit-hook") && y.contains("language: script"), "{y}");
    assert!(repo().join("integration/pre-commit-hook").exists());
}

#[test]
fn ci_action_script_writes_sarif_at_the_source_line() {
    if !have_clang() {
        return;
    }
    // The action runs this script with its inputs as environment.
    let a = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    assert!(a.contains("using: composite") && a.contains("integration/ci-check.sh") && a.contains("github/codeql-action/upload-sarif"), "{a}");
    let dir = workdir("ci");
    let r = sample_repo(&dir, None);
    let run = |kernels: &str, out: &Path| {
        let mut c = Command::new(repo().join("integration/ci-check.sh"));
        c.current_dir(&r)
            .env("BPFABI", bpfabi())
            .env("BPFABI_OBJECTS", "bpf/**/*.bpf.o")
            .env("BPFABI_KERNELS", kernels)
            .env("BPFABI_SARIF", out)
            .env("GITHUB_OUTPUT", dir.join("github-output"))
            .env_remove("BPFABI_MANIFEST")
            .env_remove("BPFABI_CONFIG");
        catalog_env(&mut c, &dir).output().unwrap()
    };
    let sarif = dir.join("bpfabi.sarif");
    let o = run("debian:bookworm debian:trixie", &sarif);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let p100: Vec<&serde_json::Value> = results.iter().filter(|r| r["ruleId"] == "P100").collect();
    assert_eq!(p100.len(), 1, "{results:#?}");
    let loc = &p100[0]["locations"][0]["physicalLocation"];
    let (line, col) = call_line();
    // Relative to the repository (the script strips the checkout's path).
    assert_eq!(loc["artifactLocation"]["uri"], "bpf/cgroup_stats.bpf.c", "{loc}");
    assert_eq!((loc["region"]["startLine"].as_u64(), loc["region"]["startColumn"].as_u64()), (Some(line as u64), Some(col as u64)));
    assert_eq!(p100[0]["level"], "warning");
    // On sid: P101 is an error and the script says so by its exit status
    // (the action defers it until the SARIF is uploaded).
    let o = run("debian:sid", &dir.join("sid.sarif"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("sid.sarif")).unwrap()).unwrap();
    assert!(v["runs"][0]["results"].as_array().unwrap().iter().any(|r| r["ruleId"] == "P101" && r["level"] == "error"), "{v:#}");
    let outputs = std::fs::read_to_string(dir.join("github-output")).unwrap();
    assert!(outputs.contains("exit-code=0") && outputs.contains("exit-code=1") && outputs.contains("sarif-file="), "{outputs}");
}

// ---- the library entry and check --config --------------------------------

#[test]
fn config_file_and_command_line() {
    if !have_clang() {
        return;
    }
    let dir = workdir("config");
    let r = sample_repo(&dir, Some("kernels = [\"debian:bookworm\"]\nmanifest = \"bpfabi-policy.toml\"\ndeny_deprecated = true\n"));
    let check = |args: &[&str]| {
        let mut c = Command::new(bpfabi());
        c.arg("check").args(args).current_dir(&r);
        catalog_env(&mut c, &dir).output().unwrap()
    };
    // deny_deprecated from the file: the deprecated use is an error, exit 1.
    let o = check(&["--config", ".bpfabi.toml", "--format", "gnu", "bpf/cgroup_stats.bpf.o"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let (line, col) = call_line();
    assert!(out.contains(&format!("bpf/cgroup_stats.bpf.c:{line}:{col}: error: `cgroup_rstat_flush` is deprecated")), "{out}");
    // The command line's kernels win over the file's.
    let o = check(&["--config", ".bpfabi.toml", "--kernel", "debian:trixie", "bpf/xdp_count.bpf.o"]);
    assert!(text(&o).contains("6.12.118+deb13-amd64") && !text(&o).contains("6.1.0-57-amd64"), "{}", text(&o));
    // The file's loader applies unless --loader is given, even as libbpf
    // (the default spelled out is a choice too).
    std::fs::write(r.join("cilium.toml"), "kernels = [\"debian:trixie\"]\nloader = \"cilium\"\n").unwrap();
    let loader_of = |args: &[&str]| -> String {
        let o = check(&[&["--config", "cilium.toml", "--format", "json"], args, &["bpf/xdp_count.bpf.o"]].concat());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
        v["results"][0]["loader"].as_str().unwrap().to_string()
    };
    assert!(loader_of(&[]).starts_with("cilium/ebpf"), "{}", loader_of(&[]));
    assert!(loader_of(&["--loader", "libbpf"]).starts_with("libbpf"));
    // An unknown key is an error naming the file, line and column.
    std::fs::write(r.join("bad.toml"), "kernels = []\nkernal = 1\n").unwrap();
    let o = check(&["--config", "bad.toml", "bpf/xdp_count.bpf.o"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("bad.toml:2:1: unknown field `kernal`"), "{}", text(&o));
}

#[test]
fn library_entry_reads_cargo_metadata() {
    if !have_clang() {
        return;
    }
    let dir = workdir("library");
    let r = sample_repo(&dir, None);
    std::fs::write(
        r.join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[package.metadata.bpfabi]\nkernels = [\"debian:trixie\", \"debian:sid\"]\nfail_on = \"error\"\n",
    )
    .unwrap();
    let c = bpfabi::integration::Config::from_cargo_toml(&r.join("Cargo.toml")).unwrap();
    assert_eq!(c.kernels, ["debian:trixie", "debian:sid"]);
    // No manifest named: bpfabi-policy.toml beside Cargo.toml.
    assert_eq!(c.manifest.as_deref(), Some(r.join("bpfabi-policy.toml").as_path()));
    // The catalog, offline, cached under the test's directory (the library
    // reads the same environment as the CLI).
    std::env::set_var("BPFABI_CATALOG", "only");
    std::env::set_var("XDG_CACHE_HOME", dir.join("cache"));
    let o = bpfabi::integration::check(&c, &[r.join("bpf/cgroup_stats.bpf.o"), r.join("bpf/xdp_count.bpf.o")]).unwrap();
    assert_eq!(o.kernels, ["6.12.118+deb13-amd64", "7.2.13+deb14-amd64"]);
    let lines: Vec<String> = o.diagnostics.iter().map(|d| d.to_string()).collect();
    let joined = lines.join("\n");
    assert_warning_at_call(&joined);
    assert_error_on_sid(&joined);
    assert!(o.failed);
    // Policy findings first, then check's problems (one line for both kernels).
    let codes: Vec<&str> = o.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes[..2], ["P100", "P101"], "{joined}");
    let mut rest = codes[2..].to_vec();
    rest.sort();
    rest.dedup();
    // (Catalog kernels carry no probe data: prog_type_unverified, not measured.)
    assert_eq!(rest, ["kfunc_missing", "not_checked_reduced_kernel", "prog_type_unverified"], "{joined}");
}

#[test]
fn mutated_configs_are_errors_not_panics() {
    let good = std::fs::read(repo().join("fuzz/seeds/integration_config/all-keys.toml")).unwrap();
    let dir = Path::new("/nonexistent-dir");
    assert!(bpfabi::integration::Config::parse(std::str::from_utf8(&good).unwrap(), "c.toml", dir).is_ok());
    let mut errors = 0;
    let mut try_parse = |b: &[u8]| {
        if let Ok(t) = std::str::from_utf8(b) {
            if let Err(e) = bpfabi::integration::Config::parse(t, "c.toml", dir) {
                // Every error names the file (and where it can, line:column).
                assert!(e.to_string().contains("c.toml"), "{e}");
                errors += 1;
            }
        }
    };
    for n in 0..good.len() {
        try_parse(&good[..n]);
    }
    for i in 0..good.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut m = good.clone();
            m[i] ^= bit;
            try_parse(&m);
        }
    }
    assert!(errors > good.len(), "mutations should mostly be errors: {errors}");
}
