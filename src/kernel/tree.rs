//! Unpacked kernel packages and root file systems: a directory with
//! `boot/vmlinuz-RELEASE` (or `vmlinux-`), `boot/config-RELEASE` and
//! `lib/modules/RELEASE/` (or `usr/lib/modules/RELEASE/`, where newer
//! Debian kernels also put `vmlinuz`), as `dpkg -x` leaves it, or `/`. The
//! release is the one the tree holds, or the one `--release` picks when it
//! holds several; for `/` with the running release and no image on disk,
//! the kernel's BTF comes from `/sys/kernel/btf`.

use super::modules::{self, Job};
use super::{find, read_input, running_release, LoadOptions, Piece};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Does `dir` look like a root file system or an unpacked kernel package?
pub(super) fn looks_like_tree(dir: &Path) -> bool {
    dir.join("boot").is_dir() || dir.join("lib/modules").is_dir() || dir.join("usr/lib/modules").is_dir()
}

fn module_roots(dir: &Path) -> [PathBuf; 2] {
    [dir.join("lib/modules"), dir.join("usr/lib/modules")]
}

/// Releases the tree holds: from image and config names in `boot/` and from
/// directories in `lib/modules/`.
pub(super) fn releases(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let names =
        |d: &Path| -> Vec<String> { std::fs::read_dir(d).map(|r| r.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect()).unwrap_or_default() };
    for n in names(&dir.join("boot")) {
        if let Some(r) = n.strip_prefix("vmlinuz-").or_else(|| n.strip_prefix("vmlinux-")) {
            out.insert(r.to_string());
        }
    }
    for root in module_roots(dir) {
        for n in names(&root) {
            if root.join(&n).is_dir() && n.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                out.insert(n);
            }
        }
    }
    out
}

pub(super) fn read_tree(dir: &Path, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let origin = dir.display().to_string();
    let is_root = std::fs::canonicalize(dir).is_ok_and(|p| p == Path::new("/"));
    let found = releases(dir);
    let running = running_release();
    let release = match &opts.release {
        Some(r) if found.contains(r) || (is_root && running.as_ref() == Some(r)) => r.clone(),
        Some(r) => {
            return Err(Error::new(origin, format!("no kernel {r} in this tree (it holds: {})", if found.is_empty() { "none".into() } else { join(&found) })))
        }
        None if found.len() == 1 => found.iter().next().cloned().unwrap_or_default(),
        None if is_root && found.is_empty() => running.clone().unwrap_or_default(),
        None if found.is_empty() => {
            return Err(Error::new(
                origin,
                "no kernel here: expected boot/vmlinuz-RELEASE or lib/modules/RELEASE/ (an unpacked kernel package or a root file system)",
            ))
        }
        None => return Err(Error::new(origin, format!("several kernels in this tree ({}): pick one with --release", join(&found)))),
    };
    let images = find::image_candidates(dir, &release);
    let before = out.len();
    match images.iter().find(|p| p.is_file()) {
        Some(img) => read_input(img, &LoadOptions { modules: false, ..opts.clone() }, out)?,
        None if is_root && running.as_ref() == Some(&release) => read_input(Path::new("/sys/kernel/btf/vmlinux"), opts, out)?,
        None => {
            return Err(Error::new(
                origin,
                format!(
                    "kernel {release}: no image (looked for {}); a tree of modules alone needs its vmlinux too",
                    images.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    }
    if let Some(Piece::Vmlinux { release: r, .. }) = out.get_mut(before) {
        if r.is_none() {
            *r = Some(release.clone());
        }
    }
    if opts.config {
        if let Ok(text) = std::fs::read_to_string(dir.join(format!("boot/config-{release}"))) {
            out.push(Piece::Config(text.into()));
        }
    }
    if !opts.modules {
        return Ok(());
    }
    let mut files = Vec::new();
    for root in module_roots(dir) {
        walk(&root.join(&release), &mut files);
    }
    files.sort();
    files.dedup();
    let bar = modules::bar(opts, files.len() as u64, false);
    bar.set_prefix(format!("modules of {release}"));
    let pieces = modules::run(opts, &bar, |send| {
        for f in &files {
            let data = std::fs::read(f).map_err(|e| Error::io(f.display().to_string(), e))?;
            bar.inc(1);
            send(Job { path: f.display().to_string(), origin: f.display().to_string(), data })?;
        }
        Ok(())
    });
    bar.finish_and_clear();
    out.extend(pieces?);
    Ok(())
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Module files under `dir`, recursively, not following symlinks (`build`
/// and `source` point at header trees).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let Ok(t) = e.file_type() else { continue };
        let p = e.path();
        if t.is_dir() {
            walk(&p, out);
        } else if t.is_file() && p.to_str().is_some_and(modules::is_module_file) {
            out.push(p);
        }
    }
}
