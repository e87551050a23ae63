//! Every kernel input form gives the same surface as the corpus directory
//! it was built from: a vmlinux ELF, bzImages with each payload compression
//! (xz with the x86 BCJ filter as Debian uses), modules as `.ko` and
//! compressed `.ko.*`, and a Debian package holding them. The artefacts are
//! made at test time from the corpus's real BTF with the standard tools
//! (gcc/ld/objcopy, xz, gzip, zstd, lz4, bzip2, dpkg-deb).

mod common;
use bpfabi::kernel::{self, LoadOptions};
use bpfabi::surface::{self, Surface};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const K: &str = "6.12.117-1";
const RELEASE: &str = "6.12.117+deb13-amd64";

/// A linked ELF executable carrying the corpus vmlinux's .BTF and .BTF_ids
/// and a Linux banner in .rodata: what a real vmlinux offers bpfabi.
fn make_vmlinux(dir: &Path) -> PathBuf {
    let src = dir.join("start.c");
    std::fs::write(
        &src,
        format!("const char linux_banner[] = \"Linux version {RELEASE} (debian-kernel@lists.debian.org) #1 SMP\\n\";\nvoid _start(void) {{}}\n"),
    )
    .unwrap();
    let obj = dir.join("start.o");
    run(Command::new("gcc").args(["-c", "-O2", "-fno-pic"]).arg(&src).arg("-o").arg(&obj));
    let exe = dir.join("vmlinux.bare");
    run(Command::new("ld").arg("-o").arg(&exe).arg(&obj).args(["-e", "_start"]));
    let kd = kernel_dir(K);
    let out = dir.join("vmlinux");
    run(Command::new("objcopy")
        .arg(format!("--add-section=.BTF={}", kd.join("vmlinux.btf").display()))
        .arg(format!("--add-section=.BTF_ids={}", kd.join("vmlinux.btf_ids").display()))
        .arg(&exe)
        .arg(&out));
    out
}

/// A relocatable module object with .BTF, .BTF_ids and .modinfo.
fn make_ko(dir: &Path, module: &str) -> PathBuf {
    let src = dir.join(format!("{module}.c"));
    std::fs::write(&src, "int init_module(void) { return 0; }\n").unwrap();
    let obj = dir.join(format!("{module}.o"));
    run(Command::new("gcc").args(["-c", "-O2"]).arg(&src).arg("-o").arg(&obj));
    let info = dir.join(format!("{module}.modinfo"));
    std::fs::write(&info, format!("license=GPL\0name={module}\0vermagic={RELEASE} SMP preempt mod_unload modversions \0")).unwrap();
    let md = kernel_dir(K).join("modules");
    let ko = dir.join(format!("{module}.ko"));
    let mut cmd = Command::new("objcopy");
    cmd.arg(format!("--add-section=.BTF={}", md.join(format!("{module}.btf")).display()));
    let ids = md.join(format!("{module}.btf_ids"));
    if ids.exists() {
        cmd.arg(format!("--add-section=.BTF_ids={}", ids.display()));
    }
    cmd.arg(format!("--add-section=.modinfo={}", info.display())).arg(&obj).arg(&ko);
    run(&mut cmd);
    ko
}

