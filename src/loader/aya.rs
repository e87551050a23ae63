//! aya's reading of section names (Rust, `aya::EbpfLoader::load` through
//! aya-obj's `Object::parse`).
//!
//! aya-obj `obj.rs` (aya-v0.14.0, aya-obj 0.3; the same grammar in
//! aya-v0.13.1, aya-obj 0.2): an executable section whose name is not
//! `license*`, `version*`, `maps*`, `.maps*`, `.text*`, `.bss*`, `.data*`,
//! `.rodata*`, `.BTF` or `.BTF.ext` is a program section
//! (`Section::try_from`), and `ProgramSection::from_str` splits its name on
//! `/` and wants the first piece to be one of a fixed list, exactly (no
//! prefixes, no `?`). Anything else is `ParseError::InvalidProgramSection`,
//! which fails `Object::parse`: aya then loads none of the object's
//! programs. There is no struct_ops, `tc`, `tcx`, `netkit`, `kprobe.multi`,
//! `fmod_ret`, `syscall`, `netfilter` or `lwt_*` section kind.

use crate::object::sections::SectionDesc;
use crate::uapi::{AttachType, ProgType};

/// Decode a section name as aya-obj `ProgramSection::from_str` does;
/// `None` when it refuses the name (and so the whole object).
pub fn decode(sec: &str) -> Option<SectionDesc> {
    use AttachType as A;
    use ProgType as P;
    let mut pieces = sec.split('/');
    let kind = pieces.next().unwrap_or("");
    let second = pieces.next();
    let d = |prog: ProgType, attach: Option<AttachType>, sleepable: bool| {
        Some(SectionDesc { prog_type: Some(prog), attach, target: None, sleepable, autoload_off: false })
    };
    // Tracing kinds: aya takes the attach target from user space
    // (`FEntry::load(fn_name, &btf)`); the name after `/` is only a label,
    // which by convention is the target.
    let traced = |prog: ProgType, attach: Option<AttachType>, sleepable: bool| {
        Some(SectionDesc { prog_type: Some(prog), attach, target: second.filter(|t| !t.is_empty()).map(str::to_string), sleepable, autoload_off: false })
    };
    match kind {
        "kprobe" | "kretprobe" => traced(P::Kprobe, None, false),
        "uprobe" | "uretprobe" => d(P::Kprobe, None, false),
        "uprobe.s" | "uretprobe.s" => d(P::Kprobe, None, true),
        "xdp" | "xdp.frags" => match second {
            None => d(P::Xdp, Some(A::Xdp), false),
            Some("cpumap") => d(P::Xdp, Some(A::XdpCpumap), false),
            Some("devmap") => d(P::Xdp, Some(A::XdpDevmap), false),
            Some(_) => None,
        },
        "tp_btf" => traced(P::Tracing, Some(A::TraceRawTp), false),
        "tracepoint" | "tp" => d(P::Tracepoint, None, false),
        "socket" => d(P::SocketFilter, None, false),
        "sk_msg" => d(P::SkMsg, Some(A::SkMsgVerdict), false),
        "sk_skb" => match second {
            Some("stream_parser") => d(P::SkSkb, Some(A::SkSkbStreamParser), false),
            Some("stream_verdict") => d(P::SkSkb, Some(A::SkSkbStreamVerdict), false),
            _ => None,
        },
        "sockops" => d(P::SockOps, Some(A::CgroupSockOps), false),
        "classifier" => d(P::SchedCls, None, false),
        "cgroup_skb" => match second {
            Some("ingress") => d(P::CgroupSkb, Some(A::CgroupInetIngress), false),
            Some("egress") => d(P::CgroupSkb, Some(A::CgroupInetEgress), false),
            _ => None,
        },
        "cgroup" => match second? {
            "skb" => d(P::CgroupSkb, None, false),
            "sysctl" => d(P::CgroupSysctl, Some(A::CgroupSysctl), false),
            "dev" => d(P::CgroupDevice, Some(A::CgroupDevice), false),
            "getsockopt" => d(P::CgroupSockopt, Some(A::CgroupGetsockopt), false),
            "setsockopt" => d(P::CgroupSockopt, Some(A::CgroupSetsockopt), false),
            "sock" | "sock_create" => d(P::CgroupSock, Some(A::CgroupInetSockCreate), false),
            "post_bind4" => d(P::CgroupSock, Some(A::CgroupInet4PostBind), false),
            "post_bind6" => d(P::CgroupSock, Some(A::CgroupInet6PostBind), false),
            "sock_release" => d(P::CgroupSock, Some(A::CgroupInetSockRelease), false),
            "bind4" => d(P::CgroupSockAddr, Some(A::CgroupInet4Bind), false),
            "bind6" => d(P::CgroupSockAddr, Some(A::CgroupInet6Bind), false),
            "connect4" => d(P::CgroupSockAddr, Some(A::CgroupInet4Connect), false),
            "connect6" => d(P::CgroupSockAddr, Some(A::CgroupInet6Connect), false),
            "getpeername4" => d(P::CgroupSockAddr, Some(A::CgroupInet4Getpeername), false),
            "getpeername6" => d(P::CgroupSockAddr, Some(A::CgroupInet6Getpeername), false),
            "getsockname4" => d(P::CgroupSockAddr, Some(A::CgroupInet4Getsockname), false),
            "getsockname6" => d(P::CgroupSockAddr, Some(A::CgroupInet6Getsockname), false),
            "sendmsg4" => d(P::CgroupSockAddr, Some(A::CgroupUdp4Sendmsg), false),
            "sendmsg6" => d(P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), false),
            "recvmsg4" => d(P::CgroupSockAddr, Some(A::CgroupUdp4Recvmsg), false),
            "recvmsg6" => d(P::CgroupSockAddr, Some(A::CgroupUdp6Recvmsg), false),
            _ => None,
        },
        "lirc_mode2" => d(P::LircMode2, Some(A::LircMode2), false),
        "perf_event" => d(P::PerfEvent, None, false),
        "raw_tp" | "raw_tracepoint" => d(P::RawTracepoint, None, false),
        "lsm" => traced(P::Lsm, Some(A::LsmMac), false),
        "lsm.s" => traced(P::Lsm, Some(A::LsmMac), true),
        "lsm_cgroup" => traced(P::Lsm, Some(A::LsmCgroup), false),
        "fentry" => traced(P::Tracing, Some(A::TraceFentry), false),
        "fentry.s" => traced(P::Tracing, Some(A::TraceFentry), true),
        "fexit" => traced(P::Tracing, Some(A::TraceFexit), false),
        "fexit.s" => traced(P::Tracing, Some(A::TraceFexit), true),
        "flow_dissector" => d(P::FlowDissector, Some(A::FlowDissector), false),
        "freplace" => traced(P::Ext, None, false),
        "sk_lookup" => d(P::SkLookup, Some(A::SkLookup), false),
        "sk_reuseport" => match second {
            None => d(P::SkReuseport, Some(A::SkReuseportSelect), false),
            Some("migrate") => d(P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), false),
            Some(_) => None,
        },
        "iter" => traced(P::Tracing, Some(A::TraceIter), false),
        "iter.s" => traced(P::Tracing, Some(A::TraceIter), true),
        _ => None,
    }
}

