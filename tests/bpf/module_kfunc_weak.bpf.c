/* module_kfunc.bpf.c with weak externs behind bpf_ksym_exists(): where
 * nf_conntrack is not loaded libbpf resolves them to 0 and the guarded
 * branch is dead code. */
#include "common.h"

struct bpf_ct_opts___local {
	s32 netns_id;
	s32 error;
	u8 l4proto;
	u8 dir;
	u8 reserved[2];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple, u32 tuple__sz,
					 struct bpf_ct_opts___local *opts, u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

SEC("tc")
int module_kfunc_weak(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_ct_opts___local opts = { .netns_id = -1, .l4proto = 6 };

	if (bpf_ksym_exists(bpf_skb_ct_lookup) && bpf_ksym_exists(bpf_ct_release)) {
		struct nf_conn *ct = bpf_skb_ct_lookup(skb, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts));

		if (ct)
			bpf_ct_release(ct);
	}
	return 0;
}
