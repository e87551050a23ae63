/* An fentry program whose target function exists in no kernel. */
#include "common.h"

SEC("fentry/bpfabi_no_such_function")
int BPF_PROG(fentry_missing, int x)
{
	return 0;
}
