//! BTF (BPF Type Format) reader.
//!
//! Parses a `.BTF` blob (base or split) into an index of type offsets over
//! borrowed bytes: nothing is copied, a type is decoded on access as a small
//! typed view ([`Type`]). Supports every kind 1–19 with its kind_flag
//! semantics, the classic 24-byte header and the 32-byte header that adds the
//! kind-layout section (unknown kinds are skipped through that table, never
//! guessed), both byte orders, and split BTF whose type ids and string
//! offsets continue those of its base.
//!
//! Validation happens once, at parse time: every record lies inside the type
//! section, every name offset inside the string section, every referenced
//! type id exists. After that, accessors cannot fail (they still never index
//! unchecked; out-of-range reads yield zero/empty values).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod builder;
pub mod c_dump;
pub mod min_core;
pub mod render;
mod walk;

use crate::bytes::{Bytes, Endian};
use crate::error::ReadError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// BTF magic number (`BTF_MAGIC` in the kernel's `btf.h`).
pub const BTF_MAGIC: u16 = 0xeb9f;
/// Size of `struct btf_type` (name_off, info, size/type).
const TYPE_HDR: usize = 12;
/// Upper bound on type ids (libbpf and the kernel use the same limit).
pub const MAX_TYPES: u32 = 0x000f_ffff;

/// A BTF type id. Id 0 is `void`.
///
/// A newtype over the raw `u32` (as gimli's offset types): ids are not
/// numbers to compute with, and a type id cannot be passed where a string
/// offset or a count is expected. Where an object's ids meet a kernel's (CO-RE
/// matching, kfunc and extern resolution) they are further told apart by
/// [`LocalTypeId`] and [`TargetTypeId`]. Serialised as the plain number.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TypeId(pub u32);

impl TypeId {
    /// Id 0: `void`.
    pub const VOID: TypeId = TypeId(0);
    /// The raw id.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// The id `n` places after this one (consecutive types).
impl std::ops::Add<u32> for TypeId {
    type Output = TypeId;
    fn add(self, n: u32) -> TypeId {
        TypeId(self.0 + n)
    }
}

/// How many ids lie between two ids (an index into a blob's types).
impl std::ops::Sub for TypeId {
    type Output = u32;
    fn sub(self, from: TypeId) -> u32 {
        self.0 - from.0
    }
}

impl std::fmt::Debug for TypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for TypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl From<TypeId> for u32 {
    fn from(id: TypeId) -> u32 {
        id.0
    }
}

/// A type id in an object's BTF: libbpf's "local" side of CO-RE relocation
/// matching and of kfunc/ksym extern resolution. Where an object's types are
/// matched against a kernel's, the two sides are [`LocalTypeId`] and
/// [`TargetTypeId`], so one cannot be passed for the other; look each up in
/// its own [`Btf`] through `.0`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LocalTypeId(pub TypeId);

/// A type id in a kernel's BTF (vmlinux or a module): the "target" side
/// where an object's types are matched against a kernel's (see
/// [`LocalTypeId`]).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TargetTypeId(pub TypeId);

/// An offset into a BTF string section (`name_off` and every other string
/// reference), continuing the base's offsets in split BTF. A newtype, as
/// gimli's section offsets: a string offset cannot be passed as a type id or
/// a size. Look it up with [`Btf::str_at`].
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StrOffset(pub u32);

impl StrOffset {
    /// The raw offset.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Debug for StrOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for StrOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// BTF kinds. `Unknown` is a kind this reader does not know, decoded only
/// through the kind-layout section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// VOID (type id 0).
    Void,
    /// BTF_KIND_INT.
    Int,
    /// BTF_KIND_PTR.
    Ptr,
    /// BTF_KIND_ARRAY.
    Array,
    /// BTF_KIND_STRUCT.
    Struct,
    /// BTF_KIND_UNION.
    Union,
    /// BTF_KIND_ENUM.
    Enum,
    /// BTF_KIND_FWD.
    Fwd,
    /// BTF_KIND_TYPEDEF.
    Typedef,
    /// BTF_KIND_VOLATILE.
    Volatile,
    /// BTF_KIND_CONST.
    Const,
    /// BTF_KIND_RESTRICT.
    Restrict,
    /// BTF_KIND_FUNC.
    Func,
    /// BTF_KIND_FUNC_PROTO.
    FuncProto,
    /// BTF_KIND_VAR.
    Var,
    /// BTF_KIND_DATASEC.
    Datasec,
    /// BTF_KIND_FLOAT.
    Float,
    /// BTF_KIND_DECL_TAG.
    DeclTag,
    /// BTF_KIND_TYPE_TAG.
    TypeTag,
    /// BTF_KIND_ENUM64.
    Enum64,
    /// A kind number this reader does not know.
    Unknown(u8),
}

impl Kind {
    /// From the kind number in a type's info word.
    pub fn from_raw(k: u8) -> Kind {
        use Kind::*;
        match k {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            n => Unknown(n),
        }
    }

    /// The kind number (`BTF_KIND_*`; 0 for VOID).
    pub fn raw(self) -> u8 {
        use Kind::*;
        match self {
            Void => 0,
            Int => 1,
            Ptr => 2,
            Array => 3,
            Struct => 4,
            Union => 5,
            Enum => 6,
            Fwd => 7,
            Typedef => 8,
            Volatile => 9,
            Const => 10,
            Restrict => 11,
            Func => 12,
            FuncProto => 13,
            Var => 14,
            Datasec => 15,
            Float => 16,
            DeclTag => 17,
            TypeTag => 18,
            Enum64 => 19,
            Unknown(n) => n,
        }
    }

    /// The kernel's name of the kind (`STRUCT`, `FUNC_PROTO`).
    pub fn name(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "VOID",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
            Unknown(_) => "UNKNOWN",
        }
    }

    /// Bytes after the 12-byte header: (fixed part, size per vlen element).
    fn known_layout(self) -> Option<(usize, usize)> {
        use Kind::*;
        Some(match self {
            Int => (4, 0),
            Array => (12, 0),
            Struct | Union => (0, 12),
            Enum => (0, 8),
            FuncProto => (0, 8),
            Var => (4, 0),
            Datasec => (0, 12),
            DeclTag => (4, 0),
            Enum64 => (0, 12),
            Ptr | Fwd | Typedef | Volatile | Const | Restrict | Func | Float | TypeTag => (0, 0),
            Void | Unknown(_) => return None,
        })
    }

    /// Kinds whose third header word is a type id (not a size).
    fn refers_by_type(self) -> bool {
        use Kind::*;
        matches!(self, Ptr | Typedef | Volatile | Const | Restrict | Func | FuncProto | Var | DeclTag | TypeTag)
    }
}

/// One entry of the kind-layout section: how many bytes follow the common
/// header for a kind, fixed and per vlen element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindLayout {
    /// Size of the kind's info part after the common header.
    pub info_sz: u8,
    /// Size of each vlen element.
    pub elem_sz: u8,
    /// Kind-layout flags.
    pub flags: u16,
}

/// Parsed BTF header.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Header {
    /// BTF version (1).
    pub version: u8,
    /// Header flags.
    pub flags: u8,
    /// Header length in bytes (24, or 32 with the kind-layout section).
    pub hdr_len: u32,
    /// Type section offset after the header.
    pub type_off: u32,
    /// Type section length.
    pub type_len: u32,
    /// String section offset after the header.
    pub str_off: u32,
    /// String section length.
    pub str_len: u32,
    /// Kind-layout section offset (32-byte headers only).
    pub layout_off: u32,
    /// Kind-layout section length.
    pub layout_len: u32,
}

/// A parsed BTF blob. Cheap to share (`Arc<Btf>`); split BTF holds its base.
pub struct Btf {
    bytes: Bytes,
    endian: Endian,
    header: Header,
    /// Absolute start of the type and string sections in `bytes`.
    types_start: usize,
    strs_start: usize,
    strs_len: usize,
    /// Offset (relative to `types_start`) and raw kind number of each own
    /// type, index = id - start_id (the `walk` module): scans for one kind
    /// read the kind bytes, not the type headers.
    table: walk::Table,
    start_id: TypeId,
    /// Total string bytes of the base chain (string offsets below are the base's).
    start_str: u32,
    base: Option<Arc<Btf>>,
    layout: Option<Vec<KindLayout>>,
    name_index: OnceLock<NameIndex>,
    type_name_index: OnceLock<NameIndex>,
    /// For a blob parsed with [`Btf::parse_lazy`]: one bit per own type,
    /// set once its references were checked (on its first [`Btf::ty`]).
    /// Empty for a blob checked in full at parse time.
    checked: Box<[AtomicU64]>,
    /// Parsed with [`Btf::parse_lazy`]: references are checked on access.
    lazy: bool,
    /// A type failed its check on access (see [`Btf::deferred_error`]).
    check_failed: AtomicBool,
}

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.table.len())
            .field("start_id", &self.start_id)
            .field("endian", &self.endian)
            .field("split", &self.base.is_some())
            .finish()
    }
}

