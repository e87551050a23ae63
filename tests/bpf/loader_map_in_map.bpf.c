/* An ARRAY_OF_MAPS declared without an inner map (no `values`): user space
 * would give the inner map. cilium/ebpf v0.22.0 map.go newMapWithOptions:
 * "ArrayOfMaps requires InnerMap"; libbpf v1.7.0 bpf_object__create_map
 * passes no inner_map_fd and the kernel refuses (bpf_map_meta_alloc);
 * aya has no inner map support at all (aya 0.14.0). The program does not
 * use the map: every loader creates all of an object's maps. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} outer SEC(".maps");

SEC("socket")
int uses_no_map(struct __sk_buff *skb) { return 0; }
