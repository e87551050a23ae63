#!/usr/bin/env bash
# Benchmark `bpfabi surface --json` against `bpftool btf dump ... format c`
# on the corpus kernels (one hyperfine run), plus in-process parse/surface
# timings. Needs hyperfine and bpftool; writes bench/results-surface.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi --example parse_bench
B=./target/release/bpfabi
args=()
for k in 6.1.192-2 6.12.117-1 live-6.18; do
  d="$CORPUS/kernels/$k"
  args+=(-n "bpfabi surface --json $k" "$B surface $d --json")
  args+=(-n "bpftool format c $k" "bpftool btf dump file $d/vmlinux.btf format c")
done
hyperfine -N --warmup 3 --runs 30 --export-markdown bench/results-surface.md "${args[@]}"
echo
echo "In-process (median of 30):"
./target/release/examples/parse_bench "$CORPUS"/kernels/{6.1.192-2,6.12.117-1,live-6.18}
echo
for k in 6.12.117-1; do
  rss=$( { /usr/bin/time -f %M $B surface "$CORPUS/kernels/$k/vmlinux.btf" --json >/dev/null; } 2>&1 )
  size=$(stat -c %s "$CORPUS/kernels/$k/vmlinux.btf")
  echo "peak RSS $k: ${rss} KiB for a $((size / 1024)) KiB vmlinux.btf"
done
