//! A kernel history under a manifest: kernels in release order, the facts
//! they show per kfunc (first release, removal, rename, promotion,
//! fingerprints per release range), and `policy check`: each consecutive
//! pair diffed with the existing detectors (`diff::diff`) and graded by the
//! manifest as a [`Policy`] ([`ManifestPolicy`]), plus the lifecycle checks
//! (deprecations, windows, waivers, facts).

use super::codes::Circumstance;
use super::findings::{Code, Finding};
use super::manifest::{self, Action, FactVersion, Facts, Manifest, PolicyKind};
use super::{DefaultPolicy, Policy, Requirement, Subject};
use crate::check::Verdict;
use crate::diff::{self, Fact, Severity, SubjectKind};
use crate::error::{Error, ErrorKind, Result};
use crate::model::KernelModel;
use std::collections::{BTreeMap, BTreeSet};

/// A kernel's release label for policies: `6.1`, `6.12.95` (the patch
/// level when the release has a non-zero one: Debian's `5.10.0-32` is `5.10`).
pub fn release_label(release: &str) -> Option<String> {
    crate::release::Release::of_kernel(release).map(|r| r.to_string())
}

/// The label of a model, or an error naming the kernel when its release is unknown.
pub fn label_of(m: &KernelModel) -> Result<String> {
    m.kernel()
        .release
        .as_deref()
        .and_then(release_label)
        .ok_or_else(|| Error::of(ErrorKind::NotFound, m.label(), "kernel release unknown (give --release, or a directory with meta.json)"))
}

/// Sort kernels into release order; two kernels of the same release are an error.
pub fn order(models: Vec<KernelModel>) -> Result<(Vec<KernelModel>, Vec<String>)> {
    let mut v: Vec<(String, KernelModel)> = models.into_iter().map(|m| label_of(&m).map(|l| (l, m))).collect::<Result<_>>()?;
    v.sort_by(|a, b| manifest::release_cmp(&a.0, &b.0));
    for w in v.windows(2) {
        if let [a, b] = w {
            if a.0 == b.0 {
                return Err(Error::of(ErrorKind::Mismatch, b.1.label(), format!("two kernels of release {}", a.0)));
            }
        }
    }
    Ok(v.into_iter().map(|(l, m)| (m, l)).unzip())
}

/// What one kernel has of a kfunc.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    module: Option<String>,
    c_proto: crate::ctype::Decl,
    flags: Option<Vec<String>>,
    proto: String,
    deep: String,
}

fn snapshot(m: &KernelModel) -> BTreeMap<String, Seen> {
    let v = m.versions();
    let mut out = BTreeMap::new();
    for k in &m.surface().kfuncs {
        let (p, d) = v.kfuncs.get(&(k.name.clone(), k.module.clone())).copied().unwrap_or((0, 0));
        out.entry(k.name.clone()).or_insert(Seen {
            module: k.module.clone(),
            c_proto: k.proto.clone(),
            flags: k.flags_known.then(|| k.flags.clone()),
            proto: crate::versions::hex(p),
            deep: crate::versions::hex(d),
        });
    }
    out
}

fn helpers(m: &KernelModel) -> BTreeSet<String> {
    m.surface().helpers.iter().map(|h| h.name.clone()).collect()
}

/// A history: kernels in release order with their labels.
pub struct History<'a> {
    /// Kernels, oldest first.
    pub kernels: &'a [KernelModel],
    /// Their release labels.
    pub labels: &'a [String],
    snaps: Vec<BTreeMap<String, Seen>>,
    helpers: Vec<BTreeSet<String>>,
    modules: Vec<BTreeSet<String>>,
}

impl<'a> History<'a> {
    /// Prepare (fingerprints of every kernel are computed here).
    pub fn new(kernels: &'a [KernelModel], labels: &'a [String]) -> Self {
        let (snaps, helpers) = std::thread::scope(|s| {
            let hs: Vec<_> = kernels.iter().map(|k| s.spawn(move || (snapshot(k), helpers(k)))).collect();
            hs.into_iter().map(|h| h.join().unwrap_or_default()).unzip()
        });
        let modules = kernels.iter().map(|k| k.kernel().modules.iter().map(|m| m.name.clone()).collect()).collect();
        History { kernels, labels, snaps, helpers, modules }
    }

