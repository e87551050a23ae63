//! `policy` end to end over a kernel history: a new manifest (`init`), the
//! manifest checked against the kernels (`check`, with `--fix`), the compat
//! header (`compat`) and the kfunc reference site (`docs`). Kernels are read
//! on threads and put in release order ([`history::order`]).
//! [`PolicyCheckReport`] writes itself as a table, JSON or SARIF
//! (docs/policy.md).

use crate::error::{Error, Result};
use crate::kernel::{KernelSource, LoadOptions};
use crate::model::KernelModel;
use crate::policy::findings::{self, Code, Finding};
use crate::policy::{edit, history, Manifest};
use crate::release::Date;
use crate::report::{Format, Render};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Kernels in release order, with their labels.
pub struct History {
    /// One model per kernel.
    pub models: Vec<KernelModel>,
    /// Their releases (or paths), same order.
    pub labels: Vec<String>,
}

/// Read kernels (any kernel input, one per kernel) on threads and put them in
/// release order; `modules`: read the modules found with them.
pub fn kernels(paths: &[PathBuf], modules: bool) -> Result<History> {
    let lo = LoadOptions { modules, ..LoadOptions::default() };
    let sources = KernelSource::parse_all(paths)?;
    let models: Vec<Result<KernelModel>> = std::thread::scope(|s| {
        let hs: Vec<_> = sources.iter().map(|src| s.spawn(|| KernelModel::from_sources(std::slice::from_ref(src), &lo))).collect();
        hs.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::new("policy", "a kernel reader panicked")))).collect()
    });
    let (models, labels) = history::order(models.into_iter().collect::<Result<Vec<_>>>()?)?;
    Ok(History { models, labels })
}

/// A new manifest (TOML text) from a kernel history: every kfunc with its
/// facts, decisions at `default_tier`.
pub fn init(h: &History, default_tier: &str) -> Result<String> {
    let facts = history::History::new(&h.models, &h.labels).facts(&history::renames(&h.models));
    edit::init(default_tier, &h.labels, &facts)
}

/// The compat header (C) of the manifest at `manifest`.
pub fn compat(manifest: &Path) -> Result<String> {
    Ok(crate::policy::compat::header(&Manifest::load(manifest)?))
}

/// What `policy check` does.
#[derive(Debug, Clone, Default)]
pub struct PolicyCheckSpec {
    /// The manifest file.
    pub manifest: PathBuf,
    /// Rewrite the manifest's facts (never decisions) from the kernels, then
    /// check again.
    pub fix: bool,
    /// With `fix`: facts become exactly what the kernels show.
    pub shrink: bool,
    /// Today, for waiver expiry (default: today).
    pub today: Option<Date>,
}

/// The findings of a manifest over a kernel history.
pub struct PolicyCheckReport {
    /// The kernels' labels, release order.
    pub labels: Vec<String>,
    /// Findings, in release order then code.
    pub findings: Vec<Finding>,
}

/// Check the manifest against the kernels (read as [`kernels`] does); with
/// `fix`, rewrite the manifest's facts (adding unlisted kfuncs) and check the
/// rewritten one.
pub fn check(spec: &PolicyCheckSpec, paths: &[PathBuf], modules: bool) -> Result<PolicyCheckReport> {
    let m = Manifest::load(&spec.manifest)?;
    let h = kernels(paths, modules)?;
    let mut opts = history::CheckOptions::default();
    if let Some(t) = spec.today {
        opts.today = t;
    }
    let mut o = history::check(&m, &h.models, &h.labels, &opts);
    if spec.fix {
        let file = spec.manifest.display().to_string();
        let text = std::fs::read_to_string(&spec.manifest).map_err(|e| Error::io(&file, e))?;
        let add: Vec<&String> = o.findings.iter().filter(|f| f.code == Code::Unlisted).filter_map(|f| f.kfunc.as_ref()).collect();
        let fixed = edit::fix(&text, &file, if spec.shrink { &o.facts } else { &o.merged }, &add)?;
        std::fs::write(&spec.manifest, fixed).map_err(|e| Error::io(&file, e))?;
        let m = Manifest::load(&spec.manifest)?;
        o = history::check(&m, &h.models, &h.labels, &opts);
    }
    Ok(PolicyCheckReport { labels: h.labels, findings: o.findings })
}

impl PolicyCheckReport {
    /// The exit code: 1 when a finding is deny, else 0.
    pub fn exit_code(&self) -> u8 {
        (findings::counts(&self.findings).deny > 0) as u8
    }
}

impl Render for PolicyCheckReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Sarif];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => findings::json(w, &self.labels, &self.findings),
            Format::Sarif => findings::sarif(w, &self.findings, &findings::manifest_loc),
            _ => findings::text(w, &self.labels, &self.findings),
        }
    }
}

/// The kfunc reference site written by `policy docs`.
pub struct DocsReport {
    /// The directory written.
    pub output: PathBuf,
    /// kfunc pages written.
    pub kfuncs: usize,
}

/// Build the kfunc reference of `manifest` over the kernels (read as
/// [`kernels`] does; users from a census document when given) and write it
/// under `output`.
pub fn docs(manifest: &Path, paths: &[PathBuf], modules: bool, census: Option<&Path>, output: &Path) -> Result<DocsReport> {
    let m = Manifest::load(manifest)?;
    let h = kernels(paths, modules)?;
    let o = history::check(&m, &h.models, &h.labels, &Default::default());
    let mut site = crate::policy::docs::build(&m, &h.labels, &o);
    if let Some(c) = census {
        crate::policy::docs::add_users(&mut site, &m, &crate::census::Census::read(c)?, &c.display().to_string());
    }
    crate::policy::docs::write(&site, output)?;
    Ok(DocsReport { output: output.to_path_buf(), kfuncs: site.kfuncs.len() })
}

impl Render for DocsReport {
    const FORMATS: &'static [Format] = &[Format::Table];

    fn render(&self, _format: Format, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "{}: {} kfunc pages, index.html, tiers.html, releases.html, kfuncs.md, kfuncs.json", self.output.display(), self.kfuncs)
    }
}
