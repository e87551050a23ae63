fn main() {
    let p = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).map_or(2000, |s| s.parse().unwrap());
    let opts = bpfabi::kernel::LoadOptions { lazy_btf: true, ..Default::default() };
    let k = bpfabi::kernel::load_sources(&bpfabi::kernel::KernelSource::parse_or_running(&[p.clone().into()]).unwrap(), &opts).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        let s = bpfabi::surface::of(&k);
        std::hint::black_box(s);
    }
    println!("surface::of {:.3} ms", t.elapsed().as_secs_f64() * 1e3 / n as f64);
}
