//! A whole BTF as a C header (`vmlinux.h`), as libbpf's `btf_dump__dump_type`
//! (tools/lib/bpf/btf_dump.c, libbpf v1.7.0) and so `bpftool btf dump file X
//! format c` write it: every named struct, union, enum and typedef, in an
//! order where each is defined before it is embedded by value
//! (`btf_dump_order_type`: a type reached through a pointer only needs a
//! forward declaration), anonymous types inline, duplicate names made
//! unique with `___N` suffixes (`btf_dump_name_dups`), gaps in structs
//! filled with anonymous bitfields and `__attribute__((packed))` where the
//! layout needs it (`btf_dump_emit_bit_padding`, `btf_is_struct_packed`),
//! all inside the `preserve_access_index` pragma bpftool's `gen` adds for
//! CO-RE; enums of one byte get `mode(byte)` and 8-byte ones whose values
//! fit in 32 bits `mode(word)` (`btf_dump_emit_enum_def`). Differences from
//! bpftool: every struct and union is forward declared at the top (bpftool
//! declares only the ones used before their definition); a union whose size
//! is not a multiple of its alignment is packed too (libbpf packs structs
//! only, so such a union, e.g. 6.12's `ec_response_get_next_data_v3`, came
//! out larger than in the kernel); kfunc prototypes are not included
//! (`bpfabi surface --format c` writes them, consistent with this header).
//!
//! Declarators come from [`super::render`], the spelling bpfabi uses
//! everywhere. Types are visited with an explicit stack and every type
//! once, so a cyclic or hostile BTF cannot hang or overflow the stack.

use super::render::{decl_with, Namer};
use super::{Btf, Kind, TypeId};
use std::collections::HashMap;
use std::fmt::Write;

/// Deepest nesting of anonymous types written inline.
const MAX_INLINE: usize = 32;

