//! `bpfabi` command line: parses arguments (`cli`: one file per command),
//! runs the command, maps its outcome to an exit code.
//! Exit codes: 0 ok, 1 findings, 2 usage, input or output error.
//!
//! The C `main` is defined here (`no_main`): Rust's runtime start
//! (`std::rt::lang_start`) is skipped. Of what it does, bpfabi keeps what
//! it relies on: SIGPIPE ignored (a closed stdout is an error it reports,
//! see `cli::common::write_out`), a panic ending in exit code 101, stdout
//! flushed. What is dropped: the main thread's stack guard lookup (glibc's
//! `pthread_getattr_np` reads and parses `/proc/self/maps`), the
//! alternate signal stack and the handler that names a stack overflow
//! (the kernel's guard gap still stops one: SIGSEGV), and the check that
//! descriptors 0-2 are open. Together about 0.1 ms of every run, a tenth
//! of `bpfabi --version` (bench/README.md, "Process start"). The unit
//! tests of this crate keep the test harness's own `main`.
#![cfg_attr(not(test), no_main)]

mod cli;

use bpfabi::ErrorKind;
use cli::common::write_out;
use cli::{Cli, Cmd};
use std::io::{self, Write};

/// The process entry (glibc calls it; the arguments reach `std::env` through
/// glibc's initialisers, as with Rust's own start).
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: setting a signal's disposition to SIG_IGN, before any thread.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = std::panic::catch_unwind(run).unwrap_or(101);
    let _ = io::stdout().flush();
    libc::c_int::from(code)
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> u8 {
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
        Ok(code) => code,
        Err(e) if e.kind == ErrorKind::Write && e.what == "closed" => 0,
        Err(e) => {
            // Whatever was buffered is dropped: the error explains why output is missing.
            eprintln!("bpfabi: error: {e}");
            2
        }
    }
}
