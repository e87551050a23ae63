//! Probe contexts that change a call's sleepability: callbacks a program
//! registers, and struct_ops members loaded sleepable.
//!
//! - **Callbacks** ([`add`]). verifier.c `push_callback_call` verifies the
//!   callback of `bpf_wq_set_callback[_impl]`, `bpf_timer_set_callback` and
//!   `bpf_task_work_schedule_*[_impl]` as a state of its own
//!   (`push_async_cb`), sleepable as `is_async_cb_sleepable()` says (wq and
//!   task_work callbacks yes, timer callbacks no; before that function,
//!   6.10–6.12 set `state->in_sleepable` for wq callbacks); a sleepable kfunc
//!   is then allowed or refused by `check_kfunc_call` through `in_sleepable(env)`
//!   (`prog->sleepable || env->cur_state->in_sleepable`), a helper that
//!   may sleep by `check_helper_call` the same way. A `bpf_loop` callback is
//!   verified in its caller's state. So the probe loads, per loadable
//!   variant, a program that registers a callback of each kind (a one-entry
//!   array map whose BTF value holds the `struct bpf_wq` / `bpf_timer` /
//!   `bpf_task_work`, with program BTF and `func_info`: verifier.c
//!   `check_ld_imm` refuses a `BPF_PSEUDO_FUNC` without them), first with
//!   an empty callback, then with the callback calling each candidate:
//!   in a non-sleepable variant (wq, task_work, loop) the helpers and
//!   kfuncs the variant refused for sleepability; in a sleepable one
//!   (timer, loop) those it allows that some variant refuses for
//!   sleepability. Recorded: the decisions whose availability differs
//!   from the variant's, and any callback kind that does not load.
//! - **Sleepable struct_ops members** ([`sleepable_members`]): every
//!   member of every loadable struct_ops variant is loaded once more with
//!   `BPF_F_SLEEPABLE` (kernel/bpf/bpf_struct_ops.c and the type's
//!   `check_member`, e.g. `hid_bpf_ops_check_member`, decide whether a
//!   member may sleep), then asked the calls its non-sleepable program
//!   refused for sleepability.

use super::contexts::{base_job, decided, run_jobs, CallbackKind, Context, ContextResult, Env, Job};
use super::sys::{self, Insn};
use super::{classify, reuse, HelperDecision, KfuncDecision, LoadOutcome, VariantResult};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// `enum bpf_func_id` values used (stable since their introduction).
const BPF_FUNC_MAP_LOOKUP_ELEM: i32 = 1;
const BPF_FUNC_GET_CURRENT_TASK_BTF: i32 = 158;
const BPF_FUNC_TIMER_INIT: i32 = 169;
const BPF_FUNC_TIMER_SET_CALLBACK: i32 = 170;
const BPF_FUNC_LOOP: i32 = 181;
/// The verifier's refusal of a sleepable (wq, task_work) callback in a
/// non-sleepable program, -EPERM from verifier.c `push_callback_call` as
/// reached from `check_kfunc_call` ("kfunc X failed callback verification"),
/// seen on 6.18.
const SLEEPABLE_CB_REFUSED: &str = "sleepable callback in a program that is not sleepable";
/// `enum bpf_map_type`: `BPF_MAP_TYPE_ARRAY`.
const BPF_MAP_TYPE_ARRAY: u32 = 2;

/// The program BTF: type ids of the FUNCs and the map value structs.
const INT_ID: u32 = 1;
const MAIN_FUNC_ID: u32 = 11;
const CB_FUNC_ID: u32 = 12;

