//! C type expressions and the one C declarator renderer.
//!
//! A kfunc prototype is kept as a [`Decl`] (a name and a [`TypeRef`]),
//! not as text: the type expression names kernel types by kind and name
//! (`struct task_struct`, the typedef `u32`), wraps them in pointers,
//! qualifiers, type tags, arrays and function prototypes, and carries no
//! BTF ids, so it means the same after a JSON or TOML round trip without
//! the BTF it was read from (`btf::render::func_decl_typed` builds one from
//! a FUNC). Its text is what libbpf's `btf_dump` (and so `bpftool btf dump
//! ... format c`) prints, produced by the one renderer below, which
//! `btf::render` also drives straight from BTF; [`Decl::from_str`] reads
//! that text back (bounded, errors name the byte offset and what was
//! expected). serde spells a [`Decl`] as that text.
//!
//! The renderer works over a [`Declarator`]: anything that can present a
//! type as a chain of links from a declared name down to its base type.
//! Chains are bounded in length and function-pointer parameters in
//! nesting, so a cyclic type graph cannot hang it.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::str::FromStr;
use std::sync::Arc;

/// Longest declarator chain rendered; longer (or cyclic) chains are cut.
pub const MAX_CHAIN: usize = 64;
/// Deepest nesting of function-pointer parameters rendered.
pub const MAX_NEST: usize = 16;
/// What replaces a declaration nested deeper than [`MAX_NEST`].
pub const NESTED_TOO_DEEP: &str = "nested too deep";
/// What replaces a declaration whose chain is longer than [`MAX_CHAIN`].
pub const CHAIN_TOO_LONG: &str = "type chain too long or cyclic";

/// A C type expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeRef {
    /// `void`.
    Void,
    /// An integer type by its name (`int`, `long unsigned int`, `_Bool`).
    Int(String),
    /// A floating-point type by its name (`double`).
    Float(String),
    /// A typedef by its name (`u32`).
    Typedef(String),
    /// `struct NAME` (a forward declaration too); `""`: anonymous.
    Struct(String),
    /// `union NAME`; `""`: anonymous.
    Union(String),
    /// `enum NAME` (32 or 64 bits); `""`: anonymous.
    Enum(String),
    /// A pointer to the type.
    Ptr(Arc<TypeRef>),
    /// `const`.
    Const(Arc<TypeRef>),
    /// `volatile`.
    Volatile(Arc<TypeRef>),
    /// `restrict`.
    Restrict(Arc<TypeRef>),
    /// A BTF type tag: `__attribute__((btf_type_tag("TAG")))`, or with
    /// `attr` (a TYPE_TAG with kind_flag) `__attribute__((TAG))`.
    TypeTag {
        /// The tag (`rcu`, `address_space(1)`).
        tag: String,
        /// Spelled as a plain attribute.
        attr: bool,
        /// The tagged type.
        ty: Arc<TypeRef>,
    },
    /// `ELEM [LEN]` (0: flexible).
    Array {
        /// Element type.
        elem: Arc<TypeRef>,
        /// Number of elements.
        len: u32,
    },
    /// A function type.
    Func(Arc<FuncProto>),
    /// What the renderer cannot spell as C, printed as a comment
    /// (`bad type 7`, `FUNC`, [`NESTED_TOO_DEEP`], [`CHAIN_TOO_LONG`]).
    Unknown(String),
}

/// A function type: return type, parameters, `...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FuncProto {
    /// Return type.
    pub ret: TypeRef,
    /// Parameters (none: `(void)`).
    pub params: Vec<Param>,
    /// Ends with `...`.
    pub variadic: bool,
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Param {
    /// Name (may be empty).
    pub name: String,
    /// Type.
    pub ty: TypeRef,
}

/// A declaration: a name with a type. A kfunc's prototype is one whose
/// type is a [`TypeRef::Func`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Decl {
    /// The declared name (empty when cut or abstract).
    pub name: String,
    /// Its type.
    pub ty: TypeRef,
}

impl Param {
    /// A parameter.
    pub fn new(name: impl Into<String>, ty: TypeRef) -> Self {
        Param { name: name.into(), ty }
    }
}

impl FuncProto {
    /// A function type.
    pub fn new(ret: TypeRef, params: Vec<Param>, variadic: bool) -> Self {
        FuncProto { ret, params, variadic }
    }
}

impl Decl {
    /// A declaration.
    pub fn new(name: impl Into<String>, ty: TypeRef) -> Self {
        Decl { name: name.into(), ty }
    }

