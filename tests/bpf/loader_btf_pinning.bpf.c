/* A BTF-defined map with a pinning value other than LIBBPF_PIN_NONE (0)
 * or LIBBPF_PIN_BY_NAME (1): iproute2's PIN_GLOBAL_NS (2). libbpf v1.7.0
 * parse_btf_map_def: "invalid pinning value"; cilium/ebpf v0.22.0 map.go
 * newMapWithOptions: "pin type 2: not supported"; aya-obj v0.3.0
 * PinningType::try_from refuses it too ("classifier": a section all
 * three read, so that each reaches the map). */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
	__uint(pinning, 2);
} btf_pinned SEC(".maps");

SEC("classifier")
int btf_pinned_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&btf_pinned, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}