/// A minimal BTF: `int`, `u64`, `u64[2]`, `struct bpf_wq` / `bpf_timer`
/// (16 bytes: `__u64 __opaque[2]`) and `bpf_task_work` (8 bytes), a value
/// struct holding each (ids 7, 8, 9), `int (void)` and the FUNCs `main`
/// (global) and `cb` (static: verifier.c `check_ld_imm`, "callback function
/// not static"). The kernel finds the special fields by these struct names
/// and sizes (kernel/bpf/btf.c `btf_get_field_type`).
fn program_btf() -> Vec<u8> {
    let mut strs: Vec<u8> = vec![0];
    let mut name = |s: &str| {
        let off = strs.len() as u32;
        strs.extend_from_slice(s.as_bytes());
        strs.push(0);
        off
    };
    let (n_int, n_u64, n_wq, n_timer, n_tw, n_opaque, n_v, n_main, n_cb) =
        (name("int"), name("u64"), name("bpf_wq"), name("bpf_timer"), name("bpf_task_work"), name("__opaque"), name("v"), name("main"), name("cb"));
    let info = |kind: u32, vlen: u32| (kind << 24) | vlen;
    let words: Vec<u32> = vec![
        // [1] int: signed, 32 bits
        n_int,
        info(1, 0),
        4,
        (1 << 24) | 32,
        // [2] u64
        n_u64,
        info(1, 0),
        8,
        64,
        // [3] u64[2]
        0,
        info(3, 0),
        0,
        2,
        INT_ID,
        2,
        // [4] struct bpf_wq { u64 __opaque[2]; }
        n_wq,
        info(4, 1),
        16,
        n_opaque,
        3,
        0,
        // [5] struct bpf_timer { u64 __opaque[2]; }
        n_timer,
        info(4, 1),
        16,
        n_opaque,
        3,
        0,
        // [6] struct bpf_task_work { u64 __opaque; }
        n_tw,
        info(4, 1),
        8,
        n_opaque,
        2,
        0,
        // [7] [8] [9] struct { struct bpf_wq v; } ...
        0,
        info(4, 1),
        16,
        n_v,
        4,
        0,
        0,
        info(4, 1),
        16,
        n_v,
        5,
        0,
        0,
        info(4, 1),
        8,
        n_v,
        6,
        0,
        // [10] int (void)
        0,
        info(13, 0),
        INT_ID,
        // [11] main (global), [12] cb (static)
        n_main,
        info(12, 1),
        10,
        n_cb,
        info(12, 0),
        10,
    ];
    let types: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let mut out = Vec::with_capacity(24 + types.len() + strs.len());
    out.extend_from_slice(&0xeb9f_u16.to_ne_bytes());
    out.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, types.len() as u32, types.len() as u32, strs.len() as u32] {
        out.extend_from_slice(&w.to_ne_bytes());
    }
    out.extend_from_slice(&types);
    out.extend_from_slice(&strs);
    out
}

/// How a kind registers its callback on this kernel.
enum Registrar {
    /// kfuncs (vmlinux BTF ids): `bpf_wq_init`, `bpf_wq_set_callback[_impl]`.
    Wq {
        init: u32,
        set: u32,
    },
    /// `bpf_task_work_schedule_signal[_impl]`.
    TaskWork {
        schedule: u32,
    },
    Timer,
    Loop,
}

impl CallbackKind {
    fn sleepable(self) -> bool {
        matches!(self, CallbackKind::Wq | CallbackKind::TaskWork)
    }
    /// The BTF value struct id of its map (none for `bpf_loop`), and size.
    fn value(self) -> Option<(u32, u32)> {
        match self {
            CallbackKind::Wq => Some((7, 16)),
            CallbackKind::Timer => Some((8, 16)),
            CallbackKind::TaskWork => Some((9, 8)),
            CallbackKind::Loop => None,
        }
    }
}

fn vmlinux_kfunc(env: &Env, names: &[&str]) -> Option<u32> {
    names.iter().find_map(|n| env.kfuncs.iter().find(|k| k.module.is_none() && k.name == *n)).map(|k| k.btf_id.get())
}

fn has_helper(env: &Env, name: &str) -> bool {
    super::variants::enum_value(&env.kernel.vmlinux.btf, "bpf_func_id", name).is_some()
}

fn registrar(env: &Env, kind: CallbackKind) -> Option<Registrar> {
    match kind {
        CallbackKind::Wq => {
            Some(Registrar::Wq { init: vmlinux_kfunc(env, &["bpf_wq_init"])?, set: vmlinux_kfunc(env, &["bpf_wq_set_callback", "bpf_wq_set_callback_impl"])? })
        }
        CallbackKind::TaskWork => {
            Some(Registrar::TaskWork { schedule: vmlinux_kfunc(env, &["bpf_task_work_schedule_signal", "bpf_task_work_schedule_signal_impl"])? })
        }
        CallbackKind::Timer => has_helper(env, "BPF_FUNC_timer_set_callback").then_some(Registrar::Timer),
        CallbackKind::Loop => has_helper(env, "BPF_FUNC_loop").then_some(Registrar::Loop),
    }
}

