//! `policy docs` renders a site that a real browser displays: headless
//! Chromium (Debian's `chromium`) dumps the DOM of the index and of one
//! kfunc page. Skipped when chromium is not installed.

#[path = "policy/kernels.rs"]
mod kernels;
use kernels::{kernel_dir, kf};
use std::path::Path;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn dump_dom(browser: &str, page: &Path) -> String {
    let out =
        Command::new(browser).args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]).arg(format!("file://{}", page.display())).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn site_renders_in_headless_chromium() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-site");
    let _ = std::fs::remove_dir_all(&dir);
    let old = kf("bpf_old_thing", &[("a", "int"), ("buf__sz", "u32")], 4);
    let new = kf("bpf_new_thing", &[("a", "int"), ("buf__sz", "u32")], 4);
    let mut ks = Vec::new();
    for (rel, kfs) in [("6.13", vec![old.clone()]), ("6.14", vec![old, new.clone()]), ("6.15", vec![new])] {
        kernel_dir(&dir.join(rel), rel, &kfs, &[]);
        ks.push(dir.join(rel));
    }
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let m = dir.join("m.toml");
    let out = Command::new(bin).args(["policy", "init", "-o"]).arg(&m).args(&ks).output().unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&m).unwrap().replace(
        "[kfunc.bpf_old_thing.facts]",
        "[kfunc.bpf_old_thing]\ndeprecated_since = \"6.13\"\nreplacement = \"bpf_new_thing\"\nreason = \"renamed\"\n\n[kfunc.bpf_old_thing.facts]",
    );
    std::fs::write(&m, text).unwrap();
    // A census: A calls bpf_old_thing unguarded; B calls it guarded (weak)
    // and bpf_new_thing unguarded, found in two packages of one project;
    // C calls a kfunc of no kernel here and an ignored test kfunc.
    let census = dir.join("census.json");
    std::fs::write(&census, census_json()).unwrap();
    let site = dir.join("site");
    let out = Command::new(bin).args(["policy", "docs", "--manifest"]).arg(&m).arg("-o").arg(&site).arg("--census").arg(&census).args(&ks).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The files exist whatever the browser.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(site.join("kfuncs.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], "bpfabi.kfuncs/1");
    let old = json["kfuncs"].as_array().unwrap().iter().find(|k| k["name"] == "bpf_old_thing").unwrap();
    assert_eq!(old["releases"], serde_json::json!(["6.13", "6.14"]));
    assert_eq!(old["params"][1]["annotation"], "__sz");
    assert_eq!(json["census"]["objects"], 3);
    assert_eq!(json["census"]["packages"], 4);
    assert_eq!(old["users"]["objects"], 2);
    assert_eq!(old["users"]["unguarded"], 1);
    assert_eq!(old["users"]["guarded"], 1);
    assert_eq!(old["users"]["package_names"], serde_json::json!(["pkg-a", "pkg-b", "pkg-b-extra"]));
    assert_eq!(old["users"]["project_names"], serde_json::json!(["proj-a", "proj-b"]));
    assert_eq!(old["users"]["object_list"][0]["guard"], "unguarded");
    assert_eq!(old["users"]["object_list"][0]["label"], "pkg-a:a.bpf.o");
    let new = json["kfuncs"].as_array().unwrap().iter().find(|k| k["name"] == "bpf_new_thing").unwrap();
    assert_eq!((new["users"]["objects"].as_u64(), new["users"]["unguarded"].as_u64(), new["users"]["packages"].as_u64()), (Some(1), Some(1), Some(2)));
    let md = std::fs::read_to_string(site.join("kfuncs.md")).unwrap();
    assert!(md.contains("| `bpf_old_thing` | unstable | 2 | 1 | 1 | 3 | 2 |"), "{md}");
    assert!(md.contains("| `bpf_elsewhere` (not in these kernels) |  | 1 | 1 | 0 | 1 | 1 |"), "{md}");
    assert!(!md.contains("bpf_kfunc_call_test1"), "ignored test kfuncs are not listed: {md}");
    let users = std::fs::read_to_string(site.join("users.html")).unwrap();
    assert!(!users.contains("<script") && !users.contains("http"), "no script, no external assets");
    // Sorted by objects: old (2) before new (1) before elsewhere (1, fewer packages).
    let by_objects = &users[users.find("id=\"by-objects\"").unwrap()..users.find("id=\"by-packages\"").unwrap()];
    let pos = |n: &str| by_objects.find(&format!("<code>{n}</code>")).unwrap();
    assert!(pos("bpf_old_thing") < pos("bpf_new_thing") && pos("bpf_new_thing") < pos("bpf_elsewhere"), "{by_objects}");
    assert!(by_objects.contains("<tr class=\"u-unguarded u-deprecated\"><td><a href=\"kfunc/bpf_old_thing.html\">"), "{by_objects}");
    assert!(md.contains("## `bpf_old_thing` (unstable)") && md.contains("**Deprecated** since 6.13: use `bpf_new_thing`"), "{md}");
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "no external assets");

    let Some(browser) = chromium() else {
        eprintln!("skipped: chromium not installed");
        return;
    };
    let dom = dump_dom(browser, &site.join("index.html"));
    assert!(dom.contains("<p id=\"summary\">2 kfuncs over 3 kernels (6.13 to 6.15), by subsystem.</p>"), "{dom}");
    assert!(dom.contains("href=\"kfunc/bpf_old_thing.html\""), "{dom}");
    assert!(dom.contains("2 kfuncs used, 2 needed unguarded"), "{dom}");
    assert!(dom.contains("<code>bpf_old_thing</code></a> <span class=\"ucount\">2</span>"), "{dom}");
    let dom = dump_dom(browser, &site.join("users.html"));
    assert!(dom.contains("3 distinct objects in 4 packages (3 projects). 2 of 2 kfuncs are used, 2 by objects that fail to load without them; 1 used kfuncs are in no kernel of this history."), "{dom}");
    assert!(dom.contains("<label for=\"f-unguarded\">needed unguarded</label>"), "{dom}");
    let dom = dump_dom(browser, &site.join("kfunc/bpf_old_thing.html"));
    assert!(dom.contains("<p id=\"users-summary\">2 distinct objects (1 unguarded, 1 guarded) in 3 packages from 2 projects"), "{dom}");
    assert!(dom.contains("<td><code>pkg-b:b.bpf.o</code></td><td><code>bbbbbbbbbbbb</code></td><td>guarded</td><td>pkg-b, pkg-b-extra</td>"), "{dom}");
    assert!(dom.contains("<strong>Deprecated since 6.13.</strong>"), "{dom}");
    assert!(dom.contains("<td id=\"releases\">6.13, 6.14</td>"), "{dom}");
    assert!(dom.contains("<code>KF_RET_NULL</code>") && dom.contains("may return NULL"), "{dom}");
    assert!(dom.contains("static __always_inline int bpf_new_thing_compat(int a, u32 buf__sz)") || dom.contains("bpf_new_thing_compat("), "{dom}");
    assert!(dom.contains("size in bytes of the memory the previous argument points to"), "{dom}");
}

