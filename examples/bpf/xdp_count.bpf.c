// SPDX-License-Identifier: GPL-2.0
/* Counts packets per CPU and passes them on: helpers only, no kfunc, so it
 * loads on every kernel the examples target and gets no warning. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&packets, &key);

	if (n)
		(*n)++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
