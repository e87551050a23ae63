/* CO-RE candidates chosen per program (cilium/ebpf) or per object (libbpf).
 * The kernel's BTF has two `struct syscall_tp_t` (kernel/trace/
 * trace_syscalls.c: the enter record with `args`, the exit record with
 * `ret`). Both programs use one local type: per_prog_ret reads `ret`,
 * per_prog_args reads `args[0]`.
 *  - cilium/ebpf relocates one program at a time (linker.go
 *    applyRelocations, v0.11.0 to v0.22.0) and scores the candidates over
 *    that program's relocations only (btf/core.go coreCalculateFixups): each
 *    program's one relocation has one candidate satisfying it, so both load.
 *    Scored over the object, both records would score 1 and disagree
 *    ("ambiguous relocation").
 *  - aya matches each relocation against every candidate (aya-obj
 *    relocate_btf_functions): one matches each, both load.
 *  - libbpf narrows the object's candidates by each relocation it applies
 *    (relo_core.c bpf_core_calc_relo_insn): loading both programs, the
 *    first narrows to the exit record and the second's read is poisoned;
 *    loaded one at a time (autoload off for the other, whose relocations
 *    libbpf then skips) each loads. */
#include "common.h"

struct syscall_tp_t___pp {
	long ret;
	unsigned long args[6];
} __attribute__((preserve_access_index));

SEC("kprobe/do_unlinkat")
int per_prog_ret(struct pt_regs *ctx)
{
	struct syscall_tp_t___pp *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, ret) != 0;
}

SEC("kprobe/do_unlinkat")
int per_prog_args(struct pt_regs *ctx)
{
	struct syscall_tp_t___pp *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, args[0]) != 0;
}
