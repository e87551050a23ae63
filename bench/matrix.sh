#!/usr/bin/env bash
# A kernel matrix (issue 25): one object (libbpf-tools' opensnoop) checked
# against every kernel of the built-in catalog (28 kernels, all
# architectures, `debian:` names resolved from the catalog only, no apt, no
# download) in one process, against 28 runs of `bpftool gen min_core_btf`
# (libbpf's CO-RE relocation engine) over the corpus kernels' full BTF, in
# one hyperfine run; then the library route: one object against one
# prepared KernelModel (examples/check_bench.rs). Writes
# bench/results-matrix.md with the load average and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi --example check_bench
B=$PWD/target/release/bpfabi
OUT=bench/results-matrix.md
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export BPFABI_CATALOG=only XDG_CACHE_HOME=$T/cache
OBJ=$CORPUS/bpf-objects/libbpf-tools/0.26.0+ds-1/opensnoop.bpf.o
mapfile -t rel < <("$B" catalog list | awk 'NR > 2 { print $1 }')
[ "${#rel[@]}" -eq 28 ] || { echo "expected 28 catalog kernels, found ${#rel[@]}" >&2; exit 2; }
ks=""
for r in "${rel[@]}"; do ks="$ks --kernel debian:$r"; done
"$B" check "$OBJ" $ks --json > /dev/null || true # materialize the catalog once
loop="for i in \$(seq 0 27); do set -- $CORPUS/kernels/5.10.223-1 $CORPUS/kernels/6.1.192-2 $CORPUS/kernels/6.12.95-1~bpo12+1 $CORPUS/kernels/6.12.117-1 $CORPUS/kernels/live-6.18; shift \$((i % 5)); bpftool gen min_core_btf \$1/vmlinux.btf $T/min.btf $OBJ; done"
before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -i -N --warmup 3 --runs 30 --export-markdown "$OUT.tmp" \
  -n "bpfabi check opensnoop x 28 catalog kernels" "$B check $OBJ $ks --json"
hyperfine -i --warmup 1 --runs 5 --export-markdown "$OUT.tmp2" \
  -n "bpfabi check opensnoop x 28 catalog kernels" "$B check $OBJ $ks --json > /dev/null" \
  -n "28 x bpftool gen min_core_btf opensnoop" "$loop"
after=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# kernel matrix ($(date -u +%F), $(nproc) cores, load average before: $before, after: $after)"
  echo
  echo '`bash bench/matrix.sh`. First without a shell (hyperfine -N, 30 runs), then both routes in one run:'
  echo
  cat "$OUT.tmp"
  echo
  cat "$OUT.tmp2"
  echo
  rss=$( { /usr/bin/time -f %M "$B" check "$OBJ" $ks --json >/dev/null || true; } 2>&1 | tail -1)
  echo "- peak RSS \`check\` x 28 catalog kernels: ${rss} KiB"
  # CPU time (user + sys), which the load of a shared machine distorts less
  # than wall time: 20 runs of bpfabi, 2 of the 28-run bpftool loop.
  cpu() { local n=$1; shift; /usr/bin/time -f "%U %S" bash -c "for i in \$(seq $n); do $* > /dev/null 2>&1 || true; done" 2>&1 | tail -1 | awk -v n="$n" '{ printf "%.1f ms", ($1 + $2) * 1000 / n }'; }
  a=$(cpu 20 "$B check $OBJ $ks --json")
  b=$(cpu 2 "$loop")
  echo "- CPU time (user + sys) per run: bpfabi check x 28 kernels $a; 28 x bpftool gen min_core_btf $b"
  echo
  echo "Library: one object against one prepared KernelModel (examples/check_bench.rs, median of 200):"
  echo
  for k in live-6.18 6.12.117-1; do
    echo "- $(./target/release/examples/check_bench "$OBJ" "$CORPUS/kernels/$k")"
  done
} > "$OUT"
rm -f "$OUT.tmp" "$OUT.tmp2"
cat "$OUT"
