//! The fast paths of issue 25 (surface, diff, the catalog kernel matrix)
//! must not change a byte of output: SHA-256 digests of the outputs the
//! implementation before them (commit ffef840; the diff lines in every
//! format on two kernel pairs, from the build before shape comparison,
//! e0858a4; the surface C headers from 41a1649, before the surface work of
//! the kind table) gave on the corpus kernels and objects, with the corpus path replaced by `$CORPUS`, are compared with
//! what this build prints (tests/fixtures/perf-outputs.txt). An intended
//! output change updates the file: `BPFABI_BLESS=1 cargo test --test
//! perf_outputs` rewrites it from this build.
mod common;

use sha2::{Digest, Sha256};
use std::process::Command;

fn digest(corpus: &str, args: &[String]) -> String {
    let cache = common::workdir("perf-outputs-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_bpfabi"))
        .args(args)
        // Paths relative to the corpus: tables pad columns to the path's
        // length, so the output must not depend on where the corpus is.
        .current_dir(corpus)
        // The built-in catalog only: no apt, no cache of this machine.
        .env("BPFABI_CATALOG", "only")
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .expect("run bpfabi");
    assert!(matches!(out.status.code(), Some(0 | 1)), "bpfabi {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 output").replace(corpus, "$CORPUS");
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[test]
fn outputs_are_byte_identical_to_the_recorded_ones() {
    if !common::have_corpus() {
        return;
    }
    let corpus = common::corpus().to_string_lossy().into_owned();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/perf-outputs.txt");
    let recorded = std::fs::read_to_string(&fixture).expect("fixture");
    let catalog: Vec<String> = {
        let out = Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(["catalog", "list"]).output().expect("catalog list");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(2)
            .filter_map(|l| l.split_whitespace().next())
            .flat_map(|r| ["--kernel".to_string(), format!("debian:{r}")])
            .collect()
    };
    assert_eq!(catalog.len(), 2 * 28, "the built-in catalog has 28 kernels");
    let k = |n: &str| format!("kernels/{n}");
    let mut now = String::new();
    for line in recorded.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (what, args): (String, Vec<String>) = match f.as_slice() {
            ["surface-json", n, _] => (format!("{} {n}", f[0]), vec!["surface".into(), k(n), "--json".into()]),
            ["surface-table", n, _] => (format!("{} {n}", f[0]), vec!["surface".into(), k(n)]),
            ["surface-c", n, _] => (format!("{} {n}", f[0]), vec!["surface".into(), k(n), "--format".into(), "c".into()]),
            ["diff-json", a, b, _] => (format!("{} {a} {b}", f[0]), vec!["diff".into(), k(a), k(b), "--json".into()]),
            ["diff-table", a, b, _] => (format!("{} {a} {b}", f[0]), vec!["diff".into(), k(a), k(b)]),
            ["diff-markdown", a, b, _] => (format!("{} {a} {b}", f[0]), vec!["diff".into(), k(a), k(b), "--format".into(), "markdown".into()]),
            ["diff-table-each-type", a, b, _] => (format!("{} {a} {b}", f[0]), vec!["diff".into(), k(a), k(b), "--types".into()]),
            ["diff-all-types-json", a, b, _] => (format!("{} {a} {b}", f[0]), vec!["diff".into(), k(a), k(b), "--all-types".into(), "--json".into()]),
            [kind, o, _] if kind.starts_with("check-catalog-") => {
                let mut a = vec!["check".to_string(), format!("bpf-objects/{o}")];
                a.extend(catalog.iter().cloned());
                match &kind["check-catalog-".len()..] {
                    "table" => {}
                    format @ ("json" | "sarif" | "markdown") => a.extend(["--format".to_string(), format.to_string()]),
                    _ => panic!("{}: unexpected output kind in `{line}`", fixture.display()),
                }
                (format!("{kind} {o}"), a)
            }
            _ => panic!("{}: unexpected line `{line}`", fixture.display()),
        };
        now.push_str(&format!("{what} {}\n", digest(&corpus, &args)));
    }
    if std::env::var_os("BPFABI_BLESS").is_some() {
        std::fs::write(&fixture, &now).expect("write fixture");
        return;
    }
    for (old, new) in recorded.lines().zip(now.lines()) {
        assert_eq!(new, old, "output changed (the first field names the command)");
    }
}

/// A `KernelModel` reads helper names from `enum bpf_func_id` alone until
/// its surface is asked for (the kernel matrix never asks when no kfunc is
/// called): both routes must name the same helpers, on every corpus kernel.
#[test]
fn helper_names_without_the_surface_are_the_surfaces() {
    if !common::have_corpus() {
        return;
    }
    for k in ["5.10.223-1", "6.1.192-2", "6.12.95-1~bpo12+1", "6.12.117-1", "live-6.18"] {
        let path = common::corpus().join("kernels").join(k);
        let load = || bpfabi::model::KernelModel::load(std::slice::from_ref(&path), &bpfabi::kernel::LoadOptions::default()).expect("load kernel");
        let lazy = load();
        let names = lazy.helper_names().clone();
        let eager = load();
        let from_surface: std::collections::BTreeMap<u32, String> = eager.surface().helpers.iter().map(|h| (h.id, h.name.clone())).collect();
        assert_eq!(names, from_surface, "{k}");
        assert_eq!(names.get(&1).map(String::as_str), Some("bpf_map_lookup_elem"), "{k}");
        assert!(names.len() > 150, "{k}: {} helpers", names.len());
        // Asked after the surface, the model answers from it: the same.
        assert_eq!(eager.helper_names(), &names, "{k}");
    }
}
