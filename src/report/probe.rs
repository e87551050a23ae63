//! Renderers for a probe: the `bpfabi.probe/1` JSON document, a summary
//! table per variant, and the decisions of each variant in detail.

use super::json_text::{boolean, string, uint};
use crate::probe::{
    AttachBtf, BtfFingerprint, Context, ContextResult, Decision, HelperDecision, KfuncDecision, LoadOutcome, MemberResult, Probe, ProbeKernel, ProbeOptions,
    Summary, Variant, VariantResult,
};
use std::borrow::Cow;
use std::io::{self, Write};

/// The JSON document (schema in docs/probe.md): indented down to the
/// variants, one line per decision and per list of scalars: serde_json's
/// pretty layout with every container opened at depth 4 or deeper, and
/// every array of scalars, on one line (`[1, 2]`, `{"a": 1, "b": [ 2, 3 ]}`).
/// Written by hand straight in that layout: megabytes of small tokens,
/// which serde and a re-flow of its output took 20 ms to write for the
/// live 6.18 probe. The tests hold it to serde_json's serialization
/// re-flowed (`oracle`). Every field of every struct is named where it is
/// written: a field added does not compile until it is written here too.
pub fn json(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    let mut b = io::BufWriter::with_capacity(64 * 1024, w);
    write_probe(&mut b, p)?;
    b.flush()
}

/// How a container's items are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// One item per line, as serde_json's pretty printer writes a
    /// container opened at this nesting depth.
    Lines(usize),
    /// On one line, the outermost container of the line: `[1, 2]`.
    Line,
    /// On one line, inside a container on that line: `[ 1, 2 ]`.
    Nested,
}

/// A newline and the longest indentation written (depth 3's items).
const NEWLINE: &[u8] = b"\n        ";
const COMMA_NEWLINE: &[u8] = b",\n        ";

/// A JSON object or array being written: what goes before its first item,
/// before each other item, and before its closing bracket (when it has
/// items: an empty one is `[]`).
struct Seq {
    first: &'static [u8],
    next: &'static [u8],
    before_close: &'static [u8],
    close: u8,
    empty: bool,
}

impl Seq {
    /// Write the opening `bracket` (`{` or `[`) of a container laid out as `layout`.
    fn open(w: &mut impl Write, bracket: u8, layout: Layout) -> io::Result<Seq> {
        w.write_all(&[bracket])?;
        let close = if bracket == b'{' { b'}' } else { b']' };
        let (first, next, before_close): (&[u8], &[u8], &[u8]) = match layout {
            Layout::Lines(depth) => (
                NEWLINE.get(..3 + 2 * depth).unwrap_or(NEWLINE),
                COMMA_NEWLINE.get(..4 + 2 * depth).unwrap_or(COMMA_NEWLINE),
                NEWLINE.get(..1 + 2 * depth).unwrap_or(NEWLINE),
            ),
            Layout::Line => (b"", b", ", b""),
            Layout::Nested => (b" ", b", ", b" "),
        };
        Ok(Seq { first, next, before_close, close, empty: true })
    }

    /// Start an array element.
    fn item(&mut self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(if self.empty { self.first } else { self.next })?;
        self.empty = false;
        Ok(())
    }

    /// Start an object member: `"k": ` (`k` needs no escape).
    fn key(&mut self, w: &mut impl Write, k: &str) -> io::Result<()> {
        self.item(w)?;
        w.write_all(b"\"")?;
        w.write_all(k.as_bytes())?;
        w.write_all(b"\": ")
    }

    /// Write the closing bracket.
    fn close(self, w: &mut impl Write) -> io::Result<()> {
        if !self.empty {
            w.write_all(self.before_close)?;
        }
        w.write_all(&[self.close])
    }
}

