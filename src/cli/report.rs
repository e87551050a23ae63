//! Command `report`: static site and Markdown summary from a census and kernels.

use super::census::{kernels, CensusKernelArgs};
use super::common::{write_out, Out};
use bpfabi::census::{self, Census};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
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
    a.k.out.format("report")?;
    let t = std::time::Instant::now();
    let c = Census::read(&a.k.census)?;
    let ks = kernels(&a.k)?;
    let t_load = t.elapsed();
    let i = census::impact::impact(&c, &ks, a.k.store.as_deref());
    let opts = census::suggest::SuggestOptions::new(a.min_projects, a.min_releases);
    let cands = census::suggest::candidates(&c, &ks, &opts);
    let frag = census::suggest::fragment(&c, &ks, &cands, &opts);
    let manifest = a.manifest.as_ref().map(|m| bpfabi::policy::Manifest::load(m).map(|man| (m.display().to_string(), census::site::lifecycle(&c, &man)))).transpose()?;
    let life = manifest.as_ref().map(|(p, l)| (p.as_str(), l.as_slice()));
    let files = census::site::render_with_lifecycle(&c, &ks, &i, &cands, &frag, &opts, life, &a.output)?;
    write_out(writeln!(
        w,
        "{}: {} files (index.html, summary.md, {} kfunc, package and object pages); kernels read in {:.2} s, total {:.2} s",
        a.output.display(),
        files.len(),
        files.len().saturating_sub(2),
        t_load.as_secs_f64(),
        t.elapsed().as_secs_f64()
    ))?;
    for r in &i.releases {
        write_out(writeln!(w, "{}", r.sentence()))?;
    }
    Ok(0)
}
