//! The stability manifest (`bpfabi-policy.toml`, docs/policy.md): tiers with
//! deprecation windows and per-change-kind actions, glob rules, per-kfunc
//! decisions and facts (tombstones included), waivers. Parsing is strict:
//! unknown keys, malformed globs or dates, unknown tiers and rules that
//! select nothing are errors naming `file:line:column`. `extends` layers a
//! manifest over others (a distribution over the upstream baseline).

use crate::error::{Error, ErrorKind, Result};
pub use crate::release::{Date, Release};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The manifest schema version this bpfabi reads and writes.
pub const SCHEMA: u32 = 1;

/// What a tier does with one kind of change. Ordered like every scale of
/// `crate::vocab`: greater is graver (`Allow < Warn < Deny`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Not reported.
    Allow,
    /// A finding that does not fail the check.
    Warn,
    /// A finding that fails `policy check` (exit 1).
    Deny,
}

impl Action {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// The action a level stands for: an error is denied, a warning
    /// warned about, info allowed.
    pub fn of_level(l: crate::vocab::Level) -> Action {
        match l {
            crate::vocab::Level::Error => Action::Deny,
            crate::vocab::Level::Warning => Action::Warn,
            _ => Action::Allow,
        }
    }
    /// On the shared scale: deny is an error, warn a warning.
    pub fn level(self) -> crate::vocab::Level {
        match self {
            Action::Deny => crate::vocab::Level::Error,
            Action::Warn => crate::vocab::Level::Warning,
            Action::Allow => crate::vocab::Level::Info,
        }
    }
}

/// The change kinds a tier decides about (the manifest's vocabulary; each
/// maps from `diff` facts, see `history::classify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Removed after a deprecation.
    Removed,
    /// Removed (or renamed) with no deprecation recorded before.
    RemovedWithoutDeprecation,
    /// Return or parameter types changed, parameters added or removed.
    ProtoIncompatible,
    /// Gained a flag that rejects existing callers (KF_RET_NULL,
    /// KF_ACQUIRE, KF_SLEEPABLE ...) or lost one they relied on (KF_RCU).
    FlagsTightened,
    /// A parameter's verifier suffix changed (`__sz`, `__k`, `__nullable` ...).
    ParamAnnotationChanged,
    /// A flag change that accepts more callers.
    FlagsRelaxed,
    /// Moved from vmlinux into a module (which must then be loaded).
    MovedToModule,
    /// Old name gone, successor under a new name.
    Renamed,
    /// Turned into a helper (or a helper into a kfunc): calls must change.
    Promoted,
    /// Added (never graded: the classification of `kfunc_added` facts,
    /// which only matter when a helper of the same name went away).
    Added,
}

