/* A GPL-only helper (bpf_probe_read_kernel) under a license the kernel does
 * not take as GPL-compatible: the verifier refuses the call
 * (check_helper_call: "cannot call GPL-restricted function from non-GPL
 * compatible program"). Only probe data knows which helpers are GPL-only. */
#define TEST_LICENSE "Dual BSD/MIT"
#include "common.h"

SEC("kprobe/do_nanosleep")
int helper_nogpl(struct pt_regs *ctx)
{
	long v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)PT_REGS_PARM1(ctx));
	return v == 0;
}