/// `prologue`, then the registration of a callback, `r0 = ret; exit`, and
/// the callback: `call` (the candidate, or nothing), `r0 = 0; exit`.
/// Returns the instructions and the callback's first instruction.
fn program(reg: &Registrar, map: RawFd, prologue: &[Insn], ret: i32, call: &[Insn]) -> (Vec<Insn>, u32) {
    let mut m: Vec<Insn> = prologue.to_vec();
    let [l0, l1] = Insn::ld_map_fd(1, map);
    let [m0, m1] = Insn::ld_map_fd(2, map);
    let mut jeq = None;
    if !matches!(reg, Registrar::Loop) {
        // r7 = bpf_map_lookup_elem(map, &(u32){0}); if (!r7) goto end
        m.extend([Insn::st_w(10, -4, 0), Insn::mov_reg(2, 10), Insn::add_imm(2, -4), l0, l1, Insn::call(0, BPF_FUNC_MAP_LOOKUP_ELEM, 0)]);
        jeq = Some(m.len());
        m.extend([Insn::jeq_imm(0, 0, 0), Insn::mov_reg(7, 0)]);
    }
    let func_at;
    match reg {
        Registrar::Wq { init, set } => {
            // bpf_wq_init(wq, map, 0); bpf_wq_set_callback(wq, cb, 0[, NULL])
            m.extend([Insn::mov_reg(1, 7), m0, m1, Insn::mov_imm(3, 0), Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, *init as i32, 0), Insn::mov_reg(1, 7)]);
            func_at = m.len();
            m.extend(Insn::ld_func(2, 0));
            m.extend([Insn::mov_imm(3, 0), Insn::mov_imm(4, 0), Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, *set as i32, 0)]);
        }
        Registrar::Timer => {
            // bpf_timer_init(timer, map, CLOCK_MONOTONIC); bpf_timer_set_callback(timer, cb)
            m.extend([Insn::mov_reg(1, 7), m0, m1, Insn::mov_imm(3, 1), Insn::call(0, BPF_FUNC_TIMER_INIT, 0), Insn::mov_reg(1, 7)]);
            func_at = m.len();
            m.extend(Insn::ld_func(2, 0));
            m.push(Insn::call(0, BPF_FUNC_TIMER_SET_CALLBACK, 0));
        }
        Registrar::TaskWork { schedule } => {
            // bpf_task_work_schedule_signal(bpf_get_current_task_btf(), tw, map, cb[, NULL])
            let [t0, t1] = Insn::ld_map_fd(3, map);
            m.extend([Insn::call(0, BPF_FUNC_GET_CURRENT_TASK_BTF, 0), Insn::mov_reg(1, 0), Insn::mov_reg(2, 7), t0, t1]);
            func_at = m.len();
            m.extend(Insn::ld_func(4, 0));
            m.extend([Insn::mov_imm(5, 0), Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, *schedule as i32, 0)]);
        }
        Registrar::Loop => {
            // bpf_loop(1, cb, NULL, 0)
            m.push(Insn::mov_imm(1, 1));
            func_at = m.len();
            m.extend(Insn::ld_func(2, 0));
            m.extend([Insn::mov_imm(3, 0), Insn::mov_imm(4, 0), Insn::call(0, BPF_FUNC_LOOP, 0)]);
        }
    }
    let end = m.len();
    m.extend([Insn::mov_r0(ret), Insn::exit()]);
    let cb = m.len();
    if let Some(j) = jeq.and_then(|j| m.get_mut(j)) {
        j.off = (end - jeq.unwrap_or(0) - 1) as i16;
    }
    if let Some(f) = m.get_mut(func_at) {
        f.imm = (cb - func_at - 1) as i32;
    }
    m.extend_from_slice(call);
    m.extend([Insn::mov_r0(0), Insn::exit()]);
    (m, cb as u32)
}

/// A candidate call: helper id, or kfunc index into `env.kfuncs`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Cand {
    Helper(u32),
    Kfunc(usize),
}

fn call_insns(env: &Env, c: Cand) -> Option<(Vec<Insn>, Vec<RawFd>)> {
    match c {
        Cand::Helper(id) => Some((vec![Insn::call(0, id as i32, 0)], Vec::new())),
        Cand::Kfunc(k) => {
            let kf = env.kfuncs.get(k)?;
            match kf.module.as_deref() {
                None => Some((vec![Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, kf.btf_id.get() as i32, 0)], Vec::new())),
                Some(m) => env.module_fd.get(m).map(|&fd| (vec![Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, kf.btf_id.get() as i32, 1)], vec![-1, fd])),
            }
        }
    }
}

