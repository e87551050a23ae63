//! bpfabi: the interface between BPF programs and the Linux kernel, made
//! visible, comparable and enforceable.
//!
//! Data flows from input bytes to printed output (see `docs/architecture.md`):
//! [`kernel`] reads a kernel from any artefact (raw BTF, vmlinux, image,
//! modules, `.deb`, directories) into a [`kernel::Kernel`]; [`model`] prepares
//! it once for analysis ([`model::KernelModel`]: surface, lookups, enums,
//! lazily computed fingerprints); [`object`] reads BPF objects; [`check`] and
//! [`diff`] report *facts* which a [`policy::Policy`] grades; [`report`]
//! writes tables, JSON, Markdown, SARIF or C to any `io::Write`. [`btf`]
//! knows the BPF Type Format and nothing about kernels; [`uapi`] names the
//! kernel's program and attach types. The `bpfabi` binary (cargo feature
//! `cli`; `src/cli/`, one file per command) only parses arguments and wires these.
//!
//! Layers, lowest first. A module imports only modules of its own layer or
//! below, and no modules import each other in a cycle; `tests/layers.rs`
//! reads `src/` and fails otherwise. A name covers its submodules unless
//! they are listed themselves (`report::*`: every submodule of `report`).
//!
//! 1. foundation: `bytes` `error` `hash` `elf` `fswalk` `kflags` `progress` `release` `ctype` `vocab` `report`
//! 2. formats and judgement: `btf` `btf_ids` `uapi` `uapi_helpers` `policy` `policy::codes` `policy::manifest` `policy::compat` `policy::edit`
//! 3. readers: `catalog` `kernel` `object` `inputs`
//! 4. kernel data and loader rules: `surface` `surface_tests` `shape` `versions` `probe` `loader`
//! 5. kernel model: `model` `core_btf` `probe::attach` `catalog::build`
//! 6. analyses: `check` `diff` `lint` `lint_tests`
//! 7. applications: `app` `census` `policy::history` `policy::uses` `policy::docs` `policy::findings` `report::*` `vmtest` `diagnostics` `integration`
//! 8. the binary (`src/main.rs` and `src/cli/`: clap, one file per command; not part of the library): `cli` `cli::*`
//!
//! The vocabulary ([`vocab`]: facts, reasons, levels, verdicts) is at the
//! bottom so that detectors (`check`, `diff`, `lint`) and the policy share
//! it without importing each other; [`policy`] (the `Policy` trait and
//! `DefaultPolicy`) sits just above it, the manifest machinery
//! (`policy::history`, `policy::uses`) with the applications.
//!
//! Will an object load on a kernel, before loading it:
//!
//! ```no_run
//! use bpfabi::check::{check, CheckOptions, Verdict};
//! use bpfabi::model::KernelModel;
//! use bpfabi::object::BpfObject;
//!
//! # fn main() -> bpfabi::Result<()> {
//! let kernel = KernelModel::running(&Default::default())?; // or KernelModel::load(&[path], ..)
//! let object = BpfObject::parse(&std::fs::read("prog.bpf.o").unwrap(), "prog.bpf.o")?;
//! for r in check(&[object], &[kernel], &CheckOptions::default()) {
//!     if r.verdict == Verdict::Fails {
//!         eprintln!("{} will not load on {}: {:?}", r.program, r.kernel, r.reasons);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Judgement is a value: the default policy grades a kfunc that gained
//! `KF_RET_NULL` as breaking; a stability manifest may grade it otherwise.
//!
//! ```
//! use bpfabi::diff::{Fact, Severity};
//! use bpfabi::kflags::KfFlag;
//! use bpfabi::policy::{DefaultPolicy, Policy, Subject};
//!
//! let gained = Fact::FlagGained { flag: KfFlag::RetNull.into() };
//! assert_eq!(DefaultPolicy.grade_change(&Subject::named("bpf_task_acquire"), &gained), Severity::Breaking);
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

pub mod app;
pub mod btf;
pub mod btf_ids;
pub mod bytes;
pub mod catalog;
pub mod census;
pub mod check;
pub mod core_btf;
pub mod ctype;
pub mod diagnostics;
pub mod diff;
pub mod elf;
pub mod error;
mod fswalk;
pub mod hash;
pub mod inputs;
pub mod integration;
pub mod kernel;
pub mod kflags;
pub mod lint;
pub mod loader;
pub mod model;
pub mod object;
pub mod policy;
pub mod probe;
pub mod progress;
pub mod release;
pub mod report;
pub mod shape;
pub mod surface;
pub mod uapi;
pub mod versions;
#[cfg(feature = "deb")]
pub mod vmtest;
pub mod vocab;

pub use error::{Error, ErrorKind, ReadError, Result};

/// The crate version, with the git commit it was built from when known
/// (`0.1.0 (c16bf71)`).
pub const VERSION: &str = match option_env!("BPFABI_GIT_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};
