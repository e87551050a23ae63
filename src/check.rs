//! Will this BPF object load on that kernel? For every program × kernel, the
//! requirements of the program (see [`crate::object`]) are matched against
//! the kernel's BTF with libbpf's rules:
//!
//! - kfuncs exist (vmlinux or a module; `___flavour` stripped) and their
//!   prototypes are compatible (`bpf_core_types_are_compat`); a missing weak
//!   kfunc is a warning, a missing strong one a failure;
//! - helper ids exist in `enum bpf_func_id`;
//! - CO-RE relocations resolve: candidates by essential name in vmlinux, else
//!   in modules; fields matched by name through anonymous members with
//!   libbpf's field compatibility; several candidates disagreeing is an
//!   ambiguity; an existence check that finds nothing is fine, an unguarded
//!   access that finds nothing fails;
//! - attach targets exist (fentry/fexit/fmod_ret functions, `bpf_lsm_*`
//!   hooks, `btf_trace_*` tracepoints, `bpf_iter_*` iterators, struct_ops
//!   types; kprobe targets missing from BTF are warnings);
//! - program, attach and map types are known to the kernel.

use crate::btf::{Btf, Kind, LocalTypeId, TargetTypeId, TypeId};
use crate::model::KernelModel;
use crate::object::btf_ext::{parse_access, CoreRelo, CoreReloKind};
use crate::object::flow::{self, Base, Decision, Flow, Oracle, Src, Val};
use crate::object::{essential, BpfObject, ExternKind, InsnTarget, Program, StructOps};
use crate::policy::{DefaultPolicy, Policy, Requirement};
use crate::uapi::{AttachType, ProgType};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Will it load? Ordered: the worst verdict of a program's requirements wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Verdict {
    /// Every requirement is satisfied.
    Loads,
    /// Loads, with something worth knowing (a weak extern missing, ...).
    Warns,
    /// libbpf or the verifier refuses it.
    Fails,
}

impl Verdict {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Loads => "loads",
            Verdict::Warns => "warns",
            Verdict::Fails => "fails",
        }
    }
}

/// What one requirement is and how it was found (JSON `kind`). `*_ok`
/// kinds are satisfied requirements (listed with `--explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum ReasonKind {
    EndiannessMismatch,
    MapTypeOk,
    MapTypeMissing,
    StructOpsOk,
    StructOpsTypeMissing,
    SectionUnknown,
    ProgTypeMissing,
    AttachTypeMissing,
    AttachTargetOk,
    AttachTargetMissing,
    AttachTargetNotInBtf,
    AttachTargetSetAtRuntime,
    HelperOk,
    HelperMissing,
    KfuncOk,
    KfuncMissing,
    KfuncProtoMismatch,
    KsymOk,
    KsymMissing,
    KsymTypeless,
    CoreOk,
    CoreCheckFalse,
    CoreAmbiguous,
    CoreUnresolved,
    CoreUnresolvedGuarded,
    /// A kfunc call in a program whose license is not GPL-compatible: the
    /// verifier refuses every such program (`add_kfunc_call`), dead code
    /// included.
    KfuncFromNonGplProgram,
    /// A struct_ops program whose license is not GPL-compatible
    /// (verifier.c `check_struct_ops_btf_id`).
    StructOpsNonGplProgram,
    /// A helper the kernel declares `gpl_only`, called where reachable from
    /// a program whose license is not GPL-compatible (probe data).
    HelperGplOnly,
    /// libbpf cannot apply a relocation at all (a target bitfield no 8-byte
    /// load covers, -E2BIG): the load fails wherever the instruction is.
    CoreRelocationRefused,
    /// A strong `.kconfig` extern libbpf cannot resolve (fails the object).
    KconfigMissing,
    /// The verdict depends on a `.rodata` value user space may set.
    DependsOnRodata,
    /// A branch decided by a constant known at load (`--explain`).
    BranchPruned,
    /// No probe data for this kernel: whether the program type may call
    /// its helpers and kfuncs is not verified.
    ProgTypeUnverified,
    /// A type-based relocation (`TYPE_ID_TARGET`, `TYPE_SIZE`, ...) of a
    /// type the kernel lacks: libbpf patches 0, no poisoning.
    CoreZero,
    ProgTypeUnsupported,
    HelperAllowed,
    HelperNotAllowed,
    KfuncAllowed,
    KfuncNotAllowed,
    ProbeUndecided,
    ProbeNoVariant,
    KfuncJitUnsupported,
    TailcallSubprogJitUnsupported,
    /// Real loads (vmtest, check --load): what happened.
    Loaded,
    VerifierRejected,
    LibbpfRejected,
    OpenFailed,
    NoPrograms,
    LoadTimeout,
    VmCrashed,
    /// The kernel is a reduced catalog entry: CO-RE, attach targets,
    /// struct_ops types and typed ksyms could not be judged.
    NotCheckedReducedKernel,
    /// kfunc compat family ([`crate::kfunc_family`]): the reachable code
    /// calls only variants that resolve.
    KfuncFamilyOk,
    /// No variant of a kfunc family resolves on this kernel.
    KfuncFamilyUnresolved,
    /// A variant resolves, but the reachable code calls one that does not.
    KfuncFamilyUnresolvedCall,
    /// A strong (not `__weak`) variant of a family does not resolve.
    KfuncFamilyStrongVariant,
}

impl ReasonKind {
    /// The JSON spelling (`kfunc_missing`).
    pub fn as_str(self) -> &'static str {
        use ReasonKind::*;
        match self {
            EndiannessMismatch => "endianness_mismatch",
            MapTypeOk => "map_type_ok",
            MapTypeMissing => "map_type_missing",
            StructOpsOk => "struct_ops_ok",
            StructOpsTypeMissing => "struct_ops_type_missing",
            SectionUnknown => "section_unknown",
            ProgTypeMissing => "prog_type_missing",
            AttachTypeMissing => "attach_type_missing",
            AttachTargetOk => "attach_target_ok",
            AttachTargetMissing => "attach_target_missing",
            AttachTargetNotInBtf => "attach_target_not_in_btf",
            AttachTargetSetAtRuntime => "attach_target_set_at_runtime",
            HelperOk => "helper_ok",
            HelperMissing => "helper_missing",
            KfuncOk => "kfunc_ok",
            KfuncMissing => "kfunc_missing",
            KfuncProtoMismatch => "kfunc_proto_mismatch",
            KsymOk => "ksym_ok",
            KsymMissing => "ksym_missing",
            KsymTypeless => "ksym_typeless",
            CoreOk => "core_ok",
            CoreCheckFalse => "core_check_false",
            CoreAmbiguous => "core_ambiguous",
            CoreUnresolved => "core_unresolved",
            CoreUnresolvedGuarded => "core_unresolved_guarded",
            CoreRelocationRefused => "core_relocation_refused",
            KfuncFromNonGplProgram => "kfunc_from_non_gpl_program",
            StructOpsNonGplProgram => "struct_ops_non_gpl_program",
            HelperGplOnly => "helper_gpl_only",
            NotCheckedReducedKernel => "not_checked_reduced_kernel",
            KfuncFamilyOk => "kfunc_family_ok",
            KfuncFamilyUnresolved => "kfunc_family_unresolved",
            KfuncFamilyUnresolvedCall => "kfunc_family_unresolved_call",
            KfuncFamilyStrongVariant => "kfunc_family_strong_variant",
            CoreZero => "core_zero",
            KconfigMissing => "kconfig_missing",
            DependsOnRodata => "depends_on_rodata",
            BranchPruned => "branch_pruned",
            ProgTypeUnverified => "prog_type_unverified",
            ProgTypeUnsupported => "prog_type_unsupported",
            HelperAllowed => "helper_allowed",
            HelperNotAllowed => "helper_not_allowed",
            KfuncAllowed => "kfunc_allowed",
            KfuncNotAllowed => "kfunc_not_allowed",
            ProbeUndecided => "probe_undecided",
            ProbeNoVariant => "probe_no_variant",
            KfuncJitUnsupported => "kfunc_jit_unsupported",
            TailcallSubprogJitUnsupported => "tailcall_subprog_jit_unsupported",
            Loaded => "loaded",
            VerifierRejected => "verifier_rejected",
            LibbpfRejected => "libbpf_rejected",
            OpenFailed => "open_failed",
            NoPrograms => "no_programs",
            LoadTimeout => "load_timeout",
            VmCrashed => "vm_crashed",
        }
    }
}

impl std::fmt::Display for ReasonKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}


/// Compare with the JSON spelling (`kind == "kfunc_removed"`).
impl PartialEq<str> for ReasonKind {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for ReasonKind {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

/// One requirement of a program on a kernel: what, and the verdict the
/// policy gave it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Reason {
    /// What was checked and found.
    pub kind: ReasonKind,
    /// The kfunc, helper, type access, map ... concerned.
    pub name: String,
    /// In words: what was found where.
    pub message: String,
    /// The policy's verdict for this requirement.
    pub severity: Verdict,
    /// The extern is weak (a fact the policy grades).
    #[serde(skip)]
    pub weak: bool,
    /// The evidence is indirect (a probe measured on another attach target).
    #[serde(skip)]
    pub indirect: bool,
}

impl Reason {
    pub(crate) fn fact(kind: ReasonKind, name: &str, message: String) -> Self {
        Reason { kind, name: name.to_string(), message, severity: Verdict::Loads, weak: false, indirect: false }
    }
    pub(crate) fn weak(mut self, weak: bool) -> Self {
        self.weak = weak;
        self
    }
    /// The same reason with a verdict set directly (real-load observations,
    /// which no policy grades).
    #[cfg(feature = "deb")]
    pub(crate) fn graded(mut self, v: Verdict) -> Self {
        self.severity = v;
        self
    }
    pub(crate) fn indirect(mut self, indirect: bool) -> Self {
        self.indirect = indirect;
        self
    }
}

/// The verdict for one program of one object on one kernel.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ProgramResult {
    /// Object path (`file@0xoffset` when embedded).
    pub object: String,
    /// Program (function) name.
    pub program: String,
    /// ELF section.
    pub section: String,
    /// Kernel label.
    pub kernel: String,
    /// Worst verdict of the requirements.
    pub verdict: Verdict,
    /// Problems (warnings and failures).
    pub reasons: Vec<Reason>,
    /// Satisfied requirements, and where (only with `explain`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub satisfied: Vec<Reason>,
    /// The BTF CO-RE relocations were resolved against when not the
    /// kernel's own (`--core-btf FILE`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_btf: Option<String>,
}

