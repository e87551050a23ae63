//! Cache management for `bpfabi kernels --prune`: which extracted kernels
//! and downloaded packages of the cache ([`super::Cache`]) to remove so that
//! at most `keep` kernels of each architecture and flavour stay (newest
//! package version first, the order of [`super::list_cached`]) and the
//! kernels and packages together fit in `max_size` bytes (the kernels
//! extracted longest ago go first). Packages that belong to no kernel left
//! in the cache go too. The apt lists (a few MiB per suite) are kept.

use super::{list_cached, Cache, CachedKernel};
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::PathBuf;

/// What to keep.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PruneOptions {
    /// Kernels kept per (architecture, flavour); `None`: all.
    pub keep: Option<usize>,
    /// Bytes the kernels and packages may take together; `None`: no limit.
    pub max_size: Option<u64>,
    /// Only say what would be removed.
    pub dry_run: bool,
}

impl PruneOptions {
    /// Options from `--keep` and `--max-size`.
    pub fn new(keep: Option<usize>, max_size: Option<u64>, dry_run: bool) -> Self {
        PruneOptions { keep, max_size, dry_run }
    }
}

/// A downloaded package file.
#[derive(Debug, Clone, Serialize)]
pub struct DebFile {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// What was (or, dry run, would be) removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    /// Extracted kernels removed.
    pub kernels: Vec<CachedKernel>,
    /// Package files removed.
    pub packages: Vec<DebFile>,
    /// Bytes freed.
    pub freed: u64,
    /// Bytes the kernels and packages left take.
    pub left: u64,
    /// Nothing was removed: a dry run.
    pub dry_run: bool,
}

/// The cache's package files.
fn debs(cache: &Cache) -> Vec<DebFile> {
    let Ok(rd) = std::fs::read_dir(cache.debs_dir()) else { return Vec::new() };
    let mut v: Vec<DebFile> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".deb"))
        .filter_map(|e| Some(DebFile { path: e.path(), bytes: e.metadata().ok()?.len() }))
        .collect();
    v.sort_by(|a, b| a.path.cmp(&b.path));
    v
}

/// Does package file `f` hold one of `k`'s packages (`NAME_VERSION_ARCH.deb`,
/// the epoch's `:` written `%3a` as apt does)?
fn belongs(f: &DebFile, k: &CachedKernel) -> bool {
    let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    k.packages.iter().any(|p| name.starts_with(&format!("{}_{}_", p.name, p.version.replace(':', "%3a"))))
}

/// When `k` was extracted (its `meta.json` written).
fn extracted_at(k: &CachedKernel) -> std::time::SystemTime {
    std::fs::metadata(k.dir.join("meta.json")).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH)
}

/// Remove what [`PruneOptions`] does not keep.
pub fn prune(cache: &Cache, opts: &PruneOptions) -> Result<Pruned> {
    let mut kept = list_cached(cache);
    let mut gone: Vec<CachedKernel> = Vec::new();
    if let Some(n) = opts.keep {
        let mut seen: std::collections::HashMap<(String, Option<String>), usize> = Default::default();
        let (stay, go): (Vec<_>, Vec<_>) = kept.into_iter().partition(|k| {
            let c = seen.entry((k.arch.clone(), k.flavour.clone())).or_insert(0);
            *c += 1;
            *c <= n
        });
        kept = stay;
        gone.extend(go);
    }
    let files = debs(cache);
    let size = |kept: &[CachedKernel]| -> u64 {
        kept.iter().map(|k| k.bytes).sum::<u64>() + files.iter().filter(|f| kept.iter().any(|k| belongs(f, k))).map(|f| f.bytes).sum::<u64>()
    };
    if let Some(max) = opts.max_size {
        kept.sort_by_key(|k| std::cmp::Reverse(extracted_at(k)));
        while size(&kept) > max {
            let Some(k) = kept.pop() else { break };
            gone.push(k);
        }
    }
    let (stay, go): (Vec<DebFile>, Vec<DebFile>) = files.iter().cloned().partition(|f| kept.iter().any(|k| belongs(f, k)));
    let mut out =
        Pruned { freed: gone.iter().map(|k| k.bytes).sum::<u64>() + go.iter().map(|f| f.bytes).sum::<u64>(), dry_run: opts.dry_run, ..Pruned::default() };
    out.left = kept.iter().map(|k| k.bytes).sum::<u64>() + stay.iter().map(|f| f.bytes).sum::<u64>();
    if !opts.dry_run {
        for k in &gone {
            std::fs::remove_dir_all(&k.dir).map_err(|e| Error::io(k.dir.display().to_string(), e))?;
        }
        for f in &go {
            std::fs::remove_file(&f.path).map_err(|e| Error::io(f.path.display().to_string(), e))?;
        }
    }
    out.kernels = gone;
    out.packages = go;
    Ok(out)
}

