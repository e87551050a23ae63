//! What changed in the BPF ABI between two kernels, each change classified
//! breaking / compatible / info with a one-line reason (the rationale table
//! is docs/diff.md).
//!
//! Compares: kfuncs (added, removed, renamed, moved between vmlinux and a
//! module, prototype and KF_* flag changes), helpers, and the layouts of
//! named types reachable from kfunc prototypes (or named with `--type`, or
//! all with `--all-types`): members, sizes, enum values, typedef targets.

use crate::kflags::{Flag, KfFlag};
use crate::model::KernelModel;
pub use crate::policy::Policy;
use crate::release::Release;
use crate::shape::Shapes;
use crate::surface::{Kfunc, Surface};
use crate::versions::{self, FlatMember, KernelVersions, Key, KeyRef, Layout, Reached};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::vocab::{ChangeKind, Exposure, Fact, Severity, SubjectKind};

/// One reported change: a kfunc, helper or type, the facts observed about
/// it, and the severity and one-line detail the policy gave them.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// e.g. `kfunc_removed`, `kfunc_proto_changed`, `type_member_removed`.
    pub kind: ChangeKind,
    /// kfunc, helper or type (`struct task_struct`) name.
    pub name: String,
    /// Module of the kfunc (None: vmlinux).
    pub module: Option<String>,
    /// The worst severity of the facts, by the policy.
    pub severity: Severity,
    /// One line: what changed and why it matters, worst first.
    pub detail: String,
    /// The observed facts.
    #[serde(skip)]
    pub facts: Vec<Fact>,
    /// For a type reached from kfunc prototypes: the shortest path from a
    /// kfunc (`bpf_xdp_ct_lookup -> struct bpf_ct_opts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// For a type reached from kfunc prototypes: how callers see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
}

impl Change {
    pub(crate) fn of(kind: ChangeKind, name: impl Into<String>, module: Option<String>, facts: Vec<Fact>) -> Self {
        Change { kind, name: name.into(), module, severity: Severity::Info, detail: String::new(), facts, via: None, exposure: None }
    }
    /// Grade the facts with `policy`: severity = worst fact, detail = the
    /// facts' descriptions and the policy's reasons, worst first.
    pub fn grade(&mut self, policy: &dyn Policy) {
        let subject = crate::policy::Subject { name: &self.name, module: self.module.as_deref(), exposure: self.exposure };
        let mut graded: Vec<(Severity, String)> = self
            .facts
            .iter()
            .map(|f| {
                let sev = policy.grade_change(&subject, f);
                let d = match policy.explain_change(&subject, f) {
                    Some(why) => format!("{}: {why}", f.describe()),
                    None => f.describe(),
                };
                (sev, d)
            })
            .collect();
        // Worst first (greater is graver); stable within a severity.
        graded.sort_by_key(|g| std::cmp::Reverse(g.0));
        self.severity = graded.first().map(|(s, _)| *s).unwrap_or(Severity::Info);
        self.detail = match graded.len() {
            1 => graded.pop().map(|(_, d)| d).unwrap_or_default(),
            _ => graded.into_iter().map(|(_, d)| d).collect::<Vec<_>>().join("; "),
        };
    }
}

/// The kernel on one side of a diff.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Side {
    /// Kernel release, when known.
    pub release: Option<String>,
    /// Inputs it was read from.
    pub inputs: Vec<String>,
    /// Number of kfuncs.
    pub kfuncs: usize,
    /// Number of helpers.
    pub helpers: usize,
}

/// Counts per severity.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Breaking changes.
    pub breaking: usize,
    /// Compatible changes.
    pub compatible: usize,
    /// Informational changes.
    pub info: usize,
}

/// The result of comparing two kernels.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Diff {
    /// The old kernel.
    pub old: Side,
    /// The new kernel.
    pub new: Side,
    /// Counts per severity.
    pub summary: Summary,
    /// Every change, graded.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Anything breaking?
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }
}

/// What to compare besides kfuncs and helpers.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// Extra named types to compare (`struct task_struct`, `task_struct`).
    pub types: Vec<String>,
    /// Compare every named vmlinux type.
    pub all_types: bool,
    /// Compare types reachable from kfunc prototypes (default on).
    pub kfunc_types: bool,
}

impl DiffOptions {
    /// Compare kfuncs, helpers and the types kfunc prototypes reach.
    pub fn kfuncs_and_their_types() -> Self {
        DiffOptions { kfunc_types: true, ..DiffOptions::default() }
    }
    /// Also compare these named types.
    pub fn types(mut self, types: Vec<String>) -> Self {
        self.types = types;
        self
    }
    /// Compare every named vmlinux type.
    pub fn all_types(mut self, on: bool) -> Self {
        self.all_types = on;
        self
    }
    /// Compare the types kfunc prototypes reach.
    pub fn kfunc_types(mut self, on: bool) -> Self {
        self.kfunc_types = on;
        self
    }
}

