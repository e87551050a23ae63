//! Shared helpers for integration tests: where the corpus is, running
//! bpftool, loading kernels.
#![allow(dead_code)]

use bpfabi::kernel::{self, Kernel, LoadOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the test runs as root (effective uid 0, from /proc): the gate of
/// tests that load programs for real.
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

/// Whether corpus tests run: only when `$BPFABI_CORPUS` is set (`.ci/run`
/// sets it). Set but not a corpus is a failure, not a skip.
pub fn have_corpus() -> bool {
    match std::env::var_os("BPFABI_CORPUS") {
        None => {
            eprintln!("skipped: corpus test (set BPFABI_CORPUS to the shared corpus to run it)");
            false
        }
        Some(p) => {
            assert!(Path::new(&p).join("kernels").is_dir(), "BPFABI_CORPUS={} holds no kernels/", Path::new(&p).display());
            true
        }
    }
}

/// `$BPFABI_CORPUS` (tests call [`have_corpus`] first).
pub fn corpus() -> PathBuf {
    let p = std::env::var_os("BPFABI_CORPUS").map(PathBuf::from).unwrap_or_default();
    assert!(p.join("kernels").is_dir(), "corpus not found at {} (set BPFABI_CORPUS)", p.display());
    p
}

/// Run a command that must succeed.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh, empty directory `rel` under the test target's temporary directory.
pub fn workdir(rel: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(rel);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn kernel_dir(name: &str) -> PathBuf {
    corpus().join("kernels").join(name)
}

pub const KERNELS: &[&str] = &["5.10.223-1", "6.1.192-2", "6.12.95-1~bpo12+1", "6.12.117-1", "live-6.18"];

pub fn load_dir(name: &str) -> Kernel {
    kernel::load(&[kernel_dir(name)], &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn bpftool(args: &[&str]) -> String {
    let out = Command::new("bpftool").args(args).output().expect("bpftool must be installed (.ci/run installs it)");
    assert!(out.status.success(), "bpftool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// bpftool >= 7.4 prints kfunc prototypes at the end of `format c`:
/// `extern PROTO __weak __ksym;`. Returns the PROTO texts.
///
/// bpftool 7.5 (libbpf 1.5) prints attribute-style type tags (TYPE_TAG with
/// kind_flag, e.g. arena pointers) as `btf_type_tag("address_space(1)")`;
/// libbpf >= 1.6 and bpfabi print `address_space(1)`. Normalised here.
pub fn bpftool_kfunc_protos(args: &[&str]) -> BTreeSet<String> {
    let mut a = vec!["btf", "dump"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["format", "c"]);
    let text = bpftool(&a);
    assert!(text.contains("BPF_NO_KFUNC_PROTOTYPES"), "bpftool too old to print kfunc prototypes (need >= 7.4)");
    text.lines()
        .filter_map(|l| l.strip_prefix("extern ")?.strip_suffix(" __weak __ksym;"))
        .map(|p| p.replace("btf_type_tag(\"address_space(1)\")", "address_space(1)"))
        .collect()
}
