//! Kernel inputs: where a kernel's BTF comes from.
//!
//! Every input is recognised by its content, not its name: raw BTF, a
//! vmlinux ELF, a compressed kernel image (x86 bzImage or a plain compressed
//! stream), kernel modules (`.ko`, optionally compressed), a Debian kernel
//! package, a directory laid out like the corpus (`vmlinux.btf`,
//! `vmlinux.btf_ids`, `modules/*.btf`) or like `/sys/kernel/btf`, and with no
//! input at all the running kernel. The result is one [`Kernel`]: a vmlinux
//! BTF, any number of module BTFs split on top of it, and their `.BTF_ids`.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod deb;
pub mod decompress;
mod image;

use crate::btf::Btf;
use crate::bytes::Bytes;
use crate::error::{Error, ReadError, Result};
use crate::kflags::KernelVersion;
use decompress::Compression;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One BTF of a kernel: vmlinux or a module.
#[derive(Debug, Clone)]
pub struct KernelBtf {
    /// "vmlinux" or the module name.
    pub name: String,
    pub btf: Arc<Btf>,
    /// The `.BTF_ids` section, when the input had one.
    pub btf_ids: Option<Bytes>,
    /// Where it was read from (for messages).
    pub origin: String,
}

/// A kernel: vmlinux plus modules.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `uname -r` style release string when known.
    pub release: Option<String>,
    /// The inputs it was built from, as given.
    pub inputs: Vec<String>,
    pub vmlinux: KernelBtf,
    pub modules: Vec<KernelBtf>,
}

impl Kernel {
    /// Kernel version from the release string, when known.
    pub fn version(&self) -> Option<KernelVersion> {
        self.release.as_deref().and_then(KernelVersion::parse)
    }
    /// vmlinux then every module.
    pub fn btfs(&self) -> impl Iterator<Item = &KernelBtf> {
        std::iter::once(&self.vmlinux).chain(self.modules.iter())
    }
    pub fn module(&self, name: &str) -> Option<&KernelBtf> {
        self.modules.iter().find(|m| m.name == name)
    }
    /// A short label: the release, else the first input.
    pub fn label(&self) -> String {
        self.release.clone().or_else(|| self.inputs.first().cloned()).unwrap_or_else(|| "kernel".into())
    }
}

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// A `.BTF_ids` section file for the vmlinux (overrides a sibling file).
    pub btf_ids: Option<PathBuf>,
    /// Release string to use when the inputs do not carry one.
    pub release: Option<String>,
    /// Cap on any one decompressed artefact.
    pub max_decompressed: u64,
    /// Read modules found inside packages and directories.
    pub modules: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { btf_ids: None, release: None, max_decompressed: decompress::DEFAULT_MAX_OUTPUT, modules: true }
    }
}

/// What one input turned out to hold, before base and modules are tied up.
enum Piece {
    /// A vmlinux (base) BTF, parsed, with its optional `.BTF_ids` and release.
    Vmlinux { btf: Btf, btf_ids: Option<Bytes>, release: Option<String>, origin: String },
    /// Split (module) BTF waiting for its base. `base_err` is why it did not
    /// parse as a base on its own (reported if no base turns up).
    Module { name: String, btf: Bytes, btf_ids: Option<Bytes>, origin: String, release: Option<String>, base_err: Option<ReadError> },
}

/// The running kernel: `/sys/kernel/btf/vmlinux` and every module there.
pub fn load_running(opts: &LoadOptions) -> Result<Kernel> {
    let dir = Path::new("/sys/kernel/btf");
    if !dir.join("vmlinux").exists() {
        return Err(Error::new("/sys/kernel/btf/vmlinux", "not present: this kernel was built without CONFIG_DEBUG_INFO_BTF"));
    }
    let mut k = load(&[dir.to_path_buf()], opts)?;
    if k.release.is_none() {
        k.release = running_release();
    }
    Ok(k)
}

/// Load one kernel from any mix of inputs: exactly one must provide a
/// vmlinux BTF; the others add modules.
pub fn load(inputs: &[PathBuf], opts: &LoadOptions) -> Result<Kernel> {
    let mut pieces = Vec::new();
    for p in inputs {
        read_input(p, opts, &mut pieces)?;
    }
    let label = inputs.first().map(|p| p.display().to_string()).unwrap_or_default();
    assemble(pieces, label, inputs.iter().map(|p| p.display().to_string()).collect(), opts)
}

