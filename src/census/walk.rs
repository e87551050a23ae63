//! Census inputs: directories (walked, symlinks not followed), plain BPF
//! objects, ELF executables / shared libraries / `ar` archives holding
//! embedded objects at any offset ([`crate::object::embedded`]), and Debian
//! packages streamed member by member ([`crate::kernel::deb::for_each_file`]:
//! ar → `data.tar.{xz,zst,gz}` → files, nothing unpacked to disk). Inputs are
//! read on worker threads taking the next file from a shared index; each
//! thread holds at most one file of a package in memory (the package itself
//! is memory-mapped), so memory stays bounded whatever the number of inputs.

use super::fetch;
use super::pkg::{self, Ecosystem};
use super::{entry, Census, InputError, ObjectEntry, Occurrence};
use crate::bytes::Bytes;
use crate::inputs::{could_embed, is_deb, MAX_OBJECT};
use crate::object::embedded;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How to run a census.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CensusOptions {
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Files found under a walked directory `ROOT` are attributed to package
    /// `ROOT/<package>/<version>/...` (the shared corpus layout).
    pub package_dirs: bool,
    /// Largest plain file read (files inside packages are streamed).
    pub max_file: u64,
    /// Cap on the decompressed bytes of one package.
    pub max_package: u64,
    /// Write each distinct object to `DIR/<sha256>.o` (for `impact` and
    /// `report`, which re-read objects to check them against kernels).
    pub store: Option<PathBuf>,
    /// Draw a progress bar on a terminal.
    pub progress: bool,
    /// Read only this shard of the inputs ([`Shard`]).
    pub shard: Option<Shard>,
    /// Where named packages (`pypi:NAME==VERSION`, `npm:NAME@VERSION`,
    /// `crate:NAME@VERSION`) are fetched to ([`super::fetch`]); `None`:
    /// such inputs are errors.
    pub fetch_cache: Option<PathBuf>,
}