/// The document: [`json`] into a buffered writer.
fn write_probe(w: &mut impl Write, p: &Probe) -> io::Result<()> {
    let Probe { schema, tool, kernel, options, summary, variants, helper_gpl_measured, contexts_measured, callbacks_measured } = p;
    let mut o = Seq::open(w, b'{', Layout::Lines(0))?;
    o.key(w, "schema")?;
    string(w, schema)?;
    o.key(w, "tool")?;
    string(w, tool)?;
    o.key(w, "kernel")?;
    write_kernel(w, kernel)?;
    o.key(w, "options")?;
    write_options(w, options)?;
    o.key(w, "summary")?;
    write_summary(w, summary)?;
    o.key(w, "variants")?;
    array(w, variants, Layout::Lines(1), write_variant)?;
    // Written only when set (serde: `skip_serializing_if = "Not::not"`).
    for (k, set) in [("helper_gpl_measured", helper_gpl_measured), ("contexts_measured", contexts_measured), ("callbacks_measured", callbacks_measured)] {
        if *set {
            o.key(w, k)?;
            boolean(w, true)?;
        }
    }
    o.close(w)?;
    w.write_all(b"\n")
}

fn write_kernel(w: &mut impl Write, k: &ProbeKernel) -> io::Result<()> {
    let ProbeKernel { release, machine, btf, modules } = k;
    let BtfFingerprint { algorithm, vmlinux, vmlinux_bytes } = btf;
    let mut o = Seq::open(w, b'{', Layout::Lines(1))?;
    o.key(w, "release")?;
    opt_string(w, release.as_deref())?;
    o.key(w, "machine")?;
    string(w, machine)?;
    o.key(w, "btf")?;
    let mut b = Seq::open(w, b'{', Layout::Lines(2))?;
    b.key(w, "algorithm")?;
    string(w, algorithm)?;
    b.key(w, "vmlinux")?;
    string(w, vmlinux)?;
    b.key(w, "vmlinux_bytes")?;
    uint(w, *vmlinux_bytes)?;
    b.close(w)?;
    o.key(w, "modules")?;
    strings(w, modules)?;
    o.close(w)
}

fn write_options(w: &mut impl Write, opts: &ProbeOptions) -> io::Result<()> {
    // `btf_ids` is not part of the output (serde: `skip`).
    let ProbeOptions { helpers, kfuncs, full, threads, only, btf_ids: _ } = opts;
    let mut o = Seq::open(w, b'{', Layout::Lines(1))?;
    for (k, b) in [("helpers", helpers), ("kfuncs", kfuncs), ("full", full)] {
        o.key(w, k)?;
        boolean(w, *b)?;
    }
    o.key(w, "threads")?;
    uint(w, *threads as u64)?;
    o.key(w, "only")?;
    strings(w, only)?;
    o.close(w)
}

fn write_summary(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    let Summary {
        variants,
        loadable,
        unsupported,
        undecided_variants,
        helpers,
        kfuncs,
        loads,
        verifier_accepted,
        verifier_rejected_not_allowed,
        rejected_other,
        undecided,
        threads,
        duration_ms,
    } = s;
    let mut o = Seq::open(w, b'{', Layout::Lines(1))?;
    for (k, n) in [
        ("variants", variants),
        ("loadable", loadable),
        ("unsupported", unsupported),
        ("undecided_variants", undecided_variants),
        ("helpers", helpers),
        ("kfuncs", kfuncs),
        ("loads", loads),
        ("verifier_accepted", verifier_accepted),
        ("verifier_rejected_not_allowed", verifier_rejected_not_allowed),
        ("rejected_other", rejected_other),
        ("undecided", undecided),
        ("threads", threads),
    ] {
        o.key(w, k)?;
        uint(w, *n as u64)?;
    }
    o.key(w, "duration_ms")?;
    uint(w, *duration_ms)?;
    o.close(w)
}

