//! Synthetic BTF: every kind, both byte orders, the kind-layout header,
//! split BTF, and malformed blobs that must fail with a located error.

use super::builder::Builder;
use super::render::{decl, func_decl};
use super::*;
use crate::bytes::{Bytes, Endian};
use crate::error::ReadError;
use std::sync::Arc;

/// One of everything, plus a small kfunc-like function.
fn everything(e: Endian) -> (Builder, TypeId) {
    let mut b = Builder::new(e);
    let int = b.int("int", 4, 32, true); // 1
    let uchar = b.int("unsigned char", 1, 8, false); // 2
    let pint = b.ptr(int); // 3
    let arr = b.array(int, int, 16); // 4
    let s = b.composite(false, "task", 24, &[("pid", int, 0, 0), ("flags", uchar, 32, 3), ("next", TypeId::VOID, 64, 0)]); // 5
    let u = b.composite(true, "u", 4, &[("a", int, 0, 0)]); // 6
    let en = b.enum32("state", true, &[("A", -1), ("B", 2)]); // 7
    let fwd = b.fwd("opaque", true); // 8
    let td = b.typedef("u8", uchar); // 9
    let vol = b.volatile(int); // 10
    let cst = b.konst(uchar); // 11
    let rst = b.restrict(pint); // 12
    let ps = b.ptr(s); // 13
    let proto = b.func_proto(pint, &[("t", ps), ("n", td)]); // 14
    let func = b.func("bpf_task_thing", proto, 1); // 15
    let var = b.var("counter", int, 1); // 16
    let sec = b.datasec(".data", 4, &[(var, 0, 4)]); // 17
    let flt = b.float("double", 8); // 18
    let tag = b.decl_tag("bpf_kfunc", func, -1); // 19
    let tt = b.type_tag("user", int); // 20
    let e64 = b.enum64("big", &[("HUGE", 1 << 40)]); // 21
    let pcst = b.ptr(cst); // 22: const unsigned char *
    let _ = (arr, u, en, fwd, vol, rst, sec, flt, tag, tt, e64, pcst);
    (b, func)
}

fn parse(v: Vec<u8>) -> Result<Btf, ReadError> {
    Btf::parse(Bytes::from_vec(v))
}

#[test]
fn every_kind_both_byte_orders() {
    for e in [Endian::Little, Endian::Big] {
        let (b, func) = everything(e);
        let btf = parse(b.build()).expect("valid BTF");
        assert_eq!(btf.endian(), e);
        assert_eq!(btf.own_types(), 22);
        let kinds: Vec<Kind> = btf.types().map(|t| t.kind).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            vec![
                Int, Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict, Ptr, FuncProto, Func, Var, Datasec, Float, DeclTag,
                TypeTag, Enum64, Ptr
            ]
        );
        let s = btf.find("task", Kind::Struct).unwrap();
        let m: Vec<_> = s.members().collect();
        assert_eq!(m.len(), 3);
        assert_eq!((m[1].name, m[1].bit_offset, m[1].bitfield_size), ("flags", 32, 3));
        assert_eq!(btf.ty(TypeId(1)).unwrap().int_info().unwrap().bits, 32);
        assert!(btf.ty(TypeId(1)).unwrap().int_info().unwrap().signed);
        let en: Vec<_> = btf.find("state", Kind::Enum).unwrap().enumerators().collect();
        assert_eq!(en[0].value as i64, -1);
        let e64: Vec<_> = btf.find("big", Kind::Enum64).unwrap().enumerators().collect();
        assert_eq!(e64[0].value, 1 << 40);
        assert!(btf.find("opaque", Kind::Fwd).unwrap().fwd_is_union());
        assert_eq!(btf.ty(TypeId(4)).unwrap().array().unwrap().nelems, 16);
        assert_eq!(btf.ty(TypeId(19)).unwrap().component_idx(), Some(-1));
        assert_eq!(btf.ty(func).unwrap().linkage(), Some(Linkage::Global));
        assert_eq!(btf.ty(TypeId(17)).unwrap().datasec_vars().next().unwrap().size, 4);
        assert_eq!(func_decl(&btf, func), "int *bpf_task_thing(struct task *t, u8 n)");
        assert_eq!(decl(&btf, TypeId(22), "p"), "const unsigned char *p");
        assert_eq!(decl(&btf, TypeId(12), "r"), "int * restrict r");
        assert_eq!(decl(&btf, TypeId(4), "a"), "int a[16]");
        assert_eq!(decl(&btf, TypeId(20), "x"), "int __attribute__((btf_type_tag(\"user\"))) x");
        assert_eq!(btf.resolve(TypeId(9)).unwrap().name(), "unsigned char");
    }
}

