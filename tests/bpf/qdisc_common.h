/* A bpf qdisc (struct Qdisc_ops, net/sched/bpf_qdisc.c, v6.16) whose one
 * kfunc call, bpf_qdisc_skb_drop, is made in the member QDISC_DROP_IN
 * names: bpf_qdisc_kfunc_filter allows it in enqueue only
 * (qdisc_enqueue_kfunc_set), and refuses it elsewhere ("calling kernel
 * function bpf_qdisc_skb_drop is not allowed"). Kernels without a BPF
 * qdisc have no bpf_qdisc_skb_drop (libbpf: "not found in kernel"). */
#include "common.h"

/* Not in the 6.12.117 vmlinux.h. */
struct bpf_sk_buff_ptr {
	struct sk_buff *skb;
};

extern void bpf_qdisc_skb_drop(struct sk_buff *skb, struct bpf_sk_buff_ptr *to_free_list) __ksym;
extern void bpf_kfree_skb(struct sk_buff *skb) __ksym;

/* include/linux/netdevice.h */
#define NET_XMIT_DROP 1

SEC("struct_ops")
int BPF_PROG(qdisc_enqueue, struct sk_buff *skb, struct Qdisc *sch, struct bpf_sk_buff_ptr *to_free)
{
#ifdef QDISC_DROP_IN_ENQUEUE
	bpf_qdisc_skb_drop(skb, to_free);
#else
	bpf_kfree_skb(skb);
#endif
	return NET_XMIT_DROP;
}

SEC("struct_ops")
struct sk_buff *BPF_PROG(qdisc_dequeue, struct Qdisc *sch)
{
#ifdef QDISC_DROP_IN_DEQUEUE
	/* Refused by the filter before the arguments are looked at. */
	bpf_qdisc_skb_drop((struct sk_buff *)0, (struct bpf_sk_buff_ptr *)0);
#endif
	return (struct sk_buff *)0;
}

SEC(".struct_ops")
struct Qdisc_ops bpfabi_qdisc = {
	.enqueue = (void *)qdisc_enqueue,
	.dequeue = (void *)qdisc_dequeue,
	.id = "bpfabi_qdisc",
};
