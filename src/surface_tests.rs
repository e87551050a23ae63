//! Surface on a synthetic kernel: set8 recognition (flagged and structural),
//! rejection of implausible records, decl tags, fastcall, foo/foo_impl pairs.

use crate::btf::builder::Builder;
use crate::btf::{Btf, TypeId};
use crate::bytes::{Bytes, Endian};
use crate::kernel::{Kernel, KernelBtf};
use crate::surface::{self, Source};
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

struct Fixture {
    btf: Vec<u8>,
    ids: [TypeId; 5],
}

/// int; struct task; task *; proto; FUNCs a, b, c_impl, c, d (not a kfunc).
fn fixture() -> Fixture {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let s = b.composite(false, "task", 4, &[("pid", int, 0, 0)]);
    let ps = b.ptr(s);
    let proto = b.func_proto(ps, &[("t", ps)]);
    let a = b.func("kf_acquire", proto, 0);
    let rel = b.func("kf_release", proto, 0);
    let c_impl = b.func("kf_new_impl", proto, 0);
    let c = b.func("kf_new", proto, 0);
    let d = b.func("not_a_kfunc", proto, 0);
    b.decl_tag("bpf_fastcall", a, -1);
    Fixture { btf: b.build(), ids: [a, rel, c_impl, c, d] }
}

fn kernel(btf: Vec<u8>, ids: Vec<u8>, release: &str) -> Kernel {
    let btf = Arc::new(Btf::parse(Bytes::from_vec(btf)).unwrap());
    Kernel {
        release: Some(release.into()),
        inputs: vec!["synthetic".into()],
        vmlinux: KernelBtf { name: "vmlinux".into(), btf, btf_ids: Some(Bytes::from_vec(ids)), origin: "synthetic".into() },
        modules: vec![],
        info: Default::default(),
    }
}

#[test]
fn flagged_sets_win_and_unflagged_sets_are_ignored() {
    let f = fixture();
    let [a, rel, c_impl, _c, d] = f.ids;
    let mut ids = vec![0u8; 12]; // some BTF_ID_LIST words before the sets
    ids.extend(set8(1, &[(a, 0b101), (rel, 0b10), (c_impl, 0)]));
    ids.extend(set8(0, &[(d, 0)])); // a non-kfunc set8 (e.g. fmodret) in a >= 6.9 kernel
    let s = surface::of(&kernel(f.btf, ids, "6.12.0"));
    let names: Vec<&str> = s.kfuncs.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, vec!["kf_acquire", "kf_new_impl", "kf_release"]);
    assert_eq!(s.discovery.btf_ids, "kfunc_flag");
    let acq = &s.kfuncs[0];
    assert_eq!(acq.flags, vec!["KF_ACQUIRE", "KF_RET_NULL"]);
    assert_eq!(acq.source, Source::BtfIds);
    assert!(acq.fastcall, "bpf_fastcall decl tag");
    // Before 7.0 (no KF_IMPLICIT_ARGS) a FUNC kf_new next to the kfunc
    // kf_new_impl is no twin.
    assert_eq!(s.kfuncs[1].impl_pair, None);
    assert_eq!(acq.proto.to_string(), "struct task *kf_acquire(struct task *t)");
}

#[test]
fn impl_twins_from_7_0_and_where_the_version_is_unknown() {
    let pair_of = |release: Option<&str>| {
        let f = fixture();
        let [a, rel, c_impl, _c, _d] = f.ids;
        let mut k = kernel(f.btf, set8(1, &[(a, 0b101), (rel, 0b10), (c_impl, 0)]), "7.0.0");
        k.release = release.map(str::to_string);
        let s = surface::of(&k);
        let k = s.kfuncs.iter().find(|k| k.name == "kf_new_impl").expect("kfunc kf_new_impl");
        k.impl_pair.clone()
    };
    assert_eq!(pair_of(Some("7.0.0")).as_deref(), Some("kf_new"));
    assert_eq!(pair_of(None).as_deref(), Some("kf_new"), "version assumed: the newest");
    assert_eq!(pair_of(Some("6.19.3")), None);
}

