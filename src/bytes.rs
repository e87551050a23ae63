//! Shared, immutable input bytes: a memory map of a file or an owned buffer
//! (e.g. decompressed data), cheaply cloneable and sliceable so that parsed
//! models can point into them without copying. Also the bounds-checked
//! endian-aware integer reads every reader uses.

use std::ops::Range;
use std::sync::Arc;

enum Storage {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
    /// Bytes compiled into the binary (the built-in catalog).
    Static(&'static [u8]),
}

/// A reference-counted view of a byte range.
#[derive(Clone)]
pub struct Bytes {
    storage: Arc<Storage>,
    range: Range<usize>,
}

impl Bytes {
    /// Own a buffer.
    pub fn from_vec(v: Vec<u8>) -> Self {
        let len = v.len();
        Bytes { storage: Arc::new(Storage::Owned(v)), range: 0..len }
    }

    /// Bytes compiled into the binary: no copy.
    pub fn from_static(b: &'static [u8]) -> Self {
        Bytes { storage: Arc::new(Storage::Static(b)), range: 0..b.len() }
    }

    /// Map a file read-only; falls back to reading it (sysfs files, pipes).
    pub fn from_path(path: &std::path::Path) -> std::io::Result<Self> {
        Bytes::from_path_with_head(path, &mut []).map(|(bytes, _)| bytes)
    }

    /// Map a file as [`Bytes::from_path`] does, and read its first bytes
    /// into `head` with a read call rather than through the map: the
    /// mapped pages stay untouched (neither faulted in nor resident) until
    /// the bytes are used, so telling a file's kind costs no page. Returns
    /// the bytes and how much of `head` was filled (less for a shorter
    /// file).
    pub fn from_path_with_head(path: &std::path::Path, head: &mut [u8]) -> std::io::Result<(Self, usize)> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // The length is the one just read: memmap2 would ask fstat again.
            let len = usize::try_from(meta.len()).map_err(|_| std::io::Error::from(std::io::ErrorKind::FileTooLarge))?;
            let read = read_head(&file, head.get_mut(..len.min(head.len())).unwrap_or(&mut []))?;
            // SAFETY: the map is read-only; inputs are not expected to change
            // while bpfabi runs (the same assumption every mmap-based reader makes).
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().len(len).map(&file) } {
                let bytes = Bytes { storage: Arc::new(Storage::Mapped(map)), range: 0..len };
                let n = read.unwrap_or_else(|| bytes.copy_head(head));
                return Ok((bytes, n));
            }
        }
        // Read from the start whatever `read_head` did (it reads at an
        // offset, leaving the file position alone).
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut v)?;
        let bytes = Bytes::from_vec(v);
        let n = bytes.copy_head(head);
        Ok((bytes, n))
    }

    /// Copy the first bytes into `head`; how many there were.
    fn copy_head(&self, head: &mut [u8]) -> usize {
        let n = head.len().min(self.len());
        head.get_mut(..n).unwrap_or(&mut []).copy_from_slice(self.as_slice().get(..n).unwrap_or(&[]));
        n
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        let all: &[u8] = match &*self.storage {
            Storage::Owned(v) => v,
            Storage::Mapped(m) => m,
            Storage::Static(b) => b,
        };
        all.get(self.range.clone()).unwrap_or(&[])
    }

    /// A sub-range (relative to this view); `None` when out of bounds.
    pub fn slice(&self, r: Range<usize>) -> Option<Bytes> {
        if r.start > r.end || r.end > self.range.len() {
            return None;
        }
        Some(Bytes { storage: self.storage.clone(), range: self.range.start + r.start..self.range.start + r.end })
    }

    /// Hand the pages of a memory-mapped file back to the kernel's page
    /// cache once a full pass over them is done: they leave this process's
    /// resident set, and a later read faults in only the pages it touches
    /// (from the page cache, not the disk). A kernel with 4,216 module BTFs
    /// scans every module once at load, for its kfuncs and for the module
    /// name index, then reads a few of them: without this every module's
    /// mapped bytes stay resident. No effect on owned or static bytes.
    pub fn release_pages(&self) {
        #[cfg(unix)]
        if let Storage::Mapped(m) = &*self.storage {
            // SAFETY: MADV_DONTNEED on a read-only file mapping only drops
            // page-table entries; the next access reads the same file
            // contents again (the mapping is never written, so no private
            // copy is lost). A refused advice changes nothing.
            let _ = unsafe { m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.range.len()
    }
    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }
}

/// Fill `head` from the start of `file` without moving its position
/// (`pread`), so that no page of a map of the same file is touched; how
/// many bytes were read. `None` where there is no positioned read: the
/// caller copies the head out of the bytes instead.
#[cfg(unix)]
fn read_head(file: &std::fs::File, head: &mut [u8]) -> std::io::Result<Option<usize>> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < head.len() {
        match file.read_at(head.get_mut(n..).unwrap_or(&mut []), n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(n))
}

#[cfg(not(unix))]
fn read_head(_: &std::fs::File, _: &mut [u8]) -> std::io::Result<Option<usize>> {
    Ok(None)
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}

/// Byte order of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

impl Endian {
    /// `little-endian` / `big-endian`, as people write it.
    pub fn describe(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }
    /// Read a u16 at `off`, if it fits.
    #[inline]
    pub fn u16(self, b: &[u8], off: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }
    /// Read a u32 at `off`, if it fits.
    #[inline]
    pub fn u32(self, b: &[u8], off: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }
    /// Read a u64 at `off`, if it fits.
    #[inline]
    pub fn u64(self, b: &[u8], off: usize) -> Option<u64> {
        let a: [u8; 8] = b.get(off..off.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Bytes;

    #[test]
    fn the_head_read_beside_the_map_is_the_files_first_bytes() {
        let dir = std::env::temp_dir().join(format!("bpfabi-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let long: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for (name, content) in [("long", &long[..]), ("short", &[0x9f][..]), ("empty", &[][..])] {
            let p = dir.join(name);
            std::fs::write(&p, content).unwrap();
            let mut head = [0u8; 4];
            let (bytes, n) = Bytes::from_path_with_head(&p, &mut head).unwrap();
            assert_eq!(bytes.as_slice(), content, "{name}");
            assert_eq!(n, content.len().min(4), "{name}");
            assert_eq!(&head[..n], &content[..n], "{name}");
        }
        // A directory is not a file: its read fails as from_path's does.
        assert!(Bytes::from_path_with_head(&dir, &mut [0u8; 2]).is_err());
        assert!(Bytes::from_path_with_head(&dir.join("missing"), &mut [0u8; 2]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
