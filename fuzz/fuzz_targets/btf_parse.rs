//! BTF parse + full type walk + C rendering + fingerprints + shapes.
#![no_main]
use bpfabi::btf::{render, Btf, Kind};
use bpfabi::bytes::Bytes;
use bpfabi::versions::{key_of, TypeGraph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = Btf::parse(Bytes::from_vec(data.to_vec())) else { return };
    let mut keys = Vec::new();
    for t in btf.types() {
        let _ = (t.name(), t.members().count(), t.params().count(), t.enumerators().count(), t.datasec_vars().count());
        let _ = (t.int_info(), t.array(), t.linkage(), t.component_idx());
        let _ = render::decl(&btf, t.id, "x");
        if t.kind == Kind::Func {
            let _ = render::func_decl(&btf, t.id);
        }
        if let Some(k) = key_of(&btf, t.id) {
            if keys.len() < 64 {
                keys.push(k);
            }
        }
        let _ = btf.resolve(t.id);
    }
    // Shapes of every type (memoised; cycles and dangling ids end as None).
    let mut shapes = bpfabi::shape::Shapes::new(&btf);
    for t in btf.types() {
        let _ = (shapes.of_ref(t.id), shapes.of_def(t.id));
    }
    let mut g = TypeGraph::new();
    for k in &keys {
        let _ = g.deep(&btf, k, None);
        let _ = btf.by_name(&k.name).count();
    }
});
