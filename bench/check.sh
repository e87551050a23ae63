#!/usr/bin/env bash
# Benchmark `bpfabi check`: 1,000 object checks against the 5 corpus kernels
# in one process (the corpus objects repeated), and one object against one
# kernel vs `bpftool gen min_core_btf` (libbpf's CO-RE relocation engine,
# no load). One hyperfine run; writes bench/results-check.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi
K=$CORPUS/kernels
mapfile -t objs < <(python3 -c "
import json,sys
o=[sys.argv[1]+'/bpf-objects/'+x['file'] for x in json.load(open(sys.argv[1]+'/bpf-objects/index.json'))]
print('\n'.join((o*10)[:1000]))" "$CORPUS")
printf '%s\n' "${objs[@]}" > /tmp/bpfabi-1000.txt
kernels="--kernel $K/5.10.223-1 --kernel $K/6.1.192-2 --kernel $K/6.12.95-1~bpo12+1 --kernel $K/6.12.117-1 --kernel $K/live-6.18"
one=$CORPUS/bpf-objects/libbpf-tools/0.26.0+ds-1/runqslower.bpf.o
hyperfine -i --warmup 1 --runs 10 --export-markdown bench/results-check.md \
  -n "bpfabi check: 1000 objects x 5 kernels" "xargs -a /tmp/bpfabi-1000.txt ./target/release/bpfabi check --json $kernels -- > /dev/null" \
  -n "bpfabi check: runqslower x 6.12.117" "./target/release/bpfabi check --json --kernel $K/6.12.117-1 -- $one > /dev/null" \
  -n "bpftool gen min_core_btf: runqslower x 6.12.117" "bpftool gen min_core_btf $K/6.12.117-1/vmlinux.btf /tmp/bpfabi-min.btf $one"
rm -f /tmp/bpfabi-min.btf /tmp/bpfabi-1000.txt
