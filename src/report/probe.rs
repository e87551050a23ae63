//! Renderers for a probe: the `bpfabi.probe/1` JSON document, a summary
//! table per variant, and the decisions of each variant in detail.

use crate::probe::{LoadOutcome, Probe};
use std::io::{self, Write};

/// The JSON document (schema in docs/probe.md): indented down to the
/// variants, one line per decision and per list of scalars.
pub fn json(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    let compact = serde_json::to_vec(p).map_err(io::Error::from)?;
    let mut out = Vec::with_capacity(compact.len() + compact.len() / 4);
    reflow(&compact, 4, &mut out);
    w.write_all(&out)
}

/// The index just past the string starting at `i` (a `"`) in `s`.
fn skip_string(s: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(&d) = s.get(i) {
        i += if d == b'\\' { 2 } else { 1 };
        if d == b'"' {
            break;
        }
    }
    i.min(s.len())
}

/// The index just past the scalar (string, number, literal) at `i`.
fn skip_scalar(s: &[u8], i: usize) -> usize {
    if s.get(i) == Some(&b'"') {
        return skip_string(s, i);
    }
    let mut j = i;
    while s.get(j).is_some_and(|d| !matches!(d, b',' | b':' | b'}' | b']')) {
        j += 1;
    }
    j
}

/// Whether the container opening at `i` holds a non-empty container
/// directly (pretty output prints an empty one as a scalar, `[]`).
fn holds_container(s: &[u8], i: usize) -> bool {
    let mut j = i + 1;
    while let Some(&c) = s.get(j) {
        match c {
            b'{' | b'[' => return !matches!(s.get(j + 1), Some(b'}' | b']')),
            b'}' | b']' => return false,
            b'"' => j = skip_string(s, j),
            _ => j += 1,
        }
    }
    false
}

/// Write compact JSON `s` (serde_json's `to_vec`: no whitespace) as
/// serde_json's pretty printer would (two-space indent, `": "` after keys),
/// except that containers opened at nesting depth `max_depth` or deeper,
/// and arrays holding only scalars, go on one line: `[1, 2]`,
/// `{"a": 1, "b": [ 2, 3 ]}` (what re-flowing the pretty output line by
/// line gives: inner lines trimmed and joined with a space). Every line
/// ends in a newline. One recursive descent over the bytes: linear.
fn reflow(s: &[u8], max_depth: usize, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        i = pretty(s, i, 0, max_depth, out);
    }
    out.push(b'\n');
}

/// The value at `i`, in pretty form at nesting `depth` (its first line's
/// indentation and key already written); the index after it.
fn pretty(s: &[u8], i: usize, depth: usize, max_depth: usize, out: &mut Vec<u8>) -> usize {
    let Some(&c) = s.get(i) else { return i + 1 };
    if c != b'{' && c != b'[' {
        let j = skip_scalar(s, i).max(i + 1);
        out.extend_from_slice(s.get(i..j).unwrap_or(&[]));
        return j;
    }
    if matches!(s.get(i + 1), Some(b'}' | b']')) || depth >= max_depth || (c == b'[' && !holds_container(s, i)) {
        return inline(s, i, out);
    }
    out.push(c);
    let indent = 2 * (depth + 1);
    let mut j = i + 1;
    while let Some(&d) = s.get(j) {
        if d == b'}' || d == b']' {
            out.push(b'\n');
            out.resize(out.len() + 2 * depth, b' ');
            out.push(d);
            return j + 1;
        }
        out.push(b'\n');
        out.resize(out.len() + indent, b' ');
        // A member: `"key": value`; an element: `value`.
        if c == b'{' {
            let k = skip_string(s, j);
            out.extend_from_slice(s.get(j..k).unwrap_or(&[]));
            out.extend_from_slice(b": ");
            j = k + 1;
        }
        j = pretty(s, j, depth + 1, max_depth, out);
        if s.get(j) == Some(&b',') {
            out.push(b',');
            j += 1;
        }
    }
    j
}

