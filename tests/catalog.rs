//! The catalog's reduced kernels answer kfunc and helper questions exactly
//! as the full kernels they were cut from: every corpus kernel reduced,
//! written, read back through the ordinary kernel reader and compared with
//! its full self (kfunc names, prototypes as bpftool spells them, KF_* flags,
//! modules; helpers; program, attach and map type enums), and `check`'s
//! kfunc verdicts agree.

mod common;

use bpfabi::catalog::{self, Provenance};
use bpfabi::check::CheckOptions;
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use std::collections::BTreeMap;

type Kfuncs = BTreeMap<String, (String, u32, Option<String>)>;

fn kfuncs(m: &KernelModel) -> Kfuncs {
    m.surface().kfuncs.iter().map(|k| (k.name.clone(), (k.proto.to_string(), k.flags_raw, k.module.clone()))).collect()
}

fn enum_values(e: &bpfabi::model::KernelEnum) -> Vec<(u64, String)> {
    e.iter().map(|(v, n)| (v, n.to_string())).collect()
}

#[test]
fn reduced_corpus_kernels_equal_their_full_selves() {
    if !common::have_corpus() {
        return;
    }
    let dir = common::workdir("catalog-corpus");
    let objects = bpfabi::inputs::find_objects(&[common::corpus().join("bpf-objects")], true).objects;
    assert!(objects.len() > 200);
    let mut checked = 0;
    let mut total_kfuncs = 0;
    for &k in common::KERNELS {
        let src = common::kernel_dir(k);
        let full = KernelModel::load(std::slice::from_ref(&src), &LoadOptions::default()).unwrap();
        let entry = catalog::add(&dir, &src, &Provenance { suite: Some("test".into()), ..Default::default() }).unwrap();
        let reduced_dir = dir.join(&entry.release);
        let red = KernelModel::load(std::slice::from_ref(&reduced_dir), &LoadOptions::default()).unwrap();
        assert!(red.kernel().info.reduced, "{k}: not noted as reduced");
        assert!(!full.kernel().info.reduced);
        assert_eq!(red.kernel().release, full.kernel().release, "{k}");
        assert_eq!(kfuncs(&red), kfuncs(&full), "{k}: kfuncs differ");
        let helpers = |m: &KernelModel| m.surface().helpers.iter().map(|h| (h.id, h.name.clone())).collect::<Vec<_>>();
        assert_eq!(helpers(&red), helpers(&full), "{k}: helpers differ");
        assert_eq!(enum_values(red.prog_types()), enum_values(full.prog_types()), "{k}");
        assert_eq!(enum_values(red.attach_types()), enum_values(full.attach_types()), "{k}");
        assert_eq!(enum_values(red.map_types()), enum_values(full.map_types()), "{k}");
        assert_eq!(entry.kfuncs, full.surface().kfuncs.len());
        // check: on every corpus object, the kfunc, helper, program/attach
        // and map type facts are the same on the reduced kernel.
        let facts = |m: &KernelModel| -> Vec<(String, String, String, String)> {
            let mut v = Vec::new();
            for r in bpfabi::check::check(&objects, std::slice::from_ref(m), &CheckOptions::default().explain(true)) {
                for reason in r.reasons.iter().chain(&r.satisfied) {
                    let kind = reason.kind.as_str();
                    // (`prog_type_unverified` is an --explain note about probe data, not a kernel fact.)
                    if ["kfunc", "helper", "prog_type", "attach_type", "map_type", "section"].iter().any(|p| kind.starts_with(p))
                        && kind != "prog_type_unverified"
                    {
                        v.push((r.object.clone(), r.program.clone(), kind.to_string(), reason.name.clone()));
                    }
                }
            }
            v.sort();
            v
        };
        let (f, r) = (facts(&full), facts(&red));
        assert!(f.len() > 1000, "{k}: {} facts", f.len());
        // The reduced kernel has no CO-RE answers, so the reachability
        // analysis prunes less there: its facts are a superset, and never
        // contradict the full kernel's (same requirement, other answer).
        let rset: std::collections::BTreeSet<_> = r.iter().collect();
        let missing: Vec<_> = f.iter().filter(|x| !rset.contains(x)).take(5).collect();
        assert!(missing.is_empty(), "{k}: facts of the full kernel absent on the reduced one: {missing:?}");
        let kinds = |v: &[(String, String, String, String)]| {
            let mut m: BTreeMap<(String, String, String), std::collections::BTreeSet<String>> = BTreeMap::new();
            for (o, p, kind, n) in v {
                m.entry((o.clone(), p.clone(), n.clone())).or_default().insert(kind.clone());
            }
            m
        };
        let (kf, kr) = (kinds(&f), kinds(&r));
        let contradictions: Vec<_> = kf.iter().filter(|(key, ks)| kr.get(*key).is_some_and(|r| r != *ks)).take(5).collect();
        assert!(contradictions.is_empty(), "{k}: {contradictions:?}");
        // Small: the point of a catalog.
        assert!(entry.bytes * 20 < entry.full_btf_bytes, "{k}: {} bytes from {}", entry.bytes, entry.full_btf_bytes);
        total_kfuncs += entry.kfuncs;
        checked += 1;
    }
    assert_eq!(checked, common::KERNELS.len());
    assert!(total_kfuncs > 200, "{total_kfuncs}");
    // The index lists them all; lookups by suite find the newest.
    let idx = catalog::read_index(&std::fs::read_to_string(dir.join("index.json")).unwrap(), "index.json").unwrap();
    assert_eq!(idx.entries.len(), checked);
    assert!(catalog::lookup(&idx, "test", "amd64", None).is_some());
    assert!(catalog::lookup(&idx, "test", "arm64", None).is_none());
}

