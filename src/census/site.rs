//! The census report as a static site: `index.html` (kfunc timeline, usage
//! charts and sortable tables, compatibility heatmap objects × kernels,
//! release impact, stable candidates), opening with the first answers
//! ([`super::answers`]: per kfunc, projects, since when, architectures and
//! what the newest release does); one page per kfunc the census uses, per
//! package and per object (its loader and kernel matrix), and `summary.md`. Self-contained: CSS, inline SVG charts
//! and a few lines of script for sorting are in each page; no external
//! asset, works offline. Rendered with minijinja from `templates/report/`
//! (embedded in the binary).

use super::impact::Impact;
use super::kernels::KernelKfuncs;
use super::suggest::{Candidate, SuggestOptions};
use super::{Category, Census, Guard};
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/report/base.html")),
    ("index.html", include_str!("../../templates/report/index.html")),
    ("kfunc.html", include_str!("../../templates/report/kfunc.html")),
    ("package.html", include_str!("../../templates/report/package.html")),
    ("object.html", include_str!("../../templates/report/object.html")),
    ("summary.md", include_str!("../../templates/report/summary.md")),
];

/// One cell of the kfunc timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineCell {
    /// `added`, `present`, `changed`, `removed`, `absent`.
    pub state: &'static str,
    /// KF_* flags there.
    pub flags: String,
    /// The prototype there (empty when absent).
    pub proto: String,
}

/// One kfunc across the kernels.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    /// The kfunc.
    pub name: String,
    /// File name of its page (census-used kfuncs only).
    pub page: Option<String>,
    /// Census objects calling it.
    pub objects: usize,
    /// Census projects calling it.
    pub projects: usize,
    /// Per kernel.
    pub cells: Vec<TimelineCell>,
}

/// The kfunc timeline: every kfunc of any kernel, census-used first.
pub fn timeline(census: &Census, kernels: &[KernelKfuncs]) -> Vec<TimelineRow> {
    let mut names: BTreeSet<&str> = kernels.iter().flat_map(|k| k.kfuncs().iter().map(|f| f.name.as_str())).collect();
    let used: BTreeMap<&str, (usize, usize)> =
        census.usage.get(&Category::Kfunc).map(|u| u.iter().map(|u| (u.name.as_str(), (u.objects, u.projects))).collect()).unwrap_or_default();
    names.extend(used.keys());
    let mut rows: Vec<TimelineRow> = names
        .into_iter()
        .map(|n| {
            // Prototypes compare as type expressions.
            let mut prev: Option<&crate::ctype::Decl> = None;
            let cells = kernels
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let f = k.kfunc(n);
                    let state = match (i, &prev, f) {
                        (_, Some(_), None) => "removed",
                        (_, None, None) => "absent",
                        (0, _, Some(_)) => "present",
                        (_, None, Some(_)) => "added",
                        (_, Some(p), Some(f)) if **p != f.proto => "changed",
                        _ => "present",
                    };
                    prev = f.map(|f| &f.proto);
                    TimelineCell { state, flags: f.map(|f| f.flags.join(" ")).unwrap_or_default(), proto: f.map(|f| f.proto.to_string()).unwrap_or_default() }
                })
                .collect();
            let (objects, projects) = used.get(n).copied().unwrap_or((0, 0));
            TimelineRow { name: n.to_string(), page: used.contains_key(n).then(|| page_name("kfunc", n)), objects, projects, cells }
        })
        .collect();
    rows.sort_by(|a, b| b.projects.cmp(&a.projects).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
    rows
}

/// `object/<first 16 hex digits of the SHA-256>.html`.
fn object_page(sha256: &str) -> String {
    page_name("object", sha256.get(..16).unwrap_or(sha256))
}

/// `kfunc/bpf_x.html`: a file name safe on any file system.
fn page_name(dir: &str, name: &str) -> String {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') { c } else { '_' }).collect();
    format!("{dir}/{safe}.html")
}

#[derive(Serialize)]
struct Bar {
    name: String,
    page: Option<String>,
    guarded: usize,
    unguarded: usize,
    /// Widths in SVG units.
    wg: f64,
    wu: f64,
    y: usize,
}

