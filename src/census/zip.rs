//! Zip archives (Python wheels) read in memory, member by member: the
//! central directory is parsed once with every record bounds-checked, each
//! member is handed to the caller as a stream (stored, or deflate through
//! `flate2`), capped at its declared size and at a total for the archive.
//! Only what wheels use is read: no zip64, no encryption, no multi-disk
//! archives; those are refused with the offset of the record that says so.
//! Format: PKWARE APPNOTE.TXT 6.3.10, sections 4.3.7 (local file header),
//! 4.3.12 (central directory header) and 4.3.16 (end of central directory).

use crate::{Error, Result};
use std::io::Read;

const EOCD_SIG: u32 = 0x0605_4b50;
const CDH_SIG: u32 = 0x0201_4b50;
const LFH_SIG: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CDH_LEN: usize = 46;
const LFH_LEN: usize = 30;

/// Does `d` start like a zip archive (a local file header, or the end
/// record of an empty archive)?
pub fn is_zip(d: &[u8]) -> bool {
    d.starts_with(b"PK\x03\x04") || d.starts_with(b"PK\x05\x06")
}

fn u16_at(d: &[u8], o: usize) -> Option<u16> {
    d.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], o: usize) -> Option<u32> {
    d.get(o..o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One member as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive (`pkg/bpf/prog.bpf.o`).
    pub name: String,
    /// Compression method (0 stored, 8 deflate).
    pub method: u16,
    /// Compressed and uncompressed sizes.
    pub compressed: u64,
    /// Size once decompressed.
    pub size: u64,
    /// Offset of the member's local file header.
    pub header: u64,
    /// Where its central directory record is (for messages).
    pub record: u64,
    /// General purpose flags (bit 0: encrypted).
    pub flags: u16,
}

/// The end of central directory record: searched backwards over the
/// trailing comment (at most 65,535 bytes).
fn eocd(d: &[u8]) -> Option<usize> {
    let last = d.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(0xffff);
    (first..=last).rev().find(|&o| u32_at(d, o) == Some(EOCD_SIG) && u16_at(d, o + 20).map(usize::from) == Some(d.len() - o - EOCD_LEN))
}

/// Every member of the archive `d`, from its central directory.
pub fn members(d: &[u8], origin: &str) -> Result<Vec<Member>> {
    let e = eocd(d).ok_or_else(|| Error::new(origin, "not a zip archive: no end of central directory record"))?;
    let bad = |o: usize, what: &str| Error::new(origin, what.to_string()).at(o as u64);
    let (disk, cd_disk) = (u16_at(d, e + 4).unwrap_or(1), u16_at(d, e + 6).unwrap_or(1));
    if disk != 0 || cd_disk != 0 {
        return Err(bad(e, "multi-disk zip archives are not supported"));
    }
    let count = u16_at(d, e + 10).unwrap_or(0);
    let cd_size = u32_at(d, e + 12).unwrap_or(0);
    let cd_off = u32_at(d, e + 16).unwrap_or(0);
    if count == 0xffff || cd_size == u32::MAX || cd_off == u32::MAX {
        return Err(bad(e, "zip64 archives are not supported"));
    }
    let cd_end = (cd_off as usize).checked_add(cd_size as usize).filter(|&x| x <= e);
    if cd_end.is_none() {
        return Err(bad(e, &format!("central directory at {cd_off:#x} ({cd_size} bytes) runs past the end record")));
    }
    // Each record is at least 46 bytes: the count cannot ask for more
    // records than the directory holds (bounds the allocation).
    let mut out = Vec::with_capacity((count as usize).min(cd_size as usize / CDH_LEN));
    let mut o = cd_off as usize;
    for _ in 0..count {
        if u32_at(d, o) != Some(CDH_SIG) {
            return Err(bad(o, "expected a central directory file header (PK\\1\\2)"));
        }
        let field = |at: usize| u16_at(d, o + at).unwrap_or(0);
        let (flags, method) = (field(8), field(10));
        let compressed = u32_at(d, o + 20).unwrap_or(0);
        let size = u32_at(d, o + 24).unwrap_or(0);
        let (nlen, xlen, clen) = (field(28) as usize, field(30) as usize, field(32) as usize);
        let header = u32_at(d, o + 42).unwrap_or(0);
        let name = d.get(o + CDH_LEN..o + CDH_LEN + nlen).ok_or_else(|| bad(o, "member name runs past the end of the archive"))?;
        if compressed == u32::MAX || size == u32::MAX || header == u32::MAX {
            return Err(bad(o, "zip64 members are not supported"));
        }
        out.push(Member {
            name: String::from_utf8_lossy(name).into_owned(),
            method,
            compressed: compressed.into(),
            size: size.into(),
            header: header.into(),
            record: o as u64,
            flags,
        });
        o += CDH_LEN + nlen + xlen + clen;
    }
    Ok(out)
}

/// The bytes of `m` as stored (compressed), after its local header.
fn stored<'a>(d: &'a [u8], m: &Member, origin: &str) -> Result<&'a [u8]> {
    let h = m.header as usize;
    let bad = |o: usize, what: String| Error::new(origin, what).at(o as u64);
    if u32_at(d, h) != Some(LFH_SIG) {
        return Err(bad(h, format!("expected the local file header of {} (PK\\3\\4)", m.name)));
    }
    let nlen = u16_at(d, h + 26).unwrap_or(0) as usize;
    let xlen = u16_at(d, h + 28).unwrap_or(0) as usize;
    let start = h + LFH_LEN + nlen + xlen;
    start
        .checked_add(m.compressed as usize)
        .and_then(|end| d.get(start..end))
        .ok_or_else(|| bad(h, format!("{}: {} compressed bytes run past the end of the archive", m.name, m.compressed)))
}