/// Verifier-meaningful parameter name suffixes (kernel docs, kfuncs.rst).
pub const ARG_SUFFIXES: &[&str] = &[
    "__sz",
    "__szk",
    "__k",
    "__ign",
    "__uninit",
    "__nullable",
    "__opt",
    "__str",
    "__map",
    "__alloc",
    "__refcounted_kptr",
    "__prog",
    "__irq_flag",
    "__magic",
    "__const_map",
];

/// The verifier annotation a parameter name carries (`""` for none).
pub fn arg_suffix(name: &str) -> &str {
    ARG_SUFFIXES.iter().find(|s| name.ends_with(*s)).copied().unwrap_or("")
}

/// A prototype as C text: return type and (name, type) parameters.
pub type ProtoText = (String, Vec<(String, String)>);

fn params(k: &KernelModel, f: &Kfunc) -> Option<ProtoText> {
    let btf = k.btf_of(f)?;
    let func = btf.ty(f.btf_id)?;
    let proto = btf.ty(func.ref_type())?;
    let ret = versions::type_ref(btf, proto.ref_type());
    let ps = proto
        .params()
        .map(|p| (p.name.to_string(), if p.ty == crate::btf::TypeId::VOID { "...".to_string() } else { versions::type_ref(btf, p.ty) }))
        .collect();
    Some((ret, ps))
}

/// The differences between two prototypes, as facts. Parameters are aligned
/// by name (longest common subsequence); between two aligned names,
/// leftovers pair up by position (renamed and/or retyped), the rest were
/// added or removed. Parameter indexes are 1-based, in the new prototype
/// for paired parameters and additions, in the old one for removals.
pub fn proto_facts(old: &ProtoText, new: &ProtoText) -> Vec<Fact> {
    let mut out = Vec::new();
    if old.0 != new.0 {
        out.push(Fact::ReturnRetyped { from: old.0.clone(), to: new.0.clone() });
    }
    let (o, n) = (&old.1, &new.1);
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
                out.push(Fact::ParamRetyped { index: ni + 1, name: on.clone(), from: ot.clone(), to: nt.clone() });
            }
            if on != nn {
                out.push(Fact::ParamRenamed {
                    index: ni + 1,
                    from: on.clone(),
                    to: nn.clone(),
                    annotation_from: arg_suffix(on).to_string(),
                    annotation_to: arg_suffix(nn).to_string(),
                });
            }
        }
        for (oi, (name, ty)) in o.iter().enumerate().take(ai).skip(pi + paired) {
            out.push(Fact::ParamRemoved { index: oi + 1, decl: format!("{ty} {name}") });
        }
        for (ni, (name, ty)) in n.iter().enumerate().take(aj).skip(pj + paired) {
            out.push(Fact::ParamAdded { index: ni + 1, decl: format!("{ty} {name}") });
        }
        if let (Some(a), Some(b)) = (o.get(ai), n.get(aj)) {
            if a.1 != b.1 {
                out.push(Fact::ParamRetyped { index: aj + 1, name: a.0.clone(), from: a.1.clone(), to: b.1.clone() });
            }
        }
        pi = ai + 1;
        pj = aj + 1;
    }
    out
}

/// Compare two kernels; `policy` grades what changed.
pub fn diff(old: &KernelModel, new: &KernelModel, opts: &DiffOptions, policy: &dyn Policy) -> Diff {
    // No fingerprint table is computed: types are compared by shape (see
    // `diff_types`), and deep fingerprints only where a rename could be
    // told by them (`diff_kfuncs`).
    // The new kernel's surface and type name index, and the old kernel's
    // surface and the types its kfuncs reach, are independent: found at once.
    let reached = std::thread::scope(|s| {
        let prepare = s.spawn(|| {
            new.surface();
            new.vmlinux().index_type_names();
        });
        let old_surface = old.surface();
        let r = opts.kfunc_types.then(|| Reached::of(old.kernel(), old_surface));
        prepare.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        r
    });
    let mut changes = Vec::new();
    diff_kfuncs(old, new, &mut changes);
    diff_helpers(old.surface(), new.surface(), &mut changes);
    diff_types(old, new, opts, reached, &mut changes);
    let mut summary = Summary::default();
    for c in &mut changes {
        c.grade(policy);
        match c.severity {
            Severity::Breaking => summary.breaking += 1,
            Severity::Compatible => summary.compatible += 1,
            Severity::Info => summary.info += 1,
        }
    }
    let side = |p: &KernelModel| Side {
        release: p.kernel().release.clone(),
        inputs: p.kernel().inputs.clone(),
        kfuncs: p.surface().kfuncs.len(),
        helpers: p.surface().helpers.len(),
    };
    Diff { old: side(old), new: side(new), summary, changes }
}

