//! Reachability on one kernel: the load-time constants of an object there
//! (CO-RE values, `bpf_ksym_exists()`, `.kconfig`, `.rodata`) as an
//! [`Oracle`] for the flow analysis ([`crate::object::flow`]), and what a
//! program's live instructions need ([`Reached`]), which the rule families
//! judge.

use super::core::{CoreOutcome, CoreRes};
use super::externs::{kconfig_value, ExternStatus, KconfigValue};
use crate::model::KernelModel;
use crate::object::flow::{self, Base, Decision, Flow, Oracle, Src, Val};
use crate::object::{BpfObject, ExternKind, InsnTarget, Program};
use crate::vocab::{Reason, ReasonKind};
use std::collections::{BTreeMap, BTreeSet};

/// The load-time constants of one object on one kernel, for the
/// reachability analysis ([`crate::object::flow`]).
pub(super) struct Facts<'a> {
    pub(super) obj: &'a BpfObject,
    pub(super) ki: &'a KernelModel,
    /// Per CO-RE relocation of the object.
    pub(super) core: &'a [CoreRes],
    /// Per extern of the object.
    pub(super) externs: &'a [Option<&'a ExternStatus>],
    /// `.rodata` values are taken as the object has them (else unknown,
    /// except the ones the user stated).
    pub(super) rodata_known: bool,
    pub(super) rodata_stated: &'a BTreeMap<String, u64>,
    /// The loader fills and freezes `.rodata` and `.kconfig` before it
    /// loads the programs, so the verifier knows their values (and prunes
    /// on them). cilium/ebpf up to v0.11.0 does it after
    /// (collection.go `NewCollectionWithOptions`: `populateMaps` runs once
    /// every program is loaded; from v0.12.0 scalar maps are finalized at
    /// creation, map.go `newMapWithOptions`): the verifier then sees
    /// neither, and walks both sides of a branch on them.
    pub(super) frozen_before_load: bool,
}

impl Oracle for Facts<'_> {
    fn core(&self, relo: u32) -> Val {
        match self.core.get(relo as usize) {
            Some(CoreRes { outcome: CoreOutcome::Unresolved(_), .. }) => Val::Poison,
            Some(CoreRes { outcome: CoreOutcome::Resolved(_) | CoreOutcome::Zero(_), value: Some(v), .. }) => Val::Const(*v, Src::Core(relo)),
            _ => Val::Unknown,
        }
    }
    fn extern_addr(&self, ext: u32) -> Val {
        match self.obj.externs.get(ext as usize).map(|e| e.kind) {
            Some(ExternKind::Kconfig) => Val::Ptr(Base::Kconfig(ext), 0),
            _ => match self.externs.get(ext as usize).copied().flatten() {
                Some(ExternStatus::Ok(_) | ExternStatus::NotKfunc(_)) => Val::NonZero(Src::Extern(ext)),
                // libbpf leaves an unresolved weak extern's address 0
                // (`bpf_ksym_exists()` is false).
                Some(ExternStatus::Weak(_)) => Val::Const(0, Src::Extern(ext)),
                _ => Val::Unknown,
            },
        }
    }
    fn kconfig(&self, ext: u32) -> Val {
        let Some(e) = self.obj.externs.get(ext as usize).filter(|_| self.frozen_before_load) else { return Val::Unknown };
        match kconfig_value(self.obj, e, self.ki) {
            Some(KconfigValue::Exact(v)) => Val::Const(v, Src::Kconfig(ext)),
            Some(KconfigValue::Range(lo, hi)) => Val::Range(lo, hi, Src::Kconfig(ext)),
            None => Val::Unknown,
        }
    }
    fn rodata(&self, section: u32, off: u64, size: u8) -> Val {
        let Some(d) = self.obj.rodata_section(section).filter(|_| self.frozen_before_load) else { return Val::Unknown };
        if let Some((start, _, name)) = d.vars.iter().find(|(o, sz, _)| *o <= off && off < o.saturating_add((*sz).max(1))) {
            if let Some(&v) = self.rodata_stated.get(name) {
                return if *start == off { Val::Const(v, Src::Literal) } else { Val::Unknown };
            }
        }
        if !self.rodata_known {
            return Val::Unknown;
        }
        let Ok(o) = usize::try_from(off) else { return Val::Unknown };
        let bytes = d.bytes.get(o..o.saturating_add(size as usize));
        let v = match (size, bytes) {
            (1, Some(b)) => b.first().map(|&x| u64::from(x)),
            (2, Some(b)) => self.obj.endian.u16(b, 0).map(u64::from),
            (4, Some(b)) => self.obj.endian.u32(b, 0).map(u64::from),
            (8, Some(b)) => self.obj.endian.u64(b, 0),
            _ => None,
        };
        v.map(|v| Val::Const(v, Src::Rodata(section, off))).unwrap_or(Val::Unknown)
    }
}
/// What a program can reach on one kernel: the requirements of its live
/// instructions (with the subprograms and callbacks live calls reach).
#[derive(Default)]
pub(super) struct Reached {
    pub(super) helpers: BTreeSet<u32>,
    /// Extern indices called (kfuncs).
    pub(super) calls: BTreeSet<u32>,
    /// Extern indices whose address is taken.
    pub(super) addrs: BTreeSet<u32>,
    /// Data addresses an `ld_imm64` loads (ELF section, offset): maps
    /// (`Map::elf_at`) and global data.
    pub(super) data: BTreeSet<(u32, i64)>,
    /// (relocation, on a load/store instruction).
    pub(super) core: BTreeMap<u32, bool>,
    /// (function, decision).
    pub(super) decisions: Vec<(usize, Decision)>,
    pub(super) exact: bool,
}

