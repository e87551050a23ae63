//! Probe contexts: availability that depends on more than a variant's
//! program type, attach type and sleepability, measured as a difference
//! from the variant's own answers (like struct_ops members).
//!
//! - **Iterator targets.** An `iter` program's helpers come from
//!   `tracing_prog_func_proto`, and, for what that refuses, from its
//!   target's `struct bpf_iter_reg.get_func_proto` (kernel/bpf/bpf_iter.c
//!   `bpf_iter_get_func_proto`, looked up by `prog->aux->attach_btf_id`):
//!   net/ipv4/tcp_ipv4.c `bpf_iter_tcp_get_func_proto` gives `iter/tcp`
//!   `bpf_setsockopt` and `bpf_getsockopt` (v5.19+). So every other target
//!   (`bpf_iter_<target>` FUNCs returning int whose first parameter is
//!   `struct bpf_iter_meta *`) is loaded once, and then asked only for the helpers
//!   the `iter` variant refused (a target can add helpers, never remove
//!   them); on the kernels whose targets were read, only for those a
//!   target can add (`reuse::ITER_TARGET_HELPERS`: two loads a target).
//! - **An arena map in the program.** Kernels that filter the arena kfuncs
//!   (`bpf_arena_alloc_pages`, ...; the kfunc set's filter refuses them to a
//!   program without an arena map, observed on 6.18: "calling kernel
//!   function bpf_arena_alloc_pages is not allowed"; v6.9's kernel/bpf/arena.c
//!   registers them unfiltered) answer differently once the program
//!   references one. Every kfunc taking a map (`p__map`: the verifier's
//!   `KF_ARG_PTR_TO_MAP`) is loaded with `r1 = arena map` in every loadable
//!   variant. A machine that cannot create an arena map records the context
//!   `undecided`, with the kfuncs it could not ask as undecided: `check`
//!   then says `unknown`, never `loads`.
//! - **Callbacks and sleepable struct_ops members**: `src/probe/callbacks.rs`
//!   (run by `probe::run` after `add`; it uses the jobs defined here).

use super::sys::{self, Insn, LoadResult, LoadSpec};
use super::{classify, Decision, HelperDecision, KfuncDecision, LoadOutcome, VariantResult};
use crate::btf::Kind;
use crate::kernel::Kernel;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};

/// What a context adds to its variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Context {
    /// The variant's program attached to another iterator target
    /// (`bpf_iter_<target>`).
    IterTarget {
        /// Target name (`tcp`, as in `SEC("iter/tcp")`).
        target: String,
    },
    /// The variant's program references an arena map.
    ArenaMap,
    /// The call made in a callback the variant's program registers.
    Callback {
        /// Which registration.
        callback: CallbackKind,
    },
    /// A struct_ops member (the variant's own or another) loaded sleepable
    /// (`BPF_F_SLEEPABLE`, `SEC("struct_ops.s/...")`).
    Sleepable {
        /// The member.
        member: String,
    },
}

/// The callback registrations the probe measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackKind {
    /// `bpf_wq_set_callback` (`_impl` before 6.19): an async callback,
    /// verified sleepable (verifier.c `push_async_cb`, `is_async_cb_sleepable`).
    Wq,
    /// `bpf_timer_set_callback`: an async callback, never sleepable.
    Timer,
    /// `bpf_task_work_schedule_signal` (`_impl` in 6.18): an async
    /// callback, sleepable.
    TaskWork,
    /// `bpf_loop`: a synchronous callback, verified in the caller's state
    /// (verifier.c `push_callback_call` without `push_async_cb`).
    Loop,
}

/// One context of a variant: whether it loads, and the decisions whose
/// availability differs from the variant's own (any helper or kfunc not
/// listed has the variant's answer; an `undecided` one was not measured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextResult {
    /// Which context.
    #[serde(flatten)]
    pub context: Context,
    /// Whether the context's trivial program loads.
    pub load: LoadOutcome,
    /// Helper decisions that differ from the variant's.
    #[serde(default)]
    pub helpers: Vec<HelperDecision>,
    /// kfunc decisions that differ from the variant's.
    #[serde(default)]
    pub kfuncs: Vec<KfuncDecision>,
}

/// One load to make: everything owned.
pub(super) struct Job {
    prog_type: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: RawFd,
    pub(super) insns: Vec<Insn>,
    pub(super) fd_array: Vec<RawFd>,
    pub(super) flags: u32,
    pub(super) expected_attach_type: u32,
    /// A program passing a callback: its BTF and `func_info`.
    pub(super) btf: Option<(RawFd, Vec<[u32; 2]>)>,
}

