/* kfunc_new under a license the kernel does not take as GPL-compatible:
 * the verifier refuses any kfunc call from it (add_kfunc_call: "cannot call
 * kernel function from non-GPL compatible program"), even where the kfuncs
 * exist (6.2 on). The same program, its license changed. */
#define TEST_LICENSE "Proprietary"
#include "kfunc_new.bpf.c"
