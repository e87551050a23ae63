//! Printers of `bpfabi census`: the usage tables, the `bpfabi.census/1`
//! document, JSON Lines (one object or usage row a line), and the release
//! impact (`census impact`) as text or `bpfabi.census-impact/1`.

use super::{count, write_json, write_jsonl, write_table};
use crate::census::impact::Impact;
use crate::census::{Category, Census, SCHEMA};
use std::io::{self, Write};

/// The census document.
pub fn json(w: &mut dyn Write, c: &Census) -> io::Result<()> {
    write_json(w, SCHEMA, c)
}

/// JSON Lines: a header record (`schema`, `totals`), then one record per
/// object (`"record": "object"`), per usage row (`"record": "usage"`) and
/// per error (`"record": "error"`).
pub fn jsonl(w: &mut dyn Write, c: &Census) -> io::Result<()> {
    write_jsonl(w, &serde_json::json!({"schema": SCHEMA, "record": "header", "totals": c.totals}))?;
    for o in &c.objects {
        write_jsonl(w, &serde_json::json!({"record": "object", "object": o}))?;
    }
    for (cat, rows) in &c.usage {
        for u in rows {
            write_jsonl(w, &serde_json::json!({"record": "usage", "category": cat, "usage": u}))?;
        }
    }
    for e in &c.errors {
        write_jsonl(w, &serde_json::json!({"record": "error", "error": e}))?;
    }
    Ok(())
}

/// Usage tables: totals, then per category the `top` most used (0: all).
pub fn table(w: &mut dyn Write, c: &Census, top: usize) -> io::Result<()> {
    let t = &c.totals;
    writeln!(
        w,
        "{} ({} found), {}, {}",
        count(t.objects, "distinct object", "distinct objects"),
        count(t.occurrences, "copy", "copies"),
        count(t.packages, "package", "packages"),
        count(t.projects, "project", "projects")
    )?;
    for cat in
        [Category::Kfunc, Category::Helper, Category::Type, Category::Field, Category::ProgType, Category::AttachTarget, Category::Ksym, Category::StructOps]
    {
        let Some(rows) = c.usage.get(&cat).filter(|r| !r.is_empty()) else { continue };
        let shown = if top == 0 { rows.len() } else { top.min(rows.len()) };
        writeln!(w)?;
        writeln!(w, "{} ({} distinct{})", cat, rows.len(), if shown < rows.len() { format!(", top {shown}") } else { String::new() })?;
        let table: Vec<Vec<String>> = rows
            .iter()
            .take(shown)
            .map(|u| {
                let mut names = u.project_names.iter().take(4).cloned().collect::<Vec<_>>().join(" ");
                if u.project_names.len() > 4 {
                    names.push_str(" …");
                }
                vec![u.name.clone(), u.projects.to_string(), u.objects.to_string(), u.guarded.to_string(), u.unguarded.to_string(), names]
            })
            .collect();
        write_table(w, &["NAME", "PROJECTS", "OBJECTS", "GUARDED", "UNGUARDED", "USED BY"], &table)?;
    }
    if !c.errors.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}:", count(c.errors.len(), "error", "errors"))?;
        for e in c.errors.iter().take(if top == 0 { usize::MAX } else { top }) {
            writeln!(w, "  {}: {}", e.input, e.error)?;
        }
    }
    Ok(())
}

/// The impact document.
pub fn impact_json(w: &mut dyn Write, i: &Impact) -> io::Result<()> {
    write_json(w, crate::census::impact::SCHEMA, i)
}

/// The impact as text: one sentence per release, the objects broken and
/// why, the kernel changes that hit census users; then the kfuncs whose
/// removal would break the most users.
pub fn impact_text(w: &mut dyn Write, i: &Impact) -> io::Result<()> {
    writeln!(w, "{} checked on {}", count(i.known, "census object", "census objects"), i.kernels.join(", "))?;
    if !i.unavailable.is_empty() {
        writeln!(w, "{} not available (run `bpfabi census --store DIR` and pass --store DIR)", count(i.unavailable.len(), "object", "objects"))?;
    }
    for r in &i.releases {
        writeln!(w)?;
        writeln!(w, "{} -> {}: {}{}", r.from, r.to, r.sentence(), if r.fixes > 0 { format!("; fixes {}", r.fixes) } else { String::new() })?;
        for b in &r.breaks {
            writeln!(w, "  breaks {} [{}]: {}", b.label, b.projects.join(" "), b.reasons.join("; "))?;
        }
        for c in &r.changes {
            writeln!(w, "  {} {}: {} users ({} unguarded) [{}]: {}", c.kind, c.name, c.objects, c.unguarded, c.projects.join(" "), c.detail)?;
        }
    }
    let hits: Vec<Vec<String>> =
        i.kfunc_removal.iter().map(|h| vec![h.kfunc.clone(), h.objects.to_string(), h.would_break.to_string(), h.projects.join(" ")]).collect();
    if !hits.is_empty() {
        writeln!(w)?;
        writeln!(w, "If a kfunc were removed:")?;
        write_table(w, &["KFUNC", "OBJECTS", "WOULD BREAK", "PROJECTS"], &hits)?;
    }
    Ok(())
}