/// Load a kernel from bytes already in memory (any single-file form:
/// raw BTF, ELF, compressed image, package), named `name` in messages.
pub fn load_bytes(bytes: Bytes, name: &str, opts: &LoadOptions) -> Result<Kernel> {
    let mut pieces = Vec::new();
    read_bytes(bytes, name, Path::new(name), None, opts, &mut pieces, 0)?;
    assemble(pieces, name.to_string(), vec![name.to_string()], opts)
}

/// Tie pieces into one kernel: exactly one vmlinux, modules split on it.
fn assemble(pieces: Vec<Piece>, label: String, inputs: Vec<String>, opts: &LoadOptions) -> Result<Kernel> {
    let mut vmlinux = None;
    let mut modules = Vec::new();
    let mut release = opts.release.clone();
    for piece in pieces {
        match piece {
            Piece::Vmlinux { btf, btf_ids, release: r, origin } => {
                if vmlinux.is_some() {
                    return Err(Error::new(origin, "a second vmlinux BTF: give one kernel's vmlinux plus its modules"));
                }
                if release.is_none() {
                    release = r;
                }
                let btf_ids = match &opts.btf_ids {
                    Some(p) => Some(Bytes::from_path(p).map_err(|e| Error::io(p.display().to_string(), e))?),
                    None => btf_ids,
                };
                vmlinux = Some(KernelBtf { name: "vmlinux".into(), btf: Arc::new(btf), btf_ids, origin });
            }
            m @ Piece::Module { .. } => modules.push(m),
        }
    }
    let Some(vmlinux) = vmlinux else {
        // A lone BTF that failed to parse as a base is more likely a broken
        // vmlinux than a module: say why it did not parse.
        for m in &modules {
            if let Piece::Module { origin, base_err: Some(e), .. } = m {
                return Err(e.clone().in_file(origin));
            }
        }
        return Err(Error::new(label, "no vmlinux BTF among the inputs (modules need their vmlinux to be read)"));
    };
    let mut mods = Vec::new();
    for m in modules {
        if let Piece::Module { name, btf, btf_ids, origin, release: r, .. } = m {
            if release.is_none() {
                release = r;
            }
            let parsed = Btf::parse_split(btf, vmlinux.btf.clone()).map_err(|e| e.in_file(&origin))?;
            mods.push(KernelBtf { name, btf: Arc::new(parsed), btf_ids, origin });
        }
    }
    mods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Kernel { release, inputs, vmlinux, modules: mods })
}

/// `uname -r` of the running kernel.
fn running_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_string())
}

fn open(path: &Path) -> Result<Bytes> {
    Bytes::from_path(path).map_err(|e| Error::io(path.display().to_string(), e))
}

/// A sibling file `<stem>.btf_ids` next to `x.btf`.
fn sibling_btf_ids(path: &Path) -> Option<Bytes> {
    let p = path.with_extension("btf_ids");
    (p != path && p.is_file()).then(|| Bytes::from_path(&p).ok()).flatten()
}

