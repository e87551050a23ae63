//! Rule family: availability in context: the variant's answer for a helper or kfunc is
//! replaced by the answer of the context that really runs the call, when
//! the program has one the variant does not:
//!
//! - an iterator program of another target than the probed one: the
//!   target's own helpers (kernel/bpf/bpf_iter.c `bpf_iter_get_func_proto`,
//!   e.g. net/ipv4/tcp_ipv4.c `bpf_iter_tcp_get_func_proto`), measured by
//!   the probe's `iter_target` contexts;
//! - a program with an arena map: the kernel's arena kfunc filter, measured
//!   by the probe's `arena_map` context;
//! - calls made only in an async callback ([`crate::object::callbacks`]):
//!   verifier.c `push_async_cb` verifies the callback with its own
//!   sleepability (`is_async_cb_sleepable`: wq and task_work callbacks are
//!   sleepable, timer callbacks never are). A refusal for sleepability in
//!   the program's own context then says nothing about the callback: the
//!   answer is unknown unless measured (kernels differ: the running 6.18
//!   refuses a non-sleepable program that sets a wq callback, "sleepable
//!   callback in a program that is not sleepable").
//!
//!   Probe files with `callbacks_measured` answer for the callback itself
//!   (`callback` contexts: wq, timer, task_work, loop; src/probe/callbacks.rs):
//!   the call's decision in the callback where it differs, and a callback
//!   kind the kernel refuses to let this program register (6.18: "sleepable
//!   callback in a program that is not sleepable"; "tracing progs cannot
//!   use bpf_wq yet") refuses every call made only there;
//! - a sleepable struct_ops program (`struct_ops.s`): the probe's
//!   `sleepable` context of its member (loaded with `BPF_F_SLEEPABLE`; the
//!   type's `check_member` may refuse it).
//!
//! Anything not measured becomes `undecided` with the reason (graded
//! `unknown`), never "allowed".

use crate::object::callbacks::{async_only_calls, AsyncCalls, AsyncKind};
use crate::object::{BpfObject, Program};
use crate::probe::classify::sleep_refusal;
use crate::probe::{CallbackKind, Context, ContextResult, Decision, LoadOutcome, ProbeIndex, VariantResult};
use crate::uapi::AttachType;

/// `enum bpf_map_type`: `BPF_MAP_TYPE_ARENA` (v6.9).
const BPF_MAP_TYPE_ARENA: u32 = 33;

/// The contexts of one program, against one probe.
pub(crate) struct ContextView<'a> {
    /// Iterator program of another target: (target, the probe's context for it).
    iter: Option<(String, Option<&'a ContextResult>)>,
    /// The object has an arena map: the probe's arena context of the
    /// variants judging the program (None: not measured).
    arena: Option<Vec<&'a ContextResult>>,
    async_calls: AsyncCalls,
    sleepable: bool,
    /// Every variant judging the program was loaded sleepable.
    variants_sleepable: bool,
    /// The variant's non-sleepable counterparts (a timer callback of a
    /// sleepable program runs non-sleepable).
    nonsleepable: Vec<usize>,
    contexts_measured: bool,
    /// The contexts of the variants judging the program.
    contexts: Vec<&'a ContextResult>,
    /// The struct_ops member the program implements.
    member: Option<String>,
    /// The probe measured callbacks and sleepable members.
    callbacks_measured: bool,
}

/// A call's answer in one context: the decision it lists, if any.
type Lookup<'l> = &'l dyn Fn(&ContextResult) -> Option<Decision>;

fn callback_kind(k: AsyncKind) -> CallbackKind {
    match k {
        AsyncKind::Timer => CallbackKind::Timer,
        AsyncKind::Wq => CallbackKind::Wq,
        AsyncKind::TaskWork => CallbackKind::TaskWork,
    }
}

fn undecided(reason: String) -> Decision {
    Decision::Undecided { reason }
}

