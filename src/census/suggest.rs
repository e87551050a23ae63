//! Stable candidates: kfuncs used by at least N distinct projects of a
//! census and present with an unchanged prototype in at least M consecutive
//! releases up to the newest kernel given, written as a policy manifest
//! fragment (`[kfunc.NAME] tier = "stable"`) with the evidence (users,
//! releases, prototype fingerprint) in comments.

use super::kernels::KernelKfuncs;
use super::{Category, Census};
use crate::model::KernelModel;
use crate::report::count;
use serde::Serialize;
use std::fmt::Write as _;

/// Thresholds.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SuggestOptions {
    /// Distinct projects (source packages) using the kfunc.
    pub min_projects: usize,
    /// Consecutive releases (ending at the newest kernel) with the same prototype.
    pub min_releases: usize,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions { min_projects: 2, min_releases: 2 }
    }
}

impl SuggestOptions {
    /// With these thresholds.
    pub fn new(min_projects: usize, min_releases: usize) -> Self {
        SuggestOptions { min_projects, min_releases }
    }
}

/// One kfunc's evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The kfunc.
    pub kfunc: String,
    /// Projects using it.
    pub projects: Vec<String>,
    /// Objects calling it, and how many guard its absence.
    pub objects: usize,
    /// Objects guarding its absence.
    pub guarded: usize,
    /// Kernels (release order) where it is present with today's prototype,
    /// the newest last.
    pub releases: Vec<String>,
    /// The newest prototype.
    pub proto: String,
    /// First 16 hex digits of the SHA-256 of the prototype text.
    pub fingerprint: String,
    /// KF_* flags in the newest kernel.
    pub flags: Vec<String>,
    /// Meets both thresholds.
    pub stable: bool,
}

/// Evidence for every kfunc the census uses, candidates first.
pub fn candidates(census: &Census, kernels: &[KernelKfuncs], opts: &SuggestOptions) -> Vec<Candidate> {
    let Some(rows) = census.usage.get(&Category::Kfunc) else { return Vec::new() };
    let mut out: Vec<Candidate> = rows
        .iter()
        .map(|u| {
            let newest = kernels.last().and_then(|k| k.kfunc(&u.name));
            let mut releases = Vec::new();
            if let Some(newest) = newest {
                // Prototypes compare as type expressions.
                for k in kernels.iter().rev() {
                    match k.kfunc(&u.name) {
                        Some(kf) if kf.proto == newest.proto => releases.push(k.label().to_string()),
                        _ => break,
                    }
                }
            }
            let proto = newest.map(|k| k.proto.to_string()).unwrap_or_default();
            releases.reverse();
            let stable = u.projects >= opts.min_projects && releases.len() >= opts.min_releases;
            Candidate {
                kfunc: u.name.clone(),
                projects: u.project_names.clone(),
                objects: u.objects,
                guarded: u.guarded,
                fingerprint: super::sha256_hex(proto.as_bytes()).get(..16).unwrap_or("").to_string(),
                flags: newest.map(|k| k.flags.clone()).unwrap_or_default(),
                proto,
                releases,
                stable,
            }
        })
        .collect();
    out.sort_by(|a, b| b.stable.cmp(&a.stable).then(b.projects.len().cmp(&a.projects.len())).then(a.kfunc.cmp(&b.kfunc)));
    out
}

/// A candidate's `# users:` comment line.
fn users_line(s: &mut String, c: &Candidate) {
    let (projects, objects) = (count(c.projects.len(), "project", "projects"), count(c.objects, "object", "objects"));
    let _ = writeln!(s, "# users: {projects} ({}), {objects} ({} guarded)", c.projects.join(", "), c.guarded);
}

/// The manifest fragment: one `[kfunc.NAME]` table per candidate meeting
/// the thresholds, evidence in comments; kfuncs that miss are listed in a
/// trailing comment with the reason.
pub fn fragment(census: &Census, kernels: &[KernelKfuncs], cands: &[Candidate], opts: &SuggestOptions) -> String {
    let mut s = String::new();
    let labels: Vec<&str> = kernels.iter().map(|k| k.label()).collect();
    let _ = writeln!(s, "# bpfabi census suggest: kfuncs used by >= {} projects and unchanged in >= {} releases", opts.min_projects, opts.min_releases);
    let _ = writeln!(s, "# census: {} objects, {} projects; kernels: {}", census.totals.objects, census.totals.projects, labels.join(", "));
    for c in cands.iter().filter(|c| c.stable) {
        let _ = writeln!(s);
        users_line(&mut s, c);
        let _ = writeln!(s, "# releases: {} (same prototype, fingerprint {})", c.releases.join(", "), c.fingerprint);
        let _ = writeln!(s, "# prototype: {}", c.proto);
        if !c.flags.is_empty() {
            let _ = writeln!(s, "# flags: {}", c.flags.join(" "));
        }
        let _ = writeln!(s, "[kfunc.{}]", toml_key(&c.kfunc));
        let _ = writeln!(s, "tier = \"stable\"");
    }
    let rest: Vec<&Candidate> = cands.iter().filter(|c| !c.stable).collect();
    if !rest.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "# Not suggested:");
        for c in rest {
            let why = if c.releases.is_empty() {
                "absent from the newest kernel".to_string()
            } else {
                format!("{}, unchanged in {}", count(c.projects.len(), "project", "projects"), count(c.releases.len(), "release", "releases"))
            };
            let _ = writeln!(s, "#   {}: {why}", c.kfunc);
        }
    }
    s
}