/// How to check.
#[non_exhaustive]
pub struct CheckOptions<'p> {
    /// Keep satisfied requirements in [`ProgramResult::satisfied`].
    pub explain: bool,
    /// Turns requirement facts into verdicts.
    pub policy: &'p dyn Policy,
    /// `.rodata` variables whose load-time value the user states
    /// (`--rodata NAME=VALUE`): taken as they are, without a
    /// `depends_on_rodata` warning.
    pub rodata: BTreeMap<String, u64>,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions { explain: false, policy: &DefaultPolicy, rodata: BTreeMap::new() }
    }
}

impl<'p> CheckOptions<'p> {
    /// List satisfied requirements too.
    pub fn explain(mut self, on: bool) -> Self {
        self.explain = on;
        self
    }
    /// State the load-time value of `.rodata` variables.
    pub fn rodata(mut self, values: BTreeMap<String, u64>) -> Self {
        self.rodata = values;
        self
    }
    /// Judge with `policy` instead of the default.
    pub fn policy(mut self, policy: &'p dyn Policy) -> Self {
        self.policy = policy;
        self
    }
}

/// Check every program of every object against every kernel: one result per
/// program × kernel, objects outermost, in input order. Helper names come
/// from the kernels (newest names win).
pub fn check(objects: &[BpfObject], kernels: &[KernelModel], opts: &CheckOptions) -> Vec<ProgramResult> {
    let names = crate::model::helper_names(kernels);
    let per_object = |o: &BpfObject| kernels.iter().flat_map(|k| check_object(o, k, &names, opts)).collect::<Vec<_>>();
    map_in_order(objects, per_object).into_iter().flatten().collect()
}

/// `f` over `items` on every core (objects are independent: each check
/// reads the shared kernel models only), results in input order. Workers
/// take the next item from a shared counter, so a few large objects do not
/// leave a core idle.
fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break done };
            done.push((i, f(item)));
        }
    };
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mine = work();
        // A worker that panicked lost its items: they are redone here.
        for (i, r) in mine.into_iter().chain(helpers.into_iter().flat_map(|h| h.join().unwrap_or_default())) {
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(r);
            }
        }
    });
    slots.into_iter().zip(items).map(|(r, item)| r.unwrap_or_else(|| f(item))).collect()
}

// ---- libbpf type compatibility ----

fn kinds_compat(a: Kind, b: Kind) -> bool {
    a == b || (matches!(a, Kind::Enum | Kind::Enum64) && matches!(b, Kind::Enum | Kind::Enum64))
}

/// `bpf_core_types_are_compat`: kinds match recursively; composites, enums
/// and forward declarations are compatible by kind; function prototypes need
/// the same arity and compatible parameter and return types.
pub fn types_are_compat(lb: &Btf, lid: LocalTypeId, tb: &Btf, tid: TargetTypeId, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (Some(l), Some(t)) = (lb.resolve(lid.0), tb.resolve(tid.0)) else { return false };
    if !kinds_compat(l.kind, t.kind) {
        return false;
    }
    match l.kind {
        Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => true,
        Kind::Int => l.int_info().is_some_and(|i| i.offset == 0) && t.int_info().is_some_and(|i| i.offset == 0),
        Kind::Ptr => types_are_compat(lb, LocalTypeId(l.ref_type()), tb, TargetTypeId(t.ref_type()), depth + 1),
        Kind::Array => match (l.array(), t.array()) {
            (Some(a), Some(b)) => types_are_compat(lb, LocalTypeId(a.elem), tb, TargetTypeId(b.elem), depth + 1),
            _ => false,
        },
        Kind::FuncProto => {
            let (lp, tp): (Vec<_>, Vec<_>) = (l.params().collect(), t.params().collect());
            lp.len() == tp.len()
                && lp.iter().zip(&tp).all(|(a, b)| types_are_compat(lb, LocalTypeId(a.ty), tb, TargetTypeId(b.ty), depth + 1))
                && types_are_compat(lb, LocalTypeId(l.ref_type()), tb, TargetTypeId(t.ref_type()), depth + 1)
        }
        _ => false,
    }
}

/// `bpf_core_fields_are_compat`: what a member's type must satisfy.
fn fields_are_compat(lb: &Btf, lid: LocalTypeId, tb: &Btf, tid: TargetTypeId, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (Some(l), Some(t)) = (lb.resolve(lid.0), tb.resolve(tid.0)) else { return false };
    let composite = |k: Kind| matches!(k, Kind::Struct | Kind::Union);
    if composite(l.kind) && composite(t.kind) {
        return true;
    }
    if !kinds_compat(l.kind, t.kind) {
        return false;
    }
    match l.kind {
        Kind::Ptr | Kind::Float | Kind::Fwd | Kind::Enum | Kind::Enum64 => true,
        Kind::Int => l.int_info().is_some_and(|i| i.offset == 0) && t.int_info().is_some_and(|i| i.offset == 0),
        Kind::Array => match (l.array(), t.array()) {
            (Some(a), Some(b)) => fields_are_compat(lb, LocalTypeId(a.elem), tb, TargetTypeId(b.elem), depth + 1),
            _ => false,
        },
        _ => false,
    }
}

/// Find target member named `name` in composite `tid`, descending into
/// anonymous members; returns (member type, bit offset) on success.
fn match_member(tb: &Btf, tid: TypeId, name: &str, base_bits: u32, depth: usize) -> Option<(TypeId, u32, u8, bool)> {
    if depth > 16 {
        return None;
    }
    let t = tb.resolve(tid)?;
    let n = t.vlen();
    for m in t.scan_members(name.as_bytes()) {
        let off = base_bits.saturating_add(m.bit_offset);
        if m.anonymous {
            if let Some(r) = match_member(tb, m.ty, name, off, depth + 1) {
                return Some(r);
            }
        } else if m.matches {
            return Some((m.ty, off, m.bitfield_size, m.index + 1 == n));
        }
    }
    None
}
/// `btf__resolve_size`: a type's size in bytes.
fn type_size(b: &Btf, ty: TypeId, depth: usize) -> Option<u64> {
    let t = b.resolve(ty)?;
    match t.kind {
        Kind::Ptr => Some(8),
        Kind::Array if depth < 32 => t.array().and_then(|a| type_size(b, a.elem, depth + 1).map(|e| e * u64::from(a.nelems))),
        Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Struct | Kind::Union | Kind::Float | Kind::Datasec => Some(u64::from(t.size())),
        _ => None,
    }
}

/// What a load or store of a member moves (libbpf `bpf_core_calc_field_relo`
/// `field_sz`): 0 for a bitfield, else the size of the member's type with
/// arrays stripped to their element; and whether that type is a pointer,
/// an unsigned int.
fn mem_size(b: &Btf, ty: TypeId, bitfield: u8) -> (u32, bool, bool) {
    if bitfield > 0 {
        return (0, false, false);
    }
    let mut t = b.resolve(ty);
    for _ in 0..32 {
        match t.and_then(|x| x.array()) {
            Some(a) => t = b.resolve(a.elem),
            None => break,
        }
    }
    match t {
        Some(t) if t.kind == Kind::Ptr => (8, true, false),
        Some(t) => (t.size(), false, t.int_info().is_some_and(|i| !i.signed)),
        None => (0, false, false),
    }
}
/// Attach targets that name no kernel function on purpose: the loader sets
/// the real one with `bpf_program__set_attach_target()` before loading. The
/// convention in use (libbpf-tools' `*dist`/`*slower`: `fentry/dummy_file_open`)
/// is a `dummy_` prefix; no kernel has functions by that name.
pub fn is_placeholder_target(target: &str) -> bool {
    target.starts_with("dummy_")
}

/// Outcome of resolving one CO-RE relocation against a kernel.
#[derive(Clone)]
enum CoreOutcome {
    Resolved(String),
    /// Type-based relocation without a target: the value is 0.
    Zero(String),
    Unresolved(String),
    Ambiguous(String),
    /// Resolved, but a load/store of the field would change size in a way
    /// libbpf refuses (`fail_memsz_adjust`): poisoned on LDX/ST/STX.
    MemSize(String),
    /// libbpf cannot apply the relocation at all and fails the load,
    /// wherever the instruction is (no poisoning): e.g. a target bitfield
    /// no 8-byte load covers (`bpf_core_calc_field_relo`: -E2BIG).
    Fatal(String),
}

/// A relocation's outcome and the value it patches in.
#[derive(Clone)]
struct CoreRes {
    outcome: CoreOutcome,
    value: Option<u64>,
}

fn candidates<'a>(ki: &'a KernelModel, name: &str, kind: Kind) -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
    let ess = essential(name);
    let find = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
        b.btf
            .by_name(ess)
            .filter(|t| t.id >= b.btf.start_id() && kinds_compat(kind, t.kind))
            .map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str()))
            .collect()
    };
    // relo_core.c / libbpf.c `bpf_core_add_cands`: target names are compared
    // by essential name too (a kernel `foo___x` is a candidate for `foo`).
    let flavoured = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
        ki.flavoured_named(&b.name, ess)
            .iter()
            .filter_map(|&id| b.btf.ty(id))
            .filter(|t| kinds_compat(kind, t.kind))
            .map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str()))
            .collect()
    };
    // libbpf: vmlinux candidates first; modules only when vmlinux has none.
    let mut v = find(&ki.kernel().vmlinux);
    v.extend(flavoured(&ki.kernel().vmlinux));
    if !v.is_empty() {
        return v;
    }
    ki.kernel().modules.iter().flat_map(|m| find(m).into_iter().chain(flavoured(m))).collect()
}

/// One candidate's answer: (where, text, value, bit offset, mem-size refusal).
struct CandRes {
    wher: String,
    text: String,
    value: Option<u64>,
    bits: u32,
    memsz: bool,
    /// relo_core.c `bpf_core_calc_field_relo`: the target bitfield spans
    /// more than one naturally aligned 8-byte word (-E2BIG).
    e2big: bool,
}

