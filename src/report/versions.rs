//! Renderers for `bpfabi versions`.

use crate::versions::Version;
use serde::Serialize;

pub const SCHEMA: &str = "bpfabi.versions/1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    kernel: Option<&'a str>,
    versions: &'a [Version],
}

pub fn json(release: Option<&str>, v: &[Version]) -> String {
    let mut s = serde_json::to_string_pretty(&Doc { schema: SCHEMA, kernel: release, versions: v }).unwrap_or_default();
    s.push('\n');
    s
}

pub fn table(v: &[Version]) -> String {
    let rows: Vec<Vec<String>> = v
        .iter()
        .map(|x| vec![x.name.clone(), x.kind.clone(), x.module.clone().unwrap_or_else(|| "vmlinux".into()), x.proto.clone(), x.deep.clone()])
        .collect();
    super::table(&["NAME", "KIND", "ORIGIN", "PROTO", "DEEP"], &rows)
}