#[test]
fn function_pointers_arrays_and_varargs() {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let void_p = b.ptr(TypeId::VOID);
    let cb_proto = b.func_proto(int, &[("", void_p), ("", int)]);
    let cb = b.ptr(cb_proto);
    let arr = b.array(int, int, 4);
    let parr = b.ptr(arr);
    let va = b.func_proto(int, &[("fmt", void_p), ("", TypeId::VOID)]);
    let noargs = b.func_proto(TypeId::VOID, &[]);
    let f = b.func("f", va, 0);
    let btf = parse(b.build()).unwrap();
    assert_eq!(decl(&btf, cb, "callback_fn"), "int (*callback_fn)(void *, int)");
    assert_eq!(decl(&btf, parr, "p"), "int (*p)[4]");
    assert_eq!(func_decl(&btf, f), "int f(void *fmt, ...)");
    assert_eq!(decl(&btf, noargs, "g"), "void g(void)");
}

#[test]
fn kind_layout_header_skips_unknown_kinds() {
    // Kind 25 is unknown to this reader: 4 fixed bytes, 8 per vlen element.
    let mut b = Builder::new(Endian::Little).with_layout(&[(25, 4, 8)]);
    let int = b.int("int", 4, 32, true);
    b.raw("future", 25, false, 2, 0, &[7, 1, 2, 3, 4]);
    let after = b.typedef("after", int);
    let btf = parse(b.build()).expect("layout lets us skip the unknown kind");
    assert_eq!(btf.header().hdr_len, 32);
    assert_eq!(btf.ty(TypeId(2)).unwrap().kind, Kind::Unknown(25));
    assert_eq!(btf.ty(TypeId(2)).unwrap().extra().len(), 4 + 2 * 8);
    assert_eq!(btf.ty(after).unwrap().name(), "after");

    // The same blob without the layout section must be rejected, not guessed.
    let mut b = Builder::new(Endian::Little);
    b.int("int", 4, 32, true);
    b.raw("future", 25, false, 2, 0, &[7, 1, 2, 3, 4]);
    let e = parse(b.build()).unwrap_err();
    assert!(e.what.contains("unknown BTF kind 25"), "{e}");
    assert_eq!(e.offset, Some(24 + 12 + 4 + 4));
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let mut base = Builder::new(Endian::Little);
    let int = base.int("int", 4, 32, true);
    let s = base.composite(false, "sock", 4, &[("x", int, 0, 0)]);
    let base_btf = Arc::new(parse(base.build()).unwrap());
    let mut m = Builder::new_split(Endian::Little, base.next_id().get() - 1, base.str_len());
    let ps = m.ptr(s);
    let proto = m.func_proto(int, &[("sk", ps)]);
    let f = m.func("mod_kfunc", proto, 1);
    m.decl_tag("bpf_kfunc", f, -1);
    let split = Btf::parse_split(Bytes::from_vec(m.build()), base_btf.clone()).unwrap();
    assert_eq!(split.start_id(), TypeId(3));
    assert_eq!(split.ty(TypeId(1)).unwrap().name(), "int");
    assert_eq!(split.ty(f).unwrap().name(), "mod_kfunc");
    assert_eq!(func_decl(&split, f), "int mod_kfunc(struct sock *sk)");
    assert_eq!(split.find("sock", Kind::Struct).unwrap().id, s);
    // Split BTF cannot stand alone: its references point into the base.
    assert!(parse(m.build()).is_err());
}

