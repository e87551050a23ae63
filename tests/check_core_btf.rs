//! `check --core-btf FILE` (libbpf's `btf_custom_path`) on real data:
//! libbpf-tools' bindsnoop reads `inet_sock` bitfields that 6.12 turned into
//! flags, so its CO-RE relocations fail on 6.12.117 and resolve on 5.10.
//! Checked against the 6.12.117 kernel with 5.10's BTF for CO-RE, every
//! CO-RE result is 5.10's, everything else 6.12.117's; the JSON names the
//! BTF used. A CO-RE-only BTF (`bpftool gen min_core_btf`) given as a
//! kernel is refused with a pointer to `--core-btf`, and works as one.

mod common;
use bpfabi::check::{check_object, CheckOptions, Reason};
use bpfabi::model::KernelModel;
use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const OBJ: &str = "bpf-objects/libbpf-tools/0.26.0+ds-1/bindsnoop.bpf.o";

/// Per program: its CO-RE reasons (kind, name, verdict), problems and satisfied.
fn core_reasons(ki: &KernelModel) -> BTreeMap<String, Vec<String>> {
    let obj = bpfabi::object::read_path(&corpus().join(OBJ)).unwrap().remove(0).1;
    let names = BTreeMap::new();
    let mut out = BTreeMap::new();
    for r in check_object(&obj, ki, &names, &CheckOptions::default().explain(true)) {
        let mut v: Vec<String> = r
            .reasons
            .iter()
            .chain(&r.satisfied)
            .filter(|x: &&Reason| x.kind.as_str().starts_with("core_"))
            .map(|x| format!("{} {} {:?}", x.kind.as_str(), x.name, x.severity))
            .collect();
        v.sort();
        out.insert(r.program, v);
    }
    out
}

#[test]
fn core_btf_gives_the_core_results_of_that_btf() {
    if !have_corpus() {
        return;
    }
    let k612 = || KernelModel::new(load_dir("6.12.117-1"));
    let on510 = core_reasons(&KernelModel::new(load_dir("5.10.223-1")));
    let on612 = core_reasons(&k612());
    let mut mixed = k612();
    bpfabi::core_btf::attach(std::slice::from_mut(&mut mixed), &kernel_dir("5.10.223-1").join("vmlinux.btf")).unwrap();
    let with_core = core_reasons(&mixed);
    // Real facts: 6.12.117 has no `inet_sock.freebind` bitfield, 5.10 has.
    let exit = &on612["ipv4_bind_exit"];
    assert!(exit.iter().any(|r| r.starts_with("core_unresolved FIELD_BYTE_OFFSET inet_sock->freebind Fails")), "{exit:#?}");
    assert!(on510["ipv4_bind_exit"].iter().all(|r| !r.starts_with("core_unresolved")), "{:#?}", on510["ipv4_bind_exit"]);
    assert_ne!(on510, on612);
    assert_eq!(with_core, on510);
}

#[test]
fn cli_core_btf_json_and_refusal_of_a_core_only_btf_as_kernel() {
    if !have_corpus() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_bpfabi");
    let obj = corpus().join(OBJ);
    let k612 = kernel_dir("6.12.117-1");
    let v510 = kernel_dir("5.10.223-1").join("vmlinux.btf");
    let check = |extra: &[&std::ffi::OsStr]| Command::new(bin).arg("check").arg(&obj).arg("--kernel").arg(&k612).args(extra).arg("--json").output().unwrap();
    let doc = |o: &std::process::Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
    };
    // Without: bindsnoop fails on 6.12.117 (exit 1), no core_btf field.
    let o = check(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(doc(&o)["results"].as_array().unwrap().iter().all(|r| r.get("core_btf").is_none()));
    // With 5.10's BTF for CO-RE: loads (exit 0), the JSON names the BTF.
    let o = check(&["--core-btf".as_ref(), v510.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let d = doc(&o);
    let results = d["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| r["core_btf"] == v510.display().to_string() && r["kernel"] == "6.12.117+deb13-amd64"), "{d:#}");

    // A CO-RE-only BTF, as `bpftool gen min_core_btf` makes for this object.
    if Command::new("bpftool").arg("version").output().map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("no bpftool: min_core_btf part skipped");
        return;
    }
    let min = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bindsnoop-5.10.min.btf");
    let st = Command::new("bpftool").args(["gen", "min_core_btf"]).arg(&v510).arg(&min).arg(&obj).status().unwrap();
    assert!(st.success());
    let o = Command::new(bin).arg("check").arg(&obj).arg("--kernel").arg(&min).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{}: no `enum bpf_prog_type` in this BTF", min.display())) && err.contains("--core-btf FILE"), "{err}");
    // ... and as --core-btf it gives the same verdicts as 5.10's whole BTF.
    let o = check(&["--core-btf".as_ref(), min.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}
