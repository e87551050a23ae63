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

pub mod arch;
#[cfg(feature = "deb")]
pub mod deb;
pub mod debian;
pub mod decompress;
mod find;
mod image;
pub mod module_names;
mod modules;
pub mod rawimage;
pub mod source;
mod tree;

pub use find::{btf_ids_from_image, image_candidates, ImageLookup};
pub use source::{BtfInput, KernelSource, Resolver};

/// Is this path (inside a package or tree) a kernel image? `boot/vmlinuz-*`
/// and `boot/vmlinux-*` (Debian up to 6.x), or `lib/modules/RELEASE/vmlinuz`
/// (`usr/` included: Debian 7.x's `linux-binary-*` packages put it there).
pub fn is_image_path(path: &str) -> bool {
    path.contains("boot/vmlinuz-") || path.contains("boot/vmlinux-") || release_dir_file(path) == Some("vmlinuz")
}

/// Is `path` (inside a package or tree) a kernel's `.config`:
/// `boot/config-<release>`, or Debian 7.x's `lib/modules/<release>/config`
/// (in `linux-base-<release>`)?
pub fn is_config_path(path: &str) -> bool {
    path.contains("boot/config-") || release_dir_file(path) == Some("config")
}

/// The file name of a path `.../lib/modules/<release>/<file>` whose release
/// starts with a digit (Debian 7.x keeps the image and the configuration
/// there), else `None`.
fn release_dir_file(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    let (Some(file), Some(release), Some("modules"), Some("lib")) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return None };
    release.as_bytes().first().is_some_and(u8::is_ascii_digit).then_some(file)
}

use crate::btf::Btf;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, ReadError, Result};
use crate::release::Release;
use decompress::Compression;
use serde::Serialize;
use source::catalog_label;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One BTF of a kernel: vmlinux or a module.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KernelBtf {
    /// "vmlinux" or the module name.
    pub name: String,
    /// The parsed BTF (split BTF for modules).
    pub btf: Arc<Btf>,
    /// The `.BTF_ids` section, when the input had one.
    pub btf_ids: Option<Bytes>,
    /// Where it was read from (for messages).
    pub origin: String,
}

/// A kernel: vmlinux plus modules.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Kernel {
    /// `uname -r` style release string when known.
    pub release: Option<String>,
    /// The inputs it was built from, as given.
    pub inputs: Vec<String>,
    /// vmlinux BTF and `.BTF_ids`.
    pub vmlinux: KernelBtf,
    /// Module BTFs (split on the vmlinux).
    pub modules: Vec<KernelBtf>,
    /// How it was read: notes for the user, config, modules without BTF.
    pub info: LoadInfo,
}

impl KernelBtf {
    /// One BTF of a kernel built in memory (synthetic kernels, tests).
    pub fn new(name: impl Into<String>, btf: Arc<Btf>, btf_ids: Option<Bytes>, origin: impl Into<String>) -> Self {
        KernelBtf { name: name.into(), btf, btf_ids, origin: origin.into() }
    }
}

impl Kernel {
    /// A kernel assembled in memory from its BTFs (no inputs, nothing noted).
    pub fn new(release: Option<String>, vmlinux: KernelBtf, modules: Vec<KernelBtf>) -> Self {
        Kernel { release, inputs: Vec::new(), vmlinux, modules, info: LoadInfo::default() }
    }

    /// For a kernel loaded with [`LoadOptions::lazy_btf`]: the error a full
    /// load would have given for a BTF one of whose types was read and
    /// found bad (its name offsets or type ids out of range), in the words
    /// of that load (the file, and for a module the vmlinux it sits on).
    /// `None` when every type read so far was good.
    pub fn deferred_error(&self) -> Option<Error> {
        if let Some(e) = self.vmlinux.btf.deferred_error() {
            return Some(e.in_file(&self.vmlinux.origin));
        }
        self.modules.iter().find_map(|m| {
            let mut e = m.btf.deferred_error()?.in_file(&m.origin);
            e.what = format!("{} (as split BTF on top of {})", e.what, self.vmlinux.origin);
            Some(e)
        })
    }
}