    /// Whether kernel `i` says anything about a kfunc last seen in
    /// `module`: a module kfunc is unknown (not removed) in a kernel read
    /// without that module.
    pub fn knows(&self, i: usize, module: Option<&str>) -> bool {
        match module {
            None => true,
            Some(m) => self.modules.get(i).is_some_and(|ms| ms.contains(m)),
        }
    }

    /// Module of `name` in the last kernel before `i` that has it.
    fn module_before(&self, i: usize, name: &str) -> Option<&str> {
        (0..i).rev().find_map(|j| self.snaps.get(j).and_then(|s| s.get(name))).and_then(|s| s.module.as_deref())
    }

    /// Every kfunc name any kernel has.
    pub fn names(&self) -> BTreeSet<&str> {
        self.snaps.iter().flat_map(|s| s.keys().map(String::as_str)).collect()
    }

    fn label(&self, i: usize) -> &str {
        self.labels.get(i).map(String::as_str).unwrap_or("?")
    }

    /// The facts this history shows about every kfunc. `renames` maps a
    /// removed name to its successor as `diff` found it.
    pub fn facts(&self, renames: &BTreeMap<String, String>) -> BTreeMap<String, Facts> {
        let mut out = BTreeMap::new();
        let last = self.snaps.len().saturating_sub(1);
        for name in self.names() {
            let mut f = Facts::default();
            let present: Vec<Option<&Seen>> = self.snaps.iter().map(|s| s.get(name)).collect();
            let Some(first) = present.iter().position(Option::is_some) else { continue };
            f.first_release = Some(self.label(first).to_string());
            let Some(lastp) = present.iter().rposition(Option::is_some) else { continue };
            let module = present.get(lastp).copied().flatten().and_then(|s| s.module.as_deref());
            if lastp < last && self.knows(lastp + 1, module) {
                f.removed_in = Some(self.label(lastp + 1).to_string());
                f.renamed_to = renames.get(name).cloned();
                if self.helpers.get(lastp + 1).is_some_and(|h| h.contains(name)) {
                    f.became = Some("helper".into());
                }
            }
            f.module = present.get(lastp).copied().flatten().and_then(|s| s.module.clone());
            f.prototype = present.get(lastp).copied().flatten().map(|s| s.c_proto.clone());
            f.flags = present.iter().rev().flatten().find_map(|s| s.flags.clone());
            let mut cur: Option<FactVersion> = None;
            for (i, p) in present.iter().enumerate() {
                match (p, cur.as_mut()) {
                    (Some(s), Some(c)) if c.proto == s.proto && c.deep == s.deep && c.to == self.label(i.saturating_sub(1)) => {
                        c.to = self.label(i).to_string();
                    }
                    (Some(s), _) => {
                        if let Some(c) = cur.take() {
                            f.versions.push(c);
                        }
                        cur = Some(FactVersion { from: self.label(i).into(), to: self.label(i).into(), proto: s.proto.clone(), deep: s.deep.clone() });
                    }
                    (None, _) => {
                        if let Some(c) = cur.take() {
                            f.versions.push(c);
                        }
                    }
                }
            }
            if let Some(c) = cur {
                f.versions.push(c);
            }
            out.insert(name.to_string(), f);
        }
        out
    }
}

/// Renames `diff` finds between consecutive kernels (old name -> new name).
pub fn renames(kernels: &[KernelModel]) -> BTreeMap<String, String> {
    let dopts = diff::DiffOptions::default();
    let diffs: Vec<diff::Diff> = std::thread::scope(|s| {
        let hs: Vec<_> = kernels
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => {
                    let dopts = &dopts;
                    Some(s.spawn(move || diff::diff(a, b, dopts, &DefaultPolicy)))
                }
                _ => None,
            })
            .collect();
        hs.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut out = BTreeMap::new();
    for d in diffs {
        for c in d.changes {
            for f in c.facts {
                if let Fact::KfuncRenamed { to } = f {
                    out.insert(c.name.clone(), to);
                }
            }
        }
    }
    out
}

/// The manifest as a [`Policy`] for one step of a history: grades the
/// facts `diff` observes between the kernel before `release` and `release`.
pub struct ManifestPolicy<'m> {
    /// The manifest.
    pub manifest: &'m Manifest,
    /// The newer kernel's release label.
    pub release: String,
    /// Helper names of the newer kernel (a removed kfunc that is now a helper was promoted).
    pub new_helpers: BTreeSet<String>,
    /// Helper names of the older kernel (an added kfunc that was a helper
    /// there, and is not any more, is the promotion the other way).
    pub old_helpers: BTreeSet<String>,
}

