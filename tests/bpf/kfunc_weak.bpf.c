/* The same kfuncs as weak externs, guarded by bpf_ksym_exists(): a warning
 * where they are missing, never a failure. */
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

SEC("tc")
int kfunc_weak(struct __sk_buff *skb)
{
	if (bpf_ksym_exists(bpf_task_from_pid) && bpf_ksym_exists(bpf_task_release)) {
		struct task_struct *t = bpf_task_from_pid(1);

		if (t)
			bpf_task_release(t);
	}
	return 0;
}