/// What loading learnt besides the BTF itself.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadInfo {
    /// Things the user should know (why flags are unknown, where `.BTF_ids`
    /// came from, a `--release` that was not used...).
    pub notes: Vec<Note>,
    /// The kernel's `.config` text (`boot/config-*`, a corpus `config`).
    pub config: Option<Arc<str>>,
    /// Modules of a package or tree that carry no `.BTF` section.
    pub modules_without_btf: Vec<ModuleWithoutBtf>,
    /// Where the vmlinux `.BTF_ids` came from (a file, the image), when any.
    pub btf_ids_origin: Option<String>,
    /// Modules whose split BTF did not parse on this vmlinux (kept only
    /// with [`LoadOptions::keep_bad_modules`]): (name, origin, why).
    pub bad_modules: Vec<(String, String, String)>,
    /// Modules whose vermagic names another release: (name, release).
    pub module_releases: Vec<(String, String)>,
    /// A reduced kernel of the built-in catalog ([`crate::catalog`]): kfuncs,
    /// helpers and type enums only; CO-RE, attach targets and struct_ops
    /// types cannot be judged from it.
    pub reduced: bool,
}

/// A kernel module read without BTF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ModuleWithoutBtf {
    /// Module name.
    pub name: String,
    /// Where it was read.
    pub origin: String,
    /// It imports `register_btf_kfunc_id_set`: it registers kfunc sets,
    /// which the kernel cannot do for a module without BTF.
    pub registers_kfuncs: bool,
}

/// A note about how a kernel was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Note {
    /// What the note is about.
    pub kind: NoteKind,
    /// The note, in words.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
/// Kinds of notes a load leaves.
#[non_exhaustive]
pub enum NoteKind {
    /// No `.BTF_ids` for vmlinux: KF_* flags are unknown; says why and how to get them.
    BtfIdsMissing,
    /// `.BTF_ids` taken from somewhere other than the input itself (the running kernel's image).
    BtfIdsSource,
    /// `--release` disagrees with the release the inputs state; the inputs win.
    ReleaseIgnored,
    /// A reduced kernel from the built-in catalog.
    Catalog,
}

impl LoadInfo {
    fn note(&mut self, kind: NoteKind, text: impl Into<String>) {
        self.notes.push(Note { kind, text: text.into() });
    }
}

impl Kernel {
    /// Kernel version from the release string, when known.
    /// The series of its release (`6.12` of `6.12.117+deb13-amd64`).
    pub fn version(&self) -> Option<Release> {
        self.release.as_deref().and_then(Release::of_kernel).map(Release::series)
    }
    /// vmlinux then every module.
    pub fn btfs(&self) -> impl Iterator<Item = &KernelBtf> {
        std::iter::once(&self.vmlinux).chain(self.modules.iter())
    }
    /// For each of `names`, the first BTF of [`Kernel::btfs`] (vmlinux
    /// first) with an own type of `kind` so named: (its index in `btfs()`,
    /// the lowest such id). One [`Btf::first_of_kind`] pass per BTF, a
    /// module's only for the names not found before it.
    pub fn first_of_kind(&self, kind: crate::btf::Kind, names: &[&str]) -> Vec<Option<(usize, crate::btf::TypeId)>> {
        let mut found = vec![None; names.len()];
        for (bi, kb) in self.btfs().enumerate() {
            let (at, left): (Vec<usize>, Vec<&str>) =
                names.iter().enumerate().filter(|&(i, _)| found.get(i).is_some_and(Option::is_none)).map(|(i, &n)| (i, n)).unzip();
            if left.is_empty() {
                break;
            }
            for (i, id) in at.into_iter().zip(kb.btf.first_of_kind(kind, &left)) {
                if let (Some(slot), Some(id)) = (found.get_mut(i), id) {
                    *slot = Some((bi, id));
                }
            }
        }
        found
    }
    /// The module called `name`.
    pub fn module(&self, name: &str) -> Option<&KernelBtf> {
        self.modules.iter().find(|m| m.name == name)
    }
    /// The BTF a name lives in: vmlinux (`None`) or the module called so.
    pub fn btf_in(&self, module: Option<&str>) -> Option<&KernelBtf> {
        match module {
            None => Some(&self.vmlinux),
            Some(m) => self.module(m),
        }
    }
    /// The note of this kind, if any.
    pub fn note(&self, kind: NoteKind) -> Option<&str> {
        self.info.notes.iter().find(|n| n.kind == kind).map(|n| n.text.as_str())
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
    /// Draw a progress bar on stderr for long reads (packages, trees) when
    /// stderr is a terminal.
    pub progress: bool,
    /// Record modules whose split BTF does not parse on the vmlinux in
    /// [`LoadInfo::bad_modules`] instead of failing (for `lint`).
    pub keep_bad_modules: bool,
    /// Parse raw and module BTF with [`Btf::parse_lazy`]: each type's
    /// references are checked when it is first read, not all at load. For
    /// commands that read a few types of the kernel (`surface`); they must
    /// then ask [`Kernel::deferred_error`] whether a type they read was bad.
    pub lazy_btf: bool,
    /// Read the kernel's `.config`: a directory's `config`, a package's or
    /// tree's `boot/config-*`, a catalog entry's, and for `/sys/kernel/btf`
    /// the running kernel's (`/boot/config-*`, else `/proc/config.gz`,
    /// decompressed). `check` (`.kconfig` externs, the JIT), `lint`
    /// (pahole's version) and the catalog builder need it; `surface` and
    /// `probe` do not (a corpus kernel's is 260-280 KB read and checked as
    /// UTF-8 for nothing).
    pub config: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            btf_ids: None,
            release: None,
            max_decompressed: decompress::DEFAULT_MAX_OUTPUT,
            modules: true,
            progress: false,
            keep_bad_modules: false,
            lazy_btf: false,
            config: true,
        }
    }
}

