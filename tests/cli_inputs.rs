//! What the commands read and how one bad input is reported: packages given
//! to `check` and `inspect`, a foreign ELF among good objects, missing
//! paths, `--format` limited to what a command writes.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bpfabi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A 64-bit little-endian ELF claiming EM_BPF that is a shared object
/// (ET_DYN), as eBPF-for-Solana programs are: a null section and a
/// `.shstrtab`.
fn foreign_bpf_elf() -> Vec<u8> {
    let mut h = vec![0u8; 80 + 2 * 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // little-endian
    h[6] = 1; // EV_CURRENT
    h[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    h[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[0x28..0x30].copy_from_slice(&80u64.to_le_bytes()); // e_shoff
    h[0x34..0x36].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    h[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    h[0x3c..0x3e].copy_from_slice(&2u16.to_le_bytes()); // e_shnum
    h[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes()); // e_shstrndx
    h[64..75].copy_from_slice(b"\0.shstrtab\0");
    let sh = 80 + 64;
    h[sh..sh + 4].copy_from_slice(&1u32.to_le_bytes()); // sh_name
    h[sh + 4..sh + 8].copy_from_slice(&3u32.to_le_bytes()); // SHT_STRTAB
    h[sh + 24..sh + 32].copy_from_slice(&64u64.to_le_bytes()); // sh_offset
    h[sh + 32..sh + 40].copy_from_slice(&11u64.to_le_bytes()); // sh_size
    h
}

fn libbpf_tools() -> PathBuf {
    corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1")
}

#[test]
fn one_bad_file_does_not_stop_a_directory() {
    if !have_corpus() {
        return;
    }
    let tmp = workdir("cli_inputs/badfile");
    std::fs::copy(libbpf_tools().join("biolatency.bpf.o"), tmp.join("a_biolatency.bpf.o")).unwrap();
    std::fs::write(tmp.join("m_solana.so"), foreign_bpf_elf()).unwrap();
    std::fs::copy(libbpf_tools().join("fsdist.bpf.o"), tmp.join("z_fsdist.bpf.o")).unwrap();
    let dir = tmp.to_str().unwrap();
    let o = bpfabi(&["inspect", dir, "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v["objects"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "both good objects are read: {paths:?}");
    assert!(paths[1].ends_with("z_fsdist.bpf.o"), "{paths:?}");
    let err = stderr(&o);
    assert!(err.contains("m_solana.so") && err.contains("expected a relocatable BPF object (ET_REL)"), "{err}");
    assert_eq!(err.matches("m_solana.so").count(), 1, "the path once: {err}");
    // check: results for both good objects, then exit 2.
    let k = kernel_dir("6.12.117-1");
    let o = bpfabi(&["check", dir, "--kernel", k.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let objects: std::collections::BTreeSet<&str> = v["results"].as_array().unwrap().iter().map(|r| r["object"].as_str().unwrap()).collect();
    assert_eq!(objects.len(), 2, "{objects:?}");
    assert!(stderr(&o).contains("m_solana.so"), "{}", stderr(&o));
    // census: the same, and the error in the report.
    let o = bpfabi(&["census", dir]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("2 distinct objects"), "{}", stdout(&o));
    assert!(stdout(&o).contains("m_solana.so: at offset 0x0: expected a relocatable BPF object (ET_REL)"), "{}", stdout(&o));
}

#[test]
fn missing_and_truncated_inputs_fail_the_census() {
    let tmp = workdir("cli_inputs/census");
    let o = bpfabi(&["census", "/nonexistent-bpfabi"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("/nonexistent-bpfabi: No such file or directory"), "{}", stdout(&o));
    // A package cut short: its ar member runs past the end of the file.
    let member = |name: &str, size: usize| format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 100644).into_bytes();
    let mut deb = b"!<arch>\n".to_vec();
    deb.extend(member("debian-binary", 4));
    deb.extend_from_slice(b"2.0\n");
    deb.extend(member("data.tar.xz", 999_999));
    deb.extend_from_slice(b"\xfd7zXZ\0");
    let trunc = tmp.join("trunc.deb");
    std::fs::write(&trunc, &deb).unwrap();
    let o = bpfabi(&["census", trunc.to_str().unwrap(), "/nonexistent-bpfabi"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2 errors:"), "{out}");
    let line = out.lines().find(|l| l.contains("trunc.deb")).unwrap();
    assert_eq!(line.matches("trunc.deb").count(), 1, "the path once: {line}");
    assert!(line.contains("runs past the end of the file"), "{line}");
    // inspect and check say the same and exit 2.
    let o = bpfabi(&["inspect", "/nonexistent-bpfabi"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent-bpfabi: No such file or directory"), "{}", stderr(&o));
}

/// A Debian package holding one object, built with dpkg-deb.
fn package_with(obj: &Path, dir: &Path) -> Option<PathBuf> {
    let root = dir.join("pkg");
    let lib = root.join("usr/lib/demo");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(root.join("DEBIAN/control"), "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n").unwrap();
    std::fs::copy(obj, lib.join("demo.bpf.o")).unwrap();
    std::fs::write(lib.join("README"), "no BPF here").unwrap();
    let deb = dir.join("demo_1.0_all.deb");
    let st = Command::new("dpkg-deb").args(["--root-owner-group", "-Zxz", "--build"]).arg(&root).arg(&deb).output().ok()?;
    st.status.success().then_some(deb)
}

#[test]
fn check_and_inspect_read_packages_as_the_census_does() {
    if !have_corpus() {
        return;
    }
    let tmp = workdir("cli_inputs/deb");
    let Some(deb) = package_with(&libbpf_tools().join("biolatency.bpf.o"), &tmp) else {
        eprintln!("skipped: dpkg-deb is not installed");
        return;
    };
    let deb_s = deb.to_str().unwrap();
    let o = bpfabi(&["inspect", deb_s, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let objs = v["objects"].as_array().unwrap();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["path"], format!("{deb_s}:/usr/lib/demo/demo.bpf.o"));
    let progs = |v: &serde_json::Value| v["programs"].as_array().unwrap().len();
    let direct = bpfabi(&["inspect", libbpf_tools().join("biolatency.bpf.o").to_str().unwrap(), "--json"]);
    let dv: serde_json::Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert_eq!(progs(&objs[0]), progs(&dv["objects"][0]));
    let k = kernel_dir("6.12.117-1");
    let o = bpfabi(&["check", deb_s, "--kernel", k.to_str().unwrap(), "--json"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d: serde_json::Value = serde_json::from_slice(
        &bpfabi(&["check", libbpf_tools().join("biolatency.bpf.o").to_str().unwrap(), "--kernel", k.to_str().unwrap(), "--json"]).stdout,
    )
    .unwrap();
    let verdicts =
        |v: &serde_json::Value| v["results"].as_array().unwrap().iter().map(|r| (r["program"].to_string(), r["verdict"].to_string())).collect::<Vec<_>>();
    assert_eq!(verdicts(&v), verdicts(&d));
    // The census finds the same object in the package.
    let o = bpfabi(&["census", deb_s]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("1 distinct object"), "{}", stdout(&o));
}

#[test]
fn help_lists_only_the_formats_a_command_writes() {
    let o = bpfabi(&["lint", "--help"]);
    let help = stdout(&o);
    assert!(help.contains("[possible values: table, json]"), "{help}");
    assert!(!help.contains("sarif"), "{help}");
    let o = bpfabi(&["check", "--help"]);
    assert!(stdout(&o).contains("[possible values: table, json, jsonl, sarif, gnu, markdown]"), "{}", stdout(&o));
    let o = bpfabi(&["census", "suggest", "--help"]);
    assert!(!stdout(&o).contains("--json"), "{}", stdout(&o));
    let o = bpfabi(&["lint", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'sarif' for '--format <FORMAT>'"), "{}", stderr(&o));
    // A usage error the command finds names no input: no `bpfabi: error: bpfabi:`.
    let o = bpfabi(&["census"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("bpfabi: error: give PATHs"), "{}", stderr(&o));
}

#[test]
fn kernels_lists_and_prunes_the_cache() {
    let xdg = workdir("cli_inputs/xdg");
    let cache = xdg.join("bpfabi/debian");
    for (i, (release, version)) in [("6.1.0-55-amd64", "6.1.190-1"), ("6.1.0-57-amd64", "6.1.192-3"), ("6.1.0-56-amd64", "6.1.191-1")].iter().enumerate() {
        let d = cache.join("kernels").join(release);
        std::fs::create_dir_all(&d).unwrap();
        let meta = serde_json::json!({"kernel_release": release, "arch": "amd64", "suite": "bookworm", "packages": [{"name": format!("linux-image-{release}"), "version": version}]});
        std::fs::write(d.join("meta.json"), meta.to_string()).unwrap();
        std::fs::write(d.join("vmlinux.btf"), vec![0u8; 1 << 20]).unwrap();
        let f = std::fs::File::options().write(true).open(d.join("meta.json")).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(i as u64 + 1)).unwrap();
        std::fs::create_dir_all(cache.join("debs")).unwrap();
        std::fs::write(cache.join("debs").join(format!("linux-image-{release}_{version}_amd64.deb")), vec![0u8; 1 << 20]).unwrap();
    }
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(args).env("XDG_CACHE_HOME", &xdg).env("BPFABI_OFFLINE", "1").output().unwrap();
    let o = run(&["kernels", "--list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(": 3 kernels, "), "{}", stdout(&o));
    let o = run(&["kernels", "--prune", "--keep", "2", "--dry-run"]);
    assert!(
        stdout(&o).starts_with(
            "would remove kernel 6.1.0-55-amd64 (amd64, bookworm, 1.0 MiB)\nwould remove package linux-image-6.1.0-55-amd64_6.1.190-1_amd64.deb (1.0 MiB)\n"
        ),
        "{}",
        stdout(&o)
    );
    assert!(cache.join("kernels/6.1.0-55-amd64").is_dir());
    let o = run(&["kernels", "--prune", "--keep", "2", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pruned"]["kernels"][0]["kernel_release"], "6.1.0-55-amd64");
    assert_eq!(v["cached"].as_array().unwrap().len(), 2);
    assert!(!cache.join("kernels/6.1.0-55-amd64").exists());
    // 3 MiB: the kernel extracted longest ago (6.1.0-57) goes.
    let o = run(&["kernels", "--prune", "--max-size", "3M"]);
    assert!(stdout(&o).starts_with("removed kernel 6.1.0-57-amd64"), "{}", stdout(&o));
    assert!(stdout(&o).contains(": 1 kernel, "), "{}", stdout(&o));
    let o = run(&["kernels", "--prune", "--max-size", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["kernels", "--keep", "1"]);
    assert_eq!(o.status.code(), Some(2), "--keep needs --prune");
}

/// 6.1 registers `bpf_kfunc_call_test*` in vmlinux (net/bpf/test_run.c);
/// later kernels moved them to bpf_testmod: their removal is info.
#[test]
fn diff_grades_test_kfuncs_as_info() {
    if !have_corpus() {
        return;
    }
    let o = bpfabi(&["diff", kernel_dir("6.1.192-2").to_str().unwrap(), kernel_dir("6.12.117-1").to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    let changes = v["changes"].as_array().unwrap();
    let tests: Vec<&serde_json::Value> = changes.iter().filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with("bpf_kfunc_call_test"))).collect();
    assert!(!tests.is_empty(), "6.1 has test kfuncs 6.12 does not");
    for c in tests {
        assert_eq!(c["severity"], "info", "{c}");
    }
    assert!(changes.iter().any(|c| c["severity"] == "breaking"), "other removals stay breaking");
}

#[test]
fn an_unknown_rodata_name_is_an_error_listing_the_variables() {
    if !have_corpus() {
        return;
    }
    let obj = libbpf_tools().join("biolatency.bpf.o");
    let k = kernel_dir("6.12.117-1");
    let o = bpfabi(&["check", obj.to_str().unwrap(), "--kernel", k.to_str().unwrap(), "--rodata", "targ_ms=1", "--rodata", "targ_msec=1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert_eq!(
        stderr(&o).trim_end(),
        "bpfabi: error: --rodata: no object has a .rodata variable `targ_msec`; their .rodata variables: filter_cg, filter_dev, targ_dev, targ_ms, targ_per_disk, targ_per_flag, targ_queued"
    );
    let o = bpfabi(&["check", obj.to_str().unwrap(), "--kernel", k.to_str().unwrap(), "--rodata", "targ_ms=1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A census without kfunc calls: the report says so instead of printing
/// empty kfunc tables.
#[test]
fn census_report_hides_empty_kfunc_tables() {
    if !have_corpus() {
        return;
    }
    let w = workdir("cli_inputs/report");
    let census = w.join("census.json");
    let o = bpfabi(&[
        "census",
        "--json",
        "-o",
        census.to_str().unwrap(),
        "--store",
        w.join("store").to_str().unwrap(),
        libbpf_tools().join("biolatency.bpf.o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let site = w.join("site");
    let o = bpfabi(&[
        "report",
        "--census",
        census.to_str().unwrap(),
        "--store",
        w.join("store").to_str().unwrap(),
        "-o",
        site.to_str().unwrap(),
        kernel_dir("6.12.117-1").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(site.join("summary.md")).unwrap();
    assert!(!md.contains("| kfunc | projects"), "{md}");
    assert!(md.contains("## Most used kfuncs\n\nNo object of the census calls a kfunc.\n"), "{md}");
    assert!(md.contains("| helper | objects | unguarded |"), "{md}");
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!html.contains("id=\"timeline-used\"") && !html.contains("id=\"removal\""), "empty kfunc tables");
    assert!(html.contains("No object of the census calls a kfunc."));
}

/// The kfunc pages' timeline shows change details with code spans, not
/// literal backticks.
#[test]
fn policy_timeline_renders_code_spans() {
    if !have_corpus() {
        return;
    }
    let w = workdir("cli_inputs/policy");
    let (k1, k2) = (kernel_dir("6.1.192-2"), kernel_dir("6.12.117-1"));
    let m = w.join("m.toml");
    let o = bpfabi(&["policy", "init", "--no-modules", "-o", m.to_str().unwrap(), k1.to_str().unwrap(), k2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let site = w.join("site");
    let o = bpfabi(&[
        "policy",
        "docs",
        "--no-modules",
        "--manifest",
        m.to_str().unwrap(),
        "-o",
        site.to_str().unwrap(),
        k1.to_str().unwrap(),
        k2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut coded = 0;
    for e in std::fs::read_dir(site.join("kfunc")).unwrap() {
        let html = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let Some(t) = html.split("<th>detail</th>").nth(1) else { continue };
        let t = t.split("</table>").next().unwrap();
        assert!(!t.contains('`'), "literal backticks: {t}");
        coded += t.matches("<code>").count();
    }
    assert!(coded > 0, "some timeline detail names a prototype");
}

/// An arm64 kernel is refused before QEMU starts (it used to boot in
/// qemu-system-x86_64 and fail after 9 s of emulation).
#[test]
fn vmtest_refuses_another_architecture_up_front() {
    let t = workdir("cli_inputs/armtree");
    std::fs::create_dir_all(t.join("boot")).unwrap();
    let mut img = vec![0u8; 4096];
    img[0x38..0x3c].copy_from_slice(b"ARM\x64");
    std::fs::write(t.join("boot/vmlinuz-6.12.118+deb13-arm64"), img).unwrap();
    std::fs::write(t.join("x.bpf.o"), foreign_bpf_elf()).unwrap();
    let start = std::time::Instant::now();
    let o = bpfabi(&["vmtest", "--kernel", t.to_str().unwrap(), "--no-modules", "--no-probe", t.join("x.bpf.o").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    if cfg!(feature = "libbpf") || stderr(&o).contains("arm64") {
        assert!(stderr(&o).contains("6.12.118+deb13-arm64 is an arm64 kernel; vmtest boots amd64 kernels only"), "{}", stderr(&o));
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// vmtest shows a spinner on a terminal (a pty from util-linux `script`)
/// while the VM boots, and nothing when stderr is not a terminal. The
/// kernel is a bzImage header with nothing behind it: QEMU fails quickly.
#[test]
fn vmtest_shows_progress_on_a_terminal_only() {
    let have = |c: &str, a: &str| Command::new(c).arg(a).output().is_ok_and(|o| o.status.success());
    if !have("script", "--version") || !have("qemu-system-x86_64", "--version") {
        eprintln!("skipped: needs script (util-linux) and qemu-system-x86_64");
        return;
    }
    let t = workdir("cli_inputs/x86tree");
    std::fs::create_dir_all(t.join("boot")).unwrap();
    let mut img = vec![0u8; 8192];
    img[0x202..0x206].copy_from_slice(b"HdrS");
    std::fs::write(t.join("boot/vmlinuz-6.1.0-57-amd64"), img).unwrap();
    std::fs::write(t.join("x.bpf.o"), foreign_bpf_elf()).unwrap();
    let args = format!("vmtest --kernel {} --no-modules --no-probe --accel tcg --vm-timeout 20 {}", t.display(), t.join("x.bpf.o").display());
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let o = Command::new("script").args(["-qfec", &format!("{bin} {args}"), "/dev/null"]).output().unwrap();
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(tty.contains("vmtest 6.1.0-57-amd64 booting"), "{tty}");
    let o = bpfabi(&args.split(' ').collect::<Vec<_>>());
    assert!(!stderr(&o).contains("booting"), "{}", stderr(&o));
}
