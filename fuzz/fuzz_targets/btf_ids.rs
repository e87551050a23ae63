//! `.BTF_ids` decoding and kfunc discovery over a small fixed BTF.
#![no_main]
use bpfabi::btf::builder::Builder;
use bpfabi::btf::Btf;
use bpfabi::bytes::{Bytes, Endian};
use bpfabi::kernel::{Kernel, KernelBtf};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn btf() -> Arc<Btf> {
    static B: OnceLock<Arc<Btf>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let p = b.func_proto(int, &[("a", int)]);
        for i in 0..8 {
            b.func(&format!("kf{i}"), p, 1);
        }
        Arc::new(Btf::parse(Bytes::from_vec(b.build())).expect("valid"))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let btf = btf();
    let _ = bpfabi::btf_ids::scan_set8(data, Endian::Little, &btf, u32::MAX);
    let _ = bpfabi::btf_ids::check_matches(data, &btf);
    let _ = bpfabi::btf_ids::scan_func_sets(data, Endian::Little, &btf, 1, &|n| n.starts_with("kf"));
    for release in ["6.1.0", "6.12.0", "5.10.0"] {
        let k = Kernel::new(Some(release.into()), KernelBtf::new("vmlinux", btf.clone(), Some(Bytes::from_vec(data.to_vec())), "fuzz"), vec![]);
        let _ = bpfabi::surface::of(&k);
        let _ = bpfabi::lint::lint(&k);
    }
});
