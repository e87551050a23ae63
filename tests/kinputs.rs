//! Kernel inputs that used to fail or mislead: a module BTF file alone, a
//! `.BTF_ids` of another kernel, releases (explicit sysfs, `--release`
//! validation and precedence), the running kernel's missing `.BTF_ids`,
//! packages without a kernel, unpacked kernel trees, `.BTF_ids` without
//! kfunc sets, and `lint` over the corpus kernels.
//!
//! Real Debian packages (`xdp-tools`, the `linux-image-cloud-amd64` meta
//! package, a cloud kernel) are used when `BPFABI_DEBS` names a directory
//! holding them (.ci/run downloads them into the cache).

mod common;
use bpfabi::kernel::{self, ImageLookup, LoadOptions, NoteKind};
use bpfabi::lint::{self, Code};
use bpfabi::surface;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const K: &str = "6.12.117-1";
const RELEASE: &str = "6.12.117+deb13-amd64";

fn workdir(name: &str) -> PathBuf {
    common::workdir(&format!("kinputs/{name}"))
}

/// A linked ELF with the corpus kernel's .BTF and .BTF_ids (what a vmlinux
/// offers bpfabi), at `out`.
fn make_vmlinux(dir: &Path, kernel: &str, out: &Path) {
    let src = dir.join("start.c");
    std::fs::write(&src, "void _start(void) {}\n").unwrap();
    let obj = dir.join("start.o");
    run(Command::new("gcc").args(["-c", "-O2", "-fno-pic"]).arg(&src).arg("-o").arg(&obj));
    let exe = dir.join("vmlinux.bare");
    run(Command::new("ld").arg("-o").arg(&exe).arg(&obj).args(["-e", "_start"]));
    let kd = kernel_dir(kernel);
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    run(Command::new("objcopy")
        .arg(format!("--add-section=.BTF={}", kd.join("vmlinux.btf").display()))
        .arg(format!("--add-section=.BTF_ids={}", kd.join("vmlinux.btf_ids").display()))
        .arg(&exe)
        .arg(out));
}

/// A module object with the corpus module's .BTF/.BTF_ids and a vermagic.
fn make_ko(dir: &Path, module: &str, out: &Path) {
    let src = dir.join(format!("{module}.c"));
    std::fs::write(&src, "int init_module(void) { return 0; }\n").unwrap();
    let obj = dir.join(format!("{module}.o"));
    run(Command::new("gcc").args(["-c", "-O2"]).arg(&src).arg("-o").arg(&obj));
    let info = dir.join(format!("{module}.modinfo"));
    std::fs::write(&info, format!("license=GPL\0name={module}\0vermagic={RELEASE} SMP mod_unload \0")).unwrap();
    let md = kernel_dir(K).join("modules");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    run(Command::new("objcopy")
        .arg(format!("--add-section=.BTF={}", md.join(format!("{module}.btf")).display()))
        .arg(format!("--add-section=.BTF_ids={}", md.join(format!("{module}.btf_ids")).display()))
        .arg(format!("--add-section=.modinfo={}", info.display()))
        .arg(&obj)
        .arg(out));
}

// ---- item 2: a module BTF file alone ----

#[test]
fn module_btf_alone_finds_its_vmlinux() {
    if !common::have_corpus() {
        return;
    }
    let m = kernel_dir(K).join("modules/nf_conntrack.btf");
    let k = kernel::load(std::slice::from_ref(&m), &LoadOptions::default()).unwrap();
    assert_eq!(k.vmlinux.origin, kernel_dir(K).join("vmlinux.btf").display().to_string());
    assert_eq!(k.modules.len(), 1);
    assert_eq!(k.release.as_deref(), Some(RELEASE));
    let s = surface::of(&k);
    let ct: Vec<&str> = s.kfuncs.iter().filter(|f| f.module.as_deref() == Some("nf_conntrack")).map(|f| f.name.as_str()).collect();
    assert!(ct.contains(&"bpf_ct_release") && ct.contains(&"bpf_skb_ct_lookup"), "{ct:?}");

    // Alone in a directory: the error says where it looked.
    let d = workdir("lonely");
    std::fs::copy(&m, d.join("nf_conntrack.btf")).unwrap();
    let e = kernel::load(&[d.join("nf_conntrack.btf")], &LoadOptions::default()).unwrap_err();
    assert!(e.what.starts_with("module (split) BTF needs the vmlinux BTF it was built against"), "{e}");
    assert!(e.what.contains(&format!("looked for {}", d.join("vmlinux.btf").display())), "{e}");
}

