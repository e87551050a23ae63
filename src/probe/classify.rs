//! From a load result (loaded or errno, plus the verifier log) to a
//! [`Decision`]: the verifier's own words decide. A refusal that names the
//! call ("program of this type cannot use helper", "calling kernel function
//! X is not allowed", ...) means unavailable; any later complaint (argument
//! types, unreleased references, return values) means the verifier accepted
//! the call itself, so the helper or kfunc is available.

use super::sys::{errno_name, LoadResult};
use super::{Decision, LoadOutcome};
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// Messages that refuse a helper call for this program (kernel 4.x–7.x).
/// `bpftool feature probe` and libbpf decide on the first three.
const HELPER_REFUSALS: &[&str] = &[
    // unknown id (enum bpf_func_id of a newer kernel)
    "invalid func ",
    // older kernels: no proto for this program type
    "unknown func ",
    // newer kernels: the same
    "program of this type cannot use helper ",
    // fn->allowed(): restricted to some attach targets (bpf_d_path, ...)
    "helper call is not allowed in probe",
    // fn->might_sleep in a non-sleepable program
    "helper call might sleep in a non-sleepable prog",
    "in non-sleepable prog",
];

/// Messages that refuse a kfunc call for this program.
const KFUNC_REFUSALS: &[&str] = &[
    // not in any kfunc set registered for this program type, or its filter said no
    " is not allowed",
    "program must be sleepable to call sleepable kfunc",
    // no kfunc calls at all on this kernel / JIT
    "calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF",
    "JIT does not support calling kernel function",
    "JIT is required for calling kernel function",
    "cannot find address for kernel function",
    // per-kfunc program-type allowlists checked with the arguments
    // (e.g. "css_task_iter is only allowed in bpf_lsm, bpf_iter and sleepable progs")
    " is only allowed in ",
];

/// Messages that say nothing about this program type (privileges,
/// environment, or a bad probe): the answer stays open.
const UNDECIDED: &[&str] = &[
    "destructive kfunc calls require CAP_SYS_BOOT",
    "kernel btf_id ",
    "kfunc offset > 0 without fd_array",
    "failed to find BTF for kernel function",
    "too many different kernel function calls",
    "verifier internal error",
    "verifier bug",
    // XDP metadata kfuncs: only for device-bound programs, which need a device
    "require device-bound program",
];

/// A refusal for sleepability: the call needs a sleepable program (or the
/// context that runs it, an async callback, to be sleepable).
pub fn sleep_refusal(d: &Decision) -> bool {
    matches!(d, Decision::VerifierRejectedNotAllowed { message } if message.contains("must be sleepable") || message.contains("might sleep") || message.contains("in non-sleepable prog"))
}

/// A helper refusal because the program type's `get_func_proto` has no
/// proto for it ("program of this type cannot use helper", older "unknown
/// func"), as opposed to a proto's `allowed()` or sleepability refusing it.
pub fn no_proto(d: &Decision) -> bool {
    matches!(d, Decision::VerifierRejectedNotAllowed { message } if message.contains("program of this type cannot use helper ") || message.contains("unknown func "))
}

/// The last meaningful log line (skipping statistics), for messages.
pub fn last_line(log: &str) -> &str {
    log.lines()
        .rev()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && !l.starts_with("processed ")
                // 7.x prints its statistics as "insns processed N ..." under BPF_LOG_STATS
                && !l.starts_with("insns processed")
                && !l.starts_with("verification time")
                && !l.starts_with("stack depth")
                && !l.starts_with("-- END PROG LOAD LOG --")
        })
        .unwrap_or("")
}

/// A list of messages, each searched with a [`Finder`] built once per
/// process: a probe classifies tens of thousands of logs, and
/// `str::contains` builds a searcher per pattern per line.
struct Patterns(Vec<Finder<'static>>);

impl Patterns {
    fn new(pats: &'static [&'static str]) -> Patterns {
        Patterns(pats.iter().map(|p| Finder::new(p.as_bytes())).collect())
    }
    fn in_line(&self, line: &str) -> bool {
        self.0.iter().any(|f| f.find(line.as_bytes()).is_some())
    }
}

static HELPER_REFUSAL: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(HELPER_REFUSALS));
static KFUNC_REFUSAL: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(KFUNC_REFUSALS));
static UNDECIDED_LINE: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(UNDECIDED));

/// The first (trimmed) line of `log` holding one of `pats`.
fn find_line<'a>(log: &'a str, pats: &Patterns) -> Option<&'a str> {
    log.lines().map(str::trim).find(|l| pats.in_line(l))
}

fn no_log(r: &LoadResult) -> Decision {
    Decision::Undecided { reason: format!("{} without a verifier message", errno_name(r.errno)) }
}

/// Decide a helper call probe.
pub fn helper(r: &LoadResult) -> Decision {
    if let Some(l) = find_line(&r.log, &HELPER_REFUSAL) {
        return Decision::VerifierRejectedNotAllowed { message: l.to_string() };
    }
    decide_rest(r)
}

