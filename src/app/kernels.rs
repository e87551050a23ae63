//! `kernels` end to end: Debian kernel names resolved (and fetched), the
//! cache pruned, then what the cache holds. [`KernelsReport`] writes itself
//! as a table or JSON (docs/kernels.md).

use crate::error::{Error, ErrorKind, Result};
use crate::kernel::debian::prune::{self, PruneOptions, Pruned};
use crate::kernel::debian::{self, Cache, CachedKernel, DebianName, Resolution, ResolveOptions};
use crate::report::{self, Format, Render};
use std::io::{self, Write};
use std::path::PathBuf;

/// What `kernels` does (its options).
#[derive(Debug, Clone, Default)]
pub struct KernelsSpec {
    /// `debian:` names to resolve.
    pub names: Vec<String>,
    /// Download what the names resolve to (not `--resolve-only`).
    pub fetch: bool,
    /// Use only what is cached.
    pub offline: bool,
    /// Refresh package lists whatever their age.
    pub refresh: bool,
    /// Prune the cache with these options.
    pub prune: Option<PruneOptions>,
}

/// What the names resolved to, what was pruned and what the cache holds.
pub struct KernelsReport {
    /// The cache directory.
    pub cache_dir: PathBuf,
    /// Kernels in the cache (after fetching and pruning).
    pub cached: Vec<CachedKernel>,
    /// Bytes of packages in the cache.
    pub debs_bytes: u64,
    /// Names resolved, in the order given.
    pub resolved: Vec<Resolution>,
    /// Names that did not resolve, one message each.
    pub errors: Vec<String>,
    /// What `--prune` removed (or would remove).
    pub pruned: Option<Pruned>,
}

/// Resolve (and fetch) the names in the default cache, prune it if asked,
/// list it. A name that is not a `debian:` name is an error; one that does
/// not resolve is recorded in [`KernelsReport::errors`] and the rest go on.
pub fn kernels(spec: &KernelsSpec) -> Result<KernelsReport> {
    let cache = Cache::default_location()?;
    let mut opts = ResolveOptions::default();
    opts.offline |= spec.offline;
    opts.refresh = spec.refresh;
    opts.fetch = spec.fetch;
    opts.progress = true;
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for n in &spec.names {
        let name = DebianName::parse(n).unwrap_or_else(|| Err(Error::of(ErrorKind::NotFound, n, "expected a debian: name")))?;
        match debian::resolve(&name, &cache, &opts) {
            Ok(r) => resolved.push(r),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let pruned = spec.prune.as_ref().map(|p| prune::prune(&cache, p)).transpose()?;
    let cached = debian::list_cached(&cache);
    let debs_bytes = std::fs::read_dir(cache.debs_dir()).map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0);
    Ok(KernelsReport { cache_dir: cache.dir, cached, debs_bytes, resolved, errors, pruned })
}

impl KernelsReport {
    /// The exit code: 2 when a name did not resolve, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.errors.is_empty() {
            0
        } else {
            2
        }
    }
}

impl Render for KernelsReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => {
                let dir = self.cache_dir.display().to_string();
                report::kernels::json(w, &dir, &self.cached, self.debs_bytes, &self.resolved, &self.errors, self.pruned.as_ref())
            }
            _ => {
                if let Some(p) = &self.pruned {
                    report::kernels::pruned_text(w, p)?;
                }
                let dir = report::kernels::display_dir(&self.cache_dir);
                report::kernels::text(w, &dir, &self.cached, self.debs_bytes, &self.resolved, &self.errors)
            }
        }
    }
}