/// One variant (depth 2): its fields one per line, each decision on a line.
fn write_variant(w: &mut impl Write, v: &VariantResult) -> io::Result<()> {
    let VariantResult { variant, load, allowed_helpers, allowed_kfuncs, helpers, kfuncs, members, gpl_only_helpers, contexts } = v;
    // `not_probed` and `other_members` are not part of the output (serde: `skip`).
    let Variant { label, prog_type, prog_type_id, attach_type, attach_type_id, sleepable, attach_btf, struct_ops_member, not_probed: _, other_members: _ } =
        variant;
    let mut o = Seq::open(w, b'{', Layout::Lines(2))?;
    o.key(w, "label")?;
    string(w, label)?;
    o.key(w, "prog_type")?;
    string(w, prog_type)?;
    o.key(w, "prog_type_id")?;
    uint(w, u64::from(*prog_type_id))?;
    o.key(w, "attach_type")?;
    opt_string(w, attach_type.as_deref())?;
    o.key(w, "attach_type_id")?;
    match attach_type_id {
        Some(n) => uint(w, u64::from(*n))?,
        None => w.write_all(b"null")?,
    }
    o.key(w, "sleepable")?;
    boolean(w, *sleepable)?;
    o.key(w, "attach_btf")?;
    match attach_btf {
        Some(AttachBtf { name, kind, id, module }) => {
            let mut b = Seq::open(w, b'{', Layout::Lines(3))?;
            b.key(w, "name")?;
            string(w, name)?;
            b.key(w, "kind")?;
            string(w, kind)?;
            b.key(w, "id")?;
            uint(w, u64::from(*id))?;
            if let Some(m) = module {
                b.key(w, "module")?;
                string(w, m)?;
            }
            b.close(w)?;
        }
        None => w.write_all(b"null")?,
    }
    if let Some(m) = struct_ops_member {
        o.key(w, "struct_ops_member")?;
        string(w, m)?;
    }
    o.key(w, "load")?;
    write_load(w, load, Layout::Lines(3))?;
    o.key(w, "allowed_helpers")?;
    ids(w, allowed_helpers)?;
    o.key(w, "allowed_kfuncs")?;
    strings(w, allowed_kfuncs)?;
    o.key(w, "helpers")?;
    array(w, helpers, Layout::Lines(3), |w, h| write_helper(w, h, Layout::Line))?;
    o.key(w, "kfuncs")?;
    array(w, kfuncs, Layout::Lines(3), |w, k| write_kfunc(w, k, Layout::Line))?;
    // Written only when not empty (serde: `skip_serializing_if`).
    if !members.is_empty() {
        o.key(w, "members")?;
        array(w, members, Layout::Lines(3), write_member)?;
    }
    if !gpl_only_helpers.is_empty() {
        o.key(w, "gpl_only_helpers")?;
        ids(w, gpl_only_helpers)?;
    }
    if !contexts.is_empty() {
        o.key(w, "contexts")?;
        array(w, contexts, Layout::Lines(3), write_context)?;
    }
    o.close(w)
}

/// A struct_ops member's result, on one line.
fn write_member(w: &mut impl Write, m: &MemberResult) -> io::Result<()> {
    let MemberResult { member, index, load, helpers, kfuncs } = m;
    let mut o = Seq::open(w, b'{', Layout::Line)?;
    o.key(w, "member")?;
    string(w, member)?;
    o.key(w, "index")?;
    uint(w, u64::from(*index))?;
    write_differences(w, &mut o, load, helpers, kfuncs)?;
    o.close(w)
}

/// A context's result, on one line: the context's fields (serde: `flatten`
/// of the tagged enum), then what it changes.
fn write_context(w: &mut impl Write, c: &ContextResult) -> io::Result<()> {
    let ContextResult { context, load, helpers, kfuncs } = c;
    let mut o = Seq::open(w, b'{', Layout::Line)?;
    o.key(w, "kind")?;
    match context {
        Context::IterTarget { target } => {
            string(w, "iter_target")?;
            o.key(w, "target")?;
            string(w, target)?;
        }
        Context::ArenaMap => string(w, "arena_map")?,
        Context::Callback { callback } => {
            string(w, "callback")?;
            o.key(w, "callback")?;
            string(w, crate::vocab::serde_name(callback))?;
        }
        Context::Sleepable { member } => {
            string(w, "sleepable")?;
            o.key(w, "member")?;
            string(w, member)?;
        }
    }
    write_differences(w, &mut o, load, helpers, kfuncs)?;
    o.close(w)
}

/// The `load`, `helpers` and `kfuncs` members of a struct_ops member's or
/// a context's result (inside a line).
fn write_differences(w: &mut impl Write, o: &mut Seq, load: &LoadOutcome, helpers: &[HelperDecision], kfuncs: &[KfuncDecision]) -> io::Result<()> {
    o.key(w, "load")?;
    write_load(w, load, Layout::Nested)?;
    o.key(w, "helpers")?;
    array(w, helpers, Layout::Nested, |w, h| write_helper(w, h, Layout::Nested))?;
    o.key(w, "kfuncs")?;
    array(w, kfuncs, Layout::Nested, |w, k| write_kfunc(w, k, Layout::Nested))
}

