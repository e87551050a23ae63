/* CO-RE candidates as each loader picks them. The kernel's BTF has two
 * `struct syscall_tp_t` (kernel/trace/trace_syscalls.c: the enter record
 * with `args`, the exit record with `ret`, both with `syscall_nr` at byte
 * 8). Each program has its own local type (a `___flavour`), so no program
 * narrows another's candidates.
 *  - core_two_fields reads `ret` (exit record only) and `args` (enter record
 *    only). libbpf narrows the candidates to the record the first
 *    relocation matched (relo_core.c v1.7.0 bpf_core_calc_relo_insn) and
 *    poisons the other read; cilium/ebpf scores both records 1 and they
 *    disagree (v0.22.0 btf/core.go coreCalculateFixups: "ambiguous
 *    relocation"); aya matches each relocation against every candidate
 *    (aya-obj v0.3.0 relocate_btf_functions, no narrowing) and loads.
 *  - core_tie reads `ret` unless `args` exists: libbpf narrows to the enter
 *    record, the check is 1 and the read dead; aya loads likewise;
 *    cilium/ebpf's two scores tie again: ambiguous.
 *  - core_flavours reads `syscall_nr` of `struct syscall_tp_t___a___b`:
 *    libbpf and cilium/ebpf take the name before the last `___`
 *    (bpf_core_essential_name_len, btf/types.go newEssentialName), which
 *    names no kernel type: poisoned; aya the name before the first
 *    (aya-obj flavorless_name): syscall_tp_t, at byte 8 in both. */
#include "common.h"

struct syscall_tp_t___two {
	long ret;
	unsigned long args[6];
} __attribute__((preserve_access_index));

struct syscall_tp_t___tie {
	long ret;
	unsigned long args[6];
} __attribute__((preserve_access_index));

struct syscall_tp_t___a___b {
	int syscall_nr;
} __attribute__((preserve_access_index));

SEC("kprobe/do_unlinkat")
int core_two_fields(struct pt_regs *ctx)
{
	struct syscall_tp_t___two *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, ret) + BPF_CORE_READ(t, args[0]) != 0;
}

SEC("kprobe/do_unlinkat")
int core_tie(struct pt_regs *ctx)
{
	struct syscall_tp_t___tie *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->args))
		return 0;
	return BPF_CORE_READ(t, ret) != 0;
}

SEC("kprobe/do_unlinkat")
int core_flavours(struct pt_regs *ctx)
{
	struct syscall_tp_t___a___b *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, syscall_nr) != 0;
}
