//! Refcounted struct_ops arguments: a member whose stub names a parameter
//! `*__ref` hands the program a reference it must release before it exits.
//!
//! kernel/bpf/bpf_struct_ops.c `prepare_arg_info` reads the member's stub
//! (the FUNC `<struct>__<member>`, `find_stub_func_proto`) and marks a
//! parameter whose name ends in `__ref` `refcounted` (v6.16, for
//! net/sched/bpf_qdisc.c `Qdisc_ops__enqueue(struct sk_buff *skb__ref, ...)`);
//! verifier.c `do_check_common` then acquires a reference for it at the
//! program's start, and `check_resource_leak` refuses an exit that has not
//! released it ("BPF_EXIT instruction in main prog would lead to reference
//! leak"). The probe's trivial program `r0 = 0; exit` is therefore refused
//! there, whatever the kernel allows, and the member would never be asked
//! anything. Its programs start with a prologue instead that reads each such
//! argument from the context and releases it with a kfunc taking it
//! (`bpf_kfree_skb` for an `sk_buff`, as the kernel's selftests' qdiscs
//! drop a packet), then restore r1 to the context.

use super::sys::Insn;
use crate::btf::{Btf, Kind, TypeId};
use crate::kernel::Kernel;
use crate::surface::Kfunc;
use std::collections::HashMap;

/// The stub FUNC `<struct>__<member>` of each struct_ops member the probe
/// implements, by name: (index in `kernel.btfs()`, id), the first BTF that
/// has it, vmlinux first. Found in one pass per BTF
/// ([`Kernel::first_of_kind`]) rather than one by-name lookup each, which
/// would index every type of the kernel for them.
pub(super) struct Stubs(HashMap<String, (usize, TypeId)>);

impl Stubs {
    /// The stubs of `members`, `(struct, member)` pairs.
    pub(super) fn of<'a>(kernel: &Kernel, members: impl Iterator<Item = (&'a str, &'a str)>) -> Stubs {
        let mut names: Vec<String> = members.map(|(ops, m)| format!("{ops}__{m}")).collect();
        names.sort_unstable();
        names.dedup();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let found = kernel.first_of_kind(Kind::Func, &refs);
        Stubs(names.iter().cloned().zip(found).filter_map(|(n, f)| Some((n, f?))).collect())
    }
}

/// The refcounted parameters of struct_ops member `ops.member`: (argument
/// index, name of the struct the argument points to).
pub(super) fn refcounted_args(kernel: &Kernel, stubs: &Stubs, ops: &str, member: &str) -> Vec<(usize, String)> {
    let Some(&(bi, id)) = stubs.0.get(&format!("{ops}__{member}")) else { return Vec::new() };
    let Some(kb) = kernel.btfs().nth(bi) else { return Vec::new() };
    let b = &kb.btf;
    let Some(proto) = b.ty(id).and_then(|f| b.resolve(f.ref_type())) else { return Vec::new() };
    proto.params().enumerate().filter(|(_, p)| p.name.ends_with("__ref")).filter_map(|(i, p)| pointee_struct(b, p.ty).map(|s| (i, s))).collect()
}

fn pointee_struct(b: &Btf, ty: TypeId) -> Option<String> {
    let p = b.resolve(ty).filter(|p| p.kind == Kind::Ptr)?;
    let s = b.resolve(p.ref_type()).filter(|s| s.kind == Kind::Struct)?;
    Some(s.name().to_string())
}

/// vmlinux kfuncs that may release a `struct name *`: one parameter of that
/// type, `KF_RELEASE` ones first (flags are known only with `.BTF_ids`;
/// without them every such kfunc is a candidate). Indices into `kfuncs`;
/// the probe uses the first, and a member whose prologue does not release
/// the reference stays `undecided` with the verifier's words.
pub(super) fn releasers(kernel: &Kernel, kfuncs: &[Kfunc], name: &str) -> Vec<usize> {
    let b = &kernel.vmlinux.btf;
    let mut out: Vec<(bool, usize)> = kfuncs
        .iter()
        .enumerate()
        .filter(|(_, k)| k.module.is_none())
        .filter(|(_, k)| {
            let params: Vec<_> = b.ty(k.btf_id).and_then(|f| b.resolve(f.ref_type())).map(|p| p.params().collect()).unwrap_or_default();
            matches!(params.as_slice(), [p] if pointee_struct(b, p.ty).as_deref() == Some(name))
        })
        .filter(|(_, k)| !k.flags_known || k.flags.iter().any(|f| f == "KF_RELEASE"))
        .map(|(i, k)| (!k.flags.iter().any(|f| f == "KF_RELEASE"), i))
        .collect();
    out.sort();
    out.into_iter().map(|(_, i)| i).collect()
}

/// The prologue of a program implementing `ops.member`: for each
/// refcounted argument `arg` released by kfunc `btf_id` (vmlinux),
/// `r6 = r1; r1 = *(u64 *)(r6 + 8 * arg); call kfunc; r1 = r6`. Empty when
/// the member has none (or nothing releases one).
pub(super) fn member_prologue(kernel: &Kernel, kfuncs: &[Kfunc], stubs: &Stubs, ops: &str, member: &str) -> Vec<Insn> {
    let releases: Vec<(usize, u32)> = refcounted_args(kernel, stubs, ops, member)
        .into_iter()
        .filter_map(|(arg, s)| releasers(kernel, kfuncs, &s).first().and_then(|&k| kfuncs.get(k)).map(|k| (arg, k.btf_id.get())))
        .collect();
    if releases.is_empty() {
        return Vec::new();
    }
    prologue(&releases)
}

fn prologue(releases: &[(usize, u32)]) -> Vec<Insn> {
    let mut out = vec![Insn::mov_reg(6, 1)];
    for &(arg, btf_id) in releases {
        out.push(Insn::ldx_dw(1, 6, (arg * 8) as i16));
        out.push(Insn::call(super::sys::BPF_PSEUDO_KFUNC_CALL, btf_id as i32, 0));
    }
    out.push(Insn::mov_reg(1, 6));
    out
}
