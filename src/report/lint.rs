//! Renderers for `bpfabi lint`: a table (facts, then findings) and JSON.

use super::{count, write_json, write_table};
use crate::lint::Lint;
use serde::Serialize;
use std::io::{self, Write};

/// Version of the `lint --format json` document (see docs/lint.md).
pub const SCHEMA: &str = "bpfabi.lint/1";

#[derive(Serialize)]
struct Doc<'a> {
    kernel: &'a str,
    failing: usize,
    #[serde(flatten)]
    lint: &'a Lint,
}

/// The findings and facts as a `bpfabi.lint/1` JSON document.
pub fn json(w: &mut dyn Write, label: &str, l: &Lint) -> io::Result<()> {
    write_json(w, SCHEMA, &Doc { kernel: label, failing: l.failing(), lint: l })
}

/// Facts, then a table of findings.
pub fn table(w: &mut dyn Write, label: &str, l: &Lint) -> io::Result<()> {
    let f = &l.facts;
    writeln!(
        w,
        "kernel {label}: BTF v{}, {}-byte header{}, {} endian, {} vmlinux types, {} modules ({} without BTF)",
        f.btf_version,
        f.header_len,
        if f.kind_layout { " with kind layout" } else { "" },
        f.endian,
        f.vmlinux_types,
        f.modules,
        f.modules_without_btf
    )?;
    writeln!(
        w,
        "kfuncs {} (decl tags {}, .BTF_ids {}, {} set8 records){}",
        f.kfuncs,
        f.decl_tags,
        f.btf_ids,
        f.set8_records,
        f.pahole_version.map(|p| format!("; pahole {}.{}", p / 100, p % 100)).unwrap_or_default()
    )?;
    let kinds: Vec<String> = f.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(w, "kinds: {}", kinds.join(", "))?;
    for r in &f.readers {
        writeln!(w, "readers: {} >= {} ({})", r.tool, r.min_version, r.because)?;
    }
    writeln!(w)?;
    if l.findings.is_empty() {
        return writeln!(w, "no findings");
    }
    let rows: Vec<Vec<String>> = l
        .findings
        .iter()
        .map(|x| {
            vec![
                format!("{:?}", x.severity).to_lowercase(),
                x.code.as_str().to_string(),
                x.origin.clone(),
                x.subject.clone().unwrap_or_else(|| "-".into()),
                x.message.clone(),
            ]
        })
        .collect();
    writeln!(w, "{} ({} failing)", count(rows.len(), "finding", "findings"), l.failing())?;
    write_table(w, &["SEVERITY", "CODE", "ORIGIN", "SUBJECT", "MESSAGE"], &rows)
}
