//! Command `surface`: the BPF ABI a kernel offers.

use super::common::{usage, write_out, KernelArgs, Out, OutputArgs};
use bpfabi::report::{self, Format};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
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
    let k = a.kernel.model(&a.inputs)?;
    let mut s = k.surface().clone();
    if let Some(p) = &a.grep {
        s.retain(|n| report::matches_pattern(p, n));
    }
    if a.kfuncs {
        s.helpers.clear();
    }
    if a.helpers {
        s.kfuncs.clear();
    }
    write_out(match format {
        Format::Json => report::surface::json(w, &s),
        Format::C => report::surface::c_header(w, &s),
        _ => report::surface::table(w, &s, !a.helpers, !a.kfuncs),
    })?;
    Ok(0)
}