impl<'a> ContextView<'a> {
    pub(crate) fn new(pi: &'a ProbeIndex, obj: &BpfObject, p: &Program, loadable: &[usize], member: Option<(usize, &str)>) -> ContextView<'a> {
        let vs = &pi.probe.variants;
        let variants: Vec<&'a VariantResult> = match member {
            Some((v, _)) => vs.get(v).into_iter().collect(),
            None => loadable.iter().filter_map(|&i| vs.get(i)).collect(),
        };
        let iter = match (p.expected_attach, &p.attach_target) {
            (Some(AttachType::TraceIter), Some(t))
                if !variants.iter().any(|v| v.variant.attach_btf.as_ref().is_some_and(|a| a.name == format!("bpf_iter_{t}"))) =>
            {
                let ctx = vs
                    .iter()
                    .filter(|v| v.variant.attach_type.as_deref() == Some("BPF_TRACE_ITER"))
                    .flat_map(|v| v.contexts.iter())
                    .find(|c| matches!(&c.context, Context::IterTarget { target } if target == t));
                Some((t.clone(), ctx))
            }
            _ => None,
        };
        let arena = obj
            .maps
            .iter()
            .any(|m| m.map_type == BPF_MAP_TYPE_ARENA)
            .then(|| variants.iter().flat_map(|v| v.contexts.iter()).filter(|c| c.context == Context::ArenaMap).collect::<Vec<_>>());
        let sleepable = p.sleepable || p.prog_type == Some(crate::uapi::ProgType::Syscall);
        let nonsleepable = if sleepable {
            let keys: Vec<(&str, Option<&str>)> = variants.iter().map(|v| (v.variant.prog_type.as_str(), v.variant.attach_type.as_deref())).collect();
            vs.iter()
                .enumerate()
                .filter(|(_, v)| {
                    !v.variant.sleepable && v.load == LoadOutcome::Loadable && keys.contains(&(v.variant.prog_type.as_str(), v.variant.attach_type.as_deref()))
                })
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        let variants_sleepable = !variants.is_empty() && variants.iter().all(|v| v.variant.sleepable);
        ContextView {
            iter,
            arena,
            async_calls: async_only_calls(obj, p.func),
            sleepable,
            variants_sleepable,
            nonsleepable,
            contexts_measured: pi.probe.contexts_measured,
            contexts: variants.iter().flat_map(|v| v.contexts.iter()).collect(),
            member: member.map(|(_, m)| m.to_string()),
            callbacks_measured: pi.probe.callbacks_measured,
        }
    }

    /// A sleepable struct_ops program whose member the probe could not load
    /// sleepable: (member, the kernel's words).
    pub(crate) fn sleepable_member_refused(&self) -> Option<(&str, &str)> {
        let member = self.member.as_deref().filter(|_| self.sleepable && self.callbacks_measured)?;
        self.contexts.iter().find_map(|c| match (&c.context, &c.load) {
            (Context::Sleepable { member: m }, LoadOutcome::Unsupported { message }) if m == member => Some((member, message.as_str())),
            _ => None,
        })
    }

    /// The answer for helper `id` in the context that runs it, when that is
    /// not the variant's (`d`): (decision, context label).
    pub(crate) fn helper(&self, pi: &ProbeIndex, id: u32, d: &Decision) -> Option<(Decision, String)> {
        let mut out: Option<(Decision, String)> = None;
        if let (Some((target, ctx)), Some(false)) = (&self.iter, d.available()) {
            let label = format!("iter/{target}");
            let found = match ctx {
                Some(c) if c.load != LoadOutcome::Loadable => Some(undecided(format!("the probe could not load an iter/{target} program: {}", load_detail(&c.load)))),
                Some(c) => c.helpers.iter().find(|h| h.id == id).map(|h| h.decision.clone()),
                // A target without a get_func_proto of its own has the
                // helpers of the probed one.
                None if pi.iter_protos().is_some_and(|ps| !ps.contains(target)) => None,
                None if !self.contexts_measured => Some(undecided(format!(
                    "refused to the probed iterator target; the {target} target's own helpers (bpf_iter_get_func_proto) were not probed: this probe file predates iterator contexts"
                ))),
                None => None,
            };
            if let Some(f) = found {
                out = Some((f, label));
            }
        }
        let lookup = |c: &ContextResult| c.helpers.iter().find(|h| h.id == id).map(|h| h.decision.clone());
        self.settle(out, d, self.async_calls.helpers.get(&id).copied(), &lookup, || {
            self.nonsleepable.iter().filter_map(|&i| pi.helper(i, id)).map(|h| &h.decision).find(|d| sleep_refusal(d))
        })
    }

    /// The answer for kfunc `name` (essential name `ess`) in the context
    /// that runs it, when that is not the variant's (`d`).
    pub(crate) fn kfunc(&self, pi: &ProbeIndex, name: &str, ess: &str, d: &Decision) -> Option<(Decision, String)> {
        let mut out: Option<(Decision, String)> = None;
        let filter_refusal = matches!(d, Decision::VerifierRejectedNotAllowed { message } if message.ends_with(" is not allowed"));
        if let (Some(ctxs), true) = (&self.arena, filter_refusal) {
            let label = "with an arena map".to_string();
            let entry = ctxs.iter().find_map(|c| c.kfuncs.iter().find(|k| k.name == ess).map(|k| (c, &k.decision)));
            let found = match entry {
                Some((_, d)) => Some(d.clone()),
                None if ctxs.iter().any(|c| c.load != LoadOutcome::Loadable) => {
                    Some(undecided(format!("the probe could not load a program with an arena map: {}", ctxs.iter().map(|c| load_detail(&c.load)).next().unwrap_or_default())))
                }
                None if !self.contexts_measured => Some(undecided(
                    "refused to the probe's program, which has no arena map; the kernel's arena kfunc filter answers for programs with one, and this probe file predates arena contexts".into(),
                )),
                None => None,
            };
            if let Some(f) = found {
                out = Some((f, label));
            }
        }
        let lookup = |c: &ContextResult| c.kfuncs.iter().find(|k| k.name == ess).map(|k| k.decision.clone());
        self.settle(out, d, self.async_calls.kfuncs.get(name).copied(), &lookup, || {
            self.nonsleepable.iter().filter_map(|&i| pi.kfunc(i, ess)).find(|d| sleep_refusal(d))
        })
    }

    /// The answer once the context is accounted for: `out` (a context's
    /// own answer) or else the variant's `d`, unless the program's
    /// sleepability was never probed, or the call runs only in an async
    /// callback of `kind` (`nonsleep`: a non-sleepable variant's refusal
    /// for sleepability, asked only then).
    fn settle<'p>(
        &self,
        out: Option<(Decision, String)>,
        d: &Decision,
        kind: Option<AsyncKind>,
        lookup: Lookup,
        nonsleep: impl FnOnce() -> Option<&'p Decision>,
    ) -> Option<(Decision, String)> {
        let current = out.as_ref().map_or(d, |(d, _)| d);
        if let Some(a) = self.sleepable_unprobed(current, lookup) {
            return Some(a);
        }
        if let Some(k) = kind {
            if self.callbacks_measured {
                if let Some(a) = self.callback_measured(k, current, lookup) {
                    return Some(a);
                }
            } else if let Some(a) = self.async_decision(k, current, nonsleep()) {
                return Some(a);
            }
        }
        out
    }

