//! BPF objects inside other files (libbpf skeletons embed the `.bpf.o` in
//! an executable or shared library): find ELF headers with EM_BPF and
//! bound each object by its section header table.

use crate::bytes::Endian;
use std::io::Read;

/// True when `d` starts with a 64-bit ELF header whose machine is EM_BPF.
pub fn is_bpf_elf(d: &[u8]) -> bool {
    header(d).is_some()
}

/// (is little-endian, e_shoff, e_shentsize, e_shnum) for a BPF ELF64 header.
fn header(d: &[u8]) -> Option<(bool, u64, u16, u16)> {
    if d.get(0..4)? != b"\x7fELF" || *d.get(4)? != 2 {
        return None;
    }
    let e = match d.get(5)? {
        1 => Endian::Little,
        2 => Endian::Big,
        _ => return None,
    };
    let le = e == Endian::Little;
    let u16_at = |o: usize| e.u16(d, o);
    let u64_at = |o: usize| e.u64(d, o);
    if u16_at(18)? != crate::elf::EM_BPF {
        return None;
    }
    Some((le, u64_at(0x28)?, u16_at(0x3a)?, u16_at(0x3c)?))
}

/// Every embedded BPF object: (offset, length), found by [`scan`] (the
/// one finder) over the whole buffer. The length runs to the end of the
/// section header table, which clang places last.
pub fn find(d: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // An object cannot be longer than the buffer holding it: no cap beyond.
    let r = scan(&mut &*d, d.len() as u64, &mut |off, obj| {
        if let (Ok(obj), Ok(off)) = (obj, usize::try_from(off)) {
            out.push((off, obj.len()));
        }
    });
    // Reading a slice cannot fail.
    debug_assert!(r.is_ok());
    out
}

/// Receives each object [`scan`] finds: (offset in the stream, its bytes
/// or why they could not be taken).
pub type OnObject<'f> = dyn FnMut(u64, std::result::Result<&[u8], String>) + 'f;

/// Bytes read ahead at a time by [`scan`].
pub const CHUNK: usize = 1 << 20;

/// Find every BPF ELF object in a stream: search the ELF magic (memchr's
/// SIMD search), size a candidate by its header (to the end of its section
/// header table, at most `max_object`), hand it over (`f(offset, bytes)`,
/// borrowed: a caller that keeps it copies it, 8-aligned for the ELF
/// parser whatever its offset) and go on past it. A stream that starts
/// with a BPF header but does not hold the whole object gives `f(0,
/// Err(why))`; a candidate elsewhere that does not fit is passed over.
/// Memory: one chunk ahead plus the current object, whatever the size of
/// the stream (a 250 MB executable out of a package is never held).
/// [`find`] (whole files: `object::locate`), package members
/// (`inputs::deb_objects`) and the census's plain files all find objects here.
pub fn scan(r: &mut dyn Read, max_object: u64, f: &mut OnObject) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut base = 0u64; // stream offset of buf[0]
    let mut pos = 0usize; // where the search goes on in buf
    let mut eof = false;
    let mut fill = |buf: &mut Vec<u8>, want: usize, eof: &mut bool| -> std::io::Result<()> {
        let mut tmp = [0u8; 64 * 1024];
        while buf.len() < want && !*eof {
            let n = match r.read(&mut tmp) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                *eof = true;
            }
            buf.extend_from_slice(tmp.get(..n).unwrap_or(&[]));
        }
        Ok(())
    };
    loop {
        fill(&mut buf, pos + CHUNK, &mut eof)?;
        let found = buf.get(pos..).and_then(|b| memchr::memmem::find(b, b"\x7fELF"));
        match found {
            Some(i) => {
                let at = pos + i;
                fill(&mut buf, at + 64, &mut eof)?;
                let len = buf.get(at..).and_then(object_len).filter(|&l| l <= max_object).and_then(|l| usize::try_from(l).ok());
                pos = at + 4;
                if let Some(end) = len.and_then(|l| at.checked_add(l)) {
                    fill(&mut buf, end, &mut eof)?;
                    if let Some(obj) = buf.get(at..end) {
                        f(base + at as u64, Ok(obj));
                        pos = end;
                    } else if base + at as u64 == 0 {
                        f(0, Err(format!("truncated BPF object: its header says {} bytes, the file has {}", end - at, buf.len())));
                    }
                } else if base + at as u64 == 0 && buf.get(..64).is_some_and(is_bpf_elf) {
                    f(0, Err(format!("BPF object over {max_object} bytes or with a bad section header table")));
                }
            }
            None if eof => return Ok(()),
            // Keep 3 bytes: a magic may straddle the chunk boundary.
            None => pos = buf.len().saturating_sub(3).max(pos),
        }
        if pos >= CHUNK {
            let n = pos.min(buf.len());
            buf.drain(..n);
            base += n as u64;
            pos -= n;
        }
    }
}