fn diff_kfuncs(old: &KernelModel, new: &KernelModel, out: &mut Vec<Change>) {
    let by_name = |s: &Surface| -> BTreeMap<String, Vec<Kfunc>> {
        let mut m: BTreeMap<String, Vec<Kfunc>> = BTreeMap::new();
        for k in &s.kfuncs {
            m.entry(k.name.clone()).or_default().push(k.clone());
        }
        m
    };
    let (om, nm) = (by_name(old.surface()), by_name(new.surface()));
    let removed: Vec<&Kfunc> = om.iter().filter(|(n, _)| !nm.contains_key(*n)).flat_map(|(_, v)| v.iter()).collect();
    let mut added: Vec<&Kfunc> = nm.iter().filter(|(n, _)| !om.contains_key(*n)).flat_map(|(_, v)| v.iter()).collect();
    // A deep fingerprint covers the prototype fingerprint (docs/fingerprints.md):
    // equal deep fingerprints need equal prototype ones. So the deep ones
    // (the layouts of every type a prototype reaches, on both kernels) are
    // computed only when a removed and an added kfunc share a prototype.
    let with_params = |k: &&&Kfunc| k.proto.takes_args();
    let protos = |m: &KernelModel, ks: &[&Kfunc]| -> BTreeSet<u64> {
        ks.iter().filter(with_params).filter_map(|k| Some(versions::fnv64(&[versions::proto_canonical(m.btf_of(k)?, k).as_bytes()]))).collect()
    };
    let may_rename = protos(old, &removed).intersection(&protos(new, &added)).next().is_some();
    let (ov, nv) = if may_rename { (Some(old.versions()), Some(new.versions())) } else { (None, None) };
    let fp = |v: &Option<std::sync::MutexGuard<'_, KernelVersions>>, k: &Kfunc| v.as_ref()?.kfuncs.get(&(k.name.clone(), k.module.clone())).copied();
    // Deep fingerprints that occur exactly once among removed / added kfuncs
    // with at least one parameter: only those can identify a rename.
    let unique = |v: &Option<std::sync::MutexGuard<'_, KernelVersions>>, ks: &[&Kfunc]| -> BTreeMap<u64, usize> {
        let mut m: BTreeMap<u64, usize> = BTreeMap::new();
        for k in ks.iter().filter(with_params) {
            if let Some((_, d)) = fp(v, k) {
                *m.entry(d).or_default() += 1;
            }
        }
        m.retain(|_, n| *n == 1);
        m
    };
    let (uniq_old, uniq_new) = (unique(&ov, &removed), unique(&nv, &added));
    for r in removed {
        // A successor: `name___v2`-style, or the same (unique, non-trivial)
        // deep fingerprint under a new name.
        let succ = added.iter().position(|a| a.name.starts_with(&format!("{}___", r.name))).or_else(|| {
            let d = fp(&ov, r).map(|x| x.1).filter(|d| uniq_old.contains_key(d) && uniq_new.contains_key(d))?;
            added.iter().position(|a| fp(&nv, a).map(|x| x.1) == Some(d))
        });
        let fact = match succ {
            Some(i) => Fact::KfuncRenamed { to: added.remove(i).name.clone() },
            None => Fact::KfuncRemoved { proto: r.proto.clone() },
        };
        out.push(Change::of(fact.kind(), &r.name, r.module.clone(), vec![fact]));
    }
    drop((ov, nv));
    for a in added {
        out.push(Change::of(ChangeKind::KfuncAdded, &a.name, a.module.clone(), vec![Fact::KfuncAdded { proto: a.proto.clone() }]));
    }
    let trusted_by_default = new.kernel().version().is_some_and(|v| v >= Release::new(6, 19, 0));
    for (name, ov) in &om {
        let Some(nv) = nm.get(name) else { continue };
        let (Some(o), Some(n)) = (ov.first(), nv.first()) else { continue };
        if o.module != n.module {
            out.push(Change::of(ChangeKind::KfuncMoved, name, n.module.clone(), vec![Fact::KfuncMoved { from: o.module.clone(), to: n.module.clone() }]));
        }
        if let (Some(po), Some(pn)) = (params(old, o), params(new, n)) {
            let facts = proto_facts(&po, &pn);
            if !facts.is_empty() {
                out.push(Change::of(ChangeKind::KfuncProtoChanged, name, n.module.clone(), facts));
            }
        }
        if o.flags_known && n.flags_known {
            let (of, nf): (BTreeSet<&String>, BTreeSet<&String>) = (o.flags.iter().collect(), n.flags.iter().collect());
            let facts: Vec<Fact> = nf
                .difference(&of)
                .filter_map(|f| Some(Fact::FlagGained { flag: Flag::parse(f)? }))
                .chain(of.difference(&nf).filter_map(|f| {
                    let flag = Flag::parse(f)?;
                    Some(Fact::FlagLost { flag, retired_default: flag == Flag::Known(KfFlag::TrustedArgs) && trusted_by_default })
                }))
                .collect();
            if !facts.is_empty() {
                out.push(Change::of(ChangeKind::KfuncFlagsChanged, name, n.module.clone(), facts));
            }
        }
    }
}

