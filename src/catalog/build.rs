//! Building catalog entries (`bpfabi catalog add`, `scripts/gen-catalog`):
//! a full kernel reduced to what kfunc and helper questions need, written
//! as a corpus-style kernel directory and recorded in the index.

use super::{read_index, upsert, Entry, Index, Provenance};
use crate::btf::builder::Builder;
use crate::btf::{Btf, Kind, TypeId};
use crate::btf_ids::BTF_SET8_KFUNCS;
use crate::bytes::Endian;
use crate::error::{Error, Result};
use crate::model::KernelModel;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Enums kept whole: what helpers, program, attach and map types are read from.
const KEPT_ENUMS: &[&str] = &["bpf_func_id", "bpf_prog_type", "bpf_attach_type", "bpf_map_type"];

/// Deepest chain of modifiers/pointers/arrays followed from a prototype.
const MAX_DEPTH: usize = 64;

/// A reduced kernel: the files of a corpus-style kernel directory.
#[derive(Debug, Clone)]
pub struct Reduced {
    /// `vmlinux.btf`.
    pub vmlinux_btf: Vec<u8>,
    /// `vmlinux.btf_ids` (one kfunc set8 record; empty when vmlinux has no kfunc).
    pub vmlinux_btf_ids: Vec<u8>,
    /// `modules/<name>.btf` and `.btf_ids` of modules that register kfuncs.
    pub modules: BTreeMap<String, (Vec<u8>, Vec<u8>)>,
    /// BPF-relevant config lines.
    pub config: Option<String>,
    /// kfuncs written.
    pub kfuncs: usize,
}

type Key = (usize, TypeId);

/// Writes one target BTF (vmlinux, or a module split on the reduced vmlinux).
struct Writer {
    b: Builder,
    map: HashMap<Key, u32>,
}

struct Reducer<'k> {
    btfs: Vec<&'k Btf>,
    /// First own id of each BTF (vmlinux: 1).
    starts: Vec<TypeId>,
    endian: Endian,
}

