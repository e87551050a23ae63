#!/usr/bin/env bash
# A kernel matrix (issue 25): one object (libbpf-tools' opensnoop) checked
# against every kernel of the built-in catalog (28 kernels, all
# architectures, `debian:` names resolved from the catalog only, no apt, no
# download) in one process, against 28 runs of `bpftool gen min_core_btf`
# (libbpf's CO-RE relocation engine) over the corpus kernels' full BTF, in
# ONE hyperfine run with two floors: `bpfabi --version` (process start) and
# the same check against one catalog kernel. Wall and CPU time (user + sys,
# from hyperfine's own rusage figures) per command, peak RSS of both
# routes; then the library route: one object against one prepared
# KernelModel (examples/check_bench.rs). Writes bench/results-matrix.md.
#
# Robust on a loaded machine: every command runs under `timeout`
# (BENCH_TIMEOUT seconds, default 120), hyperfine itself under a bound of
# its own, and when the load average is above twice the cores the run
# count drops (10 runs, 1 warm-up; else 30 and 3). BENCH_RUNS overrides
# the count; BENCH_NO_BUILD=1 uses the binaries already built (a release
# build beside a running test suite waits for cargo's lock).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
[ "${BENCH_NO_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin bpfabi --example check_bench
B=$PWD/target/release/bpfabi
OUT=bench/results-matrix.md
TO="${BENCH_TIMEOUT:-120}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export BPFABI_CATALOG=only XDG_CACHE_HOME=$T/cache
OBJ=$CORPUS/bpf-objects/libbpf-tools/0.26.0+ds-1/opensnoop.bpf.o
mapfile -t rel < <("$B" catalog list | awk 'NR > 2 { print $1 }')
[ "${#rel[@]}" -eq 28 ] || { echo "expected 28 catalog kernels, found ${#rel[@]}" >&2; exit 2; }
ks=""
for r in "${rel[@]}"; do ks="$ks --kernel debian:$r"; done
# The bpftool route: 28 runs over the five corpus kernels in turn.
cat > "$T/bpftool-x28" <<EOF
#!/usr/bin/env bash
set -- $CORPUS/kernels/5.10.223-1 $CORPUS/kernels/6.1.192-2 $CORPUS/kernels/6.12.95-1~bpo12+1 $CORPUS/kernels/6.12.117-1 $CORPUS/kernels/live-6.18
for i in \$(seq 0 27); do
  k=\$(( i % 5 + 1 ))
  bpftool gen min_core_btf "\${!k}/vmlinux.btf" "$T/min.btf" "$OBJ"
done
EOF
chmod +x "$T/bpftool-x28"
ncpu=$(nproc)
before=$(cut -d' ' -f1-3 /proc/loadavg)
load=$(awk '{ print int($1) }' /proc/loadavg)
if [ -n "${BENCH_RUNS:-}" ]; then
  runs=$BENCH_RUNS warm=1
elif [ "$load" -ge $((2 * ncpu)) ]; then
  runs=10 warm=1
else
  runs=30 warm=3
fi
names=("bpfabi check opensnoop x 28 catalog kernels" "bpfabi check opensnoop x 1 catalog kernel (floor)"
  "bpfabi --version (floor: process start)" "28 x bpftool gen min_core_btf opensnoop (peer)")
timeout $((runs * 4 * TO + 60)) hyperfine -N -i --warmup "$warm" --runs "$runs" --export-json "$T/h.json" \
  -n "${names[0]}" "timeout $TO $B check $OBJ $ks --json" \
  -n "${names[1]}" "timeout $TO $B check $OBJ --kernel debian:${rel[0]} --json" \
  -n "${names[2]}" "timeout $TO $B --version" \
  -n "${names[3]}" "timeout $TO $T/bpftool-x28" > "$T/h.log" 2>&1 || { cat "$T/h.log" >&2; echo "hyperfine failed or ran out of time" >&2; exit 1; }
after=$(cut -d' ' -f1-3 /proc/loadavg)
rss() { { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -1; }
rss_b=$(rss timeout "$TO" "$B" check "$OBJ" $ks --json)
rss_p=$(rss timeout "$TO" bpftool gen min_core_btf "$CORPUS/kernels/live-6.18/vmlinux.btf" "$T/min.btf" "$OBJ")
{
  echo "# kernel matrix ($(date -u +%F), $ncpu cores, load average before: $before, after: $after)"
  echo
  echo "\`bash bench/matrix.sh\`: one hyperfine run ($runs runs, $warm warm-up, each command under \`timeout $TO\`, no shell)."
  echo "CPU is user + sys per run from hyperfine's rusage figures; wall time on a shared machine is mostly waiting."
  echo
  python3 - "$T/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
peer = r[-1]
print("| command | wall mean ± σ | wall min | CPU per run | bpftool route / this, CPU | wall |")
print("|:---|---:|---:|---:|---:|---:|")
for x in r:
    ratio = "" if x is peer else f"{cpu(peer) / cpu(x):.1f}x | {peer['mean'] / x['mean']:.1f}x"
    ratio = ratio or " | "
    print(f"| {x['command']} | {x['mean'] * 1000:.1f} ± {x['stddev'] * 1000:.1f} ms | {x['min'] * 1000:.1f} ms | {cpu(x):.1f} ms | {ratio} |")
PY
  echo
  echo "- peak RSS: \`check\` x 28 catalog kernels ${rss_b} KiB; one \`bpftool gen min_core_btf\` (live 6.18) ${rss_p} KiB"
  echo
  echo "Library: one object against one prepared KernelModel (examples/check_bench.rs, median of 200):"
  echo
  for k in live-6.18 6.12.117-1; do
    echo "- $(timeout "$TO" ./target/release/examples/check_bench "$OBJ" "$CORPUS/kernels/$k")"
  done
} > "$OUT.new"
mv "$OUT.new" "$OUT"
cat "$OUT"
