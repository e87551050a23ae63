//! `.BTF.ext` CO-RE relocation records (`struct bpf_core_relo`), honouring
//! the record size the file declares, decoded into readable access paths
//! (`task_struct->mm->arg_start`) against the object's own BTF.

use crate::btf::{Btf, Kind, LocalTypeId, StrOffset, TypeId};
use crate::bytes::Endian;
use crate::error::ReadError;
use serde::Serialize;

/// `enum bpf_core_relo_kind` (libbpf `relo_core.h`), spelled without the
/// `BPF_CORE_` prefix in JSON and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CoreReloKind {
    /// 0: field byte offset.
    FieldByteOffset,
    /// 1: field size in bytes.
    FieldByteSize,
    /// 2: field existence (a check).
    FieldExists,
    /// 3: field signedness.
    FieldSigned,
    /// 4: bitfield left shift.
    FieldLshiftU64,
    /// 5: bitfield right shift.
    FieldRshiftU64,
    /// 6: type id in the object's BTF.
    TypeIdLocal,
    /// 7: type id in the kernel's BTF.
    TypeIdTarget,
    /// 8: type existence (a check).
    TypeExists,
    /// 9: type size.
    TypeSize,
    /// 10: enumerator existence (a check).
    EnumvalExists,
    /// 11: enumerator value.
    EnumvalValue,
    /// 12: type layout match (a check).
    TypeMatches,
    /// A kind number this reader does not know.
    Unknown(u32),
}

impl CoreReloKind {
    /// From the raw record value.
    pub fn from_raw(v: u32) -> Self {
        use CoreReloKind::*;
        match v {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            v => Unknown(v),
        }
    }
    /// libbpf's spelling without the prefix (`FIELD_EXISTS`).
    pub fn as_str(self) -> &'static str {
        use CoreReloKind::*;
        match self {
            FieldByteOffset => "FIELD_BYTE_OFFSET",
            FieldByteSize => "FIELD_BYTE_SIZE",
            FieldExists => "FIELD_EXISTS",
            FieldSigned => "FIELD_SIGNED",
            FieldLshiftU64 => "FIELD_LSHIFT_U64",
            FieldRshiftU64 => "FIELD_RSHIFT_U64",
            TypeIdLocal => "TYPE_ID_LOCAL",
            TypeIdTarget => "TYPE_ID_TARGET",
            TypeExists => "TYPE_EXISTS",
            TypeSize => "TYPE_SIZE",
            EnumvalExists => "ENUMVAL_EXISTS",
            EnumvalValue => "ENUMVAL_VALUE",
            TypeMatches => "TYPE_MATCHES",
            Unknown(_) => "UNKNOWN",
        }
    }
    /// A field relocation (`FIELD_*`).
    pub fn is_field(self) -> bool {
        use CoreReloKind::*;
        matches!(self, FieldByteOffset | FieldByteSize | FieldExists | FieldSigned | FieldLshiftU64 | FieldRshiftU64)
    }
    /// An enumerator relocation (`ENUMVAL_*`).
    pub fn is_enum(self) -> bool {
        matches!(self, CoreReloKind::EnumvalExists | CoreReloKind::EnumvalValue)
    }
    /// A type relocation (`TYPE_*`).
    pub fn is_type(self) -> bool {
        !self.is_field() && !self.is_enum() && !matches!(self, CoreReloKind::Unknown(_))
    }
    /// An existence question the program asks (and copes with "no").
    pub fn is_check(self) -> bool {
        use CoreReloKind::*;
        matches!(self, FieldExists | TypeExists | EnumvalExists | TypeMatches)
    }
}

