//! BPF object files (ELF64, EM_BPF, relocatable, either byte order): what a
//! compiled program needs from a kernel.
//!
//! Reads, via `object` for ELF: programs (one per global function in a
//! program section, with libbpf's SEC() conventions decoded in [`sections`]),
//! instructions (helper calls, kfunc calls, bpf-to-bpf calls, `ld_imm64`
//! references to extern functions = `bpf_ksym_exists()` checks), externs
//! (`.ksyms` kfuncs and variables, `.kconfig`), weak vs strong, maps
//! (BTF-defined `.maps` and legacy `maps`), license, struct_ops, and CO-RE
//! relocations from `.BTF.ext` decoded into readable access paths. BPF
//! objects embedded in executables (libbpf skeletons) are found by
//! [`embedded`].

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod btf_ext;
pub mod callbacks;
pub mod embedded;
pub mod flow;
pub mod sections;
pub mod value_fields;

use crate::btf::{Btf, Kind, LocalTypeId};
use crate::bytes::{Bytes, Endian};
use crate::error::{Error, Result};
use btf_ext::{CoreRelo, LineInfo};
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionKind, SymbolSection};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub use crate::elf::EM_BPF;
use crate::uapi::{AttachType, ProgType};

/// `[{"id": 1, "name": "bpf_map_lookup_elem", "calls": 3}]` (names from the
/// built-in UAPI table; `null` for ids it does not know).
fn helpers_with_names<S: serde::Serializer>(h: &BTreeMap<u32, usize>, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(h.len()))?;
    for (&id, &calls) in h {
        seq.serialize_element(&serde_json::json!({"id": id, "name": crate::uapi::helper_name(id), "calls": calls}))?;
    }
    seq.end()
}

fn prog_type_or_unknown<S: serde::Serializer>(t: &Option<ProgType>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_str("unknown"),
    }
}

/// Instruction classes and codes we decode.
const BPF_CALL: u8 = 0x85; // BPF_JMP | BPF_CALL
const BPF_LD_IMM64: u8 = 0x18; // BPF_LD | BPF_DW | BPF_IMM
const PSEUDO_CALL: u8 = 1;
const PSEUDO_KFUNC_CALL: u8 = 2;
/// `ld_imm64` of a subprogram's address (a callback for bpf_loop & co).
const PSEUDO_FUNC: u8 = 4;

/// What an extern is, by where libbpf resolves it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExternKind {
    /// A FUNC in `.ksyms`: a kernel function called as a kfunc.
    Kfunc,
    /// A kernel variable (`.ksyms` VAR, or an undefined symbol).
    Ksym,
    /// A `.kconfig` value libbpf fills from the kernel configuration.
    Kconfig,
    /// A function resolved by static linking, not by the kernel.
    ExternFunc,
}

impl ExternKind {
    /// The JSON spelling (`kfunc`, `extern_func`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExternKind::Kfunc => "kfunc",
            ExternKind::Ksym => "ksym",
            ExternKind::Kconfig => "kconfig",
            ExternKind::ExternFunc => "extern_func",
        }
    }
}

impl std::fmt::Display for ExternKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compare with the JSON spelling (`kind == "kfunc_removed"`).
impl PartialEq<str> for ExternKind {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for ExternKind {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

/// An extern the object expects the kernel or libbpf to provide.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extern {
    /// Symbol name as in the object (may carry a `___flavour`).
    pub name: String,
    /// Where it is resolved.
    pub kind: ExternKind,
    /// Declared `__weak`: libbpf tolerates its absence.
    pub weak: bool,
    /// Type id of the FUNC / VAR in the object's BTF, when it has one.
    #[serde(skip)]
    pub btf_id: Option<LocalTypeId>,
}

impl Extern {
    /// An extern without BTF (tests, synthetic objects).
    pub fn new(name: &str, kind: ExternKind, weak: bool) -> Self {
        Extern { name: name.to_string(), kind, weak, btf_id: None }
    }
    /// The name without a `___flavour` suffix (as libbpf resolves it).
    pub fn essential_name(&self) -> &str {
        essential(&self.name)
    }
}

/// `name___flavour` → `name`, as libbpf reads a flavoured name for CO-RE
/// and kfuncs (libbpf.c `bpf_core_essential_name_len`, v1.7.0): the part
/// before the last `___` with a character other than `_` on each side
/// (`foo___a___b` → `foo___a`; `____fput` has no flavour).
pub fn essential(name: &str) -> &str {
    let b = name.as_bytes();
    let sep = |i: usize| matches!(b.get(i..i + 5), Some([x, b'_', b'_', b'_', y]) if *x != b'_' && *y != b'_');
    match (0..b.len().saturating_sub(4)).rev().find(|&i| sep(i)) {
        Some(i) => name.get(..=i).unwrap_or(name),
        None => name,
    }
}

/// aya's reading of a flavoured name (aya-obj `btf/relocation.rs`
/// `flavorless_name`, v0.3.0 / aya-v0.14.0): the part before the first
/// `___`, wherever it is (`foo___a___b` → `foo`).
pub fn essential_first(name: &str) -> &str {
    name.split_once("___").map_or(name, |x| x.0)
}

/// cilium/ebpf's reading of a flavoured name (btf/types.go
/// `newEssentialName`, v0.11.0 to v0.22.0): the part before the last `___`
/// when that is not at the start (`foo___a___b` → `foo___a`).
pub fn essential_last(name: &str) -> &str {
    match name.rfind("___") {
        Some(i) if i > 0 => name.get(..i).unwrap_or(name),
        _ => name,
    }
}

#[derive(Debug, Clone, Default, Serialize)]
/// A map the object defines.
pub struct Map {
    /// Map name.
    pub name: String,
    /// Raw `enum bpf_map_type` value.
    pub map_type: u32,
    /// "btf" for `.maps`, "legacy" for `maps`.
    pub definition: &'static str,
    /// `max_entries` as defined (0: user space must size it); `None` when
    /// the definition does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u32>,
    /// `value_size` as defined: `__uint(value_size, N)`, the size of
    /// `__type(value, T)`, or 0 when neither is given (user space sets it:
    /// libbpf-tools' stack trace maps); the legacy definition's field.
    #[serde(skip)]
    pub value_size: Option<u32>,
    /// `pinning` of a BTF map (`LIBBPF_PIN_BY_NAME` = 1), or of a legacy
    /// definition long enough to carry iproute2's `struct bpf_elf_map`
    /// field (offset 24).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinning: Option<u32>,
    /// A BTF map-in-map declares its inner map (`__array(values, ...)`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inner_map: bool,
    /// Bytes of a legacy definition past `struct bpf_map_def`'s five
    /// fields (20 bytes): how many, and whether any is non-zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<MapExtra>,
    /// A `.maps` variable whose type is not directly a struct (a typedef
    /// of one, as xdp-tools writes them): libbpf and aya look through it,
    /// cilium/ebpf does not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_struct: bool,
    /// Special fields of a BTF map's value type (`struct bpf_spin_lock`,
    /// `bpf_timer`, ...: [`value_fields`]); empty for legacy maps, which
    /// carry no BTF.
    #[serde(skip)]
    pub value_fields: BTreeSet<value_fields::ValueField>,
    /// Where the definition is in the ELF (section index, byte offset):
    /// what an `ld_imm64` relocated against the map's symbol points at
    /// ([`InsnTarget::Data`]).
    #[serde(skip)]
    pub elf_at: Option<(u32, i64)>,
}

/// The tail of a legacy map definition beyond `struct bpf_map_def`
/// (`type, key_size, value_size, max_entries, map_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MapExtra {
    /// Bytes past the first 20.
    pub len: u32,
    /// Any of them non-zero (cilium/ebpf `MapSpec.Extra` must be zeroes).
    pub non_zero: bool,
}

