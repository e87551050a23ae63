//! cilium/ebpf's reading of section names (Go, `ebpf.LoadCollectionSpec`).
//!
//! Two generations, both in `elf_reader.go` `getProgType`:
//! - up to v0.12 (Debian bookworm ships 0.9.1, trixie 0.11.0): its own
//!   table of prefixes, matched with `strings.HasPrefix` in order; a prefix
//!   ending in `/` yields what follows as the attach target
//!   ([`LEGACY`], transcribed from v0.11.0; rows newer than 0.9 carry the
//!   minor version that added them, checked against v0.9.1 and v0.10.0);
//! - from v0.13 (sid ships 0.22.0): `elfSectionDefs` in `elf_sections.go`,
//!   generated from libbpf's `section_defs` (v0.22.0's table is libbpf
//!   v1.7.0's, [`crate::object::sections::RULES`]), matched by
//!   `matchSectionName`: a pattern ending in `/` needs `type/…`, one ending
//!   in `+` needs `type` or `type/…`, and any other pattern is a *prefix*
//!   (`tc_ingress`, `socket1`, `xdp_prog` match `tc`, `socket`, `xdp`),
//!   where libbpf ≥ 1.0 wants it exact.
//!
//! A name matching nothing gives `UnspecifiedProgram`: the program is in the
//! spec but `NewCollection` skips it and `LoadProgram` refuses it
//! ("program type is unspecified", collection.go, v0.22.0).

use crate::object::sections::{SectionDesc, RULES};
use crate::uapi::{AttachType, ProgType};

