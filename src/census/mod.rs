//! Usage census of real BPF programs: which kfuncs, helpers, kernel types
//! and fields, program types and attach targets real objects need, and how
//! many distinct objects and packages (projects) need each.
//!
//! Objects are found in directories, executables and shared libraries
//! (embedded skeletons at any offset) and Debian packages streamed without
//! unpacking ([`walk`]); they are deduplicated by SHA-256 and every
//! occurrence (package, version, path, offset) is kept. Counts are computed
//! after deduplication from the per-object requirements, so censuses of
//! disjoint or overlapping shards merge by set union ([`Census::merge`]) into
//! exactly what one run over all inputs gives. [`impact`] joins a census with
//! kernels (what each release breaks), [`suggest`] proposes stable kfuncs,
//! [`site`] renders the static report. JSON schema `bpfabi.census/1`
//! (docs/census.md, docs/json-schema.md).

pub mod answers;
pub mod fetch;
pub mod impact;
pub mod kernels;
pub mod pkg;
#[cfg(feature = "site")]
pub mod site;
pub mod suggest;
pub mod walk;
pub mod zip;

use crate::object::btf_ext::CoreReloKind;
use crate::object::{essential, BpfObject, ExternKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The JSON schema name of a census document.
pub const SCHEMA: &str = "bpfabi.census/1";

/// What an object requires, by category (JSON keys in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// A kfunc called (`.ksyms` FUNC extern).
    Kfunc,
    /// A helper called (by its UAPI name, `bpf_map_lookup_elem`).
    Helper,
    /// A kernel type named by a CO-RE relocation (`task_struct`).
    Type,
    /// A kernel field read through CO-RE (`task_struct->mm->arg_start`).
    Field,
    /// An enumerator read through CO-RE (`bpf_func_id::BPF_FUNC_loop`).
    Enumval,
    /// A program type (`kprobe`, `xdp`).
    ProgType,
    /// An expected attach type (`trace_fentry`).
    AttachType,
    /// An attach target named in the section (`fentry/do_unlinkat`).
    AttachTarget,
    /// A kernel variable (`.ksyms` VAR).
    Ksym,
    /// A `.kconfig` value.
    Kconfig,
    /// A struct_ops kernel type (`tcp_congestion_ops`).
    StructOps,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 11] = [
        Category::Kfunc,
        Category::Helper,
        Category::Type,
        Category::Field,
        Category::Enumval,
        Category::ProgType,
        Category::AttachType,
        Category::AttachTarget,
        Category::Ksym,
        Category::Kconfig,
        Category::StructOps,
    ];
    /// The JSON spelling (`attach_target`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Kfunc => "kfunc",
            Category::Helper => "helper",
            Category::Type => "type",
            Category::Field => "field",
            Category::Enumval => "enumval",
            Category::ProgType => "prog_type",
            Category::AttachType => "attach_type",
            Category::AttachTarget => "attach_target",
            Category::Ksym => "ksym",
            Category::Kconfig => "kconfig",
            Category::StructOps => "struct_ops",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an object copes with the thing being absent.
///
/// Guarded: a weak kfunc or ksym extern, a kfunc whose address is tested
/// (`bpf_ksym_exists()`), a helper, type, field or enumerator with a CO-RE
/// existence check on it in the same object (`bpf_core_field_exists()`,
/// `bpf_core_type_exists()`, `bpf_core_enum_value_exists(enum bpf_func_id,
/// BPF_FUNC_x)`), a program type or attach target used only by programs
/// that are not loaded by default (`SEC("?...")`). An object using a thing
/// both ways counts as unguarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// Absence is tolerated.
    Guarded,
    /// Absence makes the object (or a program of it) fail.
    Unguarded,
}

/// Where one copy of an object was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Occurrence {
    /// Binary package (`.deb` `Package:`, or the first directory under the
    /// walked root with `--package-dirs`); `null` when unknown.
    pub package: Option<String>,
    /// Package version.
    pub version: Option<String>,
    /// Source package (the project); defaults to the package.
    pub source: Option<String>,
    /// The file read: a `.deb` or a file on disk.
    pub container: String,
    /// Path of the file holding the object (inside the package for a
    /// `.deb`, else the same as `container`).
    pub path: String,
    /// Byte offset of the object in that file (0: a plain object).
    pub offset: u64,
    /// The package's ecosystem (`debian`, `pypi`, `npm`, `crates`); absent
    /// for files read from disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<pkg::Ecosystem>,
    /// The package's architecture (`.deb` `Architecture:` other than `all`,
    /// a binary wheel's platform tag); absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}

