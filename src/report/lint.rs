//! Renderers for `bpfabi lint`: a table (facts, then findings) and JSON.

use crate::lint::Lint;
use serde::Serialize;

/// Version of the `lint --format json` document (see docs/lint.md).
pub const SCHEMA: &str = "bpfabi.lint/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    kernel: &'a str,
    failing: usize,
    #[serde(flatten)]
    lint: &'a Lint,
}

pub fn json(label: &str, l: &Lint) -> String {
    let mut out = serde_json::to_string_pretty(&Doc { schema: SCHEMA, kernel: label, failing: l.failing(), lint: l }).unwrap_or_default();
    out.push('\n');
    out
}

pub fn table(label: &str, l: &Lint) -> String {
    let f = &l.facts;
    let mut out = format!(
        "kernel {label}: BTF v{}, {}-byte header{}, {} endian, {} vmlinux types, {} modules ({} without BTF)\n",
        f.btf_version,
        f.header_len,
        if f.kind_layout { " with kind layout" } else { "" },
        f.endian,
        f.vmlinux_types,
        f.modules,
        f.modules_without_btf
    );
    out.push_str(&format!(
        "kfuncs {} (decl tags {}, .BTF_ids {}, {} set8 records){}\n",
        f.kfuncs,
        f.decl_tags,
        f.btf_ids,
        f.set8_records,
        f.pahole_version.map(|p| format!("; pahole {}.{}", p / 100, p % 100)).unwrap_or_default()
    ));
    let kinds: Vec<String> = f.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!("kinds: {}\n", kinds.join(", ")));
    for r in &f.readers {
        out.push_str(&format!("readers: {} >= {} ({})\n", r.tool, r.min_version, r.because));
    }
    out.push('\n');
    if l.findings.is_empty() {
        out.push_str("no findings\n");
        return out;
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
    out.push_str(&format!("{} findings ({} failing)\n", rows.len(), l.failing()));
    out.push_str(&super::table(&["SEVERITY", "CODE", "ORIGIN", "SUBJECT", "MESSAGE"], &rows));
    out
}
