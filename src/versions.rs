//! Symbol versions for BPF: a deterministic fingerprint per kfunc and per
//! named type, independent of BTF type ids, type order, duplicate types and
//! of how the kernel was built (see docs/fingerprints.md for the exact
//! definition).
//!
//! - *prototype* fingerprint of a kfunc: return and parameter types as C
//!   text (by kind and name, not layout), parameter names (their suffixes
//!   carry verifier meaning) and the KF_* flag names;
//! - *deep* fingerprint: adds the layout of every named type reachable from
//!   the prototype. Named types form a graph keyed by (class, name); cycles
//!   are handled by hashing strongly-connected components (Tarjan), so a
//!   type's deep hash covers everything it can reach.
//!
//! The same [`TypeGraph`] gives `diff` its structured layouts.

use crate::btf::{render, Btf, Kind, TypeId};
use crate::kernel::Kernel;
use crate::surface::{Kfunc, Surface};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The fingerprint hash: FNV-1a 64 over separated parts ([`crate::hash`]).
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    crate::hash::fnv1a_parts(parts)
}

/// A fingerprint as 16 hex digits.
pub fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// A key from its display form (`struct task_struct`).
pub fn parse_key(s: &str) -> Option<Key> {
    let (class, name) = s.split_once(' ')?;
    let class = [Class::Struct, Class::Union, Class::Enum, Class::Typedef, Class::Int, Class::Float].into_iter().find(|c| c.as_str() == class)?;
    Some(Key { class, name: name.to_string() })
}

/// Like [`parse_type_name`], but the type must exist in `btf` with that
/// class; otherwise a message with the closest names (did you mean ...?).
pub fn lookup_type_name(btf: &Btf, s: &str) -> Result<Key, String> {
    let exists = |k: &Key| btf.by_name(&k.name).any(|t| t.kind != Kind::Fwd && k.class.matches(t.kind, t.fwd_is_union()));
    if let Some(k) = parse_type_name(btf, s).filter(exists) {
        return Ok(k);
    }
    let bare = s.trim().rsplit(' ').next().unwrap_or("").to_string();
    // The same name with another class (`enum task_struct` -> `struct task_struct`).
    let mut hints: Vec<String> = btf.by_name(&bare).filter(|t| t.kind != Kind::Fwd).filter_map(|t| key_of(btf, t.id)).map(|k| k.to_string()).collect();
    if hints.is_empty() {
        // Closest names by edit distance, among named types of similar length.
        let mut best: Vec<(usize, String)> = btf
            .types()
            .filter(|t| !matches!(t.kind, Kind::Fwd | Kind::Func | Kind::Var | Kind::FuncProto | Kind::Ptr))
            .filter(|t| !t.name().is_empty() && t.name().len().abs_diff(bare.len()) <= 3)
            .filter_map(|t| {
                let d = edit_distance(t.name(), &bare);
                (d <= 2.max(bare.len() / 4)).then(|| (d, key_of(btf, t.id).map(|k| k.to_string()).unwrap_or_default()))
            })
            .filter(|(_, k)| !k.is_empty())
            .collect();
        best.sort();
        best.dedup_by(|a, b| a.1 == b.1);
        hints = best.into_iter().take(3).map(|x| x.1).collect();
    }
    hints.sort();
    hints.dedup();
    let hint =
        if hints.is_empty() { String::new() } else { format!(" (did you mean {}?)", hints.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")) };
    Err(format!("no type `{}` in this kernel{hint}", s.trim()))
}

/// The closest of `candidates` to `name` by edit distance, when close
/// enough to be a misspelling (a "did you mean").
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name && c.len().abs_diff(name.len()) <= 3)
        .map(|c| (edit_distance(c, name), c))
        .filter(|(d, _)| *d <= 2.max(name.len() / 8))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance (small strings: type names).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// What kind of named type a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// `struct`.
    Struct,
    /// `union`.
    Union,
    /// `enum` (32 or 64 bit).
    Enum,
    /// `typedef`.
    Typedef,
    /// A base integer type.
    Int,
    /// A floating-point type.
    Float,
}

impl Class {
    /// The C keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Struct => "struct",
            Class::Union => "union",
            Class::Enum => "enum",
            Class::Typedef => "typedef",
            Class::Int => "int",
            Class::Float => "float",
        }
    }
    fn matches(self, t: Kind, fwd_union: bool) -> bool {
        match self {
            Class::Struct => t == Kind::Struct || (t == Kind::Fwd && !fwd_union),
            Class::Union => t == Kind::Union || (t == Kind::Fwd && fwd_union),
            Class::Enum => matches!(t, Kind::Enum | Kind::Enum64),
            Class::Typedef => t == Kind::Typedef,
            Class::Int => t == Kind::Int,
            Class::Float => t == Kind::Float,
        }
    }
}

/// A named type: `struct task_struct`, `typedef u32`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    /// Class.
    pub class: Class,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        KeyRef::from(self).fmt(f)
    }
}

/// The key of a terminal named type (None for anonymous or non-terminal types).
pub fn key_of(btf: &Btf, id: TypeId) -> Option<Key> {
    key_ref_of(btf, id).map(KeyRef::to_key)
}

/// A [`Key`] whose name borrows from a BTF's string section: for passes
/// over thousands of types that compare and collect keys without an
/// allocation per name. Orders as [`Key`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyRef<'a> {
    /// Class.
    pub class: Class,
    /// Name.
    pub name: &'a str,
}

impl KeyRef<'_> {
    /// The owned key.
    pub fn to_key(self) -> Key {
        Key { class: self.class, name: self.name.to_string() }
    }
}

impl std::fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.class.as_str(), self.name)
    }
}

impl<'a> From<&'a Key> for KeyRef<'a> {
    fn from(k: &'a Key) -> Self {
        KeyRef { class: k.class, name: &k.name }
    }
}

/// [`key_of`] borrowing the name.
pub fn key_ref_of(btf: &Btf, id: TypeId) -> Option<KeyRef<'_>> {
    key_ref_of_type(&btf.ty(id)?)
}

