/* Section names as cilium/ebpf (bpf2go) programs use them. cilium/ebpf
 * v0.22.0 elf_reader.go matchSectionName: a pattern without '+' or '/'
 * matches as a prefix ("socket1", "xdp_foo", "tc_ingress", "classifier/x",
 * "socket/http_filter" all decode); libbpf v1.7.0 sec_def_matches wants
 * those exact ("missing BPF prog type"); aya-obj v0.3.0
 * ProgramSection::from_str takes the part before the first '/', so
 * "socket1"/"xdp_foo"/"tc_ingress" make it refuse the whole object.
 * For the per-loader ground truth (docs/loaders.md, "Measured"). */
#include "common.h"

SEC("tc")
int tc_plain(struct __sk_buff *skb) { return 0; }

SEC("tc_ingress")
int bpf2go_tc_ingress(struct __sk_buff *skb) { return 0; }

SEC("classifier/tc_egress")
int classifier_x(struct __sk_buff *skb) { return 0; }

SEC("socket1")
int bpf2go_socket1(struct __sk_buff *skb) { return 0; }

SEC("socket/http_filter")
int http_filter(struct __sk_buff *skb) { return 0; }

SEC("xdp_foo")
int bpf2go_xdp_foo(struct xdp_md *ctx) { return XDP_PASS; }

SEC("kprobe/do_nanosleep")
int kprobe_x(struct pt_regs *ctx) { return 0; }
