//! The kernel `vmtest` boots: a bzImage, its `.config`, and the modules to
//! insert (those that register kfunc sets, with their dependencies), taken
//! from a Debian package (`linux-image-*.deb`, or 7.x's split
//! `linux-binary-*` + `linux-modules-*`), an unpacked package tree, or a
//! vmlinuz plus a modules tree. Packages are streamed in memory; only the
//! needed modules are kept (decompressed), every module's `.modinfo` is read
//! for its dependencies.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use super::modinfo::{self, ModuleIndex};
use crate::error::{Error, Result};
use crate::kernel::decompress::{self, Compression};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules whose kfunc sets BPF programs may call, as the corpus ground
/// truth inserted them (`bpf_crypto_skcipher` exists from 6.10).
pub const DEFAULT_MODULES: &[&str] =
    &["bpf_crypto_skcipher", "nf_conntrack", "nf_nat", "nf_flow_table", "fou", "xfrm_interface", "tcp_bbr", "tcp_dctcp", "hid"];

/// Cap on one file taken out of a package or tree.
const MAX_FILE: u64 = 512 << 20;

/// A kernel ready to boot.
#[derive(Debug, Clone)]
pub struct BootKernel {
    /// `uname -r`.
    pub release: String,
    /// The kernel image.
    pub vmlinuz: Vec<u8>,
    /// The kernel's `.config` (`/boot/config-<release>`), when the input has it:
    /// libbpf reads it for `.kconfig` externs.
    pub config: Option<Vec<u8>>,
    /// Modules to insert, in order (name, uncompressed ELF).
    pub modules: Vec<(String, Vec<u8>)>,
    /// Modules asked for that this kernel does not have as modules.
    pub missing: Vec<String>,
    /// The inputs, for messages and reports.
    pub origin: String,
}

/// Release string of an x86 bzImage (the `kernel_version` header field).
pub fn bzimage_release(img: &[u8]) -> Option<String> {
    if img.get(0x202..0x206) != Some(b"HdrS".as_slice()) {
        return None;
    }
    let ptr = u16::from_le_bytes([*img.get(0x20e)?, *img.get(0x20f)?]) as usize;
    let s = img.get(ptr + 0x200..)?;
    let end = s.iter().take(256).position(|&b| b == 0 || b == b' ')?;
    let r = String::from_utf8_lossy(s.get(..end)?).into_owned();
    (!r.is_empty()).then_some(r)
}

/// Collects what a stream of (path, bytes) files holds.
struct Collector {
    wanted: Vec<String>,
    vmlinuz: Option<(String, Vec<u8>)>,
    config: Option<Vec<u8>>,
    index: ModuleIndex,
    /// Modules kept so far (decompressed), by name.
    kept: BTreeMap<String, Vec<u8>>,
    /// Names worth keeping: the wanted ones and whatever kept modules need.
    keep: BTreeSet<String>,
    /// Every other module, lz4-compressed: a dependency met in the stream
    /// before its dependent is taken from here instead of a second pass
    /// over the package (about a quarter of the modules' size).
    spare: BTreeMap<String, Vec<u8>>,
}

impl Collector {
    fn new(wanted: &[String]) -> Self {
        let wanted: Vec<String> = wanted.iter().map(|w| modinfo::normalize(w)).collect();
        Collector {
            keep: wanted.iter().cloned().collect(),
            wanted,
            vmlinuz: None,
            config: None,
            index: ModuleIndex::default(),
            kept: BTreeMap::new(),
            spare: BTreeMap::new(),
        }
    }

    /// Offer one file. `read` gives its bytes (only called when needed).
    fn offer(&mut self, path: &str, origin: &str, read: &mut ReadFile, second_pass: Option<&BTreeSet<String>>) -> Result<()> {
        let file = path.rsplit('/').next().unwrap_or(path);
        if second_pass.is_none() && ((path.contains("boot/") && file.starts_with("bzImage")) || crate::kernel::is_image_path(path)) {
            self.vmlinuz = Some((path.to_string(), read()?));
            return Ok(());
        }
        if second_pass.is_none() && crate::kernel::is_config_path(path) {
            self.config = Some(read()?);
            return Ok(());
        }
        let Some(name) = modinfo::name_from_path(path) else { return Ok(()) };
        if let Some(need) = second_pass {
            if !need.contains(&name) || self.kept.contains_key(&name) {
                return Ok(());
            }
        }
        let raw = read()?;
        let elf = match Compression::sniff(&raw) {
            Some(c) => decompress::decompress(c, &raw, MAX_FILE).map_err(|e| e.in_file(format!("{origin}:{path}")))?,
            None => raw,
        };
        if second_pass.is_none() {
            let info = modinfo::parse(&elf).map_err(|e| e.in_file(format!("{origin}:{path}")))?;
            if self.keep.contains(&name) {
                self.keep.extend(info.depends.iter().chain(info.soft_pre.iter()).chain(info.soft_post.iter()).map(|d| modinfo::normalize(d)));
            }
            self.index.insert(name.clone(), info);
        }
        if self.keep.contains(&name) || second_pass.is_some() {
            self.kept.insert(name, elf);
        } else {
            self.spare.insert(name, lz4_flex::block::compress_prepend_size(&elf));
        }
        Ok(())
    }
}

