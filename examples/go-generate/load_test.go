package cgroupstats

import "testing"

// The generated bindings compile against cilium/ebpf and its reader
// accepts the object (no kernel needed: nothing is loaded).
func TestPrograms(t *testing.T) {
	names, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "dump_cgroup_stats" {
		t.Fatalf("programs: %v", names)
	}
}