impl PolicyKind {
    /// Every kind, in manifest order.
    pub const ALL: [PolicyKind; 9] = [
        PolicyKind::Removed,
        PolicyKind::RemovedWithoutDeprecation,
        PolicyKind::ProtoIncompatible,
        PolicyKind::FlagsTightened,
        PolicyKind::ParamAnnotationChanged,
        PolicyKind::FlagsRelaxed,
        PolicyKind::MovedToModule,
        PolicyKind::Renamed,
        PolicyKind::Promoted,
    ];
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// Parse the manifest spelling.
    pub fn parse(s: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A place in a manifest file (1-based line and column).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Loc {
    /// The manifest file.
    pub file: String,
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based (characters).
    pub column: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Byte offset -> line:column in `text`.
pub fn loc_at(file: &str, text: &str, offset: usize) -> Loc {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    Loc { file: file.to_string(), line, column }
}

/// A kfunc name pattern: identifier characters, `*` and `?`, matched
/// against the whole name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// Validate a pattern.
    pub fn new(p: &str) -> std::result::Result<Glob, String> {
        if p.is_empty() {
            return Err("empty glob".into());
        }
        if let Some(c) = p.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?'))) {
            return Err(format!("malformed glob `{p}`: `{c}` is not allowed (identifier characters, `*` and `?` only)"));
        }
        if p.contains("**") {
            return Err(format!("malformed glob `{p}`: `**` means nothing in a kfunc name"));
        }
        Ok(Glob(p.to_string()))
    }
    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whole-name match.
    pub fn matches(&self, name: &str) -> bool {
        let (p, t) = (self.0.as_bytes(), name.as_bytes());
        let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
        while ti < t.len() {
            match p.get(pi) {
                Some(b'?') => {
                    pi += 1;
                    ti += 1;
                }
                Some(b'*') => {
                    star = Some(pi);
                    mark = ti;
                    pi += 1;
                }
                Some(c) if Some(c) == t.get(ti) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some(s) => {
                        pi = s + 1;
                        mark += 1;
                        ti = mark;
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..).is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
    }
}

/// A tier: deprecation window and what each kind of change earns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Tier {
    /// Minimum releases between deprecation and removal.
    pub window_releases: u32,
    /// Minimum months between deprecation and removal (the longer of the two wins).
    pub window_months: u32,
    /// Per change kind (kinds absent: `warn`).
    pub actions: BTreeMap<PolicyKind, Action>,
    /// Where it is defined.
    pub loc: Loc,
}

impl Tier {
    /// What this tier does with `kind`.
    pub fn action(&self, kind: PolicyKind) -> Action {
        self.actions.get(&kind).copied().unwrap_or(Action::Warn)
    }
}

/// A `[[rule]]`: defaults for kfuncs matching a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The pattern.
    pub pattern: Glob,
    /// Tier for matching kfuncs.
    pub tier: Option<String>,
    /// Owners of matching kfuncs.
    pub owners: Vec<String>,
    /// Where it is defined.
    pub loc: Loc,
}

/// Decisions people make about one kfunc (never changed by `--fix`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Decisions {
    /// Stability tier.
    pub tier: Option<String>,
    /// Release it entered that tier.
    pub tier_since: Option<String>,
    /// Release that deprecated it.
    pub deprecated_since: Option<String>,
    /// Earliest release that may remove it.
    pub removal_not_before: Option<String>,
    /// What to call instead.
    pub replacement: Option<String>,
    /// Why (deprecation, tier, event).
    pub reason: Option<String>,
    /// Who decides.
    pub owners: Vec<String>,
    /// Mailing-list threads, commits.
    pub links: Vec<String>,
}

/// One range of consecutive releases with the same fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactVersion {
    /// First release of the range.
    pub from: String,
    /// Last release of the range.
    pub to: String,
    /// Prototype fingerprint (hex, `bpfabi versions`).
    pub proto: String,
    /// Deep fingerprint (hex).
    pub deep: String,
}

/// Facts bpfabi fills from kernels (`policy init`, `policy check --fix`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// First release of the history that has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_release: Option<String>,
    /// First release without it after its last appearance (a tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<String>,
    /// The successor name when the removal was a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    /// `helper` when it became a helper of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub became: Option<String>,
    /// Module providing it in the last release that has it (absent: vmlinux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// C prototype in the last release that has it (for `policy compat` and
    /// `policy docs`): a type expression, written and read as its C text
    /// (a text that does not read as a C declaration is a manifest error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototype: Option<crate::ctype::Decl>,
    /// KF_* flags in the last release whose flags are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// Fingerprints per release range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<FactVersion>,
}

/// One kfunc of the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Decisions.
    pub decisions: Decisions,
    /// Facts from kernels.
    pub facts: Facts,
    /// Where it is defined.
    pub loc: Loc,
}

/// A `[[waiver]]`: an accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// The kfunc (glob allowed).
    pub kfunc: String,
    /// Change kind (`flags_tightened`) or finding code (`P012`).
    pub change: String,
    /// Release the finding is reported at.
    pub release: String,
    /// Why it is accepted.
    pub reason: String,
    /// Who accepted it.
    pub approved_by: String,
    /// `YYYY-MM-DD`; after it, the waiver is a finding itself.
    pub expires: Option<String>,
    /// Where it is defined.
    pub loc: Loc,
}

