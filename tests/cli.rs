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
    if !common::have_corpus() {
        return;
    }
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
    if !common::have_corpus() {
        return;
    }
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
    if !common::have_corpus() {
        return;
    }
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
    if !common::have_corpus() {
        return;
    }
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn write_errors_exit_2_and_closed_pipes_end_quietly() {
    if !common::have_corpus() {
        return;
    }
    let k = kernel_dir("6.12.117-1");
    // /dev/full: every write fails with ENOSPC.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(["surface", k.to_str().unwrap(), "--format", "c"]).stdout(full).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("write failed") && stderr(&o).contains("No space left"), "{}", stderr(&o));
    // A reader that stops early (`| head -1`) is not an error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpfabi"))
        .args(["surface", k.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn output_options_are_shared_and_checked() {
    if !common::have_corpus() {
        return;
    }
    let k = kernel_dir("6.12.117-1");
    let k = k.to_str().unwrap();
    let o = bpfabi(&["surface", k, "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'sarif' for '--format <FORMAT>'") && stderr(&o).contains("[possible values: table, json, c]"), "{}", stderr(&o));
    let o = bpfabi(&["surface", k, "--format", "c", "--helpers"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bpfabi(&["surface", k, "--json", "--format", "table"]);
    assert_eq!(o.status.code(), Some(2), "conflicting options are refused");
    let o = bpfabi(&["surface", k, "--color", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
    // --format json and --json are the same document.
    let (a, b) = (bpfabi(&["versions", k, "--json"]), bpfabi(&["versions", k, "--format", "json"]));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).starts_with("{\n  \"schema\": \"bpfabi.versions/1\""));
    // Grammar: one of a thing is singular; an empty filter prints no header row.
    let o = bpfabi(&["surface", k, "--kfuncs", "--grep", "bpf_task_acquire"]);
    assert!(stdout(&o).contains("\n1 kfunc\nNAME"), "{}", stdout(&o));
    let o = bpfabi(&["surface", k, "--kfuncs", "--grep", "no_such_kfunc_anywhere"]);
    assert!(stdout(&o).ends_with("0 kfuncs\n"), "{}", stdout(&o));
}

#[test]
fn unknown_type_names_are_errors_with_suggestions() {
    if !common::have_corpus() {
        return;
    }
    let k = kernel_dir("6.12.117-1");
    let k = k.to_str().unwrap();
    let o = bpfabi(&["versions", k, "--type", "struct nosuchtype"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no type `struct nosuchtype`"), "{}", stderr(&o));
    let o = bpfabi(&["versions", k, "--type", "enum task_struct"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `struct task_struct`?"), "{}", stderr(&o));
    let o = bpfabi(&["versions", k, "--type", "task_strct"]);
    assert!(stderr(&o).contains("`struct task_struct`"), "{}", stderr(&o));
    let o = bpfabi(&["diff", k, k, "--type", "nosuchtype"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no type `nosuchtype`"), "{}", stderr(&o));
    let o = bpfabi(&["versions", k, "--type", "struct task_struct"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn big_endian_objects_fail_on_little_endian_kernels() {
    if !common::have_corpus() {
        return;
    }
    // libbpf: "elf: endianness mismatch".
    let obj = corpus().join("bpf-objects/golang-github-cilium-ebpf-dev/0.9.1-1/btf_map_init-eb.elf.o");
    let o = bpfabi(&["check", obj.to_str().unwrap(), "--kernel", kernel_dir("6.12.117-1").to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(r["verdict"], "fails");
        assert!(r["reasons"].as_array().unwrap().iter().any(|x| x["kind"] == "endianness_mismatch"), "{r}");
    }
    // The little-endian twin is not refused for that.
    let le = corpus().join("bpf-objects/golang-github-cilium-ebpf-dev/0.9.1-1/btf_map_init-el.elf.o");
    let o = bpfabi(&["check", le.to_str().unwrap(), "--kernel", kernel_dir("6.12.117-1").to_str().unwrap(), "--json"]);
    assert!(!stdout(&o).contains("endianness_mismatch"));
}

#[test]
fn version_names_the_commit() {
    let o = bpfabi(&["--version"]);
    let v = stdout(&o);
    assert!(v.starts_with(&format!("bpfabi {}", env!("CARGO_PKG_VERSION"))), "{v}");
    // Built from a git checkout (always, for this test suite): the commit is shown.
    if std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        assert!(v.contains(" ("), "{v}");
    }
}

/// The header of a kernel with modules names module types (`struct
/// bpf_ct_opts`, `struct nf_conn___init`) that vmlinux.h lacks: they are
/// forward-declared at file scope, so a program completing `struct
/// bpf_ct_opts` itself compiles with -Werror against the same type, and the
/// object it builds is predicted to load.
#[test]
fn c_header_with_module_kfuncs_is_usable() {
    if !common::have_corpus() {
        return;
    }
    let dir = kernel_dir("6.12.117-1");
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cheader-modules");
    std::fs::create_dir_all(&tmp).unwrap();
    let vmlinux_h = bpftool(&["btf", "dump", "file", dir.join("vmlinux.btf").to_str().unwrap(), "format", "c"]);
    std::fs::write(tmp.join("vmlinux.h"), vmlinux_h).unwrap();
    let o = bpfabi(&["surface", dir.to_str().unwrap(), "--format", "c"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let header = stdout(&o);
    assert!(header.contains("\nstruct bpf_ct_opts;\n") && header.contains("\nstruct nf_conn___init;\n"), "{header}");
    std::fs::write(tmp.join("kfuncs.h"), &header).unwrap();
    std::fs::write(
        tmp.join("prog.c"),
        "#define BPF_NO_KFUNC_PROTOTYPES\n#include \"vmlinux.h\"\n#include \"kfuncs.h\"\n\
         struct bpf_ct_opts { s32 netns_id; s32 error; u8 l4proto; u8 dir; u8 reserved[2]; };\n\
         __attribute__((section(\"xdp\"), used))\n\
         int prog(struct xdp_md *ctx) {\n\
           struct bpf_sock_tuple tup = {};\n\
           struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = 6 };\n\
           struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));\n\
           if (ct) bpf_ct_release(ct);\n  return 2;\n}\n\
         char LICENSE[] __attribute__((section(\"license\"), used)) = \"GPL\";\n",
    )
    .unwrap();
    let cc = Command::new("clang")
        .args(["-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-c", "prog.c", "-o", "prog.o"])
        .current_dir(&tmp)
        .output()
        .expect("clang must be installed");
    assert!(cc.status.success(), "clang: {}", String::from_utf8_lossy(&cc.stderr));
    let o = bpfabi(&["check", tmp.join("prog.o").to_str().unwrap(), "--kernel", dir.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["results"][0]["verdict"], "loads", "{v}");
}

#[test]
fn inspect_and_check_walk_directories_and_skip_files_without_bpf() {
    if !common::have_corpus() {
        return;
    }
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("walk");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("sub")).unwrap();
    let src = corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1");
    std::fs::copy(src.join("fsdist.bpf.o"), tmp.join("sub/fsdist.bpf.o")).unwrap();
    std::fs::copy(src.join("biolatency.bpf.o"), tmp.join("biolatency.bpf.o")).unwrap();
    std::fs::write(tmp.join("README"), "not BPF").unwrap();
    std::fs::write(tmp.join("empty"), "").unwrap();
    std::fs::copy("/bin/sh", tmp.join("sub/sh")).unwrap();
    let o = bpfabi(&["inspect", tmp.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v["objects"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[0].ends_with("/biolatency.bpf.o") && paths[1].ends_with("/sub/fsdist.bpf.o"), "{paths:?}");
    assert!(stderr(&o).contains("skipped 3 files without BPF objects (-v lists them)"), "{}", stderr(&o));
    let o = bpfabi(&["inspect", "-v", tmp.to_str().unwrap(), "--json"]);
    assert!(stderr(&o).contains("/sub/sh: no BPF object"), "{}", stderr(&o));
    // Only non-BPF input: nothing to do is an input error.
    let o = bpfabi(&["inspect", tmp.join("README").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // A file that is BPF but broken is still an error.
    let mut broken = std::fs::read(src.join("fsdist.bpf.o")).unwrap();
    broken.truncate(200);
    std::fs::write(tmp.join("broken.bpf.o"), &broken).unwrap();
    let o = bpfabi(&["inspect", tmp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.bpf.o"), "{}", stderr(&o));
}

/// libbpf-tools' fsdist attaches to `dummy_file_open` & co. and retargets
/// with bpf_program__set_attach_target() before loading.
#[test]
fn placeholder_attach_targets_warn_instead_of_failing() {
    if !common::have_corpus() {
        return;
    }
    let obj = corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1/fsdist.bpf.o");
    let o = bpfabi(&["check", obj.to_str().unwrap(), "--kernel", kernel_dir("6.12.117-1").to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dummies: Vec<&serde_json::Value> = v["results"].as_array().unwrap().iter().filter(|r| r["reasons"].to_string().contains("dummy_")).collect();
    assert!(dummies.len() >= 8, "{v}");
    for r in dummies {
        assert_eq!(r["verdict"], "warns", "{r}");
        assert!(r["reasons"].as_array().unwrap().iter().any(|x| x["kind"] == "attach_target_set_at_runtime"), "{r}");
    }
}

#[test]
fn an_empty_file_says_so() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("emptyfile");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("empty.o"), "").unwrap();
    let o = bpfabi(&["inspect", "-v", tmp.join("empty.o").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty.o: no BPF object"), "{}", stderr(&o));
    std::fs::write(tmp.join("empty.btf"), "").unwrap();
    let o = bpfabi(&["surface", tmp.join("empty.btf").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty file"), "{}", stderr(&o));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let o = bpfabi(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let script = stdout(&o);
    for sub in ["surface", "versions", "diff", "inspect", "check", "--format", "--kernel"] {
        assert!(script.contains(sub), "{sub}");
    }
    // The script is valid bash.
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("completion.bash");
    std::fs::write(&tmp, &script).unwrap();
    assert!(Command::new("bash").arg("-n").arg(&tmp).status().unwrap().success());
    let o = bpfabi(&["man"]);
    let man = stdout(&o);
    assert!(man.contains(".TH bpfabi 1") && man.contains("check") && man.contains("surface"), "{man}");
    let o = bpfabi(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `.ci/run` names no archive host: it asks scripts/debian-archive-uri,
/// which must agree with the library's own derivation from the machine's
/// apt sources (used for `debian:` kernel names).
#[test]
fn archive_uri_is_derived_from_the_machines_apt_sources() {
    let Some(lib) = bpfabi::kernel::debian::sources::machine_archive() else {
        eprintln!("skipped: this machine has no Debian apt sources");
        return;
    };
    let o = Command::new("bash").arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/debian-archive-uri")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), lib.uri);
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(!ci.contains("debian.org"), ".ci/run must not name a registry host");
}

#[test]
fn inspect_text_names_map_types_and_groups_core_relocations() {
    if !common::have_corpus() {
        return;
    }
    let obj = corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1/runqslower.bpf.o");
    let o = bpfabi(&["inspect", obj.to_str().unwrap()]);
    let t = stdout(&o);
    assert!(t.contains("(little-endian, license GPL)"), "{t}");
    // Built-in helper names, whatever the running kernel.
    assert!(t.contains("bpf_map_update_elem,bpf_ktime_get_ns"), "{t}");
    // One block per program, each relocation once.
    assert!(t.contains("co-re in sched_wakeup (2 relocations):\n  FIELD_BYTE_OFFSET  task_struct->pid\n  FIELD_BYTE_OFFSET  task_struct->tgid\n"), "{t}");
    if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        assert!(t.contains("maps: start (hash), events (perf_event_array)"), "{t}");
    }
    // JSON: helpers by name.
    let o = bpfabi(&["inspect", obj.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "bpfabi.inspect/2");
    let h = &v["objects"][0]["programs"][0]["helpers"];
    assert!(h.as_array().unwrap().iter().any(|x| x["name"] == "bpf_ktime_get_ns" && x["id"] == 5), "{h}");
}

/// Every printer writes to `io::Write`: a full disk (`> /dev/full`) is exit 2
/// with a message for `lint`, `kernels` and `probe` too (table and JSON), and
/// `probe -o /dev/full` names the file. `vmtest` and `check --load` need QEMU
/// or real loads and share the same printers and `write_out`.
#[test]
fn write_errors_exit_2_for_every_printer() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let run_full = |args: &[&str]| {
        let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dev-full-cache");
        let o = Command::new(env!("CARGO_BIN_EXE_bpfabi")).args(args).env("XDG_CACHE_HOME", &cache).stdout(full()).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("write failed") && stderr(&o).contains("No space left"), "{args:?}: {}", stderr(&o));
    };
    run_full(&["kernels", "--offline"]);
    run_full(&["kernels", "--offline", "--json"]);
    let lint_input = if have_corpus() {
        Some(kernel_dir("6.12.117-1").to_str().unwrap().to_string())
    } else {
        std::path::Path::new("/sys/kernel/btf/vmlinux").exists().then(|| "/sys/kernel/btf/vmlinux".to_string())
    };
    match &lint_input {
        Some(k) => {
            run_full(&["lint", k]);
            run_full(&["lint", k, "--json"]);
        }
        None => eprintln!("skipping lint > /dev/full: no corpus (BPFABI_CORPUS) and no /sys/kernel/btf/vmlinux"),
    }
    // probe loads programs: root and kernel BTF.
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    if !root || !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipping probe > /dev/full: needs root and /sys/kernel/btf/vmlinux");
        return;
    }
    let probe = ["probe", "--only", "kprobe", "--no-kfuncs"];
    run_full(&probe);
    run_full(&[&probe[..], &["--json"]].concat());
    run_full(&[&probe[..], &["--detail"]].concat());
    let o = bpfabi(&[&probe[..], &["-o", "/dev/full"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/dev/full: No space left"), "{}", stderr(&o));
}
