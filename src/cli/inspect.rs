//! Command `inspect`: what BPF objects need from a kernel.

use super::common::{read_objects, with_failed, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::inspect;
use bpfabi::report::{Format, Render};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "inspect")]
pub struct InspectArgs {
    /// BPF objects, files embedding them, or directories to walk.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
    /// List the files skipped because they hold no BPF object.
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(a: &InspectArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("inspect")?;
    let (objs, failed) = read_objects(&a.objects, a.verbose)?;
    let r = inspect::inspect(objs, format != Format::Json);
    write_out(r.render(format, w))?;
    Ok(with_failed(failed, 0))
}
