//! Impact of each kernel release on the census: the objects are checked
//! against every kernel (`check::check`, verdicts and reasons), and for each
//! consecutive pair of kernels (release order) the objects that loaded on
//! the older and fail on the newer are "broken by" the newer release, with
//! the reasons; the differences between the two kernels (`diff` facts:
//! kfuncs removed or changed, helpers removed, CO-RE types and fields gone)
//! are joined with the census users they hit. Per kfunc: the users a
//! removal would hit (unguarded ones break).
//!
//! Each object is checked as its own loader would load it
//! (`check --loader auto`, [`crate::loader::evidence::infer`]): evidence in
//! the object (legacy `maps`, cilium-only section names, Rust symbols) and
//! the file name it was found under (bpf2go's `<stem>_bpfel.o`).

use super::kernels::KernelKfuncs;
use super::{Category, Census, Guard, ObjectEntry};
use crate::check::{self, CheckOptions, Verdict};
use crate::diff::{self, ChangeKind, DiffOptions, Fact};
use crate::loader::{evidence, LoaderChoice};
use crate::model::KernelModel;
use crate::object::BpfObject;
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One object's verdict on every kernel.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectVerdicts {
    /// SHA-256.
    pub sha256: String,
    /// Display name (`package:file@offset`).
    pub label: String,
    /// Projects holding it.
    pub projects: Vec<String>,
    /// Per kernel: `loads`, `warns`, `fails` (worst program), or `none`
    /// when the object has no program.
    pub verdicts: Vec<String>,
    /// Per kernel: why programs fail (`kfunc_missing bpf_x`), deduplicated.
    pub reasons: Vec<Vec<String>>,
    /// The loader whose rules applied (`libbpf 1.7`, `cilium/ebpf 0.22`).
    pub loader: String,
    /// Why that loader (the evidence); empty: none found, libbpf by default.
    pub loader_evidence: Vec<String>,
    /// Only weak evidence: not for libbpf ≥ 1.0, the loader is a guess
    /// ([`evidence::Inference::weak`]).
    pub loader_weak: bool,
}

/// An object a release breaks.
#[derive(Debug, Clone, Serialize)]
pub struct Broken {
    /// SHA-256.
    pub sha256: String,
    /// Display name.
    pub label: String,
    /// Projects holding it.
    pub projects: Vec<String>,
    /// Why it fails on the newer kernel.
    pub reasons: Vec<String>,
}

/// A kernel difference and the census users it hits.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeHit {
    /// `kfunc_removed`, `type_member_removed`, ...
    pub kind: String,
    /// kfunc, helper or type name.
    pub name: String,
    /// What changed.
    pub detail: String,
    /// Objects requiring it.
    pub objects: usize,
    /// Of those, the ones not guarding its absence.
    pub unguarded: usize,
    /// Their projects.
    pub projects: Vec<String>,
}

/// One release: what moving from `from` to `to` does to the census.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    /// The older kernel.
    pub from: String,
    /// The newer kernel.
    pub to: String,
    /// Objects checked (known objects).
    pub known: usize,
    /// Objects loading on `from` and failing on `to`.
    pub breaks: Vec<Broken>,
    /// Projects of the broken objects.
    pub broken_projects: Vec<String>,
    /// Objects failing on `from` and loading on `to`.
    pub fixes: usize,
    /// Breaking kernel differences (by the default policy) that hit census users.
    pub changes: Vec<ChangeHit>,
}

impl Release {
    /// "6.12.117 breaks 3 of 229 known objects (packages a, b)".
    pub fn sentence(&self) -> String {
        let pk = if self.broken_projects.is_empty() { String::new() } else { format!(" (packages {})", self.broken_projects.join(", ")) };
        format!("{} breaks {} of {} known objects{pk}", self.to, self.breaks.len(), self.known)
    }
}