/// The variant's decisions as candidates: those `pick` selects.
fn candidates(env: &Env, v: &VariantResult, pick: impl Fn(&super::Decision) -> bool) -> Vec<Cand> {
    let mut out: Vec<Cand> = v.helpers.iter().filter(|h| pick(&h.decision)).map(|h| Cand::Helper(h.id)).collect();
    for k in v.kfuncs.iter().filter(|k| pick(&k.decision)) {
        if let Some(i) = env.kfuncs.iter().position(|x| x.name == k.name && x.module == k.module) {
            out.push(Cand::Kfunc(i));
        }
    }
    out
}

/// For each variant, the variant whose callback answers it takes (itself
/// when none): the first loadable variant of its program type and
/// sleepability without an attach target, if the type's variants share
/// helper verdicts ([`reuse::HELPER_SHARING`]). A call in a callback is
/// checked by the same `check_helper_call` / `check_kfunc_call` as in the
/// main program (the type's `get_func_proto`, the kfunc hook of the
/// program type), with the callback state's `in_sleepable`, so what makes
/// two such variants answer alike in the program makes them answer alike in
/// the callback; the exceptions (helpers whose proto looks at the attach
/// type, filtered kfuncs) are measured in each.
fn callback_leaders(out: &[VariantResult]) -> Vec<usize> {
    let mut first: std::collections::HashMap<(&str, bool), usize> = std::collections::HashMap::new();
    out.iter()
        .enumerate()
        .map(|(i, v)| {
            let var = &v.variant;
            if v.load != LoadOutcome::Loadable || var.attach_btf.is_some() || reuse::helper_group(&var.prog_type).is_none() {
                return i;
            }
            *first.entry((var.prog_type.as_str(), var.sleepable)).or_insert(i)
        })
        .collect()
}

/// Whether candidate `c` of a variant of `prog_type` may take its leader's
/// callback answer.
fn shared_candidate(env: &Env, prog_type: &str, v: &VariantResult, c: Cand) -> bool {
    match c {
        Cand::Helper(id) => {
            let exc = reuse::helper_group(prog_type).map(|g| g.1).unwrap_or(&[]);
            v.helpers.iter().find(|h| h.id == id).is_some_and(|h| !exc.contains(&h.name.as_str()))
        }
        Cand::Kfunc(k) => env.kfuncs.get(k).is_some_and(|kf| !reuse::kfunc_filtered(&kf.name)),
    }
}

/// Whether kfunc `k`'s answer in an async callback (wq, task_work, timer)
/// is the same in every program that may call it (one that passed the
/// kfunc hook's membership): the callback's registers are set by the
/// registration (verifier.c `set_timer_callback_state` for wq and timer
/// callbacks, `set_task_work_schedule_callback_state`: map, key, value),
/// never the program's context, and its sleepability by the kind
/// (`is_async_cb_sleepable`); what is left that sees the program
/// type is a filter (kfuncs of filtered sets are excluded,
/// [`reuse::kfunc_filtered`]), a parameter typed as a program context
/// (`btf_is_prog_ctx_type` in `get_kfunc_ptr_arg_type`: kfuncs with a
/// pointer to any context struct are excluded) and the special kfuncs of
/// [`reuse::KFUNCS_PROG_TYPE_SPECIAL`].
fn kfunc_type_free(env: &Env, ctx_structs: &Option<std::collections::HashSet<String>>, k: usize) -> bool {
    let (Some(ctx), Some(kf)) = (ctx_structs, env.kfuncs.get(k)) else { return false };
    if reuse::kfunc_filtered(&kf.name) || reuse::KFUNCS_PROG_TYPE_SPECIAL.contains(&kf.name.as_str()) {
        return false;
    }
    super::ctx::kfunc_proto(env.kernel, kf).is_some_and(|(b, proto)| proto.params().all(|p| !super::ctx::param_may_be_ctx(b, p.name, p.ty, ctx)))
}

/// One callback load: variant, kind, candidate (None: the empty callback).
type Of = (usize, CallbackKind, Option<Cand>);

