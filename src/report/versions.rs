//! Printers for `bpfabi versions`.

use super::{write_json, write_table};
use crate::versions::Version;
use serde::Serialize;
use std::io::{self, Write};

/// Version of the `versions --json` document.
pub const SCHEMA: &str = "bpfabi.versions/1";

#[derive(Serialize)]
struct Doc<'a> {
    kernel: Option<&'a str>,
    versions: &'a [Version],
}

/// The fingerprints as a JSON document.
pub fn json(w: &mut dyn Write, release: Option<&str>, v: &[Version]) -> io::Result<()> {
    write_json(w, SCHEMA, &Doc { kernel: release, versions: v })
}

/// The fingerprints as a table.
pub fn table(w: &mut dyn Write, v: &[Version]) -> io::Result<()> {
    let rows: Vec<Vec<String>> =
        v.iter().map(|x| vec![x.name.clone(), x.kind.clone(), x.module.clone().unwrap_or_else(|| "vmlinux".into()), x.proto.clone(), x.deep.clone()]).collect();
    write_table(w, &["NAME", "KIND", "ORIGIN", "PROTO", "DEEP"], &rows)
}
