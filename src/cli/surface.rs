//! Command `surface`: the BPF ABI a kernel offers.

use super::common::{load_with, usage, write_out, KernelArgs, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel::{self, SurfaceSelect};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::report::{Format, Render};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "surface")]
pub struct SurfaceArgs {
    /// Kernel inputs (see above); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Only kfuncs.
    #[arg(long, conflicts_with = "helpers")]
    kfuncs: bool,
    /// Only helpers.
    #[arg(long)]
    helpers: bool,
    /// Only names matching PATTERN (substring, or a glob with * and ?).
    #[arg(long, value_name = "PATTERN")]
    grep: Option<String>,
}

pub fn run(a: &SurfaceArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("surface")?;
    if format == Format::C && a.helpers {
        return Err(usage("--format c writes kfunc declarations; --helpers leaves none (helpers are declared by libbpf's bpf_helper_defs.h)".into()));
    }
    // The surface reads a few of the kernel's types (decl tags, kfunc
    // prototypes, bpf_func_id): each is checked when read, not every type
    // at load, and a bad one fails the command as a full load would.
    // Nor does it read the kernel's `.config`.
    let opts = LoadOptions { lazy_btf: true, config: false, ..a.kernel.options() };
    let mut k = load_with(&a.inputs, &opts).map(KernelModel::new)?;
    let select = SurfaceSelect { grep: a.grep.clone(), kfuncs_only: a.kfuncs, helpers_only: a.helpers };
    let report = kernel::surface(&mut k, select);
    if let Some(e) = k.kernel().deferred_error() {
        return Err(e);
    }
    write_out(report.render(format, w))?;
    // The process ends next: the kernel's maps and indexes, and the
    // surface, go with it.
    std::mem::forget(report);
    std::mem::forget(k);
    Ok(0)
}
