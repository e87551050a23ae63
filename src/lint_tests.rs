//! Each lint finding on synthetic BTF made with the test builder.

use super::{lint, Code, Severity};
use crate::btf::builder::Builder;
use crate::btf::{Btf, TypeId};
use crate::bytes::{Bytes, Endian};
use crate::kernel::{Kernel, KernelBtf, LoadInfo, ModuleWithoutBtf};
use std::sync::Arc;

fn set8(set_flags: u32, pairs: &[(TypeId, u32)]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    v.extend_from_slice(&set_flags.to_le_bytes());
    for &(id, f) in pairs {
        v.extend_from_slice(&id.get().to_le_bytes());
        v.extend_from_slice(&f.to_le_bytes());
    }
    v
}

fn kernel(b: &Builder, ids: Option<Vec<u8>>, release: &str) -> Kernel {
    let btf = Arc::new(Btf::parse(Bytes::from_vec(b.build())).unwrap());
    Kernel {
        release: Some(release.into()),
        inputs: vec!["synthetic".into()],
        vmlinux: KernelBtf { name: "vmlinux".into(), btf, btf_ids: ids.map(Bytes::from_vec), origin: "synthetic".into() },
        modules: vec![],
        info: LoadInfo::default(),
    }
}

fn codes(k: &Kernel) -> Vec<(Code, Severity, Option<String>)> {
    lint(k).findings.into_iter().map(|f| (f.code, f.severity, f.subject)).collect()
}

#[test]
fn kfunc_sets_without_decl_tags() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let p = b.func_proto(int, &[("a", int)]);
    let f = b.func("kf_one", p, 1);
    let g = b.func("kf_two", p, 1);
    let k = kernel(&b, Some(set8(1, &[(f, 0), (g, 0)])), "6.12.0");
    let l = lint(&k);
    assert_eq!(codes(&k), vec![(Code::KfuncDeclTagsMissing, Severity::Warning, None)]);
    assert!(l.findings[0].message.starts_with("2 kfuncs in .BTF_ids kfunc sets, 0 bpf_kfunc decl tags"), "{}", l.findings[0].message);
    assert_eq!(l.failing(), 1);
    // A kernel before 6.9 cannot have them: info only.
    let k = kernel(&b, Some(set8(0, &[(f, 0), (g, 0)])), "6.1.0");
    assert_eq!(codes(&k), vec![(Code::KfuncDeclTagsMissing, Severity::Info, None)]);
    // Tags on one kfunc but not the other: the untagged one is named.
    b.decl_tag("bpf_kfunc", f, -1);
    let k = kernel(&b, Some(set8(1, &[(f, 0), (g, 0)])), "6.12.0");
    assert_eq!(codes(&k), vec![(Code::KfuncDeclTagsMissing, Severity::Warning, Some("kf_two".into()))]);
}

#[test]
fn impl_twin_mismatch_and_verifier_supplied_arguments() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let long = b.int("long", 8, 64, true);
    let aux = b.composite(false, "bpf_prog_aux", 8, &[]);
    let paux = b.ptr(aux);
    let void_p = b.ptr(TypeId::VOID);
    // foo(int a) / foo_impl(int a, struct bpf_prog_aux *aux): consistent.
    let p_ok = b.func_proto(int, &[("a", int)]);
    let p_ok_impl = b.func_proto(int, &[("a", int), ("aux", paux)]);
    let ok = b.func("kf_ok", p_ok, 1);
    b.func("kf_ok_impl", p_ok_impl, 1);
    // bar(int a) / bar_impl(long a, ...): the shared argument differs.
    let p_bad_impl = b.func_proto(int, &[("a", long), ("aux", paux)]);
    let bad = b.func("kf_bad", p_ok, 1);
    b.func("kf_bad_impl", p_bad_impl, 1);
    // A legacy _impl kfunc whose prototype carries `void *meta__ign`, and
    // one with `__ign` alone (type unchecked, a real argument: no finding).
    let p_meta = b.func_proto(void_p, &[("size", long), ("meta__ign", void_p)]);
    let meta = b.func("kf_new_impl", p_meta, 1);
    let p_ign = b.func_proto(int, &[("s__ign", void_p)]);
    let ign = b.func("kf_strlen", p_ign, 1);
    for f in [ok, bad, meta, ign] {
        b.decl_tag("bpf_kfunc", f, -1);
    }
    let k = kernel(&b, None, "7.0.0");
    assert_eq!(
        codes(&k),
        vec![(Code::KfuncImplMismatch, Severity::Warning, Some("kf_bad".into())), (Code::KfuncImplicitArgs, Severity::Info, Some("kf_new_impl".into())),]
    );
}

#[test]
fn duplicate_and_conflicting_types() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let long = b.int("long", 8, 64, true);
    b.composite(false, "same", 4, &[("x", int, 0, 0)]);
    b.composite(false, "same", 4, &[("x", int, 0, 0)]);
    b.composite(false, "differs", 4, &[("x", int, 0, 0)]);
    b.composite(false, "differs", 8, &[("x", long, 0, 0)]);
    b.composite(false, "unique", 4, &[("x", int, 0, 0)]);
    let k = kernel(&b, None, "6.12.0");
    let l = lint(&k);
    assert_eq!(codes(&k), vec![(Code::TypeDuplicate, Severity::Info, None), (Code::TypeConflict, Severity::Info, None)]);
    assert!(l.findings[0].message.contains("struct same ×2"));
    assert!(l.findings[1].message.contains("struct differs ×2"));
    assert_eq!(l.failing(), 0);
}