/// Who a kfunc's removal would hit.
#[derive(Debug, Clone, Serialize)]
pub struct RemovalHit {
    /// The kfunc.
    pub kfunc: String,
    /// Objects calling it.
    pub objects: usize,
    /// Objects that would fail (unguarded use).
    pub would_break: usize,
    /// Their projects.
    pub projects: Vec<String>,
}

/// The impact of a kernel series on a census (`bpfabi.census-impact/1`).
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// Kernels, in the order given (release order).
    pub kernels: Vec<String>,
    /// Census objects checked.
    pub known: usize,
    /// Census objects whose bytes were not available (no store, file gone).
    pub unavailable: Vec<String>,
    /// Every checked object's verdicts.
    pub objects: Vec<ObjectVerdicts>,
    /// Consecutive pairs.
    pub releases: Vec<Release>,
    /// Per kfunc in the census: who its removal would hit.
    pub kfunc_removal: Vec<RemovalHit>,
}

/// The JSON schema of [`Impact`].
pub const SCHEMA: &str = "bpfabi.census-impact/1";

/// The bytes of a census object: `STORE/<sha256>.o`, else the first
/// occurrence on disk whose bytes at the recorded offset still hash right.
pub fn object_bytes(o: &ObjectEntry, store: Option<&Path>) -> Option<Vec<u8>> {
    if let Some(dir) = store {
        if let Ok(b) = std::fs::read(dir.join(format!("{}.o", o.sha256))) {
            if super::sha256_hex(&b) == o.sha256 {
                return Some(b);
            }
        }
    }
    for occ in o.occurrences.iter().filter(|occ| occ.container == occ.path) {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&occ.path) else { continue };
        if f.seek(SeekFrom::Start(occ.offset)).is_err() {
            continue;
        }
        let mut b = Vec::new();
        if f.take(o.size).read_to_end(&mut b).is_ok() && super::sha256_hex(&b) == o.sha256 {
            return Some(b);
        }
    }
    None
}

/// Parse every census object that can be found; objects are named by
/// SHA-256. Returns (census index, object) pairs and the unavailable ones.
pub fn load_objects(census: &Census, store: Option<&Path>) -> (Vec<(usize, BpfObject)>, Vec<String>) {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (i, o) in census.objects.iter().enumerate() {
        match object_bytes(o, store).and_then(|b| BpfObject::parse(&b, &object_name(o)).ok()) {
            Some(obj) => out.push((i, obj)),
            None => missing.push(o.sha256.clone()),
        }
    }
    (out, missing)
}

/// The name an object is checked under: `SHA256/FILE`, FILE being the base
/// name of its first occurrence, so that the loader evidence of file names
/// (bpf2go's `<stem>_bpfel.o`) applies; results are keyed by it.
fn object_name(o: &ObjectEntry) -> String {
    match o.occurrences.first() {
        Some(occ) => format!("{}/{}", o.sha256, occ.path.rsplit('/').next().unwrap_or(&occ.path)),
        None => o.sha256.clone(),
    }
}

/// Objects checked together: parsed from the store for each kernel, checked
/// on it and dropped, so that the parsed objects in memory are this many
/// whatever the size of the census.
const CHUNK: usize = 64;

/// Kernels read one at a time into an [`Impact`]: each kernel added checks
/// every object on it and is diffed with the one before; only that previous
/// model is kept (for the next diff) and, of every kernel, its
/// [`KernelKfuncs`]. The objects are read again from the store for each
/// kernel, [`CHUNK`] at a time, and dropped once checked. `bpfabi report`
/// over five kernels with their modules holds two models and one chunk of
/// objects instead of five models and every object. [`impact`] is this over
/// a slice.
pub struct Series<'c, 's, M> {
    census: &'c Census,
    store: Option<&'s Path>,
    /// Census positions of the objects that could be read, with the loader
    /// each was inferred for.
    index: Vec<usize>,
    loaders: Vec<evidence::Inference>,
    unavailable: Vec<String>,
    helper_names: BTreeMap<u32, String>,
    /// The census's type names (diff options).
    types: Vec<String>,
    /// Per object, per kernel so far: the worst verdict, the failing reasons.
    verdicts: Vec<Vec<Option<Verdict>>>,
    reasons: Vec<Vec<BTreeSet<String>>>,
    /// Per consecutive pair so far: the breaking differences hitting users.
    changes: Vec<Vec<ChangeHit>>,
    tables: Vec<KernelKfuncs>,
    previous: Option<M>,
}

