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
    // Past 6.18: the attach types libbpf v1.7.0's SEC() table names (its
    // uapi header), appended after 6.18's last enumerator.
    let after_618 = ["BPF_TRACE_FSESSION"];
    let live_attach = real(live.attach_types(), "__MAX");
    assert_eq!(live_attach.len() + after_618.len(), AttachType::ALL.len());
    for (i, n) in after_618.iter().enumerate() {
        assert!(live_attach.iter().all(|(_, m)| m != n));
        assert_eq!(AttachType::from_kernel_name(n).map(|t| t.value() as usize), Some(live_attach.len() + i), "{n}");
    }
}

/// The built-in helper names are each kernel's `enum bpf_func_id`, whose
/// older kernels hold a prefix (ids are only appended).
#[test]
fn builtin_helper_names_match_every_corpus_kernel() {
    if !have_corpus() {
        return;
    }
    for name in KERNELS {
        let m = KernelModel::new(load_dir(name));
        assert!(m.helper_names().len() > 150, "{name}");
        for (id, n) in m.helper_names() {
            assert_eq!(bpfabi::uapi::helper_name(*id).as_deref(), Some(n.as_str()), "{name}: helper {id}");
        }
    }
    // bpftool agrees on the newest kernel.
    let dump = bpftool(&["btf", "dump", "file", kernel_dir("live-6.18").join("vmlinux.btf").to_str().unwrap(), "format", "c"]);
    let n = dump.lines().filter(|l| l.trim_start().starts_with("BPF_FUNC_") && !l.contains("__BPF_FUNC_MAX_ID")).count();
    assert_eq!(n, bpfabi::uapi::HELPER_NAMES.len());
}
