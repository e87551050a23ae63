//! Debian kernel packages (`linux-image-*`, `linux-binary-*`,
//! `linux-modules-*`): an `ar` archive whose `data.tar.*` holds
//! `boot/vmlinuz-*` and `lib/modules/*/kernel/**/*.ko*`. Read in memory,
//! streaming the tar through its decompressor; nothing is written to disk.

use super::{decompress, decompress::Compression, read_bytes, LoadOptions, Piece};
use crate::bytes::Bytes;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// One `ar` member: name and data range.
type ArMember = (String, std::ops::Range<usize>);

/// Members of an `ar` archive; errors are (offset, what was expected).
fn ar_members(d: &[u8]) -> std::result::Result<Vec<ArMember>, (usize, String)> {
    let mut out = Vec::new();
    let mut off = 8;
    while off < d.len() {
        let h = d.get(off..off + 60).ok_or((off, "truncated ar member header".to_string()))?;
        if h.get(58..60) != Some(b"`\n".as_slice()) {
            return Err((off + 58, "expected ar member header terminator \"`\\n\"".into()));
        }
        let name = String::from_utf8_lossy(h.get(..16).unwrap_or(&[])).trim_end().trim_end_matches('/').to_string();
        let size: usize = std::str::from_utf8(h.get(48..58).unwrap_or(&[]))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or((off + 48, "expected a decimal ar member size".to_string()))?;
        let start = off + 60;
        let end = start.checked_add(size).filter(|&e| e <= d.len()).ok_or((off + 48, format!("ar member {name} runs past the end of the file")))?;
        out.push((name, start..end));
        off = end + (size & 1);
    }
    Ok(out)
}

fn is_module_path(p: &str) -> bool {
    p.contains("/modules/") && [".ko", ".ko.xz", ".ko.zst", ".ko.gz"].iter().any(|s| p.ends_with(s))
}

/// The `data.tar` stream of a Debian package, decompressed on the fly, and
/// the member's name (for messages). Used by `vmtest` to take the kernel
/// image and the modules it boots with out of a package.
pub fn data_tar<'a>(d: &'a [u8], origin: &str) -> Result<(String, Box<dyn Read + 'a>)> {
    let members = ar_members(d).map_err(|(o, w)| Error { file: origin.into(), offset: Some(o as u64), what: w })?;
    let (name, range) = members
        .into_iter()
        .find(|(n, _)| n.starts_with("data.tar"))
        .ok_or_else(|| Error::new(origin, "not a Debian package: no data.tar member"))?;
    let data = d.get(range).unwrap_or(&[]);
    let reader: Box<dyn Read> = match Compression::sniff(data) {
        Some(c) => decompress::reader(c, data).map_err(|e| e.in_file(format!("{origin}:{name}")))?,
        None => Box::new(data),
    };
    Ok((name, reader))
}

pub(super) fn read_deb(bytes: &Bytes, origin: &str, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let d = bytes.as_slice();
    let members = ar_members(d).map_err(|(o, w)| Error { file: origin.into(), offset: Some(o as u64), what: w })?;
    let (name, range) = members
        .iter()
        .find(|(n, _)| n.starts_with("data.tar"))
        .ok_or_else(|| Error::new(origin, "not a Debian package: no data.tar member"))?;
    let data = d.get(range.clone()).unwrap_or(&[]);
    let reader: Box<dyn Read> = match Compression::sniff(data) {
        Some(c) => decompress::reader(c, data).map_err(|e| e.in_file(format!("{origin}:{name}")))?,
        None => Box::new(data),
    };
    // The whole unpacked tree is capped, not just each file.
    let capped = reader.take(opts.max_decompressed.saturating_mul(4));
    let mut archive = tar::Archive::new(capped);
    let tar_err = |e: std::io::Error| Error::new(format!("{origin}:{name}"), format!("bad tar stream: {e}"));
    let mut found_kernel = false;
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(tar_err)?.to_string_lossy().into_owned();
        let is_kernel = path.contains("boot/vmlinuz-") || path.contains("boot/vmlinux-");
        let is_module = opts.modules && is_module_path(&path);
        if !is_kernel && !is_module {
            continue;
        }
        let size = entry.header().size().map_err(tar_err)?;
        if size > opts.max_decompressed {
            return Err(Error::new(format!("{origin}:{path}"), format!("{size} bytes is over the size limit")));
        }
        let mut buf = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut buf).map_err(tar_err)?;
        let inner_origin = format!("{origin}:{path}");
        let before = out.len();
        let res = read_bytes(Bytes::from_vec(buf), &inner_origin, Path::new(&path), None, opts, out, 1);
        match res {
            Ok(()) => found_kernel |= is_kernel,
            // A module built without BTF is not an error for the package as a whole.
            Err(e) if is_module && e.what.contains("no .BTF section") => continue,
            Err(e) => return Err(e),
        }
        // Keep only the small BTF sections of modules, not whole decompressed files.
        for p in out.iter_mut().skip(before) {
            if let Piece::Module { btf, btf_ids, .. } = p {
                *btf = Bytes::from_vec(btf.as_slice().to_vec());
                if let Some(ids) = btf_ids {
                    *ids = Bytes::from_vec(ids.as_slice().to_vec());
                }
            }
        }
    }
    let _ = found_kernel;
    Ok(())
}
