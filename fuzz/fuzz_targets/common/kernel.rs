//! The kernel model the fuzz targets judge against, loaded once:
//! $BPFABI_FUZZ_KERNEL (any kernel input), else the running kernel's BTF.
use bpfabi::model::KernelModel;
use std::sync::OnceLock;

pub fn kernel() -> &'static KernelModel {
    static K: OnceLock<KernelModel> = OnceLock::new();
    K.get_or_init(|| {
        let opts = Default::default();
        match std::env::var_os("BPFABI_FUZZ_KERNEL") {
            Some(p) => KernelModel::load(&[p.into()], &opts).expect("BPFABI_FUZZ_KERNEL"),
            None => KernelModel::running(&opts).expect("running kernel BTF (or set BPFABI_FUZZ_KERNEL)"),
        }
    })
}
