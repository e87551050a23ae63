//! What every command shares: output options (`--format`, `--json`,
//! `--color`), kernel options, reading objects, writing files and stdout,
//! usage errors.

use super::FORMATS;
use bpfabi::kernel::{KernelSource, LoadOptions};
use bpfabi::model::KernelModel;
use bpfabi::report::{self, Format};
use bpfabi::{Error, ErrorKind};
use clap::{Args, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

// Output options, the same on every subcommand. (A plain comment: a doc
// comment would become the `about` of each command it is flattened into,
// since commands build their arguments deferred, after their own `about`.)
#[derive(Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatArg>,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorWhen,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    Table,
    Json,
    Jsonl,
    Markdown,
    Sarif,
    C,
    /// Compiler-style lines: `file:line:col: warning: message [code]`.
    Gnu,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl OutputArgs {
    /// The chosen format, refused with a message when `cmd` does not write it.
    pub fn format(&self, cmd: &str) -> bpfabi::Result<Format> {
        let supported = FORMATS.iter().find(|(c, _)| *c == cmd).map_or(&[Format::Table][..], |(_, f)| f);
        let f = match (self.json, self.format) {
            (true, _) => Format::Json,
            (false, None) => Format::Table,
            (false, Some(f)) => match f {
                FormatArg::Table => Format::Table,
                FormatArg::Json => Format::Json,
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Sarif => Format::Sarif,
                FormatArg::C => Format::C,
                FormatArg::Gnu => Format::Gnu,
            },
        };
        if supported.contains(&f) {
            return Ok(f);
        }
        let names: Vec<&str> = supported.iter().map(|f| f.as_str()).collect();
        Err(usage(format!("`{cmd}` does not write --format {}; it writes: {}", f.as_str(), names.join(", "))))
    }
    pub fn color(&self) -> bool {
        match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

// Kernel options, the same wherever a kernel is read (a plain comment, as
// for OutputArgs).
#[derive(Args)]
pub struct KernelArgs {
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
    pub fn options(&self) -> LoadOptions {
        LoadOptions { btf_ids: self.btf_ids.clone(), release: self.release.clone(), modules: !self.no_modules, progress: true, ..LoadOptions::default() }
    }
    /// The kernel the inputs describe; none: the running kernel.
    pub fn model(&self, inputs: &[PathBuf]) -> bpfabi::Result<KernelModel> {
        load_with(inputs, &self.options()).map(KernelModel::new)
    }
}

/// The kernel the inputs describe (each a [`KernelSource`]); none: the running kernel.
pub fn load_with(inputs: &[PathBuf], opts: &LoadOptions) -> bpfabi::Result<bpfabi::kernel::Kernel> {
    let k = bpfabi::kernel::load_sources(&KernelSource::parse_or_running(inputs)?, opts)?;
    warn_release(&k);
    Ok(k)
}

/// A `--release` the inputs contradict is a warning on stderr.
pub fn warn_release(k: &bpfabi::kernel::Kernel) {
    if let Some(n) = k.note(bpfabi::kernel::NoteKind::ReleaseIgnored) {
        eprintln!("bpfabi: warning: {n}");
    }
}

/// A usage error: about the command line, no input in particular
/// (printed `bpfabi: error: WHAT`).
pub fn usage(what: String) -> Error {
    Error::of(ErrorKind::NotFound, "", what)
}

pub type Out<'a> = &'a mut dyn Write;

/// Objects under the paths (directories walked, packages streamed); files
/// without BPF are skipped with a count on stderr (`-v` lists them). An
/// input that fails is reported on stderr and the others are read: the
/// number that failed comes back for the exit code (2).
pub fn read_objects(paths: &[PathBuf], verbose: bool) -> bpfabi::Result<(Vec<bpfabi::object::BpfObject>, usize)> {
    objects_found(bpfabi::inputs::find_objects(paths, true), paths, verbose)
}

/// [`read_objects`] once the objects under `paths` are found.
pub fn objects_found(found: bpfabi::inputs::Found, paths: &[PathBuf], verbose: bool) -> bpfabi::Result<(Vec<bpfabi::object::BpfObject>, usize)> {
    if verbose {
        for s in &found.skipped {
            eprintln!("bpfabi: skipped {s}: no BPF object");
        }
    } else if !found.skipped.is_empty() {
        eprintln!("bpfabi: skipped {} without BPF objects (-v lists them)", report::count(found.skipped.len(), "file", "files"));
    }
    for e in &found.errors {
        eprintln!("bpfabi: error: {e}");
    }
    if found.objects.is_empty() {
        let what = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        let why = match found.errors.len() {
            0 => "no BPF object (EM_BPF ELF, or a file embedding one) found".to_string(),
            n => format!("no BPF object read ({} failed, see above)", report::count(n, "input", "inputs")),
        };
        return Err(Error::of(ErrorKind::WrongInput, what, why));
    }
    Ok((found.objects, found.errors.len()))
}

/// The exit code of a command over objects: 2 when an input failed,
/// whatever the findings about the others.
pub fn with_failed(failed: usize, code: u8) -> u8 {
    if failed > 0 {
        2
    } else {
        code
    }
}

pub use bpfabi::report::write_file;

/// A write error becomes an input/output error (exit 2), except a pipe
/// closed by the reader (`bpfabi surface | head`), which ends quietly.
pub fn write_out(r: io::Result<()>) -> bpfabi::Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Error::of(ErrorKind::Write, "stdout", "closed").with_source(e)),
        Err(e) => Err(Error::of(ErrorKind::Write, "stdout", format!("write failed: {e}")).with_source(e)),
    }
}
