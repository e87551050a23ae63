//! BPF objects from what a user names: object files, files embedding objects
//! (executables, shared libraries, `ar` archives), Debian packages (streamed
//! member by member through [`crate::kernel::deb::for_each_file`], nothing
//! unpacked to disk) and directories (walked by [`crate::fswalk`]). One bad
//! input never stops the others: its error is kept in [`Found::errors`] and
//! the caller decides the exit code. `check` and `inspect` read through
//! [`find_objects`]; the census reads packages and streams through
//! [`deb_objects`] and [`scan_stream`], so there is one package walk.

use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Result};
use crate::object::{embedded, BpfObject};
use std::io::Read;
use std::path::{Path, PathBuf};

/// BPF objects found under some paths.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Found {
    /// Every object, in path order (embedded ones by offset, package
    /// members in archive order).
    pub objects: Vec<BpfObject>,
    /// Files that hold no BPF object (executables without skeletons, text).
    pub skipped: Vec<String>,
    /// Inputs that could not be read or hold a malformed BPF object, one
    /// error each; the others were read.
    pub errors: Vec<Error>,
}

/// Largest embedded object taken (the largest real ones are a few MiB).
pub const MAX_OBJECT: u64 = 64 << 20;
/// Cap on the decompressed bytes of one package.
pub const MAX_PACKAGE: u64 = 16 << 30;

/// Read every BPF object under `paths`: files, directories (walked) and
/// Debian packages. A file without BPF is skipped (listed in
/// [`Found::skipped`]) when it was found by walking a directory or
/// `skip_non_bpf` is set; an unreadable input or a file that is BPF but
/// malformed is an error in [`Found::errors`], and the rest is read.
pub fn find_objects(paths: &[PathBuf], skip_non_bpf: bool) -> Found {
    let mut found = Found::default();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => found.errors.push(Error::io(p.display().to_string(), e)),
            Ok(m) if m.is_dir() => {
                let mut unreadable = Vec::new();
                let Ok(()) = crate::fswalk::walk_files::<std::convert::Infallible>(
                    p,
                    &mut |f| {
                        read_into(&f, true, &mut found);
                        Ok(())
                    },
                    &mut |d, e| {
                        unreadable.push(Error::io(d.display().to_string(), e));
                        Ok(())
                    },
                );
                found.errors.extend(unreadable);
            }
            Ok(_) => read_into(p, skip_non_bpf, &mut found),
        }
    }
    found
}

fn read_into(p: &Path, skip_non_bpf: bool, found: &mut Found) {
    let name = p.display().to_string();
    let bytes = match Bytes::from_path(p) {
        Ok(b) => b,
        Err(e) => return found.errors.push(Error::io(name, e)),
    };
    let r = if is_deb(bytes.as_slice()) { package_objects(&bytes, &name) } else { file_objects(&bytes, &name) };
    match r {
        Ok(objs) => found.objects.extend(objs),
        Err(e) if skip_non_bpf && e.kind == ErrorKind::WrongInput => found.skipped.push(name),
        Err(e) => found.errors.push(e),
    }
}

/// The objects of one file that is not a package: a `.bpf.o`, or a file
/// embedding objects (each named `FILE@0xOFFSET`).
fn file_objects(bytes: &Bytes, name: &str) -> Result<Vec<BpfObject>> {
    Ok(crate::object::read_bytes(bytes, name)?.into_iter().map(|(_, o)| o).collect())
}

/// The objects of a Debian package, each named `PACKAGE.deb:path[@0xOFFSET]`.
/// The first malformed object is the package's error (it names the member).
#[cfg(feature = "deb")]
fn package_objects(bytes: &Bytes, name: &str) -> Result<Vec<BpfObject>> {
    let mut objs = Vec::new();
    let mut bad: Option<Error> = None;
    deb_objects(bytes.as_slice(), name, MAX_PACKAGE, &mut |path, off, obj| {
        let member = member_name(name, path, off);
        let parsed = obj.map_err(|what| Error::new(&member, what)).and_then(|b| crate::object::parse(&Bytes::from_vec(b), &member));
        match parsed {
            Ok(o) => objs.push(o),
            Err(e) => {
                bad.get_or_insert(e);
            }
        }
    })?;
    if let Some(e) = bad {
        return Err(e);
    }
    if objs.is_empty() {
        return Err(Error::of(ErrorKind::WrongInput, name, "a Debian package without BPF objects"));
    }
    Ok(objs)
}

#[cfg(not(feature = "deb"))]
fn package_objects(_: &Bytes, name: &str) -> Result<Vec<BpfObject>> {
    Err(Error::of(ErrorKind::Unsupported, name, "this bpfabi was built without the `deb` feature"))
}

/// `PACKAGE.deb:path`, with `@0xOFFSET` for an object embedded at an offset.
pub fn member_name(package: &str, path: &str, offset: u64) -> String {
    let mut s = format!("{package}:{path}");
    if offset > 0 {
        s.push_str(&format!("@{offset:#x}"));
    }
    s
}

