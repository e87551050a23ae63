//! Printers for `bpfabi inspect` and `bpfabi check`: matrix, explanation,
//! JSON, JSON Lines and SARIF 2.1.0 (for code scanning).

use super::{count, write_json, write_jsonl, write_table};
use crate::check::alternatives::{object_verdicts, ObjectVerdict, Role};
use crate::check::{ProgramResult, Verdict};
use crate::object::BpfObject;
use crate::policy::findings::{self, Finding, SarifLoc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Version of the `check --json` document.
pub const SCHEMA: &str = "bpfabi.check/1";
/// Version of the `inspect --json` document.
pub const INSPECT_SCHEMA: &str = "bpfabi.inspect/2";

#[derive(Serialize)]
struct Doc<'a> {
    kernels: &'a [String],
    results: &'a [ProgramResult],
    summary: Counts,
    objects: Vec<ObjectVerdict>,
    object_summary: ObjectCounts,
}

/// How many of some verdicts are each verdict: the tally both summaries
/// share, flattened into their JSON (`loads`, `warns`, `unknown`, `fails`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerdictTally {
    /// Verdict `loads`.
    pub loads: usize,
    /// Verdict `warns`.
    pub warns: usize,
    /// Verdict `unknown`: availability not measured.
    pub unknown: usize,
    /// Verdict `fails`.
    pub fails: usize,
}

impl VerdictTally {
    /// Count one verdict.
    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Loads => self.loads += 1,
            Verdict::Warns => self.warns += 1,
            Verdict::Unknown => self.unknown += 1,
            Verdict::Fails => self.fails += 1,
        }
    }
}

impl std::fmt::Display for VerdictTally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} load, {} warn, {} unknown, {} fail", self.loads, self.warns, self.unknown, self.fails)
    }
}

/// Object × kernel verdicts once programs picked at run time are accounted
/// for (`check::alternatives`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ObjectCounts {
    /// Object × kernel verdicts.
    pub objects: usize,
    /// Per verdict.
    #[serde(flatten)]
    pub verdicts: VerdictTally,
    /// Of those not failing: how many depend on a choice among
    /// alternatives or on optional programs failing.
    pub conditional: usize,
}

/// Count object verdicts.
pub fn object_counts(objects: &[ObjectVerdict]) -> ObjectCounts {
    let mut c = ObjectCounts { objects: objects.len(), ..ObjectCounts::default() };
    for o in objects {
        c.verdicts.add(o.verdict);
        if o.verdict != Verdict::Fails && !o.condition().is_empty() {
            c.conditional += 1;
        }
    }
    c
}

impl std::fmt::Display for ObjectCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", count(self.objects, "object", "objects"), self.verdicts)?;
        if self.conditional > 0 {
            write!(f, " ({} on the programs picked at run time)", count(self.conditional, "depends", "depend"))?;
        }
        Ok(())
    }
}

/// Results per verdict (every summary of `check` shows them: table, JSON
/// `summary`, SARIF run properties, Markdown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Program × kernel results.
    pub results: usize,
    /// Per verdict.
    #[serde(flatten)]
    pub verdicts: VerdictTally,
    /// Results whose verdict covers only part of the requirements: a
    /// reduced (catalog) kernel could not answer the rest (`not_checked`).
    pub not_checked_offline: usize,
}

/// Count the results per verdict.
pub fn counts(results: &[ProgramResult]) -> Counts {
    let mut c = Counts { results: results.len(), ..Counts::default() };
    for r in results {
        c.not_checked_offline += usize::from(!r.not_checked.is_empty());
        c.verdicts.add(r.verdict);
    }
    c
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} results: {}", self.results, self.verdicts)?;
        if self.not_checked_offline > 0 {
            write!(f, "; {} not fully checked offline", self.not_checked_offline)?;
        }
        Ok(())
    }
}

/// All results as one JSON document.
pub fn json(w: &mut dyn Write, kernels: &[String], results: &[ProgramResult]) -> io::Result<()> {
    let objects = object_verdicts(results);
    let object_summary = object_counts(&objects);
    write_json(w, SCHEMA, &Doc { kernels, results, summary: counts(results), objects, object_summary })
}