/// [`key_ref_of`] a type already looked up.
fn key_ref_of_type<'a>(t: &crate::btf::Type<'a>) -> Option<KeyRef<'a>> {
    let class = match t.kind {
        Kind::Struct => Class::Struct,
        Kind::Union => Class::Union,
        Kind::Fwd if t.fwd_is_union() => Class::Union,
        Kind::Fwd => Class::Struct,
        Kind::Enum | Kind::Enum64 => Class::Enum,
        Kind::Typedef => Class::Typedef,
        Kind::Int => Class::Int,
        Kind::Float => Class::Float,
        _ => return None,
    };
    let name = t.name();
    (!name.is_empty()).then_some(KeyRef { class, name })
}

/// A member after flattening anonymous structs/unions into their parent:
/// `name` is the C access path (`u.a` for a named member of an anonymous
/// type nested under `u`), `bit_offset` is from the start of the outer type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MemberLayout {
    /// Member name (empty: anonymous).
    pub name: String,
    /// C spelling of the member's type.
    pub ty: String,
    /// Offset in bits.
    pub bit_offset: u32,
    /// Bitfield width (0: not a bitfield).
    pub bitfield_size: u8,
}

/// One definition of a named type, id-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Layout {
    /// A struct or union.
    #[allow(missing_docs)]
    Composite { union: bool, size: u32, members: Vec<MemberLayout> },
    /// An enum with its values.
    #[allow(missing_docs)]
    Enum { size: u32, signed: bool, values: Vec<(String, i128)> },
    /// A typedef and what it names, as C text.
    #[allow(missing_docs)]
    Typedef { target: String },
    /// A base integer type.
    #[allow(missing_docs)]
    Int { size: u32, bits: u8, signed: bool, char: bool, bool: bool },
    /// A floating-point type.
    #[allow(missing_docs)]
    Float { size: u32 },
    /// Only forward-declared here.
    Opaque,
}

impl Layout {
    /// Canonical text, the input of the shallow hash (docs/fingerprints.md).
    pub fn canonical(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        match self {
            Layout::Composite { union, size, members } => {
                let _ = writeln!(s, "{} size={size}", if *union { "union" } else { "struct" });
                for m in members {
                    let _ = writeln!(s, "m {} {} @{}:{}", m.name, m.ty, m.bit_offset, m.bitfield_size);
                }
            }
            Layout::Enum { size, signed, values } => {
                let _ = writeln!(s, "enum size={size} signed={signed}");
                for (n, v) in values {
                    let _ = writeln!(s, "v {n}={v}");
                }
            }
            Layout::Typedef { target } => {
                let _ = writeln!(s, "typedef {target}");
            }
            Layout::Int { size, bits, signed, char, bool } => {
                let _ = writeln!(s, "int size={size} bits={bits} signed={signed} char={char} bool={bool}");
            }
            Layout::Float { size } => {
                let _ = writeln!(s, "float size={size}");
            }
            Layout::Opaque => s.push_str("opaque\n"),
        }
        s
    }
}

/// How deep anonymous members are flattened into their parent (linear work).
const MAX_INLINE_DEPTH: usize = 16;
/// Most members one flattened layout may have: anonymous members can
/// contain themselves, and nesting multiplies.
const MAX_FLAT_MEMBERS: usize = 4096;
/// How many levels of *referenced* anonymous types (`struct {...} *`) are
/// spelled out inline: each level multiplies the text by the member count,
/// so this stays small.
const MAX_EXPAND: usize = 2;

/// The C spelling of a type reference, with anonymous structs, unions and
/// enums spelled out inline so their layout is part of the text.
pub fn type_ref(btf: &Btf, id: TypeId) -> String {
    let mut budget = MAX_FLAT_MEMBERS;
    type_ref_at(btf, id, 0, &mut budget)
}

/// `type_ref` at a given inline-expansion depth: anonymous types can point
/// at themselves, so expansion stops at MAX_INLINE_DEPTH.
fn type_ref_at(btf: &Btf, id: TypeId, expand: usize, budget: &mut usize) -> String {
    let base = render::decl(btf, id, "");
    if !base.contains("{...}") || expand >= MAX_EXPAND || *budget == 0 {
        return base;
    }
    // Expand the (first) anonymous terminal type of the chain.
    let mut cur = id;
    for _ in 0..crate::btf::MAX_RESOLVE_DEPTH {
        let Some(t) = btf.ty(cur) else { break };
        match t.kind {
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => cur = t.ref_type(),
            Kind::Array => cur = t.array().map(|a| a.elem).unwrap_or(TypeId::VOID),
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                let inner = inline_layout(btf, cur, expand + 1, budget).canonical().replace('\n', "; ");
                return base.replacen("{...}", &format!("{{ {inner}}}"), 1);
            }
            _ => break,
        }
    }
    base
}

/// Layout of one type; `expand` counts referenced anonymous types already
/// spelled out on the way here.
/// `budget` is shared by everything one top-level layout expands.
fn inline_layout(btf: &Btf, id: TypeId, expand: usize, budget: &mut usize) -> Layout {
    let Some(t) = btf.ty(id) else { return Layout::Opaque };
    match t.kind {
        Kind::Struct | Kind::Union => {
            let mut members = Vec::new();
            flatten(btf, id, 0, "", 0, expand, budget, &mut members);
            Layout::Composite { union: t.kind == Kind::Union, size: t.size(), members }
        }
        Kind::Enum | Kind::Enum64 => Layout::Enum {
            size: t.size(),
            signed: t.enum_signed(),
            values: t.enumerators().map(|e| (e.name.to_string(), if t.enum_signed() { e.value as i64 as i128 } else { e.value as i128 })).collect(),
        },
        Kind::Typedef => Layout::Typedef { target: type_ref_at(btf, t.ref_type(), expand, budget) },
        Kind::Int => {
            let i = t.int_info().unwrap_or(crate::btf::IntInfo { signed: false, char: false, bool: false, offset: 0, bits: 0 });
            Layout::Int { size: t.size(), bits: i.bits, signed: i.signed, char: i.char, bool: i.bool }
        }
        Kind::Float => Layout::Float { size: t.size() },
        _ => Layout::Opaque,
    }
}