/// What the manifest makes of one fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The manifest's change kind.
    pub kind: PolicyKind,
    /// The finding code.
    pub code: Code,
    /// deny / warn / allow, from the tier.
    pub action: Action,
    /// The tier that decided.
    pub tier: String,
    /// Extra words (window arithmetic).
    pub why: Option<String>,
}

/// The manifest change kind of a diff fact (`None`: no kind the manifest grades).
pub fn classify(fact: &Fact) -> Option<PolicyKind> {
    Some(match fact {
        Fact::KfuncRemoved { .. } => PolicyKind::Removed,
        Fact::KfuncAdded { .. } => PolicyKind::Added,
        Fact::KfuncRenamed { .. } => PolicyKind::Renamed,
        Fact::KfuncMoved { to: Some(_), .. } => PolicyKind::MovedToModule,
        Fact::ReturnRetyped { .. } | Fact::ParamRetyped { .. } | Fact::ParamRemoved { .. } | Fact::ParamAdded { .. } => PolicyKind::ProtoIncompatible,
        Fact::ParamRenamed { annotation_from, annotation_to, .. } if annotation_from != annotation_to => PolicyKind::ParamAnnotationChanged,
        Fact::FlagLost { retired_default: true, .. } => return None,
        Fact::FlagGained { flag } => match super::flag_rule(*flag, true)?.0 {
            Severity::Breaking => PolicyKind::FlagsTightened,
            Severity::Compatible => PolicyKind::FlagsRelaxed,
            _ => return None,
        },
        Fact::FlagLost { flag, .. } => match super::flag_rule(*flag, false)?.0 {
            Severity::Breaking => PolicyKind::FlagsTightened,
            Severity::Compatible => PolicyKind::FlagsRelaxed,
            _ => return None,
        },
        _ => return None,
    })
}

fn action_severity(a: Action) -> Severity {
    match a {
        Action::Deny => Severity::Breaking,
        Action::Warn => Severity::Compatible,
        Action::Allow => Severity::Info,
    }
}

/// The action a policy's severity stands for (inverse of the grading).
pub fn severity_action(s: Severity) -> Action {
    match s {
        Severity::Breaking => Action::Deny,
        Severity::Compatible => Action::Warn,
        _ => Action::Allow,
    }
}

/// Deprecation state of a kfunc at a removal in `release`.
pub enum Removal {
    /// Nothing deprecated it before `release`.
    NotDeprecated,
    /// Deprecated, but the window (or `removal_not_before`) has not passed.
    TooEarly(String),
    /// Deprecated long enough.
    Ok(String),
}

impl Manifest {
    /// Whether removing `name` in `release` respects its deprecation.
    pub fn removal(&self, name: &str, release: &str) -> Removal {
        let Some(e) = self.kfuncs.get(name) else { return Removal::NotDeprecated };
        let Some(dep) = e.decisions.deprecated_since.as_deref() else { return Removal::NotDeprecated };
        if manifest::series(dep) >= manifest::series(release) {
            return Removal::NotDeprecated;
        }
        let tier = self.tier(name).cloned().unwrap_or_default();
        let rel = manifest::releases_between(dep, release).unwrap_or(0);
        let months = match (self.release_date(dep), self.release_date(release)) {
            (Some(a), Some(b)) => Some(manifest::months_between(a, b)),
            _ => None,
        };
        let mut short = Vec::new();
        if rel < tier.window_releases as i64 {
            short.push(format!("{rel} of {} releases", tier.window_releases));
        }
        match months {
            Some(mo) if mo < tier.window_months as i64 => short.push(format!("{mo} of {} months", tier.window_months)),
            None if tier.window_months > 0 => short.push(format!("months unknown (no date for {dep} or {release}), {} required", tier.window_months)),
            _ => {}
        }
        if let Some(nb) = e.decisions.removal_not_before.as_deref() {
            if manifest::series(release) < manifest::series(nb) {
                short.push(format!("announced removal is {nb}"));
            }
        }
        let says = format!("deprecated since {dep}");
        if short.is_empty() {
            Removal::Ok(says)
        } else {
            Removal::TooEarly(format!("{says}: window not over ({})", short.join(", ")))
        }
    }
}