    /// The function type when this declares a function.
    pub fn func(&self) -> Option<&FuncProto> {
        match &self.ty {
            TypeRef::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The parameters of a function (empty for anything else).
    pub fn params(&self) -> &[Param] {
        self.func().map_or(&[], |f| f.params.as_slice())
    }

    /// False only for a function taking nothing (`(void)`).
    pub fn takes_args(&self) -> bool {
        !matches!(self.func(), Some(f) if f.params.is_empty() && !f.variadic)
    }

    /// `struct x` / `union y` this declaration names anywhere (return type,
    /// parameters, function-pointer parameters), named ones only, each once,
    /// in first-seen order.
    pub fn tagged(&self) -> Vec<(Tag, &str)> {
        let mut out = Vec::new();
        self.ty.tagged(&mut out, 0);
        out
    }
}

/// A C tag kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    /// `struct`.
    Struct,
    /// `union`.
    Union,
    /// `enum`.
    Enum,
}

impl Tag {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Tag::Struct => "struct",
            Tag::Union => "union",
            Tag::Enum => "enum",
        }
    }
}

impl TypeRef {
    /// The type a pointer, qualifier, tag or array wraps (`None` for a base
    /// type or a function).
    pub fn inner(&self) -> Option<&TypeRef> {
        match self {
            TypeRef::Ptr(t) | TypeRef::Const(t) | TypeRef::Volatile(t) | TypeRef::Restrict(t) => Some(t),
            TypeRef::TypeTag { ty, .. } => Some(ty),
            TypeRef::Array { elem, .. } => Some(elem),
            _ => None,
        }
    }

    fn tagged<'a>(&'a self, out: &mut Vec<(Tag, &'a str)>, depth: usize) {
        if depth > MAX_CHAIN * (MAX_NEST + 1) {
            return;
        }
        let (tag, name) = match self {
            TypeRef::Struct(n) => (Tag::Struct, n),
            TypeRef::Union(n) => (Tag::Union, n),
            TypeRef::Enum(n) => (Tag::Enum, n),
            TypeRef::Func(f) => {
                f.ret.tagged(out, depth + 1);
                for p in &f.params {
                    p.ty.tagged(out, depth + 1);
                }
                return;
            }
            t => {
                if let Some(i) = t.inner() {
                    i.tagged(out, depth + 1);
                }
                return;
            }
        };
        if !name.is_empty() && !out.iter().any(|&(t, n)| t == tag && n == name) {
            out.push((tag, name));
        }
    }

    /// A qualifier wrapping `inner`, as a renderer prints it: a qualifier on
    /// an array or a function is meaningless in C and dropped (as libbpf's
    /// `btf_dump` drops it), so the expression reads back as printed.
    pub fn qualified(q: Qual, inner: TypeRef) -> TypeRef {
        if matches!(inner, TypeRef::Array { .. } | TypeRef::Func(_)) {
            return inner;
        }
        let b = Arc::new(inner);
        match q {
            Qual::Const => TypeRef::Const(b),
            Qual::Volatile => TypeRef::Volatile(b),
            Qual::Restrict => TypeRef::Restrict(b),
        }
    }
}

/// A C type qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qual {
    /// `const`.
    Const,
    /// `volatile`.
    Volatile,
    /// `restrict`.
    Restrict,
}

impl Qual {
    fn word(self) -> &'static str {
        match self {
            Qual::Const => "const",
            Qual::Volatile => "volatile",
            Qual::Restrict => "restrict",
        }
    }
}

// ---------------------------------------------------------------------------
// The renderer.

