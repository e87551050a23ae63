//! `census suggest --manifest` / `policy suggest` write a layer in the
//! manifest format that `policy check` reads, and `report --manifest`
//! shows each used kfunc's lifecycle, on the corpus kernels with the
//! project's baseline (policy/upstream.toml) and a census made here.

mod common;
use common::*;
use std::process::Command;

fn bpfabi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn baseline() -> String {
    format!("{}/policy/upstream.toml", env!("CARGO_MANIFEST_DIR"))
}

/// A census: three projects call bpf_task_acquire/bpf_task_release (one
/// guarded), two call bpf_cpumask_create, one calls the removed
/// cgroup_rstat_flush and sched_ext's renamed scx_bpf_dispatch.
fn census_json() -> String {
    use bpfabi::census::{Census, Guard, ObjectEntry, Occurrence};
    let obj = |c: char, kfuncs: &[(&str, Guard)], pkg: &str| {
        let occ = Occurrence {
            package: Some(pkg.into()),
            version: Some("1".into()),
            source: Some(pkg.into()),
            container: format!("{pkg}.deb"),
            path: "x.bpf.o".into(),
            ..Occurrence::default()
        };
        ObjectEntry { size: 100, license: Some("GPL".into()), ..ObjectEntry::with_kfuncs(std::iter::repeat_n(c, 64).collect::<String>(), kfuncs, vec![occ]) }
    };
    use Guard::*;
    let c = Census::from_parts(
        [
            obj('a', &[("bpf_task_acquire", Unguarded), ("bpf_task_release", Unguarded), ("bpf_cpumask_create", Unguarded)], "proj-a"),
            obj('b', &[("bpf_task_acquire", Guarded), ("bpf_task_release", Guarded), ("bpf_cpumask_create", Unguarded)], "proj-b"),
            obj(
                'c',
                &[("bpf_task_acquire", Unguarded), ("bpf_task_release", Unguarded), ("cgroup_rstat_flush", Unguarded), ("scx_bpf_dispatch", Guarded)],
                "proj-c",
            ),
        ],
        [],
    );
    let mut out = Vec::new();
    bpfabi::report::census::json(&mut out, &c).unwrap();
    String::from_utf8(out).unwrap()
}

fn kernels(names: &[&str]) -> Vec<String> {
    names.iter().map(|k| kernel_dir(k).display().to_string()).collect()
}