fn err(off: usize, what: impl Into<String>) -> ReadError {
    ReadError::at(off, what)
}

fn not_btf(off: usize, what: impl Into<String>) -> ReadError {
    ReadError::at(off, what).with_kind(crate::error::ErrorKind::NotBtf)
}

impl Btf {
    /// Parse a base BTF blob.
    pub fn parse(bytes: Bytes) -> Result<Btf, ReadError> {
        Btf::parse_inner(bytes, None)
    }

    /// Parse split BTF (e.g. a module's) on top of `base`.
    pub fn parse_split(bytes: Bytes, base: Arc<Btf>) -> Result<Btf, ReadError> {
        Btf::parse_inner(bytes, Some(base))
    }

    /// Parse a base BTF blob, checking only its layout now: the header, the
    /// sections, every record's kind and size (the offset table needs them).
    /// Each type's name offsets and referenced ids are checked on its first
    /// access ([`Btf::ty`]); a type that fails is not returned and
    /// [`Btf::deferred_error`] gives the error [`Btf::parse`] would have.
    /// For callers that read a few types of a large blob (`surface`).
    pub fn parse_lazy(bytes: Bytes) -> Result<Btf, ReadError> {
        Btf::parse_with(bytes, None, true)
    }

    /// [`Btf::parse_lazy`] for split BTF on top of `base`.
    pub fn parse_split_lazy(bytes: Bytes, base: Arc<Btf>) -> Result<Btf, ReadError> {
        Btf::parse_with(bytes, Some(base), true)
    }

    /// Read the magic and decide the byte order.
    pub fn sniff(data: &[u8]) -> Option<Endian> {
        match data.get(0..2)? {
            [0x9f, 0xeb] => Some(Endian::Little),
            [0xeb, 0x9f] => Some(Endian::Big),
            _ => None,
        }
    }

    fn parse_header(data: &[u8]) -> Result<(Endian, Header), ReadError> {
        if data.len() < 24 {
            return Err(not_btf(0, format!("expected a BTF header of at least 24 bytes, found {} bytes", data.len())));
        }
        let endian = Btf::sniff(data).ok_or_else(|| {
            not_btf(0, format!("expected BTF magic 0xeb9f, found {:02x}{:02x}", data.first().copied().unwrap_or(0), data.get(1).copied().unwrap_or(0)))
        })?;
        let r = |o| endian.u32(data, o).unwrap_or(0);
        let version = data.get(2).copied().unwrap_or(0);
        if version != 1 {
            return Err(not_btf(2, format!("expected BTF version 1, found {version}")));
        }
        let hdr_len = r(4);
        if hdr_len < 24 {
            return Err(err(4, format!("expected hdr_len >= 24, found {hdr_len}")));
        }
        if hdr_len as usize > data.len() {
            return Err(err(4, format!("hdr_len {hdr_len} exceeds the blob size {}", data.len())));
        }
        let mut h = Header {
            version,
            flags: data.get(3).copied().unwrap_or(0),
            hdr_len,
            type_off: r(8),
            type_len: r(12),
            str_off: r(16),
            str_len: r(20),
            layout_off: 0,
            layout_len: 0,
        };
        let mut known = 24usize;
        if hdr_len >= 32 {
            h.layout_off = r(24);
            h.layout_len = r(28);
            known = 32;
        }
        // Like libbpf and the kernel: unknown header bytes must be zero.
        if let Some(pos) = data.get(known..hdr_len as usize).unwrap_or(&[]).iter().position(|&b| b != 0) {
            return Err(err(known + pos, "expected zero in header bytes this reader does not know"));
        }
        Ok((endian, h))
    }

    fn parse_inner(bytes: Bytes, base: Option<Arc<Btf>>) -> Result<Btf, ReadError> {
        Btf::parse_with(bytes, base, false)
    }