/// `kernel_release` from a corpus-style `meta.json` in `dir`.
fn meta_release(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("meta.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("kernel_release")?.as_str().map(str::to_string)
}

fn module_name_from_path(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("module");
    let stem = file.split('.').next().unwrap_or(file);
    stem.replace('-', "_")
}

fn read_input(path: &Path, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let origin = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(&origin, e))?;
    if meta.is_dir() {
        return read_dir(path, opts, out);
    }
    let bytes = open(path)?;
    // A file inside /sys/kernel/btf other than vmlinux is a module whose base is beside it.
    if path.parent() == Some(Path::new("/sys/kernel/btf")) && path.file_name().is_some_and(|f| f != "vmlinux") {
        let has_base = out.iter().any(|p| matches!(p, Piece::Vmlinux { .. }));
        if !has_base {
            let base = open(Path::new("/sys/kernel/btf/vmlinux"))?;
            out.push(Piece::Vmlinux {
                btf: Btf::parse(base).map_err(|e| e.in_file("/sys/kernel/btf/vmlinux"))?,
                btf_ids: None,
                release: running_release(),
                origin: "/sys/kernel/btf/vmlinux".into(),
            });
        }
        out.push(Piece::Module { name: module_name_from_path(path), btf: bytes, btf_ids: None, origin, release: None, base_err: None });
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    read_bytes(bytes, &origin, path, Some(dir), opts, out, 0)
}

/// Classify bytes by content and turn them into pieces. `depth` bounds
/// nested containers (a compressed file holding a compressed file...).
fn read_bytes(
    bytes: Bytes,
    origin: &str,
    path: &Path,
    dir: Option<&Path>,
    opts: &LoadOptions,
    out: &mut Vec<Piece>,
    depth: u32,
) -> Result<()> {
    if depth > 4 {
        return Err(Error::new(origin, "too many nested containers"));
    }
    let data = bytes.as_slice();
    if Btf::sniff(data).is_some() {
        // Raw BTF: a base if it stands on its own, else split BTF of a module.
        let btf_ids = sibling_btf_ids(path);
        match Btf::parse(bytes.clone()) {
            Ok(btf) => out.push(Piece::Vmlinux { btf, btf_ids, release: dir.and_then(meta_release), origin: origin.to_string() }),
            Err(e) => out.push(Piece::Module {
                name: module_name_from_path(path),
                btf: bytes,
                btf_ids,
                origin: origin.to_string(),
                release: None,
                base_err: Some(e),
            }),
        }
        return Ok(());
    }
    if data.starts_with(b"\x7fELF") {
        return image::read_elf(bytes, origin, path, out);
    }
    if data.starts_with(b"!<arch>\n") {
        return deb::read_deb(&bytes, origin, opts, out);
    }
    if let Some(payload) = image::bzimage_payload(data).map_err(|e| e.in_file(origin))? {
        let (c, start, end, release) = payload;
        let inner = decompress::decompress(c, data.get(start..end).unwrap_or(&[]), opts.max_decompressed)
            .map_err(|e| ReadError::at(start, format!("bzImage payload: {}", e.what)).in_file(origin))?;
        let before = out.len();
        read_bytes(Bytes::from_vec(inner), &format!("{origin} (bzImage {} payload)", c.name()), path, dir, opts, out, depth + 1)?;
        if let Some(Piece::Vmlinux { release: r, .. }) = out.get_mut(before) {
            if r.is_none() {
                *r = release;
            }
        }
        return Ok(());
    }
    if let Some(c) = Compression::sniff(data) {
        let inner = decompress::decompress(c, data, opts.max_decompressed).map_err(|e| e.in_file(origin))?;
        return read_bytes(Bytes::from_vec(inner), &format!("{origin} ({})", c.name()), path, dir, opts, out, depth + 1);
    }
    // An EFI zboot or other wrapped image: look for a compressed ELF inside.
    if let Some((c, off)) = image::find_embedded_payload(data) {
        let inner = decompress::decompress(c, data.get(off..).unwrap_or(&[]), opts.max_decompressed).map_err(|e| e.in_file(origin))?;
        if inner.starts_with(b"\x7fELF") {
            return read_bytes(Bytes::from_vec(inner), &format!("{origin} ({} at {off:#x})", c.name()), path, dir, opts, out, depth + 1);
        }
    }
    let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(Error {
        file: origin.to_string(),
        offset: Some(0),
        what: format!(
            "not a kernel input: expected raw BTF, a vmlinux/module ELF, a compressed kernel image or a .deb; found bytes {}",
            head.join(" ")
        ),
    })
}

/// A corpus-style directory (`vmlinux.btf`, `modules/*.btf`) or a
/// sysfs-style one (`vmlinux` plus module files).
fn read_dir(dir: &Path, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let origin = dir.display().to_string();
    let release = meta_release(dir);
    let (base, module_dir, sysfs) = if dir.join("vmlinux.btf").is_file() {
        (dir.join("vmlinux.btf"), dir.join("modules"), false)
    } else if dir.join("vmlinux").is_file() {
        (dir.join("vmlinux"), dir.to_path_buf(), true)
    } else {
        return Err(Error::new(origin, "expected a directory holding vmlinux.btf (and modules/*.btf) or vmlinux (like /sys/kernel/btf)"));
    };
    let before = out.len();
    read_input(&base, opts, out)?;
    if let Some(Piece::Vmlinux { release: r, .. }) = out.get_mut(before) {
        if r.is_none() {
            *r = release;
        }
    }
    if !opts.modules || !module_dir.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&module_dir)
        .map_err(|e| Error::io(module_dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            if sysfs {
                p.file_name().is_some_and(|f| f != "vmlinux")
            } else {
                p.extension().is_some_and(|e| e == "btf")
            }
        })
        .collect();
    entries.sort();
    for p in entries {
        let bytes = open(&p)?;
        let o = p.display().to_string();
        if !sysfs && Btf::sniff(bytes.as_slice()).is_none() {
            read_bytes(bytes, &o, &p, Some(dir), opts, out, 0)?;
            continue;
        }
        out.push(Piece::Module { name: module_name_from_path(&p), btf_ids: sibling_btf_ids(&p), btf: bytes, origin: o, release: None, base_err: None });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
