//! Recognise and undo the compressions kernel artefacts use (gzip, xz with
//! its BCJ filters, zstd, lz4 legacy/frame, lzma, bzip2), with a hard cap on
//! the output size so a decompression bomb ends in an error, not an OOM.

use crate::error::ReadError;
use std::io::Read;

/// Default cap on one decompressed artefact (a vmlinux ELF is ~60 MB).
pub const DEFAULT_MAX_OUTPUT: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A compression kernel artefacts use.
pub enum Compression {
    /// gzip (`.gz`, bzImage payloads, arm64 `Image.gz`).
    Gzip,
    /// xz, with BCJ filters.
    Xz,
    /// zstd.
    Zstd,
    /// The kernel's legacy lz4 format.
    Lz4Legacy,
    /// lz4 frame format.
    Lz4Frame,
    /// lzma "alone".
    Lzma,
    /// bzip2.
    Bzip2,
}

impl Compression {
    /// Name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Lz4Legacy => "lz4 (legacy)",
            Compression::Lz4Frame => "lz4",
            Compression::Lzma => "lzma",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// Identify a compressed stream by its magic bytes.
    pub fn sniff(d: &[u8]) -> Option<Compression> {
        Some(match d {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [0x02, 0x21, 0x4c, 0x18, ..] => Compression::Lz4Legacy,
            [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Lz4Frame,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
            // lzma "alone": properties byte 0x5d and a power-of-two-ish dict size.
            [0x5d, 0, 0, _, _, ..] => Compression::Lzma,
            _ => return None,
        })
    }
}

/// A streaming decoder over `input` for `c`.
#[cfg(not(feature = "compression"))]
pub fn reader<'a, R: Read + 'a>(c: Compression, _input: R) -> Result<Box<dyn Read + 'a>, ReadError> {
    Err(ReadError::at(0, format!("{} data: this build of bpfabi has no decompressors (cargo feature `compression`)", c.name()))
        .with_kind(crate::error::ErrorKind::Unsupported))
}

/// A streaming decoder over `input` for `c`.
#[cfg(feature = "compression")]
pub fn reader<'a, R: Read + 'a>(c: Compression, input: R) -> Result<Box<dyn Read + 'a>, ReadError> {
    Ok(match c {
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(input)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new(input, false)),
        Compression::Zstd => Box::new(ruzstd::decoding::StreamingDecoder::new(input).map_err(|e| ReadError::at(0, format!("bad zstd frame: {e}")))?),
        Compression::Lz4Frame => Box::new(lz4_flex::frame::FrameDecoder::new(input)),
        Compression::Lz4Legacy => Box::new(Lz4Legacy { inner: input, buf: Vec::new(), pos: 0, started: false }),
        Compression::Lzma => {
            Box::new(lzma_rust2::LzmaReader::new_mem_limit(input, 1 << 20, None).map_err(|e| ReadError::at(0, format!("bad lzma header: {e}")))?)
        }
        Compression::Bzip2 => Box::new(bzip2::read::BzDecoder::new(input)),
    })
}

/// Decompress the first stream in `data` (kernel payloads carry a size word
/// after it, which single-stream decoders leave alone), refusing to produce
/// more than `max` bytes.
pub fn decompress(c: Compression, data: &[u8], max: u64) -> Result<Vec<u8>, ReadError> {
    let consumed = std::cell::Cell::new(0usize);
    let r = reader(c, Counting { inner: data, n: &consumed })?;
    read_capped(r, max).map_err(|e| match e {
        CapError::TooBig => {
            ReadError::at(0, format!("{} data decompresses to more than {max} bytes (limit)", c.name())).with_kind(crate::error::ErrorKind::TooLarge)
        }
        // The decoder had read up to `consumed` input bytes when it failed:
        // the bad data is at most one buffer before that offset.
        CapError::Io(e, partial) => {
            ReadError::at(consumed.get(), format!("{} data is corrupt (input read up to this offset, {partial} bytes decoded): {e}", c.name()))
        }
    })
}

/// A reader that counts the bytes taken from its input.
struct Counting<'a, R> {
    inner: R,
    n: &'a std::cell::Cell<usize>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get().saturating_add(k));
        Ok(k)
    }
}

/// Why a capped read stopped.
pub enum CapError {
    /// The output would exceed the cap.
    TooBig,
    /// The stream is corrupt after this many output bytes.
    Io(std::io::Error, usize),
}

/// Read to the end, failing once more than `max` bytes came out.
pub fn read_capped(r: impl Read, max: u64) -> Result<Vec<u8>, CapError> {
    let mut out = Vec::new();
    let mut limited = r.take(max.saturating_add(1));
    match limited.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) => return Err(CapError::Io(e, out.len())),
    }
    if out.len() as u64 > max {
        return Err(CapError::TooBig);
    }
    Ok(out)
}

/// The kernel's "legacy" lz4 format: magic, then blocks of
/// {u32 compressed size, data} each decoding to at most 8 MiB.
#[cfg(feature = "compression")]
struct Lz4Legacy<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    started: bool,
}

#[cfg(feature = "compression")]
const LZ4_LEGACY_BLOCK: usize = 8 << 20;

#[cfg(feature = "compression")]
impl<R: Read> Read for Lz4Legacy<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if !self.started {
            let mut magic = [0u8; 4];
            self.inner.read_exact(&mut magic)?;
            self.started = true;
        }
        while self.pos >= self.buf.len() {
            let mut len = [0u8; 4];
            match self.inner.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let n = u32::from_le_bytes(len) as usize;
            // Another magic (concatenated streams) or the trailing size word ends the stream.
            if n == 0x184c2102 || n > lz4_flex::block::get_maximum_output_size(LZ4_LEGACY_BLOCK) {
                return Ok(0);
            }
            let mut comp = Vec::with_capacity(n);
            (&mut self.inner).take(n as u64).read_to_end(&mut comp)?;
            if comp.len() < n {
                // The kernel build appends the uncompressed size after the last
                // block; read as a block length it points past the end: stop.
                return Ok(0);
            }
            self.buf = lz4_flex::block::decompress(&comp, LZ4_LEGACY_BLOCK).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            self.pos = 0;
        }
        let src = self.buf.get(self.pos..).unwrap_or(&[]);
        let n = out.len().min(src.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

#[cfg(all(test, feature = "compression"))]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn corrupt_streams_name_the_input_offset() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i.wrapping_mul(2654435761)).to_le_bytes()).collect();
        enc.write_all(&data).unwrap();
        let mut gz = enc.finish().unwrap();
        assert_eq!(decompress(Compression::Gzip, &gz, 1 << 30).unwrap(), data);
        let mid = gz.len() / 2;
        for b in &mut gz[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let e = decompress(Compression::Gzip, &gz, 1 << 30).unwrap_err();
        let off = e.offset.unwrap() as usize;
        assert!(off > 0 && off <= gz.len(), "{e}");
        assert!(e.what.contains("gzip data is corrupt"), "{e}");
        let e = decompress(Compression::Gzip, &gz[..mid], 1 << 30).unwrap_err();
        assert!(e.offset.unwrap() as usize <= mid, "{e}");
    }
}
