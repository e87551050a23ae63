//! Command `policy` (init, check, compat, docs, suggest): stability manifests over kernel history.

use super::census::SuggestArgs;
use super::common::{usage, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::policy::{self, PolicyCheckSpec};
use bpfabi::release::Date;
use bpfabi::report::{Format, Render};
use bpfabi::Error;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
#[command(defer = true)]
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
#[command(formats = "policy check")]
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
        PolicyCmd::Init(a) => {
            let text = policy::init(&policy::kernels(&a.k.kernels, !a.k.no_modules)?, &a.default_tier)?;
            write_text(a.output.as_deref(), &text, w)
        }
        PolicyCmd::Suggest(a) => {
            if a.manifest.is_none() {
                return Err(usage("policy suggest: --manifest is required (census suggest works without)".to_string()));
            }
            super::census::suggest(a, w)
        }
        PolicyCmd::Check(a) => {
            let format = a.out.format("policy check")?;
            let today = a.today.as_deref().map(|t| Date::parse(t).ok_or_else(|| usage(format!("--today: expected YYYY-MM-DD, found `{t}`")))).transpose()?;
            let spec = PolicyCheckSpec { manifest: a.manifest.clone(), fix: a.fix, shrink: a.shrink, today };
            let r = policy::check(&spec, &a.k.kernels, !a.k.no_modules)?;
            write_out(r.render(format, w))?;
            Ok(r.exit_code())
        }
        PolicyCmd::Docs(a) => {
            let r = policy::docs(&a.manifest, &a.k.kernels, !a.k.no_modules, a.census.as_deref(), &a.output)?;
            write_out(r.render(Format::Table, w))?;
            Ok(0)
        }
        PolicyCmd::Compat(a) => write_text(a.output.as_deref(), &policy::compat(&a.manifest)?, w),
    }
}

/// `text` into `file`, or to stdout.
fn write_text(file: Option<&Path>, text: &str, w: Out) -> bpfabi::Result<u8> {
    match file {
        Some(f) => std::fs::write(f, text).map_err(|e| Error::io(f.display().to_string(), e))?,
        None => write_out(w.write_all(text.as_bytes()))?,
    }
    Ok(0)
}
