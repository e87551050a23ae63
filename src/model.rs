//! One kernel prepared for analysis, built once and shared: its BTF (vmlinux
//! and modules), `.BTF_ids`, surface (kfuncs, helpers), lookups by name, the
//! kernel's own program/attach/map type enums, and fingerprints computed on
//! first use. Everything takes `&self` and the model is `Send + Sync`, so
//! many objects can be checked against many kernels from many threads.
//! `check`, `diff`, `versions` and the CLI all use this one type.

use crate::btf::{Btf, Kind};
use crate::error::Result;
use crate::kernel::module_names::ModuleNames;
use crate::kernel::{Kernel, KernelBtf, KernelSource, LoadOptions};
use crate::surface::{Kfunc, Surface};
use crate::versions::KernelVersions;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The enumerators of one kernel enum (`enum bpf_prog_type`, ...), both ways.
#[derive(Debug, Clone, Default)]
pub struct KernelEnum {
    by_name: HashMap<String, u64>,
    by_value: BTreeMap<u64, String>,
}

impl KernelEnum {
    /// Read enum `name` from `btf`; empty when the kernel has no such enum.
    pub fn read(btf: &Btf, name: &str) -> Self {
        let mut e = KernelEnum::default();
        // A kind-filtered scan comparing name bytes: no full name index.
        let found = btf.types_of_kind(Kind::Enum).chain(btf.types_of_kind(Kind::Enum64)).find(|t| t.name_bytes() == name.as_bytes());
        if let Some(t) = found {
            for v in t.enumerators() {
                e.by_name.insert(v.name.to_string(), v.value);
                // First name wins for aliases (`BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED`).
                e.by_value.entry(v.value).or_insert_with(|| v.name.to_string());
            }
        }
        e
    }
    /// Whether the kernel has this enumerator.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
    /// The value of enumerator `name`.
    pub fn value(&self, name: &str) -> Option<u64> {
        self.by_name.get(name).copied()
    }
    /// The (first) enumerator with this value.
    pub fn name(&self, value: u64) -> Option<&str> {
        self.by_value.get(&value).map(String::as_str)
    }
    /// No enumerators (the enum is not in this kernel's BTF).
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
    /// Enumerators in value order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &str)> {
        self.by_value.iter().map(|(v, n)| (*v, n.as_str()))
    }
}

/// Whether `off` is in one of the ascending, disjoint inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], off: u32) -> bool {
    let i = ranges.partition_point(|&(a, _)| a <= off);
    i.checked_sub(1).and_then(|i| ranges.get(i)).is_some_and(|&(_, b)| off <= b)
}

/// The `___flavour` types of one BTF, in scan order and by essential name.
#[derive(Debug, Default)]
struct Flavoured {
    list: Vec<(String, crate::btf::TypeId)>,
    by_essential: HashMap<String, Vec<crate::btf::TypeId>>,
}

/// What `/proc/kallsyms` lists on a kernel, by its configuration
/// (scripts/kallsyms.c `symbol_valid`, v6.18; kernel/module/kallsyms.c
/// `is_core_symbol` for modules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kallsyms {
    /// `CONFIG_KALLSYMS` not set: there is no `/proc/kallsyms`.
    Absent,
    /// `CONFIG_KALLSYMS` without `CONFIG_KALLSYMS_ALL`: symbols in the text
    /// ranges (functions) and section bounds named `__start_*`/`__stop_*`
    /// only; data symbols (`__per_cpu_start`, `bpf_link_fops`) are left out.
    Text,
    /// `CONFIG_KALLSYMS_ALL`: every symbol, data included.
    All,
}

