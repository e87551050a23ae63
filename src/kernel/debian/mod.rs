//! Debian kernels by name: `debian:<suite>[/<arch>][:<flavour>]`
//! (`debian:bookworm`, `debian:trixie/arm64:cloud`) or
//! `debian:<release>` (`debian:6.1.0-56-amd64`).
//!
//! A name is resolved through apt's own package lists, in an apt tree of
//! bpfabi's own per suite and architecture (see [`apt`]); the archive URI
//! and keyring come from the machine's apt sources ([`sources`]). The image
//! package (for 7.x kernels: `linux-binary-*` plus `linux-modules-*`) is
//! downloaded with apt into the cache, read once, and its BTF (vmlinux,
//! `.BTF_ids`, every module) stored beside it in the corpus layout, which
//! later reads use. Offline (or when the mirror cannot be reached) a name
//! resolves from the lists already there, else from the kernels already
//! extracted, else fails saying so.
//!
//! Cache layout (`$XDG_CACHE_HOME/bpfabi/debian`, else `~/.cache/...`):
//! `apt/<suite>_<arch>/` apt trees, `debs/` packages as apt names them,
//! `kernels/<release>/` extracted BTF with `meta.json` and `config`.

pub mod apt;
pub mod prune;
pub mod sources;
/// Debian version ordering (moved to [`crate::release`], kept here by name).
pub use crate::release as version;

use super::arch::Arch;
use super::LoadOptions;
#[cfg(feature = "deb")]
use crate::bytes::Bytes;
use crate::error::{Error, Result};
use apt::{AptTree, Stanza};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A parsed `debian:` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebianName {
    /// The current kernel of a suite.
    #[allow(missing_docs)]
    Suite { suite: String, arch: Option<Arch>, flavour: Option<String> },
    /// A kernel by its release string (`uname -r`).
    #[allow(missing_docs)]
    Release { release: String },
}

/// Suites a name may use (codenames, their backports, and aliases).
const SUITES: &[&str] = &["bullseye", "bookworm", "trixie", "forky", "sid", "unstable"];

impl DebianName {
    /// Parse `debian:...`; `None` when `s` is not a `debian:` name at all.
    pub fn parse(s: &str) -> Option<Result<DebianName>> {
        let rest = s.strip_prefix("debian:")?;
        Some(Self::parse_rest(rest).map_err(|what| Error::new(s, what)))
    }

    fn parse_rest(rest: &str) -> std::result::Result<DebianName, String> {
        if rest.is_empty() {
            return Err("expected debian:<suite>[/<arch>][:<flavour>] or debian:<release>".into());
        }
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            if rest.contains(['/', ' ']) {
                return Err("a release name takes no /<arch> (the flavour names the architecture)".into());
            }
            return Ok(DebianName::Release { release: rest.to_string() });
        }
        let (head, flavour) = match rest.split_once(':') {
            Some((h, f)) if !f.is_empty() => (h, Some(f.to_string())),
            Some(_) => return Err("empty flavour after ':'".into()),
            None => (rest, None),
        };
        let (suite, arch) = match head.split_once('/') {
            Some((s, a)) => (s, Some(Arch::from_name(a).ok_or_else(|| format!("unknown architecture `{a}` (expected one of {})", arch_list()))?)),
            None => (head, None),
        };
        let base = suite.strip_suffix("-backports").unwrap_or(suite);
        if !SUITES.contains(&base) || (suite.ends_with("-backports") && matches!(base, "sid" | "unstable")) {
            return Err(format!("unknown suite `{suite}` (expected one of {}, or <codename>-backports)", SUITES.join(", ")));
        }
        let suite = if suite == "unstable" { "sid".to_string() } else { suite.to_string() };
        Ok(DebianName::Suite { suite, arch, flavour })
    }
}

fn arch_list() -> String {
    super::arch::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

impl std::fmt::Display for DebianName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DebianName::Release { release } => write!(f, "debian:{release}"),
            DebianName::Suite { suite, arch, flavour } => {
                write!(f, "debian:{suite}")?;
                if let Some(a) = arch {
                    write!(f, "/{}", a.name())?;
                }
                if let Some(fl) = flavour {
                    write!(f, ":{fl}")?;
                }
                Ok(())
            }
        }
    }
}

/// bpfabi's cache of Debian kernels.
#[derive(Debug, Clone)]
pub struct Cache {
    /// The cache directory.
    pub dir: PathBuf,
}

