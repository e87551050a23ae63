/* bpf_task_from_pid exists (6.2+) but is registered for tracing, tc,
 * tracepoint, syscall, struct_ops... not for kprobes: refused there. */
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("kprobe/do_nanosleep")
int probe_kfunc_kprobe(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}