    /// A call made only in an async callback of `kind`, with the probe's
    /// `callback` contexts: the kernel refuses the callback itself here
    /// (every call made there fails with it), or the call's answer in the
    /// callback differs from the program's (listed), or it does not.
    fn callback_measured(&self, kind: AsyncKind, d: &Decision, lookup: Lookup) -> Option<(Decision, String)> {
        let ck = callback_kind(kind);
        let label = format!("in a {} callback", kind.registrar());
        let ctxs: Vec<&&ContextResult> = self.contexts.iter().filter(|c| c.context == Context::Callback { callback: ck }).collect();
        if !ctxs.is_empty() && ctxs.iter().all(|c| matches!(c.load, LoadOutcome::Unsupported { .. })) {
            let message = ctxs.iter().find_map(|c| match &c.load {
                LoadOutcome::Unsupported { message } => Some(message.clone()),
                _ => None,
            })?;
            return Some((Decision::VerifierRejectedNotAllowed { message }, label));
        }
        if let Some(c) = ctxs.iter().find(|c| matches!(c.load, LoadOutcome::Undecided { .. })) {
            return Some((
                undecided(format!("the probe could not load a program registering a {} callback here: {}", kind.registrar(), load_detail(&c.load))),
                label,
            ));
        }
        // Loaded: the listed answer, or the program's own (the probe asked
        // the calls whose answer may differ: refused for sleepability in a
        // non-sleepable program, allowed in a sleepable one).
        if let Some(found) = ctxs.iter().find_map(|c| lookup(c)) {
            return Some((found, label));
        }
        (kind.sleepable() != self.sleepable).then(|| (d.clone(), label))
    }

