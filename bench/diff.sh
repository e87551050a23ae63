#!/usr/bin/env bash
# Benchmark `bpfabi diff` (deep fingerprints of every kfunc and the types
# they reach, vmlinux + modules) against the manual route: bpftool C dumps of
# both kernels and `diff -u`. One hyperfine run (ratios hold under load);
# writes bench/results-diff.md with the load average, peak RSS and, with
# valgrind, instruction counts (callgrind: repeatable whatever the load).
# BPFABI=path/to/bpfabi measures that binary instead of building one;
# BEFORE=path/to/an/older/bpfabi adds its 6.1 -> 6.12.117 row (e.g. main's build).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
if [ -n "${BPFABI:-}" ]; then
  B=$(realpath "$BPFABI")
else
  cargo build --release --quiet --bin bpfabi
  B=./target/release/bpfabi
fi
if [ -n "${BEFORE:-}" ]; then
  BEFORE=$(realpath "$BEFORE")
fi
K=$CORPUS/kernels
OUT=bench/results-diff.md
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
manual() {
  echo "bpftool btf dump file $K/$1/vmlinux.btf format c > $T/a.h && bpftool btf dump file $K/$2/vmlinux.btf format c > $T/b.h && diff -u $T/a.h $T/b.h > /dev/null; true"
}
args=(
  -n "bpfabi diff 6.1 6.12.117 (with modules)" "$B diff $K/6.1.192-2 $K/6.12.117-1 --json"
  -n "bpftool dump x2 + diff -u 6.1 6.12.117 (vmlinux only)" "$(manual 6.1.192-2 6.12.117-1)"
  -n "bpfabi diff 6.12.95 6.12.117 (with modules)" "$B diff $K/6.12.95-1~bpo12+1 $K/6.12.117-1 --json"
  -n "bpftool dump x2 + diff -u 6.12.95 6.12.117 (vmlinux only)" "$(manual 6.12.95-1~bpo12+1 6.12.117-1)"
)
if [ -n "${BEFORE:-}" ]; then
  # Last, so the rows above keep their places in the ratios below.
  args+=(-n "bpfabi (before) diff 6.1 6.12.117 (with modules)" "$BEFORE diff $K/6.1.192-2 $K/6.12.117-1 --json")
fi
before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -i --warmup 2 --runs 20 --export-markdown "$OUT.tmp" --export-json "$T/h.json" "${args[@]}"
after=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# diff vs bpftool + diff -u ($(date -u +%F), $(nproc) cores, load average before: $before, after: $after)"
  echo
  echo '`bash bench/diff.sh`'
  echo
  cat "$OUT.tmp"
  echo
  # CPU time (user + sys, mean per run): on a shared machine wall time is
  # mostly waiting for a core; bpfabi reads both kernels on two threads.
  echo "| Command | user + sys [ms] | wall [ms] |"
  echo "|:---|---:|---:|"
  jq -r '.results[] | "| `\(.command)` | \((.user + .system) * 1000 | . * 10 | round / 10) | \(.mean * 1000 | . * 10 | round / 10) |"' "$T/h.json"
  jq -r '.results as $r | "\nCPU ratio 6.1 -> 6.12.117: \(($r[1].user + $r[1].system) / ($r[0].user + $r[0].system) | . * 10 | round / 10)x; 6.12.95 -> 6.12.117: \(($r[3].user + $r[3].system) / ($r[2].user + $r[2].system) | . * 10 | round / 10)x"' "$T/h.json"
  jq -r '.results as $r | "\nWall ratio (mean) 6.1 -> 6.12.117: \($r[1].mean / $r[0].mean | . * 10 | round / 10)x; 6.12.95 -> 6.12.117: \($r[3].mean / $r[2].mean | . * 10 | round / 10)x"' "$T/h.json"
  echo
  # diff exits 1 when something breaks: the last line is the RSS.
  rss=$( { /usr/bin/time -f %M "$B" diff $K/6.1.192-2 $K/6.12.117-1 --json >/dev/null || true; } 2>&1 | tail -1 )
  echo "- peak RSS \`diff 6.1 6.12.117 --json\` (with modules): ${rss} KiB"
  if [ -n "${BEFORE:-}" ]; then
    rss=$( { /usr/bin/time -f %M "$BEFORE" diff $K/6.1.192-2 $K/6.12.117-1 --json >/dev/null || true; } 2>&1 | tail -1 )
    echo "- peak RSS before: ${rss} KiB"
  fi
  rss=$( { /usr/bin/time -f %M bpftool btf dump file $K/6.12.117-1/vmlinux.btf format c >/dev/null; } 2>&1 )
  echo "- peak RSS \`bpftool btf dump file 6.12.117-1/vmlinux.btf format c\`: ${rss} KiB"
  if command -v valgrind >/dev/null; then
    irefs() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p'; }
    echo "- instructions (callgrind) \`diff 6.1 6.12.117 --json\`: $(irefs "$B" diff $K/6.1.192-2 $K/6.12.117-1 --json)"
    if [ -n "${BEFORE:-}" ]; then
      echo "- instructions (callgrind) before: $(irefs "$BEFORE" diff $K/6.1.192-2 $K/6.12.117-1 --json)"
    fi
  fi
} > "$OUT"
rm -f "$OUT.tmp"
cat "$OUT"