impl ManifestPolicy<'_> {
    /// What the manifest makes of `fact` about kfunc `name`.
    pub fn judge(&self, name: &str, fact: &Fact) -> Option<Judgement> {
        let m = self.manifest;
        if m.ignored(name) {
            return None;
        }
        let mut kind = classify(fact)?;
        let tier_name = m.tier_name(name).to_string();
        let tier = m.tiers.get(&tier_name).cloned().unwrap_or_default();
        if kind == PolicyKind::Removed && self.new_helpers.contains(name) {
            kind = PolicyKind::Promoted;
        }
        if kind == PolicyKind::Added {
            if self.old_helpers.contains(name) && !self.new_helpers.contains(name) {
                kind = PolicyKind::Promoted;
            } else {
                return None;
            }
        }
        let (code, action, why) = match kind {
            PolicyKind::Removed | PolicyKind::Renamed => match m.removal(name, &self.release) {
                Removal::NotDeprecated => (Code::RemovedWithoutDeprecation, tier.action(PolicyKind::RemovedWithoutDeprecation), None),
                Removal::TooEarly(w) => (Code::RemovedBeforeWindow, tier.action(PolicyKind::RemovedWithoutDeprecation).max(tier.action(kind)), Some(w)),
                Removal::Ok(w) => (Code::Change, tier.action(kind), Some(w)),
            },
            k => (Code::Change, tier.action(k), None),
        };
        Some(Judgement { kind, code, action, tier: tier_name, why })
    }
}

impl Policy for ManifestPolicy<'_> {
    fn grade_change(&self, subject: &Subject, fact: &Fact) -> Severity {
        if fact.kind().subject() != SubjectKind::Kfunc {
            return DefaultPolicy.grade_change(subject, fact);
        }
        match self.judge(subject.name, fact) {
            Some(j) => action_severity(j.action),
            None => Severity::Info,
        }
    }
    fn explain_change(&self, subject: &Subject, fact: &Fact) -> Option<String> {
        let j = self.judge(subject.name, fact)?;
        let what = match j.code {
            Code::RemovedWithoutDeprecation => format!("{} without deprecation", j.kind.as_str()),
            Code::RemovedBeforeWindow => format!("{} before the deprecation window ends", j.kind.as_str()),
            _ => j.kind.as_str().to_string(),
        };
        Some(match j.why {
            Some(w) => format!("{what} (tier {}: {}; {w})", j.tier, j.action.as_str()),
            None => format!("{what} (tier {}: {})", j.tier, j.action.as_str()),
        })
    }
    fn grade_requirement(&self, r: &Requirement) -> Verdict {
        DefaultPolicy.grade_requirement(r)
    }
    fn grade_finding(&self, o: &super::Observation) -> crate::vocab::Level {
        self.manifest.finding_action(o).level()
    }
}

/// Options of [`check`].
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Today, for waiver expiry.
    pub today: crate::release::Date,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { today: today() }
    }
}

/// Today's UTC date.
pub fn today() -> crate::release::Date {
    crate::release::Date::today()
}

/// The outcome of `policy check`.
pub struct Outcome {
    /// Findings, in release order then code.
    pub findings: Vec<Finding>,
    /// Facts the kernels show (`--fix --shrink` writes these).
    pub facts: BTreeMap<String, Facts>,
    /// The facts to record: the manifest's merged with the kernels'
    /// (history outside the kernels kept; `--fix` writes these).
    pub merged: BTreeMap<String, Facts>,
    /// Every kfunc change per kfunc: (release, change kind, detail as graded).
    pub timeline: BTreeMap<String, Vec<(String, String, String)>>,
    /// Which kernels (by index) have each kfunc.
    pub presence: BTreeMap<String, Vec<bool>>,
}

