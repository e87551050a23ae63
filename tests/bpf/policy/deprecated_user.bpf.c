/* Calls a deprecated kfunc directly (strong extern): `check --policy`
 * warns at the call's source line, and errors on a kernel past removal. */
#include "common.h"

extern int bpf_old_thing(int a, int b) __ksym;

SEC("syscall")
int uses_old(void *ctx)
{
	int x = 3;

	x += bpf_old_thing(x, 2);
	return x;
}