#[test]
fn malformed_inputs_give_located_errors() {
    let (b, _) = everything(Endian::Little);
    let good = b.build();

    let e = parse(good[..10].to_vec()).unwrap_err();
    assert!(e.what.contains("at least 24 bytes"), "{e}");

    let mut bad = good.clone();
    bad[0] = 0;
    let e = parse(bad).unwrap_err();
    assert_eq!(e.offset, Some(0));
    assert!(e.what.contains("magic"));

    let mut bad = good.clone();
    bad[2] = 2;
    assert!(parse(bad).unwrap_err().what.contains("version"));

    // type_len past the end
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = parse(bad).unwrap_err();
    assert_eq!(e.offset, Some(8));

    // Truncated type section: shrink type_len by 4 so the last record is cut.
    let mut bad = good.clone();
    let tl = u32::from_le_bytes(bad[12..16].try_into().unwrap());
    bad[12..16].copy_from_slice(&(tl - 4).to_le_bytes());
    assert!(parse(bad).is_err());

    // Absurd vlen on the first struct: 0xffff members cannot fit.
    let mut b2 = Builder::new(Endian::Little);
    let int = b2.int("int", 4, 32, true);
    b2.raw("s", 4, false, 0xffff, 4, &[0, int.get(), 0]);
    let e = parse(b2.build()).unwrap_err();
    assert!(e.what.contains("vlen 65535"), "{e}");

    // A dangling type reference.
    let mut b3 = Builder::new(Endian::Little);
    b3.ptr(TypeId(77));
    let e = parse(b3.build()).unwrap_err();
    assert!(e.what.contains("type id 77"), "{e}");

    // A name offset outside the string section.
    let mut b4 = Builder::new(Endian::Little);
    b4.raw("", 1, false, 0, 4, &[32]);
    let mut v = b4.build();
    v[24..28].copy_from_slice(&1000u32.to_le_bytes());
    assert!(parse(v).unwrap_err().what.contains("name offset 1000"));

    // Non-zero bytes in a header extension this reader does not know.
    let mut v = good.clone();
    v[4..8].copy_from_slice(&40u32.to_le_bytes());
    v.splice(24..24, [0u8; 12].iter().copied());
    v[36] = 1;
    let e = parse(v).unwrap_err();
    assert_eq!(e.offset, Some(36));
}

#[test]
fn cycles_do_not_hang() {
    // typedef A -> const -> typedef A: a cycle through modifiers.
    let mut b = Builder::new(Endian::Little);
    b.typedef("A", TypeId(2)); // 1 -> 2
    b.konst(TypeId(1)); // 2 -> 1
    let p = b.ptr(TypeId(3)); // 3 -> 3: a pointer to itself
    let btf = parse(b.build()).unwrap();
    assert!(btf.resolve(TypeId(1)).is_none());
    let s = decl(&btf, p, "x");
    assert!(s.contains("too long or cyclic"), "{s}");
    let s = decl(&btf, TypeId(2), "y");
    assert!(!s.is_empty());
}

#[test]
fn by_name_finds_all_duplicates() {
    let mut b = Builder::new(Endian::Little);
    let a = b.int("int", 4, 32, true);
    let s1 = b.composite(false, "dup", 4, &[("x", a, 0, 0)]);
    let s2 = b.composite(false, "dup", 8, &[("y", a, 0, 0)]);
    let t = b.typedef("dup", a);
    let btf = parse(b.build()).unwrap();
    let ids: Vec<TypeId> = btf.by_name("dup").map(|t| t.id).collect();
    assert_eq!(ids, vec![s1, s2, t]);
    assert!(btf.by_name("nope").next().is_none());
}