/// `policy check`: walk consecutive releases, grade each change by its
/// tier, check lifecycles, facts and waivers.
pub fn check(m: &Manifest, kernels: &[KernelModel], labels: &[String], opts: &CheckOptions) -> Outcome {
    let h = History::new(kernels, labels);
    let mut out: Vec<Finding> = Vec::new();
    let mut renames = BTreeMap::new();
    let mut timeline: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let dopts = diff::DiffOptions::default();
    // Pairs are independent: diff them on threads.
    let pairs: Vec<(usize, diff::Diff)> = std::thread::scope(|s| {
        let hs: Vec<_> = (1..kernels.len())
            .filter_map(|i| {
                let (old, new) = (kernels.get(i - 1)?, kernels.get(i)?);
                let pol = ManifestPolicy {
                    manifest: m,
                    release: h.label(i).to_string(),
                    new_helpers: h.helpers.get(i).cloned().unwrap_or_default(),
                    old_helpers: h.helpers.get(i - 1).cloned().unwrap_or_default(),
                };
                let dopts = &dopts;
                Some(s.spawn(move || (i, diff::diff(old, new, dopts, &pol))))
            })
            .collect();
        hs.into_iter().filter_map(|x| x.join().ok()).collect()
    });
    for (i, d) in &pairs {
        let (i, rel) = (*i, h.label(*i).to_string());
        let pol = ManifestPolicy {
            manifest: m,
            release: rel.clone(),
            new_helpers: h.helpers.get(i).cloned().unwrap_or_default(),
            old_helpers: h.helpers.get(i - 1).cloned().unwrap_or_default(),
        };
        let mut proto_or_flags: BTreeSet<&str> = BTreeSet::new();
        for c in &d.changes {
            if c.kind.subject() != SubjectKind::Kfunc || m.ignored(&c.name) {
                continue;
            }
            // A module kfunc missing from a kernel read without its module: unknown, not removed.
            if matches!(c.kind, diff::ChangeKind::KfuncRemoved | diff::ChangeKind::KfuncRenamed) && !h.knows(i, h.module_before(i, &c.name)) {
                continue;
            }
            proto_or_flags.insert(&c.name);
            timeline.entry(c.name.clone()).or_default().push((rel.clone(), c.kind.as_str().to_string(), c.detail.clone()));
            let subject = Subject { name: &c.name, module: c.module.as_deref(), exposure: None };
            // One finding per (kfunc, change kind): the facts of that kind joined.
            let mut graded: BTreeMap<PolicyKind, (Judgement, Action, Vec<String>)> = BTreeMap::new();
            for f in &c.facts {
                if let Fact::KfuncRenamed { to } = f {
                    renames.insert(c.name.clone(), to.clone());
                }
                if let Fact::KfuncAdded { .. } = f {
                    // A name removed earlier coming back with another prototype.
                    let cur = h.snaps.get(i).and_then(|s| s.get(&c.name));
                    let before = (0..i.saturating_sub(1)).rev().find_map(|j| h.snaps.get(j).and_then(|s| s.get(&c.name)).map(|s| (j, s)));
                    if let (Some(cur), Some((j, old))) = (cur, before) {
                        // Absent only from kernels read without its module: unknown there, not removed.
                        let seen_absent = (j + 1..i).any(|k| h.knows(k, old.module.as_deref()));
                        if old.proto != cur.proto && seen_absent {
                            out.push(
                                Finding::observed(
                                    Code::NameReused,
                                    format!("removed after {}, back in {rel} with another prototype (fingerprint {} -> {})", h.label(j), old.proto, cur.proto),
                                )
                                .kfunc(&c.name)
                                .at(&rel)
                                .loc(m.kfuncs.get(&c.name).map(|e| &e.loc)),
                            );
                        }
                    }
                    if pol.judge(&c.name, f).is_none() {
                        continue;
                    }
                }
                // The grading: the manifest as a Policy over the diff facts.
                let action = severity_action(pol.grade_change(&subject, f));
                let Some(j) = pol.judge(&c.name, f) else { continue };
                if action == Action::Allow {
                    continue;
                }
                let e = graded.entry(j.kind).or_insert_with(|| (j.clone(), action, Vec::new()));
                e.1 = e.1.max(action);
                e.2.push(f.describe());
            }
            for (kind, (j, action, descs)) in graded {
                let joined = descs.join("; ");
                let mut msg = if joined.starts_with(kind.as_str()) { joined } else { format!("{}: {joined}", kind.as_str()) };
                if let Some(w) = &j.why {
                    msg.push_str(&format!(" ({w})"));
                }
                let mut x = Finding::new(j.code, action, msg).kfunc(&c.name).at(&rel).loc(m.kfuncs.get(&c.name).map(|e| &e.loc));
                x.change = Some(kind);
                x.tier = Some(j.tier);
                out.push(x);
            }
        }
        // Deep fingerprint changed with no prototype or flag change: a
        // type behind the prototype changed. Recorded when the facts have
        // a range starting here.
        if let (Some(a), Some(b)) = (h.snaps.get(i - 1), h.snaps.get(i)) {
            for (name, sb) in b {
                let Some(sa) = a.get(name) else { continue };
                if sa.deep == sb.deep || sa.proto != sb.proto || proto_or_flags.contains(name.as_str()) || m.ignored(name) {
                    continue;
                }
                let recorded = m.kfuncs.get(name).is_some_and(|e| e.facts.versions.iter().any(|v| v.from == rel && v.deep == sb.deep));
                if !recorded {
                    out.push(
                        Finding::observed(
                            Code::SilentChange,
                            format!("deep fingerprint {} -> {}: a type the prototype reaches changed; nothing recorded", sa.deep, sb.deep),
                        )
                        .kfunc(name)
                        .at(&rel)
                        .loc(m.kfuncs.get(name).map(|e| &e.loc)),
                    );
                }
            }
        }
        // A KF_* bit that means something else in the newer kernel.
        if let (Some(ko), Some(kn)) = (kernels.get(i - 1), kernels.get(i)) {
            if let (Some(vo), Some(vn)) = (ko.kernel().version(), kn.kernel().version()) {
                let bits = |k: &KernelModel| k.surface().kfuncs.iter().filter(|f| f.flags_known).fold(0u32, |a, f| a | f.flags_raw);
                let both = bits(ko) & bits(kn);
                for b in (0..32).filter(|b| both & (1 << b) != 0) {
                    let (a, c) = (crate::kflags::names(1 << b, vo), crate::kflags::names(1 << b, vn));
                    if a != c {
                        out.push(
                            Finding::observed(
                                Code::FlagBitReused,
                                format!("KF_* bit {b} means {} in {} and {} in {rel}", a.join(","), h.label(i - 1), c.join(",")),
                            )
                            .at(&rel),
                        );
                    }
                }
            }
        }
    }
    let names = h.names();
    // The history may be a prefix of the one the manifest records (CI reads
    // the older kernels only): facts about later releases are not judged.
    let newest = labels.last().map(String::as_str);
    let first_seen = |n: &str| h.snaps.iter().position(|s| s.contains_key(n)).map(|i| h.label(i).to_string());
    // In the kernels, not in the manifest.
    for n in &names {
        if !m.kfuncs.contains_key(*n) && !m.ignored(n) {
            let mut x = Finding::observed(Code::Unlisted, format!("not in the manifest (tier by default: {})", m.tier_name(n))).kfunc(n);
            x.release = first_seen(n);
            x.fixable = true;
            out.push(x);
        }
    }
    for (n, e) in &m.kfuncs {
        if m.ignored(n) {
            continue;
        }
        let tomb = e.facts.removed_in.is_some() || e.facts.renamed_to.is_some() || e.facts.became.is_some();
        if !names.contains(n.as_str()) && !tomb && !after_history(e.facts.first_release.as_deref(), newest) {
            let hint = crate::versions::closest(n, names.iter().copied()).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default();
            out.push(
                Finding::observed(Code::StaleEntry, format!("in no kernel of the history and not a tombstone (no removed_in){hint}"))
                    .kfunc(n)
                    .loc(Some(&e.loc)),
            );
        }
        let d = &e.decisions;
        if let Some(dep) = &d.deprecated_since {
            let mut missing = Vec::new();
            if d.replacement.is_none() {
                missing.push("replacement");
            }
            if d.reason.is_none() {
                missing.push("reason");
            }
            if !missing.is_empty() {
                out.push(
                    Finding::observed(Code::DeprecationIncomplete, format!("deprecated since {dep} without {}", missing.join(" or ")))
                        .kfunc(n)
                        .loc(Some(&e.loc)),
                );
            }
            // A kfunc no kernel of the history has (its subsystem not built
            // there): its replacement cannot be judged either.
            if let Some(r) = d.replacement.as_ref().filter(|_| names.contains(n.as_str())) {
                let last = h.snaps.last();
                let in_kernels = last.is_some_and(|s| s.contains_key(r)) || h.helpers.last().is_some_and(|hs| hs.contains(r));
                if !in_kernels {
                    out.push(
                        Finding::observed(
                            Code::ReplacementProblem,
                            format!("replacement `{r}` is not in the newest kernel ({})", labels.last().map(String::as_str).unwrap_or("?")),
                        )
                        .when(Circumstance::ReplacementMissing)
                        .kfunc(n)
                        .loc(Some(&e.loc)),
                    );
                } else if m.tier_rank(m.tier_name(r)) > m.tier_rank(m.tier_name(n)) {
                    out.push(
                        Finding::observed(
                            Code::ReplacementProblem,
                            format!("replacement `{r}` is less stable (tier {}) than `{n}` (tier {})", m.tier_name(r), m.tier_name(n)),
                        )
                        .kfunc(n)
                        .loc(Some(&e.loc)),
                    );
                }
            }
        }
        if let Some(nb) = &d.removal_not_before {
            let late = h.snaps.iter().enumerate().find(|(i, s)| s.contains_key(n) && manifest::series(h.label(*i)) > manifest::series(nb));
            if let Some((i, _)) = late {
                out.push(
                    Finding::observed(Code::PresentAfterRemoval, format!("announced for removal in {nb}, still present in {}", h.label(i)))
                        .kfunc(n)
                        .at(h.label(i))
                        .loc(Some(&e.loc)),
                );
            }
        }
    }
    // Rules that select nothing in the kernels.
    for r in &m.rules {
        if !names.iter().any(|n| r.pattern.matches(n)) {
            out.push(Finding::observed(Code::StaleRule, format!("rule `{}` matches no kfunc of the history", r.pattern.as_str())).loc(Some(&r.loc)));
        }
    }
    // Facts that disagree with the kernels: the record merged with what the
    // kernels show (history outside them kept) differs from the record.
    let facts = h.facts(&renames);
    let mut merged = BTreeMap::new();
    for (n, computed) in &facts {
        let Some(e) = m.kfuncs.get(n) else {
            merged.insert(n.clone(), computed.clone());
            continue;
        };
        let module = computed.module.as_deref().or(e.facts.module.as_deref());
        // A kernel that has it knows it; one without it, when it was read with the module.
        let known: Vec<bool> = (0..labels.len()).map(|i| h.snaps.get(i).is_some_and(|s| s.contains_key(n)) || h.knows(i, module)).collect();
        let fix = super::merge::merge(&e.facts, computed, super::merge::Given { labels, known: &known });
        if fix != e.facts {
            let what = describe_facts_diff(&e.facts, &fix);
            let mut x = if only_additions(&e.facts, &fix) {
                Finding::observed(Code::FactsToRecord, format!("facts to record: {what}"))
            } else {
                Finding::observed(Code::FactsDisagree, format!("facts disagree with the kernels: {what}"))
            };
            x = x.kfunc(n).loc(Some(&e.loc));
            x.fixable = e.loc.file == m.path;
            out.push(x);
        }
        merged.insert(n.clone(), fix);
    }
    apply_waivers(m, &mut out, opts, newest);
    super::findings::grade(&mut out, m);
    out.sort_by(|a, b| {
        let ra = a.release.as_deref().map(manifest::parse_release);
        let rb = b.release.as_deref().map(manifest::parse_release);
        ra.cmp(&rb).then(a.code.cmp(&b.code)).then(a.kfunc.cmp(&b.kfunc))
    });
    let presence = names.iter().map(|n| (n.to_string(), h.snaps.iter().map(|s| s.contains_key(*n)).collect())).collect();
    Outcome { findings: out, facts, merged, timeline, presence }
}

