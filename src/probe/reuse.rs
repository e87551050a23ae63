//! Which kfunc and helper verdicts one program variant can take from
//! another without loading its own programs (helpers: [`HELPER_SHARING`],
//! also across program types of one `get_func_proto`, and
//! [`MEMBER_HELPER_SHARING`]; kfuncs below, and refusals as no member of a
//! hook's set across the program types of one hook: [`KFUNC_HOOK_GROUPS`]).
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
//!   kfuncs of the filtered sets ([`FILTERED_SETS`]) are therefore probed in every
//!   variant (but a refusal as no member in a program whose hook is not the
//!   filtered set's, [`filter_elsewhere`]): kernel/trace/bpf_trace.c `bpf_kprobe_multi_filter` (session
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
//! decision, and `tests/probe_sharing.rs` checks the rules against the
//! per-variant probes of other kernels in `data/probe`.

use super::Decision;

/// Program types of the tracing kfunc hook, BTF_KFUNC_HOOK_TRACING
/// (`bpf_prog_type_to_kfunc_hook` of v6.10–v6.18; RAW_TRACEPOINT, which 7.x
/// maps there).
const TRACING_HOOK_TYPES: &[&str] =
    &["BPF_PROG_TYPE_TRACING", "BPF_PROG_TYPE_TRACEPOINT", "BPF_PROG_TYPE_PERF_EVENT", "BPF_PROG_TYPE_LSM", "BPF_PROG_TYPE_RAW_TRACEPOINT"];

/// The kfuncs of sets registered with a `.filter` callback (v6.7–v6.18), by
/// name, each set with the program types whose kfunc hook holds it where it
/// is registered for one hook only (by `bpf_prog_type_to_kfunc_hook` of
/// v6.10–v6.18; see [`filter_elsewhere`]), none where it is not (asked in
/// every variant). See the module comment for the kernel functions.
///
/// Hooks: kernel/trace/bpf_trace.c registers `bpf_kprobe_multi_kfunc_set`
/// for BPF_PROG_TYPE_KPROBE; net/core/filter.c `bpf_sk_iter_kfunc_set` for
/// BPF_PROG_TYPE_TRACING and fs/bpf_fs_kfuncs.c `bpf_fs_kfunc_set_types`
/// (with fs/verity's set) for BPF_PROG_TYPE_LSM, both
/// BTF_KFUNC_HOOK_TRACING; net/sched/bpf_qdisc.c `bpf_qdisc_kfunc_set` for
/// BPF_PROG_TYPE_STRUCT_OPS. The arena kfuncs (the common hook) and
/// `bpf_cgroup_read_xattr` (also in a common set) have no one hook; the
/// sched_ext and HID families (sets for several hooks, by prefix:
/// [`FILTERED_PREFIXES`]) and `bpf_iter_css_task_new` (an allowlist:
/// [`ALLOWLISTED`]) are not listed here.
pub const FILTERED_SETS: &[(&[&str], &[&str])] = &[
    // kernel/trace/bpf_trace.c: bpf_kprobe_multi_kfunc_set, bpf_kprobe_multi_filter
    (&["bpf_session_cookie", "bpf_session_is_return"], &["BPF_PROG_TYPE_KPROBE"]),
    // net/core/filter.c: bpf_sk_iter_kfunc_set, tracing_iter_filter
    (&["bpf_sock_destroy"], TRACING_HOOK_TYPES),
    // fs/bpf_fs_kfuncs.c: bpf_fs_kfunc_set, bpf_fs_kfuncs_filter
    (
        &[
            "bpf_get_task_exe_file",
            "bpf_put_file",
            "bpf_path_d_path",
            "bpf_get_dentry_xattr",
            "bpf_get_file_xattr",
            "bpf_set_dentry_xattr",
            "bpf_remove_dentry_xattr",
            "bpf_get_fsverity_digest",
        ],
        TRACING_HOOK_TYPES,
    ),
    // fs/bpf_fs_kfuncs.c, also in a common set
    (&["bpf_cgroup_read_xattr"], &[]),
    // net/sched/bpf_qdisc.c: qdisc_kfunc_ids, bpf_qdisc_kfunc_filter (v6.16; the
    // ones not named bpf_qdisc_*: a Qdisc_ops leader allows them, every other
    // struct_ops type is refused them)
    (&["bpf_skb_get_hash", "bpf_kfree_skb", "bpf_dynptr_from_skb"], &["BPF_PROG_TYPE_STRUCT_OPS"]),
    // kernel/bpf/arena.c: the arena kfuncs (refused without an arena map on 6.18)
    (&["bpf_arena_alloc_pages", "bpf_arena_free_pages", "bpf_arena_reserve_pages"], &[]),
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
    if kfunc_filtered(name) {
        return true;
    }
    match leader {
        Decision::Undecided { .. } => true,
        Decision::VerifierRejectedNotAllowed { message } => {
            message.contains(" is only allowed in ") || (follower_sleepable && message.starts_with("program must be sleepable"))
        }
        Decision::VerifierAccepted => leader_sleepable != follower_sleepable,
        // A sleepable follower of a non-sleepable leader refused where the
        // leader was: at the arguments.
        Decision::RejectedOther { message } => leader_sleepable != follower_sleepable && !(follower_sleepable && argument_refusal(message)),
    }
}

/// Whether `message` is a refusal of verifier.c `check_kfunc_args` (v6.18):
/// it names the argument ("arg#N ...", "RN ...") or is the context access
/// or context type it checked for one. In a sleepable program such a call
/// is refused alike: before the arguments `check_kfunc_call` looks at
/// sleepability only to refuse a `KF_SLEEPABLE` kfunc to a non-sleepable
/// program (which the non-sleepable leader got past), and
/// `check_kfunc_args` looks at it only for `bpf_iter_css_task_new`'s
/// allowlist ([`ALLOWLISTED`], asked in each). What comes after the
/// arguments may differ (`KF_RCU_PROTECTED`: "requires RCU critical section
/// protection" outside `bpf_rcu_read_lock` in a sleepable program), so an
/// acceptance or a later refusal is asked again. The per-variant probes of
/// 6.1, 6.12, 7.2 and the running 6.18 hold it (`tests/probe_sharing.rs`).
pub fn argument_refusal(message: &str) -> bool {
    let reg = message.strip_prefix('R').and_then(|r| r.split_once(' ')).is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    reg || message.starts_with("arg#") || message.starts_with("invalid bpf_context access ") || message.starts_with("kern ctx type id ")
}

