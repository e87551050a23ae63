/* verifier.c check_map_prog_compatibility: a tracing program (kprobe,
 * tracepoint, perf_event, raw_tracepoint; is_tracing_prog_type) may not
 * use a map whose value holds a bpf_spin_lock ("tracing progs cannot use
 * bpf_spin_lock yet"), nor, until v7.0, a bpf_timer ("tracing progs cannot
 * use bpf_timer yet"). Referencing the map is enough: the check runs on
 * every map an instruction loads (resolve_pseudo_ldimm64), before the
 * program is verified. The tc program uses the same maps and loads. */
#include "common.h"

struct timer_elem {
	struct bpf_timer t;
};

struct lock_elem {
	struct bpf_spin_lock lock;
	u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct timer_elem);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct lock_elem);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, u64);
} plain SEC(".maps");

SEC("kprobe/do_nanosleep")
int kprobe_timer(void *ctx)
{
	int key = 0;

	return bpf_map_lookup_elem(&timers, &key) != 0;
}

/* Only the lookup: the map alone is refused (bpf_spin_lock() itself is a
 * helper tracing programs may not call either). */
SEC("kprobe/do_nanosleep")
int kprobe_lock(void *ctx)
{
	int key = 0;
	struct lock_elem *e = bpf_map_lookup_elem(&locks, &key);

	if (e)
		e->n++;
	return 0;
}

SEC("kprobe/do_nanosleep")
int kprobe_plain(void *ctx)
{
	int key = 0;

	return bpf_map_lookup_elem(&plain, &key) != 0;
}

SEC("tc")
int tc_timer_lock(struct __sk_buff *skb)
{
	int key = 0;
	struct lock_elem *e = bpf_map_lookup_elem(&locks, &key);

	if (e) {
		bpf_spin_lock(&e->lock);
		e->n++;
		bpf_spin_unlock(&e->lock);
	}
	return bpf_map_lookup_elem(&timers, &key) != 0;
}
