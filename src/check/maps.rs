//! Rule family: what libbpf needs of the whole object before any program:
//! the kernel's byte order (`bpf_object__check_endianness`) and every map
//! type (libbpf creates every map of the object, `bpf_object__create_maps`).

use super::Target;
use crate::object::BpfObject;
use crate::vocab::{Reason, ReasonKind};

/// Byte order and map types: object-wide reasons.
pub(super) fn object(t: &Target, obj: &BpfObject, object_reasons: &mut Vec<Reason>) {
    let ki = t.kernel;
    // libbpf refuses an object whose byte order is not the host's
    // (`bpf_object__check_endianness`: "endianness mismatch"); the kernel's
    // BTF has the target's byte order.
    if obj.endian != ki.vmlinux().endian() {
        object_reasons.push(Reason::fact(
            ReasonKind::EndiannessMismatch,
            &obj.path,
            format!("object is {}, the kernel {}: libbpf refuses it", obj.endian.describe(), ki.vmlinux().endian().describe()),
        ));
    }
    // Map types: libbpf creates every map of the object.
    for m in &obj.maps {
        match ki.map_types().name(m.map_type as u64).filter(|n| !n.starts_with("__")) {
            Some(n) => object_reasons.push(Reason::fact(ReasonKind::MapTypeOk, &m.name, n.to_string())),
            None => object_reasons.push(Reason::fact(
                ReasonKind::MapTypeMissing,
                &m.name,
                format!("map type {} is not in this kernel's enum bpf_map_type", m.map_type),
            )),
        }
    }
}