/// Shard `index` of `count` (`--shard K/N`, K from 1): a deterministic
/// partition of the inputs by package, so N runs on N machines read every
/// package exactly once and [`Census::merge`] of their outputs equals one
/// run over all inputs. The key is the package's name as the input names
/// it (the file name of a `.deb`, wheel, npm tarball or crate; the package
/// directory under `--package-dirs`; the file name of anything else),
/// hashed with FNV-1a: the same on every machine, whatever the paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected K/N with 1 <= K <= N (e.g. 2/4), got {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.trim().parse::<u32>().map_err(|_| bad())?, n.trim().parse::<u32>().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Does the package keyed `key` belong to this shard?
    pub fn takes(&self, key: &str) -> bool {
        crate::hash::fnv1a(key.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The shard key of a unit: its package directory, else its file name.
fn shard_key(u: &Unit) -> String {
    if let Some(k) = &u.key {
        return k.clone();
    }
    match &u.layout {
        Some((package, _)) => package.clone(),
        None => u.path.file_name().map_or_else(|| u.path.display().to_string(), |n| n.to_string_lossy().into_owned()),
    }
}

impl Default for CensusOptions {
    fn default() -> Self {
        CensusOptions { jobs: 0, package_dirs: false, max_file: 1 << 30, max_package: 16 << 30, store: None, progress: false, shard: None, fetch_cache: None }
    }
}

/// One file to read and what it belongs to.
#[derive(Debug, Clone)]
struct Unit {
    path: PathBuf,
    /// The shard key when not derived from the path (a named package).
    key: Option<String>,
    /// (package, version) from the directory layout.
    layout: Option<(String, Option<String>)>,
}

/// Figures of a run (stderr summary, bench).
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct Stats {
    /// Files (including `.deb` packages) read.
    pub files: u64,
    /// Packages read.
    pub packages: u64,
    /// Bytes read from disk (compressed packages count as stored).
    pub bytes: u64,
    /// Bytes decompressed out of packages.
    pub unpacked: u64,
}

/// Expand `inputs` (files, directories; `-` reads a list of paths from
/// `stdin_list`) into the files to read, in path order.
fn units(inputs: &[PathBuf], stdin_list: Option<&str>, opts: &CensusOptions) -> (Vec<Unit>, Vec<InputError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for i in inputs {
        if i.as_os_str() == "-" {
            roots.extend(stdin_list.unwrap_or("").lines().map(str::trim).filter(|l| !l.is_empty()).map(PathBuf::from));
        } else {
            roots.push(i.clone());
        }
    }
    for root in roots {
        if let Some(spec) = root.to_str().and_then(fetch::Spec::parse) {
            let input = root.display().to_string();
            if opts.shard.is_some_and(|s| !s.takes(&input)) {
                continue;
            }
            let cache = opts.fetch_cache.as_deref();
            match (spec, cache) {
                (Ok(spec), Some(cache)) => match fetch::fetch(&spec, cache, &input) {
                    Ok(path) => out.push(Unit { path, key: Some(input), layout: None }),
                    Err(e) => errors.push(InputError { input, error: e.what }),
                },
                (Ok(_), None) => errors.push(InputError { input, error: "named packages need a download cache (CensusOptions::fetch_cache)".into() }),
                (Err(e), _) => errors.push(InputError { input, error: e.what }),
            }
            continue;
        }
        let meta = match std::fs::metadata(&root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(InputError { input: root.display().to_string(), error: e.to_string() });
                continue;
            }
        };
        if !meta.is_dir() {
            out.push(Unit { path: root, key: None, layout: None });
            continue;
        }
        let Ok(()) = crate::fswalk::walk_files::<std::convert::Infallible>(
            &root,
            &mut |e| {
                let layout = opts.package_dirs.then(|| layout_of(&root, &e)).flatten();
                out.push(Unit { path: e, key: None, layout });
                Ok(())
            },
            &mut |d, e| {
                errors.push(InputError { input: d.display().to_string(), error: e.to_string() });
                Ok(())
            },
        );
    }
    (out, errors)
}

/// `ROOT/<package>/<version>/.../file` -> (package, version);
/// `ROOT/<package>/file` -> (package, none).
fn layout_of(root: &Path, file: &Path) -> Option<(String, Option<String>)> {
    let rel = file.strip_prefix(root).ok()?;
    let c: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    match c.as_slice() {
        [p, _file] => Some((p.clone(), None)),
        [p, v, _, ..] => Some((p.clone(), Some(v.clone()))),
        _ => None,
    }
}

/// What one worker found.
#[derive(Default)]
struct Found {
    objects: HashMap<String, ObjectEntry>,
    errors: Vec<InputError>,
}

impl Found {
    /// Record an object found in `bytes` at `occ`.
    fn add(&mut self, bytes: &Bytes, occ: Occurrence, name: &str, store: Option<&Path>) {
        let sha = super::sha256_hex(bytes.as_slice());
        if let Some(e) = self.objects.get_mut(&sha) {
            e.occurrences.push(occ);
            return;
        }
        match crate::object::parse(bytes, name) {
            Ok(obj) => {
                let mut e = entry(&obj, bytes.as_slice());
                if let Some(dir) = store {
                    let p = dir.join(format!("{sha}.o"));
                    if !p.exists() {
                        if let Err(err) = std::fs::write(&p, bytes.as_slice()) {
                            self.errors.push(InputError { input: p.display().to_string(), error: format!("cannot store object: {err}") });
                        }
                    }
                }
                e.occurrences.push(occ);
                self.objects.insert(sha, e);
            }
            Err(err) => self.errors.push(InputError::of(name, &err)),
        }
    }

    /// Every object in a stream (a plain object, or embedded ones at any
    /// offset), read in chunks: see [`embedded::scan`], the one finder.
    fn scan(&mut self, r: &mut dyn Read, base: &Occurrence, store: Option<&Path>) -> std::io::Result<()> {
        embedded::scan(r, MAX_OBJECT, &mut |off, obj| {
            let occ = Occurrence { offset: off, ..base.clone() };
            let name = display(&occ, off as usize);
            match obj {
                Ok(obj) => self.add(&Bytes::from_vec(obj.to_vec()), occ, &name, store),
                Err(error) => self.errors.push(InputError { input: name, error }),
            }
        })
    }
}

fn display(o: &Occurrence, off: usize) -> String {
    let mut s = if o.container == o.path { o.path.clone() } else { format!("{}:{}", o.container, o.path) };
    if off > 0 {
        s.push_str(&format!("@{off:#x}"));
    }
    s
}

/// Read one input file into `found`.
fn read_unit(u: &Unit, opts: &CensusOptions, found: &mut Found, stats: &StatsAcc) {
    let name = u.path.display().to_string();
    let bytes = match Bytes::from_path(&u.path) {
        Ok(b) => b,
        Err(e) => {
            found.errors.push(InputError { input: name, error: e.to_string() });
            return;
        }
    };
    stats.files.fetch_add(1, Ordering::Relaxed);
    stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let d = bytes.as_slice();
    if is_deb(d) {
        #[cfg(feature = "deb")]
        read_deb(&bytes, &name, opts, found, stats);
        #[cfg(not(feature = "deb"))]
        found.errors.push(InputError { input: name, error: "this bpfabi was built without the `deb` feature".into() });
        return;
    }
    if let Some(kind) = super::pkg::sniff(d) {
        if read_package(&bytes, &name, kind, opts, found, stats) {
            return;
        }
    }
    if bytes.len() as u64 > opts.max_file {
        return;
    }
    let (package, version) = match &u.layout {
        Some((p, v)) => (Some(p.clone()), v.clone()),
        None => (None, None),
    };
    if !could_embed(d) {
        return;
    }
    let base = Occurrence { package, version, container: name.clone(), path: name.clone(), ..Occurrence::default() };
    if let Err(e) = found.scan(&mut &*d, &base, opts.store.as_deref()) {
        found.errors.push(InputError { input: name, error: e.to_string() });
    }
}

#[cfg(feature = "deb")]
fn read_deb(bytes: &Bytes, name: &str, opts: &CensusOptions, found: &mut Found, stats: &StatsAcc) {
    use crate::kernel::deb;
    let d = bytes.as_slice();
    stats.packages.fetch_add(1, Ordering::Relaxed);
    let control = match deb::control(d, name) {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            found.errors.push(InputError::of(name, &e));
            return;
        }
    };
    let package = deb::control_field(&control, "Package");
    let version = deb::control_field(&control, "Version");
    // `Source: name (version)` when the source version differs.
    let source = deb::control_field(&control, "Source").map(|s| s.split_whitespace().next().unwrap_or("").to_string()).or_else(|| package.clone());
    let arch = deb::control_field(&control, "Architecture").filter(|a| a != "all");
    let base = Occurrence { package, version, source, container: name.to_string(), ecosystem: Some(Ecosystem::Debian), arch, ..Occurrence::default() };
    let store = opts.store.as_deref();
    let r = crate::inputs::deb_objects(d, name, opts.max_package, &mut |path, off, obj| {
        let occ = Occurrence { path: path.to_string(), offset: off, ..base.clone() };
        let name = display(&occ, off as usize);
        match obj {
            Ok(obj) => found.add(&Bytes::from_vec(obj), occ, &name, store),
            Err(error) => found.errors.push(InputError { input: name, error }),
        }
    });
    match r {
        Ok(unpacked) => {
            stats.unpacked.fetch_add(unpacked, Ordering::Relaxed);
        }
        Err(e) => found.errors.push(InputError::of(name, &e)),
    }
}

