//! The BPF object reader on every object of the corpus, cross-checked with
//! what an independent reader recorded in `bpf-objects/index.json`.

mod common;
use bpfabi::object;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn every_corpus_object_matches_the_index() {
    if !common::have_corpus() {
        return;
    }
    let root = corpus().join("bpf-objects");
    let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("index.json")).unwrap()).unwrap();
    // Helper ids -> names from a kernel's enum bpf_func_id (the index names helpers).
    let helpers: BTreeMap<u32, String> = bpfabi::surface::helpers_of(&load_dir("6.12.117-1").vmlinux.btf)
        .0
        .into_iter()
        .map(|h| (h.id, h.name.trim_start_matches("bpf_").to_string()))
        .collect();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for e in index.as_array().unwrap() {
        let file = e["file"].as_str().unwrap();
        let info = &e["info"];
        let objs = object::read_path(&root.join(file)).unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_eq!(objs.len(), 1, "{file}");
        let o = &objs[0].1;
        checked += 1;
        let mut check = |what: &str, ours: String, theirs: String| {
            if ours != theirs {
                mismatches.push(format!("{file}: {what}: ours {ours} index {theirs}"));
            }
        };
        let progs: BTreeSet<String> = o.programs.iter().map(|p| p.name.clone()).collect();
        // The index lists global functions, .text ones included; libbpf (and
        // bpfabi) treat .text functions as subprograms and static functions
        // of program sections as programs.
        let want: BTreeSet<String> = info["programs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let subs: BTreeSet<String> = o.subprograms.iter().cloned().collect();
        let want_progs: BTreeSet<String> = want.difference(&subs).cloned().collect();
        if !want_progs.is_subset(&progs) {
            check("programs", format!("{progs:?}"), format!("{want_progs:?}"));
        }
        let kf: BTreeSet<String> = o.programs.iter().flat_map(|p| p.kfuncs.iter().cloned()).collect();
        let kf_ext: BTreeSet<String> = o.externs.iter().filter(|x| x.kind == "kfunc").map(|x| x.name.clone()).collect();
        let want: BTreeSet<String> = info["kfuncs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        check("kfunc externs", format!("{kf_ext:?}"), format!("{want:?}"));
        assert!(kf.is_subset(&kf_ext), "{file}: called kfuncs {kf:?} not all declared {kf_ext:?}");
        let kc: BTreeSet<String> = o.externs.iter().filter(|x| x.kind == "kconfig").map(|x| x.name.clone()).collect();
        let want: BTreeSet<String> = info["kconfig_externs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        check("kconfig", format!("{kc:?}"), format!("{want:?}"));
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for r in &o.core_relos {
            *kinds.entry(r.kind.to_string()).or_default() += 1;
        }
        let want: BTreeMap<String, u64> = info["btf_ext_core_relo_kinds"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect())
            .unwrap_or_default();
        check("core relo kinds", format!("{kinds:?}"), format!("{want:?}"));
        // Helpers called anywhere in the object (the index counts unreachable
        // subprograms too); each program's needs are a subset.
        let name_of = |id: &u32| helpers.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
        let anywhere: BTreeSet<String> = o.helpers_anywhere.iter().map(name_of).collect();
        let want: BTreeSet<String> = info["helpers"].as_object().unwrap().keys().cloned().collect();
        check("helpers", format!("{anywhere:?}"), format!("{want:?}"));
        for p in &o.programs {
            let used: BTreeSet<String> = p.helpers.keys().map(name_of).collect();
            assert!(used.is_subset(&anywhere), "{file}: {}", p.name);
        }
        check("license", format!("{:?}", o.license), format!("{:?}", info["license"].as_str().map(str::to_string)));
    }
    assert!(checked >= 200, "{checked}");
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn objects_embedded_in_an_executable_are_found() {
    if !common::have_corpus() {
        return;
    }
    // A real executable carrying two BPF objects in .rodata, as libbpf
    // skeletons embed them (gcc + .incbin).
    let root = corpus().join("bpf-objects");
    let a = root.join("libbpf-tools/0.26.0+ds-1/runqslower.bpf.o");
    let b = root.join("selftests-6.1/bpf_cubic.bpf.o");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("skel.c");
    std::fs::write(
        &src,
        format!(
            "__asm__(\".section .rodata\\n.balign 8\\nobj_a: .incbin \\\"{}\\\"\\n.balign 8\\nobj_b: .incbin \\\"{}\\\"\\n.text\\n\");\nint main(void) {{ return 0; }}\n",
            a.display(),
            b.display()
        ),
    )
    .unwrap();
    let exe = dir.join("skel");
    let o = std::process::Command::new("gcc").arg(&src).arg("-o").arg(&exe).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let found = object::read_path(&exe).unwrap();
    assert_eq!(found.len(), 2);
    let names = |p: &std::path::Path| -> BTreeSet<String> {
        object::read_path(p).unwrap()[0].1.programs.iter().map(|x| x.name.clone()).collect()
    };
    let got: Vec<BTreeSet<String>> = found.iter().map(|(_, o)| o.programs.iter().map(|x| x.name.clone()).collect()).collect();
    assert_eq!(got, vec![names(&a), names(&b)]);
    assert!(found[0].0 > 0 && found[1].0 > found[0].0);
    // A file with no BPF object at all is a clear error.
    let e = object::read_path(&dir.join("skel.c")).unwrap_err();
    assert!(e.what.contains("EM_BPF"), "{e}");
}
