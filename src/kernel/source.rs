//! Where a kernel comes from, as a user names it: [`KernelSource`], each
//! command-line kernel input parsed once (a path, a `debian:` name, a
//! built-in catalog entry, the running kernel), and the one [`Resolver`]
//! that turns a source into what a command reads: the BTF inputs of
//! [`crate::kernel::load`] (`surface`, `diff`, `check`, `census`, `policy`,
//! `btf dump`, `catalog add`) or the boot artefacts `vmtest` boots (a
//! package's `.deb` files, an image, a tree). A new way to name a kernel is
//! a variant here and an arm in each of the resolver's methods.

use super::debian::{self, Cache, DebianName, ResolveOptions};
use crate::error::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

/// Where the running kernel's BTF lives.
const SYSFS_BTF: &str = "/sys/kernel/btf";

/// One kernel input, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSource {
    /// A file or directory, read by its content (raw BTF, vmlinux, image,
    /// modules, `.deb`, corpus or sysfs directory, unpacked tree).
    Path(PathBuf),
    /// `debian:<suite>[/<arch>][:<flavour>]` or `debian:<release>`: a Debian
    /// kernel package, from the cache or apt; offline, the built-in catalog's
    /// entry for the name.
    Debian(DebianName),
    /// A reduced kernel of the built-in catalog ([`crate::catalog`]), read
    /// from the bytes compiled into the binary: its release.
    Catalog(String),
    /// The running kernel (`/sys/kernel/btf`, its `.BTF_ids` from the image).
    Running,
}

impl KernelSource {
    /// Parse one input: `debian:...` is a Debian name (an error names what a
    /// malformed one lacks), anything else a path.
    pub fn parse(input: &str) -> Result<KernelSource> {
        match DebianName::parse(input) {
            Some(name) => name.map(KernelSource::Debian),
            None => Ok(KernelSource::Path(PathBuf::from(input))),
        }
    }

    /// [`KernelSource::parse`] of a path argument (a path that is not UTF-8
    /// is a path).
    pub fn from_path(input: &Path) -> Result<KernelSource> {
        match input.to_str() {
            Some(s) => KernelSource::parse(s),
            None => Ok(KernelSource::Path(input.to_path_buf())),
        }
    }

    /// Every input of one kernel, parsed before any is read (a malformed
    /// name fails before a package is downloaded for another).
    pub fn parse_all(inputs: &[PathBuf]) -> Result<Vec<KernelSource>> {
        inputs.iter().map(|p| KernelSource::from_path(p)).collect()
    }

    /// [`KernelSource::parse_all`], no input meaning the running kernel.
    pub fn parse_or_running(inputs: &[PathBuf]) -> Result<Vec<KernelSource>> {
        if inputs.is_empty() {
            return Ok(vec![KernelSource::Running]);
        }
        KernelSource::parse_all(inputs)
    }
}

impl std::fmt::Display for KernelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelSource::Path(p) => write!(f, "{}", p.display()),
            KernelSource::Debian(n) => write!(f, "{n}"),
            KernelSource::Catalog(release) => write!(f, "{}", catalog_label(release)),
            KernelSource::Running => f.write_str(SYSFS_BTF),
        }
    }
}

/// How a built-in catalog entry is named in inputs and messages.
pub(super) fn catalog_label(release: &str) -> String {
    format!("built-in catalog {release}")
}

/// What [`crate::kernel::load`] reads for a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtfInput {
    /// A path (as given, the cache directory a `debian:` name extracted to,
    /// or `/sys/kernel/btf`).
    Path(PathBuf),
    /// A built-in catalog entry, read in place: its release.
    Catalog(String),
}

/// Resolves sources for one command: `debian:` names through the cache and
/// apt (one [`Cache`], found when a name first needs it), with the built-in
/// catalog as the offline fallback for BTF.
pub struct Resolver {
    opts: ResolveOptions,
    /// `BPFABI_CATALOG=only`: the built-in catalog, no apt and no cache.
    only_catalog: bool,
    cache: Option<Cache>,
}

impl Resolver {
    /// `progress`: show resolving, downloading and reading on stderr (a
    /// terminal only).
    pub fn new(progress: bool) -> Resolver {
        Resolver {
            opts: ResolveOptions { progress, ..ResolveOptions::default() },
            only_catalog: std::env::var("BPFABI_CATALOG").is_ok_and(|v| v == "only"),
            cache: None,
        }
    }

    fn cache(&mut self) -> Result<&Cache> {
        match self.cache {
            Some(ref c) => Ok(c),
            None => Ok(self.cache.insert(Cache::default_location()?)),
        }
    }

