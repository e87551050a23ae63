//! C declarations from BTF, spelled the way libbpf's `btf_dump` (and so
//! `bpftool btf dump ... format c`) spells them, so that a kfunc prototype
//! printed by bpfabi can be compared with, or pasted next to, a `vmlinux.h`.
//!
//! A declaration is built from the chain of types between a name and its
//! base type (pointers, modifiers, arrays, function prototypes), emitted
//! inside-out as C declarator syntax requires. Chains are bounded in length
//! so a cyclic type graph cannot hang the renderer.

use super::{Btf, Kind, TypeId};
use std::fmt::Write;

/// Longest declarator chain rendered; longer (or cyclic) chains are cut.
const MAX_CHAIN: usize = 64;
/// Deepest nesting of function-pointer parameters rendered.
const MAX_NEST: usize = 16;

/// `int foo(struct task_struct *p, u64 flags)` for a FUNC type.
pub fn func_decl(btf: &Btf, func_id: TypeId) -> String {
    match btf.ty(func_id) {
        Some(f) if f.kind == Kind::Func => decl(btf, f.ref_type(), f.name()),
        _ => format!("/* type {func_id} is not a FUNC */"),
    }
}

/// The C declaration of `name` having type `id` (name may be empty).
pub fn decl(btf: &Btf, id: TypeId, name: &str) -> String {
    decl_with(btf, id, name, &|_| None)
}

/// How a whole-BTF dump (the `c_dump` module) names a struct, union, enum,
/// forward declaration or typedef: `Some(text)` replaces what [`decl`]
/// prints for it (`struct foo___2`, an anonymous type's body).
pub type Namer<'a> = &'a dyn Fn(TypeId) -> Option<String>;

/// [`decl`] with named types spelled by `namer`.
pub fn decl_with(btf: &Btf, id: TypeId, name: &str, namer: Namer) -> String {
    // Most declarations fit: one allocation instead of several regrowths.
    let mut out = String::with_capacity(64);
    emit_decl(btf, id, name, &mut out, 0, namer);
    out
}

/// The name a type is referred to by in C (`struct foo`, `u32`, `void`).
pub fn type_name(btf: &Btf, id: TypeId) -> String {
    decl(btf, id, "")
}

fn emit_decl(btf: &Btf, id: TypeId, name: &str, out: &mut String, nest: usize, namer: Namer) {
    if nest > MAX_NEST {
        out.push_str("/* nested too deep */");
        return;
    }
    // Collect the chain from the declared name to the base type.
    let mut chain: Vec<TypeId> = Vec::with_capacity(8);
    let mut cur = id;
    loop {
        if chain.len() >= MAX_CHAIN {
            out.push_str("/* type chain too long or cyclic */");
            return;
        }
        chain.push(cur);
        let Some(t) = btf.ty(cur) else { break };
        match t.kind {
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::FuncProto | Kind::TypeTag => {
                cur = t.ref_type()
            }
            Kind::Array => cur = t.array().map(|a| a.elem).unwrap_or(TypeId::VOID),
            _ => break,
        }
    }
    emit_chain(btf, &mut chain, name, out, nest, namer);
}

fn is_mod(btf: &Btf, id: TypeId) -> bool {
    btf.ty(id).is_some_and(|t| matches!(t.kind, Kind::Volatile | Kind::Const | Kind::Restrict))
}

/// Modifiers sitting right above the base type print before it: `const char`.
fn emit_mods(btf: &Btf, chain: &mut Vec<TypeId>, out: &mut String) {
    while let Some(&top) = chain.last() {
        let word = match btf.ty(top).map(|t| t.kind) {
            Some(Kind::Volatile) => "volatile ",
            Some(Kind::Const) => "const ",
            Some(Kind::Restrict) => "restrict ",
            _ => return,
        };
        out.push_str(word);
        chain.pop();
    }
}