/// `enum bpf_map_type` values the loader rules name.
pub mod map_type {
    /// `BPF_MAP_TYPE_PROG_ARRAY`.
    pub const PROG_ARRAY: u32 = 3;
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: loaders size it to the CPU count.
    pub const PERF_EVENT_ARRAY: u32 = 4;
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    pub const ARRAY_OF_MAPS: u32 = 12;
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    pub const HASH_OF_MAPS: u32 = 13;
    /// `BPF_MAP_TYPE_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 26;
}

impl Map {
    /// Holds maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`).
    pub fn is_map_in_map(&self) -> bool {
        matches!(self.map_type, map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
/// A program: one function in a program section.
pub struct Program {
    /// Function name (libbpf's program name).
    pub name: String,
    /// ELF section (`SEC()` name).
    pub section: String,
    /// Decoded from the section name (libbpf conventions); `None` when the
    /// section follows none (printed as `unknown`).
    #[serde(serialize_with = "prog_type_or_unknown")]
    pub prog_type: Option<ProgType>,
    /// Expected attach type libbpf sets for this section.
    pub expected_attach: Option<AttachType>,
    /// Attach target named by the section (`fentry/<func>`, `lsm/<hook>`, ...).
    pub attach_target: Option<String>,
    /// A sleepable variant (`.s/` sections).
    pub sleepable: bool,
    /// libbpf loads it by default (`SEC("?...")` turns that off).
    pub autoload: bool,
    /// Instructions, this function only.
    pub insns: usize,
    /// Helper id -> calls, including called subprograms.
    #[serde(serialize_with = "helpers_with_names")]
    pub helpers: BTreeMap<u32, usize>,
    /// kfunc names called (including from subprograms).
    pub kfuncs: BTreeSet<String>,
    /// Extern functions whose address is taken (bpf_ksym_exists()).
    pub ksym_checks: BTreeSet<String>,
    /// Indices into [`BpfObject::core_relos`] of relocations in this program
    /// or the subprograms it calls.
    pub core_relos: Vec<usize>,
    /// bpf-to-bpf calls made (including from subprograms).
    pub subprog_calls: usize,
    /// Index of its function in [`BpfObject::functions`].
    #[serde(skip)]
    pub func: usize,
    /// Its symbol binds locally (a `static` function in a program
    /// section): libbpf refuses the object, cilium/ebpf and aya load it
    /// (src/loader).
    #[serde(skip)]
    pub is_static: bool,
}

#[derive(Debug, Clone, Serialize)]
/// A struct_ops map: which kernel struct it implements.
pub struct StructOps {
    /// The map variable name.
    pub name: String,
    /// The kernel struct implemented (e.g. `tcp_congestion_ops`).
    pub kernel_type: String,
    /// Programs its function pointers point to (libbpf
    /// `bpf_object__collect_st_ops_relos`); empty when unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// Which member each program implements: (member name, program),
    /// in relocation order. libbpf `bpf_object__collect_st_ops_relos`
    /// finds the member at the relocation's offset in the local type, and
    /// `bpf_map__init_kern_struct_ops` loads the program with
    /// `expected_attach_type` = the index of the kernel member of that name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<StructOpsSlot>,
    /// Declared in `.struct_ops.link` (`SEC(".struct_ops.link")`: attached
    /// through a BPF link) rather than `.struct_ops`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub link: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
/// One function-pointer member of a struct_ops map and its program.
pub struct StructOpsSlot {
    /// Member name in the local (object's) type.
    pub member: String,
    /// Program (function symbol) it points to.
    pub program: String,
}

/// A parsed BPF object.
#[derive(Debug, Clone, Serialize)]
pub struct BpfObject {
    /// Where it was read (`file@0xoffset` when embedded).
    pub path: String,
    /// Byte order.
    pub endian: Endian,
    /// Contents of the `license` section.
    pub license: Option<String>,
    /// Programs.
    pub programs: Vec<Program>,
    /// Maps.
    pub maps: Vec<Map>,
    /// Externs (kfuncs, ksyms, kconfig).
    pub externs: Vec<Extern>,
    /// CO-RE relocations from `.BTF.ext`.
    pub core_relos: Vec<CoreRelo>,
    /// struct_ops maps.
    pub struct_ops: Vec<StructOps>,
    /// Functions in `.text`: subprograms, loaded only as part of a program.
    pub subprograms: Vec<String>,
    /// Helper ids called anywhere in the object, reachable or not.
    #[serde(skip)]
    pub helpers_anywhere: BTreeSet<u32>,
    #[serde(skip)]
    /// The object's own BTF.
    pub btf: Option<Arc<Btf>>,
    /// Every function (programs and `.text` subprograms) with its
    /// instructions; [`Program::func`] indexes it.
    #[serde(skip)]
    pub functions: Vec<Function>,
    /// Read-only data sections (`.rodata*`): libbpf freezes them, so the
    /// verifier reads their values as constants.
    #[serde(skip)]
    pub rodata: Vec<DataSection>,
    /// Found inside a Go executable (evidence for cilium/ebpf: the loader
    /// module's `evidence`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_go_executable: bool,
    /// Source lines of instructions (`.BTF.ext` line info), by section then
    /// offset; empty without line info or when it is malformed (lines are
    /// for messages, not verdicts).
    #[serde(skip)]
    pub lines: Vec<LineInfo>,
    /// The object's own ELF bytes (shared with the buffer it was read from):
    /// what real loads (`check --load`, `vmtest`) hand to a loader.
    #[serde(skip)]
    pub bytes: Bytes,
}

/// One call of a kfunc in an object (or a load of its address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallSite {
    /// The kfunc (its essential name, without a `___suffix`).
    pub kfunc: String,
    /// ELF section of the instruction.
    pub section: String,
    /// Function (program or subprogram) containing it.
    pub function: String,
    /// Instruction index within that function.
    pub insn: u64,
    /// Source line, when the object has line info.
    pub line: Option<LineInfo>,
}

impl BpfObject {
    /// Every instruction referring to a kfunc extern (calls, and
    /// `bpf_ksym_exists()` address loads), in function then instruction
    /// order, each with its source line when the object has line info.
    pub fn kfunc_call_sites(&self) -> Vec<CallSite> {
        let mut out = Vec::new();
        for f in &self.functions {
            for (i, insn) in f.insns.iter().enumerate() {
                let InsnTarget::Extern(e) = insn.target else { continue };
                let Some(ext) = self.externs.get(e as usize).filter(|x| x.kind == ExternKind::Kfunc) else { continue };
                let off = f.start.saturating_add(i as u64 * 8);
                let line = u32::try_from(off).ok().and_then(|o| btf_ext::line_at(&self.lines, &f.section, o)).cloned();
                out.push(CallSite { kfunc: ext.essential_name().to_string(), section: f.section.clone(), function: f.name.clone(), insn: i as u64, line });
            }
        }
        out
    }
}

/// A function of an executable section: a program or a subprogram.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Function {
    /// Symbol name.
    pub name: String,
    /// ELF section.
    pub section: String,
    /// Byte offset of its first instruction in the section.
    pub start: u64,
    /// Instructions (8-byte slots; an `ld_imm64` takes two).
    pub insns: Vec<Insn>,
}

/// One decoded instruction slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Insn {
    /// Opcode byte.
    pub code: u8,
    /// Destination register.
    pub dst: u8,
    /// Source register (or pseudo kind for calls and `ld_imm64`).
    pub src: u8,
    /// Offset.
    pub off: i16,
    /// Immediate.
    pub imm: i32,
    /// What a relocation or a pseudo call points this instruction at.
    pub target: InsnTarget,
    /// Index into [`BpfObject::core_relos`] of the CO-RE relocation patching
    /// this instruction.
    pub core: Option<u32>,
}

/// What an instruction refers to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsnTarget {
    /// Nothing.
    #[default]
    None,
    /// An extern (index into [`BpfObject::externs`]): a kfunc call, or the
    /// address of a ksym / `.kconfig` variable.
    Extern(u32),
    /// A function (index into [`BpfObject::functions`]): a bpf-to-bpf call
    /// or a callback's address.
    Func(u32),
    /// An address in a data section (ELF section index, byte offset).
    Data {
        /// ELF section index.
        section: u32,
        /// Byte offset in it.
        offset: i64,
    },
    /// An undefined symbol (while parsing).
    #[doc(hidden)]
    Symbol(u32),
}

