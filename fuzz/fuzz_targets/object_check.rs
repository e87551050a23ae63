//! `check` of a fuzzed object against a real kernel: the running kernel's
//! BTF, or $BPFABI_FUZZ_KERNEL (any kernel input).
#![no_main]
#[path = "common/kernel.rs"]
mod common_kernel;
use common_kernel::kernel;
use bpfabi::bytes::Bytes;
use bpfabi::check::{check_object, CheckOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(data.to_vec()), "fuzz.o") {
        let r = check_object(&o, kernel(), &Default::default(), &CheckOptions::default().explain(true));
        let _ = bpfabi::report::check::sarif(&mut std::io::sink(), &r);
    }
});
