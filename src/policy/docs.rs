//! `policy docs`: a kfunc reference generated from a manifest and a kernel
//! history: Markdown, a static HTML site (no external assets; minijinja
//! templates from `templates/policy/`, embedded) and `kfuncs.json`. Per
//! kfunc: prototype with its parameter annotations explained, flags and what
//! they mean for callers, tier and lifecycle, releases that have it, the
//! timeline of changes, a deprecation box with the compat snippet.

use super::history::Outcome;
use super::manifest::Manifest;
use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// JSON schema name of `kfuncs.json`.
pub const SCHEMA: &str = "bpfabi.kfuncs/1";

/// One parameter with its verifier annotation explained.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// The declaration (`u32 buf__sz`).
    pub decl: String,
    /// The suffix (`__sz`), when any.
    pub annotation: String,
    /// What it means for callers.
    pub meaning: String,
}

/// One flag and its meaning.
#[derive(Debug, Clone, Serialize)]
pub struct Flag {
    /// `KF_RET_NULL`.
    pub name: String,
    /// What it means for callers.
    pub meaning: String,
}

/// One change of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Release.
    pub release: String,
    /// `diff` change kind.
    pub kind: String,
    /// What changed, as graded by the manifest.
    pub detail: String,
}

/// A kfunc page.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Name.
    pub name: String,
    /// File name of its page (`kfunc/NAME.html`).
    pub file: String,
    /// Subsystem (module, or the name's first word).
    pub subsystem: String,
    /// Tier.
    pub tier: String,
    /// C prototype, last known.
    pub prototype: Option<crate::ctype::Decl>,
    /// Parameters with annotations explained.
    pub params: Vec<Param>,
    /// Flags with meanings.
    pub flags: Vec<Flag>,
    /// Releases of the history that have it.
    pub releases: Vec<String>,
    /// Decisions.
    pub decisions: super::manifest::Decisions,
    /// Facts.
    pub facts: super::manifest::Facts,
    /// Timeline.
    pub timeline: Vec<Event>,
    /// Deprecated (or announced for removal)?
    pub deprecated: bool,
    /// Compat header block when there is one.
    pub compat: Option<String>,
    /// Finding lines about it.
    pub findings: Vec<String>,
    /// Its users from a census (`policy docs --census`); `None` without one.
    pub users: Option<Users>,
}

/// Users of one kfunc in a census: distinct objects (after deduplication),
/// how many of them guard its absence, the packages and projects holding them.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Users {
    /// Distinct objects calling it.
    pub objects: usize,
    /// Of those, objects that cope with its absence (weak extern, `bpf_ksym_exists()`).
    pub guarded: usize,
    /// Of those, objects that fail to load without it.
    pub unguarded: usize,
    /// Distinct binary packages holding such objects.
    pub packages: usize,
    /// Distinct projects (source packages).
    pub projects: usize,
    /// The package names, sorted.
    pub package_names: Vec<String>,
    /// The project names, sorted.
    pub project_names: Vec<String>,
    /// The objects, unguarded first, then by label.
    pub object_list: Vec<UserObject>,
}

/// One object calling a kfunc.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserObject {
    /// `package:file@offset` of its first occurrence.
    pub label: String,
    /// First 12 hex digits of its SHA-256.
    pub sha256: String,
    /// `guarded` or `unguarded`.
    pub guard: String,
    /// Packages holding it.
    pub packages: Vec<String>,
}

/// One row of the users index (`users.html`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsersRow {
    /// kfunc name.
    pub name: String,
    /// Its page (`kfunc/NAME.html`), `None` when the kfunc is in no kernel
    /// of the history nor in the manifest (used by the census only).
    pub file: Option<String>,
    /// Tier (empty when not in the reference).
    pub tier: String,
    /// Distinct objects.
    pub objects: usize,
    /// Guarded objects.
    pub guarded: usize,
    /// Unguarded objects.
    pub unguarded: usize,
    /// Distinct packages.
    pub packages: usize,
    /// Distinct projects.
    pub projects: usize,
    /// Filter class: `unguarded` (some object needs it), `guarded` (every
    /// user copes with its absence), `unused`.
    pub class: String,
    /// Deprecated or announced for removal in the manifest.
    pub deprecated: bool,
    /// Removed in the history (`facts.removed_in`).
    pub removed_in: Option<String>,
}

