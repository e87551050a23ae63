//! Printers for `bpfabi diff`: grouped text (colour on a terminal), JSON,
//! Markdown for PR comments and release notes.

use super::write_json;
use crate::diff::{Change, Diff, Severity, Subject};
use std::io::{self, Write};

/// Version of the `diff --json` document.
pub const SCHEMA: &str = "bpfabi.diff/1";

/// The diff as a JSON document.
pub fn json(w: &mut dyn Write, d: &Diff) -> io::Result<()> {
    write_json(w, SCHEMA, d)
}

const GROUPS: [(Subject, &str); 3] = [(Subject::Kfunc, "kfuncs"), (Subject::Helper, "helpers"), (Subject::Type, "types")];

fn label(d: &Diff) -> (String, String) {
    let l = |r: &Option<String>, i: &[String]| r.clone().or_else(|| i.first().cloned()).unwrap_or_default();
    (l(&d.old.release, &d.old.inputs), l(&d.new.release, &d.new.inputs))
}

fn group(d: &Diff, subject: Subject) -> Vec<&Change> {
    let mut cs: Vec<&Change> = d.changes.iter().filter(|c| c.kind.subject() == subject).collect();
    cs.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.name.cmp(&b.name)));
    cs
}

/// Grouped text, worst first; ANSI colours when `color`.
pub fn text(w: &mut dyn Write, d: &Diff, color: bool) -> io::Result<()> {
    let (o, n) = label(d);
    writeln!(w, "{o} -> {n}: {} breaking, {} compatible, {} info", d.summary.breaking, d.summary.compatible, d.summary.info)?;
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
    for (subject, g) in GROUPS {
        let cs = group(d, subject);
        if cs.is_empty() {
            continue;
        }
        writeln!(w, "\n{g} ({})", cs.len())?;
        for c in cs {
            let (a, z) = paint(c.severity);
            let m = c.module.as_deref().map(|m| format!(" [{m}]")).unwrap_or_default();
            writeln!(w, "  {a}{:<10}{z} {:<22} {}{m}: {}", c.severity.as_str(), c.kind.as_str(), c.name, c.detail)?;
        }
    }
    Ok(())
}

/// Markdown tables per group.
pub fn markdown(w: &mut dyn Write, d: &Diff) -> io::Result<()> {
    let (o, n) = label(d);
    writeln!(
        w,
        "## BPF ABI changes: `{o}` → `{n}`\n\n**{}** breaking, **{}** compatible, **{}** info",
        d.summary.breaking, d.summary.compatible, d.summary.info
    )?;
    for (subject, g) in GROUPS {
        let cs = group(d, subject);
        if cs.is_empty() {
            continue;
        }
        write!(w, "\n### {g}\n\n| severity | change | name | module | detail |\n|---|---|---|---|---|\n")?;
        for c in cs {
            let esc = |x: &str| x.replace('|', "\\|");
            writeln!(
                w,
                "| {} | {} | `{}` | {} | {} |",
                c.severity.as_str(),
                c.kind.as_str(),
                esc(&c.name),
                c.module.as_deref().unwrap_or("vmlinux"),
                esc(&c.detail)
            )?;
        }
    }
    Ok(())
}