/// A [`LoadOutcome`] (serde: tagged by `how`).
fn write_load(w: &mut impl Write, l: &LoadOutcome, layout: Layout) -> io::Result<()> {
    let mut o = Seq::open(w, b'{', layout)?;
    o.key(w, "how")?;
    match l {
        LoadOutcome::Loadable => string(w, "loadable")?,
        LoadOutcome::Unsupported { message } => {
            string(w, "unsupported")?;
            o.key(w, "message")?;
            string(w, message)?;
        }
        LoadOutcome::Undecided { reason } => {
            string(w, "undecided")?;
            o.key(w, "reason")?;
            string(w, reason)?;
        }
    }
    o.close(w)
}

/// A [`Decision`]'s members (serde: `flatten` of the enum tagged by `how`).
fn write_decision(w: &mut impl Write, o: &mut Seq, d: &Decision) -> io::Result<()> {
    let (how, text) = match d {
        Decision::VerifierAccepted => ("verifier_accepted", None),
        Decision::VerifierRejectedNotAllowed { message } => ("verifier_rejected_not_allowed", Some(("message", message))),
        Decision::RejectedOther { message } => ("rejected_other", Some(("message", message))),
        Decision::Undecided { reason } => ("undecided", Some(("reason", reason))),
    };
    o.key(w, "how")?;
    string(w, how)?;
    if let Some((k, text)) = text {
        o.key(w, k)?;
        string(w, text)?;
    }
    Ok(())
}

/// A helper decision, laid out as `layout`.
fn write_helper(w: &mut impl Write, h: &HelperDecision, layout: Layout) -> io::Result<()> {
    let HelperDecision { id, name, decision } = h;
    let mut o = Seq::open(w, b'{', layout)?;
    o.key(w, "id")?;
    uint(w, u64::from(*id))?;
    o.key(w, "name")?;
    string(w, name)?;
    write_decision(w, &mut o, decision)?;
    o.close(w)
}

/// A kfunc decision, laid out as `layout`.
fn write_kfunc(w: &mut impl Write, k: &KfuncDecision, layout: Layout) -> io::Result<()> {
    let KfuncDecision { name, module, btf_id, decision } = k;
    let mut o = Seq::open(w, b'{', layout)?;
    o.key(w, "name")?;
    string(w, name)?;
    if let Some(m) = module {
        o.key(w, "module")?;
        string(w, m)?;
    }
    o.key(w, "btf_id")?;
    uint(w, u64::from(*btf_id))?;
    write_decision(w, &mut o, decision)?;
    o.close(w)
}

/// An array laid out as `layout`, each item written by `each`.
fn array<W: Write, T>(w: &mut W, items: &[T], layout: Layout, mut each: impl FnMut(&mut W, &T) -> io::Result<()>) -> io::Result<()> {
    let mut a = Seq::open(w, b'[', layout)?;
    for x in items {
        a.item(w)?;
        each(w, x)?;
    }
    a.close(w)
}

fn opt_string(w: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => string(w, s),
        None => w.write_all(b"null"),
    }
}

/// Numbers on one line.
fn ids(w: &mut impl Write, ns: &[u32]) -> io::Result<()> {
    array(w, ns, Layout::Line, |w, n| uint(w, u64::from(*n)))
}

