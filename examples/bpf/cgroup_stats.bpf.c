// SPDX-License-Identifier: GPL-2.0
/* Flushes a cgroup's rstat counters from a sleepable cgroup iterator, as
 * the kernel's selftest progs/cgroup_hierarchical_stats.c does. The kfunc
 * cgroup_rstat_flush() was renamed css_rstat_flush() (taking a
 * struct cgroup_subsys_state *) in 6.16; examples/bpfabi-policy.toml marks
 * it deprecated, so every integration shows a warning at the call below. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

/* The part of the kernel's struct this program reads (CO-RE, as from
 * vmlinux.h). A complete struct, not `struct cgroup;`: libbpf matches a
 * kfunc's pointer arguments by kind, and a forward declaration is not one. */
struct cgroup {
	int level;
} __attribute__((preserve_access_index));
struct bpf_iter_meta;
struct bpf_iter__cgroup {
	struct bpf_iter_meta *meta;
	struct cgroup *cgroup;
};

extern void cgroup_rstat_flush(struct cgroup *cgrp) __ksym;

SEC("iter.s/cgroup")
int dump_cgroup_stats(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	if (!cgrp)
		return 1;
	if (cgrp->level == 0) /* the root has no parent to propagate to */
		return 0;
	cgroup_rstat_flush(cgrp);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
