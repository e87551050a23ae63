/* bpf_sock_destroy is filtered by net/core/filter.c tracing_iter_filter
 * (v6.5): the kfunc set is registered for BPF_PROG_TYPE_TRACING, and the
 * filter refuses it (-EACCES: "calling kernel function bpf_sock_destroy is
 * not allowed") to every program whose expected_attach_type is not
 * BPF_TRACE_ITER. An iter/tcp program may call it; a tp_btf program of the
 * same type may not (the kernel selftest sock_destroy_prog_fail.c). */
#include "common.h"

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

SEC("iter/tcp")
int iter_tcp_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	/* A field read makes clang emit struct sock_common in full: libbpf
	 * finds a forward declaration incompatible with the kernel's struct
	 * (bpf_core_types_are_compat compares kinds). */
	if (skc && skc->skc_family)
		bpf_sock_destroy(skc);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tp_btf_destroy, struct sock *sk)
{
	if (sk->__sk_common.skc_family)
		bpf_sock_destroy((struct sock_common *)sk);
	return 0;
}