/// The census a site was given.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CensusInfo {
    /// Census file.
    pub source: String,
    /// Distinct objects.
    pub objects: usize,
    /// Distinct packages.
    pub packages: usize,
    /// Distinct projects.
    pub projects: usize,
    /// kfuncs of the reference used by at least one object.
    pub used: usize,
    /// ... by at least one object that does not guard them.
    pub unguarded: usize,
    /// kfuncs the census uses that no kernel of the history nor the manifest has.
    pub unknown: usize,
    /// kfunc of the reference -> distinct objects using it.
    pub uses: BTreeMap<String, usize>,
    /// Rows sorted by distinct objects (then packages, then name), most used first.
    pub by_objects: Vec<UsersRow>,
    /// Rows sorted by distinct packages (then objects, then name).
    pub by_packages: Vec<UsersRow>,
}

/// Everything the templates see.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// Manifest path.
    pub manifest: String,
    /// Kernel labels, oldest first.
    pub kernels: Vec<String>,
    /// Pages by name.
    pub kfuncs: Vec<Page>,
    /// Subsystem -> kfunc names.
    pub subsystems: BTreeMap<String, Vec<String>>,
    /// Tier -> kfunc names.
    pub tiers: BTreeMap<String, Vec<String>>,
    /// Release -> (deprecated there, removed there).
    pub releases: Vec<ReleaseEvents>,
    /// The census users come from (`policy docs --census`).
    pub census: Option<CensusInfo>,
}

/// What happened at one release.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReleaseEvents {
    /// Release label.
    pub release: String,
    /// kfuncs deprecated at it.
    pub deprecated: Vec<String>,
    /// kfuncs removed at it.
    pub removed: Vec<String>,
    /// kfuncs added at it.
    pub added: Vec<String>,
}

fn annotation_meaning(a: &str) -> &'static str {
    match a {
        "__sz" => "size in bytes of the memory the previous argument points to",
        "__szk" => "constant size of the previous argument's memory",
        "__k" => "must be a constant known to the verifier",
        "__ign" => "the verifier does not check this argument's type",
        "__uninit" => "may point to uninitialised memory the kfunc fills in",
        "__nullable" => "may be NULL",
        "__opt" => "optional buffer: may be NULL (with a zero size)",
        "__str" => "a constant string (read-only map value)",
        "__map" => "a map (pointer to the map, not a value)",
        "__alloc" => "memory from bpf_obj_new()",
        "__refcounted_kptr" => "an owning reference to a refcounted object",
        "__prog" => "filled in by the verifier with the calling program (pass NULL)",
        "__irq_flag" => "a saved IRQ flags slot on the stack",
        "__magic" => "verifier-provided value",
        _ => "",
    }
}

fn subsystem(name: &str, module: Option<&str>) -> String {
    if let Some(m) = module {
        return m.to_string();
    }
    let n = name.strip_prefix("bpf_").unwrap_or(name);
    let word = n.split('_').next().unwrap_or(n);
    match word {
        "iter" => n.split('_').nth(1).map(|w| format!("iter {w}")).unwrap_or_else(|| "iter".into()),
        "" => "other".into(),
        w => w.to_string(),
    }
}

