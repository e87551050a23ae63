//! The census end to end: walk inputs (or merge shards) into a
//! [`Census`]; join it with a kernel series for its impact, stable kfunc
//! candidates, and the static report site. Each result writes itself
//! ([`Render`]) as its command does.

use crate::census::impact::Impact;
use crate::census::kernels::KernelKfuncs;
use crate::census::walk::{self, CensusOptions, Stats};
use crate::census::{self, Census};
use crate::error::Result;
use crate::kernel::{KernelSource, LoadOptions};
use crate::model::KernelModel;
use crate::policy::Manifest;
use crate::report::{self, Format, Render};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A census from inputs (walked with `opts`; `stdin_list`: the paths `-`
/// stands for), with what the walk read and how long it took.
pub fn walk(paths: &[PathBuf], stdin_list: Option<&str>, opts: &CensusOptions, top: usize) -> CensusReport {
    let t = Instant::now();
    let (census, stats) = walk::run(paths, stdin_list, opts);
    CensusReport { census, walked: Some((stats, t.elapsed())), top }
}

/// One census from shards (`census --merge`): equal to one run over all
/// their inputs.
pub fn merge(shards: &[PathBuf], top: usize) -> Result<CensusReport> {
    let parts = shards.iter().map(|p| Census::read(p)).collect::<Result<Vec<_>>>()?;
    Ok(CensusReport { census: Census::merge(parts), walked: None, top })
}

/// A census, walked or merged.
pub struct CensusReport {
    /// The census.
    pub census: Census,
    /// When walked: what was read, and the time it took.
    pub walked: Option<(Stats, Duration)>,
    /// Rows per category in the table (0: all).
    pub top: usize,
}

impl CensusReport {
    /// Inputs of this walk that failed (listed in the output); errors
    /// carried over from merged shards do not count.
    pub fn failed_inputs(&self) -> usize {
        if self.walked.is_some() {
            self.census.errors.len()
        } else {
            0
        }
    }
}

impl Render for CensusReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Jsonl];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::census::json(w, &self.census),
            Format::Jsonl => report::census::jsonl(w, &self.census),
            _ => report::census::table(w, &self.census, self.top),
        }
    }
}

/// A census document and a kernel series (`census impact`, `census
/// suggest`, `report`).
#[derive(Debug, Clone)]
pub struct CensusKernels {
    /// A `bpfabi census --format json` document.
    pub census: PathBuf,
    /// Where `census --store` kept the objects.
    pub store: Option<PathBuf>,
    /// Kernels, in release order.
    pub kernels: Vec<PathBuf>,
    /// Read the modules found with the kernels.
    pub modules: bool,
}

impl CensusKernels {
    /// The census and the kernels, read.
    pub fn read(&self) -> Result<(Census, Vec<KernelModel>)> {
        let c = Census::read(&self.census)?;
        let lo = LoadOptions { modules: self.modules, ..LoadOptions::default() };
        let sources = KernelSource::parse_all(&self.kernels)?;
        let ks = sources.iter().map(|s| KernelModel::from_sources(std::slice::from_ref(s), &lo)).collect::<Result<Vec<_>>>()?;
        Ok((c, ks))
    }

    /// The census's impact over the kernels read one at a time
    /// ([`census::impact::Series`]: at most two kernel models in memory),
    /// their kfunc tables, and how long reading the kernels took.
    pub fn series(&self, c: &Census) -> Result<(Impact, Vec<KernelKfuncs>, Duration)> {
        let t = Instant::now();
        let names = self.helper_names()?;
        let mut read = t.elapsed();
        let lo = LoadOptions { modules: self.modules, ..LoadOptions::default() };
        let mut s = census::impact::Series::new(c, self.store.as_deref(), names);
        for p in &self.kernels {
            let t = Instant::now();
            let k = KernelModel::load(std::slice::from_ref(p), &lo)?;
            read += t.elapsed();
            s.add(k);
        }
        let (i, tables) = s.finish();
        Ok((i, tables, read))
    }

