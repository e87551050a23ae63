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
use crate::kernel::Kernel;
use crate::object::btf_ext::{parse_access, CoreRelo};
use crate::object::{essential, BpfObject, Program};
use crate::surface::{Kfunc, Surface};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Loads,
    Warns,
    Fails,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Loads => "loads",
            Verdict::Warns => "warns",
            Verdict::Fails => "fails",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    /// e.g. `kfunc_missing`, `kfunc_proto_mismatch`, `helper_missing`,
    /// `core_unresolved`, `attach_target_missing`; `*_ok` for satisfied
    /// requirements (listed with --explain).
    pub kind: &'static str,
    pub name: String,
    pub message: String,
    pub severity: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramResult {
    pub object: String,
    pub program: String,
    pub section: String,
    pub kernel: String,
    pub verdict: Verdict,
    /// Problems (warnings and failures).
    pub reasons: Vec<Reason>,
    /// Satisfied requirements, and where (only with `explain`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub satisfied: Vec<Reason>,
}

/// A kernel prepared for many checks: its surface and lookup tables.
pub struct KernelIndex<'k> {
    pub kernel: &'k Kernel,
    pub label: String,
    pub surface: Surface,
    kfuncs: HashMap<String, Kfunc>,
    helper_ids: HashSet<u32>,
    prog_types: HashSet<String>,
    attach_types: HashSet<String>,
    map_types: HashMap<u64, String>,
    /// Architecture and JIT facts, when known.
    pub arch: Option<crate::kernel::arch::KernelArch>,
}

fn enum_names(btf: &Btf, name: &str) -> Vec<(String, u64)> {
    btf.by_name(name)
        .find(|t| matches!(t.kind, Kind::Enum | Kind::Enum64))
        .map(|e| e.enumerators().map(|v| (v.name.to_string(), v.value)).collect())
        .unwrap_or_default()
}

impl<'k> KernelIndex<'k> {
    pub fn new(kernel: &'k Kernel) -> Self {
        let surface = crate::surface::of(kernel);
        let btf = &kernel.vmlinux.btf;
        KernelIndex {
            label: kernel.label(),
            kfuncs: surface.kfuncs.iter().map(|k| (k.name.clone(), k.clone())).collect(),
            helper_ids: surface.helpers.iter().map(|h| h.id).collect(),
            prog_types: enum_names(btf, "bpf_prog_type").into_iter().map(|x| x.0).collect(),
            attach_types: enum_names(btf, "bpf_attach_type").into_iter().map(|x| x.0).collect(),
            map_types: enum_names(btf, "bpf_map_type").into_iter().filter(|(n, _)| !n.starts_with("__")).map(|(n, v)| (v, n)).collect(),
            surface,
            arch: crate::kernel::arch::KernelArch::of(kernel),
            kernel,
        }
    }

    fn btf_of(&self, k: &Kfunc) -> Option<&Btf> {
        match &k.module {
            None => Some(&self.kernel.vmlinux.btf),
            Some(m) => self.kernel.module(m).map(|b| &*b.btf),
        }
    }

    /// A FUNC / TYPEDEF named `name` in vmlinux or any module: where.
    fn find_in_kernel(&self, name: &str, kind: Kind) -> Option<String> {
        self.kernel.btfs().find(|b| b.btf.by_name(name).any(|t| t.kind == kind && t.id >= b.btf.start_id())).map(|b| b.name.clone())
    }
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

/// Outcome of resolving one CO-RE relocation against a kernel.
enum CoreOutcome {
    Resolved(String),
    Unresolved(String),
    Ambiguous(String),
}

fn candidates<'a>(ki: &'a KernelIndex, name: &str, kind: Kind) -> Vec<(&'a Btf, TypeId, &'a str)> {
    let ess = essential(name);
    let find = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TypeId, &'a str)> {
        b.btf
            .by_name(ess)
            .filter(|t| t.id >= b.btf.start_id() && kinds_compat(kind, t.kind))
            .map(|t| (&*b.btf, t.id, b.name.as_str()))
            .collect()
    };
    // libbpf: vmlinux candidates first; modules only when vmlinux has none.
    let v = find(&ki.kernel.vmlinux);
    if !v.is_empty() {
        return v;
    }
    ki.kernel.modules.iter().flat_map(find).collect()
}