impl Cache {
    /// `$XDG_CACHE_HOME/bpfabi/debian`, else `$HOME/.cache/bpfabi/debian`.
    pub fn default_location() -> Result<Cache> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .ok_or_else(|| Error::new("debian:", "neither XDG_CACHE_HOME nor HOME is set: no cache directory"))?;
        Ok(Cache { dir: base.join("bpfabi").join("debian") })
    }
    /// Where extracted kernels live.
    pub fn kernels_dir(&self) -> PathBuf {
        self.dir.join("kernels")
    }
    /// Where downloaded packages live.
    pub fn debs_dir(&self) -> PathBuf {
        self.dir.join("debs")
    }
}

/// How to resolve.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// Never touch the network (`BPFABI_OFFLINE=1`).
    pub offline: bool,
    /// Refresh package lists older than this many seconds (`BPFABI_DEBIAN_MAX_AGE`, default a day).
    pub max_age: u64,
    /// Refresh the lists whatever their age.
    pub refresh: bool,
    /// Download and extract (else only say what the name resolves to).
    pub fetch: bool,
    /// Show what is being done on stderr (a terminal only): list updates,
    /// downloads, reading the packages.
    pub progress: bool,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ResolveOptions {
            offline: env("BPFABI_OFFLINE").is_some_and(|v| v != "0"),
            max_age: env("BPFABI_DEBIAN_MAX_AGE").and_then(|v| v.parse().ok()).unwrap_or(86_400),
            refresh: false,
            fetch: true,
            progress: false,
        }
    }
}

/// One package of a resolved kernel.
#[derive(Debug, Clone, Serialize)]
pub struct PackageRef {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Architecture.
    pub arch: String,
    /// Size in bytes.
    pub size: u64,
    /// The downloaded file, once in the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// What a name resolved to.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// The name as given.
    pub name: String,
    /// Kernel release it resolved to.
    pub release: String,
    /// Architecture.
    pub arch: Arch,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Suite, when named by suite.
    pub suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Flavour.
    pub flavour: Option<String>,
    /// Packages that hold it.
    pub packages: Vec<PackageRef>,
    /// The extracted kernel directory (readable by `kernel::load`), once fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// `lists` (fresh apt lists), `stale-lists`, `cache` (extracted kernels only).
    pub resolved_from: &'static str,
    /// Whether the kernel was already extracted before this call.
    pub was_cached: bool,
    /// Things worth knowing (fallbacks taken, refresh failures).
    pub notes: Vec<String>,
}

/// An extracted kernel in the cache (`kernels/<release>/meta.json`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CachedKernel {
    /// Kernel release.
    pub kernel_release: String,
    /// Architecture.
    pub arch: String,
    #[serde(default)]
    /// Suite it came from.
    pub suite: Option<String>,
    #[serde(default)]
    /// Flavour.
    pub flavour: Option<String>,
    #[serde(default)]
    /// Packages read.
    pub packages: Vec<CachedPackage>,
    #[serde(default)]
    /// Modules with BTF.
    pub modules: usize,
    #[serde(skip_deserializing)]
    /// Where it is.
    pub dir: PathBuf,
    #[serde(skip_deserializing)]
    /// Bytes on disk.
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
/// A package a cached kernel was read from.
pub struct CachedPackage {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    #[serde(default)]
    /// SHA-256 of the .deb.
    pub sha256: String,
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Every extracted kernel in the cache, newest version first, with the
/// size each takes on disk.
pub fn list_cached(cache: &Cache) -> Vec<CachedKernel> {
    let mut v = list_cached_quick(cache);
    for k in &mut v {
        k.bytes = dir_size(&k.dir);
    }
    v
}

/// Like [`list_cached`] without walking the directories for sizes.
fn list_cached_quick(cache: &Cache) -> Vec<CachedKernel> {
    let Ok(rd) = std::fs::read_dir(cache.kernels_dir()) else { return Vec::new() };
    let mut out: Vec<CachedKernel> = rd
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let dir = e.path();
            let text = std::fs::read_to_string(dir.join("meta.json")).ok()?;
            let mut k: CachedKernel = serde_json::from_str(&text).ok()?;
            k.dir = dir;
            Some(k)
        })
        .collect();
    let ver = |k: &CachedKernel| k.packages.first().map(|p| p.version.clone()).unwrap_or_default();
    out.sort_by(|a, b| version::compare(&ver(b), &ver(a)).then_with(|| a.kernel_release.cmp(&b.kernel_release)));
    out
}

