//! A minimal BTF writer: append types, get ids back, serialise with either
//! header size and byte order. The catalog writes its reduced kernels with
//! it; tests, fuzz seeds and fixtures build synthetic BTF. It writes exactly
//! what it is told (including invalid references), so malformed blobs can be
//! produced on purpose.

#![allow(clippy::indexing_slicing)] // test helper: writes what it is told

use super::{StrOffset, TypeId};
use crate::bytes::Endian;

#[derive(Clone)]
/// Builds a BTF blob type by type; every adder returns the new type id.
pub struct Builder {
    endian: Endian,
    types: Vec<u8>,
    strs: Vec<u8>,
    next_id: u32,
    /// String offset where this blob's strings start (split BTF).
    str_base: u32,
    layout: Option<Vec<[u8; 4]>>,
    /// Offsets of the strings added so far, when strings are deduplicated.
    dedup: Option<std::collections::HashMap<String, u32>>,
}

impl Builder {
    /// An empty base BTF of byte order `endian`.
    pub fn new(endian: Endian) -> Self {
        Builder { endian, types: Vec::new(), strs: vec![0], next_id: 1, str_base: 0, layout: None, dedup: None }
    }

    /// A builder for split BTF on top of a base with `base_types` types and
    /// `base_str_len` bytes of strings.
    pub fn new_split(endian: Endian, base_types: u32, base_str_len: u32) -> Self {
        Builder { endian, types: Vec::new(), strs: Vec::new(), next_id: base_types + 1, str_base: base_str_len, layout: None, dedup: None }
    }