/// A parsed (and layered) manifest.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// The file it was read from (the top of the `extends` chain).
    pub path: String,
    /// Tier for kfuncs no rule or entry places.
    pub default_tier: String,
    /// kfuncs nobody is accountable for (test kfuncs).
    pub ignore: Vec<Glob>,
    /// Tiers by name.
    pub tiers: BTreeMap<String, Tier>,
    /// Rules, most specific layer first.
    pub rules: Vec<Rule>,
    /// kfuncs by name.
    pub kfuncs: BTreeMap<String, Entry>,
    /// Waivers.
    pub waivers: Vec<Waiver>,
    /// Release dates (`"6.13" = "2025-01-19"`) on top of the built-in table.
    pub release_dates: BTreeMap<String, String>,
    /// `[grades]`: the action for a finding code (`P018 = "deny"`,
    /// `type_conflict = "warn"`) instead of the default policy's.
    pub grades: BTreeMap<super::codes::FindingCode, Action>,
}

// ---- raw serde layer: strict, spanned ------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    schema: Spanned<u32>,
    #[serde(default)]
    extends: Vec<Spanned<String>>,
    #[serde(default)]
    default_tier: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    tier: BTreeMap<String, Spanned<RawTier>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    kfunc: BTreeMap<String, Spanned<RawEntry>>,
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
    #[serde(default)]
    release_dates: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    grades: BTreeMap<String, Spanned<Action>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    window_releases: Option<u32>,
    window_months: Option<u32>,
    removed: Option<Action>,
    removed_without_deprecation: Option<Action>,
    proto_incompatible: Option<Action>,
    flags_tightened: Option<Action>,
    param_annotation_changed: Option<Action>,
    flags_relaxed: Option<Action>,
    moved_to_module: Option<Action>,
    renamed: Option<Action>,
    promoted: Option<Action>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    tier: Option<Spanned<String>>,
    #[serde(default)]
    owners: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    tier: Option<Spanned<String>>,
    tier_since: Option<Spanned<String>>,
    deprecated_since: Option<Spanned<String>>,
    removal_not_before: Option<Spanned<String>>,
    replacement: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    owners: Vec<String>,
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    facts: Option<Facts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    kfunc: Spanned<String>,
    change: Spanned<String>,
    release: Spanned<String>,
    reason: String,
    approved_by: String,
    expires: Option<Spanned<String>>,
}

/// A release label: `6.1`, `6.12.95` ([`Release::parse`]).
pub fn parse_release(s: &str) -> Option<Release> {
    Release::parse(s)
}

/// `YYYY-MM-DD` ([`Date::parse`]).
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offsets where each line starts: a location is a binary search,
    /// not a count from the start (a baseline has thousands of entries).
    line_starts: Vec<usize>,
}

impl Ctx<'_> {
    fn loc(&self, span: std::ops::Range<usize>) -> Loc {
        let off = span.start.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= off);
        let start = line.checked_sub(1).and_then(|i| self.line_starts.get(i)).copied().unwrap_or(0);
        let column = self.text.get(start..off).map_or(0, |l| l.chars().count()) + 1;
        Loc { file: self.file.to_string(), line: line.max(1), column }
    }
    fn err(&self, span: std::ops::Range<usize>, what: impl std::fmt::Display) -> Error {
        let l = self.loc(span);
        Error::of(ErrorKind::Malformed, l.to_string(), what.to_string())
    }
    fn release(&self, s: &Option<Spanned<String>>) -> Result<Option<String>> {
        match s {
            None => Ok(None),
            Some(v) if parse_release(v.get_ref()).is_some() => Ok(Some(v.get_ref().clone())),
            Some(v) => Err(self.err(v.span(), format!("expected a release like `6.13` or `6.12.95`, found `{}`", v.get_ref()))),
        }
    }
}

impl Manifest {
    /// Read and layer a manifest file (and what it extends).
    pub fn load(path: &Path) -> Result<Manifest> {
        Self::load_depth(path, 0)
    }

