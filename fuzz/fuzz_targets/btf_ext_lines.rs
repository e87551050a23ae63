//! `.BTF.ext` line info: raw bytes as a `.BTF.ext` section (against an
//! empty BTF), and as a BPF object whose call sites `check --policy` reads.
#![no_main]
use bpfabi::bytes::{Bytes, Endian};
use libfuzzer_sys::fuzz_target;

/// A valid BTF with no types and an empty string section.
const EMPTY_BTF: [u8; 25] = [0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = bpfabi::btf::Btf::parse(Bytes::from_vec(EMPTY_BTF.to_vec())) {
        for e in [Endian::Little, Endian::Big] {
            if let Ok(lines) = bpfabi::object::btf_ext::line_infos(data, e, &btf) {
                let _ = bpfabi::object::btf_ext::line_at(&lines, "", u32::MAX);
            }
        }
    }
    if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(data.to_vec()), "fuzz.o") {
        let _ = o.kfunc_call_sites();
    }
});