/// Call `f(path, size, reader)` for every regular member of the zip `d`, in
/// central directory order; the readers yield at most the declared size, and
/// at most `max_total` bytes are decompressed in all.
pub fn for_each_file(d: &[u8], origin: &str, max_total: u64, f: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>) -> Result<()> {
    let mut total = 0u64;
    for m in members(d, origin)? {
        if m.name.ends_with('/') {
            continue;
        }
        if m.flags & 1 != 0 {
            return Err(Error::new(origin, format!("{}: encrypted zip members are not supported", m.name)).at(m.record));
        }
        total = total.saturating_add(m.size);
        if total > max_total {
            return Err(Error::of(crate::ErrorKind::TooLarge, origin, format!("more than {max_total} bytes once decompressed")).at(m.record));
        }
        let raw = stored(d, &m, origin)?;
        match m.method {
            0 => f(&m.name, m.size, &mut raw.take(m.size))?,
            #[cfg(feature = "compression")]
            8 => f(&m.name, m.size, &mut flate2::read::DeflateDecoder::new(raw).take(m.size))?,
            other => {
                return Err(Error::new(origin, format!("{}: compression method {other} is not supported (stored and deflate are)", m.name)).at(m.record));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored-only zip written by hand, as the format describes.
    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in files {
            let off = out.len() as u32;
            out.extend_from_slice(&LFH_SIG.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            cd.extend_from_slice(&CDH_SIG.to_le_bytes());
            cd.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 12]);
            cd.extend_from_slice(&off.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(&EOCD_SIG.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn read_all(d: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
        let mut got = Vec::new();
        for_each_file(d, "t.whl", 1 << 20, &mut |p, _, r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map_err(|e| Error::io(p, e))?;
            got.push((p.to_string(), v));
            Ok(())
        })?;
        Ok(got)
    }

    #[test]
    fn stored_members_read_back() {
        let z = zip(&[("a/b.o", b"\x7fELF..."), ("dir/", b""), ("x.dist-info/METADATA", b"Name: x\n")]);
        assert!(is_zip(&z));
        let got = read_all(&z).unwrap();
        assert_eq!(got, vec![("a/b.o".to_string(), b"\x7fELF...".to_vec()), ("x.dist-info/METADATA".to_string(), b"Name: x\n".to_vec())]);
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_or_a_read_never_a_panic() {
        let z = zip(&[("a.o", b"0123456789"), ("m/METADATA", b"Name: p\nVersion: 1\n")]);
        for cut in 0..z.len() {
            let r = read_all(&z[..cut]);
            assert!(r.is_err(), "truncated at {cut} still read");
        }
        for i in 0..z.len() {
            for bit in [0x01u8, 0x80, 0xff] {
                let mut m = z.clone();
                m[i] ^= bit;
                let _ = read_all(&m);
            }
        }
    }

    #[test]
    fn errors_name_the_record() {
        let mut z = zip(&[("a.o", b"0123")]);
        let cd = z.len() - EOCD_LEN - (CDH_LEN + 3);
        z[cd] = b'X';
        let e = read_all(&z).unwrap_err();
        assert_eq!(e.offset, Some(cd as u64));
        assert!(e.to_string().contains("central directory file header"), "{e}");
    }
}