    fn parse_with(bytes: Bytes, base: Option<Arc<Btf>>, lazy: bool) -> Result<Btf, ReadError> {
        let data = bytes.as_slice();
        let (endian, h) = Btf::parse_header(data)?;
        if let Some(b) = &base {
            if b.endian != endian {
                return Err(err(0, "split BTF byte order differs from its base"));
            }
        }
        let hl = h.hdr_len as usize;
        let section = |off: u32, len: u32, what: &str, hoff: usize| -> Result<usize, ReadError> {
            let start = hl.checked_add(off as usize).ok_or_else(|| err(hoff, "offset overflow"))?;
            let end = start.checked_add(len as usize).ok_or_else(|| err(hoff, "length overflow"))?;
            if end > data.len() {
                return Err(err(hoff, format!("{what} section [{start:#x}, {end:#x}) runs past the end of the blob ({:#x} bytes)", data.len())));
            }
            Ok(start)
        };
        let types_start = section(h.type_off, h.type_len, "type", 8)?;
        let strs_start = section(h.str_off, h.str_len, "string", 16)?;
        if h.type_off % 4 != 0 {
            return Err(err(8, format!("expected a 4-byte aligned type section offset, found {}", h.type_off)));
        }
        let types_end = types_start + h.type_len as usize;
        let strs_end = strs_start + h.str_len as usize;
        if types_start < strs_end && strs_start < types_end && h.type_len > 0 && h.str_len > 0 {
            return Err(err(8, "type and string sections overlap"));
        }
        let strs = data.get(strs_start..strs_end).unwrap_or(&[]);
        match (&base, strs.first(), strs.last()) {
            (None, Some(0), Some(0)) => {}
            (None, None, _) => return Err(err(strs_start, "expected a string section starting with an empty string")),
            (None, Some(_), _) => {
                // Split BTF's strings continue its base's: a missing leading
                // NUL is how a module's BTF read alone looks.
                return Err(err(strs_start, "expected the string section to start with a NUL byte").with_kind(crate::error::ErrorKind::SplitBtf));
            }
            (Some(_), None, _) => {}
            (Some(_), Some(_), Some(0)) => {}
            (_, _, _) => return Err(err(strs_end.saturating_sub(1), "expected the string section to end with a NUL byte")),
        }
        let layout = if h.layout_len > 0 {
            let lstart = section(h.layout_off, h.layout_len, "kind layout", 24)?;
            if h.layout_len % 4 != 0 {
                return Err(err(28, format!("expected kind layout length to be a multiple of 4, found {}", h.layout_len)));
            }
            let l = data.get(lstart..lstart + h.layout_len as usize).unwrap_or(&[]);
            Some(
                l.chunks_exact(4)
                    .map(|c| KindLayout {
                        info_sz: c.first().copied().unwrap_or(0),
                        elem_sz: c.get(1).copied().unwrap_or(0),
                        flags: endian.u16(c, 2).unwrap_or(0),
                    })
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };

        let (start_id, start_str) = match &base {
            Some(b) => (b.next_id(), b.total_str_len()),
            None => (TypeId(1), 0),
        };
        let mut btf = Btf {
            endian,
            header: h,
            types_start,
            strs_start,
            strs_len: h.str_len as usize,
            table: walk::Table::default(),
            start_id,
            start_str,
            base,
            layout,
            name_index: OnceLock::new(),
            type_name_index: OnceLock::new(),
            checked: Box::default(),
            lazy,
            check_failed: AtomicBool::new(false),
            bytes: bytes.clone(),
        };
        if lazy {
            // Layout only: references are checked type by type on access.
            btf.index_layout(data)?;
            btf.checked = (0..btf.table.len().div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
            return Ok(btf);
        }
        // One pass indexes the types and bounds every reference; only when
        // a reference is out of range does the slower, message-building
        // pass run, so errors are those of `validate_refs`.
        let (max_ref, max_str) = btf.index_types(data)?;
        if max_ref >= btf.next_id().get() || max_str >= btf.total_str_len() {
            btf.validate_refs(data)?;
        }
        Ok(btf)
    }

    /// Walk the type section once, recording each type's offset and kind;
    /// returns the largest type id and the largest name offset any record
    /// refers to (what [`Btf::validate_refs`] checks, gathered without
    /// building its messages).
    fn index_types(&mut self, data: &[u8]) -> Result<(u32, u32), ReadError> {
        match self.endian {
            Endian::Little => self.index_types_in::<false, true>(data),
            Endian::Big => self.index_types_in::<true, true>(data),
        }
    }

    /// [`Btf::index_types`] without the reference bounds: each record's
    /// kind and size only ([`Btf::parse_lazy`]).
    fn index_layout(&mut self, data: &[u8]) -> Result<(), ReadError> {
        match self.endian {
            Endian::Little => self.index_types_in::<false, false>(data),
            Endian::Big => self.index_types_in::<true, false>(data),
        }
        .map(|_| ())
    }

    /// How the index pass reads each of the 32 kind numbers: known kinds
    /// by their fixed layout, others through the kind-layout section.
    fn record_shapes(&self) -> [RecordShape; 32] {
        record_shapes(self.layout.as_deref())
    }

    /// [`Btf::index_types`] for one byte order (the walk itself: the
    /// `walk` module). `REFS`: also gather the reference bounds (else
    /// (0, 0) comes back).
    fn index_types_in<const BE: bool, const REFS: bool>(&mut self, data: &[u8]) -> Result<(u32, u32), ReadError> {
        let types = data.get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        let shapes = self.record_shapes();
        // Ids run from start_id to MAX_TYPES; every type takes at least 12
        // bytes: together these bound the table.
        let limit = (MAX_TYPES as u64 + 1).saturating_sub(self.start_id.get() as u64);
        let slots = (types.len() / TYPE_HDR).min(usize::try_from(limit).unwrap_or(usize::MAX));
        match walk::index::<BE, REFS>(types, &shapes, slots) {
            Ok(w) => {
                self.table = w.table;
                Ok((w.max_ref, w.max_str))
            }
            Err((fault, n)) => Err(self.walk_error(types, fault, n)),
        }
    }

    /// The error for the walk's first bad record (`n`: types before it).
    #[cold]
    fn walk_error(&self, types: &[u8], fault: walk::Fault, n: usize) -> ReadError {
        match fault {
            walk::Fault::UnknownKind { off, raw_kind } => self.unknown_kind_error(off, raw_kind, n),
            walk::Fault::Short { off, raw_kind, vlen, next } => self.short_record_error(types, off, raw_kind, vlen, next, n),
            walk::Fault::OutOfSlots { off } => err(self.types_start + off, format!("more than {MAX_TYPES} types")),
            walk::Fault::Tail { off } => err(self.types_start + off, format!("expected a 12-byte type header, only {} bytes left", types.len() - off)),
        }
    }

    /// The error for a type of a kind with no known layout (`n`: types before it).
    #[cold]
    fn unknown_kind_error(&self, off: usize, raw_kind: u8, n: usize) -> ReadError {
        err(self.types_start + off + 4, format!("unknown BTF kind {raw_kind} (type id {}) and no kind layout entry for it", self.start_id.get() as usize + n))
    }

    /// The error for a type record running past the type section.
    #[cold]
    fn short_record_error(&self, types: &[u8], off: usize, raw_kind: u8, vlen: u32, next: usize, n: usize) -> ReadError {
        err(
            self.types_start + off,
            format!(
                "{} type id {} needs {} bytes (vlen {vlen}), only {} left in the type section",
                Kind::from_raw(raw_kind).name(),
                self.start_id.get() as usize + n,
                next - off,
                types.len() - off
            ),
        )
    }

    /// Check name offsets and referenced type ids of every own type (the
    /// first failure, in id order). Runs over every record of a 5 MB
    /// vmlinux, so messages are only built on failure.
    fn validate_refs(&self, data: &[u8]) -> Result<(), ReadError> {
        let types = data.get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        for (first, offsets, _) in self.table.runs(types) {
            for (i, &o) in offsets.iter().enumerate() {
                self.check_refs(types, o as usize, self.start_id + (first + i) as u32)?;
            }
        }
        Ok(())
    }

    /// Check the name offsets and referenced type ids of the type `id`,
    /// whose record starts at `o` in the type section `types`.
    fn check_refs(&self, types: &[u8], o: usize, id: TypeId) -> Result<(), ReadError> {
        let max_id = self.next_id().get();
        let str_total = self.total_str_len();
        let ts = self.types_start;
        let e = self.endian;
        let rd = |o: usize| e.u32(types, o).unwrap_or(0);
        let bad_id = |id: u32, o: usize, what: &str, owner: TypeId| {
            err(ts + o, format!("{what} of type id {owner} refers to type id {id}, but the last type id is {}", max_id - 1))
        };
        let bad_str = |s: u32, o: usize| err(ts + o, format!("name offset {s} is outside the string section ({str_total} bytes)"));
        let name_off = rd(o);
        let info = rd(o + 4);
        let st = rd(o + 8);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        let vlen = (info & 0xffff) as usize;
        if name_off >= str_total {
            return Err(bad_str(name_off, o));
        }
        if kind.refers_by_type() && st >= max_id {
            return Err(bad_id(st, o + 8, kind.name(), id));
        }
        let x = o + TYPE_HDR;
        match kind {
            Kind::Array => {
                for (k, what) in [(0, "array element type"), (4, "array index type")] {
                    let t = rd(x + k);
                    if t >= max_id {
                        return Err(bad_id(t, x + k, what, id));
                    }
                }
            }
            // Members (name, type, offset) and parameters (name, type).
            Kind::Struct | Kind::Union | Kind::FuncProto => {
                let (size, what) = if kind == Kind::FuncProto { (8, "parameter") } else { (12, "member") };
                for m in (x..x + vlen * size).step_by(size) {
                    let (n, t) = (rd(m), rd(m + 4));
                    if n >= str_total {
                        return Err(bad_str(n, m));
                    }
                    if t >= max_id {
                        return Err(bad_id(t, m + 4, what, id));
                    }
                }
            }
            Kind::Datasec => {
                for m in (x..x + vlen * 12).step_by(12) {
                    let t = rd(m);
                    if t >= max_id {
                        return Err(bad_id(t, m, "datasec variable", id));
                    }
                }
            }
            Kind::Enum | Kind::Enum64 => {
                let esz = if kind == Kind::Enum { 8 } else { 12 };
                for v in (x..x + vlen * esz).step_by(esz) {
                    let n = rd(v);
                    if n >= str_total {
                        return Err(bad_str(n, v));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// For a [`Btf::parse_lazy`] blob: whether own type number `i` (record
    /// at `o`) passes its reference check, run on its first access and
    /// remembered. Always true for a blob checked in full at parse time.
    #[inline]
    fn checked_on_access(&self, types: &[u8], i: usize, o: usize) -> bool {
        if !self.lazy {
            return true;
        }
        let Some(word) = self.checked.get(i / 64) else { return false };
        let bit = 1u64 << (i % 64);
        if word.load(Ordering::Relaxed) & bit != 0 {
            return true;
        }
        self.check_on_access(types, i, o, word, bit)
    }

    /// The first check of a type of a lazy blob ([`Btf::checked_on_access`]).
    #[cold]
    fn check_on_access(&self, types: &[u8], i: usize, o: usize, word: &AtomicU64, bit: u64) -> bool {
        if self.check_refs(types, o, self.start_id + i as u32).is_ok() {
            word.fetch_or(bit, Ordering::Relaxed);
            return true;
        }
        self.check_failed.store(true, Ordering::Relaxed);
        false
    }

    /// Whether this blob was parsed with [`Btf::parse_lazy`] (its types'
    /// references checked on access).
    pub fn is_lazy(&self) -> bool {
        self.lazy
    }

    /// For a [`Btf::parse_lazy`] blob in which a type read so far failed its
    /// reference check: the error [`Btf::parse`] gives for the whole blob
    /// (the first bad reference in id order). `None` otherwise: no type read
    /// was bad (types not read are not checked).
    pub fn deferred_error(&self) -> Option<ReadError> {
        if !self.check_failed.load(Ordering::Relaxed) {
            return None;
        }
        self.validate_refs(self.bytes.as_slice()).err()
    }

    /// Check every type's references now, as [`Btf::parse`] does (a no-op
    /// for a blob parsed that way): for a [`Btf::parse_lazy`] blob about to
    /// be read in full.
    pub fn validate(&self) -> Result<(), ReadError> {
        if !self.lazy {
            return Ok(());
        }
        self.validate_refs(self.bytes.as_slice())
    }

    // ---- accessors ----

    /// Byte order of the blob.
    pub fn endian(&self) -> Endian {
        self.endian
    }
    /// The blob as read: header, types, strings (e.g. to compare two kernels' BTF).
    pub fn raw_bytes(&self) -> &Bytes {
        &self.bytes
    }
    /// Hand this blob's mapped pages back to the page cache after a full
    /// pass over it ([`Bytes::release_pages`]); later reads fault in what
    /// they touch. Not the base's.
    pub fn release_pages(&self) {
        self.bytes.release_pages();
    }
    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The base BTF of a split BTF (module BTF).
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }
    /// Whether this is split BTF (ids continue a base).
    pub fn is_split(&self) -> bool {
        self.base.is_some()
    }
    /// First type id defined by this blob (1 for base BTF).
    pub fn start_id(&self) -> TypeId {
        self.start_id
    }
    /// One past the last type id (base ids included).
    pub fn next_id(&self) -> TypeId {
        self.start_id + self.table.len() as u32
    }
    /// Number of types defined by this blob (not counting the base).
    pub fn own_types(&self) -> usize {
        self.table.len()
    }
    /// The kind-layout table, when the header has one.
    pub fn kind_layout(&self) -> Option<&[KindLayout]> {
        self.layout.as_deref()
    }
    fn total_str_len(&self) -> u32 {
        self.start_str + self.strs_len as u32
    }

    /// The NUL-terminated string at `off` (split BTF continues the base's
    /// offsets). Invalid UTF-8 or out-of-range offsets give "".
    pub fn str_at(&self, off: StrOffset) -> &str {
        std::str::from_utf8(self.str_bytes_at(off)).unwrap_or("")
    }

    /// The raw bytes of the string at `off`, without UTF-8 validation (for
    /// fast comparisons).
    pub fn str_bytes_at(&self, off: StrOffset) -> &[u8] {
        let off = off.0;
        if off < self.start_str {
            return match &self.base {
                Some(b) => b.str_bytes_at(StrOffset(off)),
                None => &[],
            };
        }
        let rel = (off - self.start_str) as usize;
        let data = self.bytes.as_slice();
        let strs = data.get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let s = strs.get(rel..).unwrap_or(&[]);
        let end = memchr::memchr(0, s).unwrap_or(s.len());
        s.get(..end).unwrap_or(&[])
    }

    /// The first 8 bytes of the string at `off` as a little-endian word,
    /// zero from its terminator on (shorter strings are zero-padded): a key
    /// for prefiltering names without scanning to their end.
    pub fn str_prefix8(&self, off: StrOffset) -> u64 {
        let off = off.0;
        if off < self.start_str {
            return self.base.as_ref().map_or(0, |b| b.str_prefix8(StrOffset(off)));
        }
        let rel = (off - self.start_str) as usize;
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let s = strs.get(rel..).unwrap_or(&[]);
        if let Some(&w) = s.first_chunk::<8>() {
            return prefix_word(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        for (d, &b) in w.iter_mut().zip(s.iter().take_while(|&&b| b != 0)) {
            *d = b;
        }
        u64::from_le_bytes(w)
    }

    /// Whether the string at `off` is empty, and whether it is `name`:
    /// compares bytes in place (no scan to the terminator, no UTF-8 check).
    pub fn str_is(&self, off: u32, name: &[u8]) -> (bool, bool) {
        if off < self.start_str {
            return match &self.base {
                Some(b) => b.str_is(off, name),
                None => (true, name.is_empty()),
            };
        }
        let rel = (off - self.start_str) as usize;
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let s = strs.get(rel..).unwrap_or(&[]);
        let empty = s.first().is_none_or(|&b| b == 0);
        let is = s.get(..name.len()) == Some(name) && s.get(name.len()).is_none_or(|&b| b == 0);
        (empty, is)
    }

    /// The name offsets in this blob's own string section (not the base's)
    /// whose string contains `pat`, as ascending inclusive ranges (a string
    /// from its start up to its last occurrence of `pat`; an offset into
    /// the middle of a string names its tail): a search of the section
    /// instead of a read of every type's name.
    pub fn str_ranges_containing(&self, pat: &[u8]) -> Vec<(u32, u32)> {
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let mut out: Vec<(u32, u32)> = Vec::new();
        if pat.is_empty() {
            return out;
        }
        for pos in memchr::memmem::find_iter(strs, pat) {
            let start = strs.get(..pos).and_then(|h| memchr::memrchr(0, h)).map_or(0, |z| z + 1);
            let (a, b) = (self.start_str.saturating_add(start as u32), self.start_str.saturating_add(pos as u32));
            match out.last_mut() {
                Some(last) if last.0 == a => last.1 = b,
                _ => out.push((a, b)),
            }
        }
        out
    }

    /// Look a type up by id (base ids are forwarded to the base).
    pub fn ty(&self, id: TypeId) -> Option<Type<'_>> {
        if id == TypeId::VOID {
            return Some(Type::void(self));
        }
        if id < self.start_id {
            return self.base.as_ref()?.ty(id);
        }
        let data = self.bytes.as_slice();
        let types = data.get(self.types_start..self.types_start + self.header.type_len as usize)?;
        let off = self.table.offset((id - self.start_id) as usize, types)?;
        let o = off as usize;
        let e = self.endian;
        let name_off = StrOffset(e.u32(types, o)?);
        let info = e.u32(types, o + 4)?;
        let size_or_type = e.u32(types, o + 8)?;
        let raw_kind = ((info >> 24) & 0x1f) as u8;
        let kind = Kind::from_raw(raw_kind);
        let vlen = (info & 0xffff) as usize;
        let (fixed, per) = kind.known_layout().or_else(|| self.layout.as_ref()?.get(raw_kind as usize).map(|l| (l.info_sz as usize, l.elem_sz as usize)))?;
        let extra = types.get(o + TYPE_HDR..o + TYPE_HDR + fixed + per * vlen)?;
        if !self.checked_on_access(types, (id - self.start_id) as usize, o) {
            return None;
        }
        Some(Type { btf: self, id, kind, name_off, info, size_or_type, extra })
    }

    /// This blob's own types of one kind, without decoding the others.
    pub fn types_of_kind(&self, kind: Kind) -> impl Iterator<Item = Type<'_>> + '_ {
        self.ids_of_kind(kind).filter_map(move |id| self.ty(id))
    }

    /// The ids of this blob's own types of one kind, in id order: a search
    /// of the one-byte-per-type kind table (SIMD for rare kinds), no type
    /// header read.
    pub fn ids_of_kind(&self, kind: Kind) -> impl Iterator<Item = TypeId> + '_ {
        let start = self.start_id;
        // No type has kind 0 (`Kind::Void`), and an `Unknown(n)` whose
        // number is a known kind's names none: u8::MAX matches no entry.
        let raw = if kind == Kind::Void || Kind::from_raw(kind.raw()) != kind { u8::MAX } else { kind.raw() };
        self.table.kind_runs().flat_map(move |(first, _, kinds)| memchr::memchr_iter(raw, kinds).map(move |i| start + (first + i) as u32))
    }

    /// Id and name offset of this blob's own types of one kind, in id
    /// order: a search of the kind table and one header word per match,
    /// no [`Type`] built, no string read.
    pub fn names_of_kind(&self, kind: Kind) -> impl Iterator<Item = (TypeId, StrOffset)> + '_ {
        let types = self.bytes.as_slice().get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        let be = self.endian == Endian::Big;
        self.ids_of_kind(kind).map(move |id| {
            let o = self.table.offset((id - self.start_id) as usize, types).map_or(usize::MAX, |o| o as usize);
            let w = types.get(o..).and_then(|t| t.first_chunk::<4>()).copied().unwrap_or([0; 4]);
            (id, StrOffset(if be { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) }))
        })
    }

    /// The name offset and [`Btf::str_prefix8`] of each own type of one
    /// kind, in id order: a key to prefilter the names of a common kind (a
    /// vmlinux's 50,000 FUNCs) read eight bytes at a time, in place. One
    /// loop over the kind table (a byte search costs more per match when
    /// nearly every other type matches).
    pub fn for_each_name_prefix(&self, kind: Kind, mut f: impl FnMut(StrOffset, u64)) {
        let types = self.bytes.as_slice().get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let raw = if kind == Kind::Void || Kind::from_raw(kind.raw()) != kind { u8::MAX } else { kind.raw() };
        let be = self.endian == Endian::Big;
        // Own strings but the last 7 bytes are read as one word in place.
        let fast = strs.len().saturating_sub(7);
        for (_, offsets, kinds) in self.table.runs(types) {
            for (&k, &off) in kinds.iter().zip(offsets) {
                if k != raw {
                    continue;
                }
                let w = types.get(off as usize..).and_then(|t| t.first_chunk::<4>()).copied().unwrap_or([0; 4]);
                let name = if be { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) };
                let rel = name.wrapping_sub(self.start_str) as usize;
                let prefix = match strs.get(rel..rel.wrapping_add(8)) {
                    Some(b) if rel < fast => prefix_word(b.first_chunk::<8>().map_or(0, |&w| u64::from_le_bytes(w))),
                    // A base string, or one of the last 7 bytes of the section.
                    _ => self.str_prefix8(StrOffset(name)),
                };
                f(StrOffset(name), prefix);
            }
        }
    }

    /// The name offset and the first 8 bytes at it, as they are (not cut
    /// at the terminator: a name shorter than 8 bytes comes with its NUL
    /// and whatever follows it; zero-padded at the end of the section), of
    /// each own type of one kind, in id order: a cheaper key than
    /// [`Btf::for_each_name_prefix`]'s for callers that look for names of
    /// at least 8 bytes. The kind table is read 8 entries a word, so only
    /// matching entries cost more than a compare.
    #[inline]
    pub fn for_each_name_word(&self, kind: Kind, mut f: impl FnMut(StrOffset, u64)) {
        self.for_each_id_name_word(kind, |_, name, word| f(name, word));
    }

    /// [`Btf::for_each_name_word`] with each type's id.
    #[inline]
    pub fn for_each_id_name_word(&self, kind: Kind, f: impl FnMut(TypeId, StrOffset, u64)) {
        match self.endian {
            Endian::Little => self.name_words::<false>(kind, f),
            Endian::Big => self.name_words::<true>(kind, f),
        }
    }

    /// The ids, in order, of the own types of `kind` whose name starts with
    /// the 8 bytes `prefix` ([`Btf::for_each_id_name_word`]: only those are
    /// read past their first word).
    pub fn ids_with_prefix8(&self, kind: Kind, prefix: &[u8; 8]) -> Vec<TypeId> {
        let key = u64::from_le_bytes(*prefix);
        let mut ids = Vec::new();
        self.for_each_id_name_word(kind, |id, _, word| {
            if word == key {
                ids.push(id);
            }
        });
        ids
    }

    /// [`Btf::for_each_id_name_word`] for one byte order. Hot: one iteration
    /// per 8 types of a vmlinux and a few loads per match, so the kind
    /// table and the offsets are read 8 entries at a time (an entry's
    /// index needs no bounds check) and the rare names not read in place
    /// (a base string, the last 7 bytes of the section) go through a cold
    /// call.
    #[inline]
    fn name_words<const BE: bool>(&self, kind: Kind, mut f: impl FnMut(TypeId, StrOffset, u64)) {
        let types = self.bytes.as_slice().get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let raw = if kind == Kind::Void || Kind::from_raw(kind.raw()) != kind { u8::MAX } else { kind.raw() };
        let start_str = self.start_str;
        // The name offset and word of the type whose record starts at `off`.
        let name_word = |off: u32| -> (StrOffset, u64) {
            let name = word_at::<BE>(types.get(off as usize..).unwrap_or(&[]), 0);
            let rel = name.wrapping_sub(start_str) as usize;
            match strs.get(rel..).and_then(|s| s.first_chunk::<8>()) {
                Some(&w) => (StrOffset(name), u64::from_le_bytes(w)),
                // A base string, or one of the last 7 bytes of the section.
                None => (StrOffset(name), self.str_prefix8_cold(StrOffset(name))),
            }
        };
        let ones = u64::from_le_bytes([raw; 8]);
        for (first, offsets, kinds) in self.table.runs(types) {
            let mut kc = kinds.chunks_exact(8);
            let mut oc = offsets.chunks_exact(8);
            // Index of the first of the 8 entries read.
            let mut at = first;
            for (k8, o8) in (&mut kc).zip(&mut oc) {
                let base = at;
                at += 8;
                let (Some(k8), Some(o8)) = (k8.first_chunk::<8>(), o8.first_chunk::<8>()) else { continue };
                // Bytes equal to `raw` become zero; flag them exactly (no borrow
                // from a lower byte: the high bit is tested on the low 7 bits'
                // sum, then or-ed with the byte's own high bit).
                let x = u64::from_le_bytes(*k8) ^ ones;
                let low = 0x7f7f_7f7f_7f7f_7f7f_u64;
                let mut zero = !(((x & low).wrapping_add(low)) | x | low);
                while zero != 0 {
                    // (`& 7`: always in range, the check compiled away)
                    let i = (zero.trailing_zeros() / 8) as usize & 7;
                    let (name, word) = name_word(o8.get(i).copied().unwrap_or(u32::MAX));
                    f(self.start_id + (base + i) as u32, name, word);
                    zero &= zero - 1;
                }
            }
            for (i, (&k, &off)) in kc.remainder().iter().zip(oc.remainder()).enumerate() {
                if k == raw {
                    let (name, word) = name_word(off);
                    f(self.start_id + (at + i) as u32, name, word);
                }
            }
        }
    }

    /// [`Btf::str_prefix8`] out of line, for the rare names a hot loop
    /// cannot read in place.
    #[cold]
    #[inline(never)]
    fn str_prefix8_cold(&self, off: StrOffset) -> u64 {
        self.str_prefix8(off)
    }

    /// Id, kind and name offset of each own type, read from the kind table
    /// and the first header word only: the cheapest full scan (no [`Type`]
    /// built, no string read), for passes that pick a few types out of all.
    pub fn kinds_and_names(&self) -> impl Iterator<Item = (TypeId, Kind, StrOffset)> + '_ {
        let e = self.endian;
        let types = self.bytes.as_slice().get(self.types_start..self.types_start + self.header.type_len as usize).unwrap_or(&[]);
        self.table.runs(types).flat_map(|(first, offsets, kinds)| offsets.iter().zip(kinds).enumerate().map(move |(i, p)| (first + i, p))).map(
            move |(i, (&off, &kind))| {
                let o = off as usize;
                let w: [u8; 4] = types.get(o..o + 4).and_then(|b| b.try_into().ok()).unwrap_or([0; 4]);
                let name = match e {
                    Endian::Little => rd_u32::<false>(w),
                    Endian::Big => rd_u32::<true>(w),
                };
                (self.start_id + i as u32, Kind::from_raw(kind), StrOffset(name))
            },
        )
    }

    /// Iterate over this blob's own types (not the base's).
    pub fn types(&self) -> impl Iterator<Item = Type<'_>> + '_ {
        (self.start_id.get()..self.next_id().get()).filter_map(move |id| self.ty(TypeId(id)))
    }

    fn name_hash(s: &[u8]) -> u64 {
        word_hash(s)
    }

    /// A fast hash of the string at `off` (the by-name index's: eight bytes
    /// a step), equal to that of the same bytes in any blob. For in-memory
    /// comparisons only: it is not stable across builds, unlike the
    /// fingerprints of `crate::hash`.
    pub fn str_hash(&self, off: StrOffset) -> u64 {
        let off = off.0;
        if off < self.start_str {
            return self.base.as_ref().map_or(word_hash(b""), |b| b.str_hash(StrOffset(off)));
        }
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        word_hash_cstr(strs.get((off - self.start_str) as usize..).unwrap_or(&[]))
    }

    /// Open-addressing table of own named types: slot = (hash, id), id 0 =
    /// empty. Built in one pass, no sort; duplicates occupy several slots.
    fn name_index(&self) -> &NameIndex {
        self.name_index.get_or_init(|| self.build_name_index(self.table.len(), |_| true))
    }

    /// The by-name index of the data-type kinds only (see
    /// [`Btf::own_named_types`]): a fifth of a vmlinux's named types.
    fn type_name_index(&self) -> &NameIndex {
        self.type_name_index.get_or_init(|| {
            let n = self.kinds_and_names().filter(|&(_, k, n)| n.0 != 0 && is_data_type(k)).count();
            self.build_name_index(n, is_data_type)
        })
    }

    /// A name index of the own named types whose kind `keep` accepts (at
    /// most `named` of them).
    fn build_name_index(&self, named: usize, keep: fn(Kind) -> bool) -> NameIndex {
        let cap = (named * 2).next_power_of_two().max(16);
        // All zero: an allocation of fresh zeroed pages, not a fill.
        let mut slots = vec![0u64; cap];
        let mask = cap - 1;
        let strs = self.bytes.as_slice().get(self.strs_start..self.strs_start + self.strs_len).unwrap_or(&[]);
        let mut left = named;
        // Internal iteration (`for_each`): the table's runs are walked one
        // slice at a time, not item by item through a flattening adapter.
        self.kinds_and_names().for_each(|(id, kind, name_off)| {
            if name_off.0 == 0 || !keep(kind) || left == 0 {
                return;
            }
            left -= 1;
            // Hash up to the NUL in one pass (own strings; base names are
            // hashed the slow way, which split BTF rarely needs).
            let h = match name_off.0.checked_sub(self.start_str) {
                Some(rel) => word_hash_cstr(strs.get(rel as usize..).unwrap_or(&[])),
                None => Btf::name_hash(self.str_bytes_at(name_off)),
            };
            let tag = (h >> 32) as u32;
            let mut pos = h as usize & mask;
            // Load factor <= 1/2: a free slot always exists.
            while let Some(slot) = slots.get_mut(pos) {
                if slot_id(*slot) == TypeId::VOID {
                    *slot = (tag as u64) << 32 | id.get() as u64;
                    break;
                }
                pos = (pos + 1) & mask;
            }
        });
        NameIndex { slots, mask }
    }

    /// This blob's own types of the data-type kinds (INT, FLOAT, STRUCT,
    /// UNION, ENUM, ENUM64, FWD, TYPEDEF) with this name, in no particular
    /// order: what a C declaration names. Its index leaves out functions,
    /// variables and tags (four fifths of a vmlinux's named types), so it
    /// is quicker to build than [`Btf::by_name`]'s.
    pub fn own_named_types<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = Type<'a>> + 'a {
        self.probe(self.type_name_index(), name)
    }

    /// All own types with this name (any kind), in id order, then the base's.
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Type<'a>> + 'a {
        let idx = self.name_index();
        let h = Btf::name_hash(name.as_bytes());
        let mut ids = Vec::new();
        let mut pos = h as usize & idx.mask;
        let tag = (h >> 32) as u32;
        while let Some(&slot) = idx.slots.get(pos) {
            let id = slot_id(slot);
            if id == TypeId::VOID {
                break;
            }
            if slot_tag(slot) == tag {
                ids.push(id);
            }
            pos = (pos + 1) & idx.mask;
        }
        ids.sort_unstable();
        let own = ids.into_iter().filter_map(move |id| self.ty(id)).filter(move |t| t.name_bytes() == name.as_bytes());
        let base: Box<dyn Iterator<Item = Type<'a>> + 'a> = match &self.base {
            Some(b) => Box::new(b.by_name(name)),
            None => Box::new(std::iter::empty()),
        };
        own.chain(base)
    }

    /// Build the by-name index now rather than on the first lookup: for
    /// callers that can spare another thread for it.
    pub fn index_names(&self) {
        self.name_index();
    }

    /// [`Btf::index_names`] for [`Btf::own_named_types`].
    pub fn index_type_names(&self) {
        self.type_name_index();
    }

    /// This blob's own types with this name (not the base's), in no
    /// particular order: [`Btf::by_name`] without its allocation and sort,
    /// for hot loops that gather all of them anyway.
    pub fn own_named<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = Type<'a>> + 'a {
        self.probe(self.name_index(), name)
    }

    /// The own types named `name` in `idx`.
    fn probe<'a>(&'a self, idx: &'a NameIndex, name: &'a [u8]) -> impl Iterator<Item = Type<'a>> + 'a {
        let h = Btf::name_hash(name);
        let tag = (h >> 32) as u32;
        let mut pos = h as usize & idx.mask;
        std::iter::from_fn(move || {
            while let Some(&slot) = idx.slots.get(pos) {
                let id = slot_id(slot);
                if id == TypeId::VOID {
                    return None;
                }
                pos = (pos + 1) & idx.mask;
                if slot_tag(slot) == tag {
                    // Compared in place: no scan to the terminator.
                    if let Some(t) = self.ty(id).filter(|t| self.str_is(t.name_off.0, name).1) {
                        return Some(t);
                    }
                }
            }
            None
        })
    }

    /// First type of `kind` named `name`.
    pub fn find<'a>(&'a self, name: &'a str, kind: Kind) -> Option<Type<'a>> {
        self.by_name(name).find(|t| t.kind == kind)
    }

    /// The lowest id of an own type of `kind` named each of `names` (None
    /// where this blob has none; base types are not searched): one pass
    /// over that kind's records ([`Btf::for_each_id_name_word`]) comparing
    /// the first 8 bytes of each name in place, only the few that match
    /// read in full. For a few dozen names much cheaper than
    /// [`Btf::by_name`]'s index of every named type.
    pub fn first_of_kind(&self, kind: Kind, names: &[&str]) -> Vec<Option<TypeId>> {
        let mut found: Vec<Option<TypeId>> = vec![None; names.len()];
        // A name's first 8 bytes as a word; a shorter name's bytes and its
        // terminator, with the mask of those bytes.
        let key = |n: &str| {
            let mut w = [0u8; 8];
            for (d, &b) in w.iter_mut().zip(n.as_bytes()) {
                *d = b;
            }
            // (A name of 7 bytes and its terminator fill the word.)
            let mask = 1u64.checked_shl(8 * (n.len() as u32 + 1)).map_or(u64::MAX, |b| b - 1);
            (u64::from_le_bytes(w), mask)
        };
        // Names of 7 bytes or more by word (sorted), shorter ones apart.
        let mut long: Vec<(u64, usize)> = Vec::new();
        let mut short: Vec<(u64, u64, usize)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            match key(n) {
                (w, u64::MAX) => long.push((w, i)),
                (w, m) => short.push((w, m, i)),
            }
        }
        long.sort_unstable();
        if long.is_empty() && short.is_empty() {
            return found;
        }
        let spell = |found: &mut Vec<Option<TypeId>>, id: TypeId, off: StrOffset, i: usize| {
            if let (Some(slot @ None), Some(n)) = (found.get_mut(i), names.get(i)) {
                if self.str_is(off.0, n.as_bytes()).1 {
                    *slot = Some(id);
                }
            }
        };
        let short_match = |found: &mut Vec<Option<TypeId>>, id: TypeId, off: StrOffset, word: u64| {
            for &(w, m, i) in &short {
                if word & m == w {
                    spell(found, id, off, i);
                }
            }
        };
        // A 4 Ki-bit filter of the long names' words: most names fail it
        // with one multiply, shift and bit test.
        let bit = |w: u64| (w.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize;
        let mut filter = [0u64; 64];
        for &(w, _) in &long {
            if let Some(f) = filter.get_mut(bit(w) / 64) {
                *f |= 1 << (bit(w) % 64);
            }
        }
        self.for_each_id_name_word(kind, |id, off, word| {
            let b = bit(word);
            if filter.get(b / 64).is_some_and(|f| f & (1 << (b % 64)) != 0) {
                // Every name with these first 8 bytes (adjacent once sorted).
                let first = long.partition_point(|&(w, _)| w < word);
                for &(_, i) in long.get(first..).unwrap_or(&[]).iter().take_while(|&&(w, _)| w == word) {
                    spell(&mut found, id, off, i);
                }
            }
            short_match(&mut found, id, off, word);
        });
        found
    }

    /// Follow typedefs and modifiers (bounded, so cycles cannot hang).
    pub fn resolve(&self, mut id: TypeId) -> Option<Type<'_>> {
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.ty(id)?;
            match t.kind {
                Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => id = TypeId(t.size_or_type),
                _ => return Some(t),
            }
        }
        None
    }
}