/// A read-only data section and its variables.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DataSection {
    /// ELF section index.
    pub index: u32,
    /// Section name.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Variables: (offset, size, name), by offset.
    pub vars: Vec<(u64, u64, String)>,
}

impl DataSection {
    /// The variable covering byte `off`.
    pub fn var_at(&self, off: u64) -> Option<&str> {
        self.vars.iter().find(|(o, sz, _)| *o <= off && off < o.saturating_add((*sz).max(1))).map(|(_, _, n)| n.as_str())
    }
}

/// The `.rodata` variables (`const volatile` globals user space may set
/// before loading) of `objects`, sorted, each once.
pub fn rodata_names(objects: &[BpfObject]) -> BTreeSet<&str> {
    objects.iter().flat_map(|o| o.rodata.iter()).flat_map(|d| d.vars.iter().map(|(_, _, n)| n.as_str())).collect()
}

/// Names given as `.rodata` values (`check --rodata NAME=V`) that no object
/// has: an error listing the variables the objects do have.
pub fn unknown_rodata<'a>(objects: &[BpfObject], names: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let known = rodata_names(objects);
    let unknown: Vec<&str> = names.into_iter().filter(|n| !known.contains(n)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let have = if known.is_empty() {
        "the objects have no .rodata variables".to_string()
    } else {
        format!("their .rodata variables: {}", known.into_iter().collect::<Vec<_>>().join(", "))
    };
    Err(Error::of(
        crate::error::ErrorKind::NotFound,
        "--rodata",
        format!("no object has a .rodata variable {}; {have}", unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
    ))
}

impl BpfObject {
    /// The read-only data section with ELF index `index`.
    pub fn rodata_section(&self, index: u32) -> Option<&DataSection> {
        self.rodata.iter().find(|d| d.index == index)
    }

    /// Does the kernel take the object's license as GPL-compatible
    /// (`license_is_gpl_compatible()`, include/linux/license.h: an exact
    /// match of one of six strings)? libbpf passes "" when the object has
    /// no `license` section.
    pub fn gpl_compatible(&self) -> bool {
        matches!(self.license.as_deref(), Some("GPL" | "GPL v2" | "GPL and additional rights" | "Dual BSD/GPL" | "Dual MIT/GPL" | "Dual MPL/GPL"))
    }
}

fn read_rodata(file: &object::File) -> Vec<DataSection> {
    let mut out = Vec::new();
    for sec in file.sections() {
        let name = sec.name().unwrap_or("");
        if !name.starts_with(".rodata") || name.starts_with(".rodata.str") {
            continue;
        }
        let si = sec.index();
        let mut vars: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.section() == SymbolSection::Section(si) && s.kind() == object::SymbolKind::Data)
            .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
            .collect();
        vars.sort();
        out.push(DataSection { index: si.0 as u32, name: name.to_string(), bytes: sec.data().unwrap_or(&[]).to_vec(), vars });
    }
    out
}