impl Occurrence {
    /// The project: source package, else binary package.
    pub fn project(&self) -> Option<&str> {
        self.source.as_deref().or(self.package.as_deref())
    }
}

/// One distinct object (by SHA-256) and what it requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// SHA-256 of the object's bytes (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// `le` or `be`.
    pub endian: String,
    /// `license` section, when present.
    pub license: Option<String>,
    /// Number of programs.
    pub programs: usize,
    /// Requirements by category: name -> guarded or unguarded.
    pub requires: BTreeMap<Category, BTreeMap<String, Guard>>,
    /// Every place it was found, sorted.
    pub occurrences: Vec<Occurrence>,
    /// The loader families (newest release of each) whose own rules do not
    /// refuse the whole object ([`crate::loader::loadable_by`]).
    #[serde(default)]
    pub loaders: Vec<crate::loader::Family>,
}

impl ObjectEntry {
    /// An entry of a little-endian object of one program, unlicensed and of
    /// unknown size, needing these kfuncs and found at these places (what
    /// census, suggest and site tests start from; set other fields with
    /// struct update syntax).
    pub fn with_kfuncs(sha256: impl Into<String>, kfuncs: &[(&str, Guard)], occurrences: Vec<Occurrence>) -> ObjectEntry {
        ObjectEntry {
            sha256: sha256.into(),
            size: 0,
            endian: "le".into(),
            license: None,
            programs: 1,
            requires: BTreeMap::from([(Category::Kfunc, kfuncs.iter().map(|(n, g)| (n.to_string(), *g)).collect())]),
            occurrences,
            loaders: Vec::new(),
        }
    }

    /// A short display name: `package:file@offset` of the first occurrence.
    pub fn label(&self) -> String {
        match self.occurrences.first() {
            Some(o) => {
                let file = o.path.rsplit('/').next().unwrap_or(&o.path);
                let at = if o.offset > 0 { format!("@{:#x}", o.offset) } else { String::new() };
                match &o.package {
                    Some(p) => format!("{p}:{file}{at}"),
                    None => format!("{file}{at}"),
                }
            }
            None => self.sha256.get(..12).unwrap_or(&self.sha256).to_string(),
        }
    }
    /// Distinct projects holding this object.
    pub fn projects(&self) -> BTreeSet<&str> {
        self.occurrences.iter().filter_map(Occurrence::project).collect()
    }
    /// Distinct binary packages holding this object.
    pub fn packages(&self) -> BTreeSet<&str> {
        self.occurrences.iter().filter_map(|o| o.package.as_deref()).collect()
    }
}

/// An input that could not be read, or an object that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InputError {
    /// File (and `:member@offset` inside it).
    pub input: String,
    /// The error message.
    pub error: String,
}

impl InputError {
    /// The error `e` about `input`, its message without the input's name
    /// when `e` names that input already (no `x.deb: x.deb: ...`).
    pub fn of(input: &str, e: &crate::Error) -> InputError {
        let error = match e.offset {
            _ if e.file != input => e.to_string(),
            Some(o) => format!("at offset {o:#x}: {}", e.what),
            None => e.what.clone(),
        };
        InputError { input: input.to_string(), error }
    }
}

/// Usage of one thing (a kfunc, a helper, ...) across the census.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Its name.
    pub name: String,
    /// Distinct objects requiring it.
    pub objects: usize,
    /// Of those, objects that guard its absence.
    pub guarded: usize,
    /// Of those, objects that do not.
    pub unguarded: usize,
    /// Distinct packages holding such objects.
    pub packages: usize,
    /// Distinct projects (source packages).
    pub projects: usize,
    /// The project names.
    pub project_names: Vec<String>,
}