fn diff_helpers(old: &Surface, new: &Surface, out: &mut Vec<Change>) {
    let o: BTreeMap<u32, &str> = old.helpers.iter().map(|h| (h.id, h.name.as_str())).collect();
    let n: BTreeMap<u32, &str> = new.helpers.iter().map(|h| (h.id, h.name.as_str())).collect();
    for (&id, name) in &o {
        match n.get(&id) {
            None => out.push(Change::of(ChangeKind::HelperRemoved, *name, None, vec![Fact::HelperRemoved { id }])),
            Some(nn) if nn != name => out.push(Change::of(ChangeKind::HelperRenamed, *name, None, vec![Fact::HelperRenamed { id, to: nn.to_string() }])),
            _ => {}
        }
    }
    for (&id, name) in &n {
        if !o.contains_key(&id) {
            out.push(Change::of(ChangeKind::HelperAdded, *name, None, vec![Fact::HelperAdded { id }]));
        }
    }
}

/// One kernel's side of a type comparison: shapes memoised per type id.
struct ShapeSide<'a> {
    shapes: Shapes<'a>,
    ids: Vec<crate::btf::TypeId>,
    set: Vec<u64>,
}

impl<'a> ShapeSide<'a> {
    fn new(btf: &'a crate::btf::Btf) -> Self {
        ShapeSide { shapes: Shapes::new(btf), ids: Vec::new(), set: Vec::new() }
    }

    /// The sorted, distinct shapes of `k`'s definitions (a type with none
    /// is opaque, as its node's only layout), or None when one has no shape.
    fn of(&mut self, k: KeyRef<'_>) -> Option<&[u64]> {
        versions::own_def_ids(self.shapes.btf(), k, &mut self.ids);
        self.set.clear();
        for &id in &self.ids {
            let Some(h) = self.shapes.of_def(id) else {
                // No shape: nothing to go by (`composite_changes` sees an empty set).
                self.set.clear();
                return None;
            };
            self.set.push(h);
        }
        if self.set.is_empty() {
            self.set.push(crate::shape::OPAQUE);
        }
        self.set.sort_unstable();
        self.set.dedup();
        Some(&self.set)
    }
}

/// Whether `k`'s definitions may differ: their shapes differ, or one has
/// none. Leaves each side's definitions and shapes in its `ids` and `set`.
fn shapes_differ(o: &mut ShapeSide<'_>, n: &mut ShapeSide<'_>, k: KeyRef<'_>) -> bool {
    let a = o.of(k).is_some();
    let b = n.of(k).is_some();
    !(a && b && o.set == n.set)
}

/// The changes of `k` when it is one struct or union on both sides (each
/// side's definitions of one shape, as [`shapes_differ`] left them), found
/// member by member: a member's type is spelled only where it is reported
/// or where the shapes of the two references differ (equal shapes spell
/// alike). Pushes what [`layout_changes`] pushes for the two layouts, in
/// its order; false (nothing pushed) when `k` is not such a type or its
/// layout could exhaust its member budget (see [`versions::flat_members`]).
fn composite_changes<'a>(
    o: &mut ShapeSide<'a>,
    n: &mut ShapeSide<'a>,
    k: &Key,
    flat: &mut (Vec<FlatMember<'a>>, Vec<FlatMember<'a>>),
    out: &mut Vec<Change>,
) -> bool {
    let (ob, nb) = (o.shapes.btf(), n.shapes.btf());
    let (Some(ot), Some(nt)) = (o.ids.first().and_then(|&id| ob.ty(id)), n.ids.first().and_then(|&id| nb.ty(id))) else { return false };
    let composite = |t: &crate::btf::Type<'_>| matches!(t.kind, crate::btf::Kind::Struct | crate::btf::Kind::Union);
    if o.set.len() != 1 || n.set.len() != 1 || !composite(&ot) || !composite(&nt) {
        return false;
    }
    let (om, nm) = flat;
    if !versions::flat_members(ob, ot.id, om) || !versions::flat_members(nb, nt.id, nm) {
        return false;
    }
    let name = k.to_string();
    let mut push = |f: Fact| out.push(Change::of(f.kind(), name.as_str(), None, vec![f]));
    if ot.kind != nt.kind {
        push(Fact::TypeKindChanged);
    }
    member_facts(
        om,
        nm,
        |m| &m.name,
        |m| (m.bit_offset, m.bitfield_size),
        |m, new| versions::type_ref(if new { nb } else { ob }, m.ty),
        // Equal shapes spell alike: a member's type is spelled only where
        // the shapes of the two references differ.
        |m, x| {
            if matches!((o.shapes.of_ref(m.ty), n.shapes.of_ref(x.ty)), (Some(a), Some(b)) if a == b) {
                return None;
            }
            let (from, to) = (versions::type_ref(ob, m.ty), versions::type_ref(nb, x.ty));
            (from != to).then_some((from, to))
        },
        &mut push,
    );
    if ot.size() != nt.size() {
        push(Fact::SizeChanged { from: ot.size(), to: nt.size(), is_enum: false });
    }
    true
}

