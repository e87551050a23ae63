//! The BPF surface of a kernel: every helper (`enum bpf_func_id`) and every
//! kfunc with its C prototype, KF_* flags, module, and how it was found.
//!
//! kfunc discovery works on every kernel generation and records its evidence:
//! - `decl_tag`: a `bpf_kfunc` DECL_TAG on the FUNC (pahole >= 1.27 builds);
//! - `btf_ids`: a `.BTF_ids` set8 record flagged `BTF_SET8_KFUNCS` (>= 6.9),
//!   which is also where the KF_* flags live;
//! - `heuristic`: a set8 record recognised from its structure alone, for
//!   6.0–6.8 kernels whose records carry no kfunc flag.
//!
//! Kernels of the same release built with different pahole versions give the
//! same kfunc set; only `sources` differs.

use crate::btf::{render, Btf, Kind, TypeId};
use crate::btf_ids;
use crate::kernel::{Kernel, KernelBtf};
use crate::kflags;
use crate::release::Release;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How a kfunc was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A `bpf_kfunc` BTF decl tag (pahole >= 1.25).
    DeclTag,
    /// A kfunc set in `.BTF_ids`.
    BtfIds,
    /// Recognised structurally (no tags, no flagged sets).
    Heuristic,
}

impl Source {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DeclTag => "decl_tag",
            Source::BtfIds => "btf_ids",
            Source::Heuristic => "heuristic",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
/// A kfunc a kernel offers.
#[non_exhaustive]
pub struct Kfunc {
    /// Function name.
    pub name: String,
    /// FUNC type id in its BTF (module ids continue vmlinux's).
    pub btf_id: TypeId,
    /// `None` for vmlinux.
    pub module: Option<String>,
    /// C prototype as a type expression; its text (`Display`, and its JSON
    /// string) is what `bpftool btf dump ... format c` prints.
    pub proto: crate::ctype::Decl,
    /// KF_* names for this kernel's version.
    pub flags: Vec<String>,
    /// The raw flag word (union over every set listing the kfunc).
    pub flags_raw: u32,
    /// False when no `.BTF_ids` was available: `flags` is then empty because
    /// unknown, not because the kfunc has none.
    pub flags_known: bool,
    /// The strongest evidence: decl_tag, then btf_ids, then heuristic.
    pub source: Source,
    /// All evidence found.
    pub sources: Vec<Source>,
    /// Tagged `bpf_fastcall` or flagged KF_FASTCALL.
    pub fastcall: bool,
    /// For `foo`, the `foo_impl` FUNC next to it (or the reverse); only in
    /// kernels with KF_IMPLICIT_ARGS (7.0+), which make these twins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impl_pair: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
/// A helper (`enum bpf_func_id`).
#[non_exhaustive]
pub struct Helper {
    /// `bpf_map_lookup_elem` for `BPF_FUNC_map_lookup_elem`.
    pub name: String,
    /// Helper id.
    pub id: u32,
}

#[derive(Debug, Clone, Serialize)]
/// Which kernel a surface describes.
#[non_exhaustive]
pub struct KernelInfo {
    /// Release, when the inputs say.
    pub release: Option<String>,
    /// `major.minor` used to name KF_* bits.
    pub version: String,
    /// True when the release was unknown and the newest flag table was used.
    pub version_assumed: bool,
    /// Inputs it was read from.
    pub inputs: Vec<String>,
    /// Modules with BTF.
    pub modules: Vec<String>,
    /// Types in vmlinux BTF.
    pub btf_types: usize,
}

/// What evidence this kernel offered for kfunc discovery.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Discovery {
    /// Number of `bpf_kfunc` decl tags (vmlinux + modules).
    pub decl_tags: usize,
    /// "kfunc_flag" (set8 records flagged BTF_SET8_KFUNCS), "structural"
    /// (records recognised by shape), "no_kfunc_sets" (a `.BTF_ids` without
    /// kfunc set8 records, e.g. kernels before 6.0), or "absent" (no `.BTF_ids`).
    pub btf_ids: &'static str,
    /// Number of set8 records used.
    pub set8_records: usize,
    /// Size of the vmlinux `.BTF_ids` section, 0 when absent.
    pub btf_ids_bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
/// The BPF ABI a kernel offers.
#[non_exhaustive]
pub struct Surface {
    /// Which kernel.
    pub kernel: KernelInfo,
    /// How kfuncs were found.
    pub discovery: Discovery,
    /// kfuncs, vmlinux first then modules, by name.
    pub kfuncs: Vec<Kfunc>,
    /// Helpers by id.
    pub helpers: Vec<Helper>,
    /// `__BPF_FUNC_MAX_ID - 1`: the highest helper id.
    pub helper_max_id: Option<u32>,
    /// How the kernel was read: why flags are unknown, where `.BTF_ids`
    /// came from, an unused `--release`.
    pub notes: Vec<crate::kernel::Note>,
}

/// Evidence gathered for one FUNC before it becomes a [`Kfunc`].
#[derive(Default)]
struct Evidence {
    sources: BTreeSet<Source>,
    flags: Option<u32>,
    fastcall_tag: bool,
}

const TAG_KFUNC: &str = "bpf_kfunc";
const TAG_FASTCALL: &str = "bpf_fastcall";

/// Compute the surface of a kernel.
pub fn of(kernel: &Kernel) -> Surface {
    let (version, version_assumed) = match kernel.version() {
        Some(v) => (v, false),
        None => (kflags::LATEST, true),
    };
    // kfuncs exist from 5.13; flags in set8 records from 6.0.
    let set8_possible = version >= Release::new(6, 0, 0);
    let mask = if version_assumed { kflags::ALL_BITS } else { kflags::known_mask(version) };

    // Scan every .BTF_ids once; decide whether this kernel flags its kfunc sets.
    let btfs: Vec<&KernelBtf> = kernel.btfs().collect();
    let mut sets: Vec<(usize, Vec<btf_ids::Set8>)> = Vec::new();
    let mut have_ids = false;
    for (bi, kb) in btfs.iter().enumerate() {
        if let Some(ids) = &kb.btf_ids {
            have_ids = true;
            if set8_possible {
                sets.push((bi, btf_ids::scan_set8(ids.as_slice(), kb.btf.endian(), &kb.btf, mask)));
            }
        }
    }
    let flagged = sets.iter().any(|(_, s)| s.iter().any(|r| r.is_kfunc_set()));
    let set_source = if flagged { Source::BtfIds } else { Source::Heuristic };

    let mut evidence: BTreeMap<(usize, TypeId), Evidence> = BTreeMap::new();
    let mut set8_records = 0;
    for &(bi, ref found) in &sets {
        for set in found.iter().filter(|s| !flagged || s.is_kfunc_set()) {
            set8_records += 1;
            for &(id, f) in &set.pairs {
                let e = evidence.entry((bi, id)).or_default();
                e.sources.insert(set_source);
                e.flags = Some(e.flags.unwrap_or(0) | f);
            }
        }
    }
    let mut decl_tags = 0;
    // No pass over all types: the decl tags (a few hundred of a vmlinux's
    // 100,000+ types) are found in the BTF's kind table, and only those
    // named bpf_kfunc / bpf_fastcall (compared in place) are read in full.
    for (bi, kb) in btfs.iter().enumerate() {
        for (id, name_off) in kb.btf.names_of_kind(Kind::DeclTag) {
            let is_kfunc = kb.btf.str_is(name_off.get(), TAG_KFUNC.as_bytes()).1;
            if !is_kfunc && !kb.btf.str_is(name_off.get(), TAG_FASTCALL.as_bytes()).1 {
                continue;
            }
            let Some(t) = kb.btf.ty(id).filter(|t| t.component_idx() == Some(-1)) else { continue };
            let target = t.ref_type();
            if kb.btf.ty(target).is_none_or(|f| f.kind != Kind::Func) {
                continue;
            }
            if is_kfunc {
                decl_tags += 1;
                evidence.entry((bi, target)).or_default().sources.insert(Source::DeclTag);
            } else {
                evidence.entry((bi, target)).or_default().fastcall_tag = true;
            }
        }
        // Every decl tag of a module read: its pages go back to the page
        // cache (one module resident at a time; the few kfuncs found are
        // read again below). vmlinux stays.
        if bi != 0 {
            kb.btf.release_pages();
        }
    }

    let fastcall_bit = kflags::bit_of(kflags::KfFlag::Fastcall, version);
    // `foo`/`foo_impl` twins are made by KF_IMPLICIT_ARGS, from 7.0:
    // resolve_btfids adds a FUNC `foo_impl` with the full prototype for
    // each kfunc so flagged (tools/bpf/resolve_btfids/main.c,
    // `process_kfunc_with_implicit_args`, v7.0), and only for such a kfunc
    // does the verifier look the `_impl` name up (kernel/bpf/verifier.c,
    // `fetch_kfunc_meta`, v7.0). Before, a FUNC pairing a kfunc's name with
    // `_impl` is no twin, and the one pass over every FUNC of every BTF that
    // finds them is not made (a version assumed is the newest: searched).
    let twins = kflags::bit_of(kflags::KfFlag::ImplicitArgs, version).is_some();
    // One map per BTF (index as in `btfs`), none before 7.0.
    let pairs: Vec<HashMap<String, String>> = if !twins {
        Vec::new()
    } else {
        btfs.iter()
            .enumerate()
            .map(|(bi, kb)| {
                // The evidence of this BTF only: a range of the (btf, id) keys.
                let names = evidence.range((bi, TypeId::VOID)..(bi + 1, TypeId::VOID)).filter_map(|(&(_, id), _)| kb.btf.ty(id)).map(|t| t.name());
                impl_pairs(&kb.btf, names)
            })
            .collect()
    };
    let mut kfuncs: Vec<Kfunc> = Vec::with_capacity(evidence.len());
    // One prototype reader per BTF: parameter types read once.
    let protos: Vec<render::Prototypes> = btfs.iter().map(|kb| render::Prototypes::new(&kb.btf)).collect();
    for ((bi, id), ev) in evidence {
        // A bpf_fastcall tag alone (no kfunc evidence) is not a kfunc.
        let Some(&source) = ev.sources.iter().next() else { continue };
        let kb = btfs[bi];
        let Some(f) = kb.btf.ty(id) else { continue };
        let name = f.name().to_string();
        let flags_raw = ev.flags.unwrap_or(0);
        let fastcall = ev.fastcall_tag || fastcall_bit.is_some_and(|b| flags_raw & (1 << b) != 0);
        kfuncs.push(Kfunc {
            proto: protos[bi].func_decl(id),
            impl_pair: pairs.get(bi).and_then(|p| p.get(&name)).cloned(),
            flags: kflags::names(flags_raw, version),
            flags_raw,
            flags_known: ev.flags.is_some() || (have_ids && set8_possible),
            sources: ev.sources.iter().copied().collect(),
            source,
            fastcall,
            btf_id: id,
            module: (bi != 0).then(|| kb.name.clone()),
            name,
        });
    }
    // By name, then module (vmlinux's first). The sort is stable: a name
    // reached through two FUNC ids of one BTF (e.g. a decl tag and a set8
    // entry naming different duplicates) keeps the evidence order, and the
    // later one's evidence is merged into the first.
    kfuncs.sort_by(|a, b| (a.name.as_str(), a.module.as_deref()).cmp(&(b.name.as_str(), b.module.as_deref())));
    kfuncs.dedup_by(|k, old| {
        if k.name != old.name || k.module != old.module {
            return false;
        }
        let mut s: BTreeSet<Source> = old.sources.iter().copied().collect();
        s.extend(k.sources.iter().copied());
        old.sources = s.into_iter().collect();
        old.source = old.sources[0];
        old.flags_raw |= k.flags_raw;
        old.flags = kflags::names(old.flags_raw, version);
        old.fastcall |= k.fastcall;
        true
    });

    let (helpers, helper_max_id) = helpers_of(&kernel.vmlinux.btf);
    Surface {
        kernel: KernelInfo {
            release: kernel.release.clone(),
            version: version.to_string(),
            version_assumed,
            inputs: kernel.inputs.clone(),
            modules: kernel.modules.iter().map(|m| m.name.clone()).collect(),
            btf_types: kernel.vmlinux.btf.own_types(),
        },
        discovery: Discovery {
            decl_tags,
            btf_ids: if !have_ids {
                "absent"
            } else if set8_records == 0 {
                "no_kfunc_sets"
            } else if flagged {
                "kfunc_flag"
            } else {
                "structural"
            },
            set8_records,
            btf_ids_bytes: kernel.vmlinux.btf_ids.as_ref().map_or(0, |b| b.len()),
        },
        kfuncs,
        helpers,
        helper_max_id,
        notes: kernel.info.notes.clone(),
    }
}

/// `foo` / `foo_impl` pairs among the FUNCs of `btf`, for the given kfunc
/// names: one pass over the FUNCs' name offsets (from the kind table) and
/// the first bytes of their names instead of a full name index.
fn impl_pairs<'a>(btf: &Btf, kfuncs: impl Iterator<Item = &'a str>) -> HashMap<String, String> {
    // wanted FUNC name -> the kfunc it pairs with
    let mut wanted: crate::hash::FnvHashMap<Vec<u8>, String> = Default::default();
    for k in kfuncs {
        if let Some(base) = k.strip_suffix("_impl") {
            wanted.insert(base.as_bytes().to_vec(), k.to_string());
        }
        let mut with_impl = Vec::with_capacity(k.len() + 5);
        with_impl.extend_from_slice(k.as_bytes());
        with_impl.extend_from_slice(b"_impl");
        wanted.insert(with_impl, k.to_string());
    }
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    // Cheap prefilter: a 64 Ki-bit set of the wanted names' first 8 bytes
    // (read in place, no scan to the terminator); only FUNCs passing it are
    // read and looked up. A word's hash picks one of the set's 1,024 words
    // (its top 10 bits: no bounds check) and a bit in it (the next 6).
    let hash = |p: u64| p.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut prefixes = [0u64; 1024];
    let prefix8 = |n: &[u8]| {
        let mut w = [0u8; 8];
        for (d, &b) in w.iter_mut().zip(n) {
            *d = b;
        }
        u64::from_le_bytes(w)
    };
    for w in wanted.keys() {
        let h = hash(prefix8(w));
        prefixes[(h >> 54) as usize] |= 1 << ((h >> 48) & 63);
    }
    // Names passing the prefilter, then looked up (a few hundred of a
    // vmlinux's 56,000 FUNCs).
    let mut candidates: Vec<crate::btf::StrOffset> = Vec::new();
    let pass = |prefix: u64| {
        let h = hash(prefix);
        prefixes[(h >> 54) as usize] & (1 << ((h >> 48) & 63)) != 0
    };
    // A FUNC named as a wanted name of 8 bytes or more starts with the
    // wanted name's first 8 bytes as they are: no cut at the terminator.
    if wanted.keys().all(|w| w.len() >= 8) {
        btf.for_each_name_word(Kind::Func, |name_off, word| {
            if pass(word) {
                candidates.push(name_off);
            }
        });
    } else {
        btf.for_each_name_prefix(Kind::Func, |name_off, prefix| {
            if pass(prefix) {
                candidates.push(name_off);
            }
        });
    }
    for name_off in candidates {
        if let Some(k) = wanted.get(btf.str_bytes_at(name_off)) {
            out.insert(k.clone(), btf.str_at(name_off).to_string());
        }
    }
    out
}

/// Helpers from `enum bpf_func_id`: `BPF_FUNC_foo = N` is helper `bpf_foo`.
pub fn helpers_of(btf: &Btf) -> (Vec<Helper>, Option<u32>) {
    // The enums from the kind table, names compared in place: cheaper than
    // building the name index. The first ENUM, else the first ENUM64,
    // named bpf_func_id.
    let named = |want: Kind| btf.names_of_kind(want).find(|&(_, name)| btf.str_is(name.get(), b"bpf_func_id").1).and_then(|(id, _)| btf.ty(id));
    match named(Kind::Enum).or_else(|| named(Kind::Enum64)) {
        Some(e) => helpers_from(e),
        None => (Vec::new(), None),
    }
}

/// Helpers from the enumerators of `enum bpf_func_id` (`e`).
fn helpers_from(e: crate::btf::Type<'_>) -> (Vec<Helper>, Option<u32>) {
    let mut seen = HashSet::new();
    let mut helpers: Vec<Helper> = e
        .enumerators()
        .filter_map(|v| {
            let short = v.name.strip_prefix("BPF_FUNC_")?;
            (short != "unspec" && seen.insert(v.value)).then(|| {
                let mut name = String::with_capacity(4 + short.len());
                name.push_str("bpf_");
                name.push_str(short);
                Helper { name, id: v.value as u32 }
            })
        })
        .collect();
    helpers.sort_by_key(|h| h.id);
    let max = e.enumerators().find(|v| v.name == "__BPF_FUNC_MAX_ID").map(|v| (v.value as u32).saturating_sub(1));
    let max = max.or_else(|| helpers.last().map(|h| h.id));
    (helpers, max)
}

impl Surface {
    /// kfuncs of vmlinux first, then each module's, each group by name.
    pub fn kfuncs_by_origin(&self) -> Vec<&Kfunc> {
        let mut v: Vec<&Kfunc> = self.kfuncs.iter().collect();
        v.sort_by(|a, b| a.module.cmp(&b.module).then(a.name.cmp(&b.name)));
        v
    }

    /// Keep only kfuncs and helpers whose name matches `keep`.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.kfuncs.retain(|k| keep(&k.name));
        self.helpers.retain(|h| keep(&h.name));
    }
}

#[cfg(test)]
#[path = "surface_tests.rs"]
mod tests;
