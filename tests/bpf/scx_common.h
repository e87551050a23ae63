/* sched_ext kfuncs per ops callback: scx_bpf_dsq_move_to_local is a
 * dispatch-context kfunc, called here in the callback SCX_MOVE_IN names.
 * Kernels with kernel/sched/ext.c scx_kfunc_context_filter refuse it at
 * load in any other callback ("calling kernel function
 * scx_bpf_dsq_move_to_local is not allowed"); 6.12 checks the context only
 * when the scheduler runs (scx_kf_allowed). */
#include "common.h"

/* The corpus 6.12.117 BTF has no sched_ext: the members used, as the
 * kernel spells them (libbpf matches members by name). */
struct scx_cpu_release_args;
struct sched_ext_ops {
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*cpu_release)(s32 cpu, struct scx_cpu_release_args *args);
	char name[128];
};

extern bool scx_bpf_dsq_move_to_local(u64 dsq_id) __ksym;
/* scx_kfunc_ids_cpu_release only: allowed in ops.cpu_release. */
extern u32 scx_bpf_reenqueue_local(void) __ksym;

/* include/linux/sched/ext.h SCX_DSQ_GLOBAL */
#define DSQ_GLOBAL (1ULL << 63 | 1)

SEC("struct_ops/enqueue")
void BPF_PROG(scx_enqueue, struct task_struct *p, u64 enq_flags)
{
#ifdef SCX_MOVE_IN_ENQUEUE
	scx_bpf_dsq_move_to_local(DSQ_GLOBAL);
#endif
#ifdef SCX_REENQ_IN_ENQUEUE
	scx_bpf_reenqueue_local();
#endif
}

SEC("struct_ops/dispatch")
void BPF_PROG(scx_dispatch, s32 cpu, struct task_struct *prev)
{
#ifdef SCX_MOVE_IN_DISPATCH
	scx_bpf_dsq_move_to_local(DSQ_GLOBAL);
#endif
}

SEC("struct_ops/cpu_release")
void BPF_PROG(scx_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
#ifdef SCX_REENQ_IN_CPU_RELEASE
	scx_bpf_reenqueue_local();
#endif
}

SEC(".struct_ops.link")
struct sched_ext_ops bpfabi_scx = {
	.enqueue = (void *)scx_enqueue,
	.dispatch = (void *)scx_dispatch,
	.cpu_release = (void *)scx_cpu_release,
	.name = "bpfabi_scx",
};
