module example.com/cgroupstats

go 1.22

require github.com/cilium/ebpf v0.22.0
