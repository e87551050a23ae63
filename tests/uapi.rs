//! The UAPI tables in `bpfabi::uapi` against the enums in real kernels' BTF:
//! every enumerator a kernel has is in the table with the same value, and
//! the table is exactly the 6.18 kernel's enum (its source).

mod common;
use bpfabi::model::KernelModel;
use bpfabi::uapi::{AttachType, ProgType};
use common::*;

fn real(k: &bpfabi::model::KernelEnum, prefix_skip: &str) -> Vec<(u64, String)> {
    k.iter().filter(|(_, n)| !n.starts_with(prefix_skip)).map(|(v, n)| (v, n.to_string())).collect()
}

#[test]
fn uapi_tables_match_every_corpus_kernel() {
    if !have_corpus() {
        return;
    }
    for name in KERNELS {
        let m = KernelModel::new(load_dir(name));
        for (v, n) in real(m.prog_types(), "__MAX") {
            assert_eq!(ProgType::from_kernel_name(&n).map(|t| t.value() as u64), Some(v), "{name}: {n}");
        }
        for (v, n) in real(m.attach_types(), "__MAX") {
            assert_eq!(AttachType::from_kernel_name(&n).map(|t| t.value() as u64), Some(v), "{name}: {n}");
        }
    }
    let live = KernelModel::new(load_dir("live-6.18"));
    assert_eq!(real(live.prog_types(), "__MAX").len(), ProgType::ALL.len());
    assert_eq!(real(live.attach_types(), "__MAX").len(), AttachType::ALL.len());
}
