//! Which kfunc and helper verdicts one program variant can take from
//! another of the same program type without loading its own programs
//! (helpers: [`HELPER_SHARING`], [`MEMBER_HELPER_SHARING`]; kfuncs below).
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
    // net/sched/bpf_qdisc.c: qdisc_kfunc_ids, bpf_qdisc_kfunc_filter (v6.16; the
    // ones not named bpf_qdisc_*: a Qdisc_ops leader allows them, every other
    // struct_ops type is refused them)
    "bpf_skb_get_hash",
    "bpf_kfree_skb",
    "bpf_dynptr_from_skb",
    // kernel/bpf/arena.c: the arena kfuncs (refused without an arena map on 6.18)
    "bpf_arena_alloc_pages",
    "bpf_arena_free_pages",
    "bpf_arena_reserve_pages",
];

/// Name prefixes of filtered families (sched_ext, HID-BPF, qdisc struct_ops).
/// (`__scx_bpf_*` are the `_impl`-style sched_ext kfuncs and `bpf_iter_scx_dsq_*`
/// its open-coded iterator, in the same filtered sets.)
pub const FILTERED_PREFIXES: &[&str] = &["scx_bpf_", "__scx_bpf_", "bpf_iter_scx_", "hid_bpf_", "bpf_qdisc_"];

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

/// Helper verdicts one variant takes from another of the same program
/// type: the verifier asks `env->ops->get_func_proto(func_id, prog)` of the
/// program type's `bpf_verifier_ops` (verifier.c `check_helper_call`,
/// v4.x–v6.18) and refuses the call when it returns NULL; after that only
/// the arguments (the same program, `call HELPER; r0 = ret; exit`, with R1
/// the context in every variant), `fn->allowed` (tracing only),
/// `fn->might_sleep` and the `gpl_only` of the returned proto decide. So
/// variants of one program type and one sleepability answer alike for every
/// helper whose `get_func_proto` case does not look at the program's
/// `expected_attach_type`: those helpers, per program type, are listed here
/// and measured in every variant (and so is any the leader left undecided).
/// Program types not listed (tracing, LSM, freplace: the answer depends on
/// the attach target; struct_ops: one `get_func_proto` per struct_ops type)
/// are measured per variant. Cases read in Linux v6.18; `tests/probe_live.rs`
/// compares a probe made this way with one made per variant, decision by
/// decision, on the running kernel.
pub const HELPER_SHARING: &[(&str, &str, &[&str])] = &[
    // kernel/trace/bpf_trace.c kprobe_prog_func_proto: `get_func_ip` and
    // `get_attach_cookie` return another proto for kprobe.multi/session and
    // uprobe.multi/session (is_kprobe_multi, is_uprobe_multi: another
    // `gpl_only` too); `get_stack` and bpf_tracing_func_proto's
    // `get_task_stack` and `copy_from_user*` differ by sleepability only.
    ("BPF_PROG_TYPE_KPROBE", "kprobe_prog_func_proto", &["bpf_get_func_ip", "bpf_get_attach_cookie"]),
    // net/core/filter.c xdp_func_proto: no case looks at the attach type
    // (xdp, xdp/devmap, xdp/cpumap differ in context fields only).
    ("BPF_PROG_TYPE_XDP", "xdp_func_proto", &[]),
    // net/core/filter.c cg_skb_func_proto -> kernel/bpf/cgroup.c
    // cgroup_common_func_proto: `get_retval`/`set_retval` per attach type.
    ("BPF_PROG_TYPE_CGROUP_SKB", "cg_skb_func_proto", &["bpf_get_retval", "bpf_set_retval"]),
    // net/core/filter.c sock_filter_func_proto -> cgroup_common_func_proto.
    ("BPF_PROG_TYPE_CGROUP_SOCK", "sock_filter_func_proto", &["bpf_get_retval", "bpf_set_retval"]),
    // net/core/filter.c sk_skb_func_proto: no case looks at the attach type.
    ("BPF_PROG_TYPE_SK_SKB", "sk_skb_func_proto", &[]),
    // net/core/filter.c sock_addr_func_proto: `bind` (connect hooks only),
    // `setsockopt`/`getsockopt` switch on expected_attach_type; and
    // cgroup_common_func_proto's `get_retval`/`set_retval`.
    (
        "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
        "sock_addr_func_proto",
        &["bpf_bind", "bpf_setsockopt", "bpf_getsockopt", "bpf_get_retval", "bpf_set_retval"],
    ),
    // net/core/filter.c sk_reuseport_func_proto: select and migrate alike.
    ("BPF_PROG_TYPE_SK_REUSEPORT", "sk_reuseport_func_proto", &[]),
    // kernel/bpf/cgroup.c cg_sockopt_func_proto: `setsockopt` and
    // `getsockopt` per attach type; cgroup_common_func_proto's retval pair.
    ("BPF_PROG_TYPE_CGROUP_SOCKOPT", "cg_sockopt_func_proto", &["bpf_setsockopt", "bpf_getsockopt", "bpf_get_retval", "bpf_set_retval"]),
];