/// Is this a Debian package (an `ar` archive opening with `debian-binary`)?
pub fn is_deb(d: &[u8]) -> bool {
    d.starts_with(b"!<arch>\ndebian-binary")
}

/// Files that may embed BPF objects: ELF files (executables, shared
/// libraries, Go binaries) and `ar` archives (static libraries).
pub fn could_embed(d: &[u8]) -> bool {
    d.starts_with(b"\x7fELF") || d.starts_with(b"!<arch>\n")
}

/// Receives each object found in a package: (path in the package, offset
/// in that file, the object's bytes or why it could not be taken).
pub type ObjectSink<'f> = dyn FnMut(&str, u64, std::result::Result<Vec<u8>, String>) + 'f;

/// Every BPF object in a Debian package: each file of its `data.tar` that
/// could embed one is scanned with [`scan_stream`]; `f(path, offset,
/// object bytes or why not)` gets each (path without `./`). At most
/// `max_total` bytes are decompressed. Returns the bytes unpacked.
#[cfg(feature = "deb")]
pub fn deb_objects(d: &[u8], origin: &str, max_total: u64, f: &mut ObjectSink) -> Result<u64> {
    let mut unpacked = 0u64;
    crate::kernel::deb::for_each_file(d, origin, max_total, &mut |path, size, r| {
        unpacked += size;
        if size < 64 {
            return Ok(());
        }
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() || !could_embed(&head) {
            return Ok(()); // the tar reader skips the rest
        }
        scan_stream(&mut (&head[..]).chain(r), MAX_OBJECT, &mut |off, obj| f(path, off, obj)).map_err(|e| Error::io(format!("{origin}:{path}"), e))
    })?;
    Ok(unpacked)
}

/// Bytes read ahead at a time.
const CHUNK: usize = 1 << 20;

/// Find every BPF ELF object in a stream: search the ELF magic (memchr's
/// SIMD search), size a candidate by its header (to the end of its section
/// header table, at most `max_object`), hand it over (`f(offset, bytes)`,
/// copied: 8-aligned for the ELF parser whatever its offset) and go on past
/// it. A stream that starts with a BPF header but does not hold the whole
/// object gives `f(0, Err(why))`. Memory: one chunk ahead plus the current object, whatever the size
/// of the stream (a 250 MB executable out of a package is never held).
pub fn scan_stream(r: &mut dyn Read, max_object: u64, f: &mut dyn FnMut(u64, std::result::Result<Vec<u8>, String>)) -> std::io::Result<()> {
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
                let len = buf.get(at..).and_then(embedded::object_len).filter(|&l| l <= max_object);
                pos = at + 4;
                if let Some(len) = len {
                    let end = at + len as usize;
                    fill(&mut buf, end, &mut eof)?;
                    if let Some(obj) = buf.get(at..end) {
                        f(base + at as u64, Ok(obj.to_vec()));
                        pos = end;
                    } else if base + at as u64 == 0 {
                        f(0, Err(format!("truncated BPF object: its header says {len} bytes, the file has {}", buf.len())));
                    }
                } else if base + at as u64 == 0 && buf.get(..64).is_some_and(embedded::is_bpf_elf) {
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
    fn stream_scan_equals_whole_file_scan_across_chunks() {
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
        scan_stream(&mut d.as_slice(), MAX_OBJECT, &mut |off, obj| got.push((off, obj.unwrap()))).unwrap();
        let want: Vec<(u64, Vec<u8>)> = embedded::find(&d).into_iter().map(|(o, l)| (o as u64, d[o..o + l].to_vec())).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got, want);
        assert_eq!((got[0].0, got[1].0), (oa as u64, ob as u64));
        // Too large for the cap: skipped.
        let mut n = 0;
        scan_stream(&mut d.as_slice(), 100_000, &mut |_, _| n += 1).unwrap();
        assert_eq!(n, 1);
        // Truncated object at the end of the stream: skipped, no error.
        let cut = &d[..ob + 100];
        let mut n = 0;
        scan_stream(&mut &cut[..], MAX_OBJECT, &mut |_, _| n += 1).unwrap();
        assert_eq!(n, 1);
        // A stream that starts with a truncated object: an error.
        let mut errs = Vec::new();
        scan_stream(&mut &a[..1000], MAX_OBJECT, &mut |off, o| errs.push((off, o.is_err()))).unwrap();
        assert_eq!(errs, vec![(0, true)]);
    }

    #[test]
    fn a_missing_path_is_an_error_and_the_others_are_read() {
        let tmp = std::env::temp_dir().join(format!("bpfabi-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join("text"), "not BPF").unwrap();
        let f = find_objects(&[PathBuf::from("/nonexistent-bpfabi"), tmp.clone()], true);
        assert_eq!(f.errors.len(), 1);
        assert_eq!(f.errors[0].file, "/nonexistent-bpfabi");
        assert_eq!(f.skipped.len(), 1);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
