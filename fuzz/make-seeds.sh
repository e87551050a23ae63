#!/usr/bin/env bash
# Regenerate fuzz/seeds: small real files from the corpus (minimised by
# choice: the smallest objects and their BTF) plus synthetic seeds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${BPFABI_CORPUS:-$here/../../shared/corpus}"
seeds="$here/seeds"
# Only the directories this script makes are replaced: the others (apt_text,
# btf_ext_lines, census_input, census_package, integration_config, modinfo,
# raw_image) hold seeds written by hand or by their own tests and are kept.
generated=(btf_parse btf_lazy btf_walk btf_split btf_ids object_inspect object_check kernel_image deb probe_file c_decl)
for d in "${generated[@]}"; do rm -rf "${seeds:?}/$d"; mkdir -p "$seeds/$d"; done
objs=(
  golang-github-cilium-ebpf-dev/0.9.1-1/loader-clang-7-eb.elf.o
  golang-github-cilium-ebpf-dev/0.9.1-1/relocs_read-el.elf.o
  selftests-6.1/bpf_cubic.bpf.o
  selftests-6.1/kfunc_call_test_subprog.bpf.o
  libbpf-tools/0.26.0+ds-1/runqslower.bpf.o
)
for o in "${objs[@]}"; do
  n=$(basename "$o" .o)
  cp "$corpus/bpf-objects/$o" "$seeds/object_inspect/$n"
  cp "$corpus/bpf-objects/$o" "$seeds/object_check/$n"
  llvm-objcopy --dump-section .BTF="$seeds/btf_parse/$n.btf" "$corpus/bpf-objects/$o" /dev/null 2>/dev/null || true
done
cp "$corpus/kernels/6.12.117-1/vmlinux.btf_ids" "$seeds/btf_ids/vmlinux-6.12.117"
# An ELF executable with a small .BTF, for the kernel image seeds.
tmp=$(mktemp -d)
printf 'void _start(void) {}\n' > "$tmp/s.c"
gcc -c -O2 "$tmp/s.c" -o "$tmp/s.o" && ld -o "$tmp/exe" "$tmp/s.o" -e _start
objcopy --add-section .BTF="$seeds/btf_parse/bpf_cubic.bpf.btf" "$tmp/exe" "$seeds/elf-with-btf"
cargo run --quiet --manifest-path "$here/../Cargo.toml" --example make_fuzz_seeds -- "$seeds"
# A tiny Debian package around the bzImage seed.
mkdir -p "$tmp/root/DEBIAN" "$tmp/root/boot"
cp "$seeds/kernel_image/bzimage-gzip" "$tmp/root/boot/vmlinuz-6.1.0"
printf 'Package: linux-image-fuzz\nVersion: 1\nArchitecture: amd64\nMaintainer: f <f@example.org>\nDescription: seed\n' > "$tmp/root/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$tmp/root" "$seeds/deb/linux-image.deb" >/dev/null
rm -rf "$tmp"
# Probe files: a real probe of a few variants (needs root), trimmed to a
# dozen decisions per variant.
if [ "$(id -u)" -eq 0 ] && [ -e /sys/kernel/btf/vmlinux ]; then
  cargo run --quiet --manifest-path "$here/../Cargo.toml" -- probe --only raw_tp.w --only struct_ops/bpf_dummy_ops \
    --only lirc_mode2 --only fentry -o "$seeds/probe_file/live-small.json" >/dev/null
  python3 - "$seeds/probe_file" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/live-small.json"))
for v in d["variants"]:
    v["helpers"], v["kfuncs"] = v["helpers"][:12], v["kfuncs"][:12]
    ok = ("verifier_accepted", "rejected_other")
    v["allowed_helpers"] = [h["id"] for h in v["helpers"] if h["how"] in ok]
    v["allowed_kfuncs"] = [k["name"] for k in v["kfuncs"] if k["how"] in ok]
json.dump(d, open(sys.argv[1] + "/trimmed.json", "w"))
PY
  rm "$seeds/probe_file/live-small.json"
fi
# C declarations (c_decl): real kfunc prototypes of a kernel with modules
# (a callback, arrays and tags where it has them), and the renderer's corner
# cases (comments for what it cannot spell, anonymous tags, `...`).
mkdir -p "$seeds/c_decl"
cargo run --quiet --manifest-path "$here/../Cargo.toml" -- surface "$corpus/kernels/6.12.117-1" --format json | python3 -c '
import json, sys
ps = [k["proto"] for k in json.load(sys.stdin)["kfuncs"]]
pick = [p for p in ps if "(*" in p][:2] + [p for p in ps if "[" in p or "__attribute__" in p][:2] + ps[:3]
for i, p in enumerate(dict.fromkeys(pick)):
    open(sys.argv[1] + "/real-%d" % i, "w").write(p)
' "$seeds/c_decl"
printf '%s' 'struct cgroup __attribute__((btf_type_tag("rcu"))) *f(void __attribute__((address_space(1))) *p, char (*a)[16], const volatile int * const q, int m[2][3], ...)' > "$seeds/c_decl/tags_arrays"
printf '%s' '/* bad type 7 */ *f(/* nested too deep */, union {...} u, enum e x, long unsigned int n, _Bool b)' > "$seeds/c_decl/comments"
printf '%s' 'void bpf_rcu_read_lock(void)' > "$seeds/c_decl/void"
# The lazy parse reads the same inputs as the eager one it is held to.
cp "$seeds/btf_parse/"* "$seeds/btf_lazy/"
# The chained walk: three chain starts (4-byte units, little-endian u16)
# at a quarter, half and three quarters of each blob, then the blob.
for f in "$seeds/btf_parse/"*; do
  python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
q = len(d) // 16
open(sys.argv[2], "wb").write(struct.pack("<HHH", q % 65536, 2 * q % 65536, 3 * q % 65536) + d)
' "$f" "$seeds/btf_walk/$(basename "$f")"
done
du -sh "$seeds"
