//! kfunc compat families (src/check/kfunc_family.rs) on a program compiled from
//! tests/bpf/kfunc_family.bpf.c: sched_ext's compat.bpf.h pattern
//! (`bpf_ksym_exists(scx_bpf_dsq_insert) ? scx_bpf_dsq_insert() :
//! scx_bpf_dispatch___compat()`), the old name unguarded, and `___v1`/`___v2`
//! flavours. Real kernels: 6.12.117 (no sched_ext: no variant resolves),
//! 7.2.13 from the kernel cache (`scx_bpf_dsq_insert` resolves,
//! `scx_bpf_dispatch` is gone), 5.10 (no `bpf_task_from_pid`).

mod common;
use bpfabi::check::{check_object, CheckOptions, Reason, Verdict};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn object() -> bpfabi::object::BpfObject {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf-kfunc-family");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/build.sh");
    let o = Command::new("bash").arg(&script).arg(&out).env("BPFABI_CORPUS", corpus()).output().unwrap();
    assert!(o.status.success(), "tests/bpf/build.sh: {}", String::from_utf8_lossy(&o.stderr));
    bpfabi::object::read_path(&out.join("kfunc_family.bpf.o")).unwrap().remove(0).1
}

/// Per program: (verdict, its kfunc_family_* reasons as "kind name severity: message").
fn judge(obj: &bpfabi::object::BpfObject, ki: &KernelModel) -> BTreeMap<String, (Verdict, Vec<String>)> {
    check_object(obj, ki, &BTreeMap::new(), &CheckOptions::default().explain(true))
        .into_iter()
        .map(|r| {
            let fam = r
                .reasons
                .iter()
                .chain(&r.satisfied)
                .filter(|x: &&Reason| x.kind.as_str().starts_with("kfunc_family"))
                .map(|x| format!("{} {} {:?}: {}", x.kind.as_str(), x.name, x.severity, x.message))
                .collect();
            (r.program, (r.verdict, fam))
        })
        .collect()
}

#[test]
fn families_found_from_flavours_and_guards() {
    if !have_corpus() {
        return;
    }
    let obj = object();
    let ki = KernelModel::new(load_dir("6.12.117-1"));
    // Any kernel's oracle: the guard is forced both ways.
    let fams = bpfabi::check::kfunc_family::families(&obj, &NoOracle);
    let mut named: Vec<(String, Vec<String>)> = fams
        .iter()
        .map(|f| {
            let mut v: Vec<String> = f.variants.iter().map(|&v| obj.externs[v as usize].name.clone()).collect();
            v.sort();
            (f.name.clone(), v)
        })
        .collect();
    named.sort();
    let want = |n: &str, v: &[&str]| (n.to_string(), v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    assert_eq!(
        named,
        [
            want("bpf_task_from_pid", &["bpf_task_from_pid___v1", "bpf_task_from_pid___v2"]),
            want("scx_bpf_dsq_insert", &["scx_bpf_dispatch___compat", "scx_bpf_dsq_insert"])
        ]
    );
    drop(ki);
}

struct NoOracle;
impl bpfabi::object::flow::Oracle for NoOracle {
    fn core(&self, _: u32) -> bpfabi::object::flow::Val {
        bpfabi::object::flow::Val::Unknown
    }
    fn extern_addr(&self, _: u32) -> bpfabi::object::flow::Val {
        bpfabi::object::flow::Val::Unknown
    }
    fn kconfig(&self, _: u32) -> bpfabi::object::flow::Val {
        bpfabi::object::flow::Val::Unknown
    }
    fn rodata(&self, _: u32, _: u64, _: u8) -> bpfabi::object::flow::Val {
        bpfabi::object::flow::Val::Unknown
    }
}

#[test]
fn families_judged_per_kernel() {
    if !have_corpus() {
        return;
    }
    let obj = object();
    // 6.12.117 (CONFIG_SCHED_CLASS_EXT unset): no variant of the sched_ext
    // family; the compat arm's call is reachable and poisoned.
    let on612 = judge(&obj, &KernelModel::new(load_dir("6.12.117-1")));
    let (v, fam) = &on612["family_guarded"];
    assert_eq!(*v, Verdict::Fails);
    assert_eq!(fam.len(), 1, "{fam:?}");
    assert!(fam[0].starts_with("kfunc_family_unresolved scx_bpf_dsq_insert Fails: kfunc family `scx_bpf_dsq_insert` (scx_bpf_dispatch___compat, scx_bpf_dsq_insert): no variant resolves"), "{fam:?}");
    // bpf_task_from_pid exists: the flavours resolve, only resolved ones are called.
    let (_, fam) = &on612["family_flavours"];
    assert!(fam.len() == 1 && fam[0].starts_with("kfunc_family_ok bpf_task_from_pid Loads"), "{fam:?}");
    // 5.10: no bpf_task_from_pid: nothing resolves, nothing reachable calls it.
    let on510 = judge(&obj, &KernelModel::new(load_dir("5.10.223-1")));
    let (_, fam) = &on510["family_flavours"];
    assert!(
        fam.len() == 1 && fam[0].starts_with("kfunc_family_unresolved bpf_task_from_pid Warns") && fam[0].contains("no call of the family is reachable"),
        "{fam:?}"
    );

    // 7.2.13 from the kernel cache (`bpfabi kernels`), when present.
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    let k72 = cache.map(|c| c.join("bpfabi/debian/kernels/7.2.13+deb14-amd64")).filter(|d| d.join("vmlinux.btf").exists());
    let Some(k72) = k72 else {
        eprintln!("no 7.2.13+deb14-amd64 in the kernel cache: that part skipped");
        return;
    };
    let ki = KernelModel::load(&[k72], &LoadOptions { modules: false, ..LoadOptions::default() }).unwrap();
    let on72 = judge(&obj, &ki);
    let (_, fam) = &on72["family_guarded"];
    assert!(
        fam.len() == 1
            && fam[0].starts_with("kfunc_family_ok scx_bpf_dsq_insert Loads")
            && fam[0].contains("scx_bpf_dsq_insert resolves; the reachable code calls scx_bpf_dsq_insert"),
        "{fam:?}"
    );
    let (v, fam) = &on72["family_unguarded_old"];
    assert_eq!(*v, Verdict::Fails);
    assert!(
        fam.len() == 1
            && fam[0].starts_with("kfunc_family_unresolved_call scx_bpf_dsq_insert Fails")
            && fam[0].contains("calls scx_bpf_dispatch___compat, which does not"),
        "{fam:?}"
    );
}