fn resolve_core(obj_btf: &Btf, r: &CoreRelo, ki: &KernelIndex) -> CoreOutcome {
    if r.kind == "TYPE_ID_LOCAL" {
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

/// Check one object's programs against one kernel.
pub fn check_object(obj: &BpfObject, ki: &KernelIndex, helper_names: &BTreeMap<u32, String>, explain: bool) -> Vec<ProgramResult> {
    let mut out = Vec::new();
    // Map types: libbpf creates every map of the object.
    let mut map_reasons = Vec::new();
    for m in &obj.maps {
        match ki.map_types.get(&(m.map_type as u64)) {
            Some(n) => map_reasons.push(ok("map_type_ok", &m.name, n.clone())),
            None => map_reasons.push(Reason {
                kind: "map_type_missing",
                name: m.name.clone(),
                message: format!("map type {} is not in this kernel's enum bpf_map_type", m.map_type),
                severity: Verdict::Fails,
            }),
        }
    }
    for so in &obj.struct_ops {
        let found = ki.find_in_kernel(&so.kernel_type, Kind::Struct);
        map_reasons.push(match found {
            Some(w) => ok("struct_ops_ok", &so.name, format!("struct {} in {w}", so.kernel_type)),
            None => Reason {
                kind: "struct_ops_type_missing",
                name: so.name.clone(),
                message: format!("struct_ops type `struct {}` is not in this kernel", so.kernel_type),
                severity: Verdict::Fails,
            },
        });
    }
    for p in &obj.programs {
        let mut rs: Vec<Reason> = map_reasons.clone();
        program_reasons(obj, p, ki, helper_names, &mut rs);
        let verdict = rs.iter().map(|r| r.severity).max().unwrap_or(Verdict::Loads);
        let (problems, satisfied): (Vec<Reason>, Vec<Reason>) = rs.into_iter().partition(|r| r.severity != Verdict::Loads);
        out.push(ProgramResult {
            object: obj.path.clone(),
            program: p.name.clone(),
            section: p.section.clone(),
            kernel: ki.label.clone(),
            verdict,
            reasons: problems,
            satisfied: if explain { satisfied } else { Vec::new() },
        });
    }
    out
}

fn ok(kind: &'static str, name: &str, message: String) -> Reason {
    Reason { kind, name: name.to_string(), message, severity: Verdict::Loads }
}

fn program_reasons(obj: &BpfObject, p: &Program, ki: &KernelIndex, helper_names: &BTreeMap<u32, String>, rs: &mut Vec<Reason>) {
    let fail = |kind, name: &str, message: String| Reason { kind, name: name.to_string(), message, severity: Verdict::Fails };
    let warn = |kind, name: &str, message: String| Reason { kind, name: name.to_string(), message, severity: Verdict::Warns };
    // Program and attach types.
    if p.prog_type == "unknown" {
        rs.push(warn("section_unknown", &p.section, "section name follows no libbpf convention: program type unknown".into()));
    } else if !ki.prog_types.contains(p.prog_type) {
        rs.push(fail("prog_type_missing", p.prog_type, format!("{} is not in this kernel's enum bpf_prog_type", p.prog_type)));
    }
    if let Some(a) = p.expected_attach {
        if !ki.attach_types.contains(a) {
            rs.push(fail("attach_type_missing", a, format!("{a} is not in this kernel's enum bpf_attach_type")));
        }
    }
    // Attach targets.
    if let Some(t) = &p.attach_target {
        let (needed, kind): (Option<String>, Kind) = match (p.prog_type, p.expected_attach) {
            ("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_FENTRY" | "BPF_TRACE_FEXIT" | "BPF_MODIFY_RETURN")) => (Some(t.clone()), Kind::Func),
            ("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_RAW_TP")) => (Some(format!("btf_trace_{t}")), Kind::Typedef),
            ("BPF_PROG_TYPE_TRACING", Some("BPF_TRACE_ITER")) => (Some(format!("bpf_iter_{t}")), Kind::Func),
            ("BPF_PROG_TYPE_LSM", _) => (Some(format!("bpf_lsm_{t}")), Kind::Func),
            ("BPF_PROG_TYPE_KPROBE", None) => {
                match ki.find_in_kernel(t, Kind::Func) {
                    Some(w) => rs.push(ok("attach_target_ok", t, format!("function in {w}"))),
                    None => rs.push(warn(
                        "attach_target_not_in_btf",
                        t,
                        format!("kprobe target `{t}` is not a function in this kernel's BTF (it may still exist in kallsyms, or be inlined)"),
                    )),
                }
                (None, Kind::Func)
            }
            _ => (None, Kind::Func),
        };
        if let Some(n) = needed {
            match ki.find_in_kernel(&n, kind) {
                Some(w) => rs.push(ok("attach_target_ok", &n, format!("{} in {w}", kind.name()))),
                None => rs.push(fail("attach_target_missing", &n, format!("attach target `{n}` ({}) is not in this kernel", kind.name()))),
            }
        }
    }
    // Helpers.
    for id in p.helpers.keys() {
        let name = helper_names.get(id).cloned().unwrap_or_else(|| format!("helper #{id}"));
        if ki.helper_ids.contains(id) {
            rs.push(ok("helper_ok", &name, format!("helper id {id}")));
        } else {
            rs.push(fail("helper_missing", &name, format!("helper id {id} is not in this kernel's enum bpf_func_id")));
        }
    }
    // kfuncs: called, or whose existence is checked.
    let obj_btf = obj.btf.as_deref();
    for name in p.kfuncs.iter().chain(p.ksym_checks.iter()) {
        let Some(ext) = obj.externs.iter().find(|e| &e.name == name) else { continue };
        if ext.kind != "kfunc" {
            continue;
        }
        let called = p.kfuncs.contains(name);
        let guarded = p.ksym_checks.contains(name);
        let ess = essential(name);
        match ki.kfuncs.get(ess) {
            None => {
                if ext.weak {
                    let how = if guarded { "guarded by bpf_ksym_exists()" } else { "weak: the call must be guarded" };
                    rs.push(warn("kfunc_missing", name, format!("kfunc `{ess}` is not in this kernel ({how})")));
                } else if called || !guarded {
                    rs.push(fail("kfunc_missing", name, format!("kfunc `{ess}` is not in this kernel and the extern is not weak")));
                }
            }
            Some(k) => {
                let wher = k.module.clone().unwrap_or_else(|| "vmlinux".into());
                let compat = match (obj_btf, ext.btf_id, ki.btf_of(k)) {
                    (Some(lb), Some(lid), Some(tb)) => {
                        let lproto = lb.ty(lid).map(|f| f.ref_type()).unwrap_or(0);
                        let tproto = tb.ty(k.btf_id).map(|f| f.ref_type()).unwrap_or(0);
                        types_are_compat(lb, lproto, tb, tproto, 0)
                    }
                    _ => true,
                };
                if compat {
                    rs.push(ok("kfunc_ok", name, format!("`{}` in {wher}", k.proto)));
                } else {
                    let local = match (obj_btf, ext.btf_id) {
                        (Some(lb), Some(lid)) => crate::btf::render::func_decl(lb, lid),
                        _ => String::new(),
                    };
                    rs.push(fail(
                        "kfunc_proto_mismatch",
                        name,
                        format!("declared `{local}`, kernel has `{}` ({wher}): incompatible by libbpf's rules", k.proto),
                    ));
                }
            }
        }
    }
    // What the target architecture's JIT cannot run (docs/arch-jit.md).
    rs.extend(crate::kernel::arch::jit_reasons(p, ki.arch.as_ref()));
    // Typed ksym variables the program references.
    for e in obj.externs.iter().filter(|e| e.kind == "ksym" && e.btf_id.is_some()) {
        if !p.ksym_checks.contains(&e.name) {
            continue;
        }
        // `extern const void sym __ksym;` is typeless: libbpf takes its
        // address from /proc/kallsyms, which BTF cannot confirm.
        let typeless = obj_btf.and_then(|b| b.ty(e.btf_id.unwrap_or(0))).is_some_and(|v| v.kind == Kind::Var && obj_btf.unwrap_or(&ki.kernel.vmlinux.btf).resolve(v.ref_type()).is_some_and(|t| t.kind == Kind::Void));
        if typeless {
            rs.push(ok("ksym_typeless", &e.name, "typeless ksym: resolved from /proc/kallsyms at load time (not checkable from BTF)".into()));
            continue;
        }
        let found = ki.find_in_kernel(essential(&e.name), Kind::Var);
        match (found, e.weak) {
            (Some(w), _) => rs.push(ok("ksym_ok", &e.name, format!("variable in {w}"))),
            (None, true) => rs.push(warn("ksym_missing", &e.name, "kernel variable not in BTF (weak: resolves to 0)".into())),
            (None, false) => rs.push(fail("ksym_missing", &e.name, "kernel variable not in this kernel's BTF".into())),
        }
    }
    // CO-RE relocations.
    if let Some(ob) = obj_btf {
        for &ri in &p.core_relos {
            let Some(r) = obj.core_relos.get(ri) else { continue };
            let label = format!("{} {}", r.kind, r.path);
            match resolve_core(ob, r, ki) {
                CoreOutcome::Resolved(w) => rs.push(ok("core_ok", &label, w)),
                CoreOutcome::Ambiguous(w) => rs.push(fail("core_ambiguous", &label, format!("ambiguous: {w}"))),
                CoreOutcome::Unresolved(w) if r.is_check => rs.push(ok("core_check_false", &label, format!("existence check evaluates to 0 ({w})"))),
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
                        rs.push(warn(
                            "core_unresolved_guarded",
                            &label,
                            format!("{w}; the program checks `{} {}` first, so this access is presumably on the branch not taken", g.kind, g.path),
                        ));
                    } else {
                        rs.push(fail("core_unresolved", &label, format!("{w}: libbpf poisons the instruction and the verifier rejects it")));
                    }
                }
            }
        }
    }
}