#[test]
fn string_hash_read_in_place_equals_hash_of_the_bytes() {
    // Names of every length around the 8-byte words the hash reads, and
    // the last string of the section (no bytes after its terminator).
    let names: Vec<String> = (1..=20).map(|n| "abcdefghijklmnopqrstuvwxyz"[..n].to_string()).collect();
    let mut b = Builder::new(Endian::Little);
    for n in &names {
        b.int(n, 4, 32, false);
    }
    let btf = Btf::parse(Bytes::from_vec(b.build())).unwrap();
    for t in btf.types() {
        assert_eq!(btf.str_hash(t.name_off()), super::word_hash_of(t.name_bytes()), "{}", t.name());
        assert_eq!(btf.own_named(t.name_bytes()).map(|x| x.id).collect::<Vec<_>>(), vec![t.id]);
        assert_eq!(btf.own_named_types(t.name_bytes()).map(|x| x.id).collect::<Vec<_>>(), vec![t.id]);
    }
    assert_ne!(super::word_hash_of(b"abcdefgh"), super::word_hash_of(b"abcdefghi"));
}

#[test]
fn kind_table_scans_agree_with_the_type_headers() {
    for e in [Endian::Little, Endian::Big] {
        let (b, _) = everything(e);
        let btf = Btf::parse(Bytes::from_vec(b.build())).unwrap();
        let mut kinds: Vec<Kind> = btf.types().map(|t| t.kind).collect();
        kinds.sort();
        kinds.dedup();
        assert!(kinds.contains(&Kind::Func) && kinds.contains(&Kind::DeclTag), "{kinds:?}");
        for k in kinds {
            let from_headers: Vec<(TypeId, StrOffset)> = btf.types().filter(|t| t.kind == k).map(|t| (t.id, t.name_off())).collect();
            assert_eq!(btf.ids_of_kind(k).collect::<Vec<_>>(), from_headers.iter().map(|p| p.0).collect::<Vec<_>>(), "{k:?}");
            assert_eq!(btf.names_of_kind(k).collect::<Vec<_>>(), from_headers, "{k:?}");
            let mut prefixes = Vec::new();
            btf.for_each_name_prefix(k, |n, p| prefixes.push((n, p)));
            let expected: Vec<(StrOffset, u64)> = from_headers.iter().map(|&(_, n)| (n, btf.str_prefix8(n))).collect();
            assert_eq!(prefixes, expected, "{k:?}");
            // The raw words: the first 8 bytes as they are (equal to the
            // prefix for names of 8 bytes or more).
            let mut words = Vec::new();
            btf.for_each_name_word(k, |n, w| words.push((n, w)));
            assert_eq!(words.iter().map(|p| p.0).collect::<Vec<_>>(), expected.iter().map(|p| p.0).collect::<Vec<_>>(), "{k:?}");
            for (&(n, w), &(_, p)) in words.iter().zip(&expected) {
                let bytes = btf.str_bytes_at(n);
                if bytes.len() >= 8 {
                    assert_eq!(w, p, "{k:?} {bytes:?}");
                } else {
                    assert_eq!(w & ((1u64 << (8 * bytes.len())) - 1), p, "{k:?} {bytes:?}");
                }
            }
        }
        // No type has kind 0, and Unknown(3) is not ARRAY (kind 3).
        assert_eq!(btf.ids_of_kind(Kind::Void).count(), 0);
        assert_eq!(btf.ids_of_kind(Kind::Unknown(Kind::Array.raw())).count(), 0);
        assert!(btf.ids_of_kind(Kind::Array).count() > 0);
    }
}

