//! Async callbacks: subprograms the verifier checks in a context of their
//! own. verifier.c `push_callback_call` pushes the callback of
//! `bpf_timer_set_callback`, `bpf_wq_set_callback_impl` and the
//! `bpf_task_work_schedule_*` kfuncs as a separate verification state
//! (`push_async_cb`) whose sleepability is `is_async_cb_sleepable()`: a
//! timer callback never sleeps, a wq or task_work callback always may.
//! Synchronous callbacks (`bpf_loop`, `bpf_for_each_map_elem`, iterator and
//! rbtree callbacks) run in their caller's context and are not listed.
//!
//! Which function is the callback is read the way clang emits the call: the
//! function address (`ld_imm64` of a function) last put in the callback's
//! argument register (r2 for timers and wqs, r4 for task_work) before the
//! call, within the calling function.

use super::{essential, BpfObject, ExternKind, InsnTarget};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// `enum bpf_func_id`: `BPF_FUNC_timer_set_callback`.
const BPF_FUNC_TIMER_SET_CALLBACK: i32 = 170;

/// The kind of async callback, which decides its sleepability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsyncKind {
    /// `bpf_timer_set_callback`: never sleepable.
    Timer,
    /// `bpf_wq_set_callback_impl` / `bpf_wq_set_callback`: sleepable.
    Wq,
    /// `bpf_task_work_schedule_signal` / `_resume`: sleepable.
    TaskWork,
}

impl AsyncKind {
    /// The verifier runs callbacks of this kind sleepable
    /// (`is_async_cb_sleepable`).
    pub fn sleepable(self) -> bool {
        !matches!(self, AsyncKind::Timer)
    }
    /// How the kernel names the registration.
    pub fn registrar(self) -> &'static str {
        match self {
            AsyncKind::Timer => "bpf_timer_set_callback",
            AsyncKind::Wq => "bpf_wq_set_callback_impl",
            AsyncKind::TaskWork => "bpf_task_work_schedule_*",
        }
    }
}

/// The kfunc registrars: (essential name, kind, argument register of the callback).
const KFUNC_REGISTRARS: &[(&str, AsyncKind, usize)] = &[
    ("bpf_wq_set_callback_impl", AsyncKind::Wq, 2),
    ("bpf_wq_set_callback", AsyncKind::Wq, 2),
    ("bpf_task_work_schedule_signal", AsyncKind::TaskWork, 4),
    ("bpf_task_work_schedule_resume", AsyncKind::TaskWork, 4),
    ("bpf_task_work_schedule_signal_impl", AsyncKind::TaskWork, 4),
    ("bpf_task_work_schedule_resume_impl", AsyncKind::TaskWork, 4),
];

/// Calls that only async callbacks of a program make (never its own
/// synchronous code), with the callback kind; a call made in callbacks of
/// several kinds gets the first (timer before wq before task_work).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsyncCalls {
    /// Helper id -> kind.
    pub helpers: BTreeMap<u32, AsyncKind>,
    /// kfunc extern name (as the object spells it) -> kind.
    pub kfuncs: BTreeMap<String, AsyncKind>,
}

impl AsyncCalls {
    /// Nothing runs only in an async callback.
    pub fn is_empty(&self) -> bool {
        self.helpers.is_empty() && self.kfuncs.is_empty()
    }
}

