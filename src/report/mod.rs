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
pub mod json_text;
pub mod kernels;
pub mod lint;
pub mod probe;
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

/// Write a SARIF 2.1.0 log of one run of bpfabi: `rules` are the
/// `reportingDescriptor`s, `results` the results (every SARIF printer builds
/// those two and shares this envelope).
pub fn write_sarif(w: &mut dyn Write, rules: Vec<serde_json::Value>, results: Vec<serde_json::Value>) -> io::Result<()> {
    write_sarif_with(w, rules, results, None)
}

/// [`write_sarif`] with the run's `properties` (a property bag: counts).
pub fn write_sarif_with(
    w: &mut dyn Write,
    rules: Vec<serde_json::Value>,
    results: Vec<serde_json::Value>,
    properties: Option<serde_json::Value>,
) -> io::Result<()> {
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
    write_rows(w, header, rows)
}

/// [`write_table`] of rows of any cells: borrowed ones need no `String`
/// each (tables of tens of thousands of rows, `probe --detail`). Columns
/// as wide as their widest cell in characters, two spaces between them,
/// each line without trailing whitespace.
pub fn write_rows<R: AsRef<[C]>, C: AsRef<str>>(w: &mut dyn Write, header: &[&str], rows: &[R]) -> io::Result<()> {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| chars(h)).collect();
    for r in rows {
        for (i, c) in r.as_ref().iter().enumerate().take(n) {
            if let Some(x) = width.get_mut(i) {
                *x = (*x).max(chars(c.as_ref()));
            }
        }
    }
    // One line buffer for all lines, written with its newline in one call.
    let mut s = String::new();
    table_line(w, &mut s, &width, header)?;
    for r in rows {
        table_line(w, &mut s, &width, r.as_ref())?;
    }
    Ok(())
}

/// One line of [`write_rows`]: each cell but the last of the header's
/// (`width.len()`) padded to its column's `width` plus two spaces.
fn table_line<C: AsRef<str>>(w: &mut dyn Write, s: &mut String, width: &[usize], cells: &[C]) -> io::Result<()> {
    const SPACES: &str = "                                                                ";
    s.clear();
    for (i, c) in cells.iter().enumerate() {
        let c = c.as_ref();
        s.push_str(c);
        if i + 1 < width.len() {
            let mut pad = width.get(i).copied().unwrap_or(0).saturating_sub(chars(c)) + 2;
            while pad > 0 {
                let k = pad.min(SPACES.len());
                s.push_str(SPACES.get(..k).unwrap_or_default());
                pad -= k;
            }
        }
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    w.write_all(s.as_bytes())
}

/// The characters in `s` (its length when ASCII, the common case, found
/// a word at a time).
fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
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
    fn tables_and_envelopes() {
        let mut out = Vec::new();
        write_table(&mut out, &["A", "BB"], &[vec!["xyz".into(), "1".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A    BB\nxyz  1\n");
        // Widths in characters; trailing whitespace (an empty or blank last
        // cell's padding) trimmed; cells past the header's unpadded.
        let mut out = Vec::new();
        write_rows(&mut out, &["A", "B", "C"], &[["é→", "", ""], ["x", "y ", " "], ["1", "2", "3 4"]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A   B   C\né→\nx   y\n1   2   3 4\n");
        let mut out = Vec::new();
        write_rows(&mut out, &["A"], &[vec!["a", "b"]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A\nab\n");
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