/// A kernel prepared for analysis. Build with [`KernelModel::new`] (from a
/// loaded [`Kernel`]), [`KernelModel::load`] (from paths) or
/// [`KernelModel::from_bytes`].
pub struct KernelModel {
    kernel: Kernel,
    label: String,
    // The surface (kfuncs with their prototypes, helpers), the enums and
    // the architecture are read on first use: checking an object that calls
    // no kfunc needs no kfunc table, and a matrix of 28 catalog kernels
    // would otherwise render every kfunc prototype of every kernel.
    surface: OnceLock<Surface>,
    kfunc_by_name: OnceLock<crate::hash::FnvHashMap<String, usize>>,
    helper_names: OnceLock<BTreeMap<u32, String>>,
    prog_types: OnceLock<KernelEnum>,
    attach_types: OnceLock<KernelEnum>,
    map_types: OnceLock<KernelEnum>,
    versions: OnceLock<Mutex<KernelVersions>>,
    probe: Option<std::sync::Arc<crate::probe::ProbeIndex>>,
    arch: OnceLock<Option<crate::kernel::arch::KernelArch>>,
    kconfig: OnceLock<Option<HashMap<String, String>>>,
    kallsyms: OnceLock<Option<Kallsyms>>,
    /// Which modules define a name ([`ModuleNames`]), built on the first
    /// lookup vmlinux cannot answer: one pass over the modules' own types
    /// instead of asking every module (and building every module's name
    /// index) for every name.
    module_names: OnceLock<ModuleNames>,
    /// The `___flavour` types of each BTF (vmlinux, then the modules in
    /// order), each read on first use: only the BTFs a lookup reaches.
    flavoured: Vec<OnceLock<Flavoured>>,
    /// The vmlinux string ranges holding `___` (module names may be
    /// vmlinux strings).
    base_flavour_strs: OnceLock<Vec<(u32, u32)>>,
    /// `--core-btf`: the BTF CO-RE relocations are resolved against, and
    /// where it was read (see `core_btf`, which builds it).
    core_btf: Option<(std::sync::Arc<KernelModel>, String)>,
}

impl std::fmt::Debug for KernelModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelModel").field("label", &self.label).field("kfuncs", &self.surface.get().map(|s| s.kfuncs.len())).finish()
    }
}

impl KernelModel {
    /// Prepare a loaded kernel.
    pub fn new(kernel: Kernel) -> Self {
        let flavoured = (0..=kernel.modules.len()).map(|_| OnceLock::new()).collect();
        KernelModel {
            label: kernel.label(),
            helper_names: OnceLock::new(),
            prog_types: OnceLock::new(),
            attach_types: OnceLock::new(),
            map_types: OnceLock::new(),
            kfunc_by_name: OnceLock::new(),
            surface: OnceLock::new(),
            kernel,
            versions: OnceLock::new(),
            probe: None,
            arch: OnceLock::new(),
            kconfig: OnceLock::new(),
            kallsyms: OnceLock::new(),
            module_names: OnceLock::new(),
            flavoured,
            base_flavour_strs: OnceLock::new(),
            core_btf: None,
        }
    }

    /// Load a kernel from inputs (any form `bpfabi surface` takes) and prepare it.
    pub fn load(inputs: &[PathBuf], opts: &LoadOptions) -> Result<Self> {
        crate::kernel::load(inputs, opts).map(KernelModel::new)
    }

    /// Load a kernel from sources already parsed ([`KernelSource`]: paths,
    /// `debian:` names, catalog entries, the running kernel) and prepare it.
    pub fn from_sources(sources: &[KernelSource], opts: &LoadOptions) -> Result<Self> {
        crate::kernel::load_sources(sources, opts).map(KernelModel::new)
    }

    /// The running kernel (`/sys/kernel/btf`).
    pub fn running(opts: &LoadOptions) -> Result<Self> {
        crate::kernel::load_running(opts).map(KernelModel::new)
    }

    /// A kernel from bytes in memory (raw BTF, vmlinux ELF, image, `.deb`);
    /// `name` names it in messages.
    pub fn from_bytes(bytes: Vec<u8>, name: &str, opts: &LoadOptions) -> Result<Self> {
        crate::kernel::load_bytes(crate::bytes::Bytes::from_vec(bytes), name, opts).map(KernelModel::new)
    }

