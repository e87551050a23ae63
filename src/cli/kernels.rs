//! Command `kernels`: Debian kernels by name (list, resolve, fetch, prune the cache).

use super::common::{write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernels::{self, KernelsSpec};
use bpfabi::kernel::debian::prune::PruneOptions;
use bpfabi::report::Render;
use clap::Args;

#[derive(Args)]
#[command(formats = "kernels")]
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
    let format = a.out.format("kernels")?;
    let spec = KernelsSpec {
        names: a.names.clone(),
        fetch: !a.resolve_only,
        offline: a.offline,
        refresh: a.refresh,
        prune: a.prune.then(|| PruneOptions::new(a.keep, a.max_size, a.dry_run)),
    };
    let r = kernels::kernels(&spec)?;
    write_out(r.render(format, w))?;
    Ok(r.exit_code())
}
