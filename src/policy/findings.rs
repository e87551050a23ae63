//! Findings of `policy check` and `check --policy`: stable codes (the list
//! in docs/policy.md), levels, and their printers (text, JSON, SARIF).

pub use super::codes::Code;
use super::codes::{Circumstance, Observation};
use super::manifest::{Action, Loc, PolicyKind};
use super::Policy;
use serde::Serialize;
use serde_json::json;
use std::io::{self, Write};

/// JSON schema name of `policy check --format json`.
pub const SCHEMA: &str = "bpfabi.policy-check/1";

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code.
    pub code: Code,
    /// deny or warn (allowed changes are not findings).
    pub level: Action,
    /// The kfunc, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kfunc: Option<String>,
    /// The release it is observed at (the newer kernel of a pair).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The change kind, for graded changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<PolicyKind>,
    /// The tier that graded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// What, in words.
    pub message: String,
    /// Where in the manifest (entry, rule, waiver), when it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Loc>,
    /// The waiver accepting it (`file:line:col`), when waived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
    /// `policy check --fix` repairs it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fixable: bool,
    /// What changes the default grade (`policy::Circumstance`).
    #[serde(skip)]
    pub circumstance: Circumstance,
}

impl Finding {
    /// A finding with no kfunc, release or location yet.
    pub fn new(code: Code, level: Action, message: impl Into<String>) -> Self {
        Finding {
            code,
            level,
            kfunc: None,
            release: None,
            change: None,
            tier: None,
            message: message.into(),
            location: None,
            waived_by: None,
            fixable: false,
            circumstance: Circumstance::Plain,
        }
    }
    /// A finding as its detector observed it: [`grade`] gives it the
    /// policy's level (tier-graded findings use [`Finding::new`]).
    pub fn observed(code: Code, message: impl Into<String>) -> Self {
        Finding::new(code, Action::Warn, message)
    }
    /// Observed under `c` (a circumstance the grade depends on).
    pub fn when(mut self, c: Circumstance) -> Self {
        self.circumstance = c;
        self
    }
    /// About `kfunc`.
    pub fn kfunc(mut self, k: &str) -> Self {
        self.kfunc = Some(k.to_string());
        self
    }
    /// At `release`.
    pub fn at(mut self, r: &str) -> Self {
        self.release = Some(r.to_string());
        self
    }
    /// Located in the manifest.
    pub fn loc(mut self, l: Option<&Loc>) -> Self {
        self.location = l.filter(|l| l.line > 0).cloned();
        self
    }
}

/// The action `policy` gives a finding `code` observed under `c`.
pub fn action_of(policy: &dyn Policy, code: Code, c: Circumstance) -> Action {
    Action::of_level(policy.grade_finding(&Observation::new(code, c)))
}

/// Grade observed findings by `policy` (every code but the tier-graded
/// P010-P012, whose level the tier gave) and drop the allowed ones.
pub fn grade(findings: &mut Vec<Finding>, policy: &dyn Policy) {
    for f in findings.iter_mut() {
        if !super::codes::FindingCode::Policy(f.code).tier_graded() {
            f.level = action_of(policy, f.code, f.circumstance);
        }
    }
    findings.retain(|f| f.level != Action::Allow);
}

/// Counts for the last line.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Findings that fail the check.
    pub deny: usize,
    /// Warnings.
    pub warn: usize,
    /// Findings accepted by a waiver.
    pub waived: usize,
}

/// Count findings.
pub fn counts(f: &[Finding]) -> Counts {
    let mut c = Counts::default();
    for x in f {
        if x.waived_by.is_some() {
            c.waived += 1;
        } else if x.level == Action::Deny {
            c.deny += 1;
        } else if x.level == Action::Warn {
            c.warn += 1;
        }
    }
    c
}

/// The last line: `N deny, N warn, N waived`.
pub fn summary_line(c: Counts) -> String {
    format!("{} deny, {} warn, {} waived", c.deny, c.warn, c.waived)
}

/// One finding as a line of text.
pub fn line(f: &Finding) -> String {
    let mut s = String::new();
    if let Some(l) = &f.location {
        s.push_str(&format!("{l}: "));
    }
    let level = if f.waived_by.is_some() { "waived" } else { f.level.as_str() };
    s.push_str(&format!("{level}[{}]", f.code.as_str()));
    if let Some(r) = &f.release {
        s.push_str(&format!(" {r}"));
    }
    if let Some(k) = &f.kfunc {
        s.push_str(&format!(" {k}"));
    }
    s.push_str(&format!(": {}", f.message));
    if let Some(t) = &f.tier {
        s.push_str(&format!(" (tier {t})"));
    }
    if let Some(w) = &f.waived_by {
        s.push_str(&format!(" [waiver {w}]"));
    }
    if f.fixable {
        s.push_str(" [--fix]");
    }
    s
}