/// One link of a declarator chain, as a [`Declarator`] presents it.
pub enum Link<'a, N> {
    /// `void`.
    Void,
    /// An integer, float or typedef: spelled by name.
    Name(Named, &'a str),
    /// `struct`/`union`/`enum` NAME (`""`: anonymous, `{...}`).
    Tagged(Tag, &'a str),
    /// A named type spelled as given (a whole-BTF dump's own names).
    Spelled(String),
    /// A pointer to `N`.
    Ptr(N),
    /// A qualified `N`.
    Qual(Qual, N),
    /// A type-tagged `N`.
    TypeTag {
        /// Tag text.
        tag: &'a str,
        /// Plain attribute (else `btf_type_tag("...")`).
        attr: bool,
        /// Tagged type.
        next: N,
    },
    /// An array of `elem`.
    Array {
        /// Element type.
        elem: N,
        /// Length.
        len: u32,
    },
    /// A function returning `ret` (its parameters: [`Declarator::args`]).
    Func {
        /// Return type.
        ret: N,
    },
    /// Not spellable: printed as `/* TEXT */`.
    Comment(Cow<'a, str>),
}

/// What a type spelled by its name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// An integer type.
    Int,
    /// A floating-point type.
    Float,
    /// A typedef.
    Typedef,
}

/// A parameter of a function link.
pub enum Arg<'a, N> {
    /// A (possibly unnamed) parameter.
    Named(&'a str, N),
    /// `...`.
    Ellipsis,
}

/// A source of types the renderer can walk: BTF (`btf::render`'s
/// renderer) or a [`TypeRef`] tree.
pub trait Declarator {
    /// A type in this source.
    type Node: Copy;
    /// What `n` is.
    fn link(&self, n: Self::Node) -> Link<'_, Self::Node>;
    /// The next link of a pointer, qualifier, type tag, array (its element)
    /// or function (its return type); `None` for a base type.
    fn next(&self, n: Self::Node) -> Option<Self::Node>;
    /// The qualifier `n` is, if it is one (a cheaper [`Self::link`]).
    fn qual(&self, n: Self::Node) -> Option<Qual>;
    /// True when `n` is an array.
    fn is_array(&self, n: Self::Node) -> bool;
    /// Parameters of a function link; empty for `(void)`.
    fn args(&self, n: Self::Node) -> Vec<Arg<'_, Self::Node>>;
    /// The type expression [`read_decl`] built for `n` at nesting `nest`
    /// before, and whether it kept the declared name (not cut), if this
    /// source remembers them (none by default).
    fn recall(&self, _n: Self::Node, _nest: usize) -> Option<(TypeRef, bool)> {
        None
    }
    /// Remember what [`read_decl`] built for `n` at nesting `nest` (a
    /// parameter's type: prototypes share most of theirs).
    fn keep(&self, _n: Self::Node, _nest: usize, _ty: &TypeRef, _named: bool) {}
}

/// Write the C declaration of `name` having type `id` (name may be empty).
pub fn write_decl<D: Declarator>(d: &D, id: D::Node, name: &str, out: &mut String, nest: usize) {
    if nest > MAX_NEST {
        let _ = write!(out, "/* {NESTED_TOO_DEEP} */");
        return;
    }
    // Collect the chain from the declared name to the base type.
    let mut chain: Vec<D::Node> = Vec::with_capacity(8);
    let mut cur = id;
    loop {
        if chain.len() >= MAX_CHAIN {
            let _ = write!(out, "/* {CHAIN_TOO_LONG} */");
            return;
        }
        chain.push(cur);
        match d.next(cur) {
            Some(n) => cur = n,
            None => break,
        }
    }
    emit_chain(d, &mut chain, name, out, nest);
}

/// The [`Decl`] of `name` having type `id`: what [`write_decl`] prints,
/// as a type expression (cut where it cuts, without the name).
pub fn read_decl<D: Declarator>(d: &D, id: D::Node, name: &str, nest: usize) -> Decl {
    match read_type(d, id, nest) {
        (ty, true) => Decl { name: name.into(), ty },
        (ty, false) => Decl { name: String::new(), ty },
    }
}

/// [`read_decl`]'s type expression, and whether the declaration keeps its
/// name (false where it is cut: too deep, too long a chain).
fn read_type<D: Declarator>(d: &D, id: D::Node, nest: usize) -> (TypeRef, bool) {
    if nest > MAX_NEST {
        return (TypeRef::Unknown(NESTED_TOO_DEEP.into()), false);
    }
    // The chain on the stack (no allocation: this runs once per parameter
    // of every prototype rendered).
    let mut chain: [Option<D::Node>; MAX_CHAIN] = [None; MAX_CHAIN];
    let mut len = 0;
    let mut cur = id;
    loop {
        let Some(slot) = chain.get_mut(len) else {
            return (TypeRef::Unknown(CHAIN_TOO_LONG.into()), false);
        };
        *slot = Some(cur);
        len += 1;
        match d.next(cur) {
            Some(n) => cur = n,
            None => break,
        }
    }
    let mut ty = TypeRef::Void;
    for n in chain.iter().take(len).rev().flatten().copied() {
        ty = match d.link(n) {
            Link::Void => TypeRef::Void,
            Link::Name(Named::Int, s) => TypeRef::Int(s.into()),
            Link::Name(Named::Float, s) => TypeRef::Float(s.into()),
            Link::Name(Named::Typedef, s) => TypeRef::Typedef(s.into()),
            Link::Spelled(s) => TypeRef::Typedef(s),
            Link::Tagged(Tag::Struct, s) => TypeRef::Struct(s.into()),
            Link::Tagged(Tag::Union, s) => TypeRef::Union(s.into()),
            Link::Tagged(Tag::Enum, s) => TypeRef::Enum(s.into()),
            Link::Comment(c) => TypeRef::Unknown(c.into_owned()),
            Link::Ptr(_) => TypeRef::Ptr(Arc::new(ty)),
            Link::Qual(q, _) => TypeRef::qualified(q, ty),
            Link::TypeTag { tag, attr, .. } => TypeRef::TypeTag { tag: tag.into(), attr, ty: Arc::new(ty) },
            Link::Array { len, .. } => TypeRef::Array { elem: Arc::new(ty), len },
            Link::Func { .. } => {
                let mut f = FuncProto { ret: ty, params: Vec::new(), variadic: false };
                for a in d.args(n) {
                    match a {
                        Arg::Ellipsis => f.variadic = true,
                        Arg::Named(pn, pt) => {
                            // What a parameter's type reads as depends on the
                            // type and the nesting only (the cut at
                            // MAX_NEST): a source may remember it.
                            let (ty, named) = match d.recall(pt, nest + 1) {
                                Some(r) => r,
                                None => {
                                    let (ty, named) = read_type(d, pt, nest + 1);
                                    d.keep(pt, nest + 1, &ty, named);
                                    (ty, named)
                                }
                            };
                            f.params.push(Param { name: if named { pn.into() } else { String::new() }, ty });
                        }
                    }
                }
                TypeRef::Func(Arc::new(f))
            }
        };
    }
    (ty, true)
}

/// Modifiers sitting right above the base type print before it: `const char`.
fn emit_mods<D: Declarator>(d: &D, chain: &mut Vec<D::Node>, out: &mut String) {
    while let Some(q) = chain.last().and_then(|&top| d.qual(top)) {
        out.push_str(q.word());
        out.push(' ');
        chain.pop();
    }
}

fn emit_name(name: &str, last_was_ptr: bool, out: &mut String) {
    if !name.is_empty() && !last_was_ptr {
        out.push(' ');
    }
    out.push_str(name);
}

fn emit_chain<D: Declarator>(d: &D, chain: &mut Vec<D::Node>, name: &str, out: &mut String, nest: usize) {
    let mut last_was_ptr = true;
    while let Some(id) = chain.pop() {
        let mut is_ptr = false;
        match d.link(id) {
            Link::Comment(c) => {
                let _ = write!(out, "/* {c} */");
            }
            Link::Void => {
                emit_mods(d, chain, out);
                out.push_str("void");
            }
            Link::Spelled(s) => {
                emit_mods(d, chain, out);
                out.push_str(&s);
            }
            Link::Name(_, n) => {
                emit_mods(d, chain, out);
                out.push_str(n);
            }
            Link::Tagged(tag, n) => {
                emit_mods(d, chain, out);
                out.push_str(tag.keyword());
                match n {
                    "" => out.push_str(" {...}"),
                    n => {
                        out.push(' ');
                        out.push_str(n);
                    }
                }
            }
            Link::Ptr(_) => {
                out.push_str(if last_was_ptr { "*" } else { " *" });
                is_ptr = true;
            }
            Link::Qual(q, _) => {
                out.push(' ');
                out.push_str(q.word());
            }
            Link::TypeTag { tag, attr, .. } => {
                emit_mods(d, chain, out);
                if attr {
                    let _ = write!(out, " __attribute__(({tag}))");
                } else {
                    let _ = write!(out, " __attribute__((btf_type_tag(\"{tag}\")))");
                }
            }
            Link::Array { len, .. } => {
                // Qualifiers on arrays are meaningless in C: drop them (as libbpf).
                while chain.last().is_some_and(|&i| d.qual(i).is_some()) {
                    chain.pop();
                }
                let Some(&next) = chain.last() else {
                    emit_name(name, last_was_ptr, out);
                    let _ = write!(out, "[{len}]");
                    return;
                };
                let multidim = d.is_array(next);
                if !name.is_empty() && !last_was_ptr {
                    out.push(' ');
                }
                if !multidim {
                    out.push('(');
                }
                emit_chain(d, chain, name, out, nest);
                if !multidim {
                    out.push(')');
                }
                let _ = write!(out, "[{len}]");
                return;
            }
            Link::Func { .. } => {
                while chain.last().is_some_and(|&i| d.qual(i).is_some()) {
                    chain.pop();
                }
                if chain.is_empty() {
                    emit_name(name, last_was_ptr, out);
                } else {
                    out.push_str(" (");
                    emit_chain(d, chain, name, out, nest);
                    out.push(')');
                }
                out.push('(');
                let args = d.args(id);
                if args.is_empty() {
                    out.push_str("void)");
                    return;
                }
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match a {
                        Arg::Ellipsis => out.push_str("..."),
                        Arg::Named(n, ty) => write_decl(d, *ty, n, out, nest + 1),
                    }
                }
                out.push(')');
                return;
            }
        }
        last_was_ptr = is_ptr;
    }
    emit_name(name, last_was_ptr, out);
}

