//! Rule family: externs and kfuncs, as libbpf resolves them for the whole
//! object before loading any program (libbpf.c v1.7.0
//! `bpf_object__resolve_externs`, `bpf_object__resolve_ksyms_btf_id`) and
//! as the verifier judges the calls it reaches (`check_kfunc_call`):
//! kfuncs exist (vmlinux or a module; `___flavour` stripped) with
//! compatible prototypes (`bpf_core_types_are_compat`), typed ksyms exist,
//! `.kconfig` values are known; a missing weak extern is 0, a missing
//! strong one fails the object. kfunc compat families are
//! [`super::kfunc_family`].

use super::core::types_are_compat;
use super::{Reached, Target};
use crate::btf::{Btf, Kind, LocalTypeId, TargetTypeId, TypeId};
use crate::loader::{Family, Loader};
use crate::model::KernelModel;
use crate::object::{essential, BpfObject, ExternKind};
use crate::vocab::{Reason, ReasonKind};
use std::collections::HashMap;

/// How one extern of the object resolves on a kernel.
pub(super) enum ExternStatus {
    /// Resolved (the satisfied fact, for --explain).
    Ok(Reason),
    /// A weak extern that does not resolve: 0 / a poisoned call.
    Weak(Reason),
    /// A typeless ksym (kallsyms, not checkable from BTF).
    Typeless(Reason),
    /// A strong extern that does not resolve: already an object reason.
    ObjectFails,
    /// Resolves as a kernel function that is not a registered kfunc: a call
    /// the verifier reaches fails.
    NotKfunc(Reason),
}

/// A FUNC named `name` in vmlinux, else in the first module that has one
/// (libbpf `find_ksym_btf_id`): its BTF, id and where.
fn find_func<'k>(ki: &'k KernelModel, name: &str) -> Option<(&'k Btf, TargetTypeId, &'k str)> {
    // Only the modules that name it can have it (KernelModel::modules_naming).
    std::iter::once(&ki.kernel().vmlinux)
        .chain(ki.modules_naming(name))
        .find_map(|b| b.btf.by_name(name).find(|t| t.kind == Kind::Func && t.id >= b.btf.start_id()).map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str())))
}

