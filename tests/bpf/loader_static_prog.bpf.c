/* A static function in a program section: libbpf refuses the object
 * (libbpf.c v1.7.0 bpf_object__add_programs: "program '...' is static and
 * not supported", since v0.5); cilium/ebpf (v0.22.0 elf_reader.go
 * loadProgramSections) and aya (aya-obj v0.3.0 Object::parse_programs)
 * take every function symbol of the section as a program. */
#include "common.h"

SEC("socket")
static __attribute__((used)) int static_prog(struct __sk_buff *skb)
{
	return 0;
}

SEC("socket")
int global_prog(struct __sk_buff *skb)
{
	return 0;
}
