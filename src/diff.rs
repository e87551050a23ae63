//! What changed in the BPF ABI between two kernels, each change classified
//! breaking / compatible / info with a one-line reason (the rationale table
//! is docs/diff.md).
//!
//! Compares: kfuncs (added, removed, renamed, moved between vmlinux and a
//! module, prototype and KF_* flag changes), helpers, and the layouts of
//! named types reachable from kfunc prototypes (or named with `--type`, or
//! all with `--all-types`): members, sizes, enum values, typedef targets.

use crate::kernel::Kernel;
use crate::kflags::KernelVersion;
use crate::surface::{Kfunc, Surface};
use crate::versions::{self, Key, KernelVersions, Layout, MemberLayout};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Breaking,
    Compatible,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Compatible => "compatible",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// e.g. `kfunc_removed`, `kfunc_proto_changed`, `type_member_removed`.
    pub kind: &'static str,
    /// kfunc, helper or type (`struct task_struct`) name.
    pub name: String,
    pub module: Option<String>,
    pub severity: Severity,
    /// One line: what changed and why it matters.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub release: Option<String>,
    pub inputs: Vec<String>,
    pub kfuncs: usize,
    pub helpers: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub breaking: usize,
    pub compatible: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub summary: Summary,
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }
}

#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Extra named types to compare (`struct task_struct`, `task_struct`).
    pub types: Vec<String>,
    /// Compare every named vmlinux type.
    pub all_types: bool,
    /// Compare types reachable from kfunc prototypes (default on).
    pub kfunc_types: bool,
}

/// One side prepared for comparison.
pub struct Prepared<'k> {
    pub kernel: &'k Kernel,
    pub surface: Surface,
    pub versions: KernelVersions,
}

impl<'k> Prepared<'k> {
    pub fn new(kernel: &'k Kernel) -> Self {
        let surface = crate::surface::of(kernel);
        let versions = KernelVersions::compute(kernel, &surface);
        Prepared { kernel, surface, versions }
    }
}

/// Verifier-meaningful parameter name suffixes (kernel docs, kfuncs.rst).
const ARG_SUFFIXES: &[&str] = &[
    "__sz", "__szk", "__k", "__ign", "__uninit", "__nullable", "__opt", "__str", "__map", "__alloc",
    "__refcounted_kptr", "__prog", "__irq_flag", "__magic",
];

fn arg_suffix(name: &str) -> &str {
    ARG_SUFFIXES.iter().find(|s| name.ends_with(*s)).copied().unwrap_or("")
}

/// What gaining / losing a flag means for an existing program.
fn flag_change(flag: &str, gained: bool, new_version: Option<KernelVersion>) -> (Severity, String) {
    use Severity::*;
    let (sev, why) = match (flag, gained) {
        ("KF_TRUSTED_ARGS", true) => (Breaking, "now rejects programs that pass untrusted (e.g. walked) pointers"),
        ("KF_TRUSTED_ARGS", false) if new_version.is_some_and(|v| v >= KernelVersion(6, 19)) => {
            (Info, "flag retired: trusted arguments are the default from 6.19")
        }
        ("KF_TRUSTED_ARGS", false) => (Compatible, "accepts untrusted pointers too"),
        ("KF_RET_NULL", true) => (Breaking, "may now return NULL: programs that do not check it are rejected"),
        ("KF_RET_NULL", false) => (Compatible, "no longer returns NULL; existing NULL checks stay valid"),
        ("KF_ACQUIRE", true) => (Breaking, "now returns a reference programs must release"),
        ("KF_ACQUIRE", false) => (Breaking, "no longer returns a reference: programs releasing it are rejected"),
        ("KF_RELEASE", _) => (Breaking, "reference ownership of the argument changed"),
        ("KF_SLEEPABLE", true) => (Breaking, "may now sleep: only sleepable programs may call it"),
        ("KF_SLEEPABLE", false) => (Compatible, "no longer sleeps: callable from non-sleepable programs"),
        ("KF_DESTRUCTIVE", true) => (Breaking, "now destructive: needs CAP_SYS_BOOT"),
        ("KF_DESTRUCTIVE", false) => (Compatible, "no longer destructive"),
        ("KF_RCU", true) => (Compatible, "now also accepts RCU-protected pointers"),
        ("KF_RCU", false) => (Breaking, "no longer accepts RCU-protected pointers"),
        ("KF_RCU_PROTECTED", true) => (Breaking, "must now be called under bpf_rcu_read_lock()"),
        ("KF_RCU_PROTECTED", false) => (Compatible, "no longer needs an RCU read-side section"),
        ("KF_FASTCALL", _) => (Info, "calling convention hint for the verifier/JIT only"),
        (f, _) if f.starts_with("KF_ITER_") => (Breaking, "iterator protocol role changed"),
        (f, _) if f.starts_with("KF_ARENA_") => (Breaking, "arena pointer semantics of an argument or return changed"),
        ("KF_KPTR_GET", _) => (Breaking, "kptr reference semantics changed"),
        _ => (Info, "flag with no known meaning in this kernel"),
    };
    (sev, format!("{} {flag}: {why}", if gained { "gained" } else { "lost" }))
}

