//! `.BTF.ext` CO-RE relocation records (`struct bpf_core_relo`), honouring
//! the record size the file declares, decoded into readable access paths
//! (`task_struct->mm->arg_start`) against the object's own BTF.

use crate::btf::{Btf, Kind, TypeId};
use crate::bytes::Endian;
use crate::error::ReadError;
use serde::Serialize;

/// The 13 relocation kinds (`enum bpf_core_relo_kind`).
pub const KINDS: [&str; 13] = [
    "FIELD_BYTE_OFFSET",
    "FIELD_BYTE_SIZE",
    "FIELD_EXISTS",
    "FIELD_SIGNED",
    "FIELD_LSHIFT_U64",
    "FIELD_RSHIFT_U64",
    "TYPE_ID_LOCAL",
    "TYPE_ID_TARGET",
    "TYPE_EXISTS",
    "TYPE_SIZE",
    "ENUMVAL_EXISTS",
    "ENUMVAL_VALUE",
    "TYPE_MATCHES",
];

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CoreRelo {
    /// Program section the instruction is in.
    pub section: String,
    pub insn_off: u32,
    /// Root type in the object's BTF.
    #[serde(skip)]
    pub type_id: TypeId,
    /// Raw access string (`0:1:2`).
    pub access: String,
    pub kind: &'static str,
    /// Readable: `task_struct->mm->arg_start`, `enum bpf_func_id::BPF_FUNC_x`, `struct foo`.
    pub path: String,
    /// An existence check (the program asks, and copes with "no").
    pub is_check: bool,
}

impl CoreRelo {
    pub fn is_field(&self) -> bool {
        self.kind.starts_with("FIELD_")
    }
    pub fn is_enum(&self) -> bool {
        self.kind.starts_with("ENUMVAL_")
    }
}

/// Parse the CO-RE part of `.BTF.ext`.
pub fn core_relos(d: &[u8], e: Endian, btf: &Btf) -> Result<Vec<CoreRelo>, ReadError> {
    let u32_at = |o: usize| e.u32(d, o).ok_or_else(|| ReadError::at(o, "expected 4 more bytes"));
    let magic = e.u16(d, 0).ok_or_else(|| ReadError::at(0, "expected a .BTF.ext header"))?;
    if magic != 0xeb9f {
        return Err(ReadError::at(0, format!("expected .BTF.ext magic 0xeb9f, found {magic:#x}")));
    }
    let hdr_len = u32_at(4)? as usize;
    if hdr_len < 32 {
        return Ok(Vec::new()); // no CO-RE section in this (old) layout
    }
    let (off, len) = (u32_at(24)? as usize, u32_at(28)? as usize);
    if len == 0 {
        return Ok(Vec::new());
    }
    let start = hdr_len.checked_add(off).ok_or_else(|| ReadError::at(24, "offset overflow"))?;
    let end = start.checked_add(len).filter(|&x| x <= d.len()).ok_or_else(|| {
        ReadError::at(24, format!("core_relo section [{start:#x}, +{len:#x}) runs past the end ({:#x} bytes)", d.len()))
    })?;
    let rec_size = u32_at(start)? as usize;
    if rec_size < 16 {
        return Err(ReadError::at(start, format!("expected core_relo record size >= 16, found {rec_size}")));
    }
    let mut out = Vec::new();
    let mut p = start + 4;
    while p < end {
        let sec_name = btf.str_at(u32_at(p)?).to_string();
        let n = u32_at(p + 4)? as usize;
        p += 8;
        let need = n.checked_mul(rec_size).ok_or_else(|| ReadError::at(p, "record count overflow"))?;
        if p.checked_add(need).is_none_or(|x| x > end) {
            return Err(ReadError::at(p - 4, format!("{n} records of {rec_size} bytes do not fit in the core_relo section")));
        }
        for i in 0..n {
            let r = p + i * rec_size;
            let (insn_off, type_id, acc_off, kind) = (u32_at(r)?, u32_at(r + 4)?, u32_at(r + 8)?, u32_at(r + 12)?);
            let kind_name = KINDS.get(kind as usize).copied().unwrap_or("UNKNOWN");
            let access = btf.str_at(acc_off).to_string();
            let path = describe(btf, type_id, &access, kind_name);
            out.push(CoreRelo {
                section: sec_name.clone(),
                insn_off,
                type_id,
                is_check: matches!(kind_name, "FIELD_EXISTS" | "TYPE_EXISTS" | "ENUMVAL_EXISTS" | "TYPE_MATCHES"),
                access,
                kind: kind_name,
                path,
            });
        }
        p += need;
    }
    Ok(out)
}

/// Parse `0:1:2` into indices.
pub fn parse_access(s: &str) -> Option<Vec<u32>> {
    s.split(':').map(|x| x.parse().ok()).collect()
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

/// Human description of a relocation's target.
pub fn describe(btf: &Btf, root: TypeId, access: &str, kind: &str) -> String {
    let Some(idx) = parse_access(access) else { return format!("{} <bad access {access}>", type_label(btf, root)) };
    if kind.starts_with("TYPE_") {
        return type_label(btf, root);
    }
    if kind.starts_with("ENUMVAL_") {
        let e = btf.resolve(root);
        let name = e.and_then(|t| t.enumerators().nth(*idx.first().unwrap_or(&0) as usize)).map(|v| v.name).unwrap_or("?");
        return format!("{}::{name}", type_label(btf, root));
    }
    let Some(rt) = btf.resolve(root) else { return format!("<type {root}>") };
    let mut s = rt.name().to_string();
    if s.is_empty() {
        s = type_label(btf, root);
    }
    if let Some(&first) = idx.first() {
        if first != 0 {
            s.push_str(&format!("[{first}]"));
        }
    }
    let mut cur = rt;
    let mut arrow = true;
    for &i in idx.iter().skip(1) {
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
