//! Command `probe`: what the running kernel's verifier allows.

use super::common::{write_file, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel::ProbeReport;
use bpfabi::report::{Format, Render};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "probe")]
pub struct ProbeArgs {
    #[command(flatten)]
    out: OutputArgs,
    /// Also write the JSON document to FILE (e.g. KERNEL_DIR/probe.json for `check`).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// List every decision (variant, helper or kfunc, how, verifier message).
    #[arg(long, conflicts_with_all = ["json", "format"])]
    detail: bool,
    /// Also probe helpers whose load has side effects (bpf_trace_printk,
    /// bpf_trace_vprintk, bpf_probe_write_user), as `bpftool feature probe full`.
    #[arg(long)]
    full: bool,
    /// Only variants whose label or program type matches PATTERN; repeatable.
    #[arg(long, value_name = "PATTERN")]
    only: Vec<String>,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Do not probe helpers.
    #[arg(long)]
    no_helpers: bool,
    /// Do not probe kfuncs.
    #[arg(long)]
    no_kfuncs: bool,
    /// The running vmlinux's `.BTF_ids` section file (the kfuncs of a kernel
    /// without decl tags when its image is not in /boot).
    #[arg(long, value_name = "FILE")]
    btf_ids: Option<PathBuf>,
}

pub fn run(a: &ProbeArgs, w: Out) -> bpfabi::Result<u8> {
    let format = if a.detail { Format::Table } else { a.out.format("probe")? };
    let opts = bpfabi::probe::ProbeOptions {
        helpers: !a.no_helpers,
        kfuncs: !a.no_kfuncs,
        full: a.full,
        threads: a.threads,
        only: a.only.clone(),
        btf_ids: a.btf_ids.clone(),
    };
    let p = ProbeReport { probe: bpfabi::probe::run(&opts)?, detail: a.detail };
    if let Some(f) = &a.output {
        write_file(f, |fw| p.render(Format::Json, fw))?;
    }
    write_out(p.render(format, w))?;
    // The process ends here: freeing the 26,000 decisions one by one would
    // cost ~3 ms of a 150 ms run.
    std::mem::forget(p);
    Ok(0)
}