/// Text: one line per finding (releases in order), then the counts. What
/// `--fix` records is summarised, not repeated per kfunc: kfuncs not in the
/// manifest (P001) as one line per release, facts the kernels add (P019)
/// as one line (JSON and SARIF keep every finding).
pub fn text(w: &mut dyn Write, kernels: &[String], f: &[Finding]) -> io::Result<()> {
    writeln!(w, "history: {}", kernels.join(" -> "))?;
    let summarised = |x: &Finding| x.waived_by.is_none() && matches!(x.code, Code::Unlisted | Code::FactsToRecord);
    let mut unlisted: Vec<(&str, Vec<&str>)> = Vec::new();
    for x in f.iter().filter(|x| summarised(x) && x.code == Code::Unlisted) {
        let r = x.release.as_deref().unwrap_or("?");
        let k = x.kfunc.as_deref().unwrap_or("?");
        match unlisted.iter_mut().find(|(rel, _)| *rel == r) {
            Some((_, ks)) => ks.push(k),
            None => unlisted.push((r, vec![k])),
        }
    }
    for (r, ks) in &unlisted {
        let shown: Vec<&str> = ks.iter().take(6).copied().collect();
        let more = if ks.len() > shown.len() { format!(" and {} more", ks.len() - shown.len()) } else { String::new() };
        writeln!(w, "warn[P001] {r}: {} kfuncs not in the manifest: {}{more} [--fix]", ks.len(), shown.join(", "))?;
    }
    for x in f.iter().filter(|x| !summarised(x)) {
        writeln!(w, "{}", line(x))?;
    }
    let record: Vec<&Finding> = f.iter().filter(|x| summarised(x) && x.code == Code::FactsToRecord).collect();
    if !record.is_empty() {
        writeln!(
            w,
            "warn[P019]: {} kfuncs have facts to record from these kernels (removals, fingerprint ranges): run `bpfabi policy check --fix`",
            record.len()
        )?;
    }
    writeln!(w, "{}", summary_line(counts(f)))
}

#[derive(Serialize)]
struct Doc<'a> {
    kernels: &'a [String],
    findings: &'a [Finding],
    summary: Counts,
}

/// `bpfabi.policy-check/1`.
pub fn json(w: &mut dyn Write, kernels: &[String], f: &[Finding]) -> io::Result<()> {
    crate::report::write_json(w, SCHEMA, &Doc { kernels, findings: f, summary: counts(f) })
}

/// A SARIF location for a finding: the manifest line, or a source line.
#[derive(Debug, Clone)]
pub struct SarifLoc {
    /// File.
    pub uri: String,
    /// Line (0: none).
    pub line: usize,
    /// Column (0: none).
    pub column: usize,
}

/// SARIF 2.1.0: one result per finding, located at `loc(f)`.
pub fn sarif(w: &mut dyn Write, f: &[Finding], loc: &dyn Fn(&Finding) -> Option<SarifLoc>) -> io::Result<()> {
    let (rules, results) = sarif_parts(f.iter().map(|x| (x, loc(x))));
    crate::report::write_sarif(w, rules, results)
}

/// The SARIF rules (one per code, in code order) and results (one per
/// finding, at its location) of findings: what [`sarif`] writes, and what
/// `check --policy` adds to check's own.
pub fn sarif_parts<'a>(f: impl IntoIterator<Item = (&'a Finding, Option<SarifLoc>)>) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let f: Vec<(&Finding, Option<SarifLoc>)> = f.into_iter().collect();
    let mut rules: Vec<Code> = f.iter().map(|(x, _)| x.code).collect();
    rules.sort();
    rules.dedup();
    let results: Vec<serde_json::Value> = f
        .into_iter()
        .map(|(x, loc)| {
            let mut r = json!({
                "ruleId": x.code.as_str(),
                "level": if x.waived_by.is_some() { "note" } else if x.level == Action::Deny { "error" } else { "warning" },
                "message": {"text": format!("{}{}", x.kfunc.as_ref().map(|k| format!("{k}: ")).unwrap_or_default(), x.message)},
                "properties": {"release": x.release, "change": x.change, "tier": x.tier},
            });
            if x.waived_by.is_some() {
                r["suppressions"] = json!([{"kind": "inSource", "justification": x.waived_by}]);
            }
            if let Some(l) = loc {
                let mut region = json!({});
                if l.line > 0 {
                    region["startLine"] = json!(l.line);
                    if l.column > 0 {
                        region["startColumn"] = json!(l.column);
                    }
                    r["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": l.uri}, "region": region}}]);
                } else {
                    r["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": l.uri}}}]);
                }
            }
            r
        })
        .collect();
    let rules = rules.iter().map(|c| json!({"id": c.as_str(), "name": c.name(), "shortDescription": {"text": c.name().replace('-', " ")}})).collect();
    (rules, results)
}

/// The manifest location of a finding as a SARIF location.
pub fn manifest_loc(f: &Finding) -> Option<SarifLoc> {
    f.location.as_ref().map(|l| SarifLoc { uri: l.file.clone(), line: l.line, column: l.column })
}