    fn load_depth(path: &Path, depth: usize) -> Result<Manifest> {
        let file = path.display().to_string();
        if depth > 8 {
            return Err(Error::of(ErrorKind::TooLarge, file, "`extends` nested more than 8 deep (a cycle?)"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(&file, e))?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse_with(&text, &file, &|rel: &str| -> Result<Manifest> { Self::load_depth(&base_dir.join(rel), depth + 1) })
    }

    /// Parse manifest text (no `extends` allowed: there is no file to resolve it against).
    pub fn parse(text: &str, file: &str) -> Result<Manifest> {
        Self::parse_with(text, file, &|rel: &str| Err(Error::of(ErrorKind::NotFound, rel, "`extends` needs a manifest read from a file")))
    }

    fn parse_with(text: &str, file: &str, extend: &dyn Fn(&str) -> Result<Manifest>) -> Result<Manifest> {
        let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
        let cx = Ctx { file, text, line_starts };
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            let what = e.message().trim().to_string();
            match e.span() {
                Some(s) => cx.err(s, what),
                None => Error::of(ErrorKind::Malformed, file, what),
            }
        })?;
        if *raw.schema.get_ref() != SCHEMA {
            return Err(cx.err(raw.schema.span(), format!("expected schema = {SCHEMA}, found {}", raw.schema.get_ref())));
        }
        // Layers below this one, in order; this file goes on top.
        let mut m = Manifest { path: file.to_string(), default_tier: "unstable".into(), ..Manifest::default() };
        let mut have_base = false;
        for e in &raw.extends {
            let base = extend(e.get_ref()).map_err(|err| cx.err(e.span(), format!("in `extends`: {err}")))?;
            m.overlay_base(base);
            have_base = true;
        }
        if !have_base {
            m.tiers = builtin_tiers(file);
        }
        for (name, t) in &raw.tier {
            let loc = cx.loc(t.span());
            let r = t.get_ref();
            let mut tier = m.tiers.get(name).cloned().unwrap_or_default();
            tier.loc = loc;
            if let Some(v) = r.window_releases {
                tier.window_releases = v;
            }
            if let Some(v) = r.window_months {
                tier.window_months = v;
            }
            let pairs = [
                (PolicyKind::Removed, r.removed),
                (PolicyKind::RemovedWithoutDeprecation, r.removed_without_deprecation),
                (PolicyKind::ProtoIncompatible, r.proto_incompatible),
                (PolicyKind::FlagsTightened, r.flags_tightened),
                (PolicyKind::ParamAnnotationChanged, r.param_annotation_changed),
                (PolicyKind::FlagsRelaxed, r.flags_relaxed),
                (PolicyKind::MovedToModule, r.moved_to_module),
                (PolicyKind::Renamed, r.renamed),
                (PolicyKind::Promoted, r.promoted),
            ];
            for (k, a) in pairs {
                if let Some(a) = a {
                    tier.actions.insert(k, a);
                }
            }
            m.tiers.insert(name.clone(), tier);
        }
        if let Some(d) = &raw.default_tier {
            m.default_tier = d.get_ref().clone();
        }
        if !m.tiers.contains_key(&m.default_tier) {
            let span = raw.default_tier.as_ref().map(|d| d.span()).unwrap_or(0..0);
            return Err(cx.err(span, format!("default_tier `{}` is not a defined tier", m.default_tier)));
        }
        let tier_ok = |t: &Spanned<String>, m: &Manifest| -> Result<String> {
            if m.tiers.contains_key(t.get_ref()) {
                Ok(t.get_ref().clone())
            } else {
                let known: Vec<&str> = m.tiers.keys().map(String::as_str).collect();
                Err(cx.err(t.span(), format!("unknown tier `{}` (defined: {})", t.get_ref(), known.join(", "))))
            }
        };
        for g in &raw.ignore {
            m.ignore.push(Glob::new(g.get_ref()).map_err(|w| cx.err(g.span(), w))?);
        }
        for (k, d) in &raw.release_dates {
            if parse_date(d.get_ref()).is_none() {
                return Err(cx.err(d.span(), format!("expected a date YYYY-MM-DD, found `{}`", d.get_ref())));
            }
            if parse_release(k).is_none() {
                return Err(cx.err(d.span(), format!("expected a release like `6.13` as key, found `{k}`")));
            }
            m.release_dates.insert(k.clone(), d.get_ref().clone());
        }
        for (k, a) in &raw.grades {
            let span = a.span();
            match super::codes::FindingCode::parse(k) {
                Some(c) if c.tier_graded() => {
                    return Err(cx.err(span, format!("[grades]: `{k}` is graded by the tiers' actions (`[tier.NAME]`), not here")));
                }
                Some(c) => {
                    m.grades.insert(c, *a.get_ref());
                }
                None => return Err(cx.err(span, format!("[grades]: expected a finding code (`P018`, `P100`, `type_conflict` ...), found `{k}`"))),
            }
        }
        for (name, e) in &raw.kfunc {
            let r = e.get_ref();
            let mut entry = m.kfuncs.remove(name).unwrap_or_default();
            entry.loc = cx.loc(e.span());
            let d = &mut entry.decisions;
            if let Some(t) = &r.tier {
                d.tier = Some(tier_ok(t, &m)?);
            }
            macro_rules! rel {
                ($f:ident) => {
                    if let Some(v) = cx.release(&r.$f)? {
                        d.$f = Some(v);
                    }
                };
            }
            rel!(tier_since);
            rel!(deprecated_since);
            rel!(removal_not_before);
            if r.replacement.is_some() {
                d.replacement = r.replacement.clone();
            }
            if r.reason.is_some() {
                d.reason = r.reason.clone();
            }
            if !r.owners.is_empty() {
                d.owners = r.owners.clone();
            }
            if !r.links.is_empty() {
                d.links = r.links.clone();
            }
            if let Some(f) = &r.facts {
                for v in f.first_release.iter().chain(&f.removed_in).chain(f.versions.iter().flat_map(|v| [&v.from, &v.to])) {
                    if parse_release(v).is_none() {
                        return Err(cx.err(e.span(), format!("kfunc `{name}`: facts name `{v}`, not a release like `6.13`")));
                    }
                }
                entry.facts = f.clone();
            }
            m.kfuncs.insert(name.clone(), entry);
        }
        let mut rules = Vec::new();
        for r in &raw.rule {
            let rr = r.get_ref();
            let pattern = Glob::new(rr.pattern.get_ref()).map_err(|w| cx.err(rr.pattern.span(), w))?;
            let tier = rr.tier.as_ref().map(|t| tier_ok(t, &m)).transpose()?;
            if !m.kfuncs.keys().any(|k| pattern.matches(k)) {
                return Err(cx.err(rr.pattern.span(), format!("rule `{}` selects no kfunc of the manifest", pattern.as_str())));
            }
            rules.push(Rule { pattern, tier, owners: rr.owners.clone(), loc: cx.loc(r.span()) });
        }
        // This layer's rules take precedence over the bases'.
        rules.append(&mut m.rules);
        m.rules = rules;
        for w in &raw.waiver {
            let r = w.get_ref();
            if r.kfunc.get_ref().contains(['*', '?']) {
                Glob::new(r.kfunc.get_ref()).map_err(|e| cx.err(r.kfunc.span(), e))?;
            }
            let c = r.change.get_ref();
            if PolicyKind::parse(c).is_none() && super::codes::Code::parse(c).is_none() {
                return Err(cx.err(r.change.span(), format!("expected a change kind (`flags_tightened` ...) or a finding code (`P012` ...), found `{c}`")));
            }
            cx.release(&Some(r.release.clone()))?;
            if let Some(x) = &r.expires {
                if parse_date(x.get_ref()).is_none() {
                    return Err(cx.err(x.span(), format!("expected a date YYYY-MM-DD, found `{}`", x.get_ref())));
                }
            }
            m.waivers.push(Waiver {
                kfunc: r.kfunc.get_ref().clone(),
                change: c.clone(),
                release: r.release.get_ref().clone(),
                reason: r.reason.clone(),
                approved_by: r.approved_by.clone(),
                expires: r.expires.as_ref().map(|x| x.get_ref().clone()),
                loc: cx.loc(w.span()),
            });
        }
        Ok(m)
    }

