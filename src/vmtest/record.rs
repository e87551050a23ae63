//! What one real load gives: a [`LoadRecord`] per load unit (a program, or
//! a struct_ops map with its programs), the fields the corpus ground truth
//! uses, and the decisive lines picked out of libbpf's log.

use serde::{Deserialize, Serialize};

/// How a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The kernel accepted it.
    Loaded,
    /// libbpf or the verifier refused it.
    Rejected,
    /// libbpf could not open the object (object-level record).
    OpenFailed,
    /// The object has nothing to load (object-level record).
    NoPrograms,
    /// The per-program watchdog fired; the VM was restarted after it.
    Timeout,
    /// The VM died (kernel panic, QEMU exit) during this unit.
    VmCrashed,
}

impl Status {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Loaded => "loaded",
            Status::Rejected => "rejected",
            Status::OpenFailed => "open_failed",
            Status::NoPrograms => "no_programs",
            Status::Timeout => "timeout",
            Status::VmCrashed => "vm_crashed",
        }
    }
}

/// `program` for a unit: the program name, or `struct_ops:<map>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Program.
    Program,
    /// Structopsmap.
    StructOpsMap,
}

/// One unit's load, as libbpf saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadRecord {
    /// The object as named on the command line (or relative to a corpus root).
    pub object: String,
    /// Program name, `struct_ops:<map>`, or none for object-level records.
    pub program: Option<String>,
    /// Section.
    pub section: Option<String>,
    /// Prog type.
    pub prog_type: Option<String>,
    /// Attach type.
    pub attach_type: Option<String>,
    /// Unit.
    pub unit: Option<UnitKind>,
    /// For a struct_ops unit: the programs loaded with the map.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// Loaded.
    pub loaded: bool,
    /// Status.
    pub status: Status,
    /// Positive errno of the failure, 0 on success.
    pub errno: i32,
    /// The decisive lines: libbpf's warnings with the verifier's last words
    /// (indented) after `BPF program load failed`.
    pub error: String,
    /// libbpf's log (warnings, verifier log included), capped.
    pub log: String,
    /// Maps given a size before loading: `name=entries`, `name.value_size=n`.
    pub maps_resized: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

impl LoadRecord {
    /// A record of a unit that did not load and has no program details
    /// (object-level failures, timeouts, crashes).
    pub fn not_loaded(object: String, program: Option<String>, status: Status, errno: i32, error: String, log: String) -> Self {
        LoadRecord {
            object,
            program,
            section: None,
            prog_type: None,
            attach_type: None,
            unit: None,
            programs: Vec::new(),
            loaded: false,
            status,
            errno,
            error,
            log,
            maps_resized: String::new(),
            duration_ms: 0,
        }
    }
    /// Key of this unit inside its object: program name or `struct_ops:<map>`;
    /// empty for object-level records.
    pub fn unit_name(&self) -> &str {
        self.program.as_deref().unwrap_or("")
    }
}

/// Is this verifier log line an instruction, a register-state or a source line?
fn is_trace_line(l: &str) -> bool {
    let t = l.trim_start();
    if t.starts_with("; ") || t == ";" {
        return true;
    }
    // `12: (85) call ...`, `12: R1=ctx() ...`, `from 3 to 5: ...`
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(": ") {
            return r.starts_with('(') || r.starts_with('R') || r.starts_with("frame") || r.starts_with("safe");
        }
    }
    t.starts_with("from ") && t.contains(" to ")
}

