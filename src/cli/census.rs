//! Command `census` (and `census impact`, `census suggest`): usage census of real BPF programs.

use super::common::{usage, write_file, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::census::{self, CensusKernels};
use bpfabi::census::suggest::SuggestOptions;
use bpfabi::census::walk::CensusOptions;
use bpfabi::report::Render;
use bpfabi::Error;
use clap::{Args, Subcommand};
use std::io;
use std::path::PathBuf;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(formats = "census")]
pub struct CensusArgs {
    #[command(subcommand)]
    sub: Option<CensusSub>,
    /// Inputs to walk: files, directories, `.deb` packages, wheels, npm
    /// tarballs, crates; named packages `pypi:NAME==VERSION`,
    /// `npm:NAME@VERSION`, `crate:NAME@VERSION` (fetched with pip, npm,
    /// cargo); `-`: paths on stdin.
    paths: Vec<PathBuf>,
    /// Merge census JSON documents (shards) instead of reading inputs;
    /// the result equals one run over all their inputs.
    #[arg(long, num_args = 1.., value_name = "CENSUS")]
    merge: Vec<PathBuf>,
    /// Keep each distinct object as DIR/<sha256>.o (for `impact` and `report`).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Files under a walked directory are ROOT/<package>/<version>/...
    #[arg(long)]
    package_dirs: bool,
    /// Worker threads (default: one per core).
    #[arg(short, long, default_value_t = 0)]
    jobs: usize,
    /// Read only shard K of N (K from 1): a deterministic partition by
    /// package; `--merge` of the N outputs equals one run.
    #[arg(long, value_name = "K/N")]
    shard: Option<bpfabi::census::walk::Shard>,
    /// Rows per category in the table (0: all).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Write the output to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum CensusSub {
    /// What each release (consecutive KERNELs) breaks among the census objects.
    Impact(CensusKernelArgs),
    /// Stable kfunc candidates as a policy manifest fragment (TOML).
    Suggest(SuggestArgs),
}

#[derive(Args)]
#[command(formats = "census impact")]
pub struct CensusKernelArgs {
    /// A `bpfabi census --format json` document.
    #[arg(long, value_name = "FILE")]
    pub census: PathBuf,
    /// Where `census --store` kept the objects.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Kernels (any input `surface` accepts), in release order.
    #[arg(required = true)]
    pub kernels: Vec<PathBuf>,
    /// Do not read modules found in kernel directories and packages.
    #[arg(long)]
    pub no_modules: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args)]
// `policy suggest` writes the same formats (cli::FORMATS).
#[command(formats = "census suggest")]
pub struct SuggestArgs {
    #[command(flatten)]
    pub k: CensusKernelArgs,
    /// Distinct projects that must use a kfunc.
    #[arg(long, default_value_t = 2)]
    pub min_projects: usize,
    /// Consecutive releases (up to the newest) with the same prototype.
    #[arg(long, default_value_t = 2)]
    pub min_releases: usize,
    /// A stability manifest (docs/policy.md): the fragment becomes a layer
    /// over it (`schema`, `extends`, `tier_since`) that `policy check`
    /// reads; kfuncs it deprecates, ignores or already places are left out.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The `extends` path written into the fragment (default: --manifest as given).
    #[arg(long, value_name = "PATH", requires = "manifest")]
    pub extends: Option<String>,
}

pub fn run(a: &CensusArgs, w: Out) -> bpfabi::Result<u8> {
    match &a.sub {
        Some(CensusSub::Impact(k)) => return impact(k, w),
        Some(CensusSub::Suggest(s)) => return suggest(s, w),
        None => {}
    }
    let format = a.out.format("census")?;
    let report = if !a.merge.is_empty() {
        if !a.paths.is_empty() {
            return Err(usage("give either PATHs or --merge, not both".to_string()));
        }
        census::merge(&a.merge, a.top)?
    } else {
        if a.paths.is_empty() {
            return Err(usage("give PATHs to walk (`-`: a list on stdin) or --merge CENSUS...".to_string()));
        }
        let stdin = if a.paths.iter().any(|p| p.as_os_str() == "-") {
            let mut s = String::new();
            io::Read::read_to_string(&mut io::stdin(), &mut s).map_err(|e| Error::io("stdin", e))?;
            Some(s)
        } else {
            None
        };
        let mut opts = CensusOptions::default();
        opts.jobs = a.jobs;
        opts.package_dirs = a.package_dirs;
        opts.shard = a.shard;
        // Named packages (pypi:, npm:, crate:) beside the Debian cache.
        opts.fetch_cache = bpfabi::kernel::debian::Cache::default_location().ok().and_then(|c| c.dir.parent().map(|p| p.join("packages")));
        opts.store = a.store.clone();
        opts.progress = true;
        let r = census::walk(&a.paths, stdin.as_deref(), &opts, a.top);
        if let Some((st, took)) = &r.walked {
            eprintln!(
                "bpfabi: census: {} files ({} packages, {:.1} MB read, {:.1} MB unpacked), {} distinct objects in {:.2} s",
                st.files,
                st.packages,
                st.bytes as f64 / 1e6,
                st.unpacked as f64 / 1e6,
                r.census.totals.objects,
                took.as_secs_f64()
            );
        }
        r
    };
    match &a.output {
        Some(p) => write_file(p, |f| report.render(format, f))?,
        None => write_out(report.render(format, w))?,
    }
    // An input that failed (listed with the output) makes the run exit 2.
    if report.failed_inputs() > 0 {
        eprintln!("bpfabi: census: {} failed (listed in the output)", bpfabi::report::count(report.failed_inputs(), "input", "inputs"));
        return Ok(2);
    }
    Ok(0)
}

impl CensusKernelArgs {
    /// The census and kernels these arguments name.
    pub fn spec(&self) -> CensusKernels {
        CensusKernels { census: self.census.clone(), store: self.store.clone(), kernels: self.kernels.clone(), modules: !self.no_modules }
    }
}

fn impact(k: &CensusKernelArgs, w: Out) -> bpfabi::Result<u8> {
    let format = k.out.format("census impact")?;
    let i = census::impact(&k.spec())?;
    write_out(i.render(format, w))?;
    Ok(i.releases.iter().any(|r| !r.breaks.is_empty()) as u8)
}

pub fn suggest(s: &SuggestArgs, w: Out) -> bpfabi::Result<u8> {
    let format = s.k.out.format("census suggest")?;
    let opts = SuggestOptions::new(s.min_projects, s.min_releases);
    let fragment = census::suggest(&s.k.spec(), &opts, s.manifest.as_deref(), s.extends.as_deref())?;
    write_out(fragment.render(format, w))?;
    Ok(0)
}