/// `check --policy --format json`: the [`json`] document with a `policy`
/// array, one record per finding (its fields, and `source`: the file, line
/// and column it is about, when known). The document's keys are in
/// alphabetical order at every level, as `bpfabi.check/1` with a policy
/// has always been written (docs/json-schema.md).
pub fn json_with_policy(w: &mut dyn Write, kernels: &[String], results: &[ProgramResult], policy: &[(Finding, Option<SarifLoc>)]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Source<'a> {
        file: &'a str,
        line: usize,
        column: usize,
    }
    #[derive(Serialize)]
    struct Use<'a> {
        #[serde(flatten)]
        finding: &'a Finding,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<Source<'a>>,
    }
    #[derive(Serialize)]
    struct WithPolicy<'a> {
        schema: &'a str,
        #[serde(flatten)]
        doc: Doc<'a>,
        policy: Vec<Use<'a>>,
    }
    let policy =
        policy.iter().map(|(finding, l)| Use { finding, source: l.as_ref().map(|l| Source { file: &l.uri, line: l.line, column: l.column }) }).collect();
    let objects = object_verdicts(results);
    let object_summary = object_counts(&objects);
    let doc = WithPolicy { schema: SCHEMA, doc: Doc { kernels, results, summary: counts(results), objects, object_summary }, policy };
    // A `serde_json::Value` keeps its object keys sorted.
    let sorted = serde_json::to_value(&doc).map_err(io::Error::from)?;
    serde_json::to_writer_pretty(&mut *w, &sorted).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Markdown: objects × kernels (worst verdict) and the counts.
pub fn markdown(w: &mut dyn Write, kernels: &[String], results: &[ProgramResult]) -> io::Result<()> {
    let (objects, cells) = cells(results);
    writeln!(w, "| object | {} |", kernels.join(" | "))?;
    writeln!(w, "|---|{}", "---|".repeat(kernels.len()))?;
    for o in &objects {
        let row: Vec<String> = kernels.iter().map(|k| cell_text(cells.get(&(o.to_string(), k.clone())))).collect();
        writeln!(w, "| `{o}` | {} |", row.join(" | "))?;
    }
    let verdicts: Vec<ObjectVerdict> = cells.into_values().collect();
    let choices: Vec<String> = conditions(&verdicts);
    if !choices.is_empty() {
        writeln!(w, "\nPrograms picked at run time:\n")?;
        for c in choices {
            writeln!(w, "- {c}")?;
        }
    }
    let offline = not_checked(results);
    if !offline.is_empty() {
        writeln!(w, "\nNot checked offline (reduced catalog kernel):\n")?;
        for l in offline {
            writeln!(w, "- {l}")?;
        }
    }
    writeln!(w, "\n{}", counts(results))?;
    writeln!(w, "{}", object_counts(&verdicts))
}

/// `OBJ on K1, K2: members of struct task_struct, ...`: what reduced
/// kernels left unchecked, one line per object and message (the message's
/// boilerplate dropped).
fn not_checked(results: &[ProgramResult]) -> Vec<String> {
    let mut order: Vec<(&str, String)> = Vec::new();
    let mut kernels: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for r in results {
        for x in &r.not_checked {
            let what = x
                .message
                .trim_start_matches("not checked offline: the catalog kernel has no ")
                .trim_end_matches(" (give the kernel package, or go online, for those)")
                .to_string();
            let key = (r.object.as_str(), what);
            let ks = kernels.entry(key.clone()).or_default();
            if ks.is_empty() {
                order.push(key);
            }
            if !ks.contains(&r.kernel.as_str()) {
                ks.push(&r.kernel);
            }
        }
    }
    // One line per object and kernels: the programs' lists joined.
    let mut lines: Vec<((&str, String), Vec<String>)> = Vec::new();
    for key in order {
        let on = kernels.get(&key).map(|k| k.join(", ")).unwrap_or_default();
        match lines.iter_mut().find(|(k, _)| k.0 == key.0 && k.1 == on) {
            Some((_, whats)) => whats.push(key.1),
            None => lines.push(((key.0, on), vec![key.1])),
        }
    }
    lines
        .into_iter()
        .map(|((object, on), whats)| {
            // `members of struct a, b` and `attach targets (x, y)`: names
            // joined per category.
            let mut cats: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for part in whats.iter().flat_map(|w| w.split("; ")) {
                let (cat, names) = match part.strip_prefix("members of struct ") {
                    Some(n) => ("members of struct".to_string(), n),
                    None => match part.split_once(" (") {
                        Some((c, n)) => (c.to_string(), n.trim_end_matches(')')),
                        None => (part.to_string(), ""),
                    },
                };
                cats.entry(cat).or_default().extend(names.split(", ").filter(|n| !n.is_empty()).map(str::to_string));
            }
            let parts: Vec<String> = cats
                .into_iter()
                .map(|(cat, names)| {
                    let names = names.into_iter().collect::<Vec<_>>().join(", ");
                    if cat == "members of struct" {
                        format!("{cat} {names}")
                    } else {
                        format!("{cat} ({names})")
                    }
                })
                .collect();
            format!("{object} on {on}: catalog has no {}", parts.join("; "))
        })
        .collect()
}

