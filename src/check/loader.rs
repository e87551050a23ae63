//! The loader's own rules (src/loader) as requirement facts: what libbpf,
//! cilium/ebpf or aya refuses or leaves to user space before the kernel is
//! asked (docs/loaders.md), and which programs each finding hits.

use super::Reached;
use crate::loader::{evidence, Finding, Loader, LoaderChoice};
use crate::object::{BpfObject, Program};
use crate::vocab::Reason;

/// The loader `choice` names for `obj` (inferred under `--loader auto`).
pub fn object_loader(obj: &BpfObject, choice: LoaderChoice) -> Loader {
    match choice {
        LoaderChoice::Fixed(l) => l,
        LoaderChoice::Auto => evidence::infer(obj).loader,
    }
}

/// A loader finding as a requirement fact.
fn reason(f: &Finding) -> Reason {
    Reason::fact(f.rule, &f.subject, f.message.clone())
}

/// Findings that hit every program of the object.
pub(super) fn object_reasons(findings: &[Finding], rs: &mut Vec<Reason>) {
    rs.extend(findings.iter().filter(|f| f.program.is_none()).map(reason));
}

/// Findings that hit the programs using their extern
/// ([`Loader::findings_at_load`]), as extern reasons ([`used_externs`]).
pub(super) fn at_load_reasons(obj: &BpfObject, loader: Loader, rs: &mut Vec<Reason>) {
    rs.extend(loader.findings_at_load(obj).iter().map(reason));
}

/// Findings about program `p` alone.
pub(super) fn program_reasons(findings: &[Finding], p: &Program, rs: &mut Vec<Reason>) {
    rs.extend(findings.iter().filter(|f| f.program.as_deref() == Some(p.name.as_str())).map(reason));
}

/// cilium/ebpf and aya resolve the externs a program's instructions use
/// (linker.go `resolveKfuncs`), so an unresolvable extern hits only the
/// programs reaching it.
pub(super) fn used_externs(obj: &BpfObject, all: &Reached, extern_reasons: &[Reason], rs: &mut Vec<Reason>) {
    let used = |name: &str| all.calls.iter().chain(&all.addrs).any(|&e| obj.externs.get(e as usize).is_some_and(|x| x.name == name));
    rs.extend(extern_reasons.iter().filter(|r| used(&r.name)).cloned());
}