    /// Put `base` under what this manifest has so far.
    fn overlay_base(&mut self, base: Manifest) {
        for (k, t) in base.tiers {
            self.tiers.insert(k, t);
        }
        self.default_tier = base.default_tier;
        self.ignore.extend(base.ignore);
        self.rules.extend(base.rules);
        for (k, e) in base.kfuncs {
            self.kfuncs.insert(k, e);
        }
        self.waivers.extend(base.waivers);
        self.release_dates.extend(base.release_dates);
        self.grades.extend(base.grades);
    }

    /// The action for a finding: the manifest's `[grades]`, else the
    /// default policy's grade.
    pub fn finding_action(&self, o: &super::Observation) -> Action {
        match self.grades.get(&o.code) {
            Some(a) => *a,
            None => Action::of_level(<super::DefaultPolicy as super::Policy>::grade_finding(&super::DefaultPolicy, o)),
        }
    }

    /// Is this kfunc ignored (test kfuncs)?
    pub fn ignored(&self, name: &str) -> bool {
        self.ignore.iter().any(|g| g.matches(name))
    }

    /// The first rule matching `name`.
    pub fn rule_for(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.pattern.matches(name))
    }

    /// The tier name of a kfunc: its entry, else the first matching rule
    /// with a tier, else the default tier.
    pub fn tier_name(&self, name: &str) -> &str {
        if let Some(t) = self.kfuncs.get(name).and_then(|e| e.decisions.tier.as_deref()) {
            return t;
        }
        self.rules.iter().filter(|r| r.pattern.matches(name)).find_map(|r| r.tier.as_deref()).unwrap_or(&self.default_tier)
    }

    /// The tier of a kfunc.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.get(self.tier_name(name))
    }

    /// Tier rank for "less stable" comparisons: stable 0, unstable 1,
    /// experimental 2, others by window (longer = more stable).
    pub fn tier_rank(&self, tier: &str) -> (u32, u32) {
        match tier {
            "stable" => (0, 0),
            "unstable" => (1, 0),
            "experimental" => (2, 0),
            t => {
                let w = self.tiers.get(t).map(|t| t.window_releases).unwrap_or(0);
                (1, u32::MAX - w)
            }
        }
    }

    /// The release date of `release` (`6.13`): the manifest's table, else the built-in one.
    pub fn release_date(&self, release: &str) -> Option<Date> {
        let series = series(release)?;
        let key = series.to_string();
        self.release_dates.get(&key).or_else(|| self.release_dates.get(release)).and_then(|d| parse_date(d)).or_else(|| builtin_date(series))
    }
}

