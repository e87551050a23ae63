//! One object against one prepared kernel through the library: what a
//! loader pays when it asks bpfabi before each load (issue 25, target
//! <= 1 ms). The kernel is loaded and prepared once ([`KernelModel`]); the
//! object is parsed and checked each time, as a loader would for a new
//! object. Prints the median and the fastest of 200 runs after a warm-up.
//!
//! `cargo run --release --example check_bench -- OBJECT KERNEL`
//! (`bash bench/matrix.sh` runs it.)

use bpfabi::check::{check, CheckOptions};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::object::BpfObject;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(obj), Some(kernel)) = (args.next(), args.next()) else {
        return Err("usage: check_bench OBJECT KERNEL".into());
    };
    let bytes = std::fs::read(&obj)?;
    let t = Instant::now();
    let model = KernelModel::load(&[kernel.clone().into()], &LoadOptions::default())?;
    let prepare = t.elapsed();
    let opts = CheckOptions::default();
    let once = || -> Result<usize, Box<dyn std::error::Error>> {
        let object = BpfObject::parse(&bytes, &obj)?;
        Ok(check(std::slice::from_ref(&object), std::slice::from_ref(&model), &opts).len())
    };
    // The first check fills the model's lazily built indexes (type names,
    // flavours, enums): part of preparing the kernel, not of each check.
    let programs = once()?;
    let mut runs: Vec<Duration> = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        std::hint::black_box(once()?);
        runs.push(t.elapsed());
    }
    runs.sort();
    let median = runs.get(runs.len() / 2).copied().unwrap_or_default();
    let fastest = runs.first().copied().unwrap_or_default();
    println!(
        "{} ({programs} programs) x {}: median {:.3} ms, fastest {:.3} ms per check (kernel prepared once in {:.1} ms)",
        std::path::Path::new(&obj).file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        model.label(),
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        prepare.as_secs_f64() * 1e3
    );
    Ok(())
}
