//! Command `report`: static site and Markdown summary from a census and kernels.

use super::census::CensusKernelArgs;
use super::common::{write_out, Out};
use super::NarrowFormats;
use bpfabi::app::census;
use bpfabi::census::suggest::SuggestOptions;
use bpfabi::report::Render;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "report")]
pub struct ReportArgs {
    #[command(flatten)]
    k: CensusKernelArgs,
    /// Output directory (created).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Distinct projects for a stable candidate.
    #[arg(long, default_value_t = 2)]
    min_projects: usize,
    /// Releases with the same prototype for a stable candidate.
    #[arg(long, default_value_t = 2)]
    min_releases: usize,
    /// A stability manifest (docs/policy.md): each used kfunc's lifecycle
    /// (tier, deprecated_since, removal_not_before, replacement) in the report.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

pub fn run(a: &ReportArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.k.out.format("report")?;
    let opts = SuggestOptions::new(a.min_projects, a.min_releases);
    let site = census::site(&a.k.spec(), &opts, a.manifest.as_deref(), &a.output)?;
    write_out(site.render(format, w))?;
    Ok(0)
}