impl LoadOptions {
    /// Parse a base BTF blob, lazily when [`LoadOptions::lazy_btf`] asks.
    pub(crate) fn parse_btf(&self, bytes: Bytes) -> std::result::Result<Btf, ReadError> {
        if self.lazy_btf {
            Btf::parse_lazy(bytes)
        } else {
            Btf::parse(bytes)
        }
    }

    /// Parse split BTF on `base`, lazily when [`LoadOptions::lazy_btf`] asks.
    pub(crate) fn parse_split_btf(&self, bytes: Bytes, base: Arc<Btf>) -> std::result::Result<Btf, ReadError> {
        if self.lazy_btf {
            Btf::parse_split_lazy(bytes, base)
        } else {
            Btf::parse_split(bytes, base)
        }
    }
}

/// Check a release given by the user (`--release`): `major.minor` first,
/// then only characters `uname -r` strings use.
pub fn validate_release(r: &str) -> Result<Release> {
    let bad = |why: &str| {
        Error::of(ErrorKind::NotFound, "--release", format!("`{r}` is not a kernel release ({why}); expected e.g. 6.1.0-56-amd64 or 6.12.117+deb13-amd64"))
    };
    if r.is_empty() || r.len() > 64 {
        return Err(bad("empty or longer than 64 characters"));
    }
    if !r.chars().all(|c| c.is_ascii_alphanumeric() || "._+~-".contains(c)) {
        return Err(bad("unexpected characters"));
    }
    let mut parts = r.splitn(3, |c: char| !c.is_ascii_digit());
    let (major, minor) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if major.is_empty() || minor.is_empty() || r.as_bytes().get(major.len()) != Some(&b'.') {
        return Err(bad("it does not start with MAJOR.MINOR"));
    }
    match Release::of_kernel(r).map(Release::series) {
        Some(v) if (2..=20).contains(&v.major) && v.minor < 100 => Ok(v),
        _ => Err(bad("implausible version number")),
    }
}

/// What one input turned out to hold, before base and modules are tied up.
enum Piece {
    /// A vmlinux (base) BTF, parsed, with its optional `.BTF_ids` and release.
    /// `running`: read from `/sys/kernel/btf` (its `.BTF_ids` may be in the image).
    Vmlinux { btf: Box<Btf>, btf_ids: Option<Bytes>, release: Option<String>, origin: String, running: bool },
    /// Split (module) BTF waiting for its base. `base_err` is why it did not
    /// parse as a base on its own (reported if no base turns up).
    Module { name: String, btf: Bytes, btf_ids: Option<Bytes>, origin: String, release: Option<String>, base_err: Option<ReadError> },
    /// A module ELF without `.BTF`.
    NoBtf(ModuleWithoutBtf),
    /// The kernel config (`boot/config-*`, corpus `config`).
    Config(Arc<str>),
}

/// The running kernel: `/sys/kernel/btf/vmlinux` and every module there.
pub fn load_running(opts: &LoadOptions) -> Result<Kernel> {
    load_sources(&[KernelSource::Running], opts)
}

