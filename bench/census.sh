#!/usr/bin/env bash
# Census throughput and report generation (hyperfine), and peak RSS:
#  1. `bpfabi census` over the shared corpus's bpf-objects (232 files);
#  2. `bpfabi census` over a directory of real .deb packages (default: the
#     census cache of scripts/debian-census, or BPFABI_CENSUS_DEBS) against
#     decompressing the same packages' data.tar members to /dev/null with the
#     system tools (`xz -dc` / `zstd -dc` / `gzip -dc` piped to cat), once on
#     one core and once on every core (xargs -P);
#  3. `bpfabi report` for the corpus census × the five corpus kernels.
# Writes bench/results-census.md (OUT=FILE for another name, e.g. one per
# suite: OUT=bench/results-census-sid.md BPFABI_CENSUS_DEBS=.../sid_amd64).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
DEBS="${BPFABI_CENSUS_DEBS:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/census-debs/trixie_amd64}"
cargo build --release --quiet --bin bpfabi
B=$PWD/target/release/bpfabi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N=$(nproc)
K=()
for k in 5.10.223-1 6.1.192-2 '6.12.95-1~bpo12+1' 6.12.117-1 live-6.18; do K+=("$CORPUS/kernels/$k"); done

"$B" census --package-dirs --json --store "$T/store" -o "$T/census.json" "$CORPUS/bpf-objects" 2>/dev/null
# Decompress the data.tar member of one package to stdout (the system route).
cat > "$T/unpack" <<'EOF'
#!/bin/sh
# ar member data.tar.* of $1, decompressed, to stdout
m=$(ar t "$1" | grep '^data\.tar')
case "$m" in
  *.xz) ar p "$1" "$m" | xz -dc ;;
  *.zst) ar p "$1" "$m" | zstd -dc ;;
  *.gz) ar p "$1" "$m" | gzip -dc ;;
  *) ar p "$1" "$m" ;;
esac
EOF
chmod +x "$T/unpack"

R="${RUNS:-5}"
hyperfine --warmup 1 --runs "$R" --export-markdown "$T/corpus.md" \
  -n "census corpus bpf-objects (232 files)" "$B census --package-dirs --json -o /dev/null $CORPUS/bpf-objects" \
  -n "report corpus census x 5 kernels" "rm -rf $T/site && $B report --census $T/census.json --store $T/store -o $T/site ${K[*]}"
OUT="${OUT:-bench/results-census.md}"
{ echo "# census benchmarks ($(date -u +%Y-%m-%d), $N cores, load average: $(cut -d' ' -f1-3 /proc/loadavg))"; echo; cat "$T/corpus.md"; } > "$OUT"
if compgen -G "$DEBS/*.deb" > /dev/null; then
  count=$(ls "$DEBS"/*.deb | wc -l)
  size=$(du -sm "$DEBS" | cut -f1)
  # Long runs: fewer repetitions (DEB_RUNS), the page cache is warm after the first.
  hyperfine --warmup 0 --runs "${DEB_RUNS:-2}" --export-markdown "$T/debs.md" \
    -n "census $count .deb ($size MiB)" "$B census --json -o /dev/null $DEBS" \
    -n "decompress data.tar | cat, 1 core" "for d in $DEBS/*.deb; do $T/unpack \$d; done | cat > /dev/null" \
    -n "decompress data.tar | cat, xargs -P$N" "ls $DEBS/*.deb | xargs -P$N -n 8 sh -c 'for d; do $T/unpack \$d; done' _ | cat > /dev/null"
  { echo; echo "Packages: $(basename "$DEBS") (scripts/debian-census cache)"; echo; cat "$T/debs.md"; } >> "$OUT"
else
  echo "no .deb in $DEBS: run scripts/debian-census SUITE first (or set BPFABI_CENSUS_DEBS)" >&2
fi
{
echo
echo "peak RSS census corpus: $(/usr/bin/time -f %M "$B" census --json -o /dev/null "$CORPUS/bpf-objects" 2>&1 >/dev/null | tail -1) KiB"
if compgen -G "$DEBS/*.deb" > /dev/null; then
  echo "peak RSS census debs: $(/usr/bin/time -f %M "$B" census --json -o /dev/null "$DEBS" 2>&1 >/dev/null | tail -1) KiB"
fi
echo "peak RSS report: $(/usr/bin/time -f %M "$B" report --census "$T/census.json" --store "$T/store" -o "$T/site2" "${K[@]}" 2>&1 >/dev/null | tail -1) KiB"
} | tee -a "$OUT"