#[inline(always)]
fn rd_u32<const BE: bool>(b: [u8; 4]) -> u32 {
    if BE {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// The word at byte `i` of `b` (zero when out of range; callers pass
/// fixed-size records, so the check folds away).
#[inline(always)]
fn word_at<const BE: bool>(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, rd_u32::<BE>)
}

/// What the words of a record after its header refer to, for the bounds
/// [`Btf::index_types`] gathers (the fields [`Btf::validate_refs`] checks).
#[derive(Clone, Copy, Debug)]
enum Refs {
    /// Nothing (or a kind known only by its layout).
    None,
    /// 12-byte elements: name, type, offset (struct and union members).
    NamesTypes12,
    /// 8-byte elements: name, type (function prototype parameters).
    NamesTypes8,
    /// 8-byte elements: name, value (enumerators).
    Names8,
    /// 12-byte elements: name, value (enum64 enumerators).
    Names12,
    /// 12-byte elements: type, offset, size (datasec variables).
    Types12,
    /// Element and index type (array).
    Array,
}

/// How [`Btf::index_types`] reads one kind's records: bytes after the
/// header (`fixed` + `per` x vlen; `fixed == u32::MAX`, more than any type
/// section holds: a kind with no known layout), whether the third header word is a type id (`ref_mask`
/// all ones) and what the rest refers to.
#[derive(Clone, Copy, Debug)]
struct RecordShape {
    fixed: u32,
    per: u32,
    ref_mask: u32,
    refs: Refs,
}

impl RecordShape {
    const INVALID: RecordShape = RecordShape { fixed: u32::MAX, per: 0, ref_mask: 0, refs: Refs::None };

    fn known(kind: Kind, fixed: usize, per: usize) -> RecordShape {
        let refs = match kind {
            Kind::Struct | Kind::Union => Refs::NamesTypes12,
            Kind::FuncProto => Refs::NamesTypes8,
            Kind::Enum => Refs::Names8,
            Kind::Enum64 => Refs::Names12,
            Kind::Datasec => Refs::Types12,
            Kind::Array => Refs::Array,
            _ => Refs::None,
        };
        RecordShape { fixed: fixed as u32, per: per as u32, ref_mask: if kind.refers_by_type() { u32::MAX } else { 0 }, refs }
    }
}

/// Names (word 0) and types (word 1) of `N`-byte vlen records.
#[inline(always)]
fn elems_bound<const BE: bool, const N: usize>(extra: &[u8], names: bool, types: bool, max_ref: &mut u32, max_str: &mut u32) {
    for c in extra.chunks_exact(N) {
        let Some(m) = c.first_chunk::<8>() else { continue };
        if names {
            *max_str = (*max_str).max(word_at::<BE>(m, 0));
        }
        if types {
            *max_ref = (*max_ref).max(word_at::<BE>(m, 4));
        }
    }
}

/// Eight string bytes read as a little-endian word, kept up to the first
/// zero byte (the lowest flagged byte of the classic has-zero test is exact).
#[inline(always)]
fn prefix_word(w: u64) -> u64 {
    let z = w.wrapping_sub(0x0101_0101_0101_0101) & !w & 0x8080_8080_8080_8080;
    if z == 0 {
        w
    } else {
        w & ((1u64 << (z.trailing_zeros() / 8 * 8)) - 1)
    }
}

/// [`Btf::record_shapes`] for a kind-layout table (`None`: the known kinds
/// only).
fn record_shapes(layout: Option<&[KindLayout]>) -> [RecordShape; 32] {
    let mut shapes = [RecordShape::INVALID; 32];
    for (raw, shape) in (0u8..).zip(shapes.iter_mut()) {
        let kind = Kind::from_raw(raw);
        *shape = match kind.known_layout() {
            Some((fixed, per)) => RecordShape::known(kind, fixed, per),
            None => match layout.and_then(|l| l.get(raw as usize)) {
                Some(l) if raw != 0 => RecordShape { fixed: l.info_sz as u32, per: l.elem_sz as u32, ref_mask: 0, refs: Refs::None },
                _ => RecordShape::INVALID,
            },
        };
    }
    shapes
}

/// For fuzzing (feature `testing`): walk the type section of `blob` once,
/// in chains from the starts the walk finds, and in chains from `starts`;
/// panics unless all give the same table or fail at the same record.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub fn check_walk_chains(blob: &[u8], starts: &[usize]) {
    walk::check_chains(blob, starts)
}

