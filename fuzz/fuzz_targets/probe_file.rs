//! Probe files (`bpfabi.probe/1` JSON, untrusted): read, index, render, and
//! judge a fixed set of programs (every variant-matching path) with them,
//! including the contexts (`contexts`, `contexts_measured`: an `iter/tcp`
//! program and an arena map ask for the `iter_target` and `arena_map`
//! contexts of the variants), against a real kernel (the running kernel's
//! BTF, or $BPFABI_FUZZ_KERNEL), which says which kfuncs it registers.
#![no_main]
#[path = "common/kernel.rs"]
mod common_kernel;
use common_kernel::kernel;
use bpfabi::bytes::{Bytes, Endian};
use bpfabi::object::{BpfObject, Extern, ExternKind, Map, Program, StructOps};
use bpfabi::probe::{read_probe, ProbeIndex};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn program(section: &str) -> Program {
    let d = bpfabi::object::sections::decode(section);
    Program {
        name: section.replace('/', "_"),
        section: section.into(),
        prog_type: d.prog_type,
        expected_attach: d.attach,
        attach_target: d.target,
        sleepable: d.sleepable,
        autoload: true,
        insns: 3,
        helpers: BTreeMap::from([(1, 1), (5, 1), (160, 1)]),
        kfuncs: BTreeSet::from(["bpf_task_from_pid".to_string(), "bpf_rcu_read_lock___v2".to_string()]),
        ksym_checks: BTreeSet::new(),
        core_relos: vec![],
        subprog_calls: 0,
        func: 0,
        is_static: false,
    }
}

fn object() -> &'static BpfObject {
    static O: OnceLock<BpfObject> = OnceLock::new();
    O.get_or_init(|| BpfObject {
        path: "fuzz.o".into(),
        endian: Endian::Little,
        license: Some("GPL".into()),
        programs: ["kprobe/do_nanosleep", "tc", "syscall", "fentry/bpf_fentry_test1", "lsm.s/file_open", "struct_ops/ssthresh", "cgroup/skb", "freplace/x", "mystery", "iter/tcp", "iter.s/task"]
            .iter()
            .map(|s| program(s))
            .collect(),
        // BPF_MAP_TYPE_ARENA (33): the arena context.
        maps: vec![Map { name: "arena".into(), map_type: 33, max_entries: Some(1), ..Default::default() }],
        externs: ["bpf_task_from_pid", "bpf_rcu_read_lock___v2"]
            .iter()
            .map(|n| Extern::new(n, ExternKind::Kfunc, false))
            .collect(),
        core_relos: vec![],
        struct_ops: vec![StructOps { name: "ca".into(), kernel_type: "tcp_congestion_ops".into(), programs: vec![], slots: vec![], link: false }],
        subprograms: vec![],
        helpers_anywhere: BTreeSet::new(),
        btf: None,
        in_go_executable: false,
        functions: vec![],
        rodata: vec![],
        lines: vec![],
        bytes: Bytes::from_static(&[]),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = read_probe(data, "fuzz.json") {
        let _ = bpfabi::report::probe::table(&mut std::io::sink(), &p);
        let _ = bpfabi::report::probe::detail(&mut std::io::sink(), &p);
        let idx = ProbeIndex::new(p, "fuzz.json");
        let o = object();
        for prog in &o.programs {
            let _ = idx.judge(kernel(), o, prog);
        }
    }
});