/// `check --load`: objects whose real loads depend on the programs picked.
pub fn real_objects(w: &mut dyn Write, objects: &[ObjectVerdict]) -> io::Result<()> {
    let lines = conditions(objects);
    if !lines.is_empty() {
        writeln!(w, "\nprograms picked at run time, from the real loads:")?;
        for l in lines {
            writeln!(w, "  {l}")?;
        }
    }
    Ok(())
}

/// `OBJ on K: loads if one of {a, b} is chosen`, per object × kernel whose
/// verdict depends on the programs picked.
fn conditions(verdicts: &[ObjectVerdict]) -> Vec<String> {
    verdicts
        .iter()
        .filter_map(|v| {
            let c = v.condition();
            (!c.is_empty()).then(|| format!("{} on {}: {c}", v.object, v.kernel))
        })
        .collect()
}

type Cells = BTreeMap<(String, String), ObjectVerdict>;

/// Objects in input order and, per (object, kernel): the object's verdict
/// (`check::alternatives::object_verdicts`).
fn cells(results: &[ProgramResult]) -> (Vec<&str>, Cells) {
    let mut objects: Vec<&str> = Vec::new();
    for r in results {
        if !objects.contains(&r.object.as_str()) {
            objects.push(&r.object);
        }
    }
    let cells = object_verdicts(results).into_iter().map(|v| ((v.object.clone(), v.kernel.clone()), v)).collect();
    (objects, cells)
}

fn cell_text(c: Option<&ObjectVerdict>) -> String {
    c.map_or_else(|| "-".into(), ObjectVerdict::to_string)
}

/// One JSON line per program × kernel (streams: census, CI logs).
pub fn jsonl(w: &mut dyn Write, results: &[ProgramResult]) -> io::Result<()> {
    for r in results {
        write_jsonl(w, r)?;
    }
    Ok(())
}

/// Objects × kernels, worst verdict over each object's programs, then the
/// distinct problems.
pub fn matrix(w: &mut dyn Write, kernels: &[String], results: &[ProgramResult]) -> io::Result<()> {
    let (objects, cells) = cells(results);
    let mut header = vec!["OBJECT".to_string()];
    header.extend(kernels.iter().cloned());
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            let mut row = vec![o.to_string()];
            for k in kernels {
                row.push(cell_text(cells.get(&(o.to_string(), k.clone()))));
            }
            row
        })
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut loaders: Vec<String> = Vec::new();
    for r in results {
        let l = r.loader.to_string();
        if !loaders.contains(&l) {
            loaders.push(l);
        }
    }
    if !loaders.is_empty() {
        writeln!(w, "loaded by {}", loaders.join(", "))?;
    }
    write_table(w, &h, &rows)?;
    let problems = group_problems(results);
    if !problems.is_empty() {
        writeln!(w, "\nproblems:")?;
        for p in &problems {
            writeln!(w, "  {}", p.line())?;
        }
        if problems.iter().any(|p| p.count > 1) {
            writeln!(w, "(grouped by cause; --explain lists every requirement)")?;
        }
    }
    let offline = not_checked(results);
    if !offline.is_empty() {
        writeln!(w, "\nnot checked offline (a reduced catalog kernel; give the kernel package or go online):")?;
        for l in offline {
            writeln!(w, "  {l}")?;
        }
    }
    let verdicts: Vec<ObjectVerdict> = cells.into_values().collect();
    let choices = conditions(&verdicts);
    if !choices.is_empty() {
        writeln!(w, "\nprograms picked at run time:")?;
        for c in choices {
            writeln!(w, "  {c}")?;
        }
    }
    writeln!(w, "\n{}", counts(results))?;
    if verdicts.iter().any(|v| !v.condition().is_empty()) {
        writeln!(w, "{}", object_counts(&verdicts))?;
    }
    Ok(())
}