/// [`TypeRef`] trees as a [`Declarator`].
struct Tree<'t>(std::marker::PhantomData<&'t TypeRef>);

impl<'t> Declarator for Tree<'t> {
    type Node = &'t TypeRef;

    fn link(&self, n: &'t TypeRef) -> Link<'_, &'t TypeRef> {
        match n {
            TypeRef::Void => Link::Void,
            TypeRef::Int(n) => Link::Name(Named::Int, n),
            TypeRef::Float(n) => Link::Name(Named::Float, n),
            TypeRef::Typedef(n) => Link::Name(Named::Typedef, n),
            TypeRef::Struct(n) => Link::Tagged(Tag::Struct, n),
            TypeRef::Union(n) => Link::Tagged(Tag::Union, n),
            TypeRef::Enum(n) => Link::Tagged(Tag::Enum, n),
            TypeRef::Ptr(i) => Link::Ptr(i),
            TypeRef::Const(i) => Link::Qual(Qual::Const, i),
            TypeRef::Volatile(i) => Link::Qual(Qual::Volatile, i),
            TypeRef::Restrict(i) => Link::Qual(Qual::Restrict, i),
            TypeRef::TypeTag { tag, attr, ty } => Link::TypeTag { tag, attr: *attr, next: ty },
            TypeRef::Array { elem, len } => Link::Array { elem, len: *len },
            TypeRef::Func(f) => Link::Func { ret: &f.ret },
            TypeRef::Unknown(c) => Link::Comment(Cow::Borrowed(c)),
        }
    }
    fn next(&self, n: &'t TypeRef) -> Option<&'t TypeRef> {
        match n {
            TypeRef::Func(f) => Some(&f.ret),
            t => t.inner(),
        }
    }
    fn qual(&self, n: &'t TypeRef) -> Option<Qual> {
        match n {
            TypeRef::Const(_) => Some(Qual::Const),
            TypeRef::Volatile(_) => Some(Qual::Volatile),
            TypeRef::Restrict(_) => Some(Qual::Restrict),
            _ => None,
        }
    }
    fn is_array(&self, n: &'t TypeRef) -> bool {
        matches!(n, TypeRef::Array { .. })
    }
    fn args(&self, n: &'t TypeRef) -> Vec<Arg<'_, &'t TypeRef>> {
        let TypeRef::Func(f) = n else { return Vec::new() };
        let mut v: Vec<Arg<'_, &'t TypeRef>> = f.params.iter().map(|p| Arg::Named(p.name.as_str(), &p.ty)).collect();
        if f.variadic {
            v.push(Arg::Ellipsis);
        }
        v
    }
}

/// The C declaration of `name` having type `ty`.
pub fn render(ty: &TypeRef, name: &str) -> String {
    let mut out = String::with_capacity(64);
    render_into(ty, name, &mut out);
    out
}

/// [`render`] appended to `out` (a printer's buffer, reused).
pub fn render_into(ty: &TypeRef, name: &str, out: &mut String) {
    write_decl(&Tree(std::marker::PhantomData), ty, name, out, 0);
}

impl fmt::Display for TypeRef {
    /// The type as an abstract declarator (`struct task_struct *`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, ""))
    }
}

