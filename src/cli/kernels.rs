//! Command `kernels`: Debian kernels by name (list, resolve, fetch, prune the cache).

use super::common::{write_out, Out, OutputArgs};
use bpfabi::report::{self, Format};
use bpfabi::{Error, ErrorKind};
use clap::Args;

#[derive(Args)]
pub struct KernelsArgs {
    /// Names to resolve (and download unless --resolve-only).
    names: Vec<String>,
    /// Only say what each name resolves to; download nothing.
    #[arg(long)]
    resolve_only: bool,
    /// Refresh package lists whatever their age.
    #[arg(long, conflicts_with = "offline")]
    refresh: bool,
    /// Use only what is cached (same as BPFABI_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// List the cache (what `bpfabi kernels` with no NAME prints).
    #[arg(long, conflicts_with_all = ["names", "prune"])]
    list: bool,
    /// Remove extracted kernels and packages from the cache: those beyond
    /// --keep per architecture and flavour, then the oldest extracted until
    /// --max-size is met, and packages of no cached kernel.
    #[arg(long, conflicts_with = "names")]
    prune: bool,
    /// With --prune: kernels kept per architecture and flavour (newest package version first).
    #[arg(long, value_name = "N", requires = "prune")]
    keep: Option<usize>,
    /// With --prune: size the kernels and packages may take (bytes, or 500M, 2G, ...).
    #[arg(long, value_name = "SIZE", requires = "prune", value_parser = parse_size)]
    max_size: Option<u64>,
    /// With --prune: only say what would be removed.
    #[arg(long, requires = "prune")]
    dry_run: bool,
    #[command(flatten)]
    out: OutputArgs,
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
    bpfabi::kernel::debian::prune::parse_size(s).ok_or_else(|| format!("expected a size (bytes, or a number with K, M, G or T), found `{s}`"))
}

pub fn run(a: &KernelsArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::kernel::debian::{self, Cache, DebianName, ResolveOptions};
    let format = a.out.format("kernels")?;
    let cache = Cache::default_location()?;
    let mut opts = ResolveOptions::default();
    opts.offline |= a.offline;
    opts.refresh = a.refresh;
    opts.fetch = !a.resolve_only;
    opts.progress = true;
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for n in &a.names {
        let name = DebianName::parse(n).unwrap_or_else(|| Err(Error::of(ErrorKind::NotFound, n, "expected a debian: name")))?;
        match debian::resolve(&name, &cache, &opts) {
            Ok(r) => resolved.push(r),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let pruned = if a.prune {
        Some(debian::prune::prune(&cache, &debian::prune::PruneOptions::new(a.keep, a.max_size, a.dry_run))?)
    } else {
        None
    };
    let cached = debian::list_cached(&cache);
    let debs: u64 = std::fs::read_dir(cache.debs_dir()).map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0);
    let dir = cache.dir.display().to_string();
    write_out(match format {
        Format::Json => report::kernels::json(w, &dir, &cached, debs, &resolved, &errors, pruned.as_ref()),
        _ => pruned.as_ref().map_or(Ok(()), |p| report::kernels::pruned_text(w, p)).and_then(|_| report::kernels::text(w, &report::kernels::display_dir(&cache.dir), &cached, debs, &resolved, &errors)),
    })?;
    Ok(if errors.is_empty() { 0 } else { 2 })
}

