//! Project configurations (`.bpfabi.toml`, untrusted): parse, resolve paths,
//! and report errors with line and column.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match bpfabi::integration::Config::parse(text, "fuzz.toml", Path::new("/nonexistent-fuzz-dir")) {
            Ok(c) => {
                let _ = (c.kernels.len(), c.manifest, c.loader, c.fail_on);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
