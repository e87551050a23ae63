#!/usr/bin/env bash
# Benchmark `bpfabi probe` on the running kernel (needs root) against
# `bpftool feature probe kernel` (helpers of the basic program types, about
# 5,700 bpf() calls) in one hyperfine run, with the floor of a probe: the
# same process with no helper and no kfunc asked (kernel BTF read, variants
# loaded once, contexts). Then per command the CPU time (user + sys), peak
# RSS and, for bpfabi, the BPF_PROG_LOAD count from the JSON summary.
# BEFORE=path/to/an/older/bpfabi adds its row (e.g. the previous commit);
# BPFABI=path/to/bpfabi measures that binary instead of building one.
# Writes bench/results-probe.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BPFABI:-}" ]; then
  B=$(realpath "$BPFABI")
else
  cargo build --release --quiet --bin bpfabi
  B=$PWD/target/release/bpfabi
fi
OUT=bench/results-probe.md
rows=(-n "bpfabi probe --json (helpers + kfuncs, all variants)" "$B probe --json > /dev/null"
  -n "bpfabi probe --json --no-helpers --no-kfuncs (floor)" "$B probe --json --no-helpers --no-kfuncs > /dev/null"
  -n "bpftool feature probe kernel -j" "bpftool feature probe kernel -j > /dev/null")
if [ -n "${BEFORE:-}" ]; then
  rows+=(-n "bpfabi probe --json (before)" "$BEFORE probe --json > /dev/null")
fi
before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine --warmup 1 --runs 10 --export-markdown "$OUT.tmp" "${rows[@]}"
after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu() { /usr/bin/time -f "%U %S %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.0f ms CPU (user %.2f s + sys %.2f s), peak RSS %d KiB", ($1 + $2) * 1000, $1, $2, $3 }'; }
loads() { "$@" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("%d loads, %d helper and %d kfunc decisions" % (s["loads"], s["helpers"], s["kfuncs"]))'; }
{
  echo "# probe of the running kernel ($(uname -r), $(date -u +%F), $(nproc) cores, load average before: $before, after: $after)"
  echo
  echo '`bash bench/probe.sh` (hyperfine --warmup 1 --runs 10, one run):'
  echo
  cat "$OUT.tmp"
  echo
  echo "- bpfabi probe: $(cpu "$B" probe --json); $(loads "$B" probe --json)"
  echo "- floor (no helpers, no kfuncs): $(cpu "$B" probe --json --no-helpers --no-kfuncs)"
  echo "- bpftool feature probe kernel: $(cpu bpftool feature probe kernel -j); $(strace -f -c -e trace=bpf bpftool feature probe kernel -j 2>&1 >/dev/null | awk '$NF == "bpf" { print $4 " bpf() calls" }')"
  if [ -n "${BEFORE:-}" ]; then
    echo "- before: $(cpu "$BEFORE" probe --json); $(loads "$BEFORE" probe --json)"
  fi
} > "$OUT"
rm -f "$OUT.tmp"
cat "$OUT"