/// relo_core.c `bpf_core_calc_field_relo`: the smallest naturally aligned
/// load (from the member type's size up to 8 bytes) covering a bitfield of
/// `bit_sz` bits at `bit_off`; `None` when even 8 bytes do not ("can't be
/// satisfied for bitfield", -E2BIG).
fn bitfield_load(bit_off: u32, bit_sz: u32, type_size: u32) -> Option<(u32, u32)> {
    let mut byte_sz = type_size.max(1);
    let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
    while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
        if byte_sz >= 8 {
            return None;
        }
        byte_sz *= 2;
        byte_off = bit_off / 8 / byte_sz * byte_sz;
    }
    Some((byte_off, byte_sz))
}

/// Candidates of one local root type: (BTF, type id, where).
type Cands<'k> = Vec<(&'k Btf, TargetTypeId, &'k str)>;

#[cfg(test)]
fn resolve_core(obj_btf: &Btf, r: &CoreRelo, ki: &KernelModel) -> CoreRes {
    resolve_core_cached(obj_btf, r, ki, &mut HashMap::new())
}

/// Resolve an object's relocations in its order with libbpf's shared
/// candidate cache. libbpf.c `bpf_object__relocate_core` skips the
/// relocations of programs with autoload off ("no need to apply CO-RE
/// relocation if the program is not going to be loaded"), so they never
/// narrow the shared cache; such a program, once a user turns it on, sees
/// the cache as the loaded programs left it: each of its sections
/// (`autoload_off`) resolves against its own copy.
fn resolve_object_core<'k>(ob: &Btf, relos: &[CoreRelo], autoload_off: &BTreeSet<&str>, ki: &'k KernelModel) -> Vec<CoreRes> {
    let mut shared: HashMap<LocalTypeId, Cands<'k>> = HashMap::new();
    let mut off: HashMap<&str, HashMap<LocalTypeId, Cands<'k>>> = HashMap::new();
    relos
        .iter()
        .map(|r| {
            let cache = match autoload_off.get(r.section.as_str()) {
                Some(&sec) => off.entry(sec).or_insert_with(|| shared.clone()),
                None => &mut shared,
            };
            resolve_core_cached(ob, r, ki, cache)
        })
        .collect()
}

/// Resolve one relocation, with libbpf's per-object candidate cache:
/// libbpf.c `bpf_core_resolve_relo` looks the candidates of a local type up
/// once (`cand_cache`, keyed by the local type id) and relo_core.c
/// `bpf_core_calc_relo_insn` then keeps only the candidates this
/// relocation matched ("cands->len = j" when any matched), so later
/// relocations of the same local type see the narrowed set (in the
/// object's relocation order).
fn resolve_core_cached<'k>(obj_btf: &Btf, r: &CoreRelo, ki: &'k KernelModel, cache: &mut HashMap<LocalTypeId, Cands<'k>>) -> CoreRes {
    let res = |outcome, value| CoreRes { outcome, value };
    if r.kind == CoreReloKind::TypeIdLocal {
        return res(CoreOutcome::Resolved("local type id".into()), None);
    }
    // libbpf looks candidates up by the relocation's root type as given
    // (a typedef such as `u64` is matched against kernel typedefs).
    let Some(root) = obj_btf.ty(r.type_id.0) else {
        return res(CoreOutcome::Unresolved("bad local type".into()), None);
    };
    let name = root.name();
    if name.is_empty() {
        return res(CoreOutcome::Unresolved("anonymous root type".into()), None);
    }
    // relo_core.c: FIELD_EXISTS / ENUMVAL_EXISTS are 0 and every type-based
    // relocation is 0 without a target (`bpf_core_calc_field_relo`,
    // `bpf_core_calc_enumval_relo`, `bpf_core_calc_type_relo`); the others
    // are poisoned.
    let none = |why: String| {
        if r.kind.is_type() || r.is_check {
            res(CoreOutcome::Zero(format!("{why}: resolves to 0")), Some(0))
        } else {
            res(CoreOutcome::Unresolved(why), None)
        }
    };
    let cands = match cache.get(&r.type_id) {
        Some(c) => c.clone(),
        None => candidates(ki, name, root.kind),
    };
    cache.insert(r.type_id, cands.clone());
    if cands.is_empty() {
        return none(format!("no type named {} in the kernel", essential(name)));
    }
    let access = parse_access(&r.access).unwrap_or_default();
    let mut results: Vec<CandRes> = Vec::new();
    let mut kept: Cands<'k> = Vec::new();
    for &(tb, tid, wher) in &cands {
        let one: Option<CandRes> = if r.is_field() {
            // Walk the access spec member by member.
            let mut lid = r.type_id;
            let mut cur = tid;
            let mut bits = 0u32;
            let mut ok = true;
            // The last member, local and target: (type, bitfield size).
            let mut last: Option<((TypeId, u8), (TypeId, u8))> = None;
            // The previous step named the last member of its struct (a
            // zero-length array there is flexible).
            let mut last_member = false;
            for &i in access.iter().skip(1) {
                let Some(lt) = obj_btf.resolve(lid.0) else { ok = false; break };
                match lt.kind {
                    Kind::Struct | Kind::Union => {
                        let Some(lm) = lt.member(i as usize) else { ok = false; break };
                        if lm.name.is_empty() {
                            // libbpf: anonymous local members are not part of the
                            // high-level spec; the next named member is searched
                            // for in the target, through its anonymous members.
                            lid = LocalTypeId(lm.ty);
                            continue;
                        }
                        let found = match_member(tb, cur.0, lm.name, bits, 0);
                        match found {
                            Some((tty, off, tbf, is_last)) if fields_are_compat(obj_btf, LocalTypeId(lm.ty), tb, TargetTypeId(tty), 0) => {
                                last = Some(((lm.ty, lm.bitfield_size), (tty, tbf)));
                                last_member = is_last;
                                lid = LocalTypeId(lm.ty);
                                cur = TargetTypeId(tty);
                                bits = off;
                            }
                            _ => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    Kind::Array => {
                        let (Some(la), Some(tt)) = (lt.array(), tb.resolve(cur.0)) else { ok = false; break };
                        let Some(ta) = tt.array() else { ok = false; break };
                        // relo_core.c bpf_core_spec_match / is_flex_arr: only a
                        // zero-length array that is the last member of its
                        // struct is flexible; any other is indexed in bounds.
                        let flex = ta.nelems == 0 && last.is_some() && last_member;
                        if !flex && i >= ta.nelems {
                            ok = false;
                            break;
                        }
                        let esz = tb.resolve(ta.elem).map(|e| if e.kind == Kind::Ptr { 8 } else { e.size() }).unwrap_or(0);
                        bits = bits.saturating_add(i.saturating_mul(esz).saturating_mul(8));
                        last = None;
                        last_member = false;
                        lid = LocalTypeId(la.elem);
                        cur = TargetTypeId(ta.elem);
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            ok.then(|| {
                let (mut memsz, mut target_bitfield) = (false, false);
                if let Some(((lt, lbf), (tt, tbf))) = last {
                    let (osz, optr, ouns) = mem_size(obj_btf, lt, lbf);
                    let (nsz, nptr, nuns) = mem_size(tb, tt, tbf);
                    // relo_core.c bpf_core_calc_relo: sizes differ and the
                    // values are not both pointers nor both unsigned ints.
                    memsz = r.kind == CoreReloKind::FieldByteOffset && osz != nsz && !(optr && nptr) && !(ouns && nuns && osz > 0 && nsz > 0);
                    target_bitfield = tbf > 0;
                }
                let value = match r.kind {
                    CoreReloKind::FieldExists => Some(1),
                    CoreReloKind::FieldByteOffset if !target_bitfield => Some(u64::from(bits / 8)),
                    CoreReloKind::FieldByteSize if !target_bitfield => last.and_then(|(_, (tt, _))| type_size(tb, tt, 0)),
                    _ => None,
                };
                // Every field relocation but FIELD_EXISTS computes the load
                // covering a target bitfield (`bpf_core_calc_field_relo`).
                let e2big = r.kind != CoreReloKind::FieldExists
                    && last.is_some_and(|(_, (tt, tbf))| tbf > 0 && bitfield_load(bits, u32::from(tbf), tb.resolve(tt).map(|t| t.size()).unwrap_or(0)).is_none());
                CandRes { wher: wher.to_string(), text: format!("bit offset {bits}"), value, bits, memsz, e2big }
            })
        } else if r.is_enum() {
            let root = obj_btf.resolve(r.type_id.0).unwrap_or(root);
            let lname = root.enumerators().nth(*access.first().unwrap_or(&0) as usize).map(|v| v.name).unwrap_or("");
            tb.resolve(tid.0).and_then(|t| t.enumerators().find(|v| essential(v.name) == essential(lname))).map(|v| CandRes {
                wher: wher.to_string(),
                text: format!("value {}", v.value as i64),
                value: Some(if r.kind == CoreReloKind::EnumvalExists { 1 } else { v.value }),
                bits: 0,
                memsz: false,
                e2big: false,
            })
        } else {
            types_are_compat(obj_btf, r.type_id, tb, tid, 0).then(|| {
                let t = tb.ty(tid.0);
                let value = match r.kind {
                    CoreReloKind::TypeExists | CoreReloKind::TypeMatches => Some(1),
                    CoreReloKind::TypeSize => type_size(tb, tid.0, 0),
                    _ => None,
                };
                CandRes { wher: wher.to_string(), text: format!("type {}", t.map(|t| t.name()).unwrap_or("")), value, bits: 0, memsz: false, e2big: false }
            })
        };
        if let Some(c) = one {
            results.push(c);
            kept.push((tb, tid, wher));
        }
    }
    if !kept.is_empty() {
        cache.insert(r.type_id, kept);
    }
    let Some(first) = results.first() else {
        return none("no candidate type has this field/value with a compatible type".into());
    };
    // relo_core.c bpf_core_calc_relo_insn: candidates must agree on the bit
    // offset ("field offset ambiguity") and on the patched value.
    if let Some(other) = results.iter().skip(1).find(|c| c.bits != first.bits || c.value != first.value) {
        return res(
            CoreOutcome::Ambiguous(format!("{} candidates disagree ({} in {} vs {} in {})", results.len(), first.text, first.wher, other.text, other.wher)),
            None,
        );
    }
    if first.e2big {
        return res(
            CoreOutcome::Fatal(format!(
                "{} in {}: the target bitfield cannot be read with one 8-byte load; libbpf fails the load (\"can't be satisfied for bitfield\", -E2BIG)",
                first.text, first.wher
            )),
            None,
        );
    }
    if first.memsz {
        return res(
            CoreOutcome::MemSize(format!(
                "{} in {}: the field's size or kind changed (a bitfield, a signed or differently sized value); libbpf refuses to adjust a load/store of it",
                first.text, first.wher
            )),
            first.value,
        );
    }
    res(CoreOutcome::Resolved(format!("{} in {}", first.text, first.wher)), first.value)
}

/// How one extern of the object resolves on a kernel.
enum ExternStatus {
    /// Resolved (the satisfied fact, for --explain).
    Ok(Reason),
    /// A weak extern that does not resolve: 0 / a poisoned call.
    Weak(Reason),
    /// A typeless ksym (kallsyms, not checkable from BTF).
    Typeless(Reason),
    /// A strong extern that does not resolve: already an object reason.
    ObjectFails,
    /// Resolves as a kernel function that is not a registered kfunc: a call
    /// the verifier reaches fails.
    NotKfunc(Reason),
}

/// A FUNC named `name` in vmlinux, else in the first module that has one
/// (libbpf `find_ksym_btf_id`): its BTF, id and where.
fn find_func<'k>(ki: &'k KernelModel, name: &str) -> Option<(&'k Btf, TargetTypeId, &'k str)> {
    ki.kernel().btfs().find_map(|b| {
        b.btf.by_name(name).find(|t| t.kind == Kind::Func && t.id >= b.btf.start_id()).map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str()))
    })
}

/// libbpf resolves the externs of the whole object before loading any
/// program (`bpf_object__resolve_externs`, `bpf_object__resolve_ksyms_btf_id`):
/// a strong kfunc missing or with an incompatible prototype
/// (`bpf_object__resolve_ksym_func_btf_id`), or a strong typed ksym missing
/// (`bpf_object__resolve_ksym_var_btf_id`), fails the load of every program
/// of the object. Weak ones resolve to 0: a missing or incompatible weak
/// kfunc's calls are poisoned (`poison_kfunc_call`).
fn resolve_externs<'o>(obj: &'o BpfObject, ki: &KernelModel, object_reasons: &mut Vec<Reason>) -> HashMap<&'o str, ExternStatus> {
    use ReasonKind as R;
    let fact = Reason::fact;
    let obj_btf = obj.btf.as_deref();
    let mut out = HashMap::new();
    for ext in &obj.externs {
        let name = ext.name.as_str();
        let ess = essential(name);
        let st = match ext.kind {
            // libbpf looks the name up as a BTF FUNC in vmlinux, then in
            // modules (`find_ksym_btf_id`); whether the kernel registered it
            // as a kfunc the program type may call is the verifier's
            // question, asked only of reachable calls (`check_kfunc_call`).
            ExternKind::Kfunc => match find_func(ki, ess) {
                None => {
                    let r = fact(R::KfuncMissing, name, format!("kfunc `{ess}` is not in this kernel"));
                    if ext.weak {
                        ExternStatus::Weak(r.weak(true))
                    } else {
                        let mut r = r;
                        r.message.push_str(" and the extern is not weak: libbpf fails the whole object");
                        object_reasons.push(r);
                        ExternStatus::ObjectFails
                    }
                }
                Some((tb, fid, wher)) => {
                    let compat = match (obj_btf, ext.btf_id) {
                        (Some(lb), Some(lid)) => {
                            let lproto = lb.ty(lid.0).map(|f| f.ref_type()).unwrap_or(TypeId::VOID);
                            let tproto = tb.ty(fid.0).map(|f| f.ref_type()).unwrap_or(TypeId::VOID);
                            types_are_compat(lb, LocalTypeId(lproto), tb, TargetTypeId(tproto), 0)
                        }
                        _ => true,
                    };
                    let kproto = || crate::btf::render::func_decl(tb, fid.0);
                    if !compat {
                        let local = match (obj_btf, ext.btf_id) {
                            (Some(lb), Some(lid)) => crate::btf::render::func_decl(lb, lid.0),
                            _ => String::new(),
                        };
                        let r = fact(
                            R::KfuncProtoMismatch,
                            name,
                            format!("declared `{local}`, kernel has `{}` ({wher}): incompatible by libbpf's rules", kproto()),
                        );
                        if ext.weak {
                            // A weak kfunc with an incompatible prototype is left
                            // unresolved, like a missing one.
                            ExternStatus::Weak(r.weak(true))
                        } else {
                            object_reasons.push(r);
                            ExternStatus::ObjectFails
                        }
                    } else if ki.kfunc(ess).is_some() {
                        ExternStatus::Ok(fact(R::KfuncOk, name, format!("`{}` in {wher}", kproto())))
                    } else {
                        ExternStatus::NotKfunc(fact(
                            R::KfuncMissing,
                            name,
                            format!("`{ess}` is a function in {wher} but not a kfunc this kernel registers: the verifier refuses the call"),
                        ))
                    }
                }
            },
            ExternKind::Ksym => {
                let Some(eid) = ext.btf_id else { continue };
                // `extern const void sym __ksym;` is typeless: libbpf takes its
                // address from /proc/kallsyms, which BTF cannot confirm.
                let typeless = obj_btf
                    .and_then(|b| b.ty(eid.0).filter(|v| v.kind == Kind::Var).map(|v| (b, v.ref_type())))
                    .is_some_and(|(b, t)| b.resolve(t).is_some_and(|t| t.kind == Kind::Void));
                if typeless {
                    ExternStatus::Typeless(fact(
                        R::KsymTypeless,
                        name,
                        "typeless ksym: resolved from /proc/kallsyms at load time (not checkable from BTF)".into(),
                    ))
                } else {
                    match ki.find_type(ess, Kind::Var) {
                        Some(b) => ExternStatus::Ok(fact(R::KsymOk, name, format!("variable in {}", b.name))),
                        None if ext.weak => ExternStatus::Weak(fact(R::KsymMissing, name, "kernel variable not in BTF (weak: resolves to 0)".into()).weak(true)),
                        None => {
                            object_reasons.push(fact(
                                R::KsymMissing,
                                name,
                                "kernel variable not in this kernel's BTF and the extern is not weak: libbpf fails the whole object".into(),
                            ));
                            ExternStatus::ObjectFails
                        }
                    }
                }
            }
            _ => continue,
        };
        out.insert(name, st);
    }
    out
}