#[allow(clippy::too_many_arguments)]
fn flatten(btf: &Btf, id: TypeId, base_bits: u32, prefix: &str, depth: usize, expand: usize, budget: &mut usize, out: &mut Vec<MemberLayout>) {
    let Some(t) = btf.ty(id) else { return };
    for m in t.members() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let off = base_bits.saturating_add(m.bit_offset);
        let anon = btf.ty(m.ty).is_some_and(|mt| matches!(mt.kind, Kind::Struct | Kind::Union) && mt.name().is_empty());
        if anon && depth < MAX_INLINE_DEPTH {
            let p = if m.name.is_empty() { prefix.to_string() } else { format!("{prefix}{}.", m.name) };
            flatten(btf, m.ty, off, &p, depth + 1, expand, budget, out);
        } else {
            out.push(MemberLayout {
                name: format!("{prefix}{}", m.name),
                ty: type_ref_at(btf, m.ty, expand, budget),
                bit_offset: off,
                bitfield_size: m.bitfield_size,
            });
        }
    }
}

/// A member of a composite's layout before its type is spelled: what
/// [`MemberLayout`] holds, with the type id whose [`type_ref`] is its `ty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatMember<'a> {
    /// Access path (`u.a`), as [`MemberLayout::name`].
    pub name: std::borrow::Cow<'a, str>,
    /// The member's type: `type_ref(btf, ty)` is [`MemberLayout::ty`].
    pub ty: TypeId,
    /// Offset in bits from the start of the outer type.
    pub bit_offset: u32,
    /// Bitfield width (0: not a bitfield).
    pub bitfield_size: u8,
}

/// The members of struct or union `id` as its [`Layout`] flattens them
/// (same names, offsets and order), without spelling their types: for
/// comparisons that spell only the members that differ. False (and `out`
/// partial) when the layout could exhaust its member budget
/// (`MAX_FLAT_MEMBERS`, shared by flattening and the inline expansion of
/// referenced anonymous types): a member's text would then depend on the
/// members before it, so only the full layout can tell.
pub fn flat_members<'a>(btf: &'a Btf, id: TypeId, out: &mut Vec<FlatMember<'a>>) -> bool {
    out.clear();
    let mut budget = MAX_FLAT_MEMBERS;
    flat_walk(btf, id, 0, "", 0, 0, &mut budget, &mut Some(out))
}

/// [`flatten`] without the text: the members (when `out` is given) and an
/// upper bound of the budget it uses, which must never reach 0 (false).
#[allow(clippy::too_many_arguments)]
fn flat_walk<'a>(
    btf: &'a Btf,
    id: TypeId,
    base_bits: u32,
    prefix: &str,
    depth: usize,
    expand: usize,
    budget: &mut usize,
    out: &mut Option<&mut Vec<FlatMember<'a>>>,
) -> bool {
    let Some(t) = btf.ty(id) else { return true };
    for m in t.members() {
        if *budget <= 1 {
            return false;
        }
        *budget -= 1;
        let off = base_bits.saturating_add(m.bit_offset);
        let mt = btf.ty(m.ty);
        let anon = mt.as_ref().is_some_and(|mt| matches!(mt.kind, Kind::Struct | Kind::Union) && mt.name().is_empty());
        if anon && depth < MAX_INLINE_DEPTH {
            let p = if m.name.is_empty() { std::borrow::Cow::Borrowed(prefix) } else { std::borrow::Cow::Owned(format!("{prefix}{}.", m.name)) };
            if !flat_walk(btf, m.ty, off, &p, depth + 1, expand, budget, out) {
                return false;
            }
        } else {
            if !ref_budget(btf, mt, expand, budget) {
                return false;
            }
            if let Some(out) = out.as_mut() {
                let name = if prefix.is_empty() { std::borrow::Cow::Borrowed(m.name) } else { std::borrow::Cow::Owned(format!("{prefix}{}", m.name)) };
                out.push(FlatMember { name, ty: m.ty, bit_offset: off, bitfield_size: m.bitfield_size });
            }
        }
    }
    true
}

/// The budget [`type_ref_at`] may use for `id` (at most: an anonymous
/// terminal is counted as expanded), taken from `budget`; false when it
/// could run out. Mirrors `type_ref_at`: only a chain of pointers,
/// modifiers and arrays ending in an anonymous struct or union expands
/// (an enum's values cost nothing); a named one is spelled by name unless
/// a name on the chain contains `{`, which the text's search could match.
fn ref_budget(btf: &Btf, ty: Option<crate::btf::Type<'_>>, expand: usize, budget: &mut usize) -> bool {
    if expand >= MAX_EXPAND {
        return true;
    }
    let mut next = ty;
    for _ in 0..crate::btf::MAX_RESOLVE_DEPTH {
        let Some(t) = next else { return true };
        match t.kind {
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict => next = btf.ty(t.ref_type()),
            Kind::TypeTag => {
                if t.name_bytes().contains(&b'{') {
                    return false;
                }
                next = btf.ty(t.ref_type());
            }
            Kind::Array => next = btf.ty(t.array().map(|a| a.elem).unwrap_or(TypeId::VOID)),
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                if t.name_bytes().contains(&b'{') {
                    return false;
                }
                if !t.name().is_empty() || matches!(t.kind, Kind::Enum | Kind::Enum64) {
                    return true;
                }
                return flat_walk(btf, t.id, 0, "", 0, expand + 1, budget, &mut None);
            }
            _ => return true,
        }
    }
    true
}

/// The distinct layouts of `k`'s definitions (an opaque one when it has
/// none), as [`TypeGraph::node_of`] gives them, without the fingerprint.
/// Two keys' nodes have equal shallow fingerprints when their layouts are
/// equal as sets.
pub fn layouts_of(btf: &Btf, k: &Key) -> Vec<Layout> {
    TypeGraph::layouts(btf, k, None)
}

