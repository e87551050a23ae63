//! Renderers for `bpfabi inspect` and `bpfabi check`: matrix, explanation,
//! JSON and SARIF 2.1.0 (for code scanning).

use crate::check::{ProgramResult, Verdict};
use crate::object::BpfObject;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

pub const SCHEMA: &str = "bpfabi.check/1";
pub const INSPECT_SCHEMA: &str = "bpfabi.inspect/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    kernels: &'a [String],
    results: &'a [ProgramResult],
}

pub fn json(kernels: &[String], results: &[ProgramResult]) -> String {
    let mut s = serde_json::to_string_pretty(&Doc { schema: SCHEMA, kernels, results }).unwrap_or_default();
    s.push('\n');
    s
}

/// Objects × kernels, worst verdict over each object's programs, then the
/// distinct problems.
pub fn matrix(kernels: &[String], results: &[ProgramResult]) -> String {
    let mut cells: BTreeMap<(&str, &str), (Verdict, usize, usize)> = BTreeMap::new();
    let mut objects: Vec<&str> = Vec::new();
    for r in results {
        if !objects.contains(&r.object.as_str()) {
            objects.push(&r.object);
        }
        let c = cells.entry((&r.object, &r.kernel)).or_insert((Verdict::Loads, 0, 0));
        c.0 = c.0.max(r.verdict);
        c.1 += 1;
        if r.verdict == Verdict::Fails {
            c.2 += 1;
        }
    }
    let mut header = vec!["OBJECT".to_string()];
    header.extend(kernels.iter().cloned());
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            let mut row = vec![o.to_string()];
            for k in kernels {
                row.push(match cells.get(&(*o, k.as_str())) {
                    None => "-".into(),
                    Some((Verdict::Fails, n, f)) => format!("fails ({f}/{n})"),
                    Some((v, _, _)) => v.as_str().into(),
                });
            }
            row
        })
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut s = super::table(&h, &rows);
    let mut problems: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for r in results {
        for x in &r.reasons {
            problems.insert((r.object.clone(), r.kernel.clone(), x.severity.as_str().to_string(), format!("{} {}: {}", x.kind, x.name, x.message)));
        }
    }
    if !problems.is_empty() {
        s.push_str("\nproblems:\n");
        for (o, k, sev, m) in problems {
            s.push_str(&format!("  {o} on {k}: {sev}: {m}\n"));
        }
    }
    s
}

/// Every requirement of every program and where it is (or is not) satisfied.
pub fn explain(results: &[ProgramResult]) -> String {
    let mut s = String::new();
    for r in results {
        s.push_str(&format!("{} {} ({}) on {}: {}\n", r.object, r.program, r.section, r.kernel, r.verdict.as_str()));
        for x in r.satisfied.iter().chain(r.reasons.iter()) {
            let mark = match x.severity {
                Verdict::Loads => "ok  ",
                Verdict::Warns => "warn",
                Verdict::Fails => "FAIL",
            };
            s.push_str(&format!("  {mark} {:<24} {}: {}\n", x.kind, x.name, x.message));
        }
    }
    s
}

pub fn sarif(results: &[ProgramResult]) -> String {
    let mut rules: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for r in results {
        for x in &r.reasons {
            rules.insert(x.kind);
            out.push(json!({
                "ruleId": x.kind,
                "level": if x.severity == Verdict::Fails { "error" } else { "warning" },
                "message": {"text": format!("{} ({}) on {}: {}: {}", r.program, r.section, r.kernel, x.name, x.message)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.object}}}],
                "properties": {"kernel": r.kernel, "program": r.program},
            }));
        }
    }
    let doc = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "bpfabi",
                "informationUri": "https://example.invalid/bpfabi",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({"id": r, "shortDescription": {"text": r.replace('_', " ")}})).collect::<Vec<_>>(),
            }},
            "results": out,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[derive(Serialize)]
struct InspectDoc<'a> {
    schema: &'static str,
    objects: &'a [BpfObject],
}

pub fn inspect_json(objs: &[BpfObject]) -> String {
    let mut s = serde_json::to_string_pretty(&InspectDoc { schema: INSPECT_SCHEMA, objects: objs }).unwrap_or_default();
    s.push('\n');
    s
}

pub fn inspect_text(objs: &[BpfObject], helper_names: &BTreeMap<u32, String>) -> String {
    let mut s = String::new();
    for o in objs {
        s.push_str(&format!(
            "{} ({:?}-endian, license {})\n",
            o.path,
            o.endian,
            o.license.as_deref().unwrap_or("none")
        ));
        let rows: Vec<Vec<String>> = o
            .programs
            .iter()
            .map(|p| {
                let helpers: Vec<String> = p.helpers.keys().map(|id| helper_names.get(id).cloned().unwrap_or_else(|| format!("#{id}"))).collect();
                vec![
                    p.name.clone(),
                    p.section.clone(),
                    p.prog_type.trim_start_matches("BPF_PROG_TYPE_").to_lowercase(),
                    p.attach_target.clone().unwrap_or_else(|| "-".into()),
                    helpers.join(","),
                    p.kfuncs.iter().cloned().collect::<Vec<_>>().join(","),
                    p.core_relos.len().to_string(),
                ]
            })
            .collect();
        s.push_str(&super::table(&["PROGRAM", "SECTION", "TYPE", "TARGET", "HELPERS", "KFUNCS", "CO-RE"], &rows));
        if !o.externs.is_empty() {
            let e: Vec<String> = o.externs.iter().map(|e| format!("{}{} ({})", e.name, if e.weak { " [weak]" } else { "" }, e.kind)).collect();
            s.push_str(&format!("externs: {}\n", e.join(", ")));
        }
        if !o.maps.is_empty() {
            let m: Vec<String> = o.maps.iter().map(|m| format!("{} (type {})", m.name, m.map_type)).collect();
            s.push_str(&format!("maps: {}\n", m.join(", ")));
        }
        for r in &o.core_relos {
            s.push_str(&format!("  co-re {:<18} {}{}\n", r.kind, r.path, if r.is_check { "  (check)" } else { "" }));
        }
        s.push('\n');
    }
    s
}