impl Decl {
    /// Its text (what `Display` prints) appended to `out`.
    pub fn write_to(&self, out: &mut String) {
        render_into(&self.ty, &self.name, out);
    }
}

impl fmt::Display for Decl {
    /// `struct task_struct *bpf_task_acquire(struct task_struct *p)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.ty, &self.name))
    }
}

impl serde::Serialize for Decl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Decl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        s.parse().map_err(|e: ParseError| serde::de::Error::custom(format!("C declaration `{s}`: {e}")))
    }
}

// ---------------------------------------------------------------------------
// The reader.

/// Longest declaration text read.
pub const MAX_TEXT: usize = 64 * 1024;
/// Deepest nesting of parenthesised declarators read.
const MAX_DEPTH: usize = 4 * MAX_CHAIN;

/// Why a declaration did not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the text.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: expected {}", self.offset, self.expected)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Num(u32),
    Punct(char),
    Ellipsis,
    AnonBody,
    Comment(&'a str),
    /// The inside of `__attribute__((...))`.
    Attr(&'a str),
}

fn tokenize(s: &str) -> Result<Vec<(usize, Tok<'_>)>, ParseError> {
    if s.len() > MAX_TEXT {
        return Err(ParseError { offset: MAX_TEXT, expected: "at most 64 KiB of text" });
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset, expected| Err(ParseError { offset, expected });
    while let Some(&c) = b.get(i) {
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'*' | b'(' | b')' | b'[' | b']' | b',' => {
                out.push((start, Tok::Punct(c as char)));
                i += 1;
            }
            b'.' if s[i..].starts_with("...") => {
                out.push((start, Tok::Ellipsis));
                i += 3;
            }
            b'{' if s[i..].starts_with("{...}") => {
                out.push((start, Tok::AnonBody));
                i += 5;
            }
            b'/' if s[i..].starts_with("/* ") => {
                let Some(end) = s[i + 3..].find(" */") else { return err(i, "` */` closing the comment") };
                out.push((start, Tok::Comment(&s[i + 3..i + 3 + end])));
                i += 3 + end + 3;
            }
            b'0'..=b'9' => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let Ok(n) = s[start..i].parse() else { return err(start, "an array length below 2^32") };
                out.push((start, Tok::Num(n)));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                    i += 1;
                }
                let word = &s[start..i];
                if word != "__attribute__" {
                    out.push((start, Tok::Ident(word)));
                    continue;
                }
                // `__attribute__((TEXT))`, TEXT with balanced parentheses.
                if !s[i..].starts_with("((") {
                    return err(i, "`((` after __attribute__");
                }
                let inner = i + 2;
                let mut depth = 2usize;
                let mut j = inner;
                while depth > 0 {
                    match b.get(j) {
                        Some(b'(') => depth += 1,
                        Some(b')') => depth -= 1,
                        Some(_) => {}
                        None => return err(j, "`))` closing __attribute__"),
                    }
                    j += 1;
                }
                // j is past the last `)`; the text ends before `))`.
                out.push((start, Tok::Attr(&s[inner..j - 2])));
                i = j;
            }
            _ => return err(i, "a C declaration character"),
        }
    }
    Ok(out)
}

