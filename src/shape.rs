//! Id-free structural hashes ("shapes") of BTF types, memoised per type id:
//! a way to tell that a named type is unchanged between two kernels without
//! rendering its layout.
//!
//! A shape covers everything the layout text of [`crate::versions::Layout`]
//! (and the C spelling of type references in it, `btf::render`) is made
//! from: names, kinds, sizes, offsets, bitfields, enum values, array
//! lengths, function prototypes, type tags, and anonymous types in full. It
//! stops at named types (their name is all a reference shows), as the text
//! does. So two types of equal shape have equal layout text and equal
//! shallow fingerprints (docs/fingerprints.md); unequal shapes say nothing,
//! and the caller renders both sides to decide. Shapes live in memory only
//! (names are hashed with [`Btf::str_hash`], which may change between
//! builds): they are never printed or stored. Where a shape cannot vouch
//! for the text (a dangling id, whose text names the id; a chain deeper than
//! [`MAX_DEPTH`]; a name containing `{`, which the text's inline expansion
//! looks for) it is `None`, and the caller renders.

use crate::btf::{Btf, Kind, StrOffset, TypeId};

/// Deepest recursion through type references and anonymous members; deeper
/// (or cyclic) graphs have no shape.
pub const MAX_DEPTH: usize = 48;

/// Memoised reference shapes of one BTF's types (vmlinux, or a module with
/// its base).
pub struct Shapes<'a> {
    btf: &'a Btf,
    /// Index = type id; [`UNKNOWN`], [`NONE`], [`BUSY`] or the shape.
    memo: Vec<u64>,
}

/// Not computed yet.
const UNKNOWN: u64 = 0;
/// No shape (and none will be found from another start: every outcome is
/// remembered, so each type is computed once and cycles end).
const NONE: u64 = 1;
/// Being computed: met again, the graph is cyclic here.
const BUSY: u64 = 2;

/// FNV-1a 64 step over a word (one multiply per word, as `hash::FnvHasher`).
#[inline]
const fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(0x0000_0100_0000_01b3)
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// The shape of an opaque definition (a FWD), and of a type with no
/// definition: both are [`crate::versions::Layout::Opaque`].
pub const OPAQUE: u64 = finish(mix(mix(SEED, 0xdef), 0x0aa0));

/// `h` with the name at `off` mixed in.
#[inline]
fn name(h: u64, btf: &Btf, off: StrOffset) -> u64 {
    mix(h, btf.str_hash(off))
}

/// [`name`] for the names the layout text searches for `{...}` (those of
/// the struct, union or enum a reference ends in, and type tags): `None`
/// when the name holds `{` (see the module doc).
#[inline]
fn searched_name(h: u64, t: &crate::btf::Type<'_>) -> Option<u64> {
    if memchr::memchr(b'{', t.name_bytes()).is_some() {
        return None;
    }
    Some(name(h, t.btf(), t.name_off()))
}

/// Shapes never collide with the three markers.
#[inline]
const fn finish(h: u64) -> u64 {
    if h < 3 {
        3
    } else {
        h
    }
}

impl<'a> Shapes<'a> {
    /// An empty memo over `btf`.
    pub fn new(btf: &'a Btf) -> Self {
        Shapes { btf, memo: vec![UNKNOWN; btf.next_id().get() as usize] }
    }