/// A kfunc whose answer a filter or a per-attach-type allowlist may give per
/// program ([`FILTERED_SETS`], [`FILTERED_PREFIXES`], [`ALLOWLISTED`]):
/// never copied from another program.
pub fn kfunc_filtered(name: &str) -> bool {
    FILTERED_SETS.iter().any(|(names, _)| names.contains(&name)) || ALLOWLISTED.contains(&name) || FILTERED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether a program of type `prog_type` takes the verdict `leader` on
/// filtered kfunc `name` from another program of its type or kfunc hook
/// group although the kfunc is filtered: the leader refused it as no member
/// and the kfunc's filtered set belongs to another hook
/// ([`FILTERED_SETS`]; only on kernels [`kfunc_hooks_known`] describes).
pub fn filter_elsewhere(name: &str, prog_type: &str, leader: &Decision) -> bool {
    let elsewhere = FILTERED_SETS.iter().any(|(names, types)| !types.is_empty() && names.contains(&name) && !types.contains(&prog_type));
    elsewhere
        && matches!(leader, Decision::VerifierRejectedNotAllowed { message }
            if message.strip_prefix("calling kernel function ").and_then(|m| m.strip_suffix(" is not allowed")) == Some(name))
}

/// kfuncs whose handling in verifier.c `check_kfunc_call` /
/// `check_kfunc_args` / `specialize_kfunc` (v6.18) looks at the program
/// type beyond the kfunc hook (`bpf_cast_to_kern_ctx`:
/// `get_kern_ctx_btf_id(prog_type)`; `bpf_throw`: `check_return_code`;
/// the skb/xdp dynptrs: `may_access_direct_pkt_data`).
pub const KFUNCS_PROG_TYPE_SPECIAL: &[&str] = &[
    "bpf_cast_to_kern_ctx",
    "bpf_throw",
    "bpf_dynptr_from_skb",
    "bpf_dynptr_from_skb_meta",
    "bpf_dynptr_from_xdp",
    "bpf_dynptr_slice",
    "bpf_dynptr_slice_rdwr",
];

/// Program types of a [`KFUNC_HOOK_GROUPS`] group that map to one kfunc
/// hook on every kernel [`kfunc_hooks_known`] accepts (kernel/bpf/btf.c
/// `bpf_prog_type_to_kfunc_hook`, v6.10–v6.18): they have one merged set,
/// so they allow the same kfuncs. Left out: RAW_TRACEPOINT (no hook through
/// v6.18, BTF_KFUNC_HOOK_TRACING in 7.x) and SOCK_OPS (no hook before
/// v6.15, BTF_KFUNC_HOOK_CGROUP since), whose sets differ from their
/// group's first type's on some of those kernels.
pub const KFUNC_SAME_HOOK: &[&[&str]] = &[
    // BTF_KFUNC_HOOK_TRACING (LSM too, not in a group)
    &["BPF_PROG_TYPE_TRACEPOINT", "BPF_PROG_TYPE_PERF_EVENT", "BPF_PROG_TYPE_TRACING"],
    // BTF_KFUNC_HOOK_CGROUP
    &[
        "BPF_PROG_TYPE_CGROUP_SKB",
        "BPF_PROG_TYPE_CGROUP_SOCK",
        "BPF_PROG_TYPE_CGROUP_DEVICE",
        "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
        "BPF_PROG_TYPE_CGROUP_SOCKOPT",
        "BPF_PROG_TYPE_CGROUP_SYSCTL",
    ],
    // BTF_KFUNC_HOOK_LWT
    &["BPF_PROG_TYPE_LWT_IN", "BPF_PROG_TYPE_LWT_OUT", "BPF_PROG_TYPE_LWT_XMIT", "BPF_PROG_TYPE_LWT_SEG6LOCAL"],
    // BTF_KFUNC_HOOK_MAX: no hook, the common set only
    &[
        "BPF_PROG_TYPE_SK_MSG",
        "BPF_PROG_TYPE_SK_REUSEPORT",
        "BPF_PROG_TYPE_FLOW_DISSECTOR",
        "BPF_PROG_TYPE_SK_LOOKUP",
        "BPF_PROG_TYPE_LIRC_MODE2",
        "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
    ],
];

/// Whether program types `a` and `b` have one kfunc set ([`KFUNC_SAME_HOOK`]).
pub fn same_kfunc_hook(a: &str, b: &str) -> bool {
    KFUNC_SAME_HOOK.iter().any(|t| t.contains(&a) && t.contains(&b))
}

/// Whether a program of another type of the leader's hook
/// ([`same_kfunc_hook`]) copies the leader's verdict `leader` on a kfunc it
/// let past membership: a refusal of its first argument (verifier.c
/// `check_kfunc_args`, v6.18: "arg#0 ..." or "R1 ..."), where that argument
/// can be no program's context (`first_param_ctx_free`,
/// `probe::ctx::first_param_ctx_free`) and the message does not come from
/// the context's access rules ("R1 type=ctx ...", "invalid bpf_context
/// access ..."). With R1 the context in every program type, the first
/// argument is then classified by its BTF type alone
/// (`get_kfunc_ptr_arg_type` consults the program type only through
/// `btf_is_prog_ctx_type`) and checked against a register of the same
/// type; what came before (membership: one set; `KF_DESTRUCTIVE`;
/// `KF_SLEEPABLE`, for variants of one sleepability) is the same. Filtered
/// and special kfuncs ([`KFUNCS_PROG_TYPE_SPECIAL`]) are asked in each.
pub fn hook_copies_argument_refusal(name: &str, leader: &Decision, first_param_ctx_free: bool) -> bool {
    first_param_ctx_free
        && !kfunc_filtered(name)
        && !KFUNCS_PROG_TYPE_SPECIAL.contains(&name)
        && matches!(leader, Decision::RejectedOther { message }
            if (message.starts_with("arg#0 ") || message.starts_with("R1 ")) && !message.contains("ctx") && !message.contains("context"))
}

/// `enum btf_kfunc_hook` of v6.10–v6.18 (kernel/bpf/btf.c; in the kernel's
/// BTF through `struct btf_kfunc_set_tab`). [`KFUNC_HOOK_GROUPS`] mirrors
/// the `bpf_prog_type_to_kfunc_hook` of kernels with exactly these hooks;
/// on any other kernel (6.1 has five hooks and maps tracepoints to none;
/// a new hook may take program types out of a group) program types do not
/// share kfunc verdicts.
pub const KFUNC_HOOKS: &[&str] = &[
    "BTF_KFUNC_HOOK_COMMON",
    "BTF_KFUNC_HOOK_XDP",
    "BTF_KFUNC_HOOK_TC",
    "BTF_KFUNC_HOOK_STRUCT_OPS",
    "BTF_KFUNC_HOOK_TRACING",
    "BTF_KFUNC_HOOK_SYSCALL",
    "BTF_KFUNC_HOOK_FMODRET",
    "BTF_KFUNC_HOOK_CGROUP",
    "BTF_KFUNC_HOOK_SCHED_ACT",
    "BTF_KFUNC_HOOK_SK_SKB",
    "BTF_KFUNC_HOOK_SOCKET_FILTER",
    "BTF_KFUNC_HOOK_LWT",
    "BTF_KFUNC_HOOK_NETFILTER",
    "BTF_KFUNC_HOOK_KPROBE",
    "BTF_KFUNC_HOOK_MAX",
];

/// Program types whose kfunc sets nest, by group: kernel/bpf/btf.c
/// `btf_kfunc_id_set_contains` (v6.18: `btf_kfunc_is_allowed`) allows a
/// kfunc when the `BTF_KFUNC_HOOK_COMMON` set or the set of
/// `bpf_prog_type_to_kfunc_hook(prog_type)` holds it and no filter of that
/// hook refuses it; `register_btf_kfunc_id_set` merges every set registered
/// for any program type of a hook into that hook's one set. So a kfunc the
/// first program type of a group refuses as no member ("calling kernel
/// function X is not allowed", checked before sleepability and arguments)
/// is refused with the same words to every other type of the group, unless a
/// filter decides it ([`kfunc_filtered`]): the types of one hook have one
/// set; a type of no hook (`BTF_KFUNC_HOOK_MAX`, the `max` group) has only
/// the common set, which every type has. Only refusals are copied: an
/// allowed kfunc's later complaint names the program's context. v6.18:
/// - `tracing`: BPF_PROG_TYPE_TRACEPOINT, PERF_EVENT and TRACING map to
///   BTF_KFUNC_HOOK_TRACING, RAW_TRACEPOINT to no hook through v6.18 (the
///   probes of 6.12 and 6.18 allow it what raw_tp.w has) and to TRACING in
///   7.x (7.2's probe); so does LSM, left out because
///   fs/bpf_fs_kfuncs.c `bpf_fs_kfuncs_filter` gives LSM programs the fs
///   kfuncs (7.x adds some, e.g. `bpf_real_data_inode`, a name list would miss);
/// - `cgroup`: CGROUP_SKB, CGROUP_SOCK, CGROUP_DEVICE, CGROUP_SOCK_ADDR,
///   CGROUP_SOCKOPT, CGROUP_SYSCTL (v6.12, "bpf: enable generic kfuncs for
///   BPF_CGROUP_* programs") and SOCK_OPS (v6.15; of no hook before, whose
///   set the others' contains) map to BTF_KFUNC_HOOK_CGROUP;
/// - `lwt`: LWT_IN, LWT_OUT, LWT_XMIT, LWT_SEG6LOCAL map to BTF_KFUNC_HOOK_LWT;
/// - `max`: SK_MSG, SK_REUSEPORT, FLOW_DISSECTOR, SK_LOOKUP, LIRC_MODE2 and
///   RAW_TRACEPOINT_WRITABLE map to no hook (the first of them may have a
///   hook on another kernel: its set then contains the others').
pub const KFUNC_HOOK_GROUPS: &[(&str, &[&str])] = &[
    ("tracing", &["BPF_PROG_TYPE_TRACEPOINT", "BPF_PROG_TYPE_RAW_TRACEPOINT", "BPF_PROG_TYPE_PERF_EVENT", "BPF_PROG_TYPE_TRACING"]),
    (
        "cgroup",
        &[
            "BPF_PROG_TYPE_CGROUP_SKB",
            "BPF_PROG_TYPE_CGROUP_SOCK",
            "BPF_PROG_TYPE_CGROUP_DEVICE",
            "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
            "BPF_PROG_TYPE_CGROUP_SOCKOPT",
            "BPF_PROG_TYPE_CGROUP_SYSCTL",
            "BPF_PROG_TYPE_SOCK_OPS",
        ],
    ),
    ("lwt", &["BPF_PROG_TYPE_LWT_IN", "BPF_PROG_TYPE_LWT_OUT", "BPF_PROG_TYPE_LWT_XMIT", "BPF_PROG_TYPE_LWT_SEG6LOCAL"]),
    (
        "max",
        &[
            "BPF_PROG_TYPE_SK_MSG",
            "BPF_PROG_TYPE_SK_REUSEPORT",
            "BPF_PROG_TYPE_FLOW_DISSECTOR",
            "BPF_PROG_TYPE_SK_LOOKUP",
            "BPF_PROG_TYPE_LIRC_MODE2",
            "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
        ],
    ),
];

/// Whether a kernel whose `enum btf_kfunc_hook` has the enumerators `hooks`
/// (in order) is one [`KFUNC_HOOK_GROUPS`] describes.
pub fn kfunc_hooks_known(hooks: &[String]) -> bool {
    hooks.len() == KFUNC_HOOKS.len() && hooks.iter().zip(KFUNC_HOOKS).all(|(a, b)| a == b)
}

/// The kfunc hook group of program type `prog_type`, if it shares.
pub fn kfunc_hook_group(prog_type: &str) -> Option<&'static str> {
    KFUNC_HOOK_GROUPS.iter().find(|(_, types)| types.contains(&prog_type)).map(|(g, _)| *g)
}

