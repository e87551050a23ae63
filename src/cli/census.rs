//! Command `census` (and `census impact`, `census suggest`): usage census of real BPF programs.

use super::common::{usage, write_out, Out, OutputArgs};
use bpfabi::census::{self, Census};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::report::{self, Format};
use bpfabi::Error;
use clap::{Args, Subcommand};
use std::io;
use std::path::PathBuf;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
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
pub enum CensusSub {
    /// What each release (consecutive KERNELs) breaks among the census objects.
    Impact(CensusKernelArgs),
    /// Stable kfunc candidates as a policy manifest fragment (TOML).
    Suggest(SuggestArgs),
}

#[derive(Args)]
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
    let c = if !a.merge.is_empty() {
        if !a.paths.is_empty() {
            return Err(usage("give either PATHs or --merge, not both".to_string()));
        }
        let parts = a.merge.iter().map(|p| Census::read(p)).collect::<bpfabi::Result<Vec<_>>>()?;
        Census::merge(parts)
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
        let mut opts = census::walk::CensusOptions::default();
        opts.jobs = a.jobs;
        opts.package_dirs = a.package_dirs;
        opts.shard = a.shard;
        // Named packages (pypi:, npm:, crate:) beside the Debian cache.
        opts.fetch_cache = bpfabi::kernel::debian::Cache::default_location().ok().and_then(|c| c.dir.parent().map(|p| p.join("packages")));
        opts.store = a.store.clone();
        opts.progress = true;
        let t = std::time::Instant::now();
        let (c, st) = census::walk::run(&a.paths, stdin.as_deref(), &opts);
        eprintln!(
            "bpfabi: census: {} files ({} packages, {:.1} MB read, {:.1} MB unpacked), {} distinct objects in {:.2} s",
            st.files,
            st.packages,
            st.bytes as f64 / 1e6,
            st.unpacked as f64 / 1e6,
            c.totals.objects,
            t.elapsed().as_secs_f64()
        );
        c
    };
    let mut file;
    let w: Out = match &a.output {
        Some(p) => {
            file = io::BufWriter::new(std::fs::File::create(p).map_err(|e| Error::io(p.display().to_string(), e))?);
            &mut file
        }
        None => w,
    };
    write_out(match format {
        Format::Json => report::census::json(w, &c),
        Format::Jsonl => report::census::jsonl(w, &c),
        _ => report::census::table(w, &c, a.top),
    })?;
    write_out(w.flush())?;
    // An input that failed (listed with the output) makes the run exit
    // 2; errors carried over from merged shards do not.
    if a.merge.is_empty() && !c.errors.is_empty() {
        eprintln!("bpfabi: census: {} failed (listed in the output)", report::count(c.errors.len(), "input", "inputs"));
        return Ok(2);
    }
    Ok(0)
}

/// The kernels of `census impact`, `census suggest` and `report`, in the order given.
pub fn kernels(k: &CensusKernelArgs) -> bpfabi::Result<Vec<KernelModel>> {
    let lo = LoadOptions { modules: !k.no_modules, ..LoadOptions::default() };
    k.kernels.iter().map(|p| KernelModel::load(std::slice::from_ref(p), &lo)).collect()
}

fn impact(k: &CensusKernelArgs, w: Out) -> bpfabi::Result<u8> {
    let format = k.out.format("census impact")?;
    let c = Census::read(&k.census)?;
    let ks = kernels(k)?;
    let i = census::impact::impact(&c, &ks, k.store.as_deref());
    write_out(match format {
        Format::Json => report::census::impact_json(w, &i),
        _ => report::census::impact_text(w, &i),
    })?;
    Ok(i.releases.iter().any(|r| !r.breaks.is_empty()) as u8)
}

pub fn suggest(s: &SuggestArgs, w: Out) -> bpfabi::Result<u8> {
    s.k.out.format("census suggest")?;
    let c = Census::read(&s.k.census)?;
    let ks = kernels(&s.k)?;
    let opts = census::suggest::SuggestOptions::new(s.min_projects, s.min_releases);
    let cands = census::suggest::candidates(&c, &ks, &opts);
    let text = match &s.manifest {
        Some(m) => {
            let man = bpfabi::policy::Manifest::load(m)?;
            let ext = s.extends.clone().unwrap_or_else(|| m.display().to_string());
            census::suggest::manifest_fragment(&c, &ks, &cands, &opts, &man, &ext)
        }
        None => census::suggest::fragment(&c, &ks, &cands, &opts),
    };
    write_out(w.write_all(text.as_bytes()))?;
    Ok(0)
}