/// Build the site model.
pub fn build(m: &Manifest, labels: &[String], o: &Outcome) -> Site {
    let mut names: Vec<&String> = m.kfuncs.keys().filter(|n| !m.ignored(n)).collect();
    for n in o.presence.keys() {
        if !m.kfuncs.contains_key(n) && !m.ignored(n) {
            names.push(n);
        }
    }
    names.sort();
    names.dedup();
    let mut pages = Vec::new();
    let mut subsystems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tiers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rel: BTreeMap<String, ReleaseEvents> = labels.iter().map(|l| (l.clone(), ReleaseEvents { release: l.clone(), ..Default::default() })).collect();
    for n in names {
        let entry = m.kfuncs.get(n);
        let facts = o.facts.get(n).cloned().or_else(|| entry.map(|e| e.facts.clone())).unwrap_or_default();
        let decisions = entry.map(|e| e.decisions.clone()).unwrap_or_default();
        let proto = facts.prototype.clone();
        let params = proto
            .as_ref()
            .and_then(super::compat::Proto::of)
            .map(|p| {
                p.params
                    .into_iter()
                    .map(|(decl, name)| {
                        let a = crate::diff::arg_suffix(&name).to_string();
                        Param { meaning: annotation_meaning(&a).to_string(), annotation: a, decl }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let flags = facts
            .flags
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|f| Flag { meaning: crate::kflags::FLAGS.iter().find(|d| d.name == f).map(|d| d.meaning.to_string()).unwrap_or_default(), name: f })
            .collect();
        let releases: Vec<String> = o.presence.get(n).map(|p| p.iter().zip(labels).filter(|(x, _)| **x).map(|(_, l)| l.clone()).collect()).unwrap_or_default();
        let timeline =
            o.timeline.get(n).map(|v| v.iter().map(|(r, k, d)| Event { release: r.clone(), kind: k.clone(), detail: d.clone() }).collect()).unwrap_or_default();
        let deprecated = decisions.deprecated_since.is_some() || decisions.removal_not_before.is_some();
        let compat = super::compat::snippet(m, n, &mut Default::default());
        let findings = o.findings.iter().filter(|f| f.kfunc.as_deref() == Some(n.as_str())).map(super::findings::line).collect();
        let sub = subsystem(n, facts.module.as_deref());
        let tier = m.tier_name(n).to_string();
        subsystems.entry(sub.clone()).or_default().push(n.clone());
        tiers.entry(tier.clone()).or_default().push(n.clone());
        if let Some(d) = &decisions.deprecated_since {
            rel.entry(d.clone()).or_insert_with(|| ReleaseEvents { release: d.clone(), ..Default::default() }).deprecated.push(n.clone());
        }
        if let Some(r) = &facts.removed_in {
            rel.entry(r.clone()).or_insert_with(|| ReleaseEvents { release: r.clone(), ..Default::default() }).removed.push(n.clone());
        }
        if let Some(f) = &facts.first_release {
            if labels.first() != Some(f) {
                rel.entry(f.clone()).or_insert_with(|| ReleaseEvents { release: f.clone(), ..Default::default() }).added.push(n.clone());
            }
        }
        pages.push(Page {
            file: format!("kfunc/{n}.html"),
            name: n.clone(),
            subsystem: sub,
            tier,
            prototype: proto,
            params,
            flags,
            releases,
            decisions,
            facts,
            timeline,
            deprecated,
            compat,
            findings,
            users: None,
        });
    }
    let mut releases: Vec<ReleaseEvents> = rel.into_values().collect();
    releases.sort_by(|a, b| super::manifest::release_cmp(&a.release, &b.release));
    Site { manifest: m.path.clone(), kernels: labels.to_vec(), kfuncs: pages, subsystems, tiers, releases, census: None }
}

/// Objects listed per kfunc page (the counts cover all of them).
const MAX_OBJECTS_LISTED: usize = 200;

/// Add the users of every kfunc from a census (`source` names it): per page
/// the objects, packages and projects calling it, guarded or not; and the
/// users index, sorted by objects and by packages, including kfuncs the
/// census uses that are in no kernel of the history (except those the
/// manifest ignores, test kfuncs).
pub fn add_users(site: &mut Site, m: &Manifest, census: &crate::census::Census, source: &str) {
    use crate::census::{Category, Guard};
    let empty = Vec::new();
    let usage = census.usage.get(&Category::Kfunc).unwrap_or(&empty);
    let by_name: BTreeMap<&str, &crate::census::Usage> = usage.iter().map(|u| (u.name.as_str(), u)).collect();
    let mut rows = Vec::new();
    for page in &mut site.kfuncs {
        let mut users = Users::default();
        if let Some(u) = by_name.get(page.name.as_str()) {
            let mut packages = std::collections::BTreeSet::new();
            let mut list = Vec::new();
            for o in census.users(Category::Kfunc, &page.name) {
                let guard = o.requires.get(&Category::Kfunc).and_then(|m| m.get(&page.name)).copied().unwrap_or(Guard::Unguarded);
                let pk: Vec<String> = o.packages().into_iter().map(str::to_string).collect();
                packages.extend(pk.iter().cloned());
                list.push(UserObject {
                    label: o.label(),
                    sha256: o.sha256.get(..12).unwrap_or(&o.sha256).to_string(),
                    guard: if guard == Guard::Guarded { "guarded" } else { "unguarded" }.to_string(),
                    packages: pk,
                });
            }
            list.sort_by(|a, b| b.guard.cmp(&a.guard).then(a.label.cmp(&b.label)));
            list.truncate(MAX_OBJECTS_LISTED);
            users = Users {
                objects: u.objects,
                guarded: u.guarded,
                unguarded: u.unguarded,
                packages: u.packages,
                projects: u.projects,
                package_names: packages.into_iter().collect(),
                project_names: u.project_names.clone(),
                object_list: list,
            };
        }
        rows.push(row(&page.name, Some(page.file.clone()), &page.tier, &users, page.deprecated, page.facts.removed_in.clone()));
        page.users = Some(users);
    }
    let known: std::collections::BTreeSet<&str> = site.kfuncs.iter().map(|p| p.name.as_str()).collect();
    let mut unknown = 0;
    for u in usage.iter().filter(|u| !known.contains(u.name.as_str()) && !m.ignored(&u.name)) {
        unknown += 1;
        let users = Users { objects: u.objects, guarded: u.guarded, unguarded: u.unguarded, packages: u.packages, projects: u.projects, ..Default::default() };
        rows.push(row(&u.name, None, "", &users, false, None));
    }
    let uses = site.kfuncs.iter().map(|p| (p.name.clone(), p.users.as_ref().map_or(0, |u| u.objects))).collect();
    let used = rows.iter().filter(|r| r.file.is_some() && r.objects > 0).count();
    let unguarded = rows.iter().filter(|r| r.file.is_some() && r.unguarded > 0).count();
    let mut by_objects = rows.clone();
    by_objects.sort_by(|a, b| b.objects.cmp(&a.objects).then(b.packages.cmp(&a.packages)).then(a.name.cmp(&b.name)));
    let mut by_packages = rows;
    by_packages.sort_by(|a, b| b.packages.cmp(&a.packages).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
    site.census = Some(CensusInfo {
        source: source.to_string(),
        objects: census.totals.objects,
        packages: census.totals.packages,
        projects: census.totals.projects,
        used,
        unguarded,
        unknown,
        uses,
        by_objects,
        by_packages,
    });
}

fn row(name: &str, file: Option<String>, tier: &str, u: &Users, deprecated: bool, removed_in: Option<String>) -> UsersRow {
    let class = if u.unguarded > 0 {
        "unguarded"
    } else if u.objects > 0 {
        "guarded"
    } else {
        "unused"
    };
    UsersRow {
        name: name.to_string(),
        file,
        tier: tier.to_string(),
        objects: u.objects,
        guarded: u.guarded,
        unguarded: u.unguarded,
        packages: u.packages,
        projects: u.projects,
        class: class.to_string(),
        deprecated,
        removed_in,
    }
}

/// `kfuncs.json`.
pub fn json(site: &Site) -> Result<String> {
    #[derive(Serialize)]
    struct Doc<'a> {
        schema: &'static str,
        kernels: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        census: Option<CensusHead<'a>>,
        kfuncs: &'a [Page],
    }
    #[derive(Serialize)]
    struct CensusHead<'a> {
        source: &'a str,
        objects: usize,
        packages: usize,
        projects: usize,
    }
    let census = site.census.as_ref().map(|c| CensusHead { source: &c.source, objects: c.objects, packages: c.packages, projects: c.projects });
    serde_json::to_string_pretty(&Doc { schema: SCHEMA, kernels: &site.kernels, census, kfuncs: &site.kfuncs })
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::of(ErrorKind::Write, "kfuncs.json", e.to_string()))
}

#[cfg(feature = "site")]
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/policy/base.html")),
    ("index.html", include_str!("../../templates/policy/index.html")),
    ("kfunc.html", include_str!("../../templates/policy/kfunc.html")),
    ("tiers.html", include_str!("../../templates/policy/tiers.html")),
    ("releases.html", include_str!("../../templates/policy/releases.html")),
    ("users.html", include_str!("../../templates/policy/users.html")),
    ("kfuncs.md", include_str!("../../templates/policy/kfuncs.md")),
];

