/* Uses the header `bpfabi policy compat` generates: loads before and
 * after the rename. */
#include "common.h"
#include "policy_compat.h"

SEC("syscall")
int uses_compat(void *ctx)
{
	return bpf_new_thing_compat(1, 2);
}
