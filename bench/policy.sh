#!/usr/bin/env bash
# Benchmark `bpfabi policy check` over the corpus history (5 kernels, with
# their modules) against the project's baseline (target: <= 1 s whole
# process), `policy init` over the same history, and the cost `check
# --policy` adds to `check` (target: <= 10%). Writes bench/results-policy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi
B=./target/release/bpfabi
K=$CORPUS/kernels
H="$K/5.10.223-1 $K/6.1.192-2 $K/6.12.95-1~bpo12+1 $K/6.12.117-1 $K/live-6.18"
OBJS=$CORPUS/bpf-objects/selftests-6.1
hyperfine -i --warmup 2 --runs 15 --export-markdown bench/results-policy.md \
  -n "policy check (5 kernels, modules)" "$B policy check --manifest policy/upstream.toml $H" \
  -n "policy init (5 kernels, modules)" "$B policy init $H" \
  -n "check selftests-6.1 on 6.12.117" "$B check $OBJS --kernel $K/6.12.117-1" \
  -n "check --policy selftests-6.1 on 6.12.117" "$B check $OBJS --kernel $K/6.12.117-1 --policy policy/upstream.toml"