/// Read a wheel, npm tarball or crate (see [`super::pkg`]); false when `d`
/// is a zip or gzip stream of none of these (then it is no input of ours).
fn read_package(bytes: &Bytes, name: &str, kind: pkg::Sniffed, opts: &CensusOptions, found: &mut Found, stats: &StatsAcc) -> bool {
    let d = bytes.as_slice();
    let store = opts.store.as_deref();
    let mut unpacked = 0u64;
    let mut members = Vec::new();
    // Objects are recorded once the package's identity is known: wheels
    // name it in a member that may come last.
    let mut scan = |path: &str, size: u64, r: &mut dyn Read| -> crate::Result<()> {
        unpacked += size;
        if size < 64 {
            return Ok(());
        }
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() || !could_embed(&head) {
            return Ok(());
        }
        let occ = Occurrence { container: name.to_string(), path: path.to_string(), ..Occurrence::default() };
        let mut local = Found::default();
        local.scan(&mut (&head[..]).chain(r), &occ, store).map_err(|e| crate::Error::io(format!("{name}:{path}"), e))?;
        members.push(local);
        Ok(())
    };
    let (ecosystem, identity) = match kind {
        pkg::Sniffed::Zip => {
            if !crate::census::zip::members(d, name).is_ok_and(|m| m.iter().any(|m| m.name.contains(".dist-info/"))) {
                return false;
            }
            (Ecosystem::Pypi, pkg::read_wheel(d, name, opts.max_package, &mut scan))
        }
        pkg::Sniffed::Gzip => match pkg::tgz_identity(d, name, opts.max_package) {
            Ok(Some((k, id))) => {
                let eco = if k == pkg::TarKind::Npm { Ecosystem::Npm } else { Ecosystem::Crates };
                (eco, pkg::for_each_tgz_file(d, name, opts.max_package, &mut scan).map(|()| id))
            }
            Ok(None) => return false,
            Err(e) => (Ecosystem::Npm, Err(e)),
        },
    };
    stats.packages.fetch_add(1, Ordering::Relaxed);
    stats.unpacked.fetch_add(unpacked, Ordering::Relaxed);
    let identity = match identity {
        Ok(id) => id,
        Err(e) => {
            found.errors.push(InputError { input: name.to_string(), error: e.to_string() });
            pkg::Identity::default()
        }
    };
    for local in members {
        found.errors.extend(local.errors);
        for (sha, mut e) in local.objects {
            for o in &mut e.occurrences {
                o.package = identity.name.clone();
                o.version = identity.version.clone();
                // A project is named within its ecosystem (`pypi:NAME`): the same
                // name elsewhere may be another project.
                o.source = identity.name.as_ref().map(|n| format!("{}:{n}", ecosystem.as_str()));
                o.ecosystem = Some(ecosystem);
                o.arch = identity.arch.clone();
            }
            match found.objects.get_mut(&sha) {
                Some(have) => have.occurrences.extend(e.occurrences),
                None => {
                    found.objects.insert(sha, e);
                }
            }
        }
    }
    true
}

