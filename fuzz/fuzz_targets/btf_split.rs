//! Split BTF on a fuzzed base: the first two bytes give the base's length.
#![no_main]
use bpfabi::btf::{render, Btf};
use bpfabi::bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = u16::from_le_bytes([data[0], data[1]]) as usize;
    let rest = &data[2..];
    let (base, split) = rest.split_at(n.min(rest.len()));
    let Ok(base) = Btf::parse(Bytes::from_vec(base.to_vec())) else { return };
    let Ok(m) = Btf::parse_split(Bytes::from_vec(split.to_vec()), Arc::new(base)) else { return };
    for t in m.types() {
        let _ = render::decl(&m, t.id, "x");
        let _ = m.by_name(t.name()).count();
    }
});
