//! The program variants a probe loads: every `enum bpf_prog_type` of the
//! kernel, split where helper or kfunc availability depends on the attach
//! type, on `BPF_F_SLEEPABLE` or on the attach target (tracing programs:
//! fentry/fexit/fmod_ret/tp_btf/iter; LSM; one variant per struct_ops type).
//! Names and values come from the kernel's own BTF; a variant whose attach
//! type this kernel lacks is left out, a program type the table does not
//! know gets one variant with attach type 0.

use super::{AttachBtf, Variant};
use crate::btf::{Btf, Kind};
use crate::kernel::Kernel;
use std::collections::HashMap;

/// What a variant attaches to (needs `attach_btf_id`).
#[derive(Clone, Copy)]
enum Target {
    None,
    /// A FUNC, first of these names found in vmlinux, else in a module.
    Func(&'static [&'static str]),
    /// A `btf_trace_*` TYPEDEF (tp_btf).
    Typedef(&'static [&'static str]),
    /// freplace: the target is another BPF program.
    Ext,
}

/// (prog type without `BPF_PROG_TYPE_`, label, attach type, sleepable, target).
type Row = (&'static str, &'static str, Option<&'static str>, bool, Target);

/// fentry/fexit may sleep only on error-injectable functions: the test
/// function of `BPF_PROG_TEST_RUN` is one, and exists in every kernel with
/// fentry support.
const FENTRY_TARGETS: &[&str] = &["bpf_modify_return_test", "bpf_fentry_test1"];
const ITER_TARGETS: &[&str] = &["bpf_iter_task", "bpf_iter_bpf_map"];
const TP_BTF_TARGETS: &[&str] = &["btf_trace_sched_switch", "btf_trace_task_newtask"];
/// `file_open` is a sleepable LSM hook; `socket_bind` a cgroup-LSM one.
const LSM_TARGETS: &[&str] = &["bpf_lsm_file_open"];
const LSM_CGROUP_TARGETS: &[&str] = &["bpf_lsm_socket_bind"];

const TABLE: &[Row] = &[
    ("SOCKET_FILTER", "socket", None, false, Target::None),
    ("KPROBE", "kprobe", None, false, Target::None),
    ("KPROBE", "uprobe.s", None, true, Target::None),
    ("KPROBE", "kprobe.multi", Some("BPF_TRACE_KPROBE_MULTI"), false, Target::None),
    ("KPROBE", "kprobe.session", Some("BPF_TRACE_KPROBE_SESSION"), false, Target::None),
    ("KPROBE", "uprobe.multi", Some("BPF_TRACE_UPROBE_MULTI"), false, Target::None),
    ("KPROBE", "uprobe.multi.s", Some("BPF_TRACE_UPROBE_MULTI"), true, Target::None),
    ("KPROBE", "uprobe.session", Some("BPF_TRACE_UPROBE_SESSION"), false, Target::None),
    ("SCHED_CLS", "tc", None, false, Target::None),
    ("SCHED_ACT", "action", None, false, Target::None),
    ("TRACEPOINT", "tracepoint", None, false, Target::None),
    ("XDP", "xdp", Some("BPF_XDP"), false, Target::None),
    ("XDP", "xdp/devmap", Some("BPF_XDP_DEVMAP"), false, Target::None),
    ("XDP", "xdp/cpumap", Some("BPF_XDP_CPUMAP"), false, Target::None),
    ("PERF_EVENT", "perf_event", None, false, Target::None),
    ("CGROUP_SKB", "cgroup_skb/ingress", Some("BPF_CGROUP_INET_INGRESS"), false, Target::None),
    ("CGROUP_SKB", "cgroup_skb/egress", Some("BPF_CGROUP_INET_EGRESS"), false, Target::None),
    ("CGROUP_SOCK", "cgroup/sock_create", Some("BPF_CGROUP_INET_SOCK_CREATE"), false, Target::None),
    ("CGROUP_SOCK", "cgroup/sock_release", Some("BPF_CGROUP_INET_SOCK_RELEASE"), false, Target::None),
    ("CGROUP_SOCK", "cgroup/post_bind4", Some("BPF_CGROUP_INET4_POST_BIND"), false, Target::None),
    ("CGROUP_SOCK", "cgroup/post_bind6", Some("BPF_CGROUP_INET6_POST_BIND"), false, Target::None),
    ("LWT_IN", "lwt_in", None, false, Target::None),
    ("LWT_OUT", "lwt_out", None, false, Target::None),
    ("LWT_XMIT", "lwt_xmit", None, false, Target::None),
    ("SOCK_OPS", "sockops", Some("BPF_CGROUP_SOCK_OPS"), false, Target::None),
    ("SK_SKB", "sk_skb/stream_parser", Some("BPF_SK_SKB_STREAM_PARSER"), false, Target::None),
    ("SK_SKB", "sk_skb/stream_verdict", Some("BPF_SK_SKB_STREAM_VERDICT"), false, Target::None),
    ("SK_SKB", "sk_skb/verdict", Some("BPF_SK_SKB_VERDICT"), false, Target::None),
    ("CGROUP_DEVICE", "cgroup/dev", Some("BPF_CGROUP_DEVICE"), false, Target::None),
    ("SK_MSG", "sk_msg", Some("BPF_SK_MSG_VERDICT"), false, Target::None),
    ("RAW_TRACEPOINT", "raw_tp", None, false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/bind4", Some("BPF_CGROUP_INET4_BIND"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/bind6", Some("BPF_CGROUP_INET6_BIND"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/connect4", Some("BPF_CGROUP_INET4_CONNECT"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/connect6", Some("BPF_CGROUP_INET6_CONNECT"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/connect_unix", Some("BPF_CGROUP_UNIX_CONNECT"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/sendmsg4", Some("BPF_CGROUP_UDP4_SENDMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/sendmsg6", Some("BPF_CGROUP_UDP6_SENDMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/sendmsg_unix", Some("BPF_CGROUP_UNIX_SENDMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/recvmsg4", Some("BPF_CGROUP_UDP4_RECVMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/recvmsg6", Some("BPF_CGROUP_UDP6_RECVMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/recvmsg_unix", Some("BPF_CGROUP_UNIX_RECVMSG"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getpeername4", Some("BPF_CGROUP_INET4_GETPEERNAME"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getpeername6", Some("BPF_CGROUP_INET6_GETPEERNAME"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getpeername_unix", Some("BPF_CGROUP_UNIX_GETPEERNAME"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getsockname4", Some("BPF_CGROUP_INET4_GETSOCKNAME"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getsockname6", Some("BPF_CGROUP_INET6_GETSOCKNAME"), false, Target::None),
    ("CGROUP_SOCK_ADDR", "cgroup/getsockname_unix", Some("BPF_CGROUP_UNIX_GETSOCKNAME"), false, Target::None),
    ("LWT_SEG6LOCAL", "lwt_seg6local", None, false, Target::None),
    ("LIRC_MODE2", "lirc_mode2", Some("BPF_LIRC_MODE2"), false, Target::None),
    ("SK_REUSEPORT", "sk_reuseport", Some("BPF_SK_REUSEPORT_SELECT"), false, Target::None),
    ("SK_REUSEPORT", "sk_reuseport/migrate", Some("BPF_SK_REUSEPORT_SELECT_OR_MIGRATE"), false, Target::None),
    ("FLOW_DISSECTOR", "flow_dissector", Some("BPF_FLOW_DISSECTOR"), false, Target::None),
    ("CGROUP_SYSCTL", "cgroup/sysctl", Some("BPF_CGROUP_SYSCTL"), false, Target::None),
    ("RAW_TRACEPOINT_WRITABLE", "raw_tp.w", None, false, Target::None),
    ("CGROUP_SOCKOPT", "cgroup/getsockopt", Some("BPF_CGROUP_GETSOCKOPT"), false, Target::None),
    ("CGROUP_SOCKOPT", "cgroup/setsockopt", Some("BPF_CGROUP_SETSOCKOPT"), false, Target::None),
    ("TRACING", "tp_btf", Some("BPF_TRACE_RAW_TP"), false, Target::Typedef(TP_BTF_TARGETS)),
    ("TRACING", "fentry", Some("BPF_TRACE_FENTRY"), false, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "fentry.s", Some("BPF_TRACE_FENTRY"), true, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "fexit", Some("BPF_TRACE_FEXIT"), false, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "fexit.s", Some("BPF_TRACE_FEXIT"), true, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "fmod_ret", Some("BPF_MODIFY_RETURN"), false, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "fmod_ret.s", Some("BPF_MODIFY_RETURN"), true, Target::Func(FENTRY_TARGETS)),
    ("TRACING", "iter", Some("BPF_TRACE_ITER"), false, Target::Func(ITER_TARGETS)),
    ("TRACING", "iter.s", Some("BPF_TRACE_ITER"), true, Target::Func(ITER_TARGETS)),
    ("EXT", "freplace", None, false, Target::Ext),
    ("LSM", "lsm", Some("BPF_LSM_MAC"), false, Target::Func(LSM_TARGETS)),
    ("LSM", "lsm.s", Some("BPF_LSM_MAC"), true, Target::Func(LSM_TARGETS)),
    ("LSM", "lsm_cgroup", Some("BPF_LSM_CGROUP"), false, Target::Func(LSM_CGROUP_TARGETS)),
    ("SK_LOOKUP", "sk_lookup", Some("BPF_SK_LOOKUP"), false, Target::None),
    // libbpf loads SEC("syscall") programs sleepable; bpftool probes them not.
    ("SYSCALL", "syscall", None, true, Target::None),
    ("SYSCALL", "syscall.nonsleepable", None, false, Target::None),
    ("NETFILTER", "netfilter", Some("BPF_NETFILTER"), false, Target::None),
];

fn enum_values(btf: &Btf, name: &str) -> Vec<(String, u32)> {
    btf.types_of_kind(Kind::Enum)
        .chain(btf.types_of_kind(Kind::Enum64))
        .find(|t| t.name_bytes() == name.as_bytes())
        .map(|e| e.enumerators().map(|v| (v.name.to_string(), v.value as u32)).collect())
        .unwrap_or_default()
}

/// The enumerators of `enum name`, by value (empty if the kernel has no such enum).
pub fn enum_names(btf: &Btf, name: &str) -> Vec<String> {
    let mut v = enum_values(btf, name);
    v.sort_by_key(|(_, value)| *value);
    v.into_iter().map(|(n, _)| n).collect()
}

/// The value of enumerator `value` of `enum name`, if the kernel has it.
pub fn enum_value(btf: &Btf, name: &str, value: &str) -> Option<u32> {
    enum_values(btf, name).into_iter().find(|(n, _)| n == value).map(|(_, v)| v)
}

/// Where each FUNC and TYPEDEF name the [`TABLE`] attaches to lives:
/// (index in `kernel.btfs()`, id), by [`Kernel::first_of_kind`] (one pass
/// per kind and BTF, not the by-name index of every type).
fn targets(kernel: &Kernel) -> HashMap<(&'static str, Kind), (usize, u32)> {
    let mut out = HashMap::new();
    for kind in [Kind::Func, Kind::Typedef] {
        let mut names: Vec<&'static str> = Vec::new();
        for &(_, _, _, _, target) in TABLE {
            match target {
                Target::Func(n) if kind == Kind::Func => names.extend(n),
                Target::Typedef(n) if kind == Kind::Typedef => names.extend(n),
                _ => {}
            }
        }
        names.sort_unstable();
        names.dedup();
        for (n, f) in names.iter().zip(kernel.first_of_kind(kind, &names)) {
            if let Some((bi, id)) = f {
                out.insert((*n, kind), (bi, id.get()));
            }
        }
    }
    out
}

/// First FUNC / TYPEDEF among `names`, in vmlinux then modules.
fn find_target(kernel: &Kernel, targets: &HashMap<(&'static str, Kind), (usize, u32)>, names: &[&'static str], kind: Kind) -> Option<AttachBtf> {
    names.iter().find_map(|&n| {
        let &(bi, id) = targets.get(&(n, kind))?;
        let kb = kernel.btfs().nth(bi)?;
        let module = (kb.name != "vmlinux").then(|| kb.name.clone());
        Some(AttachBtf { name: n.to_string(), kind: kind.name().to_lowercase(), id, module })
    })
}

/// Every variant to probe on `kernel`.
pub fn of(kernel: &Kernel) -> Vec<Variant> {
    let btf = &kernel.vmlinux.btf;
    let prog_types = enum_values(btf, "bpf_prog_type");
    let attach: HashMap<String, u32> = enum_values(btf, "bpf_attach_type").into_iter().collect();
    let targets = targets(kernel);
    let mut out = Vec::new();
    for (pt, ptid) in &prog_types {
        let Some(short) = pt.strip_prefix("BPF_PROG_TYPE_") else { continue };
        if short == "UNSPEC" || pt.starts_with("__") {
            continue;
        }
        if short == "STRUCT_OPS" {
            out.extend(struct_ops(kernel, pt, *ptid));
            continue;
        }
        let rows: Vec<&Row> = TABLE.iter().filter(|r| r.0 == short).collect();
        if rows.is_empty() {
            out.push(Variant::new(short.to_lowercase(), pt, *ptid, None, false));
            continue;
        }
        for &&(_, label, at, sleepable, target) in &rows {
            let at = match at {
                Some(a) => match attach.get(a) {
                    Some(&v) => Some((a.to_string(), v)),
                    None => continue,
                },
                None => None,
            };
            let mut v = Variant::new(label.to_string(), pt, *ptid, at, sleepable);
            match target {
                Target::None => {}
                Target::Func(names) | Target::Typedef(names) => {
                    let kind = if matches!(target, Target::Func(_)) { Kind::Func } else { Kind::Typedef };
                    v.attach_btf = find_target(kernel, &targets, names, kind);
                    if v.attach_btf.is_none() {
                        v.not_probed = Some(format!("no attach target in this kernel's BTF (looked for {})", names.join(", ")));
                    }
                }
                Target::Ext => {
                    v.not_probed = Some("freplace programs get the helpers and kfuncs of the program they replace".into());
                }
            }
            out.push(v);
        }
    }
    out
}

/// One variant per struct_ops type: `struct bpf_struct_ops_X { common; X data; }`
/// marks a registered `struct X`; the probe implements its first
/// function-pointer member, and then each other one
/// ([`Variant::other_members`]).
fn struct_ops(kernel: &Kernel, pt: &str, ptid: u32) -> Vec<Variant> {
    let mut out = Vec::new();
    for kb in kernel.btfs() {
        let b = &kb.btf;
        // Only the STRUCTs whose name starts with `bpf_stru` are read in
        // full (a few dozen of a vmlinux's 10,000).
        for t in b.ids_with_prefix8(Kind::Struct, b"bpf_stru").into_iter().filter_map(|id| b.ty(id)) {
            let Some(ops) = t.name().strip_prefix("bpf_struct_ops_") else { continue };
            // 6.7+: `{ struct bpf_struct_ops_common_value common; struct X data; }`
            // (the kernel's `is_valid_value_type`); before: the common
            // value expanded in place, `{ refcount_t refcnt; enum
            // bpf_struct_ops_state state; struct X data; }` (found by name
            // in `bpf_struct_ops_init`).
            let members: Vec<_> = t.members().collect();
            let is_common = match members.as_slice() {
                [common, _] => b.resolve(common.ty).is_some_and(|c| c.name() == "bpf_struct_ops_common_value"),
                [refcnt, state, _] => refcnt.name == "refcnt" && state.name == "state",
                _ => false,
            };
            let Some(data) = members.last() else { continue };
            let Some(dt) = b.resolve(data.ty) else { continue };
            if !is_common || data.name != "data" || dt.kind != Kind::Struct || dt.name() != ops {
                continue;
            }
            let fptrs: Vec<(usize, &str)> = dt
                .members()
                .enumerate()
                .filter(|(_, m)| b.resolve(m.ty).is_some_and(|p| p.kind == Kind::Ptr && b.resolve(p.ref_type()).is_some_and(|f| f.kind == Kind::FuncProto)))
                .map(|(i, m)| (i, m.name))
                .collect();
            let member = fptrs.first().copied();
            let module = (kb.name != "vmlinux").then(|| kb.name.clone());
            let mut v = Variant::new(format!("struct_ops/{ops}"), pt, ptid, None, false);
            v.attach_btf = Some(AttachBtf { name: ops.to_string(), kind: "struct".into(), id: dt.id.get(), module });
            match member {
                Some((i, m)) => {
                    v.struct_ops_member = Some(m.to_string());
                    v.attach_type_id = Some(i as u32);
                    v.other_members = fptrs.iter().skip(1).map(|&(i, m)| (m.to_string(), i as u32)).collect();
                }
                None => v.not_probed = Some(format!("struct {ops} has no function pointer member")),
            }
            out.push(v);
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out.dedup_by(|a, b| a.label == b.label);
    out
}