/// libbpf resolves the externs of the whole object before loading any
/// program (`bpf_object__resolve_externs`, `bpf_object__resolve_ksyms_btf_id`):
/// a strong kfunc missing or with an incompatible prototype
/// (`bpf_object__resolve_ksym_func_btf_id`), or a strong typed ksym missing
/// (`bpf_object__resolve_ksym_var_btf_id`), fails the load of every program
/// of the object. Weak ones resolve to 0: a missing or incompatible weak
/// kfunc's calls are poisoned (`poison_kfunc_call`).
///
/// cilium/ebpf resolves, per program, the kfuncs its instructions name
/// (linker.go `fixupKfuncs`, v0.14.0 to v0.22.0), with two differences: it
/// looks the name up as written (prog.go `findTargetInKernel`: no
/// `___flavour` stripped, so `bpf_rcu_read_lock___v1` is not found), and it
/// refuses an incompatible prototype even for a weak kfunc
/// (`incompatibleKfuncError`: "function param mismatch"); a weak kfunc it
/// does not find is poisoned like libbpf's (a call to `kfuncCallPoisonBase`,
/// its address 0 for `bpf_ksym_exists()`). The reasons pushed to
/// `object_reasons` then hit the programs using the extern (`check`'s
/// `used_externs`).
pub(super) fn resolve_externs<'o>(t: &Target, obj: &'o BpfObject, loader: Loader, object_reasons: &mut Vec<Reason>) -> HashMap<&'o str, ExternStatus> {
    let ki = t.kernel;
    use ReasonKind as R;
    let fact = Reason::fact;
    let obj_btf = obj.btf.as_deref();
    let cilium = loader.family() == Family::Cilium;
    // What a strong extern the loader cannot resolve fails.
    let fails = if cilium { format!("{loader} refuses every program using it (linker.go `fixupKfuncs`)") } else { "libbpf fails the whole object".to_string() };
    let mut out = HashMap::new();
    for ext in &obj.externs {
        let name = ext.name.as_str();
        let ess = if cilium && ext.kind == ExternKind::Kfunc { name } else { essential(name) };
        let st = match ext.kind {
            // libbpf looks the name up as a BTF FUNC in vmlinux, then in
            // modules (`find_ksym_btf_id`); whether the kernel registered it
            // as a kfunc the program type may call is the verifier's
            // question, asked only of reachable calls (`check_kfunc_call`).
            ExternKind::Kfunc => match find_func(ki, ess) {
                None => {
                    let how = if cilium && essential(name) != name {
                        format!(" ({loader} looks the name up as written, with its `___` suffix: prog.go `findTargetInKernel`)")
                    } else {
                        String::new()
                    };
                    let r = fact(R::KfuncMissing, name, format!("kfunc `{ess}` is not in this kernel{how}"));
                    if ext.weak {
                        ExternStatus::Weak(r.weak(true))
                    } else {
                        let mut r = r;
                        r.message.push_str(&format!(" and the extern is not weak: {fails}"));
                        object_reasons.push(r);
                        ExternStatus::ObjectFails
                    }
                }
                Some((tb, fid, wher)) => {
                    let compat = match (obj_btf, ext.btf_id) {
                        (Some(lb), Some(lid)) => {
                            let lproto = lb.ty(lid.0).map(|f| f.ref_type()).unwrap_or(TypeId::VOID);
                            let tproto = tb.ty(fid.0).map(|f| f.ref_type()).unwrap_or(TypeId::VOID);
                            types_are_compat(lb, LocalTypeId(lproto), tb, TargetTypeId(tproto), 0)
                        }
                        _ => true,
                    };
                    let kproto = || crate::btf::render::func_decl(tb, fid.0);
                    if !compat {
                        let local = match (obj_btf, ext.btf_id) {
                            (Some(lb), Some(lid)) => crate::btf::render::func_decl(lb, lid.0),
                            _ => String::new(),
                        };
                        let r = fact(
                            R::KfuncProtoMismatch,
                            name,
                            format!(
                                "declared `{local}`, kernel has `{}` ({wher}): incompatible by {}'s rules",
                                kproto(),
                                if cilium { "cilium/ebpf" } else { "libbpf" }
                            ),
                        );
                        if cilium {
                            // linker.go `fixupKfuncs`: `btf.CheckTypeCompatibility`
                            // fails the program, weak or not.
                            let mut r = r;
                            r.message
                                .push_str(&format!(": {loader} refuses every program using it, weak or not (linker.go `fixupKfuncs`: incompatibleKfuncError)"));
                            object_reasons.push(r);
                            ExternStatus::ObjectFails
                        } else if ext.weak {
                            // A weak kfunc with an incompatible prototype is left
                            // unresolved, like a missing one.
                            ExternStatus::Weak(r.weak(true))
                        } else {
                            object_reasons.push(r);
                            ExternStatus::ObjectFails
                        }
                    } else if ki.kfunc(ess).is_some() {
                        ExternStatus::Ok(fact(R::KfuncOk, name, format!("`{}` in {wher}", kproto())))
                    } else {
                        ExternStatus::NotKfunc(fact(
                            R::KfuncMissing,
                            name,
                            format!("`{ess}` is a function in {wher} but not a kfunc this kernel registers: the verifier refuses the call"),
                        ))
                    }
                }
            },
            ExternKind::Ksym => {
                let Some(eid) = ext.btf_id else { continue };
                // `extern const void sym __ksym;` is typeless: libbpf takes its
                // address from /proc/kallsyms, which BTF cannot confirm.
                let typeless = obj_btf
                    .and_then(|b| b.ty(eid.0).filter(|v| v.kind == Kind::Var).map(|v| (b, v.ref_type())))
                    .is_some_and(|(b, t)| b.resolve(t).is_some_and(|t| t.kind == Kind::Void));
                if typeless {
                    match kallsyms_lacks(ki, ess, loader) {
                        None => ExternStatus::Typeless(fact(
                            R::KsymTypeless,
                            name,
                            "typeless ksym: resolved from /proc/kallsyms at load time (not checkable from BTF)".into(),
                        )),
                        Some(why) if ext.weak => ExternStatus::Weak(fact(R::KsymMissing, name, format!("{why} (weak: resolves to 0)")).weak(true)),
                        Some(why) => {
                            object_reasons.push(fact(
                                R::KsymMissing,
                                name,
                                format!(
                                    "{why} and the extern is not weak: {fails} (`bpf_object__resolve_externs`: \"extern '{name}' (strong): not resolved\")"
                                ),
                            ));
                            ExternStatus::ObjectFails
                        }
                    }
                } else {
                    match ki.find_type(ess, Kind::Var) {
                        Some(b) => ExternStatus::Ok(fact(R::KsymOk, name, format!("variable in {}", b.name))),
                        None if ext.weak => {
                            ExternStatus::Weak(fact(R::KsymMissing, name, "kernel variable not in BTF (weak: resolves to 0)".into()).weak(true))
                        }
                        None => {
                            object_reasons.push(fact(
                                R::KsymMissing,
                                name,
                                format!("kernel variable not in this kernel's BTF and the extern is not weak: {fails}"),
                            ));
                            ExternStatus::ObjectFails
                        }
                    }
                }
            }
            _ => continue,
        };
        out.insert(name, st);
    }
    out
}

