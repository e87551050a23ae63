//! The kernel's BPF UAPI enumerations as typed values: program types
//! (`enum bpf_prog_type`) and attach types (`enum bpf_attach_type`), with the
//! kernel's own spelling (`BPF_PROG_TYPE_KPROBE`) and numbering.
//!
//! Source: `include/uapi/linux/bpf.h` of Linux 6.18, plus `BPF_TRACE_FSESSION`
//! (58, in 7.x and in libbpf v1.7.0's header) (the numbering is UAPI
//! and never changes; new values are appended). A value this table does not
//! know is kept as `Unknown(n)`. `tests/uapi.rs` compares the tables with the
//! enums in real kernels' BTF, and a kernel's own enums (read from its BTF by
//! `model::KernelModel`) decide what a given kernel supports.

use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! kernel_enum {
    ($(#[$m:meta])* $name:ident, $prefix:literal, [$($var:ident = $val:literal, $spelled:literal;)*]) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $prefix, $spelled, "` = ", stringify!($val))]
                $var,
            )*
            /// A value this table does not name.
            Unknown(u32),
        }

        impl $name {
            /// Every named value, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];
            /// The enumerator prefix (`BPF_PROG_TYPE_`).
            pub const PREFIX: &'static str = $prefix;

            /// The UAPI value.
            pub fn value(self) -> u32 {
                match self {
                    $($name::$var => $val,)*
                    $name::Unknown(v) => v,
                }
            }
            /// From a UAPI value.
            pub fn from_value(v: u32) -> Self {
                match v {
                    $($val => $name::$var,)*
                    v => $name::Unknown(v),
                }
            }
            /// The enumerator name as the kernel spells it; `None` for
            /// values this table does not know.
            pub fn kernel_name(self) -> Option<&'static str> {
                match self {
                    $($name::$var => Some(concat!($prefix, $spelled)),)*
                    $name::Unknown(_) => None,
                }
            }
            /// From the kernel's enumerator name (`BPF_PROG_TYPE_XDP`).
            pub fn from_kernel_name(s: &str) -> Option<Self> {
                let short = s.strip_prefix($prefix)?;
                match short {
                    $($spelled => Some($name::$var),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.kernel_name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}{}", $prefix, self.value()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

kernel_enum!(
    /// `enum bpf_prog_type`.
    ProgType, "BPF_PROG_TYPE_", [
    Unspec = 0, "UNSPEC";
    SocketFilter = 1, "SOCKET_FILTER";
    Kprobe = 2, "KPROBE";
    SchedCls = 3, "SCHED_CLS";
    SchedAct = 4, "SCHED_ACT";
    Tracepoint = 5, "TRACEPOINT";
    Xdp = 6, "XDP";
    PerfEvent = 7, "PERF_EVENT";
    CgroupSkb = 8, "CGROUP_SKB";
    CgroupSock = 9, "CGROUP_SOCK";
    LwtIn = 10, "LWT_IN";
    LwtOut = 11, "LWT_OUT";
    LwtXmit = 12, "LWT_XMIT";
    SockOps = 13, "SOCK_OPS";
    SkSkb = 14, "SK_SKB";
    CgroupDevice = 15, "CGROUP_DEVICE";
    SkMsg = 16, "SK_MSG";
    RawTracepoint = 17, "RAW_TRACEPOINT";
    CgroupSockAddr = 18, "CGROUP_SOCK_ADDR";
    LwtSeg6local = 19, "LWT_SEG6LOCAL";
    LircMode2 = 20, "LIRC_MODE2";
    SkReuseport = 21, "SK_REUSEPORT";
    FlowDissector = 22, "FLOW_DISSECTOR";
    CgroupSysctl = 23, "CGROUP_SYSCTL";
    RawTracepointWritable = 24, "RAW_TRACEPOINT_WRITABLE";
    CgroupSockopt = 25, "CGROUP_SOCKOPT";
    Tracing = 26, "TRACING";
    StructOps = 27, "STRUCT_OPS";
    Ext = 28, "EXT";
    Lsm = 29, "LSM";
    SkLookup = 30, "SK_LOOKUP";
    Syscall = 31, "SYSCALL";
    Netfilter = 32, "NETFILTER";
]);

kernel_enum!(
    /// `enum bpf_attach_type`.
    AttachType, "BPF_", [
    CgroupInetIngress = 0, "CGROUP_INET_INGRESS";
    CgroupInetEgress = 1, "CGROUP_INET_EGRESS";
    CgroupInetSockCreate = 2, "CGROUP_INET_SOCK_CREATE";
    CgroupSockOps = 3, "CGROUP_SOCK_OPS";
    SkSkbStreamParser = 4, "SK_SKB_STREAM_PARSER";
    SkSkbStreamVerdict = 5, "SK_SKB_STREAM_VERDICT";
    CgroupDevice = 6, "CGROUP_DEVICE";
    SkMsgVerdict = 7, "SK_MSG_VERDICT";
    CgroupInet4Bind = 8, "CGROUP_INET4_BIND";
    CgroupInet6Bind = 9, "CGROUP_INET6_BIND";
    CgroupInet4Connect = 10, "CGROUP_INET4_CONNECT";
    CgroupInet6Connect = 11, "CGROUP_INET6_CONNECT";
    CgroupInet4PostBind = 12, "CGROUP_INET4_POST_BIND";
    CgroupInet6PostBind = 13, "CGROUP_INET6_POST_BIND";
    CgroupUdp4Sendmsg = 14, "CGROUP_UDP4_SENDMSG";
    CgroupUdp6Sendmsg = 15, "CGROUP_UDP6_SENDMSG";
    LircMode2 = 16, "LIRC_MODE2";
    FlowDissector = 17, "FLOW_DISSECTOR";
    CgroupSysctl = 18, "CGROUP_SYSCTL";
    CgroupUdp4Recvmsg = 19, "CGROUP_UDP4_RECVMSG";
    CgroupUdp6Recvmsg = 20, "CGROUP_UDP6_RECVMSG";
    CgroupGetsockopt = 21, "CGROUP_GETSOCKOPT";
    CgroupSetsockopt = 22, "CGROUP_SETSOCKOPT";
    TraceRawTp = 23, "TRACE_RAW_TP";
    TraceFentry = 24, "TRACE_FENTRY";
    TraceFexit = 25, "TRACE_FEXIT";
    ModifyReturn = 26, "MODIFY_RETURN";
    LsmMac = 27, "LSM_MAC";
    TraceIter = 28, "TRACE_ITER";
    CgroupInet4Getpeername = 29, "CGROUP_INET4_GETPEERNAME";
    CgroupInet6Getpeername = 30, "CGROUP_INET6_GETPEERNAME";
    CgroupInet4Getsockname = 31, "CGROUP_INET4_GETSOCKNAME";
    CgroupInet6Getsockname = 32, "CGROUP_INET6_GETSOCKNAME";
    XdpDevmap = 33, "XDP_DEVMAP";
    CgroupInetSockRelease = 34, "CGROUP_INET_SOCK_RELEASE";
    XdpCpumap = 35, "XDP_CPUMAP";
    SkLookup = 36, "SK_LOOKUP";
    Xdp = 37, "XDP";
    SkSkbVerdict = 38, "SK_SKB_VERDICT";
    SkReuseportSelect = 39, "SK_REUSEPORT_SELECT";
    SkReuseportSelectOrMigrate = 40, "SK_REUSEPORT_SELECT_OR_MIGRATE";
    PerfEvent = 41, "PERF_EVENT";
    TraceKprobeMulti = 42, "TRACE_KPROBE_MULTI";
    LsmCgroup = 43, "LSM_CGROUP";
    StructOps = 44, "STRUCT_OPS";
    Netfilter = 45, "NETFILTER";
    TcxIngress = 46, "TCX_INGRESS";
    TcxEgress = 47, "TCX_EGRESS";
    TraceUprobeMulti = 48, "TRACE_UPROBE_MULTI";
    CgroupUnixConnect = 49, "CGROUP_UNIX_CONNECT";
    CgroupUnixSendmsg = 50, "CGROUP_UNIX_SENDMSG";
    CgroupUnixRecvmsg = 51, "CGROUP_UNIX_RECVMSG";
    CgroupUnixGetpeername = 52, "CGROUP_UNIX_GETPEERNAME";
    CgroupUnixGetsockname = 53, "CGROUP_UNIX_GETSOCKNAME";
    NetkitPrimary = 54, "NETKIT_PRIMARY";
    NetkitPeer = 55, "NETKIT_PEER";
    TraceKprobeSession = 56, "TRACE_KPROBE_SESSION";
    TraceUprobeSession = 57, "TRACE_UPROBE_SESSION";
    TraceFsession = 58, "TRACE_FSESSION";
]);

impl ProgType {
    /// Lower-case short name as bpftool prints it (`kprobe`, `sched_cls`).
    pub fn short_name(self) -> String {
        match self.kernel_name() {
            Some(n) => n.trim_start_matches(Self::PREFIX).to_ascii_lowercase(),
            None => format!("type {}", self.value()),
        }
    }
}

#[rustfmt::skip]
mod generated {
    include!("uapi_helpers.rs");
}
pub use generated::HELPER_NAMES;

/// The name of helper `id` (`bpf_map_lookup_elem`) from the built-in table
/// (Linux 6.18's `enum bpf_func_id`; ids are UAPI, never reused).
pub fn helper_name(id: u32) -> Option<String> {
    HELPER_NAMES.get(id as usize).filter(|_| id != 0).map(|n| format!("bpf_{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_round_trip() {
        for &t in ProgType::ALL {
            let n = t.kernel_name().unwrap();
            assert_eq!(ProgType::from_kernel_name(n), Some(t));
            assert_eq!(ProgType::from_value(t.value()), t);
        }
        for &t in AttachType::ALL {
            assert_eq!(AttachType::from_kernel_name(&t.to_string()), Some(t));
            assert_eq!(AttachType::from_value(t.value()), t);
        }
        // Numbering is dense from 0 (UAPI enums).
        assert!(ProgType::ALL.iter().enumerate().all(|(i, t)| t.value() as usize == i));
        assert!(AttachType::ALL.iter().enumerate().all(|(i, t)| t.value() as usize == i));
        assert_eq!(ProgType::from_value(99), ProgType::Unknown(99));
        assert_eq!(ProgType::Unknown(99).to_string(), "BPF_PROG_TYPE_99");
        assert_eq!(ProgType::SchedCls.short_name(), "sched_cls");
        assert_eq!(serde_json::to_string(&AttachType::TraceFentry).unwrap(), "\"BPF_TRACE_FENTRY\"");
        assert_eq!(helper_name(1).as_deref(), Some("bpf_map_lookup_elem"));
        assert_eq!(helper_name(0), None);
        assert_eq!(helper_name(100_000), None);
    }
}