/// Load one kernel from any mix of inputs: exactly one must provide a
/// vmlinux BTF; the others add modules. A module given without its vmlinux
/// gets its base from beside it (see [`find::base_candidates`]). Each input
/// is a [`KernelSource`] (`debian:<name>` included), parsed before any is read.
pub fn load(inputs: &[PathBuf], opts: &LoadOptions) -> Result<Kernel> {
    load_sources(&KernelSource::parse_all(inputs)?, opts)
}

/// [`load`] of sources already parsed: each resolved to its BTF by one
/// [`Resolver`] (`debian:` names to their extracted cache directories, or
/// entries of the built-in catalog read in place).
pub fn load_sources(sources: &[KernelSource], opts: &LoadOptions) -> Result<Kernel> {
    let mut resolver = Resolver::new(opts.progress);
    let expanded = sources.iter().map(|s| resolver.btf(s)).collect::<Result<Vec<_>>>()?;
    if let Some(r) = &opts.release {
        validate_release(r)?;
    }
    let mut pieces = Vec::new();
    let mut paths = Vec::new();
    let mut names = Vec::new();
    let mut reduced = false;
    for e in expanded {
        match e {
            BtfInput::Path(p) => {
                read_input(&p, opts, &mut pieces)?;
                names.push(p.display().to_string());
                paths.push(p);
            }
            BtfInput::Catalog(release) => {
                read_catalog(&release, opts, &mut pieces)?;
                names.push(catalog_label(&release));
                reduced = true;
            }
        }
    }
    let label = names.first().cloned().unwrap_or_default();
    let mut looked = Vec::new();
    if !pieces.iter().any(|p| matches!(p, Piece::Vmlinux { .. })) && pieces.iter().any(|p| matches!(p, Piece::Module { .. })) {
        let (tried, found) = find::base_for_modules(&paths, &pieces);
        looked = tried;
        if let Some(base) = found {
            read_input(&base, opts, &mut pieces)?;
        }
    }
    assemble(pieces, label, names, opts, &looked, reduced)
}

/// What the [`NoteKind::Catalog`] note says.
const CATALOG_NOTE: &str = "reduced kernel from bpfabi's catalog: kfuncs, helpers and type enums only; CO-RE relocations, attach targets and struct_ops types are not checked (give the kernel package, or go online, for those)";

/// A reduced kernel of the built-in catalog ([`crate::catalog`]), read from
/// the bytes compiled into the binary: the files a catalog directory holds
/// (`vmlinux.btf`, `vmlinux.btf_ids`, `config`, `meta.json`,
/// `modules/NAME.btf` and `modules/NAME.btf_ids`), read as [`read_dir`]
/// reads them from disk, without writing or statting any file.
fn read_catalog(release: &str, opts: &LoadOptions, out: &mut Vec<Piece>) -> Result<()> {
    let files = crate::catalog::builtin_entry(release);
    let label = catalog_label(release);
    if files.is_empty() {
        return Err(Error::of(ErrorKind::NotFound, label, "no such entry in the built-in catalog (`bpfabi catalog list`)"));
    }
    let file = |name: &str| files.iter().find(|(p, _)| *p == name).map(|&(_, b)| b);
    let vmlinux = file("vmlinux.btf").ok_or_else(|| Error::of(ErrorKind::NotFound, &label, "the built-in catalog entry has no vmlinux.btf"))?;
    if let Some(c) = file("config").filter(|_| opts.config).and_then(|c| std::str::from_utf8(c).ok()) {
        out.push(Piece::Config(c.into()));
    }
    let origin = format!("{label}/vmlinux.btf");
    let meta: Option<serde_json::Value> = file("meta.json").and_then(|m| serde_json::from_slice(m).ok());
    let release = meta.as_ref().and_then(|v| v.get("kernel_release")?.as_str().map(str::to_string));
    let btf = Btf::parse(Bytes::from_static(vmlinux)).map_err(|e| e.in_file(&origin))?;
    out.push(Piece::Vmlinux { btf: Box::new(btf), btf_ids: file("vmlinux.btf_ids").map(Bytes::from_static), release, origin, running: false });
    if !opts.modules {
        return Ok(());
    }
    for &(p, bytes) in &files {
        let Some(stem) = p.strip_prefix("modules/").and_then(|f| f.strip_suffix(".btf")) else { continue };
        out.push(Piece::Module {
            name: stem.replace('-', "_"),
            btf: Bytes::from_static(bytes),
            btf_ids: file(&format!("modules/{stem}.btf_ids")).map(Bytes::from_static),
            origin: format!("{label}/{p}"),
            release: None,
            base_err: None,
        });
    }
    Ok(())
}

