//! `surface` on the real kernels of the corpus, cross-checked against
//! bpftool and between kernels built differently.

mod common;
use bpfabi::surface::{self, Source, Surface};
use common::*;
use std::collections::{BTreeMap, BTreeSet};

fn names(s: &Surface, pred: impl Fn(&bpfabi::surface::Kfunc) -> bool) -> BTreeSet<(String, Option<String>)> {
    s.kfuncs.iter().filter(|k| pred(k)).map(|k| (k.name.clone(), k.module.clone())).collect()
}

/// Prototypes of the vmlinux kfuncs that carry a `bpf_kfunc` decl tag (what
/// bpftool's `format c` prints).
fn decl_tagged_vmlinux_protos(s: &Surface) -> BTreeSet<String> {
    s.kfuncs.iter().filter(|f| f.module.is_none() && f.sources.contains(&Source::DeclTag)).map(|f| f.proto.to_string()).collect()
}

#[test]
fn decl_tagged_kfuncs_and_prototypes_match_bpftool() {
    if !common::have_corpus() {
        return;
    }
    for k in ["6.12.117-1", "live-6.18"] {
        let dir = kernel_dir(k);
        let vmlinux = dir.join("vmlinux.btf");
        let expected = bpftool_kfunc_protos(&["file", vmlinux.to_str().unwrap()]);
        let s = surface::of(&load_dir(k));
        let ours = decl_tagged_vmlinux_protos(&s);
        assert!(!expected.is_empty());
        assert_eq!(ours, expected, "{k}: decl-tagged kfunc prototypes differ from bpftool's");
        // meta.json counted the tags independently.
        let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        let tagged = meta["vmlinux_btf"]["decl_tags_bpf_kfunc"].as_u64().unwrap() as usize;
        assert_eq!(ours.len(), tagged, "{k}");
    }
}

#[test]
fn module_kfuncs_resolve_against_vmlinux_like_bpftool() {
    if !common::have_corpus() {
        return;
    }
    let dir = kernel_dir("6.12.117-1");
    let s = surface::of(&load_dir("6.12.117-1"));
    let vm = dir.join("vmlinux.btf");
    let base_only = bpftool_kfunc_protos(&["file", vm.to_str().unwrap()]);
    for m in ["nf_conntrack", "tcp_bbr", "fou", "xfrm_interface", "nf_nat", "tcp_dctcp", "nf_flow_table"] {
        let mf = dir.join("modules").join(format!("{m}.btf"));
        let with_mod = bpftool_kfunc_protos(&["-B", vm.to_str().unwrap(), "file", mf.to_str().unwrap()]);
        let expected: BTreeSet<String> = with_mod.difference(&base_only).cloned().collect();
        let ours: BTreeSet<String> = s.kfuncs.iter().filter(|f| f.module.as_deref() == Some(m)).map(|f| f.proto.to_string()).collect();
        assert!(!ours.is_empty(), "{m}: no kfuncs");
        assert_eq!(ours, expected, "{m}");
    }
    let ct = s.kfuncs.iter().find(|f| f.name == "bpf_skb_ct_lookup").expect("bpf_skb_ct_lookup");
    assert_eq!(ct.module.as_deref(), Some("nf_conntrack"));
    assert_eq!(ct.flags, vec!["KF_ACQUIRE", "KF_RET_NULL"]);
    assert!(ct.btf_id >= load_dir("6.12.117-1").vmlinux.btf.next_id(), "module ids continue vmlinux's");
    assert_eq!(
        ct.proto.to_string(),
        "struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb_ctx, struct bpf_sock_tuple *bpf_tuple, u32 tuple__sz, struct bpf_ct_opts *opts, u32 opts__sz)"
    );
}

#[test]
fn decl_tags_and_btf_ids_agree_on_6_12_117() {
    if !common::have_corpus() {
        return;
    }
    let s = surface::of(&load_dir("6.12.117-1"));
    let tagged = names(&s, |k| k.sources.contains(&Source::DeclTag));
    let listed = names(&s, |k| k.sources.contains(&Source::BtfIds));
    assert_eq!(tagged, listed);
    assert_eq!(s.discovery.btf_ids, "kfunc_flag");
    assert!(s.kfuncs.iter().all(|k| k.flags_known));
}

#[test]
fn differently_built_6_12_kernels_give_the_same_answer() {
    if !common::have_corpus() {
        return;
    }
    let old = surface::of(&load_dir("6.12.95-1~bpo12+1")); // pahole 1.24, no decl tags
    let new = surface::of(&load_dir("6.12.117-1")); // pahole 1.30, decl tags
    assert_eq!(old.discovery.decl_tags, 0);
    assert!(new.discovery.decl_tags >= 132);
    let a = names(&old, |_| true);
    let b = names(&new, |_| true);
    assert_eq!(a, b, "kfunc sets differ between 6.12.95 and 6.12.117");
    let flags = |s: &Surface| -> BTreeMap<String, Vec<String>> { s.kfuncs.iter().map(|k| (k.name.clone(), k.flags.clone())).collect() };
    assert_eq!(flags(&old), flags(&new));
    let protos = |s: &Surface| -> BTreeMap<String, String> { s.kfuncs.iter().map(|k| (k.name.clone(), k.proto.to_string())).collect() };
    assert_eq!(protos(&old), protos(&new));
}