/// A census document of three objects, written as `bpfabi census` would.
fn census_json() -> String {
    use bpfabi::census::{Census, Guard, ObjectEntry, Occurrence};
    let occ = |pkg: &str, src: &str, path: &str| Occurrence {
        package: Some(pkg.into()),
        version: Some("1.0".into()),
        source: Some(src.into()),
        container: format!("{pkg}_1.0_amd64.deb"),
        path: path.into(),
        ..Occurrence::default()
    };
    let obj = |c: char, kfuncs: &[(&str, Guard)], occs: Vec<Occurrence>| ObjectEntry {
        size: 100,
        license: Some("GPL".into()),
        ..ObjectEntry::with_kfuncs(std::iter::repeat_n(c, 64).collect::<String>(), kfuncs, occs)
    };
    let c = Census::from_parts(
        [
            obj('a', &[("bpf_old_thing", Guard::Unguarded)], vec![occ("pkg-a", "proj-a", "usr/lib/a.bpf.o")]),
            obj(
                'b',
                &[("bpf_old_thing", Guard::Guarded), ("bpf_new_thing", Guard::Unguarded)],
                vec![occ("pkg-b", "proj-b", "usr/lib/b.bpf.o"), occ("pkg-b-extra", "proj-b", "usr/lib/b.bpf.o")],
            ),
            obj('c', &[("bpf_elsewhere", Guard::Unguarded), ("bpf_kfunc_call_test1", Guard::Unguarded)], vec![occ("pkg-c", "proj-c", "c.bpf.o")]),
        ],
        [],
    );
    let mut out = Vec::new();
    bpfabi::report::census::json(&mut out, &c).unwrap();
    String::from_utf8(out).unwrap()
}
