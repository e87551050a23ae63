//! Census inputs: a Debian package (ar + compressed tar streamed member by
//! member), a BPF object or a file embedding some; and census JSON documents
//! (`--merge` reads them).
#![no_main]
use bpfabi::census::walk::{scan_bytes, CensusOptions};
use bpfabi::census::Census;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = CensusOptions::default();
    opts.max_package = 32 << 20;
    opts.max_file = 8 << 20;
    let c = scan_bytes(data.to_vec(), "fuzz.deb", &opts);
    let _ = Census::merge([c.clone(), c]);
    let _ = Census::from_json(&String::from_utf8_lossy(data), "fuzz.json");
});
