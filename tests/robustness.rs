//! Hostile input: real files truncated and bit-flipped must give an error
//! or a valid result, never a panic; decompression is capped.

mod common;
use bpfabi::btf::{render, Btf};
use bpfabi::bytes::Bytes;
use bpfabi::kernel::{self, LoadOptions};
use common::*;
use std::sync::Arc;

/// A small deterministic PRNG (xorshift) so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parse and walk everything a surface run touches.
fn exercise(btf: &Btf) {
    for t in btf.types() {
        let _ = t.name();
        let _ = t.members().count() + t.params().count() + t.enumerators().count() + t.datasec_vars().count();
        if t.kind == bpfabi::btf::Kind::Func {
            let _ = render::func_decl(btf, t.id);
        }
    }
}

/// The lazy parse of the same bytes agrees with the eager one: it fails
/// where the eager parse fails on the layout (same error), and once every
/// type was read its deferred error is the eager parse's error (none when
/// the eager parse succeeds).
fn lazy_agrees(eager: &Result<Btf, bpfabi::ReadError>, lazy: Result<Btf, bpfabi::ReadError>) {
    match (eager, lazy) {
        (Ok(_), Ok(l)) => {
            exercise(&l);
            assert!(l.deferred_error().is_none());
        }
        (Err(e), Ok(l)) => {
            exercise(&l);
            let d = l.deferred_error().expect("a reference error, found on reading every type");
            assert_eq!((d.offset, &d.what), (e.offset, &e.what));
        }
        (Err(e), Err(l)) => assert_eq!((l.offset, &l.what), (e.offset, &e.what)),
        (Ok(_), Err(l)) => panic!("lazy parse fails where the eager one succeeds: {l}"),
    }
}

#[test]
fn mutated_module_btf_never_panics() {
    if !common::have_corpus() {
        return;
    }
    let kd = kernel_dir("6.12.117-1");
    let base = Arc::new(Btf::parse(Bytes::from_path(&kd.join("vmlinux.btf")).unwrap()).unwrap());
    let orig = std::fs::read(kd.join("modules/nf_conntrack.btf")).unwrap();
    let mut rng = Rng(0x5eed);
    let mut errors = 0;
    for i in 0..300 {
        let mut m = orig.clone();
        if i % 3 == 0 {
            m.truncate(rng.below(orig.len()));
        } else {
            for _ in 0..1 + rng.below(8) {
                let p = rng.below(m.len());
                m[p] ^= 1 << rng.below(8);
            }
        }
        let eager = Btf::parse_split(Bytes::from_vec(m.clone()), base.clone());
        match &eager {
            Ok(b) => exercise(b),
            Err(_) => errors += 1,
        }
        lazy_agrees(&eager, Btf::parse_split_lazy(Bytes::from_vec(m), base.clone()));
    }
    assert!(errors > 50, "mutations should mostly be caught, only {errors} were");
}

#[test]
fn mutated_vmlinux_btf_never_panics() {
    if !common::have_corpus() {
        return;
    }
    let orig = std::fs::read(kernel_dir("5.10.223-1").join("vmlinux.btf")).unwrap();
    let mut rng = Rng(0xb7f);
    // Header and early type records are where most structure lives.
    for i in 0..40 {
        let mut m = orig.clone();
        if i % 4 == 0 {
            m.truncate(rng.below(orig.len()));
        } else {
            let p = if i % 2 == 0 { rng.below(64) } else { rng.below(m.len()) };
            m[p] ^= 1 << rng.below(8);
        }
        let eager = Btf::parse(Bytes::from_vec(m.clone()));
        if let Ok(b) = &eager {
            exercise(b);
        }
        lazy_agrees(&eager, Btf::parse_lazy(Bytes::from_vec(m)));
    }
}

