/* The same kfunc calls from a tracepoint program: allowed (6.2+). */
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp/syscalls/sys_enter_nanosleep")
int probe_kfunc_tp(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}
