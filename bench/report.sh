#!/usr/bin/env bash
# Report generation for 500 objects x 6 kernels (issue #15's target: <= 2 s).
# 500 distinct objects: the corpus's bpf-objects, then copies made distinct
# by one byte of the ELF header's padding (e_ident[15], ignored by readers),
# censused with --store; 6 kernels: the five corpus kernels and sid's 7.2.13
# from the bpfabi cache (`bpfabi kernels debian:sid`), with its modules, and
# for comparison without the 7.x kernel and with it read --no-modules.
# Writes bench/results-report.md (hyperfine; user/system CPU next to wall
# time and the load average, because the machine is shared; the peak RSS of
# one run of each command).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
SID="${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/debian/kernels/7.2.13+deb14-amd64"
[ -f "$SID/vmlinux.btf" ] || { echo "bench/report.sh: $SID missing: run bpfabi kernels debian:sid" >&2; exit 2; }
cargo build --release --quiet --bin bpfabi
B=$PWD/target/release/bpfabi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/objs"
n=0
for pass in 0 1 2 3; do
  while IFS= read -r f; do
    [ "$n" -ge 500 ] && break 2
    o="$T/objs/$(basename "$f" .o).v$pass.o"
    cp "$f" "$o"
    [ "$pass" -gt 0 ] && printf "\\x0$pass" | dd of="$o" bs=1 seek=15 conv=notrunc status=none
    n=$((n + 1))
  done < <(find "$CORPUS/bpf-objects" -name '*.o' | sort)
done
"$B" census --json --store "$T/store" -o "$T/census.json" "$T/objs" 2>"$T/census.log"
objects=$(grep -o '[0-9]* distinct objects' "$T/census.log" | cut -d' ' -f1)
K=()
for k in 5.10.223-1 6.1.192-2 '6.12.95-1~bpo12+1' 6.12.117-1 live-6.18; do K+=("$CORPUS/kernels/$k"); done
R="${RUNS:-3}"
mods=$(find "$SID/modules" -name "*.btf" | wc -l)
load() { cut -d' ' -f1-3 /proc/loadavg; }
l0=$(load)
hyperfine --warmup 1 --runs "$R" --export-markdown "$T/r.md" --export-json "$T/r.json" \
  -n "report $objects objects x 6 kernels (5 corpus + sid 7.2.13 with $mods module BTFs)" "$B report --census $T/census.json --store $T/store -o $T/site6 ${K[*]} $SID" \
  -n "report $objects objects x 5 corpus kernels" "$B report --census $T/census.json --store $T/store -o $T/site5 ${K[*]}" \
  -n "report $objects objects x 6 kernels, --no-modules" "$B report --no-modules --census $T/census.json --store $T/store -o $T/site6n ${K[*]} $SID"
l1=$(load)
# Peak RSS of one run of each (GNU time), after the timed runs.
rss() { /usr/bin/time -f %M -o "$T/rss" "$@" >/dev/null 2>&1; echo "$(( $(cat "$T/rss") / 1024 )) MiB"; }
r6=$(rss "$B" report --census "$T/census.json" --store "$T/store" -o "$T/rss6" "${K[@]}" "$SID")
r5=$(rss "$B" report --census "$T/census.json" --store "$T/store" -o "$T/rss5" "${K[@]}")
r6n=$(rss "$B" report --no-modules --census "$T/census.json" --store "$T/store" -o "$T/rss6n" "${K[@]}" "$SID")
{
  echo "# Report generation ($(date -u +%Y-%m-%d), $(nproc) cores, load average before: $l0, after: $l1)"
  echo
  echo "\`bash bench/report.sh\`: $objects distinct objects (corpus objects and one-byte-distinct copies)."
  echo
  cat "$T/r.md"
  echo
  echo "Peak RSS (one run each, \`/usr/bin/time\`; the kernels are read, checked and dropped one at a time, the objects re-read 64 at a time per kernel):"
  echo "- 6 kernels with sid's module BTFs: $r6"
  echo "- 5 corpus kernels: $r5"
  echo "- 6 kernels, --no-modules: $r6n"
  echo
  echo "CPU time (user + system, mean):"
  python3 -c 'import json,sys; [print("- %s: %.2f s user, %.2f s system" % (r["command"], r["user"], r["system"])) for r in json.load(open(sys.argv[1]))["results"]]' "$T/r.json"
} > bench/results-report.md
cat bench/results-report.md
