/* scx_bpf_reenqueue_local in cpu_release: allowed (scx_common.h). */
#define SCX_REENQ_IN_CPU_RELEASE
#include "scx_common.h"
