//! Renderers for a probe: the `bpfabi.probe/1` JSON document, a summary
//! table per variant, and the decisions of each variant in detail.

use crate::probe::{LoadOutcome, Probe};
use std::io::{self, Write};

/// The JSON document (schema in docs/probe.md): indented down to the
/// variants, one line per decision and per list of scalars.
pub fn json(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    compact_below(w, &serde_json::to_string_pretty(p).map_err(io::Error::from)?, 4)
}

/// Re-flow serde_json's pretty output: containers opened at nesting depth
/// `max_depth` or deeper, and arrays holding only scalars, go on one line.
/// Line-based: pretty JSON never splits a string across lines, and a line
/// ending in `{` or `[` always opens a container. Every line ends in a newline.
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
            // Find the matching close and whether anything nests inside.
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