fn analyse_fn(obj: &BpfObject, f: usize, facts: &Facts) -> Flow {
    let insns = obj.functions.get(f).map(|x| x.insns.as_slice()).unwrap_or(&[]);
    flow::analyse(insns, facts, 32 * insns.len() + 256)
}

/// The program's requirements, from the live instructions of the analysis
/// (`flows`, computed on demand), or from every instruction of the call
/// graph when `flows` is `None` (what the code could need at most).
pub(super) fn reach(obj: &BpfObject, p: &Program, mut flows: Option<&mut [Option<Flow>]>, facts: &Facts) -> Reached {
    let mut out = Reached { exact: true, ..Reached::default() };
    let mut seen = BTreeSet::from([p.func]);
    let mut stack = vec![p.func];
    while let Some(f) = stack.pop() {
        let insns = obj.functions.get(f).map(|x| x.insns.as_slice()).unwrap_or(&[]);
        let live: Option<&[bool]> = match flows.as_deref_mut() {
            Some(flows) => {
                let Some(slot) = flows.get_mut(f) else { continue };
                let flow = &*slot.get_or_insert_with(|| analyse_fn(obj, f, facts));
                out.exact &= flow.exact;
                out.decisions.extend(flow.decisions.iter().map(|d| (f, *d)));
                Some(flow.live.as_slice())
            }
            None => None,
        };
        for (k, ins) in insns.iter().enumerate() {
            if live.is_some_and(|l| !l.get(k).copied().unwrap_or(false)) {
                continue;
            }
            if let Some(r) = ins.core {
                let mem = matches!(ins.code & 0x07, 0x01..=0x03);
                *out.core.entry(r).or_default() |= mem;
            }
            match (ins.code, ins.target) {
                (0x85, InsnTarget::Extern(e)) => {
                    out.calls.insert(e);
                }
                (0x85, InsnTarget::None) if ins.src == 0 => {
                    out.helpers.insert(ins.imm as u32);
                }
                (0x85 | 0x18, InsnTarget::Func(c)) if seen.insert(c as usize) => stack.push(c as usize),
                (0x18, InsnTarget::Extern(e)) => {
                    out.addrs.insert(e);
                }
                (0x18, InsnTarget::Data { section, offset }) => {
                    out.data.insert((section, offset));
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether any requirement of `r` (every instruction of the call graph)
/// could be a failure or a warning: only then can pruning change the
/// verdict, and only then is the analysis run.
pub(super) fn may_fail(r: &Reached, facts: &Facts, ki: &KernelModel) -> bool {
    r.helpers.iter().any(|&h| !ki.has_helper(h))
        || r.calls
            .iter()
            .chain(&r.addrs)
            .any(|&e| !matches!(facts.externs.get(e as usize).copied().flatten(), None | Some(ExternStatus::Ok(_) | ExternStatus::ObjectFails)))
        || r.core.keys().any(|&c| {
            matches!(
                facts.core.get(c as usize).map(|x| &x.outcome),
                Some(CoreOutcome::Unresolved(_) | CoreOutcome::Ambiguous(_) | CoreOutcome::MemSize(_) | CoreOutcome::Fatal(_))
            )
        })
}
/// `--explain`: which constant decided which branch.
pub(super) fn explain_pruning(obj: &BpfObject, facts: &Facts, reached: &Reached) -> Vec<Reason> {
    let mut out = Vec::new();
    if !reached.exact {
        out.push(Reason::fact(ReasonKind::BranchPruned, "", "analysis bound reached: every instruction taken as reachable".into()));
    }
    for (f, d) in &reached.decisions {
        let fname = obj.functions.get(*f).map(|x| x.name.as_str()).unwrap_or("?");
        let by = match d.by {
            Src::Core(r) => obj
                .core_relos
                .get(r as usize)
                .map(|c| {
                    let v = facts.core.get(r as usize).and_then(|x| x.value).map(|v| format!(" = {v}")).unwrap_or_default();
                    format!("CO-RE {} {}{v}", c.kind, c.path)
                })
                .unwrap_or_default(),
            Src::Extern(e) => {
                let n = obj.externs.get(e as usize).map(|x| x.name.as_str()).unwrap_or("?");
                format!("bpf_ksym_exists({n}) = {}", if matches!(facts.extern_addr(e), Val::Const(0, _)) { "false" } else { "true" })
            }
            Src::Kconfig(e) => format!(".kconfig {}", obj.externs.get(e as usize).map(|x| x.name.as_str()).unwrap_or("?")),
            Src::Rodata(s, off) => format!(".rodata {}", obj.rodata_section(s).and_then(|x| x.var_at(off)).unwrap_or("?")),
            _ => continue,
        };
        out.push(Reason::fact(
            ReasonKind::BranchPruned,
            fname,
            format!("insn {}: branch {} by {by}", d.insn, if d.taken { "always taken" } else { "never taken" }),
        ));
    }
    out
}
