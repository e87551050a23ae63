//! `check` of a fuzzed object against a real kernel: the running kernel's
//! BTF, or $BPFABI_FUZZ_KERNEL (any kernel input).
#![no_main]
use bpfabi::bytes::Bytes;
use bpfabi::check::{check_object, CheckOptions};
use bpfabi::model::KernelModel;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn kernel() -> &'static KernelModel {
    static K: OnceLock<KernelModel> = OnceLock::new();
    K.get_or_init(|| {
        let opts = Default::default();
        match std::env::var_os("BPFABI_FUZZ_KERNEL") {
            Some(p) => KernelModel::load(&[p.into()], &opts).expect("BPFABI_FUZZ_KERNEL"),
            None => KernelModel::running(&opts).expect("running kernel BTF (or set BPFABI_FUZZ_KERNEL)"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(data.to_vec()), "fuzz.o") {
        let r = check_object(&o, kernel(), &Default::default(), &CheckOptions::default().explain(true));
        let _ = bpfabi::report::check::sarif(&mut std::io::sink(), &r);
    }
});
