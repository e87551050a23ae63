//! Rule family: struct_ops maps. libbpf loads a struct_ops map's programs
//! as a unit (`bpf_map__init_kern_struct_ops`, v1.7.0, finds the kernel
//! type); a missing type fails the programs of that map. A map without
//! programs (a sched_ext scheduler using only the defaults) is a unit of
//! its own: libbpf still fills it in against the kernel's type
//! (`bpf_map__init_kern_struct_ops` -> `find_struct_ops_kern_types`:
//! "struct_ops init_kern: struct %s is not found in kernel BTF") and fails
//! the object without it.

use super::Target;
use crate::btf::Kind;
use crate::object::{BpfObject, Program, StructOps};
use crate::vocab::{Reason, ReasonKind};

/// One reason per struct_ops map of the object: its kernel type exists.
pub(super) fn types<'o>(t: &Target, obj: &'o BpfObject) -> Vec<(&'o StructOps, Reason)> {
    let ki = t.kernel;
    let mut struct_ops_reasons: Vec<(&StructOps, Reason)> = Vec::new();
    for so in &obj.struct_ops {
        struct_ops_reasons.push((
            so,
            match ki.find_type(&so.kernel_type, Kind::Struct) {
                Some(b) => Reason::fact(ReasonKind::StructOpsOk, &so.name, format!("struct {} in {}", so.kernel_type, b.name)),
                None => Reason::fact(ReasonKind::StructOpsTypeMissing, &so.name, format!("struct_ops type `struct {}` is not in this kernel", so.kernel_type)),
            },
        ));
    }
    struct_ops_reasons
}

/// The reasons of the maps that use program `p` (all of them when a map
/// names no program).
pub(super) fn of_program(types: &[(&StructOps, Reason)], p: &Program, rs: &mut Vec<Reason>) {
    rs.extend(types.iter().filter(|(so, _)| so.programs.is_empty() || so.programs.contains(&p.name)).map(|(_, r)| r.clone()));
}

/// The maps without programs, each a unit of its own (`struct_ops:<map>`).
pub(super) fn without_programs<'a, 'o>(types: &'a [(&'o StructOps, Reason)]) -> impl Iterator<Item = (&'o StructOps, &'a Reason)> + 'a {
    types.iter().filter(|(so, _)| so.programs.is_empty()).map(|(so, r)| (*so, r))
}