/// The series of a release label: `6.12.95` -> `6.12` ([`Release::series`]).
pub fn series(release: &str) -> Option<Release> {
    parse_release(release).map(Release::series)
}

fn builtin_tiers(file: &str) -> BTreeMap<String, Tier> {
    use Action::*;
    use PolicyKind::*;
    let mk = |r: u32, mo: u32, acts: &[(PolicyKind, Action)]| Tier {
        window_releases: r,
        window_months: mo,
        actions: acts.iter().copied().collect(),
        loc: Loc { file: format!("{file} (built-in tier)"), line: 0, column: 0 },
    };
    let strict = [
        (Removed, Warn),
        (RemovedWithoutDeprecation, Deny),
        (ProtoIncompatible, Deny),
        (FlagsTightened, Deny),
        (ParamAnnotationChanged, Deny),
        (FlagsRelaxed, Allow),
        (MovedToModule, Warn),
        (Renamed, Warn),
        (Promoted, Deny),
    ];
    let loose = [
        (Removed, Allow),
        (RemovedWithoutDeprecation, Warn),
        (ProtoIncompatible, Warn),
        (FlagsTightened, Warn),
        (ParamAnnotationChanged, Warn),
        (FlagsRelaxed, Allow),
        (MovedToModule, Allow),
        (Renamed, Warn),
        (Promoted, Warn),
    ];
    let none = [
        (Removed, Allow),
        (RemovedWithoutDeprecation, Allow),
        (ProtoIncompatible, Allow),
        (FlagsTightened, Allow),
        (ParamAnnotationChanged, Allow),
        (FlagsRelaxed, Allow),
        (MovedToModule, Allow),
        (Renamed, Allow),
        (Promoted, Allow),
    ];
    [("stable".to_string(), mk(4, 12, &strict)), ("unstable".to_string(), mk(2, 0, &loose)), ("experimental".to_string(), mk(0, 0, &none))]
        .into_iter()
        .collect()
}

