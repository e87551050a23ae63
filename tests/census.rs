//! `bpfabi census`: counts on the shared corpus equal an independent count
//! from its index.json; merging shards equals one run; objects embedded in a
//! real executable are found at their offsets; a `.deb` built here is read
//! as a stream.

mod common;

use bpfabi::census::walk::{run as census_run, CensusOptions};
use bpfabi::census::{Category, Census};
use common::{corpus, have_corpus, workdir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: {tool} not installed");
    }
    ok
}

fn opts() -> CensusOptions {
    let mut o = CensusOptions::default();
    o.package_dirs = true;
    o
}

#[test]
fn corpus_counts_match_index_json() {
    if !have_corpus() {
        return;
    }
    let objs = corpus().join("bpf-objects");
    let (c, _) = census_run(std::slice::from_ref(&objs), None, &opts());
    assert!(c.errors.is_empty(), "{:?}", c.errors);

    // The independent count: index.json's own reader, per distinct sha256.
    let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(objs.join("index.json")).unwrap()).unwrap();
    let mut kfuncs: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut helpers: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut shas = BTreeSet::new();
    for o in index.as_array().unwrap() {
        let sha = o["sha256"].as_str().unwrap().to_string();
        let pkg = o["package"].as_str().unwrap().to_string();
        shas.insert(sha.clone());
        for k in o["info"]["kfuncs"].as_array().unwrap() {
            let e = kfuncs.entry(k.as_str().unwrap().to_string()).or_default();
            e.0.insert(sha.clone());
            e.1.insert(pkg.clone());
        }
        for h in o["info"]["helpers"].as_object().unwrap().keys() {
            let e = helpers.entry(format!("bpf_{h}")).or_default();
            e.0.insert(sha.clone());
            e.1.insert(pkg.clone());
        }
    }
    assert_eq!(c.totals.objects, shas.len());
    assert_eq!(c.totals.occurrences, index.as_array().unwrap().len());
    let got = |cat: Category| -> BTreeMap<String, (usize, usize)> { c.usage[&cat].iter().map(|u| (u.name.clone(), (u.objects, u.projects))).collect() };
    let want = |m: &BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>| -> BTreeMap<String, (usize, usize)> {
        m.iter().map(|(k, (o, p))| (k.clone(), (o.len(), p.len()))).collect()
    };
    assert!(kfuncs.len() > 20, "the corpus calls kfuncs");
    assert_eq!(got(Category::Kfunc), want(&kfuncs));
    assert_eq!(got(Category::Helper), want(&helpers));
}

/// The census JSON of a CLI run.
fn census_json(args: &[&Path]) -> Census {
    let out = bin().arg("census").arg("--json").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Census::from_json(&String::from_utf8(out.stdout).unwrap(), "stdout").unwrap()
}

#[test]
fn merge_of_shards_equals_one_run() {
    if !have_corpus() {
        return;
    }
    let objs = corpus().join("bpf-objects");
    let dirs: Vec<PathBuf> = ["golang-github-cilium-ebpf-dev", "libbpf-tools", "libxdp1", "selftests-6.1", "xdp-tools"].iter().map(|d| objs.join(d)).collect();
    // libxdp1 and xdp-tools share three objects: they go to different shards.
    let a: Vec<&Path> = vec![&dirs[0], &dirs[2], &dirs[3]];
    let b: Vec<&Path> = vec![&dirs[1], &dirs[4]];
    let all: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let w = workdir("census-merge");
    let (fa, fb) = (w.join("a.json"), w.join("b.json"));
    for (f, shard) in [(&fa, &a), (&fb, &b)] {
        let out = bin().arg("census").arg("--json").arg("-o").arg(f).args(shard.iter()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let one = census_json(&all);
    let out = bin().args(["census", "--json", "--merge"]).arg(&fa).arg(&fb).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let merged = Census::from_json(&String::from_utf8(out.stdout.clone()).unwrap(), "merged").unwrap();
    assert_eq!(merged, one);
    assert_eq!(merged.totals.objects, 229);
    // Byte for byte too.
    let single = bin().arg("census").arg("--json").args(&all).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&single.stdout));
    // xdp-dispatcher.o is one object found in both shards.
    let shared = merged.objects.iter().filter(|o| o.occurrences.len() == 2).count();
    assert!(shared >= 3, "{shared}");
}

/// Two test programs built with clang, and an executable (gcc) embedding
/// both as C arrays: (objects, executable, offsets of each object in it).
/// (objects, executable, (sha256, offset) of each object in it).
type Embedded = (Vec<PathBuf>, PathBuf, Vec<(String, u64)>);

