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

use crate::btf::{Btf, Kind, TypeId};
use crate::model::KernelModel;
use crate::object::btf_ext::{parse_access, CoreRelo, CoreReloKind};
use crate::object::{essential, BpfObject, ExternKind, Program};
use crate::policy::{DefaultPolicy, Policy, Requirement};
use crate::uapi::{AttachType, ProgType};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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
            CoreZero => "core_zero",
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
}

/// How to check.
#[non_exhaustive]
pub struct CheckOptions<'p> {
    /// Keep satisfied requirements in [`ProgramResult::satisfied`].
    pub explain: bool,
    /// Turns requirement facts into verdicts.
    pub policy: &'p dyn Policy,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions { explain: false, policy: &DefaultPolicy }
    }
}

impl<'p> CheckOptions<'p> {
    /// List satisfied requirements too.
    pub fn explain(mut self, on: bool) -> Self {
        self.explain = on;
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
    let mut out = Vec::new();
    for o in objects {
        for k in kernels {
            out.extend(check_object(o, k, &names, opts));
        }
    }
    out
}

// ---- libbpf type compatibility ----

fn kinds_compat(a: Kind, b: Kind) -> bool {
    a == b || (matches!(a, Kind::Enum | Kind::Enum64) && matches!(b, Kind::Enum | Kind::Enum64))
}

/// `bpf_core_types_are_compat`: kinds match recursively; composites, enums
/// and forward declarations are compatible by kind; function prototypes need
/// the same arity and compatible parameter and return types.
pub fn types_are_compat(lb: &Btf, lid: TypeId, tb: &Btf, tid: TypeId, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (Some(l), Some(t)) = (lb.resolve(lid), tb.resolve(tid)) else { return false };
    if !kinds_compat(l.kind, t.kind) {
        return false;
    }
    match l.kind {
        Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => true,
        Kind::Int => l.int_info().is_some_and(|i| i.offset == 0) && t.int_info().is_some_and(|i| i.offset == 0),
        Kind::Ptr => types_are_compat(lb, l.ref_type(), tb, t.ref_type(), depth + 1),
        Kind::Array => match (l.array(), t.array()) {
            (Some(a), Some(b)) => types_are_compat(lb, a.elem, tb, b.elem, depth + 1),
            _ => false,
        },
        Kind::FuncProto => {
            let (lp, tp): (Vec<_>, Vec<_>) = (l.params().collect(), t.params().collect());
            lp.len() == tp.len()
                && lp.iter().zip(&tp).all(|(a, b)| types_are_compat(lb, a.ty, tb, b.ty, depth + 1))
                && types_are_compat(lb, l.ref_type(), tb, t.ref_type(), depth + 1)
        }
        _ => false,
    }
}

/// `bpf_core_fields_are_compat`: what a member's type must satisfy.
fn fields_are_compat(lb: &Btf, lid: TypeId, tb: &Btf, tid: TypeId, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let (Some(l), Some(t)) = (lb.resolve(lid), tb.resolve(tid)) else { return false };
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
            (Some(a), Some(b)) => fields_are_compat(lb, a.elem, tb, b.elem, depth + 1),
            _ => false,
        },
        _ => false,
    }
}

/// Find target member named `name` in composite `tid`, descending into
/// anonymous members; returns (member type, bit offset) on success.
fn match_member(tb: &Btf, tid: TypeId, name: &str, base_bits: u32, depth: usize) -> Option<(TypeId, u32)> {
    if depth > 16 {
        return None;
    }
    let t = tb.resolve(tid)?;
    for m in t.members() {
        let off = base_bits.saturating_add(m.bit_offset);
        if m.name.is_empty() {
            if let Some(r) = match_member(tb, m.ty, name, off, depth + 1) {
                return Some(r);
            }
        } else if m.name == name {
            return Some((m.ty, off));
        }
    }
    None
}