/// One step of [`word_hash`] (FxHash's).
#[inline(always)]
fn word_step(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// The end of [`word_hash`]: murmur3's fmix64, so that low bits (the index
/// slot) depend on every byte.
#[inline(always)]
fn word_finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// [`Btf::str_hash`] of a string not in a blob.
pub fn word_hash_of(s: &[u8]) -> u64 {
    word_hash(s)
}

/// Hash of a name's bytes, eight at a time, the last word zero-padded.
fn word_hash(s: &[u8]) -> u64 {
    let mut h = 0u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        h = word_step(h, c.try_into().map(u64::from_le_bytes).unwrap_or(0));
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        let mut w = [0u8; 8];
        for (d, &b) in w.iter_mut().zip(r) {
            *d = b;
        }
        h = word_step(h, u64::from_le_bytes(w));
    }
    word_finish(h)
}

/// [`word_hash`] of the bytes of `s` before its first NUL: the same words,
/// read in place.
fn word_hash_cstr(s: &[u8]) -> u64 {
    let mut h = 0u64;
    let mut pos = 0;
    while let Some(&c) = s.get(pos..).and_then(|t| t.first_chunk::<8>()) {
        let w = u64::from_le_bytes(c);
        let z = w.wrapping_sub(0x0101_0101_0101_0101) & !w & 0x8080_8080_8080_8080;
        if z == 0 {
            h = word_step(h, w);
            pos += 8;
            continue;
        }
        // Bytes before the first zero (the lowest flagged byte is exact).
        let keep = z.trailing_zeros() / 8;
        if keep > 0 {
            h = word_step(h, w & ((1u64 << (keep * 8)) - 1));
        }
        return word_finish(h);
    }
    // Fewer than eight bytes left in the section.
    let mut w = [0u8; 8];
    let mut n = 0;
    for (d, &b) in w.iter_mut().zip(s.get(pos..).unwrap_or(&[]).iter().take_while(|&&b| b != 0)) {
        *d = b;
        n += 1;
    }
    if n > 0 {
        h = word_step(h, u64::from_le_bytes(w));
    }
    word_finish(h)
}