/// Load the built-in catalog's reduced kernel of `release` (see
/// [`crate::catalog`]) from the bytes compiled into the binary: nothing is
/// written or read from disk.
pub fn load_builtin(release: &str, opts: &LoadOptions) -> Result<Kernel> {
    load_sources(&[KernelSource::Catalog(release.to_string())], opts)
}

/// Load a kernel from bytes already in memory (any single-file form:
/// raw BTF, ELF, compressed image, package), named `name` in messages.
pub fn load_bytes(bytes: Bytes, name: &str, opts: &LoadOptions) -> Result<Kernel> {
    if let Some(r) = &opts.release {
        validate_release(r)?;
    }
    let mut pieces = Vec::new();
    read_bytes(bytes, name, Path::new(name), None, opts, &mut pieces, 0)?;
    assemble(pieces, name.to_string(), vec![name.to_string()], opts, &[], false)
}

/// Tie pieces into one kernel: exactly one vmlinux, modules split on it.
/// `looked`: where a base was searched for, for the message when none was found.
/// `catalog`: an input was a built-in catalog entry (a reduced kernel).
fn assemble(pieces: Vec<Piece>, label: String, inputs: Vec<String>, opts: &LoadOptions, looked: &[PathBuf], catalog: bool) -> Result<Kernel> {
    let mut vmlinux = None;
    let mut modules = Vec::new();
    let mut info = LoadInfo::default();
    let mut stated: Option<(String, String)> = None; // (release, origin)
    let mut running = false;
    for piece in pieces {
        match piece {
            Piece::Vmlinux { btf, btf_ids, release: r, origin, running: run } => {
                if vmlinux.is_some() {
                    return Err(Error::of(ErrorKind::Mismatch, origin, "a second vmlinux BTF: give one kernel's vmlinux plus its modules"));
                }
                if let Some(r) = r {
                    stated = Some((r, origin.clone()));
                }
                running = run;
                let btf_ids = match &opts.btf_ids {
                    Some(p) => {
                        info.btf_ids_origin = Some(p.display().to_string());
                        Some(Bytes::from_path(p).map_err(|e| Error::io(p.display().to_string(), e))?)
                    }
                    None => btf_ids,
                };
                vmlinux = Some(KernelBtf { name: "vmlinux".into(), btf: Arc::new(*btf), btf_ids, origin });
            }
            Piece::NoBtf(m) => info.modules_without_btf.push(m),
            Piece::Config(c) => info.config = Some(c),
            m @ Piece::Module { .. } => modules.push(m),
        }
    }
    let Some(mut vmlinux) = vmlinux else {
        return Err(no_vmlinux(&modules, label, looked));
    };
    let mut mods = Vec::new();
    for m in modules {
        if let Piece::Module { name, btf, btf_ids, origin, release: r, .. } = m {
            if stated.is_none() {
                stated = r.clone().map(|r| (r, origin.clone()));
            }
            if let Some(r) = r {
                info.module_releases.push((name.clone(), r));
            }
            let parsed = match opts.parse_split_btf(btf, vmlinux.btf.clone()) {
                Ok(p) => p,
                Err(e) if opts.keep_bad_modules => {
                    info.bad_modules.push((name, origin, format!("split BTF does not parse on this vmlinux: {e}")));
                    continue;
                }
                Err(e) => {
                    let mut e = e.in_file(&origin);
                    e.what = format!("{} (as split BTF on top of {})", e.what, vmlinux.origin);
                    return Err(e);
                }
            };
            // Parsing read the whole type section: a kernel's modules are
            // parsed one after another, each handed back before the next.
            parsed.release_pages();
            mods.push(KernelBtf { name, btf: Arc::new(parsed), btf_ids, origin });
        }
    }
    mods.sort_by(|a, b| a.name.cmp(&b.name));
    info.modules_without_btf.sort_by(|a, b| a.name.cmp(&b.name));
    let release = match (stated, &opts.release) {
        (Some((s, origin)), Some(o)) => {
            if &s != o {
                info.note(NoteKind::ReleaseIgnored, format!("--release {o} ignored: {origin} gives {s}"));
            }
            Some(s)
        }
        (Some((s, _)), None) => Some(s),
        (None, o) => o.clone(),
    };
    info.module_releases.retain(|(_, r)| Some(r) != release.as_ref());
    if catalog || Path::new(&vmlinux.origin).parent().is_some_and(meta_catalog) {
        info.reduced = true;
        info.note(NoteKind::Catalog, CATALOG_NOTE);
    }
    if running && vmlinux.btf_ids.is_none() {
        find::running_btf_ids(&mut vmlinux, release.as_deref(), opts, &mut info);
    }
    // A `.BTF_ids` file given separately (--btf-ids, a sibling of raw BTF)
    // must belong to this BTF: ids of another kernel give fake kfuncs.
    // (Not the built-in catalog's: `catalog add` wrote each entry's files
    // together, and tests/catalog.rs reads every entry back.)
    if !catalog && vmlinux.btf_ids.is_some() && info.btf_ids_origin.is_none() && vmlinux.origin.ends_with(".btf") {
        info.btf_ids_origin = Some(Path::new(&vmlinux.origin).with_extension("btf_ids").display().to_string());
    }
    if let (Some(ids), Some(ids_origin)) = (&vmlinux.btf_ids, &info.btf_ids_origin) {
        crate::btf_ids::check_matches(ids.as_slice(), &vmlinux.btf)
            .map_err(|why| Error::of(ErrorKind::Mismatch, ids_origin.clone(), format!("this .BTF_ids does not belong to {}: {why}", vmlinux.origin)))?;
    }
    let mut kept = Vec::with_capacity(mods.len());
    for m in mods {
        if let (Some(ids), true) = (&m.btf_ids, !catalog && m.origin.ends_with(".btf")) {
            let ids_origin = Path::new(&m.origin).with_extension("btf_ids").display().to_string();
            if let Err(why) = crate::btf_ids::check_matches(ids.as_slice(), &m.btf) {
                let e = Error::of(ErrorKind::Mismatch, ids_origin, format!("this .BTF_ids does not belong to {}: {why}", m.origin));
                if !opts.keep_bad_modules {
                    return Err(e);
                }
                info.bad_modules.push((m.name.clone(), m.origin.clone(), e.to_string()));
                continue;
            }
        }
        kept.push(m);
    }
    let mods = kept;
    if vmlinux.btf_ids.is_none() && info.notes.iter().all(|n| n.kind != NoteKind::BtfIdsMissing) {
        let why = if vmlinux.origin.ends_with(".btf") {
            format!("{} is raw BTF with no {} beside it", vmlinux.origin, Path::new(&vmlinux.origin).with_extension("btf_ids").display())
        } else {
            format!("{} has no .BTF_ids section", vmlinux.origin)
        };
        info.note(NoteKind::BtfIdsMissing, format!("KF_* flags unknown: {why}; give --btf-ids FILE (the .BTF_ids section of this kernel's vmlinux)"));
    }
    Ok(Kernel { release, inputs, vmlinux, modules: mods, info })
}

