//! Rule family: the kernel's context filters, mirrored where the probe
//! cannot see the program's own context (its attach type, its struct_ops
//! member, its LSM hook). Each rule applies only to a kernel whose BTF
//! shows the filter (the FUNC of the filter function, or the set it reads
//! in `.BTF_ids`), never by release number:
//!
//! - **`tracing_iter_filter`** (net/core/filter.c, v6.5): the
//!   `bpf_sk_iter_kfunc_ids` set (`bpf_sock_destroy`) is registered for
//!   `BPF_PROG_TYPE_TRACING`, and the filter refuses it (-EACCES, "calling
//!   kernel function bpf_sock_destroy is not allowed") to every program
//!   whose `expected_attach_type` is not `BPF_TRACE_ITER`. Which iterator
//!   is not looked at (the kfunc itself returns -EOPNOTSUPP at run time
//!   for sockets other than TCP and UDP).
//! - **`bpf_qdisc_kfunc_filter`** (net/sched/bpf_qdisc.c, v6.16): for a
//!   program implementing a member of `struct Qdisc_ops`, a kfunc of
//!   `qdisc_kfunc_ids` is allowed only if it is in `qdisc_common_kfunc_set`,
//!   or in `qdisc_enqueue_kfunc_set` for `enqueue`, or in
//!   `qdisc_dequeue_kfunc_set` for `dequeue` (the prologue/epilogue kfuncs
//!   are for the kernel's own generated code, in no set).
//! - **Sleepable LSM hooks** (kernel/bpf/bpf_lsm.c
//!   `bpf_lsm_is_sleepable_hook`, the `sleepable_lsm_hooks` BTF_SET;
//!   verifier.c `bpf_check_attach_target`: "bpf_lsm_X is not sleepable"):
//!   an `lsm.s/X` program loads only on a hook of that set. The set is
//!   found in `.BTF_ids` by shape ([`crate::btf_ids::scan_func_sets`]): of
//!   the two BTF_SETs of `bpf_lsm_*` FUNCs that hold `bpf_lsm_file_open`
//!   (every hook, `bpf_lsm_hooks`; the sleepable ones), the smaller;
//!   anything else and the rule stays silent.
//!
//! - **`scx_kfunc_context_filter`** (kernel/sched/ext.c; in the Debian
//!   7.2 and 7.3 builds, absent from 6.12, which checks `scx_kf_allowed`
//!   only when the scheduler runs, so the load succeeds): a kfunc of a
//!   context-sensitive sched_ext set is allowed in a `sched_ext_ops` member
//!   only if the member's row of `scx_kf_allow_flags[]` names that set
//!   (`select_cpu`/`enqueue`: select_cpu + enqueue_dispatch; `dispatch`:
//!   enqueue_dispatch + dispatch; `cpu_release`: cpu_release; `init`,
//!   `exit`, `init_task`, `dump`, `cpu_online`/`offline`, `cgroup_*`,
//!   `sub_attach`/`detach`: unlocked; `init_cids`: unlocked + init_cids;
//!   every other member: none). Kfuncs of `scx_kfunc_ids_any`, `_idle`
//!   and `_cid` are allowed everywhere, except that a `sched_ext_ops_cid`
//!   program may not call `scx_kfunc_ids_cpu_only`. The sets are read from
//!   the kernel's `.BTF_ids` (flagged set8 records of `scx_*` kfuncs, each
//!   told by a kfunc only it holds: [`ScxSets`]); the member table is the
//!   kernel's own data (`.rodata`, not in BTF), cited above. An unknown
//!   member or a set not told apart and the rule stays silent.
//! - **`hid_bpf_ops_check_member`** (drivers/hid/bpf/hid_bpf_struct_ops.c,
//!   v6.11+: `hid_rdesc_fixup`, `hid_hw_request` and
//!   `hid_hw_output_report` may sleep, every other member returns -EINVAL
//!   for a sleepable program; verifier.c `check_struct_ops_btf_id`:
//!   "attach to unsupported member hid_device_event of struct
//!   hid_bpf_ops"): a `struct_ops.s/` program on another `hid_bpf_ops`
//!   member is refused. The HID-BPF kfuncs themselves have no filter
//!   (`hid_bpf_kfunc_ids` is registered for struct_ops without `.filter`;
//!   `hid_bpf_syscall_kfunc_ids` for syscall programs); their
//!   `KF_SLEEPABLE` flags, from `.BTF_ids`, are judged with the context
//!   that runs each call ([`super::context`]).
//!
//! The arena kfuncs are judged from the probe's arena context
//! ([`super::probe`]); without a probe they stay `unknown`.

