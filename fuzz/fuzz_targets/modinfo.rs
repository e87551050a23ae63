//! Kernel module `.modinfo` reading (vmtest's dependency resolution): the
//! ELF reader, the key=value decoder, and the load order over what it found.
#![no_main]
use bpfabi::vmtest::modinfo::{parse, parse_section, ModuleIndex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut idx = ModuleIndex::default();
    if let Ok(m) = parse(data) {
        idx.insert("elf".into(), m);
    }
    let m = parse_section(data);
    let wanted: Vec<String> = m.depends.iter().chain(m.soft_pre.iter()).cloned().chain(std::iter::once(m.name.clone())).collect();
    idx.insert("raw".into(), m);
    let _ = idx.load_order(&wanted);
});