/// A bare TOML key when the name allows it, else a quoted one.
fn toml_key(name: &str) -> String {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The fragment as a manifest overlay in the format of docs/policy.md, for
/// `policy check` and the like: `schema = 1`, `extends = [extends]` (the
/// manifest `m` it was made against, as the overlay will find it), and one
/// `[kfunc.NAME]` table with `tier = "stable"` and `tier_since` (the oldest
/// release of the unchanged range) per candidate, evidence in comments.
/// Kfuncs the manifest ignores, has deprecated or removed, or already places
/// in a tier of its own are not suggested (the reason is in the trailing
/// comment). Table names never repeat one of the manifest's: a layer on top
/// overrides decisions field by field.
pub fn manifest_fragment(
    census: &Census,
    kernels: &[KernelModel],
    cands: &[Candidate],
    opts: &SuggestOptions,
    m: &crate::policy::Manifest,
    extends: &str,
) -> String {
    let mut s = String::new();
    let labels: Vec<String> = kernels.iter().map(|k| crate::policy::history::label_of(k).unwrap_or_else(|_| k.label().to_string())).collect();
    let release_of = |label: &str| kernels.iter().position(|k| k.label() == label).and_then(|i| labels.get(i)).cloned();
    let _ = writeln!(
        s,
        "# bpfabi census suggest --manifest {extends}: kfuncs used by >= {} projects and unchanged in >= {} releases",
        opts.min_projects, opts.min_releases
    );
    let _ = writeln!(s, "# census: {} objects, {} projects; kernels: {}", census.totals.objects, census.totals.projects, labels.join(", "));
    let _ = writeln!(s, "# A manifest layer over {extends} (docs/policy.md): `bpfabi policy check --manifest THIS KERNEL...`.");
    let _ = writeln!(s, "schema = 1");
    let _ = writeln!(s, "extends = [\"{}\"]", extends.replace('\\', "\\\\").replace('"', "\\\""));
    let mut rest: Vec<(String, String)> = Vec::new();
    for c in cands {
        let entry = m.kfuncs.get(&c.kfunc);
        let d = entry.map(|e| &e.decisions);
        let why = if m.ignored(&c.kfunc) {
            Some("ignored by the manifest".to_string())
        } else if let Some(dep) = d.and_then(|d| d.deprecated_since.as_ref().or(d.removal_not_before.as_ref())) {
            Some(format!("deprecated ({dep}) in the manifest"))
        } else if let Some(r) = entry.and_then(|e| e.facts.removed_in.as_ref()) {
            Some(format!("removed in {r} per the manifest"))
        } else if let Some(t) = d.and_then(|d| d.tier.as_ref()) {
            Some(format!("already tier {t} in the manifest"))
        } else if !c.stable {
            Some(if c.releases.is_empty() {
                "absent from the newest kernel".to_string()
            } else {
                format!("{}, unchanged in {}", count(c.projects.len(), "project", "projects"), count(c.releases.len(), "release", "releases"))
            })
        } else {
            None
        };
        if let Some(why) = why {
            rest.push((c.kfunc.clone(), why));
            continue;
        }
        let _ = writeln!(s);
        users_line(&mut s, c);
        let _ = writeln!(
            s,
            "# releases: {} (same prototype, fingerprint {})",
            c.releases.iter().filter_map(|l| release_of(l)).collect::<Vec<_>>().join(", "),
            c.fingerprint
        );
        let _ = writeln!(s, "# prototype: {}", c.proto);
        if !c.flags.is_empty() {
            let _ = writeln!(s, "# flags: {}", c.flags.join(" "));
        }
        let _ = writeln!(s, "[kfunc.{}]", toml_key(&c.kfunc));
        let _ = writeln!(s, "tier = \"stable\"");
        if let Some(since) = c.releases.first().and_then(|l| release_of(l)) {
            let _ = writeln!(s, "tier_since = \"{since}\"");
        }
    }
    if !rest.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "# Not suggested:");
        for (k, why) in rest {
            let _ = writeln!(s, "#   {k}: {why}");
        }
    }
    s
}
