//! `diff` and `versions` on real kernel pairs, with the asserted changes
//! confirmed independently from bpftool's raw BTF dumps.

mod common;
use bpfabi::diff::{self, DiffOptions, Severity};
use bpfabi::model::KernelModel;
use bpfabi::policy::DefaultPolicy;
use common::*;
use std::collections::BTreeSet;
use std::process::Command;

/// Parameter names of FUNC `name` in bpftool's raw dump (`-B` for modules).
fn bpftool_params(dump: &str, name: &str) -> Vec<String> {
    let func = format!("] FUNC '{name}' type_id=");
    let proto_id = dump
        .lines()
        .find_map(|l| l.split_once(&func).map(|(_, r)| r.split_whitespace().next().unwrap().to_string()))
        .unwrap_or_else(|| panic!("{name} not in dump"));
    let mut lines = dump.lines().skip_while(|l| !l.starts_with(&format!("[{proto_id}] FUNC_PROTO")));
    lines.next().unwrap();
    lines.take_while(|l| !l.starts_with('[')).map(|l| l.trim().split('\'').nth(1).unwrap().to_string()).collect()
}

/// `STRUCT 'name' size=N` from a raw dump.
fn bpftool_struct_size(dump: &str, name: &str) -> u32 {
    let needle = format!("STRUCT '{name}' size=");
    dump.lines().find_map(|l| l.split_once(&needle).map(|(_, r)| r.split_whitespace().next().unwrap().parse().unwrap())).unwrap()
}

/// Top-level named members of a struct in a raw dump.
fn bpftool_members(dump: &str, name: &str) -> BTreeSet<String> {
    let head = format!("STRUCT '{name}' size=");
    let mut lines = dump.lines().skip_while(|l| !l.contains(&head));
    lines.next().unwrap();
    lines.take_while(|l| !l.starts_with('[')).map(|l| l.trim().split('\'').nth(1).unwrap().to_string()).filter(|n| n != "(anon)").collect()
}

fn raw(args: &[&str]) -> String {
    let mut a = vec!["btf", "dump"];
    a.extend_from_slice(args);
    bpftool(&a)
}