/// How kfunc callers reach named types: the exposure of each type a
/// prototype shows by value or as a filled-in argument (everything else the
/// prototypes reach is behind a pointer), and the shortest path from a kfunc
/// to each reached vmlinux type.
#[derive(Debug, Default)]
pub struct KfuncReach {
    /// Types callers see by value or fill in themselves.
    pub exposure: BTreeMap<Key, Exposure>,
    /// `kfunc -> type -> ... -> key`, first kfunc by name.
    pub via: BTreeMap<Key, String>,
}

/// Compute [`KfuncReach`] for a kernel's kfuncs.
pub fn kfunc_reach(m: &KernelModel) -> KfuncReach {
    let reached = Reached::of(m.kernel(), m.surface());
    let r = Reach::of(m, &reached);
    let via = r.parent.keys().filter_map(|&k| Some((k.to_key(), r.via(k)?))).collect();
    KfuncReach { exposure: r.exposure, via }
}

/// [`KfuncReach`] with paths made on request: the breadth-first parents.
struct Reach<'a> {
    exposure: BTreeMap<Key, Exposure>,
    /// key -> the kfunc that reaches it first (Ok) or the key before it.
    parent: crate::hash::FnvHashMap<KeyRef<'a>, Result<&'a str, KeyRef<'a>>>,
}

impl<'a> Reach<'a> {
    fn of(m: &'a KernelModel, reached: &Reached<'a>) -> Self {
        let mut exposure = BTreeMap::new();
        let mut parent: crate::hash::FnvHashMap<KeyRef<'a>, Result<&'a str, KeyRef<'a>>> = Default::default();
        let mut queue = std::collections::VecDeque::new();
        let mut kfuncs: Vec<&Kfunc> = m.surface().kfuncs.iter().collect();
        kfuncs.sort_by(|a, b| a.name.cmp(&b.name));
        for k in kfuncs {
            let Some(btf) = m.btf_of(k) else { continue };
            let Some(proto) = btf.ty(k.btf_id).and_then(|f| btf.ty(f.ref_type())) else { continue };
            expose(btf, proto.ref_type(), Exposure::ByValue, &mut exposure, 0);
            let params: Vec<_> = proto.params().collect();
            for (i, p) in params.iter().enumerate() {
                let sized = params.get(i + 1).is_some_and(|n| n.name.ends_with("__sz") || n.name.ends_with("__szk"));
                match btf.resolve(p.ty) {
                    Some(t) if t.kind == crate::btf::Kind::Ptr && sized => expose(btf, t.ref_type(), Exposure::Filled, &mut exposure, 0),
                    Some(t) if t.kind == crate::btf::Kind::Ptr => {}
                    Some(_) => expose(btf, p.ty, Exposure::ByValue, &mut exposure, 0),
                    None => {}
                }
            }
            for key in versions::proto_refs_borrowed(btf, k) {
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(key) {
                    e.insert(Ok(k.name.as_str()));
                    queue.push_back(key);
                }
            }
        }
        // Breadth-first over the type graph: shortest paths from any kfunc.
        while let Some(key) = queue.pop_front() {
            for &e in reached.edges(key) {
                if let std::collections::hash_map::Entry::Vacant(x) = parent.entry(e) {
                    x.insert(Err(key));
                    queue.push_back(e);
                }
            }
        }
        Reach { exposure, parent }
    }

    /// The path up to (not including) `key`, shortened in the middle.
    fn via(&self, key: KeyRef<'_>) -> Option<String> {
        let key = self.parent.get_key_value(&key)?.0;
        let mut path = Vec::new();
        let mut cur = key;
        for _ in 0..64 {
            match self.parent.get(cur) {
                Some(Ok(kfunc)) => {
                    path.push(kfunc.to_string());
                    break;
                }
                Some(Err(up)) => {
                    path.push(up.to_string());
                    cur = up;
                }
                None => break,
            }
        }
        path.reverse();
        if path.len() > 3 {
            let last = path.split_off(path.len() - 1);
            path.truncate(1);
            path.push("…".into());
            path.extend(last);
        }
        Some(path.join(" → "))
    }
}

