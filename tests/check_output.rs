//! `check`'s table as a user reads it, on real corpus objects and kernels:
//! problems grouped by cause (one line per cause, with a count; `--explain`
//! and JSON keep every requirement).

mod common;
use common::*;
use std::process::Command;

fn bpfabi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfabi"))
}

fn libbpf_tool(name: &str) -> String {
    corpus().join("bpf-objects/libbpf-tools/0.26.0+ds-1").join(format!("{name}.bpf.o")).display().to_string()
}

#[test]
fn problems_are_grouped_by_cause() {
    if !have_corpus() {
        return;
    }
    // bindsnoop on 6.12.117 and 6.18.44: three bitfields of inet_sock moved
    // into a flags word, each read through five relocation kinds.
    let k = |n: &str| kernel_dir(n).display().to_string();
    let args = ["check".to_string(), libbpf_tool("bindsnoop"), "--kernel".into(), k("6.12.117-1"), "--kernel".into(), k("live-6.18")];
    let out = bpfabi().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // One line for the CO-RE cause (the other line: 6.18 has no probe data).
    let problems: Vec<&str> = text.lines().skip_while(|l| *l != "problems:").skip(1).filter(|l| l.starts_with("  ") && l.contains("core_unresolved")).collect();
    assert_eq!(problems.len(), 1, "{text}");
    let p = problems[0];
    assert!(p.contains("bindsnoop.bpf.o on 6.12.117+deb13-amd64, 6.18.44-fc-v595: fails: core_unresolved inet_sock->bind_address_no_port, inet_sock->freebind, inet_sock->transparent (15 relocations: FIELD_BYTE_OFFSET, FIELD_BYTE_SIZE, FIELD_LSHIFT_U64, FIELD_RSHIFT_U64, FIELD_SIGNED): no candidate type"), "{p}");
    assert!(text.contains("--explain lists every requirement"), "{text}");
    // JSON keeps one reason per relocation.
    let out = bpfabi().args(&args).arg("--json").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n: usize =
        v["results"].as_array().unwrap().iter().map(|r| r["reasons"].as_array().unwrap().iter().filter(|x| x["kind"] == "core_unresolved").count()).sum();
    assert!(n >= 30, "15 per kernel at least, per program: {n}");
    // --explain lists each.
    let out = bpfabi().args(&args).arg("--explain").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("FAIL core_unresolved")).count(), n, "{text}");
}

/// `check --load` where the machine refuses a program type for reasons of
/// its own (here: fentry gets EPERM, no ftrace trampolines): those units
/// are "not comparable here", never "missed".
#[test]
fn load_refused_by_the_environment_is_not_compared() {
    if !have_corpus() || !bpfabi::vmtest::CAN_LOAD || !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: needs the corpus, the libbpf feature and kernel BTF");
        return;
    }
    let out = bpfabi().args(["check", "--load", "--json", &libbpf_tool("tcpconnlat")]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let rows = v["comparison"]["rows"].as_array().unwrap();
    let fentry: Vec<&serde_json::Value> = rows.iter().filter(|r| r["unit"].as_str().unwrap().starts_with("fentry_")).collect();
    assert_eq!(fentry.len(), 3, "{v:#}");
    let results = v["results"].as_array().unwrap();
    for r in fentry {
        let real = results.iter().find(|x| x["program"] == r["unit"]).unwrap();
        if r["real"] == "rejected" && real["errno"] == 1 {
            assert_eq!(r["outcome"], "not_compared", "{r:#}");
            assert!(r["not_compared_because"].as_str().unwrap().contains("(EPERM): an environment limit, not a verdict"), "{r:#}");
        } else {
            eprintln!("{}: {} here (errno {})", r["unit"], r["real"], real["errno"]);
            assert_ne!(r["outcome"], "missed", "{r:#}");
        }
    }
    assert_eq!(out.status.code(), Some(0), "no disagreement");
}

