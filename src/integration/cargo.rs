//! bpfabi in a cargo build script (feature `build-script`): after the
//! script compiled its BPF objects, check them against the kernels the
//! crate's `[package.metadata.bpfabi]` names, print every diagnostic as a
//! `cargo:warning=` line (cargo shows them after the build, with the BPF
//! source `file:line:column`), and fail the build when `fail_on` is met.
//!
//! Depend on bpfabi for the build script only, without its default
//! features (no CLI, no libbpf build, no decompressors): the built-in kernel
//! catalog is all a `debian:` name needs offline.
//!
//! ```toml
//! [build-dependencies]
//! bpfabi = { version = "0.1", default-features = false, features = ["build-script"] }
//!
//! [package.metadata.bpfabi]
//! kernels = ["debian:bookworm", "debian:trixie"]
//! manifest = "bpfabi-policy.toml"
//! ```
//!
//! ```no_run
//! // build.rs, after compiling `prog.bpf.o` into OUT_DIR
//! let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! bpfabi::integration::cargo::check_or_exit(&[out.join("prog.bpf.o")]);
//! ```

use super::{check, Config, Outcome};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The crate's configuration: `$CARGO_MANIFEST_DIR/Cargo.toml`.
pub fn config() -> Result<Config> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| Error::new("CARGO_MANIFEST_DIR", "not set: not running as a cargo build script"))?;
    Config::from_cargo_toml(&Path::new(&dir).join("Cargo.toml"))
}

/// Check `objects` with the crate's configuration, writing cargo's
/// directives to `w` (stdout in a build script): `rerun-if-changed` for
/// `Cargo.toml` and the manifest, one `warning=` per diagnostic, errors
/// included (cargo prints a failed script's stdout warnings too).
pub fn check_with(config: &Config, objects: &[PathBuf], w: &mut dyn Write) -> Result<Outcome> {
    let io = |e| Error::io("stdout", e);
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        writeln!(w, "cargo:rerun-if-changed={}", Path::new(&dir).join("Cargo.toml").display()).map_err(io)?;
    }
    if let Some(m) = &config.manifest {
        writeln!(w, "cargo:rerun-if-changed={}", m.display()).map_err(io)?;
    }
    let outcome = check(config, objects)?;
    for d in &outcome.diagnostics {
        // One line per directive: a message never holds a newline, but be sure.
        writeln!(w, "cargo:warning={}", d.to_string().replace('\n', " ")).map_err(io)?;
    }
    Ok(outcome)
}

/// Check `objects` with the crate's configuration, printing to stdout.
pub fn check_objects<P: AsRef<Path>>(objects: &[P]) -> Result<Outcome> {
    let objects: Vec<PathBuf> = objects.iter().map(|p| p.as_ref().to_path_buf()).collect();
    check_with(&config()?, &objects, &mut std::io::stdout().lock())
}

/// [`check_objects`], then exit with status 1 when the check could not run
/// or `fail_on` is met (the message on stderr, which cargo shows for a
/// failed build script).
pub fn check_or_exit<P: AsRef<Path>>(objects: &[P]) {
    match check_objects(objects) {
        Ok(o) if !o.failed => {}
        Ok(o) => {
            let errors = o.diagnostics.iter().filter(|d| d.level == crate::diagnostics::Level::Error).count();
            eprintln!("bpfabi: {errors} error(s) against {} (fail_on in [package.metadata.bpfabi]):", o.kernels.join(", "));
            for d in o.diagnostics.iter().filter(|d| d.level == crate::diagnostics::Level::Error) {
                eprintln!("{d}");
            }
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("bpfabi: error: {e}");
            std::process::exit(1);
        }
    }
}