use super::{Reached, Target};
use crate::btf::{Kind, TypeId};
use crate::object::{essential, BpfObject, ExternKind, Program};
use crate::uapi::{AttachType, ProgType};
use crate::vocab::{Reason, ReasonKind as R};
use std::collections::BTreeSet;

/// Whether the kernel's vmlinux BTF has a FUNC named `name` (a filter
/// function: address-taken, so never inlined away).
fn has_func(t: &Target, name: &str) -> bool {
    t.kernel.vmlinux().by_name(name).any(|ty| ty.kind == Kind::Func)
}

/// net/sched/bpf_qdisc.c (v6.16+): `qdisc_common_kfunc_set`,
/// `qdisc_enqueue_kfunc_set`, `qdisc_dequeue_kfunc_set`; every other kfunc
/// of `qdisc_kfunc_ids` is refused to every member.
const QDISC_KFUNCS: &[&str] = &[
    "bpf_skb_get_hash",
    "bpf_kfree_skb",
    "bpf_qdisc_skb_drop",
    "bpf_dynptr_from_skb",
    "bpf_qdisc_watchdog_schedule",
    "bpf_qdisc_init_prologue",
    "bpf_qdisc_reset_destroy_epilogue",
    "bpf_qdisc_bstats_update",
];
const QDISC_COMMON: &[&str] = &["bpf_skb_get_hash", "bpf_kfree_skb", "bpf_dynptr_from_skb"];
const QDISC_ENQUEUE: &[&str] = &["bpf_qdisc_skb_drop", "bpf_qdisc_watchdog_schedule"];
const QDISC_DEQUEUE: &[&str] = &["bpf_qdisc_watchdog_schedule", "bpf_qdisc_bstats_update"];

/// The kfuncs the reachable code calls (essential names), with the name
/// the object gives each.
fn called_kfuncs<'o>(obj: &'o BpfObject, reached: &Reached) -> BTreeSet<(&'o str, &'o str)> {
    reached
        .calls
        .iter()
        .filter_map(|&e| obj.externs.get(e as usize))
        .filter(|x| x.kind == ExternKind::Kfunc)
        .map(|x| (essential(&x.name), x.name.as_str()))
        .collect()
}

/// The member of a struct_ops type `types` accepts that program `p`
/// implements (the same struct and member in every map using it), if any:
/// (struct type, member).
fn struct_ops_member<'o>(obj: &'o BpfObject, p: &Program, types: &dyn Fn(&str) -> bool) -> Option<(&'o str, &'o str)> {
    let mut found: Option<(&str, &str)> = None;
    for s in obj.struct_ops.iter().filter(|s| types(essential(&s.kernel_type))) {
        for slot in s.slots.iter().filter(|sl| sl.program == p.name) {
            let this = (essential(&s.kernel_type), slot.member.as_str());
            match found {
                None => found = Some(this),
                Some(m) if m == this => {}
                Some(_) => return None,
            }
        }
    }
    found
}

fn qdisc_member<'o>(obj: &'o BpfObject, p: &Program) -> Option<&'o str> {
    struct_ops_member(obj, p, &|t| t == "Qdisc_ops").map(|(_, m)| m)
}

