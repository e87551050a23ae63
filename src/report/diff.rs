//! Printers for `bpfabi diff`: grouped text (colour on a terminal), JSON,
//! Markdown for PR comments and release notes.

use super::write_json;
use crate::diff::{Change, Diff, Severity, SubjectKind};
use std::io::{self, Write};

/// Version of the `diff --json` document.
pub const SCHEMA: &str = "bpfabi.diff/1";

/// The diff as a JSON document.
pub fn json(w: &mut dyn Write, d: &Diff) -> io::Result<()> {
    // Megabytes of small tokens: through a buffer the serializer can write
    // to without a call through `w` for each (a tenth of the time).
    let mut b = io::BufWriter::with_capacity(64 * 1024, w);
    write_json(&mut b, SCHEMA, d)?;
    b.flush()
}

const GROUPS: [(SubjectKind, &str); 3] = [(SubjectKind::Kfunc, "kfuncs"), (SubjectKind::Helper, "helpers"), (SubjectKind::Type, "types")];

fn label(d: &Diff) -> (String, String) {
    let l = |r: &Option<String>, i: &[String]| r.clone().or_else(|| i.first().cloned()).unwrap_or_default();
    (l(&d.old.release, &d.old.inputs), l(&d.new.release, &d.new.inputs))
}

fn group(d: &Diff, subject: SubjectKind) -> Vec<&Change> {
    let mut cs: Vec<&Change> = d.changes.iter().filter(|c| c.kind.subject() == subject).collect();
    cs.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.name.cmp(&b.name)));
    cs
}

/// Grouped text, worst first; ANSI colours when `color`. kfunc and helper
/// changes are listed one by one; type changes one line per type (worst
/// severity, count, the kfunc that reaches it) unless `each_type_change`.
pub fn text(w: &mut dyn Write, d: &Diff, color: bool, each_type_change: bool) -> io::Result<()> {
    let (o, n) = label(d);
    writeln!(w, "{o} -> {n}: {} breaking, {} compatible, {} info", d.summary.breaking, d.summary.compatible, d.summary.info)?;
    let paint = |sev: Severity| -> (&'static str, &'static str) {
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
        if subject == SubjectKind::Type && !each_type_change {
            type_summary(w, &cs, &paint)?;
            continue;
        }
        writeln!(w, "\n{g} ({})", cs.len())?;
        for c in cs {
            let (a, z) = paint(c.severity);
            let m = c.module.as_deref().map(|m| format!(" [{m}]")).unwrap_or_default();
            let via = c.via.as_deref().map(|v| format!(" (via {v})")).unwrap_or_default();
            writeln!(w, "  {a}{:<10}{z} {:<22} {}{m}{via}: {}", c.severity.as_str(), c.kind.as_str(), c.name, c.detail)?;
        }
    }
    Ok(())
}

/// One line per changed type: worst severity, how many changes, the path
/// from a kfunc, the worst change.
fn type_summary(w: &mut dyn Write, cs: &[&Change], paint: &dyn Fn(Severity) -> (&'static str, &'static str)) -> io::Result<()> {
    let mut per: Vec<(&str, Vec<&Change>)> = Vec::new();
    for c in cs {
        match per.iter_mut().find(|(n, _)| *n == c.name) {
            Some((_, v)) => v.push(c),
            None => per.push((&c.name, vec![c])),
        }
    }
    per.sort_by(|a, b| b.1[0].severity.cmp(&a.1[0].severity).then(a.0.cmp(b.0)));
    let breaking = per.iter().filter(|(_, v)| v[0].severity == Severity::Breaking).count();
    writeln!(
        w,
        "\ntypes ({} changed, {breaking} with breaking changes; types kfunc callers only hold pointers to are info; --types lists every change)",
        super::count(per.len(), "type", "types")
    )?;
    for (name, v) in per {
        let worst = v[0];
        let (a, z) = paint(worst.severity);
        let via = worst.via.as_deref().map(|v| format!(" (via {v})")).unwrap_or_default();
        let more = if v.len() > 1 { format!(" [+{} more]", v.len() - 1) } else { String::new() };
        writeln!(w, "  {a}{:<10}{z} {name}{via}: {}{more}", worst.severity.as_str(), worst.detail)?;
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
