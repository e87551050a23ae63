#!/usr/bin/env bash
# The CI action's command (action.yml, docs/integration.md):
#   bpfabi check --policy MANIFEST --format sarif [--config C] [--kernel K]... OBJECTS > SARIF
# Environment (the action's inputs):
#   BPFABI_OBJECTS   objects, directories or globs (`**` allowed), space-separated
#   BPFABI_KERNELS   target kernels, space-separated (default: the config's,
#                    else the running kernel)
#   BPFABI_MANIFEST  stability manifest (default: bpfabi-policy.toml, when present)
#   BPFABI_CONFIG    project configuration (default: .bpfabi.toml, when present)
#   BPFABI_FLAGS     further `check` options
#   BPFABI_SARIF     output file (default: bpfabi.sarif)
#   BPFABI           the binary (default: bpfabi)
# Exit status: bpfabi's (0 clean, 1 findings, 2 error). With GITHUB_OUTPUT
# set it also records `sarif-file` and `exit-code` there, and with
# BPFABI_DEFER_FAILURE=1 exits 0 on findings, so the upload step still
# runs; the action fails afterwards.
set -uo pipefail
shopt -s globstar nullglob
bpfabi="${BPFABI:-bpfabi}"
sarif="${BPFABI_SARIF:-bpfabi.sarif}"
manifest="${BPFABI_MANIFEST:-bpfabi-policy.toml}"
config="${BPFABI_CONFIG:-.bpfabi.toml}"
args=(check --format sarif)
[ -f "$config" ] && args+=(--config "$config")
[ -f "$manifest" ] && args+=(--policy "$manifest")
for k in ${BPFABI_KERNELS:-}; do
  args+=(--kernel "$k")
done
# shellcheck disable=SC2206 # word splitting of the flags is intended
args+=(${BPFABI_FLAGS:-})
objects=()
for pattern in ${BPFABI_OBJECTS:?BPFABI_OBJECTS names no object}; do
  matches=($pattern)
  [ ${#matches[@]} -gt 0 ] || { echo "bpfabi: no file matches $pattern" >&2; exit 2; }
  objects+=("${matches[@]}")
done
"$bpfabi" "${args[@]}" "${objects[@]}" > "$sarif"
rc=$?
# Code scanning wants paths relative to the repository: clang records
# absolute source paths (the compile directory), so strip the checkout's.
root="${GITHUB_WORKSPACE:-$PWD}"
if [ "$rc" != 2 ] && [ -s "$sarif" ]; then
  esc=$(printf '%s' "${root%/}/" | sed 's/[][\.*^$|]/\\&/g')
  sed -i "s|\"uri\": \"$esc|\"uri\": \"|g" "$sarif"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "sarif-file=$sarif"; echo "exit-code=$rc"; } >> "$GITHUB_OUTPUT"
fi
[ "$rc" = 1 ] && [ "${BPFABI_DEFER_FAILURE:-0}" = 1 ] && exit 0
exit "$rc"
