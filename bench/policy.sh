#!/usr/bin/env bash
# Benchmark `bpfabi policy check` against the project's baseline over the
# corpus history (5 kernels with their modules) and over the 7-kernel
# history with sid 7.2.13 and trixie-backports 7.3.4 from the bpfabi cache
# (`bpfabi kernels debian:sid debian:trixie-backports`; skipped when not
# cached) (target: <= 1 s whole process for >= 6 kernels with modules);
# `policy init` over the corpus history; and the cost `check --policy` adds
# to `check` (target: <= 10%), measured as instruction counts with
# callgrind because the machine is shared and wall times are noisy.
# Writes bench/results-policy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/debian/kernels"
cargo build --release --quiet --bin bpfabi
B=./target/release/bpfabi
K=$CORPUS/kernels
H="$K/5.10.223-1 $K/6.1.192-2 $K/6.12.95-1~bpo12+1 $K/6.12.117-1 $K/live-6.18"
H7=""
for r in 7.2.13+deb14-amd64 7.3.4+deb13-amd64; do
  [ -f "$CACHE/$r/vmlinux.btf" ] && H7="$H7 $CACHE/$r"
done
OBJS=$CORPUS/bpf-objects/selftests-6.1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
l0=$(load)
args=(-n "policy check (5 kernels, modules)" "$B policy check --manifest policy/upstream.toml $H")
[ -n "$H7" ] && args+=(-n "policy check (7 kernels: + sid 7.2.13, trixie-backports 7.3.4, modules)" "$B policy check --manifest policy/upstream.toml $H $H7")
args+=(-n "policy init (5 kernels, modules)" "$B policy init $H"
  -n "check selftests-6.1 on 6.12.117" "$B check $OBJS --kernel $K/6.12.117-1"
  -n "check --policy selftests-6.1 on 6.12.117" "$B check $OBJS --kernel $K/6.12.117-1 --policy policy/upstream.toml")
hyperfine -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$T/h.md" --export-json "$T/h.json" "${args[@]}"
l1=$(load)
# Instruction counts (independent of the load).
ir() { { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true; } | sed -n "s/.*Collected : \([0-9]*\).*/\1/p"; }
c0=$(ir $B check $OBJS --kernel $K/6.12.117-1)
c1=$(ir $B check $OBJS --kernel $K/6.12.117-1 --policy policy/upstream.toml)
{
  echo "# policy benchmarks ($(date -u +%Y-%m-%d), $(nproc) cores shared, load average before: $l0, after: $l1)"
  echo
  cat "$T/h.md"
  echo
  echo "CPU time (user + system, mean):"
  python3 -c 'import json,sys; [print("- %s: %.2f s user, %.2f s system" % (r["command"], r["user"], r["system"])) for r in json.load(open(sys.argv[1]))["results"]]' "$T/h.json"
  echo
  echo "Instructions (callgrind, whole process; wall times on this shared machine are noise at this scale):"
  echo
  echo "| command | instructions |"
  echo "|---|---:|"
  echo "| check selftests-6.1 on 6.12.117 | $c0 |"
  echo "| check --policy selftests-6.1 on 6.12.117 | $c1 |"
  echo
  awk -v a="$c0" -v b="$c1" 'BEGIN { printf "check --policy adds %.1f%% instructions to check (target <= 10%%).\n", (b - a) * 100 / a }'
} > bench/results-policy.md
cat bench/results-policy.md
