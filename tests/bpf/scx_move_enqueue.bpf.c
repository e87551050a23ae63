/* scx_bpf_dsq_move_to_local in enqueue: refused by scx_kfunc_context_filter
 * where the kernel has it (scx_common.h). */
#define SCX_MOVE_IN_ENQUEUE
#include "scx_common.h"
