/* kfunc names and prototypes as each loader resolves them (per-loader
 * ground truth, tests/loaders.rs):
 *  - flavour_strong calls bpf_rcu_read_lock___v1: libbpf looks up the name
 *    before the last `___` (libbpf.c v1.7.0 bpf_core_essential_name_len,
 *    bpf_object__resolve_ksym_func_btf_id) and loads; cilium/ebpf looks the
 *    name up as written (v0.22.0 prog.go findTargetInKernel) and refuses the
 *    program ("kfunc ...: not supported").
 *  - flavour_weak: the same, weak: cilium/ebpf >= 0.14 poisons the calls
 *    (linker.go fixupKfuncs), which the verifier refuses.
 *  - weak_mismatch_guarded declares bpf_task_from_pid with an extra
 *    argument, weak, behind bpf_ksym_exists(): libbpf leaves a weak kfunc
 *    with an incompatible prototype unresolved (address 0, the guarded code
 *    is dead) and loads; cilium/ebpf refuses the program
 *    (fixupKfuncs: incompatibleKfuncError, weak or not).
 * aya 0.14 resolves no kfuncs: it refuses the object. */
#include "common.h"

extern void bpf_rcu_read_lock___v1(void) __ksym;
extern void bpf_rcu_read_unlock___v1(void) __ksym;
extern void bpf_rcu_read_lock___v2(void) __ksym __weak;
extern void bpf_rcu_read_unlock___v2(void) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid, u64 extra) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

SEC("tc")
int flavour_strong(struct __sk_buff *skb)
{
	bpf_rcu_read_lock___v1();
	bpf_rcu_read_unlock___v1();
	return 0;
}

SEC("tc")
int flavour_weak(struct __sk_buff *skb)
{
	bpf_rcu_read_lock___v2();
	bpf_rcu_read_unlock___v2();
	return 0;
}

SEC("tc")
int weak_mismatch_guarded(struct __sk_buff *skb)
{
	if (bpf_ksym_exists(bpf_task_from_pid)) {
		struct task_struct *t = bpf_task_from_pid(1, 0);

		if (t)
			bpf_task_release(t);
	}
	return 0;
}
