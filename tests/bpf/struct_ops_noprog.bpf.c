/* A struct_ops map with no programs (a sched_ext scheduler using only the
 * defaults): libbpf still creates it and fills it in against the kernel's
 * type (bpf_map__init_kern_struct_ops -> find_struct_ops_kern_types:
 * "struct_ops init_kern: struct sched_ext_ops is not found in kernel BTF"),
 * so it fails on a kernel without sched_ext (before 6.12, or built without
 * CONFIG_SCHED_CLASS_EXT). */
#include "common.h"

/* The corpus 6.12.117 BTF (vmlinux.h) has no sched_ext: the one member set
 * here, as the kernel spells it (kernel/sched/ext.c, SCX_OPS_NAME_LEN). */
struct sched_ext_ops {
	char name[128];
};

SEC(".struct_ops.link")
struct sched_ext_ops defaults_only = {
	.name = "bpfabi_defaults",
};
