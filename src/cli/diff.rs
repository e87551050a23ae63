//! Command `diff`: what changed in the BPF ABI between two kernels.

use super::common::{load_with, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel::{self, DiffSpec, DiffText};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::report::{Format, Render};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "diff")]
pub struct DiffArgs {
    /// The old kernel.
    old: PathBuf,
    /// The new kernel.
    new: PathBuf,
    /// More inputs for the old kernel (modules); repeatable.
    #[arg(long, value_name = "PATH")]
    old_input: Vec<PathBuf>,
    /// More inputs for the new kernel (modules); repeatable.
    #[arg(long, value_name = "PATH")]
    new_input: Vec<PathBuf>,
    /// Release of the old kernel when its inputs do not say.
    #[arg(long, value_name = "RELEASE")]
    old_release: Option<String>,
    /// Release of the new kernel when its inputs do not say.
    #[arg(long, value_name = "RELEASE")]
    new_release: Option<String>,
    /// Do not read modules found in directories and packages.
    #[arg(long)]
    no_modules: bool,
    /// Also compare this named type (`struct task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Compare every named vmlinux type.
    #[arg(long)]
    all_types: bool,
    /// Do not compare the types kfunc prototypes reach.
    #[arg(long)]
    no_kfunc_types: bool,
    /// List every type change (default: one line per changed type).
    #[arg(long = "types")]
    each_type_change: bool,
    #[command(flatten)]
    out: OutputArgs,
    /// Same as --format markdown.
    #[arg(long, hide = true, conflicts_with_all = ["json", "format"])]
    markdown: bool,
}

pub fn run(a: &DiffArgs, w: Out) -> bpfabi::Result<u8> {
    let format = if a.markdown { Format::Markdown } else { a.out.format("diff")? };
    let side = |main: &PathBuf, extra: &[PathBuf], release: &Option<String>| {
        let mut inputs = vec![main.clone()];
        inputs.extend_from_slice(extra);
        // Nothing in a diff comes from the kernels' `.config`: not read.
        let opts = LoadOptions { release: release.clone(), modules: !a.no_modules, progress: true, config: false, ..LoadOptions::default() };
        load_with(&inputs, &opts).map(KernelModel::new)
    };
    // Both kernels are read and prepared at once (errors: the old side's first).
    let (ko, kn) = std::thread::scope(|s| {
        let old = s.spawn(|| side(&a.old, &a.old_input, &a.old_release));
        let kn = side(&a.new, &a.new_input, &a.new_release);
        (old.join(), kn)
    });
    let ko = ko.unwrap_or_else(|p| std::panic::resume_unwind(p))?;
    let kn = kn?;
    let spec = DiffSpec { types: a.types.clone(), all_types: a.all_types, no_kfunc_types: a.no_kfunc_types };
    let d = kernel::diff(&ko, &kn, &spec, DiffText { color: a.out.color(), each_type_change: a.each_type_change })?;
    write_out(d.render(format, w))?;
    let code = d.diff.has_breaking() as u8;
    // The process ends next: the kernels' maps and indexes go with it, not
    // freed one allocation at a time (a tenth of a diff's time otherwise).
    std::mem::forget((ko, kn, d));
    Ok(code)
}