/// Attach targets that name no kernel function on purpose: the loader sets
/// the real one with `bpf_program__set_attach_target()` before loading. The
/// convention in use (libbpf-tools' `*dist`/`*slower`: `fentry/dummy_file_open`)
/// is a `dummy_` prefix; no kernel has functions by that name.
pub fn is_placeholder_target(target: &str) -> bool {
    target.starts_with("dummy_")
}

/// Outcome of resolving one CO-RE relocation against a kernel.
enum CoreOutcome {
    Resolved(String),
    /// Type-based relocation without a target: the value is 0.
    Zero(String),
    Unresolved(String),
    Ambiguous(String),
}

fn candidates<'a>(ki: &'a KernelModel, name: &str, kind: Kind) -> Vec<(&'a Btf, TypeId, &'a str)> {
    let ess = essential(name);
    let find = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TypeId, &'a str)> {
        b.btf
            .by_name(ess)
            .filter(|t| t.id >= b.btf.start_id() && kinds_compat(kind, t.kind))
            .map(|t| (&*b.btf, t.id, b.name.as_str()))
            .collect()
    };
    // libbpf: vmlinux candidates first; modules only when vmlinux has none.
    let v = find(&ki.kernel().vmlinux);
    if !v.is_empty() {
        return v;
    }
    ki.kernel().modules.iter().flat_map(find).collect()
}