/// `first_of_kind` finds what `by_name` finds: the lowest own id of that
/// kind, for names of every length (short names compare their terminator),
/// names of another kind and absent names.
#[test]
fn first_of_kind_agrees_with_by_name() {
    for e in [Endian::Little, Endian::Big] {
        let (b, _) = everything(e);
        let btf = Btf::parse(Bytes::from_vec(b.build())).unwrap();
        let mut names: Vec<String> = btf.types().map(|t| t.name().to_string()).filter(|n| !n.is_empty()).collect();
        names.sort();
        names.dedup();
        names.extend(["absent_name_of_some_length".to_string(), "q".to_string(), String::new()]);
        // Prefixes of real names: same first bytes, another name.
        let cut: Vec<String> = names.iter().filter(|n| n.len() > 2).map(|n| n[..n.len() - 1].to_string()).collect();
        names.extend(cut);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut kinds: Vec<Kind> = btf.types().map(|t| t.kind).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            let expected: Vec<Option<TypeId>> =
                refs.iter().map(|n| if n.is_empty() { None } else { btf.by_name(n).find(|t| t.kind == k && t.id >= btf.start_id()).map(|t| t.id) }).collect();
            let got: Vec<Option<TypeId>> = btf.first_of_kind(k, &refs).into_iter().zip(&refs).map(|(id, n)| id.filter(|_| !n.is_empty())).collect();
            assert_eq!(got, expected, "{k:?}");
            let named = btf.types().any(|t| t.kind == k && !t.name().is_empty());
            assert_eq!(expected.iter().any(Option::is_some), named, "{k:?}");
        }
    }
}

/// The same on the corpus kernels, for a sample of every named kind and the
/// names `probe` looks up.
#[test]
fn first_of_kind_agrees_with_by_name_on_corpus_kernels() {
    let Some(corpus) = std::env::var_os("BPFABI_CORPUS") else { return };
    for k in ["5.10.223-1", "6.12.117-1", "live-6.18"] {
        let path = std::path::Path::new(&corpus).join("kernels").join(k).join("vmlinux.btf");
        let btf = Btf::parse(Bytes::from_path(&path).unwrap()).unwrap();
        for kind in [Kind::Func, Kind::Typedef, Kind::Struct, Kind::Enum] {
            let mut names: Vec<String> = btf.types_of_kind(kind).step_by(37).map(|t| t.name().to_string()).filter(|n| !n.is_empty()).collect();
            names.extend(
                ["btf_trace_sched_switch", "bpf_iter_task", "bpf_ctx_convert", "tcp_congestion_ops__init", "u8", "pid_t", "zz_absent"].map(String::from),
            );
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let expected: Vec<Option<TypeId>> = refs.iter().map(|n| btf.by_name(n).find(|t| t.kind == kind).map(|t| t.id)).collect();
            assert_eq!(btf.first_of_kind(kind, &refs), expected, "{k} {kind:?}");
            assert!(expected.iter().filter(|e| e.is_some()).count() > 10, "{k} {kind:?}");
        }
    }
}

