//! Command `policy` (init, check, compat, docs, suggest): stability manifests over kernel history.

use super::census::SuggestArgs;
use super::common::{usage, write_out, Out, OutputArgs};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::policy::{edit, findings, history, Manifest};
use bpfabi::report::Format;
use bpfabi::Error;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// A new manifest from a kernel history: every kfunc with its facts
    /// (first release, removal, fingerprints per release range); decisions
    /// default to the default tier. KERNEL: any input `surface` accepts, one
    /// per kernel, any order (sorted by release).
    Init(PolicyInitArgs),
    /// Check a kernel history against a manifest: every change graded by the
    /// kfunc's tier, deprecation windows, facts, waivers. Exit 0: no deny
    /// finding, 1: some, 2: error.
    Check(PolicyCheckArgs),
    /// A C header for BPF programs: weak declarations of each deprecated or
    /// renamed kfunc and its replacement, and a `<replacement>_compat()`
    /// wrapper calling whichever the running kernel has.
    Compat(PolicyCompatArgs),
    /// A kfunc reference from a manifest and a kernel history: Markdown
    /// (kfuncs.md), a static HTML site (no external assets) and kfuncs.json.
    Docs(PolicyDocsArgs),
    /// Stable kfunc candidates from a census as a layer over the manifest
    /// (`census suggest --manifest`): kfuncs used by enough projects and
    /// unchanged in enough releases, evidence in comments.
    Suggest(SuggestArgs),
}

#[derive(Args)]
pub struct PolicyDocsArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    #[command(flatten)]
    k: PolicyKernels,
    /// Output directory.
    #[arg(long, short = 'o', value_name = "DIR", default_value = "kfunc-docs")]
    output: PathBuf,
    /// A `bpfabi census --format json` document: users per kfunc, users.html.
    #[arg(long, value_name = "FILE")]
    census: Option<PathBuf>,
}

#[derive(Args)]
pub struct PolicyCompatArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct PolicyKernels {
    /// Kernels (any input `surface` accepts, one per kernel).
    #[arg(required = true)]
    kernels: Vec<PathBuf>,
    /// Do not read modules found in kernel directories and packages.
    #[arg(long)]
    no_modules: bool,
}

#[derive(Args)]
pub struct PolicyInitArgs {
    #[command(flatten)]
    k: PolicyKernels,
    /// Default tier of the new manifest.
    #[arg(long, default_value = "unstable")]
    default_tier: String,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct PolicyCheckArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    #[command(flatten)]
    k: PolicyKernels,
    /// Rewrite the manifest's facts (never decisions) from the kernels, keeping comments, order and the facts about releases not given.
    #[arg(long)]
    fix: bool,
    /// With --fix: facts become exactly what the kernels given show (drops the recorded history outside them).
    #[arg(long, requires = "fix")]
    shrink: bool,
    /// Today's date for waiver expiry (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DATE", hide = true)]
    today: Option<String>,
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run(c: &PolicyCmd, w: Out) -> bpfabi::Result<u8> {
    match c {
        PolicyCmd::Init(a) => init(a, w),
        PolicyCmd::Suggest(a) => {
            if a.manifest.is_none() {
                return Err(usage("policy suggest: --manifest is required (census suggest works without)".to_string()));
            }
            super::census::suggest(a, w)
        }
        PolicyCmd::Check(a) => check(a, w),
        PolicyCmd::Docs(a) => {
            let m = Manifest::load(&a.manifest)?;
            let (models, labels) = kernels(&a.k)?;
            let o = history::check(&m, &models, &labels, &Default::default());
            let mut site = bpfabi::policy::docs::build(&m, &labels, &o);
            if let Some(c) = &a.census {
                bpfabi::policy::docs::add_users(&mut site, &m, &bpfabi::census::Census::read(c)?, &c.display().to_string());
            }
            bpfabi::policy::docs::write(&site, &a.output)?;
            write_out(writeln!(w, "{}: {} kfunc pages, index.html, tiers.html, releases.html, kfuncs.md, kfuncs.json", a.output.display(), site.kfuncs.len()))?;
            Ok(0)
        }
        PolicyCmd::Compat(a) => {
            let text = bpfabi::policy::compat::header(&Manifest::load(&a.manifest)?);
            match &a.output {
                Some(f) => std::fs::write(f, text).map_err(|e| Error::io(f.display().to_string(), e))?,
                None => write_out(w.write_all(text.as_bytes()))?,
            }
            Ok(0)
        }
    }
}

/// Kernels loaded on threads, in release order.
/// Kernels loaded on threads, in release order.
fn kernels(k: &PolicyKernels) -> bpfabi::Result<(Vec<KernelModel>, Vec<String>)> {
    let lo = LoadOptions { modules: !k.no_modules, ..LoadOptions::default() };
    let models: Vec<bpfabi::Result<KernelModel>> = std::thread::scope(|s| {
        let hs: Vec<_> = k.kernels.iter().map(|p| s.spawn(|| KernelModel::load(std::slice::from_ref(p), &lo))).collect();
        hs.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::new("policy", "a kernel reader panicked")))).collect()
    });
    history::order(models.into_iter().collect::<bpfabi::Result<Vec<_>>>()?)
}

fn init(a: &PolicyInitArgs, w: Out) -> bpfabi::Result<u8> {
    let (models, labels) = kernels(&a.k)?;
    let h = history::History::new(&models, &labels);
    let renames = history::renames(&models);
    let text = edit::init(&a.default_tier, &labels, &h.facts(&renames))?;
    match &a.output {
        Some(f) => std::fs::write(f, text).map_err(|e| Error::io(f.display().to_string(), e))?,
        None => write_out(w.write_all(text.as_bytes()))?,
    }
    Ok(0)
}

fn check(a: &PolicyCheckArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("policy check")?;
    let m = Manifest::load(&a.manifest)?;
    let (models, labels) = kernels(&a.k)?;
    let mut opts = history::CheckOptions::default();
    if let Some(t) = &a.today {
        opts.today = bpfabi::policy::manifest::parse_date(t).ok_or_else(|| usage(format!("--today: expected YYYY-MM-DD, found `{t}`")))?;
    }
    let mut o = history::check(&m, &models, &labels, &opts);
    if a.fix {
        let file = a.manifest.display().to_string();
        let text = std::fs::read_to_string(&a.manifest).map_err(|e| Error::io(&file, e))?;
        let add: Vec<&String> = o.findings.iter().filter(|f| f.code == findings::Code::Unlisted).filter_map(|f| f.kfunc.as_ref()).collect();
        let fixed = edit::fix(&text, &file, if a.shrink { &o.facts } else { &o.merged }, &add)?;
        std::fs::write(&a.manifest, fixed).map_err(|e| Error::io(&file, e))?;
        let m = Manifest::load(&a.manifest)?;
        o = history::check(&m, &models, &labels, &opts);
    }
    write_out(match format {
        Format::Json => findings::json(w, &labels, &o.findings),
        Format::Sarif => findings::sarif(w, &o.findings, &findings::manifest_loc),
        _ => findings::text(w, &labels, &o.findings),
    })?;
    Ok((findings::counts(&o.findings).deny > 0) as u8)
}
