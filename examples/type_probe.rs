//! Which named types reachable from a key differ between two kernels.
use bpfabi::versions::{parse_type_name, TypeGraph};
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| bpfabi::kernel::load(&[p.into()], &Default::default()).expect("kernel");
    let (ka, kb) = (load(&a[0]), load(&a[1]));
    let (ba, bb) = (&ka.vmlinux.btf, &kb.vmlinux.btf);
    let key = parse_type_name(ba, &a[2]).expect("type");
    let (mut ga, mut gb) = (TypeGraph::new(), TypeGraph::new());
    ga.ensure(ba, &key);
    gb.ensure(bb, &key);
    let mut n = 0;
    let mut keys: Vec<_> = Vec::new();
    // walk reachable from key in ga
    let mut stack = vec![key.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(k) = stack.pop() {
        if !seen.insert(k.clone()) { continue; }
        if let Some(na) = ga.node(&k) { stack.extend(na.edges.iter().cloned()); keys.push(k); }
    }
    for k in keys {
        let (na, nb) = (ga.node(&k).unwrap(), gb.node(&k));
        match nb {
            None => { println!("only old: {k}"); n += 1; }
            Some(nb) if nb.shallow != na.shallow => {
                n += 1;
                if n <= 6 {
                    println!("== {k}");
                    let ta: Vec<String> = na.defs.iter().map(|d| d.canonical()).collect();
                    let tb: Vec<String> = nb.defs.iter().map(|d| d.canonical()).collect();
                    let la: Vec<&str> = ta.iter().flat_map(|t| t.lines()).collect();
                    let lb: Vec<&str> = tb.iter().flat_map(|t| t.lines()).collect();
                    for l in la.iter().filter(|l| !lb.contains(l)).take(4) { println!("  - {l}"); }
                    for l in lb.iter().filter(|l| !la.contains(l)).take(4) { println!("  + {l}"); }
                }
            }
            _ => {}
        }
    }
    println!("{} reachable, {n} differ", seen.len());
}