/// Record `id` (and what it contains by value) as seen with `exp`.
fn expose(btf: &crate::btf::Btf, mut id: crate::btf::TypeId, exp: Exposure, out: &mut BTreeMap<Key, Exposure>, depth: usize) {
    use crate::btf::Kind;
    if depth > 32 {
        return;
    }
    for _ in 0..crate::btf::MAX_RESOLVE_DEPTH {
        let Some(t) = btf.ty(id) else { return };
        match t.kind {
            Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => id = t.ref_type(),
            Kind::Typedef => {
                if let Some(k) = versions::key_of(btf, id) {
                    record(out, k, exp);
                }
                id = t.ref_type();
            }
            Kind::Array => match t.array() {
                Some(a) => id = a.elem,
                None => return,
            },
            Kind::Struct | Kind::Union => {
                let named = versions::key_of(btf, id);
                let new = match named {
                    Some(k) => record(out, k, exp),
                    None => true,
                };
                if new {
                    for m in t.members() {
                        expose(btf, m.ty, exp, out, depth + 1);
                    }
                }
                return;
            }
            Kind::Enum | Kind::Enum64 | Kind::Int | Kind::Float => {
                if let Some(k) = versions::key_of(btf, id) {
                    record(out, k, exp);
                }
                return;
            }
            _ => return,
        }
    }
}

/// (size, signed) of member `member` of composite `k` when it is an integer
/// or enum (typedefs and modifiers resolved).
fn member_scalar(btf: &crate::btf::Btf, k: &Key, member: &str) -> Option<(u32, bool)> {
    use crate::btf::Kind;
    let kind = if k.class == versions::Class::Union { Kind::Union } else { Kind::Struct };
    // The first by id, as `Btf::by_name` would give it (vmlinux has no base).
    let t = btf.own_named_types(k.name.as_bytes()).filter(|t| t.kind == kind).min_by_key(|t| t.id)?;
    let m = t.members().find(|m| m.name == member)?;
    let r = btf.resolve(m.ty)?;
    match r.kind {
        Kind::Int => r.int_info().map(|i| (r.size(), i.signed)),
        Kind::Enum | Kind::Enum64 => Some((r.size(), r.enum_signed())),
        _ => None,
    }
}

/// Keep the most visible exposure; true when it changed.
fn record(out: &mut BTreeMap<Key, Exposure>, k: Key, exp: Exposure) -> bool {
    match out.get(&k) {
        Some(old) if *old <= exp => false,
        _ => {
            out.insert(k, exp);
            true
        }
    }
}

fn diff_types<'a>(old: &'a KernelModel, new: &KernelModel, opts: &DiffOptions, reached: Option<Reached<'a>>, out: &mut Vec<Change>) {
    let (ob, nb) = (old.vmlinux(), new.vmlinux());
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    if let Some(r) = &reached {
        // Everything the kfunc prototypes reach in the old kernel.
        keys.extend(r.keys().map(KeyRef::to_key));
    }
    let first = out.len();
    let mut explicit = BTreeSet::new();
    for t in &opts.types {
        if let Some(k) = versions::parse_type_name(ob, t).or_else(|| versions::parse_type_name(nb, t)) {
            explicit.insert(k.clone());
            keys.insert(k);
        }
    }
    if opts.all_types {
        keys.extend(versions::all_type_keys(ob));
        for k in versions::all_type_keys(nb) {
            if !keys.contains(&k) {
                out.push(type_change(&k, vec![Fact::TypeAdded { was_declared: false }]));
            }
        }
    }
    let (mut os, mut ns) = (ShapeSide::new(ob), ShapeSide::new(nb));
    let mut flat = (Vec::new(), Vec::new());
    for k in &keys {
        compare_key(&mut os, &mut ns, k, &mut flat, &explicit, out);
    }
    // Retyped members (same size and signedness on both sides?), and the
    // kfuncs that reach each changed type: paths and exposures are computed
    // only when some reached type changed.
    let mut reach: Option<Reach> = None;
    // A type's changes are consecutive: its key, path and exposure are
    // found once for all of them.
    type Seen = Option<(Option<String>, Exposure)>;
    let mut prev: Option<(String, Option<Key>, Seen)> = None;
    for c in out.iter_mut().skip(first) {
        if prev.as_ref().is_none_or(|p| p.0 != c.name) {
            let k = versions::parse_key(&c.name);
            let seen = match (&k, &reached) {
                (Some(k), Some(r)) if !explicit.contains(k) && r.contains(KeyRef::from(k)) => {
                    let reach = reach.get_or_insert_with(|| Reach::of(old, r));
                    Some((reach.via(KeyRef::from(k)), reach.exposure.get(k).copied().unwrap_or(Exposure::BehindPointer)))
                }
                _ => None,
            };
            prev = Some((c.name.clone(), k, seen));
        }
        let Some((_, Some(k), seen)) = &prev else { continue };
        for f in &mut c.facts {
            if let Fact::MemberRetyped { member, same_repr, .. } = f {
                let scalar = |b: &crate::btf::Btf| member_scalar(b, k, member);
                *same_repr = matches!((scalar(ob), scalar(nb)), (Some(a), Some(b)) if a == b);
            }
        }
        if let Some((via, exposure)) = seen {
            c.via = via.clone();
            c.exposure = Some(*exposure);
        }
    }
}

