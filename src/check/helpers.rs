//! Rule family: program types and helpers. The program type and (where
//! the kernel checks it) the expected attach type are in the kernel's
//! enums; every helper id the reachable code calls is in `enum
//! bpf_func_id` (the verifier looks up only the calls it reaches,
//! `check_helper_call` from `do_check`). Whether the program type may call
//! them is measured by the probe: [`super::probe`].

use super::{Reached, Target};
use crate::model::KernelModel;
use crate::object::Program;
use crate::uapi::{AttachType, ProgType};
use crate::vocab::{Reason, ReasonKind};
use std::collections::BTreeMap;

/// Whether the kernel refuses a program of this type whose
/// `expected_attach_type` it does not know. The kernel's
/// `bpf_prog_load_check_attach()` (kernel/bpf/syscall.c) checks the attach
/// type for a few program types only (every other type ignores it), and
/// tracing types are checked by the verifier (`bpf_check_attach_target()`).
/// A kernel checks a type when it has the attach types that check accepts:
/// they came with the check (SK_REUSEPORT's in 5.14).
fn attach_type_checked(t: Option<ProgType>, ki: &KernelModel) -> bool {
    use AttachType as A;
    let accepted: &[AttachType] = match t {
        Some(ProgType::CgroupSock) => &[A::CgroupInetSockCreate, A::CgroupInet4PostBind],
        Some(ProgType::CgroupSockAddr) => &[A::CgroupInet4Bind, A::CgroupInet4Connect],
        Some(ProgType::CgroupSkb) => &[A::CgroupInetIngress, A::CgroupInetEgress],
        Some(ProgType::CgroupSockopt) => &[A::CgroupGetsockopt, A::CgroupSetsockopt],
        Some(ProgType::SkLookup) => &[A::SkLookup],
        Some(ProgType::SkReuseport) => &[A::SkReuseportSelect, A::SkReuseportSelectOrMigrate],
        Some(ProgType::Netfilter) => &[A::Netfilter],
        Some(ProgType::Tracing | ProgType::Lsm) => return true,
        _ => return false,
    };
    accepted.iter().any(|a| ki.attach_types().contains(&a.to_string()))
}
/// The program's type and expected attach type are the kernel's.
pub(super) fn program_types(t: &Target, p: &Program, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let ki = t.kernel;
    let fact = Reason::fact;
    // (A section name without a program type is the loader's finding:
    // check/loader.rs, `section_unknown`.)
    if let Some(t) = p.prog_type {
        let name = t.to_string();
        if !ki.prog_types().contains(&name) {
            rs.push(fact(R::ProgTypeMissing, &name, format!("{name} is not in this kernel's enum bpf_prog_type")));
        }
    }
    if let Some(a) = p.expected_attach.filter(|_| attach_type_checked(p.prog_type, ki)) {
        let name = a.to_string();
        if !ki.attach_types().contains(&name) {
            rs.push(fact(R::AttachTypeMissing, &name, format!("{name} is not in this kernel's enum bpf_attach_type")));
        }
    }
}

/// Every helper the reachable code calls exists. `helper_names` names
/// helper ids in messages.
pub(super) fn reached(t: &Target, helper_names: &BTreeMap<u32, String>, reached: &Reached, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let ki = t.kernel;
    let fact = Reason::fact;
    // Helpers: the verifier looks up only the calls it reaches
    // (`check_helper_call` from `do_check`); dead ones are removed.
    for &id in &reached.helpers {
        let name = helper_names.get(&id).cloned().or_else(|| crate::uapi::helper_name(id)).unwrap_or_else(|| format!("helper #{id}"));
        if ki.has_helper(id) {
            rs.push(fact(R::HelperOk, &name, format!("helper id {id}")));
        } else {
            rs.push(fact(R::HelperMissing, &name, format!("helper id {id} is not in this kernel's enum bpf_func_id")));
        }
    }
}

/// Without probe data the program type's permissions were never measured:
/// `unknown` (graded by the policy), never `loads`.
pub(super) fn unverified(t: &Target, p: &Program, reached: &Reached, rs: &mut Vec<Reason>) {
    if t.probe.is_none() && !(reached.helpers.is_empty() && reached.calls.is_empty()) {
        let t = p.prog_type.map(|t| t.to_string()).unwrap_or_else(|| "unknown".into());
        rs.push(Reason::fact(
            ReasonKind::ProgTypeUnverified,
            &t,
            format!("no probe data for this kernel says which helpers and kfuncs {t} programs may call: not measured (decide it with `bpfabi probe -o KDIR/probe.json` on that kernel, `bpfabi vmtest KERNEL --probe-out FILE`, or --probe FILE)"),
        ));
    }
}