/// Decide a kfunc call probe.
pub fn kfunc(r: &LoadResult) -> Decision {
    // "calling kernel function X is not allowed" but not the unrelated
    // "... is not allowed" of argument checks: only lines about the call.
    let refusal =
        r.log.lines().map(str::trim).find(|l| KFUNC_REFUSAL.in_line(l) && (!l.ends_with(" is not allowed") || l.starts_with("calling kernel function ")));
    if let Some(l) = refusal {
        return Decision::VerifierRejectedNotAllowed { message: l.to_string() };
    }
    decide_rest(r)
}

fn decide_rest(r: &LoadResult) -> Decision {
    if r.loaded {
        return Decision::VerifierAccepted;
    }
    if let Some(l) = find_line(&r.log, &UNDECIDED_LINE) {
        return Decision::Undecided { reason: l.to_string() };
    }
    match last_line(&r.log) {
        "" => no_log(r),
        l => Decision::RejectedOther { message: l.to_string() },
    }
}

/// Decide whether the variant itself loads (`r0 = 0; exit`).
pub fn baseline(r: &LoadResult, has_attach_target: bool) -> LoadOutcome {
    if r.loaded {
        return LoadOutcome::Loadable;
    }
    let msg = last_line(&r.log);
    let what = if msg.is_empty() { errno_name(r.errno) } else { format!("{}: {msg}", errno_name(r.errno)) };
    // A struct_ops member the kernel never lets BPF implement (verifier.c
    // `check_struct_ops_btf_id`: the type's `check_member` refused it, e.g.
    // tcp_congestion_ops.get_info): a fact about the kernel, not the probe.
    if msg.starts_with("attach to unsupported member ") {
        return LoadOutcome::Unsupported { message: what };
    }
    // Privileges or the environment (e.g. no ftrace trampolines here):
    // nothing can be said about the variant.
    if matches!(r.errno, libc::EPERM | libc::EACCES) || has_attach_target {
        return LoadOutcome::Undecided { reason: what };
    }
    LoadOutcome::Unsupported { message: what }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(loaded: bool, errno: i32, log: &str) -> LoadResult {
        LoadResult { loaded, errno, log: log.into() }
    }

    #[test]
    fn helper_messages() {
        let r = res(false, libc::EINVAL, "0: R1=ctx() R10=fp0\n0: (85) call bpf_ktime_get_coarse_ns#160\nprogram of this type cannot use helper bpf_ktime_get_coarse_ns#160\nprocessed 1 insns (limit 1000000)\n");
        assert!(matches!(helper(&r), Decision::VerifierRejectedNotAllowed { .. }));
        let r = res(false, libc::EACCES, "0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\nprocessed 1 insns\n");
        assert_eq!(helper(&r), Decision::RejectedOther { message: "R1 type=ctx expected=map_ptr".into() });
        assert_eq!(helper(&res(true, 0, "processed 3 insns")), Decision::VerifierAccepted);
        assert!(matches!(helper(&res(false, libc::EPERM, "")), Decision::Undecided { .. }));
        assert!(matches!(helper(&res(false, libc::EINVAL, "unknown func bpf_foo#7\n")), Decision::VerifierRejectedNotAllowed { .. }));
    }

    #[test]
    fn struct_ops_member_refused_by_check_member() {
        let r = res(false, 524, "attach to unsupported member get_info of struct tcp_congestion_ops\n");
        assert!(matches!(baseline(&r, true), LoadOutcome::Unsupported { .. }));
        // Other refusals with an attach target stay undecided.
        let r = res(false, libc::EINVAL, "some other complaint\n");
        assert!(matches!(baseline(&r, true), LoadOutcome::Undecided { .. }));
    }

    #[test]
    fn kfunc_messages() {
        let r = res(false, libc::EACCES, "0: (85) call bpf_task_from_pid#1234\ncalling kernel function bpf_task_from_pid is not allowed\n");
        assert!(matches!(kfunc(&r), Decision::VerifierRejectedNotAllowed { .. }));
        let r = res(false, libc::EACCES, "program must be sleepable to call sleepable kfunc bpf_put_file\n");
        assert!(matches!(kfunc(&r), Decision::VerifierRejectedNotAllowed { .. }));
        // An argument complaint that happens to end in "is not allowed".
        let r = res(false, libc::EACCES, "arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar\nR1 type=ctx is not allowed\n");
        assert!(matches!(kfunc(&r), Decision::RejectedOther { .. }));
        let r = res(false, libc::EACCES, "destructive kfunc calls require CAP_SYS_BOOT capability\n");
        assert!(matches!(kfunc(&r), Decision::Undecided { .. }));
    }

    #[test]
    fn baselines() {
        assert_eq!(baseline(&res(true, 0, ""), false), LoadOutcome::Loadable);
        assert!(matches!(baseline(&res(false, libc::EINVAL, ""), false), LoadOutcome::Unsupported { .. }));
        assert!(matches!(baseline(&res(false, libc::EPERM, ""), true), LoadOutcome::Undecided { .. }));
        assert!(matches!(baseline(&res(false, libc::EINVAL, "attach_btf_id 5 is not a function"), true), LoadOutcome::Undecided { .. }));
    }
}