/// Named types a type reference leads to (through pointers, modifiers,
/// arrays, function prototypes and anonymous types).
fn refs_of(btf: &Btf, id: TypeId, out: &mut BTreeSet<Key>) {
    let mut v = Vec::new();
    refs_walk(btf, id, &mut Walk::default(), &mut v);
    out.extend(v.into_iter().map(KeyRef::to_key));
}

/// Scratch space of [`refs_walk`], reused across calls.
#[derive(Default)]
struct Walk {
    stack: Vec<(TypeId, usize)>,
    seen: crate::hash::FnvHashSet<TypeId>,
}

/// [`refs_of`] pushing borrowed keys (unsorted, maybe repeated) to `out`.
fn refs_walk<'a>(btf: &'a Btf, id: TypeId, w: &mut Walk, out: &mut Vec<KeyRef<'a>>) {
    // Most references are a chain of pointers, modifiers and arrays ending
    // in a named type: follow it without the stack and the seen set (a
    // cycle ends at the same depth bound).
    let mut cur = id;
    for _ in 0..=256 {
        let Some(t) = btf.ty(cur) else { return };
        if let Some(k) = key_ref_of_type(&t) {
            out.push(k);
            return;
        }
        match t.kind {
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => cur = t.ref_type(),
            Kind::Array => match t.array() {
                Some(a) => cur = a.elem,
                None => return,
            },
            Kind::FuncProto | Kind::Struct | Kind::Union => break,
            _ => return,
        }
    }
    w.stack.clear();
    w.seen.clear();
    w.stack.push((id, 0));
    while let Some((id, depth)) = w.stack.pop() {
        if depth > 256 || !w.seen.insert(id) {
            continue;
        }
        let Some(t) = btf.ty(id) else { continue };
        if let Some(k) = key_ref_of_type(&t) {
            out.push(k);
            continue;
        }
        match t.kind {
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => w.stack.push((t.ref_type(), depth + 1)),
            Kind::Array => {
                if let Some(a) = t.array() {
                    w.stack.push((a.elem, depth + 1));
                }
            }
            Kind::FuncProto => {
                w.stack.push((t.ref_type(), depth + 1));
                w.stack.extend(t.params().map(|p| (p.ty, depth + 1)));
            }
            Kind::Struct | Kind::Union => w.stack.extend(t.member_refs().map(|m| (m.1, depth + 1))),
            _ => {}
        }
    }
}

/// A named type's definitions (usually one; identical duplicates merged)
/// and the named types they refer to.
#[derive(Debug, Clone)]
pub struct Node {
    /// Every definition with this key (usually one).
    pub defs: Vec<Layout>,
    /// Named types the definitions refer to.
    pub edges: BTreeSet<Key>,
    /// Shallow fingerprint (this layout, references by name).
    pub shallow: u64,
}

/// Named-type graph of one BTF scope (vmlinux, or a module over vmlinux),
/// built on demand from roots, with deep hashes per key.
pub struct TypeGraph {
    nodes: crate::hash::FnvHashMap<Key, Node>,
    deep: crate::hash::FnvHashMap<Key, u64>,
}

impl Default for TypeGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl TypeGraph {
    /// An empty graph.
    pub fn new() -> Self {
        TypeGraph { nodes: Default::default(), deep: Default::default() }
    }

    /// Keys of the nodes computed so far.
    pub fn keys(&self) -> Vec<Key> {
        self.nodes.keys().cloned().collect()
    }

    /// The node of `k`, if computed.
    pub fn node(&self, k: &Key) -> Option<&Node> {
        self.nodes.get(k)
    }

    /// Definitions of `k` among `btf`'s own types (for a module: its own,
    /// not the base's).
    fn own_defs(btf: &Btf, k: &Key) -> Vec<TypeId> {
        let mut all: Vec<(TypeId, Kind)> = btf
            .own_named_types(k.name.as_bytes())
            .filter(|t| t.id >= btf.start_id() && k.class.matches(t.kind, t.fwd_is_union()))
            .map(|t| (t.id, t.kind))
            .collect();
        all.sort_unstable();
        let full: Vec<TypeId> = all.iter().filter(|(_, kd)| *kd != Kind::Fwd).map(|(i, _)| *i).collect();
        if full.is_empty() {
            all.into_iter().map(|(i, _)| i).collect()
        } else {
            full
        }
    }

    /// The node of `k` alone, without its edges (empty; its successors are
    /// not built): layouts and shallow fingerprint, as
    /// [`TypeGraph::ensure`] would record them.
    pub fn node_of(btf: &Btf, k: &Key) -> Node {
        TypeGraph::build(btf, k, false)
    }

    /// Does this scope define `k` itself (else it is the base's)?
    fn owns(btf: &Btf, k: &Key) -> bool {
        !btf.is_split() || !TypeGraph::own_defs(btf, k).is_empty()
    }

    fn build_node(btf: &Btf, k: &Key) -> Node {
        TypeGraph::build(btf, k, true)
    }

    /// The distinct layouts of `k`'s own definitions (an opaque one when
    /// it has none), and the named types they refer to into `edges`.
    fn layouts(btf: &Btf, k: &Key, mut edges: Option<&mut BTreeSet<Key>>) -> Vec<Layout> {
        let ids = TypeGraph::own_defs(btf, k);
        let mut defs: Vec<Layout> = Vec::new();
        for id in ids {
            let mut budget = MAX_FLAT_MEMBERS;
            let l = inline_layout(btf, id, 0, &mut budget);
            if let (Some(t), Some(edges)) = (btf.ty(id), edges.as_deref_mut()) {
                match t.kind {
                    Kind::Struct | Kind::Union => t.members().for_each(|m| refs_of(btf, m.ty, edges)),
                    Kind::Typedef => refs_of(btf, t.ref_type(), edges),
                    _ => {}
                }
            }
            if !defs.contains(&l) {
                defs.push(l);
            }
        }
        if defs.is_empty() {
            defs.push(Layout::Opaque);
        }
        defs
    }