/// Whether a program of another type of the group copies the group
/// leader's verdict `leader` on kfunc `name`: a refusal as no member of the
/// hook's set, for a kfunc no filter decides.
pub fn hook_copies(name: &str, leader: &Decision) -> bool {
    !kfunc_filtered(name)
        && matches!(leader, Decision::VerifierRejectedNotAllowed { message }
            if message.strip_prefix("calling kernel function ").and_then(|m| m.strip_suffix(" is not allowed")) == Some(name))
}

/// For each probed program (`(prog_type, sleepable, shares, costly)`, where
/// `shares` is false for programs that never take verdicts from another:
/// those [`super::run_unshared`] probes), the index of the program whose
/// kfunc verdicts it starts from: itself for a leader. The leader of a
/// program type is its first non-sleepable program whose loads are not
/// `costly`, else its first non-sleepable one, else its first. (The leader
/// loads every kfunc, its followers few; a tp_btf load costs five times
/// another: [`TARGET_HELPER_SHARING`]. Which one leads changes no verdict:
/// membership is the program type's, and what else may differ is measured
/// in each, [`must_reprobe`].)
pub fn leaders(programs: &[(u32, bool, bool, bool)]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..programs.len()).collect();
    for (i, &(pt, _, shares, _)) in programs.iter().enumerate() {
        if !shares {
            continue;
        }
        let same = |j: &usize| programs.get(*j).is_some_and(|&(p, _, s, _)| s && p == pt);
        let group: Vec<usize> = (0..programs.len()).filter(same).collect();
        let awake = |j: &usize| programs.get(*j).is_some_and(|p| !p.1);
        let leader = group
            .iter()
            .copied()
            .find(|j| awake(j) && programs.get(*j).is_some_and(|p| !p.3))
            .or_else(|| group.iter().copied().find(awake))
            .or_else(|| group.first().copied());
        if let (Some(slot), Some(l)) = (out.get_mut(i), leader) {
            *slot = l;
        }
    }
    out
}

