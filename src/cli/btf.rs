//! Command `btf dump`: a kernel's BTF as a C header or raw BTF.

use super::common::{load_with, read_objects, usage, with_failed, write_file, write_out, KernelArgs, Out};
use bpfabi::app::kernel;
use bpfabi::kernel::LoadOptions;
use bpfabi::report::{Format, Render};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{self, IsTerminal};
use std::path::PathBuf;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum BtfCmd {
    /// Write the vmlinux BTF of a kernel (any input `surface` accepts,
    /// `debian:` names and catalog kernels included) as a C header for BPF
    /// programs (`--format c`: every type, as `bpftool btf dump file X format
    /// c` writes it, consistent with `surface --format c`'s kfunc
    /// declarations) or as raw BTF (`--format raw`, e.g. for libbpf's
    /// btf_custom_path). With `--min-core OBJ...`, only what the objects'
    /// CO-RE relocations need, as `bpftool gen min_core_btf` cuts it.
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
    /// c: a vmlinux.h; raw: the BTF bytes. Default: c, raw with --min-core.
    #[arg(long, value_enum)]
    format: Option<DumpFormat>,
    /// Keep only the types (and members) the CO-RE relocations of these BPF
    /// objects (files, directories, packages) reach on this kernel: a BTF
    /// for libbpf's btf_custom_path, as `bpftool gen min_core_btf` makes
    /// (docs/btf-dump.md).
    #[arg(long = "min-core", value_name = "OBJ", num_args = 1..)]
    min_core: Vec<PathBuf>,
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
    let format = match a.format.unwrap_or(if a.min_core.is_empty() { DumpFormat::C } else { DumpFormat::Raw }) {
        DumpFormat::C => Format::C,
        DumpFormat::Raw => Format::Raw,
    };
    let k = load_with(&a.inputs, &LoadOptions { modules: false, ..a.kernel.options() })?;
    let mut failed = 0;
    let d = if a.min_core.is_empty() {
        kernel::btf_dump(k)
    } else {
        let (objects, unread) = read_objects(&a.min_core, false)?;
        let d = kernel::btf_dump_min_core(k, &objects)?;
        if let Some(cut) = &d.cut {
            for e in &cut.errors {
                eprintln!("bpfabi: error: {e}");
            }
            failed = unread + cut.errors.len();
            let objects = bpfabi::report::count(cut.objects, "object", "objects");
            eprintln!("bpfabi: min-core: {} of {} types kept for {} CO-RE relocations of {objects}", cut.types, cut.kernel_types, cut.relocations);
        }
        d
    };
    match &a.output {
        Some(f) => write_file(f, |fw| d.render(format, fw))?,
        None if format == Format::Raw && io::stdout().is_terminal() => {
            return Err(usage("--format raw writes binary BTF: give -o FILE or redirect stdout".into()));
        }
        None => write_out(d.render(format, w))?,
    }
    Ok(with_failed(failed, 0))
}