/// The C header for every type of `btf` (with a split BTF: its base's too).
pub fn header(btf: &Btf, guard: &str) -> String {
    let d = Dumper::new(btf);
    let mut out = String::new();
    let _ = writeln!(out, "#ifndef {guard}\n#define {guard}\n");
    out.push_str("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
    let mut declared = std::collections::HashSet::new();
    for id in d.all() {
        if let Some(t) = btf.ty(id) {
            if matches!(t.kind, Kind::Struct | Kind::Union | Kind::Fwd) && !t.name().is_empty() {
                let tag = d.tag(id);
                if declared.insert(tag.clone()) {
                    let _ = writeln!(out, "{tag};");
                }
            }
        }
    }
    out.push('\n');
    for id in d.order() {
        d.emit(id, &mut out);
    }
    out.push_str("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
    let _ = writeln!(out, "#endif /* {guard} */");
    out
}

struct Dumper<'a> {
    btf: &'a Btf,
    /// Unique names of named tagged types and typedefs.
    names: HashMap<TypeId, String>,
    /// Unique names of enumerators: (enum id, index) -> name.
    enumerators: HashMap<(TypeId, usize), String>,
    /// Pointer size in bytes (from `long`, else 8).
    ptr_size: u32,
    /// Alignments and packedness computed so far.
    aligns: std::cell::RefCell<HashMap<TypeId, u32>>,
    packed: std::cell::RefCell<HashMap<TypeId, bool>>,
}

impl<'a> Dumper<'a> {
    fn new(btf: &'a Btf) -> Self {
        let mut tags: HashMap<&str, usize> = HashMap::new();
        let mut idents: HashMap<String, usize> = HashMap::new();
        let mut names = HashMap::new();
        let mut enumerators = HashMap::new();
        let unique = |seen: &mut HashMap<_, usize>, n: &str| -> String {
            let c = seen.entry(n.to_string()).or_insert(0);
            *c += 1;
            if *c == 1 {
                n.to_string()
            } else {
                format!("{n}___{c}")
            }
        };
        let mut ptr_size = 8;
        let ids: Vec<TypeId> = all_ids(btf).collect();
        for &id in &ids {
            let Some(t) = btf.ty(id) else { continue };
            let n = t.name();
            match t.kind {
                Kind::Int if n == "long int" || n == "long" => ptr_size = t.size(),
                Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 if !n.is_empty() => {
                    let c = tags.entry(n).or_insert(0);
                    *c += 1;
                    names.insert(id, if *c == 1 { n.to_string() } else { format!("{n}___{c}") });
                }
                Kind::Typedef => {
                    names.insert(id, unique(&mut idents, n));
                }
                _ => {}
            }
            if matches!(t.kind, Kind::Enum | Kind::Enum64) {
                for (i, e) in t.enumerators().enumerate() {
                    enumerators.insert((id, i), unique(&mut idents, e.name));
                }
            }
        }
        // A forward declaration names the definition of the same name when
        // there is one, else it is a type of its own.
        for &id in &ids {
            let Some(t) = btf.ty(id) else { continue };
            if t.kind == Kind::Fwd && !t.name().is_empty() {
                let c = tags.entry(t.name()).or_insert(0);
                if *c == 0 {
                    *c = 1;
                }
                names.insert(id, t.name().to_string());
            }
        }
        Dumper { btf, names, enumerators, ptr_size, aligns: Default::default(), packed: Default::default() }
    }

    fn all(&self) -> impl Iterator<Item = TypeId> + '_ {
        all_ids(self.btf)
    }

    /// `struct foo`, `union foo___2`, `enum bar`.
    fn tag(&self, id: TypeId) -> String {
        let Some(t) = self.btf.ty(id) else { return format!("/* bad type {id} */") };
        let kw = match t.kind {
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Fwd if t.fwd_is_union() => "union",
            Kind::Fwd => "struct",
            _ => "enum",
        };
        format!("{kw} {}", self.names.get(&id).map_or(t.name(), String::as_str))
    }

    /// The order of definitions: a type after every type it embeds by
    /// value (`btf_dump_order_type`), iteratively.
    fn order(&self) -> Vec<TypeId> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            New,
            Ordering,
            Done,
        }
        let mut state: HashMap<TypeId, State> = HashMap::new();
        let mut out = Vec::new();
        for root in self.all() {
            // (type, through a pointer, children pushed)
            let mut stack: Vec<(TypeId, bool, bool)> = vec![(root, false, false)];
            while let Some((id, through_ptr, expanded)) = stack.pop() {
                let Some(t) = self.btf.ty(id) else { continue };
                let st = *state.get(&id).unwrap_or(&State::New);
                if st == State::Done {
                    // A typedef used by value: its struct must be complete.
                    if t.kind == Kind::Typedef && !through_ptr && !expanded {
                        stack.push((t.ref_type(), false, false));
                    }
                    continue;
                }
                if t.kind == Kind::Typedef && !through_ptr && !expanded {
                    stack.push((t.ref_type(), false, false));
                }
                let named = !t.name().is_empty();
                match t.kind {
                    Kind::Struct | Kind::Union => {
                        if through_ptr && named {
                            continue; // the forward declaration at the top does
                        }
                        if expanded {
                            state.insert(id, State::Done);
                            if named {
                                out.push(id);
                            }
                            continue;
                        }
                        if st == State::Ordering {
                            continue; // embedded in itself: invalid C, cut
                        }
                        state.insert(id, State::Ordering);
                        stack.push((id, through_ptr, true));
                        let members: Vec<TypeId> = t.members().map(|m| m.ty).collect();
                        for m in members.into_iter().rev() {
                            stack.push((m, false, false));
                        }
                    }
                    Kind::Enum | Kind::Enum64 => {
                        state.insert(id, State::Done);
                        if named || !through_ptr {
                            out.push(id);
                        }
                    }
                    Kind::Typedef => {
                        if expanded {
                            state.insert(id, State::Done);
                            if !self.skipped(id) {
                                out.push(id);
                            }
                            continue;
                        }
                        if st == State::Ordering {
                            continue;
                        }
                        // A typedef of a named struct needs only its forward
                        // declaration (at the top): it can come first, and a
                        // use by value orders the struct itself.
                        let named_record = self.btf.resolve(t.ref_type()).is_some_and(|r| matches!(r.kind, Kind::Struct | Kind::Union) && !r.name().is_empty());
                        state.insert(id, State::Ordering);
                        stack.push((id, through_ptr, true));
                        stack.push((t.ref_type(), through_ptr || named_record, false));
                    }
                    Kind::Ptr => stack.push((t.ref_type(), true, false)),
                    Kind::Array => stack.push((t.array().map_or(TypeId::VOID, |a| a.elem), through_ptr, false)),
                    Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => stack.push((t.ref_type(), through_ptr, false)),
                    Kind::FuncProto => {
                        state.insert(id, State::Done);
                        stack.push((t.ref_type(), through_ptr, false));
                        for p in t.params() {
                            stack.push((p.ty, through_ptr, false));
                        }
                    }
                    _ => {
                        state.insert(id, State::Done);
                    }
                }
            }
        }
        // Anonymous enums are definitions of their constants: at top level
        // only when nothing holds them by value (those are inline).
        let inline: std::collections::HashSet<TypeId> = self.inline_anonymous();
        out.retain(|id| !inline.contains(id));
        out
    }

    /// Types libbpf never writes (`btf_dump_is_blacklisted`): the
    /// compiler's own `__builtin_va_list`.
    fn skipped(&self, id: TypeId) -> bool {
        self.btf.ty(id).is_some_and(|t| t.kind == Kind::Typedef && t.name() == "__builtin_va_list")
    }

    /// Anonymous enums written inline (members, typedefs): not emitted alone.
    fn inline_anonymous(&self) -> std::collections::HashSet<TypeId> {
        let mut s = std::collections::HashSet::new();
        for id in self.all() {
            let Some(t) = self.btf.ty(id) else { continue };
            let mut refs: Vec<TypeId> = match t.kind {
                Kind::Struct | Kind::Union => t.members().map(|m| m.ty).collect(),
                Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag | Kind::Ptr | Kind::Var => vec![t.ref_type()],
                Kind::Array => t.array().map(|a| a.elem).into_iter().collect(),
                Kind::FuncProto => std::iter::once(t.ref_type()).chain(t.params().map(|p| p.ty)).collect(),
                _ => Vec::new(),
            };
            for r in refs.drain(..) {
                if self.btf.ty(r).is_some_and(|x| matches!(x.kind, Kind::Enum | Kind::Enum64) && x.name().is_empty()) {
                    s.insert(r);
                }
            }
        }
        s
    }

    /// One top-level definition.
    fn emit(&self, id: TypeId, out: &mut String) {
        let Some(t) = self.btf.ty(id) else { return };
        match t.kind {
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                let mut body = String::new();
                self.body(id, 0, &mut body);
                let _ = writeln!(out, "{body};\n");
            }
            Kind::Typedef => {
                let name = self.names.get(&id).map_or(t.name(), String::as_str);
                let d = self.decl(t.ref_type(), name, 0);
                let _ = writeln!(out, "typedef {d};\n");
            }
            _ => {}
        }
    }

    /// A declarator, named types spelled by this dump, anonymous ones inline.
    fn decl(&self, id: TypeId, name: &str, depth: usize) -> String {
        let namer = |t: TypeId| -> Option<String> {
            let ty = self.btf.ty(t)?;
            match ty.kind {
                Kind::Typedef => self.names.get(&t).cloned(),
                Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 if ty.name().is_empty() => {
                    let mut b = String::new();
                    if depth < MAX_INLINE {
                        self.body(t, depth + 1, &mut b);
                    } else {
                        b.push_str("struct {} /* nested too deep */");
                    }
                    Some(b)
                }
                Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd => Some(self.tag(t)),
                _ => None,
            }
        };
        let n: Namer = &namer;
        decl_with(self.btf, id, name, n)
    }

    /// `struct NAME { members }` (no `;`), `enum NAME { ... }`.
    fn body(&self, id: TypeId, depth: usize, out: &mut String) {
        let Some(t) = self.btf.ty(id) else { return };
        let ind = "\t".repeat(depth + 1);
        let head = if t.name().is_empty() {
            match t.kind {
                Kind::Struct => "struct".to_string(),
                Kind::Union => "union".to_string(),
                _ => "enum".to_string(),
            }
        } else {
            self.tag(id)
        };
        if matches!(t.kind, Kind::Enum | Kind::Enum64) {
            if t.vlen() == 0 {
                // A declared-only enum (no enumerators in BTF).
                out.push_str(&head);
                return;
            }
            let _ = write!(out, "{head} {{");
            let signed = t.enum_signed();
            for (i, e) in t.enumerators().enumerate() {
                let name = self.enumerators.get(&(id, i)).map_or(e.name, String::as_str);
                let v = match (t.kind, signed) {
                    (Kind::Enum, true) => format!("{}", e.value as u32 as i32),
                    (Kind::Enum, false) => format!("{}", e.value as u32),
                    (_, true) => format!("{}LL", e.value as i64),
                    (_, false) => format!("{}ULL", e.value),
                };
                let _ = write!(out, "\n{ind}{name} = {v},");
            }
            let _ = write!(out, "\n{}}}", "\t".repeat(depth));
            // Sizes C does not give by itself (btf_dump_emit_enum_def):
            // one byte, or eight when no value needs 64 bits.
            if t.size() == 1 {
                out.push_str(" __attribute__((mode(byte)))");
            } else if t.size() == 8
                && self.ptr_size == 8
                && (t.kind == Kind::Enum
                    || t.enumerators().all(|e| e.value >> 32 == 0 || (signed && (e.value as i64) >= i32::MIN as i64 && (e.value as i64) < 0)))
            {
                out.push_str(" __attribute__((mode(word)))");
            }
            return;
        }
        let is_union = t.kind == Kind::Union;
        if t.vlen() == 0 && t.size() == 0 {
            let _ = write!(out, "{head} {{}}");
            return;
        }
        let packed = self.is_packed(id);
        let _ = write!(out, "{head} {{");
        let mut end_bits: u64 = 0;
        for m in t.members() {
            let off = m.bit_offset as u64;
            // A gap the member's own alignment makes needs no padding.
            let natural = if packed || m.bitfield_size > 0 {
                end_bits
            } else {
                let a = self.align(m.ty).max(1) as u64 * 8;
                end_bits.div_ceil(a) * a
            };
            if !is_union && off > end_bits && off != natural {
                self.padding(end_bits, off, m.bitfield_size > 0, packed, &ind, out);
            }
            let d = self.decl(m.ty, m.name, depth);
            if m.bitfield_size > 0 {
                let _ = write!(out, "\n{ind}{d}: {};", m.bitfield_size);
                end_bits = end_bits.max(off + m.bitfield_size as u64);
            } else {
                let _ = write!(out, "\n{ind}{d};");
                end_bits = end_bits.max(off + self.size(m.ty) as u64 * 8);
            }
        }
        let size_bits = t.size() as u64 * 8;
        if !is_union && size_bits > end_bits {
            // Trailing bytes the alignment does not explain.
            let align = if packed { 1 } else { self.align(id).max(1) as u64 * 8 };
            let natural = end_bits.div_ceil(align) * align;
            if natural != size_bits {
                self.padding(end_bits, size_bits, false, packed, &ind, out);
            }
        }
        let _ = write!(out, "\n{}}}", "\t".repeat(depth));
        if packed {
            out.push_str(" __attribute__((packed))");
        }
    }

    /// Anonymous bitfields from bit `from` to bit `to`
    /// (`btf_dump_emit_bit_padding`): when the next member lays itself out at
    /// `to` anyway (its natural alignment), nothing is written.
    fn padding(&self, from: u64, to: u64, next_is_bitfield: bool, packed: bool, ind: &str, out: &mut String) {
        let _ = (next_is_bitfield, packed);
        let mut at = from;
        while at < to {
            let left = to - at;
            let (ty, bits) = if at % 8 != 0 {
                ("unsigned char", (8 - at % 8).min(left))
            } else if at % 64 == 0 && left >= 64 {
                ("long", 64)
            } else if at % 32 == 0 && left >= 32 {
                ("int", 32)
            } else if at % 16 == 0 && left >= 16 {
                ("short", 16)
            } else if left >= 8 {
                ("char", 8)
            } else {
                ("unsigned char", left)
            };
            let _ = write!(out, "\n{ind}{ty}: {bits};");
            at += bits;
        }
    }

    /// Size in bytes of a type as a member.
    fn size(&self, id: TypeId) -> u32 {
        let mut cur = id;
        for _ in 0..64 {
            let Some(t) = self.btf.ty(cur) else { return 0 };
            match t.kind {
                Kind::Int | Kind::Float | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => return t.size(),
                Kind::Ptr => return self.ptr_size,
                Kind::Array => {
                    let Some(a) = t.array() else { return 0 };
                    return self.size(a.elem).saturating_mul(a.nelems);
                }
                Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => cur = t.ref_type(),
                _ => return 0,
            }
        }
        0
    }

    /// Natural alignment in bytes (`btf__align_of`: a packed struct's is
    /// 1, a struct's the largest of its members'), memoised; nesting deeper
    /// than [`MAX_INLINE`] (a hostile BTF) counts as 1.
    fn align(&self, id: TypeId) -> u32 {
        self.align_at(id, 0)
    }

    fn align_at(&self, id: TypeId, depth: usize) -> u32 {
        if let Some(&a) = self.aligns.borrow().get(&id) {
            return a;
        }
        if depth > MAX_INLINE {
            return 1;
        }
        let mut cur = id;
        let mut a = 1;
        for _ in 0..64 {
            let Some(t) = self.btf.ty(cur) else { break };
            match t.kind {
                Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => {
                    a = t.size().clamp(1, self.ptr_size);
                    break;
                }
                Kind::Ptr => {
                    a = self.ptr_size;
                    break;
                }
                Kind::Array => cur = t.array().map_or(TypeId::VOID, |x| x.elem),
                Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => cur = t.ref_type(),
                Kind::Struct | Kind::Union => {
                    let members: Vec<(TypeId, u32, u8)> = t.members().map(|m| (m.ty, m.bit_offset, m.bitfield_size)).collect();
                    let mut max_align = 1;
                    let mut packed = false;
                    for (ty, off, bits) in members {
                        let m = self.align_at(ty, depth + 1);
                        max_align = max_align.max(m);
                        packed |= t.kind == Kind::Struct && bits == 0 && off % (m * 8) != 0;
                    }
                    packed |= t.size() % max_align != 0;
                    self.packed.borrow_mut().insert(cur, packed);
                    a = if packed { 1 } else { max_align };
                    break;
                }
                _ => break,
            }
        }
        self.aligns.borrow_mut().insert(id, a);
        a
    }

    /// A struct whose layout natural alignment cannot give
    /// (`btf_is_struct_packed`): a non-bitfield member off its alignment,
    /// or a size that is not a multiple of the largest member alignment.
    fn is_packed(&self, id: TypeId) -> bool {
        if !self.btf.ty(id).is_some_and(|t| matches!(t.kind, Kind::Struct | Kind::Union)) {
            return false;
        }
        self.align(id);
        self.packed.borrow().get(&id).copied().unwrap_or(false)
    }
}

/// Every type id of `btf` and its base, in id order.
fn all_ids(btf: &Btf) -> impl Iterator<Item = TypeId> + '_ {
    (1..btf.next_id().0).map(TypeId)
}