/// One row of cilium/ebpf ≤ 0.12's `getProgType` table: (prefix, program
/// type, attach type, `BPF_F_SLEEPABLE`, first minor version with it).
type LegacyRow = (&'static str, ProgType, Option<AttachType>, bool, u16);

/// cilium/ebpf v0.11.0 `elf_reader.go` `getProgType`, in its order (the
/// first prefix that matches wins).
#[rustfmt::skip]
const LEGACY: &[LegacyRow] = {
    use AttachType as A;
    use ProgType as P;
    &[
    ("socket", P::SocketFilter, None, false, 9),
    ("sk_reuseport/migrate", P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), false, 9),
    ("sk_reuseport", P::SkReuseport, Some(A::SkReuseportSelect), false, 9),
    ("kprobe/", P::Kprobe, None, false, 9),
    ("uprobe/", P::Kprobe, None, false, 9),
    ("kretprobe/", P::Kprobe, None, false, 9),
    ("uretprobe/", P::Kprobe, None, false, 9),
    ("tc", P::SchedCls, None, false, 9),
    ("classifier", P::SchedCls, None, false, 9),
    ("action", P::SchedAct, None, false, 9),
    ("tracepoint/", P::Tracepoint, None, false, 9),
    ("tp/", P::Tracepoint, None, false, 9),
    ("raw_tracepoint/", P::RawTracepoint, None, false, 9),
    ("raw_tp/", P::RawTracepoint, None, false, 9),
    ("raw_tracepoint.w/", P::RawTracepointWritable, None, false, 9),
    ("raw_tp.w/", P::RawTracepointWritable, None, false, 9),
    ("tp_btf/", P::Tracing, Some(A::TraceRawTp), false, 9),
    ("fentry/", P::Tracing, Some(A::TraceFentry), false, 9),
    ("fmod_ret/", P::Tracing, Some(A::ModifyReturn), false, 9),
    ("fexit/", P::Tracing, Some(A::TraceFexit), false, 9),
    ("fentry.s/", P::Tracing, Some(A::TraceFentry), true, 9),
    ("fmod_ret.s/", P::Tracing, Some(A::ModifyReturn), true, 9),
    ("fexit.s/", P::Tracing, Some(A::TraceFexit), true, 9),
    ("freplace/", P::Ext, None, false, 9),
    ("lsm/", P::Lsm, Some(A::LsmMac), false, 9),
    ("lsm.s/", P::Lsm, Some(A::LsmMac), true, 9),
    ("iter/", P::Tracing, Some(A::TraceIter), false, 9),
    ("iter.s/", P::Tracing, Some(A::TraceIter), true, 10),
    ("syscall", P::Syscall, None, false, 9),
    ("xdp.frags_devmap/", P::Xdp, Some(A::XdpDevmap), false, 11),
    ("xdp_devmap/", P::Xdp, Some(A::XdpDevmap), false, 9),
    ("xdp.frags_cpumap/", P::Xdp, Some(A::XdpCpumap), false, 11),
    ("xdp_cpumap/", P::Xdp, Some(A::XdpCpumap), false, 9),
    ("xdp.frags", P::Xdp, None, false, 11),
    ("xdp", P::Xdp, None, false, 9),
    ("perf_event", P::PerfEvent, None, false, 9),
    ("lwt_in", P::LwtIn, None, false, 9),
    ("lwt_out", P::LwtOut, None, false, 9),
    ("lwt_xmit", P::LwtXmit, None, false, 9),
    ("lwt_seg6local", P::LwtSeg6local, None, false, 9),
    ("cgroup_skb/ingress", P::CgroupSkb, Some(A::CgroupInetIngress), false, 9),
    ("cgroup_skb/egress", P::CgroupSkb, Some(A::CgroupInetEgress), false, 9),
    ("cgroup/skb", P::CgroupSkb, None, false, 9),
    ("cgroup/sock_create", P::CgroupSock, Some(A::CgroupInetSockCreate), false, 9),
    ("cgroup/sock_release", P::CgroupSock, Some(A::CgroupInetSockRelease), false, 9),
    ("cgroup/sock", P::CgroupSock, Some(A::CgroupInetSockCreate), false, 9),
    ("cgroup/post_bind4", P::CgroupSock, Some(A::CgroupInet4PostBind), false, 9),
    ("cgroup/post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), false, 9),
    ("cgroup/dev", P::CgroupDevice, Some(A::CgroupDevice), false, 9),
    ("sockops", P::SockOps, Some(A::CgroupSockOps), false, 9),
    ("sk_skb/stream_parser", P::SkSkb, Some(A::SkSkbStreamParser), false, 9),
    ("sk_skb/stream_verdict", P::SkSkb, Some(A::SkSkbStreamVerdict), false, 9),
    ("sk_skb", P::SkSkb, None, false, 9),
    ("sk_msg", P::SkMsg, Some(A::SkMsgVerdict), false, 9),
    ("lirc_mode2", P::LircMode2, Some(A::LircMode2), false, 9),
    ("flow_dissector", P::FlowDissector, Some(A::FlowDissector), false, 9),
    ("cgroup/bind4", P::CgroupSockAddr, Some(A::CgroupInet4Bind), false, 9),
    ("cgroup/bind6", P::CgroupSockAddr, Some(A::CgroupInet6Bind), false, 9),
    ("cgroup/connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), false, 9),
    ("cgroup/connect6", P::CgroupSockAddr, Some(A::CgroupInet6Connect), false, 9),
    ("cgroup/sendmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Sendmsg), false, 9),
    ("cgroup/sendmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), false, 9),
    ("cgroup/recvmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Recvmsg), false, 9),
    ("cgroup/recvmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Recvmsg), false, 9),
    ("cgroup/getpeername4", P::CgroupSockAddr, Some(A::CgroupInet4Getpeername), false, 9),
    ("cgroup/getpeername6", P::CgroupSockAddr, Some(A::CgroupInet6Getpeername), false, 9),
    ("cgroup/getsockname4", P::CgroupSockAddr, Some(A::CgroupInet4Getsockname), false, 9),
    ("cgroup/getsockname6", P::CgroupSockAddr, Some(A::CgroupInet6Getsockname), false, 9),
    ("cgroup/sysctl", P::CgroupSysctl, Some(A::CgroupSysctl), false, 9),
    ("cgroup/getsockopt", P::CgroupSockopt, Some(A::CgroupGetsockopt), false, 9),
    ("cgroup/setsockopt", P::CgroupSockopt, Some(A::CgroupSetsockopt), false, 9),
    ("struct_ops+", P::StructOps, None, false, 9),
    ("sk_lookup/", P::SkLookup, Some(A::SkLookup), false, 9),
    ("seccomp", P::SocketFilter, None, false, 9),
    ("kprobe.multi", P::Kprobe, Some(A::TraceKprobeMulti), false, 10),
    ("kretprobe.multi", P::Kprobe, Some(A::TraceKprobeMulti), false, 10),
    ]
};

/// `matchSectionName` (elf_reader.go, v0.13.0 to v0.22.0): `Some(extra)`
/// when `sec` matches `pattern`, `extra` being what follows the first `/`.
fn match_section_name<'a>(sec: &'a str, pattern: &str) -> Option<&'a str> {
    let (have, extra) = match sec.split_once('/') {
        Some((h, e)) => (h, Some(e)),
        None => (sec, None),
    };
    let want = pattern.trim_end_matches(['+', '/']);
    if pattern.ends_with('/') {
        return extra.filter(|_| have == want);
    }
    if pattern.ends_with('+') {
        return (have == want).then_some(extra.unwrap_or(""));
    }
    sec.starts_with(pattern).then_some("")
}

/// Decode a section name as cilium/ebpf `minor` (0.`minor`) does.
pub fn decode(sec: &str, minor: u16) -> SectionDesc {
    // getProgType (v0.13 on): "Skip optional program marking for now": the
    // `?` is dropped and the program loads like any other.
    let autoload_off = false;
    let sec = match sec.strip_prefix('?') {
        Some(rest) if minor >= 13 => rest,
        _ => sec,
    };
    let unknown = SectionDesc { prog_type: None, attach: None, target: None, sleepable: false, autoload_off };
    if minor < 13 {
        for &(prefix, ty, attach, sleepable, since) in LEGACY {
            if since > minor || !sec.starts_with(prefix) {
                continue;
            }
            let target = prefix.ends_with('/').then(|| sec[prefix.len()..].to_string()).filter(|t| !t.is_empty());
            return SectionDesc { prog_type: Some(ty), attach, target, sleepable, autoload_off };
        }
        return unknown;
    }
    for &(spec, ty, attach, sleepable, has_target) in RULES {
        let Some(extra) = match_section_name(sec, spec) else { continue };
        // struct_ops: "Ignore any extra for struct_ops to match libbpf".
        let target = (has_target && ty != ProgType::StructOps).then(|| extra.split('+').next().unwrap_or("").to_string()).filter(|t| !t.is_empty());
        return SectionDesc { prog_type: Some(ty), attach, target, sleepable, autoload_off };
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::uapi::{AttachType, ProgType};

    #[test]
    fn prefixes_since_0_13() {
        // A pattern without `+` or `/` is a prefix (matchSectionName).
        for (sec, ty) in [
            ("tc_ingress", ProgType::SchedCls),
            ("classifier/tc_egress", ProgType::SchedCls),
            ("socket1", ProgType::SocketFilter),
            ("socket/http_filter", ProgType::SocketFilter),
            ("xdp_prog", ProgType::Xdp),
            ("sk_skb1", ProgType::SkSkb),
            ("kprobe", ProgType::Kprobe),
            ("kprobe/sys_open", ProgType::Kprobe),
        ] {
            assert_eq!(decode(sec, 22).prog_type, Some(ty), "{sec}");
        }
        // `type+` wants `type` or `type/...`: no prefix.
        for sec in ["kprobex", "tracepoint_x", "fentryfoo", "lsmx"] {
            assert_eq!(decode(sec, 22).prog_type, None, "{sec}");
        }
        assert_eq!(decode("fentry/do_unlinkat", 22).target.as_deref(), Some("do_unlinkat"));
        assert_eq!(decode("tcx/ingress", 22).attach, Some(AttachType::TcxIngress));
        assert_eq!(decode("struct_ops/foo", 22).target, None);
    }

    #[test]
    fn prefixes_before_0_13() {
        // v0.11.0: "kprobe/" needs the slash; "struct_ops+" is a literal prefix.
        assert_eq!(decode("kprobe", 11).prog_type, None);
        assert_eq!(decode("kprobe/sys_open", 11).target.as_deref(), Some("sys_open"));
        assert_eq!(decode("struct_ops/x", 11).prog_type, None);
        assert_eq!(decode("tc_ingress", 11).prog_type, Some(ProgType::SchedCls));
        assert_eq!(decode("seccomp", 11).prog_type, Some(ProgType::SocketFilter));
        // xdp.frags arrived in 0.11, kprobe.multi in 0.10.
        assert_eq!(decode("kprobe.multi/x", 9).prog_type, None);
        assert_eq!(decode("kprobe.multi/x", 10).attach, Some(AttachType::TraceKprobeMulti));
        assert_eq!(decode("xdp.frags_devmap/x", 10).attach, None);
        assert_eq!(decode("xdp.frags_devmap/x", 11).attach, Some(AttachType::XdpDevmap));
        assert!(!decode("?xdp", 11).autoload_off);
    }
}
