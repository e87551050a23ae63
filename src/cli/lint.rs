//! Command `lint`: BTF health of a kernel build.

use super::common::{load_with, write_out, KernelArgs, Out, OutputArgs};
use bpfabi::kernel::LoadOptions;
use bpfabi::report::{self, Format};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct LintArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run(a: &LintArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("lint")?;
    let opts = LoadOptions { keep_bad_modules: true, ..a.kernel.options() };
    let k = load_with(&a.inputs, &opts)?;
    let l = bpfabi::lint::lint(&k);
    let label = k.label();
    write_out(match format {
        Format::Json => report::lint::json(w, &label, &l),
        _ => report::lint::table(w, &label, &l),
    })?;
    Ok((l.failing() > 0) as u8)
}