/// Whether `release` is after the newest kernel of the history.
fn after_history(release: Option<&str>, newest: Option<&str>) -> bool {
    match (release, newest) {
        (Some(r), Some(n)) => manifest::release_cmp(r, n) == std::cmp::Ordering::Greater,
        _ => false,
    }
}

/// Whether `merged` only adds to `recorded` what later kernels show (a
/// removal, fingerprint ranges, the newer prototype, flags or module):
/// nothing recorded is contradicted.
fn only_additions(recorded: &Facts, merged: &Facts) -> bool {
    fn kept<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
        a.is_none() || a == b
    }
    let (rv, mv) = (&recorded.versions, &merged.versions);
    let prefix = mv.len() >= rv.len()
        && rv.iter().zip(mv).enumerate().all(|(i, (r, m))| {
            r == m
                || (i + 1 == rv.len()
                    && r.from == m.from
                    && r.proto == m.proto
                    && r.deep == m.deep
                    && manifest::release_cmp(&r.to, &m.to) == std::cmp::Ordering::Less)
        });
    // Later releases seen (ranges extended or added, a removal): the last-known values may follow them.
    let newer = mv != rv || (recorded.removed_in.is_none() && merged.removed_in.is_some());
    let last_known =
        |a: &Facts, b: &Facts| newer || (kept(&a.prototype, &b.prototype) && kept(&a.module, &b.module) && (a.flags.is_none() || a.flags == b.flags));
    prefix
        && kept(&recorded.first_release, &merged.first_release)
        && kept(&recorded.removed_in, &merged.removed_in)
        && kept(&recorded.renamed_to, &merged.renamed_to)
        && kept(&recorded.became, &merged.became)
        && last_known(recorded, merged)
}