    /// Emit a kind-layout section (32-byte header) describing kinds 0..=19
    /// plus any extra entries given as (kind, info_sz, elem_sz).
    pub fn with_layout(mut self, extra: &[(u8, u8, u8)]) -> Self {
        let known: [(u8, u8); 20] = [
            (0, 0),
            (4, 0),
            (0, 0),
            (12, 0),
            (0, 12),
            (0, 12),
            (0, 8),
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 8),
            (4, 0),
            (0, 12),
            (0, 0),
            (4, 0),
            (0, 0),
            (0, 12),
        ];
        let mut l: Vec<[u8; 4]> = known.iter().map(|&(i, e)| [i, e, 0, 0]).collect();
        for &(k, i, e) in extra {
            let k = k as usize;
            if l.len() <= k {
                l.resize(k + 1, [0; 4]);
            }
            l[k] = [i, e, 0, 0];
        }
        self.layout = Some(l);
        self
    }

    /// Add each distinct string once, as libbpf's `btf__add_str` does
    /// (btf.c, a `strset`): a name used twice gets one offset.
    pub fn dedup_strings(mut self) -> Self {
        self.dedup = Some(std::collections::HashMap::new());
        self
    }

    fn u32(&mut self, v: u32) {
        match self.endian {
            Endian::Little => self.types.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.types.extend_from_slice(&v.to_be_bytes()),
        }
    }

    /// Add a string, returning its offset (empty string is offset 0 in base BTF).
    pub fn str(&mut self, s: &str) -> StrOffset {
        if s.is_empty() && self.str_base == 0 {
            return StrOffset(0);
        }
        if let Some(&off) = self.dedup.as_ref().and_then(|d| d.get(s)) {
            return StrOffset(off);
        }
        let off = self.str_base + self.strs.len() as u32;
        self.strs.extend_from_slice(s.as_bytes());
        self.strs.push(0);
        if let Some(d) = self.dedup.as_mut() {
            d.insert(s.to_string(), off);
        }
        StrOffset(off)
    }

    /// Raw type record: header plus extra words. Returns the new id.
    pub fn raw(&mut self, name: &str, kind: u8, kflag: bool, vlen: u16, size_or_type: u32, extra: &[u32]) -> TypeId {
        let n = self.str(name);
        self.u32(n.0);
        self.u32(((kflag as u32) << 31) | ((kind as u32 & 0x1f) << 24) | vlen as u32);
        self.u32(size_or_type);
        for &w in extra {
            self.u32(w);
        }
        let id = self.next_id;
        self.next_id += 1;
        TypeId(id)
    }

    /// INT.
    pub fn int(&mut self, name: &str, size: u32, bits: u32, signed: bool) -> TypeId {
        self.raw(name, 1, false, 0, size, &[((signed as u32) << 24) | bits])
    }
    /// PTR.
    pub fn ptr(&mut self, to: TypeId) -> TypeId {
        self.raw("", 2, false, 0, to.0, &[])
    }
    /// ARRAY.
    pub fn array(&mut self, elem: TypeId, index: TypeId, n: u32) -> TypeId {
        self.raw("", 3, false, 0, 0, &[elem.0, index.0, n])
    }
    /// members: (name, type, bit offset, bitfield size)
    pub fn composite(&mut self, union: bool, name: &str, size: u32, members: &[(&str, TypeId, u32, u8)]) -> TypeId {
        let kflag = members.iter().any(|m| m.3 != 0);
        let mut words = Vec::new();
        for &(mn, ty, off, bits) in members {
            words.push(self.str(mn).0);
            words.push(ty.0);
            words.push(if kflag { ((bits as u32) << 24) | off } else { off });
        }
        self.raw(name, if union { 5 } else { 4 }, kflag, members.len() as u16, size, &words)
    }
    /// ENUM (32-bit).
    pub fn enum32(&mut self, name: &str, signed: bool, vals: &[(&str, i32)]) -> TypeId {
        let mut words = Vec::new();
        for &(n, v) in vals {
            words.push(self.str(n).0);
            words.push(v as u32);
        }
        self.raw(name, 6, signed, vals.len() as u16, 4, &words)
    }
    /// ENUM64.
    pub fn enum64(&mut self, name: &str, vals: &[(&str, u64)]) -> TypeId {
        let mut words = Vec::new();
        for &(n, v) in vals {
            words.push(self.str(n).0);
            words.push(v as u32);
            words.push((v >> 32) as u32);
        }
        self.raw(name, 19, false, vals.len() as u16, 8, &words)
    }
    /// FWD.
    pub fn fwd(&mut self, name: &str, union: bool) -> TypeId {
        self.raw(name, 7, union, 0, 0, &[])
    }
    /// TYPEDEF.
    pub fn typedef(&mut self, name: &str, to: TypeId) -> TypeId {
        self.raw(name, 8, false, 0, to.0, &[])
    }
    /// VOLATILE.
    pub fn volatile(&mut self, to: TypeId) -> TypeId {
        self.raw("", 9, false, 0, to.0, &[])
    }
    /// CONST.
    pub fn konst(&mut self, to: TypeId) -> TypeId {
        self.raw("", 10, false, 0, to.0, &[])
    }
    /// RESTRICT.
    pub fn restrict(&mut self, to: TypeId) -> TypeId {
        self.raw("", 11, false, 0, to.0, &[])
    }
    /// linkage: 0 static, 1 global, 2 extern
    pub fn func(&mut self, name: &str, proto: TypeId, linkage: u16) -> TypeId {
        self.raw(name, 12, false, linkage, proto.0, &[])
    }
    /// FUNC_PROTO.
    pub fn func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let mut words = Vec::new();
        for &(n, t) in params {
            words.push(self.str(n).0);
            words.push(t.0);
        }
        self.raw("", 13, false, params.len() as u16, ret.0, &words)
    }
    /// VAR with linkage.
    pub fn var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        self.raw(name, 14, false, 0, ty.0, &[linkage])
    }
    /// DATASEC with (type, offset, size) vars.
    pub fn datasec(&mut self, name: &str, size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        let words: Vec<u32> = vars.iter().flat_map(|&(t, o, s)| [t.0, o, s]).collect();
        self.raw(name, 15, false, vars.len() as u16, size, &words)
    }
    /// FLOAT.
    pub fn float(&mut self, name: &str, size: u32) -> TypeId {
        self.raw(name, 16, false, 0, size, &[])
    }
    /// DECL_TAG on a type (component -1) or a member/parameter.
    pub fn decl_tag(&mut self, name: &str, target: TypeId, component: i32) -> TypeId {
        self.raw(name, 17, false, 0, target.0, &[component as u32])
    }
    /// TYPE_TAG.
    pub fn type_tag(&mut self, name: &str, to: TypeId) -> TypeId {
        self.raw(name, 18, false, 0, to.0, &[])
    }

    /// Serialise: header, types, strings (and the kind layout when asked).
    pub fn build(&self) -> Vec<u8> {
        let hdr_len: u32 = if self.layout.is_some() { 32 } else { 24 };
        let layout_bytes: Vec<u8> = self
            .layout
            .iter()
            .flatten()
            .flat_map(|e| {
                let flags = u16::from_ne_bytes([e[2], e[3]]);
                let f = match self.endian {
                    Endian::Little => flags.to_le_bytes(),
                    Endian::Big => flags.to_be_bytes(),
                };
                [e[0], e[1], f[0], f[1]]
            })
            .collect();
        let type_off = 0u32;
        let type_len = self.types.len() as u32;
        let str_off = type_len;
        let str_len = self.strs.len() as u32;
        let layout_off = str_off + str_len;
        let mut out = Vec::new();
        let w16 = |v: u16| match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        let w32 = |v: u32| match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        out.extend_from_slice(&w16(0xeb9f));
        out.push(1);
        out.push(0);
        for v in [hdr_len, type_off, type_len, str_off, str_len] {
            out.extend_from_slice(&w32(v));
        }
        if self.layout.is_some() {
            out.extend_from_slice(&w32(layout_off));
            out.extend_from_slice(&w32(layout_bytes.len() as u32));
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strs);
        out.extend_from_slice(&layout_bytes);
        out
    }

    /// The id the next type will get.
    pub fn next_id(&self) -> TypeId {
        TypeId(self.next_id)
    }
    /// Bytes in the string section so far.
    pub fn str_len(&self) -> u32 {
        self.str_base + self.strs.len() as u32
    }
}