/// Strings on one line.
fn strings(w: &mut impl Write, ss: &[String]) -> io::Result<()> {
    array(w, ss, Layout::Line, |w, s| string(w, s))
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

/// Every decision of every variant: `VARIANT KIND NAME HOW DETAIL`. Tens
/// of thousands of rows: cells borrowed from the probe where they can be.
pub fn detail(w: &mut dyn Write, p: &Probe) -> io::Result<()> {
    let mut rows: Vec<[Cow<str>; 5]> = Vec::with_capacity(p.variants.iter().map(|v| 1 + v.helpers.len() + v.kfuncs.len()).sum());
    for v in &p.variants {
        let label = Cow::Borrowed(v.variant.label.as_str());
        if v.load != LoadOutcome::Loadable {
            rows.push([label.clone(), "-".into(), "-".into(), "-".into(), load_text(&v.load).into()]);
        }
        for h in &v.helpers {
            rows.push([label.clone(), "helper".into(), format!("{}#{}", h.name, h.id).into(), h.decision.how().into(), h.decision.detail().into()]);
        }
        for k in &v.kfuncs {
            let name = match &k.module {
                Some(m) => format!("{} [{m}]", k.name).into(),
                None => k.name.as_str().into(),
            };
            rows.push([label.clone(), "kfunc".into(), name, k.decision.how().into(), k.decision.detail().into()]);
        }
    }
    super::write_rows(w, &["VARIANT", "KIND", "NAME", "HOW", "DETAIL"], &rows)
}

/// The layout [`json`] writes, made from serde_json's serialization (what
/// `json` did before it was written by hand): the tests' reference.
#[cfg(test)]
mod oracle {
    use std::io::{self, Write};

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
    pub(super) fn reflow(s: &[u8], max_depth: usize, out: &mut Vec<u8>) {
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

    /// The re-flow `reflow` implements in one pass, on serde_json's pretty
    /// output line by line: the reference the tests compare both with.
    pub(super) fn compact_below(w: &mut dyn Write, pretty: &str, max_depth: usize) -> io::Result<()> {
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
}

#[cfg(test)]
mod tests {
    use super::oracle::{compact_below, reflow};
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

    /// `json` writes the bytes of serde_json's serialization of `p`
    /// re-flowed, by either reference (one pass, line by line).
    fn assert_as_serde(p: &Probe, what: &str) {
        let mut ours = Vec::new();
        json(&mut ours, p).unwrap();
        let mut one_pass = Vec::new();
        reflow(&serde_json::to_vec(p).unwrap(), 4, &mut one_pass);
        let mut lines = Vec::new();
        compact_below(&mut lines, &serde_json::to_string_pretty(p).unwrap(), 4).unwrap();
        for (name, reference) in [("one pass", one_pass), ("line by line", lines)] {
            if ours != reference {
                let (a, b) = (String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference));
                let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(a.lines().count().min(b.lines().count()));
                panic!("{what}: differs from serde re-flowed {name} at line {}:\n ours: {:?}\nserde: {:?}", line + 1, a.lines().nth(line), b.lines().nth(line));
            }
        }
    }

    /// A probe with every shape the document has: each decision and load
    /// outcome at each level (variant, struct_ops member, context), each
    /// context kind, optional fields set and not, empty and non-empty
    /// lists, and every character that needs escaping in the strings.
    fn every_shape(flags: u8) -> Probe {
        use crate::probe::{AttachBtf, BtfFingerprint, CallbackKind};
        let nasty: String = (0u8..0x20).map(char::from).chain("\"\\/é→\u{7f}x".chars()).collect();
        let decisions = [
            Decision::VerifierAccepted,
            Decision::VerifierRejectedNotAllowed { message: format!("program of this type cannot use {nasty}") },
            Decision::RejectedOther { message: "R1 type=ctx expected=map_ptr".into() },
            Decision::Undecided { reason: nasty.clone() },
        ];
        let helpers: Vec<HelperDecision> =
            decisions.iter().zip(1..).map(|(d, i)| HelperDecision { id: i * 1000, name: format!("bpf_h{i}"), decision: d.clone() }).collect();
        let kfuncs: Vec<KfuncDecision> = decisions
            .iter()
            .zip(0..)
            .map(|(d, i)| KfuncDecision {
                name: format!("bpf_k{i}{nasty}"),
                module: (i % 2 == 1).then(|| format!("mod\"{i}")),
                btf_id: 62943 + i,
                decision: d.clone(),
            })
            .collect();
        let loads = [LoadOutcome::Loadable, LoadOutcome::Unsupported { message: "EINVAL: \"x\"".into() }, LoadOutcome::Undecided { reason: nasty.clone() }];
        let members = loads
            .iter()
            .zip(0..)
            .map(|(l, i)| MemberResult {
                member: format!("m{i}"),
                index: i,
                load: l.clone(),
                helpers: helpers.iter().take(i as usize).cloned().collect(),
                kfuncs: kfuncs.iter().skip(i as usize).cloned().collect(),
            })
            .collect();
        let kinds = [
            Context::IterTarget { target: "tcp".into() },
            Context::ArenaMap,
            Context::Callback { callback: CallbackKind::Wq },
            Context::Callback { callback: CallbackKind::Timer },
            Context::Callback { callback: CallbackKind::TaskWork },
            Context::Callback { callback: CallbackKind::Loop },
            Context::Sleepable { member: nasty.clone() },
        ];
        let contexts = kinds
            .into_iter()
            .zip(0..)
            .map(|(context, i)| ContextResult {
                context,
                load: loads[i % 3].clone(),
                helpers: helpers.iter().skip(i).take(2).cloned().collect(),
                kfuncs: kfuncs.iter().take(i).cloned().collect(),
            })
            .collect();
        let result = |variant: Variant, load: LoadOutcome| VariantResult {
            variant,
            load,
            allowed_helpers: Vec::new(),
            allowed_kfuncs: Vec::new(),
            helpers: Vec::new(),
            kfuncs: Vec::new(),
            members: Vec::new(),
            gpl_only_helpers: Vec::new(),
            contexts: Vec::new(),
        };
        let mut kprobe = result(Variant::new("kprobe".into(), "BPF_PROG_TYPE_KPROBE", 2, None, false), LoadOutcome::Loadable);
        kprobe.allowed_helpers = vec![1, 3, u32::MAX];
        kprobe.allowed_kfuncs = vec!["bpf_k0".into(), nasty.clone()];
        kprobe.helpers = helpers.clone();
        kprobe.kfuncs = kfuncs.clone();
        kprobe.gpl_only_helpers = vec![3];
        kprobe.contexts = contexts;
        let mut ops = Variant::new("struct_ops/tcp_congestion_ops".into(), "BPF_PROG_TYPE_STRUCT_OPS", 27, Some(("BPF_X".into(), 16)), true);
        ops.attach_btf = Some(AttachBtf { name: "vmlinux".into(), kind: "struct".into(), id: 1, module: None });
        ops.struct_ops_member = Some("init".into());
        ops.not_probed = Some("not written".into());
        ops.other_members = vec![("release".into(), 17)];
        let mut ops = result(ops, LoadOutcome::Unsupported { message: nasty.clone() });
        ops.members = members;
        ops.helpers = helpers;
        let mut fentry = Variant::new("fentry.s".into(), "BPF_PROG_TYPE_TRACING", 26, Some(("BPF_TRACE_FENTRY".into(), 24)), true);
        fentry.attach_btf = Some(AttachBtf { name: "bpf_fentry_test1".into(), kind: "func".into(), id: 4, module: Some("bpf_testmod".into()) });
        let fentry = result(fentry, LoadOutcome::Undecided { reason: "EPERM".into() });
        Probe {
            schema: crate::probe::SCHEMA.into(),
            tool: "bpfabi 0.1.0".into(),
            kernel: ProbeKernel {
                release: (flags & 8 == 0).then(|| format!("6.18{nasty}")),
                machine: "x86_64".into(),
                btf: BtfFingerprint { algorithm: "sha256".into(), vmlinux: "c3a17d88".into(), vmlinux_bytes: u64::MAX },
                modules: if flags & 8 == 0 { vec!["bpf_testmod".into(), nasty.clone()] } else { Vec::new() },
            },
            options: ProbeOptions {
                full: true,
                threads: 3,
                only: if flags & 8 == 0 { vec!["kprobe".into(), "x*".into()] } else { Vec::new() },
                ..ProbeOptions::default()
            },
            summary: Summary { variants: 3, loadable: 1, loads: usize::MAX, threads: 2, duration_ms: 345, ..Summary::default() },
            variants: if flags & 8 == 0 { vec![kprobe, ops, fentry] } else { Vec::new() },
            helper_gpl_measured: flags & 1 != 0,
            contexts_measured: flags & 2 != 0,
            callbacks_measured: flags & 4 != 0,
        }
    }

    #[test]
    fn json_as_serde_writes_it_on_every_shape() {
        for flags in 0..16 {
            assert_as_serde(&every_shape(flags), &format!("every_shape({flags})"));
        }
    }

    /// And on the probes of real kernels (data/probe), read and written again.
    #[test]
    fn json_as_serde_writes_it_on_data_probes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let p = crate::probe::file::load_probe(&path).unwrap();
            assert_as_serde(&p, &path.display().to_string());
            n += 1;
        }
        assert!(n >= 4);
    }
}