/// Totals over the census.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Distinct objects.
    pub objects: usize,
    /// Places they were found.
    pub occurrences: usize,
    /// Distinct packages.
    pub packages: usize,
    /// Distinct projects.
    pub projects: usize,
    /// Errors recorded.
    pub errors: usize,
}

/// A census document (`bpfabi.census/1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Census {
    /// Totals.
    pub totals: Totals,
    /// Usage per category, most used first.
    pub usage: BTreeMap<Category, Vec<Usage>>,
    /// Every distinct object, by SHA-256.
    pub objects: Vec<ObjectEntry>,
    /// Inputs that could not be read and objects that did not parse.
    pub errors: Vec<InputError>,
}

#[derive(Deserialize)]
struct Document {
    schema: String,
    #[serde(flatten)]
    census: Census,
}

impl Census {
    /// Build from objects and errors (any order, duplicates allowed):
    /// objects with the same SHA-256 are one, their occurrences united.
    pub fn from_parts(objects: impl IntoIterator<Item = ObjectEntry>, errors: impl IntoIterator<Item = InputError>) -> Census {
        let mut by_sha: BTreeMap<String, ObjectEntry> = BTreeMap::new();
        for o in objects {
            match by_sha.get_mut(&o.sha256) {
                Some(e) => e.occurrences.extend(o.occurrences),
                None => {
                    by_sha.insert(o.sha256.clone(), o);
                }
            }
        }
        let mut objects: Vec<ObjectEntry> = by_sha.into_values().collect();
        for o in &mut objects {
            o.occurrences.sort();
            o.occurrences.dedup();
        }
        let mut errors: Vec<InputError> = errors.into_iter().collect();
        errors.sort();
        errors.dedup();
        let usage = aggregate(&objects);
        let packages: BTreeSet<&str> = objects.iter().flat_map(|o| o.packages()).collect();
        let projects: BTreeSet<&str> = objects.iter().flat_map(|o| o.projects()).collect();
        let totals = Totals {
            objects: objects.len(),
            occurrences: objects.iter().map(|o| o.occurrences.len()).sum(),
            packages: packages.len(),
            projects: projects.len(),
            errors: errors.len(),
        };
        Census { totals, usage, objects, errors }
    }

    /// Set union of several censuses: the same document one run over all
    /// their inputs gives.
    pub fn merge(parts: impl IntoIterator<Item = Census>) -> Census {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        for p in parts {
            objects.extend(p.objects);
            errors.extend(p.errors);
        }
        Census::from_parts(objects, errors)
    }

    /// Read a `bpfabi.census/1` JSON document.
    pub fn from_json(text: &str, origin: &str) -> crate::Result<Census> {
        let doc: Document = serde_json::from_str(text)
            .map_err(|e| crate::Error::of(crate::ErrorKind::Malformed, origin, format!("expected a {SCHEMA} JSON document: {e}")).at(0))?;
        if doc.schema != SCHEMA {
            return Err(crate::Error::of(crate::ErrorKind::WrongInput, origin, format!("expected schema {SCHEMA}, found {}", doc.schema)));
        }
        Ok(doc.census)
    }

    /// Read a census file.
    pub fn read(path: &std::path::Path) -> crate::Result<Census> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(&name, e))?;
        Census::from_json(&text, &name)
    }

    /// Usage of one thing, if any object requires it.
    pub fn usage_of(&self, cat: Category, name: &str) -> Option<&Usage> {
        self.usage.get(&cat)?.iter().find(|u| u.name == name)
    }

    /// Objects requiring `name` in `cat`.
    pub fn users(&self, cat: Category, name: &str) -> impl Iterator<Item = &ObjectEntry> {
        let name = name.to_string();
        self.objects.iter().filter(move |o| o.requires.get(&cat).is_some_and(|m| m.contains_key(&name)))
    }
}

