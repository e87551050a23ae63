//! A `min_core_btf` cut: the types of a BTF that CO-RE relocations reach
//! (and, of structs and unions, only the members they access), written as a
//! new raw BTF. It mirrors bpftool's BTFGen (bpftool `src/gen.c`,
//! `btfgen_record_reloc` and `btfgen_get_btf`, v7.5.0 as in Debian): what a
//! relocation reaches is given by its *target spec* (the candidate type and
//! the member indices of the access path in this BTF, which the CO-RE
//! resolver in `check` computes); this module marks and writes.
//!
//! Marking, per relocation kind (`btfgen_record_reloc`):
//! - field relocations (`btfgen_record_field_relo`): the root type, then
//!   along the access path each member accessed and its type (pointers not
//!   followed: a pointer to a type nothing else marks becomes `void *`);
//! - `type_id_target`, `type_exists`, `type_size` (`btfgen_record_type_relo`):
//!   the type, following pointers, structs and unions without members;
//! - `type_matches` (`btfgen_mark_type_match`): the type with all its
//!   members, recursively, except composites behind pointers;
//! - enum values (`btfgen_record_enumval_relo`): the whole enum.
//!
//! Writing (`btfgen_get_btf`): marked types in their original order, with
//! ids renumbered (unmarked references become 0), composites with their
//! marked members only, strings deduplicated as libbpf's `btf__add_str`:
//! for the same marks the bytes are those bpftool writes. Two differences,
//! both where bpftool gives up: a `FWD` or `TYPE_TAG` on a followed path is
//! kept (bpftool: "unsupported kind"), and the cut keeps the source's byte
//! order (bpftool writes the host's).

use super::builder::Builder;
use super::{Btf, Kind, TypeId};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

/// A type or member index a relocation names that this BTF does not have,
/// or a kind the cut cannot follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutError(String);

impl fmt::Display for CutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CutError {}

/// What one relocation reaches in the target BTF (libbpf's target
/// `bpf_core_spec`, reduced to what BTFGen reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A field relocation: the candidate type and the raw access path after
    /// its first (array) index: member indices in this BTF (anonymous
    /// members included) and array indices.
    Field {
        /// The candidate (root) type.
        root: TypeId,
        /// `raw_spec[1..]` of the target spec.
        path: Vec<u32>,
    },
    /// `type_id_target`, `type_exists`, `type_size`.
    Type(TypeId),
    /// `type_matches`.
    TypeMatch(TypeId),
    /// `enumval_exists`, `enumval_value`.
    Enumval(TypeId),
}

/// The types and members marked so far on one BTF.
#[derive(Clone)]
pub struct Cut<'a> {
    btf: &'a Btf,
    types: BTreeSet<TypeId>,
    /// Marked member indices of structs and unions.
    members: BTreeMap<TypeId, BTreeSet<u32>>,
}

impl<'a> Cut<'a> {
    /// Nothing marked on `btf` (a base BTF: split BTF is refused by
    /// [`Cut::write`]'s caller, as bpftool reads one file).
    pub fn new(btf: &'a Btf) -> Self {
        Cut { btf, types: BTreeSet::new(), members: BTreeMap::new() }
    }

    /// Types marked.
    pub fn types(&self) -> usize {
        self.types.len()
    }

    /// Mark what one relocation reaches (`btfgen_record_reloc`).
    pub fn mark(&mut self, reach: &Reach) -> Result<(), CutError> {
        match reach {
            Reach::Field { root, path } => self.mark_field(*root, path),
            Reach::Type(id) => self.mark_type(*id, true),
            Reach::TypeMatch(id) => self.mark_type_match(*id),
            Reach::Enumval(id) => self.mark_type(*id, false),
        }
    }