    /// A sleepable program judged with variants loaded non-sleepable (a
    /// `struct_ops.s` program: the probe loads struct_ops members
    /// non-sleepable): a refusal for sleepability was never asked of a
    /// sleepable program.
    fn sleepable_unprobed(&self, d: &Decision, lookup: Lookup) -> Option<(Decision, String)> {
        if !(self.sleepable && !self.variants_sleepable && sleep_refusal(d)) {
            return None;
        }
        // Measured: the member loaded sleepable; its answer where it
        // differs (a member refused sleepable fails the program, above).
        if let (Some(member), true) = (&self.member, self.callbacks_measured) {
            let ctx = self.contexts.iter().find(|c| matches!(&c.context, Context::Sleepable { member: m } if m == member));
            let label = "sleepable".to_string();
            return match ctx {
                Some(c) if c.load != LoadOutcome::Loadable => {
                    Some((undecided(format!("the probe could not load member {member} sleepable: {}", load_detail(&c.load))), label))
                }
                Some(c) => Some((lookup(c).unwrap_or_else(|| d.clone()), label)),
                None => Some((d.clone(), label)),
            };
        }
        Some(()).map(|_| {
            (
                undecided(format!(
                    "refused for sleepability (`{}`) to the probe's non-sleepable program; this sleepable program's context was not probed",
                    d.detail()
                )),
                "sleepable".to_string(),
            )
        })
    }

    /// A call made only in an async callback of `kind`: the answer where
    /// the callback's sleepability differs from the program's.
    fn async_decision(&self, kind: AsyncKind, d: &Decision, nonsleepable_refusal: Option<&Decision>) -> Option<(Decision, String)> {
        let label = format!("in a {} callback", kind.registrar());
        if kind.sleepable() && !self.sleepable && sleep_refusal(d) {
            return Some((
                undecided(format!(
                    "refused to the non-sleepable program (`{}`), but the verifier checks a {} callback as sleepable (verifier.c is_async_cb_sleepable); whether this kernel accepts such a callback from a non-sleepable program is not measured by the probe (6.18 refuses it: \"sleepable callback in a program that is not sleepable\")",
                    d.detail(),
                    kind.registrar()
                )),
                label,
            ));
        }
        if !kind.sleepable() && self.sleepable && d.available() == Some(true) {
            if let Some(r) = nonsleepable_refusal {
                return Some((
                    undecided(format!(
                        "allowed to the sleepable program, but refused without sleeping (`{}`), and the verifier checks a timer callback as non-sleepable since is_async_cb_sleepable (older kernels let it inherit the program's sleepability)",
                        r.detail()
                    )),
                    label,
                ));
            }
        }
        None
    }
}

fn load_detail(l: &LoadOutcome) -> String {
    match l {
        LoadOutcome::Loadable => "loads".into(),
        LoadOutcome::Unsupported { message } => message.clone(),
        LoadOutcome::Undecided { reason } => reason.clone(),
    }
}