/// Gives a file's bytes when called (only files someone wants are read).
type ReadFile<'a> = dyn FnMut() -> Result<Vec<u8>> + 'a;
/// Called with (path inside the input, input name, reader).
type Visit<'a> = dyn FnMut(&str, &str, &mut ReadFile) -> Result<()> + 'a;

/// Files of one input, streamed: calls `f(path, origin, reader)`.
fn walk_input(p: &Path, f: &mut Visit) -> Result<()> {
    let origin = p.display().to_string();
    let meta = std::fs::metadata(p).map_err(|e| Error::io(&origin, e))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        crate::fswalk::walk_files(
            p,
            &mut |f| {
                files.push(f);
                Ok(())
            },
            &mut |d, e| Err(Error::io(d.display().to_string(), e)),
        )?;
        files.sort();
        for file in files {
            let rel = file.strip_prefix(p).unwrap_or(&file).to_string_lossy().into_owned();
            // A modules tree given directly (`/lib/modules/<release>`) has no
            // `boot/`; name it as a package would.
            let rel = if rel.starts_with("boot/") || rel.contains("modules/") { rel } else { format!("modules/{rel}") };
            let fp = file.clone();
            f(&rel, &origin, &mut || read_capped_file(&fp))?;
        }
        return Ok(());
    }
    let data = std::fs::read(p).map_err(|e| Error::io(&origin, e))?;
    if data.starts_with(b"!<arch>\n") {
        crate::kernel::deb::walk_data_tar(&data, &origin, u64::MAX, &mut |path, size, entry, tar_err| {
            let mut read = || -> Result<Vec<u8>> {
                if size > MAX_FILE {
                    return Err(Error::new(format!("{origin}:{path}"), format!("{size} bytes is over the size limit")));
                }
                let mut buf = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut buf).map_err(tar_err)?;
                Ok(buf)
            };
            f(path, &origin, &mut read)?;
            Ok(true)
        })?;
        return Ok(());
    }
    if bzimage_release(&data).is_some() {
        let name = format!("boot/vmlinuz-{}", p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let mut d = Some(data);
        return f(&name, &origin, &mut || Ok(d.take().unwrap_or_default()));
    }
    if let Some(name) = modinfo::name_from_path(&origin) {
        let mut d = Some(data);
        return f(&format!("modules/{name}.ko"), &origin, &mut || Ok(d.take().unwrap_or_default()));
    }
    Err(Error::new(origin, "expected a Debian kernel package, a bzImage (vmlinuz), a kernel module or a directory"))
}

fn read_capped_file(p: &PathBuf) -> Result<Vec<u8>> {
    let f = std::fs::File::open(p).map_err(|e| Error::io(p.display().to_string(), e))?;
    decompress::read_capped(f, MAX_FILE).map_err(|_| Error::new(p.display().to_string(), "unreadable or over the size limit"))
}

/// Open a kernel to boot from `inputs` (one package, or several pieces of
/// one kernel), keeping `modules` and what they depend on.
pub fn open(inputs: &[PathBuf], modules: &[String]) -> Result<BootKernel> {
    let origin = inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ");
    let mut c = Collector::new(modules);
    for p in inputs {
        walk_input(p, &mut |path, o, read| c.offer(path, o, read, None))?;
    }
    let (order, missing) = c.index.load_order(&c.wanted);
    // Dependencies met in the stream before their dependents were: one more pass.
    let mut need: BTreeSet<String> = BTreeSet::new();
    let absent: Vec<String> = order.iter().filter(|m| !c.kept.contains_key(*m)).cloned().collect();
    for m in &absent {
        match c.spare.get(m).and_then(|z| lz4_flex::block::decompress_size_prepended(z).ok()) {
            Some(elf) => {
                c.kept.insert(m.clone(), elf);
            }
            None => {
                need.insert(m.clone());
            }
        }
    }
    c.spare.clear();
    if !need.is_empty() {
        for p in inputs {
            walk_input(p, &mut |path, o, read| c.offer(path, o, read, Some(&need)))?;
        }
    }
    let (vpath, vmlinuz) = c.vmlinuz.take().ok_or_else(|| Error::new(&origin, "no kernel image (boot/vmlinuz-*) in the inputs"))?;
    let release = bzimage_release(&vmlinuz)
        .or_else(|| vpath.rsplit('/').next().and_then(|f| f.strip_prefix("vmlinuz-")).map(str::to_string))
        .or_else(|| vpath.strip_suffix("/vmlinuz").and_then(|d| d.rsplit('/').next()).map(str::to_string))
        .ok_or_else(|| Error::new(&vpath, "not an x86 bzImage (no HdrS header)"))?;
    let mut mods = Vec::new();
    for m in order {
        match c.kept.remove(&m) {
            Some(elf) => mods.push((m, elf)),
            None => return Err(Error::new(&origin, format!("module {m} is needed but could not be read"))),
        }
    }
    Ok(BootKernel { release, vmlinuz, config: c.config, modules: mods, missing, origin })
}

