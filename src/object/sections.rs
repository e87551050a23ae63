//! libbpf's SEC() naming conventions: section name → program type,
//! expected attach type, attach target and sleepability. Program and attach
//! types are spelled as the kernel's `enum bpf_prog_type` /
//! `enum bpf_attach_type` enumerators so `check` can look them up in a
//! kernel's BTF.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDesc {
    pub prog_type: &'static str,
    pub attach: Option<&'static str>,
    pub target: Option<String>,
    pub sleepable: bool,
}

/// (prefix, exact match only, prog type, attach type, target follows '/').
type Rule = (&'static str, bool, &'static str, Option<&'static str>, bool);

const RULES: &[Rule] = &[
    ("socket", true, "BPF_PROG_TYPE_SOCKET_FILTER", None, false),
    ("sk_reuseport/migrate", true, "BPF_PROG_TYPE_SK_REUSEPORT", Some("BPF_SK_REUSEPORT_SELECT_OR_MIGRATE"), false),
    ("sk_reuseport", true, "BPF_PROG_TYPE_SK_REUSEPORT", Some("BPF_SK_REUSEPORT_SELECT"), false),
    ("kprobe.multi/", false, "BPF_PROG_TYPE_KPROBE", Some("BPF_TRACE_KPROBE_MULTI"), true),
    ("kretprobe.multi/", false, "BPF_PROG_TYPE_KPROBE", Some("BPF_TRACE_KPROBE_MULTI"), true),
    ("kprobe.session/", false, "BPF_PROG_TYPE_KPROBE", Some("BPF_TRACE_KPROBE_SESSION"), true),
    ("uprobe.multi", false, "BPF_PROG_TYPE_KPROBE", Some("BPF_TRACE_UPROBE_MULTI"), false),
    ("uretprobe.multi", false, "BPF_PROG_TYPE_KPROBE", Some("BPF_TRACE_UPROBE_MULTI"), false),
    ("kprobe/", false, "BPF_PROG_TYPE_KPROBE", None, true),
    ("kretprobe/", false, "BPF_PROG_TYPE_KPROBE", None, true),
    ("kprobe", true, "BPF_PROG_TYPE_KPROBE", None, false),
    ("kretprobe", true, "BPF_PROG_TYPE_KPROBE", None, false),
    ("ksyscall/", false, "BPF_PROG_TYPE_KPROBE", None, false),
    ("kretsyscall/", false, "BPF_PROG_TYPE_KPROBE", None, false),
    ("uprobe", false, "BPF_PROG_TYPE_KPROBE", None, false),
    ("uretprobe", false, "BPF_PROG_TYPE_KPROBE", None, false),
    ("usdt", false, "BPF_PROG_TYPE_KPROBE", None, false),
    ("tcx/ingress", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_TCX_INGRESS"), false),
    ("tcx/egress", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_TCX_EGRESS"), false),
    ("netkit/primary", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_NETKIT_PRIMARY"), false),
    ("netkit/peer", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_NETKIT_PEER"), false),
    ("tc/ingress", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_TCX_INGRESS"), false),
    ("tc/egress", true, "BPF_PROG_TYPE_SCHED_CLS", Some("BPF_TCX_EGRESS"), false),
    ("tc", false, "BPF_PROG_TYPE_SCHED_CLS", None, false),
    ("classifier", false, "BPF_PROG_TYPE_SCHED_CLS", None, false),
    ("action", false, "BPF_PROG_TYPE_SCHED_ACT", None, false),
    ("tracepoint/", false, "BPF_PROG_TYPE_TRACEPOINT", None, true),
    ("tp/", false, "BPF_PROG_TYPE_TRACEPOINT", None, true),
    ("raw_tracepoint.w/", false, "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", None, true),
    ("raw_tp.w/", false, "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", None, true),
    ("raw_tracepoint/", false, "BPF_PROG_TYPE_RAW_TRACEPOINT", None, true),
    ("raw_tp/", false, "BPF_PROG_TYPE_RAW_TRACEPOINT", None, true),
    ("tp_btf/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_RAW_TP"), true),
    ("fentry.s/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FENTRY"), true),
    ("fmod_ret.s/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_MODIFY_RETURN"), true),
    ("fexit.s/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FEXIT"), true),
    ("fentry/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FENTRY"), true),
    ("fmod_ret/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_MODIFY_RETURN"), true),
    ("fexit/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FEXIT"), true),
    ("freplace/", false, "BPF_PROG_TYPE_EXT", None, true),
    ("lsm.s/", false, "BPF_PROG_TYPE_LSM", Some("BPF_LSM_MAC"), true),
    ("lsm/", false, "BPF_PROG_TYPE_LSM", Some("BPF_LSM_MAC"), true),
    ("lsm_cgroup/", false, "BPF_PROG_TYPE_LSM", Some("BPF_LSM_CGROUP"), true),
    ("iter.s/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_ITER"), true),
    ("iter/", false, "BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_ITER"), true),
    ("syscall", true, "BPF_PROG_TYPE_SYSCALL", None, false),
    ("xdp.frags/devmap", true, "BPF_PROG_TYPE_XDP", Some("BPF_XDP_DEVMAP"), false),
    ("xdp/devmap", true, "BPF_PROG_TYPE_XDP", Some("BPF_XDP_DEVMAP"), false),
    ("xdp.frags/cpumap", true, "BPF_PROG_TYPE_XDP", Some("BPF_XDP_CPUMAP"), false),
    ("xdp/cpumap", true, "BPF_PROG_TYPE_XDP", Some("BPF_XDP_CPUMAP"), false),
    ("xdp.frags", true, "BPF_PROG_TYPE_XDP", Some("BPF_XDP"), false),
    ("xdp", false, "BPF_PROG_TYPE_XDP", Some("BPF_XDP"), false),
    ("perf_event", true, "BPF_PROG_TYPE_PERF_EVENT", None, false),
    ("lwt_in", true, "BPF_PROG_TYPE_LWT_IN", None, false),
    ("lwt_out", true, "BPF_PROG_TYPE_LWT_OUT", None, false),
    ("lwt_xmit", true, "BPF_PROG_TYPE_LWT_XMIT", None, false),
    ("lwt_seg6local", true, "BPF_PROG_TYPE_LWT_SEG6LOCAL", None, false),
    ("sockops", true, "BPF_PROG_TYPE_SOCK_OPS", Some("BPF_CGROUP_SOCK_OPS"), false),
    ("sk_skb/stream_parser", true, "BPF_PROG_TYPE_SK_SKB", Some("BPF_SK_SKB_STREAM_PARSER"), false),
    ("sk_skb/stream_verdict", true, "BPF_PROG_TYPE_SK_SKB", Some("BPF_SK_SKB_STREAM_VERDICT"), false),
    ("sk_skb", false, "BPF_PROG_TYPE_SK_SKB", None, false),
    ("sk_msg", true, "BPF_PROG_TYPE_SK_MSG", Some("BPF_SK_MSG_VERDICT"), false),
    ("lirc_mode2", true, "BPF_PROG_TYPE_LIRC_MODE2", Some("BPF_LIRC_MODE2"), false),
    ("flow_dissector", true, "BPF_PROG_TYPE_FLOW_DISSECTOR", Some("BPF_FLOW_DISSECTOR"), false),
    ("cgroup_skb/ingress", true, "BPF_PROG_TYPE_CGROUP_SKB", Some("BPF_CGROUP_INET_INGRESS"), false),
    ("cgroup_skb/egress", true, "BPF_PROG_TYPE_CGROUP_SKB", Some("BPF_CGROUP_INET_EGRESS"), false),
    ("cgroup/skb", true, "BPF_PROG_TYPE_CGROUP_SKB", None, false),
    ("cgroup/sock_create", true, "BPF_PROG_TYPE_CGROUP_SOCK", Some("BPF_CGROUP_INET_SOCK_CREATE"), false),
    ("cgroup/sock_release", true, "BPF_PROG_TYPE_CGROUP_SOCK", Some("BPF_CGROUP_INET_SOCK_RELEASE"), false),
    ("cgroup/sock", true, "BPF_PROG_TYPE_CGROUP_SOCK", Some("BPF_CGROUP_INET_SOCK_CREATE"), false),
    ("cgroup/post_bind4", true, "BPF_PROG_TYPE_CGROUP_SOCK", Some("BPF_CGROUP_INET4_POST_BIND"), false),
    ("cgroup/post_bind6", true, "BPF_PROG_TYPE_CGROUP_SOCK", Some("BPF_CGROUP_INET6_POST_BIND"), false),
    ("cgroup/bind4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET4_BIND"), false),
    ("cgroup/bind6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET6_BIND"), false),
    ("cgroup/connect4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET4_CONNECT"), false),
    ("cgroup/connect6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET6_CONNECT"), false),
    ("cgroup/connect_unix", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UNIX_CONNECT"), false),
    ("cgroup/sendmsg4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UDP4_SENDMSG"), false),
    ("cgroup/sendmsg6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UDP6_SENDMSG"), false),
    ("cgroup/sendmsg_unix", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UNIX_SENDMSG"), false),
    ("cgroup/recvmsg4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UDP4_RECVMSG"), false),
    ("cgroup/recvmsg6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UDP6_RECVMSG"), false),
    ("cgroup/recvmsg_unix", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_UNIX_RECVMSG"), false),
    ("cgroup/getpeername4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET4_GETPEERNAME"), false),
    ("cgroup/getpeername6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET6_GETPEERNAME"), false),
    ("cgroup/getsockname4", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET4_GETSOCKNAME"), false),
    ("cgroup/getsockname6", true, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", Some("BPF_CGROUP_INET6_GETSOCKNAME"), false),
    ("cgroup/sysctl", true, "BPF_PROG_TYPE_CGROUP_SYSCTL", Some("BPF_CGROUP_SYSCTL"), false),
    ("cgroup/getsockopt", true, "BPF_PROG_TYPE_CGROUP_SOCKOPT", Some("BPF_CGROUP_GETSOCKOPT"), false),
    ("cgroup/setsockopt", true, "BPF_PROG_TYPE_CGROUP_SOCKOPT", Some("BPF_CGROUP_SETSOCKOPT"), false),
    ("cgroup/dev", true, "BPF_PROG_TYPE_CGROUP_DEVICE", Some("BPF_CGROUP_DEVICE"), false),
    ("struct_ops.s/", false, "BPF_PROG_TYPE_STRUCT_OPS", None, true),
    ("struct_ops/", false, "BPF_PROG_TYPE_STRUCT_OPS", None, true),
    ("struct_ops", true, "BPF_PROG_TYPE_STRUCT_OPS", None, false),
    ("sk_lookup", true, "BPF_PROG_TYPE_SK_LOOKUP", Some("BPF_SK_LOOKUP"), false),
    ("netfilter", true, "BPF_PROG_TYPE_NETFILTER", Some("BPF_NETFILTER"), false),
];

/// Decode a program section name.
pub fn decode(sec: &str) -> SectionDesc {
    for &(prefix, exact, ty, attach, has_target) in RULES {
        let matched = if exact {
            sec == prefix || sec.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'))
        } else {
            sec.starts_with(prefix)
        };
        if !matched {
            continue;
        }
        let target = if has_target {
            let rest = sec.strip_prefix(prefix).unwrap_or("");
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            // kprobe/func+offset: the function is what must exist.
            let t = rest.split('+').next().unwrap_or("");
            (!t.is_empty()).then(|| t.to_string())
        } else {
            None
        };
        return SectionDesc { prog_type: ty, attach, target, sleepable: prefix.contains(".s/") };
    }
    SectionDesc { prog_type: "unknown", attach: None, target: None, sleepable: false }
}

#[cfg(test)]
mod tests {
    use super::decode;
    #[test]
    fn conventions() {
        let d = decode("fentry/do_unlinkat");
        assert_eq!((d.prog_type, d.attach, d.target.as_deref()), ("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FENTRY"), Some("do_unlinkat")));
        assert!(decode("lsm.s/file_open").sleepable);
        assert_eq!(decode("kprobe/tcp_v4_connect+4").target.as_deref(), Some("tcp_v4_connect"));
        assert_eq!(decode("xdp").prog_type, "BPF_PROG_TYPE_XDP");
        assert_eq!(decode("xdp_prog").prog_type, "BPF_PROG_TYPE_XDP");
        assert_eq!(decode("cgroup/connect4").attach, Some("BPF_CGROUP_INET4_CONNECT"));
        assert_eq!(decode("tp_btf/sched_switch").target.as_deref(), Some("sched_switch"));
        assert_eq!(decode("socket").prog_type, "BPF_PROG_TYPE_SOCKET_FILTER");
        assert_eq!(decode("mystery").prog_type, "unknown");
        assert_eq!(decode("struct_ops/bpf_cubic_init").prog_type, "BPF_PROG_TYPE_STRUCT_OPS");
        assert_eq!(decode("tracepoint/syscalls/sys_enter_openat").target.as_deref(), Some("syscalls/sys_enter_openat"));
    }
}