fn refused(name: &str, ess: &str, why: String) -> Reason {
    Reason::fact(
        R::KfuncNotAllowed,
        name,
        format!("kfunc `{ess}` is not allowed here: {why}; the verifier says `calling kernel function {ess} is not allowed`"),
    )
}

/// The kfunc filters' refusals for the calls of `p`'s reachable code.
/// A refusal replaces what the probe said about the same kfunc (it was
/// measured in another context: another attach type or member).
pub(super) fn kfuncs(t: &Target, obj: &BpfObject, p: &Program, reached: &Reached, rs: &mut Vec<Reason>) {
    let calls = called_kfuncs(obj, reached);
    if calls.is_empty() {
        return;
    }
    let mut out = Vec::new();
    if p.prog_type == Some(ProgType::Tracing) && p.expected_attach != Some(AttachType::TraceIter) && has_func(t, "tracing_iter_filter") {
        for &(ess, name) in calls.iter().filter(|(ess, _)| *ess == "bpf_sock_destroy") {
            out.push(refused(
                name,
                ess,
                "net/core/filter.c tracing_iter_filter allows it only to iterator programs (expected_attach_type BPF_TRACE_ITER)".into(),
            ));
        }
    }
    if let (Some(ProgType::StructOps), Some(member)) = (p.prog_type, qdisc_member(obj, p)) {
        if has_func(t, "bpf_qdisc_kfunc_filter") {
            for &(ess, name) in calls.iter().filter(|(ess, _)| QDISC_KFUNCS.contains(ess)) {
                let allowed = QDISC_COMMON.contains(&ess)
                    || (member == "enqueue" && QDISC_ENQUEUE.contains(&ess))
                    || (member == "dequeue" && QDISC_DEQUEUE.contains(&ess));
                if !allowed {
                    out.push(refused(
                        name,
                        ess,
                        format!("net/sched/bpf_qdisc.c bpf_qdisc_kfunc_filter does not allow it in Qdisc_ops.{member} (qdisc_enqueue_kfunc_set: enqueue only; qdisc_dequeue_kfunc_set: dequeue only)"),
                    ));
                }
            }
        }
    }
    if let (Some(ProgType::StructOps), Some((st, member))) = (p.prog_type, struct_ops_member(obj, p, &|t| t == "sched_ext_ops" || t == "sched_ext_ops_cid")) {
        if has_func(t, "scx_kfunc_context_filter") {
            if let Some(sets) = ScxSets::of(t) {
                let vm = t.kernel.vmlinux();
                for &(ess, name) in &calls {
                    let Some(id) = vm.by_name(ess).find(|ty| ty.kind == Kind::Func).map(|ty| ty.id) else { continue };
                    if let Some(why) = sets.refusal(st, member, id) {
                        out.push(refused(name, ess, why));
                    }
                }
            }
        }
    }
    for r in out {
        rs.retain(|x| !(x.name == r.name && matches!(x.kind, R::KfuncAllowed | R::KfuncNotAllowed | R::ProbeUndecided)));
        rs.push(r);
    }
}

/// kernel/sched/ext.c `enum scx_kf_allow_flags`: the context-sensitive
/// sched_ext kfunc groups a member may be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ScxGroup {
    /// `scx_kfunc_ids_unlocked`
    Unlocked,
    /// `scx_kfunc_ids_init_cids`
    InitCids,
    /// `scx_kfunc_ids_cpu_release`
    CpuRelease,
    /// `scx_kfunc_ids_dispatch`
    Dispatch,
    /// `scx_kfunc_ids_enqueue_dispatch`
    Enqueue,
    /// `scx_kfunc_ids_select_cpu` (kernel/sched/ext_idle.c)
    SelectCpu,
}

