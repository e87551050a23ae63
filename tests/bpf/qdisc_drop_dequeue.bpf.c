/* bpf_qdisc_skb_drop in dequeue: refused by bpf_qdisc_kfunc_filter
 * (qdisc_common.h). */
#define QDISC_DROP_IN_DEQUEUE
#include "qdisc_common.h"
