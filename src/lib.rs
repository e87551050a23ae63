//! bpfabi: the interface between BPF programs and the Linux kernel, made
//! visible, comparable and enforceable.
//!
//! Layers (see `docs/architecture.md`): [`btf`] knows the BPF Type Format and
//! nothing about kernels; [`btf_ids`] decodes `.BTF_ids`; [`kernel`] knows
//! where a kernel's BTF comes from; [`surface`] computes the BPF ABI a kernel
//! offers (helpers, kfuncs with prototypes and flags); [`report`] renders
//! results. The `bpfabi` binary only parses arguments and wires these.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod btf;
pub mod btf_ids;
pub mod check;
pub mod diff;
pub mod bytes;
pub mod error;
pub mod kernel;
pub mod kflags;
pub mod object;
pub mod report;
pub mod surface;
pub mod versions;
pub mod vmtest;

pub use error::{Error, ReadError, Result};