/// Suites a release string is looked for in, most likely first.
fn suites_for_release(release: &str) -> Vec<&'static str> {
    if release.contains("+deb12") {
        vec!["bookworm-backports"]
    } else if release.contains("+deb13") {
        vec!["trixie", "trixie-backports"]
    } else if release.contains("+deb14") {
        vec!["forky", "sid"]
    } else if release.starts_with("6.1.") {
        vec!["bookworm"]
    } else if release.starts_with("5.10.") {
        vec!["bullseye"]
    } else {
        vec!["sid", "forky", "trixie", "trixie-backports", "bookworm", "bookworm-backports", "bullseye"]
    }
}

/// Make sure `tree` has package lists: refresh when stale and allowed. Returns
/// whether the lists are fresh; errors only when there are none at all.
fn ensure_lists(tree: &AptTree, opts: &ResolveOptions, notes: &mut Vec<String>) -> Result<bool> {
    let age = tree.lists_age();
    let stale = opts.refresh || age.is_none_or(|a| a > opts.max_age);
    if !stale {
        return Ok(true);
    }
    let label = format!("{}/{}", tree.suite, tree.arch.name());
    if opts.offline {
        return match age {
            Some(a) => {
                notes.push(format!("offline: using {label} package lists from {}h ago", a / 3600));
                Ok(false)
            }
            None => Err(Error::new(format!("debian:{label}"), "offline (BPFABI_OFFLINE) and no package lists for it in the cache")),
        };
    }
    let archive = sources::machine_archive().ok_or_else(|| {
        Error::new("/etc/apt", "no Debian archive among this machine's apt sources (looked for a `deb` source of the installed codename or any Debian suite)")
    })?;
    tree.prepare(&archive)?;
    let spinner = crate::progress::Spinner::new(opts.progress, &format!("debian:{label}"));
    spinner.message("updating package lists");
    let updated = tree.update();
    drop(spinner);
    match updated {
        Ok(()) => Ok(true),
        Err(e) => match tree.lists_age() {
            Some(a) => {
                notes.push(format!("could not refresh {label} ({e}); using lists from {}h ago", a / 3600));
                Ok(false)
            }
            None => Err(e),
        },
    }
}

/// Newest stanza of `name` in `tree`.
fn newest(tree: &AptTree, name: &str) -> Result<Option<Stanza>> {
    let mut v = tree.show(&[name.to_string()])?;
    v.retain(|s| s.package == name);
    v.sort_by(|a, b| version::compare(&b.version, &a.version));
    Ok(v.into_iter().next())
}