/// Make the loads of `jobs` (`parallel_loads`); results in job order.
pub(super) fn run_jobs(jobs: &[Job], kern_version: u32, threads: usize) -> Vec<LoadResult> {
    super::parallel_loads(
        jobs.len(),
        threads,
        |n, log| {
            let Some(j) = jobs.get(n) else { return LoadResult { loaded: false, errno: -1, log: "no such job".into() } };
            let spec = LoadSpec {
                prog_type: j.prog_type,
                expected_attach_type: j.expected_attach_type,
                prog_flags: j.flags,
                attach_btf_id: j.attach_btf_id,
                attach_btf_obj_fd: j.attach_btf_obj_fd,
                kern_version,
                gpl: true,
                insns: &j.insns,
                fd_array: &j.fd_array,
                prog_btf_fd: j.btf.as_ref().map_or(0, |b| b.0),
                func_info: j.btf.as_ref().map_or(&[][..], |b| &b.1[..]),
            };
            sys::prog_load(&spec, log)
        },
        || LoadResult { loaded: false, errno: -1, log: "worker thread failed".into() },
    )
}

/// The iterator targets of a kernel: `bpf_iter_<target>` FUNCs whose first
/// parameter is `struct bpf_iter_meta *` (`DEFINE_BPF_ITER_FUNC`; the open
/// coded iterator kfuncs `bpf_iter_num_new`, ... take other arguments), as
/// (target, BTF id, module).
pub fn iter_targets(kernel: &Kernel) -> Vec<(String, u32, Option<String>)> {
    let mut out = Vec::new();
    for kb in kernel.btfs() {
        let b = &kb.btf;
        // Own FUNCs whose name starts with `bpf_iter` (a few hundred of a
        // vmlinux's 60,000 are read).
        for t in b.ids_with_prefix8(Kind::Func, b"bpf_iter").into_iter().filter_map(|id| b.ty(id)) {
            let Some(target) = t.name().strip_prefix("bpf_iter_") else { continue };
            let proto = b.resolve(t.ref_type());
            // `DEFINE_BPF_ITER_FUNC` declares `int bpf_iter_<target>(meta, ...)`
            // (`bpf_iter_get_info` takes a meta too, and returns a program).
            let returns_int = proto.and_then(|p| b.resolve(p.ref_type())).is_some_and(|r| r.kind == Kind::Int);
            let first = proto.and_then(|p| p.params().next());
            let is_meta = first
                .and_then(|p| b.resolve(p.ty))
                .filter(|p| p.kind == Kind::Ptr)
                .and_then(|p| b.resolve(p.ref_type()))
                .is_some_and(|s| s.kind == Kind::Struct && s.name() == "bpf_iter_meta");
            if returns_int && is_meta && !out.iter().any(|(n, _, _): &(String, u32, Option<String>)| n == target) {
                out.push((target.to_string(), t.id.get(), (kb.name != "vmlinux").then(|| kb.name.clone())));
            }
        }
    }
    out.sort();
    out
}

/// kfuncs whose first parameter takes a map (`p__map`): the ones an arena
/// map in the program may change. Indices into `kfuncs`.
fn map_kfuncs(kernel: &Kernel, kfuncs: &[crate::surface::Kfunc]) -> Vec<usize> {
    kfuncs
        .iter()
        .enumerate()
        .filter(|(_, k)| {
            let Some(kb) = kernel.btfs().find(|b| k.module.as_deref().unwrap_or("vmlinux") == b.name) else { return false };
            let b = &kb.btf;
            b.ty(k.btf_id).and_then(|f| b.resolve(f.ref_type())).and_then(|p| p.params().next()).is_some_and(|p| p.name.ends_with("__map"))
        })
        .map(|(i, _)| i)
        .collect()
}

/// What the contexts need from the probe run.
pub(super) struct Env<'a> {
    pub kernel: &'a Kernel,
    pub kfuncs: &'a [crate::surface::Kfunc],
    pub module_fd: &'a HashMap<&'a str, RawFd>,
    pub kern_version: u32,
    pub threads: usize,
    pub helpers: bool,
    pub kfunc_probes: bool,
    /// Share verdicts where the kernel makes them equal (`probe::run`);
    /// false measures everything (`probe::run_unshared`).
    pub share: bool,
    /// The stubs of the struct_ops members ([`super::refs`]).
    pub stubs: &'a super::refs::Stubs,
    /// Per variant (index of `out`): the prologue its programs start with
    /// and the value they return.
    pub frames: Vec<(Vec<Insn>, i32)>,
}

impl Env<'_> {
    pub(super) fn frame(&self, vi: usize) -> (&[Insn], i32) {
        self.frames.get(vi).map_or((&[][..], 0), |(p, r)| (&p[..], *r))
    }
}