/// Why a typeless ksym (`extern const void sym __ksym;`) is not in the
/// kernel's `/proc/kallsyms`, where libbpf looks it up
/// (libbpf.c v1.7.0 `bpf_object__read_kallsyms_file`, `bpf_object__resolve_externs`),
/// when the kernel's configuration says ([`Kallsyms`]): without
/// `CONFIG_KALLSYMS_ALL` kallsyms lists functions and `__start_*`/`__stop_*`
/// section bounds only (scripts/kallsyms.c `symbol_valid`, v6.18;
/// kernel/module/kallsyms.c `is_core_symbol`), so a name that is not a
/// function in the kernel's BTF (a data symbol: `__per_cpu_start`,
/// `bpf_link_fops`) is missing; without `CONFIG_KALLSYMS` there is no
/// kallsyms at all. With `CONFIG_KALLSYMS_ALL`, or no configuration, it is
/// not known (`None`). libbpf's rule only: cilium/ebpf and aya read
/// `.ksyms` variables their own way (src/loader).
fn kallsyms_lacks(ki: &KernelModel, name: &str, loader: Loader) -> Option<String> {
    use crate::model::Kallsyms;
    if loader.family() != Family::Libbpf {
        return None;
    }
    match ki.kallsyms()? {
        Kallsyms::All => None,
        Kallsyms::Absent => Some(format!("typeless ksym `{name}`: this kernel has no /proc/kallsyms (CONFIG_KALLSYMS is not set)")),
        Kallsyms::Text if name.starts_with("__start_") || name.starts_with("__stop_") || find_func(ki, name).is_some() => None,
        Kallsyms::Text => Some(format!(
            "typeless ksym `{name}` is not in this kernel's /proc/kallsyms: built without CONFIG_KALLSYMS_ALL, it lists functions and `__start_*`/`__stop_*` section bounds only (scripts/kallsyms.c `symbol_valid`), and `{name}` is not a function in its BTF"
        )),
    }
}

/// `enum bpf_func_id`: `BPF_FUNC_get_attach_cookie`.
const BPF_FUNC_GET_ATTACH_COOKIE: u32 = 174;

/// A `.kconfig` extern's value on a kernel.
pub(super) enum KconfigValue {
    Exact(u64),
    Range(u64, u64),
}