#[test]
fn kernel_5_10_has_helpers_but_no_kfuncs() {
    if !common::have_corpus() {
        return;
    }
    let s = surface::of(&load_dir("5.10.223-1"));
    assert!(s.kfuncs.is_empty());
    let text = bpftool(&["btf", "dump", "file", kernel_dir("5.10.223-1").join("vmlinux.btf").to_str().unwrap()]);
    check_helpers_against_bpftool(&s, &text);
}

/// Helpers are `BPF_FUNC_*` enumerators of `enum bpf_func_id` in bpftool's raw dump.
fn check_helpers_against_bpftool(s: &Surface, raw_dump: &str) {
    let mut in_enum = false;
    let mut expected = BTreeMap::new();
    for l in raw_dump.lines() {
        if l.starts_with('[') {
            in_enum = l.contains("ENUM 'bpf_func_id'");
            continue;
        }
        if in_enum {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix("'BPF_FUNC_") {
                let (name, val) = rest.split_once("' val=").unwrap();
                if name != "unspec" {
                    expected.insert(val.parse::<u32>().unwrap(), format!("bpf_{name}"));
                }
            }
        }
    }
    let ours: BTreeMap<u32, String> = s.helpers.iter().map(|h| (h.id, h.name.clone())).collect();
    assert!(!expected.is_empty());
    assert_eq!(ours, expected);
    assert_eq!(s.helper_max_id, expected.keys().last().copied());
}

#[test]
fn helpers_match_bpftool_on_every_kernel() {
    if !common::have_corpus() {
        return;
    }
    for k in KERNELS {
        let s = surface::of(&load_dir(k));
        let text = bpftool(&["btf", "dump", "file", kernel_dir(k).join("vmlinux.btf").to_str().unwrap()]);
        check_helpers_against_bpftool(&s, &text);
    }
}

#[test]
fn kernel_6_1_kfuncs_found_by_structure() {
    if !common::have_corpus() {
        return;
    }
    let k = load_dir("6.1.192-2");
    let s = surface::of(&k);
    assert_eq!(s.discovery.btf_ids, "structural");
    assert!(s.kfuncs.iter().all(|f| f.source == Source::Heuristic));
    let get = |n: &str| s.kfuncs.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("{n} missing"));
    // Flags as written in the 6.1 sources (net/netfilter/nf_conntrack_bpf.c, kernel/bpf/helpers.c, kernel/trace/bpf_trace.c).
    assert_eq!(get("bpf_ct_insert_entry").flags, vec!["KF_ACQUIRE", "KF_RELEASE", "KF_RET_NULL"]);
    assert_eq!(get("bpf_lookup_user_key").flags, vec!["KF_ACQUIRE", "KF_RET_NULL", "KF_SLEEPABLE"]);
    assert_eq!(get("crash_kexec").flags, vec!["KF_DESTRUCTIVE"]);
    assert_eq!(get("bpf_kfunc_call_test_kptr_get").flags, vec!["KF_ACQUIRE", "KF_RET_NULL", "KF_KPTR_GET"]);
    assert_eq!(get("bpf_skb_ct_lookup").module.as_deref(), Some("nf_conntrack"));

    // Independent check: every kfunc the 6.1 selftests call that exists in
    // this kernel's BTF must be found (test-module-only kfuncs are not here).
    let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(corpus().join("bpf-objects/index.json")).unwrap()).unwrap();
    let mut used = BTreeSet::new();
    for o in index.as_array().unwrap() {
        if o["package"] == "selftests-6.1" {
            for kf in o["info"]["kfuncs"].as_array().unwrap() {
                used.insert(kf.as_str().or_else(|| kf["name"].as_str()).unwrap().to_string());
            }
        }
    }
    assert!(used.len() >= 10, "selftests use kfuncs: {used:?}");
    let found: BTreeSet<&str> = s.kfuncs.iter().map(|f| f.name.as_str()).collect();
    let mut checked = 0;
    for name in &used {
        let in_btf = k.btfs().any(|b| b.btf.find(name, bpfabi::btf::Kind::Func).is_some());
        if in_btf {
            checked += 1;
            assert!(found.contains(name.as_str()), "{name} is called by 6.1 selftests but not found as a kfunc");
        }
    }
    assert!(checked >= 10, "only {checked} selftest kfuncs checked");
}

