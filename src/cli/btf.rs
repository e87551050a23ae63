//! Command `btf dump`: a kernel's BTF as a C header or raw BTF.

use super::common::{load_with, usage, write_file, write_out, KernelArgs, Out};
use bpfabi::app::kernel;
use bpfabi::kernel::LoadOptions;
use bpfabi::report::{Format, Render};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{self, IsTerminal};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum BtfCmd {
    /// Write the vmlinux BTF of a kernel (any input `surface` accepts,
    /// `debian:` names and catalog kernels included) as a C header for BPF
    /// programs (`--format c`: every type, as `bpftool btf dump file X format
    /// c` writes it, consistent with `surface --format c`'s kfunc
    /// declarations) or as raw BTF (`--format raw`, e.g. for libbpf's
    /// btf_custom_path).
    Dump(BtfDumpArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DumpFormat {
    C,
    Raw,
}

#[derive(Args)]
pub struct BtfDumpArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    /// c: a vmlinux.h; raw: the BTF bytes.
    #[arg(long, value_enum, default_value = "c")]
    format: DumpFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(c: &BtfCmd, w: Out) -> bpfabi::Result<u8> {
    match c {
        BtfCmd::Dump(a) => dump(a, w),
    }
}

fn dump(a: &BtfDumpArgs, w: Out) -> bpfabi::Result<u8> {
    let format = match a.format {
        DumpFormat::C => Format::C,
        DumpFormat::Raw => Format::Raw,
    };
    let d = kernel::btf_dump(load_with(&a.inputs, &LoadOptions { modules: false, ..a.kernel.options() })?);
    match &a.output {
        Some(f) => write_file(f, |fw| d.render(format, fw))?,
        None if format == Format::Raw && io::stdout().is_terminal() => {
            return Err(usage("--format raw writes binary BTF: give -o FILE or redirect stdout".into()));
        }
        None => write_out(d.render(format, w))?,
    }
    Ok(0)
}
