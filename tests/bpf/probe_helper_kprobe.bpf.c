/* Helper 160 (bpf_ktime_get_coarse_ns) exists on 5.11+, but the verifier
 * refuses it in kprobe programs: only a probe can tell (tests/probe_live.rs). */
#include "common.h"

SEC("kprobe/do_nanosleep")
int probe_helper_kprobe(void *ctx)
{
	return bpf_ktime_get_coarse_ns() > 0;
}
