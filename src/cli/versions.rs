//! Command `versions`: fingerprints of kfuncs and named types.

use super::common::{write_out, KernelArgs, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel::{self, VersionsSpec};
use bpfabi::report::Render;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "versions")]
pub struct VersionsArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Also list these named types (`struct task_struct`, `task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Also list every named type the kfunc prototypes reach.
    #[arg(long)]
    reachable_types: bool,
    /// Only names matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    grep: Option<String>,
}

pub fn run(a: &VersionsArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("versions")?;
    let k = a.kernel.model(&a.inputs)?;
    let spec = VersionsSpec { types: a.types.clone(), reachable_types: a.reachable_types, grep: a.grep.clone() };
    write_out(kernel::versions(&k, &spec)?.render(format, w))?;
    Ok(0)
}
