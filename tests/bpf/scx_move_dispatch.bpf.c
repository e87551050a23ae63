/* scx_bpf_dsq_move_to_local in dispatch: allowed (scx_common.h). */
#define SCX_MOVE_IN_DISPATCH
#include "scx_common.h"
