//! Packages of other ecosystems that ship compiled BPF objects, recognised
//! by content and streamed member by member like `.deb` packages: Python
//! wheels (zip, [`super::zip`]; name and version from
//! `*.dist-info/METADATA`, the platform from `*.dist-info/WHEEL`), npm
//! tarballs (gzip'd tar of `package/...`; `package/package.json`) and crates
//! (gzip'd tar of `NAME-VERSION/...`; `NAME-VERSION/Cargo.toml`). Nothing is
//! unpacked to disk; each package's metadata is read first, then every
//! member that could hold an object (ELF files, `ar` archives) is scanned.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// Where a package comes from (JSON: snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ecosystem {
    /// A Debian binary package (`.deb`).
    Debian,
    /// A Python wheel from PyPI (`.whl`).
    Pypi,
    /// An npm package tarball (`npm pack`).
    Npm,
    /// A Rust crate as the Rust package registry stores it (`.crate`).
    Crates,
}

impl Ecosystem {
    /// The JSON spelling (`pypi`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Debian => "debian",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Crates => "crates",
        }
    }
}

/// A package's identity, from its own metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Distribution name (`bcc`, `@scope/name`, `aya-ebpf`).
    pub name: Option<String>,
    /// Version as the package states it.
    pub version: Option<String>,
    /// Platform for binary wheels (`manylinux_2_17_x86_64`), when one.
    pub arch: Option<String>,
}

/// What kind of package `d` is, by content: a zip whose central directory
/// names a `.dist-info/` directory is a wheel; a gzip stream is looked at
/// by [`tar_kind`] when it is read.
pub fn sniff(d: &[u8]) -> Option<Sniffed> {
    if super::zip::is_zip(d) {
        return Some(Sniffed::Zip);
    }
    d.starts_with(&[0x1f, 0x8b]).then_some(Sniffed::Gzip)
}

/// The container format found by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A zip archive (a wheel when it has a `.dist-info/`).
    Zip,
    /// A gzip stream (an npm tarball or a crate when it holds their layout).
    Gzip,
}

/// Upper bound of one metadata file read (METADATA, package.json, Cargo.toml).
const MAX_META: u64 = 4 << 20;

fn read_meta(r: &mut dyn Read, origin: &str, path: &str) -> Result<String> {
    let mut s = Vec::new();
    r.take(MAX_META).read_to_end(&mut s).map_err(|e| Error::io(format!("{origin}:{path}"), e))?;
    Ok(String::from_utf8_lossy(&s).into_owned())
}

/// `Key: value` from an RFC 822-style header block (wheel METADATA/WHEEL).
fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(key)).map(|(_, v)| v.trim().to_string()))
}

/// The platform part of a wheel tag (`cp312-cp312-manylinux_2_17_x86_64`
/// -> `manylinux_2_17_x86_64`); `any` for pure wheels.
fn wheel_platform(wheel: &str) -> Option<String> {
    let tag = header(wheel, "Tag")?;
    tag.rsplit('-').next().map(str::to_string)
}

/// A wheel: its identity, then every file through `f`.
pub fn read_wheel(d: &[u8], origin: &str, max_total: u64, f: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>) -> Result<Identity> {
    let members = super::zip::members(d, origin)?;
    let dist_info = members
        .iter()
        .map(|m| m.name.as_str())
        .find_map(|n| n.split_once(".dist-info/").map(|(dir, _)| format!("{dir}.dist-info/")))
        .ok_or_else(|| Error::of(crate::ErrorKind::WrongInput, origin, "a zip archive with no *.dist-info/ directory: not a Python wheel"))?;
    let mut id = Identity::default();
    let (metadata, wheel) = (format!("{dist_info}METADATA"), format!("{dist_info}WHEEL"));
    super::zip::for_each_file(d, origin, max_total, &mut |path, size, r| {
        if path == metadata {
            let text = read_meta(r, origin, path)?;
            id.name = header(&text, "Name");
            id.version = header(&text, "Version");
            Ok(())
        } else if path == wheel {
            id.arch = wheel_platform(&read_meta(r, origin, path)?).filter(|p| p != "any");
            Ok(())
        } else {
            f(path, size, r)
        }
    })?;
    Ok(id)
}

