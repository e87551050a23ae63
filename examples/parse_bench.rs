//! In-process timings: BTF parse + index, name index, surface.
//! `cargo run --release --example parse_bench -- FILE_OR_DIR...`
use bpfabi::btf::Btf;
use bpfabi::bytes::Bytes;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let iters = 30;
    for arg in std::env::args().skip(1) {
        let path = std::path::Path::new(&arg);
        let btf_file = if path.is_dir() { path.join("vmlinux.btf") } else { path.to_path_buf() };
        let bytes = Bytes::from_path(&btf_file).expect("readable");
        let (mut parse, mut index, mut surf) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..iters {
            let t = Instant::now();
            let btf = Btf::parse(bytes.clone()).expect("valid BTF");
            parse.push(t.elapsed());
            let t = Instant::now();
            let _ = btf.find("task_struct", bpfabi::btf::Kind::Struct);
            index.push(t.elapsed());
        }
        let k = bpfabi::kernel::load(&[path.to_path_buf()], &Default::default()).expect("kernel");
        for _ in 0..iters {
            let t = Instant::now();
            let _ = bpfabi::surface::of(&k);
            surf.push(t.elapsed());
        }
        println!(
            "{arg}: {} bytes, {} types: parse+validate {:?}, name index {:?}, surface {:?} (median of {iters})",
            bytes.len(),
            Btf::parse(bytes.clone()).unwrap().own_types(),
            median(parse),
            median(index),
            median(surf)
        );
    }
}