    /// The BTF the shapes are of.
    pub fn btf(&self) -> &'a Btf {
        self.btf
    }

    /// The shape of a reference to `id` (as a member's, parameter's or
    /// typedef target's type).
    pub fn of_ref(&mut self, id: TypeId) -> Option<u64> {
        self.reference(id, 0)
    }

    /// The shape of one definition of a named type: what its
    /// [`crate::versions::Layout`] is made from (a FWD or another kind
    /// without a layout is opaque).
    pub fn of_def(&mut self, id: TypeId) -> Option<u64> {
        let t = self.btf.ty(id)?;
        let mut h = mix(SEED, 0xdef);
        match t.kind {
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => return self.body(t, h, 0),
            Kind::Typedef => {
                h = mix(h, 8);
                h = mix(h, self.reference(t.ref_type(), 0)?);
            }
            Kind::Int => {
                let i = t.int_info()?;
                h = mix(h, 1);
                h = mix(h, t.size() as u64);
                h = mix(h, i.bits as u64 | (i.signed as u64) << 8 | (i.char as u64) << 9 | (i.bool as u64) << 10);
            }
            Kind::Float => {
                h = mix(h, 16);
                h = mix(h, t.size() as u64);
            }
            _ => h = mix(h, 0x0aa0),
        }
        Some(finish(h))
    }

    fn reference(&mut self, id: TypeId, depth: usize) -> Option<u64> {
        let slot = id.get() as usize;
        match self.memo.get(slot).copied() {
            Some(NONE | BUSY) | None => return None,
            Some(UNKNOWN) => {}
            Some(h) => return Some(h),
        }
        if let Some(m) = self.memo.get_mut(slot) {
            *m = BUSY;
        }
        let r = self.compute(id, depth);
        if let Some(m) = self.memo.get_mut(slot) {
            *m = r.unwrap_or(NONE);
        }
        r
    }

    fn compute(&mut self, id: TypeId, depth: usize) -> Option<u64> {
        if depth > MAX_DEPTH {
            return None;
        }
        let btf = self.btf;
        // A dangling id: the text names the id itself.
        let t = btf.ty(id)?;
        let h = mix(SEED, raw_kind(t.kind));
        let h = match t.kind {
            Kind::Void => h,
            Kind::Int | Kind::Float | Kind::Typedef => name(h, btf, t.name_off()),
            Kind::Fwd => name(mix(h, t.fwd_is_union() as u64), btf, t.name_off()),
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                if t.name().is_empty() {
                    // Anonymous (as the text sees it: a name that is not
                    // UTF-8 prints as none): spelled out inline, so its body
                    // is its shape.
                    self.body(t, h, depth + 1)?
                } else {
                    searched_name(h, &t)?
                }
            }
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict => mix(h, self.reference(t.ref_type(), depth + 1)?),
            Kind::TypeTag => {
                let h = searched_name(mix(h, t.kind_flag() as u64), &t)?;
                mix(h, self.reference(t.ref_type(), depth + 1)?)
            }
            Kind::Array => {
                let a = t.array()?;
                mix(mix(h, a.nelems as u64), self.reference(a.elem, depth + 1)?)
            }
            Kind::FuncProto => {
                let mut h = mix(mix(h, t.vlen() as u64), self.reference(t.ref_type(), depth + 1)?);
                for (n, ty) in t.param_refs() {
                    h = name(h, btf, n);
                    h = mix(h, self.reference(ty, depth + 1)?);
                }
                h
            }
            // Spelled as `/* KIND */`, whatever they refer to.
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Unknown(_) => h,
        };
        Some(finish(h))
    }

    /// Members of a composite or values of an enum, with size and flags.
    fn body(&mut self, t: crate::btf::Type<'a>, h: u64, depth: usize) -> Option<u64> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut h = mix(mix(mix(h, raw_kind(t.kind)), t.size() as u64), t.vlen() as u64);
        match t.kind {
            Kind::Struct | Kind::Union => {
                for (n, ty, bit_offset, bitfield_size) in t.member_refs() {
                    h = name(h, self.btf, n);
                    h = mix(h, (bit_offset as u64) << 8 | bitfield_size as u64);
                    h = mix(h, self.reference(ty, depth + 1)?);
                }
            }
            _ => {
                let signed = t.enum_signed();
                h = mix(h, signed as u64);
                for e in t.enumerators() {
                    h = mix(mix(h, crate::btf::word_hash_of(e.name.as_bytes())), e.value);
                }
            }
        }
        Some(finish(h))
    }
}

/// A number per kind, for hashing.
fn raw_kind(k: Kind) -> u64 {
    k.raw() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::builder::Builder;
    use crate::bytes::{Bytes, Endian};

    /// `struct s { int a; struct { long b; } *p; }`, with the types emitted
    /// in another order (other ids) when `reorder`, and `b` an `int` when
    /// `changed`.
    fn btf(reorder: bool, changed: bool) -> (Btf, TypeId) {
        let mut b = Builder::new(Endian::Little);
        if reorder {
            b.int("pad_t", 2, 16, false);
        }
        let int = b.int("int", 4, 32, true);
        let long = b.int("long", 8, 64, true);
        let anon = b.composite(false, "", 8, &[("b", if changed { int } else { long }, 0, 0)]);
        let p = b.ptr(anon);
        let s = b.composite(false, "s", 16, &[("a", int, 0, 0), ("p", p, 64, 0)]);
        (Btf::parse(Bytes::from_vec(b.build())).unwrap(), s)
    }

    #[test]
    fn shapes_are_id_free_and_see_inside_anonymous_types() {
        let (a, sa) = btf(false, false);
        let (b, sb) = btf(true, false);
        let (c, sc) = btf(false, true);
        let d = |btf: &Btf, id| Shapes::new(btf).of_def(id).unwrap();
        assert_eq!(d(&a, sa), d(&b, sb));
        assert_ne!(d(&a, sa), d(&c, sc));
        // A reference to a named type is its name only.
        let (mut x, mut y) = (Shapes::new(&a), Shapes::new(&c));
        assert_eq!(x.of_ref(sa), y.of_ref(sc));
    }

    #[test]
    fn dangling_and_cyclic_references_have_no_shape() {
        let mut b = Builder::new(Endian::Little);
        // PTR -> CONST -> PTR (ids 1, 2, 3) -> back to 1: a cycle of modifiers.
        let p1 = b.ptr(TypeId(2));
        let c = b.konst(TypeId(3));
        b.ptr(p1);
        let btf = Btf::parse(Bytes::from_vec(b.build())).unwrap();
        let mut s = Shapes::new(&btf);
        assert_eq!(s.of_ref(c), None);
        assert_eq!(s.of_ref(TypeId(99)), None);
    }
}