/// Measure the callback contexts; returns the number of loads made.
pub(super) fn add(env: &Env, out: &mut [VariantResult]) -> usize {
    let btf = match sys::btf_load(&program_btf()) {
        Ok(fd) => fd,
        // A kernel without BTF loading cannot run a program with callbacks.
        Err(_) => return 0,
    };
    let kinds = [CallbackKind::Wq, CallbackKind::TaskWork, CallbackKind::Timer, CallbackKind::Loop];
    let regs: Vec<(CallbackKind, Registrar, Option<OwnedFd>)> = kinds
        .iter()
        .filter_map(|&k| {
            let reg = registrar(env, k)?;
            let map = match k.value() {
                Some((value, size)) => Some(sys::map_create_btf(BPF_MAP_TYPE_ARRAY, btf.as_raw_fd(), INT_ID, value, size).ok()?),
                None => None,
            };
            Some((k, reg, map))
        })
        .collect();
    // Calls some variant refuses for sleepability.
    let sleep_refused: std::collections::HashSet<(bool, String)> = out
        .iter()
        .flat_map(|v| {
            v.helpers
                .iter()
                .filter(|h| classify::sleep_refusal(&h.decision))
                .map(|h| (false, h.name.clone()))
                .chain(v.kfuncs.iter().filter(|k| classify::sleep_refusal(&k.decision)).map(|k| (true, k.name.clone())))
        })
        .collect();
    let func_info = |cb: u32| vec![[0, MAIN_FUNC_ID], [cb, CB_FUNC_ID]];
    let job = |vi: usize, v: &VariantResult, reg: &Registrar, map: &Option<OwnedFd>, c: Option<Cand>| -> Option<Job> {
        let (call, fd_array) = match c {
            None => (Vec::new(), Vec::new()),
            Some(c) => call_insns(env, c)?,
        };
        let (prologue, ret) = env.frame(vi);
        let (insns, cb) = program(reg, map.as_ref().map_or(-1, |m| m.as_raw_fd()), prologue, ret, &call);
        let mut j = base_job(v, env.module_fd, &[], insns, fd_array);
        j.btf = Some((btf.as_raw_fd(), func_info(cb)));
        Some(j)
    };
    let lead = callback_leaders(out);
    // Per kfunc (surface index): whether no program type can change its
    // answer in a callback ([`kfunc_type_free`]), found once for all
    // variants; and per (kind, such kfunc), the first variant that asks it.
    let type_free: Vec<bool> = if env.share {
        let ctx_structs = super::ctx::context_structs(env.kernel);
        (0..env.kfuncs.len()).map(|k| kfunc_type_free(env, &ctx_structs, k)).collect()
    } else {
        Vec::new()
    };
    let mut kfunc_lead: std::collections::HashMap<(CallbackKind, usize), usize> = std::collections::HashMap::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut of: Vec<Of> = Vec::new();
    // Candidates that take their leader's answer once it is known.
    let mut deferred: Vec<(usize, usize, CallbackKind, Cand)> = Vec::new();
    for (vi, v) in out.iter().enumerate().filter(|(_, v)| v.load == LoadOutcome::Loadable) {
        let sleepable = v.variant.sleepable;
        let cands = if sleepable {
            candidates(env, v, |d| d.available() == Some(true))
                .into_iter()
                .filter(|c| match c {
                    Cand::Helper(id) => v.helpers.iter().any(|h| h.id == *id && sleep_refused.contains(&(false, h.name.clone()))),
                    Cand::Kfunc(k) => env.kfuncs.get(*k).is_some_and(|k| sleep_refused.contains(&(true, k.name.clone()))),
                })
                .collect()
        } else {
            candidates(env, v, classify::sleep_refusal)
        };
        let l = lead.get(vi).copied().unwrap_or(vi);
        for (kind, reg, map) in &regs {
            // A sleepable program's wq/task_work callback, and a
            // non-sleepable program's timer callback, run as the program does.
            if *kind != CallbackKind::Loop && kind.sleepable() == sleepable {
                continue;
            }
            if let Some(j) = job(vi, v, reg, map, None) {
                jobs.push(j);
                of.push((vi, *kind, None));
            }
            // A `bpf_loop` callback is verified in its caller's state
            // (verifier.c `push_callback_call`, no `push_async_cb`), so
            // `in_sleepable` is the program's: every candidate, a call the
            // program refuses or allows for sleepability, answers as in the
            // program and is never listed. Only whether the callback loads
            // is measured (`run_unshared` asks them all).
            if env.share && *kind == CallbackKind::Loop {
                continue;
            }
            for &c in &cands {
                // The variant whose answer this one takes, if any: for a
                // kfunc no program type can change, the first to ask it;
                // else the callback leader where the candidate is shared.
                let from = match c {
                    Cand::Kfunc(k) if type_free.get(k) == Some(&true) => Some(*kfunc_lead.entry((*kind, k)).or_insert(vi)).filter(|&f| f != vi),
                    _ => (env.share && l != vi && shared_candidate(env, &v.variant.prog_type, v, c)).then_some(l),
                };
                match from {
                    Some(f) => deferred.push((vi, f, *kind, c)),
                    None => {
                        if let Some(j) = job(vi, v, reg, map, Some(c)) {
                            jobs.push(j);
                            of.push((vi, *kind, Some(c)));
                        }
                    }
                }
            }
        }
    }
    let res = run_jobs(&jobs, env.kern_version, env.threads);
    let mut loads = jobs.len();
    let mut ctx: std::collections::BTreeMap<(usize, u8), ContextResult> = std::collections::BTreeMap::new();
    let mut answers: std::collections::HashMap<(usize, u8, Cand), super::Decision> = std::collections::HashMap::new();
    absorb(env, out, &of, &res, &mut ctx, &mut answers);
    // Followers: the leader's answer where both callbacks load, else measured.
    let loaded = |ctx: &std::collections::BTreeMap<(usize, u8), ContextResult>, vi: usize, kind: CallbackKind| {
        ctx.get(&(vi, kind as u8)).is_some_and(|c| c.load == LoadOutcome::Loadable)
    };
    let mut jobs: Vec<Job> = Vec::new();
    let mut of: Vec<Of> = Vec::new();
    let mut copied: Vec<(Of, super::Decision)> = Vec::new();
    for (vi, l, kind, c) in deferred {
        if !loaded(&ctx, vi, kind) {
            continue;
        }
        match answers.get(&(l, kind as u8, c)) {
            Some(d) if loaded(&ctx, l, kind) => copied.push(((vi, kind, Some(c)), d.clone())),
            _ => {
                let (Some(v), Some((_, reg, map))) = (out.get(vi), regs.iter().find(|r| r.0 == kind)) else { continue };
                if let Some(j) = job(vi, v, reg, map, Some(c)) {
                    jobs.push(j);
                    of.push((vi, kind, Some(c)));
                }
            }
        }
    }
    let res = run_jobs(&jobs, env.kern_version, env.threads);
    loads += jobs.len();
    absorb(env, out, &of, &res, &mut ctx, &mut answers);
    for ((vi, kind, c), d) in copied {
        if let Some(c) = c {
            record(env, out, &mut ctx, vi, kind, c, d);
        }
    }
    for ((vi, _), mut c) in ctx {
        if let Some(v) = out.get_mut(vi) {
            // Decisions in the order measured without sharing: by kind of
            // call, then as the variant lists them.
            c.helpers.sort_by_key(|h| v.helpers.iter().position(|x| x.id == h.id));
            c.kfuncs.sort_by_key(|k| v.kfuncs.iter().position(|x| x.name == k.name && x.module == k.module));
            // A callback that loads and changes nothing is not recorded.
            if c.load != LoadOutcome::Loadable || !c.helpers.is_empty() || !c.kfuncs.is_empty() {
                v.contexts.push(c);
            }
        }
    }
    loads
}

