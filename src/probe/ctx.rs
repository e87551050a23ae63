//! Which kfunc parameters a program's context can match: kernel/bpf/btf.c
//! `btf_is_prog_ctx_type` (v6.18), which verifier.c `get_kfunc_ptr_arg_type`
//! asks first of every pointer parameter, takes a pointer to the struct
//! named as the program type's context (or a projection of it, or kprobe's
//! `bpf_user_pt_regs_t`) as the context. A parameter that can be no
//! program type's context is checked alike in every program type; the
//! probe shares verdicts on that ground (`src/probe/callbacks.rs`,
//! `reuse::hook_copies_argument_refusal`).

use crate::btf::{Btf, Kind, Type, TypeId};
use crate::kernel::Kernel;
use std::collections::HashSet;

/// The names of every program context struct of the kernel: the struct
/// types of `struct bpf_ctx_convert`'s members (include/linux/bpf_types.h
/// through kernel/bpf/btf.c: one `_prog` and one `_kern` member per program
/// type, typedefs resolved). None when the kernel has no such struct.
pub fn context_structs(kernel: &Kernel) -> Option<HashSet<String>> {
    context_structs_in(&kernel.vmlinux.btf)
}

/// [`context_structs`] of a vmlinux BTF.
pub fn context_structs_in(b: &Btf) -> Option<HashSet<String>> {
    // One pass over the STRUCTs, not the by-name index of every type.
    let id = b.first_of_kind(Kind::Struct, &["bpf_ctx_convert"]).into_iter().next().flatten()?;
    let conv = b.ty(id)?;
    Some(conv.members().filter_map(|m| b.resolve(m.ty)).map(|t| t.name().to_string()).filter(|n| !n.is_empty()).collect())
}

/// Whether a parameter (`name`, type `ty` in `b`) can be taken as a
/// program's context: named `__ctx`, or a pointer to a struct or union of
/// `ctx` (or to an unnamed one, conservatively). A scalar or a pointer to
/// anything else cannot.
pub fn param_may_be_ctx(b: &Btf, name: &str, ty: TypeId, ctx: &HashSet<String>) -> bool {
    if name.ends_with("__ctx") {
        return true;
    }
    let Some(t) = b.resolve(ty) else { return true };
    if t.kind != Kind::Ptr || t.ref_type().get() == 0 {
        return false;
    }
    // `bpf_user_pt_regs_t` (kprobe's context) is a typedef: resolved too.
    b.resolve(t.ref_type()).is_none_or(|s| matches!(s.kind, Kind::Struct | Kind::Union) && (s.name().is_empty() || ctx.contains(s.name())))
}

/// The prototype (FUNC_PROTO) of kfunc `k`, with the BTF it is in; None
/// when the kernel's BTF does not describe it.
pub fn kfunc_proto<'a>(kernel: &'a Kernel, k: &crate::surface::Kfunc) -> Option<(&'a Btf, Type<'a>)> {
    let b = &kernel.btf_in(k.module.as_deref())?.btf;
    Some((b, proto_of(b, k.btf_id)?))
}

fn proto_of(b: &Btf, func: TypeId) -> Option<Type<'_>> {
    b.ty(func).and_then(|f| b.resolve(f.ref_type()))
}

/// Whether kfunc `k`'s first parameter can be no program's context (true
/// for a kfunc without parameters); false when its BTF is not at hand.
pub fn first_param_ctx_free(kernel: &Kernel, k: &crate::surface::Kfunc, ctx: &HashSet<String>) -> bool {
    kernel.btf_in(k.module.as_deref()).is_some_and(|kb| first_param_ctx_free_in(&kb.btf, k.btf_id, ctx))
}

/// [`first_param_ctx_free`] of the FUNC `func` of `b`.
pub fn first_param_ctx_free_in(b: &Btf, func: TypeId, ctx: &HashSet<String>) -> bool {
    proto_of(b, func).is_some_and(|proto| proto.params().next().is_none_or(|p| !param_may_be_ctx(b, p.name, p.ty, ctx)))
}