/// Why there is no vmlinux: a broken base, a module alone, or nothing kernel-like.
fn no_vmlinux(modules: &[Piece], label: String, looked: &[PathBuf]) -> Error {
    let looked_text = if looked.is_empty() {
        String::new()
    } else {
        format!(" (looked for {})", looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
    };
    for m in modules {
        if let Piece::Module { origin, base_err, .. } = m {
            return match base_err {
                // Split BTF: its strings continue the base's, so they do not start with NUL.
                Some(e) if e.kind != ErrorKind::SplitBtf => Error::of(
                    e.kind,
                    origin.clone(),
                    format!("{}; read as a module's split BTF instead, no vmlinux BTF was found for it{looked_text}", e.what),
                )
                .at(e.offset.unwrap_or(0)),
                _ => Error::new(
                    origin.clone(),
                    format!(
                        "module (split) BTF needs the vmlinux BTF it was built against: none given and none found{looked_text}; name it too: `bpfabi surface VMLINUX {origin}`"
                    ),
                ),
            };
        }
    }
    Error::of(ErrorKind::WrongInput, label, "no vmlinux BTF among the inputs (modules need their vmlinux to be read)")
}

/// `uname -r` of the running kernel.
fn running_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_string())
}

/// The running kernel's configuration, where libbpf reads it for
/// `.kconfig` externs (libbpf.c v1.7.0 `bpf_object__read_kconfig_file`:
/// `/boot/config-$(uname -r)`, else `/proc/config.gz`; gzip or plain).
fn running_config() -> Option<Arc<str>> {
    let release = running_release()?;
    let raw = std::fs::read(format!("/boot/config-{release}")).or_else(|_| std::fs::read("/proc/config.gz")).ok()?;
    let text = match decompress::Compression::sniff(&raw) {
        Some(c) => decompress::decompress(c, &raw, 64 << 20).ok()?,
        None => raw,
    };
    String::from_utf8(text).ok().map(Into::into)
}

