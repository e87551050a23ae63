/* Async callbacks run in their own context (verifier.c push_async_cb with
 * is_async_cb_sleepable): a bpf_wq callback is sleepable even in a
 * non-sleepable program, so a sleepable kfunc (bpf_copy_from_user_str,
 * KF_SLEEPABLE, 6.12+) called there loads, although the tc program itself
 * may not call it ("program must be sleepable to call sleepable kfunc"). */
#include "common.h"

extern int bpf_wq_init(struct bpf_wq *wq, void *p__map, unsigned int flags) __ksym;
extern int bpf_wq_start(struct bpf_wq *wq, unsigned int flags) __ksym;
extern int bpf_wq_set_callback_impl(struct bpf_wq *wq, int (callback_fn)(void *map, int *key, void *value), unsigned int flags,
				    void *aux__ign) __ksym;
extern int bpf_copy_from_user_str(void *dst, u32 dst__sz, const void *unsafe_ptr__ign, u64 flags) __ksym;

struct wq_elem {
	struct bpf_wq wq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct wq_elem);
} wqs SEC(".maps");

char buf[16];

static int wq_cb(void *map, int *key, void *value)
{
	bpf_copy_from_user_str(buf, sizeof(buf), (void *)0, 0);
	return 0;
}

SEC("tc")
int wq_sleepable_kfunc(struct __sk_buff *skb)
{
	int key = 0;
	struct wq_elem *e = bpf_map_lookup_elem(&wqs, &key);

	if (!e || bpf_wq_init(&e->wq, &wqs, 0))
		return 0;
	if (bpf_wq_set_callback_impl(&e->wq, wq_cb, 0, (void *)0))
		return 0;
	bpf_wq_start(&e->wq, 0);
	return 0;
}
