//! kfunc compat families: the variants of one kfunc a program carries so
//! that it loads on kernels that renamed or changed it, and, per kernel,
//! which variant resolves and whether the reachable code calls only
//! resolved ones.
//!
//! Two ways a program carries variants, both libbpf's:
//! - **flavours**: `foo`, `foo___v2`, `foo___compat`, `foo___old` /
//!   `foo___new` are one kernel function to libbpf, which resolves a kfunc
//!   extern by its essential name (the `___` suffix dropped,
//!   `bpf_object__collect_externs`: `ext->essent_name`) and keeps only the
//!   variant whose prototype matches (`bpf_object__resolve_ksym_func_btf_id`
//!   with `bpf_core_types_are_compat`); the others stay unresolved;
//! - **renames behind `bpf_ksym_exists()`** (sched_ext's `compat.bpf.h`:
//!   `bpf_ksym_exists(scx_bpf_dsq_insert) ? scx_bpf_dsq_insert(...) :
//!   scx_bpf_dispatch___compat(...)`): the kfunc calls that are reachable
//!   only when the guarded kfunc's address is 0 are its fallbacks. They are
//!   found from the code: the function is analysed twice ([`flow`]), with
//!   the guard resolved and with it missing, as the verifier would see it
//!   on a kernel of either kind (libbpf leaves a missing weak kfunc's
//!   address 0, `bpf_object__resolve_externs`).
//!
//! This module finds the families of an object; [`super::check_object`] judges them per
//! kernel with [`judge`].

use crate::object::flow::{self, Oracle, Src, Val};
use crate::object::{essential, BpfObject, ExternKind, InsnTarget};
use crate::vocab::{Reason, ReasonKind};
use std::collections::{BTreeMap, BTreeSet};

/// One family of kfunc variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The family's name: the essential name of its guarded (newest)
    /// variant, or of the flavours.
    pub name: String,
    /// Extern indices of its variants, in extern order.
    pub variants: Vec<u32>,
}

/// The oracle of a kernel, with one extern's address forced (present or 0).
struct Forced<'a> {
    inner: &'a dyn Oracle,
    ext: u32,
    present: bool,
}

impl Oracle for Forced<'_> {
    fn core(&self, relo: u32) -> Val {
        self.inner.core(relo)
    }
    fn extern_addr(&self, ext: u32) -> Val {
        if ext == self.ext {
            if self.present {
                Val::NonZero(Src::Extern(ext))
            } else {
                Val::Const(0, Src::Extern(ext))
            }
        } else {
            self.inner.extern_addr(ext)
        }
    }
    fn kconfig(&self, ext: u32) -> Val {
        self.inner.kconfig(ext)
    }
    fn rodata(&self, section: u32, off: u64, size: u8) -> Val {
        self.inner.rodata(section, off, size)
    }
}

