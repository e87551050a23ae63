/* The kernel types these example programs use, as bpftool's vmlinux.h
 * would give them (values from include/uapi/linux/bpf.h), so that the
 * examples build with clang and libbpf's headers alone: no kernel BTF, no
 * <linux/bpf.h> (which needs the host's multiarch <asm/types.h>). */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
enum bpf_map_type { BPF_MAP_TYPE_PERCPU_ARRAY = 6 };
enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
struct xdp_md { __u32 data; __u32 data_end; __u32 data_meta; __u32 ingress_ifindex; __u32 rx_queue_index; __u32 egress_ifindex; };
#endif