/// A function (program or subprogram) found in an executable section.
struct Func {
    name: String,
    section: String,
    sec_index: usize,
    start: u64,
    end: u64,
    /// STB_LOCAL.
    local: bool,
    helpers: BTreeMap<u32, usize>,
    kfuncs: BTreeSet<String>,
    ksym_checks: BTreeSet<String>,
    /// (section index, byte offset) of called functions.
    calls: Vec<(usize, u64)>,
    relos: Vec<usize>,
    /// Decoded instructions, with (insn index, call target) still to resolve.
    insns: Vec<Insn>,
    pending: Vec<(usize, (usize, u64))>,
}

impl BpfObject {
    /// Read one BPF object from bytes (copied once; use [`parse`] with a
    /// [`Bytes`] to share an mmap). `name` names it in messages and results.
    pub fn parse(bytes: &[u8], name: &str) -> Result<BpfObject> {
        parse(&Bytes::from_vec(bytes.to_vec()), name)
    }
    /// Every BPF object in a file: a `.bpf.o`, or an executable or library
    /// embedding some (with their byte offsets).
    pub fn read_path(path: &std::path::Path) -> Result<Vec<(u64, BpfObject)>> {
        read_path(path)
    }
}

/// Read one BPF object from bytes.
pub fn parse(bytes: &Bytes, path: &str) -> Result<BpfObject> {
    let data = bytes.as_slice();
    let err = |what: String| Error::new(path, what).at(0);
    let file = object::File::parse(data).map_err(|e| err(format!("expected an ELF BPF object: {e}")))?;
    let (machine, endian) = match &file {
        object::File::Elf64(f) => {
            let e = f.endian();
            (object::read::elf::FileHeader::e_machine(f.elf_header(), e), if file.is_little_endian() { Endian::Little } else { Endian::Big })
        }
        _ => return Err(err("expected a 64-bit ELF BPF object".into())),
    };
    if machine != EM_BPF {
        return Err(err(format!("expected e_machine EM_BPF (247), found {machine}")));
    }
    if file.kind() != object::ObjectKind::Relocatable {
        return Err(err("expected a relocatable BPF object (ET_REL)".into()));
    }
    let sec_data = |name: &str| -> Option<&[u8]> { file.section_by_name(name)?.data().ok() };
    let btf = match sec_data(".BTF") {
        Some(d) => Some(Arc::new(Btf::parse(Bytes::from_vec(d.to_vec())).map_err(|e| e.in_file(format!("{path} [.BTF]")))?)),
        None => None,
    };
    let license = sec_data("license").map(|d| String::from_utf8_lossy(d.split(|&b| b == 0).next().unwrap_or(&[])).into_owned());

    // Symbols: functions per section, externs.
    let mut funcs: Vec<Func> = Vec::new();
    let mut undef: HashMap<usize, (String, bool)> = HashMap::new(); // symbol index -> (name, weak)
    for sym in file.symbols() {
        let name = sym.name().unwrap_or("").to_string();
        match sym.section() {
            SymbolSection::Undefined if !name.is_empty() => {
                undef.insert(sym.index().0, (name, sym.is_weak()));
            }
            // STT_FUNC, or (clang < 8) STT_NOTYPE symbols that are not branch labels.
            SymbolSection::Section(si)
                if !name.is_empty()
                    && (sym.kind() == object::SymbolKind::Text
                        || (sym.kind() == object::SymbolKind::Unknown && !name.starts_with("LBB") && !name.starts_with(".L"))) =>
            {
                let Ok(sec) = file.section_by_index(si) else { continue };
                if sec.kind() != SectionKind::Text {
                    continue;
                }
                let section = sec.name().unwrap_or("").to_string();
                funcs.push(Func {
                    name,
                    section,
                    sec_index: si.0,
                    start: sym.address(),
                    end: sym.address().saturating_add(sym.size().max(8)),
                    // libbpf `bpf_object__add_programs` asks STT_FUNC symbols only.
                    local: sym.is_local() && sym.kind() == object::SymbolKind::Text,
                    helpers: BTreeMap::new(),
                    kfuncs: BTreeSet::new(),
                    ksym_checks: BTreeSet::new(),
                    calls: Vec::new(),
                    relos: Vec::new(),
                    insns: Vec::new(),
                    pending: Vec::new(),
                });
            }
            _ => {}
        }
    }
    funcs.sort_by_key(|f| (f.sec_index, f.start));
    // Old clang emits function symbols without sizes: a function then runs
    // to the next function of its section, or to the section's end.
    for i in 0..funcs.len() {
        let Some(&Func { start, end, sec_index, .. }) = funcs.get(i) else { continue };
        if end <= start.saturating_add(8) {
            let next = funcs.get(i + 1).filter(|n| n.sec_index == sec_index).map(|n| n.start);
            let sec_end = file.section_by_index(object::SectionIndex(sec_index)).map(|s| s.size()).unwrap_or(0);
            if let Some(f) = funcs.get_mut(i) {
                f.end = next.unwrap_or(sec_end).max(start.saturating_add(8));
            }
        }
    }
    let func_at = |funcs: &[Func], si: usize, off: u64| funcs.iter().position(|f| f.sec_index == si && f.start <= off && off < f.end);

    // Instructions of every executable section.
    for sec in file.sections().filter(|s| s.kind() == SectionKind::Text) {
        let si = sec.index().0;
        let code = sec.data().unwrap_or(&[]);
        // Relocations of this section: insn offset -> target symbol.
        let mut rel: HashMap<u64, (Option<usize>, Option<usize>, i64)> = HashMap::new(); // off -> (undef sym, target section, addend)
        for (off, r) in sec.relocations() {
            match r.target() {
                RelocationTarget::Symbol(s) => {
                    let target_sec = file.symbol_by_index(s).ok().and_then(|sym| match sym.section() {
                        SymbolSection::Section(ts) => Some(ts.0),
                        _ => None,
                    });
                    let sym_addr = file.symbol_by_index(s).map(|x| x.address() as i64).unwrap_or(0);
                    rel.insert(off, (undef.contains_key(&s.0).then_some(s.0), target_sec, sym_addr));
                }
                _ => continue,
            }
        }
        for (i, insn) in code.chunks_exact(8).enumerate() {
            let off = (i * 8) as u64;
            let op = insn.first().copied().unwrap_or(0);
            let regs = insn.get(1).copied().unwrap_or(0);
            let src = match endian {
                Endian::Little => regs >> 4,
                Endian::Big => regs & 0x0f,
            };
            let imm = endian.u32(insn, 4).unwrap_or(0) as i32;
            let Some(f) = func_at(&funcs, si, off).and_then(|fi| funcs.get_mut(fi)) else { continue };
            let dst = match endian {
                Endian::Little => regs & 0x0f,
                Endian::Big => regs >> 4,
            };
            let ioff = endian.u16(insn, 2).unwrap_or(0) as i16;
            let idx = ((off - f.start) / 8) as usize;
            if f.insns.len() <= idx {
                f.insns.resize(idx + 1, Insn::default());
            }
            let mut target = InsnTarget::None;
            match rel.get(&off) {
                Some((Some(s), _, _)) => target = InsnTarget::Symbol(*s as u32),
                Some((None, Some(ts), addr))
                    if op == BPF_LD_IMM64 && !file.section_by_index(object::SectionIndex(*ts)).is_ok_and(|x| x.kind() == SectionKind::Text) =>
                {
                    target = InsnTarget::Data { section: *ts as u32, offset: addr.wrapping_add(imm as i64) };
                }
                _ => {}
            }
            if let Some(slot) = f.insns.get_mut(idx) {
                *slot = Insn { code: op, dst, src, off: ioff, imm, target, core: None };
            }
            let calls_before = f.calls.len();
            match (op, src) {
                (BPF_CALL, 0) => *f.helpers.entry(imm as u32).or_default() += 1,
                // clang emits a kfunc call as a pseudo call relocated against
                // the undefined extern; libbpf turns it into a kfunc call.
                (BPF_CALL, PSEUDO_CALL | PSEUDO_KFUNC_CALL) if matches!(rel.get(&off), Some((Some(_), _, _))) => {
                    if let Some((Some(s), _, _)) = rel.get(&off) {
                        if let Some((n, _)) = undef.get(s) {
                            f.kfuncs.insert(n.clone());
                        }
                    }
                }
                (BPF_CALL, PSEUDO_KFUNC_CALL) => {}
                (BPF_CALL, PSEUDO_CALL) => {
                    let target = match rel.get(&off) {
                        // Call through a relocation against a section symbol or function symbol.
                        Some((None, Some(ts), addr)) => Some((*ts, addr.wrapping_add((imm as i64 + 1) * 8) as u64)),
                        _ => Some((si, (off as i64).wrapping_add((imm as i64 + 1) * 8) as u64)),
                    };
                    if let Some(t) = target {
                        f.calls.push(t);
                    }
                }
                (BPF_LD_IMM64, PSEUDO_FUNC) => {
                    // A callback: reachable like a call.
                    let target = match rel.get(&off) {
                        Some((None, Some(ts), addr)) => (*ts, addr.wrapping_add((imm as i64 + 1) * 8) as u64),
                        _ => (si, (off as i64).wrapping_add((imm as i64 + 1) * 8) as u64),
                    };
                    f.calls.push(target);
                }
                (BPF_LD_IMM64, _) => {
                    match rel.get(&off) {
                        Some((Some(s), _, _)) => {
                            if let Some((n, _)) = undef.get(s) {
                                f.ksym_checks.insert(n.clone());
                            }
                        }
                        // clang emits callbacks as ld_imm64 relocated against .text.
                        Some((None, Some(ts), addr)) if file.section_by_index(object::SectionIndex(*ts)).is_ok_and(|x| x.kind() == SectionKind::Text) => {
                            f.calls.push((*ts, addr.wrapping_add(imm as i64) as u64));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            if let Some(&t) = f.calls.get(calls_before) {
                f.pending.push((idx, t));
            }
        }
    }
    // Calls and callbacks: the called function's index.
    for fi in 0..funcs.len() {
        let pending = funcs.get_mut(fi).map(|f| std::mem::take(&mut f.pending)).unwrap_or_default();
        for (idx, (ts, toff)) in pending {
            if let Some(c) = func_at(&funcs, ts, toff) {
                if let Some(slot) = funcs.get_mut(fi).and_then(|f| f.insns.get_mut(idx)) {
                    slot.target = InsnTarget::Func(c as u32);
                }
            }
        }
    }

    // Externs: from BTF DATASECs when present (they say func vs var), else ELF symbols.
    let mut externs: Vec<Extern> = Vec::new();
    let weak_of: HashMap<&str, bool> = undef.values().map(|(n, w)| (n.as_str(), *w)).collect();
    if let Some(b) = &btf {
        for sec in b.types_of_kind(Kind::Datasec) {
            let kind = match sec.name() {
                ".ksyms" => ExternKind::Ksym,
                ".kconfig" => ExternKind::Kconfig,
                _ => continue,
            };
            for v in sec.datasec_vars() {
                let Some(t) = b.ty(v.ty) else { continue };
                let is_func = t.kind == Kind::Func;
                let name = t.name().to_string();
                externs.push(Extern {
                    weak: weak_of.get(name.as_str()).copied().unwrap_or(false),
                    kind: if is_func { ExternKind::Kfunc } else { kind },
                    btf_id: Some(LocalTypeId(v.ty)),
                    name,
                });
            }
        }
        // Extern FUNCs outside `.ksyms` are link-time externs (resolved by
        // static linking), not kfuncs: libbpf only treats `.ksyms` FUNCs as kfuncs.
        for f in b.types_of_kind(Kind::Func) {
            if f.linkage() == Some(crate::btf::Linkage::Extern) && !externs.iter().any(|e| e.name == f.name()) {
                externs.push(Extern {
                    name: f.name().to_string(),
                    kind: ExternKind::ExternFunc,
                    weak: weak_of.get(f.name()).copied().unwrap_or(false),
                    btf_id: Some(LocalTypeId(f.id)),
                });
            }
        }
    }
    for (n, w) in undef.values() {
        if !externs.iter().any(|e| &e.name == n) {
            externs.push(Extern { name: n.clone(), kind: ExternKind::Ksym, weak: *w, btf_id: None });
        }
    }
    externs.sort_by(|a, b| a.name.cmp(&b.name));
    externs.dedup_by(|a, b| a.name == b.name);

    // CO-RE relocations, attributed to the function containing the instruction.
    let core_relos = match (sec_data(".BTF.ext"), &btf) {
        (Some(ext), Some(b)) => btf_ext::core_relos(ext, endian, b).map_err(|e| e.in_file(format!("{path} [.BTF.ext]")))?,
        _ => Vec::new(),
    };
    for (ri, r) in core_relos.iter().enumerate() {
        let Some(sec) = file.section_by_name(&r.section) else { continue };
        if let Some(f) = func_at(&funcs, sec.index().0, r.insn_off as u64).and_then(|fi| funcs.get_mut(fi)) {
            f.relos.push(ri);
            let idx = ((r.insn_off as u64).saturating_sub(f.start) / 8) as usize;
            if let Some(i) = f.insns.get_mut(idx) {
                i.core = Some(ri as u32);
            }
        }
    }

    // Programs: global functions in non-.text executable sections (libbpf),
    // with everything their callees need.
    let mut programs = Vec::new();
    for (pi, f) in funcs.iter().enumerate() {
        // libbpf: every function of a program section is a program (static
        // ones too); functions in .text are subprograms.
        if f.section == ".text" {
            continue;
        }
        let mut seen = BTreeSet::from([pi]);
        let mut stack = vec![pi];
        let mut p = Program {
            name: f.name.clone(),
            section: f.section.clone(),
            prog_type: None,
            expected_attach: None,
            attach_target: None,
            sleepable: false,
            autoload: true,
            insns: (f.end.saturating_sub(f.start) / 8) as usize,
            helpers: BTreeMap::new(),
            kfuncs: BTreeSet::new(),
            ksym_checks: BTreeSet::new(),
            core_relos: Vec::new(),
            subprog_calls: 0,
            func: pi,
            is_static: f.local,
        };
        while let Some(i) = stack.pop() {
            let Some(g) = funcs.get(i) else { continue };
            for (h, n) in &g.helpers {
                *p.helpers.entry(*h).or_default() += n;
            }
            p.kfuncs.extend(g.kfuncs.iter().cloned());
            p.ksym_checks.extend(g.ksym_checks.iter().cloned());
            p.core_relos.extend(g.relos.iter().copied());
            for &(ts, toff) in &g.calls {
                p.subprog_calls += 1;
                if let Some(c) = func_at(&funcs, ts, toff) {
                    if seen.insert(c) {
                        stack.push(c);
                    }
                }
            }
        }
        p.core_relos.sort_unstable();
        // Calls to undefined symbols are kfunc calls only for `.ksyms` FUNCs.
        let is_kfunc = |n: &String| externs.iter().any(|e| &e.name == n && e.kind == ExternKind::Kfunc);
        p.kfuncs.retain(is_kfunc);
        let sd = sections::decode(&f.section);
        p.prog_type = sd.prog_type;
        p.expected_attach = sd.attach;
        p.attach_target = sd.target;
        p.sleepable = sd.sleepable;
        p.autoload = !sd.autoload_off;
        programs.push(p);
    }

    let maps = read_maps(&file, btf.as_deref(), endian);
    // struct_ops maps and, from the relocations of their section, the
    // programs their function pointers name (libbpf
    // `bpf_object__collect_st_ops_relos`).
    let struct_ops = btf
        .as_deref()
        .map(|b| {
            b.types_of_kind(Kind::Datasec)
                .filter(|s| s.name().starts_with(".struct_ops"))
                .flat_map(|s| {
                    let relocs: Vec<(u64, String)> = file
                        .section_by_name(s.name())
                        .map(|sec| {
                            sec.relocations()
                                .filter_map(|(off, r)| match r.target() {
                                    RelocationTarget::Symbol(si) => Some((off, file.symbol_by_index(si).ok()?.name().ok()?.to_string())),
                                    _ => None,
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let link = s.name() == ".struct_ops.link";
                    s.datasec_vars().map(move |v| (v, relocs.clone(), link)).collect::<Vec<_>>()
                })
                .filter_map(|(v, relocs, link)| {
                    let var = b.ty(v.ty)?;
                    let t = b.resolve(var.ref_type())?;
                    let (start, end) = (u64::from(v.offset), u64::from(v.offset) + u64::from(v.size));
                    let inside: Vec<&(u64, String)> = relocs.iter().filter(|(o, _)| start <= *o && *o < end).collect();
                    let slots = inside
                        .iter()
                        .filter_map(|(o, prog)| {
                            let bit = (o - start).checked_mul(8)?;
                            let m = t.members().find(|m| u64::from(m.bit_offset) == bit)?;
                            Some(StructOpsSlot { member: m.name.to_string(), program: prog.clone() })
                        })
                        .collect();
                    let mut programs: Vec<String> = inside.iter().map(|(_, n)| n.clone()).collect();
                    programs.sort();
                    programs.dedup();
                    Some(StructOps { name: var.name().to_string(), kernel_type: t.name().to_string(), programs, slots, link })
                })
                .collect()
        })
        .unwrap_or_default();
    let subprograms = funcs.iter().filter(|f| f.section == ".text").map(|f| f.name.clone()).collect();
    let helpers_anywhere = funcs.iter().flat_map(|f| f.helpers.keys().copied()).collect();
    // Symbols of undefined externs -> index into `externs`.
    let functions = funcs
        .into_iter()
        .map(|f| {
            let mut insns = f.insns;
            for i in &mut insns {
                if let InsnTarget::Symbol(s) = i.target {
                    i.target = undef
                        .get(&(s as usize))
                        .and_then(|(n, _)| externs.iter().position(|e| &e.name == n))
                        .map(|e| InsnTarget::Extern(e as u32))
                        .unwrap_or(InsnTarget::None);
                }
            }
            Function { name: f.name, section: f.section, start: f.start, insns }
        })
        .collect();
    let rodata = read_rodata(&file);
    let lines = match (sec_data(".BTF.ext"), &btf) {
        (Some(ext), Some(b)) => btf_ext::line_infos(ext, endian, b).unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(BpfObject {
        path: path.to_string(),
        endian,
        license,
        programs,
        maps,
        externs,
        core_relos,
        struct_ops,
        subprograms,
        helpers_anywhere,
        btf,
        functions,
        rodata,
        in_go_executable: false,
        lines,
        bytes: bytes.clone(),
    })
}

fn read_maps(file: &object::File, btf: Option<&Btf>, endian: Endian) -> Vec<Map> {
    let mut out = Vec::new();
    if let Some(b) = btf {
        // Where each map's symbol is: clang leaves the DATASEC's offsets 0
        // in an object (libbpf fills them from the symbols,
        // `btf_fixup_datasec`), so the symbol table says.
        let maps_section = file.section_by_name(".maps").map(|s| s.index());
        let map_symbol: HashMap<&str, i64> = match maps_section {
            Some(si) => file
                .symbols()
                .filter(|sym| sym.section() == SymbolSection::Section(si))
                .filter_map(|sym| Some((sym.name().ok()?, sym.address() as i64)))
                .collect(),
            None => HashMap::new(),
        };
        for sec in b.types_of_kind(Kind::Datasec).filter(|s| s.name() == ".maps") {
            for v in sec.datasec_vars() {
                let Some(var) = b.ty(v.ty) else { continue };
                let Some(def) = b.resolve(var.ref_type()) else { continue };
                // `__uint(name, X)` is `int (*name)[X]` (libbpf.c
                // `get_map_field_int`).
                let uint = |name: &str| {
                    def.members()
                        .find(|m| m.name == name)
                        .and_then(|m| b.ty(m.ty))
                        .filter(|p| p.kind == Kind::Ptr)
                        .and_then(|p| b.ty(p.ref_type()))
                        .and_then(|a| a.array())
                        .map(|a| a.nelems)
                };
                out.push(Map {
                    name: var.name().to_string(),
                    map_type: uint("type").unwrap_or(0),
                    definition: "btf",
                    max_entries: uint("max_entries"),
                    value_size: uint("value_size").or_else(|| {
                        // `__type(value, T)` is `T *value`.
                        let t = def.members().find(|m| m.name == "value").and_then(|m| b.ty(m.ty)).and_then(|p| b.resolve(p.ref_type()));
                        match t {
                            Some(t) => Some(match t.array() {
                                Some(a) => b.resolve(a.elem).map_or(0, |e| e.size()).saturating_mul(a.nelems),
                                None => t.size(),
                            }),
                            None => Some(0),
                        }
                    }),
                    pinning: uint("pinning"),
                    // `__array(values, struct inner)`: libbpf.c
                    // `parse_btf_map_def` reads the inner definition from it.
                    inner_map: def.members().any(|m| m.name == "values"),
                    extra: None,
                    not_struct: b.ty(var.ref_type()).is_some_and(|t| t.kind != Kind::Struct),
                    // `__type(value, T)` is `T *value`.
                    value_fields: def
                        .members()
                        .find(|m| m.name == "value")
                        .and_then(|m| b.ty(m.ty))
                        .filter(|p| p.kind == Kind::Ptr)
                        .map(|p| value_fields::of_value(b, p.ref_type()))
                        .unwrap_or_default(),
                    elf_at: maps_section.zip(map_symbol.get(var.name())).map(|(si, &at)| (si.0 as u32, at)),
                });
            }
        }
    }
    // Legacy `struct bpf_map_def` in `maps` (libbpf.c
    // `bpf_object__init_user_maps` of libbpf 0.x; cilium/ebpf and aya take
    // `maps` and `maps/...`, elf_reader.go `loadMaps`): each symbol's bytes,
    // its size from the symbol or an equal share of the section.
    for sec in file.sections().filter(|s| s.name().is_ok_and(|n| n == "maps" || n.starts_with("maps/"))) {
        let data = sec.data().unwrap_or(&[]);
        let si = sec.index();
        let syms: Vec<_> = file.symbols().filter(|s| s.section() == SymbolSection::Section(si) && !s.name().unwrap_or("").is_empty()).collect();
        let share = if syms.is_empty() { 0 } else { data.len() / syms.len() };
        for sym in &syms {
            let off = sym.address() as usize;
            let size = if sym.size() > 0 { sym.size() as usize } else { share };
            let Some(def) = off.checked_add(size).and_then(|end| data.get(off..end)) else { continue };
            let Some(t) = endian.u32(def, 0) else { continue };
            let tail = def.get(20..).unwrap_or(&[]);
            out.push(Map {
                name: sym.name().unwrap_or("").to_string(),
                map_type: t,
                definition: "legacy",
                max_entries: endian.u32(def, 12),
                value_size: endian.u32(def, 8),
                pinning: endian.u32(def, 24),
                inner_map: false,
                extra: (!tail.is_empty()).then(|| MapExtra { len: tail.len() as u32, non_zero: tail.iter().any(|&b| b != 0) }),
                not_struct: false,
                value_fields: BTreeSet::new(),
                elf_at: Some((si.0 as u32, off as i64)),
            });
        }
    }
    out
}

/// Read a file that is a BPF object or contains some (executables with
/// libbpf skeletons): every object found, with its byte offset.
pub fn read_path(path: &std::path::Path) -> Result<Vec<(u64, BpfObject)>> {
    let name = path.display().to_string();
    let bytes = Bytes::from_path(path).map_err(|e| Error::io(&name, e))?;
    read_bytes(&bytes, &name)
}

/// [`read_path`] of bytes already read, named `name`: the first object
/// that does not parse is the error.
pub fn read_bytes(bytes: &Bytes, name: &str) -> Result<Vec<(u64, BpfObject)>> {
    locate(bytes, name)?.into_iter().map(|l| Ok((l.offset, l.object?))).collect()
}

/// One BPF object located in a file: its name (`file@0xOFFSET` when
/// embedded), offset, ELF bytes, and what the reader made of them.
#[derive(Debug)]
pub struct Located {
    /// Display name.
    pub name: String,
    /// Byte offset in the file.
    pub offset: u64,
    /// The object's ELF bytes.
    pub bytes: Bytes,
    /// The object, or why it could not be read.
    pub object: Result<BpfObject>,
}

/// Every BPF object in `bytes` (the file itself when it is one, else the
/// objects embedded in it), each read on its own: one that does not parse
/// does not hide the others (a loader may still be given its bytes). An
/// empty file, or one holding no BPF object, is the error.
pub fn locate(bytes: &Bytes, name: &str) -> Result<Vec<Located>> {
    let d = bytes.as_slice();
    if d.is_empty() {
        return Err(Error::of(crate::error::ErrorKind::WrongInput, name, "empty file"));
    }
    if embedded::is_bpf_elf(d) {
        return Ok(vec![Located { name: name.to_string(), offset: 0, bytes: bytes.clone(), object: parse(bytes, name) }]);
    }
    let found = embedded::find(d);
    if found.is_empty() {
        return Err(Error::of(crate::error::ErrorKind::WrongInput, name, "expected a BPF ELF object (EM_BPF) or a file embedding one").at(0));
    }
    let go = embedded::is_go_executable(d);
    let mut out = Vec::new();
    for (off, len) in found {
        let Some(sub) = bytes.slice(off..off + len) else { continue };
        // The ELF parser wants its header 8-aligned: an object embedded at
        // another offset (Rust's `include_bytes!` keeps none) is copied, as
        // the streaming finder's callers copy every object.
        let sub = if sub.as_slice().as_ptr().align_offset(8) == 0 { sub } else { Bytes::from_vec(sub.as_slice().to_vec()) };
        let name = format!("{name}@{off:#x}");
        let object = parse(&sub, &name).map(|mut o| {
            o.in_go_executable = go;
            o
        });
        out.push(Located { name, offset: off as u64, bytes: sub, object });
    }
    Ok(out)
}