/// Usage per category from deduplicated objects.
pub fn aggregate(objects: &[ObjectEntry]) -> BTreeMap<Category, Vec<Usage>> {
    #[derive(Default)]
    struct Acc<'a> {
        objects: usize,
        guarded: usize,
        packages: BTreeSet<&'a str>,
        projects: BTreeSet<&'a str>,
    }
    let mut acc: BTreeMap<Category, BTreeMap<&str, Acc>> = BTreeMap::new();
    for o in objects {
        let packages = o.packages();
        let projects = o.projects();
        for (cat, names) in &o.requires {
            let per = acc.entry(*cat).or_default();
            for (name, guard) in names {
                let a = per.entry(name.as_str()).or_default();
                a.objects += 1;
                a.guarded += (*guard == Guard::Guarded) as usize;
                a.packages.extend(packages.iter().copied());
                a.projects.extend(projects.iter().copied());
            }
        }
    }
    acc.into_iter()
        .map(|(cat, per)| {
            let mut rows: Vec<Usage> = per
                .into_iter()
                .map(|(name, a)| Usage {
                    name: name.to_string(),
                    objects: a.objects,
                    guarded: a.guarded,
                    unguarded: a.objects - a.guarded,
                    packages: a.packages.len(),
                    projects: a.projects.len(),
                    project_names: a.projects.iter().map(|s| s.to_string()).collect(),
                })
                .collect();
            rows.sort_by(|a, b| b.projects.cmp(&a.projects).then(b.objects.cmp(&a.objects)).then(a.name.cmp(&b.name)));
            (cat, rows)
        })
        .collect()
}

/// What `obj` requires, by category, with guarded vs unguarded use.
pub fn requirements(obj: &BpfObject) -> BTreeMap<Category, BTreeMap<String, Guard>> {
    let mut out: BTreeMap<Category, BTreeMap<String, Guard>> = BTreeMap::new();
    let mut add = |cat: Category, name: String, guard: Guard| {
        let e = out.entry(cat).or_default().entry(name).or_insert(guard);
        if guard == Guard::Unguarded {
            *e = Guard::Unguarded;
        }
    };
    let g = |guarded: bool| if guarded { Guard::Guarded } else { Guard::Unguarded };

    // CO-RE: keys with flavours stripped, and which keys an existence check guards.
    let mut core: Vec<(Category, String, bool)> = Vec::new();
    for r in &obj.core_relos {
        if matches!(r.kind, CoreReloKind::TypeIdLocal) {
            continue; // the object's own type, nothing the kernel provides
        }
        let (cat, key) = core_key(&r.path, r.kind);
        core.push((cat, key, r.kind.is_check()));
        // A field or enumerator names its type too.
        if cat != Category::Type {
            let ty = core_root(&r.path);
            if !ty.is_empty() {
                core.push((Category::Type, ty, r.kind.is_check()));
            }
        }
    }
    let checked: BTreeSet<(Category, &str)> = core.iter().filter(|c| c.2).map(|c| (c.0, c.1.as_str())).collect();
    for (cat, key, _) in &core {
        let guarded = checked.contains(&(*cat, key.as_str()));
        add(*cat, key.clone(), g(guarded));
    }
    // Helpers: guarded by bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_x).
    for &id in &obj.helpers_anywhere {
        let name = crate::uapi::helper_name(id).unwrap_or_else(|| format!("helper#{id}"));
        let check = format!("bpf_func_id::BPF_FUNC_{}", name.trim_start_matches("bpf_"));
        add(Category::Helper, name, g(checked.contains(&(Category::Enumval, check.as_str()))));
    }
    let tested: BTreeSet<&str> = obj.programs.iter().flat_map(|p| p.ksym_checks.iter().map(String::as_str)).collect();
    for e in &obj.externs {
        let name = e.essential_name().to_string();
        match e.kind {
            ExternKind::Kfunc => add(Category::Kfunc, name, g(e.weak || tested.contains(e.name.as_str()))),
            ExternKind::Ksym => add(Category::Ksym, name, g(e.weak || tested.contains(e.name.as_str()))),
            ExternKind::Kconfig => add(Category::Kconfig, name, g(e.weak)),
            ExternKind::ExternFunc => {}
        }
    }
    for p in &obj.programs {
        let optional = !p.autoload;
        if let Some(t) = p.prog_type {
            add(Category::ProgType, t.to_string(), g(optional));
        }
        if let Some(a) = p.expected_attach {
            add(Category::AttachType, a.to_string(), g(optional));
        }
        if let Some(t) = p.attach_target.as_deref().filter(|t| !crate::check::is_placeholder_target(t)) {
            let prefix = p.section.trim_start_matches('?').split('/').next().unwrap_or("");
            add(Category::AttachTarget, format!("{prefix}/{t}"), g(optional));
        }
    }
    for s in &obj.struct_ops {
        add(Category::StructOps, s.kernel_type.clone(), Guard::Unguarded);
    }
    out
}

