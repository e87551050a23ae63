/* HID-BPF struct_ops (drivers/hid/bpf/hid_bpf_struct_ops.c): a sleepable
 * program on the member HID_SLEEPABLE_MEMBER names. hid_bpf_ops_check_member
 * lets only hid_rdesc_fixup, hid_hw_request and hid_hw_output_report sleep;
 * on any other member the verifier says "attach to unsupported member
 * hid_device_event of struct hid_bpf_ops". */
#include "common.h"

/* hid_bpf_ops lives in the hid module, not in the corpus vmlinux.h: the
 * members used, as the kernel spells them (libbpf matches them by name). */
struct hid_bpf_ctx;
struct hid_bpf_ops {
	int hid_id;
	int (*hid_device_event)(struct hid_bpf_ctx *ctx, int report_type, u64 source);
	int (*hid_rdesc_fixup)(struct hid_bpf_ctx *ctx);
};

#ifdef HID_SLEEPABLE_EVENT
SEC("struct_ops.s/hid_device_event")
#else
SEC("struct_ops/hid_device_event")
#endif
int BPF_PROG(hid_event, struct hid_bpf_ctx *hctx, int report_type, u64 source)
{
	return 0;
}

#ifdef HID_SLEEPABLE_FIXUP
SEC("struct_ops.s/hid_rdesc_fixup")
#else
SEC("struct_ops/hid_rdesc_fixup")
#endif
int BPF_PROG(hid_fixup, struct hid_bpf_ctx *hctx)
{
	return 0;
}

/* .struct_ops.link: the device (hid_id) is chosen only when attached. */
SEC(".struct_ops.link")
struct hid_bpf_ops bpfabi_hid = {
	.hid_device_event = (void *)hid_event,
	.hid_rdesc_fixup = (void *)hid_fixup,
};