/// One cause of problems: the same kind and message on one object, over
/// one or more kernels and one or more names (a field read through five
/// relocation kinds is one cause).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem<'a> {
    /// Object path.
    pub object: &'a str,
    /// Kernels it is seen on (in the order of the results).
    pub kernels: Vec<&'a str>,
    /// `fails` / `warns`.
    pub severity: &'a str,
    /// Reason kind.
    pub kind: String,
    /// Distinct subjects (a CO-RE relocation's kind prefix dropped: `inet_sock->freebind`).
    pub subjects: Vec<&'a str>,
    /// Distinct CO-RE relocation kinds behind them (`FIELD_BYTE_OFFSET` ...), if any.
    pub relocations: Vec<&'a str>,
    /// Distinct requirements behind this cause per kernel.
    pub count: usize,
    /// The first requirement's name (`FIELD_BYTE_OFFSET inet_sock->freebind`).
    pub first: &'a str,
    /// The message.
    pub message: &'a str,
}

/// Split `FIELD_BYTE_OFFSET inet_sock->freebind` into the relocation kind and the subject.
fn split_relocation(name: &str) -> (Option<&str>, &str) {
    match name.split_once(' ') {
        Some((k, rest)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') => (Some(k), rest),
        _ => (None, name),
    }
}

/// The problems of `results` grouped by cause: per object and message,
/// subjects and relocation kinds collected; identical groups on several
/// kernels joined into one.
pub fn group_problems(results: &[ProgramResult]) -> Vec<Problem<'_>> {
    // (object, kernel, severity, kind, message) -> (subjects, relocation kinds, names)
    type Key<'a> = (&'a str, &'a str, &'a str, String, &'a str);
    type Sets<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>, BTreeSet<&'a str>);
    let mut per_kernel: BTreeMap<Key, Sets> = BTreeMap::new();
    for r in results {
        for x in &r.reasons {
            let (rel, subject) = split_relocation(&x.name);
            // A failure of a program the object can do without says so.
            let severity = match (&r.role, x.severity) {
                (Role::Optional, Verdict::Fails) => "fails (optional)",
                (Role::Alternative { .. }, Verdict::Fails) => "fails (alternative)",
                (_, v) => v.as_str(),
            };
            let e = per_kernel.entry((&r.object, &r.kernel, severity, x.kind.to_string(), &x.message)).or_default();
            e.0.insert(subject);
            if let Some(rel) = rel {
                e.1.insert(rel);
            }
            e.2.insert(&x.name);
        }
    }
    let mut out: Vec<Problem> = Vec::new();
    for ((object, kernel, severity, kind, message), (subjects, relocations, names)) in per_kernel {
        let p = Problem {
            object,
            kernels: vec![kernel],
            severity,
            kind,
            subjects: subjects.into_iter().collect(),
            relocations: relocations.into_iter().collect(),
            count: names.len(),
            first: names.first().copied().unwrap_or(""),
            message,
        };
        match out.iter_mut().find(|q| Problem { kernels: q.kernels.clone(), ..p.clone() } == **q) {
            Some(q) => q.kernels.push(kernel),
            None => out.push(p),
        }
    }
    out
}

impl Problem<'_> {
    /// `OBJ on K1, K2: fails: core_unresolved inet_sock->freebind, ... (15 relocations: FIELD_BYTE_OFFSET, ...): message`.
    pub fn line(&self) -> String {
        if self.count == 1 {
            return format!("{} on {}: {}: {} {}: {}", self.object, self.kernels.join(", "), self.severity, self.kind, self.first, self.message);
        }
        let subjects = match self.subjects.as_slice() {
            [one] => one.to_string(),
            many if many.len() <= 4 => many.join(", "),
            many => format!("{}, ... ({} in all)", many.iter().take(3).copied().collect::<Vec<_>>().join(", "), many.len()),
        };
        let count = match (self.count, self.relocations.as_slice()) {
            (n, []) => format!(" ({n} requirements)"),
            (n, rels) => format!(" ({n} relocations: {})", rels.join(", ")),
        };
        format!("{} on {}: {}: {} {subjects}{count}: {}", self.object, self.kernels.join(", "), self.severity, self.kind, self.message)
    }
}

/// Every requirement of every program and where it is (or is not) satisfied.
pub fn explain(w: &mut dyn Write, results: &[ProgramResult]) -> io::Result<()> {
    for r in results {
        writeln!(w, "{} {} ({}) on {} loaded by {}: {}", r.object, r.program, r.section, r.kernel, r.loader, r.verdict.as_str())?;
        for x in r.satisfied.iter().chain(r.reasons.iter()) {
            let mark = match x.severity {
                Verdict::Loads => "ok  ",
                Verdict::Warns => "warn",
                Verdict::Unknown => "unkn",
                _ => "FAIL",
            };
            writeln!(w, "  {mark} {:<24} {}: {}", x.kind.as_str(), x.name, x.message)?;
        }
    }
    Ok(())
}

