// Package cgroupstats loads the cgroup_stats BPF program with cilium/ebpf.
//
// `go generate` compiles it with bpf2go, then checks the object bpf2go
// wrote with bpfabi, by cilium/ebpf's rules, against the kernels of
// .bpfabi.toml; findings print
// as file:line:col: lines, like `go vet`'s (docs/integration.md, "Go").
package cgroupstats

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cflags "-O2 -g -Wall" cgroupStats ../bpf/cgroup_stats.bpf.c
//go:generate bpfabi check --loader cilium --format gnu --config .bpfabi.toml cgroupstats_bpfel.o