fn params(k: &Kernel, f: &Kfunc) -> Option<(String, Vec<(String, String)>)> {
    let btf = match &f.module {
        None => &k.vmlinux.btf,
        Some(m) => &k.module(m)?.btf,
    };
    let func = btf.ty(f.btf_id)?;
    let proto = btf.ty(func.ref_type())?;
    let ret = versions::type_ref(btf, proto.ref_type());
    let ps = proto
        .params()
        .map(|p| (p.name.to_string(), if p.ty == 0 { "...".to_string() } else { versions::type_ref(btf, p.ty) }))
        .collect();
    Some((ret, ps))
}

/// Precise prototype differences, worst severity first.
fn proto_changes(old: (String, Vec<(String, String)>), new: (String, Vec<(String, String)>)) -> Vec<(Severity, String)> {
    let mut out = Vec::new();
    if old.0 != new.0 {
        out.push((Severity::Breaking, format!("return type changed from `{}` to `{}`", old.0, new.0)));
    }
    let (o, n) = (&old.1, &new.1);
    // Align parameters by name (longest common subsequence); between two
    // aligned names, leftovers pair up by position (renamed and/or retyped),
    // the rest were added or removed.
    let mut lcs = vec![vec![0usize; n.len() + 1]; o.len() + 1];
    for i in (0..o.len()).rev() {
        for j in (0..n.len()).rev() {
            lcs[i][j] = if o[i].0 == n[j].0 && !o[i].0.is_empty() { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut anchors = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < o.len() && j < n.len() {
        if o[i].0 == n[j].0 && !o[i].0.is_empty() {
            anchors.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    anchors.push((o.len(), n.len()));
    let (mut pi, mut pj) = (0, 0);
    for (ai, aj) in anchors {
        let (og, ng) = (pi..ai, pj..aj);
        let paired = og.len().min(ng.len());
        for k in 0..paired {
            let (oi, ni) = (pi + k, pj + k);
            let ((on, ot), (nn, nt)) = (&o[oi], &n[ni]);
            if ot != nt {
                out.push((Severity::Breaking, format!("parameter {} `{on}` retyped from `{ot}` to `{nt}`", ni + 1)));
            }
            if on != nn {
                let (os, ns) = (arg_suffix(on), arg_suffix(nn));
                if os != ns {
                    out.push((
                        Severity::Breaking,
                        format!("parameter {} renamed `{on}` -> `{nn}`: verifier annotation `{os}` -> `{ns}` changes how the argument is checked", ni + 1),
                    ));
                } else {
                    out.push((Severity::Info, format!("parameter {} renamed `{on}` -> `{nn}`", ni + 1)));
                }
            }
        }
        for (oi, (name, ty)) in o.iter().enumerate().take(ai).skip(pi + paired) {
            out.push((Severity::Breaking, format!("parameter {} `{ty} {name}` removed", oi + 1)));
        }
        for (ni, (name, ty)) in n.iter().enumerate().take(aj).skip(pj + paired) {
            out.push((Severity::Breaking, format!("parameter {} `{ty} {name}` added", ni + 1)));
        }
        // Matched names: compare their types.
        if ai < o.len() && aj < n.len() && o[ai].1 != n[aj].1 {
            out.push((Severity::Breaking, format!("parameter {} `{}` retyped from `{}` to `{}`", aj + 1, o[ai].0, o[ai].1, n[aj].1)));
        }
        pi = ai + 1;
        pj = aj + 1;
    }
    out.sort_by_key(|(s, _)| *s);
    out
}

/// Compare two kernels.
pub fn diff(old: &mut Prepared, new: &mut Prepared, opts: &DiffOptions) -> Diff {
    let mut changes = Vec::new();
    diff_kfuncs(old, new, &mut changes);
    diff_helpers(&old.surface, &new.surface, &mut changes);
    diff_types(old, new, opts, &mut changes);
    let mut summary = Summary::default();
    for c in &changes {
        match c.severity {
            Severity::Breaking => summary.breaking += 1,
            Severity::Compatible => summary.compatible += 1,
            Severity::Info => summary.info += 1,
        }
    }
    let side = |p: &Prepared| Side {
        release: p.kernel.release.clone(),
        inputs: p.kernel.inputs.clone(),
        kfuncs: p.surface.kfuncs.len(),
        helpers: p.surface.helpers.len(),
    };
    Diff { old: side(old), new: side(new), summary, changes }
}

fn diff_kfuncs(old: &Prepared, new: &Prepared, out: &mut Vec<Change>) {
    let by_name = |s: &Surface| -> BTreeMap<String, Vec<Kfunc>> {
        let mut m: BTreeMap<String, Vec<Kfunc>> = BTreeMap::new();
        for k in &s.kfuncs {
            m.entry(k.name.clone()).or_default().push(k.clone());
        }
        m
    };
    let (om, nm) = (by_name(&old.surface), by_name(&new.surface));
    let fp = |p: &Prepared, k: &Kfunc| p.versions.kfuncs.get(&(k.name.clone(), k.module.clone())).copied();
    let removed: Vec<&Kfunc> = om.iter().filter(|(n, _)| !nm.contains_key(*n)).flat_map(|(_, v)| v.iter()).collect();
    let mut added: Vec<&Kfunc> = nm.iter().filter(|(n, _)| !om.contains_key(*n)).flat_map(|(_, v)| v.iter()).collect();
    // Deep fingerprints that occur exactly once among removed / added kfuncs
    // with at least one parameter: only those can identify a rename.
    let unique = |p: &Prepared, ks: &[&Kfunc]| -> BTreeMap<u64, usize> {
        let mut m: BTreeMap<u64, usize> = BTreeMap::new();
        for k in ks.iter().filter(|k| !k.proto.ends_with("(void)")) {
            if let Some((_, d)) = fp(p, k) {
                *m.entry(d).or_default() += 1;
            }
        }
        m.retain(|_, n| *n == 1);
        m
    };
    let (uniq_old, uniq_new) = (unique(old, &removed), unique(new, &added));
    for r in removed {
        // A successor: `name___v2`-style, or the same (unique, non-trivial)
        // deep fingerprint under a new name.
        let succ = added.iter().position(|a| a.name.starts_with(&format!("{}___", r.name))).or_else(|| {
            let d = fp(old, r).map(|x| x.1).filter(|d| uniq_old.contains_key(d) && uniq_new.contains_key(d))?;
            added.iter().position(|a| fp(new, a).map(|x| x.1) == Some(d))
        });
        match succ {
            Some(i) => {
                let a = added.remove(i);
                out.push(Change {
                    kind: "kfunc_renamed",
                    name: r.name.clone(),
                    module: r.module.clone(),
                    severity: Severity::Breaking,
                    detail: format!("likely renamed to `{}`: programs calling `{}` fail to load", a.name, r.name),
                });
            }
            None => out.push(Change {
                kind: "kfunc_removed",
                name: r.name.clone(),
                module: r.module.clone(),
                severity: Severity::Breaking,
                detail: format!("removed: programs calling it fail to load (was `{}`)", r.proto),
            }),
        }
    }
    for a in added {
        out.push(Change {
            kind: "kfunc_added",
            name: a.name.clone(),
            module: a.module.clone(),
            severity: Severity::Compatible,
            detail: format!("added: `{}`", a.proto),
        });
    }
    let new_version = new.kernel.version();
    for (name, ov) in &om {
        let Some(nv) = nm.get(name) else { continue };
        let (o, n) = (&ov[0], &nv[0]);
        if o.module != n.module {
            out.push(Change {
                kind: "kfunc_moved",
                name: name.clone(),
                module: n.module.clone(),
                severity: Severity::Info,
                detail: format!(
                    "moved from {} to {}: libbpf resolves it either way, but the module must be loaded",
                    o.module.as_deref().unwrap_or("vmlinux"),
                    n.module.as_deref().unwrap_or("vmlinux")
                ),
            });
        }
        if let (Some(po), Some(pn)) = (params(old.kernel, o), params(new.kernel, n)) {
            let pc = proto_changes(po, pn);
            if let Some(&(sev, _)) = pc.first() {
                let detail = pc.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join("; ");
                out.push(Change { kind: "kfunc_proto_changed", name: name.clone(), module: n.module.clone(), severity: sev, detail });
            }
        }
        if o.flags_known && n.flags_known {
            let (of, nf): (BTreeSet<&String>, BTreeSet<&String>) = (o.flags.iter().collect(), n.flags.iter().collect());
            let mut fc: Vec<(Severity, String)> = nf
                .difference(&of)
                .map(|f| flag_change(f, true, new_version))
                .chain(of.difference(&nf).map(|f| flag_change(f, false, new_version)))
                .collect();
            fc.sort_by_key(|(s, _)| *s);
            if let Some(&(sev, _)) = fc.first() {
                let detail = fc.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join("; ");
                out.push(Change { kind: "kfunc_flags_changed", name: name.clone(), module: n.module.clone(), severity: sev, detail });
            }
        }
    }
}

fn diff_helpers(old: &Surface, new: &Surface, out: &mut Vec<Change>) {
    let o: BTreeMap<u32, &str> = old.helpers.iter().map(|h| (h.id, h.name.as_str())).collect();
    let n: BTreeMap<u32, &str> = new.helpers.iter().map(|h| (h.id, h.name.as_str())).collect();
    for (id, name) in &o {
        match n.get(id) {
            None => out.push(Change {
                kind: "helper_removed",
                name: name.to_string(),
                module: None,
                severity: Severity::Breaking,
                detail: format!("helper id {id} removed: programs calling it are rejected"),
            }),
            Some(nn) if nn != name => out.push(Change {
                kind: "helper_renamed",
                name: name.to_string(),
                module: None,
                severity: Severity::Info,
                detail: format!("helper id {id} renamed to {nn}: the id, which programs use, is unchanged"),
            }),
            _ => {}
        }
    }
    for (id, name) in &n {
        if !o.contains_key(id) {
            out.push(Change {
                kind: "helper_added",
                name: name.to_string(),
                module: None,
                severity: Severity::Compatible,
                detail: format!("helper id {id} added"),
            });
        }
    }
}

fn diff_types(old: &mut Prepared, new: &mut Prepared, opts: &DiffOptions, out: &mut Vec<Change>) {
    let (ob, nb) = (old.kernel.vmlinux.btf.clone(), new.kernel.vmlinux.btf.clone());
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    if opts.kfunc_types {
        // Everything the kfunc fingerprints reached in the old kernel.
        keys.extend(old.versions.vmlinux_keys());
    }
    let mut explicit = BTreeSet::new();
    for t in &opts.types {
        if let Some(k) = versions::parse_type_name(&ob, t).or_else(|| versions::parse_type_name(&nb, t)) {
            explicit.insert(k.clone());
            keys.insert(k);
        }
    }
    if opts.all_types {
        keys.extend(versions::all_type_keys(&ob));
        for k in versions::all_type_keys(&nb) {
            if !keys.contains(&k) {
                out.push(type_change("type_added", &k, Severity::Info, "added".into()));
            }
        }
    }
    for k in keys {
        old.versions.vmlinux.ensure(&ob, &k);
        new.versions.vmlinux.ensure(&nb, &k);
        let (on, nn) = (old.versions.vmlinux.node(&k), new.versions.vmlinux.node(&k));
        let (Some(on), Some(nn)) = (on, nn) else { continue };
        if on.shallow == nn.shallow {
            continue;
        }
        let (od, nd) = (&on.defs, &nn.defs);
        let exists = |d: &Vec<Layout>| !(d.len() == 1 && d[0] == Layout::Opaque);
        match (exists(od), exists(nd)) {
            (true, false) => {
                let why = if explicit.contains(&k) { "removed" } else { "removed (reachable from a kfunc prototype)" };
                out.push(type_change("type_removed", &k, Severity::Breaking, format!("{why}: CO-RE relocations against it fail")));
                continue;
            }
            (false, true) => {
                out.push(type_change("type_added", &k, Severity::Info, "now defined".into()));
                continue;
            }
            (false, false) => continue,
            _ => {}
        }
        if od.len() != 1 || nd.len() != 1 {
            out.push(type_change(
                "type_changed",
                &k,
                Severity::Info,
                format!("{} definitions before, {} after (duplicate names): compared as a whole", od.len(), nd.len()),
            ));
            continue;
        }
        layout_changes(&k, &od[0], &nd[0], out);
    }
}

fn type_change(kind: &'static str, k: &Key, severity: Severity, detail: String) -> Change {
    Change { kind, name: k.to_string(), module: None, severity, detail }
}

fn layout_changes(k: &Key, o: &Layout, n: &Layout, out: &mut Vec<Change>) {
    use Layout::*;
    match (o, n) {
        (Composite { union: ou, size: os, members: om }, Composite { union: nu, size: ns, members: nm }) => {
            if ou != nu {
                out.push(type_change("type_kind_changed", k, Severity::Breaking, "changed between struct and union".into()));
            }
            let by_name = |v: &Vec<MemberLayout>| -> BTreeMap<String, MemberLayout> {
                v.iter().filter(|m| !m.name.is_empty()).map(|m| (m.name.clone(), m.clone())).collect()
            };
            let (obn, nbn) = (by_name(om), by_name(nm));
            for (name, m) in &obn {
                match nbn.get(name) {
                    None => out.push(type_change(
                        "type_member_removed",
                        k,
                        Severity::Breaking,
                        format!("member `{name}` ({}) removed: CO-RE accesses to it fail to relocate", m.ty),
                    )),
                    Some(x) => {
                        if x.ty != m.ty {
                            out.push(type_change(
                                "type_member_retyped",
                                k,
                                Severity::Breaking,
                                format!("member `{name}` retyped from `{}` to `{}`", m.ty, x.ty),
                            ));
                        }
                        if x.bit_offset != m.bit_offset || x.bitfield_size != m.bitfield_size {
                            out.push(type_change(
                                "type_member_moved",
                                k,
                                Severity::Compatible,
                                format!(
                                    "member `{name}` moved from bit {} to bit {}{}: CO-RE relocates it; programs without CO-RE read the wrong bytes",
                                    m.bit_offset,
                                    x.bit_offset,
                                    if x.bitfield_size != m.bitfield_size {
                                        format!(" (bitfield size {} -> {})", m.bitfield_size, x.bitfield_size)
                                    } else {
                                        String::new()
                                    }
                                ),
                            ));
                        }
                    }
                }
            }
            for (name, m) in &nbn {
                if !obn.contains_key(name) {
                    out.push(type_change("type_member_added", k, Severity::Compatible, format!("member `{name}` ({}) added", m.ty)));
                }
            }
            if os != ns {
                let sev = if ns < os { Severity::Breaking } else { Severity::Info };
                out.push(type_change("type_size_changed", k, sev, format!("size {os} -> {ns} bytes")));
            }
        }
        (Enum { size: os, values: ov, .. }, Enum { size: ns, values: nv, .. }) => {
            let (om, nm): (BTreeMap<&String, &i128>, BTreeMap<&String, &i128>) =
                (ov.iter().map(|(a, b)| (a, b)).collect(), nv.iter().map(|(a, b)| (a, b)).collect());
            for (name, v) in &om {
                match nm.get(name) {
                    None => out.push(type_change(
                        "enum_value_removed",
                        k,
                        Severity::Breaking,
                        format!("`{name}` (= {v}) removed: bpf_core_enum_value() on it fails"),
                    )),
                    Some(x) if x != v => out.push(type_change(
                        "enum_value_changed",
                        k,
                        Severity::Compatible,
                        format!("`{name}` changed from {v} to {x}: bpf_core_enum_value() relocates it; constants compiled in are wrong"),
                    )),
                    _ => {}
                }
            }
            for (name, v) in &nm {
                if !om.contains_key(name) {
                    out.push(type_change("enum_value_added", k, Severity::Compatible, format!("`{name}` = {v} added")));
                }
            }
            if os != ns {
                out.push(type_change("type_size_changed", k, Severity::Breaking, format!("enum size {os} -> {ns} bytes")));
            }
        }
        (Typedef { target: a }, Typedef { target: b }) if a != b => {
            out.push(type_change("typedef_changed", k, Severity::Breaking, format!("now `{b}`, was `{a}`")));
        }
        (a, b) if a != b => {
            out.push(type_change("type_changed", k, Severity::Breaking, "definition changed kind or encoding".into()));
        }
        _ => {}
    }
}
