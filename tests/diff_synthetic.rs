//! `versions` and `diff` on synthetic kernels: every change class, and the
//! fingerprint invariances (type ids and order, duplicates, cycles, how the
//! kfunc was discovered).

use bpfabi::btf::builder::Builder;
use bpfabi::btf::{Btf, TypeId};
use bpfabi::bytes::{Bytes, Endian};
use bpfabi::diff::{self, DiffOptions, Severity};
use bpfabi::kernel::{Kernel, KernelBtf};
use bpfabi::model::KernelModel;
use bpfabi::policy::DefaultPolicy;
use bpfabi::versions::KernelVersions;
use std::sync::Arc;

/// Description of a synthetic kernel.
#[derive(Clone)]
struct Spec {
    /// Emit types in reverse order of definition groups (changes every id).
    shuffle: bool,
    /// Add an identical duplicate of `struct task`.
    duplicate: bool,
    /// Mark kfuncs with decl tags as well as set8 records.
    decl_tags: bool,
    /// The "new" variant of everything that changes.
    new: bool,
    /// Add `kf_fill(struct task *t, u32 t__sz)`: callers build `struct task`
    /// themselves, so its layout is part of the call.
    filled: bool,
}

const KF_ACQUIRE: u32 = 1;
const KF_RET_NULL: u32 = 4;
const KF_TRUSTED_ARGS: u32 = 16;

