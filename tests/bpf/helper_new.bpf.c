/* bpf_ktime_get_coarse_ns is helper 160, added in 5.11: missing on 5.10.
 * (tc, not kprobe: the verifier refuses this helper in tracing programs.) */
#include "common.h"

SEC("tc")
int helper_new(struct __sk_buff *skb)
{
	return bpf_ktime_get_coarse_ns() > 0;
}