/// A horizontal stacked bar chart (guarded / unguarded objects) of the `n` most used.
fn bars(census: &Census, cat: Category, n: usize) -> Vec<Bar> {
    let rows = census.usage.get(&cat).map(Vec::as_slice).unwrap_or(&[]);
    let mut top: Vec<_> = rows.iter().collect();
    top.sort_by(|a, b| b.objects.cmp(&a.objects).then(a.name.cmp(&b.name)));
    top.truncate(n);
    let max = top.iter().map(|u| u.objects).max().unwrap_or(1).max(1) as f64;
    top.iter()
        .enumerate()
        .map(|(i, u)| Bar {
            name: u.name.clone(),
            page: (cat == Category::Kfunc).then(|| page_name("kfunc", &u.name)),
            guarded: u.guarded,
            unguarded: u.unguarded,
            wg: (u.guarded as f64 / max * 400.0).round(),
            wu: (u.unguarded as f64 / max * 400.0).round(),
            y: i * 18,
        })
        .collect()
}

#[derive(Serialize)]
struct HeatRow {
    label: String,
    package: String,
    page: Option<String>,
    cells: Vec<(String, String)>,
}

/// A kfunc's lifecycle from a stability manifest (`report --manifest`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Lifecycle {
    /// The kfunc.
    pub name: String,
    /// Its tier (own, by rule, or the default).
    pub tier: String,
    /// Since when (decision).
    pub tier_since: Option<String>,
    /// Deprecated since (decision).
    pub deprecated_since: Option<String>,
    /// Not removed before (decision).
    pub removal_not_before: Option<String>,
    /// What to use instead (decision).
    pub replacement: Option<String>,
    /// Why (decision).
    pub reason: Option<String>,
    /// Removed in (fact).
    pub removed_in: Option<String>,
    /// Links (decision).
    pub links: Vec<String>,
    /// Census objects calling it.
    pub objects: usize,
    /// Of those, objects that do not guard its absence.
    pub unguarded: usize,
}

