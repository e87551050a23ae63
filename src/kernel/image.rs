//! Kernel images: vmlinux and module ELF files (`.BTF`, `.BTF_ids`,
//! release strings) and the x86 bzImage boot format (where the compressed
//! vmlinux sits and what the setup header says the release is).

use super::{decompress::Compression, ModuleWithoutBtf, Piece};
use crate::btf::Btf;
use crate::bytes::{Bytes, Endian};
use crate::elf::EM_BPF;
use crate::error::{Error, ErrorKind, ReadError, Result};
use object::{Object, ObjectSection, ObjectSymbol};
use std::path::Path;

/// Read a vmlinux or module ELF: its `.BTF`, `.BTF_ids` and release.
pub(super) fn read_elf(bytes: Bytes, origin: &str, path: &Path, out: &mut Vec<Piece>) -> Result<()> {
    let data = bytes.as_slice();
    let file = object::File::parse(data).map_err(|e| Error::new(origin, format!("bad ELF: {e}")).at(0))?;
    if let object::File::Elf64(ref f) = file {
        let machine = object::read::elf::FileHeader::e_machine(f.elf_header(), f.endian());
        if machine == EM_BPF {
            return Err(Error::of(ErrorKind::WrongInput, origin, "this is a BPF object, not a kernel input (use `bpfabi inspect`)"));
        }
    }
    let section = |name: &str| -> Option<Bytes> {
        let s = file.section_by_name(name)?;
        let (off, size) = s.file_range()?;
        let end = usize::try_from(off.checked_add(size)?).ok()?;
        bytes.slice(usize::try_from(off).ok()?..end)
    };
    let is_module = file.kind() == object::ObjectKind::Relocatable;
    let modinfo = section(".modinfo");
    let info = |key: &str| -> Option<String> {
        let m = modinfo.as_ref()?;
        m.as_slice().split(|&b| b == 0).filter_map(|kv| std::str::from_utf8(kv).ok()).find_map(|kv| kv.strip_prefix(key).map(str::to_string))
    };
    let Some(btf) = section(".BTF") else {
        if is_module {
            // Recorded, not an error: a package may hold modules without BTF.
            let registers_kfuncs = file.symbols().any(|s| s.is_undefined() && s.name_bytes().ok() == Some(b"register_btf_kfunc_id_set".as_slice()));
            let name = info("name=").unwrap_or_else(|| super::module_name_from_path(path));
            out.push(Piece::NoBtf(ModuleWithoutBtf { name, origin: origin.into(), registers_kfuncs }));
            return Ok(());
        }
        return Err(Error::of(ErrorKind::NoBtfSection, origin, "ELF file has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF?)"));
    };
    let btf_ids = section(".BTF_ids");
    if is_module {
        let name = info("name=").unwrap_or_else(|| super::module_name_from_path(path));
        let release = info("vermagic=").and_then(|v| v.split_whitespace().next().map(str::to_string));
        out.push(Piece::Module { name, btf, btf_ids, origin: origin.into(), release, base_err: None });
    } else {
        let release = section(".rodata").and_then(|r| linux_banner_release(r.as_slice())).or_else(|| linux_banner_release(data));
        let parsed = Btf::parse(btf).map_err(|e| e.in_file(format!("{origin} [.BTF]")))?;
        out.push(Piece::Vmlinux { btf: Box::new(parsed), btf_ids, release, origin: origin.into(), running: false });
    }
    Ok(())
}

/// The release from `Linux version 6.1.0-56-amd64 (...)`.
pub(super) fn linux_banner_release(d: &[u8]) -> Option<String> {
    const NEEDLE: &[u8] = b"Linux version ";
    let pos = d.windows(NEEDLE.len()).position(|w| w == NEEDLE)?;
    let rest = d.get(pos + NEEDLE.len()..)?;
    let end = rest.iter().position(|&b| b == b' ' || b == 0)?.min(128);
    let s = std::str::from_utf8(rest.get(..end)?).ok()?;
    s.as_bytes().first().is_some_and(u8::is_ascii_digit).then(|| s.to_string())
}

/// For an x86 bzImage: (compression, payload start, payload end, release).
/// `Ok(None)` when `d` is not a bzImage.
#[allow(clippy::type_complexity)]
pub(super) fn bzimage_payload(d: &[u8]) -> Result<Option<(Compression, usize, usize, Option<String>)>, ReadError> {
    if d.get(0x202..0x206) != Some(b"HdrS") {
        return Ok(None);
    }
    let u16_at = |o: usize| Endian::Little.u16(d, o);
    let u32_at = |o: usize| Endian::Little.u32(d, o);
    let version = u16_at(0x206).unwrap_or(0);
    if version < 0x208 {
        return Err(ReadError::at(0x206, format!("bzImage boot protocol {version:#x} predates payload fields (need >= 0x208)")));
    }
    let setup_sects = match d.get(0x1f1).copied().unwrap_or(0) {
        0 => 4,
        n => n as usize,
    };
    let pm_start = (setup_sects + 1) * 512;
    let payload_off = u32_at(0x248).unwrap_or(0) as usize;
    let payload_len = u32_at(0x24c).unwrap_or(0) as usize;
    let start = pm_start.checked_add(payload_off).ok_or_else(|| ReadError::at(0x248, "payload offset overflows"))?;
    let end = start.checked_add(payload_len).ok_or_else(|| ReadError::at(0x24c, "payload length overflows"))?;
    if end > d.len() || payload_len == 0 {
        return Err(ReadError::at(0x248, format!("bzImage payload [{start:#x}, {end:#x}) is outside the {:#x}-byte file", d.len())));
    }
    let c = Compression::sniff(d.get(start..end).unwrap_or(&[]))
        .ok_or_else(|| ReadError::at(start, "expected a gzip, xz, zstd, lz4, lzma or bzip2 payload in the bzImage"))?;
    let release = u16_at(0x20e).and_then(|p| {
        let s = d.get(p as usize + 0x200..)?;
        let end = s.iter().position(|&b| b == 0 || b == b' ')?;
        std::str::from_utf8(s.get(..end)?).ok().map(str::to_string)
    });
    Ok(Some((c, start, end, release)))
}

/// An EFI zboot image (arm64, riscv, loongarch vmlinuz): `MZ`, `zimg` at 4,
/// payload offset and size at 8 and 12.
pub(super) fn find_embedded_payload(d: &[u8]) -> Option<(Compression, usize)> {
    if d.get(0..2) != Some(b"MZ") || d.get(4..8) != Some(b"zimg") {
        return None;
    }
    let off = Endian::Little.u32(d, 8)? as usize;
    let c = Compression::sniff(d.get(off..)?)?;
    Some((c, off))
}