/// Mainline release dates (for windows in months). Later releases: give
/// them in `[release_dates]`.
const DATES: &[(Release, Date)] = &[
    (Release::new(5, 10, 0), Date::new(2020, 12, 13)),
    (Release::new(5, 11, 0), Date::new(2021, 2, 14)),
    (Release::new(5, 12, 0), Date::new(2021, 4, 25)),
    (Release::new(5, 13, 0), Date::new(2021, 6, 27)),
    (Release::new(5, 14, 0), Date::new(2021, 8, 29)),
    (Release::new(5, 15, 0), Date::new(2021, 10, 31)),
    (Release::new(5, 16, 0), Date::new(2022, 1, 9)),
    (Release::new(5, 17, 0), Date::new(2022, 3, 20)),
    (Release::new(5, 18, 0), Date::new(2022, 5, 22)),
    (Release::new(5, 19, 0), Date::new(2022, 7, 31)),
    (Release::new(6, 0, 0), Date::new(2022, 10, 2)),
    (Release::new(6, 1, 0), Date::new(2022, 12, 11)),
    (Release::new(6, 2, 0), Date::new(2023, 2, 19)),
    (Release::new(6, 3, 0), Date::new(2023, 4, 23)),
    (Release::new(6, 4, 0), Date::new(2023, 6, 25)),
    (Release::new(6, 5, 0), Date::new(2023, 8, 27)),
    (Release::new(6, 6, 0), Date::new(2023, 10, 30)),
    (Release::new(6, 7, 0), Date::new(2024, 1, 7)),
    (Release::new(6, 8, 0), Date::new(2024, 3, 10)),
    (Release::new(6, 9, 0), Date::new(2024, 5, 12)),
    (Release::new(6, 10, 0), Date::new(2024, 7, 14)),
    (Release::new(6, 11, 0), Date::new(2024, 9, 15)),
    (Release::new(6, 12, 0), Date::new(2024, 11, 17)),
    (Release::new(6, 13, 0), Date::new(2025, 1, 19)),
    (Release::new(6, 14, 0), Date::new(2025, 3, 24)),
    (Release::new(6, 15, 0), Date::new(2025, 5, 25)),
    (Release::new(6, 16, 0), Date::new(2025, 7, 27)),
    (Release::new(6, 17, 0), Date::new(2025, 9, 28)),
    (Release::new(6, 18, 0), Date::new(2025, 11, 30)),
];

fn builtin_date(s: Release) -> Option<Date> {
    DATES.iter().find(|(k, _)| *k == s.series()).map(|(_, d)| *d)
}

/// Number of mainline releases from `a` to `b` (`6.13` -> `6.17` = 4);
/// None when either is not in the built-in series table (5.10 .. 6.18)
/// nor later than it (counted as 6.18 + minor distance within major 6).
pub fn releases_between(a: &str, b: &str) -> Option<i64> {
    let idx = |r: &str| -> Option<i64> {
        let s = series(r)?;
        if let Some(i) = DATES.iter().position(|(k, _)| *k == s) {
            return Some(i as i64);
        }
        // Past the table: 6.19, 7.0 ... follow on (7.0 after 6.19 by convention).
        let last = DATES.len() as i64 - 1;
        match (s.major, s.minor) {
            (6, m) if m > 18 => Some(last + (m as i64 - 18)),
            (7, m) => Some(last + 2 + m as i64),
            _ => None,
        }
    };
    Some(idx(b)? - idx(a)?)
}