/// A variant's load parameters, from its result: `insns` after the
/// variant's prologue (`prologue`, `src/probe/refs.rs`).
pub(super) fn base_job(v: &VariantResult, module_fd: &HashMap<&str, RawFd>, prologue: &[Insn], insns: Vec<Insn>, fd_array: Vec<RawFd>) -> Job {
    let var = &v.variant;
    let insns = if prologue.is_empty() { insns } else { prologue.iter().copied().chain(insns).collect() };
    Job {
        prog_type: var.prog_type_id,
        expected_attach_type: var.attach_type_id.unwrap_or(0),
        flags: if var.sleepable { sys::BPF_F_SLEEPABLE } else { 0 },
        attach_btf_id: var.attach_btf.as_ref().map(|a| a.id).unwrap_or(0),
        attach_btf_obj_fd: var.attach_btf.as_ref().and_then(|a| a.module.as_deref()).and_then(|m| module_fd.get(m).copied()).unwrap_or(0),
        insns,
        fd_array,
        btf: None,
    }
}

pub(super) fn decided(r: &LoadResult, f: fn(&LoadResult) -> Decision) -> Decision {
    if r.errno == -1 {
        Decision::Undecided { reason: r.log.clone() }
    } else {
        f(r)
    }
}

/// Measure the iterator-target and arena contexts of every loadable variant
/// in `out`; returns the number of loads made. Callback and sleepable-member
/// contexts are measured by `probe::callbacks`, which builds on the jobs of
/// this module (the caller runs both, so neither module imports the other's
/// caller).
pub(super) fn add(env: &Env, out: &mut [VariantResult]) -> usize {
    let mut loads = 0;
    if env.helpers {
        loads += iter_target_contexts(env, out);
    }
    if env.kfunc_probes {
        loads += arena_contexts(env, out);
    }
    loads
}

fn iter_target_contexts(env: &Env, out: &mut [VariantResult]) -> usize {
    let targets = iter_targets(env.kernel);
    let mut loads = 0;
    for v in out.iter_mut().filter(|v| v.load == LoadOutcome::Loadable && v.variant.attach_type.as_deref() == Some("BPF_TRACE_ITER") && !v.variant.sleepable) {
        let own = v.variant.attach_btf.as_ref().map(|a| a.name.clone());
        let others: Vec<&(String, u32, Option<String>)> = targets.iter().filter(|(t, _, _)| own.as_deref() != Some(format!("bpf_iter_{t}").as_str())).collect();
        let with_target = |id: u32, module: &Option<String>, insns: Vec<Insn>| {
            let mut j = base_job(v, env.module_fd, &[], insns, Vec::new());
            j.attach_btf_id = id;
            j.attach_btf_obj_fd = module.as_deref().and_then(|m| env.module_fd.get(m).copied()).unwrap_or(0);
            j
        };
        let base: Vec<Job> = others.iter().map(|(_, id, m)| with_target(*id, m, vec![Insn::mov_r0(0), Insn::exit()])).collect();
        let base_res = run_jobs(&base, env.kern_version, env.threads);
        loads += base.len();
        // A target adds helpers: ask only those the variant refused (and,
        // on the kernels whose targets were read, that a target can add:
        // `reuse::ITER_TARGET_HELPERS`).
        // (kernel/trace/bpf_trace.c tracing_prog_func_proto asks the target's
        // `bpf_iter_get_func_proto` only where raw_tp_prog_func_proto found no
        // proto: a helper refused by its `allowed()` or for sleepability has a
        // proto, and the target is never asked about it.)
        let refused: Vec<(u32, String)> = v
            .helpers
            .iter()
            .filter(|h| {
                h.decision.available() == Some(false)
                    && (!env.share || (classify::no_proto(&h.decision) && super::reuse::iter_target_may_add(&h.name, env.kern_version)))
            })
            .map(|h| (h.id, h.name.clone()))
            .collect();
        let mut jobs = Vec::new();
        let mut of: Vec<(usize, usize)> = Vec::new();
        for (t, r) in base_res.iter().enumerate() {
            if !r.loaded {
                continue;
            }
            let Some((_, id, m)) = others.get(t) else { continue };
            for (h, (hid, _)) in refused.iter().enumerate() {
                jobs.push(with_target(*id, m, vec![Insn::call(0, *hid as i32, 0), Insn::mov_r0(0), Insn::exit()]));
                of.push((t, h));
            }
        }
        let res = run_jobs(&jobs, env.kern_version, env.threads);
        loads += jobs.len();
        let mut helpers: HashMap<usize, Vec<HelperDecision>> = HashMap::new();
        for ((t, h), r) in of.iter().zip(&res) {
            let d = decided(r, classify::helper);
            if d.available() != Some(false) {
                if let Some((id, name)) = refused.get(*h) {
                    helpers.entry(*t).or_default().push(HelperDecision { id: *id, name: name.clone(), decision: d });
                }
            }
        }
        for (t, ((name, _, _), r)) in others.iter().zip(&base_res).enumerate() {
            let load = if r.errno == -1 { LoadOutcome::Undecided { reason: r.log.clone() } } else { classify::baseline(r, true) };
            v.contexts.push(ContextResult {
                context: Context::IterTarget { target: name.clone() },
                load,
                helpers: helpers.remove(&t).unwrap_or_default(),
                kfuncs: Vec::new(),
            });
        }
    }
    loads
}

