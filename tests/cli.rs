//! The `bpfabi` binary: output formats, filters, exit codes and messages.

mod common;
use common::*;
use std::process::{Command, Output};

fn bpfabi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn surface_json_is_the_documented_contract() {
    let dir = kernel_dir("6.12.117-1");
    let o = bpfabi(&["surface", dir.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema"], "bpfabi.surface/1");
    assert_eq!(v["kernel"]["release"], "6.12.117+deb13-amd64");
    let kfuncs = v["kfuncs"].as_array().unwrap();
    let k = kfuncs.iter().find(|k| k["name"] == "bpf_task_acquire").unwrap();
    assert_eq!(k["module"], serde_json::Value::Null);
    assert_eq!(k["proto"], "struct task_struct *bpf_task_acquire(struct task_struct *p)");
    assert_eq!(k["flags"], serde_json::json!(["KF_ACQUIRE", "KF_RET_NULL", "KF_RCU"]));
    assert_eq!(k["source"], "decl_tag");
    assert!(k["btf_id"].as_u64().unwrap() > 0);
    let h = v["helpers"].as_array().unwrap();
    assert_eq!(h[0]["name"], "bpf_map_lookup_elem");
    assert_eq!(h[0]["id"], 1);
}

#[test]
fn table_and_filters() {
    let dir = kernel_dir("6.12.117-1");
    let o = bpfabi(&["surface", dir.to_str().unwrap(), "--kfuncs", "--grep", "bpf_ct_*"]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    assert!(t.contains("NAME") && t.contains("PROTOTYPE"));
    assert!(t.contains("bpf_ct_release") && t.contains("nf_conntrack"));
    assert!(!t.contains("bpf_task_acquire"));
    assert!(!t.contains("helpers"));
    let o = bpfabi(&["surface", dir.to_str().unwrap(), "--helpers", "--grep", "ringbuf"]);
    let t = stdout(&o);
    assert!(t.contains("bpf_ringbuf_output") && !t.contains("kfuncs"));
}

#[test]
fn c_header_compiles_for_bpf() {
    let dir = kernel_dir("6.12.117-1");
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cheader");
    std::fs::create_dir_all(&tmp).unwrap();
    let vmlinux_h = bpftool(&["btf", "dump", "file", dir.join("vmlinux.btf").to_str().unwrap(), "format", "c"]);
    std::fs::write(tmp.join("vmlinux.h"), vmlinux_h).unwrap();
    // vmlinux.btf only: module kfuncs need module types vmlinux.h lacks.
    let o = bpfabi(&["surface", dir.join("vmlinux.btf").to_str().unwrap(), "--format", "c"]);
    assert_eq!(o.status.code(), Some(0));
    let header = stdout(&o);
    assert!(header.contains("extern struct task_struct *bpf_task_acquire(struct task_struct *p) __weak __ksym;"));
    std::fs::write(tmp.join("kfuncs.h"), &header).unwrap();
    std::fs::write(
        tmp.join("prog.c"),
        "#define BPF_NO_KFUNC_PROTOTYPES\n#include \"vmlinux.h\"\n#include \"kfuncs.h\"\n\
         __attribute__((section(\"tp_btf/task_newtask\"), used))\n\
         int prog(unsigned long long *ctx) {\n  struct task_struct *t = bpf_task_from_pid(1);\n  if (t) bpf_task_release(t);\n  return 0;\n}\n\
         char LICENSE[] __attribute__((section(\"license\"), used)) = \"GPL\";\n",
    )
    .unwrap();
    let cc = Command::new("clang")
        .args(["-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-c", "prog.c", "-o", "prog.o"])
        .current_dir(&tmp)
        .output()
        .expect("clang must be installed");
    assert!(cc.status.success(), "clang: {}", String::from_utf8_lossy(&cc.stderr));
}

#[test]
fn bad_inputs_exit_2_with_file_and_offset() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("badinput");
    std::fs::create_dir_all(&tmp).unwrap();
    let junk = tmp.join("junk.bin");
    std::fs::write(&junk, b"this is not a kernel").unwrap();
    let o = bpfabi(&["surface", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("junk.bin") && e.contains("offset 0x0") && e.contains("not a kernel input"), "{e}");

    let real = std::fs::read(kernel_dir("6.12.117-1").join("vmlinux.btf")).unwrap();
    let cut = tmp.join("truncated.btf");
    std::fs::write(&cut, &real[..real.len() / 2]).unwrap();
    let o = bpfabi(&["surface", cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("truncated.btf") && e.contains("at offset") && e.contains("runs past the end"), "{e}");

    let o = bpfabi(&["surface", "/nonexistent/vmlinux"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/vmlinux"));

    let o = bpfabi(&["surface", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));

    // A module BTF finds its vmlinux one directory up (the corpus layout)...
    let m = kernel_dir("6.12.117-1").join("modules/nf_conntrack.btf");
    let o = bpfabi(&["surface", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // ...and alone, says where it looked.
    let lone = tmp.join("nf_conntrack.btf");
    std::fs::copy(&m, &lone).unwrap();
    let o = bpfabi(&["surface", lone.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("nf_conntrack.btf: module (split) BTF needs the vmlinux BTF") && e.contains("looked for"), "{e}");
}