fn kernel(spec: &Spec) -> Kernel {
    let mut b = Builder::new(Endian::Little);
    type Group<'a> = Box<dyn FnMut(&mut Builder, &mut Ids) + 'a>;
    let mut groups: Vec<Group> = Vec::new();
    #[derive(Default)]
    struct Ids {
        int: TypeId,
        u32_: TypeId,
        u64_: TypeId,
        chr: TypeId,
        task: TypeId,
        state: TypeId,
        node_a: TypeId,
    }
    let new = spec.new;
    let dup = spec.duplicate;
    groups.push(Box::new(|b, ids| {
        ids.int = b.int("int", 4, 32, true);
        ids.chr = b.int("char", 1, 8, true);
        ids.u32_ = b.int("unsigned int", 4, 32, false);
        ids.u64_ = b.int("long long unsigned int", 8, 64, false);
    }));
    groups.push(Box::new(move |b, ids| {
        let comm = b.array(ids.chr, ids.int, 16);
        ids.task = if new {
            b.composite(false, "task", 32, &[("pid", ids.int, 0, 0), ("added", ids.int, 32, 0), ("comm", comm, 64, 0), ("flags", ids.u64_, 192, 0)])
        } else {
            b.composite(false, "task", 24, &[("pid", ids.int, 0, 0), ("comm", comm, 32, 0), ("gone", ids.int, 160, 0), ("flags", ids.u32_, 128, 0)])
        };
        if dup {
            let comm2 = b.array(ids.chr, ids.int, 16);
            b.composite(false, "task", 24, &[("pid", ids.int, 0, 0), ("comm", comm2, 32, 0), ("gone", ids.int, 160, 0), ("flags", ids.u32_, 128, 0)]);
        }
        ids.state = if new { b.enum32("state", false, &[("A", 0), ("B", 5), ("D", 3)]) } else { b.enum32("state", false, &[("A", 0), ("B", 1), ("C", 2)]) };
        // A cycle: node_a <-> node_b.
        let fa = b.fwd("node_a", false);
        let pfa = b.ptr(fa);
        let nb = b.composite(false, "node_b", 8, &[("a", pfa, 0, 0)]);
        let pnb = b.ptr(nb);
        ids.node_a = b.composite(false, "node_a", 8, &[("b", pnb, 0, 0)]);
    }));
    if spec.shuffle {
        // Definitions in a different order give different ids everywhere:
        // emit some unrelated types first.
        b.int("padding_type", 2, 16, false);
        b.typedef("unrelated_t", TypeId(1));
    }
    let mut ids = Ids::default();
    for g in groups.iter_mut() {
        g(&mut b, &mut ids);
    }
    let ptask = b.ptr(ids.task);
    let pnode = b.ptr(ids.node_a);
    // kfuncs: (name, proto params, ret, flags)
    let mut kf: Vec<(String, TypeId, u32)> = Vec::new();
    let mut add = |b: &mut Builder, name: &str, ret: TypeId, params: &[(&str, TypeId)], flags: u32| {
        let p = b.func_proto(ret, params);
        let f = b.func(name, p, 1);
        kf.push((name.to_string(), f, flags));
    };
    add(&mut b, "kf_same", ptask, &[("t", ptask)], KF_ACQUIRE | KF_RET_NULL);
    add(&mut b, "kf_node", ids.int, &[("n", pnode)], 0);
    if spec.filled {
        add(&mut b, "kf_fill", ids.int, &[("t", ptask), ("t__sz", ids.u32_)], 0);
    }
    if new {
        add(&mut b, "kf_renamed___v2", ids.int, &[("t", ptask)], 0);
        add(&mut b, "kf_proto", ids.int, &[("a", ids.int), ("b", ids.u64_), ("c", ids.int)], 0);
        add(&mut b, "kf_flags", ptask, &[("t", ptask)], KF_ACQUIRE | KF_TRUSTED_ARGS);
        add(&mut b, "kf_new", ids.int, &[], 0);
        add(&mut b, "kf_annot", ids.int, &[("buf", ptask), ("buf__sz", ids.u32_)], 0);
    } else {
        add(&mut b, "kf_renamed", ids.int, &[("t", ptask)], 0);
        add(&mut b, "kf_proto", ids.int, &[("a", ids.int), ("b", ids.u32_)], 0);
        add(&mut b, "kf_flags", ptask, &[("t", ptask)], KF_ACQUIRE | KF_RET_NULL);
        add(&mut b, "kf_gone", ids.int, &[], 0);
        add(&mut b, "kf_annot", ids.int, &[("buf", ptask), ("len", ids.u32_)], 0);
    }
    if spec.decl_tags {
        for (_, f, _) in &kf {
            b.decl_tag("bpf_kfunc", *f, -1);
        }
    }
    let helpers: &[(&str, i32)] = if new {
        &[("BPF_FUNC_unspec", 0), ("BPF_FUNC_map_lookup_elem", 1), ("BPF_FUNC_newer", 3), ("__BPF_FUNC_MAX_ID", 4)]
    } else {
        &[("BPF_FUNC_unspec", 0), ("BPF_FUNC_map_lookup_elem", 1), ("BPF_FUNC_older", 2), ("__BPF_FUNC_MAX_ID", 3)]
    };
    b.enum32("bpf_func_id", false, helpers);
    // One flagged set8 with every kfunc, sorted by id.
    let mut pairs: Vec<(TypeId, u32)> = kf.iter().map(|(_, id, fl)| (*id, *fl)).collect();
    pairs.sort();
    let mut ids_sec = Vec::new();
    ids_sec.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    ids_sec.extend_from_slice(&1u32.to_le_bytes());
    for (id, fl) in pairs {
        ids_sec.extend_from_slice(&id.get().to_le_bytes());
        ids_sec.extend_from_slice(&fl.to_le_bytes());
    }
    let btf = Arc::new(Btf::parse(Bytes::from_vec(b.build())).unwrap());
    Kernel::new(Some(if new { "6.12.0".into() } else { "6.10.0".into() }), KernelBtf::new("vmlinux", btf, Some(Bytes::from_vec(ids_sec)), "synthetic"), vec![])
}

const OLD: Spec = Spec { shuffle: false, duplicate: false, decl_tags: false, new: false, filled: false };

fn versions(k: &Kernel) -> KernelVersions {
    KernelVersions::compute(k, &bpfabi::surface::of(k))
}

#[test]
fn fingerprints_ignore_ids_order_duplicates_and_discovery_method() {
    let base = versions(&kernel(&OLD));
    for variant in [
        Spec { shuffle: true, ..OLD },
        Spec { duplicate: true, ..OLD },
        Spec { decl_tags: true, ..OLD },
        Spec { shuffle: true, duplicate: true, decl_tags: true, ..OLD },
    ] {
        let v = versions(&kernel(&variant));
        assert_eq!(v.kfuncs, base.kfuncs, "fingerprints changed for an identical interface");
    }
    // And they do change when the interface changes.
    let new = versions(&kernel(&Spec { new: true, ..OLD }));
    let k = |n: &str| (n.to_string(), None);
    assert_eq!(new.kfuncs[&k("kf_node")], base.kfuncs[&k("kf_node")], "kf_node reaches nothing that changed");
    assert_eq!(new.kfuncs[&k("kf_same")].0, base.kfuncs[&k("kf_same")].0, "same prototype");
    assert_ne!(new.kfuncs[&k("kf_same")].1, base.kfuncs[&k("kf_same")].1, "struct task changed: deep differs");
    assert_ne!(new.kfuncs[&k("kf_flags")].0, base.kfuncs[&k("kf_flags")].0, "flags are part of the prototype");
}

