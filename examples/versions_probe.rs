//! Compare kfunc fingerprints of two kernels: `versions_probe OLD NEW`.
use bpfabi::versions::KernelVersions;
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| bpfabi::kernel::load(&[p.into()], &Default::default()).expect("kernel");
    let t = std::time::Instant::now();
    let (ka, kb) = (load(&a[0]), load(&a[1]));
    let (sa, sb) = (bpfabi::surface::of(&ka), bpfabi::surface::of(&kb));
    let va = KernelVersions::compute(&ka, &sa);
    let vb = KernelVersions::compute(&kb, &sb);
    println!("computed in {:?}", t.elapsed());
    let (mut same_p, mut same_d, mut diff) = (0, 0, vec![]);
    for (k, (p, d)) in &va.kfuncs {
        if let Some((p2, d2)) = vb.kfuncs.get(k) {
            same_p += (p == p2) as usize;
            same_d += (d == d2) as usize;
            if d != d2 { diff.push(k.0.clone()); }
        }
    }
    println!("{} kfuncs, same proto {same_p}, same deep {same_d}; deep differs: {:?}", va.kfuncs.len(), &diff[..diff.len().min(10)]);
}

#[allow(dead_code)]
pub fn unused() {}