fn arena_contexts(env: &Env, out: &mut [VariantResult]) -> usize {
    let Some(arena_type) = super::variants::enum_value(&env.kernel.vmlinux.btf, "bpf_map_type", "BPF_MAP_TYPE_ARENA") else { return 0 };
    let kf = map_kfuncs(env.kernel, env.kfuncs);
    if kf.is_empty() {
        return 0;
    }
    // One page, mmapable (arena_map_alloc refuses anything else), at a
    // fixed user address (the kernel selftests' arenas use 1 << 32 on
    // arm64, 1 << 44 on x86; any page-aligned address will do, nothing is
    // mapped): without one the verifier refuses every program using it.
    let map = sys::map_create_extra(arena_type, 0, 0, 1, sys::BPF_F_MMAPABLE, 1 << 32);
    let fd = match &map {
        Ok(fd) => fd.as_raw_fd(),
        Err(e) => {
            // Not measurable here: every refusal of a map kfunc stays open.
            let reason = format!("an arena map could not be created on this machine (BPF_MAP_CREATE: {}): not measured", sys::errno_name(*e));
            for v in out.iter_mut().filter(|v| v.load == LoadOutcome::Loadable) {
                let kfuncs: Vec<KfuncDecision> = v
                    .kfuncs
                    .iter()
                    .filter(|k| k.decision.available() == Some(false) && kf.iter().any(|&i| env.kfuncs.get(i).is_some_and(|x| x.name == k.name)))
                    .map(|k| KfuncDecision { decision: Decision::Undecided { reason: reason.clone() }, ..k.clone() })
                    .collect();
                if !kfuncs.is_empty() {
                    v.contexts.push(ContextResult {
                        context: Context::ArenaMap,
                        load: LoadOutcome::Undecided { reason: reason.clone() },
                        helpers: Vec::new(),
                        kfuncs,
                    });
                }
            }
            return 0;
        }
    };
    let mut jobs = Vec::new();
    let mut of: Vec<(usize, usize)> = Vec::new();
    for (vi, v) in out.iter().enumerate().filter(|(_, v)| v.load == LoadOutcome::Loadable) {
        let [l0, l1] = Insn::ld_map_fd(1, fd);
        let prologue = env.frame(vi).0;
        jobs.push(base_job(v, env.module_fd, prologue, vec![l0, l1, Insn::mov_r0(0), Insn::exit()], Vec::new()));
        of.push((vi, usize::MAX));
        for &k in &kf {
            let Some(kfunc) = env.kfuncs.get(k) else { continue };
            let (off, fd_array) = match kfunc.module.as_deref() {
                None => (0, Vec::new()),
                Some(m) => match env.module_fd.get(m) {
                    Some(&mfd) => (1, vec![-1, mfd]),
                    None => continue,
                },
            };
            let insns = vec![l0, l1, Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, kfunc.btf_id.get() as i32, off), Insn::mov_r0(0), Insn::exit()];
            jobs.push(base_job(v, env.module_fd, prologue, insns, fd_array));
            of.push((vi, k));
        }
    }
    let res = run_jobs(&jobs, env.kern_version, env.threads);
    let mut ctx: HashMap<usize, ContextResult> = HashMap::new();
    for ((vi, k), r) in of.iter().zip(&res) {
        let Some(v) = out.get(*vi) else { continue };
        if *k == usize::MAX {
            let load = if r.errno == -1 { LoadOutcome::Undecided { reason: r.log.clone() } } else { classify::baseline(r, v.variant.attach_btf.is_some()) };
            ctx.insert(*vi, ContextResult { context: Context::ArenaMap, load, helpers: Vec::new(), kfuncs: Vec::new() });
            continue;
        }
        let Some(kfunc) = env.kfuncs.get(*k) else { continue };
        let d = decided(r, classify::kfunc);
        let mine = v.kfuncs.iter().find(|x| x.name == kfunc.name).and_then(|x| x.decision.available());
        if d.available() != mine {
            if let Some(c) = ctx.get_mut(vi) {
                c.kfuncs.push(KfuncDecision { name: kfunc.name.clone(), module: kfunc.module.clone(), btf_id: kfunc.btf_id.get(), decision: d });
            }
        }
    }
    for (vi, c) in ctx {
        if let Some(v) = out.get_mut(vi) {
            // A context that loads and changes nothing is not recorded.
            if c.load != LoadOutcome::Loadable || !c.kfuncs.is_empty() {
                v.contexts.push(c);
            }
        }
    }
    drop(map);
    jobs.len()
}