#[test]
fn same_release_built_twice_changes_no_kfunc() {
    if !common::have_corpus() {
        return;
    }
    let (ko, kn) = (load_dir("6.12.95-1~bpo12+1"), load_dir("6.12.117-1"));
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    // Prototype fingerprints are identical for every kfunc.
    let (vo, vn) = (po.versions().kfuncs.clone(), pn.versions().kfuncs.clone());
    assert_eq!(vo.len(), 162);
    for (k, (p, _)) in &vo {
        assert_eq!(Some(p), vn.get(k).map(|x| &x.0), "{k:?}");
    }
    let d = diff::diff(&po, &pn, &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    assert!(!d.changes.iter().any(|c| c.kind.as_str().starts_with("kfunc") || c.kind.as_str().starts_with("helper")), "{:?}", &d.changes[..3]);
    // struct cgroup grew between the two builds: confirmed from bpftool's dumps.
    let (o, n) = (
        bpftool_struct_size(&raw(&["file", kernel_dir("6.12.95-1~bpo12+1").join("vmlinux.btf").to_str().unwrap()]), "cgroup"),
        bpftool_struct_size(&raw(&["file", kernel_dir("6.12.117-1").join("vmlinux.btf").to_str().unwrap()]), "cgroup"),
    );
    assert_ne!(o, n);
    let c = d.changes.iter().find(|c| c.kind == "type_size_changed" && c.name == "struct cgroup").unwrap();
    assert_eq!(c.detail, format!("size {o} -> {n} bytes"));
}

#[test]
fn kernel_6_1_to_6_12() {
    if !common::have_corpus() {
        return;
    }
    let (ko, kn) = (load_dir("6.1.192-2"), load_dir("6.12.117-1"));
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    let d = diff::diff(&po, &pn, &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    assert!(d.has_breaking());

    // bbr_main gained parameters: names from bpftool's raw dumps of both.
    // The module's own types, then vmlinux's: pahole may dedup a module's
    // FUNC_PROTO into the base (6.12's bbr_main points at a vmlinux proto).
    let dump = |k: &str| {
        let kd = kernel_dir(k);
        let vm = kd.join("vmlinux.btf");
        raw(&["-B", vm.to_str().unwrap(), "file", kd.join("modules/tcp_bbr.btf").to_str().unwrap()]) + &raw(&["file", vm.to_str().unwrap()])
    };
    let (old_p, new_p) = (bpftool_params(&dump("6.1.192-2"), "bbr_main"), bpftool_params(&dump("6.12.117-1"), "bbr_main"));
    let added: Vec<&String> = new_p.iter().filter(|p| !old_p.contains(p)).collect();
    assert!(!added.is_empty());
    let c = d.changes.iter().find(|c| c.kind == "kfunc_proto_changed" && c.name == "bbr_main").unwrap();
    assert_eq!(c.module.as_deref(), Some("tcp_bbr"));
    for p in &added {
        assert!(c.detail.contains(&format!(" {p}` added")), "{p}: {}", c.detail);
    }
    assert!(!c.detail.contains("removed") && !c.detail.contains("retyped"), "{}", c.detail);

    // Helpers 210/211 arrived in 6.2 (both kernels' enums are checked against bpftool elsewhere).
    let added: BTreeSet<&str> = d.changes.iter().filter(|c| c.kind == "helper_added").map(|c| c.name.as_str()).collect();
    assert_eq!(added, BTreeSet::from(["bpf_cgrp_storage_delete", "bpf_cgrp_storage_get"]));

    // 6.1's test kfuncs moved to the bpf_testmod module, absent here:
    // removed, graded info (no program outside the selftests calls them);
    // every other removal is breaking.
    let removed: Vec<&str> = d.changes.iter().filter(|c| c.kind == "kfunc_removed").map(|c| c.name.as_str()).collect();
    assert!(removed.contains(&"bpf_kfunc_call_test1"));
    for c in d.changes.iter().filter(|c| c.kind == "kfunc_removed") {
        let want = if bpfabi::policy::is_test_kfunc(&c.name) { Severity::Info } else { Severity::Breaking };
        assert_eq!(c.severity, want, "{}", c.name);
    }
    // kfuncs new in 6.12 (e.g. bpf_task_acquire, 6.2) are additions.
    assert!(d.changes.iter().any(|c| c.kind == "kfunc_added" && c.name == "bpf_task_acquire"));
}

#[test]
fn task_struct_5_10_to_6_1_matches_bpftool() {
    if !common::have_corpus() {
        return;
    }
    let (ko, kn) = (load_dir("5.10.223-1"), load_dir("6.1.192-2"));
    let (po, pn) = (KernelModel::new(ko.clone()), KernelModel::new(kn.clone()));
    let opts = DiffOptions::default().types(vec!["task_struct".into()]);
    let d = diff::diff(&po, &pn, &opts, &DefaultPolicy);
    let raw_of = |k: &str| raw(&["file", kernel_dir(k).join("vmlinux.btf").to_str().unwrap()]);
    let (om, nm) = (bpftool_members(&raw_of("5.10.223-1"), "task_struct"), bpftool_members(&raw_of("6.1.192-2"), "task_struct"));
    // Member names of one change kind (the first `quoted` word of the detail).
    let members_of = |kind: &str| -> BTreeSet<String> {
        d.changes.iter().filter(|c| c.kind == kind && c.name == "struct task_struct").map(|c| c.detail.split('`').nth(1).unwrap().to_string()).collect()
    };
    let (ours_removed, ours_added) = (members_of("type_member_removed"), members_of("type_member_added"));
    let removed: BTreeSet<String> = om.difference(&nm).cloned().collect();
    let added: BTreeSet<String> = nm.difference(&om).cloned().collect();
    assert!(!removed.is_empty() && !added.is_empty());
    // Top-level named members seen by bpftool are a subset of ours (we also
    // flatten members of anonymous unions, as C code accesses them).
    assert!(removed.is_subset(&ours_removed), "{removed:?} vs {ours_removed:?}");
    assert!(added.is_subset(&ours_added), "{added:?} vs {ours_added:?}");
}

#[test]
fn cli_exit_codes_and_formats() {
    if !common::have_corpus() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let k = |n: &str| kernel_dir(n).to_str().unwrap().to_string();
    let same = Command::new(bin).args(["diff", &k("6.12.117-1"), &k("6.12.117-1")]).output().unwrap();
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("0 breaking, 0 compatible, 0 info"));
    let o = Command::new(bin).args(["diff", &k("6.1.192-2"), &k("6.12.117-1"), "--json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "bpfabi.diff/1");
    let c = v["changes"].as_array().unwrap().iter().find(|c| c["name"] == "bbr_main").unwrap();
    assert_eq!(c["kind"], "kfunc_proto_changed");
    assert_eq!(c["severity"], "breaking");
    assert_eq!(c["module"], "tcp_bbr");
    let md = Command::new(bin).args(["diff", &k("6.1.192-2"), &k("6.12.117-1"), "--markdown", "--no-kfunc-types"]).output().unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.starts_with("## BPF ABI changes: `6.1.0-56-amd64` → `6.12.117+deb13-amd64`"));
    assert!(md.contains("| breaking | kfunc_proto_changed | `bbr_main` | tcp_bbr |"));
    let bad = Command::new(bin).args(["diff", &k("6.1.192-2"), "/nonexistent"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));

    let v = Command::new(bin).args(["versions", &k("6.12.117-1"), "--json", "--type", "struct task_struct"]).output().unwrap();
    assert_eq!(v.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["schema"], "bpfabi.versions/1");
    let list = v["versions"].as_array().unwrap();
    assert_eq!(list.iter().filter(|x| x["kind"] == "kfunc").count(), 162);
    let t = list.iter().find(|x| x["name"] == "task_struct").unwrap();
    assert_eq!(t["kind"], "struct");
    assert_eq!(t["deep"].as_str().unwrap().len(), 16);
}

#[test]
fn kernel_6_12_to_live_6_18_kfunc_sets_match_bpftool() {
    if !common::have_corpus() {
        return;
    }
    // vmlinux only on both sides (the live kernel has no module BTF here).
    let old = bpfabi::kernel::load(&[kernel_dir("6.12.117-1").join("vmlinux.btf")], &Default::default()).unwrap();
    let new = load_dir("live-6.18");
    let (po, pn) = (KernelModel::new(old.clone()), KernelModel::new(new.clone()));
    let d = diff::diff(&po, &pn, &DiffOptions::default(), &DefaultPolicy);
    let names = |k: &str| -> BTreeSet<String> {
        bpftool_kfunc_protos(&["file", kernel_dir(k).join("vmlinux.btf").to_str().unwrap()])
            .iter()
            .map(|p| {
                // The identifier before the first '(' that is not an attribute's.
                let mut rest = p.as_str();
                loop {
                    let (head, tail) = rest.split_once('(').unwrap();
                    let id = head.rsplit([' ', '*', '(']).next().unwrap();
                    if !id.is_empty() && !["__attribute__", "btf_type_tag", "address_space"].contains(&id) {
                        break id.to_string();
                    }
                    rest = tail;
                }
            })
            .collect()
    };
    let (a, b) = (names("6.12.117-1"), names("live-6.18"));
    let want_added: BTreeSet<String> = b.difference(&a).cloned().collect();
    let want_gone: BTreeSet<String> = a.difference(&b).cloned().collect();
    let of = |kind: &str| -> BTreeSet<String> { d.changes.iter().filter(|c| c.kind == kind).map(|c| c.name.clone()).collect() };
    let renamed = of("kfunc_renamed");
    let gone: BTreeSet<String> = of("kfunc_removed").union(&renamed).cloned().collect();
    assert_eq!(gone, want_gone);
    // A renamed kfunc's successor is not reported as added.
    let added = of("kfunc_added");
    assert!(added.is_subset(&want_added));
    assert_eq!(added.len() + renamed.len(), want_added.len());
    assert!(!want_added.is_empty());
    // live 6.18 has no .BTF_ids: flags unknown, so no flag changes are claimed.
    assert!(of("kfunc_flags_changed").is_empty());
}

/// What changed for BPF programs: kfunc and helper changes first; type
/// changes attributed to the kfunc that reaches them; layout changes of types
/// kfunc callers only hold pointers to are informational; a member retyped
/// between integers of one size and signedness is compatible.
#[test]
fn type_changes_are_attributed_and_graded_by_exposure() {
    if !have_corpus() {
        return;
    }
    let (o, n) = (KernelModel::new(load_dir("6.12.95-1~bpo12+1")), KernelModel::new(load_dir("6.12.117-1")));
    let d = diff::diff(&o, &n, &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    let c = d.changes.iter().find(|c| c.kind == "type_member_retyped" && c.name == "struct audit_names").unwrap();
    // Reached from kfuncs only behind `struct task_struct *`: info for callers.
    assert_eq!((c.severity, c.exposure), (Severity::Info, Some(diff::Exposure::BehindPointer)), "{c:?}");
    // Asked for by name, judged on its own: compatible, not breaking.
    let by_name = diff::diff(&o, &n, &DiffOptions::default().types(vec!["struct audit_names".into()]), &DefaultPolicy);
    let c2 = by_name.changes.iter().find(|c| c.kind == "type_member_retyped" && c.name == "struct audit_names").unwrap();
    assert_eq!((c2.severity, c2.exposure), (Severity::Compatible, None), "{c2:?}");
    assert!(c.detail.contains("`ino` retyped from `long unsigned int` to `u64` (same size and signedness)"), "{}", c.detail);
    // Confirm from bpftool: both are 8-byte unsigned integers.
    let dump = raw(&["file", kernel_dir("6.12.117-1").join("vmlinux.btf").to_str().unwrap()]);
    assert!(dump.contains("] INT 'long unsigned int' size=8 bits_offset=0 nr_bits=64 encoding=(none)"));
    assert!(c.via.as_deref().is_some_and(|v| v.starts_with("bpf_")), "{c:?}");

    let (o, n) = (KernelModel::new(load_dir("6.1.192-2")), KernelModel::new(load_dir("6.12.117-1")));
    let d = diff::diff(&o, &n, &DiffOptions::kfuncs_and_their_types(), &DefaultPolicy);
    let types: Vec<_> = d.changes.iter().filter(|c| c.kind.subject() == diff::SubjectKind::Type).collect();
    assert!(types.len() > 1000, "{}", types.len());
    // Every reached type has a path from a kfunc; behind-pointer ones are info.
    for c in &types {
        assert!(c.via.is_some() && c.exposure.is_some(), "{c:?}");
        if c.exposure == Some(diff::Exposure::BehindPointer) {
            assert_eq!(c.severity, Severity::Info, "{c:?}");
        }
    }
    // The breaking changes are the kfunc and helper ones (the figure
    // `--no-kfunc-types` gives).
    let d2 = diff::diff(&o, &n, &DiffOptions::default(), &DefaultPolicy);
    assert_eq!(d.summary.breaking, d2.summary.breaking);
    // The default text lists one line per changed type, with the path.
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let out = Command::new(bin).args(["diff", kernel_dir("6.1.192-2").to_str().unwrap(), kernel_dir("6.12.117-1").to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let per_type: BTreeSet<&str> = types.iter().map(|c| c.name.as_str()).collect();
    assert!(text.contains(&format!("\ntypes ({} types changed, 0 with breaking changes;", per_type.len())), "{}", &text[..2000.min(text.len())]);
    assert!(text.lines().count() < 1000, "{}", text.lines().count());
    let all =
        Command::new(bin).args(["diff", kernel_dir("6.1.192-2").to_str().unwrap(), kernel_dir("6.12.117-1").to_str().unwrap(), "--types"]).output().unwrap();
    assert!(String::from_utf8(all.stdout).unwrap().lines().count() > types.len());
}
