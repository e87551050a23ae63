/* Section names as aya programs use them (aya-obj v0.3.0 obj.rs
 * ProgramSection::from_str: the kind before the first '/', the rest
 * ignored). libbpf v1.7.0 and cilium/ebpf v0.22.0 read "kprobe" and
 * "uprobe/..." through their kprobe+/uprobe+ definitions, "classifier"
 * and "xdp" exactly; aya accepts each. For the per-loader ground truth. */
#include "common.h"

SEC("classifier")
int aya_classifier(struct __sk_buff *skb) { return 0; }

SEC("xdp")
int aya_xdp(struct xdp_md *ctx) { return XDP_PASS; }

SEC("kprobe")
int aya_kprobe(struct pt_regs *ctx) { return 0; }

SEC("uprobe/aya_uprobe")
int aya_uprobe(struct pt_regs *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int aya_tracepoint(void *ctx) { return 0; }
