/* An iterator of the tcp target calling bpf_setsockopt/bpf_getsockopt: the
 * tracing helper set refuses them, the tcp target's own get_func_proto
 * (net/ipv4/tcp_ipv4.c bpf_iter_tcp_get_func_proto, v5.19+) gives them. A
 * probe that asked another iterator target says "not allowed"; the iter/tcp
 * context says allowed. */
#include "common.h"

/* include/uapi/asm-generic/socket.h */
#define SOL_SOCKET 1
#define SO_PRIORITY 12

SEC("iter/tcp")
int iter_tcp_sockopt(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	int prio = 0;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	if (bpf_getsockopt(tp, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)))
		return 0;
	bpf_setsockopt(tp, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
	return 0;
}
