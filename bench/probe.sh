#!/usr/bin/env bash
# Benchmark `bpfabi probe` on the running kernel (needs root): the whole
# probe (every program variant x every helper and kfunc, ~26,000 loads on
# 6.18), helpers only, one thread, and `bpftool feature probe kernel`
# (helpers of the 32 basic program types, ~6,000 loads) for scale.
# Writes bench/results-probe.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin bpfabi
hyperfine --warmup 1 --runs 5 --export-markdown bench/results-probe.md \
  -n "bpfabi probe --json (all variants, helpers + kfuncs, 2 threads)" "./target/release/bpfabi probe --json > /dev/null" \
  -n "bpfabi probe --json --threads 1" "./target/release/bpfabi probe --json --threads 1 > /dev/null" \
  -n "bpfabi probe --json --no-kfuncs" "./target/release/bpfabi probe --json --no-kfuncs > /dev/null" \
  -n "bpftool feature probe kernel -j" "bpftool feature probe kernel -j > /dev/null"