fn emit_name(name: &str, last_was_ptr: bool, out: &mut String) {
    if !name.is_empty() && !last_was_ptr {
        out.push(' ');
    }
    out.push_str(name);
}

fn emit_chain(btf: &Btf, chain: &mut Vec<TypeId>, name: &str, out: &mut String, nest: usize, namer: Namer) {
    let mut last_was_ptr = true;
    while let Some(id) = chain.pop() {
        let Some(t) = btf.ty(id) else {
            let _ = write!(out, "/* bad type {id} */");
            last_was_ptr = false;
            continue;
        };
        match t.kind {
            Kind::Void => {
                emit_mods(btf, chain, out);
                out.push_str("void");
            }
            Kind::Typedef | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd if namer(id).is_some() => {
                emit_mods(btf, chain, out);
                out.push_str(&namer(id).unwrap_or_default());
            }
            Kind::Int | Kind::Float | Kind::Typedef => {
                emit_mods(btf, chain, out);
                out.push_str(t.name());
            }
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                emit_mods(btf, chain, out);
                let kw = match t.kind {
                    Kind::Struct => "struct",
                    Kind::Union => "union",
                    Kind::Fwd if t.fwd_is_union() => "union",
                    Kind::Fwd => "struct",
                    _ => "enum",
                };
                out.push_str(kw);
                match t.name() {
                    "" => out.push_str(" {...}"),
                    n => {
                        out.push(' ');
                        out.push_str(n);
                    }
                }
            }
            Kind::Ptr => out.push_str(if last_was_ptr { "*" } else { " *" }),
            Kind::Volatile => out.push_str(" volatile"),
            Kind::Const => out.push_str(" const"),
            Kind::Restrict => out.push_str(" restrict"),
            Kind::TypeTag => {
                emit_mods(btf, chain, out);
                if t.kind_flag() {
                    let _ = write!(out, " __attribute__(({}))", t.name());
                } else {
                    let _ = write!(out, " __attribute__((btf_type_tag(\"{}\")))", t.name());
                }
            }
            Kind::Array => {
                let n = t.array().map(|a| a.nelems).unwrap_or(0);
                // Qualifiers on arrays are meaningless in C: drop them (as libbpf).
                while chain.last().is_some_and(|&i| is_mod(btf, i)) {
                    chain.pop();
                }
                let Some(&next) = chain.last() else {
                    emit_name(name, last_was_ptr, out);
                    let _ = write!(out, "[{n}]");
                    return;
                };
                let multidim = btf.ty(next).is_some_and(|t| t.kind == Kind::Array);
                if !name.is_empty() && !last_was_ptr {
                    out.push(' ');
                }
                if !multidim {
                    out.push('(');
                }
                emit_chain(btf, chain, name, out, nest, namer);
                if !multidim {
                    out.push(')');
                }
                let _ = write!(out, "[{n}]");
                return;
            }
            Kind::FuncProto => {
                while chain.last().is_some_and(|&i| is_mod(btf, i)) {
                    chain.pop();
                }
                if chain.is_empty() {
                    emit_name(name, last_was_ptr, out);
                } else {
                    out.push_str(" (");
                    emit_chain(btf, chain, name, out, nest, namer);
                    out.push(')');
                }
                out.push('(');
                let params: Vec<_> = t.params().collect();
                if params.is_empty() || (params.len() == 1 && params.first().is_some_and(|p| p.ty == TypeId::VOID)) {
                    out.push_str("void)");
                    return;
                }
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if i == params.len() - 1 && p.ty == TypeId::VOID {
                        out.push_str("...");
                        break;
                    }
                    emit_decl(btf, p.ty, p.name, out, nest + 1, namer);
                }
                out.push(')');
                return;
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Unknown(_) => {
                let _ = write!(out, "/* {} */", t.kind.name());
            }
        }
        last_was_ptr = t.kind == Kind::Ptr;
    }
    emit_name(name, last_was_ptr, out);
}
