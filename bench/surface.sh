#!/usr/bin/env bash
# Benchmark `bpfabi surface --json` against its floor, `cat` of the same
# vmlinux.btf, and against `bpftool btf dump ... format c` on the corpus
# kernels (one hyperfine run, so the ratios hold under the shared machine's
# load), then peak RSS. Needs hyperfine and bpftool; writes
# bench/results-surface.md with the load average before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi
B=./target/release/bpfabi
OUT=bench/results-surface.md
args=()
for k in live-6.18 6.12.117-1 6.1.192-2; do
  d="$CORPUS/kernels/$k"
  args+=(-n "cat $k/vmlinux.btf (floor)" "cat $d/vmlinux.btf")
  args+=(-n "bpfabi surface --json $k" "$B surface $d --json")
  args+=(-n "bpftool format c $k" "bpftool btf dump file $d/vmlinux.btf format c")
done
before=$(cut -d' ' -f1-3 /proc/loadavg)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
hyperfine -N --warmup 5 --runs 40 --export-markdown "$OUT.tmp" --export-json "$T/h.json" "${args[@]}"
after=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# surface vs its floor ($(date -u +%F), $(nproc) cores, load average before: $before, after: $after)"
  echo
  echo '`bash bench/surface.sh`; ratios are to the first row (`cat` of live 6.18'"'"'s vmlinux.btf).'
  echo
  cat "$OUT.tmp"
  echo
  # CPU time (user + sys, mean per run), and each row against the `cat`
  # (floor) row of its kernel.
  echo "| Command | user + sys [ms] | vs floor (CPU) | wall [ms] |"
  echo "|:---|---:|---:|---:|"
  jq -r '.results as $r | range(0; $r | length) as $i | ($r[$i - ($i % 3)] | .user + .system) as $floor | $r[$i] | "| `\(.command)` | \((.user + .system) * 1000 | . * 100 | round / 100) | \((.user + .system) / $floor | . * 100 | round / 100)x | \(.mean * 1000 | . * 100 | round / 100) |"' "$T/h.json"
  echo
  for k in live-6.18 6.12.117-1; do
    rss=$( { /usr/bin/time -f %M $B surface "$CORPUS/kernels/$k" --json >/dev/null; } 2>&1 )
    size=$(stat -c %s "$CORPUS/kernels/$k/vmlinux.btf")
    echo "- peak RSS \`surface --json\` $k: ${rss} KiB for a $((size / 1024)) KiB vmlinux.btf"
  done
} > "$OUT"
rm -f "$OUT.tmp"
cat "$OUT"
