//! Write synthetic fuzz seeds: `make_fuzz_seeds OUTDIR` (fuzz/make-seeds.sh
//! adds the real-file seeds). Needs an ELF with .BTF as `OUTDIR/elf-with-btf`
//! to wrap into a bzImage seed.
use bpfabi::btf::builder::Builder;
use bpfabi::btf::TypeId;
use bpfabi::bytes::Endian;
use std::io::Write;
use std::path::Path;

fn main() {
    let out = std::env::args().nth(1).expect("OUTDIR");
    let out = Path::new(&out);
    let w = |sub: &str, name: &str, data: &[u8]| {
        std::fs::create_dir_all(out.join(sub)).unwrap();
        std::fs::write(out.join(sub).join(name), data).unwrap();
    };
    // Base + split, every kind once.
    let mut b = Builder::new(Endian::Little);
    let int = b.int("int", 4, 32, true);
    let s = b.composite(false, "sock", 8, &[("a", int, 0, 0), ("b", int, 32, 3)]);
    let ps = b.ptr(s);
    let en = b.enum32("e", true, &[("A", -1)]);
    b.enum64("e64", &[("B", 1 << 40)]);
    b.typedef("t", en);
    let arr = b.array(int, int, 4);
    b.composite(true, "u", 16, &[("x", arr, 0, 0)]);
    b.fwd("f", false);
    let c = b.konst(int);
    b.volatile(c);
    b.restrict(ps);
    let proto = b.func_proto(int, &[("sk", ps), ("", TypeId::VOID)]);
    let f = b.func("kf", proto, 1);
    b.decl_tag("bpf_kfunc", f, -1);
    b.type_tag("user", int);
    let v = b.var("v", int, 1);
    b.datasec(".data", 4, &[(v, 0, 4)]);
    b.float("double", 8);
    let base = b.build();
    w("btf_parse", "synthetic-le", &base);
    let mut m = Builder::new_split(Endian::Little, b.next_id().get() - 1, b.str_len());
    let p2 = m.func_proto(int, &[("sk", ps)]);
    let mf = m.func("mod_kf", p2, 1);
    m.decl_tag("bpf_kfunc", mf, -1);
    let split = m.build();
    let mut seed = (base.len() as u16).to_le_bytes().to_vec();
    seed.extend_from_slice(&base);
    seed.extend_from_slice(&split);
    w("btf_split", "base-and-module", &seed);
    let mut be = Builder::new(Endian::Big).with_layout(&[(25, 4, 8)]);
    let i = be.int("int", 4, 32, true);
    be.raw("future", 25, false, 1, 0, &[1, 2, 3]);
    be.ptr(i);
    w("btf_parse", "big-endian-with-layout", &be.build());
    // set8 records naming the fuzz target's FUNC ids 2..9, flagged and not.
    let mut ids = Vec::new();
    for flags in [1u32, 0] {
        ids.extend_from_slice(&4u32.to_le_bytes());
        ids.extend_from_slice(&flags.to_le_bytes());
        for (id, f) in [(2u32, 1u32), (3, 2), (5, 0x11), (9, 4)] {
            ids.extend_from_slice(&id.to_le_bytes());
            ids.extend_from_slice(&f.to_le_bytes());
        }
    }
    w("btf_ids", "two-sets", &ids);
    // A bzImage with a gzip payload around an ELF carrying .BTF.
    if let Ok(elf) = std::fs::read(out.join("elf-with-btf")) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&elf).unwrap();
        let mut payload = gz.finish().unwrap();
        payload.extend_from_slice(&(elf.len() as u32).to_le_bytes());
        let mut img = vec![0u8; 1024];
        img[0x1f1] = 1;
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        img[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
        img[0x300..0x306].copy_from_slice(b"6.1.0\0");
        img[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        img.extend_from_slice(&payload);
        w("kernel_image", "bzimage-gzip", &img);
        w("kernel_image", "vmlinux-elf", &elf);
        std::fs::remove_file(out.join("elf-with-btf")).unwrap();
    }
    w("kernel_image", "raw-btf", &base);
}
