/* scx_bpf_reenqueue_local in enqueue: refused by scx_kfunc_context_filter
 * where the kernel has it (scx_kf_allow_flags[] gives enqueue the
 * select_cpu and enqueue_dispatch sets only; scx_common.h). */
#define SCX_REENQ_IN_ENQUEUE
#include "scx_common.h"
