//! Command `inspect`: what BPF objects need from a kernel.

use super::common::{read_objects, with_failed, write_out, Out, OutputArgs};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::report::{self, Format};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
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
    if format == Format::Json {
        write_out(report::check::inspect_json(w, &objs))?;
        return Ok(with_failed(failed, 0));
    }
    // Name helpers and map types from the running kernel when there is one.
    let running = KernelModel::running(&LoadOptions::default()).ok();
    // Built-in UAPI names, overlaid by the running kernel's.
    let mut names: std::collections::BTreeMap<u32, String> =
        (1..bpfabi::uapi::HELPER_NAMES.len() as u32).filter_map(|id| Some((id, bpfabi::uapi::helper_name(id)?))).collect();
    names.extend(running.as_ref().map(|k| k.helper_names().clone()).unwrap_or_default());
    let map_name = |t: u32| -> Option<String> {
        let n = running.as_ref()?.map_types().name(t as u64)?;
        Some(n.trim_start_matches("BPF_MAP_TYPE_").to_ascii_lowercase())
    };
    write_out(report::check::inspect_text(w, &objs, &names, &map_name))?;
    Ok(with_failed(failed, 0))
}
