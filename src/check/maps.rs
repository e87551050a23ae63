//! Rule family: maps. What libbpf needs of the whole object before any
//! program: the kernel's byte order (`bpf_object__check_endianness`) and
//! every map type (libbpf creates every map of the object,
//! `bpf_object__create_maps`); and per program, what the verifier lets a
//! program of its type do with the maps it uses
//! (`check_map_prog_compatibility`, [`program`]).

use super::{Reached, Target};
use crate::btf::Kind;
use crate::object::value_fields::ValueField;
use crate::object::{map_type, BpfObject, Program};
use crate::uapi::ProgType;
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

/// verifier.c `check_map_prog_compatibility`: the kernel runs it for every
/// map an `ld_imm64` of the program loads (`resolve_pseudo_ldimm64` →
/// `add_used_map`, before verification, so dead code counts too: `all` is
/// every instruction of the call graph), and refuses the program
/// (-EINVAL) when the map's value holds a field its type may not use:
///
/// - `struct bpf_spin_lock` (and `bpf_res_spin_lock`, v6.15): refused to
///   socket filters ("socket filter progs cannot use bpf_spin_lock yet";
///   v5.1–v5.10 say "tracing progs cannot use bpf_spin_lock yet" for both)
///   and to tracing programs ("tracing progs cannot use bpf_spin_lock
///   yet"), v5.1 to v7.x;
/// - `struct bpf_timer` (v5.15) and `struct bpf_wq` (v6.10): refused to
///   tracing programs ("tracing progs cannot use bpf_timer yet", "tracing
///   progs cannot use bpf_wq yet") until v7.0, whose "bpf: Enable bpf_timer
///   and bpf_wq in any context" (1bfbc267ec91) dropped both checks; the
///   same series added the kfunc `bpf_timer_cancel_async`, which tells
///   such a kernel by its BTF;
/// - `struct bpf_list_head` (v6.2) and `struct bpf_rb_root` (v6.3):
///   refused to tracing programs ("tracing progs cannot use bpf_list_head
///   yet" in v6.2, "bpf_{list_head,rb_root}" from v6.3);
/// - a `BPF_MAP_TYPE_STRUCT_OPS` map: "bpf_struct_ops map cannot be used
///   in prog" (v5.6+).
///
/// "Tracing" is `is_tracing_prog_type`: kprobe (and uprobe), tracepoint,
/// perf_event, raw_tracepoint, and raw_tracepoint.w from v6.2 (told by
/// `struct bpf_list_head`; before, the rule leaves it out). fentry/fexit
/// (`BPF_PROG_TYPE_TRACING`), LSM and iterators are not in it. A field
/// counts only where the kernel's BTF has its struct (the kernel finds
/// fields by the names it knows: `btf_parse_fields`). Not mirrored: the
/// map types a sleepable program may use (a list that changed in most
/// releases), offloaded programs, cgroup storage and arena counts.
pub(super) fn program(t: &Target, obj: &BpfObject, p: &Program, all: &Reached, rs: &mut Vec<Reason>) {
    let Some(pt) = p.prog_type else { return };
    let vmlinux = t.kernel.vmlinux();
    let has_struct = |name: &str| vmlinux.by_name(name).any(|ty| ty.kind == Kind::Struct);
    let tracing = matches!(pt, ProgType::Kprobe | ProgType::Tracepoint | ProgType::PerfEvent | ProgType::RawTracepoint)
        || (pt == ProgType::RawTracepointWritable && has_struct("bpf_list_head"));
    // kernel/bpf/helpers.c `bpf_timer_cancel_async` (v7.0): timers and
    // workqueues are allowed in any context.
    let async_anywhere = || vmlinux.by_name("bpf_timer_cancel_async").any(|ty| ty.kind == Kind::Func);
    let used = obj.maps.iter().filter(|m| m.elf_at.is_some_and(|at| all.data.contains(&at)));
    for m in used {
        // (the verifier's words, what in the map they are about)
        let mut refused: Vec<(&str, String)> = Vec::new();
        if m.map_type == map_type::STRUCT_OPS {
            refused.push(("bpf_struct_ops map cannot be used in prog", "it is a struct_ops map".into()));
        }
        for &f in m.value_fields.iter().filter(|f| has_struct(f.struct_name())) {
            let why = match f {
                ValueField::SpinLock | ValueField::ResSpinLock if pt == ProgType::SocketFilter => "socket filter progs cannot use bpf_spin_lock yet",
                ValueField::SpinLock | ValueField::ResSpinLock if tracing => "tracing progs cannot use bpf_spin_lock yet",
                ValueField::Timer if tracing && !async_anywhere() => "tracing progs cannot use bpf_timer yet",
                ValueField::Wq if tracing && !async_anywhere() => "tracing progs cannot use bpf_wq yet",
                ValueField::ListHead | ValueField::RbRoot if tracing => {
                    if has_struct("bpf_rb_root") {
                        "tracing progs cannot use bpf_{list_head,rb_root} yet"
                    } else {
                        "tracing progs cannot use bpf_list_head yet"
                    }
                }
                _ => continue,
            };
            if !refused.iter().any(|(w, _)| *w == why) {
                refused.push((why, format!("its value holds {f}")));
            }
        }
        for (why, what) in refused {
            rs.push(Reason::fact(
                ReasonKind::MapProgIncompatible,
                &m.name,
                format!(
                    "{} programs may not use map {} ({what}): the verifier says `{why}` (verifier.c check_map_prog_compatibility)",
                    pt.short_name(),
                    m.name
                ),
            ));
        }
    }
}