/// Helper verdicts one variant takes from another: the verifier asks
/// `env->ops->get_func_proto(func_id, prog)` of the program type's
/// `bpf_verifier_ops` (verifier.c `check_helper_call`, v4.x–v6.18) and
/// refuses the call when it returns NULL; after that only the arguments
/// (the same program, `call HELPER; r0 = ret; exit`, with R1 the context in
/// every variant), `fn->allowed` (tracing only), `fn->might_sleep` and the
/// `gpl_only` of the returned proto decide. So variants of one sleepability
/// whose `get_func_proto` is the same function (the `group`, second column),
/// or delegates every helper but its own cases to it, answer alike for
/// every helper outside the listed exceptions: those are the cases that look
/// at the program's `expected_attach_type`, the delegating function's own
/// cases, and helpers the verifier itself checks per program type. A
/// follower measures its own exceptions and its leader's (and any helper the
/// leader left undecided). Program types not listed (tracing, LSM,
/// freplace: the answer depends on the attach target; struct_ops: one
/// `get_func_proto` per struct_ops type) are measured per variant. Cases
/// read in Linux v6.18; `tests/probe_live.rs` compares a probe made this way
/// with one made per variant, decision by decision, on the running kernel,
/// and `tests/probe_sharing.rs` checks the rules against the probes of
/// other kernels in `data/probe`.
pub const HELPER_SHARING: &[(&str, &str, &[&str])] = &[
    // kernel/trace/bpf_trace.c: kprobe_prog_func_proto, tp_prog_func_proto,
    // pe_prog_func_proto and raw_tp_prog_func_proto (raw_tp.w's too:
    // raw_tracepoint_writable_verifier_ops) answer their own cases and hand
    // every other helper to bpf_tracing_func_proto, whose cases look at the
    // program type only through `allowed()` callbacks and
    // bpf_prog_check_recur, alike for these four types. Their own cases are
    // asked in each, and so is `get_func_ip`: the verifier's
    // check_get_func_ip allows it to kprobes and names the program type in
    // its refusal ("not supported for program type N").
    // kprobe_prog_func_proto: `get_func_ip` and `get_attach_cookie` return
    // another proto for kprobe.multi/session and uprobe.multi/session
    // (is_kprobe_multi, is_uprobe_multi: another `gpl_only` too), asked in
    // every kprobe variant; `get_stack` and bpf_tracing_func_proto's
    // `get_task_stack` and `copy_from_user*` differ by sleepability only.
    (
        "BPF_PROG_TYPE_KPROBE",
        "bpf_tracing_func_proto",
        &["bpf_get_func_ip", "bpf_get_attach_cookie", "bpf_perf_event_output", "bpf_get_stackid", "bpf_get_stack", "bpf_override_return"],
    ),
    (
        "BPF_PROG_TYPE_TRACEPOINT",
        "bpf_tracing_func_proto",
        &["bpf_get_func_ip", "bpf_get_attach_cookie", "bpf_perf_event_output", "bpf_get_stackid", "bpf_get_stack"],
    ),
    (
        "BPF_PROG_TYPE_PERF_EVENT",
        "bpf_tracing_func_proto",
        &[
            "bpf_get_func_ip",
            "bpf_get_attach_cookie",
            "bpf_perf_event_output",
            "bpf_get_stackid",
            "bpf_get_stack",
            "bpf_perf_prog_read_value",
            "bpf_read_branch_records",
        ],
    ),
    ("BPF_PROG_TYPE_RAW_TRACEPOINT", "bpf_tracing_func_proto", &["bpf_get_func_ip", "bpf_perf_event_output", "bpf_get_stackid", "bpf_get_stack"]),
    ("BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", "bpf_tracing_func_proto", &["bpf_get_func_ip", "bpf_perf_event_output", "bpf_get_stackid", "bpf_get_stack"]),
    // include/linux/bpf_types.h gives BPF_PROG_TYPE_SCHED_CLS and
    // BPF_PROG_TYPE_SCHED_ACT the one `tc_cls_act_verifier_ops`: one
    // get_func_proto (net/core/filter.c tc_cls_act_func_proto, no case looks
    // at the program type or attach type) and one context, `struct __sk_buff`.
    ("BPF_PROG_TYPE_SCHED_CLS", "tc_cls_act_func_proto", &[]),
    ("BPF_PROG_TYPE_SCHED_ACT", "tc_cls_act_func_proto", &[]),
    // net/core/filter.c xdp_func_proto: no case looks at the attach type
    // (xdp, xdp/devmap, xdp/cpumap differ in context fields only).
    ("BPF_PROG_TYPE_XDP", "xdp_func_proto", &[]),
    // net/core/filter.c cg_skb_func_proto -> kernel/bpf/cgroup.c
    // cgroup_common_func_proto: `get_retval`/`set_retval` per attach type.
    ("BPF_PROG_TYPE_CGROUP_SKB", "cg_skb_func_proto", &["bpf_get_retval", "bpf_set_retval"]),
    // net/core/filter.c sock_filter_func_proto -> cgroup_common_func_proto.
    ("BPF_PROG_TYPE_CGROUP_SOCK", "sock_filter_func_proto", &["bpf_get_retval", "bpf_set_retval"]),
    // net/core/filter.c lwt_in_func_proto and lwt_xmit_func_proto answer
    // their own cases and hand every other helper to lwt_out_func_proto
    // (lwt_out_verifier_ops' own); no case looks at the attach type.
    ("BPF_PROG_TYPE_LWT_IN", "lwt_out_func_proto", &["bpf_lwt_push_encap"]),
    ("BPF_PROG_TYPE_LWT_OUT", "lwt_out_func_proto", &[]),
    ("BPF_PROG_TYPE_LWT_XMIT", "lwt_out_func_proto", LWT_XMIT),
    // net/core/filter.c sk_skb_func_proto: no case looks at the attach type.
    ("BPF_PROG_TYPE_SK_SKB", "sk_skb_func_proto", &[]),
    // net/core/filter.c sock_addr_func_proto: `bind` (connect hooks only),
    // `setsockopt`/`getsockopt` switch on expected_attach_type; and
    // cgroup_common_func_proto's `get_retval`/`set_retval`.
    ("BPF_PROG_TYPE_CGROUP_SOCK_ADDR", "sock_addr_func_proto", &["bpf_bind", "bpf_setsockopt", "bpf_getsockopt", "bpf_get_retval", "bpf_set_retval"]),
    // net/core/filter.c sk_reuseport_func_proto: select and migrate alike.
    ("BPF_PROG_TYPE_SK_REUSEPORT", "sk_reuseport_func_proto", &[]),
    // kernel/bpf/cgroup.c cg_sockopt_func_proto: `setsockopt` and
    // `getsockopt` per attach type; cgroup_common_func_proto's retval pair.
    ("BPF_PROG_TYPE_CGROUP_SOCKOPT", "cg_sockopt_func_proto", &["bpf_setsockopt", "bpf_getsockopt", "bpf_get_retval", "bpf_set_retval"]),
];

/// Variants with an attach target whose helper verdicts still come from a
/// [`HELPER_SHARING`] group: (program type, attach type, group, exceptions).
///
/// tp_btf (`BPF_PROG_TYPE_TRACING`, `BPF_TRACE_RAW_TP`): kernel/trace/bpf_trace.c
/// `tracing_prog_func_proto` (v5.10–v7.2) answers its own cases and hands
/// every other helper to `raw_tp_prog_func_proto` (the iterator fallback,
/// `bpf_iter_get_func_proto`, is for `BPF_TRACE_ITER` only), which answers
/// `perf_event_output`, `get_stackid`, `get_stack` and hands the rest to
/// `bpf_tracing_func_proto`. No case of that one looks at the attach target
/// (`bpf_prog_check_recur` returns true for every tracing attach type but
/// `BPF_TRACE_ITER`, as for kprobes), and the tracepoint enters no helper
/// check: only `bpf_check_attach_target` resolves it, at load. The
/// exceptions are `tracing_prog_func_proto`'s own cases (the socket casts
/// and storage, `d_path` with its `allowed()` allowlist of attach targets,
/// the `seq_*` helpers of iterators, the trampoline helpers), raw_tp's, and
/// `get_func_ip` (verifier.c `check_get_func_ip` names the program type in
/// its refusal). Worth it because each tp_btf load makes
/// `bpf_check_attach_target` look the tracepoint's template up by name in
/// vmlinux BTF (`btf_find_by_name_kind`, a linear scan): about 150 µs a
/// load on 6.18, against 15–30 µs for any other.
pub const TARGET_HELPER_SHARING: &[(&str, &str, &str, &[&str])] = &[(
    "BPF_PROG_TYPE_TRACING",
    "BPF_TRACE_RAW_TP",
    "bpf_tracing_func_proto",
    &[
        "bpf_skb_output",
        "bpf_xdp_output",
        "bpf_skc_to_tcp6_sock",
        "bpf_skc_to_tcp_sock",
        "bpf_skc_to_tcp_timewait_sock",
        "bpf_skc_to_tcp_request_sock",
        "bpf_skc_to_udp6_sock",
        "bpf_skc_to_unix_sock",
        "bpf_skc_to_mptcp_sock",
        "bpf_sk_storage_get",
        "bpf_sk_storage_delete",
        "bpf_sock_from_file",
        "bpf_get_socket_cookie",
        "bpf_xdp_get_buff_len",
        "bpf_seq_printf",
        "bpf_seq_write",
        "bpf_seq_printf_btf",
        "bpf_d_path",
        "bpf_get_func_arg",
        "bpf_get_func_ret",
        "bpf_get_func_arg_cnt",
        "bpf_get_attach_cookie",
        "bpf_perf_event_output",
        "bpf_get_stackid",
        "bpf_get_stack",
        "bpf_get_func_ip",
    ],
)];

