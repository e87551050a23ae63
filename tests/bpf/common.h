/* Shared by the check test programs: vmlinux.h (made by build.sh from the
 * corpus 6.12.117 BTF) without its kfunc prototypes, and libbpf's macros. */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* libbpf < 1.2 has no bpf_ksym_exists(): taking the address of a weak
 * extern is what it does. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

/* A test program may state another license (the GPL rules of the verifier). */
#ifndef TEST_LICENSE
#define TEST_LICENSE "GPL"
#endif
char LICENSE[] SEC("license") = TEST_LICENSE;
