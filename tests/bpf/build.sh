#!/usr/bin/env bash
# Build the check test programs: tests/bpf/build.sh OUTDIR
# vmlinux.h comes from the corpus 6.12.117 BTF (bpftool), helpers from libbpf-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build}"
corpus="${BPFABI_CORPUS:-$here/../../../shared/corpus}"
mkdir -p "$out"
bpftool btf dump file "$corpus/kernels/6.12.117-1/vmlinux.btf" format c > "$out/vmlinux.h"
for src in "$here"/*.bpf.c; do
  obj="$out/$(basename "${src%.c}").o"
  clang -target bpf -D__TARGET_ARCH_x86 -O2 -g -Wall -Werror -I"$out" -I"$here" -c "$src" -o "$obj"
done