/// The async callbacks registered by code reachable from function `root`
/// (and by the callbacks themselves): (callback function, kind).
pub fn async_callbacks(obj: &BpfObject, root: usize) -> Vec<(usize, AsyncKind)> {
    let mut out: Vec<(usize, AsyncKind)> = Vec::new();
    let mut seen = BTreeSet::from([root]);
    let mut stack = vec![root];
    while let Some(f) = stack.pop() {
        let Some(func) = obj.functions.get(f) else { continue };
        // The function whose address each register holds, if any.
        let mut regs: [Option<usize>; 11] = [None; 11];
        for ins in &func.insns {
            let dst = usize::from(ins.dst).min(10);
            match (ins.code, ins.target) {
                (0x18, InsnTarget::Func(c)) => {
                    if let Some(r) = regs.get_mut(dst) {
                        *r = Some(c as usize);
                    }
                    if seen.insert(c as usize) {
                        stack.push(c as usize);
                    }
                }
                // rD = rS
                (0xbf, _) => {
                    let v = regs.get(usize::from(ins.src).min(10)).copied().flatten();
                    if let Some(r) = regs.get_mut(dst) {
                        *r = v;
                    }
                }
                (0x85, t) => {
                    let registrar = match t {
                        InsnTarget::None if ins.src == 0 && ins.imm == BPF_FUNC_TIMER_SET_CALLBACK => Some((AsyncKind::Timer, 2)),
                        InsnTarget::Extern(e) => obj
                            .externs
                            .get(e as usize)
                            .filter(|x| x.kind == ExternKind::Kfunc)
                            .and_then(|x| KFUNC_REGISTRARS.iter().find(|(n, _, _)| *n == essential(&x.name)))
                            .map(|&(_, k, r)| (k, r)),
                        InsnTarget::Func(c) => {
                            if seen.insert(c as usize) {
                                stack.push(c as usize);
                            }
                            None
                        }
                        _ => None,
                    };
                    if let Some((kind, reg)) = registrar {
                        if let Some(cb) = regs.get(reg).copied().flatten() {
                            if !out.contains(&(cb, kind)) {
                                out.push((cb, kind));
                            }
                        }
                    }
                    // Calls clobber r0-r5.
                    for r in regs.iter_mut().take(6) {
                        *r = None;
                    }
                }
                (code, _) if code & 0x07 == 0x04 || code & 0x07 == 0x07 => {
                    // ALU writes its destination.
                    if let Some(r) = regs.get_mut(dst) {
                        *r = None;
                    }
                }
                (code, _) if code & 0x07 == 0x01 || code == 0x18 => {
                    // Loads write their destination.
                    if let Some(r) = regs.get_mut(dst) {
                        *r = None;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Helpers and kfunc externs called from function `root` and what it calls
/// synchronously (bpf-to-bpf calls, synchronous callbacks), not descending
/// into the functions in `stop`.
fn calls_from(obj: &BpfObject, root: usize, stop: &BTreeSet<usize>) -> (BTreeSet<u32>, BTreeSet<String>) {
    let mut helpers = BTreeSet::new();
    let mut kfuncs = BTreeSet::new();
    let mut seen = BTreeSet::from([root]);
    let mut stack = vec![root];
    while let Some(f) = stack.pop() {
        let Some(func) = obj.functions.get(f) else { continue };
        for ins in &func.insns {
            match (ins.code, ins.target) {
                (0x85, InsnTarget::None) if ins.src == 0 => {
                    helpers.insert(ins.imm as u32);
                }
                (0x85, InsnTarget::Extern(e)) => {
                    if let Some(x) = obj.externs.get(e as usize).filter(|x| x.kind == ExternKind::Kfunc) {
                        kfuncs.insert(x.name.clone());
                    }
                }
                (0x85 | 0x18, InsnTarget::Func(c)) if !stop.contains(&(c as usize)) && seen.insert(c as usize) => stack.push(c as usize),
                _ => {}
            }
        }
    }
    (helpers, kfuncs)
}

/// The calls of the program rooted at `root` that only its async callbacks
/// make, with the callback kind.
pub fn async_only_calls(obj: &BpfObject, root: usize) -> AsyncCalls {
    let cbs = async_callbacks(obj, root);
    let mut out = AsyncCalls::default();
    if cbs.is_empty() {
        return out;
    }
    let stop: BTreeSet<usize> = cbs.iter().map(|(f, _)| *f).collect();
    let (main_h, main_k) = calls_from(obj, root, &stop);
    let mut sorted = cbs;
    sorted.sort_by_key(|(_, k)| *k);
    for (cb, kind) in sorted {
        let (h, k) = calls_from(obj, cb, &stop);
        for id in h.into_iter().filter(|id| !main_h.contains(id)) {
            out.helpers.entry(id).or_insert(kind);
        }
        for n in k.into_iter().filter(|n| !main_k.contains(n)) {
            out.kfuncs.entry(n).or_insert(kind);
        }
    }
    out
}
