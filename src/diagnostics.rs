//! Compiler-style diagnostics: `file:line:column: level: message [code]`,
//! one per line, the form compilers print and that `go vet` users, editors,
//! Make's and cargo's output readers know (GNU Coding Standards,
//! "Formatting Error Messages"). `check --format gnu` and the build-tool
//! integrations (module `integration`) print these.
//!
//! Two sources, both facts already graded elsewhere: a `check` problem
//! (verdict `fails` or `warns` on a kernel) is located at the source line of
//! the kfunc call it is about when the object has `.BTF.ext` line info, else
//! at the object file; the same problem on several kernels is one line
//! naming them all. A `check --policy` finding (P100/P101) keeps the
//! location `policy::uses` found.

use crate::check::{ProgramResult, ReasonKind, Verdict};
use crate::object::BpfObject;
use crate::policy::findings::{Finding, SarifLoc};
use crate::policy::manifest::Action;
use crate::policy::uses::{self, CallSite};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The program fails to load, or a `deny` policy finding.
    Error,
    /// Loads with something to fix, or a `warn` policy finding.
    Warning,
    /// Worth knowing, nothing to fix (a partial answer: what a reduced
    /// catalog kernel could not check).
    Note,
}

impl Level {
    /// `error` / `warning`, as compilers spell them.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// One diagnostic line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Source file as the compiler recorded it, or the object file when
    /// no line is known.
    pub file: String,
    /// 1-based line (0: none known).
    pub line: u32,
    /// 1-based column (0: none known).
    pub column: u32,
    /// What, in words (object, program and kernels in brackets).
    pub message: String,
    /// The check reason (`kfunc_missing`, ...) or policy code (`P100`, ...).
    pub code: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: ", self.file)?,
            (l, 0) => write!(f, "{}:{l}: ", self.file)?,
            (l, c) => write!(f, "{}:{l}:{c}: ", self.file)?,
        }
        write!(f, "{}: {} [{}]", self.level.as_str(), self.message, self.code)
    }
}

/// `check --policy` findings as diagnostics, at the places `policy::uses`
/// located them.
pub fn from_policy(findings: &[(Finding, Option<SarifLoc>)]) -> Vec<Diagnostic> {
    findings
        .iter()
        .map(|(f, loc)| {
            let (file, line, column) = match loc {
                Some(l) => (l.uri.clone(), u32::try_from(l.line).unwrap_or(0), u32::try_from(l.column).unwrap_or(0)),
                None => (String::new(), 0, 0),
            };
            let level = if f.level == Action::Deny { Level::Error } else { Level::Warning };
            Diagnostic { level, file, line, column, message: f.message.clone(), code: f.code.as_str().to_string() }
        })
        .collect()
}

/// Reasons about one kfunc call, which a source line can be found for.
fn about_kfunc_call(k: ReasonKind) -> bool {
    matches!(k, ReasonKind::KfuncMissing | ReasonKind::KfuncProtoMismatch)
}

/// `check` problems as diagnostics: one per problem of a program, naming
/// every kernel it occurs on; located at the kfunc's call site when the
/// object has line info.
pub fn from_check(objects: &[BpfObject], results: &[ProgramResult]) -> Vec<Diagnostic> {
    // Call sites are read (from the object file) only for objects with a
    // kfunc problem.
    let mut sites: HashMap<&str, Vec<CallSite>> = HashMap::new();
    for r in results {
        if r.reasons.iter().any(|x| about_kfunc_call(x.kind)) && !sites.contains_key(r.object.as_str()) {
            let s = objects.iter().find(|o| o.path == r.object).map(uses::call_sites_of).unwrap_or_default();
            sites.insert(r.object.as_str(), s);
        }
    }
    // (object, program, section, reason kind, name, message, verdict) -> kernels, in first-seen order.
    type Key<'a> = (&'a str, &'a str, &'a str, ReasonKind, &'a str, &'a str, Verdict);
    let mut order: Vec<Key> = Vec::new();
    let mut kernels: HashMap<Key, Vec<&str>> = HashMap::new();
    for r in results {
        // Reasons, then what a reduced kernel could not check (a note).
        for x in r.reasons.iter().filter(|x| x.severity != Verdict::Loads).chain(&r.not_checked) {
            let key = (r.object.as_str(), r.program.as_str(), r.section.as_str(), x.kind, x.name.as_str(), x.message.as_str(), x.severity);
            let e = kernels.entry(key).or_default();
            if e.is_empty() {
                order.push(key);
            }
            if !e.contains(&r.kernel.as_str()) {
                e.push(r.kernel.as_str());
            }
        }
    }
    order
        .into_iter()
        .map(|key| {
            let (object, program, section, kind, name, message, verdict) = key;
            let on = kernels.get(&key).map(|k| k.join(", ")).unwrap_or_default();
            let site = about_kfunc_call(kind)
                .then(|| {
                    sites.get(object).and_then(|s| s.iter().find(|s| s.kfunc == name && s.line.is_some() && (s.function == program || s.section == section)))
                })
                .flatten();
            // At the source line, the brackets name the object; at the
            // object, they do not repeat it.
            let (file, line, column, at) = match site.and_then(|s| s.line.as_ref().map(|l| (l, s))) {
                Some((l, s)) => (l.file.clone(), l.line, l.column, format!("{object}: program {program} ({section}), insn {}", s.insn)),
                None => (object.to_string(), 0, 0, format!("program {program} ({section})")),
            };
            let (level, verb) = match (verdict, kind) {
                (Verdict::Fails, _) => (Level::Error, "fails"),
                (_, ReasonKind::NotCheckedReducedKernel) => (Level::Note, "partial answer"),
                _ => (Level::Warning, "warns"),
            };
            Diagnostic { level, file, line, column, message: format!("{verb} on {on}: {name}: {message} [{at}]"), code: kind.as_str().to_string() }
        })
        .collect()
}

/// Write one diagnostic per line.
pub fn write(w: &mut dyn Write, diagnostics: &[Diagnostic]) -> io::Result<()> {
    for d in diagnostics {
        writeln!(w, "{d}")?;
    }
    Ok(())
}

/// Whether any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.level == Level::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_form_with_and_without_a_line() {
        let mut d = Diagnostic { level: Level::Warning, file: "p.bpf.c".into(), line: 12, column: 7, message: "m".into(), code: "P100".into() };
        assert_eq!(d.to_string(), "p.bpf.c:12:7: warning: m [P100]");
        d.column = 0;
        assert_eq!(d.to_string(), "p.bpf.c:12: warning: m [P100]");
        d.line = 0;
        d.level = Level::Error;
        assert_eq!(d.to_string(), "p.bpf.c: error: m [P100]");
    }
}