    /// Helper names across the series, newest names winning
    /// ([`crate::model::helper_names`]), from each kernel's vmlinux alone
    /// (helpers are the enumerators of its `enum bpf_func_id`; modules add
    /// none): read before the kernels are checked one at a time, so that a
    /// helper missing from an old kernel is named as one check over every
    /// kernel names it.
    fn helper_names(&self) -> Result<BTreeMap<u32, String>> {
        let lo = LoadOptions { modules: false, ..LoadOptions::default() };
        let mut names = BTreeMap::new();
        for p in &self.kernels {
            let k = crate::kernel::load(std::slice::from_ref(p), &lo)?;
            names.extend(crate::surface::helpers_of(&k.vmlinux.btf).0.into_iter().map(|h| (h.id, h.name)));
        }
        Ok(names)
    }
}

/// What each release of the series breaks among the census objects.
pub fn impact(spec: &CensusKernels) -> Result<Impact> {
    let c = Census::read(&spec.census)?;
    Ok(spec.series(&c)?.0)
}

impl Render for Impact {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::census::impact_json(w, self),
            _ => report::census::impact_text(w, self),
        }
    }
}

/// A policy manifest fragment (TOML text).
pub struct Fragment(pub String);

impl Render for Fragment {
    const FORMATS: &'static [Format] = &[Format::Table];

    fn render(&self, _: Format, w: &mut dyn Write) -> io::Result<()> {
        w.write_all(self.0.as_bytes())
    }
}

/// Stable kfunc candidates as a manifest fragment; with a manifest, a
/// layer over it whose `extends` is `extends` (default: the manifest's
/// path as given).
pub fn suggest(spec: &CensusKernels, opts: &census::suggest::SuggestOptions, manifest: Option<&Path>, extends: Option<&str>) -> Result<Fragment> {
    let (c, ks) = spec.read()?;
    let tables = census::kernels::of_all(&ks);
    let cands = census::suggest::candidates(&c, &tables, opts);
    Ok(Fragment(match manifest {
        Some(m) => {
            let man = Manifest::load(m)?;
            let ext = extends.map_or_else(|| m.display().to_string(), str::to_string);
            census::suggest::manifest_fragment(&c, &ks, &cands, opts, &man, &ext)
        }
        None => census::suggest::fragment(&c, &tables, &cands, opts),
    }))
}

/// The static site and Markdown summary written by [`site`].
pub struct Site {
    /// Its directory.
    pub dir: PathBuf,
    /// The files written.
    pub files: Vec<String>,
    /// One sentence per release: what it breaks.
    pub releases: Vec<String>,
    /// Reading the kernels took this long (each is read, checked and
    /// dropped in turn: this is the reading alone).
    pub load_time: Duration,
    /// Everything took this long.
    pub total_time: Duration,
}

/// `report`: impact, candidates and (with a manifest)
/// each used kfunc's lifecycle, rendered as a site into `dir`.
#[cfg(feature = "site")]
pub fn site(spec: &CensusKernels, opts: &census::suggest::SuggestOptions, manifest: Option<&Path>, dir: &Path) -> Result<Site> {
    let t = Instant::now();
    let c = Census::read(&spec.census)?;
    let (i, ks, load_time) = spec.series(&c)?;
    let cands = census::suggest::candidates(&c, &ks, opts);
    let frag = census::suggest::fragment(&c, &ks, &cands, opts);
    let life = manifest.map(|m| Manifest::load(m).map(|man| (m.display().to_string(), census::site::lifecycle(&c, &man)))).transpose()?;
    let files = census::site::render_with_lifecycle(&c, &ks, &i, &cands, &frag, opts, life.as_ref().map(|(p, l)| (p.as_str(), l.as_slice())), dir)?;
    Ok(Site { dir: dir.to_path_buf(), files, releases: i.releases.iter().map(|r| r.sentence()).collect(), load_time, total_time: t.elapsed() })
}

impl Render for Site {
    const FORMATS: &'static [Format] = &[Format::Table];

    fn render(&self, _: Format, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "{}: {} files (index.html, summary.md, {} kfunc, package and object pages); kernels read in {:.2} s, total {:.2} s",
            self.dir.display(),
            self.files.len(),
            self.files.len().saturating_sub(2),
            self.load_time.as_secs_f64(),
            self.total_time.as_secs_f64()
        )?;
        self.releases.iter().try_for_each(|r| writeln!(w, "{r}"))
    }
}