fn describe_facts_diff(a: &Facts, b: &Facts) -> String {
    let mut v = Vec::new();
    let o = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
    if a.first_release != b.first_release {
        v.push(format!("first_release {} (kernels: {})", o(&a.first_release), o(&b.first_release)));
    }
    if a.removed_in != b.removed_in {
        v.push(format!("removed_in {} (kernels: {})", o(&a.removed_in), o(&b.removed_in)));
    }
    if a.renamed_to != b.renamed_to {
        v.push(format!("renamed_to {} (kernels: {})", o(&a.renamed_to), o(&b.renamed_to)));
    }
    if a.became != b.became {
        v.push(format!("became {} (kernels: {})", o(&a.became), o(&b.became)));
    }
    if a.prototype != b.prototype {
        let p = |x: &Option<crate::ctype::Decl>| x.as_ref().map_or_else(|| "-".into(), ToString::to_string);
        v.push(format!("prototype `{}` (kernels: `{}`)", p(&a.prototype), p(&b.prototype)));
    }
    if a.flags != b.flags {
        v.push(format!("flags {:?} (kernels: {:?})", a.flags, b.flags));
    }
    if a.module != b.module {
        v.push(format!("module {} (kernels: {})", o(&a.module), o(&b.module)));
    }
    if a.versions != b.versions {
        v.push(format!("{} fingerprint ranges recorded, kernels show {}", a.versions.len(), b.versions.len()));
    }
    v.join(", ")
}

