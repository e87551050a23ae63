/* A bpf_timer callback is never sleepable (verifier.c is_async_cb_sleepable):
 * the sleepable kfunc the bpf_wq callback of async_wq.bpf.c may call is
 * refused here ("program must be sleepable to call sleepable kfunc"). */
#include "common.h"

extern int bpf_copy_from_user_str(void *dst, u32 dst__sz, const void *unsafe_ptr__ign, u64 flags) __ksym;

struct timer_elem {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct timer_elem);
} timers SEC(".maps");

char buf[16];

static int timer_cb(void *map, int *key, void *value)
{
	bpf_copy_from_user_str(buf, sizeof(buf), (void *)0, 0);
	return 0;
}

SEC("tc")
int timer_sleepable_kfunc(struct __sk_buff *skb)
{
	int key = 0;
	struct timer_elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e || bpf_timer_init(&e->t, &timers, 1))
		return 0;
	bpf_timer_set_callback(&e->t, timer_cb);
	bpf_timer_start(&e->t, 0, 0);
	return 0;
}