/// SARIF 2.1.0: one result per problem, located at the object file (an
/// embedded object's offset is a property).
pub fn sarif(w: &mut dyn Write, results: &[ProgramResult]) -> io::Result<()> {
    let (rules, out) = sarif_parts(results);
    super::write_sarif_with(w, rules, out, Some(json!({"verdicts": counts(results), "objects": object_counts(&object_verdicts(results))})))
}

/// `check --policy --format sarif`: [`sarif`] with the policy findings'
/// rules and results after check's own (each finding at its source line,
/// else its object, else the manifest entry).
pub fn sarif_with_policy(w: &mut dyn Write, results: &[ProgramResult], policy: &[(Finding, Option<SarifLoc>)]) -> io::Result<()> {
    let (mut rules, mut out) = sarif_parts(results);
    let (more_rules, more) = findings::sarif_parts(policy.iter().map(|(f, l)| (f, l.clone())));
    rules.extend(more_rules);
    out.extend(more);
    super::write_sarif_with(w, rules, out, Some(json!({"verdicts": counts(results), "objects": object_counts(&object_verdicts(results))})))
}

/// The SARIF rules (one per reason kind, in name order) and results of
/// check's results.
fn sarif_parts(results: &[ProgramResult]) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let mut rules: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    let objects = object_verdicts(results);
    let failing: BTreeSet<(&str, &str)> = objects.iter().filter(|o| o.verdict == Verdict::Fails).map(|o| (o.object.as_str(), o.kernel.as_str())).collect();
    for r in results {
        // `file@0x1234` names an object embedded at that offset.
        let (uri, offset) = match r.object.rsplit_once('@') {
            Some((f, off)) if off.starts_with("0x") => (f, Some(off)),
            _ => (r.object.as_str(), None),
        };
        for x in r.reasons.iter().chain(&r.not_checked) {
            rules.insert(x.kind.as_str());
            let mut props = json!({"kernel": r.kernel, "program": r.program, "loader": r.loader});
            if !r.role.is_required() {
                props["role"] = json!(r.role);
            }
            // A failing optional or alternative program fails the object
            // only when its object fails.
            let severity = if x.severity == Verdict::Fails && !r.role.is_required() && !failing.contains(&(r.object.as_str(), r.kernel.as_str())) {
                Verdict::Warns
            } else {
                x.severity
            };
            if let Some(off) = offset {
                props["embeddedOffset"] = json!(off);
            }
            out.push(json!({
                "ruleId": x.kind.as_str(),
                "level": match severity { Verdict::Fails => "error", Verdict::Unknown => "note", _ => "warning" },
                "message": {"text": format!("{} ({}) on {}: {}: {}", r.program, r.section, r.kernel, x.name, x.message)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                "properties": props,
            }));
        }
    }
    let rules = rules.iter().map(|r| json!({"id": r, "shortDescription": {"text": r.replace('_', " ")}})).collect();
    (rules, out)
}

#[derive(Serialize)]
struct InspectDoc<'a> {
    objects: Vec<InspectObject<'a>>,
}

#[derive(Serialize)]
struct InspectObject<'a> {
    #[serde(flatten)]
    object: &'a BpfObject,
    /// Sections the loaders read differently (docs/loaders.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    loader_readings: Vec<crate::loader::SectionDisagreement>,
}

/// Objects as a `bpfabi.inspect/2` JSON document.
pub fn inspect_json(w: &mut dyn Write, objs: &[BpfObject]) -> io::Result<()> {
    let objects = objs.iter().map(|o| InspectObject { object: o, loader_readings: crate::loader::section_disagreements(o) }).collect();
    write_json(w, INSPECT_SCHEMA, &InspectDoc { objects })
}

/// Each loader's reading of the sections they read differently.
fn loader_readings_text(w: &mut dyn Write, o: &BpfObject) -> io::Result<()> {
    let d = crate::loader::section_disagreements(o);
    if d.is_empty() {
        return Ok(());
    }
    writeln!(w, "loaders read these sections differently:")?;
    for s in d {
        let r: Vec<String> = s
            .readings
            .iter()
            .map(|r| match (&r.prog_type, r.refuses_object) {
                (_, true) => format!("{} refuses the object", r.loader),
                (Some(t), _) => format!("{} {t}", r.loader),
                (None, _) => format!("{} unknown", r.loader),
            })
            .collect();
        writeln!(w, "  {} ({}): {}", s.section, s.programs.join(", "), r.join("; "))?;
    }
    Ok(())
}

