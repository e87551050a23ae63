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
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
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
    let site = dir.join("site");
    let out = Command::new(bin).args(["policy", "docs", "--manifest"]).arg(&m).arg("-o").arg(&site).args(&ks).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The files exist whatever the browser.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(site.join("kfuncs.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], "bpfabi.kfuncs/1");
    let old = json["kfuncs"].as_array().unwrap().iter().find(|k| k["name"] == "bpf_old_thing").unwrap();
    assert_eq!(old["releases"], serde_json::json!(["6.13", "6.14"]));
    assert_eq!(old["params"][1]["annotation"], "__sz");
    let md = std::fs::read_to_string(site.join("kfuncs.md")).unwrap();
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
    let dom = dump_dom(browser, &site.join("kfunc/bpf_old_thing.html"));
    assert!(dom.contains("<strong>Deprecated since 6.13.</strong>"), "{dom}");
    assert!(dom.contains("<td id=\"releases\">6.13, 6.14</td>"), "{dom}");
    assert!(dom.contains("<code>KF_RET_NULL</code>") && dom.contains("may return NULL"), "{dom}");
    assert!(dom.contains("static __always_inline int bpf_new_thing_compat(int a, u32 buf__sz)") || dom.contains("bpf_new_thing_compat("), "{dom}");
    assert!(dom.contains("size in bytes of the memory the previous argument points to"), "{dom}");
}