/// The census object `o` parsed, from `store` or where it was found.
fn read_object(o: &ObjectEntry, store: Option<&Path>) -> Option<BpfObject> {
    object_bytes(o, store).and_then(|b| BpfObject::parse(&b, &object_name(o)).ok())
}

impl<'c, 's, M: Borrow<KernelModel>> Series<'c, 's, M> {
    /// The census objects that can be read (from `store`, see
    /// [`object_bytes`]: each is parsed once here for its loader, then
    /// dropped), no kernel yet. `helper_names` names helpers in failure
    /// reasons: those of the whole series ([`crate::model::helper_names`]),
    /// so that the reasons are the ones one `check` over every kernel gives.
    pub fn new(census: &'c Census, store: Option<&'s Path>, helper_names: BTreeMap<u32, String>) -> Self {
        let mut index = Vec::new();
        let mut loaders = Vec::new();
        let mut unavailable = Vec::new();
        for (i, o) in census.objects.iter().enumerate() {
            match read_object(o, store) {
                Some(obj) => {
                    index.push(i);
                    loaders.push(evidence::infer(&obj));
                }
                None => unavailable.push(o.sha256.clone()),
            }
        }
        let types = census.usage.get(&Category::Type).map(|u| u.iter().map(|u| u.name.clone()).collect()).unwrap_or_default();
        let n = index.len();
        Series {
            census,
            store,
            index,
            loaders,
            unavailable,
            helper_names,
            types,
            verdicts: vec![Vec::new(); n],
            reasons: vec![Vec::new(); n],
            changes: Vec::new(),
            tables: Vec::new(),
            previous: None,
        }
    }

    /// The next kernel (release order): diff it with the previous one, drop
    /// the previous one, check every object on it (as its own loader loads
    /// it).
    pub fn add(&mut self, kernel: M) {
        let k = kernel.borrow();
        // The diff first, then the previous model goes: the objects are
        // checked with one model in memory.
        if let Some(old) = self.previous.take() {
            self.changes.push(changes(self.census, old.borrow(), k, &self.types));
        }
        for v in &mut self.verdicts {
            v.push(None);
        }
        for r in &mut self.reasons {
            r.push(BTreeSet::new());
        }
        let opts = CheckOptions::default().loader(LoaderChoice::Auto);
        for (c, chunk) in self.index.chunks(CHUNK).enumerate() {
            // An object gone from the store since `new` has no result here
            // (verdict `none`).
            let mut at: HashMap<String, usize> = HashMap::new();
            let mut objects = Vec::with_capacity(chunk.len());
            for (j, i) in chunk.iter().enumerate() {
                if let Some(obj) = self.census.objects.get(*i).and_then(|o| read_object(o, self.store)) {
                    at.insert(obj.path.clone(), c * CHUNK + j);
                    objects.push(obj);
                }
            }
            for r in check::check_named(&objects, std::slice::from_ref(k), &self.helper_names, &opts) {
                let Some(&i) = at.get(r.object.as_str()) else { continue };
                if let Some(v) = self.verdicts.get_mut(i).and_then(|v| v.last_mut()) {
                    *v = Some(v.map_or(r.verdict, |old| old.max(r.verdict)));
                }
                if r.verdict == Verdict::Fails {
                    if let Some(set) = self.reasons.get_mut(i).and_then(|s| s.last_mut()) {
                        set.extend(r.reasons.iter().filter(|x| x.severity == Verdict::Fails).map(|x| format!("{} {}", x.kind, x.name).trim().to_string()));
                    }
                }
            }
        }
        self.tables.push(KernelKfuncs::of(k));
        self.previous = Some(kernel);
    }

