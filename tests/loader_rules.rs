//! Loader rules (src/loader) against real objects and real per-loader
//! loads. Gated: the corpus (BPFABI_CORPUS or ../shared/corpus) and, for
//! the comparison with real loads, tests/fixtures/loaders/*.jsonl (the
//! per-loader ground truth); each test skips with a note when its data is
//! absent. No kernel is needed: these are the loader's own rules.

use bpfabi::loader::{Family, Finding, Loader, LoaderChoice, Version};
use bpfabi::object::BpfObject;
use bpfabi::vocab::ReasonKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let c = std::env::var_os("BPFABI_CORPUS").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if c.join("bpf-objects").is_dir() {
        Some(c)
    } else {
        eprintln!("no corpus (BPFABI_CORPUS): skipped");
        None
    }
}

fn object(c: &Path, rel: &str) -> BpfObject {
    let p = c.join("bpf-objects").join(rel);
    BpfObject::parse(&std::fs::read(&p).unwrap(), rel).unwrap()
}

fn loader(s: &str) -> Loader {
    match s.parse::<LoaderChoice>().unwrap() {
        LoaderChoice::Fixed(l) => l,
        LoaderChoice::Auto => unreachable!(),
    }
}

fn sections_refused(l: &Loader, o: &BpfObject) -> Vec<String> {
    let mut v: Vec<String> = l.findings(o).into_iter().filter(|f| f.rule == ReasonKind::SectionUnknown).map(|f| f.subject).collect();
    v.sort();
    v
}

/// cilium/ebpf's own test objects: `socket/tail` and friends are
/// cilium/ebpf names (prefix `socket`), which libbpf 1.x refuses; the real
/// libbpf 1.7 ground truth says "missing BPF prog type" for them.
#[test]
fn cilium_test_objects_read_by_each_loader() {
    let rules_of = |l: &str, o: &bpfabi::object::BpfObject| loader(l).findings(o).into_iter().map(|f| f.rule).collect::<Vec<_>>();
    let Some(c) = corpus() else { return };
    let o = object(&c, "golang-github-cilium-ebpf-dev/0.9.1-1/btf_map_init-el.elf.o");
    assert_eq!(sections_refused(&loader("cilium:0.22"), &o), Vec::<String>::new());
    assert_eq!(sections_refused(&loader("cilium:0.11"), &o), Vec::<String>::new());
    assert_eq!(sections_refused(&loader("libbpf:1.7"), &o), vec!["socket/main", "socket/tail"]);
    // libbpf 0.x: `socket` is SEC_SLOPPY_PFX.
    assert_eq!(sections_refused(&loader("libbpf:0.8"), &o), Vec::<String>::new());
    let legacy = object(&c, "golang-github-cilium-ebpf-dev/0.9.1-1/loader-clang-14-el.elf.o");
    let rules = |l: &str| loader(l).findings(&legacy).into_iter().map(|f| f.rule).collect::<Vec<_>>();
    assert!(rules("libbpf:1.7").contains(&ReasonKind::LegacyMapsUnsupported));
    assert!(!rules("libbpf:0.8").contains(&ReasonKind::LegacyMapsUnsupported));
    assert!(!rules("cilium:0.22").contains(&ReasonKind::LegacyMapsUnsupported));
    // Its ARRAY_OF_MAPS has no inner map: "ArrayOfMaps requires InnerMap".
    assert!(rules("cilium:0.22").contains(&ReasonKind::MapInnerMissing));
    // census `loaders`: by the object-level rules alone, libbpf and
    // cilium/ebpf can load btf_map_init (libbpf 1.7 refuses its programs,
    // not the object); aya 0.14 refuses its prog array initialised with
    // programs (aya-obj `parse_btf_map_struct`; the real aya 0.14 says "BTF
    // error" on 6.1 and 6.18); none the legacy object (libbpf >= 1.0:
    // legacy maps; cilium/ebpf and aya: a map-in-map without an inner map).
    assert_eq!(bpfabi::loader::loadable_by(&o), vec![Family::Libbpf, Family::Cilium]);
    assert!(rules_of("aya:0.14", &o).contains(&ReasonKind::MapDefinitionUnsupported));
    // aya 0.13 skips `values`, but has no map-in-map type at all
    // (aya-v0.13.1 bpf.rs `parse_map`: "type ... is unsupported").
    let aya13 = loader("aya:0.13").findings(&o);
    assert!(!aya13.iter().any(|f| f.message.contains("parse_btf_map_struct")), "{aya13:#?}");
    assert!(aya13.iter().any(|f| f.rule == ReasonKind::MapDefinitionUnsupported && f.message.contains("`parse_map`")), "{aya13:#?}");
    assert_eq!(bpfabi::loader::loadable_by(&legacy), Vec::<Family>::new());
    // inspect: `socket/tail` is unknown to libbpf 1.7, a socket filter to
    // cilium/ebpf (prefix `socket`) and aya (`socket` kind).
    let d = bpfabi::loader::section_disagreements(&o);
    let tail = d.iter().find(|d| d.section == "socket/tail").unwrap();
    assert_eq!(tail.programs, vec!["tail_1"]);
    let by: Vec<(String, Option<&str>, bool)> = tail.readings.iter().map(|r| (r.loader.to_string(), r.prog_type.as_deref(), r.refuses_object)).collect();
    assert_eq!(
        by,
        vec![
            ("libbpf 1.7".to_string(), None, false),
            ("cilium/ebpf 0.22".to_string(), Some("BPF_PROG_TYPE_SOCKET_FILTER"), false),
            ("aya 0.14".to_string(), Some("BPF_PROG_TYPE_SOCKET_FILTER"), false)
        ]
    );
    // Evidence: prefix-only section names and a legacy `maps` section.
    let inf = bpfabi::loader::evidence::infer(&legacy);
    assert_eq!(inf.loader.family(), Family::Cilium, "{:?}", inf.why);
}

