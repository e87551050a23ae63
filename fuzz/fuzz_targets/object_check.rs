//! `check` of a fuzzed object against a real kernel: the running kernel's
//! BTF, or $BPFABI_FUZZ_KERNEL (any kernel input).
#![no_main]
use bpfabi::bytes::Bytes;
use bpfabi::check::{check_object, KernelIndex};
use bpfabi::kernel::Kernel;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn kernel() -> &'static Kernel {
    static K: OnceLock<Kernel> = OnceLock::new();
    K.get_or_init(|| {
        let opts = Default::default();
        match std::env::var_os("BPFABI_FUZZ_KERNEL") {
            Some(p) => bpfabi::kernel::load(&[p.into()], &opts).expect("BPFABI_FUZZ_KERNEL"),
            None => bpfabi::kernel::load_running(&opts).expect("running kernel BTF (or set BPFABI_FUZZ_KERNEL)"),
        }
    })
}

fn index() -> &'static KernelIndex<'static> {
    static I: OnceLock<KernelIndex<'static>> = OnceLock::new();
    I.get_or_init(|| KernelIndex::new(kernel()))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(data.to_vec()), "fuzz.o") {
        let r = check_object(&o, index(), &Default::default(), true);
        let _ = bpfabi::report::check::sarif(&r);
    }
});