/// Take the results of callback loads `of` into the contexts `ctx` (the
/// empty callbacks) and the candidates' answers.
fn absorb(
    env: &Env,
    out: &[VariantResult],
    of: &[Of],
    res: &[sys::LoadResult],
    ctx: &mut std::collections::BTreeMap<(usize, u8), ContextResult>,
    answers: &mut std::collections::HashMap<(usize, u8, Cand), super::Decision>,
) {
    for ((vi, kind, c), r) in of.iter().zip(res) {
        let Some(v) = out.get(*vi) else { continue };
        match c {
            None => {
                let load = if r.errno == -1 {
                    LoadOutcome::Undecided { reason: r.log.clone() }
                } else if let Some(line) = r.log.lines().find(|l| l.contains(SLEEPABLE_CB_REFUSED)) {
                    // EPERM, which `baseline` leaves undecided (privileges), but
                    // the verifier's own refusal of the callback.
                    LoadOutcome::Unsupported { message: format!("{}: {}", sys::errno_name(r.errno), line.trim()) }
                } else {
                    classify::baseline(r, v.variant.attach_btf.is_some())
                };
                ctx.insert((*vi, *kind as u8), ContextResult { context: Context::Callback { callback: *kind }, load, helpers: Vec::new(), kfuncs: Vec::new() });
            }
            Some(c) => {
                let d = match c {
                    Cand::Helper(_) => decided(r, classify::helper),
                    Cand::Kfunc(_) => decided(r, classify::kfunc),
                };
                answers.insert((*vi, *kind as u8, *c), d.clone());
                record(env, out, ctx, *vi, *kind, *c, d);
            }
        }
    }
}

