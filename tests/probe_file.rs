//! Probe files as `check` input, without root: the reader refuses malformed
//! or foreign documents with messages naming the file; a probe matched to a
//! corpus kernel by fingerprint (explicit, or `probe.json` in the kernel
//! directory) turns its refusals into `check` failures; a probe of another
//! kernel is refused with exit 2.

mod common;
use bpfabi::probe::file::{fingerprint_of, load_probe, read_probe};
use bpfabi::probe::{Decision, HelperDecision, KfuncDecision, LoadOutcome, Probe, ProbeKernel, ProbeOptions, Summary, Variant, VariantResult};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn corpus() -> Option<PathBuf> {
    let c = std::env::var_os("BPFABI_CORPUS").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if c.join("kernels/6.12.117-1/vmlinux.btf").exists() {
        Some(c)
    } else {
        eprintln!("no corpus (BPFABI_CORPUS): skipped");
        None
    }
}

/// A probe of `kernel` saying: in kprobe programs helper 160 and kfunc
/// bpf_task_from_pid are refused, bpf_ktime_get_ns is accepted; lirc_mode2
/// does not load.
fn synthetic(kernel: &bpfabi::kernel::Kernel) -> Probe {
    let v = |label: &str, pt: &str, id: u32| Variant::new(label.into(), pt, id, None, false);
    let refused = |m: &str| Decision::VerifierRejectedNotAllowed { message: m.into() };
    Probe {
        schema: bpfabi::probe::SCHEMA.into(),
        tool: "test".into(),
        kernel: ProbeKernel { release: kernel.release.clone(), machine: "x86_64".into(), btf: fingerprint_of(kernel), modules: vec![] },
        options: ProbeOptions::default(),
        summary: Summary::default(),
        variants: vec![
            VariantResult {
                variant: v("kprobe", "BPF_PROG_TYPE_KPROBE", 2),
                load: LoadOutcome::Loadable,
                allowed_helpers: vec![5],
                allowed_kfuncs: vec![],
                helpers: vec![
                    HelperDecision { id: 5, name: "bpf_ktime_get_ns".into(), decision: Decision::VerifierAccepted },
                    HelperDecision {
                        id: 160,
                        name: "bpf_ktime_get_coarse_ns".into(),
                        decision: refused("program of this type cannot use helper bpf_ktime_get_coarse_ns#160"),
                    },
                ],
                kfuncs: vec![
                    KfuncDecision {
                        name: "bpf_task_from_pid".into(),
                        module: None,
                        btf_id: 1,
                        decision: refused("calling kernel function bpf_task_from_pid is not allowed"),
                    },
                    KfuncDecision {
                        name: "bpf_task_release".into(),
                        module: None,
                        btf_id: 2,
                        decision: Decision::RejectedOther { message: "R1 must be referenced".into() },
                    },
                ],
                members: vec![],
                gpl_only_helpers: vec![],
                contexts: vec![],
            },
            VariantResult {
                variant: v("tracepoint", "BPF_PROG_TYPE_TRACEPOINT", 5),
                load: LoadOutcome::Loadable,
                allowed_helpers: vec![],
                allowed_kfuncs: vec!["bpf_task_from_pid".into(), "bpf_task_release".into()],
                helpers: vec![],
                kfuncs: vec![
                    KfuncDecision {
                        name: "bpf_task_from_pid".into(),
                        module: None,
                        btf_id: 1,
                        decision: Decision::RejectedOther { message: "R1 is not a scalar".into() },
                    },
                    KfuncDecision {
                        name: "bpf_task_release".into(),
                        module: None,
                        btf_id: 2,
                        decision: Decision::RejectedOther { message: "R1 must be referenced".into() },
                    },
                ],
                members: vec![],
                gpl_only_helpers: vec![],
                contexts: vec![],
            },
            VariantResult {
                variant: v("tc", "BPF_PROG_TYPE_SCHED_CLS", 3),
                load: LoadOutcome::Unsupported { message: "EINVAL".into() },
                allowed_helpers: vec![],
                allowed_kfuncs: vec![],
                helpers: vec![],
                kfuncs: vec![],
                members: vec![],
                gpl_only_helpers: vec![],
                contexts: vec![],
            },
        ],
        helper_gpl_measured: false,
        contexts_measured: false,
        callbacks_measured: false,
    }
}