/// The container at `i` on one line: `[1, 2]`, with a space inside the
/// brackets of every non-empty container nested in it (`[ 1, 2 ]`), `[]`
/// when empty. The index after it.
fn inline(s: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&c) = s.get(j) {
        match c {
            b'{' | b'[' => {
                out.push(c);
                if let Some(&e @ (b'}' | b']')) = s.get(j + 1) {
                    out.push(e);
                    j += 2;
                    if depth == 0 {
                        return j;
                    }
                    continue;
                }
                if depth > 0 {
                    out.push(b' ');
                }
                depth += 1;
                j += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth > 0 {
                    out.push(b' ');
                }
                out.push(c);
                j += 1;
                if depth == 0 {
                    return j;
                }
            }
            b':' | b',' => {
                out.push(c);
                out.push(b' ');
                j += 1;
            }
            _ => {
                let k = skip_scalar(s, j).max(j + 1);
                out.extend_from_slice(s.get(j..k).unwrap_or(&[]));
                j = k;
            }
        }
    }
    j
}

/// The re-flow [`json`] implements in one pass, on serde_json's pretty
/// output line by line: the reference the tests compare it with.
#[cfg(test)]
fn compact_below(w: &mut dyn Write, pretty: &str, max_depth: usize) -> io::Result<()> {
    let lines: Vec<&str> = pretty.lines().collect();
    let opens = |l: &str| l.ends_with('{') || l.ends_with('[');
    let closes = |l: &str| l.trim_start().starts_with('}') || l.trim_start().starts_with(']');
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        if closes(line) {
            depth = depth.saturating_sub(1);
        }
        if opens(line) {
            let (mut d, mut j, mut nested) = (0usize, i, false);
            while let Some(&l) = lines.get(j) {
                if closes(l) {
                    d = d.saturating_sub(1);
                }
                if opens(l) {
                    d += 1;
                    nested |= j > i;
                }
                if d == 0 {
                    break;
                }
                j += 1;
            }
            if depth >= max_depth || (line.ends_with('[') && !nested) {
                let inner: Vec<&str> = lines.get(i + 1..j).unwrap_or(&[]).iter().map(|l| l.trim()).collect();
                writeln!(w, "{line}{}{}", inner.join(" "), lines.get(j).map(|l| l.trim()).unwrap_or(""))?;
                i = j + 1;
                continue;
            }
            depth += 1;
        }
        writeln!(w, "{line}")?;
        i += 1;
    }
    Ok(())
}

fn load_text(l: &LoadOutcome) -> String {
    match l {
        LoadOutcome::Loadable => "loadable".into(),
        LoadOutcome::Unsupported { message } => format!("unsupported: {message}"),
        LoadOutcome::Undecided { reason } => format!("undecided: {reason}"),
    }
}

/// Header line plus one row per variant: allowed / decided counts.
pub fn table(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    let s = &p.summary;
    let k = &p.kernel;
    write!(
        w,
        "kernel {}, BTF sha256 {} ({} bytes); {} variants ({} loadable, {} unsupported, {} undecided); {} loads in {:.1} s on {} threads\n\
         decisions: {} verifier_accepted, {} rejected_other (available), {} verifier_rejected_not_allowed, {} undecided\n\n",
        k.release.as_deref().unwrap_or("(release unknown)"),
        k.btf.vmlinux.get(..16).unwrap_or(""),
        k.btf.vmlinux_bytes,
        s.variants,
        s.loadable,
        s.unsupported,
        s.undecided_variants,
        s.loads,
        s.duration_ms as f64 / 1000.0,
        s.threads,
        s.verifier_accepted,
        s.rejected_other,
        s.verifier_rejected_not_allowed,
        s.undecided,
    )?;
    let rows: Vec<Vec<String>> = p
        .variants
        .iter()
        .map(|v| {
            let count = |allowed: usize, total: usize| if total == 0 { "-".to_string() } else { format!("{allowed}/{total}") };
            let attach = match (&v.variant.attach_type, &v.variant.attach_btf) {
                (Some(a), Some(b)) => format!("{} {}", a.trim_start_matches("BPF_"), b.name),
                (Some(a), None) => a.trim_start_matches("BPF_").to_string(),
                (None, Some(b)) => format!("{}{}", b.name, v.variant.struct_ops_member.as_deref().map(|m| format!(".{m}")).unwrap_or_default()),
                (None, None) => "-".into(),
            };
            vec![
                v.variant.label.clone(),
                v.variant.prog_type.trim_start_matches("BPF_PROG_TYPE_").to_string(),
                attach,
                if v.variant.sleepable { "yes".into() } else { "no".into() },
                count(v.allowed_helpers.len(), v.helpers.len()),
                count(v.allowed_kfuncs.len(), v.kfuncs.len()),
                load_text(&v.load),
            ]
        })
        .collect();
    super::write_table(w, &["VARIANT", "PROG TYPE", "ATTACH", "SLEEPABLE", "HELPERS", "KFUNCS", "LOAD"], &rows)
}

