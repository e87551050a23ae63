//! What the census site answers first: per kfunc the census uses, how many
//! projects call it, since which kernel of the series it exists, on which
//! architectures its users ship, and what the newest release does to it and
//! to them; plus the newest release's headline. Computed from the census,
//! the kernels (release order) and the impact, so the site, `summary.md`
//! and tests read one set of numbers.

use super::impact::Impact;
use super::kernels::KernelKfuncs;
use super::{Category, Census};
use serde::Serialize;
use std::collections::BTreeSet;

/// The architecture shown for objects of architecture-independent packages
/// (`Architecture: all`, pure-Python wheels) and of files read from disk.
pub const ANY_ARCH: &str = "all";

/// One kfunc the census uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KfuncAnswer {
    /// The kfunc.
    pub name: String,
    /// Distinct projects calling it.
    pub projects: usize,
    /// Their names.
    pub project_names: Vec<String>,
    /// Distinct objects calling it.
    pub objects: usize,
    /// Of those, objects that do not guard its absence.
    pub unguarded: usize,
    /// The oldest kernel of the series that has it (`None`: no kernel given
    /// has it).
    pub since: Option<String>,
    /// It is in the oldest kernel given, so it may be older than `since`.
    pub since_at_least: bool,
    /// Architectures of the packages its users were found in (Debian
    /// `Architecture:`, a wheel's platform), [`ANY_ARCH`] for
    /// architecture-independent ones; sorted.
    pub architectures: Vec<String>,
    /// What the newest release does to it (`kfunc_removed`,
    /// `kfunc_proto_changed`, ...), from the impact's breaking changes of
    /// the last pair of kernels; empty: nothing.
    pub next: Vec<String>,
    /// Objects calling it that the newest release breaks.
    pub next_breaks: usize,
}

/// The newest release's headline (the last pair of kernels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextRelease {
    /// The older kernel.
    pub from: String,
    /// The newest kernel.
    pub to: String,
    /// Objects it breaks.
    pub breaks: usize,
    /// Objects checked.
    pub known: usize,
    /// Projects of the broken objects.
    pub projects: Vec<String>,
    /// kfuncs the census calls that it removes or changes.
    pub kfuncs: Vec<String>,
}

/// The first answers of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answers {
    /// Per kfunc, most projects first.
    pub kfuncs: Vec<KfuncAnswer>,
    /// The newest release; `None` with fewer than two kernels.
    pub next: Option<NextRelease>,
}

/// The answers for `census` over `kernels` (release order) with its `impact`.
pub fn answers(census: &Census, kernels: &[KernelKfuncs], impact: &Impact) -> Answers {
    let last = impact.releases.last();
    let mut kfuncs: Vec<KfuncAnswer> = census
        .usage
        .get(&Category::Kfunc)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|u| {
            let first = kernels.iter().position(|k| k.kfunc(&u.name).is_some());
            let mut archs: BTreeSet<String> = BTreeSet::new();
            let mut shas: BTreeSet<&str> = BTreeSet::new();
            for o in census.users(Category::Kfunc, &u.name) {
                shas.insert(o.sha256.as_str());
                for occ in &o.occurrences {
                    archs.insert(occ.arch.clone().unwrap_or_else(|| ANY_ARCH.to_string()));
                }
            }
            let (next, next_breaks) = match last {
                Some(r) => (
                    r.changes.iter().filter(|c| c.name == u.name).map(|c| c.kind.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
                    r.breaks.iter().filter(|b| shas.contains(b.sha256.as_str())).count(),
                ),
                None => (Vec::new(), 0),
            };
            KfuncAnswer {
                name: u.name.clone(),
                projects: u.projects,
                project_names: u.project_names.clone(),
                objects: u.objects,
                unguarded: u.unguarded,
                since: first.and_then(|i| kernels.get(i)).map(|k| k.label().to_string()),
                since_at_least: first == Some(0),
                architectures: archs.into_iter().collect(),
                next,
                next_breaks,
            }
        })
        .collect();
    kfuncs.sort_by(|a, b| b.projects.cmp(&a.projects).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
    let next = last.map(|r| {
        let hit: BTreeSet<&str> = r.changes.iter().filter(|c| c.kind.starts_with("kfunc_")).map(|c| c.name.as_str()).collect();
        NextRelease {
            from: r.from.clone(),
            to: r.to.clone(),
            breaks: r.breaks.len(),
            known: r.known,
            projects: r.broken_projects.clone(),
            kfuncs: hit.into_iter().map(String::from).collect(),
        }
    });
    Answers { kfuncs, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::census::impact::{Broken, ChangeHit, Release};
    use crate::census::{Guard, ObjectEntry, Occurrence};

    fn object(sha: &str, arch: Option<&str>, kfunc: &str) -> ObjectEntry {
        let occ = Occurrence { package: Some(format!("p{sha}")), arch: arch.map(String::from), ..Occurrence::default() };
        ObjectEntry { size: 1, ..ObjectEntry::with_kfuncs(sha, &[(kfunc, Guard::Unguarded)], vec![occ]) }
    }

    #[test]
    fn architectures_and_the_newest_release() {
        let objects = vec![object("a", Some("arm64"), "bpf_x"), object("b", None, "bpf_x"), object("c", Some("amd64"), "bpf_y")];
        let census = Census::from_parts(objects, Vec::new());
        let release = Release {
            from: "6.1".into(),
            to: "6.12".into(),
            known: 3,
            breaks: vec![Broken { sha256: "a".into(), label: "a".into(), projects: vec!["pa".into()], reasons: vec![] }],
            broken_projects: vec!["pa".into()],
            fixes: 0,
            changes: vec![ChangeHit { kind: "kfunc_removed".into(), name: "bpf_x".into(), detail: String::new(), objects: 2, unguarded: 2, projects: vec![] }],
        };
        let impact = Impact { kernels: vec![], known: 3, unavailable: vec![], objects: vec![], releases: vec![release], kfunc_removal: vec![] };
        let a = answers(&census, &[], &impact);
        let x = a.kfuncs.iter().find(|k| k.name == "bpf_x").unwrap();
        assert_eq!(x.architectures, ["all", "arm64"]);
        assert_eq!((x.objects, x.projects, x.next_breaks), (2, 2, 1));
        assert_eq!(x.next, ["kfunc_removed"]);
        assert_eq!(x.since, None);
        let y = a.kfuncs.iter().find(|k| k.name == "bpf_y").unwrap();
        assert_eq!((y.architectures.as_slice(), y.next.len(), y.next_breaks), (["amd64".to_string()].as_slice(), 0, 0));
        assert_eq!(a.kfuncs[0].name, "bpf_x", "most projects first");
        let n = a.next.unwrap();
        assert_eq!((n.to.as_str(), n.breaks, n.kfuncs.as_slice()), ("6.12", 1, ["bpf_x".to_string()].as_slice()));
    }
}
