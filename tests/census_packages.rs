//! `bpfabi census` beyond Debian and beyond one machine: a Python wheel, an
//! npm tarball and a crate, each built by its ecosystem's own tool (`pip
//! wheel`, `npm pack`, `cargo package`) around a test object compiled here,
//! are read with their names, versions and ecosystems; four `--shard K/4`
//! runs under GNU parallel merge into exactly one run's census, byte for
//! byte; and (BPFABI_SEEDS=1) the real published packages of the seed list
//! — crates, an npm package and a PyPI wheel whose shared library embeds
//! two libbpf skeletons — hold the objects the list records.

mod common;

use bpfabi::census::pkg::Ecosystem;
use bpfabi::census::{fetch, Category, Census};
use common::{corpus, have_corpus, workdir};
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

fn ok(cmd: &mut Command) -> bool {
    match cmd.output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!("skipped: {cmd:?} failed: {}", String::from_utf8_lossy(&o.stderr));
            false
        }
        Err(e) => {
            eprintln!("skipped: {cmd:?}: {e}");
            false
        }
    }
}

fn census(args: &[&Path]) -> (Census, String) {
    let out = bin().args(["census", "--json"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    (Census::from_json(&text, "stdout").unwrap(), text)
}

/// The test object, compiled with clang.
fn object(w: &Path) -> Option<PathBuf> {
    if !have("clang") {
        return None;
    }
    let o = w.join("a.bpf.o");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/census/a.bpf.c");
    ok(Command::new("clang").args(["-O2", "-g", "-target", "bpf", "-c"]).arg(&src).arg("-o").arg(&o)).then_some(o)
}

#[test]
fn wheel_npm_tarball_and_crate_built_by_their_tools() {
    let w = workdir("census-packages");
    let Some(obj) = object(&w) else { return };
    let want = bpfabi::census::walk::scan_bytes(std::fs::read(&obj).unwrap(), "a.bpf.o", &Default::default());
    let sha = &want.objects[0].sha256;
    let mut packages: Vec<(PathBuf, &str, &str, &str)> = Vec::new();

    // npm pack of a package that ships the object.
    let npm = w.join("npm");
    std::fs::create_dir_all(&npm).unwrap();
    std::fs::copy(&obj, npm.join("a.bpf.o")).unwrap();
    std::fs::write(npm.join("package.json"), r#"{"name": "@bpfabi/census-sample", "version": "0.1.0", "files": ["a.bpf.o"]}"#).unwrap();
    if have("npm") && ok(Command::new("npm").args(["pack", "--silent", "--offline"]).current_dir(&npm)) {
        packages.push((npm.join("bpfabi-census-sample-0.1.0.tgz"), "npm", "@bpfabi/census-sample", "package/a.bpf.o"));
    }

    // cargo package of a crate that includes it.
    let krate = w.join("crate");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::copy(&obj, krate.join("src/a.bpf.o")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"bpfabi-census-sample\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"test\"\ninclude = [\"src/*\"]\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(krate.join("src/lib.rs"), "pub static OBJ: &[u8] = include_bytes!(\"a.bpf.o\");\n").unwrap();
    let target = w.join("crate-target");
    if ok(Command::new("cargo").args(["package", "--offline", "--no-verify", "--allow-dirty", "--quiet"]).arg("--target-dir").arg(&target).current_dir(&krate))
    {
        packages.push((target.join("package/bpfabi-census-sample-0.1.0.crate"), "crates", "bpfabi-census-sample", "bpfabi-census-sample-0.1.0/src/a.bpf.o"));
    }

    // pip wheel of a Python package whose package data is the object (pip
    // fetches setuptools for the isolated build: skipped when it cannot).
    let py = w.join("py");
    std::fs::create_dir_all(py.join("bpfpkg")).unwrap();
    std::fs::copy(&obj, py.join("bpfpkg/a.bpf.o")).unwrap();
    std::fs::write(py.join("bpfpkg/__init__.py"), "").unwrap();
    std::fs::write(
        py.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n[project]\nname = \"bpfabi-census-sample\"\nversion = \"0.1.0\"\n[tool.setuptools]\npackages = [\"bpfpkg\"]\n[tool.setuptools.package-data]\nbpfpkg = [\"*.o\"]\n",
    )
    .unwrap();
    if have("python3") && ok(Command::new("python3").args(["-m", "pip", "wheel", "--quiet", "--no-deps", "-w"]).arg(py.join("out")).arg(&py)) {
        packages.push((py.join("out/bpfabi_census_sample-0.1.0-py3-none-any.whl"), "pypi", "bpfabi-census-sample", "bpfpkg/a.bpf.o"));
    }
    if packages.is_empty() {
        return;
    }

    let paths: Vec<&Path> = packages.iter().map(|p| p.0.as_path()).collect();
    let (c, _) = census(&paths);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.objects.len(), 1, "one object, found in every package");
    let o = &c.objects[0];
    assert_eq!(&o.sha256, sha);
    assert_eq!(o.requires, want.objects[0].requires, "the same requirements as the plain object");
    assert_eq!(o.occurrences.len(), packages.len());
    for (file, eco, name, path) in &packages {
        let occ = o.occurrences.iter().find(|x| x.container == file.display().to_string()).unwrap_or_else(|| panic!("{file:?} not found: {:?}", o.occurrences));
        assert_eq!(occ.ecosystem.map(|e| e.as_str()), Some(*eco));
        assert_eq!(occ.package.as_deref(), Some(*name));
        assert_eq!(occ.version.as_deref(), Some("0.1.0"));
        assert_eq!(occ.source, Some(format!("{eco}:{name}")));
        assert_eq!(occ.path, *path);
    }
    assert_eq!(c.totals.projects, packages.len(), "the same name in two ecosystems is two projects");

    // A truncated wheel or crate is an error of that input; the others are read.
    let bad = w.join("truncated.whl");
    let whole = std::fs::read(&packages[0].0).unwrap();
    std::fs::write(&bad, &whole[..whole.len() / 2]).unwrap();
    let mut with_bad = paths.clone();
    with_bad.push(&bad);
    let out = bin().args(["census", "--json"]).args(&with_bad).output().unwrap();
    let c2 = Census::from_json(&String::from_utf8_lossy(&out.stdout), "stdout").unwrap();
    assert_eq!(c2.objects.len(), 1);
    assert_eq!(c2.objects[0].occurrences.len(), packages.len());
}

#[test]
fn named_packages_are_checked_before_anything_is_fetched() {
    let out = bin().args(["census", "--json", "pypi:nothing", "crate:a/b@1"]).output().unwrap();
    let c = Census::from_json(&String::from_utf8_lossy(&out.stdout), "stdout").unwrap();
    let errs: Vec<&str> = c.errors.iter().map(|e| e.input.as_str()).collect();
    assert_eq!(errs, ["crate:a/b@1", "pypi:nothing"]);
    assert!(c.errors.iter().all(|e| e.error.contains("expected pypi:NAME==VERSION")), "{:?}", c.errors);
}

#[test]
fn four_shards_under_gnu_parallel_merge_to_one_run() {
    if !have_corpus() || !have("parallel") {
        return;
    }
    let objs = corpus().join("bpf-objects");
    let w = workdir("census-shards");
    let out = Command::new("parallel")
        .args(["--will-cite", "--halt", "now,fail=1"])
        .arg(env!("CARGO_BIN_EXE_bpfabi"))
        .args(["census", "--json", "--shard", "{}/4", "-o"])
        .arg(w.join("shard-{}.json"))
        .arg(&objs)
        .args([":::", "1", "2", "3", "4"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shards: Vec<PathBuf> = (1..=4).map(|k| w.join(format!("shard-{k}.json"))).collect();
    let parts: Vec<Census> = shards.iter().map(|p| Census::read(p).unwrap()).collect();
    // A partition of the files (each its own package here): every shard
    // has some, none shares a file.
    let mut seen = std::collections::BTreeSet::new();
    for p in &parts {
        assert!(p.totals.objects > 20, "a shard with {} objects", p.totals.objects);
        let files: std::collections::BTreeSet<&str> = p.objects.iter().flat_map(|o| o.occurrences.iter().map(|x| x.container.as_str())).collect();
        for f in files {
            assert!(seen.insert(f.to_string()), "{f} in two shards");
        }
    }
    let merged = bin().args(["census", "--json", "--merge"]).args(&shards).output().unwrap();
    assert!(merged.status.success());
    let one = bin().args(["census", "--json"]).arg(&objs).output().unwrap();
    assert!(one.status.success());
    assert_eq!(String::from_utf8_lossy(&merged.stdout), String::from_utf8_lossy(&one.stdout));
}

#[test]
fn bad_shard_specs_are_usage_errors() {
    for bad in ["0/4", "5/4", "x", "1/0"] {
        let out = bin().args(["census", "--shard", bad, "."]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("K/N"), "{bad}");
    }
}

/// One line of `data/seeds/packages.txt`: the spec and the counts recorded
/// for it.
struct Seed {
    /// As the file writes it (`crate:NAME@VERSION`).
    spec: String,
    name: String,
    version: String,
    ecosystem: Ecosystem,
    copies: usize,
    errors: usize,
}

fn seeds() -> Vec<Seed> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seeds/packages.txt")).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let spec = words.next().unwrap().to_string();
        let (name, version, ecosystem) = match fetch::Spec::parse(&spec) {
            Some(Ok(fetch::Spec::Crate { name, version })) => (name, version, Ecosystem::Crates),
            Some(Ok(fetch::Spec::Pypi { name, version })) => (name, version, Ecosystem::Pypi),
            Some(Ok(fetch::Spec::Npm { name, version })) => (name, version, Ecosystem::Npm),
            other => panic!("{spec}: not a named package: {other:?}"),
        };
        let mut count = |key: &str| -> usize {
            let w = words.next().unwrap_or_else(|| panic!("{spec}: no {key}="));
            w.strip_prefix(key).and_then(|v| v.strip_prefix('=')).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{spec}: expected {key}=N, got {w}"))
        };
        let (copies, errors) = (count("copies"), count("errors"));
        out.push(Seed { spec, name, version, ecosystem, copies, errors });
    }
    out
}

/// The seed list's packages, fetched from their registries with their own
/// clients, hold the objects the list says: real published packages, read
/// as `census` reads any input. Needs the network (or a warm package
/// cache): runs with BPFABI_SEEDS=1 (`.ci/run` sets it).
#[test]
fn seed_list_packages_hold_the_objects_it_records() {
    let seeds = seeds();
    assert!(seeds.len() >= 5 && seeds.iter().any(|s| s.copies > 0), "the seed list lost its packages");
    if std::env::var_os("BPFABI_SEEDS").is_none() {
        eprintln!("skipped: BPFABI_SEEDS unset (the seed packages are fetched from their registries)");
        return;
    }
    let out = bin().args(["census", "--json"]).args(seeds.iter().map(|s| &s.spec)).output().unwrap();
    // Packages with foreign EM_BPF files make the run exit 2 after writing
    // the whole census.
    let expect_errors = seeds.iter().any(|s| s.errors > 0);
    assert_eq!(out.status.code(), Some(if expect_errors { 2 } else { 0 }), "{}", String::from_utf8_lossy(&out.stderr));
    let c = Census::from_json(std::str::from_utf8(&out.stdout).unwrap(), "stdout").unwrap();
    for s in &seeds {
        let (name, version) = (s.name.as_str(), s.version.as_str());
        let copies =
            c.objects.iter().flat_map(|o| &o.occurrences).filter(|oc| oc.package.as_deref() == Some(name) && oc.version.as_deref() == Some(version)).count();
        assert_eq!(copies, s.copies, "{}: objects found", s.spec);
        // The package file's name: npm packs `@scope/name` as `scope-name-VERSION.tgz`.
        let tag = format!("{}-{version}", name.trim_start_matches('@').replace('/', "-"));
        let errors = c.errors.iter().filter(|e| e.input.contains(&tag)).count();
        assert_eq!(errors, s.errors, "{}: errors {:?}", s.spec, c.errors);
        assert!(
            c.objects.iter().flat_map(|o| &o.occurrences).filter(|oc| oc.package.as_deref() == Some(name)).all(|oc| oc.ecosystem == Some(s.ecosystem)),
            "{}: ecosystem",
            s.spec
        );
    }
    // Every object read from them was parsed: programs and requirements,
    // as any Debian object (libbpf-rs's test objects use CO-RE).
    assert!(c.objects.iter().any(|o| o.requires.contains_key(&Category::Field)), "no CO-RE field requirement in the seed objects");
    wheel_embeds_two_skeletons(&c);
}

/// The PyPI wheel of the seed list, pydivert 4.0.1: its Linux backend
/// `pydivert/bpf/libebpfdivert.so` links two libbpf skeletons, so the
/// census finds two objects inside the shared library (not as files of
/// the wheel). Recorded from the wheel's own bytes: the ELF headers at
/// these offsets of the library, the objects cut at the end of their
/// section tables hash to these SHA-256s, and `llvm-readelf -S` /
/// `llvm-objdump -t` of them list the program sections and functions
/// counted here (`classifier`: tc_divert_ingress, tc_divert_egress;
/// cgroup/sock_create, cgroup/post_bind4, cgroup/post_bind6,
/// cgroup/connect4, cgroup/connect6, cgroup/sock_release, sockops,
/// cgroup_skb/egress, cgroup_skb/ingress: one program each).
fn wheel_embeds_two_skeletons(c: &Census) {
    let mut found: Vec<(u64, &str, usize, Vec<&str>)> = c
        .objects
        .iter()
        .flat_map(|o| o.occurrences.iter().map(move |oc| (o, oc)))
        .filter(|(_, oc)| oc.package.as_deref() == Some("pydivert"))
        .map(|(o, oc)| {
            assert_eq!(oc.ecosystem, Some(Ecosystem::Pypi));
            assert_eq!(oc.path, "pydivert/bpf/libebpfdivert.so", "inside the shared library");
            assert!(oc.container.ends_with("pydivert-4.0.1-py3-none-manylinux_2_28_x86_64.whl"), "{}", oc.container);
            assert_eq!(o.license.as_deref(), Some("GPL"));
            let types = o.requires.get(&Category::ProgType).map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
            (oc.offset, o.sha256.as_str(), o.programs, types)
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (698296, "639e0b1fc5ebf7660afc9167afa4444bfb3d9b98c44e15743abbc4468fea403b", 2, vec!["BPF_PROG_TYPE_SCHED_CLS"]),
            (
                806840,
                "8647203eba6fb03c372a872a054d8e48d33d9aff752acda72b1374f10eaa2efb",
                9,
                vec!["BPF_PROG_TYPE_CGROUP_SKB", "BPF_PROG_TYPE_CGROUP_SOCK", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", "BPF_PROG_TYPE_SOCK_OPS"]
            ),
        ]
    );
}