    /// A node; its edges only when `edges` (else empty).
    fn build(btf: &Btf, k: &Key, with_edges: bool) -> Node {
        let mut edges = BTreeSet::new();
        let defs = TypeGraph::layouts(btf, k, with_edges.then_some(&mut edges));
        let mut bufs: Vec<Vec<u8>> = vec![k.to_string().into_bytes()];
        let mut texts: Vec<String> = defs.iter().map(Layout::canonical).collect();
        texts.sort();
        bufs.extend(texts.into_iter().map(String::into_bytes));
        let refs: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        edges.remove(k);
        Node { shallow: fnv64(&refs), defs, edges }
    }

    /// Make sure `k` and everything it reaches (in this scope) has a node.
    pub fn ensure(&mut self, btf: &Btf, k: &Key) {
        let mut stack = vec![k.clone()];
        while let Some(k) = stack.pop() {
            if self.nodes.contains_key(&k) || !TypeGraph::owns(btf, &k) {
                continue;
            }
            let n = TypeGraph::build_node(btf, &k);
            stack.extend(n.edges.iter().filter(|e| !self.nodes.contains_key(*e)).cloned());
            self.nodes.insert(k, n);
        }
    }

    /// Deep hash of `k`: its SCC's shallow hashes and everything reachable.
    /// `base` resolves keys this (module) scope does not define.
    pub fn deep(&mut self, btf: &Btf, k: &Key, mut base: Option<(&mut TypeGraph, &Btf)>) -> u64 {
        if let Some(&h) = self.deep.get(k) {
            return h;
        }
        if !TypeGraph::owns(btf, k) {
            return match base.as_mut() {
                Some((g, b)) => g.deep(b, k, None),
                None => fnv64(&[b"unresolved", k.to_string().as_bytes()]),
            };
        }
        self.ensure(btf, k);
        // Iterative Tarjan over the not-yet-hashed part of the graph.
        let mut index: crate::hash::FnvHashMap<Key, (usize, usize)> = Default::default(); // key -> (index, lowlink)
        let mut on_stack: crate::hash::FnvHashSet<Key> = Default::default();
        let mut tstack: Vec<Key> = Vec::new();
        let mut counter = 0usize;
        // frame: (key, successors, next successor position)
        let mut call: Vec<(Key, Vec<Key>, usize)> = Vec::new();
        let succ = |g: &TypeGraph, k: &Key| -> Vec<Key> { g.nodes.get(k).map(|n| n.edges.iter().cloned().collect()).unwrap_or_default() };
        index.insert(k.clone(), (counter, counter));
        counter += 1;
        tstack.push(k.clone());
        on_stack.insert(k.clone());
        call.push((k.clone(), succ(self, k), 0));
        while let Some((v, ws, pos)) = call.last_mut() {
            if *pos < ws.len() {
                let w = ws[*pos].clone();
                *pos += 1;
                let v = v.clone();
                if self.deep.contains_key(&w) || !self.nodes.contains_key(&w) {
                    continue; // already hashed, or the base's: a leaf
                }
                if let Some(&(wi, _)) = index.get(&w) {
                    if on_stack.contains(&w) {
                        if let Some(e) = index.get_mut(&v) {
                            e.1 = e.1.min(wi);
                        }
                    }
                } else {
                    index.insert(w.clone(), (counter, counter));
                    counter += 1;
                    tstack.push(w.clone());
                    on_stack.insert(w.clone());
                    let s = succ(self, &w);
                    call.push((w, s, 0));
                }
                continue;
            }
            let v = v.clone();
            call.pop();
            let Some(&(vi, vl)) = index.get(&v) else { continue };
            if let Some((parent, _, _)) = call.last() {
                let p = parent.clone();
                if let Some(e) = index.get_mut(&p) {
                    e.1 = e.1.min(vl);
                }
            }
            if vi == vl {
                // v is the root of an SCC: pop it and hash it as a unit.
                let mut scc = Vec::new();
                while let Some(x) = tstack.pop() {
                    on_stack.remove(&x);
                    let done = x == v;
                    scc.push(x);
                    if done {
                        break;
                    }
                }
                let members: BTreeSet<&Key> = scc.iter().collect();
                let mut shallow: Vec<u64> = scc.iter().filter_map(|x| self.nodes.get(x)).map(|n| n.shallow).collect();
                shallow.sort_unstable();
                shallow.dedup();
                let mut outside: Vec<u64> = Vec::new();
                let out_keys: BTreeSet<Key> =
                    scc.iter().filter_map(|x| self.nodes.get(x)).flat_map(|n| n.edges.iter()).filter(|e| !members.contains(e)).cloned().collect();
                for e in out_keys {
                    let h = match self.deep.get(&e) {
                        Some(&h) => h,
                        None => match base.as_mut() {
                            Some((g, b)) => g.deep(b, &e, None),
                            None => fnv64(&[b"unresolved", e.to_string().as_bytes()]),
                        },
                    };
                    outside.push(h);
                }
                outside.sort_unstable();
                outside.dedup();
                let mut buf = Vec::new();
                for h in shallow.iter().chain([u64::MAX].iter()).chain(outside.iter()) {
                    buf.extend_from_slice(&h.to_le_bytes());
                }
                let scc_hash = fnv64(&[b"scc", &buf]);
                for x in scc {
                    let sh = self.nodes.get(&x).map(|n| n.shallow).unwrap_or(0);
                    self.deep.insert(x, fnv64(&[&scc_hash.to_le_bytes(), &sh.to_le_bytes()]));
                }
            }
        }
        self.deep.get(k).copied().unwrap_or(0)
    }
}

/// One line of `bpfabi versions`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Version {
    /// kfunc or type name.
    pub name: String,
    /// "kfunc", or the class of a named type ("struct", "enum", ...).
    pub kind: String,
    /// Module (None: vmlinux).
    pub module: Option<String>,
    /// Prototype (kfunc) or shallow layout (type) fingerprint, hex.
    pub proto: String,
    /// Deep fingerprint, hex.
    pub deep: String,
}

