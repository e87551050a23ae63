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
			for k := range one.Programs {
				if k != n {
					delete(one.Programs, k)
				}
			}
			// size maps user space would size (max_entries 0), like progload does
			for _, m := range one.Maps {
				if m.MaxEntries == 0 {
					if m.Type == ebpf.RingBuf {
						m.MaxEntries = 256 * 1024
					} else if m.Type != ebpf.PerfEventArray {
						m.MaxEntries = 1
					}
				}
			}
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
