package cgroupstats

import "sort"

// Programs returns the names of the programs in the object bpf2go embedded,
// as cilium/ebpf reads them (loadCgroupStats is bpf2go's generated
// constructor of the collection spec). The object itself is what the
// second directive of gen.go checked with `bpfabi check --loader cilium`.
func Programs() ([]string, error) {
	spec, err := loadCgroupStats()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
