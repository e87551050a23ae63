//! C declarations from BTF, spelled the way libbpf's `btf_dump` (and so
//! `bpftool btf dump ... format c`) spells them, so that a kfunc prototype
//! printed by bpfabi can be compared with, or pasted next to, a `vmlinux.h`.
//!
//! A declaration is built from the chain of types between a name and its
//! base type (pointers, modifiers, arrays, function prototypes), emitted
//! inside-out as C declarator syntax requires. The renderer is
//! [`crate::ctype`]'s (one for BTF and for the type expressions a surface
//! keeps): this module presents BTF to it, and builds those expressions
//! ([`func_decl_typed`]). Chains are bounded in length so a cyclic type
//! graph cannot hang the renderer.

use super::{Btf, Kind, TypeId};
use crate::ctype::{self, Arg, Decl, Declarator, Link, Named, Qual, Tag, TypeRef};
use crate::hash::FnvHashMap;
use std::borrow::Cow;
use std::cell::RefCell;

/// `int foo(struct task_struct *p, u64 flags)` for a FUNC type.
pub fn func_decl(btf: &Btf, func_id: TypeId) -> String {
    match btf.ty(func_id) {
        Some(f) if f.kind == Kind::Func => decl(btf, f.ref_type(), f.name()),
        _ => format!("/* type {func_id} is not a FUNC */"),
    }
}

/// [`func_decl`] as a type expression: the kfunc prototype a surface keeps.
/// Its text (`Display`) is exactly what [`func_decl`] prints.
pub fn func_decl_typed(btf: &Btf, func_id: TypeId) -> Decl {
    Prototypes::new(btf).func_decl(func_id)
}

/// Parameter types read, by type id and nesting: the expression and
/// whether the parameter keeps its name.
type Memo = FnvHashMap<(TypeId, usize), (TypeRef, bool)>;

/// [`func_decl_typed`] for many FUNCs of one BTF: a parameter type read
/// once is remembered (by type id and nesting) and cloned for the next
/// prototype that has it, instead of read again (`struct sock *`, `u32`:
/// most of a kernel's kfuncs share their parameters' types).
pub struct Prototypes<'b> {
    btf: &'b Btf,
    memo: RefCell<Memo>,
}

impl<'b> Prototypes<'b> {
    /// A reader of `btf`'s FUNC prototypes, remembering nothing yet.
    pub fn new(btf: &'b Btf) -> Self {
        Prototypes { btf, memo: RefCell::default() }
    }

    /// The prototype of FUNC `func_id`: exactly [`func_decl_typed`]'s.
    pub fn func_decl(&self, func_id: TypeId) -> Decl {
        match self.btf.ty(func_id) {
            Some(f) if f.kind == Kind::Func => {
                ctype::read_decl(&BtfTypes { btf: self.btf, namer: &|_| None, memo: Some(&self.memo) }, f.ref_type(), f.name(), 0)
            }
            _ => Decl::new("", TypeRef::Unknown(format!("type {func_id} is not a FUNC"))),
        }
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
    ctype::write_decl(&BtfTypes { btf, namer, memo: None }, id, name, &mut out, 0);
    out
}

/// The name a type is referred to by in C (`struct foo`, `u32`, `void`).
pub fn type_name(btf: &Btf, id: TypeId) -> String {
    decl(btf, id, "")
}

/// BTF as the declarator renderer walks it.
struct BtfTypes<'b> {
    btf: &'b Btf,
    namer: Namer<'b>,
    /// Parameter types read so far ([`Prototypes`]).
    memo: Option<&'b RefCell<Memo>>,
}

impl Declarator for BtfTypes<'_> {
    type Node = TypeId;

    fn link(&self, id: TypeId) -> Link<'_, TypeId> {
        let Some(t) = self.btf.ty(id) else { return Link::Comment(Cow::Owned(format!("bad type {id}"))) };
        if matches!(t.kind, Kind::Typedef | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd) {
            if let Some(s) = (self.namer)(id) {
                return Link::Spelled(s);
            }
        }
        match t.kind {
            Kind::Void => Link::Void,
            Kind::Int => Link::Name(Named::Int, t.name()),
            Kind::Float => Link::Name(Named::Float, t.name()),
            Kind::Typedef => Link::Name(Named::Typedef, t.name()),
            Kind::Struct => Link::Tagged(Tag::Struct, t.name()),
            Kind::Union => Link::Tagged(Tag::Union, t.name()),
            Kind::Fwd if t.fwd_is_union() => Link::Tagged(Tag::Union, t.name()),
            Kind::Fwd => Link::Tagged(Tag::Struct, t.name()),
            Kind::Enum | Kind::Enum64 => Link::Tagged(Tag::Enum, t.name()),
            Kind::Ptr => Link::Ptr(t.ref_type()),
            Kind::Const => Link::Qual(Qual::Const, t.ref_type()),
            Kind::Volatile => Link::Qual(Qual::Volatile, t.ref_type()),
            Kind::Restrict => Link::Qual(Qual::Restrict, t.ref_type()),
            Kind::TypeTag => Link::TypeTag { tag: t.name(), attr: t.kind_flag(), next: t.ref_type() },
            Kind::Array => Link::Array { elem: t.array().map(|a| a.elem).unwrap_or(TypeId::VOID), len: t.array().map(|a| a.nelems).unwrap_or(0) },
            Kind::FuncProto => Link::Func { ret: t.ref_type() },
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Unknown(_) => Link::Comment(Cow::Borrowed(t.kind.name())),
        }
    }

    fn next(&self, id: TypeId) -> Option<TypeId> {
        let t = self.btf.ty(id)?;
        match t.kind {
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::FuncProto | Kind::TypeTag => Some(t.ref_type()),
            Kind::Array => Some(t.array().map(|a| a.elem).unwrap_or(TypeId::VOID)),
            _ => None,
        }
    }

    fn qual(&self, id: TypeId) -> Option<Qual> {
        match self.btf.ty(id)?.kind {
            Kind::Const => Some(Qual::Const),
            Kind::Volatile => Some(Qual::Volatile),
            Kind::Restrict => Some(Qual::Restrict),
            _ => None,
        }
    }

    fn is_array(&self, id: TypeId) -> bool {
        self.btf.ty(id).is_some_and(|t| t.kind == Kind::Array)
    }

    fn args(&self, id: TypeId) -> Vec<Arg<'_, TypeId>> {
        let Some(t) = self.btf.ty(id) else { return Vec::new() };
        let params: Vec<_> = t.params().collect();
        // No parameters, or the lone `void` of `f(void)`.
        if params.is_empty() || (params.len() == 1 && params.first().is_some_and(|p| p.ty == TypeId::VOID)) {
            return Vec::new();
        }
        let last = params.len() - 1;
        // A trailing `void` parameter is `...`.
        params.into_iter().enumerate().map(|(i, p)| if i == last && p.ty == TypeId::VOID { Arg::Ellipsis } else { Arg::Named(p.name, p.ty) }).collect()
    }

    fn recall(&self, id: TypeId, nest: usize) -> Option<(TypeRef, bool)> {
        self.memo?.borrow().get(&(id, nest)).cloned()
    }

    fn keep(&self, id: TypeId, nest: usize, ty: &TypeRef, named: bool) {
        if let Some(m) = self.memo {
            m.borrow_mut().insert((id, nest), (ty.clone(), named));
        }
    }
}