/// C keywords an integer or floating-point type's name is made of.
const BASE_WORDS: &[&str] = &["signed", "unsigned", "char", "short", "int", "long", "_Bool", "__int128", "float", "double", "_Float16", "__float128"];

struct Reader<'a> {
    toks: Vec<(usize, Tok<'a>)>,
    at: usize,
    len: usize,
    /// Parenthesised declarators open.
    depth: usize,
    /// Parameter lists open.
    nest: usize,
}

/// How a declarator derives the declared name's type from the base type:
/// applied in order.
enum Op {
    Ptr,
    Qual(Qual),
    Tag(String, bool),
    Array(u32),
    Func(Vec<Param>, bool),
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.at).map(|t| &t.1)
    }
    fn peek2(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.at + 1).map(|t| &t.1)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.len, |t| t.0)
    }
    fn err<T>(&self, expected: &'static str) -> Result<T, ParseError> {
        Err(ParseError { offset: self.offset(), expected })
    }
    fn bump(&mut self) {
        self.at += 1;
    }
    fn punct(&mut self, c: char, expected: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.bump();
            Ok(())
        } else {
            self.err(expected)
        }
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("less deeply nested declarators");
        }
        Ok(())
    }

    fn qual_of(t: Option<&Tok<'_>>) -> Option<Qual> {
        match t {
            Some(Tok::Ident("const")) => Some(Qual::Const),
            Some(Tok::Ident("volatile")) => Some(Qual::Volatile),
            Some(Tok::Ident("restrict")) => Some(Qual::Restrict),
            _ => None,
        }
    }

    fn tag_of(attr: &str) -> (String, bool) {
        match attr.strip_prefix("btf_type_tag(\"").and_then(|r| r.strip_suffix("\")")) {
            Some(t) => (t.to_string(), false),
            None => (attr.to_string(), true),
        }
    }

    /// Qualifiers, base type, then qualifiers and type tags on it; and how
    /// many qualifiers and tags there were.
    fn specifiers(&mut self) -> Result<(TypeRef, usize), ParseError> {
        let mut quals = Vec::new();
        while let Some(q) = Self::qual_of(self.peek()) {
            quals.push(q);
            self.bump();
        }
        let mut base = match self.peek().cloned() {
            Some(Tok::Ident("void")) => {
                self.bump();
                TypeRef::Void
            }
            Some(Tok::Ident(kw @ ("struct" | "union" | "enum"))) => {
                self.bump();
                let name = match self.peek().cloned() {
                    Some(Tok::AnonBody) => String::new(),
                    Some(Tok::Ident(n)) if Self::qual_of(self.peek()).is_none() => n.to_string(),
                    _ => return self.err("a tag name or `{...}`"),
                };
                self.bump();
                match kw {
                    "struct" => TypeRef::Struct(name),
                    "union" => TypeRef::Union(name),
                    _ => TypeRef::Enum(name),
                }
            }
            Some(Tok::Ident(w)) if BASE_WORDS.contains(&w) => {
                let mut words = Vec::new();
                while let Some(Tok::Ident(w)) = self.peek() {
                    if !BASE_WORDS.contains(w) {
                        break;
                    }
                    words.push(*w);
                    self.bump();
                }
                let float = words.iter().any(|w| matches!(*w, "float" | "double" | "_Float16" | "__float128"));
                let name = words.join(" ");
                if float {
                    TypeRef::Float(name)
                } else {
                    TypeRef::Int(name)
                }
            }
            Some(Tok::Ident(n)) if Self::qual_of(self.peek()).is_none() => {
                self.bump();
                TypeRef::Typedef(n.to_string())
            }
            Some(Tok::Comment(c)) => {
                self.bump();
                TypeRef::Unknown(c.to_string())
            }
            _ => return self.err("a type"),
        };
        let mut links = quals.len();
        for q in quals {
            base = TypeRef::qualified(q, base);
        }
        loop {
            if links >= MAX_CHAIN {
                return self.err("at most 64 links (pointers, qualifiers, tags, arrays, functions) in a declaration");
            }
            if let Some(q) = Self::qual_of(self.peek()) {
                self.bump();
                base = TypeRef::qualified(q, base);
            } else if let Some(Tok::Attr(a)) = self.peek() {
                let (tag, attr) = Self::tag_of(a);
                self.bump();
                base = TypeRef::TypeTag { tag, attr, ty: Arc::new(base) };
            } else {
                return Ok((base, links));
            }
            links += 1;
        }
    }

    /// A declarator: the declared name (maybe empty) and the derivations
    /// from the base type to its type, in order.
    fn declarator(&mut self) -> Result<(String, Vec<Op>), ParseError> {
        self.enter()?;
        let mut pre = Vec::new();
        while self.peek() == Some(&Tok::Punct('*')) {
            self.bump();
            pre.push(Op::Ptr);
            loop {
                if let Some(q) = Self::qual_of(self.peek()) {
                    self.bump();
                    pre.push(Op::Qual(q));
                } else if let Some(Tok::Attr(a)) = self.peek() {
                    let (tag, attr) = Self::tag_of(a);
                    self.bump();
                    pre.push(Op::Tag(tag, attr));
                } else {
                    break;
                }
            }
        }
        let (name, inner) = match self.peek().cloned() {
            Some(Tok::Ident(n)) if Self::qual_of(self.peek()).is_none() => {
                self.bump();
                (n.to_string(), Vec::new())
            }
            Some(Tok::Punct('(')) if matches!(self.peek2(), Some(Tok::Punct('*')) | Some(Tok::Punct('('))) => {
                self.bump();
                let d = self.declarator()?;
                self.punct(')', "`)` closing a declarator")?;
                d
            }
            _ => (String::new(), Vec::new()),
        };
        let mut suffixes = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Punct('[')) => {
                    self.bump();
                    let Some(&Tok::Num(n)) = self.peek() else { return self.err("an array length") };
                    self.bump();
                    self.punct(']', "`]`")?;
                    suffixes.push(Op::Array(n));
                }
                Some(Tok::Punct('(')) => {
                    let (ps, variadic) = self.params()?;
                    suffixes.push(Op::Func(ps, variadic));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        // `name[2][3]`: array of 2 arrays of 3: the last suffix applies first.
        suffixes.reverse();
        let mut ops = pre;
        ops.extend(suffixes);
        ops.extend(inner);
        Ok((name, ops))
    }

    /// `(void)`, `(...)` or `(DECL, DECL, ...)`.
    fn params(&mut self) -> Result<(Vec<Param>, bool), ParseError> {
        // The renderer cuts parameters nested deeper than MAX_NEST.
        self.nest += 1;
        if self.nest > MAX_NEST + 1 {
            return self.err("parameter lists nested at most 17 deep");
        }
        self.punct('(', "`(`")?;
        let mut params = Vec::new();
        let mut variadic = false;
        if self.peek() == Some(&Tok::Ident("void")) && self.peek2() == Some(&Tok::Punct(')')) {
            self.bump();
        } else {
            loop {
                if self.peek() == Some(&Tok::Ellipsis) {
                    self.bump();
                    variadic = true;
                    break;
                }
                let d = self.decl()?;
                params.push(Param { name: d.name, ty: d.ty });
                if self.peek() != Some(&Tok::Punct(',')) {
                    break;
                }
                self.bump();
            }
        }
        self.punct(')', "`,` or `)` in a parameter list")?;
        self.nest -= 1;
        Ok((params, variadic))
    }

    fn decl(&mut self) -> Result<Decl, ParseError> {
        let (base, links) = self.specifiers()?;
        let (name, ops) = self.declarator()?;
        // The renderer cuts chains of more than MAX_CHAIN types (the base
        // included); this also bounds how deep the tree is.
        if links + ops.len() >= MAX_CHAIN {
            return self.err("at most 64 links (pointers, qualifiers, tags, arrays, functions) in a declaration");
        }
        let mut ty = base;
        for op in ops {
            ty = match op {
                Op::Ptr => TypeRef::Ptr(Arc::new(ty)),
                Op::Qual(q) => TypeRef::qualified(q, ty),
                Op::Tag(tag, attr) => TypeRef::TypeTag { tag, attr, ty: Arc::new(ty) },
                Op::Array(len) => TypeRef::Array { elem: Arc::new(ty), len },
                Op::Func(params, variadic) => TypeRef::Func(Arc::new(FuncProto { ret: ty, params, variadic })),
            };
        }
        Ok(Decl { name, ty })
    }
}

