//! Printers: every output of bpfabi (tables, JSON documents, JSON Lines,
//! Markdown, SARIF, C headers) is written to an `io::Write` as it is
//! produced, and a failed write is returned to the caller (the CLI turns it
//! into exit 2). JSON documents share one envelope: `{"schema": "bpfabi.X/N",
//! ...}`. Printers only format what the analyses produced.

use serde::Serialize;
use std::io::{self, Write};

pub mod census;
pub mod check;
pub mod diff;
pub mod lint;
pub mod probe;
pub mod kernels;
pub mod surface;
pub mod versions;
#[cfg(feature = "deb")]
pub mod vmtest;

/// Output formats. Not every command supports every format; the CLI says
/// which where it parses the option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Human tables (default).
    Table,
    /// One JSON document with a `schema` field.
    Json,
    /// JSON Lines: one record per line, for streams.
    Jsonl,
    /// Markdown (PR comments, release notes).
    Markdown,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
    /// A C header.
    C,
    /// Compiler-style lines, `file:line:col: level: message [code]`
    /// (`bpfabi::diagnostics`).
    Gnu,
    /// The data's own binary form (raw BTF).
    Raw,
}

impl Format {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::C => "c",
            Format::Gnu => "gnu",
            Format::Raw => "raw",
        }
    }
}

/// A command's result: the formats it writes, and one entry that writes it
/// in any of them. The CLI's `--format` of the command accepts exactly
/// [`Render::FORMATS`]; printers (this module's submodules) do the writing.
pub trait Render {
    /// The formats, the default first.
    const FORMATS: &'static [Format];
    /// Write the result in `format` (one of [`Render::FORMATS`]; another
    /// writes the default).
    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()>;
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize + ?Sized> {
    schema: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Write `body` (a struct or map) as a pretty JSON document with `schema`
/// first, and a final newline.
/// Generic in the writer: a concrete buffered one lets the serializer
/// inline its writes.
pub fn write_json<T: Serialize + ?Sized, W: Write + ?Sized>(w: &mut W, schema: &str, body: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &Envelope { schema, body }).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// [`write_json`] built in memory first and written in one piece: the
/// serializer then writes to a `Vec` it can inline instead of calling `w`
/// for every token (for documents of modest size, such as a surface).
pub fn write_json_buffered<T: Serialize + ?Sized>(w: &mut dyn Write, schema: &str, body: &T) -> io::Result<()> {
    let mut buf = Vec::with_capacity(128 * 1024);
    serde_json::to_writer_pretty(&mut buf, &Envelope { schema, body }).map_err(io::Error::from)?;
    buf.push(b'\n');
    w.write_all(&buf)
}

/// A JSON string as serde_json escapes it: `"` and `\` with a backslash,
/// control characters as `\b \t \n \f \r` or `\u00xx`, everything else as
/// is.
pub(crate) fn json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    w.write_all(b"\"")?;
    let b = s.as_bytes();
    // Most strings need no escape: looked for eight bytes at a time.
    let mut chunks = b.chunks_exact(8);
    let mut hit = 0;
    for c in chunks.by_ref() {
        hit |= escapes(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
    }
    if hit == 0 && chunks.remainder().iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
        w.write_all(b)?;
        return w.write_all(b"\"");
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                &[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]
            }
            _ => continue,
        };
        w.write_all(b.get(start..i).unwrap_or_default())?;
        w.write_all(esc)?;
        start = i + 1;
    }
    w.write_all(b.get(start..).unwrap_or_default())?;
    w.write_all(b"\"")
}

/// Non-zero when any of the eight bytes of `x` is below 0x20, `"` or `\`
/// (exact: the borrows of the subtractions only spread above a match).
#[inline]
fn escapes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let q = x ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let bs = x ^ (ONES * b'\\' as u64);
    let backslash = bs.wrapping_sub(ONES) & !bs & HIGH;
    below | quote | backslash
}

