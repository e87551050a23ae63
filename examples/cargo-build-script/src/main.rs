//! The BPF objects build.rs compiled and checked, embedded in the binary
//! (a loader such as libbpf-rs or aya would load them from here).
static CGROUP_STATS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cgroup_stats.bpf.o"));
static XDP_COUNT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/xdp_count.bpf.o"));

fn main() {
    println!("cgroup_stats.bpf.o: {} bytes, xdp_count.bpf.o: {} bytes", CGROUP_STATS.len(), XDP_COUNT.len());
}