#[test]
fn mutated_btf_ids_never_panic() {
    if !common::have_corpus() {
        return;
    }
    let k = load_dir("6.12.95-1~bpo12+1");
    let ids = k.vmlinux.btf_ids.clone().unwrap();
    let mut rng = Rng(0x1d5);
    for _ in 0..200 {
        let mut m = ids.as_slice().to_vec();
        for _ in 0..4 {
            let p = rng.below(m.len());
            m[p] = rng.next() as u8;
        }
        // The BTF_SET scan (the sleepable LSM hooks, src/check/filters.rs).
        let _ = bpfabi::btf_ids::scan_func_sets(&m, k.vmlinux.btf.endian(), &k.vmlinux.btf, 8, &|n| n.starts_with("bpf_lsm_"));
        let mut k2 = k.clone();
        k2.vmlinux.btf_ids = Some(Bytes::from_vec(m));
        let _ = bpfabi::surface::of(&k2);
    }
}

#[test]
fn decompression_is_capped() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bomb");
    std::fs::create_dir_all(&tmp).unwrap();
    // 64 MiB of zeros compresses to ~64 KiB of gzip.
    let gz = gzip_of_zeros(64 << 20);
    let bomb = tmp.join("bomb.gz");
    std::fs::write(&bomb, gz).unwrap();
    let opts = LoadOptions { max_decompressed: 8 << 20, ..Default::default() };
    let e = kernel::load(&[bomb], &opts).unwrap_err();
    assert!(e.what.contains("limit"), "{e}");
}

/// gzip of `n` zero bytes, made with the gzip tool.
fn gzip_of_zeros(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip").arg("-c").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..n >> 20 {
            stdin.write_all(&zeros).unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

#[test]
fn truncated_and_flipped_inputs_through_the_loader() {
    if !common::have_corpus() {
        return;
    }
    // Every corpus kernel's vmlinux.btf cut at a few points goes through the
    // whole loader (detection included) without panicking.
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cuts");
    std::fs::create_dir_all(&tmp).unwrap();
    for k in KERNELS {
        let orig = std::fs::read(kernel_dir(k).join("vmlinux.btf")).unwrap();
        for (i, frac) in [0usize, 1, 2, 13, 24, 25, 100, 4096].iter().enumerate() {
            let cut = tmp.join(format!("{i}.btf"));
            std::fs::write(&cut, &orig[..(*frac).min(orig.len())]).unwrap();
            assert!(kernel::load(&[cut], &LoadOptions::default()).is_err());
        }
    }
}

/// Inputs the fuzzers found crashes with (tests/fuzz-regressions), replayed
/// through the same code paths as their fuzz targets.
#[test]
fn fuzz_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        n += 1;
        if name.starts_with("btf_parse") {
            if let Ok(btf) = Btf::parse(Bytes::from_vec(data.clone())) {
                exercise(&btf);
                let mut g = bpfabi::versions::TypeGraph::new();
                for t in btf.types() {
                    let _ = bpfabi::versions::type_ref(&btf, t.id);
                    if let Some(k) = bpfabi::versions::key_of(&btf, t.id) {
                        let _ = g.deep(&btf, &k, None);
                    }
                }
            }
        } else if name.starts_with("object") {
            let _ = bpfabi::object::embedded::find(&data);
            let _ = bpfabi::object::parse(&Bytes::from_vec(data), "regression");
        } else if name.starts_with("kernel_image") || name.starts_with("deb") {
            let _ = kernel::load_bytes(Bytes::from_vec(data), &name, &LoadOptions { max_decompressed: 64 << 20, ..Default::default() });
        }
    }
    assert!(n >= 2);
}

#[test]
fn every_corpus_bpf_object_truncated_and_flipped_never_panics() {
    if !common::have_corpus() {
        return;
    }
    let root = corpus().join("bpf-objects");
    let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("index.json")).unwrap()).unwrap();
    let ki = bpfabi::model::KernelModel::new(load_dir("6.12.117-1"));
    let mut rng = Rng(0x0b1ec7);
    let mut cases = 0;
    for e in index.as_array().unwrap() {
        let orig = std::fs::read(root.join(e["file"].as_str().unwrap())).unwrap();
        for i in 0..6 {
            let mut m = orig.clone();
            if i < 2 {
                m.truncate(rng.below(orig.len()));
            } else {
                for _ in 0..1 + rng.below(6) {
                    let p = rng.below(m.len());
                    m[p] ^= 1 << rng.below(8);
                }
            }
            cases += 1;
            if let Ok(o) = bpfabi::object::parse(&Bytes::from_vec(m), "mutant.o") {
                let r = bpfabi::check::check_object(&o, &ki, &Default::default(), &bpfabi::check::CheckOptions::default().explain(true));
                bpfabi::report::check::sarif(&mut std::io::sink(), &r).unwrap();
            }
        }
    }
    assert!(cases > 1000, "{cases}");
}