/// Length of the BPF ELF object starting at `d` (up to the end of its
/// section header table), when `d` starts with a BPF ELF header; `d` may
/// hold only the header (streaming readers ask before reading the rest).
pub fn object_len(d: &[u8]) -> Option<u64> {
    let (_, shoff, shentsize, shnum) = header(d)?;
    shoff.checked_add(shentsize as u64 * shnum as u64).filter(|&l| l >= 64)
}

/// Go executables carry this header (runtime/debug `buildinfo`).
const GO_BUILDINFO: &[u8] = b"\xff Go buildinf:";

/// Does `container` (a file objects were found embedded in) look like a
/// Go executable (its build-info header)?
pub fn is_go_executable(container: &[u8]) -> bool {
    memchr::memmem::find(container, GO_BUILDINFO).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake BPF ELF header claiming `len` bytes (section headers at the end).
    fn fake(len: usize) -> Vec<u8> {
        let mut h = vec![0u8; len];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18..20].copy_from_slice(&247u16.to_le_bytes());
        let shoff = (len - 64 * 2) as u64;
        h[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        h[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        h[0x3c..0x3e].copy_from_slice(&2u16.to_le_bytes());
        for (i, b) in h.iter_mut().enumerate().skip(64) {
            *b = (i * 7 % 251) as u8;
        }
        h
    }

    #[test]
    fn scan_finds_objects_across_chunks() {
        let mut d = vec![0x55u8; 3 * CHUNK + 12345];
        // Non-BPF ELF magics, one straddling a chunk boundary.
        d[100..104].copy_from_slice(b"\x7fELF");
        d[CHUNK - 2..CHUNK + 2].copy_from_slice(b"\x7fELF");
        let a = fake(200_000);
        let b = fake(4096);
        let (oa, ob) = (CHUNK - 10, 2 * CHUNK + 333); // a crosses a chunk boundary, b is odd
        d[oa..oa + a.len()].copy_from_slice(&a);
        d[ob..ob + b.len()].copy_from_slice(&b);
        let mut got = Vec::new();
        scan(&mut d.as_slice(), 64 << 20, &mut |off, obj| got.push((off, obj.unwrap().to_vec()))).unwrap();
        assert_eq!(got, vec![(oa as u64, a.clone()), (ob as u64, b.clone())]);
        // The whole-buffer finder sees the same objects.
        assert_eq!(find(&d), vec![(oa, a.len()), (ob, b.len())]);
        // Too large for the cap: skipped.
        let mut n = 0;
        scan(&mut d.as_slice(), 100_000, &mut |_, _| n += 1).unwrap();
        assert_eq!(n, 1);
        // Truncated object at the end of the stream: skipped, no error.
        let cut = &d[..ob + 100];
        let mut n = 0;
        scan(&mut &cut[..], 64 << 20, &mut |_, _| n += 1).unwrap();
        assert_eq!(n, 1);
        // A stream that starts with a truncated object: an error.
        let mut errs = Vec::new();
        scan(&mut &a[..1000], 64 << 20, &mut |off, o| errs.push((off, o.is_err()))).unwrap();
        assert_eq!(errs, vec![(0, true)]);
    }
}