fn objects(corpus: &Path) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf-probe-file");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/build.sh");
        let o = Command::new("bash").arg(&script).arg(&out).env("BPFABI_CORPUS", corpus).output().unwrap();
        assert!(o.status.success(), "tests/bpf/build.sh: {}", String::from_utf8_lossy(&o.stderr));
        out
    })
    .clone()
}

/// The probe document as `bpfabi probe --json` writes it.
fn probe_json(p: &Probe) -> String {
    let mut out = Vec::new();
    bpfabi::report::probe::json(&mut out, p).unwrap();
    String::from_utf8(out).unwrap()
}

/// A kernel directory: the corpus one's files (symlinked) plus a probe.json.
fn kernel_dir_with_probe(corpus: &Path, name: &str, probe: &Probe, tag: &str) -> PathBuf {
    let src = corpus.join("kernels").join(name);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kdir-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::os::unix::fs::symlink(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("probe.json"), probe_json(probe)).unwrap();
    dir
}

#[test]
fn round_trip_and_reader_errors() {
    let Some(corpus) = corpus() else { return };
    let k = bpfabi::kernel::load(&[corpus.join("kernels/6.12.117-1")], &Default::default()).unwrap();
    let p = synthetic(&k);
    // The fingerprint is the SHA-256 of vmlinux.btf (sha256sum agrees).
    let out = Command::new("sha256sum").arg(corpus.join("kernels/6.12.117-1/vmlinux.btf")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap(), p.kernel.btf.vmlinux);
    let text = probe_json(&p);
    assert_eq!(read_probe(text.as_bytes(), "x.json").unwrap(), p);
    // Malformed, foreign, inconsistent.
    let err = |bytes: &str| read_probe(bytes.as_bytes(), "bad.json").unwrap_err().to_string();
    assert!(err("{").starts_with("bad.json: line 1 column 1"), "{}", err("{"));
    assert!(err(&text.replace("bpfabi.probe/2", "bpfabi.probe/9")).contains("schema `bpfabi.probe/9`: expected `bpfabi.probe/2`"));
    // A `/1` document (no per-member struct_ops results) is still read.
    assert_eq!(read_probe(text.replace("bpfabi.probe/2", "bpfabi.probe/1").as_bytes(), "old.json").unwrap().schema, "bpfabi.probe/1");
    assert!(err(&text.replace(&p.kernel.btf.vmlinux, "nothex")).contains("64 lowercase hex digits"));
    let mut q = p.clone();
    q.variants[2].helpers = q.variants[0].helpers.clone();
    assert!(err(&probe_json(&q)).contains("decisions for a variant that did not load"));
    let e = err(&text.replace("\"how\": \"verifier_accepted\"", "\"how\": \"maybe\""));
    assert!(e.contains("maybe"), "{e}");
    assert!(load_probe(Path::new("/nonexistent/probe.json")).unwrap_err().to_string().starts_with("/nonexistent/probe.json: "));
}

