/* task_struct::state became __state in 5.14. One program reads __state
 * unconditionally (fails on 5.10); the other checks which field exists and
 * reads the one that does (the libbpf-tools idiom). */
#include "common.h"

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

SEC("kprobe/do_unlinkat")
int core_unguarded(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, __state) != 0;
}

SEC("kprobe/do_unlinkat")
int core_guarded(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) != 0;
	return BPF_CORE_READ((struct task_struct___old *)t, state) != 0;
}