#[test]
fn structural_recognition_and_rejection() {
    let f = fixture();
    let [a, rel, c_impl, _c, d] = f.ids;
    let mut ids = Vec::new();
    ids.extend(set8(0, &[(rel, 0), (a, 0)])); // unsorted: not a set8
    ids.extend(set8(0, &[(a, 1 << 20)])); // flag bit unknown in 6.1: rejected
    ids.extend(set8(0, &[(TypeId(1), 0)])); // id 1 is an INT, not a FUNC: rejected
    ids.extend(set8(0, &[(TypeId::VOID, 0), (d, 0x40), (c_impl, 0x40)])); // unresolved 0 first, then unsorted → rejected
    ids.extend(set8(0, &[(TypeId::VOID, 0), (a, 0x11)])); // accepted: KF_ACQUIRE|KF_TRUSTED_ARGS, 0 skipped
    let s = surface::of(&kernel(f.btf.clone(), ids.clone(), "6.1.0-56-amd64"));
    assert_eq!(s.discovery.btf_ids, "structural");
    let names: Vec<&str> = s.kfuncs.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, vec!["kf_acquire"]);
    assert_eq!(s.kfuncs[0].flags, vec!["KF_ACQUIRE", "KF_TRUSTED_ARGS"]);
    assert_eq!(s.kfuncs[0].source, Source::Heuristic);
    // In 7.1 bit 4 has no name: an unflagged record using it is implausible...
    let s7 = surface::of(&kernel(f.btf.clone(), ids, "7.1.0"));
    assert!(s7.kfuncs.is_empty());
    // ...but a flagged record is trusted, and the bit prints by number.
    let s7 = surface::of(&kernel(f.btf, set8(1, &[(a, 0x11 | 1 << 20)]), "7.1.0"));
    assert_eq!(s7.kfuncs[0].flags, vec!["KF_ACQUIRE", "KF_BIT_4", "KF_BIT_20"]);
}

#[test]
fn no_kfuncs_before_6_0_from_btf_ids() {
    let f = fixture();
    let ids = set8(0, &[(f.ids[0], 0)]);
    let s = surface::of(&kernel(f.btf, ids, "5.10.0-32-amd64"));
    assert!(s.kfuncs.is_empty());
}

/// A kernel parsed lazily (as `surface` loads it): a bad reference in a
/// type the surface reads is reported as the full parse reports it; one in
/// a type it does not read changes nothing.
#[test]
fn lazy_kernel_reports_bad_references_the_surface_reads() {
    let build = |bad_in_kfunc: bool| {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let param = if bad_in_kfunc { TypeId(999) } else { int };
        let proto = b.func_proto(int, &[("x", param)]);
        let f = b.func("kf_lazy", proto, 1);
        b.decl_tag("bpf_kfunc", f, -1);
        let other = b.func_proto(int, &[("y", if bad_in_kfunc { int } else { TypeId(999) })]);
        b.func("not_a_kfunc", other, 1);
        b.build()
    };
    for bad_in_kfunc in [true, false] {
        let v = build(bad_in_kfunc);
        let eager = Btf::parse(Bytes::from_vec(v.clone())).unwrap_err();
        let btf = Arc::new(Btf::parse_lazy(Bytes::from_vec(v)).unwrap());
        let k = Kernel::new(Some("6.18.0".into()), KernelBtf::new("vmlinux", btf, None, "synthetic.btf"), vec![]);
        let s = surface::of(&k);
        if bad_in_kfunc {
            let e = k.deferred_error().expect("the kfunc's prototype was read");
            assert_eq!((e.file.as_str(), e.offset, &e.what), ("synthetic.btf", eager.offset, &eager.what));
            assert!(e.what.contains("type id 999"), "{e}");
        } else {
            assert!(k.deferred_error().is_none());
            assert_eq!(s.kfuncs.len(), 1);
            assert_eq!(s.kfuncs[0].proto.to_string(), "int kf_lazy(int x)");
        }
    }
}

/// One name reached through two FUNC ids (a decl tag on one, a set8 entry
/// on its duplicate): one kfunc, the first id's, with both sources and
/// the set's flags; the others in name order around it.
#[test]
fn a_name_through_two_func_ids_is_one_kfunc_with_both_evidences() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let proto = b.func_proto(int, &[("x", int)]);
    let z = b.func("kf_z", proto, 0);
    let first = b.func("kf_dup", proto, 0);
    let second = b.func("kf_dup", proto, 0);
    let a = b.func("kf_a", proto, 0);
    b.decl_tag("bpf_kfunc", first, -1);
    b.decl_tag("bpf_kfunc", a, -1);
    let ids = set8(1, &[(z, 0), (second, 0b1)]);
    let s = surface::of(&kernel(b.build(), ids, "6.12.0"));
    let got: Vec<(&str, TypeId, Vec<Source>, u32)> = s.kfuncs.iter().map(|k| (k.name.as_str(), k.btf_id, k.sources.clone(), k.flags_raw)).collect();
    assert_eq!(
        got,
        vec![("kf_a", a, vec![Source::DeclTag], 0), ("kf_dup", first, vec![Source::DeclTag, Source::BtfIds], 0b1), ("kf_z", z, vec![Source::BtfIds], 0),]
    );
    let dup = &s.kfuncs[1];
    assert_eq!((dup.source, dup.flags.clone()), (Source::DeclTag, vec!["KF_ACQUIRE".to_string()]));
}
