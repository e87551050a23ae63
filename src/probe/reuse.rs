//! Which kfunc verdicts one program variant can take from another of the
//! same program type without loading its own programs.
//!
//! The verifier decides whether a program may call a kfunc in
//! `check_kfunc_call` -> `fetch_kfunc_meta` -> `btf_kfunc_id_set_contains`
//! (kernel/bpf/btf.c, v6.3–v6.18): the kfunc must be in the set registered
//! for `BTF_KFUNC_HOOK_COMMON` or in the one of
//! `bpf_prog_type_to_kfunc_hook(resolve_prog_type(prog))`, a function of the
//! program type alone. `register_btf_kfunc_id_set(prog_type, kset)` merges
//! every `struct btf_kfunc_id_set` registered for a program type into that
//! hook's one sorted set (`btf_populate_kfunc_set`), so membership is the
//! same for every variant of a program type: attach type, sleepability and
//! attach target do not enter it. Three things do, and they decide which
//! verdicts are measured per variant anyway ([`must_reprobe`]):
//!
//! - **filters.** A set registered with a `.filter` callback adds it to the
//!   hook's `hook_filters` (v6.7+); every filter sees the whole `prog` and may
//!   refuse with the same "calling kernel function X is not allowed". The
//!   kfuncs of the filtered sets ([`FILTERED`]) are therefore probed in every
//!   variant: kernel/trace/bpf_trace.c `bpf_kprobe_multi_filter` (session
//!   kfuncs only for `kprobe.session`), net/core/filter.c
//!   `tracing_iter_filter` (`bpf_sock_destroy` only in iterators),
//!   fs/bpf_fs_kfuncs.c `bpf_fs_kfuncs_filter` (LSM only), the arena kfuncs,
//!   and every `scx_bpf_*`, `hid_bpf_*` and `bpf_qdisc_*` kfunc (sched_ext,
//!   HID-BPF and qdisc filter per struct_ops member). Every other kfunc
//!   answers alike in every struct_ops type and member:
//!   `bpf_prog_type_to_kfunc_hook` maps BPF_PROG_TYPE_STRUCT_OPS to the one
//!   `BTF_KFUNC_HOOK_STRUCT_OPS`, whatever the type or member, so the first
//!   struct_ops program leads them all (on live 6.18: 14 struct_ops
//!   programs take 203 kfunc verdicts each from `bpf_dummy_ops`'s).
//! - **sleepability.** `check_kfunc_call` refuses a `KF_SLEEPABLE` kfunc to
//!   a non-sleepable program after the membership test ("program must be
//!   sleepable to call sleepable kfunc X"), and a `KF_RCU_PROTECTED` one to a
//!   sleepable program outside `bpf_rcu_read_lock` ("kernel func X requires
//!   RCU critical section protection"). The leader of a program type is its
//!   first non-sleepable variant: a follower of the other sleepability
//!   re-probes every kfunc the leader allowed and every one it refused as
//!   sleepable.
//! - **per-kfunc allowlists** in the verifier (`check_css_task_iter_allowlist`:
//!   "css_task_iter is only allowed in bpf_lsm, bpf_iter and sleepable
//!   progs") look at the attach type: such kfuncs ([`ALLOWLISTED`], and any
//!   the leader saw refused with " is only allowed in ") are re-probed.
//!
//! An undecided leader verdict is re-probed too (it may be an environment
//! limit of that variant). Every other verdict, including the verifier's
//! message, is copied; `tests/probe_live.rs` compares a probe made this way
//! with one made per variant ([`super::run_unshared`]), decision by
//! decision.

use super::Decision;

/// kfuncs of sets registered with a `.filter` callback (v6.7–v6.18), by
/// name; see the module comment for the kernel functions.
pub const FILTERED: &[&str] = &[
    // kernel/trace/bpf_trace.c: bpf_kprobe_multi_kfunc_set, bpf_kprobe_multi_filter
    "bpf_session_cookie",
    "bpf_session_is_return",
    // net/core/filter.c: bpf_sk_iter_kfunc_set, tracing_iter_filter
    "bpf_sock_destroy",
    // fs/bpf_fs_kfuncs.c: bpf_fs_kfunc_set, bpf_fs_kfuncs_filter
    "bpf_get_task_exe_file",
    "bpf_put_file",
    "bpf_path_d_path",
    "bpf_get_dentry_xattr",
    "bpf_get_file_xattr",
    "bpf_set_dentry_xattr",
    "bpf_remove_dentry_xattr",
    "bpf_get_fsverity_digest",
    "bpf_cgroup_read_xattr",
    // kernel/bpf/arena.c: the arena kfuncs (refused without an arena map on 6.18)
    "bpf_arena_alloc_pages",
    "bpf_arena_free_pages",
    "bpf_arena_reserve_pages",
];