fn resolve_core(obj_btf: &Btf, r: &CoreRelo, ki: &KernelModel) -> CoreOutcome {
    if r.kind == CoreReloKind::TypeIdLocal {
        return CoreOutcome::Resolved("local type id".into());
    }
    // libbpf looks candidates up by the relocation's root type as given
    // (a typedef such as `u64` is matched against kernel typedefs).
    let Some(root) = obj_btf.ty(r.type_id) else {
        return CoreOutcome::Unresolved("bad local type".into());
    };
    let name = root.name();
    if name.is_empty() {
        return CoreOutcome::Unresolved("anonymous root type".into());
    }
    let cands = candidates(ki, name, root.kind);
    if cands.is_empty() {
        if r.kind.is_type() {
            // relo_core.c bpf_core_calc_type_relo: a missing target is 0.
            return CoreOutcome::Zero(format!("no type named {} in the kernel: resolves to 0", essential(name)));
        }
        return CoreOutcome::Unresolved(format!("no type named {} in the kernel", essential(name)));
    }
    let access = parse_access(&r.access).unwrap_or_default();
    let mut results: Vec<(String, String)> = Vec::new(); // (where, result)
    for (tb, tid, wher) in cands {
        let res: Option<String> = if r.is_field() {
            // Walk the access spec member by member.
            let mut lid = r.type_id;
            let mut cur = tid;
            let mut bits = 0u32;
            let mut ok = true;
            for &i in access.iter().skip(1) {
                let Some(lt) = obj_btf.resolve(lid) else { ok = false; break };
                match lt.kind {
                    Kind::Struct | Kind::Union => {
                        let Some(lm) = lt.members().nth(i as usize) else { ok = false; break };
                        if lm.name.is_empty() {
                            // libbpf: anonymous local members are not part of the
                            // high-level spec; the next named member is searched
                            // for in the target, through its anonymous members.
                            lid = lm.ty;
                            continue;
                        }
                        let found = match_member(tb, cur, lm.name, bits, 0);
                        match found {
                            Some((tty, off)) if fields_are_compat(obj_btf, lm.ty, tb, tty, 0) => {
                                lid = lm.ty;
                                cur = tty;
                                bits = off;
                            }
                            _ => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    Kind::Array => {
                        let (Some(la), Some(tt)) = (lt.array(), tb.resolve(cur)) else { ok = false; break };
                        let Some(ta) = tt.array() else { ok = false; break };
                        if ta.nelems != 0 && i >= ta.nelems {
                            ok = false;
                            break;
                        }
                        lid = la.elem;
                        cur = ta.elem;
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            ok.then(|| format!("bit offset {bits}"))
        } else if r.is_enum() {
            let root = obj_btf.resolve(r.type_id).unwrap_or(root);
            let lname = root.enumerators().nth(*access.first().unwrap_or(&0) as usize).map(|v| v.name).unwrap_or("");
            tb.resolve(tid)
                .and_then(|t| t.enumerators().find(|v| essential(v.name) == essential(lname)).map(|v| format!("value {}", v.value as i64)))
        } else {
            types_are_compat(obj_btf, r.type_id, tb, tid, 0).then(|| format!("type {}", tb.ty(tid).map(|t| t.name()).unwrap_or("")))
        };
        if let Some(res) = res {
            results.push((wher.to_string(), res));
        }
    }
    match results.as_slice() {
        // relo_core.c bpf_core_calc_type_relo: "type-based relos return zero
        // when target type is not found" (no poisoning).
        [] if r.kind.is_type() => CoreOutcome::Zero("no compatible candidate type: resolves to 0".into()),
        [] => CoreOutcome::Unresolved("no candidate type has this field/value with a compatible type".into()),
        [(w, res), rest @ ..] => {
            if rest.iter().any(|(_, x)| x != res) {
                CoreOutcome::Ambiguous(format!("{} candidates disagree", results.len()))
            } else {
                CoreOutcome::Resolved(format!("{res} in {w}"))
            }
        }
    }
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
fn find_func<'k>(ki: &'k KernelModel, name: &str) -> Option<(&'k Btf, TypeId, &'k str)> {
    ki.kernel().btfs().find_map(|b| {
        b.btf.by_name(name).find(|t| t.kind == Kind::Func && t.id >= b.btf.start_id()).map(|t| (&*b.btf, t.id, b.name.as_str()))
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
                            let lproto = lb.ty(lid).map(|f| f.ref_type()).unwrap_or(0);
                            let tproto = tb.ty(fid).map(|f| f.ref_type()).unwrap_or(0);
                            types_are_compat(lb, lproto, tb, tproto, 0)
                        }
                        _ => true,
                    };
                    let kproto = || crate::btf::render::func_decl(tb, fid);
                    if !compat {
                        let local = match (obj_btf, ext.btf_id) {
                            (Some(lb), Some(lid)) => crate::btf::render::func_decl(lb, lid),
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
                    .and_then(|b| b.ty(eid).filter(|v| v.kind == Kind::Var).map(|v| (b, v.ref_type())))
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
    for so in &obj.struct_ops {
        object_reasons.push(match ki.find_type(&so.kernel_type, Kind::Struct) {
            Some(b) => Reason::fact(ReasonKind::StructOpsOk, &so.name, format!("struct {} in {}", so.kernel_type, b.name)),
            None => Reason::fact(
                ReasonKind::StructOpsTypeMissing,
                &so.name,
                format!("struct_ops type `struct {}` is not in this kernel", so.kernel_type),
            ),
        });
    }
    let externs = resolve_externs(obj, ki, &mut object_reasons);
    for p in &obj.programs {
        let mut rs: Vec<Reason> = object_reasons.clone();
        program_reasons(obj, p, ki, helper_names, &externs, &mut rs);
        for r in &mut rs {
            r.severity = opts.policy.grade_requirement(&Requirement { indirect: r.indirect, ..Requirement::new(r.kind, r.weak) });
        }
        let verdict = rs.iter().map(|r| r.severity).max().unwrap_or(Verdict::Loads);
        let (problems, satisfied): (Vec<Reason>, Vec<Reason>) = rs.into_iter().partition(|r| r.severity != Verdict::Loads);
        out.push(ProgramResult {
            object: obj.path.clone(),
            program: p.name.clone(),
            section: p.section.clone(),
            kernel: ki.label().to_string(),
            verdict,
            reasons: problems,
            satisfied: if opts.explain { satisfied } else { Vec::new() },
        });
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

fn program_reasons(
    obj: &BpfObject,
    p: &Program,
    ki: &KernelModel,
    helper_names: &BTreeMap<u32, String>,
    externs: &HashMap<&str, ExternStatus>,
    rs: &mut Vec<Reason>,
) {
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
    // Helpers.
    for &id in p.helpers.keys() {
        let name = helper_names.get(&id).cloned().or_else(|| crate::uapi::helper_name(id)).unwrap_or_else(|| format!("helper #{id}"));
        if ki.has_helper(id) {
            rs.push(fact(R::HelperOk, &name, format!("helper id {id}")));
        } else {
            rs.push(fact(R::HelperMissing, &name, format!("helper id {id} is not in this kernel's enum bpf_func_id")));
        }
    }
    // kfuncs and typed ksyms the program calls or whose address it takes.
    // Strong externs that do not resolve are object-level failures (see
    // `resolve_externs`); here: weak ones, and satisfied ones for --explain.
    for name in p.kfuncs.iter().chain(p.ksym_checks.iter()) {
        let Some(st) = externs.get(name.as_str()) else { continue };
        let called = p.kfuncs.contains(name);
        match st {
            ExternStatus::Ok(r) => rs.push(r.clone()),
            ExternStatus::Weak(r) => {
                let mut r = r.clone();
                if called && r.kind == R::KfuncMissing {
                    r.message.push_str(if p.ksym_checks.contains(name) { " (guarded by bpf_ksym_exists())" } else { " (weak: the call must be guarded)" });
                }
                rs.push(r);
            }
            ExternStatus::Typeless(r) => rs.push(r.clone()),
            ExternStatus::NotKfunc(r) if called => rs.push(r.clone()),
            ExternStatus::NotKfunc(_) | ExternStatus::ObjectFails => {}
        }
    }
    // What the target architecture's JIT cannot run (docs/arch-jit.md).
    rs.extend(crate::kernel::arch::jit_reasons(p, ki.arch()));
    // Program-type availability of helpers and kfuncs, when the kernel has a
    // probe (src/probe/judge.rs).
    if let Some(pi) = ki.probe() {
        rs.extend(pi.judge(obj, p));
    }
    // CO-RE relocations.
    if let Some(ob) = obj.btf.as_deref() {
        for &ri in &p.core_relos {
            let Some(r) = obj.core_relos.get(ri) else { continue };
            let label = format!("{} {}", r.kind, r.path);
            match resolve_core(ob, r, ki) {
                CoreOutcome::Resolved(w) => rs.push(fact(R::CoreOk, &label, w)),
                CoreOutcome::Ambiguous(w) => rs.push(fact(R::CoreAmbiguous, &label, format!("ambiguous: {w}"))),
                CoreOutcome::Zero(w) if r.is_check => rs.push(fact(R::CoreCheckFalse, &label, format!("existence check evaluates to 0 ({w})"))),
                CoreOutcome::Zero(w) => rs.push(fact(R::CoreZero, &label, w)),
                CoreOutcome::Unresolved(w) if r.is_check => rs.push(fact(R::CoreCheckFalse, &label, format!("existence check evaluates to 0 ({w})"))),
                CoreOutcome::Unresolved(w) => {
                    // Guarded when the same program asks an existence question
                    // about the same access, or about a type with the same
                    // essential name (the `task_struct___o` / `___x` idiom:
                    // `if (bpf_core_field_exists(new->f)) ... else old->g`).
                    let root_name = |x: &CoreRelo| ob.ty(x.type_id).map(|t| essential(t.name()).to_string()).unwrap_or_default();
                    let mine = root_name(r);
                    let guard = p.core_relos.iter().filter_map(|&j| obj.core_relos.get(j)).find(|c| {
                        c.is_check && ((c.type_id == r.type_id && c.access == r.access) || (!mine.is_empty() && root_name(c) == mine))
                    });
                    if let Some(g) = guard {
                        rs.push(fact(
                            R::CoreUnresolvedGuarded,
                            &label,
                            format!("{w}; the program checks `{} {}` first, so this access is presumably on the branch not taken", g.kind, g.path),
                        ));
                    } else {
                        rs.push(fact(R::CoreUnresolved, &label, format!("{w}: libbpf poisons the instruction and the verifier rejects it")));
                    }
                }
            }
        }
    }
}