/// What each object needs: programs with helpers, kfuncs and CO-RE counts,
/// externs, maps (named by `map_names` when known), CO-RE relocations.
pub fn inspect_text(w: &mut dyn Write, objs: &[BpfObject], helper_names: &BTreeMap<u32, String>, map_names: &dyn Fn(u32) -> Option<String>) -> io::Result<()> {
    for o in objs {
        writeln!(w, "{} ({}, license {})", o.path, o.endian.describe(), o.license.as_deref().unwrap_or("none"))?;
        let rows: Vec<Vec<String>> = o
            .programs
            .iter()
            .map(|p| {
                let helpers: Vec<String> = p.helpers.keys().map(|id| helper_names.get(id).cloned().unwrap_or_else(|| format!("#{id}"))).collect();
                vec![
                    p.name.clone(),
                    p.section.clone(),
                    p.prog_type.map(|t| t.short_name()).unwrap_or_else(|| "unknown".into()),
                    p.attach_target.clone().unwrap_or_else(|| "-".into()),
                    helpers.join(","),
                    p.kfuncs.iter().cloned().collect::<Vec<_>>().join(","),
                    p.core_relos.len().to_string(),
                ]
            })
            .collect();
        if rows.is_empty() {
            writeln!(w, "no programs")?;
        } else {
            write_table(w, &["PROGRAM", "SECTION", "TYPE", "TARGET", "HELPERS", "KFUNCS", "CO-RE"], &rows)?;
        }
        loader_readings_text(w, o)?;
        if !o.externs.is_empty() {
            let e: Vec<String> = o.externs.iter().map(|e| format!("{}{} ({})", e.name, if e.weak { " [weak]" } else { "" }, e.kind)).collect();
            writeln!(w, "externs: {}", e.join(", "))?;
        }
        let checks: BTreeSet<&String> = o.programs.iter().flat_map(|p| p.ksym_checks.iter()).collect();
        if !checks.is_empty() {
            let c: Vec<&str> = checks.iter().map(|s| s.as_str()).collect();
            writeln!(w, "bpf_ksym_exists() checks: {}", c.join(", "))?;
        }
        if !o.maps.is_empty() {
            let m: Vec<String> =
                o.maps.iter().map(|m| format!("{} ({})", m.name, map_names(m.map_type).unwrap_or_else(|| format!("type {}", m.map_type)))).collect();
            writeln!(w, "maps: {}", m.join(", "))?;
        }
        // CO-RE relocations per program, deduplicated.
        for p in &o.programs {
            let relos: BTreeSet<(String, &str, bool)> =
                p.core_relos.iter().filter_map(|&i| o.core_relos.get(i)).map(|r| (r.kind.to_string(), r.path.as_str(), r.is_check)).collect();
            if relos.is_empty() {
                continue;
            }
            writeln!(w, "co-re in {} ({}):", p.name, count(relos.len(), "relocation", "relocations"))?;
            for (kind, path, check) in relos {
                writeln!(w, "  {kind:<18} {path}{}", if check { "  (check)" } else { "" })?;
            }
        }
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_share_one_flat_tally() {
        let mut t = VerdictTally::default();
        for v in [Verdict::Loads, Verdict::Fails, Verdict::Unknown, Verdict::Fails, Verdict::Warns] {
            t.add(v);
        }
        assert_eq!(t, VerdictTally { loads: 1, warns: 1, unknown: 1, fails: 2 });
        // docs/json-schema.md: `summary` and `object_summary` are flat, in this order.
        let c = Counts { results: 5, verdicts: t, not_checked_offline: 1 };
        assert_eq!(serde_json::to_string(&c).ok().as_deref(), Some(r#"{"results":5,"loads":1,"warns":1,"unknown":1,"fails":2,"not_checked_offline":1}"#));
        let o = ObjectCounts { objects: 3, verdicts: t, conditional: 1 };
        assert_eq!(serde_json::to_string(&o).ok().as_deref(), Some(r#"{"objects":3,"loads":1,"warns":1,"unknown":1,"fails":2,"conditional":1}"#));
        assert_eq!(c.to_string(), "5 results: 1 load, 1 warn, 1 unknown, 2 fail; 1 not fully checked offline");
        assert_eq!(o.to_string(), "3 objects: 1 load, 1 warn, 1 unknown, 2 fail (1 depends on the programs picked at run time)");
    }
}
