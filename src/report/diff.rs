//! Printers for `bpfabi diff`: grouped text (colour on a terminal), JSON,
//! Markdown for PR comments and release notes.

use super::json_text::string as json_str;
use super::write_json;
use crate::diff::{Change, Diff, Severity, SubjectKind};
use std::io::{self, Write};

/// Version of the `diff --json` document.
pub const SCHEMA: &str = "bpfabi.diff/1";

/// The diff as a JSON document.
pub fn json(w: &mut dyn Write, d: &Diff) -> io::Result<()> {
    // Megabytes of small tokens: through a buffer written to without a call
    // through `w` for each.
    let mut b = io::BufWriter::with_capacity(64 * 1024, w);
    // Everything but the changes as serde writes it (the document of a diff
    // without changes), then the changes as serde would write them, by
    // `write_changes` (a third of the time: thousands of changes, each a
    // few long strings). Should the document not end in its `changes`
    // (a field added after them), serde writes it all.
    let head = Diff { old: d.old.clone(), new: d.new.clone(), summary: d.summary.clone(), changes: Vec::new() };
    let mut doc = Vec::new();
    write_json(&mut doc, SCHEMA, &head)?;
    const TAIL: &[u8] = b"\n  \"changes\": []\n}\n";
    match doc.strip_suffix(TAIL) {
        Some(prefix) if !d.changes.is_empty() => {
            b.write_all(prefix)?;
            b.write_all(b"\n  \"changes\": [")?;
            write_changes(&mut b, &d.changes)?;
            b.write_all(b"\n  ]\n}\n")?;
        }
        Some(_) => b.write_all(&doc)?,
        None => write_json(&mut b, SCHEMA, d)?,
    }
    b.flush()
}

/// The elements of the `changes` array exactly as serde_json's pretty
/// printer writes them at that depth (the test `changes_as_serde_writes_them`
/// holds them to it).
fn write_changes(w: &mut impl Write, changes: &[Change]) -> io::Result<()> {
    let mut first = true;
    for c in changes {
        // Every field named, none with `..`: a field added to `Change`
        // does not compile here until this writer spells it too.
        let Change { kind, name, module, severity, detail, facts: _, via, exposure } = c;
        w.write_all(if first { b"\n    {\n      \"kind\": " } else { b",\n    {\n      \"kind\": " })?;
        first = false;
        json_str(w, kind.as_str())?;
        w.write_all(b",\n      \"name\": ")?;
        json_str(w, name)?;
        w.write_all(b",\n      \"module\": ")?;
        match module {
            Some(m) => json_str(w, m)?,
            None => w.write_all(b"null")?,
        }
        w.write_all(b",\n      \"severity\": ")?;
        json_str(w, severity.as_str())?;
        w.write_all(b",\n      \"detail\": ")?;
        json_str(w, detail)?;
        if let Some(v) = via {
            w.write_all(b",\n      \"via\": ")?;
            json_str(w, v)?;
        }
        if let Some(e) = exposure {
            w.write_all(b",\n      \"exposure\": ")?;
            json_str(w, crate::vocab::serde_name(e))?;
        }
        w.write_all(b"\n    }")?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Exposure, Side, Summary};
    use crate::vocab::ChangeKind;

    fn change(kind: ChangeKind, name: &str, module: Option<&str>, detail: &str, via: Option<&str>, exposure: Option<Exposure>) -> Change {
        let mut c = Change::of(kind, name, module.map(str::to_string), Vec::new());
        c.detail = detail.into();
        c.via = via.map(str::to_string);
        c.exposure = exposure;
        c
    }

    #[test]
    fn changes_as_serde_writes_them() {
        let side = |r: Option<&str>, inputs: &[&str]| Side {
            release: r.map(str::to_string),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            kfuncs: 3,
            helpers: 0,
        };
        // Every byte that needs escaping, at every position in an 8-byte
        // chunk; non-ASCII text; DEL (not escaped).
        let nasty: String = (0u8..0x20).map(char::from).chain("\"\\/é→\u{7f}x".chars()).collect();
        let changes = vec![
            change(ChangeKind::KfuncRemoved, "bpf_x", Some("nf_conntrack"), "removed: `int bpf_x(void)`", None, None),
            change(ChangeKind::TypeMemberMoved, "struct s", None, &nasty, Some("a → … → struct s"), Some(Exposure::BehindPointer)),
            change(ChangeKind::TypeSizeChanged, &format!("struct {nasty}"), None, "", None, Some(Exposure::Filled)),
            change(ChangeKind::HelperAdded, "h", None, "1234567\"", Some(""), None),
        ];
        let summary = Summary { breaking: 1, compatible: 2, info: 3 };
        for (old, new, changes) in
            [(side(Some("6.1"), &["a", "b\"c"]), side(None, &[]), changes.clone()), (side(None, &["x"]), side(Some("6.12"), &["y"]), Vec::new())]
        {
            let d = Diff { old, new, summary: summary.clone(), changes };
            let (mut ours, mut serde) = (Vec::new(), Vec::new());
            json(&mut ours, &d).unwrap();
            crate::report::write_json(&mut serde, SCHEMA, &d).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
        }
    }
}