/// The kinds of [`Btf::own_named_types`].
fn is_data_type(k: Kind) -> bool {
    matches!(k, Kind::Int | Kind::Float | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Typedef)
}

/// The by-name index (see [`Btf::by_name`]).
struct NameIndex {
    /// Upper 32 bits of the name hash << 32 | type id; id 0 = empty.
    slots: Vec<u64>,
    mask: usize,
}

/// The type id of a name index slot.
#[inline]
fn slot_id(slot: u64) -> TypeId {
    TypeId(slot as u32)
}

/// The name hash bits of a name index slot.
#[inline]
fn slot_tag(slot: u64) -> u32 {
    (slot >> 32) as u32
}

/// Longest modifier/typedef chain followed before giving up (as libbpf).
pub const MAX_RESOLVE_DEPTH: usize = 32;

/// A decoded view of one type.
#[derive(Clone, Copy)]
pub struct Type<'a> {
    btf: &'a Btf,
    /// Type id (continuing the base's ids in split BTF).
    pub id: TypeId,
    /// Kind.
    pub kind: Kind,
    name_off: StrOffset,
    info: u32,
    size_or_type: u32,
    extra: &'a [u8],
}

impl std::fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {} '{}'", self.id, self.kind.name(), self.name())
    }
}

/// A struct/union member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member<'a> {
    /// Member name (empty for anonymous members).
    pub name: &'a str,
    /// Member type.
    pub ty: TypeId,
    /// Offset in bits from the start of the composite.
    pub bit_offset: u32,
    /// 0 when not a bitfield.
    pub bitfield_size: u8,
}