/// Compare with the JSON spelling (`kind == "kfunc_removed"`).
impl PartialEq<str> for CoreReloKind {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for CoreReloKind {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

impl Serialize for CoreReloKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for CoreReloKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
/// One CO-RE relocation record.
pub struct CoreRelo {
    /// Program section the instruction is in.
    pub section: String,
    /// Byte offset of the instruction in its section.
    pub insn_off: u32,
    /// Root type in the object's BTF.
    #[serde(skip)]
    pub type_id: LocalTypeId,
    /// Raw access string (`0:1:2`), as the object spells it.
    pub access: String,
    /// The access string parsed when the object was read; `None` when it
    /// is malformed (not colon-separated numbers).
    #[serde(skip)]
    pub spec: Option<AccessPath>,
    /// Relocation kind.
    pub kind: CoreReloKind,
    /// Readable: `task_struct->mm->arg_start`, `enum bpf_func_id::BPF_FUNC_x`, `struct foo`.
    pub path: String,
    /// An existence check (the program asks, and copes with "no").
    pub is_check: bool,
}

/// A CO-RE access string parsed (libbpf `bpf_core_parse_spec`,
/// tools/lib/bpf/relo_core.c, v1.7.0): `0:1:2`. For field relocations the
/// first index addresses the root as an array element and each further one
/// a member (struct, union) or an element (array); for enumerator
/// relocations the one index is the enumerator's; type relocations have `0`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccessPath(Vec<u32>);

impl AccessPath {
    /// Parse `0:1:2`; `None` unless every part is a number.
    pub fn parse(s: &str) -> Option<AccessPath> {
        s.split(':').map(|x| x.parse().ok()).collect::<Option<Vec<u32>>>().map(AccessPath)
    }
    /// Every index, the root's first.
    pub fn indices(&self) -> &[u32] {
        &self.0
    }
    /// The first index: the root's array element (fields), the enumerator
    /// (enum relocations).
    pub fn first(&self) -> u32 {
        self.0.first().copied().unwrap_or(0)
    }
    /// The indices after the first: members and elements walked from the root.
    pub fn steps(&self) -> &[u32] {
        self.0.get(1..).unwrap_or(&[])
    }
}

impl CoreRelo {
    /// A field relocation.
    pub fn is_field(&self) -> bool {
        self.kind.is_field()
    }
    /// An enumerator relocation.
    pub fn is_enum(&self) -> bool {
        self.kind.is_enum()
    }
}

/// `.BTF.ext` magic checked; its header length.
fn ext_header_len(d: &[u8], e: Endian) -> Result<usize, ReadError> {
    let magic = e.u16(d, 0).ok_or_else(|| ReadError::at(0, "expected a .BTF.ext header"))?;
    if magic != 0xeb9f {
        return Err(ReadError::at(0, format!("expected .BTF.ext magic 0xeb9f, found {magic:#x}")));
    }
    e.u32(d, 4).map(|v| v as usize).ok_or_else(|| ReadError::at(4, "expected 4 more bytes"))
}

/// Walk one `.BTF.ext` sub-section (its offset and length at header bytes
/// `field`, `field + 4`): per program section a name and a record count,
/// then records of the section's record size. `each` gets the section name
/// and the first four words of every record (both record kinds read here
/// are at least 16 bytes).
fn ext_records(d: &[u8], e: Endian, btf: &Btf, hdr_len: usize, field: usize, name: &str, mut each: impl FnMut(&str, [u32; 4])) -> Result<(), ReadError> {
    let u32_at = |o: usize| e.u32(d, o).ok_or_else(|| ReadError::at(o, "expected 4 more bytes"));
    let (off, len) = (u32_at(field)? as usize, u32_at(field + 4)? as usize);
    if len == 0 {
        return Ok(());
    }
    let start = hdr_len.checked_add(off).ok_or_else(|| ReadError::at(field, "offset overflow"))?;
    let end = start
        .checked_add(len)
        .filter(|&x| x <= d.len())
        .ok_or_else(|| ReadError::at(field, format!("{name} section [{start:#x}, +{len:#x}) runs past the end ({:#x} bytes)", d.len())))?;
    let rec_size = u32_at(start)? as usize;
    if rec_size < 16 {
        return Err(ReadError::at(start, format!("expected {name} record size >= 16, found {rec_size}")));
    }
    let mut p = start + 4;
    while p < end {
        let sec_name = btf.str_at(StrOffset(u32_at(p)?));
        let n = u32_at(p + 4)? as usize;
        p += 8;
        let need = n.checked_mul(rec_size).ok_or_else(|| ReadError::at(p, "record count overflow"))?;
        if p.checked_add(need).is_none_or(|x| x > end) {
            return Err(ReadError::at(p - 4, format!("{n} records of {rec_size} bytes do not fit in the {name} section")));
        }
        for i in 0..n {
            let r = p + i * rec_size;
            each(sec_name, [u32_at(r)?, u32_at(r + 4)?, u32_at(r + 8)?, u32_at(r + 12)?]);
        }
        p += need;
    }
    Ok(())
}

/// Parse the CO-RE part of `.BTF.ext`.
pub fn core_relos(d: &[u8], e: Endian, btf: &Btf) -> Result<Vec<CoreRelo>, ReadError> {
    let hdr_len = ext_header_len(d, e)?;
    if hdr_len < 32 {
        return Ok(Vec::new()); // no CO-RE section in this (old) layout
    }
    let mut out = Vec::new();
    ext_records(d, e, btf, hdr_len, 24, "core_relo", |section, [insn_off, type_id, acc_off, kind]| {
        let type_id = LocalTypeId(TypeId(type_id));
        let kind = CoreReloKind::from_raw(kind);
        let access = btf.str_at(StrOffset(acc_off)).to_string();
        let spec = AccessPath::parse(&access);
        let path = describe(btf, type_id.0, &access, spec.as_ref(), kind);
        out.push(CoreRelo { section: section.to_string(), insn_off, type_id, is_check: kind.is_check(), access, spec, kind, path });
    })?;
    Ok(out)
}

/// One `.BTF.ext` line-info record (`struct bpf_line_info`): which source
/// line an instruction came from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LineInfo {
    /// Program section the instruction is in.
    pub section: String,
    /// Byte offset of the first instruction of the line in its section.
    pub insn_off: u32,
    /// Source file as compiled (`/src/prog.bpf.c`).
    pub file: String,
    /// Source line text (the compiler's copy).
    pub text: String,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column (0: unknown).
    pub column: u32,
}

/// Parse the line-info part of `.BTF.ext` (sorted by section, then
/// instruction offset, as written by the compiler). Records shorter than 16
/// bytes, counts that overrun the section and offsets past the end are errors.
pub fn line_infos(d: &[u8], e: Endian, btf: &Btf) -> Result<Vec<LineInfo>, ReadError> {
    let hdr_len = ext_header_len(d, e)?;
    if hdr_len < 24 {
        return Err(ReadError::at(4, format!("expected a .BTF.ext header of at least 24 bytes, found {hdr_len}")));
    }
    let mut out = Vec::new();
    ext_records(d, e, btf, hdr_len, 16, "line_info", |section, [insn_off, file, text, lc]| {
        out.push(LineInfo {
            section: section.to_string(),
            insn_off,
            file: btf.str_at(StrOffset(file)).to_string(),
            text: btf.str_at(StrOffset(text)).trim().to_string(),
            line: lc >> 10,
            column: lc & 0x3ff,
        });
    })?;
    Ok(out)
}

/// The line of the instruction at byte offset `insn_off` of `section`: the
/// last record at or before it.
pub fn line_at<'a>(lines: &'a [LineInfo], section: &str, insn_off: u32) -> Option<&'a LineInfo> {
    lines.iter().filter(|l| l.section == section && l.insn_off <= insn_off).max_by_key(|l| l.insn_off)
}

