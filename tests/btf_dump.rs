//! `bpfabi btf dump`: the vmlinux.h of corpus kernels compiles for BPF with
//! the kfunc header `surface --format c` writes (no clashing prototypes),
//! every struct and union has its BTF size (static assertions compiled by
//! clang), and, with bpftool installed, it defines the same named types as
//! `bpftool btf dump file X format c`.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn bpfabi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(args).output().unwrap()
}

fn have(cmd: &str) -> bool {
    Command::new(cmd).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn clang(dir: &Path, src: &str) -> std::process::Output {
    std::fs::write(dir.join("t.c"), src).unwrap();
    Command::new("clang").args(["-target", "bpf", "-O2", "-Werror", "-c", "t.c", "-o", "t.o"]).current_dir(dir).output().unwrap()
}

/// `struct NAME {` / `union NAME {` / `enum NAME {` / `typedef ... NAME;`
/// definitions of a C header, `___N` suffixes dropped.
fn defined(h: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in h.lines() {
        let l = l.trim_end();
        for kw in ["struct ", "union ", "enum "] {
            if let Some(rest) = l.strip_prefix(kw).and_then(|r| r.strip_suffix(" {").or_else(|| r.strip_suffix(" {};"))) {
                out.insert(format!("{kw}{}", rest.split("___").next().unwrap()));
            }
        }
        if l.starts_with("typedef ") && l.ends_with(';') && !l.contains('{') {
            let name = l.trim_end_matches(';').rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).find(|w| !w.is_empty()).unwrap_or("");
            out.insert(format!("typedef {}", name.split("___").next().unwrap()));
        }
    }
    out
}