/// A size as `--max-size` takes it: bytes, or a number with a binary unit
/// `K`, `M`, `G`, `T` (`KiB`, `MiB`, ... and `KB`, `MB`, ... mean the same:
/// powers of 1024), e.g. `500M`, `1.5G`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    let v = n * (1u64 << shift) as f64;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(cache: &Cache, release: &str, arch: &str, version: &str, bytes: usize, extracted: u64) {
        let d = cache.kernels_dir().join(release);
        std::fs::create_dir_all(&d).unwrap();
        let meta = serde_json::json!({"kernel_release": release, "arch": arch, "packages": [{"name": format!("linux-image-{release}"), "version": version}]});
        std::fs::write(d.join("meta.json"), meta.to_string()).unwrap();
        std::fs::write(d.join("vmlinux.btf"), vec![0u8; bytes]).unwrap();
        std::fs::create_dir_all(cache.debs_dir()).unwrap();
        std::fs::write(cache.debs_dir().join(format!("linux-image-{release}_{}_{arch}.deb", version.replace(':', "%3a"))), vec![0u8; bytes]).unwrap();
        let f = std::fs::File::options().write(true).open(d.join("meta.json")).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(extracted)).unwrap();
    }

    #[test]
    fn keep_per_architecture_then_size_oldest_first() {
        let dir = std::env::temp_dir().join(format!("bpfabi-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache { dir: dir.clone() };
        kernel(&cache, "6.1.0-55-amd64", "amd64", "6.1.190-1", 1000, 1);
        kernel(&cache, "6.1.0-57-amd64", "amd64", "6.1.192-3", 1000, 2);
        kernel(&cache, "6.12.118+deb13-arm64", "arm64", "1:6.12.118-1", 3000, 3);
        kernel(&cache, "6.1.0-56-amd64", "amd64", "6.1.191-1", 1000, 4);
        std::fs::write(cache.debs_dir().join("orphan_1.0_all.deb"), b"x").unwrap();
        // Dry run: nothing goes.
        let p = prune(&cache, &PruneOptions::new(Some(2), None, true)).unwrap();
        assert_eq!(p.kernels.iter().map(|k| k.kernel_release.as_str()).collect::<Vec<_>>(), ["6.1.0-55-amd64"]);
        assert_eq!(list_cached(&cache).len(), 4);
        // Two per architecture: the oldest amd64 version goes, with its package and the orphan.
        let p = prune(&cache, &PruneOptions::new(Some(2), None, false)).unwrap();
        assert_eq!(p.kernels.len(), 1);
        assert_eq!(p.packages.len(), 2, "{:?}", p.packages);
        assert!(!cache.kernels_dir().join("6.1.0-55-amd64").exists());
        assert_eq!(p.left, 2 * (1000 + 1000 + 3000) + meta_bytes(&cache));
        // At most 5000 bytes: the kernels extracted longest ago go first
        // (the arm64 one before the newer 6.1.0-56 extraction).
        let p = prune(&cache, &PruneOptions::new(None, Some(5000), false)).unwrap();
        let gone: Vec<&str> = p.kernels.iter().map(|k| k.kernel_release.as_str()).collect();
        assert_eq!(gone, ["6.1.0-57-amd64", "6.12.118+deb13-arm64"]);
        assert_eq!(list_cached(&cache).iter().map(|k| k.kernel_release.as_str()).collect::<Vec<_>>(), ["6.1.0-56-amd64"]);
        assert!(p.left <= 5000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn meta_bytes(cache: &Cache) -> u64 {
        list_cached(cache).iter().map(|k| std::fs::metadata(k.dir.join("meta.json")).unwrap().len()).sum()
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("500M"), Some(500 << 20));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("2 KB"), Some(2048));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("5X"), None);
    }
}
