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
    let helpers: BTreeMap<u32, String> =
        bpfabi::surface::helpers_of(&load_dir("6.12.117-1").vmlinux.btf).0.into_iter().map(|h| (h.id, h.name.trim_start_matches("bpf_").to_string())).collect();
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
        let want: BTreeMap<String, u64> =
            info["btf_ext_core_relo_kinds"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()).unwrap_or_default();
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
    let names = |p: &std::path::Path| -> BTreeSet<String> { object::read_path(p).unwrap()[0].1.programs.iter().map(|x| x.name.clone()).collect() };
    let got: Vec<BTreeSet<String>> = found.iter().map(|(_, o)| o.programs.iter().map(|x| x.name.clone()).collect()).collect();
    assert_eq!(got, vec![names(&a), names(&b)]);
    assert!(found[0].0 > 0 && found[1].0 > found[0].0);
    // A file with no BPF object at all is a clear error.
    let e = object::read_path(&dir.join("skel.c")).unwrap_err();
    assert!(e.what.contains("EM_BPF"), "{e}");
}

/// kfunc call sites as the object reader finds them (from its decoded
/// instructions) are the kfunc relocations `llvm-objdump -dr` lists, in the
/// same function at the same instruction, on every selftest object; and
/// `.BTF.ext` line info puts them on their source line.
#[test]
fn kfunc_call_sites_are_the_relocations_llvm_objdump_lists() {
    if !common::have_corpus() {
        return;
    }
    if std::process::Command::new("llvm-objdump").arg("--version").output().is_err() {
        eprintln!("skipping: no llvm-objdump");
        return;
    }
    let dir = corpus().join("bpf-objects/selftests-6.1");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "o")).collect();
    files.sort();
    let mut sites_seen = 0;
    for f in &files {
        let o = &object::read_path(f).unwrap()[0].1;
        let kfuncs: BTreeSet<&str> = o.externs.iter().filter(|e| e.kind == object::ExternKind::Kfunc).map(|e| e.name.as_str()).collect();
        if kfuncs.is_empty() {
            continue;
        }
        let out = std::process::Command::new("llvm-objdump").args(["-dr", "--no-show-raw-insn"]).arg(f).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let (mut section, mut func, mut fstart) = (String::new(), String::new(), 0u64);
        let mut want = BTreeSet::new();
        for l in text.lines() {
            if let Some(s) = l.strip_prefix("Disassembly of section ") {
                section = s.trim_end_matches(':').to_string();
            } else if let Some((addr, rest)) = l.split_once(" <") {
                let name = rest.trim_end_matches(">:");
                if l.ends_with(">:") && !name.starts_with("LBB") && !name.starts_with(".L") {
                    func = name.to_string();
                    fstart = u64::from_str_radix(addr.trim(), 16).unwrap();
                }
            } else if let Some((off, rel)) = l.trim().split_once(":  R_BPF_") {
                let sym = rel.split_whitespace().nth(1).unwrap_or("");
                if kfuncs.contains(sym) {
                    let off = u64::from_str_radix(off.trim(), 16).unwrap();
                    want.insert((section.clone(), func.clone(), (off - fstart) / 8, object::essential(sym).to_string()));
                }
            }
        }
        let got: BTreeSet<_> = o.kfunc_call_sites().into_iter().map(|s| (s.section, s.function, s.insn, s.kfunc)).collect();
        assert_eq!(got, want, "{}", f.display());
        sites_seen += got.len();
    }
    assert!(sites_seen > 50, "{sites_seen} kfunc call sites");
    // The line of one of them (clang's .BTF.ext line info).
    let o = &object::read_path(&dir.join("cgroup_hierarchical_stats.bpf.o")).unwrap()[0].1;
    let s = o.kfunc_call_sites().into_iter().find(|s| s.kfunc == "cgroup_rstat_updated").unwrap();
    assert_eq!((s.function.as_str(), s.insn), ("counter", 32));
    let line = s.line.unwrap();
    assert_eq!((line.line, line.column), (78, 2));
    assert!(line.file.ends_with("progs/cgroup_hierarchical_stats.c"), "{line:?}");
}