fn open(path: &Path) -> Result<Bytes> {
    Bytes::from_path(path).map_err(|e| Error::io(path.display().to_string(), e))
}

/// A sibling file `<stem>.btf_ids` next to `x.btf`.
fn sibling_btf_ids(path: &Path) -> Option<Bytes> {
    let p = path.with_extension("btf_ids");
    // A regular file only: opening a FIFO of that name would wait for a
    // writer.
    (p != path && p.is_file()).then(|| Bytes::from_path(&p).ok()).flatten()
}

/// The fields of a corpus-style `meta.json` the loader reads; the others
/// are skipped by the parser, not built as values.
#[derive(serde::Deserialize, Clone)]
struct Meta {
    kernel_release: Option<serde_json::Value>,
    catalog: Option<serde_json::Value>,
}

/// `dir/meta.json`'s fields, when it is a JSON object. The file is asked
/// for up to three times per kernel (the directory's release, its
/// vmlinux.btf's, whether it is a catalog entry): the last one read is kept
/// per thread and used again while its size and modification time are the
/// same.
fn read_meta(dir: &Path) -> Option<Meta> {
    type Last = Option<(PathBuf, (u64, Option<std::time::SystemTime>), Option<Meta>)>;
    thread_local!(static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) });
    let path = dir.join("meta.json");
    // A regular file only (reading a FIFO would wait for a writer).
    let stamp = std::fs::metadata(&path).ok().filter(|m| m.is_file()).map(|m| (m.len(), m.modified().ok()))?;
    if let Some(m) = LAST.with_borrow(|l| l.as_ref().filter(|(p, s, _)| *p == path && *s == stamp).map(|(_, _, m)| m.clone())) {
        return m;
    }
    let read = || {
        let text = std::fs::read(&path).ok()?;
        // Only an object names its fields (a struct would also accept an array).
        if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        serde_json::from_slice::<Meta>(&text).ok()
    };
    let m = read();
    LAST.set(Some((path, stamp, m.clone())));
    m
}

/// Whether `dir/meta.json` marks a reduced catalog kernel.
fn meta_catalog(dir: &Path) -> bool {
    read_meta(dir).and_then(|m| m.catalog?.as_bool()).unwrap_or(false)
}

