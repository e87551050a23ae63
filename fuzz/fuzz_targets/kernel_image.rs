//! Kernel input detection and decompression (raw BTF, ELF, bzImage, zboot,
//! compressed streams), with a small output cap.
#![no_main]
use bpfabi::bytes::Bytes;
use bpfabi::kernel::{load_bytes, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions { max_decompressed: 64 << 20, ..Default::default() };
    if let Ok(k) = load_bytes(Bytes::from_vec(data.to_vec()), "fuzz", &opts) {
        let _ = bpfabi::surface::of(&k);
    }
});