impl Reducer<'_> {
    /// Which BTF owns `id` as seen from BTF `bi` (a module sees vmlinux ids below its start).
    fn owner(&self, bi: usize, id: TypeId) -> usize {
        if bi != 0 && id < self.starts.get(bi).copied().unwrap_or(TypeId::VOID) {
            0
        } else {
            bi
        }
    }

    /// The types a reduced copy of `(bi, id)` needs, post-order, into `out`.
    fn reach(&self, bi: usize, id: TypeId, depth: usize, seen: &mut BTreeSet<Key>, out: &mut Vec<Key>) {
        if id == TypeId::VOID || depth > MAX_DEPTH {
            return;
        }
        let key = (self.owner(bi, id), id);
        if !seen.insert(key) {
            return;
        }
        let Some(t) = self.btfs.get(bi).and_then(|b| b.ty(id)) else { return };
        match t.kind {
            Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag | Kind::Func => {
                self.reach(bi, t.ref_type(), depth + 1, seen, out)
            }
            Kind::Array => {
                if let Some(a) = t.array() {
                    self.reach(bi, a.elem, depth + 1, seen, out);
                    self.reach(bi, a.index, depth + 1, seen, out);
                }
            }
            Kind::FuncProto => {
                self.reach(bi, t.ref_type(), depth + 1, seen, out);
                for p in t.params() {
                    self.reach(bi, p.ty, depth + 1, seen, out);
                }
            }
            // Composites lose their members; enums, ints, floats and
            // forward declarations refer to nothing.
            _ => {}
        }
        out.push(key);
    }

    /// Write `key` into `w` (its references are written already: post-order).
    fn write(&self, w: &mut Writer, base: Option<&HashMap<Key, u32>>, key: Key) {
        let (bi, id) = key;
        let Some(t) = self.btfs.get(bi).and_then(|b| b.ty(id)) else { return };
        let look = |w: &Writer, r: TypeId| -> u32 {
            if r == TypeId::VOID {
                return 0;
            }
            let k = (self.owner(bi, r), r);
            w.map.get(&k).or_else(|| base.and_then(|m| m.get(&k))).copied().unwrap_or(0)
        };
        let kind = ((t.raw_info() >> 24) & 0x1f) as u8;
        let kflag = t.kind_flag();
        let name = t.name();
        let new = match t.kind {
            Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                let r = look(w, t.ref_type());
                w.b.raw(name, kind, kflag, 0, r, &[])
            }
            Kind::Func => {
                let r = look(w, t.ref_type());
                w.b.raw(name, kind, kflag, t.vlen() as u16, r, &[])
            }
            Kind::Int => {
                let enc = self.endian.u32(t.extra(), 0).unwrap_or(0);
                w.b.raw(name, kind, kflag, 0, t.size(), &[enc])
            }
            Kind::Float => w.b.raw(name, kind, kflag, 0, t.size(), &[]),
            Kind::Fwd => w.b.raw(name, kind, kflag, 0, 0, &[]),
            Kind::Struct | Kind::Union => w.b.raw(name, kind, false, 0, t.size(), &[]),
            Kind::Array => {
                let a = t.array();
                let (e, i, n) = a.map_or((0, 0, 0), |a| (look(w, a.elem), look(w, a.index), a.nelems));
                w.b.raw(name, kind, kflag, 0, 0, &[e, i, n])
            }
            Kind::FuncProto => {
                let ret = look(w, t.ref_type());
                let params: Vec<(String, u32)> = t.params().map(|p| (p.name.to_string(), look(w, p.ty))).collect();
                let mut words = Vec::with_capacity(params.len() * 2);
                for (n, ty) in &params {
                    words.push(w.b.str(n).get());
                    words.push(*ty);
                }
                w.b.raw(name, kind, kflag, params.len() as u16, ret, &words)
            }
            Kind::Enum | Kind::Enum64 => {
                let is64 = t.kind == Kind::Enum64;
                let vals: Vec<(String, u64)> = t.enumerators().map(|e| (e.name.to_string(), e.value)).collect();
                let mut words = Vec::with_capacity(vals.len() * 3);
                for (n, v) in &vals {
                    words.push(w.b.str(n).get());
                    words.push(*v as u32);
                    if is64 {
                        words.push((*v >> 32) as u32);
                    }
                }
                w.b.raw(name, kind, kflag, vals.len() as u16, t.size(), &words)
            }
            // Not reached from prototypes (VAR, DATASEC, DECL_TAG, unknown kinds).
            _ => return,
        };
        w.map.insert(key, new.get());
    }
}

/// A set8 record: `{cnt, flags, {id, flags}[cnt]}`, ids ascending.
fn set8(endian: Endian, mut pairs: Vec<(u32, u32)>) -> Vec<u8> {
    if pairs.is_empty() {
        return Vec::new();
    }
    pairs.sort_unstable();
    pairs.dedup_by_key(|p| p.0);
    let w = |v: u32| match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    };
    let mut out = Vec::with_capacity(8 + pairs.len() * 8);
    out.extend_from_slice(&w(pairs.len() as u32));
    out.extend_from_slice(&w(BTF_SET8_KFUNCS));
    for (id, f) in pairs {
        out.extend_from_slice(&w(id));
        out.extend_from_slice(&w(f));
    }
    out
}

