/* Declares bpf_task_from_pid with an extra argument: libbpf rejects the
 * prototype as incompatible wherever the kfunc exists. */
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid, u64 extra) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tc")
int kfunc_mismatch(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1, 0);

	if (t)
		bpf_task_release(t);
	return 0;
}