impl ScxGroup {
    /// Each group's set in `.BTF_ids`: the one flagged set8 record of
    /// `scx_*` kfuncs holding `has` and none of `not` (names as the kernel
    /// spells them; resolve_btfids sorts records by id, so the set symbols
    /// Debian strips are not needed).
    fn anchor(self) -> (&'static str, &'static [&'static str]) {
        match self {
            ScxGroup::Unlocked => ("scx_bpf_create_dsq", &[]),
            ScxGroup::InitCids => ("scx_bpf_cid_override", &[]),
            ScxGroup::CpuRelease => ("scx_bpf_reenqueue_local", &[]),
            ScxGroup::Dispatch => ("scx_bpf_dsq_move_to_local", &[]),
            ScxGroup::Enqueue => ("scx_bpf_dsq_insert", &["scx_bpf_dsq_move_to_local"]),
            ScxGroup::SelectCpu => ("scx_bpf_select_cpu_dfl", &["scx_bpf_create_dsq", "scx_bpf_kick_cpu"]),
        }
    }

    const ALL: [ScxGroup; 6] = [ScxGroup::Unlocked, ScxGroup::InitCids, ScxGroup::CpuRelease, ScxGroup::Dispatch, ScxGroup::Enqueue, ScxGroup::SelectCpu];

    fn set_name(self) -> &'static str {
        match self {
            ScxGroup::Unlocked => "scx_kfunc_ids_unlocked",
            ScxGroup::InitCids => "scx_kfunc_ids_init_cids",
            ScxGroup::CpuRelease => "scx_kfunc_ids_cpu_release",
            ScxGroup::Dispatch => "scx_kfunc_ids_dispatch",
            ScxGroup::Enqueue => "scx_kfunc_ids_enqueue_dispatch",
            ScxGroup::SelectCpu => "scx_kfunc_ids_select_cpu",
        }
    }
}

/// kernel/sched/ext.c `scx_kf_allow_flags[]`, by `sched_ext_ops` member:
/// `None` for a member the table is not known to cover (the rule stays
/// silent), `Some(&[])` for the members it leaves out (no
/// context-sensitive kfunc).
fn scx_allowed(member: &str) -> Option<&'static [ScxGroup]> {
    use ScxGroup::*;
    Some(match member {
        "select_cpu" | "enqueue" => &[SelectCpu, Enqueue],
        "dispatch" => &[Enqueue, Dispatch],
        "cpu_release" => &[CpuRelease],
        "init_task"
        | "dump"
        | "cgroup_init"
        | "cgroup_exit"
        | "cgroup_prep_move"
        | "cgroup_cancel_move"
        | "cgroup_set_weight"
        | "cgroup_set_bandwidth"
        | "cgroup_set_idle"
        | "sub_attach"
        | "sub_detach"
        | "cpu_online"
        | "cpu_offline"
        | "init"
        | "exit" => &[Unlocked],
        "init_cids" => &[Unlocked, InitCids],
        "runnable" | "running" | "stopping" | "quiescent" | "yield" | "core_sched_before" | "set_weight" | "set_cpumask" | "update_idle" | "cpu_acquire"
        | "enable" | "disable" | "exit_task" | "dump_cpu" | "dump_task" | "tick" | "dequeue" | "cgroup_move" => &[],
        _ => return None,
    })
}

/// The sched_ext kfunc sets of a kernel, from its `.BTF_ids`.
#[derive(Debug, Default)]
struct ScxSets {
    /// Each context-sensitive group's kfuncs.
    groups: Vec<(ScxGroup, Vec<TypeId>)>,
    /// `scx_kfunc_ids_cpu_only` (holds `scx_bpf_kick_cpu` and
    /// `scx_bpf_pick_idle_cpu`), refused to `sched_ext_ops_cid` programs.
    cpu_only: Vec<TypeId>,
    /// Every other set of `scx_*` kfuncs (`_any`, `_idle`, `_cid`, ...):
    /// allowed in every member.
    unrestricted: Vec<TypeId>,
}