/// The packages holding kernel `release`'s image (and modules): the image
/// package itself, or its `linux-binary-*` and `linux-modules-*` (7.x),
/// with `linux-base-*` for the configuration (`lib/modules/R/config`,
/// about 0.5 MB) when the image depends on it.
fn packages_of(tree: &AptTree, image: &Stanza) -> Result<Vec<Stanza>> {
    let deps = image.depends_list();
    let split: Vec<&(String, Option<String>)> = deps
        .iter()
        .filter(|(n, _)| {
            n.starts_with("linux-binary-")
                || n.starts_with("linux-modules-")
                || n.strip_prefix("linux-base-").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    if split.is_empty() {
        return Ok(vec![image.clone()]);
    }
    let mut out = Vec::new();
    for (n, v) in split {
        let all = tree.show(std::slice::from_ref(n))?;
        let pick = all.into_iter().filter(|s| &s.package == n).find(|s| v.as_ref().is_none_or(|v| &s.version == v));
        match pick {
            Some(s) => out.push(s),
            None => return Err(Error::new(n, format!("not in the {} lists", tree.suite))),
        }
    }
    Ok(out)
}

/// Is `abi` (what is left of `linux-image-<abi>-<flavour>`) a bare ABI
/// (`6.1.0-50`, `6.12.117+deb13`), not another flavour's prefix?
fn bare_abi(abi: &str) -> bool {
    let rest = abi.replacen("+deb", "", 1);
    abi.starts_with(|c: char| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// Image packages of `flavour` in the lists, newest first: the candidates
/// when the metapackage's build is missing from the mirror.
fn builds_of_flavour(tree: &AptTree, flavour: &str) -> Result<Vec<Stanza>> {
    let suffix = format!("-{flavour}");
    let names: Vec<String> = tree
        .pkgnames("linux-image-")?
        .into_iter()
        .filter(|n| n.strip_prefix("linux-image-").and_then(|r| r.strip_suffix(&suffix)).is_some_and(bare_abi))
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut v: Vec<Stanza> = tree.show(&names)?.into_iter().filter(|s| names.contains(&s.package)).collect();
    v.sort_by(|a, b| version::compare(&b.version, &a.version).then_with(|| b.package.cmp(&a.package)));
    v.dedup_by(|a, b| a.package == b.package && a.version == b.version);
    Ok(v)
}

/// Download `pkgs` into the cache (reusing complete files).
fn fetch(tree: &AptTree, cache: &Cache, pkgs: &[Stanza]) -> Result<Vec<PathBuf>> {
    let debs = cache.debs_dir();
    let mut out = Vec::new();
    for s in pkgs {
        let file = debs.join(s.deb_file_name());
        let complete = std::fs::metadata(&file).is_ok_and(|m| s.size == 0 || m.len() == s.size);
        if !complete {
            tree.download(&s.package, &s.version, &debs)?;
        }
        if !file.is_file() {
            return Err(Error::new(file.display().to_string(), "apt-get download reported success but the file is not there"));
        }
        out.push(file);
    }
    Ok(out)
}

/// Read the downloaded packages once and store their BTF in the corpus
/// layout under `kernels/<release>/`.
#[allow(clippy::too_many_arguments)]
fn extract(
    cache: &Cache,
    release: &str,
    arch: Arch,
    suite: Option<&str>,
    flavour: Option<&str>,
    pkgs: &[Stanza],
    files: &[PathBuf],
    progress: bool,
) -> Result<PathBuf> {
    // The package reader's byte bar shows the reading (a terminal only).
    let k = super::load(files, &LoadOptions { progress, ..LoadOptions::default() })?;
    let kernels = cache.kernels_dir();
    let tmp = kernels.join(format!(".partial-{release}-{}", std::process::id()));
    let io = |p: &Path, e: std::io::Error| Error::io(p.display().to_string(), e);
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("modules")).map_err(|e| io(&tmp, e))?;
    let write = |p: PathBuf, b: &[u8]| std::fs::write(&p, b).map_err(|e| io(&p, e));
    write(tmp.join("vmlinux.btf"), k.vmlinux.btf.raw_bytes().as_slice())?;
    if let Some(ids) = &k.vmlinux.btf_ids {
        write(tmp.join("vmlinux.btf_ids"), ids.as_slice())?;
    }
    for m in &k.modules {
        write(tmp.join("modules").join(format!("{}.btf", m.name)), m.btf.raw_bytes().as_slice())?;
        if let Some(ids) = &m.btf_ids {
            write(tmp.join("modules").join(format!("{}.btf_ids", m.name)), ids.as_slice())?;
        }
    }
    // The kernel configuration (JIT facts for `check`), from the image package.
    #[cfg(feature = "deb")]
    for f in files {
        let bytes = Bytes::from_path(f).map_err(|e| io(f, e))?;
        if let Some((_, cfg)) = super::deb::find_file(&bytes, &f.display().to_string(), &super::is_config_path, 16 << 20)? {
            write(tmp.join("config"), &cfg)?;
            break;
        }
    }
    let meta = serde_json::json!({
        "schema": 1,
        "created_by": "bpfabi kernels",
        "kernel_release": k.release.clone().unwrap_or_else(|| release.to_string()),
        "arch": arch.name(),
        "suite": suite,
        "flavour": flavour,
        "modules": k.modules.len(),
        "packages": pkgs.iter().map(|s| serde_json::json!({"name": s.package, "version": s.version, "sha256": s.sha256, "size": s.size})).collect::<Vec<_>>(),
    });
    write(tmp.join("meta.json"), serde_json::to_string_pretty(&meta).unwrap_or_default().as_bytes())?;
    let dest = kernels.join(release);
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, e))?;
    Ok(dest)
}

/// Flavour names to try for a metapackage: as given, then combined with
/// the architecture's default (`cloud` -> `cloud-amd64`, `lpae` -> `armmp-lpae`).
fn flavour_candidates(arch: Arch, flavour: Option<&str>) -> Vec<String> {
    let def = arch.default_flavour();
    match flavour {
        None => vec![def.to_string()],
        Some(f) => {
            let mut v = vec![f.to_string(), format!("{f}-{def}"), format!("{def}-{f}")];
            v.dedup();
            v
        }
    }
}

/// Resolve (and with `opts.fetch`, download and extract) a name.
pub fn resolve(name: &DebianName, cache: &Cache, opts: &ResolveOptions) -> Result<Resolution> {
    let label = name.to_string();
    let mut notes = Vec::new();
    match name {
        DebianName::Release { release } => {
            let cached =
                list_cached_quick(cache).into_iter().find(|k| &k.kernel_release == release || k.dir.file_name().is_some_and(|f| f == release.as_str()));
            if let Some(k) = cached {
                return Ok(from_cached(&label, k, "cache", notes));
            }
            let arch = Arch::from_release(release)
                .ok_or_else(|| Error::new(&label, "cannot tell the architecture from this release (expected a Debian flavour suffix such as -amd64)"))?;
            let mut looked = Vec::new();
            for suite in suites_for_release(release) {
                let tree = AptTree::new(&cache.dir, suite, arch);
                let fresh = match ensure_lists(&tree, opts, &mut notes) {
                    Ok(f) => f,
                    Err(e) => {
                        notes.push(e.to_string());
                        continue;
                    }
                };
                looked.push(suite);
                let Some(image) = newest(&tree, &format!("linux-image-{release}"))? else { continue };
                let pkgs = packages_of(&tree, &image)?;
                return finish(&label, cache, &tree, release, arch, Some(suite), None, pkgs, fresh, notes, opts);
            }
            Err(Error::new(
                &label,
                format!(
                    "no package linux-image-{release} in {} for {}{}",
                    if looked.is_empty() { "any reachable suite".to_string() } else { looked.join(", ") },
                    arch.name(),
                    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) }
                ),
            ))
        }
        DebianName::Suite { suite, arch, flavour } => {
            let arch = match arch {
                Some(a) => *a,
                None => Arch::native().ok_or_else(|| Error::new(&label, "cannot tell this machine's architecture: name one (debian:<suite>/<arch>)"))?,
            };
            let tree = AptTree::new(&cache.dir, suite, arch);
            let fresh = match ensure_lists(&tree, opts, &mut notes) {
                Ok(f) => f,
                Err(e) => {
                    // No lists: the newest extracted kernel of this suite/arch/flavour.
                    let want = flavour_candidates(arch, flavour.as_deref());
                    let hit = list_cached_quick(cache)
                        .into_iter()
                        .find(|k| k.suite.as_deref() == Some(suite.as_str()) && k.arch == arch.name() && k.flavour.as_ref().is_some_and(|f| want.contains(f)));
                    return match hit {
                        Some(k) => {
                            notes.push(format!("{e}; using the cached kernel"));
                            Ok(from_cached(&label, k, "cache", notes))
                        }
                        None => Err(Error::new(&label, format!("{}; nothing cached for it either: run `bpfabi kernels {label}` once online", e.what))),
                    };
                }
            };
            // The metapackage names the current build.
            let mut flav = None;
            let mut current = None;
            for f in flavour_candidates(arch, flavour.as_deref()) {
                if let Some(meta) = newest(&tree, &format!("linux-image-{f}"))? {
                    current = meta
                        .depends_list()
                        .into_iter()
                        .find(|(n, _)| n.starts_with("linux-image-") && n.chars().nth(12).is_some_and(|c| c.is_ascii_digit()))
                        .map(|(n, _)| n);
                    flav = Some(f);
                    break;
                }
            }
            let Some(flav) = flav else {
                return Err(Error::new(
                    &label,
                    format!(
                        "no kernel metapackage linux-image-{} in {suite} for {}",
                        flavour_candidates(arch, flavour.as_deref()).join(" / linux-image-"),
                        arch.name()
                    ),
                ));
            };
            // That build first, then older builds of the same flavour (some
            // mirrors lack the newest build of some architectures).
            let mut cands: Vec<Stanza> = Vec::new();
            if let Some(c) = &current {
                if let Some(s) = newest(&tree, c)? {
                    cands.push(s);
                }
            }
            for s in builds_of_flavour(&tree, &flav)? {
                if !cands.iter().any(|c| c.package == s.package) {
                    cands.push(s);
                }
            }
            if cands.is_empty() {
                return Err(Error::new(&label, format!("linux-image-{flav} names no image package present in the {suite} lists")));
            }
            // A mirror that lacks one build usually lacks every build of that
            // archive directory (a security archive without an architecture):
            // after a failed download, builds whose pool directory is the one
            // of the failed URL are skipped, so the fallback reaches another
            // archive's build.
            let mut tried = Vec::new();
            let mut failed_urls: Vec<String> = Vec::new();
            for image in cands {
                if tried.len() >= 8 {
                    break;
                }
                if served_from_failed_dir(&image.filename, &failed_urls) {
                    continue;
                }
                let release = image.package.trim_start_matches("linux-image-").to_string();
                if current.as_deref().is_some_and(|c| c != image.package) {
                    notes.push(format!("falling back to the older build {release}"));
                }
                let pkgs = packages_of(&tree, &image)?;
                match finish(&label, cache, &tree, &release, arch, Some(suite), Some(&flav), pkgs, fresh, notes.clone(), opts) {
                    Ok(r) => return Ok(r),
                    // Only a failed download moves on to an older build;
                    // a package that cannot be read would not read better older.
                    Err(e) if e.kind != crate::ErrorKind::Fetch => return Err(e),
                    Err(e) => {
                        notes.push(format!("{release}: {}", e.what));
                        tried.push(format!("{release} ({})", e.what));
                        failed_urls.push(e.file.clone());
                    }
                }
            }
            Err(Error::new(&label, format!("no build of {flav} in {suite} could be fetched; tried {}", tried.join("; "))))
        }
    }
}

