//! Debian kernel packages (`linux-image-*`, `linux-binary-*`,
//! `linux-modules-*`): an `ar` archive whose `data.tar.*` holds
//! `boot/vmlinuz-*`, `boot/config-*` and `lib/modules/*/kernel/**/*.ko*`.
//! Read in memory, streaming the tar through its decompressor while worker
//! threads decompress the modules (`modules`); nothing is written to disk.
//! A package with no kernel in it is named (package, version, what it
//! depends on) in the error.

use super::modules::{self, Job};
use super::{decompress, decompress::Compression, LoadOptions, Piece};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Result};
use std::io::Read;

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
    p.contains("/modules/") && modules::is_module_file(p)
}

/// A decompressing reader over an ar member.
fn member_reader<'a>(origin: &str, name: &str, data: &'a [u8]) -> Result<Box<dyn Read + 'a>> {
    Ok(match Compression::sniff(data) {
        Some(c) => decompress::reader(c, data).map_err(|e| e.in_file(format!("{origin}:{name}")))?,
        None => Box::new(data),
    })
}

/// Counts bytes read through it (progress over the compressed member).
struct Counting<'a, R> {
    inner: R,
    bar: &'a modules::ProgressBar,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for Counting<'_, R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The `data.tar` stream of a Debian package, decompressed on the fly, and
/// the member's name (for messages). Used by `vmtest` to take the kernel
/// image and the modules it boots with out of a package.
pub fn data_tar<'a>(d: &'a [u8], origin: &str) -> Result<(String, Box<dyn Read + 'a>)> {
    let members = ar_members(d).map_err(|(o, w)| Error::new(origin, w).at(o as u64))?;
    let (name, range) =
        members.into_iter().find(|(n, _)| n.starts_with("data.tar")).ok_or_else(|| Error::new(origin, "not a Debian package: no data.tar member"))?;
    let data = d.get(range).unwrap_or(&[]);
    let reader: Box<dyn Read> = match Compression::sniff(data) {
        Some(c) => decompress::reader(c, data).map_err(|e| e.in_file(format!("{origin}:{name}")))?,
        None => Box::new(data),
    };
    Ok((name, reader))
}

pub(super) fn read_deb(bytes: &Bytes, origin: &str, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let d = bytes.as_slice();
    let members = ar_members(d).map_err(|(o, w)| Error::new(origin, w).at(o as u64))?;
    let (name, range) =
        members.iter().find(|(n, _)| n.starts_with("data.tar")).ok_or_else(|| Error::new(origin, "not a Debian package: no data.tar member"))?;
    let data = d.get(range.clone()).unwrap_or(&[]);
    let bar = modules::bar(opts, data.len() as u64, true);
    bar.set_prefix(short_name(origin));
    let counted = Counting { inner: std::io::Cursor::new(data), bar: &bar };
    let reader: Box<dyn Read> = match Compression::sniff(data) {
        // dpkg-deb writes multi-block xz (one block per 24 MiB): decode the
        // blocks on several threads.
        Some(Compression::Xz) => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
            Box::new(lzma_rust2::XzReaderMt::new(counted, false, threads).map_err(|e| Error::new(format!("{origin}:{name}"), format!("bad xz stream: {e}")))?)
        }
        Some(c) => decompress::reader(c, counted).map_err(|e| e.in_file(format!("{origin}:{name}")))?,
        None => Box::new(counted),
    };
    // The whole unpacked tree is capped, not just each file.
    let capped = reader.take(opts.max_decompressed.saturating_mul(4));
    let mut seen_kernel = false;
    let mut seen_modules = 0usize;
    let mut seen_config = false;
    let pieces = modules::run(opts, &bar, |send| {
        walk_tar(capped, &format!("{origin}:{name}"), &mut |path, size, entry, tar_err| {
            let is_kernel = super::is_image_path(path);
            let is_config = super::is_config_path(path);
            let is_module = is_module_path(path);
            seen_kernel |= is_kernel;
            seen_modules += is_module as usize;
            seen_config |= is_config;
            if !(is_kernel || is_config || (is_module && opts.modules)) {
                return Ok(true);
            }
            if size > opts.max_decompressed {
                return Err(Error::of(ErrorKind::TooLarge, format!("{origin}:{path}"), format!("{size} bytes is over the size limit")));
            }
            let mut buf = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut buf).map_err(tar_err)?;
            if is_config {
                if opts.config {
                    out.push(Piece::Config(String::from_utf8_lossy(&buf).into()));
                }
                return Ok(true);
            }
            send(Job { origin: format!("{origin}:{path}"), path: path.to_string(), data: buf })?;
            Ok(true)
        })
    });
    bar.finish_and_clear();
    out.extend(pieces?);
    // A package with only the configuration (Debian 7.x's `linux-base-*`)
    // is one piece of a kernel given in several packages.
    if !seen_kernel && seen_modules == 0 && !seen_config {
        return Err(not_a_kernel_package(d, &members, origin));
    }
    Ok(())
}

fn short_name(origin: &str) -> String {
    origin.rsplit('/').next().unwrap_or(origin).to_string()
}