#[test]
fn builtin_catalog_entries_read_back() {
    // Every entry compiled into the binary materialises and loads, with the
    // kfunc and helper counts its index states.
    let idx = catalog::builtin_index().unwrap();
    let cache = common::workdir("catalog-builtin");
    for e in &idx.entries {
        let d = catalog::materialize(&e.release, &cache).unwrap();
        let m = KernelModel::load(&[d], &LoadOptions::default()).unwrap();
        assert!(m.kernel().info.reduced);
        assert_eq!(m.kernel().release.as_deref(), Some(e.release.as_str()));
        assert_eq!((m.surface().kfuncs.len(), m.surface().helpers.len()), (e.kfuncs, e.helpers), "{}", e.release);
        // Read in place from the binary's bytes (what `debian:` names do
        // offline): the same kernel, only its input is named differently.
        let b = KernelModel::new(bpfabi::kernel::load_builtin(&e.release, &LoadOptions::default()).unwrap());
        assert!(b.kernel().info.reduced);
        assert_eq!(b.kernel().inputs, vec![format!("built-in catalog {}", e.release)]);
        let json = |m: &KernelModel| {
            let mut v = serde_json::to_value(m.surface()).unwrap();
            v["kernel"]["inputs"] = serde_json::Value::Null;
            v
        };
        assert_eq!(json(&b), json(&m), "{}", e.release);
        assert_eq!(b.kernel().info.config, m.kernel().info.config, "{}", e.release);
        assert_eq!(
            b.kernel().modules.iter().map(|k| (&k.name, k.btf_ids.is_some())).collect::<Vec<_>>(),
            m.kernel().modules.iter().map(|k| (&k.name, k.btf_ids.is_some())).collect::<Vec<_>>()
        );
    }
    assert!(bpfabi::kernel::load_builtin("0.0.0-no-such", &LoadOptions::default()).is_err());
}

#[test]
fn debian_names_fall_back_to_the_catalog_offline() {
    // BPFABI_CATALOG=only: no apt, no network; `debian:bookworm` is the
    // catalog's bookworm/amd64 entry, and the output says it is reduced.
    let idx = catalog::builtin_index().unwrap();
    let Some(e) = catalog::lookup(&idx, "bookworm", "amd64", None) else {
        eprintln!("no bookworm/amd64 entry in the built-in catalog");
        return;
    };
    let cache = common::workdir("catalog-offline");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpfabi"))
        .args(["surface", "--json", "debian:bookworm"])
        .env("BPFABI_CATALOG", "only")
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kfuncs"].as_array().unwrap().len(), e.kfuncs);
    assert_eq!(v["helpers"].as_array().unwrap().len(), e.helpers);
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n["kind"] == "catalog"), "{}", v["notes"]);
    // A name the catalog lacks is a clear error, exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpfabi"))
        .args(["surface", "debian:bookworm/mips64el"])
        .env("BPFABI_CATALOG", "only")
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the built-in catalog"), "{}", String::from_utf8_lossy(&out.stderr));
}
