#!/usr/bin/env bash
# Benchmark `bpfabi surface --json` against its floor, `cat` of the same
# vmlinux.btf, and against `bpftool btf dump ... format c` on the corpus
# kernels (one hyperfine run, so the ratios hold under the shared machine's
# load), then peak RSS and, with valgrind, instruction counts (callgrind:
# repeatable whatever the load), and the live 6.18 rows once more run by run
# in turn (bench/interleave.py). Needs hyperfine, bpftool, python3; writes
# bench/results-surface.md with the load average before and after.
# The binary measured is the static release build (`cargo release-static`,
# .cargo/config.toml); the dynamically linked one `cargo build --release`
# makes gets a live-6.18 row too. BPFABI=path/to/bpfabi measures that
# binary instead of building them; BEFORE=path/to/an/older/bpfabi adds its
# live-6.18 row (e.g. main's build).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DYN=
# Every binary is measured from a copy, as installed (`cargo install`
# copies it too): the linker's own output file, written piecemeal, started
# 0.3-0.45 ms slower here than a copy of the same bytes (stop 22: same
# binary, same file system, interleaved).
if [ -n "${BPFABI:-}" ]; then
  cp "$BPFABI" "$T/bpfabi"
else
  cargo build --release --quiet --bin bpfabi
  cp target/release/bpfabi "$T/bpfabi-dynamic"
  DYN="$T/bpfabi-dynamic"
  cargo --quiet release-static
  cp target/release/bpfabi "$T/bpfabi"
fi
B="$T/bpfabi"
if [ -n "${BEFORE:-}" ]; then
  cp "$BEFORE" "$T/bpfabi-before"
  BEFORE="$T/bpfabi-before"
fi
OUT=bench/results-surface.md
# The floor of a kernel directory is `cat` of every file `surface` reads
# in it: meta.json, vmlinux.btf, vmlinux.btf_ids and modules/* (the
# modules' split BTF and .btf_ids; not the kernel's config, which surface
# does not read). With strace, the list is checked against the files
# bpfabi opens.
inputs_of() {
  local d=$1 f
  for f in meta.json vmlinux.btf vmlinux.btf_ids; do
    if [ -f "$d/$f" ]; then echo "$d/$f"; fi
  done
  if [ -d "$d/modules" ]; then ls "$d"/modules/*; fi
}
opened_by() {
  strace -f -e trace=openat -o "$T/strace" "$@" >/dev/null
  sed -n 's/.*openat(AT_FDCWD, "\([^"]*\)", O_RDONLY|O_CLOEXEC) = [0-9].*/\1/p' "$T/strace" | grep -v "^/proc/\|^/sys/" | sort
}
args=()
# floor[i]: the row of the `cat` (floor) of row i's kernel.
floor=()
for k in live-6.18 6.12.117-1 6.1.192-2; do
  d="$CORPUS/kernels/$k"
  f=$(( ${#args[@]} / 3 ))
  mapfile -t files < <(inputs_of "$d")
  if command -v strace >/dev/null; then
    if ! diff <(printf '%s\n' "${files[@]}" | sort) <(opened_by "$B" surface "$d" --json) >&2; then
      echo "bench/surface.sh: the floor of $k is not the files surface reads (above: < floor, > read)" >&2
      exit 1
    fi
  fi
  args+=(-n "cat $k inputs (floor)" "cat ${files[*]}")
  args+=(-n "bpfabi surface --json $k" "$B surface $d --json")
  floor+=("$f" "$f")
  if [ "$k" = live-6.18 ] && [ -n "$DYN" ]; then
    args+=(-n "bpfabi (dynamic) surface --json $k" "$DYN surface $d --json")
    floor+=("$f")
  fi
  if [ "$k" = live-6.18 ] && [ -n "${BEFORE:-}" ]; then
    args+=(-n "bpfabi (before) surface --json $k" "$BEFORE surface $d --json")
    floor+=("$f")
  fi
  args+=(-n "bpftool format c $k" "bpftool btf dump file $d/vmlinux.btf format c")
  floor+=("$f")
done
before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 5 --runs 40 --export-markdown "$OUT.tmp" --export-json "$T/h.json" "${args[@]}"
after=$(cut -d' ' -f1-3 /proc/loadavg)
floors=$(printf '%s\n' "${floor[@]}" | jq -s -c .)
{
  echo "# surface vs its floor ($(date -u +%F), $(nproc) cores, load average before: $before, after: $after)"
  echo
  echo '`bash bench/surface.sh`; `bpfabi` is the static release build (`cargo release-static`), `bpfabi (dynamic)` the one of `cargo build --release`; ratios are to the fastest row.'
  echo
  cat "$OUT.tmp"
  echo
  # CPU time (user + sys, mean per run), and each row against the `cat`
  # (floor) row of its kernel.
  echo "| Command | user + sys [ms] | vs floor (CPU) | wall [ms] | vs floor (wall) |"
  echo "|:---|---:|---:|---:|---:|"
  jq -r --argjson fl "$floors" '.results as $r | range(0; $r | length) as $i | $r[$fl[$i]] as $f | ($f.user + $f.system) as $floor | $r[$i] | "| `\(.command)` | \((.user + .system) * 1000 | . * 100 | round / 100) | \((.user + .system) / $floor | . * 100 | round / 100)x | \(.mean * 1000 | . * 100 | round / 100) | \(.mean / $f.mean | . * 100 | round / 100)x |"' "$T/h.json"
  echo
  # The same commands of live 6.18, interleaved (bench/interleave.py): a
  # before/after comparison that the machine's drift within a hyperfine
  # run cannot tilt.
  d="$CORPUS/kernels/live-6.18"
  inter=("cat live-6.18 inputs (floor)::cat $(inputs_of "$d" | tr '\n' ' ')" "bpfabi surface --json live-6.18::$B surface $d --json")
  if [ -n "$DYN" ]; then
    inter+=("bpfabi (dynamic) surface --json live-6.18::$DYN surface $d --json")
  fi
  if [ -n "${BEFORE:-}" ]; then
    inter+=("bpfabi (before) surface --json live-6.18::$BEFORE surface $d --json")
  fi
  python3 bench/interleave.py 300 "${inter[@]}"
  echo
  for k in live-6.18 6.12.117-1; do
    rss=$( { /usr/bin/time -f %M "$B" surface "$CORPUS/kernels/$k" --json >/dev/null; } 2>&1 )
    size=$(stat -c %s "$CORPUS/kernels/$k/vmlinux.btf")
    echo "- peak RSS \`surface --json\` $k: ${rss} KiB for a $((size / 1024)) KiB vmlinux.btf"
  done
  if command -v valgrind >/dev/null; then
    irefs() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p'; }
    echo "- instructions (callgrind) \`surface --json\` live-6.18: $(irefs "$B" surface "$CORPUS/kernels/live-6.18" --json)"
    if [ -n "${BEFORE:-}" ]; then
      echo "- instructions (callgrind) before: $(irefs "$BEFORE" surface "$CORPUS/kernels/live-6.18" --json)"
    fi
    echo "- instructions (callgrind) \`cat\` live-6.18: $(irefs cat "$CORPUS/kernels/live-6.18/vmlinux.btf")"
  fi
} > "$OUT"
rm -f "$OUT.tmp"
cat "$OUT"