/// The helper group of a variant (program type, attach type, whether it
/// has an attach target) and the helpers it measures itself: its program
/// type's ([`helper_group`]) when it has no attach target, else a
/// [`TARGET_HELPER_SHARING`] row's.
pub fn variant_helper_group(prog_type: &str, attach_type: Option<&str>, has_target: bool) -> Option<(&'static str, &'static [&'static str])> {
    if !has_target {
        return helper_group(prog_type);
    }
    TARGET_HELPER_SHARING.iter().find(|(p, a, _, _)| *p == prog_type && Some(*a) == attach_type).map(|(_, _, g, h)| (*g, *h))
}

/// `bpf_sk_base_func_proto` (net/core/filter.c) above `bpf_base_func_proto`.
const SK_BASE: &[&str] = &[
    "bpf_skc_to_tcp6_sock",
    "bpf_skc_to_tcp_sock",
    "bpf_skc_to_tcp_timewait_sock",
    "bpf_skc_to_tcp_request_sock",
    "bpf_skc_to_udp6_sock",
    "bpf_skc_to_unix_sock",
    "bpf_skc_to_mptcp_sock",
    "bpf_ktime_get_coarse_ns",
];
/// kernel/bpf/cgroup.c `cgroup_common_func_proto` (v6.18; `get_retval` and
/// `set_retval` per attach type).
const CGROUP_COMMON: &[&str] = &["bpf_get_local_storage", "bpf_get_retval", "bpf_set_retval"];
/// The current-task helpers kernel/bpf/cgroup.c answered for the cgroup
/// program types before v6.18 moved them into `bpf_base_func_proto`
/// (`cgroup_base_func_proto` of v5.10, `cgroup_current_func_proto` and
/// `cgroup_common_func_proto` of v6.1–v6.12; 5.10 also answered them in
/// `sysctl_func_proto` and the others' own switches), and the ones
/// `sk_msg_func_proto` answered itself through v6.12.
const CGROUP_CURRENT: &[&str] = &[
    "bpf_get_current_pid_tgid",
    "bpf_get_current_uid_gid",
    "bpf_get_current_comm",
    "bpf_get_cgroup_classid",
    "bpf_get_current_cgroup_id",
    "bpf_get_current_ancestor_cgroup_id",
    "bpf_current_task_under_cgroup",
];
/// net/core/filter.c `sk_filter_func_proto`.
const SK_FILTER: &[&str] =
    &["bpf_skb_load_bytes", "bpf_skb_load_bytes_relative", "bpf_get_socket_cookie", "bpf_get_netns_cookie", "bpf_get_socket_uid", "bpf_perf_event_output"];
/// net/core/filter.c `lwt_out_func_proto`.
const LWT_OUT: &[&str] = &[
    "bpf_skb_load_bytes",
    "bpf_skb_pull_data",
    "bpf_csum_diff",
    "bpf_get_cgroup_classid",
    "bpf_get_route_realm",
    "bpf_get_hash_recalc",
    "bpf_perf_event_output",
    "bpf_get_smp_processor_id",
    "bpf_skb_under_cgroup",
];

/// Program types whose `get_func_proto` hands every helper it does not
/// answer itself (through the functions it delegates to) to
/// kernel/bpf/helpers.c `bpf_base_func_proto`, with the helpers answered
/// above it: (program type, lists of cases). `bpf_base_func_proto` looks at
/// the program only for the loader's capabilities (alike for every type)
/// and, in `task_storage_*` and `get_task_stack`, to pick between two
/// protos with the same arguments; and verifier.c `check_helper_call`
/// decides a call with R1 the context and R2–R5 unset by the proto alone
/// (the proto lookup, `gpl_only`, `allowed()`, `might_sleep`, then
/// argument checks that see a `ctx` register in every type, which
/// `compatible_reg_types` accepts only for `ARG_PTR_TO_CTX`). So the
/// first such program of one sleepability leads the family: another one
/// measures only its own cases and the leader's, and takes the rest of the
/// leader's verdicts (on the kernel series of [`BASE_FAMILY_SERIES`]).
/// Cases read in Linux v6.18.19 (net/core/filter.c, kernel/bpf/cgroup.c,
/// net/netfilter/nf_bpf_link.c), with the earlier kernels' current-task
/// helpers ([`CGROUP_CURRENT`]), 5.10's `strtol`/`strtoul` in
/// `sysctl_func_proto` and 7.x's `setsockopt`/`getsockopt` in
/// `sock_filter_func_proto`, found by `tests/probe_sharing.rs` in the
/// per-variant probes of 5.10, 6.1, 6.12 and 7.2. Left out:
/// `lirc_mode2_func_proto` (no fallback to the base), SYSCALL (its chain is
/// the tracing one) and the tracing types (`bpf_tracing_func_proto`
/// answered most helpers itself before v6.18).
pub const BASE_FAMILY: &[(&str, &[&[&str]])] = &[
    ("BPF_PROG_TYPE_SOCKET_FILTER", &[SK_FILTER, SK_BASE]),
    ("BPF_PROG_TYPE_SCHED_CLS", &[TC_CLS_ACT, SK_BASE]),
    ("BPF_PROG_TYPE_SCHED_ACT", &[TC_CLS_ACT, SK_BASE]),
    (
        "BPF_PROG_TYPE_XDP",
        &[
            &[
                "bpf_perf_event_output",
                "bpf_get_smp_processor_id",
                "bpf_csum_diff",
                "bpf_xdp_adjust_head",
                "bpf_xdp_adjust_meta",
                "bpf_redirect",
                "bpf_redirect_map",
                "bpf_xdp_adjust_tail",
                "bpf_xdp_get_buff_len",
                "bpf_xdp_load_bytes",
                "bpf_xdp_store_bytes",
                "bpf_fib_lookup",
                "bpf_check_mtu",
                "bpf_sk_lookup_udp",
                "bpf_sk_lookup_tcp",
                "bpf_sk_release",
                "bpf_skc_lookup_tcp",
                "bpf_tcp_check_syncookie",
                "bpf_tcp_gen_syncookie",
                "bpf_tcp_raw_gen_syncookie_ipv4",
                "bpf_tcp_raw_gen_syncookie_ipv6",
                "bpf_tcp_raw_check_syncookie_ipv4",
                "bpf_tcp_raw_check_syncookie_ipv6",
            ],
            SK_BASE,
        ],
    ),
    (
        "BPF_PROG_TYPE_CGROUP_SKB",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_sk_fullsock",
                "bpf_sk_storage_get",
                "bpf_sk_storage_delete",
                "bpf_perf_event_output",
                "bpf_skb_cgroup_id",
                "bpf_skb_ancestor_cgroup_id",
                "bpf_sk_cgroup_id",
                "bpf_sk_ancestor_cgroup_id",
                "bpf_sk_lookup_tcp",
                "bpf_sk_lookup_udp",
                "bpf_sk_release",
                "bpf_skc_lookup_tcp",
                "bpf_tcp_sock",
                "bpf_get_listener_sock",
                "bpf_skb_ecn_set_ce",
            ],
            SK_FILTER,
            SK_BASE,
        ],
    ),
    (
        "BPF_PROG_TYPE_CGROUP_SOCK",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_get_socket_cookie",
                "bpf_get_netns_cookie",
                "bpf_perf_event_output",
                "bpf_sk_storage_get",
                "bpf_ktime_get_coarse_ns",
                "bpf_setsockopt",
                "bpf_getsockopt",
            ],
        ],
    ),
    (
        "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_bind",
                "bpf_get_socket_cookie",
                "bpf_get_netns_cookie",
                "bpf_perf_event_output",
                "bpf_sk_lookup_tcp",
                "bpf_sk_lookup_udp",
                "bpf_sk_release",
                "bpf_skc_lookup_tcp",
                "bpf_sk_storage_get",
                "bpf_sk_storage_delete",
                "bpf_setsockopt",
                "bpf_getsockopt",
            ],
            SK_BASE,
        ],
    ),
    ("BPF_PROG_TYPE_LWT_IN", &[&["bpf_lwt_push_encap"], LWT_OUT, SK_BASE]),
    ("BPF_PROG_TYPE_LWT_OUT", &[LWT_OUT, SK_BASE]),
    ("BPF_PROG_TYPE_LWT_XMIT", &[LWT_XMIT, LWT_OUT, SK_BASE]),
    ("BPF_PROG_TYPE_LWT_SEG6LOCAL", &[&["bpf_lwt_seg6_store_bytes", "bpf_lwt_seg6_action", "bpf_lwt_seg6_adjust_srh"], LWT_OUT, SK_BASE]),
    (
        "BPF_PROG_TYPE_SOCK_OPS",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_setsockopt",
                "bpf_getsockopt",
                "bpf_sock_ops_cb_flags_set",
                "bpf_sock_map_update",
                "bpf_sock_hash_update",
                "bpf_get_socket_cookie",
                "bpf_perf_event_output",
                "bpf_sk_storage_get",
                "bpf_sk_storage_delete",
                "bpf_get_netns_cookie",
                "bpf_load_hdr_opt",
                "bpf_store_hdr_opt",
                "bpf_reserve_hdr_opt",
                "bpf_tcp_sock",
            ],
            SK_BASE,
        ],
    ),
    (
        "BPF_PROG_TYPE_SK_SKB",
        &[
            &[
                "bpf_skb_store_bytes",
                "bpf_skb_load_bytes",
                "bpf_skb_pull_data",
                "bpf_skb_change_tail",
                "bpf_skb_change_head",
                "bpf_skb_adjust_room",
                "bpf_get_socket_cookie",
                "bpf_get_socket_uid",
                "bpf_sk_redirect_map",
                "bpf_sk_redirect_hash",
                "bpf_perf_event_output",
                "bpf_sk_lookup_tcp",
                "bpf_sk_lookup_udp",
                "bpf_sk_release",
                "bpf_skc_lookup_tcp",
            ],
            SK_BASE,
        ],
    ),
    (
        "BPF_PROG_TYPE_SK_MSG",
        &[
            &[
                "bpf_msg_redirect_map",
                "bpf_msg_redirect_hash",
                "bpf_msg_apply_bytes",
                "bpf_msg_cork_bytes",
                "bpf_msg_pull_data",
                "bpf_msg_push_data",
                "bpf_msg_pop_data",
                "bpf_perf_event_output",
                "bpf_sk_storage_get",
                "bpf_sk_storage_delete",
                "bpf_get_netns_cookie",
            ],
            CGROUP_CURRENT,
            SK_BASE,
        ],
    ),
    ("BPF_PROG_TYPE_FLOW_DISSECTOR", &[&["bpf_skb_load_bytes"], SK_BASE]),
    (
        "BPF_PROG_TYPE_SK_REUSEPORT",
        &[&["bpf_sk_select_reuseport", "bpf_skb_load_bytes", "bpf_skb_load_bytes_relative", "bpf_get_socket_cookie", "bpf_ktime_get_coarse_ns"]],
    ),
    ("BPF_PROG_TYPE_SK_LOOKUP", &[&["bpf_perf_event_output", "bpf_sk_assign", "bpf_sk_release"], SK_BASE]),
    ("BPF_PROG_TYPE_CGROUP_DEVICE", &[CGROUP_COMMON, CGROUP_CURRENT, &["bpf_perf_event_output"]]),
    (
        "BPF_PROG_TYPE_CGROUP_SYSCTL",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_sysctl_get_name",
                "bpf_sysctl_get_current_value",
                "bpf_sysctl_get_new_value",
                "bpf_sysctl_set_new_value",
                "bpf_ktime_get_coarse_ns",
                "bpf_perf_event_output",
                "bpf_strtol",
                "bpf_strtoul",
            ],
        ],
    ),
    (
        "BPF_PROG_TYPE_CGROUP_SOCKOPT",
        &[
            CGROUP_COMMON,
            CGROUP_CURRENT,
            &[
                "bpf_get_netns_cookie",
                "bpf_sk_storage_get",
                "bpf_sk_storage_delete",
                "bpf_setsockopt",
                "bpf_getsockopt",
                "bpf_tcp_sock",
                "bpf_perf_event_output",
            ],
        ],
    ),
    // net/netfilter/nf_bpf_link.c `bpf_nf_func_proto`: the base only.
    ("BPF_PROG_TYPE_NETFILTER", &[]),
];