/// Whether the archive file `filename` (a `Filename:` field, relative to an
/// archive root) lies in the directory of one of the URLs that failed to
/// download: the same archive's pool directory, which the mirror lacks.
fn served_from_failed_dir(filename: &str, failed_urls: &[String]) -> bool {
    let Some((dir, _)) = filename.rsplit_once('/') else { return false };
    failed_urls.iter().any(|u| u.rsplit_once('/').is_some_and(|(udir, _)| udir.ends_with(&format!("/{dir}"))))
}

fn from_cached(label: &str, k: CachedKernel, from: &'static str, notes: Vec<String>) -> Resolution {
    Resolution {
        name: label.to_string(),
        release: k.kernel_release.clone(),
        arch: Arch::from_name(&k.arch).unwrap_or(Arch::Amd64),
        suite: k.suite.clone(),
        flavour: k.flavour.clone(),
        packages: k
            .packages
            .iter()
            .map(|p| PackageRef { name: p.name.clone(), version: p.version.clone(), arch: k.arch.clone(), size: 0, file: None })
            .collect(),
        dir: Some(k.dir.clone()),
        resolved_from: from,
        was_cached: true,
        notes,
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    label: &str,
    cache: &Cache,
    tree: &AptTree,
    release: &str,
    arch: Arch,
    suite: Option<&str>,
    flavour: Option<&str>,
    pkgs: Vec<Stanza>,
    fresh: bool,
    notes: Vec<String>,
    opts: &ResolveOptions,
) -> Result<Resolution> {
    let dir = cache.kernels_dir().join(release);
    // Cached only when read from every package resolved now (a cache made
    // before `linux-base-*` was read lacks the configuration).
    let was_cached = std::fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<CachedKernel>(&t).ok())
        .is_some_and(|k| pkgs.iter().all(|s| k.packages.iter().any(|p| p.name == s.package)));
    let mut r = Resolution {
        name: label.to_string(),
        release: release.to_string(),
        arch,
        suite: suite.map(str::to_string),
        flavour: flavour.map(str::to_string),
        packages: pkgs
            .iter()
            .map(|s| {
                let f = cache.debs_dir().join(s.deb_file_name());
                PackageRef { name: s.package.clone(), version: s.version.clone(), arch: s.architecture.clone(), size: s.size, file: f.is_file().then_some(f) }
            })
            .collect(),
        dir: was_cached.then(|| dir.clone()),
        resolved_from: if fresh { "lists" } else { "stale-lists" },
        was_cached,
        notes,
    };
    if was_cached || !opts.fetch {
        return Ok(r);
    }
    if opts.offline {
        return Err(Error::new(label, format!("resolves to {release}, which is not downloaded, and BPFABI_OFFLINE is set")));
    }
    let spinner = crate::progress::Spinner::new(opts.progress, label);
    let total: u64 = pkgs.iter().map(|s| s.size).sum();
    spinner.message(format!("downloading {} ({:.1} MiB)", pkgs.iter().map(|s| s.package.as_str()).collect::<Vec<_>>().join(", "), total as f64 / 1048576.0));
    let files = fetch(tree, cache, &pkgs)?;
    drop(spinner);
    for (p, f) in r.packages.iter_mut().zip(&files) {
        p.file = Some(f.clone());
    }
    r.dir = Some(extract(cache, release, arch, suite, flavour, &pkgs, &files, opts.progress)?);
    Ok(r)
}

