//! libbpf's SEC() naming conventions: section name → program type,
//! expected attach type, attach target and sleepability. Program and attach
//! types are spelled as the kernel's `enum bpf_prog_type` /
//! `enum bpf_attach_type` enumerators so `check` can look them up in a
//! kernel's BTF.
//!
//! The table is `section_defs[]` of libbpf v1.7.0's `libbpf.c` (the loader
//! of the ground truth and of `bpfabi vmtest`), matched as libbpf matches
//! it (`sec_def_matches`: no legacy prefix matching since libbpf 1.0, so
//! `xdp_prog` or `socket/x` follow no convention).

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

/// One `SEC_DEF` of libbpf: (section spec, prog type, expected attach type,
/// `SEC_SLEEPABLE`, an attach target follows the '/'). The spec is
/// libbpf's: `"type/"` needs that prefix, `"type+"` is `type` alone or
/// `type/extras`, anything else matches exactly (libbpf.c `sec_def_matches`).
type Rule = (&'static str, ProgType, Option<AttachType>, bool, bool);

/// libbpf v1.7.0's `section_defs[]` (the loader of the ground truth and of
/// `bpfabi vmtest`), in its order: the first match wins.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    ("socket", ProgType::SocketFilter, None, false, false),
    ("sk_reuseport/migrate", ProgType::SkReuseport, Some(AttachType::SkReuseportSelectOrMigrate), false, false),
    ("sk_reuseport", ProgType::SkReuseport, Some(AttachType::SkReuseportSelect), false, false),
    ("kprobe+", ProgType::Kprobe, None, false, true),
    ("uprobe+", ProgType::Kprobe, None, false, false),
    ("uprobe.s+", ProgType::Kprobe, None, true, false),
    ("kretprobe+", ProgType::Kprobe, None, false, true),
    ("uretprobe+", ProgType::Kprobe, None, false, false),
    ("uretprobe.s+", ProgType::Kprobe, None, true, false),
    ("kprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), false, true),
    ("kretprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceKprobeMulti), false, true),
    ("kprobe.session+", ProgType::Kprobe, Some(AttachType::TraceKprobeSession), false, true),
    ("uprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false, false),
    ("uretprobe.multi+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), false, false),
    ("uprobe.session+", ProgType::Kprobe, Some(AttachType::TraceUprobeSession), false, false),
    ("uprobe.multi.s+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), true, false),
    ("uretprobe.multi.s+", ProgType::Kprobe, Some(AttachType::TraceUprobeMulti), true, false),
    ("uprobe.session.s+", ProgType::Kprobe, Some(AttachType::TraceUprobeSession), true, false),
    ("ksyscall+", ProgType::Kprobe, None, false, false),
    ("kretsyscall+", ProgType::Kprobe, None, false, false),
    ("usdt+", ProgType::Kprobe, None, false, false),
    ("usdt.s+", ProgType::Kprobe, None, true, false),
    ("tc/ingress", ProgType::SchedCls, Some(AttachType::TcxIngress), false, false),
    ("tc/egress", ProgType::SchedCls, Some(AttachType::TcxEgress), false, false),
    ("tcx/ingress", ProgType::SchedCls, Some(AttachType::TcxIngress), false, false),
    ("tcx/egress", ProgType::SchedCls, Some(AttachType::TcxEgress), false, false),
    ("tc", ProgType::SchedCls, None, false, false),
    ("classifier", ProgType::SchedCls, None, false, false),
    ("action", ProgType::SchedAct, None, false, false),
    ("netkit/primary", ProgType::SchedCls, Some(AttachType::NetkitPrimary), false, false),
    ("netkit/peer", ProgType::SchedCls, Some(AttachType::NetkitPeer), false, false),
    ("tracepoint+", ProgType::Tracepoint, None, false, true),
    ("tp+", ProgType::Tracepoint, None, false, true),
    ("raw_tracepoint+", ProgType::RawTracepoint, None, false, true),
    ("raw_tp+", ProgType::RawTracepoint, None, false, true),
    ("raw_tracepoint.w+", ProgType::RawTracepointWritable, None, false, true),
    ("raw_tp.w+", ProgType::RawTracepointWritable, None, false, true),
    ("tp_btf+", ProgType::Tracing, Some(AttachType::TraceRawTp), false, true),
    ("fentry+", ProgType::Tracing, Some(AttachType::TraceFentry), false, true),
    ("fmod_ret+", ProgType::Tracing, Some(AttachType::ModifyReturn), false, true),
    ("fexit+", ProgType::Tracing, Some(AttachType::TraceFexit), false, true),
    ("fentry.s+", ProgType::Tracing, Some(AttachType::TraceFentry), true, true),
    ("fmod_ret.s+", ProgType::Tracing, Some(AttachType::ModifyReturn), true, true),
    ("fexit.s+", ProgType::Tracing, Some(AttachType::TraceFexit), true, true),
    ("fsession+", ProgType::Tracing, Some(AttachType::TraceFsession), false, true),
    ("fsession.s+", ProgType::Tracing, Some(AttachType::TraceFsession), true, true),
    ("freplace+", ProgType::Ext, None, false, true),
    ("lsm+", ProgType::Lsm, Some(AttachType::LsmMac), false, true),
    ("lsm.s+", ProgType::Lsm, Some(AttachType::LsmMac), true, true),
    ("lsm_cgroup+", ProgType::Lsm, Some(AttachType::LsmCgroup), false, true),
    ("iter+", ProgType::Tracing, Some(AttachType::TraceIter), false, true),
    ("iter.s+", ProgType::Tracing, Some(AttachType::TraceIter), true, true),
    ("syscall", ProgType::Syscall, None, true, false),
    ("xdp.frags/devmap", ProgType::Xdp, Some(AttachType::XdpDevmap), false, false),
    ("xdp/devmap", ProgType::Xdp, Some(AttachType::XdpDevmap), false, false),
    ("xdp.frags/cpumap", ProgType::Xdp, Some(AttachType::XdpCpumap), false, false),
    ("xdp/cpumap", ProgType::Xdp, Some(AttachType::XdpCpumap), false, false),
    ("xdp.frags", ProgType::Xdp, Some(AttachType::Xdp), false, false),
    ("xdp", ProgType::Xdp, Some(AttachType::Xdp), false, false),
    ("perf_event", ProgType::PerfEvent, None, false, false),
    ("lwt_in", ProgType::LwtIn, None, false, false),
    ("lwt_out", ProgType::LwtOut, None, false, false),
    ("lwt_xmit", ProgType::LwtXmit, None, false, false),
    ("lwt_seg6local", ProgType::LwtSeg6local, None, false, false),
    ("sockops", ProgType::SockOps, Some(AttachType::CgroupSockOps), false, false),
    ("sk_skb/stream_parser", ProgType::SkSkb, Some(AttachType::SkSkbStreamParser), false, false),
    ("sk_skb/stream_verdict", ProgType::SkSkb, Some(AttachType::SkSkbStreamVerdict), false, false),
    ("sk_skb/verdict", ProgType::SkSkb, Some(AttachType::SkSkbVerdict), false, false),
    ("sk_skb", ProgType::SkSkb, None, false, false),
    ("sk_msg", ProgType::SkMsg, Some(AttachType::SkMsgVerdict), false, false),
    ("lirc_mode2", ProgType::LircMode2, Some(AttachType::LircMode2), false, false),
    ("flow_dissector", ProgType::FlowDissector, Some(AttachType::FlowDissector), false, false),
    ("cgroup_skb/ingress", ProgType::CgroupSkb, Some(AttachType::CgroupInetIngress), false, false),
    ("cgroup_skb/egress", ProgType::CgroupSkb, Some(AttachType::CgroupInetEgress), false, false),
    ("cgroup/skb", ProgType::CgroupSkb, None, false, false),
    ("cgroup/sock_create", ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), false, false),
    ("cgroup/sock_release", ProgType::CgroupSock, Some(AttachType::CgroupInetSockRelease), false, false),
    ("cgroup/sock", ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate), false, false),
    ("cgroup/post_bind4", ProgType::CgroupSock, Some(AttachType::CgroupInet4PostBind), false, false),
    ("cgroup/post_bind6", ProgType::CgroupSock, Some(AttachType::CgroupInet6PostBind), false, false),
    ("cgroup/bind4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Bind), false, false),
    ("cgroup/bind6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Bind), false, false),
    ("cgroup/connect4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Connect), false, false),
    ("cgroup/connect6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Connect), false, false),
    ("cgroup/connect_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixConnect), false, false),
    ("cgroup/sendmsg4", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Sendmsg), false, false),
    ("cgroup/sendmsg6", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Sendmsg), false, false),
    ("cgroup/sendmsg_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixSendmsg), false, false),
    ("cgroup/recvmsg4", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp4Recvmsg), false, false),
    ("cgroup/recvmsg6", ProgType::CgroupSockAddr, Some(AttachType::CgroupUdp6Recvmsg), false, false),
    ("cgroup/recvmsg_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixRecvmsg), false, false),
    ("cgroup/getpeername4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getpeername), false, false),
    ("cgroup/getpeername6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getpeername), false, false),
    ("cgroup/getpeername_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixGetpeername), false, false),
    ("cgroup/getsockname4", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet4Getsockname), false, false),
    ("cgroup/getsockname6", ProgType::CgroupSockAddr, Some(AttachType::CgroupInet6Getsockname), false, false),
    ("cgroup/getsockname_unix", ProgType::CgroupSockAddr, Some(AttachType::CgroupUnixGetsockname), false, false),
    ("cgroup/sysctl", ProgType::CgroupSysctl, Some(AttachType::CgroupSysctl), false, false),
    ("cgroup/getsockopt", ProgType::CgroupSockopt, Some(AttachType::CgroupGetsockopt), false, false),
    ("cgroup/setsockopt", ProgType::CgroupSockopt, Some(AttachType::CgroupSetsockopt), false, false),
    ("cgroup/dev", ProgType::CgroupDevice, Some(AttachType::CgroupDevice), false, false),
    ("struct_ops+", ProgType::StructOps, None, false, true),
    ("struct_ops.s+", ProgType::StructOps, None, true, true),
    ("sk_lookup", ProgType::SkLookup, Some(AttachType::SkLookup), false, false),
    ("netfilter", ProgType::Netfilter, Some(AttachType::Netfilter), false, false),
];

/// libbpf.c `sec_def_matches`.
fn spec_matches(spec: &str, sec: &str) -> Option<usize> {
    if spec.ends_with('/') {
        return sec.starts_with(spec).then_some(spec.len());
    }
    if let Some(base) = spec.strip_suffix('+') {
        let rest = sec.strip_prefix(base)?;
        return (rest.is_empty() || rest.starts_with('/')).then_some(base.len());
    }
    (sec == spec).then_some(spec.len())
}

/// Does `sec` match the libbpf section spec `spec` (`sec_def_matches`)?
pub fn decode_one(spec: &str, sec: &str) -> bool {
    spec_matches(spec, sec).is_some()
}

/// Decode a program section name.
pub fn decode(sec: &str) -> SectionDesc {
    // libbpf: a leading '?' turns autoload off; the rest is decoded as usual.
    let (sec, autoload_off) = match sec.strip_prefix('?') {
        Some(rest) => (rest, true),
        None => (sec, false),
    };
    for &(spec, ty, attach, sleepable, has_target) in RULES {
        let Some(base) = spec_matches(spec, sec) else { continue };
        let target = if has_target {
            let rest = &sec[base..];
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            // kprobe/func+offset: the function is what must exist.
            let t = rest.split('+').next().unwrap_or("");
            (!t.is_empty()).then(|| t.to_string())
        } else {
            None
        };
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
        // libbpf >= 1.0 matches exactly (`sec_def_matches`): the ground
        // truth's libbpf 1.7 refuses these with "missing BPF prog type".
        for sec in ["xdp_prog", "xdp_drop_vlan_4011", "tc_vlan_push", "socket/tail", "socket_filter/x", "sk_skb1", "sk_msg1", "kprobex", "tracepoint_x"] {
            assert_eq!(decode(sec).prog_type, None, "{sec}");
        }
        assert_eq!(decode("sk_skb").prog_type, Some(ProgType::SkSkb));
        assert_eq!(decode("tc/ingress").attach, Some(AttachType::TcxIngress));
        assert_eq!(decode("kprobe").prog_type, Some(ProgType::Kprobe));
        assert_eq!(decode("kprobe").target, None);
        assert_eq!(decode("tp/sched/sched_switch").target.as_deref(), Some("sched/sched_switch"));
        assert_eq!(decode("fsession/x").attach, Some(AttachType::TraceFsession));
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
