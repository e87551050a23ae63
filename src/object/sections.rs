//! libbpf's SEC() naming conventions: section name → program type,
//! expected attach type, attach target and sleepability. Program and attach
//! types are spelled as the kernel's `enum bpf_prog_type` /
//! `enum bpf_attach_type` enumerators so `check` can look them up in a
//! kernel's BTF.
//!
//! The table mirrors `section_defs[]` in libbpf's `libbpf.c` as of libbpf
//! v1.5 (the version Debian's bpftool 7.5 links), for the conventions listed
//! in [`RULES`]; order matters (first match wins, longer prefixes first).

use crate::uapi::{AttachType, ProgType};

/// What a section name says about its programs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SectionDesc {
    /// Program type; `None` when the name follows no convention (libbpf
    /// then refuses the program: "missing BPF prog type").
    pub prog_type: Option<ProgType>,
    /// Expected attach type, where libbpf sets one.
    pub attach: Option<AttachType>,
    /// Attach target named after the prefix (`fentry/<func>`).
    pub target: Option<String>,
    /// A sleepable variant (`.s/`).
    pub sleepable: bool,
    /// `?` prefix: libbpf creates the program with autoload off.
    pub autoload_off: bool,
}

/// (prefix, exact match only, prog type, attach type, target follows '/').
type Rule = (&'static str, bool, ProgType, Option<AttachType>, bool);

/// The SEC() conventions, first match wins.
pub const RULES: &[Rule] = &[
    ("socket", true, ProgType::SocketFilter, None, false),
    ("sk_reuseport/migrate", true, ProgType::SkReuseport, Some(AttachType::SkReuseportSelectOrMigrate), false),
    ("sk_reuseport", true, ProgType::SkReuseport, Some(AttachType::SkReuseportSelect), false),
    ("kprobe.multi/", false, ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), true),
    ("kretprobe.multi/", false, ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), true),
    ("kprobe.session/", false, ProgType::Kprobe, Some(AttachType::TraceKprobeSession), true),
    ("uprobe.multi.s", false, ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false),
    ("uretprobe.multi.s", false, ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false),
    ("uprobe.multi", false, ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false),
    ("uretprobe.multi", false, ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false),
    ("kprobe/", false, ProgType::Kprobe, None, true),
    ("kretprobe/", false, ProgType::Kprobe, None, true),
    ("kprobe", true, ProgType::Kprobe, None, false),
    ("kretprobe", true, ProgType::Kprobe, None, false),
    ("ksyscall/", false, ProgType::Kprobe, None, false),
    ("kretsyscall/", false, ProgType::Kprobe, None, false),
    ("uprobe.s", false, ProgType::Kprobe, None, false),
    ("uretprobe.s", false, ProgType::Kprobe, None, false),
    ("usdt.s", false, ProgType::Kprobe, None, false),
    ("uprobe", false, ProgType::Kprobe, None, false),
    ("uretprobe", false, ProgType::Kprobe, None, false),
    ("usdt", false, ProgType::Kprobe, None, false),
    ("tcx/ingress", true, ProgType::SchedCls, Some(AttachType::TcxIngress), false),
    ("tcx/egress", true, ProgType::SchedCls, Some(AttachType::TcxEgress), false),
    ("netkit/primary", true, ProgType::SchedCls, Some(AttachType::NetkitPrimary), false),
    ("netkit/peer", true, ProgType::SchedCls, Some(AttachType::NetkitPeer), false),
    ("tc/ingress", true, ProgType::SchedCls, Some(AttachType::TcxIngress), false),
    ("tc/egress", true, ProgType::SchedCls, Some(AttachType::TcxEgress), false),
    ("tc", false, ProgType::SchedCls, None, false),
    ("classifier", false, ProgType::SchedCls, None, false),
    ("action", false, ProgType::SchedAct, None, false),
    ("tracepoint/", false, ProgType::Tracepoint, None, true),
    ("tp/", false, ProgType::Tracepoint, None, true),
    ("raw_tracepoint.w/", false, ProgType::RawTracepointWritable, None, true),
    ("raw_tp.w/", false, ProgType::RawTracepointWritable, None, true),
    ("raw_tracepoint/", false, ProgType::RawTracepoint, None, true),
    ("raw_tp/", false, ProgType::RawTracepoint, None, true),
    ("tp_btf/", false, ProgType::Tracing, Some(AttachType::TraceRawTp), true),
    ("fentry.s/", false, ProgType::Tracing, Some(AttachType::TraceFentry), true),
    ("fmod_ret.s/", false, ProgType::Tracing, Some(AttachType::ModifyReturn), true),
    ("fexit.s/", false, ProgType::Tracing, Some(AttachType::TraceFexit), true),
    ("fentry/", false, ProgType::Tracing, Some(AttachType::TraceFentry), true),
    ("fmod_ret/", false, ProgType::Tracing, Some(AttachType::ModifyReturn), true),
    ("fexit/", false, ProgType::Tracing, Some(AttachType::TraceFexit), true),
    ("freplace/", false, ProgType::Ext, None, true),
    ("lsm.s/", false, ProgType::Lsm, Some(AttachType::LsmMac), true),
    ("lsm/", false, ProgType::Lsm, Some(AttachType::LsmMac), true),
    ("lsm_cgroup/", false, ProgType::Lsm, Some(AttachType::LsmCgroup), true),
    ("iter.s/", false, ProgType::Tracing, Some(AttachType::TraceIter), true),
    ("iter/", false, ProgType::Tracing, Some(AttachType::TraceIter), true),
    ("syscall", true, ProgType::Syscall, None, false),
    ("xdp.frags/devmap", true, ProgType::Xdp, Some(AttachType::XdpDevmap), false),
    ("xdp/devmap", true, ProgType::Xdp, Some(AttachType::XdpDevmap), false),
    ("xdp.frags/cpumap", true, ProgType::Xdp, Some(AttachType::XdpCpumap), false),
    ("xdp/cpumap", true, ProgType::Xdp, Some(AttachType::XdpCpumap), false),
    ("xdp.frags", true, ProgType::Xdp, Some(AttachType::Xdp), false),
    ("xdp", false, ProgType::Xdp, Some(AttachType::Xdp), false),
    ("perf_event", true, ProgType::PerfEvent, None, false),
    ("lwt_in", true, ProgType::LwtIn, None, false),
    ("lwt_out", true, ProgType::LwtOut, None, false),
    ("lwt_xmit", true, ProgType::LwtXmit, None, false),
    ("lwt_seg6local", true, ProgType::LwtSeg6local, None, false),
    ("sockops", true, ProgType::SockOps, Some(AttachType::CgroupSockOps), false),
    ("sk_skb/stream_parser", true, ProgType::SkSkb, Some(AttachType::SkSkbStreamParser), false),
    ("sk_skb/stream_verdict", true, ProgType::SkSkb, Some(AttachType::SkSkbStreamVerdict), false),
    ("sk_skb", false, ProgType::SkSkb, None, false),
    ("sk_msg", true, ProgType::SkMsg, Some(AttachType::SkMsgVerdict), false),
    ("lirc_mode2", true, ProgType::LircMode2, Some(AttachType::LircMode2), false),
    ("flow_dissector", true, ProgType::FlowDissector, Some(AttachType::FlowDissector), false),
    ("cgroup_skb/ingress", true, ProgType::CgroupSkb, Some(AttachType::CgroupInetIngress), false),
    ("cgroup_skb/egress", true, ProgType::CgroupSkb, Some(AttachType::CgroupInetEgress), false),
    ("cgroup/skb", true, ProgType::CgroupSkb, None, false),
    ("cgroup/sock_create", true, ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), false),
    ("cgroup/sock_release", true, ProgType::CgroupSock, Some(AttachType::CgroupInetSockRelease), false),
    ("cgroup/sock", true, ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), false),
    ("cgroup/post_bind4", true, ProgType::CgroupSock, Some(AttachType::CgroupInet4PostBind), false),
    ("cgroup/post_bind6", true, ProgType::CgroupSock, Some(AttachType::CgroupInet6PostBind), false),
    ("cgroup/bind4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Bind), false),
    ("cgroup/bind6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Bind), false),
    ("cgroup/connect4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Connect), false),
    ("cgroup/connect6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Connect), false),
    ("cgroup/connect_unix", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixConnect), false),
    ("cgroup/sendmsg4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Sendmsg), false),
    ("cgroup/sendmsg6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Sendmsg), false),
    ("cgroup/sendmsg_unix", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixSendmsg), false),
    ("cgroup/recvmsg4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Recvmsg), false),
    ("cgroup/recvmsg6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Recvmsg), false),
    ("cgroup/recvmsg_unix", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixRecvmsg), false),
    ("cgroup/getpeername4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getpeername), false),
    ("cgroup/getpeername6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getpeername), false),
    ("cgroup/getsockname4", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getsockname), false),
    ("cgroup/getsockname6", true, ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getsockname), false),
    ("cgroup/sysctl", true, ProgType::CgroupSysctl, Some(AttachType::CgroupSysctl), false),
    ("cgroup/getsockopt", true, ProgType::CgroupSockopt, Some(AttachType::CgroupGetsockopt), false),
    ("cgroup/setsockopt", true, ProgType::CgroupSockopt, Some(AttachType::CgroupSetsockopt), false),
    ("cgroup/dev", true, ProgType::CgroupDevice, Some(AttachType::CgroupDevice), false),
    ("struct_ops.s/", false, ProgType::StructOps, None, true),
    ("struct_ops/", false, ProgType::StructOps, None, true),
    ("struct_ops", true, ProgType::StructOps, None, false),
    ("sk_lookup", true, ProgType::SkLookup, Some(AttachType::SkLookup), false),
    ("netfilter", true, ProgType::Netfilter, Some(AttachType::Netfilter), false),
];

/// Decode a program section name.
pub fn decode(sec: &str) -> SectionDesc {
    // libbpf: a leading '?' turns autoload off; the rest is decoded as usual.
    let (sec, autoload_off) = match sec.strip_prefix('?') {
        Some(rest) => (rest, true),
        None => (sec, false),
    };
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
        // libbpf's SEC_SLEEPABLE: the `.s` variants, and `syscall` programs.
        let sleepable = prefix.contains(".s/") || prefix.ends_with(".s") || ty == ProgType::Syscall;
        return SectionDesc { prog_type: Some(ty), attach, target, sleepable, autoload_off };
    }
    SectionDesc { prog_type: None, attach: None, target: None, sleepable: false, autoload_off }
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::uapi::{AttachType, ProgType};
    #[test]
    fn conventions() {
        let d = decode("fentry/do_unlinkat");
        assert_eq!((d.prog_type, d.attach, d.target.as_deref()), (Some(ProgType::Tracing), Some(AttachType::TraceFentry), Some("do_unlinkat")));
        assert!(decode("lsm.s/file_open").sleepable);
        assert_eq!(decode("kprobe/tcp_v4_connect+4").target.as_deref(), Some("tcp_v4_connect"));
        assert_eq!(decode("xdp").prog_type, Some(ProgType::Xdp));
        assert_eq!(decode("xdp_prog").prog_type, Some(ProgType::Xdp));
        assert_eq!(decode("cgroup/connect4").attach, Some(AttachType::CgroupInet4Connect));
        assert_eq!(decode("tp_btf/sched_switch").target.as_deref(), Some("sched_switch"));
        assert_eq!(decode("socket").prog_type, Some(ProgType::SocketFilter));
        assert_eq!(decode("mystery").prog_type, None);
        assert!(decode("syscall").sleepable);
        assert!(decode("uprobe.s//bin/sh:main").sleepable && !decode("uprobe//bin/sh:main").sleepable);
        assert_eq!(decode("uprobe.multi.s/x").attach, Some(AttachType::TraceUprobeMulti));
        assert!(decode("uprobe.multi.s/x").sleepable && !decode("usdt/x").sleepable);
        let q = decode("?tc");
        assert_eq!((q.prog_type, q.autoload_off), (Some(ProgType::SchedCls), true));
        assert_eq!(decode("struct_ops/bpf_cubic_init").prog_type, Some(ProgType::StructOps));
        assert_eq!(decode("tracepoint/syscalls/sys_enter_openat").target.as_deref(), Some("syscalls/sys_enter_openat"));
    }
}