/// One line of tests/fixtures/loaders/*.jsonl.
#[derive(serde::Deserialize)]
struct Truth {
    object: String,
    program: Option<String>,
    loader: String,
    version: String,
    loaded: bool,
    status: String,
    env: Option<String>,
}

/// Against real loads: no program a real loader loaded is refused by that
/// loader's rules, and every program libbpf 1.7 refused for its section
/// name or a legacy `maps` section (object-level) is predicted.
#[test]
fn loader_rules_agree_with_real_loads() {
    let Some(c) = corpus() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loaders");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "jsonl")).collect())
        .unwrap_or_default();
    if files.is_empty() {
        eprintln!("no per-loader ground truth (tests/fixtures/loaders/*.jsonl): skipped");
        return;
    }
    let mut objects: BTreeMap<String, Option<BpfObject>> = BTreeMap::new();
    let (mut loads, mut refused_by_rule, mut section_refusals, mut section_caught) = (0, 0, 0, 0);
    let mut false_alarms = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let t: Truth = serde_json::from_str(line).unwrap();
            if t.env.is_some() || t.object.starts_with("tests/") {
                continue;
            }
            let o = objects.entry(t.object.clone()).or_insert_with(|| {
                let p = c.join("bpf-objects").join(&t.object);
                std::fs::read(&p).ok().and_then(|b| BpfObject::parse(&b, &t.object).ok())
            });
            let Some(o) = o else { continue };
            let v: Version = t.version.parse().unwrap();
            let l = match t.loader.as_str() {
                "libbpf" => Family::Libbpf.at(v),
                "cilium" => Family::Cilium.at(v),
                "aya" => Family::Aya.at(v),
                x => panic!("unknown loader {x}"),
            };
            let fails = |f: &Finding, prog: &str| f.rule != ReasonKind::MapSizedByUserSpace && f.program.as_deref().is_none_or(|p| p == prog);
            let findings = l.findings(o);
            match t.program.as_deref().filter(|p| !p.is_empty() && !p.starts_with("struct_ops:")) {
                Some(p) if t.loaded => {
                    loads += 1;
                    if let Some(f) = findings.iter().find(|f| fails(f, p)) {
                        false_alarms.push(format!("{} {p} by {l}: {:?} {}", t.object, f.rule, f.subject));
                    }
                }
                Some(p) => {
                    if findings.iter().any(|f| fails(f, p)) {
                        refused_by_rule += 1;
                    }
                    let section = o.programs.iter().find(|x| x.name == p).map(|x| x.section.clone()).unwrap_or_default();
                    if t.loader == "libbpf" && l.decode_section(&section).is_some_and(|d| d.prog_type.is_none()) {
                        section_refusals += 1;
                        section_caught += findings.iter().any(|f| f.rule == ReasonKind::SectionUnknown && f.program.as_deref() == Some(p)) as usize;
                    }
                }
                None if t.loader == "libbpf" && t.status == "open_failed" && o.maps.iter().any(|m| m.definition == "legacy") => {
                    section_refusals += 1;
                    section_caught += findings.iter().any(|f| f.rule == ReasonKind::LegacyMapsUnsupported) as usize;
                }
                None => {}
            }
        }
    }
    eprintln!("{loads} real loads, {} refused by a loader rule; {refused_by_rule} real refusals predicted by loader rules; libbpf section/legacy-maps refusals {section_caught}/{section_refusals}", false_alarms.len());
    assert!(false_alarms.is_empty(), "loader rules refuse programs the real loader loaded:\n{}", false_alarms.join("\n"));
    assert!(section_refusals > 0);
    assert_eq!(section_caught, section_refusals);
}