// ---- item 5: .BTF_ids of another kernel ----

#[test]
fn btf_ids_of_another_kernel_are_refused() {
    if !common::have_corpus() {
        return;
    }
    let with_ids = ["5.10.223-1", "6.1.192-2", "6.12.95-1~bpo12+1", "6.12.117-1"];
    for ids in with_ids {
        for btf in with_ids {
            let opts = LoadOptions { btf_ids: Some(kernel_dir(ids).join("vmlinux.btf_ids")), ..Default::default() };
            let r = kernel::load(&[kernel_dir(btf).join("vmlinux.btf")], &opts);
            if ids == btf {
                r.unwrap_or_else(|e| panic!("{ids} on its own BTF: {e}"));
            } else {
                let e = r.expect_err(&format!("{ids} .BTF_ids on {btf} BTF accepted"));
                assert!(e.what.starts_with("this .BTF_ids does not belong to"), "{e}");
            }
        }
    }
    // The case of the issue: 6.1's ids with 6.12's BTF gave 140 kfuncs.
    let opts = LoadOptions { btf_ids: Some(kernel_dir("6.1.192-2").join("vmlinux.btf_ids")), ..Default::default() };
    let e = kernel::load(&[kernel_dir(K).join("vmlinux.btf")], &opts).unwrap_err();
    assert!(e.to_string().contains("9 of 11 id sets in it name types that are not FUNCs of this BTF"), "{e}");
    // Module sibling files are checked too: every corpus module is accepted.
    for k in KERNELS {
        load_dir(k);
    }
}

// ---- item 6: releases ----

