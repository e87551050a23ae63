//! Packages of other ecosystems as census inputs: Python wheels (zip:
//! central directory, local headers, stored/deflate members, METADATA and
//! WHEEL headers), npm tarballs and crates (gzip'd tar, package.json,
//! Cargo.toml), and the zip reader on its own.
#![no_main]
use bpfabi::census::walk::{scan_bytes, CensusOptions};
use bpfabi::census::{pkg, zip};
use libfuzzer_sys::fuzz_target;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let mut opts = CensusOptions::default();
    opts.max_package = 32 << 20;
    let _ = scan_bytes(data.to_vec(), "fuzz.whl", &opts);
    let _ = zip::for_each_file(data, "fuzz.zip", 32 << 20, &mut |_, _, r| {
        let _ = std::io::copy(&mut r.take(1 << 20), &mut std::io::sink());
        Ok(())
    });
    let _ = pkg::tgz_identity(data, "fuzz.tgz", 32 << 20);
});
