/* A legacy "maps" section of struct bpf_map_def (five u32: type, key and
 * value size, max_entries, flags). libbpf >= 1.0 refuses the object
 * ("legacy map definitions in 'maps' section are not supported",
 * libbpf.c bpf_object__init_user_maps); cilium/ebpf v0.22.0 elf_reader.go
 * loadMaps and aya-obj v0.3.0 parse_map_def read it. */
#include "common.h"

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 4,
};

SEC("socket")
int legacy_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&legacy_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}