    /// The impact of the kernels added, and their kfunc tables (for the
    /// timeline, answers and candidates of the report).
    pub fn finish(self) -> (Impact, Vec<KernelKfuncs>) {
        let Series { census, index, loaders, verdicts, reasons, changes, tables, unavailable, .. } = self;
        let ov: Vec<ObjectVerdicts> = index
            .iter()
            .zip(loaders)
            .zip(verdicts.into_iter().zip(reasons))
            .filter_map(|((i, inferred), vr)| Some((census.objects.get(*i)?, inferred, vr)))
            .map(|(o, inferred, (v, reasons))| ObjectVerdicts {
                sha256: o.sha256.clone(),
                label: o.label(),
                projects: o.projects().into_iter().map(String::from).collect(),
                verdicts: v.iter().map(|v| v.map_or("none", |v| v.as_str()).to_string()).collect(),
                reasons: reasons.into_iter().map(|s| s.into_iter().collect()).collect(),
                loader: inferred.loader.to_string(),
                loader_evidence: inferred.why,
                loader_weak: inferred.weak,
            })
            .collect();
        let labels: Vec<String> = tables.iter().map(|t| t.label().to_string()).collect();
        let i = assemble(census, &labels, changes, ov, unavailable);
        (i, tables)
    }
}

/// The breaking differences from `old` to `new` (by the default policy)
/// that hit census users, most unguarded users first.
fn changes(census: &Census, old: &KernelModel, new: &KernelModel, types: &[String]) -> Vec<ChangeHit> {
    let d = diff::diff(old, new, &DiffOptions::kfuncs_and_their_types().types(types.to_vec()), &crate::policy::DefaultPolicy);
    let mut changes: Vec<ChangeHit> = d
        .changes
        .iter()
        .filter(|c| c.severity == diff::Severity::Breaking)
        .filter_map(|c| {
            let (objects, unguarded, projects) = hit(census, c)?;
            let detail = if c.detail.is_empty() { c.facts.iter().map(Fact::describe).collect::<Vec<_>>().join("; ") } else { c.detail.clone() };
            Some(ChangeHit { kind: c.kind.as_str().to_string(), name: c.name.clone(), detail, objects, unguarded, projects })
        })
        .collect();
    changes.sort_by(|a, b| b.unguarded.cmp(&a.unguarded).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
    changes
}

/// Objects of `census` hit by a diff change: (objects, unguarded, projects).
fn hit(census: &Census, c: &diff::Change) -> Option<(usize, usize, Vec<String>)> {
    let bare = c.name.trim_start_matches("struct ").trim_start_matches("union ").trim_start_matches("enum ").trim_start_matches("typedef ");
    // (category, key, prefix match) pairs this change touches.
    let mut keys: Vec<(Category, String, bool)> = Vec::new();
    match c.kind {
        ChangeKind::KfuncRemoved | ChangeKind::KfuncRenamed | ChangeKind::KfuncProtoChanged | ChangeKind::KfuncFlagsChanged | ChangeKind::KfuncMoved => {
            keys.push((Category::Kfunc, c.name.clone(), false))
        }
        ChangeKind::HelperRemoved | ChangeKind::HelperRenamed => keys.push((Category::Helper, c.name.clone(), false)),
        ChangeKind::TypeRemoved | ChangeKind::TypeKindChanged | ChangeKind::TypeSizeChanged => keys.push((Category::Type, bare.to_string(), false)),
        ChangeKind::TypeMemberRemoved | ChangeKind::TypeMemberRetyped | ChangeKind::TypeMemberMoved => {
            for f in &c.facts {
                match f {
                    Fact::MemberRemoved { member, .. } | Fact::MemberRetyped { member, .. } | Fact::MemberMoved { member, .. } => {
                        keys.push((Category::Field, format!("{bare}->{member}"), true))
                    }
                    _ => {}
                }
            }
        }
        ChangeKind::EnumValueRemoved | ChangeKind::EnumValueChanged => {
            for f in &c.facts {
                match f {
                    Fact::EnumValueRemoved { name, .. } | Fact::EnumValueChanged { name, .. } => {
                        keys.push((Category::Enumval, format!("{bare}::{name}"), false))
                    }
                    _ => {}
                }
            }
        }
        _ => return None,
    }
    let matches = |k: &str, key: &str, prefix: bool| k == key || (prefix && k.strip_prefix(key).is_some_and(|rest| rest.starts_with(['.', '-', '['])));
    let mut objects = 0;
    let mut unguarded = 0;
    let mut projects = BTreeSet::new();
    for o in &census.objects {
        let mut g: Option<Guard> = None;
        for (cat, key, prefix) in &keys {
            if let Some(m) = o.requires.get(cat) {
                for (k, guard) in m {
                    if matches(k, key, *prefix) {
                        g = Some(match (g, guard) {
                            (Some(Guard::Unguarded), _) | (_, Guard::Unguarded) => Guard::Unguarded,
                            _ => Guard::Guarded,
                        });
                    }
                }
            }
        }
        if let Some(g) = g {
            objects += 1;
            unguarded += (g == Guard::Unguarded) as usize;
            projects.extend(o.projects().into_iter().map(String::from));
        }
    }
    (objects > 0).then(|| (objects, unguarded, projects.into_iter().collect()))
}

/// The impact of `kernels` (release order) on `census`. `store` is where
/// `census --store` put the objects.
pub fn impact(census: &Census, kernels: &[KernelModel], store: Option<&Path>) -> Impact {
    let mut s = Series::new(census, store, crate::model::helper_names(kernels));
    for k in kernels {
        s.add(k);
    }
    s.finish().0
}

/// The [`Impact`] of kernels `labels` (release order), from the changes of
/// each consecutive pair and every object's verdicts.
fn assemble(census: &Census, labels: &[String], changes: Vec<Vec<ChangeHit>>, ov: Vec<ObjectVerdicts>, unavailable: Vec<String>) -> Impact {
    let mut releases = Vec::new();
    for (i, (pair, changes)) in labels.windows(2).zip(changes).enumerate() {
        let [old, new] = pair else { continue };
        let v = |o: &ObjectVerdicts, k: usize| o.verdicts.get(k).map(String::as_str) == Some("fails");
        let breaks: Vec<Broken> = ov
            .iter()
            .filter(|o| !v(o, i) && v(o, i + 1))
            .map(|o| Broken {
                sha256: o.sha256.clone(),
                label: o.label.clone(),
                projects: o.projects.clone(),
                reasons: o.reasons.get(i + 1).cloned().unwrap_or_default(),
            })
            .collect();
        let fixes = ov.iter().filter(|o| v(o, i) && !v(o, i + 1)).count();
        let broken_projects: BTreeSet<String> = breaks.iter().flat_map(|b| b.projects.iter().cloned()).collect();
        releases.push(Release {
            from: old.clone(),
            to: new.clone(),
            known: ov.len(),
            breaks,
            broken_projects: broken_projects.into_iter().collect(),
            fixes,
            changes,
        });
    }
    let kfunc_removal = census
        .usage
        .get(&Category::Kfunc)
        .map(|rows| {
            rows.iter().map(|u| RemovalHit { kfunc: u.name.clone(), objects: u.objects, would_break: u.unguarded, projects: u.project_names.clone() }).collect()
        })
        .unwrap_or_default();
    Impact { kernels: labels.to_vec(), known: ov.len(), unavailable, objects: ov, releases, kfunc_removal }
}