#[test]
fn module_split_btf_on_the_wrong_vmlinux() {
    // Base A: int. Module built on A: a proto and a FUNC using it.
    let mut a = Builder::new(Endian::Little);
    let int = a.int("int", 4, 32, true);
    let mut m = Builder::new_split(Endian::Little, a.next_id().get() - 1, a.str_len());
    let p = m.func_proto(int, &[("x", int)]);
    m.func("mod_fn", p, 1);
    let module = m.build();
    // Base B has one more type: the module's ids now land one type early.
    let mut bb = Builder::new(Endian::Little);
    let int_b = bb.int("int", 4, 32, true);
    bb.ptr(int_b);
    let mut pad = String::new();
    while (bb.str_len() as usize) < a.str_len() as usize {
        pad.push('x');
        bb.str(&pad);
    }
    let mut k = kernel(&bb, None, "6.12.0");
    let split = Btf::parse_split(Bytes::from_vec(module.clone()), k.vmlinux.btf.clone()).unwrap();
    k.modules.push(KernelBtf { name: "mymod".into(), btf: Arc::new(split), btf_ids: None, origin: "synthetic".into() });
    let l = lint(&k);
    let f = l.findings.iter().find(|f| f.code == Code::ModuleBaseMismatch).expect("module_base_mismatch");
    assert_eq!(f.origin, "mymod");
    assert_eq!(f.severity, Severity::Error);
    // On its own base there is nothing to say.
    let mut good = kernel(&a, None, "6.12.0");
    let split = Btf::parse_split(Bytes::from_vec(module), good.vmlinux.btf.clone()).unwrap();
    good.modules.push(KernelBtf { name: "mymod".into(), btf: Arc::new(split), btf_ids: None, origin: "synthetic".into() });
    assert!(codes(&good).is_empty(), "{:?}", codes(&good));
    // A vermagic naming another release.
    good.info.module_releases.push(("mymod".into(), "6.1.0".into()));
    assert_eq!(codes(&good), vec![(Code::ModuleBaseMismatch, Severity::Error, Some("mymod".into()))]);
}

#[test]
fn btf_ids_entries_not_func_or_unresolved() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let s = b.composite(false, "task", 4, &[("pid", int, 0, 0)]);
    let p = b.func_proto(int, &[("a", int)]);
    let f = b.func("kf_one", p, 1);
    b.decl_tag("bpf_kfunc", f, -1);
    let ids = set8(1, &[(TypeId::VOID, 0), (f, 0), (s + 100, 0)]);
    let mut ids2 = set8(1, &[(s, 0), (f, 0)]);
    ids2.splice(0..0, ids);
    let k = kernel(&b, Some(ids2), "6.12.0");
    let c = codes(&k);
    assert_eq!(c.iter().filter(|x| x.0 == Code::BtfIdsNotFunc).count(), 2, "{c:?}");
    assert_eq!(c.iter().filter(|x| x.0 == Code::BtfIdsUnresolved).count(), 1, "{c:?}");
    let l = lint(&k);
    assert!(l.findings.iter().any(|f| f.message.contains("which is STRUCT `task`, not a FUNC")));
}

#[test]
fn module_registering_kfuncs_without_btf() {
    let mut b = Builder::new(Endian::Little);
    b.int("int", 4, 32, true);
    let mut k = kernel(&b, None, "6.12.0");
    k.info.modules_without_btf = vec![
        ModuleWithoutBtf { name: "quiet".into(), origin: "x".into(), registers_kfuncs: false },
        ModuleWithoutBtf { name: "loud".into(), origin: "y".into(), registers_kfuncs: true },
    ];
    assert_eq!(codes(&k), vec![(Code::ModuleBtfMissing, Severity::Error, Some("loud".into()))]);
    assert_eq!(lint(&k).facts.modules_without_btf, 2);
}

#[test]
fn arena_address_space_tags_are_not_an_impl_mismatch() {
    // 7.3's sched_ext kfuncs: the BPF-visible prototype tags arena pointers,
    // the kernel-side `_impl` does not (seen on Debian's 7.3.4).
    let f = super::without_address_space;
    assert_eq!(f("const void __attribute__((address_space(1))) *"), "const void *");
    assert_eq!(f("struct scx_cmask __attribute__((address_space(1))) *"), "struct scx_cmask *");
    assert_eq!(f("const s32 *"), "const s32 *");
    assert_ne!(f("const s32 *"), f("const u32 *"));
    // Unterminated: left as it is, no panic.
    assert_eq!(f("int __attribute__((address_space(1"), "int __attribute__((address_space(1");
}

#[test]
fn oldest_readers_follow_the_newest_kind_used() {
    let readers = |b: &Builder| {
        let k = kernel(b, None, "6.12.0");
        lint(&k).facts.readers.iter().map(|r| (r.tool, r.min_version)).collect::<Vec<_>>()
    };
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    assert_eq!(readers(&b), vec![]);
    let p = b.func_proto(int, &[("a", int)]);
    let f = b.func("kf_one", p, 1);
    b.decl_tag("bpf_kfunc", f, -1);
    // DECL_TAG: libbpf 0.6.0; pahole loads it properly from 1.27.
    assert_eq!(readers(&b), vec![("libbpf", "0.6.0"), ("bpftool", "5.16"), ("pahole", "1.27")]);
    b.enum64("big", &[("B", 1 << 40)]);
    assert_eq!(readers(&b), vec![("libbpf", "1.0.0"), ("bpftool", "7.0.0"), ("pahole", "1.24")]);
}
