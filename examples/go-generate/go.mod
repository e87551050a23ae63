module example.com/cgroupstats

go 1.21

require github.com/cilium/ebpf v0.16.0