/// One member seen by [`Type::scan_members`]: its name compared, not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberHit {
    /// Position among the members.
    pub index: usize,
    /// Member type.
    pub ty: TypeId,
    /// Offset in bits from the start of the composite.
    pub bit_offset: u32,
    /// 0 when not a bitfield.
    pub bitfield_size: u8,
    /// The member has no name.
    pub anonymous: bool,
    /// The member's name is the one looked for.
    pub matches: bool,
}

/// A function prototype parameter. `ty == 0` with an empty name is `...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Param<'a> {
    /// Parameter name (may be empty).
    pub name: &'a str,
    /// Parameter type (0 for `...`).
    pub ty: TypeId,
}

/// An enumerator (ENUM or ENUM64); `value` holds the raw 64 bits, to be read
/// as signed when the enum is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Enumerator<'a> {
    /// Enumerator name.
    pub name: &'a str,
    /// Value (sign-extend for signed enums).
    pub value: u64,
}

/// A DATASEC entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecVar {
    /// The VAR or FUNC.
    pub ty: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// An INT's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntInfo {
    /// BTF_INT_SIGNED.
    pub signed: bool,
    /// BTF_INT_CHAR.
    pub char: bool,
    /// BTF_INT_BOOL.
    pub bool: bool,
    /// Bit offset (0 outside bitfield encodings).
    pub offset: u8,
    /// Number of bits.
    pub bits: u8,
}