/// aya-obj `EbpfSectionKind::from_name`: sections aya never reads as
/// programs, whatever their flags.
pub fn is_special_section(name: &str) -> bool {
    ["license", "version", "maps", ".maps", ".text", ".bss", ".data", ".rodata"].iter().any(|p| name.starts_with(p)) || name == ".BTF" || name == ".BTF.ext"
}

/// The map types aya wraps (aya/src/bpf.rs `parse_map`): any other type
/// fails `EbpfLoader::load` ("type of ... is unsupported; see
/// `EbpfLoader::allow_unsupported_maps`") unless user space opts in.
/// aya-v0.13.1: hash, array, prog array, perf event array, per-CPU
/// hash/array, stack trace, LRU hashes, LPM trie, devmap, sockmap, cpumap,
/// xskmap, sockhash, queue, stack, devmap hash, ring buffer, bloom filter;
/// aya-v0.14.0 adds cgroup array, map-in-maps, the cgroup storages,
/// reuseport sockarray and the sk, inode and cgrp storages.
pub fn supports_map_type(minor: u16, map_type: u32) -> bool {
    const V13: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 16, 17, 18, 22, 23, 25, 27, 30];
    const V14: &[u32] = &[8, 12, 13, 19, 20, 21, 24, 28, 32];
    V13.contains(&map_type) || (minor >= 14 && V14.contains(&map_type))
}

/// `BPF_MAP_TYPE_STACK_TRACE`.
pub const STACK_TRACE: u32 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    /// aya-v0.14.0 bpf.rs `parse_map`: the real aya 0.14 on 6.18 says "type
    /// of task_storage_map (BPF_MAP_TYPE_TASK_STORAGE) is unsupported" and
    /// the same of a user ring buffer (selftests' local_storage,
    /// user_ringbuf_success).
    #[test]
    fn map_types_aya_wraps() {
        assert!(!supports_map_type(14, 29) && !supports_map_type(14, 31));
        assert!(supports_map_type(14, 28) && !supports_map_type(13, 28));
        assert!(supports_map_type(13, 27) && supports_map_type(13, STACK_TRACE));
    }

    #[test]
    fn exact_first_piece() {
        assert_eq!(decode("xdp").and_then(|d| d.prog_type), Some(ProgType::Xdp));
        assert_eq!(decode("xdp/prog_name"), None, "xdp/<anything but cpumap|devmap> is refused");
        assert_eq!(decode("classifier/tc_egress").and_then(|d| d.prog_type), Some(ProgType::SchedCls));
        assert_eq!(decode("kprobe/sys_open").and_then(|d| d.target), Some("sys_open".into()));
        for sec in ["tc", "tc_ingress", "socket1", "xdp_prog", "struct_ops/x", "sk_skb", "?xdp", "fmod_ret/x", "kprobe.multi/x", "syscall"] {
            assert_eq!(decode(sec), None, "{sec}");
        }
        assert_eq!(decode("socket/anything").and_then(|d| d.prog_type), Some(ProgType::SocketFilter));
    }
}
