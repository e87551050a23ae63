//! Compile the BPF programs with clang (with `-g`: the `.BTF.ext` line info
//! bpfabi's warnings point into), then check them against the kernels of
//! `[package.metadata.bpfabi]`: deprecated kfuncs and programs that would
//! not load become `cargo:warning=` lines; a `deny` finding fails the build.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let src = Path::new("../bpf");
    println!("cargo:rerun-if-changed={}", src.join("kernel_types.h").display());
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let mut objects = Vec::new();
    for prog in ["cgroup_stats", "xdp_count"] {
        let c = src.join(format!("{prog}.bpf.c"));
        let o = out.join(format!("{prog}.bpf.o"));
        println!("cargo:rerun-if-changed={}", c.display());
        let status = Command::new(&clang)
            .args(["-O2", "-g", "-Wall", "-target", "bpf", "-c"])
            .arg(&c)
            .arg("-o")
            .arg(&o)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {clang}: {e}"));
        assert!(status.success(), "{clang} failed on {}", c.display());
        objects.push(o);
    }
    bpfabi::integration::cargo::check_or_exit(&objects);
}