#[test]
fn every_corpus_kernel_file_mutated_never_panics() {
    if !common::have_corpus() {
        return;
    }
    let mut rng = Rng(0xfeed);
    let mut cases = 0;
    let mutate = |rng: &mut Rng, orig: &[u8], i: usize| -> Vec<u8> {
        let mut m = orig.to_vec();
        if i == 0 {
            m.truncate(rng.below(orig.len().max(1)));
        } else {
            for _ in 0..1 + rng.below(6) {
                let p = rng.below(m.len().max(1));
                if let Some(b) = m.get_mut(p) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        m
    };
    for k in KERNELS {
        let kd = kernel_dir(k);
        let kernel = load_dir(k);
        // vmlinux BTF: a few mutations (5 MB each).
        let vm = std::fs::read(kd.join("vmlinux.btf")).unwrap();
        for i in 0..3 {
            if let Ok(b) = Btf::parse(Bytes::from_vec(mutate(&mut rng, &vm, i))) {
                exercise(&b);
            }
            cases += 1;
        }
        let files: Vec<std::path::PathBuf> =
            std::fs::read_dir(kd.join("modules")).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        let mut all = files;
        all.push(kd.join("vmlinux.btf_ids"));
        all.sort();
        for f in all.iter().filter(|f| f.exists()) {
            let orig = std::fs::read(f).unwrap();
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            for i in 0..4 {
                let m = mutate(&mut rng, &orig, i);
                cases += 1;
                if name.ends_with(".btf") {
                    if let Ok(b) = Btf::parse_split(Bytes::from_vec(m), kernel.vmlinux.btf.clone()) {
                        exercise(&b);
                    }
                } else {
                    // .btf_ids: through kfunc discovery, on vmlinux or its module.
                    let mut k2 = kernel.clone();
                    let module = name.trim_end_matches(".btf_ids").to_string();
                    match k2.modules.iter_mut().find(|x| x.name == module) {
                        Some(mb) => mb.btf_ids = Some(Bytes::from_vec(m)),
                        None => k2.vmlinux.btf_ids = Some(Bytes::from_vec(m)),
                    }
                    let _ = bpfabi::surface::of(&k2);
                }
            }
        }
    }
    assert!(cases > 200, "{cases}");
}

/// The c_decl fuzz target's seeds (real kfunc prototypes and the renderer's
/// corner cases) read, print back as they were written and read again to
/// the same declaration; every truncation and byte flip of them reads or
/// fails with an offset inside the text, never panics.
#[test]
fn c_decl_seeds_read_and_mutations_never_panic() {
    use bpfabi::ctype::Decl;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/c_decl");
    let mut rng = Rng(0xdec1);
    let mut seeds = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let d: Decl = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(d.to_string(), text);
        assert_eq!(d.to_string().parse::<Decl>().unwrap(), d);
        seeds += 1;
        let b = text.as_bytes();
        for i in 0..400 {
            let mut m = b.to_vec();
            if i % 4 == 0 {
                m.truncate(rng.below(b.len() + 1));
            } else {
                let p = rng.below(m.len());
                m[p] ^= 1 << rng.below(7);
            }
            let Ok(t) = String::from_utf8(m) else { continue };
            match t.parse::<Decl>() {
                Ok(d) => drop(d.to_string().parse::<Decl>()),
                Err(e) => assert!(e.offset <= t.len(), "{t}: {e}"),
            }
        }
    }
    assert!(seeds >= 3, "{seeds} seeds in {}", dir.display());
}