#[test]
fn flags_agree_between_heuristic_6_1_and_flagged_6_12_where_unchanged() {
    if !common::have_corpus() {
        return;
    }
    let a = surface::of(&load_dir("6.1.192-2"));
    let b = surface::of(&load_dir("6.12.95-1~bpo12+1"));
    // These kfuncs kept their BTF_ID_FLAGS lines from 6.1 to 6.12.
    for n in ["bpf_skb_ct_lookup", "bpf_xdp_ct_alloc", "bpf_ct_release", "crash_kexec", "bpf_key_put", "cgroup_rstat_flush"] {
        let fa = &a.kfuncs.iter().find(|f| f.name == n).unwrap().flags;
        let fb = &b.kfuncs.iter().find(|f| f.name == n).unwrap().flags;
        assert_eq!(fa, fb, "{n}");
    }
}

#[test]
fn running_kernel_when_present() {
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("no /sys/kernel/btf/vmlinux on this machine");
        return;
    }
    let k = bpfabi::kernel::load_running(&Default::default()).expect("running kernel loads");
    let s = surface::of(&k);
    assert!(s.helpers.len() > 100);
    assert!(k.release.is_some());
    let expected = bpftool_kfunc_protos(&["file", "/sys/kernel/btf/vmlinux"]);
    let ours = decl_tagged_vmlinux_protos(&s);
    assert_eq!(ours, expected);
}

#[test]
fn fastcall_tags_on_live_6_18() {
    if !common::have_corpus() {
        return;
    }
    let text = bpftool(&["btf", "dump", "file", kernel_dir("live-6.18").join("vmlinux.btf").to_str().unwrap()]);
    // `[id] DECL_TAG 'bpf_fastcall' type_id=N ...` -> the FUNC names with those ids.
    let ids: BTreeSet<String> = text
        .lines()
        .filter(|l| l.contains("DECL_TAG 'bpf_fastcall'"))
        .filter_map(|l| l.split("type_id=").nth(1)?.split_whitespace().next().map(str::to_string))
        .collect();
    let tagged: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let (id, rest) = l.strip_prefix('[')?.split_once("] FUNC '")?;
            ids.contains(id).then(|| rest.split('\'').next().unwrap().to_string())
        })
        .collect();
    assert!(!tagged.is_empty());
    let s = surface::of(&load_dir("live-6.18"));
    let ours: BTreeSet<String> = s.kfuncs.iter().filter(|k| k.fastcall).map(|k| k.name.clone()).collect();
    assert_eq!(ours, tagged);
}

/// Every kfunc prototype of every corpus kernel: the type expression the
/// surface keeps prints exactly what the renderer prints straight from the
/// BTF (and so what bpftool prints, checked above), and its text reads back
/// to the same expression, as a surface or manifest read from JSON/TOML does.
#[test]
fn typed_prototypes_print_as_btf_and_read_back_on_every_kernel() {
    if !common::have_corpus() {
        return;
    }
    for k in KERNELS {
        let kernel = load_dir(k);
        let s = surface::of(&kernel);
        let mut tagged = 0;
        for f in &s.kfuncs {
            let btf = match &f.module {
                None => &kernel.vmlinux.btf,
                Some(m) => &kernel.module(m).unwrap().btf,
            };
            let text = f.proto.to_string();
            assert_eq!(text, bpfabi::btf::render::func_decl(btf, f.btf_id), "{k}: {}", f.name);
            let back: bpfabi::ctype::Decl = text.parse().unwrap_or_else(|e| panic!("{k}: {text}: {e}"));
            assert_eq!(back, f.proto, "{k}: {text}");
            assert_eq!(f.proto.name, f.name, "{k}");
            assert_eq!(f.proto.takes_args(), !text.ends_with("(void)"), "{k}: {text}");
            tagged += f.proto.tagged().len();
            let json = serde_json::to_string(&f.proto).unwrap();
            assert_eq!(json, serde_json::to_string(&text).unwrap());
            assert_eq!(serde_json::from_str::<bpfabi::ctype::Decl>(&json).unwrap(), f.proto);
        }
        assert!(s.kfuncs.is_empty() || tagged > s.kfuncs.len() / 2, "{k}: {tagged} struct/union mentions");
    }
}

/// `surface` loads kernels without their `.config` (`LoadOptions::config`
/// off): nothing in a surface comes from it, so the surface is the same
/// with and without, and the option does drop the config.
#[test]
fn a_surface_is_the_same_without_the_kernels_config() {
    if !common::have_corpus() {
        return;
    }
    for k in ["6.12.117-1", "5.10.223-1"] {
        let dir = kernel_dir(k);
        assert!(dir.join("config").is_file(), "{k}: the corpus kernel has a config");
        let with = load_dir(k);
        let text = with.info.config.as_deref().unwrap_or_default();
        assert!(text.lines().any(|l| l == "CONFIG_BPF_SYSCALL=y"), "{k}: config read");
        let opts = bpfabi::kernel::LoadOptions { config: false, lazy_btf: true, ..Default::default() };
        let without = bpfabi::kernel::load(&[dir], &opts).unwrap();
        assert!(without.info.config.is_none(), "{k}: config not read");
        let json = |s: &Surface| serde_json::to_string(s).unwrap();
        assert_eq!(json(&surface::of(&with)), json(&surface::of(&without)), "{k}");
    }
}
