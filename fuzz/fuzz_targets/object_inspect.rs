//! BPF object reading + inspect output.
#![no_main]
use bpfabi::bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(data.to_vec()), "fuzz.o") {
        let _ = bpfabi::report::check::inspect_json(&mut std::io::sink(), std::slice::from_ref(&o));
        let _ = bpfabi::report::check::inspect_text(&mut std::io::sink(), std::slice::from_ref(&o), &Default::default(), &|_| None);
    }
    let _ = bpfabi::object::embedded::find(data);
});