/// Whole months from date `a` to date `b` ([`Date::months_until`]).
pub fn months_between(a: Date, b: Date) -> i64 {
    a.months_until(b)
}

/// Order of release labels (`6.1` < `6.12.95` < `6.12.117`).
pub fn release_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    parse_release(a).cmp(&parse_release(b))
}

/// Where a manifest named on the command line lives; `None` for stdin-like inputs.
pub fn manifest_dir(p: &Path) -> PathBuf {
    p.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = Glob::new("scx_bpf_*").unwrap();
        assert!(g.matches("scx_bpf_dispatch"));
        assert!(!g.matches("bpf_scx"));
        assert!(Glob::new("bpf_kfunc_call_test?").unwrap().matches("bpf_kfunc_call_test1"));
        assert!(!Glob::new("bpf_kfunc_call_test?").unwrap().matches("bpf_kfunc_call_test12"));
        assert!(Glob::new("a*b*c").unwrap().matches("axxbyyc"));
        assert!(!Glob::new("a*b*c").unwrap().matches("axxbyy"));
        assert!(Glob::new("bpf_[a]*").is_err());
        assert!(Glob::new("").is_err());
        assert!(Glob::new("a**").is_err());
    }

    #[test]
    fn windows() {
        assert_eq!(releases_between("6.13", "6.17"), Some(4));
        assert_eq!(releases_between("6.12.95", "6.12.117"), Some(0));
        assert_eq!(releases_between("6.18", "6.20"), Some(2));
        assert_eq!(months_between(Date::new(2025, 1, 19), Date::new(2025, 9, 28)), 8);
        assert_eq!(months_between(Date::new(2025, 1, 19), Date::new(2025, 2, 18)), 0);
        assert_eq!(release_cmp("6.12.95", "6.12.117"), std::cmp::Ordering::Less);
        assert_eq!(loc_at("f", "a\nbc\nd", 4), Loc { file: "f".into(), line: 2, column: 3 });
        let text = "a\nbc\nd\n";
        let cx = Ctx { file: "f", text, line_starts: vec![0, 2, 5, 7] };
        for off in 0..=text.len() {
            assert_eq!(cx.loc(off..off), loc_at("f", text, off), "offset {off}");
        }
    }

    #[test]
    fn grades() {
        use super::super::codes::{Circumstance, Code, FindingCode, LintCode};
        use super::super::Observation;
        let m = Manifest::parse("schema = 1\n[grades]\nP018 = \"deny\"\ntype_conflict = \"warn\"\nP101 = \"allow\"\n", "m.toml").unwrap();
        assert_eq!(m.grades.get(&FindingCode::Policy(Code::FactsDisagree)), Some(&Action::Deny));
        assert_eq!(m.finding_action(&Observation::new(Code::FactsDisagree, Circumstance::Plain)), Action::Deny);
        assert_eq!(m.finding_action(&Observation::new(LintCode::TypeConflict, Circumstance::Plain)), Action::Warn);
        assert_eq!(m.finding_action(&Observation::new(Code::UseOfRemoved, Circumstance::Plain)), Action::Allow);
        // Not in [grades]: the default policy's grade.
        assert_eq!(m.finding_action(&Observation::new(Code::NameReused, Circumstance::Plain)), Action::Deny);
        assert_eq!(m.finding_action(&Observation::new(Code::ReplacementProblem, Circumstance::Plain)), Action::Warn);
        assert_eq!(m.finding_action(&Observation::new(Code::ReplacementProblem, Circumstance::ReplacementMissing)), Action::Deny);
        // Tier-graded codes and unknown codes are errors naming the place.
        let e = Manifest::parse("schema = 1\n[grades]\nP011 = \"deny\"\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml:3:") && e.contains("graded by the tiers"), "{e}");
        let e = Manifest::parse("schema = 1\n[grades]\nP999 = \"deny\"\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml:3:") && e.contains("expected a finding code"), "{e}");
        let e = Manifest::parse("schema = 1\n[grades]\nP018 = \"fatal\"\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml:3:"), "{e}");
    }
}
