//! `bpfabi report`: the site built from a corpus census and two corpus
//! kernels, opened in headless Chromium (skipped when it is not installed):
//! every section renders, the heatmap has one cell per object and kernel,
//! pages per kfunc and package exist, and a screenshot is taken.

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
    let out = bin()
        .args(["census", "--package-dirs", "--json", "-o"])
        .arg(&census)
        .arg("--store")
        .arg(&store)
        .arg(corpus().join("bpf-objects"))
        .output()
        .unwrap();
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