/// libbpf `bpf_object__resolve_externs`: `LINUX_KERNEL_VERSION`
/// (`get_kernel_version`: on Debian the package version, X.Y.Z; known here
/// to X.Y, so a range), `LINUX_HAS_BPF_COOKIE` (`FEAT_BPF_COOKIE`: the
/// kernel has `bpf_get_attach_cookie`), `LINUX_HAS_SYSCALL_WRAPPER`
/// (`FEAT_SYSCALL_WRAPPER`: `CONFIG_ARCH_HAS_SYSCALL_WRAPPER`), other weak
/// `LINUX_*` are 0; `CONFIG_*` from the kernel's configuration
/// (`bpf_object__read_kconfig_file`, `set_kcfg_value_tri` / `_num`): y = 1,
/// m = 2 for a tristate, n or not set = 0, numbers as written; strings are
/// not modelled. `None`: not known.
pub(super) fn kconfig_value(obj: &BpfObject, e: &crate::object::Extern, ki: &KernelModel) -> Option<KconfigValue> {
    let kv = |a: u32, b: u32, c: u32| (u64::from(a) << 16) + (u64::from(b.min(255)) << 8) + u64::from(c.min(255));
    match e.name.as_str() {
        "LINUX_KERNEL_VERSION" => ki.kernel().version().map(|v| KconfigValue::Range(kv(v.major, v.minor, 0), kv(v.major, v.minor, 255))),
        "LINUX_HAS_BPF_COOKIE" => Some(KconfigValue::Exact(u64::from(ki.has_helper(BPF_FUNC_GET_ATTACH_COOKIE)))),
        "LINUX_HAS_SYSCALL_WRAPPER" => ki.kconfig().map(|c| KconfigValue::Exact(u64::from(c.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER").is_some_and(|v| v == "y")))),
        n if n.starts_with("CONFIG_") => {
            let cfg = ki.kconfig()?;
            let tristate = obj
                .btf
                .as_deref()
                .zip(e.btf_id)
                .and_then(|(b, id)| b.ty(id.0).and_then(|v| b.resolve(v.ref_type())))
                .is_some_and(|t| matches!(t.kind, Kind::Enum | Kind::Enum64));
            match cfg.get(n).map(String::as_str) {
                None | Some("n") => Some(KconfigValue::Exact(0)),
                Some("y") => Some(KconfigValue::Exact(1)),
                Some("m") if tristate => Some(KconfigValue::Exact(2)),
                Some(v) if v.starts_with('"') => None,
                Some(v) => {
                    let n = match v.strip_prefix("0x") {
                        Some(h) => u64::from_str_radix(h, 16).ok(),
                        None => v.parse::<i64>().ok().map(|x| x as u64),
                    };
                    n.map(KconfigValue::Exact)
                }
            }
        }
        _ => Some(KconfigValue::Exact(0)),
    }
}

/// libbpf: a strong `.kconfig` extern it cannot resolve fails the object
/// ("extern '%s' (strong): not resolved", `bpf_object__resolve_externs`).
pub(super) fn kconfig_missing(t: &Target, obj: &BpfObject, object_reasons: &mut Vec<Reason>) {
    let ki = t.kernel;
    for e in obj.externs.iter().filter(|e| e.kind == ExternKind::Kconfig && !e.weak) {
        let unknown_linux =
            e.name.starts_with("LINUX_") && !matches!(e.name.as_str(), "LINUX_KERNEL_VERSION" | "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER");
        let unset_config = e.name.starts_with("CONFIG_") && ki.kconfig().is_some_and(|c| !c.contains_key(&e.name));
        if unknown_linux || unset_config {
            object_reasons.push(Reason::fact(
                ReasonKind::KconfigMissing,
                &e.name,
                format!("`{}` is not set in this kernel's configuration and the extern is not weak: libbpf fails the whole object", e.name),
            ));
        }
    }
}

/// The kfuncs and typed ksyms the reachable code calls or takes the address
/// of.
pub(super) fn reached(obj: &BpfObject, externs: &HashMap<&str, ExternStatus>, loader: Loader, reached: &Reached, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    // kfuncs and typed ksyms the reachable code calls or takes the address
    // of. Strong externs that do not resolve are object-level failures (see
    // `resolve_externs`); here: weak ones, and satisfied ones for --explain.
    for &e in reached.calls.union(&reached.addrs) {
        let Some(name) = obj.externs.get(e as usize).map(|x| x.name.as_str()) else { continue };
        let Some(st) = externs.get(name) else { continue };
        let called = reached.calls.contains(&e);
        match st {
            ExternStatus::Ok(r) => rs.push(r.clone()),
            // libbpf `poison_kfunc_call`, cilium/ebpf linker.go
            // `fixupKfuncs` (`kfuncCallPoisonBase`): an unresolved weak
            // kfunc's calls become calls of an invalid function the
            // verifier rejects where it reaches them.
            ExternStatus::Weak(r) if called && r.kind != R::KsymMissing => {
                let mut r = r.clone();
                r.weak = false;
                let who = if loader.family() == Family::Cilium { "cilium/ebpf" } else { "libbpf" };
                r.message.push_str(&format!(": the extern is weak, but a reachable call remains ({who} poisons it, the verifier rejects it)"));
                rs.push(r);
            }
            ExternStatus::Weak(r) => rs.push(r.clone()),
            ExternStatus::Typeless(r) => rs.push(r.clone()),
            ExternStatus::NotKfunc(r) if called => rs.push(r.clone()),
            ExternStatus::NotKfunc(_) | ExternStatus::ObjectFails => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libbpf looks typeless ksyms up in /proc/kallsyms: on a kernel
    /// without CONFIG_KALLSYMS_ALL only functions and `__start_*`/`__stop_*`
    /// are there (the 6.18 machine kernel: `__per_cpu_start` and
    /// `bpf_link_fops` missing, `__start_BTF` present; libbpf: "extern
    /// '__per_cpu_start' (strong): not resolved"); with it, or without a
    /// configuration, nothing is known.
    #[test]
    fn typeless_ksyms_and_kallsyms_without_all_symbols() {
        use crate::btf::builder::Builder;
        use crate::bytes::Endian;
        use crate::loader::Version;
        use crate::model::Kallsyms;
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let p = b.func_proto(int, &[]);
        b.func("schedule", p, 1);
        let with = |config: Option<&str>| {
            let mut k = crate::kernel::load_bytes(crate::bytes::Bytes::from_vec(b.build()), "synthetic", &Default::default()).unwrap();
            k.info.config = config.map(Into::into);
            KernelModel::new(k)
        };
        let libbpf = Family::Libbpf.at(Version::new(1, 7));
        let text = with(Some("CONFIG_KALLSYMS=y\n# CONFIG_KALLSYMS_ALL is not set\n"));
        assert_eq!(text.kallsyms(), Some(Kallsyms::Text));
        for (name, missing) in [("__per_cpu_start", true), ("bpf_link_fops", true), ("__start_BTF", false), ("__stop_BTF", false), ("schedule", false)] {
            assert_eq!(kallsyms_lacks(&text, name, libbpf).is_some(), missing, "{name}");
        }
        // cilium/ebpf reads `.ksyms` its own way: not this rule.
        assert_eq!(kallsyms_lacks(&text, "__per_cpu_start", Family::Cilium.at(Version::new(0, 22))), None);
        let all = with(Some("CONFIG_KALLSYMS=y\nCONFIG_KALLSYMS_ALL=y\n"));
        assert_eq!(all.kallsyms(), Some(Kallsyms::All));
        assert_eq!(kallsyms_lacks(&all, "__per_cpu_start", libbpf), None);
        let absent = with(Some("# CONFIG_KALLSYMS is not set\n"));
        assert!(kallsyms_lacks(&absent, "schedule", libbpf).is_some());
        assert_eq!(with(None).kallsyms(), None);
        assert_eq!(with(Some("CONFIG_BPF=y\n")).kallsyms(), None);
    }
}