    fn ty(&self, id: TypeId) -> Result<super::Type<'a>, CutError> {
        self.btf.ty(id).ok_or_else(|| CutError(format!("type [{id}] is not in this BTF")))
    }

    /// `btfgen_mark_type`: the type and what it needs; pointers followed
    /// only with `follow_pointers`, composites without their members.
    fn mark_type(&mut self, id: TypeId, follow_pointers: bool) -> Result<(), CutError> {
        let mut seen = HashSet::new();
        let mut todo = vec![id];
        while let Some(id) = todo.pop() {
            if id == TypeId::VOID || !seen.insert(id) {
                continue;
            }
            let t = self.ty(id)?;
            self.types.insert(id);
            match t.kind {
                Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 | Kind::Struct | Kind::Union | Kind::Fwd => {}
                Kind::Ptr if follow_pointers => todo.push(t.ref_type()),
                Kind::Ptr => {}
                Kind::Const | Kind::Restrict | Kind::Volatile | Kind::Typedef | Kind::TypeTag => todo.push(t.ref_type()),
                Kind::Array => {
                    if let Some(a) = t.array() {
                        todo.extend([a.index, a.elem]);
                    }
                }
                Kind::FuncProto => {
                    todo.extend(t.params().map(|p| p.ty));
                    todo.push(t.ref_type());
                }
                k => return Err(CutError(format!("type [{id}] is a {}: a CO-RE relocation cannot reach it (bpftool: unsupported kind)", k.name()))),
            }
        }
        Ok(())
    }

    /// `btfgen_record_field_relo`: the root, then each member on the path
    /// and its type (typedefs and modifiers skipped between steps).
    fn mark_field(&mut self, root: TypeId, path: &[u32]) -> Result<(), CutError> {
        self.mark_type(root, false)?;
        let mut id = root;
        for &idx in path {
            let mut t = self.ty(id)?;
            for _ in 0..super::MAX_RESOLVE_DEPTH {
                if !matches!(t.kind, Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag) {
                    break;
                }
                id = t.ref_type();
                t = self.ty(id)?;
            }
            match t.kind {
                Kind::Struct | Kind::Union => {
                    let m = t.member(idx as usize).ok_or_else(|| CutError(format!("type [{id}] {} has no member {idx}", t.name())))?;
                    self.members.entry(id).or_default().insert(idx);
                    id = m.ty;
                    self.mark_type(id, false)?;
                }
                Kind::Array => id = t.array().map(|a| a.elem).unwrap_or(TypeId::VOID),
                k => return Err(CutError(format!("type [{id}] is a {}: no access path step {idx} into it", k.name()))),
            }
        }
        Ok(())
    }

    /// `btfgen_mark_type_match`: the type and, unless behind a pointer,
    /// every member of its composites, recursively.
    fn mark_type_match(&mut self, id: TypeId) -> Result<(), CutError> {
        let mut seen = HashSet::new();
        let mut todo = vec![(id, false)];
        while let Some((id, behind_ptr)) = todo.pop() {
            if id == TypeId::VOID || !seen.insert((id, behind_ptr)) {
                continue;
            }
            let t = self.ty(id)?;
            self.types.insert(id);
            match t.kind {
                Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => {}
                Kind::Struct | Kind::Union if behind_ptr => {}
                Kind::Struct | Kind::Union => {
                    self.members.entry(id).or_default().extend(0..t.vlen() as u32);
                    todo.extend(t.members().map(|m| (m.ty, false)));
                }
                Kind::Const | Kind::Fwd | Kind::Restrict | Kind::Typedef | Kind::Volatile | Kind::TypeTag => todo.push((t.ref_type(), behind_ptr)),
                Kind::Ptr => todo.push((t.ref_type(), true)),
                Kind::Array => {
                    if let Some(a) = t.array() {
                        todo.extend([(a.elem, false), (a.index, false)]);
                    }
                }
                Kind::FuncProto => {
                    todo.push((t.ref_type(), false));
                    todo.extend(t.params().map(|p| (p.ty, false)));
                }
                k => return Err(CutError(format!("type [{id}] is a {}: a CO-RE relocation cannot reach it (bpftool: unsupported kind)", k.name()))),
            }
        }
        Ok(())
    }

    /// The cut as raw BTF (`btfgen_get_btf`): marked types in id order,
    /// renumbered from 1, composites with their marked members only.
    pub fn write(&self) -> Vec<u8> {
        let new_id: BTreeMap<TypeId, u32> = self.types.iter().enumerate().map(|(i, &id)| (id, i as u32 + 1)).collect();
        let map = |id: TypeId| new_id.get(&id).copied().unwrap_or(0);
        let mut b = Builder::new(self.btf.endian()).dedup_strings();
        let no_members = BTreeSet::new();
        for t in self.types.iter().filter_map(|&id| self.btf.ty(id)) {
            let raw_kind = ((t.raw_info() >> 24) & 0x1f) as u8;
            // libbpf adds the type's name first, then the strings of its
            // members, enumerators or parameters, in order.
            b.str(t.name());
            let mut words: Vec<u32> = Vec::new();
            let (kflag, vlen, size_or_type) = match t.kind {
                Kind::Struct | Kind::Union => {
                    let keep = self.members.get(&t.id).unwrap_or(&no_members);
                    let mut bitfield = false;
                    for m in t.members().enumerate().filter_map(|(i, m)| keep.contains(&(i as u32)).then_some(m)) {
                        bitfield |= m.bitfield_size != 0;
                        words.extend([b.str(m.name).0, map(m.ty), m.bit_offset | (u32::from(m.bitfield_size) << 24)]);
                    }
                    (bitfield, words.len() / 3, t.size())
                }
                Kind::Enum | Kind::Enum64 => {
                    let w = if t.kind == Kind::Enum { 2 } else { 3 };
                    for (i, e) in t.enumerators().enumerate() {
                        words.push(b.str(e.name).0);
                        words.extend((1..w).map(|k| t.word(i * w + k)));
                    }
                    (t.kind_flag(), t.vlen(), t.size())
                }
                Kind::FuncProto => {
                    for p in t.params() {
                        words.extend([b.str(p.name).0, map(p.ty)]);
                    }
                    (t.kind_flag(), t.vlen(), map(t.ref_type()))
                }
                Kind::Array => {
                    let a = t.array().map(|a| [map(a.elem), map(a.index), a.nelems]).unwrap_or_default();
                    words.extend(a);
                    (t.kind_flag(), t.vlen(), t.size())
                }
                Kind::Int => {
                    words.push(t.word(0));
                    (t.kind_flag(), t.vlen(), t.size())
                }
                Kind::Ptr | Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => (t.kind_flag(), t.vlen(), map(t.ref_type())),
                // FLOAT, FWD: the header alone.
                _ => (t.kind_flag(), t.vlen(), t.size()),
            };
            b.raw(t.name(), raw_kind, kflag, vlen as u16, size_or_type, &words);
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    //! BTFGen's marking rules on a synthetic BTF.
    use super::*;
    use crate::bytes::{Bytes, Endian};

    /// `struct s { int a; struct { int b; }; struct t *p; int arr[2]; }`,
    /// `struct t { int a; int y; }`, `typedef struct s s_t`, `enum e {A, B}`.
    fn source() -> Btf {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true); // 1
        let t = b.composite(false, "t", 8, &[("a", int, 0, 0), ("y", int, 32, 0)]); // 2
        let pt = b.ptr(t); // 3
        let anon = b.composite(false, "", 4, &[("b", int, 0, 0)]); // 4
        let arr = b.array(int, int, 2); // 5
        let s = b.composite(false, "s", 32, &[("a", int, 0, 0), ("", anon, 32, 0), ("p", pt, 64, 0), ("arr", arr, 128, 0)]); // 6
        b.typedef("s_t", s); // 7
        b.enum32("e", false, &[("A", 0), ("B", 1)]); // 8
        Btf::parse(Bytes::from_vec(b.build())).unwrap()
    }

    fn dump(bytes: Vec<u8>) -> Vec<String> {
        let btf = Btf::parse(Bytes::from_vec(bytes)).unwrap();
        btf.types()
            .map(|t| {
                let ms: Vec<String> = t.members().map(|m| format!("{}:{}@{}", m.name, m.ty, m.bit_offset)).collect();
                format!("[{}] {} '{}' {}", t.id, t.kind.name(), t.name(), ms.join(","))
            })
            .collect()
    }

    #[test]
    fn field_access_keeps_members_on_the_path() {
        let btf = source();
        let mut c = Cut::new(&btf);
        // s_t->b (through the anonymous struct: member 1, then its member 0).
        c.mark(&Reach::Field { root: TypeId(7), path: vec![1, 0] }).unwrap();
        // s->p: the pointer is kept, `struct t` is not (void *).
        c.mark(&Reach::Field { root: TypeId(6), path: vec![2] }).unwrap();
        assert_eq!(dump(c.write()), ["[1] INT 'int' ", "[2] PTR '' ", "[3] STRUCT '' b:1@0", "[4] STRUCT 's' :3@32,p:2@64", "[5] TYPEDEF 's_t' ",]);
        let out = Btf::parse(Bytes::from_vec(c.write())).unwrap();
        assert_eq!(out.ty(TypeId(2)).unwrap().ref_type(), TypeId::VOID, "pointer to an unmarked type");
    }

    #[test]
    fn type_relocations_follow_pointers_and_keep_no_members() {
        let btf = source();
        let mut c = Cut::new(&btf);
        c.mark(&Reach::Type(TypeId(3))).unwrap();
        c.mark(&Reach::Enumval(TypeId(8))).unwrap();
        let d = dump(c.write());
        assert_eq!(d, ["[1] STRUCT 't' ", "[2] PTR '' ", "[3] ENUM 'e' "]);
        let out = Btf::parse(Bytes::from_vec(c.write())).unwrap();
        assert_eq!(out.ty(TypeId(3)).unwrap().enumerators().count(), 2, "enums are kept whole");
    }

    #[test]
    fn type_match_keeps_every_member_but_not_behind_pointers() {
        let btf = source();
        let mut c = Cut::new(&btf);
        c.mark(&Reach::TypeMatch(TypeId(6))).unwrap();
        let d = dump(c.write());
        assert!(d.contains(&"[6] STRUCT 's' a:1@0,:4@32,p:3@64,arr:5@128".to_string()), "{d:?}");
        assert!(d.contains(&"[2] STRUCT 't' ".to_string()), "t behind a pointer: no members: {d:?}");
    }

    #[test]
    fn bad_paths_are_errors_not_panics() {
        let btf = source();
        let mut c = Cut::new(&btf);
        assert!(c.mark(&Reach::Field { root: TypeId(6), path: vec![9] }).is_err());
        assert!(c.mark(&Reach::Field { root: TypeId(1), path: vec![0] }).is_err());
        assert!(c.mark(&Reach::Type(TypeId(99))).is_err());
    }

    #[test]
    fn strings_are_shared() {
        let btf = source();
        let mut c = Cut::new(&btf);
        c.mark(&Reach::TypeMatch(TypeId(6))).unwrap();
        c.mark(&Reach::TypeMatch(TypeId(2))).unwrap();
        let parsed = Btf::parse(Bytes::from_vec(c.write())).unwrap();
        // In id order, `a` of `t` and of `s` once (libbpf's strset).
        assert_eq!(parsed.header().str_len as usize, b"\0int\0t\0a\0y\0b\0s\0p\0arr\0".len());
    }
}