/// Name prefixes of filtered families (sched_ext, HID-BPF, qdisc struct_ops).
pub const FILTERED_PREFIXES: &[&str] = &["scx_bpf_", "hid_bpf_", "bpf_qdisc_"];

/// kfuncs the verifier allows per attach type on its own
/// (verifier.c `check_css_task_iter_allowlist`).
pub const ALLOWLISTED: &[&str] = &["bpf_iter_css_task_new"];

/// Whether the verdict on kfunc `name` in a follower variant must be
/// measured rather than copied from the leader's `leader` verdict.
pub fn must_reprobe(name: &str, leader: &Decision, leader_sleepable: bool, follower_sleepable: bool) -> bool {
    if FILTERED.contains(&name) || ALLOWLISTED.contains(&name) || FILTERED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    match leader {
        Decision::Undecided { .. } => true,
        Decision::VerifierRejectedNotAllowed { message } => {
            message.contains(" is only allowed in ") || (follower_sleepable && message.starts_with("program must be sleepable"))
        }
        Decision::VerifierAccepted | Decision::RejectedOther { .. } => leader_sleepable != follower_sleepable,
    }
}

/// For each probed program (`(prog_type, sleepable, shares)`, where `shares`
/// is false for programs that never take verdicts from another: those
/// [`super::run_unshared`] probes), the index of the program whose kfunc verdicts it
/// starts from: itself for a leader. The leader of a program type is its
/// first non-sleepable program, else its first.
pub fn leaders(programs: &[(u32, bool, bool)]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..programs.len()).collect();
    for (i, &(pt, _, shares)) in programs.iter().enumerate() {
        if !shares {
            continue;
        }
        let same = |j: &usize| programs.get(*j).is_some_and(|&(p, _, s)| s && p == pt);
        let group: Vec<usize> = (0..programs.len()).filter(same).collect();
        let leader = group.iter().copied().find(|&j| programs.get(j).is_some_and(|p| !p.1)).or_else(|| group.first().copied());
        if let (Some(slot), Some(l)) = (out.get_mut(i), leader) {
            *slot = l;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(m: &str) -> Decision {
        Decision::VerifierRejectedNotAllowed { message: m.into() }
    }

    #[test]
    fn leader_is_first_non_sleepable_of_its_type() {
        // uprobe.s (sleepable), kprobe, kprobe.multi; tc; struct_ops x2.
        let p = [(2, true, true), (2, false, true), (2, false, true), (3, false, true), (27, false, false), (27, false, false)];
        assert_eq!(leaders(&p), vec![1, 1, 1, 3, 4, 5]);
        // Only sleepable programs: the first leads.
        assert_eq!(leaders(&[(31, true, true), (31, true, true)]), vec![0, 0]);
    }

    #[test]
    fn what_is_copied_and_what_is_measured() {
        let not_member = refused("calling kernel function bpf_task_acquire is not allowed");
        assert!(!must_reprobe("bpf_task_acquire", &not_member, false, true));
        assert!(!must_reprobe("bpf_task_acquire", &not_member, true, false));
        assert!(!must_reprobe("bpf_task_acquire", &Decision::VerifierAccepted, false, false));
        // KF_RCU_PROTECTED: a sleepable follower may answer otherwise.
        assert!(must_reprobe("bpf_iter_task_new", &Decision::VerifierAccepted, false, true));
        // A filter may refuse one variant what it allows another.
        assert!(must_reprobe("bpf_session_cookie", &refused("calling kernel function bpf_session_cookie is not allowed"), false, false));
        assert!(must_reprobe("scx_bpf_dsq_insert", &Decision::VerifierAccepted, false, false));
        // Sleepable kfuncs: re-measured in sleepable followers only.
        let sleepy = refused("program must be sleepable to call sleepable kfunc bpf_copy_from_user_str");
        assert!(must_reprobe("bpf_copy_from_user_str", &sleepy, false, true));
        assert!(!must_reprobe("bpf_copy_from_user_str", &sleepy, false, false));
        // A sleepable leader says nothing about KF_SLEEPABLE for a non-sleepable follower.
        assert!(must_reprobe("bpf_task_acquire", &Decision::RejectedOther { message: "R1 must be referenced".into() }, true, false));
        assert!(must_reprobe("x", &refused("css_task_iter is only allowed in bpf_lsm, bpf_iter and sleepable progs"), false, false));
        assert!(must_reprobe("bpf_xdp_metadata_rx_hash", &Decision::Undecided { reason: "metadata kfuncs require device-bound program".into() }, false, false));
    }
}