/// An unresolved CO-RE relocation the verifier reaches is poisoned by the
/// loader that relocates it: the reason names that loader (libbpf's
/// `bpf_core_poison_insn`, cilium/ebpf's `COREFixup.Apply`), not libbpf
/// for all. bindsnoop's `inet_sock` bitfields are gone in 6.12.
#[test]
fn core_poison_is_told_by_the_loader_that_poisons() {
    let Some(c) = corpus() else { return };
    let obj = c.join("bpf-objects/libbpf-tools/0.26.0+ds-1/bindsnoop.bpf.o");
    let kernel = c.join("kernels/6.12.117-1");
    let run = |l: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpfabi"))
            .arg("check")
            .arg(&obj)
            .arg("--kernel")
            .arg(&kernel)
            .args(["--loader", l])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{l}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let (libbpf, cilium) = (run("libbpf"), run("cilium"));
    assert!(libbpf.contains("libbpf poisons the instruction") && !libbpf.contains("cilium/ebpf poisons"), "{libbpf}");
    assert!(cilium.contains("cilium/ebpf poisons the instruction") && !cilium.contains("libbpf poisons"), "{cilium}");
}

/// `___flavour` as each loader strips it from a type or kfunc name:
/// libbpf.c v1.7.0 `bpf_core_essential_name_len` (the last `x___y` with
/// neither side an underscore), cilium/ebpf v0.22.0 btf/types.go
/// `newEssentialName` (the last `___` not at the start), aya-obj v0.3.0
/// `flavorless_name` (the first `___`). The real loads of
/// tests/bpf/loader_core_cands.bpf.o show the difference
/// (tests/loaders.rs).
#[test]
fn flavours_as_each_loader_reads_them() {
    use bpfabi::object::{essential, essential_first, essential_last};
    for (name, libbpf, cilium, aya) in [
        ("task_struct___old", "task_struct", "task_struct", "task_struct"),
        ("syscall_tp_t___a___b", "syscall_tp_t___a", "syscall_tp_t___a", "syscall_tp_t"),
        ("____fput", "____fput", "_", ""),
        ("foo____bar", "foo____bar", "foo_", "foo"),
        ("bpf_rcu_read_lock___v1", "bpf_rcu_read_lock", "bpf_rcu_read_lock", "bpf_rcu_read_lock"),
        ("plain", "plain", "plain", "plain"),
    ] {
        assert_eq!((essential(name), essential_last(name), essential_first(name)), (libbpf, cilium, aya), "{name}");
    }
}