/// One unreadable object among several embedded in a file does not hide the
/// others: `locate` reads each on its own (what `vmtest` loads), while
/// `read_bytes` (what `check` reads) fails on the first.
#[test]
fn locate_reads_each_embedded_object_on_its_own() {
    if !common::have_corpus() {
        return;
    }
    let dir = corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1");
    let a = std::fs::read(dir.join("runqslower.bpf.o")).unwrap();
    let b = std::fs::read(dir.join("biolatency.bpf.o")).unwrap();
    // A host file holding a, then b with its BTF's magic broken.
    let mut host = b"\x7fELF-not-bpf, padding to 32 ....".to_vec();
    assert_eq!(host.len(), 32);
    host.extend(&a);
    host.resize(host.len().next_multiple_of(8), 0);
    let off_b = host.len();
    let mut bad = b.clone();
    let magic = bad.windows(4).position(|w| w == [0x9f, 0xeb, 1, 0]).unwrap();
    bad[magic] = 0;
    host.extend(&bad);
    let bytes = bpfabi::bytes::Bytes::from_vec(host);
    let found = object::locate(&bytes, "host").unwrap();
    let names: Vec<&str> = found.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["host@0x20".to_string(), format!("host@{off_b:#x}")]);
    assert_eq!(found[0].bytes.as_slice(), &a[..]);
    assert_eq!(found[0].object.as_ref().unwrap().programs.len(), object::read_path(&dir.join("runqslower.bpf.o")).unwrap()[0].1.programs.len());
    assert!(found[1].object.is_err());
    assert!(object::read_bytes(&bytes, "host").is_err());
}

/// An object embedded at an offset that is not 8-aligned (a Rust skeleton's
/// `include_bytes!`, as in Debian's bpftop) is read: `locate` copies it for
/// the ELF parser, which refused it in place ("Invalid ELF header size or
/// alignment").
#[test]
fn an_object_embedded_at_an_odd_offset_is_read() {
    if !common::have_corpus() {
        return;
    }
    let path = corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1/runqslower.bpf.o");
    let a = std::fs::read(&path).unwrap();
    let mut host = b"\x7fELF-not-bpf, padding to 33 .....".to_vec();
    assert_eq!(host.len(), 33);
    host.extend(&a);
    let found = object::locate(&bpfabi::bytes::Bytes::from_vec(host), "host").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "host@0x21");
    assert_eq!(found[0].bytes.as_slice(), &a[..]);
    let o = found[0].object.as_ref().unwrap();
    assert_eq!(o.programs.len(), object::read_path(&path).unwrap()[0].1.programs.len());
}

/// Every CO-RE relocation of the corpus has its access string parsed when
/// the object is read, and the parse spells the string back.
#[test]
fn core_access_strings_are_parsed_when_read() {
    if !common::have_corpus() {
        return;
    }
    let (mut n, mut objects) = (0, 0);
    for e in std::fs::read_dir(corpus().join("bpf-objects/selftests-6.1")).unwrap() {
        let p = e.unwrap().path();
        let Ok(objs) = object::read_path(&p) else { continue };
        for (_, o) in objs {
            objects += 1;
            for r in &o.core_relos {
                let spec = r.spec.as_ref().unwrap_or_else(|| panic!("{}: {}", o.path, r.access));
                assert_eq!(spec.indices().iter().map(|i| i.to_string()).collect::<Vec<_>>().join(":"), r.access);
                n += 1;
            }
        }
    }
    assert!(objects > 100 && n > 1000, "{objects} objects, {n} relocations");
    // runqslower reads task_struct->pid: one step, the member named pid.
    let o = &object::read_path(&corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1/runqslower.bpf.o")).unwrap()[0].1;
    let r = o.core_relos.iter().find(|r| r.path == "task_struct->pid").unwrap();
    let btf = o.btf.as_ref().unwrap();
    let t = btf.resolve(r.type_id.0).unwrap();
    assert_eq!(t.member(r.spec.as_ref().unwrap().steps()[0] as usize).unwrap().name, "pid");
}