#[test]
fn check_judges_with_a_matching_probe_and_refuses_a_foreign_one() {
    let Some(corpus) = corpus() else { return };
    let dir = objects(&corpus);
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let k = bpfabi::kernel::load(&[corpus.join("kernels/6.12.117-1")], &Default::default()).unwrap();
    let kdir = kernel_dir_with_probe(&corpus, "6.12.117-1", &synthetic(&k), "match");
    let obj = |n: &str| dir.join(format!("{n}.bpf.o"));
    let check = |args: &[&Path]| {
        let mut c = Command::new(bin);
        c.arg("check");
        for a in args {
            c.arg(a);
        }
        c.output().unwrap()
    };
    // probe.json picked up from the kernel directory.
    let o = check(&[
        &obj("probe_helper_kprobe"),
        &obj("probe_kfunc_kprobe"),
        &obj("probe_kfunc_tp"),
        &obj("helper_new"),
        Path::new("--kernel"),
        &kdir,
        Path::new("--json"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = doc["results"].as_array().unwrap_or_else(|| panic!("{doc}"));
    let of = |prog: &str| results.iter().find(|r| r["program"] == prog).unwrap_or_else(|| panic!("{prog}"));
    let kinds = |prog: &str| of(prog)["reasons"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(of("probe_helper_kprobe")["verdict"], "fails");
    assert_eq!(kinds("probe_helper_kprobe"), ["helper_not_allowed"]);
    assert!(of("probe_helper_kprobe")["reasons"][0]["message"].as_str().unwrap().contains("not allowed in kprobe programs on this kernel"));
    assert_eq!(of("probe_kfunc_kprobe")["verdict"], "fails");
    assert_eq!(kinds("probe_kfunc_kprobe"), ["kfunc_not_allowed"]);
    assert_eq!(of("probe_kfunc_tp")["verdict"], "loads");
    // tc is unsupported in this (synthetic) probe.
    assert_eq!(kinds("helper_new"), ["prog_type_unsupported"]);
    // Without a probe.json beside the kernel, the probe data committed for
    // 6.12.117 (data/probe, made inside that kernel booted under QEMU)
    // decides the same from the real verifier: bpf_ktime_get_coarse_ns is
    // not allowed in kprobe programs.
    let o = check(&[&obj("probe_helper_kprobe"), Path::new("--kernel"), &corpus.join("kernels/6.12.117-1")]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("helper_not_allowed bpf_ktime_get_coarse_ns") && text.contains("data/probe/6.12.117+deb13-amd64.json"), "{text}");
    // The same probe given explicitly while checking 6.12.117 and 6.1: it
    // belongs to the first, judged there only.
    let o = check(&[
        &obj("probe_helper_kprobe"),
        Path::new("--kernel"),
        &corpus.join("kernels/6.1.192-2"),
        Path::new("--kernel"),
        &corpus.join("kernels/6.12.117-1"),
        Path::new("--probe"),
        &kdir.join("probe.json"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("probe_helper_kprobe.bpf.o on 6.12.117+deb13-amd64: fails: helper_not_allowed"), "{text}");
    let line = |k: &str| text.lines().find(|l| l.contains(&format!("on {k}: fails"))).unwrap_or_default().to_string();
    assert!(line("6.12.117+deb13-amd64").contains("kdir-match/probe.json"), "{text}");
    // 6.1 is judged by its own committed probe data, not by the 6.12.117
    // probe: its kprobe func_proto does not offer the helper at all.
    assert!(line("6.1.0-56-amd64").contains("data/probe/6.1.0-56-amd64.json") && line("6.1.0-56-amd64").contains("unknown func"), "{text}");
    // A probe of 6.12.117 inside the 6.12.95 directory: refused, exit 2.
    let foreign = kernel_dir_with_probe(&corpus, "6.12.95-1~bpo12+1", &synthetic(&k), "foreign");
    let o = check(&[&obj("probe_helper_kprobe"), Path::new("--kernel"), &foreign]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("probe.json: probe of another kernel: it was made on 6.12.117+deb13-amd64"), "{err}");
    assert!(err.contains("6.12.95+deb12-amd64"), "{err}");
    // Explicitly, against a kernel it does not belong to: exit 2 as well.
    let o = check(&[&obj("probe_helper_kprobe"), Path::new("--kernel"), &corpus.join("kernels/6.1.192-2"), Path::new("--probe"), &kdir.join("probe.json")]);
    assert_eq!(o.status.code(), Some(2));
}

/// The probe_file fuzz target's seeds are probe files the reader takes
/// (the contexts seed with its iterator-target and arena contexts too).
#[test]
fn fuzz_seeds_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/probe_file");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let p = read_probe(&std::fs::read(&path).unwrap(), "seed.json").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if path.ends_with("contexts.json") {
            assert!(p.contexts_measured);
            let contexts: Vec<&bpfabi::probe::ContextResult> = p.variants.iter().flat_map(|v| &v.contexts).collect();
            assert_eq!(contexts.len(), 3, "{contexts:#?}");
        }
        n += 1;
    }
    assert!(n >= 3);
}