/// `check --policy` adds the manifest's findings to check's own output,
/// from typed records: JSON gains a `policy` array (the document's keys
/// sorted), SARIF the findings' rules and results after check's, and
/// check's part stays what `check` alone writes.
#[test]
fn policy_findings_join_check_json_and_sarif() {
    if !have_corpus() {
        return;
    }
    let dir = workdir("check-policy-typed");
    let manifest = dir.join("m.toml");
    std::fs::write(
        &manifest,
        "schema = 1\n\n[kfunc.cgroup_rstat_updated]\ntier = \"stable\"\ndeprecated_since = \"6.1\"\nremoval_not_before = \"6.6\"\nreplacement = \"css_rstat_updated\"\n\n[kfunc.cgroup_rstat_updatedd]\ntier = \"stable\"\n",
    )
    .unwrap();
    let obj = corpus().join("bpf-objects/selftests-6.1/cgroup_hierarchical_stats.bpf.o").display().to_string();
    let k = |n: &str| kernel_dir(n).display().to_string();
    let base = ["check".to_string(), obj, "--kernel".into(), k("6.1.192-2"), "--kernel".into(), k("6.12.117-1")];
    let json = |extra: &[&str]| -> (Option<i32>, serde_json::Value) {
        let out = bpfabi().args(&base).args(extra).output().unwrap();
        (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout))))
    };
    let m = manifest.display().to_string();
    let (_, plain) = json(&["--json"]);
    let (code, with) = json(&["--json", "--policy", &m]);
    assert_eq!(code, Some(0), "a deprecated use warns: {with:#}");
    assert_eq!(with["results"], plain["results"]);
    assert_eq!(with["summary"], plain["summary"]);
    let keys: Vec<&String> = with.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["kernels", "object_summary", "objects", "policy", "results", "schema", "summary"]);
    let policy = with["policy"].as_array().unwrap();
    let p100 = policy.iter().find(|f| f["code"] == "P100").unwrap_or_else(|| panic!("{with:#}"));
    assert_eq!(p100["kfunc"], "cgroup_rstat_updated");
    assert_eq!(p100["level"], "warn");
    assert_eq!(p100["tier"], "stable");
    assert!(
        p100["message"]
            .as_str()
            .unwrap()
            .starts_with("`cgroup_rstat_updated` is deprecated since 6.1; use `css_rstat_updated`; removal announced for 6.6 or later ["),
        "{p100:#}"
    );
    // The call's source line, from the object's .BTF.ext line info.
    assert!(p100["source"]["file"].as_str().unwrap().ends_with("progs/cgroup_hierarchical_stats.c"), "{p100:#}");
    assert_eq!((p100["source"]["line"].as_u64(), p100["source"]["column"].as_u64()), (Some(78), Some(2)));
    // The misspelled entry: at its manifest line, with the likely name.
    let p002 = policy.iter().find(|f| f["code"] == "P002").unwrap_or_else(|| panic!("{with:#}"));
    assert_eq!((p002["source"]["file"].as_str(), p002["source"]["line"].as_u64()), (Some(m.as_str()), Some(9)));
    assert!(p002["message"].as_str().unwrap().contains("did you mean `cgroup_rstat_updated`?"), "{p002:#}");
    // --deny-deprecated: the use is an error, the exit code 1.
    let (code, deny) = json(&["--json", "--policy", &m, "--deny-deprecated"]);
    assert_eq!(code, Some(1));
    assert!(deny["policy"].as_array().unwrap().iter().any(|f| f["code"] == "P100" && f["level"] == "deny"), "{deny:#}");

    // SARIF: check's rules and results first, unchanged, then the findings'.
    let (_, plain) = json(&["--format", "sarif"]);
    let (_, with) = json(&["--format", "sarif", "--policy", &m]);
    let (run0, run1) = (&plain["runs"][0], &with["runs"][0]);
    let n = run0["results"].as_array().unwrap().len();
    let results = run1["results"].as_array().unwrap();
    assert_eq!(results[..n], run0["results"].as_array().unwrap()[..]);
    let ids: Vec<&str> = results[n..].iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["P002", "P100"], "{run1:#}");
    assert_eq!(results[n + 1]["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64(), Some(78));
    let rules: Vec<&str> = run1["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let before: Vec<&str> = run0["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rules[..before.len()], before[..]);
    assert_eq!(rules[before.len()..], ["P002", "P100"]);
    assert_eq!(run1["properties"], run0["properties"]);
}
