//! Command `lint`: BTF health of a kernel build.

use super::common::{load_with, write_out, KernelArgs, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel;
use bpfabi::kernel::LoadOptions;
use bpfabi::report::Render;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "lint")]
pub struct LintArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    /// Grade findings by a stability manifest's `[grades]` (docs/policy.md).
    #[arg(long, value_name = "MANIFEST")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run(a: &LintArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("lint")?;
    let opts = LoadOptions { keep_bad_modules: true, ..a.kernel.options() };
    let m = a.policy.as_deref().map(bpfabi::policy::Manifest::load).transpose()?;
    let policy = m.as_ref().map_or(&bpfabi::policy::DefaultPolicy as &dyn bpfabi::policy::Policy, |m| m);
    let l = kernel::lint(&load_with(&a.inputs, &opts)?, policy);
    write_out(l.render(format, w))?;
    Ok((l.lint.failing() > 0) as u8)
}