/// The type expression a surface keeps prints exactly what the renderer
/// prints from the BTF, cuts and dropped qualifiers included, and reads
/// back to itself from that text.
#[test]
fn typed_declarations_print_as_the_btf_and_read_back() {
    use super::render::func_decl_typed;
    use crate::ctype::{Decl, TypeRef};
    let (mut b, thing) = everything(Endian::Little);
    let int = TypeId(1);
    let void_p = b.ptr(TypeId::VOID);
    // Every type of `everything` (ids 1-22) as a parameter, the others too.
    let mut params: Vec<(String, TypeId)> = (1..=22).map(|i| (format!("p{i}"), TypeId(i))).collect();
    let cb_proto = b.func_proto(int, &[("", void_p), ("", int)]);
    let cb = b.ptr(cb_proto);
    let arr = b.array(int, int, 4);
    let const_arr = b.konst(arr); // qualifier on an array: dropped
    let parr = b.ptr(const_arr);
    let arr2 = b.array(arr, int, 2);
    let anon = b.composite(false, "", 4, &[("a", int, 0, 0)]);
    let attr = b.raw("address_space(1)", 18, true, 0, TypeId::VOID.0, &[]); // TYPE_TAG with kind_flag
    let pattr = b.ptr(attr);
    let self_ptr = b.next_id();
    b.raw("", 2, false, 0, self_ptr.0, &[]); // a pointer to itself
    for (n, t) in [("cb", cb), ("parr", parr), ("m", arr2), ("anon", anon), ("arena", pattr), ("cycle", self_ptr), ("", int)] {
        params.push((n.to_string(), t));
    }
    let ps: Vec<(&str, TypeId)> = params.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let all = b.func_proto(void_p, &ps);
    let all_f = b.func("all", all, 1);
    let va = b.func_proto(int, &[("fmt", void_p), ("", TypeId::VOID)]);
    let va_f = b.func("va", va, 1);
    let noargs = b.func_proto(TypeId::VOID, &[("", TypeId::VOID)]);
    let noargs_f = b.func("noargs", noargs, 1);
    // Function pointers nested deeper than the renderer follows.
    let mut deep = b.func_proto(int, &[("x", int)]);
    for _ in 0..20 {
        let p = b.ptr(deep);
        deep = b.func_proto(int, &[("f", p)]);
    }
    let deep_f = b.func("deep", deep, 1);
    let btf = parse(b.build()).unwrap();
    for f in [thing, all_f, va_f, noargs_f, deep_f, TypeId(1)] {
        let typed = func_decl_typed(&btf, f);
        let text = func_decl(&btf, f);
        assert_eq!(typed.to_string(), text);
        let back: Decl = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, typed, "{text}");
    }
    // One reader for many prototypes (parameter types remembered, the cut
    // ones with their names dropped) reads each as a fresh one does, twice.
    let protos = super::render::Prototypes::new(&btf);
    for f in [thing, all_f, va_f, noargs_f, deep_f, TypeId(1), all_f, deep_f, thing] {
        assert_eq!(protos.func_decl(f), func_decl_typed(&btf, f));
    }
    let text = func_decl(&btf, all_f);
    assert!(text.contains("int (*cb)(void *, int), int (*parr)[4], int m[2][4], struct {...} anon, void __attribute__((address_space(1))) *arena, /* type chain too long or cyclic */, int)"), "{text}");
    assert!(func_decl(&btf, deep_f).contains("/* nested too deep */"));
    assert!(!func_decl_typed(&btf, noargs_f).takes_args());
    assert!(func_decl_typed(&btf, va_f).takes_args());
    let tags: Vec<_> = func_decl_typed(&btf, all_f).tagged().into_iter().map(|(t, n)| format!("{} {n}", t.keyword())).collect();
    assert_eq!(tags, ["struct task", "union u", "enum state", "union opaque", "enum big"]);
    assert_eq!(func_decl_typed(&btf, TypeId(1)).ty, TypeRef::Unknown("type 1 is not a FUNC".into()));
}

/// Every type of `a` and `b` is the same record (kind, name, info, size or
/// type, bytes after the header).
fn same_types(a: &Btf, b: &Btf) {
    assert_eq!(a.own_types(), b.own_types());
    for i in 1..a.next_id().get() {
        let (x, y) = (a.ty(TypeId(i)).unwrap(), b.ty(TypeId(i)).unwrap());
        assert_eq!((x.kind, x.name_off(), x.raw_info(), x.size(), x.extra()), (y.kind, y.name_off(), y.raw_info(), y.size(), y.extra()), "type {i}");
    }
    assert_eq!(a.ids_of_kind(Kind::Func).collect::<Vec<_>>(), b.ids_of_kind(Kind::Func).collect::<Vec<_>>());
}

/// A type section of several hundred KB, with records of every size class.
fn large(e: Endian) -> Builder {
    large_n(e, 12_000)
}

