//! Real Debian kernels of every architecture, fetched and cached by
//! `scripts/fetch-arch-kernels` (not in git). Skipped unless
//! `BPFABI_ARCH_KERNELS` names the cache's `kernels/` directory;
//! `BPFABI_ARCH_DEBS` (its `debs/`) adds the no-BTF architectures.
//!
//! Each kernel is cross-checked against bpftool's view of the same BTF
//! (decl-tagged kfunc prototypes from `format c`, `enum bpf_func_id` from the
//! raw dump), its architecture detected from the release and from the BTF
//! must agree, and where decl tags exist the kfuncs read from `.BTF_ids`
//! (found by content in flat arm64/riscv64/s390x images) must be the same set.

mod common;
use bpfabi::kernel::arch::{Arch, KernelArch};
use bpfabi::kernel::{self, LoadOptions};
use bpfabi::surface::{self, Source};
use common::{bpftool, bpftool_kfunc_protos};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn kernels() -> Option<Vec<PathBuf>> {
    let Some(dir) = std::env::var_os("BPFABI_ARCH_KERNELS") else {
        eprintln!("skipped: BPFABI_ARCH_KERNELS not set (run scripts/fetch-arch-kernels)");
        return None;
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", PathBuf::from(&dir).display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("meta.json").is_file())
        .collect();
    v.sort();
    Some(v)
}

fn helpers_from_raw_dump(raw: &str) -> BTreeMap<u32, String> {
    let mut in_enum = false;
    let mut out = BTreeMap::new();
    for l in raw.lines() {
        if l.starts_with('[') {
            in_enum = l.contains("ENUM 'bpf_func_id'");
            continue;
        }
        if let Some(rest) = l.trim().strip_prefix("'BPF_FUNC_").filter(|_| in_enum) {
            let (name, val) = rest.split_once("' val=").unwrap();
            if name != "unspec" {
                out.insert(val.parse().unwrap(), format!("bpf_{name}"));
            }
        }
    }
    out
}

#[test]
fn every_architecture_matches_bpftool() {
    let Some(dirs) = kernels() else { return };
    let mut arches = BTreeSet::new();
    for dir in &dirs {
        let k = kernel::load(std::slice::from_ref(dir), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let label = k.label();
        let s = surface::of(&k);
        let vmlinux = dir.join("vmlinux.btf");
        let v = vmlinux.to_str().unwrap();

        // Architecture: release flavour and pt_regs agree.
        let ka = KernelArch::of(&k).unwrap_or_else(|| panic!("{label}: no architecture"));
        assert_eq!(Arch::from_btf(&k.vmlinux.btf), Some(ka.arch), "{label}: pt_regs says otherwise");
        assert_eq!(k.vmlinux.btf.endian() == bpfabi::bytes::Endian::Big, ka.arch.big_endian(), "{label}");
        arches.insert(ka.arch);

        // Helpers: enum bpf_func_id, as bpftool reads it.
        let ours: BTreeMap<u32, String> = s.helpers.iter().map(|h| (h.id, h.name.clone())).collect();
        let theirs = helpers_from_raw_dump(&bpftool(&["btf", "dump", "file", v]));
        assert!(!theirs.is_empty(), "{label}");
        assert_eq!(ours, theirs, "{label}: helpers differ from bpftool's");

        // Decl-tagged vmlinux kfuncs and their prototypes, as bpftool prints them.
        let tagged: BTreeSet<String> =
            s.kfuncs.iter().filter(|f| f.module.is_none() && f.sources.contains(&Source::DeclTag)).map(|f| f.proto.to_string()).collect();
        let expected = bpftool_kfunc_protos(&["file", v]);
        assert_eq!(tagged, expected, "{label}: decl-tagged kfunc prototypes differ from bpftool's");

        // Where decl tags exist, .BTF_ids (read by content from flat images
        // on arm64/riscv64/s390x) gives exactly the same vmlinux kfuncs.
        if !tagged.is_empty() {
            let by_tag: BTreeSet<&str> =
                s.kfuncs.iter().filter(|f| f.module.is_none() && f.sources.contains(&Source::DeclTag)).map(|f| f.name.as_str()).collect();
            let by_ids: BTreeSet<&str> =
                s.kfuncs.iter().filter(|f| f.module.is_none() && f.sources.contains(&Source::BtfIds)).map(|f| f.name.as_str()).collect();
            assert_eq!(by_tag, by_ids, "{label}: .BTF_ids and decl tags disagree");
            assert!(s.kfuncs.iter().filter(|f| f.module.is_none()).all(|f| f.flags_known), "{label}: flags unknown");
        }
        eprintln!(
            "{label}: {} arch {}, {} kfuncs ({} decl-tagged), {} helpers, {} modules",
            dir.display(),
            ka.arch.name(),
            s.kfuncs.len(),
            tagged.len(),
            ours.len(),
            k.modules.len()
        );
    }
    eprintln!("architectures checked: {arches:?}");
}

/// armhf and i386 Debian kernels have no BTF: reading their image says so.
#[test]
fn no_btf_architectures_say_so() {
    let Some(dir) = std::env::var_os("BPFABI_ARCH_DEBS") else {
        eprintln!("skipped: BPFABI_ARCH_DEBS not set");
        return;
    };
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("linux-image-") && (name.contains("-armmp_") || name.contains("-686-pae_"))) {
            continue;
        }
        let err = kernel::load(std::slice::from_ref(&p), &LoadOptions { modules: false, ..LoadOptions::default() }).expect_err(&name);
        assert!(err.to_string().contains("CONFIG_DEBUG_INFO_BTF"), "{name}: {err}");
        seen += 1;
    }
    eprintln!("{seen} no-BTF packages checked");
}

/// A package given directly carries its `boot/config-*`: the JIT facts come
/// from it (Debian's s390x kernels have no BPF JIT; amd64's has one).
#[test]
fn jit_config_from_a_package_given_directly() {
    let Some(dir) = std::env::var_os("BPFABI_ARCH_DEBS") else {
        eprintln!("skipped: BPFABI_ARCH_DEBS not set");
        return;
    };
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let expect_jit = if name.starts_with("linux-image-") && name.ends_with("_s390x.deb") {
            false
        } else if name.starts_with("linux-image-") && name.ends_with("_amd64.deb") && !name.contains("unsigned") {
            true
        } else {
            continue;
        };
        let k = kernel::load(std::slice::from_ref(&p), &LoadOptions { modules: false, ..LoadOptions::default() }).unwrap_or_else(|e| panic!("{e}"));
        let ka = KernelArch::of(&k).unwrap();
        let cfg = ka.config.unwrap_or_else(|| panic!("{name}: no config read from the package"));
        assert_eq!(cfg.jit, expect_jit, "{name}");
        seen += 1;
    }
    assert!(seen > 0, "no s390x/amd64 linux-image package in BPFABI_ARCH_DEBS");
}