/// An ARRAY's element, index type and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArrayInfo {
    /// Element type.
    pub elem: TypeId,
    /// Index type.
    pub index: TypeId,
    /// Number of elements (0: flexible).
    pub nelems: u32,
}

/// FUNC linkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Linkage {
    /// `static` (not visible outside the object).
    Static,
    /// Global, defined here.
    Global,
    /// `extern`: defined elsewhere (kernel, libbpf, linker).
    Extern,
    /// A linkage value this reader does not know.
    Other(u32),
}

impl<'a> Type<'a> {
    fn void(btf: &'a Btf) -> Type<'a> {
        Type { btf, id: TypeId::VOID, kind: Kind::Void, name_off: StrOffset(0), info: 0, size_or_type: 0, extra: &[] }
    }

    /// The blob this type was defined in (a base type's is the base).
    pub fn btf(&self) -> &'a Btf {
        self.btf
    }
    /// Name (empty for anonymous types).
    pub fn name(&self) -> &'a str {
        self.btf.str_at(self.name_off)
    }
    /// The name as raw bytes (no UTF-8 check): for fast comparisons.
    pub fn name_bytes(&self) -> &'a [u8] {
        self.btf.str_bytes_at(self.name_off)
    }
    /// Offset of the name in the string section.
    pub fn name_off(&self) -> StrOffset {
        self.name_off
    }
    /// Number of vlen elements (members, params, enumerators, vars).
    pub fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    /// The kind_flag bit of the info word.
    pub fn kind_flag(&self) -> bool {
        self.info & 0x8000_0000 != 0
    }
    /// Byte size (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).
    pub fn size(&self) -> u32 {
        self.size_or_type
    }
    /// The referenced type (PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO return,
    /// VAR, DECL_TAG, TYPE_TAG).
    pub fn ref_type(&self) -> TypeId {
        TypeId(self.size_or_type)
    }
    /// The raw info word.
    pub fn raw_info(&self) -> u32 {
        self.info
    }
    /// The bytes after the common header, for kinds known only by layout.
    pub fn extra(&self) -> &'a [u8] {
        self.extra
    }

    fn word(&self, i: usize) -> u32 {
        self.btf.endian.u32(self.extra, i * 4).unwrap_or(0)
    }

    /// INT encoding, for INT types.
    pub fn int_info(&self) -> Option<IntInfo> {
        (self.kind == Kind::Int).then(|| {
            let w = self.word(0);
            let enc = (w >> 24) & 0x0f;
            IntInfo { signed: enc & 1 != 0, char: enc & 2 != 0, bool: enc & 4 != 0, offset: ((w >> 16) & 0xff) as u8, bits: (w & 0xff) as u8 }
        })
    }

    /// ARRAY element, index and length, for ARRAY types.
    pub fn array(&self) -> Option<ArrayInfo> {
        (self.kind == Kind::Array).then(|| ArrayInfo { elem: TypeId(self.word(0)), index: TypeId(self.word(1)), nelems: self.word(2) })
    }

    /// Number of members: `vlen` for a STRUCT or UNION, 0 otherwise.
    fn member_count(&self) -> usize {
        if matches!(self.kind, Kind::Struct | Kind::Union) {
            self.vlen()
        } else {
            0
        }
    }

    /// Member `i`'s record with its name offset and bitfield offset decoded
    /// (kind_flag set: bit offset in the low 24 bits, bitfield size in the
    /// high 8); `i` must be below `member_count`.
    fn member_raw(&self, i: usize) -> (StrOffset, TypeId, u32, u8) {
        let off = self.word(i * 3 + 2);
        let (bit_offset, bitfield_size) = if self.kind_flag() { (off & 0x00ff_ffff, (off >> 24) as u8) } else { (off, 0) };
        (StrOffset(self.word(i * 3)), TypeId(self.word(i * 3 + 1)), bit_offset, bitfield_size)
    }

    /// Members of a STRUCT or UNION (bitfield offsets decoded).
    pub fn members(&self) -> impl Iterator<Item = Member<'a>> + 'a {
        let t = *self;
        (0..t.member_count()).map(move |i| t.member_at(i))
    }

    /// Member `i`, `i` below `member_count`.
    fn member_at(&self, i: usize) -> Member<'a> {
        let (name, ty, bit_offset, bitfield_size) = self.member_raw(i);
        Member { name: self.btf.str_at(name), ty, bit_offset, bitfield_size }
    }

    /// Member `i` of a STRUCT/UNION (only its name is read from the string
    /// section: cheaper than `members().nth(i)`, which reads every name before it).
    pub fn member(&self, i: usize) -> Option<Member<'a>> {
        (i < self.member_count()).then(|| self.member_at(i))
    }

    /// Members with their names compared to `name` in place rather than
    /// decoded: for scans that look for one member by name.
    pub fn scan_members<'n>(&self, name: &'n [u8]) -> impl Iterator<Item = MemberHit> + 'n
    where
        'a: 'n,
    {
        let t = *self;
        (0..t.member_count()).map(move |i| {
            let (name_off, ty, bit_offset, bitfield_size) = t.member_raw(i);
            let (anonymous, matches) = t.btf.str_is(name_off.0, name);
            MemberHit { index: i, ty, bit_offset, bitfield_size, anonymous, matches }
        })
    }

    /// Members of a STRUCT or UNION with their name offsets rather than
    /// their names (no string read): (name, type, bit offset, bitfield size).
    pub fn member_refs(&self) -> impl Iterator<Item = (StrOffset, TypeId, u32, u8)> + 'a {
        let t = *self;
        (0..t.member_count()).map(move |i| t.member_raw(i))
    }

    /// Parameters of a FUNC_PROTO with their name offsets: (name, type).
    pub fn param_refs(&self) -> impl Iterator<Item = (StrOffset, TypeId)> + 'a {
        let t = *self;
        let n = if t.kind == Kind::FuncProto { t.vlen() } else { 0 };
        (0..n).map(move |i| (StrOffset(t.word(i * 2)), TypeId(t.word(i * 2 + 1))))
    }

    /// Parameters of a FUNC_PROTO.
    pub fn params(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let t = *self;
        let n = if t.kind == Kind::FuncProto { t.vlen() } else { 0 };
        (0..n).map(move |i| Param { name: t.btf.str_at(StrOffset(t.word(i * 2))), ty: TypeId(t.word(i * 2 + 1)) })
    }

    /// True for an ENUM/ENUM64 whose values are signed (kind_flag).
    pub fn enum_signed(&self) -> bool {
        self.kind_flag()
    }

    /// Enumerators of an ENUM or ENUM64.
    pub fn enumerators(&self) -> impl Iterator<Item = Enumerator<'a>> + 'a {
        let t = *self;
        let (n, w) = match t.kind {
            Kind::Enum => (t.vlen(), 2),
            Kind::Enum64 => (t.vlen(), 3),
            _ => (0, 2),
        };
        let signed = t.kind_flag();
        (0..n).map(move |i| {
            let name = t.btf.str_at(StrOffset(t.word(i * w)));
            let value = if w == 2 {
                let v = t.word(i * w + 1);
                if signed {
                    v as i32 as i64 as u64
                } else {
                    v as u64
                }
            } else {
                (t.word(i * w + 1) as u64) | ((t.word(i * w + 2) as u64) << 32)
            };
            Enumerator { name, value }
        })
    }

    /// Linkage of a FUNC or VAR.
    pub fn linkage(&self) -> Option<Linkage> {
        let raw = match self.kind {
            Kind::Func => self.vlen() as u32,
            Kind::Var => self.word(0),
            _ => return None,
        };
        Some(match raw {
            0 => Linkage::Static,
            1 => Linkage::Global,
            2 => Linkage::Extern,
            n => Linkage::Other(n),
        })
    }

    /// Variables of a DATASEC.
    pub fn datasec_vars(&self) -> impl Iterator<Item = SecVar> + 'a {
        let t = *self;
        let n = if t.kind == Kind::Datasec { t.vlen() } else { 0 };
        (0..n).map(move |i| SecVar { ty: TypeId(t.word(i * 3)), offset: t.word(i * 3 + 1), size: t.word(i * 3 + 2) })
    }

    /// DECL_TAG component index (-1: the whole declaration).
    pub fn component_idx(&self) -> Option<i32> {
        (self.kind == Kind::DeclTag).then(|| self.word(0) as i32)
    }

    /// FWD: true when it forward-declares a union.
    pub fn fwd_is_union(&self) -> bool {
        self.kind == Kind::Fwd && self.kind_flag()
    }
}

#[cfg(test)]
mod tests;
