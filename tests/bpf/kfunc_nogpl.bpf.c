/* kfunc_new under a license the kernel does not take as GPL-compatible:
 * the verifier refuses any kfunc call from it (add_kfunc_call: "cannot call
 * kernel function from non-GPL compatible program"), even where the kfuncs
 * exist (6.2 on). */
#define TEST_LICENSE "Proprietary"
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tc")
int kfunc_nogpl(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}