/// The load-time constants of one object on one kernel, for the
/// reachability analysis ([`crate::object::flow`]).
struct Facts<'a> {
    obj: &'a BpfObject,
    ki: &'a KernelModel,
    /// Per CO-RE relocation of the object.
    core: &'a [CoreRes],
    /// Per extern of the object.
    externs: &'a [Option<&'a ExternStatus>],
    /// `.rodata` values are taken as the object has them (else unknown,
    /// except the ones the user stated).
    rodata_known: bool,
    rodata_stated: &'a BTreeMap<String, u64>,
}

impl Oracle for Facts<'_> {
    fn core(&self, relo: u32) -> Val {
        match self.core.get(relo as usize) {
            Some(CoreRes { outcome: CoreOutcome::Unresolved(_), .. }) => Val::Poison,
            Some(CoreRes { outcome: CoreOutcome::Resolved(_) | CoreOutcome::Zero(_), value: Some(v) }) => Val::Const(*v, Src::Core(relo)),
            _ => Val::Unknown,
        }
    }
    fn extern_addr(&self, ext: u32) -> Val {
        match self.obj.externs.get(ext as usize).map(|e| e.kind) {
            Some(ExternKind::Kconfig) => Val::Ptr(Base::Kconfig(ext), 0),
            _ => match self.externs.get(ext as usize).copied().flatten() {
                Some(ExternStatus::Ok(_) | ExternStatus::NotKfunc(_)) => Val::NonZero(Src::Extern(ext)),
                // libbpf leaves an unresolved weak extern's address 0
                // (`bpf_ksym_exists()` is false).
                Some(ExternStatus::Weak(_)) => Val::Const(0, Src::Extern(ext)),
                _ => Val::Unknown,
            },
        }
    }
    fn kconfig(&self, ext: u32) -> Val {
        let Some(e) = self.obj.externs.get(ext as usize) else { return Val::Unknown };
        match kconfig_value(self.obj, e, self.ki) {
            Some(KconfigValue::Exact(v)) => Val::Const(v, Src::Kconfig(ext)),
            Some(KconfigValue::Range(lo, hi)) => Val::Range(lo, hi, Src::Kconfig(ext)),
            None => Val::Unknown,
        }
    }
    fn rodata(&self, section: u32, off: u64, size: u8) -> Val {
        let Some(d) = self.obj.rodata_section(section) else { return Val::Unknown };
        if let Some((start, _, name)) = d.vars.iter().find(|(o, sz, _)| *o <= off && off < o.saturating_add((*sz).max(1))) {
            if let Some(&v) = self.rodata_stated.get(name) {
                return if *start == off { Val::Const(v, Src::Literal) } else { Val::Unknown };
            }
        }
        if !self.rodata_known {
            return Val::Unknown;
        }
        let Ok(o) = usize::try_from(off) else { return Val::Unknown };
        let bytes = d.bytes.get(o..o.saturating_add(size as usize));
        let v = match (size, bytes) {
            (1, Some(b)) => b.first().map(|&x| u64::from(x)),
            (2, Some(b)) => self.obj.endian.u16(b, 0).map(u64::from),
            (4, Some(b)) => self.obj.endian.u32(b, 0).map(u64::from),
            (8, Some(b)) => self.obj.endian.u64(b, 0),
            _ => None,
        };
        v.map(|v| Val::Const(v, Src::Rodata(section, off))).unwrap_or(Val::Unknown)
    }
}

/// `enum bpf_func_id`: `BPF_FUNC_get_attach_cookie`.
const BPF_FUNC_GET_ATTACH_COOKIE: u32 = 174;

/// A `.kconfig` extern's value on a kernel.
enum KconfigValue {
    Exact(u64),
    Range(u64, u64),
}

