//! `check --policy`: where programs call deprecated kfuncs. Each call site
//! is found in the object's relocations (the instruction), attributed to
//! the function containing it, and to a source line through `.BTF.ext` line
//! info when the object has it; the manifest turns each use into a
//! compiler-style warning, or an error on a target kernel at or past the
//! removal (the default grades of P100/P101; the manifest's `[grades]` may
//! change them). `check`'s own facts (which kfuncs each program calls, weak
//! externs, `bpf_ksym_exists()` guards) decide reachability and strength.

use super::codes::Circumstance;
use super::findings::{action_of, Code, Finding, SarifLoc};
use super::history::release_label;
use super::manifest::{self, Action, Manifest};
use crate::model::KernelModel;
use crate::object::{BpfObject, ExternKind};

pub use crate::object::CallSite;

/// Every kfunc call site of an object, as its reader found them
/// ([`BpfObject::kfunc_call_sites`]).
pub fn call_sites_of(obj: &BpfObject) -> Vec<CallSite> {
    obj.kfunc_call_sites()
}

/// The release a kfunc is (or will be) gone from: its recorded removal,
/// else the announced one.
pub fn removal_release(m: &Manifest, kfunc: &str) -> Option<String> {
    let e = m.kfuncs.get(kfunc)?;
    e.facts.removed_in.clone().or_else(|| e.decisions.removal_not_before.clone())
}

/// Manifest entries that name no kfunc: no facts recorded and in none of
/// the kernels checked (a misspelled `[kfunc.NAME]`), as P002 with the
/// closest kfunc name of the kernels.
pub fn unknown_entries(m: &Manifest, kernels: &[KernelModel]) -> Vec<(Finding, Option<SarifLoc>)> {
    let names: std::collections::BTreeSet<&str> = kernels.iter().flat_map(|k| k.surface().kfuncs.iter().map(|f| f.name.as_str())).collect();
    let mut out = Vec::new();
    for (n, e) in &m.kfuncs {
        if m.ignored(n) || e.facts != manifest::Facts::default() || names.contains(n.as_str()) || kernels.is_empty() {
            continue;
        }
        let hint = crate::versions::closest(n, names.iter().copied()).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default();
        let f = Finding::observed(Code::StaleEntry, format!("manifest entry `{n}` names no kfunc of the kernels checked and records no facts{hint}"))
            .kfunc(n)
            .loc(Some(&e.loc));
        let loc = Some(SarifLoc { uri: e.loc.file.clone(), line: e.loc.line, column: e.loc.column });
        out.push((f, loc));
    }
    out.retain_mut(|(f, _)| {
        f.level = action_of(m, f.code, f.circumstance);
        f.level != Action::Allow
    });
    out
}

/// Options of [`deprecations`].
#[derive(Debug, Clone, Copy, Default)]
pub struct UseOptions {
    /// Deprecated uses are errors (CI).
    pub deny_deprecated: bool,
}