/// Where unpacked kernels are kept between runs:
/// `${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/vmtest`.
pub fn cache_root() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("bpfabi").join("vmtest"))
}

/// A stable key for (inputs as they are on disk, module list).
fn cache_key(inputs: &[PathBuf], modules: &[String]) -> Option<String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: &[u8]| {
        for &x in b {
            h = (h ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(b"bpfabi-vmtest-kernel-v1");
    for p in inputs {
        let c = std::fs::canonicalize(p).ok()?;
        let m = std::fs::metadata(&c).ok()?;
        if m.is_dir() {
            return None; // a tree can change inside; read it every time
        }
        feed(c.to_string_lossy().as_bytes());
        feed(&m.len().to_le_bytes());
        let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        feed(&t.as_nanos().to_le_bytes());
    }
    for m in modules {
        feed(m.as_bytes());
    }
    Some(format!("{h:016x}"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CacheMeta {
    release: String,
    origin: String,
    modules: Vec<String>,
    missing: Vec<String>,
    config: bool,
}

fn read_cache(dir: &Path) -> Option<BootKernel> {
    let meta: CacheMeta = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).ok()?).ok()?;
    let vmlinuz = std::fs::read(dir.join("vmlinuz")).ok()?;
    let config = if meta.config { Some(std::fs::read(dir.join("config")).ok()?) } else { None };
    let mut modules = Vec::new();
    for m in &meta.modules {
        modules.push((m.clone(), std::fs::read(dir.join("modules").join(format!("{m}.ko"))).ok()?));
    }
    Some(BootKernel { release: meta.release, vmlinuz, config, modules, missing: meta.missing, origin: meta.origin })
}

fn write_cache(dir: &Path, k: &BootKernel) -> std::io::Result<()> {
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("modules"))?;
    std::fs::write(tmp.join("vmlinuz"), &k.vmlinuz)?;
    if let Some(c) = &k.config {
        std::fs::write(tmp.join("config"), c)?;
    }
    for (m, elf) in &k.modules {
        std::fs::write(tmp.join("modules").join(format!("{m}.ko")), elf)?;
    }
    let meta = CacheMeta {
        release: k.release.clone(),
        origin: k.origin.clone(),
        modules: k.modules.iter().map(|(m, _)| m.clone()).collect(),
        missing: k.missing.clone(),
        config: k.config.is_some(),
    };
    std::fs::write(tmp.join("meta.json"), serde_json::to_vec(&meta).unwrap_or_default())?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir)
}

/// [`open`], through a cache of unpacked kernels (reading a package means
/// decompressing every module in it: tens of seconds). Returns the kernel
/// and the cache directory holding it as files (`vmlinuz`, `modules/*.ko`)
/// when there is one.
pub fn open_cached(inputs: &[PathBuf], modules: &[String]) -> Result<(BootKernel, Option<PathBuf>)> {
    let dir = cache_root().zip(cache_key(inputs, modules)).map(|(r, k)| r.join(k));
    if let Some(d) = &dir {
        if let Some(k) = read_cache(d) {
            return Ok((k, dir));
        }
    }
    let k = open(inputs, modules)?;
    let kept = dir.filter(|d| write_cache(d, &k).is_ok());
    Ok((k, kept))
}

fn has_btf(elf: &[u8]) -> bool {
    use object::{Object, ObjectSection};
    object::File::parse(elf).is_ok_and(|f| f.section_by_name(".BTF").is_some_and(|s| s.size() > 0))
}

/// The files of a kernel as `check` reads them: the cache's vmlinuz and
/// modules, else the inputs themselves.
pub fn btf_inputs(k: &BootKernel, cached: Option<&Path>, inputs: &[PathBuf]) -> Vec<PathBuf> {
    match cached {
        Some(d) => {
            let mut v = vec![d.join("vmlinuz")];
            // Modules built without BTF (all of 5.10's) add nothing to check.
            v.extend(k.modules.iter().filter(|(_, elf)| has_btf(elf)).map(|(m, _)| d.join("modules").join(format!("{m}.ko"))));
            v
        }
        None => inputs.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_from_bzimage_header() {
        let mut img = vec![0u8; 0x400];
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
        img[0x300..0x31f].copy_from_slice(b"6.1.0-56-amd64 (debian-kernel@l");
        assert_eq!(bzimage_release(&img).as_deref(), Some("6.1.0-56-amd64"));
        assert_eq!(bzimage_release(&img[..0x250]), None);
        assert_eq!(bzimage_release(b"not a kernel"), None);
    }
}