/// struct_ops types whose other members take the helper verdicts of the
/// first one: the type's own `verifier_ops->get_func_proto` (verifier.c
/// `check_struct_ops_btf_id` sets `env->ops` to it) sees the member only
/// through `prog->expected_attach_type`, and for these types only in the
/// helpers listed. Members' availability is compared, not their messages
/// ([`super::MemberResult`]).
pub const MEMBER_HELPER_SHARING: &[(&str, &str, &[&str])] = &[
    // net/bpf/bpf_dummy_struct_ops.c bpf_dummy_verifier_ops: no get_func_proto.
    ("bpf_dummy_ops", "(none)", &[]),
    // net/ipv4/bpf_tcp_ca.c bpf_tcp_ca_get_func_proto: `setsockopt` and
    // `getsockopt` refused to `release` (prog_ops_moff).
    ("tcp_congestion_ops", "bpf_tcp_ca_get_func_proto", &["bpf_setsockopt", "bpf_getsockopt"]),
];

/// The helpers measured in every variant of program type `prog_type`, or
/// None when its variants do not share helper verdicts.
pub fn helper_exceptions(prog_type: &str) -> Option<&'static [&'static str]> {
    HELPER_SHARING.iter().find(|(p, _, _)| *p == prog_type).map(|(_, _, h)| *h)
}

/// The helpers measured in every member of struct_ops type `name`, or None
/// when its members do not share helper verdicts.
pub fn member_helper_exceptions(name: &str) -> Option<&'static [&'static str]> {
    MEMBER_HELPER_SHARING.iter().find(|(t, _, _)| *t == name).map(|(_, _, h)| *h)
}

/// Whether a follower must measure helper `name` rather than copy the
/// leader's verdict `leader`.
pub fn helper_must_reprobe(name: &str, exceptions: &[&str], leader: &Decision) -> bool {
    exceptions.contains(&name) || matches!(leader, Decision::Undecided { .. })
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
    fn helper_sharing_table() {
        assert_eq!(helper_exceptions("BPF_PROG_TYPE_CGROUP_SOCK_ADDR").map(|h| h.contains(&"bpf_bind")), Some(true));
        assert_eq!(helper_exceptions("BPF_PROG_TYPE_TRACING"), None);
        assert_eq!(helper_exceptions("BPF_PROG_TYPE_STRUCT_OPS"), None);
        assert!(helper_must_reprobe("bpf_bind", &["bpf_bind"], &Decision::VerifierAccepted));
        assert!(!helper_must_reprobe("bpf_map_lookup_elem", &["bpf_bind"], &refused("program of this type cannot use helper")));
        assert!(helper_must_reprobe("bpf_map_lookup_elem", &[], &Decision::Undecided { reason: "EPERM".into() }));
        assert_eq!(member_helper_exceptions("tcp_congestion_ops").map(<[_]>::len), Some(2));
        assert_eq!(member_helper_exceptions("sched_ext_ops"), None);
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