impl ScxSets {
    /// `None` unless every group present is told apart (one record each).
    fn of(t: &Target) -> Option<ScxSets> {
        let vm = &t.kernel.kernel().vmlinux;
        let ids = vm.btf_ids.as_ref()?;
        let btf = &vm.btf;
        let name = |id: &TypeId| btf.ty(*id).map(|ty| ty.name()).unwrap_or("");
        let scx_name = |n: &str| n.starts_with("scx_") || n.starts_with("__scx_") || n.starts_with("bpf_iter_scx_");
        let records: Vec<Vec<TypeId>> = crate::btf_ids::scan_set8(ids.as_slice(), btf.endian(), btf, u32::MAX)
            .into_iter()
            .filter(|r| r.is_kfunc_set())
            .map(|r| r.pairs.into_iter().map(|(id, _)| id).collect::<Vec<_>>())
            .filter(|r: &Vec<TypeId>| r.iter().all(|id| scx_name(name(id))))
            .collect();
        let holds = |r: &[TypeId], n: &str| r.iter().any(|id| name(id) == n);
        let mut sets = ScxSets::default();
        let mut claimed = vec![false; records.len()];
        for g in ScxGroup::ALL {
            let (has, not) = g.anchor();
            let found: Vec<usize> = (0..records.len()).filter(|&i| holds(&records[i], has) && !not.iter().any(|n| holds(&records[i], n))).collect();
            match found.as_slice() {
                [] => {}
                &[i] => {
                    claimed[i] = true;
                    sets.groups.push((g, records[i].clone()));
                }
                _ => return None,
            }
        }
        for (i, r) in records.iter().enumerate().filter(|(i, _)| !claimed[*i]) {
            if holds(r, "scx_bpf_kick_cpu") && holds(r, "scx_bpf_pick_idle_cpu") {
                if !sets.cpu_only.is_empty() {
                    return None;
                }
                sets.cpu_only = records[i].clone();
            } else {
                sets.unrestricted.extend_from_slice(r);
            }
        }
        sets.unrestricted.sort_unstable();
        sets.groups.iter().any(|(g, _)| *g == ScxGroup::Dispatch).then_some(sets)
    }

    /// Why `scx_kfunc_context_filter` refuses kfunc `id` in `member` of
    /// `st_type`, or `None` when it allows it or the rule cannot tell.
    fn refusal(&self, st_type: &str, member: &str, id: TypeId) -> Option<String> {
        let in_groups: Vec<ScxGroup> = self.groups.iter().filter(|(_, ids)| ids.contains(&id)).map(|(g, _)| *g).collect();
        let cid = st_type == "sched_ext_ops_cid";
        if cid && self.cpu_only.contains(&id) {
            return Some(format!(
                "kernel/sched/ext.c scx_kfunc_context_filter refuses scx_kfunc_ids_cpu_only to sched_ext_ops_cid programs ({st_type}.{member})"
            ));
        }
        if in_groups.is_empty() || self.unrestricted.binary_search(&id).is_ok() {
            return None;
        }
        let allowed = scx_allowed(member)?;
        if in_groups.iter().any(|g| allowed.contains(g)) {
            return None;
        }
        let sets: Vec<&str> = in_groups.iter().map(|g| g.set_name()).collect();
        Some(format!(
            "kernel/sched/ext.c scx_kfunc_context_filter does not allow {} in {st_type}.{member} (scx_kf_allow_flags[] gives it {})",
            sets.join(" / "),
            if allowed.is_empty() { "no context-sensitive set".to_string() } else { allowed.iter().map(|g| g.set_name()).collect::<Vec<_>>().join(" + ") }
        ))
    }
}

/// `hid_bpf_ops` members whose programs may sleep
/// (drivers/hid/bpf/hid_bpf_struct_ops.c `hid_bpf_ops_check_member`).
const HID_SLEEPABLE_MEMBERS: &[&str] = &["hid_rdesc_fixup", "hid_hw_request", "hid_hw_output_report"];

