// ciliumload: per-program real loads with cilium/ebpf, one JSON line per program (same fields as progload).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

const pinDir = "/sys/fs/bpf/ciliumload-scratch"
// set at build time (scripts/build-loaders: -ldflags "-X main.loaderName=...")
var loaderName = "cilium/ebpf (version not recorded)"

type line struct {
	Object  string `json:"object"`
	Program string `json:"program"`
	Section string `json:"section"`
	Loaded  bool   `json:"loaded"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	Loader  string `json:"loader"`
}

func emit(l line) { l.Loader = loaderName; b, _ := json.Marshal(l); fmt.Println(string(b)) }

// Map types (BPF_MAP_TYPE_*, numbered so that every cilium/ebpf version
// builds) that sizeMaps treats apart.
const (
	stackTrace          = ebpf.MapType(7)
	perfEventArray      = ebpf.MapType(4)
	cgroupStorage       = ebpf.MapType(19)
	percpuCgroupStorage = ebpf.MapType(21)
	skStorage           = ebpf.MapType(24)
	ringBuf             = ebpf.MapType(27)
	inodeStorage        = ebpf.MapType(28)
	taskStorage         = ebpf.MapType(29)
	userRingBuf         = ebpf.MapType(31)
	cgrpStorage         = ebpf.MapType(32)
)

// sizeMaps sizes maps as user space would before loading, as bpfabi's libbpf
// driver does (src/vmtest/libbpf.rs size_maps): max_entries 0 becomes 256 KiB
// for ring buffers and user ring buffers, 1 otherwise, except where 0 is
// right (storage maps: the kernel wants 0; perf event arrays: the library
// uses the CPU count); a stack trace map with value_size 0 gets 1016 bytes
// (127 frames, as libbpf-tools' user space sets with bpf_map__set_value_size).
func sizeMaps(spec *ebpf.CollectionSpec) {
	for _, m := range spec.Maps {
		if m.Type == stackTrace && m.ValueSize == 0 {
			m.ValueSize = 1016
		}
		if m.MaxEntries != 0 {
			continue
		}
		switch m.Type {
		case perfEventArray, cgroupStorage, percpuCgroupStorage, skStorage, inodeStorage, taskStorage, cgrpStorage:
		case ringBuf, userRingBuf:
			m.MaxEntries = 256 * 1024
		default:
			m.MaxEntries = 1
		}
	}
}

// needed is the program to load and every program a prog array's
// initialiser names: cilium/ebpf creates every map of the collection and
// fills each prog array with its programs by name (collection.go
// populateDeferredMaps: "unknown program" when one is missing), and user
// space loads the whole collection, so those programs are there too.
func needed(spec *ebpf.CollectionSpec, prog string) map[string]bool {
	keep := map[string]bool{prog: true}
	for _, m := range spec.Maps {
		if m.Type != ebpf.ProgramArray {
			continue
		}
		for _, kv := range m.Contents {
			if name, ok := kv.Value.(string); ok && spec.Programs[name] != nil {
				keep[name] = true
			}
		}
	}
	return keep
}

func main() {
	os.MkdirAll(pinDir, 0o700)
	defer os.RemoveAll(pinDir)
	var objs []string
	for i := 1; i < len(os.Args); i++ {
		switch a := os.Args[i]; a {
		case "--version":
			fmt.Println(loaderName)
			return
		case "--timeout", "--log-max", "--pin-root": // progload's options: accepted, not needed here
			i++
		default:
			objs = append(objs, a)
		}
	}
	for _, obj := range objs {
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			emit(line{Object: obj, Status: "open_failed", Error: err.Error()})
			continue
		}
		names := make([]string, 0, len(spec.Programs))
		for n := range spec.Programs {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			emit(line{Object: obj, Status: "no_programs", Error: "object has no programs"})
		}
		for _, n := range names {
			ps := spec.Programs[n]
			one := spec.Copy()
			keep := needed(one, n)
			for k := range one.Programs {
				if !keep[k] {
					delete(one.Programs, k)
				}
			}
			sizeMaps(one)
			coll, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: pinDir}, Programs: ebpf.ProgramOptions{LogDisabled: false}})
			l := line{Object: obj, Program: n, Section: ps.SectionName}
			if err != nil {
				msg := err.Error()
				var ve *ebpf.VerifierError
				if errors.As(err, &ve) {
					msg = strings.Join(ve.Log[max(0, len(ve.Log)-3):], " | ")
					msg = err.Error() + " :: " + msg
				}
				l.Status, l.Error = "rejected", msg
			} else if coll.Programs[n] == nil {
				// the library returned without loading it (e.g. a program of unspecified type)
				l.Status, l.Error = "not_loaded_by_library", "cilium/ebpf created the collection without this program"
				coll.Close()
			} else {
				l.Loaded, l.Status = true, "loaded"
				for _, m := range coll.Maps {
					m.Unpin()
				}
				coll.Close()
			}
			emit(l)
		}
	}
}
