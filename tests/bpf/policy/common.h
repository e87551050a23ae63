/* Policy test programs: no vmlinux.h needed (the kfuncs take ints). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";