/// Every decision of every variant: `VARIANT KIND NAME HOW DETAIL`.
pub fn detail(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    let mut rows = Vec::new();
    for v in &p.variants {
        if v.load != LoadOutcome::Loadable {
            rows.push(vec![v.variant.label.clone(), "-".into(), "-".into(), "-".into(), load_text(&v.load)]);
        }
        for h in &v.helpers {
            rows.push(vec![v.variant.label.clone(), "helper".into(), format!("{}#{}", h.name, h.id), h.decision.how().into(), h.decision.detail().into()]);
        }
        for k in &v.kfuncs {
            let name = match &k.module {
                Some(m) => format!("{} [{m}]", k.name),
                None => k.name.clone(),
            };
            rows.push(vec![v.variant.label.clone(), "kfunc".into(), name, k.decision.how().into(), k.decision.detail().into()]);
        }
    }
    super::write_table(w, &["VARIANT", "KIND", "NAME", "HOW", "DETAIL"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(v: &serde_json::Value) -> (String, String) {
        let mut a = Vec::new();
        compact_below(&mut a, &serde_json::to_string_pretty(v).unwrap(), 4).unwrap();
        let mut b = Vec::new();
        reflow(&serde_json::to_vec(v).unwrap(), 4, &mut b);
        (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap())
    }

    /// The one-pass writer gives the bytes of re-flowing the pretty output,
    /// on every shape a probe has (nested objects below and above the
    /// depth limit, arrays of scalars, empty containers, escapes).
    #[test]
    fn one_pass_equals_line_reflow() {
        let v = serde_json::json!({
            "schema": "bpfabi.probe/2", "empty": [], "obj": {},
            "summary": {"loads": 3, "list": [1, 2, 3], "e": {}},
            "variants": [
                {"label": "kprobe", "attach_btf": {"name": "x", "id": 4}, "allowed": [1, 5], "strs": ["a\"b", "c\\", "[{"],
                 "helpers": [{"id": 1, "how": "rejected_other", "message": "R1 type=ctx {expected}"}, {"id": 2, "how": "verifier_accepted"}],
                 "members": [{"member": "m", "index": 1, "load": {"how": "loadable"}, "helpers": [], "kfuncs": [{"name": "k", "deep": {"a": [1, {"b": null}], "c": []}}]}],
                 "contexts": []},
                {"label": "x", "nums": [1.5, -2, true, false, null], "nested": [[1, 2], [3]], "deeper": [{"a": {"b": {"c": [1]}}}]}
            ],
            "flag": true
        });
        let (a, b) = both(&v);
        assert_eq!(a, b);
        for v in [serde_json::json!({}), serde_json::json!([]), serde_json::json!([1]), serde_json::json!({"a": [[], {}]})] {
            let (a, b) = both(&v);
            assert_eq!(a, b, "{v}");
        }
    }

    /// And on the probes of real kernels (data/probe), read and written again.
    #[test]
    fn one_pass_equals_line_reflow_on_data_probes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let p = crate::probe::file::load_probe(&path).unwrap();
            let mut a = Vec::new();
            compact_below(&mut a, &serde_json::to_string_pretty(&p).unwrap(), 4).unwrap();
            let mut b = Vec::new();
            json(&mut b, &p).unwrap();
            assert!(a == b, "{}", path.display());
            n += 1;
        }
        assert!(n >= 4);
    }
}