/// libbpf `bpf_object__resolve_externs`: `LINUX_KERNEL_VERSION`
/// (`get_kernel_version`: on Debian the package version, X.Y.Z; known here
/// to X.Y, so a range), `LINUX_HAS_BPF_COOKIE` (`FEAT_BPF_COOKIE`: the
/// kernel has `bpf_get_attach_cookie`), `LINUX_HAS_SYSCALL_WRAPPER`
/// (`FEAT_SYSCALL_WRAPPER`: `CONFIG_ARCH_HAS_SYSCALL_WRAPPER`), other weak
/// `LINUX_*` are 0; `CONFIG_*` from the kernel's configuration
/// (`bpf_object__read_kconfig_file`, `set_kcfg_value_tri` / `_num`): y = 1,
/// m = 2 for a tristate, n or not set = 0, numbers as written; strings are
/// not modelled. `None`: not known.
fn kconfig_value(obj: &BpfObject, e: &crate::object::Extern, ki: &KernelModel) -> Option<KconfigValue> {
    let kv = |a: u32, b: u32, c: u32| (u64::from(a) << 16) + (u64::from(b.min(255)) << 8) + u64::from(c.min(255));
    match e.name.as_str() {
        "LINUX_KERNEL_VERSION" => ki.kernel().version().map(|v| KconfigValue::Range(kv(v.0, v.1, 0), kv(v.0, v.1, 255))),
        "LINUX_HAS_BPF_COOKIE" => Some(KconfigValue::Exact(u64::from(ki.has_helper(BPF_FUNC_GET_ATTACH_COOKIE)))),
        "LINUX_HAS_SYSCALL_WRAPPER" => ki.kconfig().map(|c| KconfigValue::Exact(u64::from(c.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER").is_some_and(|v| v == "y")))),
        n if n.starts_with("CONFIG_") => {
            let cfg = ki.kconfig()?;
            let tristate = obj
                .btf
                .as_deref()
                .zip(e.btf_id)
                .and_then(|(b, id)| b.ty(id.0).and_then(|v| b.resolve(v.ref_type())))
                .is_some_and(|t| matches!(t.kind, Kind::Enum | Kind::Enum64));
            match cfg.get(n).map(String::as_str) {
                None | Some("n") => Some(KconfigValue::Exact(0)),
                Some("y") => Some(KconfigValue::Exact(1)),
                Some("m") if tristate => Some(KconfigValue::Exact(2)),
                Some(v) if v.starts_with('"') => None,
                Some(v) => {
                    let n = match v.strip_prefix("0x") {
                        Some(h) => u64::from_str_radix(h, 16).ok(),
                        None => v.parse::<i64>().ok().map(|x| x as u64),
                    };
                    n.map(KconfigValue::Exact)
                }
            }
        }
        _ => Some(KconfigValue::Exact(0)),
    }
}

/// What a program can reach on one kernel: the requirements of its live
/// instructions (with the subprograms and callbacks live calls reach).
#[derive(Default)]
struct Reached {
    helpers: BTreeSet<u32>,
    /// Extern indices called (kfuncs).
    calls: BTreeSet<u32>,
    /// Extern indices whose address is taken.
    addrs: BTreeSet<u32>,
    /// (relocation, on a load/store instruction).
    core: BTreeMap<u32, bool>,
    /// (function, decision).
    decisions: Vec<(usize, Decision)>,
    exact: bool,
}

fn analyse_fn(obj: &BpfObject, f: usize, facts: &Facts) -> Flow {
    let insns = obj.functions.get(f).map(|x| x.insns.as_slice()).unwrap_or(&[]);
    flow::analyse(insns, facts, 32 * insns.len() + 256)
}

/// The program's requirements, from the live instructions of the analysis
/// (`flows`, computed on demand), or from every instruction of the call
/// graph when `flows` is `None` (what the code could need at most).
fn reach(obj: &BpfObject, p: &Program, mut flows: Option<&mut [Option<Flow>]>, facts: &Facts) -> Reached {
    let mut out = Reached { exact: true, ..Reached::default() };
    let mut seen = BTreeSet::from([p.func]);
    let mut stack = vec![p.func];
    while let Some(f) = stack.pop() {
        let insns = obj.functions.get(f).map(|x| x.insns.as_slice()).unwrap_or(&[]);
        let live: Option<&[bool]> = match flows.as_deref_mut() {
            Some(flows) => {
                let Some(slot) = flows.get_mut(f) else { continue };
                let flow = &*slot.get_or_insert_with(|| analyse_fn(obj, f, facts));
                out.exact &= flow.exact;
                out.decisions.extend(flow.decisions.iter().map(|d| (f, *d)));
                Some(flow.live.as_slice())
            }
            None => None,
        };
        for (k, ins) in insns.iter().enumerate() {
            if live.is_some_and(|l| !l.get(k).copied().unwrap_or(false)) {
                continue;
            }
            if let Some(r) = ins.core {
                let mem = matches!(ins.code & 0x07, 0x01..=0x03);
                *out.core.entry(r).or_default() |= mem;
            }
            match (ins.code, ins.target) {
                (0x85, InsnTarget::Extern(e)) => {
                    out.calls.insert(e);
                }
                (0x85, InsnTarget::None) if ins.src == 0 => {
                    out.helpers.insert(ins.imm as u32);
                }
                (0x85 | 0x18, InsnTarget::Func(c)) if seen.insert(c as usize) => stack.push(c as usize),
                (0x18, InsnTarget::Extern(e)) => {
                    out.addrs.insert(e);
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether any requirement of `r` (every instruction of the call graph)
/// could be a failure or a warning: only then can pruning change the
/// verdict, and only then is the analysis run.
fn may_fail(r: &Reached, facts: &Facts, ki: &KernelModel) -> bool {
    r.helpers.iter().any(|&h| !ki.has_helper(h))
        || r.calls.iter().chain(&r.addrs).any(|&e| !matches!(facts.externs.get(e as usize).copied().flatten(), None | Some(ExternStatus::Ok(_) | ExternStatus::ObjectFails)))
        || r.core.keys().any(|&c| matches!(facts.core.get(c as usize).map(|x| &x.outcome), Some(CoreOutcome::Unresolved(_) | CoreOutcome::Ambiguous(_) | CoreOutcome::MemSize(_) | CoreOutcome::Fatal(_))))
}

/// Check one object's programs against one kernel. `helper_names` names
/// helper ids in messages (see [`crate::model::helper_names`]).
pub fn check_object(obj: &BpfObject, ki: &KernelModel, helper_names: &BTreeMap<u32, String>, opts: &CheckOptions) -> Vec<ProgramResult> {
    let mut out = Vec::new();
    let mut object_reasons = Vec::new();
    // libbpf refuses an object whose byte order is not the host's
    // (`bpf_object__check_endianness`: "endianness mismatch"); the kernel's
    // BTF has the target's byte order.
    if obj.endian != ki.vmlinux().endian() {
        object_reasons.push(Reason::fact(
            ReasonKind::EndiannessMismatch,
            &obj.path,
            format!("object is {}, the kernel {}: libbpf refuses it", obj.endian.describe(), ki.vmlinux().endian().describe()),
        ));
    }
    // Map types: libbpf creates every map of the object.
    for m in &obj.maps {
        match ki.map_types().name(m.map_type as u64).filter(|n| !n.starts_with("__")) {
            Some(n) => object_reasons.push(Reason::fact(ReasonKind::MapTypeOk, &m.name, n.to_string())),
            None => object_reasons.push(Reason::fact(
                ReasonKind::MapTypeMissing,
                &m.name,
                format!("map type {} is not in this kernel's enum bpf_map_type", m.map_type),
            )),
        }
    }
    // struct_ops maps: libbpf loads a struct_ops map's programs as a unit
    // (`bpf_map__init_kern_struct_ops` finds the kernel type); a missing
    // type fails the programs of that map.
    let mut struct_ops_reasons: Vec<(&StructOps, Reason)> = Vec::new();
    for so in &obj.struct_ops {
        struct_ops_reasons.push((
            so,
            match ki.find_type(&so.kernel_type, Kind::Struct) {
                Some(b) => Reason::fact(ReasonKind::StructOpsOk, &so.name, format!("struct {} in {}", so.kernel_type, b.name)),
                None => Reason::fact(
                    ReasonKind::StructOpsTypeMissing,
                    &so.name,
                    format!("struct_ops type `struct {}` is not in this kernel", so.kernel_type),
                ),
            },
        ));
    }
    let externs = resolve_externs(obj, ki, &mut object_reasons);
    // libbpf: a strong `.kconfig` extern it cannot resolve fails the object
    // ("extern '%s' (strong): not resolved", `bpf_object__resolve_externs`).
    for e in obj.externs.iter().filter(|e| e.kind == ExternKind::Kconfig && !e.weak) {
        let unknown_linux = e.name.starts_with("LINUX_") && !matches!(e.name.as_str(), "LINUX_KERNEL_VERSION" | "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER");
        let unset_config = e.name.starts_with("CONFIG_") && ki.kconfig().is_some_and(|c| !c.contains_key(&e.name));
        if unknown_linux || unset_config {
            object_reasons.push(Reason::fact(
                ReasonKind::KconfigMissing,
                &e.name,
                format!("`{}` is not set in this kernel's configuration and the extern is not weak: libbpf fails the whole object", e.name),
            ));
        }
    }
    let ext_status: Vec<Option<&ExternStatus>> = obj.externs.iter().map(|e| externs.get(e.name.as_str())).collect();
    // `--core-btf` (libbpf `btf_custom_path`): CO-RE candidates come from
    // that BTF alone (libbpf.c `bpf_core_find_cands`: `main_btf =
    // obj->btf_vmlinux_override ?: obj->btf_vmlinux`, and no module BTFs
    // when overridden); everything else from the kernel.
    let core_ki = ki.core_btf().map(|(m, _)| m).unwrap_or(ki);
    let autoload_off: BTreeSet<&str> = obj.programs.iter().filter(|p| !p.autoload).map(|p| p.section.as_str()).collect();
    let core: Vec<CoreRes> = match obj.btf.as_deref() {
        Some(ob) => {
            let mut core = resolve_object_core(ob, &obj.core_relos, &autoload_off, core_ki);
            // A reduced catalog kernel has no type graph: CO-RE results
            // there are not constants the analysis may prune on.
            if ki.kernel().info.reduced {
                core.iter_mut().for_each(|c| c.value = None);
            }
            core
        }
        None => Vec::new(),
    };
    let facts = Facts { obj, ki, core: &core, externs: &ext_status, rodata_known: true, rodata_stated: &opts.rodata };
    // kfunc compat families (src/kfunc_family.rs), judged per program on
    // its reachable calls.
    let families = crate::kfunc_family::families(obj, &facts);
    let resolved = |e: u32| matches!(ext_status.get(e as usize).copied().flatten(), Some(ExternStatus::Ok(_)));
    let mut flows: Vec<Option<Flow>> = vec![None; obj.functions.len()];
    let mut flows_unknown_rodata: Vec<Option<Flow>> = Vec::new();
    let grade = |rs: &mut [Reason]| {
        for r in rs.iter_mut() {
            r.severity = opts.policy.grade_requirement(&Requirement { indirect: r.indirect, ..Requirement::new(r.kind, r.weak) });
        }
    };
    for p in &obj.programs {
        let mut rs: Vec<Reason> = object_reasons.clone();
        rs.extend(struct_ops_reasons.iter().filter(|(so, _)| so.programs.is_empty() || so.programs.contains(&p.name)).map(|(_, r)| r.clone()));
        program_reasons(p, ki, &mut rs);
        // What every instruction of the call graph needs: when none of it
        // fails or warns, pruning cannot change the verdict and the analysis
        // is skipped (unless --explain asks what it pruned).
        let all = reach(obj, p, None, &facts);
        // verifier.c `check_struct_ops_btf_id`: "struct ops programs must
        // have a GPL compatible license".
        if !obj.gpl_compatible() && p.prog_type == Some(ProgType::StructOps) {
            let license = obj.license.as_deref().unwrap_or("");
            rs.push(Reason::fact(
                ReasonKind::StructOpsNonGplProgram,
                &p.section,
                format!("a struct_ops program under license \"{license}\", which is not GPL-compatible: the verifier refuses it (\"struct ops programs must have a GPL compatible license\")"),
            ));
        }
        // verifier.c `add_kfunc_call` (from `add_subprog_and_kfunc`, which
        // scans every instruction before any pruning): "cannot call kernel
        // function from non-GPL compatible program".
        if !obj.gpl_compatible() && !all.calls.is_empty() && !ki.surface().kfuncs.is_empty() {
            let license = obj.license.as_deref().unwrap_or("");
            let first = all.calls.iter().next().and_then(|&e| obj.externs.get(e as usize)).map(|e| e.name.as_str()).unwrap_or("?");
            rs.push(Reason::fact(
                ReasonKind::KfuncFromNonGplProgram,
                first,
                format!("the program calls kernel functions ({first} …) and its license \"{license}\" is not GPL-compatible: the verifier refuses it (\"cannot call kernel function from non-GPL compatible program\")"),
            ));
        }
        // Relocations libbpf cannot apply fail the load even in dead code.
        let fatal_core: Vec<u32> =
            all.core.keys().copied().filter(|&c| matches!(core.get(c as usize).map(|x| &x.outcome), Some(CoreOutcome::Fatal(_)))).collect();
        let program_families: Vec<&crate::kfunc_family::Family> =
            families.iter().filter(|f| f.variants.iter().any(|v| all.calls.contains(v) || all.addrs.contains(v))).collect();
        // With a probe, what the verifier allows this program type decides
        // too: judged first over all the code, pruning matters only when
        // something there is refused.
        let probe_may_fail = || {
            ki.probe().is_some_and(|pi| {
                let mut q = p.clone();
                q.helpers.retain(|id, _| all.helpers.contains(id));
                q.kfuncs.retain(|n| all.calls.iter().any(|&e| obj.externs.get(e as usize).is_some_and(|x| &x.name == n)));
                pi.judge(obj, &q).iter().any(|r| opts.policy.grade_requirement(&Requirement { indirect: r.indirect, ..Requirement::new(r.kind, r.weak) }) != Verdict::Loads)
            })
        };
        let reached = if opts.explain || may_fail(&all, &facts, ki) || probe_may_fail() { reach(obj, p, Some(&mut flows), &facts) } else { all };
        reached_reasons(obj, p, ki, helper_names, &externs, &facts, &reached, &mut rs);
        for &c in fatal_core.iter().filter(|c| !reached.core.contains_key(c)) {
            if let (Some(r), Some(CoreRes { outcome: CoreOutcome::Fatal(w), .. })) = (obj.core_relos.get(c as usize), core.get(c as usize)) {
                let mut f = Reason::fact(ReasonKind::CoreRelocationRefused, &format!("{} {}", r.kind, r.path), w.clone());
                f.message.push_str(" (in code the verifier would not reach: libbpf relocates it first)");
                rs.push(f);
            }
        }
        for fam in program_families {
            rs.push(crate::kfunc_family::judge(obj, fam, &resolved, &reached.calls));
        }
        if opts.explain && ki.probe().is_none() && !(reached.helpers.is_empty() && reached.calls.is_empty()) {
            let t = p.prog_type.map(|t| t.to_string()).unwrap_or_else(|| "unknown".into());
            rs.push(Reason::fact(
                ReasonKind::ProgTypeUnverified,
                &t,
                format!("not verified for this program type: no probe data for this kernel says which helpers and kfuncs {t} programs may call (bpfabi probe, --probe)"),
            ));
        }
        if ki.kernel().info.reduced {
            reduced_kernel_limits(&mut rs);
        }
        grade(&mut rs);
        let mut verdict = rs.iter().map(|r| r.severity).max().unwrap_or(Verdict::Loads);
        // A branch decided by a `.rodata` value: user space may set it
        // before loading (skeletons' `rodata`). Would the program fail with
        // the other branch live?
        let rodata_vars: BTreeSet<String> = reached
            .decisions
            .iter()
            .filter_map(|(_, d)| match d.by {
                Src::Rodata(sec, off) => Some(obj.rodata_section(sec).and_then(|s| s.var_at(off)).unwrap_or("?").to_string()),
                _ => None,
            })
            .collect();
        if !rodata_vars.is_empty() && verdict < Verdict::Fails {
            if flows_unknown_rodata.is_empty() {
                flows_unknown_rodata = vec![None; obj.functions.len()];
            }
            let facts_b = Facts { rodata_known: false, ..facts };
            let rb = reach(obj, p, Some(&mut flows_unknown_rodata), &facts_b);
            let mut other = Vec::new();
            reached_reasons(obj, p, ki, helper_names, &externs, &facts_b, &rb, &mut other);
            grade(&mut other);
            let fails: BTreeSet<String> = other.iter().filter(|r| r.severity == Verdict::Fails).map(|r| format!("{} {}", r.kind, r.name)).collect();
            if !fails.is_empty() {
                let mut fails: Vec<String> = fails.into_iter().collect();
                if fails.len() > 4 {
                    let more = fails.len() - 3;
                    fails.truncate(3);
                    fails.push(format!("{more} more"));
                }
                let names = rodata_vars.into_iter().collect::<Vec<_>>().join(", ");
                let mut r = Reason::fact(
                    ReasonKind::DependsOnRodata,
                    &names,
                    format!(
                        "loads with the object's .rodata values; with other values of {names} (set by user space before load; state them with --rodata NAME=VALUE) code that needs {} becomes reachable",
                        fails.join(", ")
                    ),
                );
                grade(std::slice::from_mut(&mut r));
                verdict = verdict.max(r.severity);
                rs.push(r);
            }
        }
        let (problems, mut satisfied): (Vec<Reason>, Vec<Reason>) = rs.into_iter().partition(|r| r.severity != Verdict::Loads);
        if opts.explain {
            satisfied.extend(explain_pruning(obj, &facts, &reached));
        }
        out.push(ProgramResult {
            object: obj.path.clone(),
            program: p.name.clone(),
            section: p.section.clone(),
            kernel: ki.label().to_string(),
            verdict,
            reasons: problems,
            satisfied: if opts.explain { satisfied } else { Vec::new() },
            core_btf: ki.core_btf().map(|(_, o)| o.to_string()),
        });
    }
    out
}

/// A reduced catalog kernel keeps kfuncs, helpers and the type enums only:
/// what needs the full type graph (CO-RE candidates, attach target FUNCs,
/// struct_ops types, typed ksym VARs) is not a finding there but one
/// "not checked" reason naming what was skipped.
fn reduced_kernel_limits(rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let needs_full_btf = |k: R| {
        matches!(
            k,
            R::CoreOk | R::CoreCheckFalse | R::CoreAmbiguous | R::CoreUnresolved | R::CoreUnresolvedGuarded | R::CoreRelocationRefused | R::AttachTargetOk | R::AttachTargetMissing | R::AttachTargetNotInBtf | R::StructOpsOk | R::StructOpsTypeMissing | R::KsymOk | R::KsymMissing
        )
    };
    let mut skipped: Vec<String> = rs.iter().filter(|r| needs_full_btf(r.kind)).map(|r| r.name.clone()).collect();
    if skipped.is_empty() {
        return;
    }
    skipped.sort();
    skipped.dedup();
    rs.retain(|r| !needs_full_btf(r.kind));
    let n = skipped.len();
    let shown: Vec<&str> = skipped.iter().take(5).map(String::as_str).collect();
    rs.push(Reason::fact(
        R::NotCheckedReducedKernel,
        "catalog",
        format!("reduced catalog kernel: {n} CO-RE/attach-target/struct_ops/ksym requirement(s) not checked ({}{}); give the kernel package for those", shown.join(", "), if n > shown.len() { ", ..." } else { "" }),
    ));
}

/// `--explain`: which constant decided which branch.
fn explain_pruning(obj: &BpfObject, facts: &Facts, reached: &Reached) -> Vec<Reason> {
    let mut out = Vec::new();
    if !reached.exact {
        out.push(Reason::fact(ReasonKind::BranchPruned, "", "analysis bound reached: every instruction taken as reachable".into()));
    }
    for (f, d) in &reached.decisions {
        let fname = obj.functions.get(*f).map(|x| x.name.as_str()).unwrap_or("?");
        let by = match d.by {
            Src::Core(r) => obj
                .core_relos
                .get(r as usize)
                .map(|c| {
                    let v = facts.core.get(r as usize).and_then(|x| x.value).map(|v| format!(" = {v}")).unwrap_or_default();
                    format!("CO-RE {} {}{v}", c.kind, c.path)
                })
                .unwrap_or_default(),
            Src::Extern(e) => {
                let n = obj.externs.get(e as usize).map(|x| x.name.as_str()).unwrap_or("?");
                format!("bpf_ksym_exists({n}) = {}", if matches!(facts.extern_addr(e), Val::Const(0, _)) { "false" } else { "true" })
            }
            Src::Kconfig(e) => format!(".kconfig {}", obj.externs.get(e as usize).map(|x| x.name.as_str()).unwrap_or("?")),
            Src::Rodata(s, off) => format!(".rodata {}", obj.rodata_section(s).and_then(|x| x.var_at(off)).unwrap_or("?")),
            _ => continue,
        };
        out.push(Reason::fact(
            ReasonKind::BranchPruned,
            fname,
            format!("insn {}: branch {} by {by}", d.insn, if d.taken { "always taken" } else { "never taken" }),
        ));
    }
    out
}

/// Whether the kernel refuses a program of this type whose
/// `expected_attach_type` it does not know. The kernel's
/// `bpf_prog_load_check_attach()` (kernel/bpf/syscall.c) checks the attach
/// type for a few program types only (every other type ignores it), and
/// tracing types are checked by the verifier (`bpf_check_attach_target()`).
/// A kernel checks a type when it has the attach types that check accepts:
/// they came with the check (SK_REUSEPORT's in 5.14).
fn attach_type_checked(t: Option<ProgType>, ki: &KernelModel) -> bool {
    use AttachType as A;
    let accepted: &[AttachType] = match t {
        Some(ProgType::CgroupSock) => &[A::CgroupInetSockCreate, A::CgroupInet4PostBind],
        Some(ProgType::CgroupSockAddr) => &[A::CgroupInet4Bind, A::CgroupInet4Connect],
        Some(ProgType::CgroupSkb) => &[A::CgroupInetIngress, A::CgroupInetEgress],
        Some(ProgType::CgroupSockopt) => &[A::CgroupGetsockopt, A::CgroupSetsockopt],
        Some(ProgType::SkLookup) => &[A::SkLookup],
        Some(ProgType::SkReuseport) => &[A::SkReuseportSelect, A::SkReuseportSelectOrMigrate],
        Some(ProgType::Netfilter) => &[A::Netfilter],
        Some(ProgType::Tracing | ProgType::Lsm) => return true,
        _ => return false,
    };
    accepted.iter().any(|a| ki.attach_types().contains(&a.to_string()))
}

/// What a program needs whatever its code: program and attach types,
/// attach targets, the JIT.
fn program_reasons(p: &Program, ki: &KernelModel, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let fact = Reason::fact;
    // Program and attach types.
    match p.prog_type {
        None => rs.push(fact(R::SectionUnknown, &p.section, "section name follows no libbpf convention: program type unknown".into())),
        Some(t) => {
            let name = t.to_string();
            if !ki.prog_types().contains(&name) {
                rs.push(fact(R::ProgTypeMissing, &name, format!("{name} is not in this kernel's enum bpf_prog_type")));
            }
        }
    }
    if let Some(a) = p.expected_attach.filter(|_| attach_type_checked(p.prog_type, ki)) {
        let name = a.to_string();
        if !ki.attach_types().contains(&name) {
            rs.push(fact(R::AttachTypeMissing, &name, format!("{name} is not in this kernel's enum bpf_attach_type")));
        }
    }
    // Attach targets.
    if let Some(t) = &p.attach_target {
        // A placeholder the program's user space replaces before loading
        // (`bpf_program__set_attach_target()`; libbpf-tools name them
        // `dummy_*`): the section's target is not what loads.
        let placeholder = |name: &str| {
            fact(
                R::AttachTargetSetAtRuntime,
                name,
                format!("attach target `{t}` is a placeholder its loader replaces (bpf_program__set_attach_target): not checked"),
            )
        };
        use AttachType as A;
        let (needed, kind): (Option<String>, Kind) = match (p.prog_type, p.expected_attach) {
            (Some(ProgType::Tracing), Some(A::TraceFentry | A::TraceFexit | A::ModifyReturn)) => (Some(t.clone()), Kind::Func),
            (Some(ProgType::Tracing), Some(A::TraceRawTp)) => (Some(format!("btf_trace_{t}")), Kind::Typedef),
            (Some(ProgType::Tracing), Some(A::TraceIter)) => (Some(format!("bpf_iter_{t}")), Kind::Func),
            (Some(ProgType::Lsm), _) => (Some(format!("bpf_lsm_{t}")), Kind::Func),
            // freplace: the target is a function of another BPF program,
            // which libbpf only knows once user space names it
            // (`libbpf_find_attach_btf_id`: "attach program FD is not set").
            (Some(ProgType::Ext), _) => {
                rs.push(fact(
                    R::AttachTargetSetAtRuntime,
                    t,
                    format!("freplace target `{t}` is a function of another BPF program: it loads only once its loader names that program (bpf_program__set_attach_target); libbpf refuses it otherwise (\"attach program FD is not set\")"),
                ));
                (None, Kind::Func)
            }
            (Some(ProgType::Kprobe), None) => {
                match ki.find_type(t, Kind::Func) {
                    Some(b) => rs.push(fact(R::AttachTargetOk, t, format!("function in {}", b.name))),
                    None if is_placeholder_target(t) => rs.push(placeholder(t)),
                    None => rs.push(fact(
                        R::AttachTargetNotInBtf,
                        t,
                        format!("kprobe target `{t}` is not a function in this kernel's BTF (it may still exist in kallsyms, or be inlined)"),
                    )),
                }
                (None, Kind::Func)
            }
            _ => (None, Kind::Func),
        };
        if let Some(n) = needed {
            match ki.find_type(&n, kind) {
                Some(b) => rs.push(fact(R::AttachTargetOk, &n, format!("{} in {}", kind.name(), b.name))),
                None if is_placeholder_target(t) => rs.push(placeholder(&n)),
                None => rs.push(fact(R::AttachTargetMissing, &n, format!("attach target `{n}` ({}) is not in this kernel", kind.name()))),
            }
        }
    }
    // What the target architecture's JIT cannot run (docs/arch-jit.md).
    rs.extend(crate::kernel::arch::jit_reasons(p, ki.arch()));
}

/// What the program's reachable code needs on this kernel: helpers, kfunc
/// calls, ksym addresses, CO-RE relocations.
#[allow(clippy::too_many_arguments)]
fn reached_reasons(
    obj: &BpfObject,
    p: &Program,
    ki: &KernelModel,
    helper_names: &BTreeMap<u32, String>,
    externs: &HashMap<&str, ExternStatus>,
    facts: &Facts,
    reached: &Reached,
    rs: &mut Vec<Reason>,
) {
    use ReasonKind as R;
    let fact = Reason::fact;
    // Helpers: the verifier looks up only the calls it reaches
    // (`check_helper_call` from `do_check`); dead ones are removed.
    for &id in &reached.helpers {
        let name = helper_names.get(&id).cloned().or_else(|| crate::uapi::helper_name(id)).unwrap_or_else(|| format!("helper #{id}"));
        if ki.has_helper(id) {
            rs.push(fact(R::HelperOk, &name, format!("helper id {id}")));
        } else {
            rs.push(fact(R::HelperMissing, &name, format!("helper id {id} is not in this kernel's enum bpf_func_id")));
        }
    }
    // kfuncs and typed ksyms the reachable code calls or takes the address
    // of. Strong externs that do not resolve are object-level failures (see
    // `resolve_externs`); here: weak ones, and satisfied ones for --explain.
    for &e in reached.calls.union(&reached.addrs) {
        let Some(name) = obj.externs.get(e as usize).map(|x| x.name.as_str()) else { continue };
        let Some(st) = externs.get(name) else { continue };
        let called = reached.calls.contains(&e);
        match st {
            ExternStatus::Ok(r) => rs.push(r.clone()),
            // libbpf `poison_kfunc_call`: an unresolved weak kfunc's calls
            // become calls of an invalid helper the verifier rejects where
            // it reaches them.
            ExternStatus::Weak(r) if called && r.kind != R::KsymMissing => {
                let mut r = r.clone();
                r.weak = false;
                r.message.push_str(": the extern is weak, but a reachable call remains (libbpf poisons it, the verifier rejects it)");
                rs.push(r);
            }
            ExternStatus::Weak(r) => rs.push(r.clone()),
            ExternStatus::Typeless(r) => rs.push(r.clone()),
            ExternStatus::NotKfunc(r) if called => rs.push(r.clone()),
            ExternStatus::NotKfunc(_) | ExternStatus::ObjectFails => {}
        }
    }
    // Program-type availability of helpers and kfuncs, when the kernel has a
    // probe (src/probe/judge.rs), for the reachable calls.
    if let Some(pi) = ki.probe() {
        let mut q = p.clone();
        q.helpers.retain(|id, _| reached.helpers.contains(id));
        q.kfuncs.retain(|n| reached.calls.iter().any(|&e| obj.externs.get(e as usize).is_some_and(|x| &x.name == n)));
        rs.extend(pi.judge(obj, &q));
    }
    // CO-RE relocations of reachable instructions.
    for (&ri, &mem) in &reached.core {
        let (Some(r), Some(res)) = (obj.core_relos.get(ri as usize), facts.core.get(ri as usize)) else { continue };
        let label = format!("{} {}", r.kind, r.path);
        match &res.outcome {
            CoreOutcome::Resolved(w) => rs.push(fact(R::CoreOk, &label, w.clone())),
            CoreOutcome::Ambiguous(w) => rs.push(fact(R::CoreAmbiguous, &label, format!("ambiguous: {w}"))),
            CoreOutcome::Zero(w) if r.is_check => rs.push(fact(R::CoreCheckFalse, &label, format!("existence check evaluates to 0 ({w})"))),
            CoreOutcome::Zero(w) => rs.push(fact(R::CoreZero, &label, w.clone())),
            // relo_core.c `bpf_core_patch_insn`: a refused size adjustment
            // poisons loads and stores only.
            CoreOutcome::MemSize(w) if mem => {
                rs.push(fact(R::CoreUnresolved, &label, format!("{w}: libbpf poisons the load/store and the verifier rejects it")))
            }
            CoreOutcome::MemSize(w) => rs.push(fact(R::CoreOk, &label, w.clone())),
            CoreOutcome::Fatal(w) => rs.push(fact(R::CoreRelocationRefused, &label, w.clone())),
            CoreOutcome::Unresolved(w) => rs.push(fact(
                R::CoreUnresolved,
                &label,
                format!("{w}: libbpf poisons the instruction and the verifier reaches it (no constant the kernel knows makes it dead code)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    //! libbpf's CO-RE rules on synthetic local and target BTF.
    use super::*;
    use crate::btf::builder::Builder;
    use crate::bytes::{Bytes, Endian};

    fn kernel(f: impl Fn(&mut Builder)) -> KernelModel {
        let mut b = Builder::new(Endian::Little);
        f(&mut b);
        KernelModel::from_bytes(b.build(), "synthetic", &Default::default()).unwrap()
    }
    fn local(f: impl Fn(&mut Builder) -> TypeId) -> (Btf, TypeId) {
        let mut b = Builder::new(Endian::Little);
        let id = f(&mut b);
        (Btf::parse(Bytes::from_vec(b.build())).unwrap(), id)
    }
    fn relo(kind: CoreReloKind, type_id: TypeId, access: &str) -> CoreRelo {
        CoreRelo { section: "x".into(), insn_off: 0, type_id: LocalTypeId(type_id), access: access.into(), kind, path: String::new(), is_check: kind.is_check() }
    }
    /// `struct <name> { u32 a; u32 b; }` with `b` a bitfield of `b_bits` (0: none).
    fn two_fields(b: &mut Builder, name: &str, b_bits: u8) -> TypeId {
        let u32_ = b.int("unsigned int", 4, 32, false);
        b.composite(false, name, 8, &[("a", u32_, 0, 0), ("b", u32_, 32, b_bits)])
    }

    /// relo_core.c `bpf_core_calc_type_relo`: a type-based relocation of a
    /// type the kernel lacks is 0, not poisoned; a field access is poisoned.
    #[test]
    fn type_based_relocations_of_missing_types_are_zero() {
        let k = kernel(|b| {
            two_fields(b, "other", 0);
        });
        let (lb, id) = local(|b| two_fields(b, "a_struct", 0));
        for kind in [CoreReloKind::TypeIdTarget, CoreReloKind::TypeSize, CoreReloKind::TypeExists, CoreReloKind::TypeMatches] {
            let r = resolve_core(&lb, &relo(kind, id, "0"), &k);
            assert!(matches!(r.outcome, CoreOutcome::Zero(_)) && r.value == Some(0), "{kind}");
        }
        assert!(matches!(resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:1"), &k).outcome, CoreOutcome::Unresolved(_)));
        assert_eq!(resolve_core(&lb, &relo(CoreReloKind::FieldExists, id, "0:1"), &k).value, Some(0));
    }

    /// A kernel with `s { a, b }` and `s___x { a, b (another offset), c }`,
    /// and a local `s { a, b, c, d }`: `b` alone is ambiguous, `c` only in
    /// `s___x`.
    fn two_candidates() -> (KernelModel, Btf, TypeId) {
        let k = kernel(|b| {
            let u32_ = b.int("unsigned int", 4, 32, false);
            b.composite(false, "s", 8, &[("a", u32_, 0, 0), ("b", u32_, 32, 0)]);
            b.composite(false, "s___x", 16, &[("a", u32_, 0, 0), ("b", u32_, 64, 0), ("c", u32_, 96, 0)]);
        });
        let (lb, id) = local(|b| {
            let u32_ = b.int("unsigned int", 4, 32, false);
            b.composite(false, "s", 16, &[("a", u32_, 0, 0), ("b", u32_, 32, 0), ("c", u32_, 64, 0), ("d", u32_, 96, 0)])
        });
        (k, lb, id)
    }

    /// libbpf's candidate cache (`bpf_core_resolve_relo`) narrowed by each
    /// relocation (`bpf_core_calc_relo_insn`): after a relocation that only
    /// `s___x` satisfies, a later one on the same local type no longer sees
    /// `s`, so candidates that would disagree are not an ambiguity.
    #[test]
    fn candidates_narrowed_across_relocations() {
        let (k, lb, id) = two_candidates();
        let b_off = relo(CoreReloKind::FieldByteOffset, id, "0:1");
        let c_off = relo(CoreReloKind::FieldByteOffset, id, "0:2");
        // Alone, `b` has two candidates that disagree.
        assert!(matches!(resolve_core(&lb, &b_off, &k).outcome, CoreOutcome::Ambiguous(_)));
        // After `c` (only in s___x), the object's cache holds s___x only.
        let mut cache = HashMap::new();
        let c = resolve_core_cached(&lb, &c_off, &k, &mut cache);
        assert!(matches!(c.outcome, CoreOutcome::Resolved(_)) && c.value == Some(12));
        let b = resolve_core_cached(&lb, &b_off, &k, &mut cache);
        assert!(matches!(b.outcome, CoreOutcome::Resolved(_)) && b.value == Some(8), "{:?}", b.value);
        // A relocation no candidate satisfies leaves the set unchanged.
        let mut cache = HashMap::new();
        assert_eq!(resolve_core_cached(&lb, &relo(CoreReloKind::FieldExists, id, "0:3"), &k, &mut cache).value, Some(0));
        assert!(matches!(resolve_core_cached(&lb, &b_off, &k, &mut cache).outcome, CoreOutcome::Ambiguous(_)));
    }

    /// libbpf.c `bpf_object__relocate_core`: relocations of a program with
    /// autoload off (`SEC("?...")`) are not applied, so they do not narrow
    /// the candidates that the loaded programs' relocations see.
    #[test]
    fn autoload_off_relocations_do_not_narrow() {
        let (k, lb, id) = two_candidates();
        let in_sec = |sec: &str, access: &str| CoreRelo { section: sec.into(), ..relo(CoreReloKind::FieldByteOffset, id, access) };
        let relos = [in_sec("?kprobe/x", "0:2"), in_sec("kprobe/y", "0:1"), in_sec("?kprobe/x", "0:1")];
        let off: BTreeSet<&str> = ["?kprobe/x"].into_iter().collect();
        let r = resolve_object_core(&lb, &relos, &off, &k);
        // The loaded program's `b` still has both candidates: ambiguous.
        assert!(matches!(r[1].outcome, CoreOutcome::Ambiguous(_)));
        // The autoload-off program narrowed its own copy: its `b` resolves.
        assert!(matches!(r[2].outcome, CoreOutcome::Resolved(_)) && r[2].value == Some(8), "{:?}", r[2].value);
        // With autoload on, the first relocation narrows for everyone.
        let r = resolve_object_core(&lb, &relos, &BTreeSet::new(), &k);
        assert!(matches!(r[1].outcome, CoreOutcome::Resolved(_)) && r[1].value == Some(8));
    }

    /// relo_core.c `bpf_core_calc_field_relo`: a target bitfield that no
    /// naturally aligned load of up to 8 bytes covers cannot be relocated
    /// (-E2BIG, the load fails even in dead code); FIELD_EXISTS still
    /// resolves, and a bitfield an 8-byte load covers is not refused.
    #[test]
    fn bitfield_width_limit_e2big() {
        assert_eq!(bitfield_load(32, 8, 4), Some((4, 4)));
        assert_eq!(bitfield_load(28, 8, 4), Some((0, 8)));
        assert_eq!(bitfield_load(60, 8, 4), None);
        let k = kernel(|b| {
            let u32_ = b.int("unsigned int", 4, 32, false);
            b.composite(false, "s", 16, &[("a", u32_, 0, 0), ("b", u32_, 60, 8)]);
        });
        let (lb, id) = local(|b| two_fields(b, "s", 0));
        for kind in [CoreReloKind::FieldByteOffset, CoreReloKind::FieldByteSize, CoreReloKind::FieldLshiftU64, CoreReloKind::FieldRshiftU64] {
            assert!(matches!(resolve_core(&lb, &relo(kind, id, "0:1"), &k).outcome, CoreOutcome::Fatal(_)), "{kind}");
        }
        assert_eq!(resolve_core(&lb, &relo(CoreReloKind::FieldExists, id, "0:1"), &k).value, Some(1));
        let fits = kernel(|b| {
            two_fields(b, "s", 8);
        });
        assert!(!matches!(resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:1"), &fits).outcome, CoreOutcome::Fatal(_)));
    }

    /// A field that became a bitfield: its existence and offset resolve, a
    /// plain load of it does not (`fail_memsz_adjust`).
    #[test]
    fn field_that_became_a_bitfield() {
        let k = kernel(|b| {
            two_fields(b, "s", 8);
        });
        let (lb, id) = local(|b| two_fields(b, "s", 0));
        assert!(matches!(resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:1"), &k).outcome, CoreOutcome::MemSize(_)));
        assert_eq!(resolve_core(&lb, &relo(CoreReloKind::FieldExists, id, "0:1"), &k).value, Some(1));
        // Unchanged field: resolves with its byte offset.
        let r = resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:0"), &k);
        assert!(matches!(r.outcome, CoreOutcome::Resolved(_)) && r.value == Some(0));
    }

    /// `___flavour` is stripped from the local name; candidates disagreeing
    /// on the offset are an ambiguity, agreeing ones are not.
    #[test]
    fn flavours_and_ambiguity() {
        let (lb, id) = local(|b| two_fields(b, "s___v2", 0));
        let agree = kernel(|b| {
            two_fields(b, "s", 0);
            two_fields(b, "s", 0);
        });
        let r = resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:1"), &agree);
        assert!(matches!(r.outcome, CoreOutcome::Resolved(_)) && r.value == Some(4));
        let disagree = kernel(|b| {
            two_fields(b, "s", 0);
            let u32_ = b.int("unsigned int", 4, 32, false);
            b.composite(false, "s", 12, &[("a", u32_, 0, 0), ("b", u32_, 64, 0)]);
        });
        assert!(matches!(resolve_core(&lb, &relo(CoreReloKind::FieldByteOffset, id, "0:1"), &disagree).outcome, CoreOutcome::Ambiguous(_)));
        // Same offset, different sizes: FIELD_BYTE_SIZE disagrees.
        let sizes = kernel(|b| {
            two_fields(b, "s", 0);
            let u64_ = b.int("unsigned long", 8, 64, false);
            let u32_ = b.int("unsigned int", 4, 32, false);
            b.composite(false, "s", 16, &[("a", u32_, 0, 0), ("b", u64_, 32, 0)]);
        });
        assert!(matches!(resolve_core(&lb, &relo(CoreReloKind::FieldByteSize, id, "0:1"), &sizes).outcome, CoreOutcome::Ambiguous(_)));
    }
}
