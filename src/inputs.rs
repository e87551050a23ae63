//! BPF objects from what a user names: object files, files embedding objects
//! (executables, shared libraries, `ar` archives), Debian packages (streamed
//! member by member through [`crate::kernel::deb::for_each_file`], nothing
//! unpacked to disk) and directories (walked by [`crate::fswalk`]). One bad
//! input never stops the others: its error is kept in [`Found::errors`] and
//! the caller decides the exit code. `check` and `inspect` read through
//! [`find_objects`]; the census reads packages through [`deb_objects`], so
//! there is one package walk, and finds objects in a stream with
//! [`crate::object::embedded::scan`], the finder `object::locate` uses too.

use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Result};
#[cfg(feature = "deb")]
use crate::object::embedded;
use crate::object::BpfObject;
#[cfg(feature = "deb")]
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
/// could embed one is scanned with [`crate::object::embedded::scan`] (the one finder); `f(path, offset,
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
        embedded::scan(&mut (&head[..]).chain(r), MAX_OBJECT, &mut |off, obj| f(path, off, obj.map(<[u8]>::to_vec)))
            .map_err(|e| Error::io(format!("{origin}:{path}"), e))
    })?;
    Ok(unpacked)
}

#[cfg(test)]
mod tests {
    use super::*;

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
