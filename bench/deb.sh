#!/usr/bin/env bash
# Reading a Debian kernel package: `bpfabi surface PKG.deb` (vmlinuz and every
# module read in memory) against the shell route on the same machine:
# `dpkg-deb --fsys-tarfile | tar x` then decompressing every compressed
# module on all cores (`xargs -P$(nproc) xz -d` / `zstd -d`). Also peak RSS.
# Packages come from the cache (${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/debs,
# or BPFABI_DEBS); pass them as arguments or let the script pick every
# linux-image-*-unsigned_*.deb there. Writes bench/results-deb.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBS="${BPFABI_DEBS:-${XDG_CACHE_HOME:-$HOME/.cache}/bpfabi/debs}"
if [ $# -eq 0 ]; then set -- "$DEBS"/linux-image-*-unsigned_*.deb; fi
cargo build --release --quiet --bin bpfabi
B=$PWD/target/release/bpfabi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N=$(nproc)
args=()
for deb in "$@"; do
  name=$(basename "$deb" .deb)
  mods=$(dpkg-deb -c "$deb" | grep -c '\.ko' || true)
  args+=(-n "bpfabi surface $name ($mods modules)" "$B surface $deb --json")
  args+=(-n "dpkg-deb | tar x + decompress modules ×$N, $name" \
    "rm -rf $T/x && mkdir $T/x && dpkg-deb --fsys-tarfile $deb | tar x -C $T/x && (find $T/x -name '*.ko.xz' -print0 | xargs -0 -r -P$N -n 64 xz -d) && (find $T/x -name '*.ko.zst' -print0 | xargs -0 -r -P$N -n 64 zstd -q -d --rm)")
done
hyperfine --warmup 1 --runs 10 --export-markdown bench/results-deb.md "${args[@]}"
for deb in "$@"; do
  rss=$( { /usr/bin/time -f %M "$B" surface "$deb" --json >/dev/null; } 2>&1 )
  echo "peak RSS $(basename "$deb"): ${rss} KiB"
done
