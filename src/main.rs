//! `bpfabi` command line: parses arguments (`cli`: one file per command),
//! runs the command, maps its outcome to an exit code.
//! Exit codes: 0 ok, 1 findings, 2 usage, input or output error.

mod cli;

use bpfabi::ErrorKind;
use cli::common::write_out;
use cli::{Cli, Cmd};
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Inside a vmtest VM this binary is /init; the kernel probe runs there
    // before the loads (see vmtest::guest::ProbeHook).
    if bpfabi::vmtest::guest::is_guest() {
        bpfabi::vmtest::guest::main(Some(cli::vmtest::guest_probe));
    }
    // Only the invoked command's arguments are built (cli::Cmd defers them).
    let cli = <Cli as clap::Parser>::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = match &cli.cmd {
        Cmd::Surface(a) => cli::surface::run(a, &mut out),
        Cmd::Versions(a) => cli::versions::run(a, &mut out),
        Cmd::Diff(a) => cli::diff::run(a, &mut out),
        Cmd::Inspect(a) => cli::inspect::run(a, &mut out),
        Cmd::Check(a) => cli::check::run(a, &mut out),
        Cmd::Lint(a) => cli::lint::run(a, &mut out),
        Cmd::Probe(a) => cli::probe::run(a, &mut out),
        Cmd::Kernels(a) => cli::kernels::run(a, &mut out),
        Cmd::Vmtest(a) => cli::vmtest::run(a, &mut out),
        Cmd::Catalog(c) => cli::catalog::run(c, &mut out),
        Cmd::Census(a) => cli::census::run(a, &mut out),
        Cmd::Report(a) => cli::report::run(a, &mut out),
        Cmd::Policy(c) => cli::policy::run(c, &mut out),
        Cmd::Btf(c) => cli::btf::run(c, &mut out),
        Cmd::Completions { shell } => cli::completions::run(*shell, &mut out),
        Cmd::Man => cli::completions::man(&mut out),
    };
    let result = result.and_then(|code| write_out(out.flush()).map(|_| code));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind == ErrorKind::Write && e.what == "closed" => ExitCode::from(0),
        Err(e) => {
            // Whatever was buffered is dropped: the error explains why output is missing.
            eprintln!("bpfabi: error: {e}");
            ExitCode::from(2)
        }
    }
}
