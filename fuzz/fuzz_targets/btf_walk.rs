//! The BTF type walk in interleaved chains (`btf::walk`) held to the one
//! walk: the first 6 bytes choose three chain starts (4-byte units), the
//! rest is the BTF blob; the chains from those starts, and from the starts
//! the walk finds itself, give the one walk's table or fail at the same
//! record (`bpfabi::btf::check_walk_chains` panics otherwise).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((starts, blob)) = data.split_first_chunk::<6>() else { return };
    let starts: Vec<usize> = starts.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as usize * 4).collect();
    bpfabi::btf::check_walk_chains(blob, &starts);
});