fn type_label(btf: &Btf, id: TypeId) -> String {
    let Some(t) = btf.ty(id) else { return format!("<type {id}>") };
    match t.kind {
        Kind::Struct => format!("struct {}", t.name()),
        Kind::Union => format!("union {}", t.name()),
        Kind::Enum | Kind::Enum64 => format!("enum {}", t.name()),
        _ => crate::btf::render::type_name(btf, id),
    }
}

/// Human description of a relocation's target (`access`: the raw string,
/// `spec`: its parse).
pub fn describe(btf: &Btf, root: TypeId, access: &str, spec: Option<&AccessPath>, kind: CoreReloKind) -> String {
    let Some(spec) = spec else { return format!("{} <bad access {access}>", type_label(btf, root)) };
    if kind.is_type() {
        return type_label(btf, root);
    }
    if kind.is_enum() {
        let e = btf.resolve(root);
        let name = e.and_then(|t| t.enumerators().nth(spec.first() as usize)).map(|v| v.name).unwrap_or("?");
        return format!("{}::{name}", type_label(btf, root));
    }
    let Some(rt) = btf.resolve(root) else { return format!("<type {root}>") };
    let mut s = rt.name().to_string();
    if s.is_empty() {
        s = type_label(btf, root);
    }
    if let Some(&first) = spec.indices().first() {
        if first != 0 {
            s.push_str(&format!("[{first}]"));
        }
    }
    let mut cur = rt;
    let mut arrow = true;
    for &i in spec.steps() {
        match cur.kind {
            Kind::Struct | Kind::Union => {
                let Some(m) = cur.members().nth(i as usize) else {
                    s.push_str(&format!("->?{i}"));
                    break;
                };
                if !m.name.is_empty() {
                    s.push_str(if arrow { "->" } else { "." });
                    s.push_str(m.name);
                    arrow = false;
                }
                match btf.resolve(m.ty) {
                    Some(t) => cur = t,
                    None => break,
                }
            }
            Kind::Array => {
                s.push_str(&format!("[{i}]"));
                match cur.array().and_then(|a| btf.resolve(a.elem)) {
                    Some(t) => cur = t,
                    None => break,
                }
            }
            _ => break,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Access strings as clang writes them and as libbpf's
    /// `bpf_core_parse_spec` refuses them (empty, a leading `:`, not numbers).
    #[test]
    fn access_paths_parse_once() {
        let a = AccessPath::parse("0:1:2").unwrap();
        assert_eq!((a.indices(), a.first(), a.steps()), (&[0, 1, 2][..], 0, &[1, 2][..]));
        let e = AccessPath::parse("3").unwrap();
        assert_eq!((e.first(), e.steps()), (3, &[][..]));
        for bad in ["", ":1", "0:", "0::1", "0:x", "-1"] {
            assert_eq!(AccessPath::parse(bad), None, "{bad}");
        }
    }
}
