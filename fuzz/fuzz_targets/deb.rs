//! Debian package reading (ar + compressed tar), always as an `ar` archive.
#![no_main]
use bpfabi::bytes::Bytes;
use bpfabi::kernel::{load_bytes, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut v = b"!<arch>\n".to_vec();
    v.extend_from_slice(data.strip_prefix(b"!<arch>\n").unwrap_or(data));
    let opts = LoadOptions { max_decompressed: 32 << 20, ..Default::default() };
    let _ = load_bytes(Bytes::from_vec(v), "fuzz.deb", &opts);
});