impl Version {
    /// A row: name, kind (`kfunc`, `struct` ...), module, fingerprints.
    pub fn new(name: String, kind: &str, module: Option<String>, proto: String, deep: String) -> Self {
        Version { name, kind: kind.to_string(), module, proto, deep }
    }
}

/// Canonical prototype text of a kfunc (the input of its proto fingerprint).
pub fn proto_canonical(btf: &Btf, k: &Kfunc) -> String {
    use std::fmt::Write;
    let mut s = String::from("kfunc-proto-v1\n");
    let Some(f) = btf.ty(k.btf_id) else { return s };
    let Some(p) = btf.ty(f.ref_type()) else { return s };
    let _ = writeln!(s, "ret {}", type_ref(btf, p.ref_type()));
    for (i, a) in p.params().enumerate() {
        let _ = writeln!(s, "arg{i} {} {}", a.name, if a.ty == TypeId::VOID { "...".to_string() } else { type_ref(btf, a.ty) });
    }
    if k.flags_known {
        let mut flags = k.flags.clone();
        flags.sort();
        let _ = writeln!(s, "flags {}", flags.join(","));
    } else {
        s.push_str("flags unknown\n");
    }
    s
}

/// Named types referenced directly by a kfunc prototype.
pub fn proto_refs(btf: &Btf, k: &Kfunc) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    if let Some(f) = btf.ty(k.btf_id) {
        refs_of(btf, f.ref_type(), &mut out);
    }
    out
}

/// [`proto_refs`] borrowing the names, sorted.
pub fn proto_refs_borrowed<'a>(btf: &'a Btf, k: &Kfunc) -> Vec<KeyRef<'a>> {
    let mut out = Vec::new();
    if let Some(f) = btf.ty(k.btf_id) {
        refs_walk(btf, f.ref_type(), &mut Walk::default(), &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Fingerprints of a kernel's kfuncs, and its type graphs.
#[non_exhaustive]
pub struct KernelVersions {
    /// vmlinux types.
    pub vmlinux: TypeGraph,
    /// Module types, per module.
    pub modules: BTreeMap<String, TypeGraph>,
    /// (name, module) -> (proto, deep)
    pub kfuncs: BTreeMap<(String, Option<String>), (u64, u64)>,
}

impl KernelVersions {
    /// kfunc fingerprints of a kernel (types are added on demand).
    pub fn compute(kernel: &Kernel, surface: &Surface) -> KernelVersions {
        let mut vm = TypeGraph::new();
        let mut modules: BTreeMap<String, TypeGraph> = BTreeMap::new();
        let mut kfuncs = BTreeMap::new();
        for k in &surface.kfuncs {
            let Some(kb) = kernel.btf_in(k.module.as_deref()) else { continue };
            let btf = &kb.btf;
            let proto = fnv64(&[proto_canonical(btf, k).as_bytes()]);
            let refs = proto_refs(btf, k);
            let mut deeps: Vec<u64> = Vec::new();
            for r in &refs {
                let h = match &k.module {
                    None => vm.deep(btf, r, None),
                    Some(m) => {
                        let g = modules.entry(m.clone()).or_default();
                        g.deep(btf, r, Some((&mut vm, &kernel.vmlinux.btf)))
                    }
                };
                deeps.push(h);
            }
            deeps.sort_unstable();
            deeps.dedup();
            let mut buf = proto.to_le_bytes().to_vec();
            for h in deeps {
                buf.extend_from_slice(&h.to_le_bytes());
            }
            kfuncs.insert((k.name.clone(), k.module.clone()), (proto, fnv64(&[b"kfunc-deep-v1", &buf])));
        }
        KernelVersions { vmlinux: vm, modules, kfuncs }
    }

    /// Named vmlinux types the fingerprints reached.
    pub fn vmlinux_keys(&self) -> Vec<Key> {
        self.vmlinux.keys()
    }

    /// Fingerprint of a named vmlinux type: (shallow, deep).
    pub fn type_version(&mut self, btf: &Btf, k: &Key) -> Option<(u64, u64)> {
        self.vmlinux.ensure(btf, k);
        let shallow = self.vmlinux.node(k)?.shallow;
        Some((shallow, self.vmlinux.deep(btf, k, None)))
    }
}

/// Definitions of `k` among `btf`'s own types (a module's own, not its
/// base's), as [`TypeGraph`] takes them: the full ones, else the forward
/// declarations. Written to `out` (cleared first), in no particular order.
pub fn own_def_ids(btf: &Btf, k: KeyRef<'_>, out: &mut Vec<TypeId>) {
    out.clear();
    let mut full = false;
    for t in btf.own_named_types(k.name.as_bytes()) {
        if k.class.matches(t.kind, t.fwd_is_union()) {
            full |= t.kind != Kind::Fwd;
            out.push(t.id);
        }
    }
    if full {
        out.retain(|&id| btf.ty(id).is_some_and(|t| t.kind != Kind::Fwd));
    }
}

/// The named vmlinux types a kernel's kfunc prototypes reach, each with the
/// named types its definitions refer to: the keys and edges
/// [`KernelVersions::compute`] puts in its vmlinux graph (module kfuncs
/// reach vmlinux types through their module's own types), found without
/// building layouts or fingerprints. `diff` compares exactly these types.
pub struct Reached<'a> {
    edges: crate::hash::FnvHashMap<KeyRef<'a>, Vec<KeyRef<'a>>>,
}

impl<'a> Reached<'a> {
    /// Walk from every kfunc of `surface` (a surface of `kernel`).
    pub fn of(kernel: &'a Kernel, surface: &Surface) -> Self {
        let vm = &*kernel.vmlinux.btf;
        let mut w = Walk::default();
        let mut refs: Vec<KeyRef<'a>> = Vec::new();
        let mut ids: Vec<TypeId> = Vec::new();
        let mut vm_todo: Vec<KeyRef<'a>> = Vec::new();
        let mut module_seen: BTreeMap<&str, crate::hash::FnvHashSet<KeyRef<'a>>> = BTreeMap::new();
        for k in &surface.kfuncs {
            let Some(kb) = kernel.btf_in(k.module.as_deref()) else { continue };
            let btf: &'a Btf = &kb.btf;
            let Some(f) = btf.ty(k.btf_id) else { continue };
            refs.clear();
            refs_walk(btf, f.ref_type(), &mut w, &mut refs);
            let Some(m) = &k.module else {
                vm_todo.append(&mut refs);
                continue;
            };
            // A module's own types are its graph's; what it does not define
            // is vmlinux's (`TypeGraph::deep` with a base).
            let seen = module_seen.entry(m.as_str()).or_default();
            let mut todo: Vec<KeyRef<'a>> = Vec::new();
            for r in refs.drain(..) {
                own_def_ids(btf, r, &mut ids);
                if ids.is_empty() {
                    vm_todo.push(r);
                } else {
                    todo.push(r);
                }
            }
            let mut out = Vec::new();
            while let Some(key) = todo.pop() {
                if !seen.insert(key) {
                    continue;
                }
                Reached::edges_of(btf, key, &mut w, &mut ids, &mut out);
                for e in out.drain(..) {
                    own_def_ids(btf, e, &mut ids);
                    if ids.is_empty() {
                        vm_todo.push(e);
                    } else {
                        todo.push(e);
                    }
                }
            }
        }
        let mut edges: crate::hash::FnvHashMap<KeyRef<'a>, Vec<KeyRef<'a>>> = Default::default();
        while let Some(key) = vm_todo.pop() {
            if edges.contains_key(&key) {
                continue;
            }
            let mut out = Vec::new();
            Reached::edges_of(vm, key, &mut w, &mut ids, &mut out);
            vm_todo.extend(out.iter().filter(|e| !edges.contains_key(*e)).copied());
            edges.insert(key, out);
        }
        Reached { edges }
    }

    /// The named types the own definitions of `key` in `btf` refer to,
    /// sorted, without `key` itself (as [`Node::edges`]).
    fn edges_of(btf: &'a Btf, key: KeyRef<'_>, w: &mut Walk, ids: &mut Vec<TypeId>, out: &mut Vec<KeyRef<'a>>) {
        out.clear();
        own_def_ids(btf, key, ids);
        for &id in ids.iter() {
            let Some(t) = btf.ty(id) else { continue };
            match t.kind {
                Kind::Struct | Kind::Union => {
                    for (_, ty, _, _) in t.member_refs() {
                        refs_walk(btf, ty, w, out);
                    }
                }
                Kind::Typedef => refs_walk(btf, t.ref_type(), w, out),
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|e| *e != key);
    }

    /// Every key reached, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = KeyRef<'a>> + '_ {
        self.edges.keys().copied()
    }

    /// Whether `k` was reached.
    pub fn contains(&self, k: KeyRef<'_>) -> bool {
        self.edges.contains_key(&k)
    }

    /// The named types `k`'s definitions refer to, sorted (empty when `k`
    /// was not reached).
    pub fn edges(&self, k: KeyRef<'a>) -> &[KeyRef<'a>] {
        self.edges.get(&k).map_or(&[], Vec::as_slice)
    }

    /// How many keys were reached.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Nothing reached (no kfunc).
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }
}