/// net/core/filter.c `lwt_xmit_func_proto`'s own cases (it hands the rest
/// to `lwt_out_func_proto`).
const LWT_XMIT: &[&str] = &[
    "bpf_skb_get_tunnel_key",
    "bpf_skb_set_tunnel_key",
    "bpf_skb_get_tunnel_opt",
    "bpf_skb_set_tunnel_opt",
    "bpf_redirect",
    "bpf_clone_redirect",
    "bpf_skb_change_tail",
    "bpf_skb_change_head",
    "bpf_skb_store_bytes",
    "bpf_csum_update",
    "bpf_csum_level",
    "bpf_l3_csum_replace",
    "bpf_l4_csum_replace",
    "bpf_set_hash_invalid",
    "bpf_lwt_push_encap",
];

/// net/core/filter.c `tc_cls_act_func_proto` (SCHED_CLS and SCHED_ACT).
const TC_CLS_ACT: &[&str] = &[
    "bpf_skb_store_bytes",
    "bpf_skb_load_bytes",
    "bpf_skb_load_bytes_relative",
    "bpf_skb_pull_data",
    "bpf_csum_diff",
    "bpf_csum_update",
    "bpf_csum_level",
    "bpf_l3_csum_replace",
    "bpf_l4_csum_replace",
    "bpf_clone_redirect",
    "bpf_get_cgroup_classid",
    "bpf_skb_vlan_push",
    "bpf_skb_vlan_pop",
    "bpf_skb_change_proto",
    "bpf_skb_change_type",
    "bpf_skb_adjust_room",
    "bpf_skb_change_tail",
    "bpf_skb_change_head",
    "bpf_skb_get_tunnel_key",
    "bpf_skb_set_tunnel_key",
    "bpf_skb_get_tunnel_opt",
    "bpf_skb_set_tunnel_opt",
    "bpf_redirect",
    "bpf_redirect_neigh",
    "bpf_redirect_peer",
    "bpf_get_route_realm",
    "bpf_get_hash_recalc",
    "bpf_set_hash_invalid",
    "bpf_set_hash",
    "bpf_perf_event_output",
    "bpf_get_smp_processor_id",
    "bpf_skb_under_cgroup",
    "bpf_get_socket_cookie",
    "bpf_get_netns_cookie",
    "bpf_get_socket_uid",
    "bpf_fib_lookup",
    "bpf_check_mtu",
    "bpf_sk_fullsock",
    "bpf_sk_storage_get",
    "bpf_sk_storage_delete",
    "bpf_skb_get_xfrm_state",
    "bpf_skb_cgroup_classid",
    "bpf_skb_cgroup_id",
    "bpf_skb_ancestor_cgroup_id",
    "bpf_sk_lookup_tcp",
    "bpf_sk_lookup_udp",
    "bpf_sk_release",
    "bpf_tcp_sock",
    "bpf_get_listener_sock",
    "bpf_skc_lookup_tcp",
    "bpf_tcp_check_syncookie",
    "bpf_skb_ecn_set_ce",
    "bpf_tcp_gen_syncookie",
    "bpf_sk_assign",
    "bpf_skb_set_tstamp",
    "bpf_tcp_raw_gen_syncookie_ipv4",
    "bpf_tcp_raw_gen_syncookie_ipv6",
    "bpf_tcp_raw_check_syncookie_ipv4",
    "bpf_tcp_raw_check_syncookie_ipv6",
];

/// The kernel series whose cases [`BASE_FAMILY`] lists (major, minor):
/// 6.18 read in its source, 5.10, 6.1, 6.12 and 7.2 by their per-variant
/// probes in `data/probe`. Another series (a later one, or one between
/// these, whose functions may have had a case for a while) is asked in
/// full until its functions are read.
pub const BASE_FAMILY_SERIES: &[(u32, u32)] = &[(5, 10), (6, 1), (6, 12), (6, 18), (7, 2)];

/// Whether `kern_version` (a `KERNEL_VERSION` code,
/// `probe::sys::kernel_version_code`) is of one of `series`.
fn of_series(series: &[(u32, u32)], kern_version: u32) -> bool {
    series.contains(&(kern_version >> 16, (kern_version >> 8) & 0xff))
}

