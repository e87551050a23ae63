//! `bpfabi` command line: parses arguments, calls the library, prints.
//! Exit codes: 0 ok, 1 findings, 2 usage or input error.

use bpfabi::kernel::{self, LoadOptions};
use bpfabi::report;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "bpfabi", version, about = "The BPF <-> kernel interface, visible, comparable and enforceable")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the BPF ABI a kernel offers: helpers and kfuncs with prototypes and flags.
    ///
    /// INPUT is any mix of: raw BTF (`vmlinux.btf`, `/sys/kernel/btf/vmlinux`),
    /// module BTF (`/sys/kernel/btf/<module>`, `modules/*.btf`), a vmlinux ELF,
    /// a compressed kernel image (bzImage/vmlinuz), kernel modules (`.ko`,
    /// `.ko.xz`, `.ko.zst`, `.ko.gz`), a Debian kernel package (`.deb`), or a
    /// directory holding `vmlinux.btf` and `modules/*.btf`. All inputs describe
    /// one kernel. With no INPUT: the running kernel.
    Surface(SurfaceArgs),
}

#[derive(Args)]
struct KernelArgs {
    /// `.BTF_ids` section file of the vmlinux (default: `<name>.btf_ids` beside a raw BTF file).
    #[arg(long, value_name = "FILE")]
    btf_ids: Option<PathBuf>,
    /// Kernel release to assume when the inputs do not say (e.g. 6.1.0-56-amd64).
    #[arg(long, value_name = "RELEASE")]
    release: Option<String>,
    /// Do not read modules found in directories and packages.
    #[arg(long)]
    no_modules: bool,
}

impl KernelArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            btf_ids: self.btf_ids.clone(),
            release: self.release.clone(),
            modules: !self.no_modules,
            ..LoadOptions::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SurfaceFormat {
    Table,
    Json,
    C,
}

#[derive(Args)]
struct SurfaceArgs {
    /// Kernel inputs (see above); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: SurfaceFormat,
    /// Same as --format json.
    #[arg(long)]
    json: bool,
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

fn load_kernel(inputs: &[PathBuf], args: &KernelArgs) -> bpfabi::Result<kernel::Kernel> {
    let opts = args.options();
    if inputs.is_empty() {
        kernel::load_running(&opts)
    } else {
        kernel::load(inputs, &opts)
    }
}

fn surface(a: &SurfaceArgs) -> bpfabi::Result<(String, u8)> {
    let k = load_kernel(&a.inputs, &a.kernel)?;
    let mut s = bpfabi::surface::of(&k);
    if let Some(p) = &a.grep {
        s.retain(|n| report::matches_pattern(p, n));
    }
    if a.kfuncs {
        s.helpers.clear();
    }
    if a.helpers {
        s.kfuncs.clear();
    }
    let format = if a.json { SurfaceFormat::Json } else { a.format };
    let text = match format {
        SurfaceFormat::Json => report::surface::json(&s),
        SurfaceFormat::C => report::surface::c_header(&s),
        SurfaceFormat::Table => report::surface::table(&s, !a.helpers, !a.kfuncs),
    };
    Ok((text, 0))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Cmd::Surface(a) => surface(a),
    };
    match result {
        Ok((text, code)) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("bpfabi: error: {e}");
            ExitCode::from(2)
        }
    }
}
