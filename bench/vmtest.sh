#!/usr/bin/env bash
# vmtest figures under TCG: whole runs (hyperfine), boot to first load,
# units per second, the probe's duration. Uses the cached kernel package
# (`.ci/run` downloads bookworm's current 6.1 into it).
#   bench/vmtest.sh [KERNEL.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${BPFABI_CORPUS:-$(cd .. && pwd)/shared/corpus}"
k="${1:-$(ls "${XDG_CACHE_HOME:-$HOME/.cache}"/bpfabi/debs/linux-image-6.1.0-*-amd64-unsigned_*.deb | tail -n 1)}"
cargo build --quiet
bin=target/debug/bpfabi
objs=$(mktemp -d)
BPFABI_CORPUS="$corpus" bash tests/bpf/build.sh "$objs" >/dev/null
# The first run fills the unpacked-kernel cache; hyperfine's warmup does it.
hyperfine --warmup 1 --runs 3 --export-markdown bench/results-vmtest.md \
  -n "vmtest tests/bpf (8 units), TCG, $(basename "$k")" \
  "$bin vmtest --kernel $k --accel tcg --no-probe $objs/*.bpf.o"
"$bin" vmtest --kernel "$k" --accel tcg --json "$objs"/*.bpf.o > "$objs/run.json" || true
python3 - "$objs/run.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    b = r["boots"][-1]
    print(f"{r['kernel']}: QEMU start to PID 1 {b['hello_ms']} ms (guest uptime {b['guest_hello_uptime_ms']} ms), "
          f"to first load {b['first_load_ms']} ms; {r['units']} units in {r['load_ms']} ms "
          f"({1000.0 * r['units'] / max(1, r['load_ms']):.1f} units/s); probe {r['probe_ms']} ms")
PY
rm -rf "$objs"
