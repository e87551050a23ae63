/* "sk_skb" alone: libbpf v1.7.0 and cilium/ebpf v0.22.0 have an
 * "sk_skb" definition (BPF_PROG_TYPE_SK_SKB, no attach type); aya-obj
 * v0.3.0 ProgramSection::from_str wants "sk_skb/stream_parser" or
 * "sk_skb/stream_verdict" and refuses the object otherwise. */
#include "common.h"

SEC("sk_skb")
int sk_skb_plain(struct __sk_buff *skb) { return skb->len; }
