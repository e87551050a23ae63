//! What a Rust loader (aya, libbpf-rs) can do before loading: ask bpfabi
//! whether each program of an object will load on the running kernel, and
//! why not.
//!
//! `cargo run --example check_before_load -- prog.bpf.o [KERNEL...]`
//! (no KERNEL: the running kernel, `/sys/kernel/btf/vmlinux`).

use bpfabi::check::{check, CheckOptions, Verdict};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::object::BpfObject;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: check_before_load OBJECT [KERNEL...]")?;
    let object: BpfObject = BpfObject::parse(&std::fs::read(&path)?, &path)?;
    let kernels: Vec<KernelModel> = match args.map(|k| KernelModel::load(&[k.into()], &LoadOptions::default())).collect::<Result<Vec<_>, _>>()? {
        ks if ks.is_empty() => vec![KernelModel::running(&LoadOptions::default())?],
        ks => ks,
    };
    let mut all_load = true;
    for r in check(std::slice::from_ref(&object), &kernels, &CheckOptions::default()) {
        println!("{} on {}: {}", r.program, r.kernel, r.verdict.as_str());
        for why in &r.reasons {
            println!("    {} {}: {}", why.kind, why.name, why.message);
        }
        all_load &= r.verdict != Verdict::Fails;
    }
    if !all_load {
        // A loader would stop here (or pick another object) instead of
        // letting the verifier refuse the program.
        std::process::exit(1);
    }
    Ok(())
}
