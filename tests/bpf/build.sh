#!/usr/bin/env bash
# Build the check test programs: tests/bpf/build.sh OUTDIR
# vmlinux.h comes from the corpus 6.12.117 BTF (bpftool), helpers from libbpf-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build}"
corpus="${BPFABI_CORPUS:-$here/../../../shared/corpus}"
mkdir -p "$out"
# Each file is written under a temporary name and renamed: a build running
# beside another never reads a half-written vmlinux.h or object.
bpftool btf dump file "$corpus/kernels/6.12.117-1/vmlinux.btf" format c > "$out/vmlinux.h.$$"
mv -f "$out/vmlinux.h.$$" "$out/vmlinux.h"
for src in "$here"/*.bpf.c; do
  obj="$out/$(basename "${src%.c}").o"
  clang -target bpf -D__TARGET_ARCH_x86 -O2 -g -Wall -Werror -I"$out" -I"$here" -c "$src" -o "$obj.$$"
  mv -f "$obj.$$" "$obj"
done
