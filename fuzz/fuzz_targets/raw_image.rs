//! Flat kernel images: the content search for `.BTF` (either byte order)
//! and `.BTF_ids`, and the payload scan of self-decompressing wrappers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bpfabi::kernel::rawimage::find_btf(data);
    let _ = bpfabi::kernel::rawimage::payload_candidates(data, 8);
    let _ = bpfabi::kernel::rawimage::find_payload(data, 1 << 24);
});