fn build_embedded(w: &Path) -> Option<Embedded> {
    if !have("clang") || !have("gcc") {
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/census");
    let mut objs = Vec::new();
    let mut c = String::from("#include <stdio.h>\n");
    for n in ["a", "b"] {
        let o = w.join(format!("{n}.bpf.o"));
        common::run(Command::new("clang").args(["-target", "bpf", "-O2", "-g", "-c"]).arg(src.join(format!("{n}.bpf.c"))).arg("-o").arg(&o));
        let bytes = std::fs::read(&o).unwrap();
        c.push_str(&format!("const unsigned char skel_{n}[{}] __attribute__((aligned(8))) = {{", bytes.len()));
        c.push_str(&bytes.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(","));
        c.push_str("};\n");
        objs.push(o);
    }
    c.push_str("int main(void) { printf(\"%d %d\\n\", skel_a[0], skel_b[1]); return 0; }\n");
    std::fs::write(w.join("loader.c"), c).unwrap();
    let exe = w.join("loader");
    common::run(Command::new("gcc").arg("-O1").arg(w.join("loader.c")).arg("-o").arg(&exe));
    let hay = std::fs::read(&exe).unwrap();
    let mut offsets = Vec::new();
    for o in &objs {
        let needle = std::fs::read(o).unwrap();
        let off = hay.windows(needle.len()).position(|x| x == needle.as_slice()).expect("object bytes in the executable");
        offsets.push((bpfabi::census::sha256_hex(&needle), off as u64));
    }
    Some((objs, exe, offsets))
}

#[test]
fn embedded_objects_found_at_their_offsets() {
    let w = workdir("census-embedded");
    let Some((_, exe, offsets)) = build_embedded(&w) else { return };
    let c = census_json(&[&exe]);
    assert_eq!(c.totals.objects, 2);
    for (sha, off) in &offsets {
        let o = c.objects.iter().find(|o| &o.sha256 == sha).expect("object found");
        assert_eq!(o.occurrences.len(), 1);
        assert_eq!(o.occurrences[0].offset, *off);
        assert_eq!(o.occurrences[0].path, exe.display().to_string());
    }
    // Guarded (weak + tested) in b, unguarded in a.
    let k = c.usage_of(Category::Kfunc, "bpf_rcu_read_lock").unwrap();
    assert_eq!((k.objects, k.guarded, k.unguarded), (2, 1, 1));
    let h = c.usage_of(Category::Helper, "bpf_get_current_pid_tgid").unwrap();
    assert_eq!((h.objects, h.unguarded), (1, 1));
}

#[test]
fn deb_streamed_with_package_and_offsets() {
    if !have("dpkg-deb") {
        return;
    }
    let w = workdir("census-deb");
    let Some((objs, exe, offsets)) = build_embedded(&w) else { return };
    let root = w.join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/census-test")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: census-test\nVersion: 1.2-3\nSource: census-src\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: census test\n",
    )
    .unwrap();
    std::fs::copy(&objs[0], root.join("usr/lib/census-test/a.bpf.o")).unwrap();
    std::fs::copy(&exe, root.join("usr/bin/loader")).unwrap();
    std::fs::write(root.join("usr/lib/census-test/README"), "not an object").unwrap();
    let deb = w.join("census-test_1.2-3_all.deb");
    for z in ["xz", "zstd", "gzip"] {
        common::run(Command::new("dpkg-deb").args(["--root-owner-group", "-Z", z, "--build"]).arg(&root).arg(&deb));
        std::fs::remove_dir_all(w.join("store")).ok();
        // The package only: nothing unpacked next to it.
        let before: BTreeSet<_> = std::fs::read_dir(&w).unwrap().map(|e| e.unwrap().path()).collect();
        let c = census_json(&[&deb]);
        let after: BTreeSet<_> = std::fs::read_dir(&w).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(before, after);
        assert!(c.errors.is_empty(), "{z}: {:?}", c.errors);
        assert_eq!(c.totals.objects, 2, "{z}");
        assert_eq!(c.totals.packages, 1);
        let a = c.objects.iter().find(|o| o.sha256 == offsets[0].0).unwrap();
        let places: BTreeSet<(String, u64)> = a.occurrences.iter().map(|o| (o.path.clone(), o.offset)).collect();
        assert_eq!(places, BTreeSet::from([("/usr/lib/census-test/a.bpf.o".to_string(), 0), ("/usr/bin/loader".to_string(), offsets[0].1)]));
        for o in &a.occurrences {
            assert_eq!(o.package.as_deref(), Some("census-test"));
            assert_eq!(o.version.as_deref(), Some("1.2-3"));
            assert_eq!(o.project(), Some("census-src"));
            assert_eq!(o.container, deb.display().to_string());
        }
        let b = c.objects.iter().find(|o| o.sha256 == offsets[1].0).unwrap();
        assert_eq!(b.occurrences[0].offset, offsets[1].1);
    }
}

#[test]
fn stdin_lists_and_bad_objects_are_recorded() {
    let w = workdir("census-stdin");
    let Some((objs, _, _)) = build_embedded(&w) else { return };
    // A truncated BPF object is an error entry, not the end of the run.
    let mut bad = std::fs::read(&objs[0]).unwrap();
    bad.truncate(200);
    std::fs::write(w.join("bad.o"), &bad).unwrap();
    let list = format!("{}\n{}\n", objs[1].display(), w.join("bad.o").display());
    let mut child = bin().args(["census", "--json", "-"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(list.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    // The document is written whole; the failed input makes the exit code 2.
    assert_eq!(out.status.code(), Some(2));
    let c = Census::from_json(&String::from_utf8(out.stdout).unwrap(), "stdout").unwrap();
    assert_eq!(c.totals.objects, 1);
    assert_eq!(c.errors.len(), 1);
    assert!(c.errors[0].input.ends_with("bad.o"), "{:?}", c.errors);
}