/// The changes of type `k` between the two sides.
fn compare_key<'a>(
    os: &mut ShapeSide<'a>,
    ns: &mut ShapeSide<'a>,
    k: &Key,
    flat: &mut (Vec<FlatMember<'a>>, Vec<FlatMember<'a>>),
    explicit: &BTreeSet<Key>,
    out: &mut Vec<Change>,
) {
    let (ob, nb) = (os.shapes.btf(), ns.shapes.btf());
    // Equal shapes mean equal layouts (see [`crate::shape`]): only types
    // whose shapes differ are compared, a struct or union member by
    // member, anything else by its layouts.
    if !shapes_differ(os, ns, KeyRef::from(k)) || composite_changes(os, ns, k, flat, out) {
        return;
    }
    let (od, nd) = (versions::layouts_of(ob, k), versions::layouts_of(nb, k));
    if od.len() == nd.len() && od.iter().all(|l| nd.contains(l)) {
        return;
    }
    let exists = |d: &Vec<Layout>| !(d.len() == 1 && d.first() == Some(&Layout::Opaque));
    match (exists(&od), exists(&nd)) {
        (true, false) => return out.push(type_change(k, vec![Fact::TypeRemoved { explicit: explicit.contains(k) }])),
        (false, true) => return out.push(type_change(k, vec![Fact::TypeAdded { was_declared: true }])),
        (false, false) => return,
        _ => {}
    }
    match (od.as_slice(), nd.as_slice()) {
        ([o], [n]) => layout_changes(k, o, n, out),
        _ => out.push(type_change(k, vec![Fact::TypeDuplicates { before: od.len(), after: nd.len() }])),
    }
}

fn type_change(k: &Key, facts: Vec<Fact>) -> Change {
    let kind = facts.first().map(Fact::kind).unwrap_or(ChangeKind::TypeChanged);
    Change::of(kind, k.to_string(), None, facts)
}

/// The member facts of a struct or union against its other side, for both
/// member forms ([`versions::MemberLayout`] of [`layout_changes`], [`FlatMember`] of
/// [`composite_changes`]): named members matched by name (the last of a
/// name kept); removed, retyped and moved ones in the old side's name order,
/// then added ones in the new side's. `spell(m, new)` is a member's type as
/// written on its side, `retyped(old, new)` the two spellings when they
/// differ.
fn member_facts<M>(
    om: &[M],
    nm: &[M],
    name: impl Fn(&M) -> &str,
    pos: impl Fn(&M) -> (u32, u8),
    spell: impl Fn(&M, bool) -> String,
    mut retyped: impl FnMut(&M, &M) -> Option<(String, String)>,
    push: &mut impl FnMut(Fact),
) {
    fn by_name<'m, M>(v: &'m [M], name: &impl Fn(&M) -> &str) -> Vec<&'m M> {
        let mut all: Vec<&M> = v.iter().filter(|m| !name(m).is_empty()).collect();
        all.sort_by(|a, b| name(a).cmp(name(b)));
        let mut kept: Vec<&M> = Vec::with_capacity(all.len());
        for m in all {
            match kept.last_mut() {
                Some(last) if name(last) == name(m) => *last = m,
                _ => kept.push(m),
            }
        }
        kept
    }
    let (obn, nbn) = (by_name(om, &name), by_name(nm, &name));
    let mut j = 0;
    for &m in &obn {
        while nbn.get(j).is_some_and(|x| name(x) < name(m)) {
            j += 1;
        }
        match nbn.get(j).filter(|x| name(x) == name(m)) {
            None => push(Fact::MemberRemoved { member: name(m).to_string(), ty: spell(m, false) }),
            Some(&x) => {
                if let Some((from, to)) = retyped(m, x) {
                    push(Fact::MemberRetyped { member: name(m).to_string(), from, to, same_repr: false });
                }
                let ((from_bit, from_bits), (to_bit, to_bits)) = (pos(m), pos(x));
                if (from_bit, from_bits) != (to_bit, to_bits) {
                    push(Fact::MemberMoved { member: name(m).to_string(), from_bit, to_bit, from_bits: from_bits.into(), to_bits: to_bits.into() });
                }
            }
        }
    }
    let mut i = 0;
    for &x in &nbn {
        while obn.get(i).is_some_and(|m| name(m) < name(x)) {
            i += 1;
        }
        if obn.get(i).is_none_or(|m| name(m) != name(x)) {
            push(Fact::MemberAdded { member: name(x).to_string(), ty: spell(x, true) });
        }
    }
}