/// What a gzip'd tar holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarKind {
    /// `package/package.json`: an npm tarball.
    Npm,
    /// `NAME-VERSION/Cargo.toml`: a crate.
    Crate,
}

/// Walk the regular files of the gzip'd tar `d`: `f(path, size, reader)`
/// returns whether to go on. At most `max_total` bytes are decompressed.
fn walk_tgz(d: &[u8], origin: &str, max_total: u64, f: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<bool>) -> Result<()> {
    #[cfg(feature = "deb")]
    {
        let gz = flate2::read::GzDecoder::new(d).take(max_total);
        let mut archive = tar::Archive::new(gz);
        let tar_err = |e: std::io::Error| Error::new(origin, format!("bad gzip'd tar stream: {e}"));
        for entry in archive.entries().map_err(tar_err)? {
            let mut entry = entry.map_err(tar_err)?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let path = entry.path().map_err(tar_err)?.to_string_lossy().into_owned();
            let size = entry.size();
            if !f(&path, size, &mut entry)? {
                return Ok(());
            }
        }
        Ok(())
    }
    #[cfg(not(feature = "deb"))]
    {
        let _ = (d, max_total, f);
        Err(Error::of(crate::ErrorKind::Unsupported, origin, "this bpfabi was built without the `deb` feature (tar)"))
    }
}

/// A package.json's `name` and `version`.
fn npm_identity(text: &str) -> Identity {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Identity { name: s("name"), version: s("version"), arch: None }
}

/// A Cargo.toml's `[package] name` and `version`.
fn crate_identity(text: &str) -> Identity {
    let v: toml::Table = text.parse().unwrap_or_default();
    let p = v.get("package").and_then(|p| p.as_table());
    let s = |k: &str| p.and_then(|p| p.get(k)).and_then(|x| x.as_str()).map(str::to_string);
    Identity { name: s("name"), version: s("version"), arch: None }
}

/// The kind and identity of a gzip'd tar, from its first metadata file
/// (only the tar up to that member is decompressed).
pub fn tgz_identity(d: &[u8], origin: &str, max_total: u64) -> Result<Option<(TarKind, Identity)>> {
    let mut found = None;
    walk_tgz(d, origin, max_total, &mut |path, _, r| {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["package", "package.json"] => found = Some((TarKind::Npm, npm_identity(&read_meta(r, origin, path)?))),
            [_, "Cargo.toml"] => found = Some((TarKind::Crate, crate_identity(&read_meta(r, origin, path)?))),
            _ => return Ok(true),
        }
        Ok(false)
    })?;
    Ok(found)
}

/// Every file of a gzip'd tar through `f`.
pub fn for_each_tgz_file(d: &[u8], origin: &str, max_total: u64, f: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>) -> Result<()> {
    walk_tgz(d, origin, max_total, &mut |p, s, r| f(p, s, r).map(|()| true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_headers() {
        let meta = "Metadata-Version: 2.1\nName: bpf-thing\nVersion: 1.2.3\n\nName: not this\n";
        assert_eq!(header(meta, "name").as_deref(), Some("bpf-thing"));
        assert_eq!(header(meta, "Version").as_deref(), Some("1.2.3"));
        assert_eq!(wheel_platform("Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\n").as_deref(), Some("manylinux_2_17_x86_64"));
        assert_eq!(wheel_platform("Tag: py3-none-any\n").as_deref(), Some("any"));
    }

    #[test]
    fn npm_and_crate_identities() {
        let id = npm_identity(r#"{"name": "@x/y", "version": "0.1.0"}"#);
        assert_eq!((id.name.as_deref(), id.version.as_deref()), (Some("@x/y"), Some("0.1.0")));
        let id = crate_identity("[package]\nname = \"aya-thing\"\nversion = \"0.2.0-rc.1\"\n");
        assert_eq!((id.name.as_deref(), id.version.as_deref()), (Some("aya-thing"), Some("0.2.0-rc.1")));
        assert_eq!(crate_identity("not toml ["), Identity::default());
    }
}