#[test]
fn release_validation_and_precedence() {
    if !common::have_corpus() {
        return;
    }
    for bad in ["banana", "6", "6.x", "", "6.1.0 amd64", "99.1"] {
        assert!(kernel::validate_release(bad).is_err(), "{bad:?} accepted");
    }
    for good in ["6.1.0", "6.1.0-56-amd64", "6.12.117+deb13-amd64", "5.10.0-32-amd64", "6.12.95+deb12-cloud-amd64"] {
        kernel::validate_release(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    let e = kernel::load(&[kernel_dir(K)], &LoadOptions { release: Some("banana".into()), ..Default::default() }).unwrap_err();
    assert_eq!(e.file, "--release");
    // The input states its release: --release does not override it.
    let k = kernel::load(&[kernel_dir(K)], &LoadOptions { release: Some("6.1.0".into()), ..Default::default() }).unwrap();
    assert_eq!(k.release.as_deref(), Some(RELEASE));
    assert!(k.note(NoteKind::ReleaseIgnored).unwrap().starts_with("--release 6.1.0 ignored"));
    let s = surface::of(&k);
    assert!(s.kfuncs.iter().all(|f| f.flags.iter().all(|x| !x.starts_with("KF_BIT_"))));
    // Where the input says nothing, it is used.
    let d = workdir("norelease");
    std::fs::copy(kernel_dir(K).join("vmlinux.btf"), d.join("vmlinux.btf")).unwrap();
    let k = kernel::load(&[d.join("vmlinux.btf")], &LoadOptions { release: Some("6.12.117".into()), ..Default::default() }).unwrap();
    assert_eq!(k.release.as_deref(), Some("6.12.117"));
    assert!(k.note(NoteKind::ReleaseIgnored).is_none());
}

#[test]
fn sysfs_vmlinux_named_explicitly_keeps_its_release() {
    let p = Path::new("/sys/kernel/btf/vmlinux");
    if !p.exists() {
        eprintln!("skipped: no /sys/kernel/btf/vmlinux on this machine");
        return;
    }
    let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap().trim().to_string();
    let k = kernel::load(&[p.to_path_buf()], &LoadOptions::default()).unwrap();
    assert_eq!(k.release.as_deref(), Some(uname.as_str()));
    assert_eq!(k.label(), uname);
    let s = surface::of(&k);
    assert!(!s.kernel.version_assumed);
}

// ---- item 7: the running kernel's .BTF_ids ----

#[test]
fn running_kernel_btf_ids_from_its_image() {
    if !common::have_corpus() {
        return;
    }
    let d = workdir("root");
    let btf = load_dir(K).vmlinux.btf;
    // No image: every place looked at is named.
    match kernel::btf_ids_from_image(&btf, &d, RELEASE, &LoadOptions::default()) {
        ImageLookup::NotFound { looked } => assert_eq!(looked[0], d.join(format!("boot/vmlinuz-{RELEASE}"))),
        other => panic!("{other:?}"),
    }
    // The image of the same build: its .BTF_ids are taken.
    make_vmlinux(&d, K, &d.join(format!("usr/lib/modules/{RELEASE}/vmlinuz")));
    match kernel::btf_ids_from_image(&btf, &d, RELEASE, &LoadOptions::default()) {
        ImageLookup::Found { path, btf_ids } => {
            assert_eq!(path, d.join(format!("usr/lib/modules/{RELEASE}/vmlinuz")));
            assert_eq!(btf_ids.as_slice(), std::fs::read(kernel_dir(K).join("vmlinux.btf_ids")).unwrap());
        }
        other => panic!("{other:?}"),
    }
    // Another build's image is not used, and says why.
    let other = load_dir("6.12.95-1~bpo12+1").vmlinux.btf;
    match kernel::btf_ids_from_image(&other, &d, RELEASE, &LoadOptions::default()) {
        ImageLookup::Unusable { images } => assert!(images[0].1.contains("differs from the running kernel's"), "{images:?}"),
        other => panic!("{other:?}"),
    }
    // On this machine: either flags come from the image, or one note says why not.
    if Path::new("/sys/kernel/btf/vmlinux").exists() {
        let k = kernel::load_running(&LoadOptions::default()).unwrap();
        let s = surface::of(&k);
        if k.vmlinux.btf_ids.is_none() {
            let n = k.note(NoteKind::BtfIdsMissing).unwrap();
            assert!(n.starts_with("KF_* flags unknown: /sys/kernel/btf has no .BTF_ids"), "{n}");
            assert!(n.contains("--btf-ids") && n.contains("/boot/vmlinuz-"), "{n}");
            assert!(s.kfuncs.iter().all(|f| !f.flags_known));
        } else {
            assert!(k.note(NoteKind::BtfIdsSource).is_some());
        }
    }
}

// ---- item 11: packages without a kernel ----

fn build_deb(d: &Path, control: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let root = d.join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(root.join("DEBIAN/control"), control).unwrap();
    for (p, data) in files {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, data).unwrap();
    }
    let deb = d.join("pkg.deb");
    run(Command::new("dpkg-deb").args(["--root-owner-group", "-Z", "xz", "--build"]).arg(&root).arg(&deb));
    deb
}

#[test]
fn package_without_a_kernel_is_named() {
    let d = workdir("meta");
    let deb = build_deb(
        &d,
        "Package: linux-image-test-amd64\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDepends: linux-image-6.1.0-57-test-amd64 (= 1.0)\nDescription: meta\n",
        &[("usr/share/doc/linux-image-test-amd64/README", b"meta\n")],
    );
    let e = kernel::load(&[deb], &LoadOptions::default()).unwrap_err();
    assert_eq!(
        e.what,
        "package linux-image-test-amd64 1.0 holds no kernel: no boot/vmlinuz-*, boot/vmlinux-* or lib/modules/*/vmlinuz image and no lib/modules/*/**/*.ko* modules; it is a meta package depending on `linux-image-6.1.0-57-test-amd64 (= 1.0)`: read that package instead"
    );
    let d = workdir("tool");
    let deb = build_deb(
        &d,
        "Package: some-tool\nVersion: 2.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: does things\n",
        &[("usr/bin/some-tool", b"#!/bin/sh\n")],
    );
    let e = kernel::load(&[deb], &LoadOptions::default()).unwrap_err();
    assert!(e.what.starts_with("package some-tool 2.0 holds no kernel") && e.what.ends_with("(it is: does things)"), "{e}");
}

fn debs() -> Option<PathBuf> {
    let d = PathBuf::from(std::env::var_os("BPFABI_DEBS")?);
    d.is_dir().then_some(d)
}

fn find_deb(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(|f| f.starts_with(prefix) && f.ends_with(".deb")))
        .collect();
    v.sort();
    v.pop()
}