/// The verifier's decisive words: the lines after its last trace line and
/// before `processed N insns` (at most 6).
pub fn verifier_tail(vlog: &[&str]) -> Vec<String> {
    let end = vlog.iter().rposition(|l| l.starts_with("processed ") && l.contains(" insns")).unwrap_or(vlog.len());
    let body = vlog.get(..end).unwrap_or(&[]);
    let start = body.iter().rposition(|l| is_trace_line(l)).map_or(0, |i| i + 1);
    let mut out: Vec<String> = body.get(start..).unwrap_or(&[]).iter().filter(|l| !l.trim().is_empty()).map(|l| l.to_string()).collect();
    if out.is_empty() {
        // The failure is the last instruction itself (`7: <invalid CO-RE relocation>`
        // comes with its explanation above); else the last non-empty line.
        if let Some(l) = body.iter().rev().find(|l| !l.trim().is_empty()) {
            out.push(l.to_string());
        }
    }
    // An invalid CO-RE relocation reads better with its instruction.
    if let (Some(first), Some(prev)) = (out.first(), start.checked_sub(1).and_then(|i| body.get(i))) {
        if first.starts_with("failed to resolve CO-RE") && prev.contains("<invalid CO-RE relocation>") {
            out.insert(0, prev.to_string());
        }
    }
    let n = out.len();
    out.into_iter().skip(n.saturating_sub(6)).collect()
}

/// Decisive lines of a failed load from libbpf's log: every `libbpf:` line
/// outside the verifier log, with the verifier's last words (indented)
/// after the `BPF program load failed` line.
pub fn decisive_lines(log: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_vlog = false;
    let mut vlog: Vec<&str> = Vec::new();
    for l in log.lines() {
        if l.contains("-- BEGIN PROG LOAD LOG --") {
            in_vlog = true;
            vlog.clear();
            continue;
        }
        if l.contains("-- END PROG LOAD LOG --") {
            in_vlog = false;
            let at = out.iter().rposition(|x| x.contains("BPF program load failed")).map_or(out.len(), |i| i + 1);
            for (k, t) in verifier_tail(&vlog).into_iter().enumerate() {
                out.insert(at + k, format!("  {t}"));
            }
            continue;
        }
        if in_vlog {
            vlog.push(l);
        } else if !l.trim().is_empty() {
            out.push(l.to_string());
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shapes taken from the corpus ground truth (libbpf 1.7 logs).
    #[test]
    fn decisive_lines_like_the_ground_truth() {
        let log = "libbpf: prog 'reads': BPF program load failed: -EINVAL\nlibbpf: prog 'reads': -- BEGIN PROG LOAD LOG --\nValidating read_subprog() func#1...\n2: R10=fp0\n; struct s foo = { @ relocs_read.c:38\n3: (6b) *(u16 *)(r10 -2) = r1         ; R1_w=1 R10=fp0 fp-8=mm??????\n6: (b7) r0 = 44                       ; R0_w=44\n; if (core_access(foo.a) == 0) @ relocs_read.c:43\n7: <invalid CO-RE relocation>\nfailed to resolve CO-RE relocation <byte_off> [4] struct s.a (0:1 @ offset 1)\nprocessed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n-- END PROG LOAD LOG --\nlibbpf: prog 'reads': failed to load: -EINVAL\nlibbpf: failed to load object 'relocs_read-el.elf.o'\n";
        assert_eq!(
            decisive_lines(log),
            "libbpf: prog 'reads': BPF program load failed: -EINVAL\n  7: <invalid CO-RE relocation>\n  failed to resolve CO-RE relocation <byte_off> [4] struct s.a (0:1 @ offset 1)\nlibbpf: prog 'reads': failed to load: -EINVAL\nlibbpf: failed to load object 'relocs_read-el.elf.o'"
        );
        let log = "libbpf: prog 'x': BPF program load failed: -EACCES\nlibbpf: prog 'x': -- BEGIN PROG LOAD LOG --\n84: (79) r1 = *(u64 *)(r10 -8)        ; R1_w=scalar() R10=fp0 fp-8=mmmmmmmm\n85: (79) r2 = *(u64 *)(r1 +48)\nR1 invalid mem access 'scalar'\nprocessed 43 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 3 mark_read 2\n-- END PROG LOAD LOG --\nlibbpf: prog 'x': failed to load: -EACCES\n";
        assert_eq!(
            decisive_lines(log),
            "libbpf: prog 'x': BPF program load failed: -EACCES\n  R1 invalid mem access 'scalar'\nlibbpf: prog 'x': failed to load: -EACCES"
        );
    }
}