/// Write a SARIF 2.1.0 log of one run of bpfabi: `rules` are the
/// `reportingDescriptor`s, `results` the results (every SARIF printer builds
/// those two and shares this envelope).
pub fn write_sarif(w: &mut dyn Write, rules: Vec<serde_json::Value>, results: Vec<serde_json::Value>) -> io::Result<()> {
    write_sarif_with(w, rules, results, None)
}

/// [`write_sarif`] with the run's `properties` (a property bag: counts).
pub fn write_sarif_with(w: &mut dyn Write, rules: Vec<serde_json::Value>, results: Vec<serde_json::Value>, properties: Option<serde_json::Value>) -> io::Result<()> {
    let mut doc = serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "bpfabi",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    if let (Some(p), Some(run)) = (properties, doc.pointer_mut("/runs/0")) {
        run["properties"] = p;
    }
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Write a file through a printer; a failed create or write is an error
/// naming the file.
pub fn write_file(path: &std::path::Path, print: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> crate::Result<()> {
    let io_err = |e| crate::Error::io(path.display().to_string(), e);
    let mut f = io::BufWriter::new(std::fs::File::create(path).map_err(io_err)?);
    print(&mut f).and_then(|_| f.flush()).map_err(io_err)
}

/// Write one JSON Lines record.
pub fn write_jsonl<T: Serialize + ?Sized>(w: &mut dyn Write, record: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, record).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Left-aligned text table with a header row; the last column is not padded.
pub fn write_table(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            if let Some(x) = width.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            s.push_str(c);
            if i + 1 < n {
                let pad = width.get(i).copied().unwrap_or(0).saturating_sub(c.chars().count()) + 2;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(w, "{}", s.trim_end())
    };
    line(&mut header.iter().copied())?;
    for r in rows {
        line(&mut r.iter().map(String::as_str))?;
    }
    Ok(())
}

/// [`write_table`] into a `String` (for printers that assemble a document
/// before writing it).
pub fn table_string(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_table(&mut out, header, rows);
    String::from_utf8_lossy(&out).into_owned()
}

/// `1 kfunc`, `2 kfuncs`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Shell-style pattern match (`*`, `?`); a pattern without either matches
/// as a substring.
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return text.contains(pattern);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with backtracking to the last star.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        let (pc, tc) = (p.get(pi).copied(), t.get(ti).copied());
        if pc.is_some() && (pc == Some('?') || pc == tc) {
            pi += 1;
            ti += 1;
        } else if pc == Some('*') {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn patterns() {
        assert!(matches_pattern("task", "bpf_task_acquire"));
        assert!(matches_pattern("bpf_*_acquire", "bpf_task_acquire"));
        assert!(!matches_pattern("bpf_*_acquire", "bpf_task_release"));
        assert!(matches_pattern("bpf_?pu*", "bpf_cpumask_create"));
        assert!(!matches_pattern("bpf_?pux*", "bpf_cpumask_create"));
        assert!(matches_pattern("*", ""));
    }

    #[test]
    fn json_str_as_serde_escapes() {
        // Every ASCII byte at every position in and after an 8-byte chunk.
        for i in 0..24 {
            for c in (0u8..0x80).map(char::from) {
                let s: String = std::iter::repeat_n('a', i).chain([c]).chain(std::iter::repeat_n('b', 9)).collect();
                let mut ours = Vec::new();
                json_str(&mut ours, &s).unwrap();
                assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
    }

    #[test]
    fn tables_and_envelopes() {
        let mut out = Vec::new();
        write_table(&mut out, &["A", "BB"], &[vec!["xyz".into(), "1".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A    BB\nxyz  1\n");
        let mut out = Vec::new();
        write_json(&mut out, "bpfabi.t/1", &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\n  \"schema\": \"bpfabi.t/1\",\n  \"a\": 1\n}\n");
        assert_eq!(count(1, "kfunc", "kfuncs"), "1 kfunc");
        assert_eq!(count(0, "kfunc", "kfuncs"), "0 kfuncs");
    }

    #[test]
    fn write_errors_are_returned() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "no space left on device"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        assert!(write_table(&mut Full, &["A"], &[]).is_err());
        assert!(write_json(&mut Full, "x/1", &serde_json::json!({})).is_err());
    }
}