/// The helpers a program of type `prog_type` answers above
/// `bpf_base_func_proto`, if it is of the [`BASE_FAMILY`] on a kernel of
/// version code `kern_version`.
pub fn base_family_cases(prog_type: &str, kern_version: u32) -> Option<&'static [&'static [&'static str]]> {
    if !of_series(BASE_FAMILY_SERIES, kern_version) {
        return None;
    }
    BASE_FAMILY.iter().find(|(p, _)| *p == prog_type).map(|(_, c)| *c)
}

/// Whether `name` is among the `cases` of [`base_family_cases`].
pub fn in_cases(cases: &[&[&str]], name: &str) -> bool {
    cases.iter().any(|c| c.contains(&name))
}

/// The helpers an iterator target can add to an `iter` program: kernel/bpf/bpf_iter.c
/// `bpf_iter_get_func_proto` asks the target's `bpf_iter_reg.get_func_proto`
/// (for what `tracing_prog_func_proto` refused), and in v6.18.19 only two of
/// the 18 targets set one: net/ipv4/tcp_ipv4.c `bpf_iter_tcp_get_func_proto`
/// and net/unix/af_unix.c `bpf_iter_unix_get_func_proto`, each answering
/// `setsockopt` and `getsockopt` and nothing else (the per-variant probes
/// of 6.1, 6.12 and 7.2 in `data/probe`, which ask every refused helper of
/// every target, find the same). On the kernel series of
/// [`ITER_TARGET_SERIES`] a target is asked only these; on others, every
/// helper `iter` refused.
pub const ITER_TARGET_HELPERS: &[&str] = &["bpf_setsockopt", "bpf_getsockopt"];

/// The kernel series whose iterator targets were read (6.18) or probed in
/// full (6.1, 6.12, 7.2 in `data/probe`).
pub const ITER_TARGET_SERIES: &[(u32, u32)] = &[(6, 1), (6, 12), (6, 18), (7, 2)];

/// Whether a target context of an `iter` program on a kernel of version
/// code `kern_version` is asked helper `name` ([`ITER_TARGET_HELPERS`]).
pub fn iter_target_may_add(name: &str, kern_version: u32) -> bool {
    !of_series(ITER_TARGET_SERIES, kern_version) || ITER_TARGET_HELPERS.contains(&name)
}

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

/// The helper group of program type `prog_type` (the `get_func_proto` its
/// variants share with every type of the group) and the helpers measured in
/// every variant of it, or None when its variants do not share helper
/// verdicts.
pub fn helper_group(prog_type: &str) -> Option<(&'static str, &'static [&'static str])> {
    HELPER_SHARING.iter().find(|(p, _, _)| *p == prog_type).map(|(_, g, h)| (*g, *h))
}

/// The helpers measured in every member of struct_ops type `name`, or None
/// when its members do not share helper verdicts.
pub fn member_helper_exceptions(name: &str) -> Option<&'static [&'static str]> {
    MEMBER_HELPER_SHARING.iter().find(|(t, _, _)| *t == name).map(|(_, _, h)| *h)
}