/// Every named vmlinux type as keys (for `--all-types`).
pub fn all_type_keys(btf: &Btf) -> BTreeSet<Key> {
    btf.types().filter(|t| !matches!(t.kind, Kind::Fwd)).filter_map(|t| key_of(btf, t.id)).collect()
}

/// Parse `struct foo`, `union u`, `enum e`, `typedef t` or a bare name
/// (struct, else union, typedef, enum — whichever exists).
pub fn parse_type_name(btf: &Btf, s: &str) -> Option<Key> {
    let s = s.trim();
    for (p, c) in [("struct ", Class::Struct), ("union ", Class::Union), ("enum ", Class::Enum), ("typedef ", Class::Typedef)] {
        if let Some(n) = s.strip_prefix(p) {
            return Some(Key { class: c, name: n.trim().to_string() });
        }
    }
    let found = btf.by_name(s).filter(|t| t.kind != Kind::Fwd).filter_map(|t| key_of(btf, t.id)).min_by_key(|k| k.class)?;
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::builder::Builder;
    use crate::bytes::{Bytes, Endian};

    /// `struct a { struct b *b; int x; }` and `struct b { struct a *a; T y; }`
    /// (a cycle through pointers), plus `struct c { struct a *a; }` outside
    /// the cycle; `reorder` emits the types in another order (other ids).
    fn graph(y_is_long: bool, reorder: bool) -> Btf {
        let mut b = Builder::new(Endian::Little);
        let pad = if reorder { Some(b.int("pad_t", 2, 16, false)) } else { None };
        let int = b.int("int", 4, 32, true);
        let long = b.int("long", 8, 64, true);
        let fa = b.fwd("a", false);
        let pfa = b.ptr(fa);
        let sb = b.composite(false, "b", 16, &[("a", pfa, 0, 0), ("y", if y_is_long { long } else { int }, 64, 0)]);
        let psb = b.ptr(sb);
        let sa = b.composite(false, "a", 16, &[("b", psb, 0, 0), ("x", int, 64, 0)]);
        let psa = b.ptr(sa);
        b.composite(false, "c", 8, &[("a", psa, 0, 0)]);
        let _ = pad;
        Btf::parse(Bytes::from_vec(b.build())).unwrap()
    }

    fn deep_of(btf: &Btf, name: &str) -> (u64, u64) {
        let mut g = TypeGraph::new();
        let k = Key { class: Class::Struct, name: name.into() };
        g.ensure(btf, &k);
        let d = g.deep(btf, &k, None);
        (g.node(&k).unwrap().shallow, d)
    }

    #[test]
    fn cycles_are_hashed_as_components() {
        let base = graph(false, false);
        let (a_sh, a_deep) = deep_of(&base, "a");
        let (b_sh, b_deep) = deep_of(&base, "b");
        // Members of one component get their own deep hashes.
        assert_ne!(a_deep, b_deep);
        assert_ne!(a_sh, b_sh);
        // Ids and order do not matter.
        let shuffled = graph(false, true);
        assert_eq!(deep_of(&shuffled, "a"), (a_sh, a_deep));
        assert_eq!(deep_of(&shuffled, "c"), deep_of(&base, "c"));
        // A change inside the cycle changes every member's deep hash (and
        // the outside type reaching it), but only b's shallow one.
        let changed = graph(true, false);
        let (a2_sh, a2_deep) = deep_of(&changed, "a");
        let (b2_sh, b2_deep) = deep_of(&changed, "b");
        assert_eq!(a2_sh, a_sh);
        assert_ne!(a2_deep, a_deep);
        assert_ne!((b2_sh, b2_deep), (b_sh, b_deep));
        assert_ne!(deep_of(&changed, "c").1, deep_of(&base, "c").1);
        assert_eq!(deep_of(&changed, "c").0, deep_of(&base, "c").0);
    }

    /// `flat_members` of `id` against the layout it stands for: same names,
    /// offsets and bitfields, and each type spelled alone as in the layout.
    /// None when `flat_members` defers to the layout.
    fn flat_agrees(btf: &Btf, id: TypeId) -> Option<usize> {
        let mut flat = Vec::new();
        if !flat_members(btf, id, &mut flat) {
            return None;
        }
        let Layout::Composite { members, .. } = inline_layout(btf, id, 0, &mut MAX_FLAT_MEMBERS.clone()) else { panic!("[{id}] is no composite") };
        let spelled: Vec<MemberLayout> = flat
            .iter()
            .map(|m| MemberLayout { name: m.name.to_string(), ty: type_ref(btf, m.ty), bit_offset: m.bit_offset, bitfield_size: m.bitfield_size })
            .collect();
        assert_eq!(spelled, members, "[{id}] {}", btf.ty(id).map(|t| t.name().to_string()).unwrap_or_default());
        Some(members.len())
    }

    #[test]
    fn flat_members_are_the_layout_unspelled() {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let e = b.enum32("", false, &[("A", 1), ("B", 2)]);
        let inner = b.composite(false, "", 8, &[("x", int, 0, 0), ("y", int, 32, 3)]);
        let deep = b.composite(false, "", 4, &[("z", int, 0, 0)]);
        let pdeep = b.ptr(deep);
        let pointed = b.composite(false, "", 16, &[("d", pdeep, 0, 0), ("w", int, 64, 0)]);
        let ptr = b.ptr(pointed);
        let cptr = b.konst(ptr);
        let arr = b.array(inner, int, 2);
        let un = b.composite(true, "", 8, &[("", inner, 0, 0), ("n", int, 0, 0)]);
        let s =
            b.composite(false, "s", 64, &[("a", int, 0, 0), ("", un, 32, 0), ("u", inner, 96, 0), ("p", cptr, 160, 0), ("e", e, 224, 0), ("arr", arr, 256, 0)]);
        // Members enough to exhaust the budget, once by themselves and once
        // through the anonymous type each of them points to.
        let many: Vec<(String, TypeId, u32, u8)> = (0..MAX_FLAT_MEMBERS as u32 + 4).map(|i| (format!("m{i}"), int, i * 32, 0)).collect();
        let many: Vec<(&str, TypeId, u32, u8)> = many.iter().map(|(n, t, o, f)| (n.as_str(), *t, *o, *f)).collect();
        let big = b.composite(false, "big", 4 * many.len() as u32, &many);
        let wide: Vec<(String, TypeId, u32, u8)> = (0..MAX_FLAT_MEMBERS as u32 / 2).map(|i| (format!("m{i}"), int, i * 32, 0)).collect();
        let wide: Vec<(&str, TypeId, u32, u8)> = wide.iter().map(|(n, t, o, f)| (n.as_str(), *t, *o, *f)).collect();
        let anon_wide = b.composite(false, "", 4 * wide.len() as u32, &wide);
        let pwide = b.ptr(anon_wide);
        let two = b.composite(false, "two", 16, &[("a", pwide, 0, 0), ("b", pwide, 64, 0)]);
        let btf = Btf::parse(Bytes::from_vec(b.build())).unwrap();
        assert_eq!(flat_agrees(&btf, s), Some(9));
        let mut flat = Vec::new();
        assert!(flat_members(&btf, s, &mut flat));
        let names: Vec<&str> = flat.iter().map(|m| m.name.as_ref()).collect();
        assert_eq!(names, ["a", "x", "y", "n", "u.x", "u.y", "p", "e", "arr"]);
        assert_eq!(flat_agrees(&btf, big), None);
        assert_eq!(flat_agrees(&btf, two), None);
        // The layout of `two` does run out: its second member is not spelled out.
        let Layout::Composite { members, .. } = inline_layout(&btf, two, 0, &mut MAX_FLAT_MEMBERS.clone()) else { panic!() };
        assert_ne!(members[0].ty, members[1].ty);
    }

    /// Every struct and union of the corpus kernels: where `flat_members`
    /// answers, it is the layout.
    #[test]
    fn flat_members_are_the_layout_on_corpus_kernels() {
        let Some(corpus) = std::env::var_os("BPFABI_CORPUS") else { return };
        for k in ["6.1.192-2", "6.12.117-1", "live-6.18"] {
            let path = std::path::Path::new(&corpus).join("kernels").join(k).join("vmlinux.btf");
            let btf = Btf::parse(Bytes::from_path(&path).unwrap()).unwrap();
            let (mut agreed, mut deferred) = (0, 0);
            for t in btf.types().filter(|t| matches!(t.kind, Kind::Struct | Kind::Union)) {
                match flat_agrees(&btf, t.id) {
                    Some(_) => agreed += 1,
                    None => deferred += 1,
                }
            }
            assert!(agreed > 10_000 && deferred < 10, "{k}: {agreed} agree, {deferred} deferred");
        }
    }
}
