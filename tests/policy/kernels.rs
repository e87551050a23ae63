//! Synthetic kernels for the policy tests, built with the BTF builder:
//! kfuncs with int/u32/u64/`struct task *` parameters and KF_* flags,
//! helpers by name, `struct task` of a chosen size.
#![allow(dead_code)]

use bpfabi::btf::builder::Builder;
use bpfabi::btf::Btf;
use bpfabi::bytes::{Bytes, Endian};
use bpfabi::kernel::{Kernel, KernelBtf};
use bpfabi::model::KernelModel;
use std::sync::Arc;

/// One kfunc of a synthetic kernel.
#[derive(Clone)]
pub struct Kf {
    pub name: &'static str,
    /// Parameter (name, type): "int", "u32", "u64", "task" (struct task *).
    pub params: Vec<(&'static str, &'static str)>,
    pub flags: u32,
}

pub fn kf(name: &'static str, params: &[(&'static str, &'static str)], flags: u32) -> Kf {
    Kf { name, params: params.to_vec(), flags }
}

/// A kernel of `release` with these kfuncs, helpers (`BPF_FUNC_<name>`), and
/// `struct task` of `task_size` bytes.
pub fn kernel(release: &str, kfuncs: &[Kf], helpers: &[&str], task_size: u32) -> KernelModel {
    let (btf, ids) = kernel_bytes(kfuncs, helpers, task_size);
    let btf = Arc::new(Btf::parse(Bytes::from_vec(btf)).unwrap());
    let mut k = Kernel::new(Some(format!("{release}.0-1-amd64")), KernelBtf::new("vmlinux", btf, Some(Bytes::from_vec(ids)), "synthetic"), vec![]);
    k.inputs = vec![format!("synthetic-{release}")];
    KernelModel::new(k)
}

/// Write a corpus-style kernel directory (vmlinux.btf, vmlinux.btf_ids, meta.json).
pub fn kernel_dir(dir: &std::path::Path, release: &str, kfuncs: &[Kf], helpers: &[&str]) {
    let (btf, ids) = kernel_bytes(kfuncs, helpers, 4);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("vmlinux.btf"), btf).unwrap();
    std::fs::write(dir.join("vmlinux.btf_ids"), ids).unwrap();
    std::fs::write(dir.join("meta.json"), format!("{{\"kernel_release\": \"{release}.0-1-amd64\"}}")).unwrap();
}

/// Raw BTF and `.BTF_ids` bytes of a synthetic kernel.
pub fn kernel_bytes(kfuncs: &[Kf], helpers: &[&str], task_size: u32) -> (Vec<u8>, Vec<u8>) {
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let u32_ = b.int("unsigned int", 4, 32, false);
    let u64_ = b.int("long long unsigned int", 8, 64, false);
    let mut members = vec![("pid", int, 0u32, 0u8)];
    if task_size > 4 {
        members.push(("extra", int, 32, 0));
    }
    let task = b.composite(false, "task", task_size, &members);
    let ptask = b.ptr(task);
    let mut ids = Vec::new();
    for k in kfuncs {
        let params: Vec<(&str, bpfabi::btf::TypeId)> = k
            .params
            .iter()
            .map(|(n, t)| {
                let ty = match *t {
                    "u32" => u32_,
                    "u64" => u64_,
                    "task" => ptask,
                    _ => int,
                };
                (*n, ty)
            })
            .collect();
        let p = b.func_proto(int, &params);
        let f = b.func(k.name, p, 1);
        ids.push((f, k.flags));
    }
    let mut h: Vec<(String, i32)> = vec![("BPF_FUNC_unspec".into(), 0)];
    for (i, n) in helpers.iter().enumerate() {
        h.push((format!("BPF_FUNC_{n}"), i as i32 + 1));
    }
    h.push(("__BPF_FUNC_MAX_ID".into(), helpers.len() as i32 + 1));
    let hr: Vec<(&str, i32)> = h.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    b.enum32("bpf_func_id", false, &hr);
    // Program types `check` looks up (syscall programs).
    b.enum32("bpf_prog_type", false, &[("BPF_PROG_TYPE_UNSPEC", 0), ("BPF_PROG_TYPE_SOCKET_FILTER", 1), ("BPF_PROG_TYPE_SYSCALL", 31)]);
    ids.sort();
    let mut sec = Vec::new();
    sec.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    sec.extend_from_slice(&1u32.to_le_bytes());
    for (id, fl) in ids {
        sec.extend_from_slice(&id.get().to_le_bytes());
        sec.extend_from_slice(&fl.to_le_bytes());
    }
    (b.build(), sec)
}