fn apply_waivers(m: &Manifest, out: &mut Vec<Finding>, opts: &CheckOptions, newest: Option<&str>) {
    let mut extra = Vec::new();
    for w in &m.waivers {
        let expired = w.expires.as_deref().and_then(manifest::parse_date).is_some_and(|d| d < opts.today);
        let glob = manifest::Glob::new(&w.kfunc).ok();
        let mut matched = false;
        for f in out.iter_mut() {
            let kf = f.kfunc.as_deref().unwrap_or("");
            let name_ok = kf == w.kfunc || glob.as_ref().is_some_and(|g| g.matches(kf));
            let change_ok = f.code.as_str() == w.change || f.change.map(|c| c.as_str()) == Some(w.change.as_str());
            if name_ok && change_ok && f.release.as_deref() == Some(w.release.as_str()) {
                matched = true;
                if !expired && f.waived_by.is_none() {
                    f.waived_by = Some(format!("{} by {}: {}", w.loc, w.approved_by, w.reason));
                }
            }
        }
        if expired {
            extra.push(
                Finding::observed(
                    Code::WaiverExpired,
                    format!("waiver for {} {} at {} expired on {}", w.kfunc, w.change, w.release, w.expires.as_deref().unwrap_or("?")),
                )
                .kfunc(&w.kfunc)
                .loc(Some(&w.loc)),
            );
        } else if !matched && !after_history(Some(&w.release), newest) {
            extra.push(
                Finding::observed(Code::WaiverUnmatched, format!("waiver for {} {} at {} matches no finding", w.kfunc, w.change, w.release))
                    .kfunc(&w.kfunc)
                    .loc(Some(&w.loc)),
            );
        }
    }
    out.extend(extra);
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn labels_and_dates() {
        assert_eq!(release_label("5.10.0-32-amd64").as_deref(), Some("5.10"));
        assert_eq!(release_label("6.12.117+deb13-amd64").as_deref(), Some("6.12.117"));
        assert_eq!(release_label("6.18.44-fc-v595").as_deref(), Some("6.18.44"));
        assert_eq!(release_label("6.13").as_deref(), Some("6.13"));
        assert_eq!(release_label("x"), None);
        use crate::release::Date;
        assert_eq!(Date::from_days(0), Date::new(1970, 1, 1));
        assert_eq!(Date::from_days(20454), Date::new(2026, 1, 1));
        assert_eq!(Date::from_days(20454).to_string(), "2026-01-01");
    }
}