#[test]
fn real_packages_without_a_kernel() {
    let Some(dir) = debs() else {
        eprintln!("skipped: BPFABI_DEBS not set (a directory with xdp-tools_*.deb and linux-image-cloud-amd64_*.deb)");
        return;
    };
    if let Some(deb) = find_deb(&dir, "xdp-tools_") {
        let e = kernel::load(&[deb], &LoadOptions::default()).unwrap_err();
        assert!(e.what.starts_with("package xdp-tools 1.3.1-1 holds no kernel"), "{e}");
    }
    if let Some(deb) = find_deb(&dir, "linux-image-cloud-amd64_") {
        let e = kernel::load(&[deb], &LoadOptions::default()).unwrap_err();
        assert!(e.what.contains("it is a meta package depending on `linux-image-"), "{e}");
    }
}

// ---- item 12: unpacked trees ----

#[test]
fn unpacked_kernel_tree() {
    if !common::have_corpus() {
        return;
    }
    let d = workdir("tree");
    let root = d.join("root");
    make_vmlinux(&d, K, &root.join(format!("boot/vmlinuz-{RELEASE}")));
    std::fs::write(root.join(format!("boot/config-{RELEASE}")), "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_PAHOLE_VERSION=130\n").unwrap();
    let md = root.join(format!("lib/modules/{RELEASE}/kernel/net/netfilter"));
    let ko = d.join("nf_conntrack.ko");
    make_ko(&d, "nf_conntrack", &ko);
    std::fs::create_dir_all(&md).unwrap();
    let xz = Command::new("xz").args(["-1", "-c"]).arg(&ko).output().unwrap();
    std::fs::write(md.join("nf_conntrack.ko.xz"), xz.stdout).unwrap();
    make_ko(&d, "tcp_bbr", &root.join(format!("lib/modules/{RELEASE}/kernel/net/ipv4/tcp_bbr.ko")));
    let k = kernel::load(std::slice::from_ref(&root), &LoadOptions::default()).unwrap();
    assert_eq!(k.release.as_deref(), Some(RELEASE));
    assert_eq!(k.modules.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["nf_conntrack", "tcp_bbr"]);
    assert!(k.info.config.as_deref().unwrap().contains("CONFIG_PAHOLE_VERSION=130"));
    let mut want = load_dir(K);
    want.modules.retain(|m| m.name == "nf_conntrack" || m.name == "tcp_bbr");
    let key = |s: &surface::Surface| s.kfuncs.iter().map(|f| (f.name.clone(), f.module.clone(), f.flags.clone())).collect::<Vec<_>>();
    assert_eq!(key(&surface::of(&k)), key(&surface::of(&want)));
    // A module of the tree alone finds the tree's image.
    let k = kernel::load(&[md.join("nf_conntrack.ko.xz")], &LoadOptions::default()).unwrap();
    assert_eq!(k.vmlinux.origin, root.join(format!("boot/vmlinuz-{RELEASE}")).display().to_string());
    // Two kernels: --release picks one, without it the error lists them.
    std::fs::create_dir_all(root.join("lib/modules/6.1.0-56-amd64")).unwrap();
    let e = kernel::load(std::slice::from_ref(&root), &LoadOptions::default()).unwrap_err();
    assert_eq!(e.what, format!("several kernels in this tree (6.1.0-56-amd64, {RELEASE}): pick one with --release"));
    let k = kernel::load(std::slice::from_ref(&root), &LoadOptions { release: Some(RELEASE.into()), ..Default::default() }).unwrap();
    assert_eq!(k.modules.len(), 2);
    let e = kernel::load(std::slice::from_ref(&root), &LoadOptions { release: Some("6.1.0-56-amd64".into()), ..Default::default() }).unwrap_err();
    assert!(e.what.starts_with("kernel 6.1.0-56-amd64: no image (looked for "), "{e}");
}