/// The lifecycle of every kfunc the census uses, from a manifest (its tier
/// by entry, rule or default; decisions; the removal fact); deprecated or
/// removed ones first, then by objects.
pub fn lifecycle(census: &Census, m: &crate::policy::Manifest) -> Vec<Lifecycle> {
    let rows = census.usage.get(&Category::Kfunc).map(Vec::as_slice).unwrap_or(&[]);
    let mut out: Vec<Lifecycle> = rows
        .iter()
        .filter(|u| !m.ignored(&u.name))
        .map(|u| {
            let e = m.kfuncs.get(&u.name);
            let d = e.map(|e| e.decisions.clone()).unwrap_or_default();
            Lifecycle {
                name: u.name.clone(),
                tier: m.tier_name(&u.name).to_string(),
                tier_since: d.tier_since,
                deprecated_since: d.deprecated_since,
                removal_not_before: d.removal_not_before,
                replacement: d.replacement,
                reason: d.reason,
                removed_in: e.and_then(|e| e.facts.removed_in.clone()),
                links: d.links,
                objects: u.objects,
                unguarded: u.unguarded,
            }
        })
        .collect();
    let flagged = |l: &Lifecycle| l.deprecated_since.is_some() || l.removal_not_before.is_some() || l.removed_in.is_some();
    out.sort_by(|a, b| flagged(b).cmp(&flagged(a)).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
    out
}

/// Render the site into `dir` (created). Returns the files written.
pub fn render(
    census: &Census,
    kernels: &[KernelKfuncs],
    impact: &Impact,
    candidates: &[Candidate],
    fragment: &str,
    opts: &SuggestOptions,
    dir: &Path,
) -> Result<Vec<String>> {
    render_with_lifecycle(census, kernels, impact, candidates, fragment, opts, None, dir)
}

/// [`render`] with the lifecycle of the census's kfuncs from a manifest
/// (`(manifest path, rows from [`lifecycle`])`): a lifecycle section on the
/// index and in summary.md, a lifecycle box on each kfunc page.
#[allow(clippy::too_many_arguments)]
pub fn render_with_lifecycle(
    census: &Census,
    kernels: &[KernelKfuncs],
    impact: &Impact,
    candidates: &[Candidate],
    fragment: &str,
    opts: &SuggestOptions,
    lifecycle: Option<(&str, &[Lifecycle])>,
    dir: &Path,
) -> Result<Vec<String>> {
    let mut env = minijinja::Environment::new();
    for (name, src) in TEMPLATES {
        env.add_template(name, src).map_err(|e| Error::new(format!("templates/report/{name}"), e.to_string()))?;
    }
    let labels: Vec<&str> = kernels.iter().map(|k| k.label()).collect();
    let tl = timeline(census, kernels);
    let verdict_of: BTreeMap<&str, &super::impact::ObjectVerdicts> = impact.objects.iter().map(|o| (o.sha256.as_str(), o)).collect();
    // Packages (projects) and their objects.
    let mut packages: BTreeMap<String, Vec<&super::ObjectEntry>> = BTreeMap::new();
    for o in &census.objects {
        let projects = o.projects();
        if projects.is_empty() {
            packages.entry("(no package)".into()).or_default().push(o);
        }
        for p in projects {
            packages.entry(p.to_string()).or_default().push(o);
        }
    }
    let mut heat: Vec<HeatRow> = Vec::new();
    for (p, objs) in &packages {
        for o in objs {
            let Some(v) = verdict_of.get(o.sha256.as_str()) else { continue };
            let cells = v.verdicts.iter().zip(&v.reasons).map(|(v, r)| (v.clone(), r.join("; "))).collect();
            heat.push(HeatRow { label: o.label(), package: p.clone(), page: Some(object_page(&o.sha256)), cells });
        }
    }
    let usage_tables: Vec<(String, &Vec<super::Usage>)> =
        [Category::Kfunc, Category::Helper, Category::Type, Category::Field, Category::ProgType, Category::AttachTarget]
            .iter()
            .filter_map(|c| Some((c.as_str().to_string(), census.usage.get(c)?)))
            .collect();
    let package_rows: Vec<serde_json::Value> = packages
        .iter()
        .map(|(p, objs)| {
            let fails: Vec<usize> = (0..labels.len())
                .map(|k| objs.iter().filter(|o| verdict_of.get(o.sha256.as_str()).and_then(|v| v.verdicts.get(k)).is_some_and(|v| v == "fails")).count())
                .collect();
            serde_json::json!({"name": p, "page": page_name("package", p), "objects": objs.len(), "fails": fails})
        })
        .collect();
    let answers = super::answers::answers(census, kernels, impact);
    let answer_rows: Vec<serde_json::Value> = answers
        .kfuncs
        .iter()
        .map(|a| {
            let mut v = serde_json::json!(a);
            v["page"] = serde_json::json!(page_name("kfunc", &a.name));
            v
        })
        .collect();
    let ctx = serde_json::json!({
        "answers": answer_rows,
        "next": answers.next,
        "kernels": labels,
        "totals": census.totals,
        "timeline": tl,
        "kfunc_bars": bars(census, Category::Kfunc, 25),
        "helper_bars": bars(census, Category::Helper, 25),
        "usage_tables": usage_tables,
        "heat": heat,
        "heat_height": heat.len() * 8,
        "impact": impact,
        "candidates": candidates,
        "fragment": fragment,
        "min_projects": opts.min_projects,
        "min_releases": opts.min_releases,
        "packages": package_rows,
        "manifest": lifecycle.map(|l| l.0),
        "lifecycle": lifecycle.map(|l| l.1),
        "version": crate::VERSION,
    });
    let mut written = Vec::new();
    let mut write = |rel: &str, text: String| -> Result<()> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), e))?;
        }
        std::fs::write(&p, text).map_err(|e| Error::io(p.display().to_string(), e))?;
        written.push(rel.to_string());
        Ok(())
    };
    let render = |name: &str, ctx: &serde_json::Value| -> Result<String> {
        env.get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(ctx)))
            .map_err(|e| Error::new(format!("templates/report/{name}"), format!("{e:#}")))
    };
    write("index.html", render("index.html", &ctx)?)?;
    write("summary.md", render("summary.md", &ctx)?)?;
    // kfunc pages.
    for row in tl.iter().filter(|r| r.page.is_some()) {
        let users: Vec<serde_json::Value> = census
            .users(Category::Kfunc, &row.name)
            .map(|o| {
                let guard = o.requires.get(&Category::Kfunc).and_then(|m| m.get(&row.name)).copied().unwrap_or(Guard::Unguarded);
                serde_json::json!({"label": o.label(), "sha256": o.sha256, "page": object_page(&o.sha256), "projects": o.projects(), "guarded": guard == Guard::Guarded,
                    "verdicts": verdict_of.get(o.sha256.as_str()).map(|v| v.verdicts.clone())})
            })
            .collect();
        let cand = candidates.iter().find(|c| c.kfunc == row.name);
        let changes: Vec<serde_json::Value> = impact
            .releases
            .iter()
            .flat_map(|r| r.changes.iter().filter(|c| c.name == row.name).map(move |c| serde_json::json!({"to": r.to, "kind": c.kind, "detail": c.detail})))
            .collect();
        let life = lifecycle.and_then(|(_, rows)| rows.iter().find(|l| l.name == row.name));
        let kctx = serde_json::json!({"kernels": labels, "row": row, "users": users, "candidate": cand, "changes": changes, "lifecycle": life, "root": "../", "version": crate::VERSION});
        write(row.page.as_deref().unwrap_or("kfunc/x.html"), render("kfunc.html", &kctx)?)?;
    }
    // package pages.
    for (p, objs) in &packages {
        let rows: Vec<serde_json::Value> = objs
            .iter()
            .map(|o| {
                let v = verdict_of.get(o.sha256.as_str());
                let req: BTreeMap<&str, Vec<(&String, bool)>> = o
                    .requires
                    .iter()
                    .filter(|(c, _)| matches!(c, Category::Kfunc | Category::Helper | Category::AttachTarget | Category::ProgType | Category::Type))
                    .map(|(c, m)| (c.as_str(), m.iter().map(|(n, g)| (n, *g == Guard::Guarded)).collect()))
                    .collect();
                serde_json::json!({"label": o.label(), "sha256": o.sha256, "page": object_page(&o.sha256), "occurrences": o.occurrences, "requires": req,
                    "verdicts": v.map(|v| v.verdicts.clone()), "reasons": v.map(|v| v.reasons.clone()), "loader": v.map(|v| v.loader.clone())})
            })
            .collect();
        let pctx = serde_json::json!({"kernels": labels, "name": p, "objects": rows, "root": "../", "version": crate::VERSION});
        write(&page_name("package", p), render("package.html", &pctx)?)?;
    }
    // object pages: where it was found, its loader, its kernel matrix, what it requires.
    for o in &census.objects {
        let v = verdict_of.get(o.sha256.as_str());
        // category -> (name, guarded, link to its page)
        type Requirement<'a> = (&'a String, bool, Option<String>);
        let req: BTreeMap<&str, Vec<Requirement>> = o
            .requires
            .iter()
            .map(|(c, m)| {
                let rows = m.iter().map(|(n, g)| (n, *g == Guard::Guarded, (*c == Category::Kfunc).then(|| format!("../{}", page_name("kfunc", n))))).collect();
                (c.as_str(), rows)
            })
            .collect();
        let projects: Vec<(&str, String)> = o.projects().into_iter().map(|p| (p, format!("../{}", page_name("package", p)))).collect();
        let octx = serde_json::json!({"kernels": labels, "label": o.label(), "sha256": o.sha256, "size": o.size, "endian": o.endian,
            "license": o.license, "programs": o.programs, "occurrences": o.occurrences, "projects": projects, "requires": req,
            "verdicts": v.map(|v| v.verdicts.clone()), "reasons": v.map(|v| v.reasons.clone()),
            "loader": v.map(|v| v.loader.clone()), "loader_evidence": v.map(|v| v.loader_evidence.clone()), "loader_weak": v.is_some_and(|v| v.loader_weak),
            "root": "../", "version": crate::VERSION});
        write(&object_page(&o.sha256), render("object.html", &octx)?)?;
    }
    Ok(written)
}
