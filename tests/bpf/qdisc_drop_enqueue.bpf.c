/* bpf_qdisc_skb_drop in enqueue: allowed (qdisc_common.h). */
#define QDISC_DROP_IN_ENQUEUE
#include "qdisc_common.h"
