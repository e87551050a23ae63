/* A legacy "maps" section in iproute2's struct bpf_elf_map layout (id,
 * pinning = PIN_GLOBAL_NS (2), inner id/idx after the five usual fields).
 * libbpf >= 1.0 refuses the "maps" section; cilium/ebpf v0.22.0 keeps the
 * tail as MapSpec.Extra and newMap wants it zero (map.go, "extra bytes");
 * aya-obj v0.3.0 parse_map_def copies the bytes into its bpf_map_def,
 * whose `pinning` is a PinningType of 0 and 1 only (no check there). */
#include "common.h"

struct bpf_elf_map {
	unsigned int type;
	unsigned int size_key;
	unsigned int size_value;
	unsigned int max_elem;
	unsigned int flags;
	unsigned int id;
	unsigned int pinning;
	unsigned int inner_id;
	unsigned int inner_idx;
};

struct bpf_elf_map SEC("maps") pinned_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 4,
	.pinning = 2,
};

SEC("classifier")
int pinned_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&pinned_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}