/// Config lines that matter to BPF (JIT, BTF, program and map kinds).
fn bpf_config(text: &str) -> String {
    const KEYS: &[&str] = &[
        "BPF",
        "BTF",
        "JIT",
        "KPROBE",
        "UPROBE",
        "FTRACE",
        "FUNCTION_TRACER",
        "LSM",
        "NET_CLS",
        "NET_SCH",
        "XDP",
        "CGROUP",
        "DEBUG_INFO",
        "SCHED_CLASS_EXT",
        "NETFILTER",
        "HID",
        "MODULES",
        "KALLSYMS",
        "IKCONFIG",
    ];
    let mut out = String::new();
    for l in text.lines() {
        // `CONFIG_X=y` and `# CONFIG_X is not set` (an absent JIT is a fact too).
        let Some(rest) = l.strip_prefix("CONFIG_").or_else(|| l.strip_prefix("# CONFIG_").filter(|r| r.ends_with(" is not set"))) else { continue };
        let name = rest.split(['=', ' ']).next().unwrap_or("");
        if KEYS.iter().any(|k| name.contains(k)) && !name.starts_with("CRYPTO_") {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Cut a kernel down to a catalog entry.
pub fn reduce(model: &KernelModel) -> Reduced {
    let kernel = model.kernel();
    let btfs: Vec<&Btf> = kernel.btfs().map(|kb| kb.btf.as_ref()).collect();
    let starts: Vec<TypeId> = btfs.iter().map(|b| b.start_id()).collect();
    let endian = kernel.vmlinux.btf.endian();
    let r = Reducer { btfs, starts, endian };
    let module_index: HashMap<&str, usize> = kernel.modules.iter().enumerate().map(|(i, m)| (m.name.as_str(), i + 1)).collect();

    // What each kfunc needs, and the kfuncs per BTF.
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut kfuncs: Vec<(Key, u32)> = Vec::new();
    for k in &model.surface().kfuncs {
        let bi = k.module.as_deref().and_then(|m| module_index.get(m).copied()).unwrap_or(0);
        r.reach(bi, k.btf_id, 0, &mut seen, &mut order);
        kfuncs.push(((r.owner(bi, k.btf_id), k.btf_id), k.flags_raw));
    }
    // The enums kept whole, from vmlinux.
    if let Some(vm) = r.btfs.first() {
        for name in KEPT_ENUMS {
            if let Some(t) = vm.find(name, Kind::Enum).or_else(|| vm.find(name, Kind::Enum64)) {
                r.reach(0, t.id, 0, &mut seen, &mut order);
            }
        }
    }

    // vmlinux first: every base type any kfunc needs.
    let mut base = Writer { b: Builder::new(endian), map: HashMap::new() };
    for &key in order.iter().filter(|k| k.0 == 0) {
        r.write(&mut base, None, key);
    }
    let vm_pairs: Vec<(u32, u32)> = kfuncs.iter().filter(|(k, _)| k.0 == 0).filter_map(|(k, f)| base.map.get(k).map(|&id| (id, *f))).collect();
    let mut out = Reduced {
        vmlinux_btf: base.b.build(),
        vmlinux_btf_ids: set8(endian, vm_pairs.clone()),
        modules: BTreeMap::new(),
        config: kernel.info.config.as_deref().map(bpf_config),
        kfuncs: vm_pairs.len(),
    };
    // Then each module with kfuncs, split on the reduced vmlinux.
    let (base_types, base_str) = (base.b.next_id().get() - 1, base.b.str_len());
    for (mi, m) in kernel.modules.iter().enumerate() {
        let bi = mi + 1;
        if !kfuncs.iter().any(|(k, _)| k.0 == bi) {
            continue;
        }
        let mut w = Writer { b: Builder::new_split(endian, base_types, base_str), map: HashMap::new() };
        for &key in order.iter().filter(|k| k.0 == bi) {
            r.write(&mut w, Some(&base.map), key);
        }
        let pairs: Vec<(u32, u32)> = kfuncs.iter().filter(|(k, _)| k.0 == bi).filter_map(|(k, f)| w.map.get(k).map(|&id| (id, *f))).collect();
        out.kfuncs += pairs.len();
        out.modules.insert(m.name.clone(), (w.b.build(), set8(endian, pairs)));
    }
    out
}

/// Metadata written beside a reduced kernel (`meta.json`, corpus style).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// `uname -r`.
    pub kernel_release: String,
    /// Always true: the loader notes a reduced kernel by it.
    pub catalog: bool,
    /// Where it was cut from.
    pub source: String,
    /// Debian architecture.
    pub arch: String,
    /// Suites, flavour and version, as in the index.
    pub suites: Vec<String>,
    /// Flavour.
    pub flavour: Option<String>,
    /// Package version.
    pub version: Option<String>,
}

/// Write a reduced kernel as a corpus-style directory `dir/<release>/`.
pub fn write_entry(dir: &Path, red: &Reduced, meta: &Meta) -> Result<u64> {
    let d = dir.join(&meta.kernel_release);
    let io = |p: &Path, e| Error::io(p.display().to_string(), e);
    std::fs::create_dir_all(d.join("modules")).map_err(|e| io(&d, e))?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![(d.join("vmlinux.btf"), red.vmlinux_btf.clone())];
    // Written even when empty (no kfunc): the flags are then known to be none.
    files.push((d.join("vmlinux.btf_ids"), red.vmlinux_btf_ids.clone()));
    if let Some(c) = &red.config {
        files.push((d.join("config"), c.clone().into_bytes()));
    }
    for (name, (btf, ids)) in &red.modules {
        files.push((d.join("modules").join(format!("{name}.btf")), btf.clone()));
        files.push((d.join("modules").join(format!("{name}.btf_ids")), ids.clone()));
    }
    let mut meta_text = serde_json::to_string_pretty(meta).map_err(|e| Error::new("meta.json", e.to_string()))?;
    meta_text.push('\n');
    files.push((d.join("meta.json"), meta_text.into_bytes()));
    let mut total = 0;
    for (p, bytes) in files {
        total += bytes.len() as u64;
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
    }
    Ok(total)
}

fn meta_provenance(dir: &Path) -> Provenance {
    let Ok(text) = std::fs::read_to_string(dir.join("meta.json")) else { return Provenance::default() };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return Provenance::default() };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Provenance {
        suite: s("suite"),
        arch: s("arch"),
        flavour: s("flavour"),
        version: s("debian_version").or_else(|| v.get("packages")?.get(0)?.get("version")?.as_str().map(str::to_string)),
    }
}

/// Reduce the kernel at `input` (any kernel input, `debian:` names
/// included) and add it to the catalog directory `dir` (entry files and
/// `index.json`).
pub fn add(dir: &Path, input: &Path, given: &Provenance) -> Result<Entry> {
    let source = crate::kernel::KernelSource::from_path(input)?;
    let expanded = crate::kernel::Resolver::new(false).btf_path(&source)?;
    let model = KernelModel::load(std::slice::from_ref(&expanded), &crate::kernel::LoadOptions::default())?;
    let release =
        model.kernel().release.clone().ok_or_else(|| Error::new(input.display().to_string(), "the kernel's release is unknown: a catalog entry needs it"))?;
    let found = meta_provenance(&expanded);
    let arch = given
        .arch
        .clone()
        .or(found.arch)
        .or_else(|| model.arch().map(|a| a.arch.name().to_string()))
        .ok_or_else(|| Error::new(input.display().to_string(), "architecture unknown: give --arch"))?;
    let meta = Meta {
        kernel_release: release.clone(),
        catalog: true,
        source: input.display().to_string(),
        arch: arch.clone(),
        suites: given.suite.clone().or(found.suite).into_iter().collect(),
        flavour: given.flavour.clone().or(found.flavour),
        version: given.version.clone().or(found.version),
    };
    let red = reduce(&model);
    let bytes = write_entry(dir, &red, &meta)?;
    let entry = Entry {
        release,
        arch,
        suites: meta.suites.clone(),
        flavour: meta.flavour.clone(),
        version: meta.version.clone(),
        kfuncs: red.kfuncs,
        helpers: model.surface().helpers.len(),
        full_btf_bytes: model.kernel().vmlinux.btf.raw_bytes().len() as u64,
        bytes,
    };
    let index_path = dir.join("index.json");
    let mut idx = match std::fs::read_to_string(&index_path) {
        Ok(t) => read_index(&t, &index_path.display().to_string())?,
        Err(_) => Index::default(),
    };
    upsert(&mut idx, entry.clone());
    let mut text = serde_json::to_string_pretty(&idx).map_err(|e| Error::new("index.json", e.to_string()))?;
    text.push('\n');
    std::fs::write(&index_path, text).map_err(|e| Error::io(index_path.display().to_string(), e))?;
    Ok(entry)
}