/// The error for a package without kernel image or modules: what the
/// package is (from `control`), and what was looked for.
fn not_a_kernel_package(d: &[u8], members: &[ArMember], origin: &str) -> Error {
    let control = control_of(d, members, origin);
    let field = |k: &str| control_field(control.as_deref()?, k);
    let what = match (field("Package"), field("Version")) {
        (Some(p), Some(v)) => format!("package {p} {v}"),
        (Some(p), None) => format!("package {p}"),
        _ => "this package".to_string(),
    };
    let mut msg = format!("{what} holds no kernel: no boot/vmlinuz-*, boot/vmlinux-* or lib/modules/*/vmlinuz image and no lib/modules/*/**/*.ko* modules");
    if let Some(dep) = field("Depends").filter(|d| d.contains("linux-image") || d.contains("linux-binary")) {
        msg.push_str(&format!("; it is a meta package depending on `{dep}`: read that package instead"));
    } else if let Some(desc) = field("Description") {
        msg.push_str(&format!(" (it is: {desc})"));
    }
    Error::of(ErrorKind::WrongInput, origin, msg)
}

/// The first regular file of a package's data tarball whose path `wanted`
/// accepts (e.g. [`super::is_config_path`]), read up to `max` bytes; the
/// tar stream is only decompressed up to that file.
pub(crate) fn find_file(bytes: &Bytes, origin: &str, wanted: &dyn Fn(&str) -> bool, max: u64) -> Result<Option<(String, Vec<u8>)>> {
    let d = bytes.as_slice();
    let members = ar_members(d).map_err(|(o, w)| Error::new(origin, w).at(o as u64))?;
    if !members.iter().any(|(n, _)| n.starts_with("data.tar")) {
        return Ok(None);
    }
    let mut found = None;
    walk_data_tar(d, origin, u64::MAX, &mut |path, _, r, tar_err| {
        if !wanted(path) {
            return Ok(true);
        }
        let mut buf = Vec::new();
        r.take(max).read_to_end(&mut buf).map_err(tar_err)?;
        found = Some((path.to_string(), buf));
        Ok(false)
    })?;
    Ok(found)
}

/// The `control` file of a package (from `control.tar.*`, at most 1 MiB).
fn control_of(d: &[u8], members: &[ArMember], origin: &str) -> Option<String> {
    members.iter().find(|(n, _)| n.starts_with("control.tar")).and_then(|(n, r)| {
        let reader = member_reader(origin, n, d.get(r.clone())?).ok()?;
        let mut archive = tar::Archive::new(reader.take(1 << 20));
        let mut text = String::new();
        for e in archive.entries().ok()? {
            let mut e = e.ok()?;
            if e.path().ok()?.to_string_lossy().trim_start_matches("./") == "control" {
                e.read_to_string(&mut text).ok()?;
                return Some(text);
            }
        }
        None
    })
}

/// One field of a `control` file (`Package`, `Version`, `Source`).
pub fn control_field(control: &str, key: &str) -> Option<String> {
    control.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(|v| v.trim().to_string()))
}

/// The `control` file of a Debian package, or `None` when it has none.
pub fn control(d: &[u8], origin: &str) -> Result<Option<String>> {
    let members = ar_members(d).map_err(|(o, w)| Error::new(origin, w).at(o as u64))?;
    Ok(control_of(d, &members, origin))
}

/// Stream every regular file of a package's `data.tar.*` through `f`
/// (path without `./`, size, a reader over its bytes), decompressing on the
/// fly: nothing is unpacked to disk and no more than what `f` reads is held.
/// The whole unpacked stream is capped at `max_total` bytes. Used by the
/// census to look into every file of a package.
pub fn for_each_file(d: &[u8], origin: &str, max_total: u64, f: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>) -> Result<()> {
    walk_data_tar(d, origin, max_total, &mut |path, size, r, _| {
        f(path.trim_start_matches('.'), size, r)?;
        Ok(true)
    })
}

/// Turns an I/O error of the tar stream into the crate's error.
pub(crate) type TarError<'e> = &'e dyn Fn(std::io::Error) -> Error;

/// A visitor of the files of a tar stream: path as stored, size, a reader
/// over the file, the stream's error mapper; returns whether to go on.
pub(crate) type TarVisit<'v> = dyn FnMut(&str, u64, &mut dyn Read, TarError) -> Result<bool> + 'v;

/// The one walk over the regular files of a package's `data.tar.*`
/// (decompressed on the fly, at most `max_total` bytes unpacked): `f` gets
/// the path as stored (`./boot/...`), the size, a reader over the file and
/// the stream's error mapper, and returns whether to go on.
pub(crate) fn walk_data_tar(d: &[u8], origin: &str, max_total: u64, f: &mut TarVisit) -> Result<()> {
    let (name, reader) = data_tar(d, origin)?;
    walk_tar(reader.take(max_total), &format!("{origin}:{name}"), f)
}

/// The regular files of a tar stream (`label` names it in errors), as
/// [`walk_data_tar`] describes.
fn walk_tar(reader: impl Read, label: &str, f: &mut TarVisit) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let tar_err = |e: std::io::Error| Error::new(label, format!("bad tar stream: {e}"));
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(tar_err)?.to_string_lossy().into_owned();
        let size = entry.header().size().map_err(tar_err)?;
        if !f(&path, size, &mut entry, &tar_err)? {
            break;
        }
    }
    Ok(())
}