/// `struct task_struct___x` -> `task_struct`; `task_struct___x->mm` -> `task_struct`.
fn core_root(path: &str) -> String {
    let p = path.trim_start_matches("struct ").trim_start_matches("union ").trim_start_matches("enum ");
    let end = p.find(['-', '.', '[', ':']).unwrap_or(p.len());
    essential(p.get(..end).unwrap_or(p)).trim().to_string()
}

/// The census key of a CO-RE relocation: category and flavour-free path.
fn core_key(path: &str, kind: CoreReloKind) -> (Category, String) {
    let root = core_root(path);
    let p = path.trim_start_matches("struct ").trim_start_matches("union ").trim_start_matches("enum ");
    let end = p.find(['-', '.', '[', ':']).unwrap_or(p.len());
    let rest = p.get(end..).unwrap_or("");
    if kind.is_type() {
        (Category::Type, root)
    } else if kind.is_enum() {
        (Category::Enumval, format!("{root}{rest}"))
    } else {
        (Category::Field, format!("{root}{rest}"))
    }
}

/// The census entry of a parsed object (no occurrences yet).
pub fn entry(obj: &BpfObject, bytes: &[u8]) -> ObjectEntry {
    ObjectEntry {
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        endian: match obj.endian {
            crate::bytes::Endian::Little => "le".into(),
            crate::bytes::Endian::Big => "be".into(),
        },
        license: obj.license.clone(),
        programs: obj.programs.len(),
        requires: requirements(obj),
        occurrences: Vec::new(),
        loaders: crate::loader::loadable_by(obj),
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(sha: &str, pkg: &str, kfuncs: &[(&str, Guard)]) -> ObjectEntry {
        let occ = Occurrence {
            package: Some(pkg.into()),
            version: Some("1".into()),
            source: None,
            container: format!("{pkg}.deb"),
            path: "/x".into(),
            ..Occurrence::default()
        };
        ObjectEntry { size: 1, ..ObjectEntry::with_kfuncs(sha, kfuncs, vec![occ]) }
    }

    #[test]
    fn dedup_counts_and_merge_is_union() {
        let a = obj("aa", "p1", &[("k1", Guard::Unguarded), ("k2", Guard::Guarded)]);
        let b = obj("bb", "p2", &[("k1", Guard::Guarded)]);
        let a2 = obj("aa", "p3", &[("k1", Guard::Unguarded), ("k2", Guard::Guarded)]);
        let one = Census::from_parts(vec![a.clone(), b.clone(), a2.clone()], vec![]);
        assert_eq!(one.totals.objects, 2);
        assert_eq!(one.totals.occurrences, 3);
        assert_eq!(one.totals.packages, 3);
        let k1 = one.usage_of(Category::Kfunc, "k1").unwrap();
        assert_eq!((k1.objects, k1.guarded, k1.unguarded, k1.projects), (2, 1, 1, 3));
        let k2 = one.usage_of(Category::Kfunc, "k2").unwrap();
        assert_eq!((k2.objects, k2.projects), (1, 2));
        // Shards, overlapping ones too, merge to the single run.
        let s1 = Census::from_parts(vec![a.clone(), b.clone()], vec![]);
        let s2 = Census::from_parts(vec![a2, a], vec![]);
        assert_eq!(Census::merge([s1, s2]), one);
    }

    #[test]
    fn core_keys_drop_flavours() {
        assert_eq!(core_key("task_struct___old->state", CoreReloKind::FieldExists), (Category::Field, "task_struct->state".into()));
        assert_eq!(core_key("struct bpf_iter__task___x", CoreReloKind::TypeExists), (Category::Type, "bpf_iter__task".into()));
        assert_eq!(core_key("enum bpf_func_id::BPF_FUNC_loop", CoreReloKind::EnumvalExists), (Category::Enumval, "bpf_func_id::BPF_FUNC_loop".into()));
    }
}