    /// The loaded kernel (BTF of vmlinux and modules, `.BTF_ids`, release).
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }
    /// Its BPF surface: kfuncs and helpers (computed on first use).
    pub fn surface(&self) -> &Surface {
        self.surface.get_or_init(|| crate::surface::of(&self.kernel))
    }
    /// The surface taken out of the model (computed now when it was not),
    /// for a caller that wants it owned: no copy of it. A later
    /// [`KernelModel::surface`] computes it again.
    pub fn take_surface(&mut self) -> Surface {
        self.surface.take().unwrap_or_else(|| crate::surface::of(&self.kernel))
    }
    /// Its name in output: the release, else the first input.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The vmlinux BTF.
    pub fn vmlinux(&self) -> &Btf {
        &self.kernel.vmlinux.btf
    }

    /// The kfunc called `name` (exact name; strip `___flavour` first).
    pub fn kfunc(&self, name: &str) -> Option<&Kfunc> {
        let kfuncs = &self.surface().kfuncs;
        let by_name = self.kfunc_by_name.get_or_init(|| {
            let mut m = crate::hash::FnvHashMap::with_capacity_and_hasher(kfuncs.len(), Default::default());
            for (i, k) in kfuncs.iter().enumerate() {
                m.entry(k.name.clone()).or_insert(i);
            }
            m
        });
        by_name.get(name).and_then(|&i| kfuncs.get(i))
    }
    /// The BTF (vmlinux or module) that defines `k`.
    pub fn btf_of(&self, k: &Kfunc) -> Option<&Btf> {
        self.kernel.btf_in(k.module.as_deref()).map(|b| &*b.btf)
    }
    /// Where (vmlinux or which module) a type of `kind` named `name` is
    /// defined; vmlinux first, as libbpf looks.
    pub fn find_type(&self, name: &str, kind: Kind) -> Option<&KernelBtf> {
        let defines = |b: &KernelBtf| b.btf.by_name(name).any(|t| t.kind == kind && t.id >= b.btf.start_id());
        if defines(&self.kernel.vmlinux) {
            return Some(&self.kernel.vmlinux);
        }
        self.modules_naming(name).into_iter().find(|b| defines(b))
    }

    /// The modules that may define an own type named `name`, or a
    /// flavour of it (`name___x`), in module order: a superset of those
    /// that do (see [`ModuleNames`]), so that a lookup over the modules
    /// asks these instead of every module.
    pub fn modules_naming(&self, name: &str) -> Vec<&KernelBtf> {
        if self.kernel.modules.is_empty() {
            return Vec::new();
        }
        let index = self.module_names.get_or_init(|| ModuleNames::build(&self.kernel.modules));
        index.modules(name.as_bytes()).into_iter().filter_map(|i| self.kernel.modules.get(i)).collect()
    }

    /// What `bpfabi probe` measured on this kernel (helpers and kfuncs
    /// allowed per program type), when a matching probe was attached.
    pub fn probe(&self) -> Option<&crate::probe::ProbeIndex> {
        self.probe.as_deref()
    }
    /// The BTF CO-RE is resolved against when it is not this kernel's own
    /// (`--core-btf`, libbpf's `btf_custom_path`), and where it was read.
    pub fn core_btf(&self) -> Option<(&KernelModel, &str)> {
        self.core_btf.as_ref().map(|(m, o)| (&**m, o.as_str()))
    }
    /// Resolve CO-RE against `btf` (read from `origin`) instead of this
    /// kernel's BTF; helpers, kfuncs and attach targets still come from
    /// this kernel.
    pub fn set_core_btf(&mut self, btf: std::sync::Arc<KernelModel>, origin: impl Into<String>) {
        self.core_btf = Some((btf, origin.into()));
    }
    /// Attach a probe (see `probe::attach::attach`, which matches
    /// probes to kernels by BTF fingerprint).
    pub fn set_probe(&mut self, probe: std::sync::Arc<crate::probe::ProbeIndex>) {
        self.probe = Some(probe);
    }

    /// Architecture and JIT facts, when the release or BTF says.
    pub fn arch(&self) -> Option<&crate::kernel::arch::KernelArch> {
        self.arch.get_or_init(|| crate::kernel::arch::KernelArch::of(&self.kernel)).as_ref()
    }

    /// The kernel configuration (`CONFIG_X` -> value as written, quotes
    /// kept), when one came with the kernel (corpus `config`,
    /// `/boot/config-*`); read on first use. Options that are not set are
    /// absent.
    /// A reduced catalog kernel keeps only the BPF lines of its config: an
    /// option absent there is unknown, not unset, so it has none here.
    pub fn kconfig(&self) -> Option<&HashMap<String, String>> {
        self.kconfig
            .get_or_init(|| {
                self.kernel.info.config.as_deref().filter(|_| !self.kernel.info.reduced).map(|text| {
                    text.lines().filter(|l| l.starts_with("CONFIG_")).filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
                })
            })
            .as_ref()
    }

    /// Which symbols `/proc/kallsyms` lists, from the kernel configuration
    /// (`None`: no configuration came with the kernel, or it does not say).
    /// Read from the config text itself, so a reduced catalog kernel (whose
    /// config keeps the `KALLSYMS` lines) answers too. Read on first use.
    pub fn kallsyms(&self) -> Option<Kallsyms> {
        *self.kallsyms.get_or_init(|| self.read_kallsyms())
    }

    fn read_kallsyms(&self) -> Option<Kallsyms> {
        let text = self.kernel.info.config.as_deref()?;
        let (mut on, mut all) = (None, None);
        for l in text.lines() {
            match l.trim() {
                "CONFIG_KALLSYMS=y" => on = Some(true),
                "# CONFIG_KALLSYMS is not set" => on = Some(false),
                "CONFIG_KALLSYMS_ALL=y" => all = Some(true),
                "# CONFIG_KALLSYMS_ALL is not set" => all = Some(false),
                _ => {}
            }
        }
        match (on?, all) {
            (false, _) => Some(Kallsyms::Absent),
            (true, Some(true)) => Some(Kallsyms::All),
            (true, Some(false)) => Some(Kallsyms::Text),
            (true, None) => None,
        }
    }

    /// Named types whose name carries a `___flavour` (CO-RE candidates by
    /// essential name), per BTF (`vmlinux` or a module name): (essential
    /// name, type id). One scan of that BTF on first use.
    pub fn flavoured_types(&self, btf: &str) -> &[(String, crate::btf::TypeId)] {
        self.flavoured_of(btf).map(|f| f.list.as_slice()).unwrap_or(&[])
    }

    /// The ids of the types of BTF `btf` whose essential name is `essential`
    /// and whose name carries a `___flavour` (see [`Self::flavoured_types`]).
    pub fn flavoured_named(&self, btf: &str, essential: &str) -> &[crate::btf::TypeId] {
        self.flavoured_of(btf).and_then(|f| f.by_essential.get(essential)).map(Vec::as_slice).unwrap_or(&[])
    }

    fn flavoured_of(&self, btf: &str) -> Option<&Flavoured> {
        // vmlinux first, then modules: a short list, compared by name.
        let pos = self.kernel.btfs().position(|b| b.name == btf)?;
        let b = self.kernel.btfs().nth(pos)?;
        Some(self.flavoured.get(pos)?.get_or_init(|| {
            // Names with `___` found by searching the string sections
            // (vmlinux's serve the modules' split BTF too): only types
            // named by one of them are read.
            let mut offs = b.btf.str_ranges_containing(b"___");
            if b.btf.start_id() > crate::btf::TypeId(1) {
                offs.extend_from_slice(self.base_flavour_strs.get_or_init(|| self.kernel.vmlinux.btf.str_ranges_containing(b"___")));
                offs.sort_unstable();
            }
            // CO-RE roots are composites, enums and typedefs.
            let list: Vec<(String, crate::btf::TypeId)> = if offs.is_empty() {
                Vec::new()
            } else {
                [Kind::Struct, Kind::Union, Kind::Enum, Kind::Enum64, Kind::Typedef]
                    .into_iter()
                    .flat_map(|k| b.btf.types_of_kind(k))
                    .filter(|t| t.id >= b.btf.start_id() && in_ranges(&offs, t.name_off().get()))
                    .filter_map(|t| {
                        let (name, ess) = (t.name(), crate::object::essential(t.name()));
                        (ess.len() < name.len()).then(|| (ess.to_string(), t.id))
                    })
                    .collect()
            };
            let mut by_essential: HashMap<String, Vec<crate::btf::TypeId>> = HashMap::new();
            for (e, id) in &list {
                by_essential.entry(e.clone()).or_default().push(*id);
            }
            Flavoured { list, by_essential }
        }))
    }

    /// Helper name by `enum bpf_func_id` value.
    pub fn helper_name(&self, id: u32) -> Option<&str> {
        self.helper_names().get(&id).map(String::as_str)
    }
    /// Whether the kernel has helper `id`.
    pub fn has_helper(&self, id: u32) -> bool {
        self.helper_names().contains_key(&id)
    }
    /// Helper names by id: from the surface when it was computed, else
    /// from `enum bpf_func_id` alone (the same enum `surface::of` reads).
    pub fn helper_names(&self) -> &BTreeMap<u32, String> {
        self.helper_names.get_or_init(|| match self.surface.get() {
            Some(s) => s.helpers.iter().map(|h| (h.id, h.name.clone())).collect(),
            None => crate::surface::helpers_of(self.vmlinux()).0.into_iter().map(|h| (h.id, h.name)).collect(),
        })
    }
    /// `enum bpf_prog_type` of this kernel.
    pub fn prog_types(&self) -> &KernelEnum {
        self.prog_types.get_or_init(|| KernelEnum::read(self.vmlinux(), "bpf_prog_type"))
    }
    /// `enum bpf_attach_type` of this kernel.
    pub fn attach_types(&self) -> &KernelEnum {
        self.attach_types.get_or_init(|| KernelEnum::read(self.vmlinux(), "bpf_attach_type"))
    }
    /// `enum bpf_map_type` of this kernel.
    pub fn map_types(&self) -> &KernelEnum {
        self.map_types.get_or_init(|| KernelEnum::read(self.vmlinux(), "bpf_map_type"))
    }

    /// Fingerprints (kfunc prototypes, type layouts), computed on first use.
    /// Type layouts beyond the kfunc-reachable ones are added on demand
    /// (`ensure`), hence the lock.
    pub fn versions(&self) -> MutexGuard<'_, KernelVersions> {
        let m = self.versions.get_or_init(|| Mutex::new(KernelVersions::compute(&self.kernel, self.surface())));
        // A panic while holding the lock cannot leave a half-written table
        // (entries are inserted whole), so a poisoned lock is still usable.
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Helper names by id across several kernels (newest names win).
pub fn helper_names<'a>(models: impl IntoIterator<Item = &'a KernelModel>) -> BTreeMap<u32, String> {
    let mut m: BTreeMap<u32, String> = BTreeMap::new();
    for k in models {
        for (&id, name) in k.helper_names() {
            // Most kernels of a matrix agree on most names: copy a name
            // only where it is new or differs.
            match m.get_mut(&id) {
                Some(old) if old == name => {}
                Some(old) => old.clone_from(name),
                None => {
                    m.insert(id, name.clone());
                }
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn model_is_send_and_sync() {
        assert_send_sync::<KernelModel>();
    }
}