#[test]
fn vmlinux_h_compiles_with_the_kfunc_header_and_keeps_every_size() {
    if !have_corpus() {
        return;
    }
    if !have("clang") {
        eprintln!("skipped: clang not installed");
        return;
    }
    for name in ["5.10.223-1", "6.12.117-1"] {
        let dir = workdir(&format!("btf_dump/{name}"));
        let k = kernel_dir(name);
        let o = bpfabi(&["btf", "dump", k.to_str().unwrap(), "--format", "c", "-o", dir.join("vmlinux.h").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let o = bpfabi(&["surface", k.to_str().unwrap(), "--format", "c"]);
        std::fs::write(dir.join("kfuncs.h"), &o.stdout).unwrap();
        // Every named struct and union at its BTF size.
        let kernel = load_dir(name);
        let btf = &kernel.vmlinux.btf;
        let mut asserts = String::new();
        let mut seen = BTreeSet::new();
        // Tag names of more than one type get `___N` suffixes: left out.
        let mut tags: std::collections::BTreeMap<&str, usize> = Default::default();
        for t in btf.types() {
            if matches!(t.kind, bpfabi::btf::Kind::Struct | bpfabi::btf::Kind::Union | bpfabi::btf::Kind::Enum | bpfabi::btf::Kind::Enum64) {
                *tags.entry(t.name()).or_default() += 1;
            }
        }
        // va_list is the target's: 24 bytes on x86-64, 8 for clang -target bpf.
        let holds_va_list = |t: &bpfabi::btf::Type| t.members().any(|m| btf.ty(m.ty).is_some_and(|x| x.name().contains("va_list")));
        for t in btf.types() {
            let kw = match t.kind {
                bpfabi::btf::Kind::Struct => "struct",
                bpfabi::btf::Kind::Union => "union",
                _ => continue,
            };
            if t.name().is_empty() || tags.get(t.name()) != Some(&1) || holds_va_list(&t) || !seen.insert((kw, t.name().to_string())) {
                continue;
            }
            asserts.push_str(&format!("_Static_assert(sizeof({kw} {n}) == {s}, \"{kw} {n}\");\n", n = t.name(), s = t.size()));
        }
        assert!(seen.len() > 3000, "{}", seen.len());
        let o = clang(
            &dir,
            &format!("#include \"vmlinux.h\"\n#include \"kfuncs.h\"\n{asserts}\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n")
                .replace("SEC(\"license\")", "__attribute__((section(\"license\")))"),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}: {}", err.lines().take(20).collect::<Vec<_>>().join("\n"));
        // The same named types as bpftool's dump (gated: bpftool installed).
        if have_bpftool() {
            let ours = defined(&std::fs::read_to_string(dir.join("vmlinux.h")).unwrap());
            let theirs = defined(&bpftool(&["btf", "dump", "file", k.join("vmlinux.btf").to_str().unwrap(), "format", "c"]));
            let only_ours: Vec<_> = ours.difference(&theirs).take(10).collect();
            let only_theirs: Vec<_> = theirs.difference(&ours).take(10).collect();
            assert!(only_ours.is_empty() && only_theirs.is_empty(), "{name}: only bpfabi {only_ours:?}, only bpftool {only_theirs:?}");
        }
    }
}

fn have_bpftool() -> bool {
    Command::new("bpftool").arg("version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn raw_export_is_the_kernels_btf() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("btf_dump/raw");
    let k = kernel_dir("6.12.117-1");
    let out = dir.join("vmlinux.btf");
    let o = bpfabi(&["btf", "dump", k.to_str().unwrap(), "--format", "raw", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(k.join("vmlinux.btf")).unwrap());
    // And it reads back as the same kernel surface.
    let a = bpfabi(&["surface", out.to_str().unwrap(), "--kfuncs", "--json"]);
    let b = bpfabi(&["surface", k.to_str().unwrap(), "--kfuncs", "--json", "--no-modules"]);
    let kf = |o: &std::process::Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["kfuncs"].as_array().unwrap().len();
    assert_eq!(kf(&a), kf(&b));
}

/// `btf dump KERNEL --min-core OBJ...` writes the bytes `bpftool gen
/// min_core_btf` writes for the same objects (libbpf-tools, and the 6.1
/// selftests, each set at once) on real kernels.
#[test]
fn min_core_cut_is_bpftools() {
    if !have_corpus() {
        return;
    }
    if !have_bpftool() {
        eprintln!("skipped: bpftool not installed");
        return;
    }
    let dir = workdir("btf_dump/min_core");
    for (kernel, set) in [("5.10.223-1", "libbpf-tools/0.26.0+ds-1"), ("6.12.117-1", "libbpf-tools/0.26.0+ds-1"), ("6.1.192-2", "selftests-6.1")] {
        let objects = corpus().join("bpf-objects").join(set);
        let mut files: Vec<_> = std::fs::read_dir(&objects).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "o")).collect();
        files.sort();
        let k = kernel_dir(kernel);
        let (ours, theirs) = (dir.join("ours.btf"), dir.join("theirs.btf"));
        let o = bpfabi(&["btf", "dump", k.to_str().unwrap(), "--min-core", objects.to_str().unwrap(), "-o", ours.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("relocations of {} objects", files.len())), "{err}");
        let st = Command::new("bpftool").args(["gen", "min_core_btf"]).arg(k.join("vmlinux.btf")).arg(&theirs).args(&files).output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
        let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
        assert!(a == b, "{kernel} {set}: cuts differ ({} vs {} bytes):\n{}", a.len(), b.len(), diff_dumps(&ours, &theirs));
        // The cut is far smaller than the kernel, and not empty.
        assert!(a.len() > 1000 && a.len() * 100 < std::fs::metadata(k.join("vmlinux.btf")).unwrap().len() as usize, "{kernel}: {} bytes", a.len());
    }
}

/// The first lines where bpftool's dumps of two BTF files differ.
fn diff_dumps(a: &Path, b: &Path) -> String {
    let dump = |p: &Path| bpftool(&["btf", "dump", "file", p.to_str().unwrap()]);
    let (a, b) = (dump(a), dump(b));
    a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(5).map(|(x, y)| format!("bpfabi:  {x}\nbpftool: {y}\n")).collect()
}

/// A cut is for libbpf's btf_custom_path: every CO-RE relocation of the
/// objects resolves on it (`check --core-btf`) exactly as on the whole
/// kernel (same outcome, same offsets and values), on a kernel where some
/// fail (6.12.117: bindsnoop's `inet_sock` bitfields) and one where they load.
#[test]
fn min_core_cut_resolves_core_as_the_whole_kernel() {
    use bpfabi::check::{check_object, CheckOptions};
    use bpfabi::model::KernelModel;
    if !have_corpus() {
        return;
    }
    let dir = workdir("btf_dump/min_core_resolves");
    let found = bpfabi::inputs::find_objects(&[corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1")], true);
    assert!(found.errors.is_empty() && found.objects.len() == 52);
    let opts = CheckOptions::default().explain(true);
    for kernel in ["5.10.223-1", "6.12.117-1"] {
        let lo = bpfabi::kernel::LoadOptions { modules: false, ..Default::default() };
        let whole = KernelModel::load(&[kernel_dir(kernel)], &lo).unwrap();
        let cut = bpfabi::check::min_core::min_core(&whole, &found.objects).unwrap();
        assert!(cut.errors.is_empty() && cut.relocations > 400, "{kernel}: {} relocations, {:?}", cut.relocations, cut.errors);
        let file = dir.join(format!("{kernel}.btf"));
        std::fs::write(&file, &cut.btf).unwrap();
        let mut on_cut = KernelModel::load(&[kernel_dir(kernel)], &lo).unwrap();
        bpfabi::core_btf::attach(std::slice::from_mut(&mut on_cut), &file).unwrap();
        let (mut compared, mut failing) = (0, 0);
        for obj in &found.objects {
            let core = |k: &KernelModel| -> Vec<String> {
                let names = Default::default();
                let mut v: Vec<String> = check_object(obj, k, &names, &opts)
                    .iter()
                    .flat_map(|r| r.reasons.iter().chain(&r.satisfied).map(move |x| (r.program.clone(), x)))
                    .filter(|(_, x)| x.kind.as_str().starts_with("core_"))
                    // The value of a resolved relocation ("bit offset 96 in
                    // vmlinux": where is the BTF's name); the others are 0 or
                    // poisoned either way, but the cut has no type where the
                    // kernel's types had no match ("no type named ...").
                    .map(|(p, x)| match x.kind.as_str() {
                        "core_ok" => format!("{p} core_ok {} {}", x.name, x.message.split(" in ").next().unwrap_or("")),
                        k => format!("{p} {k} {}", x.name),
                    })
                    .collect();
                v.sort();
                v
            };
            let (a, b) = (core(&whole), core(&on_cut));
            assert_eq!(a, b, "{kernel} {}", obj.path);
            compared += a.len();
            failing += a.iter().filter(|l| l.contains(" core_unresolved ")).count();
        }
        assert!(compared > 400, "{kernel}: {compared} CO-RE results compared");
        if kernel == "6.12.117-1" {
            assert!(failing > 0, "bindsnoop's inet_sock bitfields do not resolve on 6.12.117");
        }
    }
}
