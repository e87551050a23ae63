/* A sleepable LSM program loads only on a hook of the kernel's sleepable
 * list (kernel/bpf/bpf_lsm.c sleepable_lsm_hooks, bpf_lsm_is_sleepable_hook;
 * verifier.c bpf_check_attach_target: "%s is not sleepable"): file_open is
 * on it, socket_sock_rcv_skb (called in softirq) is not. */
#include "common.h"

SEC("lsm.s/file_open")
int BPF_PROG(lsm_s_file_open, struct file *file)
{
	return 0;
}

SEC("lsm.s/socket_sock_rcv_skb")
int BPF_PROG(lsm_s_sock_rcv_skb, struct sock *sk, struct sk_buff *skb)
{
	return 0;
}
