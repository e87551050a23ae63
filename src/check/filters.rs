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
//! Filters the probe measures in the program's own context are not
//! mirrored: sched_ext's per-callback `scx_kfunc_context_filter` (7.x;
//! 6.12 checks `scx_kf_allowed` only at run time, so the load succeeds)
//! and the hid_bpf and arena kfuncs are judged from the probe's
//! struct_ops members and arena context ([`super::probe`],
//! [`super::context`]); without a probe they stay `unknown`.

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

/// The `Qdisc_ops` member program `p` implements (the same in every map
/// using it), if any.
fn qdisc_member<'o>(obj: &'o BpfObject, p: &Program) -> Option<&'o str> {
    let mut found: Option<&str> = None;
    for s in obj.struct_ops.iter().filter(|s| essential(&s.kernel_type) == "Qdisc_ops") {
        for slot in s.slots.iter().filter(|sl| sl.program == p.name) {
            match found {
                None => found = Some(slot.member.as_str()),
                Some(m) if m == slot.member => {}
                Some(_) => return None,
            }
        }
    }
    found
}

fn refused(name: &str, ess: &str, why: String) -> Reason {
    Reason::fact(R::KfuncNotAllowed, name, format!("kfunc `{ess}` is not allowed here: {why}; the verifier says `calling kernel function {ess} is not allowed`"))
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
    for r in out {
        rs.retain(|x| !(x.name == r.name && matches!(x.kind, R::KfuncAllowed | R::KfuncNotAllowed | R::ProbeUndecided)));
        rs.push(r);
    }
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
