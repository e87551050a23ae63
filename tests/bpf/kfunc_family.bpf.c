/* kfunc compat families, as sched_ext's compat.bpf.h writes them: the
 * current name behind bpf_ksym_exists(), the old name as a `___compat`
 * flavour in the other arm (scx_bpf_dsq_insert was scx_bpf_dispatch before
 * 6.13), and the libbpf `___v1`/`___v2` flavours of one kfunc. Checked,
 * not loaded (tests/check_kfunc_family.rs). */
#include "common.h"

extern void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
extern void scx_bpf_dispatch___compat(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;

#define dsq_insert(p, dsq_id, slice, enq_flags)                                   \
	(bpf_ksym_exists(scx_bpf_dsq_insert) ?                                    \
	 scx_bpf_dsq_insert((p), (dsq_id), (slice), (enq_flags)) :                \
	 scx_bpf_dispatch___compat((p), (dsq_id), (slice), (enq_flags)))

/* The compat.bpf.h pattern: guarded. */
SEC("tc")
int family_guarded(struct __sk_buff *skb)
{
	dsq_insert(bpf_get_current_task_btf(), 0, 0, 0);
	return 0;
}

/* The old name called without a guard. */
SEC("tc")
int family_unguarded_old(struct __sk_buff *skb)
{
	scx_bpf_dispatch___compat(bpf_get_current_task_btf(), 0, 0, 0);
	return 0;
}

/* Two prototypes of one kfunc (libbpf keeps the one that matches). */
extern struct task_struct *bpf_task_from_pid___v1(s32 pid) __ksym __weak;
extern struct task_struct *bpf_task_from_pid___v2(u64 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tc")
int family_flavours(struct __sk_buff *skb)
{
	struct task_struct *t = 0;

	if (bpf_ksym_exists(bpf_task_from_pid___v1))
		t = bpf_task_from_pid___v1(1);
	else if (bpf_ksym_exists(bpf_task_from_pid___v2))
		t = bpf_task_from_pid___v2(1);
	if (t)
		bpf_task_release(t);
	return 0;
}
