//! libbpf's reading of section names, 0.x and 1.x.
//!
//! libbpf ≥ 1.0 is [`crate::object::sections`] (v1.7.0's `section_defs`,
//! exact `sec_def_matches`). libbpf 0.x (modelled on v0.8.0, the last 0.x
//! with `SEC_SLOPPY_PFX`; 0.x's default mode is not
//! `LIBBPF_STRICT_SEC_NAME`): `sec_def_matches(…, allow_sloppy)` lets a
//! definition flagged `SEC_SLOPPY_PFX` match as a prefix, so `xdp_prog`,
//! `socket1`, `classifier_x` or `sk_skb1` have a program type there. Every
//! definition without `+` or `/` is sloppy in v0.8.0 except `tc`,
//! `syscall` and `xdp.frags` (and the `xdp[.frags]/{devmap,cpumap}`
//! names); the 29 definitions added after v0.8.0 (`tcx/*`, `netkit/*`,
//! `uprobe.multi+`, `ksyscall+`, `sk_skb/verdict`, `cgroup/*_unix`,
//! `netfilter`, …) are unknown to it, and it still has the deprecated
//! `xdp_devmap/` and `xdp_cpumap/`.

use crate::object::sections::{self, SectionDesc, RULES};
use crate::uapi::{AttachType, ProgType};

/// `section_defs` entries of libbpf v1.7.0 that v0.8.0 does not have.
const AFTER_0_8: &[&str] = &[
    "cgroup/connect_unix",
    "cgroup/getpeername_unix",
    "cgroup/getsockname_unix",
    "cgroup/recvmsg_unix",
    "cgroup/sendmsg_unix",
    "fsession+",
    "fsession.s+",
    "kprobe.session+",
    "kretsyscall+",
    "ksyscall+",
    "lsm_cgroup+",
    "netfilter",
    "netkit/peer",
    "netkit/primary",
    "sk_skb/verdict",
    "struct_ops.s+",
    "tc/egress",
    "tc/ingress",
    "tcx/egress",
    "tcx/ingress",
    "uprobe.multi+",
    "uprobe.multi.s+",
    "uprobe.s+",
    "uprobe.session+",
    "uprobe.session.s+",
    "uretprobe.multi+",
    "uretprobe.multi.s+",
    "uretprobe.s+",
    "usdt.s+",
];

/// v0.8.0 definitions without `SEC_SLOPPY_PFX` (exact in every mode).
const NOT_SLOPPY: &[&str] = &["tc", "syscall", "xdp.frags", "xdp/devmap", "xdp/cpumap", "xdp.frags/devmap", "xdp.frags/cpumap"];

/// Decode a section name as libbpf `major`.x does.
pub fn decode(sec: &str, major: u16) -> SectionDesc {
    if major >= 1 {
        return sections::decode(sec);
    }
    let (sec, autoload_off) = match sec.strip_prefix('?') {
        Some(rest) => (rest, true),
        None => (sec, false),
    };
    // v0.8.0's deprecated `xdp_devmap/` and `xdp_cpumap/` (before `xdp`).
    for (prefix, attach) in [("xdp_devmap/", AttachType::XdpDevmap), ("xdp_cpumap/", AttachType::XdpCpumap)] {
        if sec.starts_with(prefix) {
            return SectionDesc { prog_type: Some(ProgType::Xdp), attach: Some(attach), target: None, sleepable: false, autoload_off };
        }
    }
    for &(spec, ty, attach, sleepable, has_target) in RULES.iter().filter(|r| !AFTER_0_8.contains(&r.0)) {
        let sloppy = !spec.ends_with(['+', '/']) && !NOT_SLOPPY.contains(&spec);
        let matched = if sloppy { sec.starts_with(spec) } else { sections::decode_one(spec, sec) };
        if !matched {
            continue;
        }
        let target = has_target
            .then(|| sec.get(spec.trim_end_matches(['+', '/']).len()..).unwrap_or("").trim_start_matches('/').split('+').next().unwrap_or("").to_string())
            .filter(|t| !t.is_empty());
        return SectionDesc { prog_type: Some(ty), attach, target, sleepable, autoload_off };
    }
    SectionDesc { prog_type: None, attach: None, target: None, sleepable: false, autoload_off }
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::uapi::ProgType;

    #[test]
    fn sloppy_prefixes_in_0_x() {
        for (sec, ty) in [("xdp_prog", ProgType::Xdp), ("socket1", ProgType::SocketFilter), ("sk_skb1", ProgType::SkSkb), ("classifier_x", ProgType::SchedCls)]
        {
            assert_eq!(decode(sec, 0).prog_type, Some(ty), "{sec}");
            assert_eq!(decode(sec, 1).prog_type, None, "{sec}");
        }
        // Not sloppy even in 0.x, or unknown to 0.8.
        for sec in ["tc_ingress", "syscall_x", "tcx/ingress", "netfilter"] {
            assert_eq!(decode(sec, 0).prog_type, None, "{sec}");
        }
        assert_eq!(decode("tc", 0).prog_type, Some(ProgType::SchedCls));
        assert_eq!(decode("fentry/do_unlinkat", 0).target.as_deref(), Some("do_unlinkat"));
    }
}