/// Compress `file` with `tool args` into `out`.
fn compress(tool: &str, args: &[&str], file: &Path, out: &Path) {
    let o = Command::new(tool).args(args).arg("-c").arg(file).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(o.status.success(), "{tool}: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, o.stdout).unwrap();
}

/// An x86 bzImage around a compressed payload (boot protocol 2.15 header).
fn make_bzimage(payload: &[u8], uncompressed_len: u32) -> Vec<u8> {
    let setup_sects = 1usize;
    let mut img = vec![0u8; (setup_sects + 1) * 512];
    img[0x1f1] = setup_sects as u8;
    img[0x202..0x206].copy_from_slice(b"HdrS");
    img[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    let version = format!("{RELEASE} (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1\0");
    img[0x300..0x300 + version.len()].copy_from_slice(version.as_bytes());
    img[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
    // The kernel build appends the uncompressed size after the payload.
    let mut p = payload.to_vec();
    p.extend_from_slice(&uncompressed_len.to_le_bytes());
    img[0x248..0x24c].copy_from_slice(&0u32.to_le_bytes());
    img[0x24c..0x250].copy_from_slice(&(p.len() as u32).to_le_bytes());
    img.extend_from_slice(&p);
    img
}

fn assert_same_surface(got: &Surface, want: &Surface, what: &str) {
    let key = |s: &Surface| -> Vec<(String, Option<String>, String, Vec<String>)> {
        s.kfuncs.iter().map(|k| (k.name.clone(), k.module.clone(), k.proto.to_string(), k.flags.clone())).collect()
    };
    assert_eq!(key(got), key(want), "{what}: kfuncs differ");
    assert_eq!(got.helpers.len(), want.helpers.len(), "{what}: helpers differ");
    assert_eq!(got.kernel.release.as_deref(), Some(RELEASE), "{what}: release");
}

fn reference(with_modules: &[&str]) -> Surface {
    let mut k = load_dir(K);
    k.modules.retain(|m| with_modules.contains(&m.name.as_str()));
    surface::of(&k)
}

#[test]
fn vmlinux_elf_and_modules_as_ko() {
    if !common::have_corpus() {
        return;
    }
    let d = workdir("elf");
    let vmlinux = make_vmlinux(&d);
    let opts = LoadOptions::default();
    let s = surface::of(&kernel::load(std::slice::from_ref(&vmlinux), &opts).unwrap());
    assert_same_surface(&s, &reference(&[]), "vmlinux ELF");

    let ko = make_ko(&d, "nf_conntrack");
    let xz = d.join("nf_conntrack.ko.xz");
    compress("xz", &["-1"], &ko, &xz);
    let zst = d.join("tcp_bbr.ko.zst");
    compress("zstd", &["-q", "-1"], &make_ko(&d, "tcp_bbr"), &zst);
    let gz = d.join("fou.ko.gz");
    compress("gzip", &["-1"], &make_ko(&d, "fou"), &gz);
    let k = kernel::load(&[vmlinux, ko, xz.clone(), zst, gz], &opts);
    // nf_conntrack given twice (plain and .xz) is fine: both are the same module.
    let k = k.unwrap();
    assert_eq!(k.modules.iter().filter(|m| m.name == "nf_conntrack").count(), 2);
    let mut k2 = k.clone();
    k2.modules.dedup_by(|a, b| a.name == b.name);
    assert_same_surface(&surface::of(&k2), &reference(&["nf_conntrack", "tcp_bbr", "fou"]), ".ko modules");
}

#[test]
fn bzimage_with_every_payload_compression() {
    if !common::have_corpus() {
        return;
    }
    let d = workdir("bzimage");
    let vmlinux = make_vmlinux(&d);
    let elf_len = std::fs::metadata(&vmlinux).unwrap().len() as u32;
    let want = reference(&[]);
    // (tool, args): xz with the x86 BCJ filter, as Debian's kernels use.
    let cases: &[(&str, &[&str])] = &[
        ("xz", &["--format=xz", "--check=crc32", "--x86", "--lzma2=preset=0"]),
        ("gzip", &["-1"]),
        ("zstd", &["-q", "-1"]),
        ("lz4", &["-q", "-l"]),
        ("lzma", &["-0"]),
        ("bzip2", &["-1"]),
    ];
    for (tool, args) in cases {
        let c = d.join(format!("payload.{tool}"));
        compress(tool, args, &vmlinux, &c);
        let img = d.join(format!("vmlinuz-{tool}"));
        std::fs::write(&img, make_bzimage(&std::fs::read(&c).unwrap(), elf_len)).unwrap();
        let k = kernel::load(&[img], &LoadOptions::default()).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_same_surface(&surface::of(&k), &want, &format!("bzImage/{tool}"));
    }
}

#[test]
fn debian_package_with_vmlinuz_and_modules() {
    if !common::have_corpus() {
        return;
    }
    let d = workdir("deb");
    let vmlinux = make_vmlinux(&d);
    let c = d.join("payload.xz");
    compress("xz", &["--format=xz", "--check=crc32", "--x86", "--lzma2=preset=0"], &vmlinux, &c);
    let root = d.join("root");
    let boot = root.join("boot");
    let moddir = root.join(format!("lib/modules/{RELEASE}/kernel/net/netfilter"));
    std::fs::create_dir_all(&boot).unwrap();
    std::fs::create_dir_all(&moddir).unwrap();
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    let len = std::fs::metadata(&vmlinux).unwrap().len() as u32;
    std::fs::write(boot.join(format!("vmlinuz-{RELEASE}")), make_bzimage(&std::fs::read(&c).unwrap(), len)).unwrap();
    compress("xz", &["-1"], &make_ko(&d, "nf_conntrack"), &moddir.join("nf_conntrack.ko.xz"));
    compress("zstd", &["-q", "-1"], &make_ko(&d, "nf_nat"), &moddir.join("nf_nat.ko.zst"));
    // A module without BTF is skipped, not an error.
    let plain = d.join("plain.o");
    std::fs::write(d.join("plain.c"), "int x;\n").unwrap();
    run(Command::new("gcc").arg("-c").arg(d.join("plain.c")).arg("-o").arg(&plain));
    std::fs::copy(&plain, moddir.join("plain.ko")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: linux-image-{RELEASE}-unsigned\nVersion: 6.12.117-1\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: test kernel\n"
        ),
    )
    .unwrap();
    for z in ["xz", "zstd", "gzip"] {
        let deb = d.join(format!("linux-image-{z}.deb"));
        run(Command::new("dpkg-deb").args(["--root-owner-group", "-Z", z, "--build"]).arg(&root).arg(&deb));
        let k = kernel::load(&[deb], &LoadOptions::default()).unwrap_or_else(|e| panic!("{z}: {e}"));
        assert_eq!(k.modules.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["nf_conntrack", "nf_nat"]);
        assert_same_surface(&surface::of(&k), &reference(&["nf_conntrack", "nf_nat"]), &format!(".deb/{z}"));
    }
}

#[test]
fn raw_section_files_and_directories() {
    if !common::have_corpus() {
        return;
    }
    let kd = kernel_dir(K);
    let opts = LoadOptions { btf_ids: Some(kd.join("vmlinux.btf_ids")), ..Default::default() };
    let modules = ["nf_conntrack", "fou"].map(|m| kd.join("modules").join(format!("{m}.btf")));
    let mut inputs = vec![kd.join("vmlinux.btf")];
    inputs.extend(modules);
    let k = kernel::load(&inputs, &opts).unwrap();
    assert_same_surface(&surface::of(&k), &reference(&["nf_conntrack", "fou"]), "raw sections");
    // Modules listed before their vmlinux work too.
    inputs.rotate_left(1);
    let k = kernel::load(&inputs, &opts).unwrap();
    assert_eq!(k.modules.len(), 2);
}

#[test]
fn sysfs_module_finds_its_base() {
    let Some(m) = std::fs::read_dir("/sys/kernel/btf")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.file_name().is_some_and(|f| f != "vmlinux")))
    else {
        eprintln!("no module BTF in /sys/kernel/btf on this machine");
        return;
    };
    let k = kernel::load(&[m], &LoadOptions::default()).unwrap();
    assert_eq!(k.modules.len(), 1);
    assert_eq!(k.vmlinux.origin, "/sys/kernel/btf/vmlinux");
}