/// Whether a follower must measure helper `name` rather than copy the
/// leader's verdict `leader`: an exception of the follower's program type or
/// of the leader's, or undecided.
pub fn helper_must_reprobe(name: &str, exceptions: &[&str], leader_exceptions: &[&str], leader: &Decision) -> bool {
    exceptions.contains(&name) || leader_exceptions.contains(&name) || matches!(leader, Decision::Undecided { .. })
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
        let p = [
            (2, true, true, false),
            (2, false, true, false),
            (2, false, true, false),
            (3, false, true, false),
            (27, false, false, false),
            (27, false, false, false),
        ];
        assert_eq!(leaders(&p), vec![1, 1, 1, 3, 4, 5]);
        // Only sleepable programs: the first leads.
        assert_eq!(leaders(&[(31, true, true, false), (31, true, true, false)]), vec![0, 0]);
        // tp_btf (costly), iter, iter.s: iter leads; only costly ones: the first.
        assert_eq!(leaders(&[(26, false, true, true), (26, false, true, false), (26, true, true, false)]), vec![1, 1, 1]);
        assert_eq!(leaders(&[(26, true, true, false), (26, false, true, true)]), vec![1, 1]);
    }

    #[test]
    fn helper_sharing_table() {
        assert_eq!(helper_group("BPF_PROG_TYPE_CGROUP_SOCK_ADDR").map(|(_, h)| h.contains(&"bpf_bind")), Some(true));
        assert_eq!(helper_group("BPF_PROG_TYPE_TRACING"), None);
        // tp_btf shares with kprobes; fentry and iter do not.
        let tp_btf = variant_helper_group("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_RAW_TP"), true);
        assert_eq!(tp_btf.map(|g| g.0), helper_group("BPF_PROG_TYPE_KPROBE").map(|g| g.0));
        assert!(tp_btf.is_some_and(|g| g.1.contains(&"bpf_seq_printf") && g.1.contains(&"bpf_get_func_ip")));
        assert_eq!(variant_helper_group("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_ITER"), true), None);
        assert_eq!(variant_helper_group("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FENTRY"), true), None);
        assert_eq!(variant_helper_group("BPF_PROG_TYPE_LSM", Some("BPF_LSM_MAC"), true), None);
        assert_eq!(variant_helper_group("BPF_PROG_TYPE_XDP", Some("BPF_XDP"), false).map(|g| g.0), Some("xdp_func_proto"));
        assert_eq!(helper_group("BPF_PROG_TYPE_STRUCT_OPS"), None);
        assert_eq!(helper_group("BPF_PROG_TYPE_SCHED_ACT").map(|g| g.0), helper_group("BPF_PROG_TYPE_SCHED_CLS").map(|g| g.0));
        assert!(helper_must_reprobe("bpf_bind", &["bpf_bind"], &[], &Decision::VerifierAccepted));
        assert!(helper_must_reprobe("bpf_lwt_push_encap", &[], &["bpf_lwt_push_encap"], &Decision::VerifierAccepted));
        assert!(!helper_must_reprobe("bpf_map_lookup_elem", &["bpf_bind"], &[], &refused("program of this type cannot use helper")));
        assert!(helper_must_reprobe("bpf_map_lookup_elem", &[], &[], &Decision::Undecided { reason: "EPERM".into() }));
        assert_eq!(member_helper_exceptions("tcp_congestion_ops").map(<[_]>::len), Some(2));
        assert_eq!(member_helper_exceptions("sched_ext_ops"), None);
    }

    #[test]
    fn iter_targets_asked_for_sockopt_only_on_kernels_read() {
        let v618 = (6 << 16) | (18 << 8);
        assert!(iter_target_may_add("bpf_setsockopt", v618) && iter_target_may_add("bpf_getsockopt", v618));
        assert!(!iter_target_may_add("bpf_skb_load_bytes", v618));
        // A later kernel, or one between the series read: every refused helper.
        assert!(iter_target_may_add("bpf_skb_load_bytes", (7 << 16) | (3 << 8)));
        assert!(iter_target_may_add("bpf_skb_load_bytes", (6 << 16) | (6 << 8) | 40));
    }

    #[test]
    fn base_family_is_gated_by_the_kernels_read() {
        let v = |a: u32, b: u32| (a << 16) | (b << 8);
        let xdp = base_family_cases("BPF_PROG_TYPE_XDP", v(6, 18));
        assert!(xdp.is_some_and(|c| in_cases(c, "bpf_xdp_adjust_head") && in_cases(c, "bpf_skc_to_tcp_sock") && !in_cases(c, "bpf_map_lookup_elem")));
        assert_eq!(base_family_cases("BPF_PROG_TYPE_NETFILTER", v(6, 18)).map(<[_]>::len), Some(0));
        // Not read: later or earlier kernels, and types whose chain is not the base's.
        assert!(base_family_cases("BPF_PROG_TYPE_XDP", v(7, 3)).is_none());
        assert!(base_family_cases("BPF_PROG_TYPE_XDP", v(5, 4)).is_none());
        assert!(base_family_cases("BPF_PROG_TYPE_XDP", v(5, 10)).is_some() && base_family_cases("BPF_PROG_TYPE_XDP", v(7, 2) | 99).is_some());
        // A series between those read: asked in full.
        assert!(base_family_cases("BPF_PROG_TYPE_XDP", v(6, 6) | 40).is_none());
        for t in ["BPF_PROG_TYPE_LIRC_MODE2", "BPF_PROG_TYPE_SYSCALL", "BPF_PROG_TYPE_KPROBE", "BPF_PROG_TYPE_TRACING", "BPF_PROG_TYPE_STRUCT_OPS"] {
            assert!(base_family_cases(t, v(6, 18)).is_none(), "{t}");
        }
    }

    #[test]
    fn hook_groups_copy_membership_refusals_only() {
        let hooks: Vec<String> = KFUNC_HOOKS.iter().map(|h| h.to_string()).collect();
        assert!(kfunc_hooks_known(&hooks));
        // 6.1: five hooks, tracepoints of none.
        let old: Vec<String> =
            ["BTF_KFUNC_HOOK_XDP", "BTF_KFUNC_HOOK_TC", "BTF_KFUNC_HOOK_STRUCT_OPS", "BTF_KFUNC_HOOK_TRACING", "BTF_KFUNC_HOOK_SYSCALL", "BTF_KFUNC_HOOK_MAX"]
                .iter()
                .map(|h| h.to_string())
                .collect();
        assert!(!kfunc_hooks_known(&old));
        assert_eq!(kfunc_hook_group("BPF_PROG_TYPE_PERF_EVENT"), Some("tracing"));
        assert_eq!(kfunc_hook_group("BPF_PROG_TYPE_LSM"), None);
        assert_eq!(kfunc_hook_group("BPF_PROG_TYPE_SOCK_OPS"), kfunc_hook_group("BPF_PROG_TYPE_CGROUP_SKB"));
        assert!(hook_copies("bpf_task_acquire", &refused("calling kernel function bpf_task_acquire is not allowed")));
        // Not another kfunc's refusal, not a sleepability refusal, not a filtered kfunc, never an acceptance.
        assert!(!hook_copies("bpf_task_release", &refused("calling kernel function bpf_task_acquire is not allowed")));
        assert!(!hook_copies("bpf_copy_from_user_str", &refused("program must be sleepable to call sleepable kfunc bpf_copy_from_user_str")));
        assert!(!hook_copies("bpf_sock_destroy", &refused("calling kernel function bpf_sock_destroy is not allowed")));
        assert!(!hook_copies("bpf_task_acquire", &Decision::VerifierAccepted));
    }

    #[test]
    fn one_hook_copies_first_argument_refusals() {
        assert!(same_kfunc_hook("BPF_PROG_TYPE_CGROUP_SKB", "BPF_PROG_TYPE_CGROUP_SYSCTL"));
        // Their hooks moved between kernels of one enum layout.
        assert!(!same_kfunc_hook("BPF_PROG_TYPE_CGROUP_SKB", "BPF_PROG_TYPE_SOCK_OPS"));
        assert!(!same_kfunc_hook("BPF_PROG_TYPE_TRACEPOINT", "BPF_PROG_TYPE_RAW_TRACEPOINT"));
        let rej = |m: &str| Decision::RejectedOther { message: m.into() };
        assert!(hook_copies_argument_refusal("bpf_task_release", &rej("R1 must be referenced or trusted"), true));
        assert!(hook_copies_argument_refusal("bpf_iter_num_new", &rej("arg#0 expected pointer to an iterator on stack"), true));
        // A context parameter, a context access, a later argument, an acceptance, a special or filtered kfunc: asked.
        assert!(!hook_copies_argument_refusal("bpf_task_release", &rej("R1 must be referenced or trusted"), false));
        assert!(!hook_copies_argument_refusal("bpf_cpumask_and", &rej("invalid bpf_context access off=39 size=1"), true));
        assert!(!hook_copies_argument_refusal("bpf_cpumask_and", &rej("R1 type=ctx expected=fp"), true));
        assert!(!hook_copies_argument_refusal("bpf_obj_drop_impl", &rej("R2 is not a scalar"), true));
        assert!(!hook_copies_argument_refusal("bpf_rcu_read_lock", &Decision::VerifierAccepted, true));
        assert!(!hook_copies_argument_refusal("bpf_throw", &rej("R1 is not a scalar"), true));
        assert!(!hook_copies_argument_refusal(
            "bpf_sock_destroy",
            &rej("arg#0 pointer type STRUCT sock_common must point to scalar, or struct with scalar"),
            true
        ));
    }

    #[test]
    fn filtered_kfuncs_of_other_hooks() {
        let no = refused("calling kernel function bpf_session_cookie is not allowed");
        // A session kfunc's filter runs in kprobes only.
        assert!(filter_elsewhere("bpf_session_cookie", "BPF_PROG_TYPE_XDP", &no));
        assert!(!filter_elsewhere("bpf_session_cookie", "BPF_PROG_TYPE_KPROBE", &no));
        // Only the refusal as no member of that very kfunc, never an acceptance.
        assert!(!filter_elsewhere("bpf_session_is_return", "BPF_PROG_TYPE_XDP", &no));
        assert!(!filter_elsewhere("bpf_session_cookie", "BPF_PROG_TYPE_XDP", &Decision::VerifierAccepted));
        // The fs kfuncs: filtered in the tracing hook, LSM's.
        let fs = refused("calling kernel function bpf_put_file is not allowed");
        assert!(filter_elsewhere("bpf_put_file", "BPF_PROG_TYPE_STRUCT_OPS", &fs));
        assert!(!filter_elsewhere("bpf_put_file", "BPF_PROG_TYPE_LSM", &fs));
        assert!(!filter_elsewhere("bpf_put_file", "BPF_PROG_TYPE_TRACEPOINT", &fs));
        // The common hook's (arena) and allowlisted kfuncs: never.
        let arena = refused("calling kernel function bpf_arena_alloc_pages is not allowed");
        assert!(!filter_elsewhere("bpf_arena_alloc_pages", "BPF_PROG_TYPE_XDP", &arena));
        assert!(!filter_elsewhere("bpf_cgroup_read_xattr", "BPF_PROG_TYPE_XDP", &refused("calling kernel function bpf_cgroup_read_xattr is not allowed")));
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
        // Argument refusals carry over to a sleepable follower, not acceptances or later refusals.
        let arg = Decision::RejectedOther { message: "arg#0 expected pointer to an iterator on stack".into() };
        assert!(!must_reprobe("bpf_iter_task_new", &arg, false, true));
        assert!(!must_reprobe("bpf_task_acquire", &Decision::RejectedOther { message: "R1 must be referenced or trusted".into() }, false, true));
        assert!(must_reprobe(
            "bpf_rcu_read_lock",
            &Decision::RejectedOther { message: "BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region".into() },
            false,
            true
        ));
        assert!(must_reprobe("bpf_iter_task_new", &arg, true, false));
        assert!(
            argument_refusal("R12 is not a scalar")
                && !argument_refusal("Rx is not")
                && !argument_refusal("R is")
                && !argument_refusal("Unreleased reference id=2")
        );
        // A sleepable leader says nothing about KF_SLEEPABLE for a non-sleepable follower.
        assert!(must_reprobe("bpf_task_acquire", &Decision::RejectedOther { message: "R1 must be referenced".into() }, true, false));
        assert!(must_reprobe("x", &refused("css_task_iter is only allowed in bpf_lsm, bpf_iter and sleepable progs"), false, false));
        assert!(must_reprobe("bpf_xdp_metadata_rx_hash", &Decision::Undecided { reason: "metadata kfuncs require device-bound program".into() }, false, false));
    }
}