impl FromStr for Decl {
    type Err = ParseError;

    /// Read a declaration as [`Decl`]'s `Display` writes it (spacing free).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let toks = tokenize(s)?;
        let mut r = Reader { toks, at: 0, len: s.len(), depth: 0, nest: 0 };
        let d = r.decl()?;
        if r.peek().is_some() {
            return r.err("the end of the declaration");
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> Decl {
        let d: Decl = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(d.to_string(), s);
        d
    }

    #[test]
    fn reads_back_what_it_writes() {
        let d = rt("struct task_struct *bpf_task_acquire(struct task_struct *p)");
        let s = TypeRef::Ptr(Arc::new(TypeRef::Struct("task_struct".into())));
        assert_eq!(d, Decl::new("bpf_task_acquire", TypeRef::Func(Arc::new(FuncProto::new(s.clone(), vec![Param::new("p", s)], false)))));
        assert!(d.takes_args());
        assert!(!rt("void bpf_rcu_read_lock(void)").takes_args());
        assert!(rt("int bpf_printk(const char *fmt, ...)").takes_args());
        rt("int bpf_wq_set_callback_impl(struct bpf_wq *wq, int (*callback_fn)(void *, int *, void *), unsigned int flags, void *aux__ign)");
        rt("long unsigned int f(const volatile int * const p, char (*a)[16], int m[2][3], union {...} u, enum e x)");
        rt("struct cgroup __attribute__((btf_type_tag(\"rcu\"))) *f(void __attribute__((address_space(1))) *p)");
        rt("int (*f(int a))(void)");
        rt("/* bad type 7 */ *f(/* nested too deep */, /* FUNC */ x)");
        rt("/* type chain too long or cyclic */");
        rt("_Bool f(__int128 unsigned x, double d, u32 n)");
        let d: Decl = "struct rq* b( int c )".parse().unwrap();
        assert_eq!(d.to_string(), "struct rq *b(int c)");
        assert_eq!(d.params()[0].ty, TypeRef::Int("int".into()));
        let d: Decl = "u64 f(const char *s)".parse().unwrap();
        assert_eq!(d.func().map(|f| &f.ret), Some(&TypeRef::Typedef("u64".into())));
        assert_eq!(d.params()[0].ty.to_string(), "const char *");
    }

    #[test]
    fn tags_come_from_the_types() {
        let d = rt("struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *xdp_ctx, int (*cb)(union u *, struct {...} *), enum x e, struct xdp_md *again)");
        let t: Vec<String> = d.tagged().iter().map(|(t, n)| format!("{} {n}", t.keyword())).collect();
        assert_eq!(t, ["struct nf_conn___init", "struct xdp_md", "union u", "enum x"]);
    }

    #[test]
    fn errors_name_offset_and_expectation() {
        let e = "int f(int".parse::<Decl>().unwrap_err();
        assert_eq!((e.offset, e.expected), (9, "`,` or `)` in a parameter list"));
        let e = "int f(void) x".parse::<Decl>().unwrap_err();
        assert_eq!((e.offset, e.expected), (12, "the end of the declaration"));
        let e = "struct * f".parse::<Decl>().unwrap_err();
        assert_eq!(e.expected, "a tag name or `{...}`");
        assert_eq!("int a[99999999999]".parse::<Decl>().unwrap_err().expected, "an array length below 2^32");
        assert_eq!("".parse::<Decl>().unwrap_err().expected, "a type");
        assert!("int f(int a) __attribute__((x".parse::<Decl>().is_err());
        let deep = format!("int {}x{}", "(".repeat(400), ")".repeat(400));
        assert_eq!(deep.parse::<Decl>().unwrap_err().expected, "less deeply nested declarators");
        let long = format!("int {}x", "*".repeat(5_000));
        assert!(long.parse::<Decl>().unwrap_err().expected.starts_with("at most 64 links"));
        assert!(format!("int {}x", "*".repeat(62)).parse::<Decl>().is_ok());
        let nested = format!("int f{}", "(int (*g)".repeat(20));
        assert_eq!(nested.parse::<Decl>().unwrap_err().expected, "parameter lists nested at most 17 deep");
    }

    /// Every prefix and single-byte change of prototypes reads or fails,
    /// never panics, and what reads prints.
    #[test]
    fn mutations_never_panic() {
        let seeds = [
            "int bpf_wq_set_callback_impl(struct bpf_wq *wq, int (*callback_fn)(void *, int *, void *), unsigned int flags, void *aux__ign)",
            "struct cgroup __attribute__((btf_type_tag(\"rcu\"))) *f(void __attribute__((address_space(1))) *p, char (*a)[16], ...)",
            "/* bad type 7 */ *f(/* nested too deep */, union {...} u)",
        ];
        let alphabet = b" *()[],.{}/_\"aZ09";
        let mut read = 0;
        for s in seeds {
            let b = s.as_bytes();
            for cut in 0..=b.len() {
                if let Ok(t) = std::str::from_utf8(&b[..cut]) {
                    read += usize::from(t.parse::<Decl>().is_ok());
                }
            }
            for i in 0..b.len() {
                for &c in alphabet {
                    let mut m = b.to_vec();
                    m[i] = c;
                    if let Ok(t) = std::str::from_utf8(&m) {
                        if let Ok(d) = t.parse::<Decl>() {
                            read += 1;
                            let _ = d.to_string();
                        }
                    }
                }
            }
        }
        assert!(read > 100, "{read}");
    }
}