    /// The BTF of a source: a path to read, or a catalog entry. A `debian:`
    /// name is its extracted cache directory (resolved, downloaded and
    /// extracted as needed), else (offline, the archive unreachable, or
    /// `BPFABI_CATALOG=only`) the built-in catalog's entry for the name (the
    /// loader notes what cannot be checked from it).
    pub fn btf(&mut self, source: &KernelSource) -> Result<BtfInput> {
        match source {
            KernelSource::Path(p) => Ok(BtfInput::Path(p.clone())),
            KernelSource::Catalog(release) => Ok(BtfInput::Catalog(release.clone())),
            KernelSource::Running => {
                if !Path::new(SYSFS_BTF).join("vmlinux").exists() {
                    return Err(Error::of(ErrorKind::NotFound, "/sys/kernel/btf/vmlinux", "not present: this kernel was built without CONFIG_DEBUG_INFO_BTF"));
                }
                Ok(BtfInput::Path(PathBuf::from(SYSFS_BTF)))
            }
            KernelSource::Debian(name) => {
                let resolved = if self.only_catalog {
                    Err(Error::new(name.to_string(), "BPFABI_CATALOG=only"))
                } else {
                    let opts = self.opts.clone();
                    debian::resolve(name, self.cache()?, &opts)
                };
                match resolved {
                    Ok(r) => Ok(BtfInput::Path(r.dir.ok_or_else(|| Error::new(&r.name, "resolved but not extracted"))?)),
                    Err(e) => match debian::catalog_release(name) {
                        Some(release) => Ok(BtfInput::Catalog(release)),
                        None if self.only_catalog => {
                            Err(Error::of(ErrorKind::NotFound, name.to_string(), "not in the built-in catalog (`bpfabi catalog list`)"))
                        }
                        None => Err(e),
                    },
                }
            }
        }
    }

    /// [`Resolver::btf`] as a directory or file on disk: a catalog entry is
    /// written under the cache (`catalog add` reads the entry's files).
    pub fn btf_path(&mut self, source: &KernelSource) -> Result<PathBuf> {
        match self.btf(source)? {
            BtfInput::Path(p) => Ok(p),
            BtfInput::Catalog(release) => {
                let dir = self.cache()?.dir.join("catalog");
                crate::catalog::materialize(&release, &dir)
            }
        }
    }

    /// What `vmtest` boots from a source: the files its package reader
    /// takes (a package, an unpacked tree, a vmlinux image or a modules
    /// directory as given; for a `debian:` name its package files,
    /// downloaded into the cache when needed: the image and the modules,
    /// not only the extracted BTF).
    pub fn boot(&mut self, source: &KernelSource) -> Result<Vec<PathBuf>> {
        match source {
            KernelSource::Path(p) => Ok(vec![p.clone()]),
            KernelSource::Debian(name) => {
                let opts = self.opts.clone();
                let cache = self.cache()?;
                let r = debian::resolve(name, cache, &opts)?;
                let mut files = Vec::new();
                for p in &r.packages {
                    // A kernel found among the extracted ones names its packages only;
                    // their files stay in the cache's debs directory.
                    let f = p.file.clone().unwrap_or_else(|| cache.debs_dir().join(format!("{}_{}_{}.deb", p.name, p.version.replace(':', "%3a"), p.arch)));
                    if !f.is_file() {
                        return Err(Error::of(
                            ErrorKind::NotFound,
                            f.display().to_string(),
                            format!(
                                "{name} resolves to {}, extracted in the cache, but its package file is gone: remove {} to fetch it again",
                                r.release,
                                r.dir.as_ref().map_or_else(String::new, |d| d.display().to_string())
                            ),
                        ));
                    }
                    files.push(f);
                }
                if files.is_empty() {
                    return Err(Error::new(name.to_string(), format!("resolves to {} but names no package", r.release)));
                }
                Ok(files)
            }
            KernelSource::Catalog(release) => Err(Error::of(
                ErrorKind::WrongInput,
                catalog_label(release),
                "a reduced kernel of the built-in catalog has no image to boot: give the kernel's package or its debian: name",
            )),
            KernelSource::Running => {
                Err(Error::of(ErrorKind::WrongInput, SYSFS_BTF, "the running kernel cannot be booted in a VM: give a kernel package, image or debian: name"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form_once() {
        assert_eq!(KernelSource::parse("kernels/6.1/vmlinux.btf").ok(), Some(KernelSource::Path("kernels/6.1/vmlinux.btf".into())));
        assert_eq!(
            KernelSource::parse("debian:bookworm").ok(),
            Some(KernelSource::Debian(DebianName::Suite { suite: "bookworm".into(), arch: None, flavour: None }))
        );
        let e = KernelSource::parse("debian:bookwrm").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("debian:bookwrm") && e.contains("unknown suite `bookwrm`"), "{e}");
        assert_eq!(KernelSource::parse_or_running(&[]).ok(), Some(vec![KernelSource::Running]));
        assert!(KernelSource::parse_all(&["a.btf".into(), "debian:".into()]).is_err());
        assert_eq!(KernelSource::Catalog("6.1.0-57-amd64".into()).to_string(), "built-in catalog 6.1.0-57-amd64");
    }

    #[test]
    fn resolves_what_each_caller_needs() {
        let mut r = Resolver::new(false);
        let p = KernelSource::Path("k.deb".into());
        assert_eq!(r.btf(&p).ok(), Some(BtfInput::Path("k.deb".into())));
        assert_eq!(r.boot(&p).ok(), Some(vec![PathBuf::from("k.deb")]));
        let c = KernelSource::Catalog("6.1.0-57-amd64".into());
        assert_eq!(r.btf(&c).ok(), Some(BtfInput::Catalog("6.1.0-57-amd64".into())));
        assert_eq!(r.boot(&c).map_err(|e| e.kind).err(), Some(ErrorKind::WrongInput));
        assert_eq!(r.boot(&KernelSource::Running).map_err(|e| e.kind).err(), Some(ErrorKind::WrongInput));
    }
}
