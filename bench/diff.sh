#!/usr/bin/env bash
# Benchmark `bpfabi diff` (deep fingerprints of every kfunc and the types
# they reach, vmlinux + modules) against the manual route: bpftool C dumps of
# both kernels and `diff -u`. One hyperfine run; writes bench/results-diff.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi
B=./target/release/bpfabi
K=$CORPUS/kernels
manual() {
  echo "bpftool btf dump file $K/$1/vmlinux.btf format c > /tmp/bpfabi-a.h && bpftool btf dump file $K/$2/vmlinux.btf format c > /tmp/bpfabi-b.h && diff -u /tmp/bpfabi-a.h /tmp/bpfabi-b.h > /dev/null; true"
}
hyperfine -i --warmup 2 --runs 20 --export-markdown bench/results-diff.md \
  -n "bpfabi diff 6.12.95 6.12.117 (with modules)" "$B diff $K/6.12.95-1~bpo12+1 $K/6.12.117-1 --json" \
  -n "bpftool dump x2 + diff -u (vmlinux only)" "$(manual 6.12.95-1~bpo12+1 6.12.117-1)" \
  -n "bpfabi diff 6.1 6.12.117 (with modules)" "$B diff $K/6.1.192-2 $K/6.12.117-1 --json" \
  -n "bpftool dump x2 + diff -u 6.1 6.12.117" "$(manual 6.1.192-2 6.12.117-1)"
rm -f /tmp/bpfabi-a.h /tmp/bpfabi-b.h