#[test]
fn cycles_are_hashed_and_sensitive() {
    // node_a <-> node_b form a cycle; the deep fingerprint must be stable
    // and must change when a type inside the cycle changes.
    let a = versions(&kernel(&OLD));
    let b = versions(&kernel(&Spec { shuffle: true, ..OLD }));
    let key = ("kf_node".to_string(), None);
    assert_eq!(a.kfuncs[&key], b.kfuncs[&key]);
}

#[test]
fn every_change_class() {
    // `struct task` is filled in by callers of kf_fill: its layout changes are
    // graded as breaking / compatible for kfunc callers.
    let filled = Spec { filled: true, ..OLD };
    let (ko, kn) = (kernel(&filled), kernel(&Spec { new: true, ..filled }));
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    let d = diff::diff(&po, &pn, &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    let find = |kind: &str, name: &str| d.changes.iter().filter(|c| c.kind == kind && c.name == name).cloned().collect::<Vec<_>>();
    let one = |kind: &str, name: &str, sev: Severity, needle: &str| {
        let v = find(kind, name);
        assert!(
            v.iter().any(|c| c.severity == sev && c.detail.contains(needle)),
            "expected {kind} {name} {sev:?} containing {needle:?}; got {v:#?}\nall: {:#?}",
            d.changes
        );
    };
    one("kfunc_removed", "kf_gone", Severity::Breaking, "removed");
    one("kfunc_added", "kf_new", Severity::Compatible, "int kf_new(void)");
    one("kfunc_renamed", "kf_renamed", Severity::Breaking, "kf_renamed___v2");
    assert!(find("kfunc_added", "kf_renamed___v2").is_empty(), "a rename is not also an addition");
    one("kfunc_proto_changed", "kf_proto", Severity::Breaking, "parameter 2 `b` retyped from `unsigned int` to `long long unsigned int`");
    one("kfunc_proto_changed", "kf_proto", Severity::Breaking, "parameter 3 `int c` added");
    one("kfunc_proto_changed", "kf_annot", Severity::Breaking, "annotation `` -> `__sz`");
    one("kfunc_flags_changed", "kf_flags", Severity::Breaking, "gained KF_TRUSTED_ARGS");
    one("kfunc_flags_changed", "kf_flags", Severity::Breaking, "lost KF_RET_NULL");
    assert!(find("kfunc_flags_changed", "kf_same").is_empty());
    one("helper_removed", "bpf_older", Severity::Breaking, "id 2");
    one("helper_added", "bpf_newer", Severity::Compatible, "id 3");
    one("type_member_removed", "struct task", Severity::Breaking, "`gone`");
    one("type_member_added", "struct task", Severity::Compatible, "`added`");
    one("type_member_retyped", "struct task", Severity::Breaking, "`flags` retyped from `unsigned int` to `long long unsigned int`");
    one("type_member_moved", "struct task", Severity::Compatible, "`comm` moved from bit 32 to bit 64");
    one("type_size_changed", "struct task", Severity::Info, "24 -> 32");
    assert!(d.has_breaking());
    let task = find("type_member_removed", "struct task");
    assert_eq!(task[0].exposure, Some(diff::Exposure::Filled));
    assert_eq!(task[0].via.as_deref(), Some("kf_annot"), "shortest path, first kfunc by name");

    // Without kf_fill, callers only ever hold `struct task *` from the
    // kernel: the same layout changes are informational for kfunc callers.
    let (ko2, kn2) = (kernel(&OLD), kernel(&Spec { new: true, ..OLD }));
    let d2 = diff::diff(&KernelModel::new(ko2), &KernelModel::new(kn2), &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    let removed = d2.changes.iter().find(|c| c.kind == "type_member_removed" && c.name == "struct task").unwrap();
    assert_eq!((removed.severity, removed.exposure), (Severity::Info, Some(diff::Exposure::BehindPointer)));
    // Named with --type, the type is judged on its own again.
    let d3 = diff::diff(
        &KernelModel::new(kernel(&OLD)),
        &KernelModel::new(kernel(&Spec { new: true, ..OLD })),
        &DiffOptions::kfuncs_and_their_types().types(vec!["struct task".into()]),
        &DefaultPolicy,
    );
    let removed = d3.changes.iter().find(|c| c.kind == "type_member_removed" && c.name == "struct task").unwrap();
    assert_eq!((removed.severity, removed.exposure), (Severity::Breaking, None));

    // --type on an enum no kfunc reaches.
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    let d = diff::diff(&po, &pn, &DiffOptions::default().types(vec!["enum state".into()]), &DefaultPolicy);
    let kinds: Vec<(&str, Severity)> = d.changes.iter().filter(|c| c.name == "enum state").map(|c| (c.kind.as_str(), c.severity)).collect();
    assert!(kinds.contains(&("enum_value_removed", Severity::Breaking)), "{kinds:?}");
    assert!(kinds.contains(&("enum_value_added", Severity::Compatible)), "{kinds:?}");
    assert!(kinds.contains(&("enum_value_changed", Severity::Compatible)), "{kinds:?}");

    // Identical kernels: nothing.
    let (pa, pb) = (KernelModel::new(ko.clone()), KernelModel::new(ko.clone()));
    let d = diff::diff(&pa, &pb, &DiffOptions::kfuncs_and_their_types().all_types(true), &DefaultPolicy);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
}

/// vmlinux with `struct sock`, `typedef u32_t`, maybe `struct gone`, and
/// kfunc `kf_mod` either in vmlinux or in module `mymod` (decl tags only).
fn small(in_module: bool, new: bool) -> Kernel {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let uint = b.int("unsigned int", 4, 32, false);
    let ushort = b.int("short unsigned int", 2, 16, false);
    b.typedef("u32_t", if new { ushort } else { uint });
    let s = b.composite(false, "sock", 4, &[("x", int, 0, 0)]);
    if !new {
        b.composite(false, "gone", 4, &[("y", int, 0, 0)]);
    }
    let ps = b.ptr(s);
    if !in_module {
        let p = b.func_proto(int, &[("sk", ps)]);
        let f = b.func("kf_mod", p, 1);
        b.decl_tag("bpf_kfunc", f, -1);
    }
    let base = Arc::new(Btf::parse(Bytes::from_vec(b.build())).unwrap());
    let mut modules = vec![];
    if in_module {
        let mut m = Builder::new_split(Endian::Little, b.next_id().get() - 1, b.str_len());
        let p = m.func_proto(int, &[("sk", ps)]);
        let f = m.func("kf_mod", p, 1);
        m.decl_tag("bpf_kfunc", f, -1);
        let mb = Arc::new(Btf::parse_split(Bytes::from_vec(m.build()), base.clone()).unwrap());
        modules.push(KernelBtf::new("mymod", mb, None, "synthetic"));
    }
    Kernel::new(Some("6.12.0".into()), KernelBtf::new("vmlinux", base, None, "synthetic"), modules)
}

#[test]
fn module_moves_type_removal_and_typedef_changes() {
    let (ko, kn) = (small(false, false), small(true, true));
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    // Same prototype whether in vmlinux or a module.
    assert_eq!(po.versions().kfuncs[&("kf_mod".into(), None)].0, pn.versions().kfuncs[&("kf_mod".into(), Some("mymod".into()))].0);
    let opts = DiffOptions::kfuncs_and_their_types().types(vec!["struct gone".into(), "u32_t".into()]);
    let d = diff::diff(&po, &pn, &opts, &DefaultPolicy);
    let kinds: Vec<(&str, &str, Severity)> = d.changes.iter().map(|c| (c.kind.as_str(), c.name.as_str(), c.severity)).collect();
    assert!(kinds.contains(&("kfunc_moved", "kf_mod", Severity::Info)), "{kinds:?}");
    assert!(kinds.contains(&("type_removed", "struct gone", Severity::Breaking)), "{kinds:?}");
    assert!(kinds.contains(&("typedef_changed", "typedef u32_t", Severity::Breaking)), "{kinds:?}");
    assert!(!kinds.iter().any(|k| k.0 == "kfunc_removed" || k.0 == "kfunc_added" || k.0 == "kfunc_flags_changed"), "{kinds:?}");
    let moved = d.changes.iter().find(|c| c.kind == "kfunc_moved").unwrap();
    assert_eq!(moved.module.as_deref(), Some("mymod"));
    assert!(moved.detail.contains("from vmlinux to mymod"));
}