/// List candidate `c`'s answer `d` in the callback context of variant `vi`
/// when its availability differs from the variant's.
fn record(
    env: &Env,
    out: &[VariantResult],
    ctx: &mut std::collections::BTreeMap<(usize, u8), ContextResult>,
    vi: usize,
    kind: CallbackKind,
    c: Cand,
    d: super::Decision,
) {
    let Some(v) = out.get(vi) else { return };
    let Some(cr) = ctx.get_mut(&(vi, kind as u8)).filter(|cr| cr.load == LoadOutcome::Loadable) else { return };
    match c {
        Cand::Helper(id) => {
            if let Some(h) = v.helpers.iter().find(|h| h.id == id).filter(|h| h.decision.available() != d.available()) {
                cr.helpers.push(HelperDecision { id, name: h.name.clone(), decision: d });
            }
        }
        Cand::Kfunc(k) => {
            let Some(kf) = env.kfuncs.get(k) else { return };
            if v.kfuncs.iter().find(|x| x.name == kf.name).and_then(|x| x.decision.available()) != d.available() {
                cr.kfuncs.push(KfuncDecision { name: kf.name.clone(), module: kf.module.clone(), btf_id: kf.btf_id.get(), decision: d });
            }
        }
    }
}

/// Measure every member of every loadable struct_ops variant sleepable;
/// returns the number of loads made.
pub(super) fn sleepable_members(env: &Env, out: &mut [VariantResult]) -> usize {
    let mut jobs: Vec<Job> = Vec::new();
    // (variant, member name, candidate or None for the trivial program)
    let mut of: Vec<(usize, String, Option<Cand>)> = Vec::new();
    for (vi, v) in out.iter().enumerate().filter(|(_, v)| v.load == LoadOutcome::Loadable && !v.variant.sleepable) {
        let (Some(ops), Some(own), Some(own_idx)) =
            (v.variant.attach_btf.as_ref().map(|a| a.name.as_str()), v.variant.struct_ops_member.as_deref(), v.variant.attach_type_id)
        else {
            continue;
        };
        let members = std::iter::once((own.to_string(), own_idx, None))
            .chain(v.members.iter().filter(|m| m.load == LoadOutcome::Loadable).map(|m| (m.member.clone(), m.index, Some(m))));
        for (name, index, m) in members {
            let prologue = super::refs::member_prologue(env.kernel, env.kfuncs, env.stubs, ops, &name);
            // The member's own answers: the variant's, where the member lists none.
            let refused = |c: &Cand| match (c, m) {
                (Cand::Helper(id), Some(m)) => m.helpers.iter().find(|h| h.id == *id).map(|h| classify::sleep_refusal(&h.decision)),
                (Cand::Kfunc(k), Some(m)) => {
                    env.kfuncs.get(*k).and_then(|kf| m.kfuncs.iter().find(|x| x.name == kf.name)).map(|x| classify::sleep_refusal(&x.decision))
                }
                _ => None,
            };
            let cands: Vec<Cand> = candidates(env, v, |_| true)
                .into_iter()
                .filter(|c| {
                    refused(c).unwrap_or_else(|| match c {
                        Cand::Helper(id) => v.helpers.iter().any(|h| h.id == *id && classify::sleep_refusal(&h.decision)),
                        Cand::Kfunc(k) => {
                            env.kfuncs.get(*k).is_some_and(|kf| v.kfuncs.iter().any(|x| x.name == kf.name && classify::sleep_refusal(&x.decision)))
                        }
                    })
                })
                .collect();
            for c in std::iter::once(None).chain(cands.into_iter().map(Some)) {
                let (call, fd_array) = match c {
                    None => (Vec::new(), Vec::new()),
                    Some(c) => match call_insns(env, c) {
                        Some(x) => x,
                        None => continue,
                    },
                };
                let insns: Vec<Insn> = call.into_iter().chain([Insn::mov_r0(0), Insn::exit()]).collect();
                let mut j = base_job(v, env.module_fd, &prologue, insns, fd_array);
                j.flags |= sys::BPF_F_SLEEPABLE;
                j.expected_attach_type = index;
                jobs.push(j);
                of.push((vi, name.clone(), c));
            }
        }
    }
    let res = run_jobs(&jobs, env.kern_version, env.threads);
    let mut ctx: Vec<(usize, ContextResult)> = Vec::new();
    for ((vi, member, c), r) in of.iter().zip(&res) {
        let Some(v) = out.get(*vi) else { continue };
        match c {
            None => {
                let load = if r.errno == -1 { LoadOutcome::Undecided { reason: r.log.clone() } } else { classify::baseline(r, true) };
                ctx.push((*vi, ContextResult { context: Context::Sleepable { member: member.clone() }, load, helpers: Vec::new(), kfuncs: Vec::new() }));
            }
            Some(c) => {
                let Some((_, cr)) = ctx.last_mut().filter(|(i, cr)| i == vi && cr.load == LoadOutcome::Loadable) else { continue };
                // Every candidate was refused for sleepability: record what the
                // sleepable member says when it differs.
                match *c {
                    Cand::Helper(id) => {
                        let d = decided(r, classify::helper);
                        if d.available() != Some(false) {
                            let name = v.helpers.iter().find(|h| h.id == id).map(|h| h.name.clone()).unwrap_or_default();
                            cr.helpers.push(HelperDecision { id, name, decision: d });
                        }
                    }
                    Cand::Kfunc(k) => {
                        let d = decided(r, classify::kfunc);
                        let Some(kf) = env.kfuncs.get(k) else { continue };
                        if d.available() != Some(false) {
                            cr.kfuncs.push(KfuncDecision { name: kf.name.clone(), module: kf.module.clone(), btf_id: kf.btf_id.get(), decision: d });
                        }
                    }
                }
            }
        }
    }
    for (vi, c) in ctx {
        if let Some(v) = out.get_mut(vi) {
            if c.load != LoadOutcome::Loadable || !c.helpers.is_empty() || !c.kfuncs.is_empty() {
                v.contexts.push(c);
            }
        }
    }
    jobs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{Btf, Kind};
    use crate::bytes::Bytes;

    /// The program BTF is well-formed BTF whose ids are the ones the maps
    /// and `func_info` name.
    #[test]
    fn program_btf_has_the_named_types() {
        let b = Btf::parse(Bytes::from_vec(program_btf())).unwrap();
        let name = |id: u32| b.ty(crate::btf::TypeId(id)).map(|t| (t.kind, t.name().to_string(), t.size()));
        assert_eq!(name(INT_ID), Some((Kind::Int, "int".into(), 4)));
        assert_eq!(name(4), Some((Kind::Struct, "bpf_wq".into(), 16)));
        assert_eq!(name(5), Some((Kind::Struct, "bpf_timer".into(), 16)));
        assert_eq!(name(6), Some((Kind::Struct, "bpf_task_work".into(), 8)));
        for (kind, id) in [(CallbackKind::Wq, 7), (CallbackKind::Timer, 8), (CallbackKind::TaskWork, 9)] {
            assert_eq!(kind.value().map(|v| v.0), Some(id));
            let size = b.ty(crate::btf::TypeId(id)).map(|t| t.size());
            assert_eq!(size, kind.value().map(|v| v.1));
        }
        assert_eq!(name(MAIN_FUNC_ID).map(|t| t.1), Some("main".to_string()));
        assert_eq!(name(CB_FUNC_ID).map(|t| (t.0, t.1)), Some((Kind::Func, "cb".to_string())));
    }

    /// The jump over the registration and the callback address land where
    /// they must: the null check on `end`, `ld_imm64` of the callback on
    /// its first instruction.
    #[test]
    fn program_offsets() {
        for reg in [Registrar::Wq { init: 1, set: 2 }, Registrar::Timer, Registrar::TaskWork { schedule: 3 }, Registrar::Loop] {
            let call = [Insn::call(0, 5, 0)];
            let (p, cb) = program(&reg, 7, &[Insn::mov_reg(6, 1)], 1, &call);
            let cb = cb as usize;
            assert_eq!(p.get(cb).map(|i| i.imm), Some(5));
            assert_eq!(p.len(), cb + 3);
            let lf = p.iter().position(|i| i.code == 0x18 && i.regs >> 4 == sys::BPF_PSEUDO_FUNC).unwrap();
            assert_eq!(lf as i32 + 1 + p[lf].imm, cb as i32);
            // end: r0 = 1; exit, just before the callback
            assert_eq!((p[cb - 2].code, p[cb - 2].imm, p[cb - 1].code), (0xb7, 1, 0x95));
            if let Some(j) = p.iter().position(|i| i.code == 0x15) {
                assert_eq!(j + 1 + p[j].off as usize, cb - 2);
            }
        }
    }
}