fn layout_changes(k: &Key, o: &Layout, n: &Layout, out: &mut Vec<Change>) {
    use Layout::*;
    let mut push = |f: Fact| out.push(type_change(k, vec![f]));
    match (o, n) {
        (Composite { union: ou, size: os, members: om }, Composite { union: nu, size: ns, members: nm }) => {
            if ou != nu {
                push(Fact::TypeKindChanged);
            }
            member_facts(
                om,
                nm,
                |m| &m.name,
                |m| (m.bit_offset, m.bitfield_size),
                |m, _| m.ty.clone(),
                |m, x| (x.ty != m.ty).then(|| (m.ty.clone(), x.ty.clone())),
                &mut push,
            );
            if os != ns {
                push(Fact::SizeChanged { from: *os, to: *ns, is_enum: false });
            }
        }
        (Enum { size: os, values: ov, .. }, Enum { size: ns, values: nv, .. }) => {
            let (om, nm): (BTreeMap<&String, &i128>, BTreeMap<&String, &i128>) =
                (ov.iter().map(|(a, b)| (a, b)).collect(), nv.iter().map(|(a, b)| (a, b)).collect());
            for (name, v) in &om {
                match nm.get(name) {
                    None => push(Fact::EnumValueRemoved { name: name.to_string(), value: **v }),
                    Some(x) if x != v => push(Fact::EnumValueChanged { name: name.to_string(), from: **v, to: **x }),
                    _ => {}
                }
            }
            for (name, v) in &nm {
                if !om.contains_key(name) {
                    push(Fact::EnumValueAdded { name: name.to_string(), value: **v });
                }
            }
            if os != ns {
                push(Fact::SizeChanged { from: *os, to: *ns, is_enum: true });
            }
        }
        (Typedef { target: a }, Typedef { target: b }) if a != b => push(Fact::TypedefChanged { from: a.clone(), to: b.clone() }),
        (Int { size: os, bits: ob, signed: osg, char: oc, bool: obo }, Int { size: ns, bits: nbits, signed: nsg, char: nc, bool: nbo }) => {
            let mut changes = Vec::new();
            let flag = |on: bool, name: &str| if on { name.to_string() } else { "none".to_string() };
            if os != ns {
                changes.push(format!("size {os} -> {ns} bytes"));
            }
            if ob != nbits {
                changes.push(format!("bits {ob} -> {nbits}"));
            }
            if osg != nsg || oc != nc || obo != nbo {
                let enc = |s: bool, c: bool, b: bool| {
                    let v: Vec<&str> = [(s, "SIGNED"), (c, "CHAR"), (b, "BOOL")].iter().filter(|x| x.0).map(|x| x.1).collect();
                    if v.is_empty() {
                        flag(false, "")
                    } else {
                        v.join("|")
                    }
                };
                changes.push(format!("encoding {} -> {}", enc(*osg, *oc, *obo), enc(*nsg, *nc, *nbo)));
            }
            push(Fact::IntEncodingChanged { size_from: *os, size_to: *ns, changes });
        }
        (a, b) if a != b => push(Fact::DefinitionChanged { from: a.canonical(), to: b.canonical() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn p(ret: &str, ps: &[(&str, &str)]) -> ProtoText {
        (ret.into(), ps.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect())
    }

    #[test]
    fn prototype_alignment_by_name() {
        // A parameter inserted in the middle: one addition, nothing retyped.
        let f = proto_facts(&p("int", &[("a", "int"), ("c", "long")]), &p("int", &[("a", "int"), ("b", "u32"), ("c", "long")]));
        assert_eq!(f, vec![Fact::ParamAdded { index: 2, decl: "u32 b".into() }]);
        // Renamed in place with an annotation change, and the return retyped.
        let f = proto_facts(&p("int", &[("buf", "void *"), ("len", "u32")]), &p("long", &[("buf", "void *"), ("len__sz", "u32")]));
        assert_eq!(
            f,
            vec![
                Fact::ReturnRetyped { from: "int".into(), to: "long".into() },
                Fact::ParamRenamed { index: 2, from: "len".into(), to: "len__sz".into(), annotation_from: "".into(), annotation_to: "__sz".into() },
            ]
        );
        // A removed trailing parameter; a retyped anchored one.
        let f = proto_facts(&p("int", &[("x", "int"), ("y", "int")]), &p("int", &[("x", "long")]));
        assert_eq!(
            f,
            vec![
                Fact::ParamRetyped { index: 1, name: "x".into(), from: "int".into(), to: "long".into() },
                Fact::ParamRemoved { index: 2, decl: "int y".into() }
            ]
        );
        assert!(proto_facts(&p("void", &[("a", "int")]), &p("void", &[("a", "int")])).is_empty());
    }

    #[test]
    fn base_type_encoding_changes_say_what_changed() {
        let k = Key { class: versions::Class::Int, name: "char".into() };
        let int = |signed: bool| Layout::Int { size: 1, bits: 8, signed, char: false, bool: false };
        let mut out = Vec::new();
        layout_changes(&k, &int(true), &int(false), &mut out);
        assert_eq!(out[0].facts, vec![Fact::IntEncodingChanged { size_from: 1, size_to: 1, changes: vec!["encoding SIGNED -> none".into()] }]);
        out[0].grade(&crate::policy::DefaultPolicy);
        assert_eq!(out[0].severity, Severity::Compatible);
        assert!(out[0].detail.starts_with("encoding changed: encoding SIGNED -> none: same size"), "{}", out[0].detail);
    }
}
