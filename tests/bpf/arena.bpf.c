/* A program with an arena map calling bpf_arena_alloc_pages: kernels that
 * filter the arena kfuncs refuse them to a program without an arena map, so
 * a probe without one says "not allowed"; the arena context answers for
 * this program. SEC("syscall") is sleepable (the arena kfuncs were
 * KF_SLEEPABLE when they came, v6.9). */
#include "common.h"

extern void *bpf_arena_alloc_pages(void *p__map, void *addr__ign, u32 page_cnt, int node_id, u64 flags) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

SEC("syscall")
int arena_alloc(void *ctx)
{
	return bpf_arena_alloc_pages(&arena, (void *)0, 1, -1, 0) != (void *)0;
}