fn live_calls(insns: &[crate::object::Insn], flow: &flow::Flow, is_kfunc: &dyn Fn(u32) -> bool) -> BTreeSet<u32> {
    insns
        .iter()
        .enumerate()
        .filter(|(k, _)| flow.live.get(*k).copied().unwrap_or(true))
        .filter_map(|(_, i)| match (i.code, i.target) {
            (0x85, InsnTarget::Extern(e)) if is_kfunc(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// The kfunc families of `obj` (only groups of two or more variants).
/// `oracle` supplies every other load-time constant (any kernel's: the
/// guard's own value is forced both ways).
pub fn families(obj: &BpfObject, oracle: &dyn Oracle) -> Vec<Family> {
    let is_kfunc = |e: u32| obj.externs.get(e as usize).is_some_and(|x| x.kind == ExternKind::Kfunc);
    // Union-find over extern indices.
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    fn find(p: &mut BTreeMap<u32, u32>, x: u32) -> u32 {
        let mut r = x;
        while let Some(&q) = p.get(&r) {
            if q == r {
                break;
            }
            r = q;
        }
        p.insert(x, r);
        r
    }
    let union = |p: &mut BTreeMap<u32, u32>, a: u32, b: u32| {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            p.insert(ra.max(rb), ra.min(rb));
        }
    };
    // Flavours: same essential name.
    let mut by_ess: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, e) in obj.externs.iter().enumerate().filter(|(_, e)| e.kind == ExternKind::Kfunc) {
        parent.insert(i as u32, i as u32);
        by_ess.entry(essential(&e.name)).or_default().push(i as u32);
    }
    for v in by_ess.values() {
        for w in v.windows(2) {
            if let [a, b] = *w {
                union(&mut parent, a, b);
            }
        }
    }
    // Guards: calls live only when the guarded kfunc is missing.
    let mut guards: BTreeSet<u32> = BTreeSet::new();
    for f in &obj.functions {
        let guarded: BTreeSet<u32> = f
            .insns
            .iter()
            .filter_map(|i| match (i.code, i.target) {
                (0x18, InsnTarget::Extern(e)) if is_kfunc(e) => Some(e),
                _ => None,
            })
            .collect();
        for g in guarded {
            let budget = 32 * f.insns.len() + 256;
            let with = flow::analyse(&f.insns, &Forced { inner: oracle, ext: g, present: true }, budget);
            let without = flow::analyse(&f.insns, &Forced { inner: oracle, ext: g, present: false }, budget);
            if !(with.exact && without.exact) {
                continue;
            }
            let fallbacks: Vec<u32> = live_calls(&f.insns, &without, &is_kfunc).difference(&live_calls(&f.insns, &with, &is_kfunc)).copied().collect();
            for fb in fallbacks.into_iter().filter(|&fb| fb != g) {
                union(&mut parent, g, fb);
                guards.insert(g);
            }
        }
    }
    let mut groups: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let keys: Vec<u32> = parent.keys().copied().collect();
    for k in keys {
        let r = find(&mut parent, k);
        groups.entry(r).or_default().push(k);
    }
    groups
        .into_values()
        .filter(|v| v.len() >= 2)
        .map(|variants| {
            let named = variants.iter().find(|v| guards.contains(v)).or(variants.first()).copied().unwrap_or(0);
            let name = obj.externs.get(named as usize).map(|e| essential(&e.name).to_string()).unwrap_or_default();
            Family { name, variants }
        })
        .collect()
}

/// Judge one family on one kernel: `resolved(e)` says whether extern `e`
/// resolves there, `called` are the extern indices the reachable code of
/// the program calls. One reason per family:
/// - `kfunc_family_strong_variant` (fails): a variant declared without
///   `__weak` does not resolve; libbpf fails the whole object
///   (`bpf_object__resolve_ksym_func_btf_id`);
/// - `kfunc_family_unresolved`: no variant resolves; `weak` when no call of
///   the family is reachable (the program loads without the feature),
///   else the reachable call is a poisoned one the verifier rejects;
/// - `kfunc_family_unresolved_call` (fails): a variant resolves but the
///   reachable code also calls one that does not (poisoned by libbpf,
///   `poison_kfunc_call`, rejected where reachable);
/// - `kfunc_family_ok`: the reachable code calls only resolved variants.
pub fn judge(obj: &BpfObject, fam: &Family, resolved: &dyn Fn(u32) -> bool, called: &BTreeSet<u32>) -> Reason {
    let name = |e: &u32| obj.externs.get(*e as usize).map(|x| x.name.as_str()).unwrap_or("?");
    let list = |v: &[u32]| v.iter().map(name).collect::<Vec<_>>().join(", ");
    let ok: Vec<u32> = fam.variants.iter().copied().filter(|&e| resolved(e)).collect();
    let missing: Vec<u32> = fam.variants.iter().copied().filter(|&e| !resolved(e)).collect();
    let calls: Vec<u32> = fam.variants.iter().copied().filter(|e| called.contains(e)).collect();
    let strong_missing: Vec<u32> = missing.iter().copied().filter(|&e| obj.externs.get(e as usize).is_some_and(|x| !x.weak)).collect();
    let all = list(&fam.variants);
    if !strong_missing.is_empty() {
        return Reason::fact(
            ReasonKind::KfuncFamilyStrongVariant,
            &fam.name,
            format!(
                "kfunc family `{}` ({all}): {} is not __weak and does not resolve on this kernel: libbpf fails the whole object (declare the variants __weak and guard them with bpf_ksym_exists())",
                fam.name,
                list(&strong_missing)
            ),
        );
    }
    if ok.is_empty() {
        let reachable = !calls.is_empty();
        let what = if reachable {
            format!("the reachable code calls {}, a poisoned call the verifier rejects", list(&calls))
        } else {
            "no call of the family is reachable (the program loads without it)".to_string()
        };
        return Reason::fact(
            ReasonKind::KfuncFamilyUnresolved,
            &fam.name,
            format!("kfunc family `{}` ({all}): no variant resolves on this kernel; {what}", fam.name),
        )
        .weak(!reachable);
    }
    let bad: Vec<u32> = calls.iter().copied().filter(|&e| !resolved(e)).collect();
    if !bad.is_empty() {
        return Reason::fact(
            ReasonKind::KfuncFamilyUnresolvedCall,
            &fam.name,
            format!(
                "kfunc family `{}` ({all}): {} resolves, but the reachable code calls {}, which does not (a poisoned call)",
                fam.name,
                list(&ok),
                list(&bad)
            ),
        );
    }
    Reason::fact(
        ReasonKind::KfuncFamilyOk,
        &fam.name,
        format!(
            "kfunc family `{}` ({all}): {} resolves; the reachable code calls {}",
            fam.name,
            list(&ok),
            if calls.is_empty() { "none".into() } else { list(&calls) }
        ),
    )
}
