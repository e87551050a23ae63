/* bpf_probe_write_user from a uprobe: the probe skips this helper unless
 * `probe --full` (loading it logs a kernel warning), so without a full probe
 * its availability was never measured and the verdict is unknown, never
 * loads. */
#include "common.h"

SEC("uprobe")
int uprobe_write_user(struct pt_regs *ctx)
{
	long v = 0;

	bpf_probe_write_user((void *)PT_REGS_PARM1(ctx), &v, sizeof(v));
	return 0;
}