#[derive(Default)]
struct StatsAcc {
    files: AtomicU64,
    packages: AtomicU64,
    bytes: AtomicU64,
    unpacked: AtomicU64,
}

/// Run a census over `inputs`. `stdin_list` is the text read from standard
/// input when an input is `-` (one path a line). Unreadable inputs and
/// objects that do not parse are recorded in [`Census::errors`]; nothing
/// stops the run.
pub fn run(inputs: &[PathBuf], stdin_list: Option<&str>, opts: &CensusOptions) -> (Census, Stats) {
    let (mut units, mut errors) = units(inputs, stdin_list, opts);
    if let Some(shard) = opts.shard {
        units.retain(|u| shard.takes(&shard_key(u)));
    }
    // Largest first: the big packages do not end up alone on one core at
    // the end of the run (the result is sorted anyway).
    units.sort_by_cached_key(|u| std::cmp::Reverse(std::fs::metadata(&u.path).map(|m| m.len()).unwrap_or(0)));
    if let Some(dir) = &opts.store {
        if let Err(e) = std::fs::create_dir_all(dir) {
            errors.push(InputError { input: dir.display().to_string(), error: format!("cannot create the object store: {e}") });
        }
    }
    let threads = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(units.len().max(1));
    let next = AtomicUsize::new(0);
    let stats = StatsAcc::default();
    let bar = progress::Bar::new(opts.progress, units.len() as u64);
    let results: Mutex<Vec<Found>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut found = Found::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(u) = units.get(i) else { break };
                    bar.message(&u.path);
                    read_unit(u, opts, &mut found, &stats);
                    bar.inc();
                }
                if let Ok(mut r) = results.lock() {
                    r.push(found);
                }
            });
        }
    });
    bar.finish();
    let mut objects = Vec::new();
    for f in results.into_inner().unwrap_or_default() {
        objects.extend(f.objects.into_values());
        errors.extend(f.errors);
    }
    let stats = Stats {
        files: stats.files.into_inner(),
        packages: stats.packages.into_inner(),
        bytes: stats.bytes.into_inner(),
        unpacked: stats.unpacked.into_inner(),
    };
    (Census::from_parts(objects, errors), stats)
}

/// The progress bar (feature `progress`, drawn on a terminal only).
mod progress {
    #[cfg(feature = "progress")]
    pub struct Bar(indicatif::ProgressBar);
    #[cfg(not(feature = "progress"))]
    pub struct Bar;

    impl Bar {
        #[cfg(feature = "progress")]
        pub fn new(on: bool, len: u64) -> Bar {
            if !on || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                return Bar(indicatif::ProgressBar::hidden());
            }
            let b = indicatif::ProgressBar::new(len);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} census [{bar:30}] {pos}/{len} files {msg} ({elapsed})") {
                b.set_style(style.progress_chars("=> "));
            }
            Bar(b)
        }
        #[cfg(not(feature = "progress"))]
        pub fn new(_: bool, _: u64) -> Bar {
            Bar
        }
        pub fn message(&self, _p: &std::path::Path) {
            #[cfg(feature = "progress")]
            self.0.set_message(_p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        }
        pub fn inc(&self) {
            #[cfg(feature = "progress")]
            self.0.inc(1);
        }
        pub fn finish(&self) {
            #[cfg(feature = "progress")]
            self.0.finish_and_clear();
        }
    }
}

/// Census of one input given as bytes (a `.deb`, a BPF object, or a file
/// embedding objects), named `name` in occurrences and errors. The same
/// reading as [`run`] for one file (used by the fuzz target).
pub fn scan_bytes(data: Vec<u8>, name: &str, opts: &CensusOptions) -> Census {
    let bytes = Bytes::from_vec(data);
    let mut found = Found::default();
    let package = pkg::sniff(bytes.as_slice());
    if is_deb(bytes.as_slice()) {
        #[cfg(feature = "deb")]
        read_deb(&bytes, name, opts, &mut found, &StatsAcc::default());
    } else if !package.is_some_and(|kind| read_package(&bytes, name, kind, opts, &mut found, &StatsAcc::default())) {
        let base = Occurrence { container: name.to_string(), path: name.to_string(), ..Occurrence::default() };
        if let Err(e) = found.scan(&mut bytes.as_slice(), &base, opts.store.as_deref()) {
            found.errors.push(InputError { input: name.to_string(), error: e.to_string() });
        }
    }
    Census::from_parts(found.objects.into_values(), found.errors)
}