/// [`large`] with `n` rounds of types (also the `walk` tests' input).
pub(super) fn large_n(e: Endian, n: u32) -> Builder {
    let mut b = Builder::new(e);
    let int = b.int("int", 4, 32, true);
    for i in 0..n {
        let p = b.ptr(int);
        let n = (i % 7) as usize;
        let members: Vec<(String, TypeId, u32, u8)> = (0..n).map(|m| (format!("m{m}"), p, m as u32 * 64, 0)).collect();
        let refs: Vec<(&str, TypeId, u32, u8)> = members.iter().map(|(s, t, o, bf)| (s.as_str(), *t, *o, *bf)).collect();
        let s = b.composite(i % 2 == 0, &format!("s{i}"), 8 * n as u32, &refs);
        let ps = b.ptr(s);
        let proto = b.func_proto(int, &[("a", ps), ("b", int)][..(i % 3) as usize]);
        let f = b.func(&format!("f{i}"), proto, 1);
        if i % 50 == 0 {
            b.decl_tag("bpf_kfunc", f, -1);
            b.enum32(&format!("e{i}"), false, &[("A", 1), ("B", 2)]);
            b.array(int, int, i);
        }
    }
    b
}

#[test]
fn lazy_parse_reads_the_same_types() {
    for e in [Endian::Little, Endian::Big] {
        let (b, _) = everything(e);
        same_types(&parse(b.build()).unwrap(), &Btf::parse_lazy(Bytes::from_vec(b.build())).unwrap());
        // A large section.
        let v = large(e).build();
        assert!(v.len() > 512 * 1024, "{}", v.len());
        let (eager, lazy) = (parse(v.clone()).unwrap(), Btf::parse_lazy(Bytes::from_vec(v)).unwrap());
        same_types(&eager, &lazy);
        assert!(lazy.deferred_error().is_none());
        assert!(lazy.validate().is_ok());
    }
}

#[test]
fn lazy_parse_keeps_layout_errors_and_defers_reference_errors() {
    // A record cut short, an unknown kind: refused at parse time, as eagerly.
    let (b, _) = everything(Endian::Little);
    let mut bad = b.build();
    let tl = u32::from_le_bytes(bad[12..16].try_into().unwrap());
    bad[12..16].copy_from_slice(&(tl - 4).to_le_bytes());
    assert_eq!(Btf::parse_lazy(Bytes::from_vec(bad.clone())).unwrap_err().what, parse(bad).unwrap_err().what);
    let mut v = large(Endian::Little).build();
    let e = parse(v.clone()).unwrap();
    // The info word of a type in the middle of the section: kind 31.
    let id = TypeId(e.own_types() as u32 / 2);
    let o = 24 + e.table.offset((id.get() - 1) as usize, &v[24..]).unwrap() as usize;
    v[o + 7] = 0x1f;
    let (eager, lazy) = (parse(v.clone()).unwrap_err(), Btf::parse_lazy(Bytes::from_vec(v)).unwrap_err());
    assert_eq!(eager.what, lazy.what);
    assert_eq!(eager.offset, lazy.offset);

    // A dangling reference: the lazy parse succeeds; the type is not
    // returned, the others are, and the deferred error is the eager one.
    let mut b3 = Builder::new(Endian::Little);
    let int = b3.int("int", 4, 32, true);
    let bad_ptr = b3.ptr(TypeId(77));
    let good_ptr = b3.ptr(int);
    let eager = parse(b3.build()).unwrap_err();
    let lazy = Btf::parse_lazy(Bytes::from_vec(b3.build())).unwrap();
    assert!(lazy.deferred_error().is_none(), "nothing read yet");
    assert_eq!(lazy.ty(good_ptr).unwrap().ref_type(), int);
    assert!(lazy.deferred_error().is_none());
    assert!(lazy.ty(bad_ptr).is_none());
    let deferred = lazy.deferred_error().unwrap();
    assert_eq!((deferred.offset, &deferred.what), (eager.offset, &eager.what));
    assert!(deferred.what.contains("type id 77"), "{deferred}");
    assert_eq!(lazy.validate().unwrap_err().what, eager.what);
    // Read again: still refused, the same error.
    assert!(lazy.ty(bad_ptr).is_none());
}