/// `kernel_release` from a corpus-style `meta.json` in `dir`.
fn meta_release(dir: &Path) -> Option<String> {
    match read_meta(dir)?.kernel_release? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
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
                btf: Box::new(opts.parse_btf(base).map_err(|e| e.in_file("/sys/kernel/btf/vmlinux"))?),
                btf_ids: None,
                release: running_release(),
                origin: "/sys/kernel/btf/vmlinux".into(),
                running: true,
            });
        }
        out.push(Piece::Module { name: module_name_from_path(path), btf: bytes, btf_ids: None, origin, release: None, base_err: None });
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let before = out.len();
    read_bytes(bytes, &origin, path, Some(dir), opts, out, 0)?;
    let single = out.len() == before + 1;
    match out.get_mut(before) {
        // The running kernel named explicitly: its release is `uname -r`.
        Some(Piece::Vmlinux { release, running, .. }) if find::is_sysfs_vmlinux(path, &meta) => {
            *running = true;
            if release.is_none() {
                *release = running_release();
            }
        }
        // A module given by itself must have BTF.
        Some(Piece::NoBtf(m)) if single => {
            return Err(Error::of(
                ErrorKind::NoBtfSection,
                m.origin.clone(),
                "module ELF has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF_MODULES?)",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Classify bytes by content and turn them into pieces. `depth` bounds
/// nested containers (a compressed file holding a compressed file...).
fn read_bytes(bytes: Bytes, origin: &str, path: &Path, dir: Option<&Path>, opts: &LoadOptions, out: &mut Vec<Piece>, depth: u32) -> Result<()> {
    if depth > 4 {
        return Err(Error::of(ErrorKind::TooLarge, origin, "too many nested containers"));
    }
    let data = bytes.as_slice();
    if Btf::sniff(data).is_some() {
        // Raw BTF: a base if it stands on its own, else split BTF of a module.
        let btf_ids = sibling_btf_ids(path);
        match opts.parse_btf(bytes.clone()) {
            Ok(btf) => {
                out.push(Piece::Vmlinux { btf: Box::new(btf), btf_ids, release: dir.and_then(meta_release), origin: origin.to_string(), running: false })
            }
            Err(e) => {
                out.push(Piece::Module { name: module_name_from_path(path), btf: bytes, btf_ids, origin: origin.to_string(), release: None, base_err: Some(e) })
            }
        }
        return Ok(());
    }
    if data.starts_with(b"\x7fELF") {
        return image::read_elf(bytes, origin, path, out);
    }
    if data.starts_with(b"!<arch>\n") {
        #[cfg(feature = "deb")]
        return deb::read_deb(&bytes, origin, opts, out);
        #[cfg(not(feature = "deb"))]
        return Err(Error::of(ErrorKind::Unsupported, origin, "a Debian package: this build of bpfabi cannot read them (cargo feature `deb`)"));
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
        // An ELF (x86) or a flat Image (arm64, riscv64).
        return read_bytes(Bytes::from_vec(inner), &format!("{origin} ({} at {off:#x})", c.name()), path, dir, opts, out, depth + 1);
    }
    // Flat images (arm64/riscv64 Image) and self-decompressing wrappers (arm zImage, s390x).
    if rawimage::read(&bytes, origin, path, dir, opts, out, depth)? {
        return Ok(());
    }
    if data.is_empty() {
        return Err(Error::of(ErrorKind::WrongInput, origin, "empty file"));
    }
    let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(Error::of(
        ErrorKind::WrongInput,
        origin,
        format!("not a kernel input: expected raw BTF, a vmlinux/module ELF, a compressed kernel image or a .deb; found bytes {}", head.join(" ")),
    )
    .at(0))
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
    } else if tree::looks_like_tree(dir) {
        return tree::read_tree(dir, opts, out);
    } else {
        return Err(Error::new(
            origin,
            "expected a directory holding vmlinux.btf (and modules/*.btf), vmlinux (like /sys/kernel/btf), or an unpacked kernel package / root file system (boot/vmlinuz-*, lib/modules/*/)",
        ));
    };
    if opts.config {
        if let Ok(text) = std::fs::read_to_string(dir.join("config")) {
            out.push(Piece::Config(text.into()));
        } else if sysfs && dir == Path::new("/sys/kernel/btf") {
            if let Some(text) = running_config() {
                out.push(Piece::Config(text));
            }
        }
    }
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
        .filter_map(|e| e.ok())
        // The entry's type from the directory itself (no stat), followed
        // when it is a link or the file system does not say.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || (!t.is_dir() && e.path().is_file())))
        .map(|e| e.path())
        .filter(|p| if sysfs { p.file_name().is_some_and(|f| f != "vmlinux") } else { p.extension().is_some_and(|e| e == "btf") })
        .collect();
    entries.sort();
    for p in entries {
        // The magic is read apart from the map, which stays untouched until
        // the module is parsed: a touched page would bring the pages
        // around it (most module BTFs are smaller than the kernel's
        // fault-around window), and thousands of modules would all be
        // resident at once.
        let mut magic = [0u8; 2];
        let (bytes, n) = Bytes::from_path_with_head(&p, &mut magic).map_err(|e| Error::io(p.display().to_string(), e))?;
        let o = p.display().to_string();
        if !sysfs && Btf::sniff(magic.get(..n).unwrap_or(&[])).is_none() {
            read_bytes(bytes, &o, &p, Some(dir), opts, out, 0)?;
            continue;
        }
        out.push(Piece::Module { name: module_name_from_path(&p), btf_ids: sibling_btf_ids(&p), btf: bytes, origin: o, release: None, base_err: None });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
