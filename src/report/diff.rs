//! Renderers for `bpfabi diff`: grouped text (colour on a terminal), JSON,
//! Markdown for PR comments and release notes.

use crate::diff::{Change, Diff, Severity};
use serde::Serialize;

pub const SCHEMA: &str = "bpfabi.diff/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    #[serde(flatten)]
    diff: &'a Diff,
}

pub fn json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(&Doc { schema: SCHEMA, diff: d }).unwrap_or_default();
    s.push('\n');
    s
}

fn group(c: &Change) -> &'static str {
    if c.kind.starts_with("kfunc") {
        "kfuncs"
    } else if c.kind.starts_with("helper") {
        "helpers"
    } else {
        "types"
    }
}

fn label(d: &Diff) -> (String, String) {
    let l = |r: &Option<String>, i: &[String]| r.clone().or_else(|| i.first().cloned()).unwrap_or_default();
    (l(&d.old.release, &d.old.inputs), l(&d.new.release, &d.new.inputs))
}

pub fn text(d: &Diff, color: bool) -> String {
    let (o, n) = label(d);
    let mut s = format!(
        "{o} -> {n}: {} breaking, {} compatible, {} info\n",
        d.summary.breaking, d.summary.compatible, d.summary.info
    );
    let paint = |sev: Severity| -> (&str, &str) {
        if !color {
            return ("", "");
        }
        match sev {
            Severity::Breaking => ("\x1b[31m", "\x1b[0m"),
            Severity::Compatible => ("\x1b[32m", "\x1b[0m"),
            Severity::Info => ("\x1b[2m", "\x1b[0m"),
        }
    };
    for g in ["kfuncs", "helpers", "types"] {
        let mut cs: Vec<&Change> = d.changes.iter().filter(|c| group(c) == g).collect();
        if cs.is_empty() {
            continue;
        }
        cs.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.name.cmp(&b.name)));
        s.push_str(&format!("\n{g} ({})\n", cs.len()));
        for c in cs {
            let (a, z) = paint(c.severity);
            let m = c.module.as_deref().map(|m| format!(" [{m}]")).unwrap_or_default();
            s.push_str(&format!("  {a}{:<10}{z} {:<22} {}{m}: {}\n", c.severity.as_str(), c.kind, c.name, c.detail));
        }
    }
    s
}

pub fn markdown(d: &Diff) -> String {
    let (o, n) = label(d);
    let mut s = format!(
        "## BPF ABI changes: `{o}` → `{n}`\n\n**{}** breaking, **{}** compatible, **{}** info\n",
        d.summary.breaking, d.summary.compatible, d.summary.info
    );
    for g in ["kfuncs", "helpers", "types"] {
        let mut cs: Vec<&Change> = d.changes.iter().filter(|c| group(c) == g).collect();
        if cs.is_empty() {
            continue;
        }
        cs.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.name.cmp(&b.name)));
        s.push_str(&format!("\n### {g}\n\n| severity | change | name | module | detail |\n|---|---|---|---|---|\n"));
        for c in cs {
            let esc = |x: &str| x.replace('|', "\\|");
            s.push_str(&format!(
                "| {} | {} | `{}` | {} | {} |\n",
                c.severity.as_str(),
                c.kind,
                esc(&c.name),
                c.module.as_deref().unwrap_or("vmlinux"),
                esc(&c.detail)
            ));
        }
    }
    s
}