#[test]
fn suggest_writes_a_layer_policy_check_accepts() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("policy-suggest");
    std::fs::copy(baseline(), dir.join("upstream.toml")).unwrap();
    let census = dir.join("census.json");
    std::fs::write(&census, census_json()).unwrap();
    let ks = kernels(&["6.1.192-2", "6.12.95-1~bpo12+1", "6.12.117-1"]);
    let out = bpfabi()
        .args(["census", "suggest", "--census"])
        .arg(&census)
        .arg("--manifest")
        .arg(dir.join("upstream.toml"))
        .args(["--extends", "upstream.toml", "--min-projects", "2", "--min-releases", "2"])
        .args(&ks)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let frag = String::from_utf8(out.stdout).unwrap();
    assert!(frag.contains("\nschema = 1\nextends = [\"upstream.toml\"]\n"), "{frag}");
    for k in ["bpf_task_acquire", "bpf_task_release"] {
        assert!(frag.contains(&format!("[kfunc.{k}]\ntier = \"stable\"\ntier_since = \"")), "{frag}");
    }
    assert!(frag.contains("# users: 3 projects (proj-a, proj-b, proj-c), 3 objects (1 guarded)"), "{frag}");
    // The deprecated and the removed are not suggested, with the reason.
    assert!(frag.contains("#   scx_bpf_dispatch: deprecated (6.13) in the manifest"), "{frag}");
    assert!(!frag.contains("[kfunc.cgroup_rstat_flush]"), "{frag}");
    let layer = dir.join("suggested.toml");
    std::fs::write(&layer, &frag).unwrap();
    // The layer is a manifest: policy check reads it over the corpus history.
    let all = kernels(KERNELS);
    let out = bpfabi().args(["policy", "check", "--format", "json", "--manifest"]).arg(&layer).args(&all).output().unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert!(!f.iter().any(|x| x["code"] == "P002" || x["code"] == "P003"), "{f:#?}");
    // Any change to a suggested kfunc is now graded by the stable tier.
    for x in f.iter().filter(|x| x["kfunc"] == "bpf_task_acquire" || x["kfunc"] == "bpf_task_release") {
        assert_eq!(x["tier"], "stable", "{x}");
    }
    // Merged into the manifest itself (the tables appended): the same verdict.
    let body: String = frag.lines().filter(|l| !l.starts_with("schema") && !l.starts_with("extends")).map(|l| format!("{l}\n")).collect();
    let merged = dir.join("merged.toml");
    std::fs::write(&merged, std::fs::read_to_string(baseline()).unwrap() + "\n" + &body).unwrap();
    let out2 = bpfabi().args(["policy", "check", "--format", "json", "--manifest"]).arg(&merged).args(&all).output().unwrap();
    assert_eq!(out2.status.code(), out.status.code(), "{}", String::from_utf8_lossy(&out2.stderr));
    let v2: serde_json::Value = serde_json::from_slice(&out2.stdout).unwrap();
    assert_eq!(v2["summary"], v["summary"]);
    // `policy suggest` is the same command and wants the manifest.
    let out3 = bpfabi()
        .args(["policy", "suggest", "--census"])
        .arg(&census)
        .arg("--manifest")
        .arg(dir.join("upstream.toml"))
        .args(["--extends", "upstream.toml"])
        .args(&ks)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out3.stdout).unwrap(), frag);
    let out4 = bpfabi().args(["policy", "suggest", "--census"]).arg(&census).args(&ks).output().unwrap();
    assert_eq!(out4.status.code(), Some(2));
}

#[test]
fn report_shows_the_manifest_lifecycle() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("report-lifecycle");
    let census = dir.join("census.json");
    std::fs::write(&census, census_json()).unwrap();
    let site = dir.join("site");
    let ks = kernels(&["6.12.117-1", "live-6.18"]);
    let out = bpfabi().args(["report", "--census"]).arg(&census).arg("--manifest").arg(baseline()).arg("-o").arg(&site).args(&ks).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(site.join("summary.md")).unwrap();
    assert!(md.contains("| `scx_bpf_dispatch` | unstable | 1 | 0 | 6.13 | 6.15 | 6.17 | `scx_bpf_dsq_insert` |"), "{md}");
    assert!(md.contains("| `cgroup_rstat_flush` | unstable | 1 | 1 |  |  | 6.18.44 | `css_rstat_flush` |"), "{md}");
    assert!(md.contains("| `bpf_task_acquire` | unstable | 3 | 2 |  |  |  |  |"), "{md}");
    // Deprecated or removed first.
    let life = &md[md.find("## Lifecycle (manifest").unwrap()..];
    assert!(life.find("`cgroup_rstat_flush` |").unwrap() < life.find("`bpf_task_acquire` |").unwrap(), "{life}");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("<section id=\"lifecycle\">") && index.contains("5 kfuncs used by the census; 1 deprecated, 2 removed."), "{index}");
    let page = std::fs::read_to_string(site.join("kfunc/scx_bpf_dispatch.html")).unwrap();
    assert!(page.contains("Deprecated since 6.13. Removal not before 6.15. Removed in 6.17. Use <code>scx_bpf_dsq_insert</code>."), "{page}");
    // Without --manifest there is no lifecycle section.
    let site2 = dir.join("site2");
    let out = bpfabi().args(["report", "--census"]).arg(&census).arg("-o").arg(&site2).args(&ks).output().unwrap();
    assert!(out.status.success());
    assert!(!std::fs::read_to_string(site2.join("index.html")).unwrap().contains("id=\"lifecycle\""));
}