/// A sleepable program on a `hid_bpf_ops` member that may not sleep, on a
/// kernel (vmlinux or module) with `hid_bpf_ops_check_member`.
pub(super) fn struct_ops_sleepable(t: &Target, obj: &BpfObject, p: &Program, rs: &mut Vec<Reason>) {
    if p.prog_type != Some(ProgType::StructOps) || !p.sleepable {
        return;
    }
    let Some((st, member)) = struct_ops_member(obj, p, &|t| t == "hid_bpf_ops") else { return };
    if HID_SLEEPABLE_MEMBERS.contains(&member) {
        return;
    }
    let check_member = "hid_bpf_ops_check_member";
    let known = std::iter::once(&t.kernel.kernel().vmlinux)
        .chain(t.kernel.modules_naming(check_member))
        .any(|kb| kb.btf.by_name(check_member).any(|ty| ty.kind == Kind::Func));
    if !known {
        return;
    }
    rs.push(Reason::fact(
        R::AttachTargetNotSleepable,
        &format!("{st}.{member}"),
        format!(
            "`{st}.{member}` may not sleep (drivers/hid/bpf/hid_bpf_struct_ops.c hid_bpf_ops_check_member: only {} take sleepable programs): the verifier says `attach to unsupported member {member} of struct {st}` (use SEC(\"struct_ops/{member}\"))",
            HID_SLEEPABLE_MEMBERS.join(", ")
        ),
    ));
}

/// The hooks a sleepable LSM program may attach to, from the kernel's
/// `.BTF_ids` (see the module doc); `None` when they cannot be told.
pub fn sleepable_lsm_hooks(t: &Target) -> Option<Vec<TypeId>> {
    let vm = &t.kernel.kernel().vmlinux;
    let ids = vm.btf_ids.as_ref()?;
    if !has_func(t, "bpf_lsm_is_sleepable_hook") {
        return None;
    }
    let btf = &vm.btf;
    let file_open = btf.by_name("bpf_lsm_file_open").find(|ty| ty.kind == Kind::Func)?.id;
    let mut sets: Vec<Vec<TypeId>> = crate::btf_ids::scan_func_sets(ids.as_slice(), btf.endian(), btf, 8, &|n| n.starts_with("bpf_lsm_"))
        .into_iter()
        .filter(|s| s.binary_search(&file_open).is_ok())
        .collect();
    sets.sort_by_key(|s| s.len());
    sets.dedup();
    match sets.as_slice() {
        [sleepable, all] if sleepable.len() < all.len() && sleepable.iter().all(|id| all.binary_search(id).is_ok()) => Some(sleepable.clone()),
        _ => None,
    }
}

/// A sleepable LSM program on a hook the kernel does not let sleep.
pub(super) fn lsm_sleepable(t: &Target, p: &Program, rs: &mut Vec<Reason>) {
    if p.prog_type != Some(ProgType::Lsm) || !p.sleepable {
        return;
    }
    let Some(hook) = &p.attach_target else { return };
    let func = format!("bpf_lsm_{hook}");
    let Some(id) = t.kernel.vmlinux().by_name(&func).find(|ty| ty.kind == Kind::Func).map(|ty| ty.id) else { return };
    let Some(set) = sleepable_lsm_hooks(t) else { return };
    if set.binary_search(&id).is_err() {
        rs.push(Reason::fact(
            R::AttachTargetNotSleepable,
            &func,
            format!(
                "`{hook}` is not a sleepable LSM hook on this kernel (kernel/bpf/bpf_lsm.c sleepable_lsm_hooks, bpf_lsm_is_sleepable_hook): the verifier says `{func} is not sleepable` (use SEC(\"lsm/{hook}\"))"
            ),
        ));
    }
}
