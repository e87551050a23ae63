//! Rule family: what the target architecture's BPF JIT cannot run
//! (docs/arch-jit.md; the per-release table and its sources are
//! [`crate::kernel::arch`]): kfunc calls on a JIT that cannot make them
//! (verifier.c `check_kfunc_call` / `bpf_jit_supports_kfunc_call`), tail
//! calls mixed with bpf-to-bpf calls on one that cannot mix them
//! (`bpf_jit_supports_subprog_tailcalls`). Failures: the verifier refuses
//! both.

use super::Target;
use crate::kernel::arch::{jit_blocker, JitFeature};
use crate::object::Program;
use crate::release::Release;
use crate::vocab::{Reason, ReasonKind};

/// `bpf_tail_call`'s helper id.
const BPF_FUNC_TAIL_CALL: u32 = 12;

/// JIT findings for one program on the target.
pub(super) fn jit(t: &Target, p: &Program, rs: &mut Vec<Reason>) {
    let Some(ka) = t.kernel.arch() else { return };
    // Before 5.13 no verifier knows kfunc calls: `kfunc_missing` says it all.
    let verifier_knows_kfuncs = ka.version.is_some_and(|v| v >= Release::new(5, 13, 0));
    if let (Some(first), true) = (p.kfuncs.iter().next(), verifier_knows_kfuncs) {
        if let Some(why) = jit_blocker(ka, JitFeature::KfuncCall) {
            let n = p.kfuncs.len();
            rs.push(Reason::fact(
                ReasonKind::KfuncJitUnsupported,
                first,
                format!(
                    "{n} kfunc call(s) cannot run here: {why} (verifier: \"{}\")",
                    if ka.config.is_some_and(|c| !c.jit) {
                        "JIT is required for calling kernel function"
                    } else {
                        "JIT does not support calling kernel function"
                    }
                ),
            ));
        }
    }
    if p.subprog_calls > 0 && p.helpers.contains_key(&BPF_FUNC_TAIL_CALL) {
        if let Some(why) = jit_blocker(ka, JitFeature::SubprogTailcalls) {
            rs.push(Reason::fact(
                ReasonKind::TailcallSubprogJitUnsupported,
                "bpf_tail_call",
                format!(
                    "tail calls in a program with bpf-to-bpf calls: {why} (verifier: \"tail_calls are not allowed in non-JIT programs with bpf-to-bpf calls\")"
                ),
            ));
        }
    }
}