#[test]
fn root_file_system_with_the_running_release() {
    let Ok(uname) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else { return };
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: no /sys/kernel/btf/vmlinux");
        return;
    }
    let opts = LoadOptions { release: Some(uname.trim().into()), modules: false, ..Default::default() };
    let k = kernel::load(&[PathBuf::from("/")], &opts).unwrap();
    assert_eq!(k.release.as_deref(), Some(uname.trim()));
}

// ---- item 13: .BTF_ids without kfunc sets ----

#[test]
fn btf_ids_without_kfunc_sets_are_reported_as_present() {
    if !common::have_corpus() {
        return;
    }
    let s = surface::of(&load_dir("5.10.223-1"));
    assert_eq!(s.discovery.btf_ids, "no_kfunc_sets");
    assert_eq!(s.discovery.btf_ids_bytes, 1088);
    let mut t = Vec::new();
    bpfabi::report::surface::table(&mut t, &s, true, true).unwrap();
    let t = String::from_utf8(t).unwrap();
    assert!(t.lines().next().unwrap().ends_with(".BTF_ids present (1088 bytes), no kfunc set8 records"), "{t}");
    let s = surface::of(&load_dir("live-6.18"));
    assert_eq!(s.discovery.btf_ids, "absent");
    assert!(s.notes[0].text.contains("is raw BTF with no"));
}

// ---- lint over the corpus ----

#[test]
fn lint_real_kernels() {
    if !common::have_corpus() {
        return;
    }
    let l = lint::lint(&load_dir("6.12.95-1~bpo12+1"));
    let f = l.findings.iter().find(|f| f.code == Code::KfuncDeclTagsMissing).unwrap();
    assert_eq!(f.message, "162 kfuncs in .BTF_ids kfunc sets, 0 bpf_kfunc decl tags (built with pahole 1.24 (decl tags need pahole >= 1.27)): `bpftool btf dump ... format c` lists no kfunc prototypes");
    assert_eq!(l.failing(), 1);
    // The same kernel built with pahole 1.30 has all its tags.
    let l = lint::lint(&load_dir(K));
    assert_eq!(l.failing(), 0, "{:?}", l.findings);
    assert_eq!(l.facts.pahole_version, Some(130));
    let implicit: Vec<&str> = l.findings.iter().filter(|f| f.code == Code::KfuncImplicitArgs).filter_map(|f| f.subject.as_deref()).collect();
    assert!(implicit.contains(&"bpf_obj_new_impl") && implicit.contains(&"bpf_wq_set_callback_impl"), "{implicit:?}");
    // 6.1's modules on 6.12.117's vmlinux: every module is flagged.
    let d = workdir("mixed");
    let mut inputs = vec![kernel_dir(K).join("vmlinux.btf")];
    for m in ["nf_conntrack", "tcp_bbr", "mlx5_core"] {
        let p = d.join(format!("{m}.btf"));
        std::fs::copy(kernel_dir("6.1.192-2").join(format!("modules/{m}.btf")), &p).unwrap();
        inputs.push(p);
    }
    let k = kernel::load(&inputs, &LoadOptions { keep_bad_modules: true, ..Default::default() }).unwrap();
    let l = lint::lint(&k);
    let bad: Vec<&str> = l.findings.iter().filter(|f| f.code == Code::ModuleBaseMismatch).map(|f| f.origin.as_str()).collect();
    assert_eq!(bad, ["mlx5_core", "nf_conntrack", "tcp_bbr"]);
    // Every corpus kernel lints without module mismatches.
    for k in KERNELS {
        let l = lint::lint(&load_dir(k));
        assert!(l.findings.iter().all(|f| f.code != Code::ModuleBaseMismatch && f.code != Code::BtfIdsNotFunc), "{k}: {:?}", l.findings);
    }
}
