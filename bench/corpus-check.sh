#!/usr/bin/env bash
# Run `bpfabi check` over every object of the corpus against every corpus
# kernel and write the summary to docs/check-corpus.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${BPFABI_CORPUS:-../shared/corpus}"
cargo build --release --quiet --bin bpfabi
K=$CORPUS/kernels
mapfile -t objs < <(python3 -c "import json,sys; [print(sys.argv[1]+'/bpf-objects/'+o['file']) for o in json.load(open(sys.argv[1]+'/bpf-objects/index.json'))]" "$CORPUS")
./target/release/bpfabi check "${objs[@]}" --json \
  --kernel "$K/5.10.223-1" --kernel "$K/6.1.192-2" --kernel "$K/6.12.95-1~bpo12+1" --kernel "$K/6.12.117-1" --kernel "$K/live-6.18" \
  > /tmp/bpfabi-corpus-check.json || true
# The hand-written sections from "## Against real loads" on are kept.
kept=$(sed -n '/^## Against real loads/,$p' docs/check-corpus.md 2>/dev/null || true)
python3 - "$CORPUS" > docs/check-corpus.md <<'PY'
import json, sys, collections
corpus = sys.argv[1]
d = json.load(open('/tmp/bpfabi-corpus-check.json'))
kernels = d['kernels']
res = d['results']
pkg = lambda o: o.split('/bpf-objects/')[1].split('/')[0]
objs = collections.OrderedDict()
for r in res:
    objs.setdefault((pkg(r['object']), r['object']), {}).setdefault(r['kernel'], []).append(r['verdict'])
worst = lambda vs: 'fails' if 'fails' in vs else ('warns' if 'warns' in vs else 'loads')
print('# `bpfabi check` over the corpus\n')
print('Every BPF object of `../shared/corpus/bpf-objects` (%d objects, %d programs) against every corpus kernel. ' % (len(objs), len({(r["object"], r["program"]) for r in res})))
print('Made by `bash bench/corpus-check.sh`. An object counts as *fails* on a kernel when any of its programs fails there '
      '(libbpf-tools ship alternative programs and switch the unusable ones off at run time, so for them a failing program '
      'is expected on some kernels).\n')
print('## Objects that load, by package\n')
print('| package | objects | ' + ' | '.join(kernels) + ' |')
print('|---|---|' + '---|' * len(kernels))
pk = collections.OrderedDict()
for (p, o), per in objs.items():
    pk.setdefault(p, []).append(per)
for p, lst in pk.items():
    cells = []
    for k in kernels:
        c = collections.Counter(worst(per.get(k, ['loads'])) for per in lst)
        cells.append('%d loads, %d warn, %d fail' % (c['loads'], c['warns'], c['fails']))
    print('| %s | %d | %s |' % (p, len(lst), ' | '.join(cells)))
print('\n## Programs by verdict\n')
print('| kernel | loads | warns | fails |')
print('|---|---|---|---|')
for k in kernels:
    c = collections.Counter(r['verdict'] for r in res if r['kernel'] == k)
    print('| %s | %d | %d | %d |' % (k, c['loads'], c['warns'], c['fails']))
print('\n## Top reasons\n')
print('Programs with at least one reason of each kind (a program can have several). '
      'Notable: `core_unresolved` on 5.10 is mostly the 6.1 selftests reading fields 5.10 lacks, and test-only '
      'types from bpf_testmod; `attach_target_missing` on 6.18 includes xdp-tools\' `tp_btf/xdp_redirect_map` and '
      '`xdp_redirect_map_err`, tracepoints that kernel no longer has; `section_unknown` is cilium/ebpf and '
      'selftest objects whose section names follow no libbpf convention.\n')
print('| kernel | reason | programs |')
print('|---|---|---|')
for k in kernels:
    c = collections.Counter(kind for r in res if r['kernel'] == k for kind in {x['kind'] for x in r['reasons']})
    for kind, n in c.most_common(6):
        print('| %s | `%s` | %d |' % (k, kind, n))
PY
[ -z "$kept" ] || printf '\n%s\n' "$kept" >> docs/check-corpus.md
echo "wrote docs/check-corpus.md"
