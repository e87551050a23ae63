//! `bpfabi report`: the site built from a corpus census and two corpus
//! kernels, opened in headless Chromium (skipped when it is not installed):
//! every section renders, the heatmap has one cell per object and kernel,
//! pages per kfunc, package and object exist, and a screenshot is taken;
//! the first answers and the object pages agree with `census impact` and
//! the kernels' own surfaces.

mod common;

use common::{corpus, have_corpus, kernel_dir, workdir};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn headless(browser: &str) -> Command {
    let mut c = Command::new(browser);
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1300,2400"]);
    c
}

#[test]
fn report_renders_in_chromium() {
    if !have_corpus() {
        return;
    }
    let w = workdir("census-report");
    let census = w.join("census.json");
    let store = w.join("store");
    let out =
        bin().args(["census", "--package-dirs", "--json", "-o"]).arg(&census).arg("--store").arg(&store).arg(corpus().join("bpf-objects")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = bpfabi::census::Census::read(&census).unwrap();
    let site = w.join("site");
    let out = bin()
        .args(["report", "--min-projects", "1", "--census"])
        .arg(&census)
        .arg("--store")
        .arg(&store)
        .arg("-o")
        .arg(&site)
        .arg(kernel_dir("6.1.192-2"))
        .arg(kernel_dir("6.12.117-1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("breaks") && text.contains("of 229 known objects"), "{text}");
    let used_kfuncs = c.usage[&bpfabi::census::Category::Kfunc].len();
    let kfunc_pages = std::fs::read_dir(site.join("kfunc")).unwrap().count();
    assert_eq!(kfunc_pages, used_kfuncs);
    assert_eq!(std::fs::read_dir(site.join("package")).unwrap().count(), c.totals.projects);
    let md = std::fs::read_to_string(site.join("summary.md")).unwrap();
    assert!(md.contains("6.12.117+deb13-amd64 breaks"), "{md}");
    first_answers(&c, &md, &census, &store);
    object_pages(&c, &site, &census, &store);

    let Some(browser) = chromium() else {
        eprintln!("skipped: chromium not installed");
        return;
    };
    let index = format!("file://{}", site.join("index.html").display());
    let dom = headless(browser).arg("--dump-dom").arg(&index).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in ["totals", "timeline", "usage", "heatmap", "impact", "candidates", "packages"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "section {id} missing");
    }
    // One heatmap cell per kernel and object, rows grouped by project (an
    // object two projects ship is in both groups).
    let heat = dom.split("id=\"heatmap\"").nth(1).unwrap().split("</section>").next().unwrap();
    let rows: usize = c.objects.iter().map(|o| o.projects().len().max(1)).sum();
    assert!(rows > c.objects.len());
    assert_eq!(heat.matches("<rect").count(), rows * 2);
    // The timeline lists every used kfunc; the kfunc chart has a bar pair per kfunc shown.
    let timeline = dom.split("id=\"timeline-used\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert_eq!(timeline.matches("<tr>").count(), used_kfuncs + 1);
    assert!(dom.contains("<svg class=\"bars\""));
    // The sorting script ran: headers are wired (no script error leaves the DOM without tables).
    assert!(dom.matches("class=\"sortable").count() >= 8);

    let shot = w.join("report.png");
    let s = headless(browser).arg(format!("--screenshot={}", shot.display())).arg(&index).output().unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
}

/// `census impact --json` of the census on the two kernels.
fn impact(census: &std::path::Path, store: &std::path::Path) -> serde_json::Value {
    let out = bin()
        .args(["census", "impact", "--json", "--census"])
        .arg(census)
        .arg("--store")
        .arg(store)
        .arg(kernel_dir("6.1.192-2"))
        .arg(kernel_dir("6.12.117-1"))
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// summary.md's first answers: one row per used kfunc with the census's
/// project and object counts, "since" from the kernels' surfaces (`≤ 6.1`
/// when 6.1 has it), and the headline of the newest release matching
/// `census impact`.
fn first_answers(c: &bpfabi::census::Census, md: &str, census: &std::path::Path, store: &std::path::Path) {
    let section = md.split("## First answers").nth(1).unwrap().split("## Release impact").next().unwrap();
    let i = impact(census, store);
    let last = i["releases"].as_array().unwrap().last().unwrap();
    let headline = format!("**{}, breaks {} of {} known objects**", last["to"].as_str().unwrap(), last["breaks"].as_array().unwrap().len(), last["known"]);
    assert!(section.contains(&headline), "no {headline} in:\n{section}");
    let surface = |k: &str| -> std::collections::BTreeSet<String> {
        let out = bin().args(["surface", "--json"]).arg(kernel_dir(k)).output().unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["kfuncs"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
    };
    let (old, new) = (surface("6.1.192-2"), surface("6.12.117-1"));
    let kernels: Vec<&str> = i["kernels"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let used = &c.usage[&bpfabi::census::Category::Kfunc];
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), used.len(), "{section}");
    for u in used {
        let row = rows.iter().find(|r| r.starts_with(&format!("| `{}` |", u.name))).unwrap_or_else(|| panic!("no row for {}", u.name));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!((cells[2], cells[3]), (u.projects.to_string().as_str(), u.objects.to_string().as_str()), "{row}");
        let since = if old.contains(&u.name) {
            format!("≤ {}", kernels[0])
        } else if new.contains(&u.name) {
            kernels[1].to_string()
        } else {
            "in no kernel given".to_string()
        };
        assert_eq!(cells[5], since, "{row}");
    }
}

/// One page per object; each names its loader and shows the verdicts
/// `census impact` gives it, kernel by kernel.
fn object_pages(c: &bpfabi::census::Census, site: &std::path::Path, census: &std::path::Path, store: &std::path::Path) {
    assert_eq!(std::fs::read_dir(site.join("object")).unwrap().count(), c.objects.len());
    let i = impact(census, store);
    let mut checked = 0;
    for o in i["objects"].as_array().unwrap() {
        let sha = o["sha256"].as_str().unwrap();
        let page = std::fs::read_to_string(site.join("object").join(format!("{}.html", &sha[..16]))).unwrap();
        let loader = o["loader"].as_str().unwrap().replace('/', "&#x2f;");
        assert!(page.contains(&format!("Loader: <b>{loader}</b>")), "{sha}: no loader {loader}");
        let matrix = page.split("id=\"matrix-table\"").nth(1).unwrap().split("</table>").next().unwrap();
        let shown: Vec<&str> = matrix.split("<td class=\"v-").skip(1).filter_map(|s| s.split('"').next()).collect();
        let want: Vec<&str> = o["verdicts"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(shown, want, "{sha}");
        checked += 1;
    }
    assert_eq!(checked, c.objects.len());
    // The corpus holds cilium/ebpf's own test objects (legacy `maps`): not all libbpf.
    assert!(i["objects"].as_array().unwrap().iter().any(|o| o["loader"].as_str().unwrap().starts_with("cilium")));
}
