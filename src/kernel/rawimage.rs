//! Kernel images that are neither ELF nor x86 bzImage: the flat binaries
//! other architectures boot (`objcopy -O binary` of vmlinux: arm64 and
//! riscv64 `Image`, the arm `Image` inside a zImage, s390x `vmlinux.bin`
//! inside its decompressor), and self-decompressing wrappers whose
//! compressed payload sits at an offset no header names (arm zImage, s390x
//! bzImage).
//!
//! A flat image has no section headers, so `.BTF` is found by its content:
//! a BTF header (either byte order) whose sections fit, that parses and
//! validates as base BTF; the largest such blob is the vmlinux BTF (small
//! BPF objects embedded in the kernel carry BTF too). The linker script
//! places `.BTF_ids` right after `.BTF` (`BTF` macro in
//! `include/asm-generic/vmlinux.lds.h`), padded to at most a page; it ends
//! where the zero padding before the next section begins (the section
//! itself never holds four zero words in a row: every record starts with a
//! non-zero count or id).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use super::decompress::{self, Compression};
use crate::btf::Btf;
use crate::bytes::{Bytes, Endian};
use crate::error::ReadError;

/// Where a vmlinux BTF sits in a flat image, and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBtf {
    /// Start offset of `.BTF` in the image.
    pub start: usize,
    /// End offset.
    pub end: usize,
    /// Byte order.
    pub endian: Endian,
    /// The `.BTF_ids` bytes range, when something non-zero follows the BTF.
    pub btf_ids: Option<std::ops::Range<usize>>,
}

/// Header of a candidate BTF blob at `off`: its total length, when the
/// header is plausible for a kernel's base BTF (types first, then strings).
fn candidate_len(d: &[u8], off: usize) -> Option<(usize, Endian)> {
    let endian = Btf::sniff(d.get(off..)?)?;
    if d.get(off + 2) != Some(&1) {
        return None;
    }
    let r = |o: usize| endian.u32(d, off + o);
    let hdr_len = r(4)? as usize;
    let (type_off, type_len, str_off, str_len) = (r(8)? as usize, r(12)? as usize, r(16)? as usize, r(20)? as usize);
    if !(24..=256).contains(&hdr_len) || type_off != 0 || type_len < 12 || str_len < 2 || str_off < type_len {
        return None;
    }
    let total = hdr_len.checked_add(str_off)?.checked_add(str_len)?;
    (off.checked_add(total)? <= d.len()).then_some((total, endian))
}

/// Find the vmlinux BTF in a flat kernel image. Candidates are tried
/// largest first; the first that parses wins.
pub fn find_btf(d: &[u8]) -> Option<FoundBtf> {
    let mut cands: Vec<(usize, usize, Endian)> = Vec::new();
    let mut off = 0usize;
    while off + 24 <= d.len() {
        // Both magics start with 0x9f or 0xeb; skip everything else fast.
        if let Some(&b) = d.get(off) {
            if b == 0x9f || b == 0xeb {
                if let Some((len, e)) = candidate_len(d, off) {
                    cands.push((off, len, e));
                }
            }
        }
        off += 4;
    }
    cands.sort_by_key(|c| std::cmp::Reverse(c.1));
    for (start, len, endian) in cands.into_iter().take(16) {
        let end = start + len;
        let blob = Bytes::from_vec(d.get(start..end)?.to_vec());
        if Btf::parse(blob).is_ok() {
            return Some(FoundBtf { start, end, endian, btf_ids: btf_ids_after(d, end) });
        }
    }
    None
}

/// The `.BTF_ids` bytes after a BTF ending at `btf_end`: skip the alignment
/// padding (at most one 64 KiB page), then run until four zero words.
fn btf_ids_after(d: &[u8], btf_end: usize) -> Option<std::ops::Range<usize>> {
    let word = |o: usize| d.get(o..o + 4).map(|w| w != [0, 0, 0, 0]);
    let mut start = btf_end.checked_add(3)? & !3;
    let limit = start.saturating_add(64 << 10).min(d.len());
    while start < limit && word(start) == Some(false) {
        start += 4;
    }
    if start >= limit {
        return None;
    }
    let cap = start.saturating_add(1 << 20).min(d.len());
    let mut end = start;
    while end + 4 <= cap {
        let zero_run = (0..4).all(|i| word(end + i * 4) == Some(false));
        if zero_run {
            break;
        }
        end += 4;
    }
    // The last record may end in zero words (a set8 pair with no flags):
    // keep the start of the padding; the set8 scanner ignores zeros.
    let end = end.saturating_add(16).min(cap);
    (end > start).then_some(start..end)
}

/// Compressed streams inside a self-decompressing image, by offset: every
/// place a known magic occurs (at most `per_kind` per compression).
pub fn payload_candidates(d: &[u8], per_kind: usize) -> Vec<(usize, Compression)> {
    const MAGICS: &[(&[u8], Compression)] = &[
        (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], Compression::Xz),
        (&[0x1f, 0x8b, 0x08], Compression::Gzip),
        (&[0x02, 0x21, 0x4c, 0x18], Compression::Lz4Legacy),
        (&[0x04, 0x22, 0x4d, 0x18], Compression::Lz4Frame),
    ];
    let mut out = Vec::new();
    for (magic, c) in MAGICS {
        let Some(&first) = magic.first() else { continue };
        let mut n = 0;
        let mut off = 0;
        while n < per_kind {
            let Some(rel) = d.get(off..).and_then(|s| s.iter().position(|&b| b == first)) else { break };
            let at = off + rel;
            if d.get(at..at + magic.len()) == Some(magic) {
                out.push((at, *c));
                n += 1;
            }
            off = at + 1;
        }
    }
    out.sort_by_key(|&(o, _)| o);
    out
}