/// One finding per use of a deprecated kfunc (P100), and per target kernel
/// at or past its removal for strong, unguarded uses (P101). Kernels
/// without a release label are never "past removal".
pub fn deprecations(m: &Manifest, objects: &[BpfObject], kernels: &[KernelModel], opts: UseOptions) -> Vec<(Finding, Option<SarifLoc>)> {
    let mut out = unknown_entries(m, kernels);
    let deprecated = |k: &str| m.kfuncs.get(k).is_some_and(|e| e.decisions.deprecated_since.is_some() || removal_release(m, k).is_some());
    for obj in objects {
        let uses_any = obj.programs.iter().any(|p| p.kfuncs.iter().any(|k| deprecated(k)));
        if !uses_any {
            continue;
        }
        let sites = call_sites_of(obj);
        for p in &obj.programs {
            for k in p.kfuncs.iter().filter(|k| deprecated(k)) {
                let Some(e) = m.kfuncs.get(k) else { continue };
                let weak = obj.externs.iter().any(|x| x.kind == ExternKind::Kfunc && x.essential_name() == k && x.weak);
                let guarded = weak && p.ksym_checks.contains(k);
                let d = &e.decisions;
                let (removed, announced) = (e.facts.removed_in.as_deref(), d.removal_not_before.as_deref());
                let mut what = match &d.deprecated_since {
                    Some(s) => format!("`{k}` is deprecated since {s}"),
                    None => format!("`{k}` is going away"),
                };
                if let Some(r) = &d.replacement {
                    what.push_str(&format!("; use `{r}`"));
                }
                match (removed, announced) {
                    (Some(r), _) => what.push_str(&format!("; removed in {r}")),
                    (None, Some(nb)) => what.push_str(&format!("; removal announced for {nb} or later")),
                    (None, None) => {}
                }
                if guarded {
                    what.push_str(" (note: guarded fallback: weak and checked with bpf_ksym_exists())");
                }
                // Sites in this program's functions, else the program itself.
                let mine: Vec<&CallSite> = sites.iter().filter(|s| s.kfunc == *k && (s.function == p.name || s.section == p.section)).collect();
                let places: Vec<Option<&CallSite>> = if mine.is_empty() { vec![None] } else { mine.into_iter().map(Some).collect() };
                for site in places {
                    let (at, loc) = match site {
                        Some(s) => {
                            let at = format!("{}: program {} ({}), insn {}", obj.path, p.name, s.function, s.insn);
                            let loc = s.line.as_ref().map(|l| SarifLoc { uri: l.file.clone(), line: l.line as usize, column: l.column as usize });
                            (at, loc)
                        }
                        None => (format!("{}: program {}", obj.path, p.name), None),
                    };
                    // The manifest grades the use; `--deny-deprecated` raises unguarded ones.
                    let level = if opts.deny_deprecated && !guarded { Action::Deny } else { action_of(m, Code::DeprecatedUse, Circumstance::Plain) };
                    let mut f = Finding::new(Code::DeprecatedUse, level, format!("{what} [{at}]")).kfunc(k);
                    f.tier = Some(m.tier_name(k).to_string());
                    let loc = loc.or_else(|| Some(SarifLoc { uri: obj.path.clone(), line: 0, column: 0 }));
                    if level != Action::Allow {
                        out.push((f, loc.clone()));
                    }
                    if guarded || weak {
                        continue;
                    }
                    for km in kernels {
                        let Some(label) = km.kernel().release.as_deref().and_then(release_label) else { continue };
                        // Past the recorded or announced removal, and the
                        // target kernel really lacks it (an announced removal
                        // that has not happened yet is only announced).
                        let past = |r: Option<&str>| r.is_some_and(|r| manifest::series(&label) >= manifest::series(r));
                        let has = km.surface().kfuncs.iter().any(|f| f.name == *k);
                        let level = action_of(m, Code::UseOfRemoved, Circumstance::Plain);
                        if !has && (past(removed) || past(announced)) && level != Action::Allow {
                            let why = match removed {
                                Some(r) => format!("removed in {r}"),
                                None => format!("gone as announced for {}", announced.unwrap_or("?")),
                            };
                            let f = Finding::new(
                                Code::UseOfRemoved,
                                level,
                                format!("`{k}` is {why} and the target kernel {label} lacks it: the program fails to load [{at}]"),
                            )
                            .kfunc(k)
                            .at(&label);
                            out.push((f, loc.clone()));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Compiler-style text: `file.c:12:5: warning: ... [P100]`.
pub fn text(w: &mut dyn std::io::Write, f: &[(Finding, Option<SarifLoc>)]) -> std::io::Result<()> {
    for (x, loc) in f {
        let place = match loc {
            Some(l) if l.line > 0 => format!("{}:{}:{}: ", l.uri, l.line, l.column),
            Some(l) => format!("{}: ", l.uri),
            None => String::new(),
        };
        let level = if x.level == Action::Deny { "error" } else { "warning" };
        writeln!(w, "{place}{level}: {} [{}]", x.message, x.code.as_str())?;
    }
    Ok(())
}