/// The release of the built-in catalog's entry for `name`, when it has one.
pub fn catalog_release(name: &DebianName) -> Option<String> {
    let idx = crate::catalog::builtin().ok()?;
    match name {
        DebianName::Release { release } => idx.entries.iter().find(|e| &e.release == release).map(|e| e.release.clone()),
        DebianName::Suite { suite, arch, flavour } => {
            let arch = arch.or_else(Arch::native)?;
            crate::catalog::lookup(idx, suite, arch.name(), flavour.as_deref()).map(|e| e.release.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_skips_the_directory_that_failed() {
        // bullseye arm64 on a mirror whose security archive lacks the builds.
        let failed =
            vec!["http://mirror.example/debian-security/pool/updates/main/l/linux-signed-arm64/linux-image-5.10.0-46-arm64_5.10.262-1_arm64.deb".to_string()];
        assert!(served_from_failed_dir("pool/updates/main/l/linux-signed-arm64/linux-image-5.10.0-45-arm64_5.10.259-1_arm64.deb", &failed));
        assert!(!served_from_failed_dir("pool/main/l/linux-signed-arm64/linux-image-5.10.0-32-arm64_5.10.223-1_arm64.deb", &failed));
        assert!(!served_from_failed_dir("pool/updates/main/l/linux-signed-6.1-arm64/linux-image-6.1-arm64_6.1.180-1_arm64.deb", &failed));
        assert!(!served_from_failed_dir("no-directory.deb", &failed));
        assert!(!served_from_failed_dir("pool/main/x/y.deb", &[]));
    }

    #[test]
    fn names() {
        let p = |s: &str| DebianName::parse(s).expect("debian name");
        assert_eq!(p("debian:bookworm").ok(), Some(DebianName::Suite { suite: "bookworm".into(), arch: None, flavour: None }));
        assert_eq!(
            p("debian:trixie/arm64:cloud").ok(),
            Some(DebianName::Suite { suite: "trixie".into(), arch: Some(Arch::Arm64), flavour: Some("cloud".into()) })
        );
        assert_eq!(p("debian:6.1.0-56-amd64").ok(), Some(DebianName::Release { release: "6.1.0-56-amd64".into() }));
        assert_eq!(
            p("debian:bookworm-backports/ppc64el").ok(),
            Some(DebianName::Suite { suite: "bookworm-backports".into(), arch: Some(Arch::Ppc64el), flavour: None })
        );
        assert_eq!(p("debian:unstable").ok(), Some(DebianName::Suite { suite: "sid".into(), arch: None, flavour: None }));
        for bad in ["debian:", "debian:bookwrm", "debian:bookworm/vax", "debian:bookworm:", "debian:sid-backports", "debian:6.1.0-56-amd64/arm64"] {
            assert!(p(bad).is_err(), "{bad}");
        }
        assert!(DebianName::parse("/boot/vmlinuz").is_none());
        assert_eq!(p("debian:trixie/arm64:cloud").ok().map(|n| n.to_string()).as_deref(), Some("debian:trixie/arm64:cloud"));
    }

    #[test]
    fn release_suites_and_abis() {
        assert_eq!(suites_for_release("6.1.0-56-amd64"), vec!["bookworm"]);
        assert_eq!(suites_for_release("6.12.95+deb12-amd64"), vec!["bookworm-backports"]);
        assert_eq!(suites_for_release("7.2.13+deb14-arm64"), vec!["forky", "sid"]);
        assert!(bare_abi("6.1.0-50"));
        assert!(bare_abi("6.12.117+deb13"));
        assert!(!bare_abi("6.1.0-50-cloud"));
        assert!(!bare_abi("6.12.117+deb13-rt"));
        assert_eq!(flavour_candidates(Arch::Amd64, Some("cloud")), vec!["cloud", "cloud-amd64", "amd64-cloud"]);
        assert_eq!(flavour_candidates(Arch::Armhf, None), vec!["armmp"]);
    }
}