/// Text with Markdown code spans (`` `x` ``, as change details write
/// prototypes) as HTML: escaped, each span in `<code>`; an unpaired
/// backtick stays as it is.
pub fn code_spans(s: &str) -> String {
    let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        let last_unpaired = i == parts.len() - 1 && i % 2 == 1;
        match (i % 2, last_unpaired) {
            (1, false) => out.push_str(&format!("<code>{}</code>", esc(p))),
            (1, true) => out.push_str(&format!("`{}", esc(p))),
            _ => out.push_str(&esc(p)),
        }
    }
    out
}

/// Write the site into `dir`: index.html, tiers.html, releases.html,
/// kfunc/NAME.html, kfuncs.md, kfuncs.json; users.html with a census.
#[cfg(feature = "site")]
pub fn write(site: &Site, dir: &Path) -> Result<()> {
    use minijinja::{context, Environment, Value};
    let mut env = Environment::new();
    let tpl_err = |e: minijinja::Error| Error::of(ErrorKind::Malformed, "templates/policy", e.to_string());
    for (name, src) in TEMPLATES {
        env.add_template(name, src).map_err(tpl_err)?;
    }
    env.add_filter("code", |s: String| Value::from_safe_string(code_spans(&s)));
    let io = |p: &Path, e: std::io::Error| Error::io(p.display().to_string(), e);
    let kdir = dir.join("kfunc");
    std::fs::create_dir_all(&kdir).map_err(|e| io(&kdir, e))?;
    let write = |rel: &str, text: String| -> Result<()> {
        let p = dir.join(rel);
        std::fs::write(&p, text).map_err(|e| io(&p, e))
    };
    let sv = Value::from(minijinja::value::Serde(site));
    for (page, tpl) in [("index.html", "index.html"), ("tiers.html", "tiers.html"), ("releases.html", "releases.html"), ("kfuncs.md", "kfuncs.md")] {
        let t = env.get_template(tpl).map_err(tpl_err)?;
        write(page, t.render(context! { site => sv.clone(), root => "" }).map_err(tpl_err)?)?;
    }
    if site.census.is_some() {
        let t = env.get_template("users.html").map_err(tpl_err)?;
        write("users.html", t.render(context! { site => sv.clone(), root => "" }).map_err(tpl_err)?)?;
    }
    let t = env.get_template("kfunc.html").map_err(tpl_err)?;
    for k in &site.kfuncs {
        write(&k.file, t.render(context! { site => sv.clone(), k => Value::from(minijinja::value::Serde(k)), root => "../" }).map_err(tpl_err)?)?;
    }
    write("kfuncs.json", json(site)?)
}

/// Without the `site` feature there are no templates.
#[cfg(not(feature = "site"))]
pub fn write(_site: &Site, dir: &Path) -> Result<()> {
    Err(Error::of(ErrorKind::Unsupported, dir.display().to_string(), "built without the `site` feature"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code() {
        assert_eq!(code_spans("removed (was `int f(struct a *p)`)"), "removed (was <code>int f(struct a *p)</code>)");
        assert_eq!(code_spans("a `b` c `d"), "a <code>b</code> c `d");
        assert_eq!(code_spans("<x>"), "&lt;x&gt;");
    }
}