/// Decompress the first payload candidate that yields a kernel image of at
/// least 1 MiB: (offset, compression, bytes). `Ok(None)` when nothing does.
pub fn find_payload(d: &[u8], max: u64) -> Option<(usize, Compression, Vec<u8>)> {
    for (off, c) in payload_candidates(d, 8) {
        let Some(input) = d.get(off..) else { continue };
        // A payload may be followed by a size word or padding: take what
        // decoded before an error, as long as it is a whole kernel.
        let out = match decompress::decompress(c, input, max) {
            Ok(v) => v,
            Err(_) => match partial(c, input, max) {
                Some(v) => v,
                None => continue,
            },
        };
        if out.len() >= 1 << 20 && (out.starts_with(b"\x7fELF") || contains(&out, b"Linux version ")) {
            return Some((off, c, out));
        }
    }
    None
}

/// Decode as much as possible (the data before a trailing-garbage error).
fn partial(c: Compression, input: &[u8], max: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let r = decompress::reader(c, input).ok()?;
    let mut out = Vec::new();
    let mut limited = r.take(max);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match limited.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(buf.get(..n)?),
        }
    }
    (out.len() >= 1 << 20).then_some(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Read a flat image or a self-decompressing wrapper into `out`. `Ok(false)`
/// when `bytes` is neither (the caller reports an unknown input).
pub(super) fn read(
    bytes: &Bytes,
    origin: &str,
    path: &std::path::Path,
    dir: Option<&std::path::Path>,
    opts: &super::LoadOptions,
    out: &mut Vec<super::Piece>,
    depth: u32,
) -> crate::Result<bool> {
    let data = bytes.as_slice();
    if data.len() < 1 << 20 {
        return Ok(false);
    }
    let release = super::image::linux_banner_release(data);
    if let Some(f) = find_btf(data) {
        let blob = Bytes::from_vec(data.get(f.start..f.end).unwrap_or(&[]).to_vec());
        let btf = Btf::parse(blob).map_err(|e| e.in_file(format!("{origin} [BTF at {:#x}]", f.start)))?;
        let btf_ids = f.btf_ids.and_then(|r| data.get(r)).map(|s| Bytes::from_vec(s.to_vec()));
        out.push(super::Piece::Vmlinux { btf: Box::new(btf), btf_ids, release, origin: origin.to_string(), running: false });
        return Ok(true);
    }
    if let Some((off, c, inner)) = find_payload(data, opts.max_decompressed) {
        let o = format!("{origin} ({} payload at {off:#x})", c.name());
        super::read_bytes(Bytes::from_vec(inner), &o, path, dir, opts, out, depth + 1)?;
        return Ok(true);
    }
    if release.is_some() {
        return Err(no_btf_error(data, release.as_deref()).in_file(origin));
    }
    Ok(false)
}

/// Why a flat image gave no BTF, for the error message.
pub fn no_btf_error(d: &[u8], release: Option<&str>) -> ReadError {
    let which = release.map(|r| format!(" (Linux {r})")).unwrap_or_default();
    ReadError::at(0, format!("kernel image{which} of {} bytes holds no BTF: the kernel was built without CONFIG_DEBUG_INFO_BTF", d.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::builder::Builder;

    fn sample_btf() -> Vec<u8> {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let proto = b.func_proto(int, &[("a", int)]);
        b.func("bpf_example", proto, 1);
        b.build()
    }

    #[test]
    fn finds_btf_and_ids_in_a_flat_image() {
        let btf = sample_btf();
        let mut img = vec![0x11u8; 4096];
        img.extend_from_slice(&btf);
        while img.len() % 4 != 0 {
            img.push(0);
        }
        img.extend_from_slice(&[0u8; 8]); // alignment padding
        let ids_start = img.len();
        img.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        let ids_end = img.len();
        img.extend_from_slice(&[0u8; 64]);
        img.extend_from_slice(&[0x22u8; 256]);
        let f = find_btf(&img).expect("found");
        assert_eq!((f.start, f.end), (4096, 4096 + btf.len()));
        let ids = f.btf_ids.expect("ids");
        assert_eq!(ids.start, ids_start);
        assert!(ids.end >= ids_end && ids.end <= ids_end + 16, "{ids:?}");
    }

    #[test]
    fn no_btf_in_noise() {
        let mut img = vec![0u8; 1 << 16];
        for (i, b) in img.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        img[100] = 0x9f;
        img[101] = 0xeb;
        img[102] = 1;
        assert!(find_btf(&img).is_none());
    }

    #[test]
    fn payload_candidates_in_order() {
        let mut d = vec![0u8; 64];
        d[10..14].copy_from_slice(&[0x28, 0xb5, 0x2f, 0xfd]);
        d[30..33].copy_from_slice(&[0x1f, 0x8b, 0x08]);
        let c = payload_candidates(&d, 4);
        assert_eq!(c, vec![(10, Compression::Zstd), (30, Compression::Gzip)]);
    }
}
