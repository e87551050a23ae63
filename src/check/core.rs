//! Rule family: CO-RE relocations, with libbpf's rules (relo_core.c,
//! libbpf.c at v1.7.0): candidates by essential name in vmlinux, else in
//! modules (`bpf_core_add_cands`), narrowed per object
//! (`bpf_core_resolve_relo`'s cache); fields matched by name through
//! anonymous members with libbpf's field compatibility; several candidates
//! disagreeing is an ambiguity; an existence check that finds nothing is
//! 0, an unguarded access that finds nothing is poisoned and fails where
//! the verifier reaches it; a relocation libbpf cannot apply fails the
//! load wherever it is.
//! cilium/ebpf and aya pick candidates their own way ([`Rules`]:
//! btf/core.go `coreCalculateFixups`, aya-obj `relocate_btf_functions`)
//! and apply the results their own way ([`as_applied_by`]).

use super::{Reached, Target};
use crate::btf::min_core::Reach;
use crate::btf::{Btf, Kind, LocalTypeId, TargetTypeId, TypeId};
use crate::model::KernelModel;
use crate::object::btf_ext::{CoreRelo, CoreReloKind};
use crate::object::{essential, essential_first, essential_last, BpfObject};
use crate::vocab::{Reason, ReasonKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ---- libbpf type compatibility ----

pub(super) fn kinds_compat(a: Kind, b: Kind) -> bool {
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
/// anonymous members; returns (member type, bit offset) on success, and
/// pushes the member indices it went through onto `path` (relo_core.c
/// `bpf_core_match_member` appends each to the target's raw spec).
fn match_member(tb: &Btf, tid: TypeId, name: &str, base_bits: u32, depth: usize, path: &mut Vec<u32>) -> Option<(TypeId, u32, u8, bool)> {
    if depth > 16 {
        return None;
    }
    let t = tb.resolve(tid)?;
    let n = t.vlen();
    for m in t.scan_members(name.as_bytes()) {
        let off = base_bits.saturating_add(m.bit_offset);
        if m.anonymous {
            path.push(m.index as u32);
            if let Some(r) = match_member(tb, m.ty, name, off, depth + 1, path) {
                return Some(r);
            }
            path.pop();
        } else if m.matches {
            path.push(m.index as u32);
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
/// Outcome of resolving one CO-RE relocation against a kernel.
#[derive(Clone)]
pub(super) enum CoreOutcome {
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
pub(super) struct CoreRes {
    pub(super) outcome: CoreOutcome,
    pub(super) value: Option<u64>,
    /// What the first matching candidate's target spec reaches (libbpf's
    /// `targ_spec`, relo_core.c `bpf_core_calc_relo_insn`), in the BTF the
    /// candidate came from: what a `min_core_btf` cut keeps.
    pub(super) reach: Option<Reach>,
}

/// Whose rules pick a local type's candidates and narrow them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Rules {
    /// libbpf v1.7.0: [`essential`] names on both sides, vmlinux first and
    /// modules only when vmlinux has none, narrowed per object.
    Libbpf,
    /// cilium/ebpf v0.22.0 btf/core.go `CORERelocate`: the local name's
    /// [`essential_last`], target names as written (`TypesByName`), vmlinux
    /// and every module together (linker.go `applyRelocations`); one
    /// candidate chosen per local type by score (`coreCalculateFixups`).
    Cilium,
    /// aya-obj v0.3.0 btf/relocation.rs `find_candidates`: names before the
    /// first `___` on both sides ([`essential_first`]), vmlinux only (aya
    /// reads `/sys/kernel/btf/vmlinux`), no narrowing.
    Aya,
}

impl Rules {
    pub(super) fn of(loader: crate::loader::Loader) -> Rules {
        match loader.family() {
            crate::loader::Family::Libbpf => Rules::Libbpf,
            crate::loader::Family::Cilium => Rules::Cilium,
            crate::loader::Family::Aya => Rules::Aya,
        }
    }
    /// The local type name as this loader strips its flavour.
    fn essential(self, name: &str) -> &str {
        match self {
            Rules::Libbpf => essential(name),
            Rules::Cilium => essential_last(name),
            Rules::Aya => essential_first(name),
        }
    }
}

fn candidates<'a>(ki: &'a KernelModel, name: &str, kind: Kind, rules: Rules) -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
    let ess = rules.essential(name);
    let find = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
        b.btf.by_name(ess).filter(|t| t.id >= b.btf.start_id() && kinds_compat(kind, t.kind)).map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str())).collect()
    };
    // relo_core.c / libbpf.c `bpf_core_add_cands`: target names are compared
    // by essential name too (a kernel `foo___x` is a candidate for `foo`);
    // aya likewise (`flavorless_name` of the target); cilium/ebpf not.
    let flavoured = |b: &'a crate::kernel::KernelBtf| -> Vec<(&'a Btf, TargetTypeId, &'a str)> {
        if rules == Rules::Cilium {
            return Vec::new();
        }
        ki.flavoured_named(&b.name, ess)
            .iter()
            .filter_map(|&id| b.btf.ty(id))
            .filter(|t| kinds_compat(kind, t.kind) && rules.essential(t.name()) == ess)
            .map(|t| (&*b.btf, TargetTypeId(t.id), b.name.as_str()))
            .collect()
    };
    // libbpf: vmlinux candidates first; modules only when vmlinux has none.
    // In id order, as `bpf_core_add_cands` walks the target BTF: the first
    // candidate that matches gives the target spec.
    let mut v = find(&ki.kernel().vmlinux);
    v.extend(flavoured(&ki.kernel().vmlinux));
    v.sort_by_key(|c| c.1 .0 .0);
    match rules {
        Rules::Aya => v,
        // The modules that name `ess` (or a flavour of it): the others
        // have no candidate (KernelModel::modules_naming).
        Rules::Cilium => {
            v.extend(ki.modules_naming(ess).into_iter().flat_map(find));
            v
        }
        Rules::Libbpf if !v.is_empty() => v,
        Rules::Libbpf => ki.modules_naming(ess).into_iter().flat_map(|m| find(m).into_iter().chain(flavoured(m))).collect(),
    }
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
    reach: Reach,
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
    resolve_core_cached(obj_btf, r, ki, Rules::Libbpf, &mut HashMap::new())
}

/// Resolve an object's relocations in its order with libbpf's shared
/// candidate cache. libbpf.c `bpf_object__relocate_core` skips the
/// relocations of programs with autoload off ("no need to apply CO-RE
/// relocation if the program is not going to be loaded"), so they never
/// narrow the shared cache; such a program, once a user turns it on, sees
/// the cache as the loaded programs left it: each of its sections
/// (`autoload_off`) resolves against its own copy.
pub(super) fn resolve_object_core<'k>(ob: &Btf, relos: &[CoreRelo], autoload_off: &BTreeSet<&str>, ki: &'k KernelModel) -> Vec<CoreRes> {
    let mut shared: HashMap<LocalTypeId, Cands<'k>> = HashMap::new();
    let mut off: HashMap<&str, HashMap<LocalTypeId, Cands<'k>>> = HashMap::new();
    relos
        .iter()
        .map(|r| {
            let cache = match autoload_off.get(r.section.as_str()) {
                Some(&sec) => off.entry(sec).or_insert_with(|| shared.clone()),
                None => &mut shared,
            };
            resolve_core_cached(ob, r, ki, Rules::Libbpf, cache)
        })
        .collect()
}

/// What every relocation needs before candidates are asked: TYPE_ID_LOCAL's
/// value, the root type and its name, or the outcome when there is none.
fn local_root<'b>(obj_btf: &'b Btf, r: &CoreRelo) -> Result<(crate::btf::Type<'b>, &'b str), CoreRes> {
    let res = |outcome, value| CoreRes { outcome, value, reach: None };
    // relo_core.c `bpf_core_calc_type_relo`: TYPE_ID_LOCAL is the local
    // type's id, TYPE_ID_TARGET the candidate's id in its BTF.
    if r.kind == CoreReloKind::TypeIdLocal {
        return Err(res(CoreOutcome::Resolved("local type id".into()), Some(u64::from(r.type_id.0 .0))));
    }
    // libbpf looks candidates up by the relocation's root type as given
    // (a typedef such as `u64` is matched against kernel typedefs).
    let Some(root) = obj_btf.ty(r.type_id.0) else {
        return Err(res(CoreOutcome::Unresolved("bad local type".into()), None));
    };
    let name = root.name();
    if name.is_empty() {
        return Err(res(CoreOutcome::Unresolved("anonymous root type".into()), None));
    }
    Ok((root, name))
}

/// relo_core.c: FIELD_EXISTS / ENUMVAL_EXISTS are 0 and every type-based
/// relocation is 0 without a target (`bpf_core_calc_field_relo`,
/// `bpf_core_calc_enumval_relo`, `bpf_core_calc_type_relo`); the others
/// are poisoned.
fn no_target(r: &CoreRelo, why: String) -> CoreRes {
    if r.kind.is_type() || r.is_check {
        CoreRes { outcome: CoreOutcome::Zero(format!("{why}: resolves to 0")), value: Some(0), reach: None }
    } else {
        CoreRes { outcome: CoreOutcome::Unresolved(why), value: None, reach: None }
    }
}

/// Resolve one relocation. With libbpf's rules, through its per-object
/// candidate cache: libbpf.c `bpf_core_resolve_relo` looks the candidates
/// of a local type up once (`cand_cache`, keyed by the local type id) and
/// relo_core.c `bpf_core_calc_relo_insn` then keeps only the candidates
/// this relocation matched ("cands->len = j" when any matched), so later
/// relocations of the same local type see the narrowed set (in the
/// object's relocation order). aya caches the candidates but never narrows
/// them (aya-obj `relocate_btf_functions`): pass an empty cache.
fn resolve_core_cached<'k>(obj_btf: &Btf, r: &CoreRelo, ki: &'k KernelModel, rules: Rules, cache: &mut HashMap<LocalTypeId, Cands<'k>>) -> CoreRes {
    let (root, name) = match local_root(obj_btf, r) {
        Ok(x) => x,
        Err(done) => return done,
    };
    let cands = match cache.get(&r.type_id) {
        Some(c) => c.clone(),
        None => candidates(ki, name, root.kind, rules),
    };
    cache.insert(r.type_id, cands.clone());
    if cands.is_empty() {
        return no_target(r, format!("no type named {} in the kernel", rules.essential(name)));
    }
    let mut results: Vec<CandRes> = Vec::new();
    let mut kept: Cands<'k> = Vec::new();
    for &(tb, tid, wher) in &cands {
        if let Some(c) = candidate_result(obj_btf, r, root, tb, tid, wher, rules) {
            results.push(c);
            kept.push((tb, tid, wher));
        }
    }
    if !kept.is_empty() && rules == Rules::Libbpf {
        cache.insert(r.type_id, kept);
    }
    decide(r, &results)
}

/// One candidate's answer to one relocation; `None`: it does not match
/// (relo_core.c `bpf_core_spec_match`).
fn candidate_result(obj_btf: &Btf, r: &CoreRelo, root: crate::btf::Type<'_>, tb: &Btf, tid: TargetTypeId, wher: &str, rules: Rules) -> Option<CandRes> {
    let access = r.spec.clone().unwrap_or_default();
    if r.is_field() {
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
        // The target's raw spec after its first index.
        let mut path: Vec<u32> = Vec::new();
        for &i in access.steps() {
            let Some(lt) = obj_btf.resolve(lid.0) else {
                ok = false;
                break;
            };
            match lt.kind {
                Kind::Struct | Kind::Union => {
                    let Some(lm) = lt.member(i as usize) else {
                        ok = false;
                        break;
                    };
                    if lm.name.is_empty() {
                        // libbpf: anonymous local members are not part of the
                        // high-level spec; the next named member is searched
                        // for in the target, through its anonymous members.
                        lid = LocalTypeId(lm.ty);
                        continue;
                    }
                    let found = match_member(tb, cur.0, lm.name, bits, 0, &mut path);
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
                    let (Some(la), Some(tt)) = (lt.array(), tb.resolve(cur.0)) else {
                        ok = false;
                        break;
                    };
                    let Some(ta) = tt.array() else {
                        ok = false;
                        break;
                    };
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
                    path.push(i);
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
            CandRes { wher: wher.to_string(), text: format!("bit offset {bits}"), value, bits, memsz, e2big, reach: Reach::Field { root: tid.0, path } }
        })
    } else if r.is_enum() {
        let root = obj_btf.resolve(r.type_id.0).unwrap_or(root);
        let lname = root.enumerators().nth(access.first() as usize).map(|v| v.name).unwrap_or("");
        tb.resolve(tid.0).and_then(|t| t.enumerators().find(|v| rules.essential(v.name) == rules.essential(lname))).map(|v| CandRes {
            wher: wher.to_string(),
            text: format!("value {}", v.value as i64),
            value: Some(if r.kind == CoreReloKind::EnumvalExists { 1 } else { v.value }),
            bits: 0,
            memsz: false,
            e2big: false,
            reach: Reach::Enumval(tid.0),
        })
    } else {
        types_are_compat(obj_btf, r.type_id, tb, tid, 0).then(|| {
            let t = tb.ty(tid.0);
            let value = match r.kind {
                CoreReloKind::TypeExists | CoreReloKind::TypeMatches => Some(1),
                CoreReloKind::TypeIdTarget => Some(u64::from(tid.0 .0)),
                CoreReloKind::TypeSize => type_size(tb, tid.0, 0),
                _ => None,
            };
            let reach = if r.kind == CoreReloKind::TypeMatches { Reach::TypeMatch(tid.0) } else { Reach::Type(tid.0) };
            CandRes { wher: wher.to_string(), text: format!("type {}", t.map(|t| t.name()).unwrap_or("")), value, bits: 0, memsz: false, e2big: false, reach }
        })
    }
}

/// The outcome of a relocation from the candidates that matched it.
fn decide(r: &CoreRelo, results: &[CandRes]) -> CoreRes {
    let res = |outcome, value| CoreRes { outcome, value, reach: None };
    let Some(first) = results.first() else {
        return no_target(r, "no candidate type has this field/value with a compatible type".into());
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
    let reach = Some(first.reach.clone());
    if first.memsz {
        return CoreRes {
            reach,
            ..res(
                CoreOutcome::MemSize(format!(
                    "{} in {}: the field's size or kind changed (a bitfield, a signed or differently sized value); libbpf refuses to adjust a load/store of it",
                    first.text, first.wher
                )),
                first.value,
            )
        };
    }
    CoreRes { reach, ..res(CoreOutcome::Resolved(format!("{} in {}", first.text, first.wher)), first.value) }
}

/// Resolve the object's CO-RE relocations on the target (`--core-btf`, libbpf
/// `btf_custom_path`: candidates from that BTF alone, libbpf.c
/// `bpf_core_find_cands`: `main_btf = obj->btf_vmlinux_override ?:
/// obj->btf_vmlinux`, and no module BTFs when overridden).
pub(super) fn resolve(t: &Target, obj: &BpfObject, loader: crate::loader::Loader) -> Vec<CoreRes> {
    let autoload_off: BTreeSet<&str> = obj.programs.iter().filter(|p| !p.autoload).map(|p| p.section.as_str()).collect();
    match obj.btf.as_deref() {
        Some(ob) => {
            let mut core = match Rules::of(loader) {
                Rules::Libbpf => resolve_object_core(ob, &obj.core_relos, &autoload_off, t.core),
                Rules::Cilium => {
                    let modules = CiliumModules::of(loader.version());
                    resolve_cilium_per_program(ob, obj, &reloc_modules(obj, t.core, modules), t.core, modules)
                }
                // One cache, never narrowed (`resolve_core_cached`).
                Rules::Aya => {
                    let mut cache = HashMap::new();
                    obj.core_relos.iter().map(|r| resolve_core_cached(ob, r, t.core, Rules::Aya, &mut cache)).collect()
                }
            };
            // A reduced catalog kernel has no type graph: CO-RE results
            // there are not constants the analysis may prune on.
            if t.kernel.kernel().info.reduced {
                core.iter_mut().for_each(|c| c.value = None);
            }
            core
        }
        None => Vec::new(),
    }
}

/// The kernel modules whose types cilium/ebpf takes as CO-RE candidates
/// besides vmlinux's, by version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CiliumModules {
    /// v0.9 to v0.13: none. btf/core.go `CORERelocate` (v0.11.0) relocates
    /// against `kernelSpec()` when linker.go `applyRelocations` passes no
    /// target: vmlinux alone, so a type only a module defines (xdp_synproxy's
    /// `struct bpf_ct_opts`, nf_conntrack's) has no candidate and its field
    /// accesses are poisoned.
    None,
    /// v0.14 to v0.18: the module holding the attach function of a kprobe,
    /// fentry or fexit program (prog.go `ProgramSpec.KernelModule`, from
    /// /proc/kallsyms; linker.go `applyRelocations`' `kmodName`, v0.14.0).
    AttachTarget,
    /// v0.19 on: every module (linker.go `applyRelocations`, v0.19.0:
    /// "program: perform CO-RE against all kmod"; v0.22.0 likewise).
    All,
}

impl CiliumModules {
    /// Where candidates were looked for, for messages.
    fn searched(self) -> &'static str {
        match self {
            CiliumModules::None => "vmlinux (cilium/ebpf before v0.14 takes no module's types: btf/core.go `CORERelocate`)",
            CiliumModules::AttachTarget => "vmlinux or the attach function's module (cilium/ebpf v0.14 to v0.18: linker.go `applyRelocations`)",
            CiliumModules::All => "the kernel",
        }
    }
    fn of(v: crate::loader::Version) -> Self {
        match (v.major, v.minor) {
            (0, ..=13) => CiliumModules::None,
            (0, 14..=18) => CiliumModules::AttachTarget,
            _ => CiliumModules::All,
        }
    }
}

/// The module holding a kprobe/fentry/fexit program's attach function, as
/// cilium/ebpf v0.14.0 to v0.18.0 find it (prog.go `KernelModule`: the
/// `[module]` of the function in /proc/kallsyms; here the module whose BTF
/// has that function).
fn attach_module<'k>(p: &crate::object::Program, ki: &'k KernelModel) -> Option<&'k str> {
    use crate::uapi::{AttachType as A, ProgType as P};
    let t = p.attach_target.as_deref()?;
    let traced = match p.prog_type? {
        P::Kprobe => true,
        P::Tracing => matches!(p.expected_attach, Some(A::TraceFentry | A::TraceFexit)),
        _ => false,
    };
    if !traced {
        return None;
    }
    ki.kernel().modules.iter().find(|m| m.btf.by_name(t).any(|x| x.kind == Kind::Func && x.id >= m.btf.start_id())).map(|m| m.name.as_str())
}

/// With [`CiliumModules::AttachTarget`], the modules each relocation may
/// take candidates from: those of the programs that contain it (a
/// subprogram's, the union over the programs calling it: an approximation,
/// as the grouping per object is). Empty sets otherwise.
fn reloc_modules<'k>(obj: &BpfObject, ki: &'k KernelModel, modules: CiliumModules) -> Vec<BTreeSet<&'k str>> {
    let mut reloc_mods: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); obj.core_relos.len()];
    if modules == CiliumModules::AttachTarget {
        for p in &obj.programs {
            if let Some(m) = attach_module(p, ki) {
                for &i in &p.core_relos {
                    if let Some(s) = reloc_mods.get_mut(i) {
                        s.insert(m);
                    }
                }
            }
        }
    }
    reloc_mods
}

/// cilium/ebpf relocates one program at a time (linker.go
/// `applyRelocations` over the program's instructions with its subprograms
/// linked in, v0.11.0 to v0.22.0), so its candidate choice groups one
/// program's relocations by local type: each program's relocations
/// ([`crate::object::Program::core_relos`]) are resolved as their own
/// groups. A relocation several programs share (a subprogram's) keeps one
/// answer here: theirs when they agree, else the object's grouping; one in
/// no program, the object's.
fn resolve_cilium_per_program(ob: &Btf, obj: &BpfObject, reloc_mods: &[BTreeSet<&str>], ki: &KernelModel, modules: CiliumModules) -> Vec<CoreRes> {
    let relos = &obj.core_relos;
    let all: Vec<usize> = (0..relos.len()).collect();
    let mut object = resolve_cilium(ob, relos, &all, reloc_mods, ki, modules);
    if obj.programs.len() > 1 {
        // None: no program yet; Some(None): programs disagree.
        let mut per: Vec<Option<Option<CoreRes>>> = vec![None; relos.len()];
        let same = |a: &CoreRes, b: &CoreRes| std::mem::discriminant(&a.outcome) == std::mem::discriminant(&b.outcome) && a.value == b.value;
        for p in &obj.programs {
            let mut res = resolve_cilium(ob, relos, &p.core_relos, reloc_mods, ki, modules);
            for &i in &p.core_relos {
                let (Some(slot), Some(r)) = (per.get_mut(i), res.get_mut(i).and_then(Option::take)) else { continue };
                *slot = match slot.take() {
                    None => Some(Some(r)),
                    Some(Some(prev)) if same(&prev, &r) => Some(Some(prev)),
                    Some(_) => Some(None),
                };
            }
        }
        for (o, p) in object.iter_mut().zip(per) {
            if let Some(Some(r)) = p {
                *o = Some(r);
            }
        }
    }
    object.into_iter().map(|o| o.unwrap_or(CoreRes { outcome: CoreOutcome::Unresolved("not relocated".into()), value: None, reach: None })).collect()
}

/// cilium/ebpf's candidate choice (btf/core.go `CORERelocate` and
/// `coreCalculateFixups`, v0.22.0): the relocations are grouped by local
/// type; every candidate ([`Rules::Cilium`], from vmlinux and the modules
/// [`CiliumModules`] names for the version) answers all of them and scores
/// the ones it cannot satisfy (poisoned or non-existent); the lowest score
/// wins, a candidate tied with the best so far must give the same fixups or
/// the program fails at once ("multiple types match: ambiguous
/// relocation"), and a candidate that satisfies none is never chosen (then
/// every relocation is poisoned but existence checks, which are 0).
/// The relocations `subset` names are grouped together (one program's:
/// [`resolve_cilium_per_program`]); answers by position in `relos`;
/// `reloc_mods`: [`reloc_modules`].
fn resolve_cilium(
    ob: &Btf,
    relos: &[CoreRelo],
    subset: &[usize],
    reloc_mods: &[BTreeSet<&str>],
    ki: &KernelModel,
    modules: CiliumModules,
) -> Vec<Option<CoreRes>> {
    let mut out: Vec<Option<CoreRes>> = vec![None; relos.len()];
    let mut groups: BTreeMap<(LocalTypeId, &BTreeSet<&str>), Vec<usize>> = BTreeMap::new();
    for (i, r) in subset.iter().filter_map(|&i| relos.get(i).map(|r| (i, r))) {
        match local_root(ob, r) {
            Err(done) => {
                if let Some(o) = out.get_mut(i) {
                    *o = Some(done);
                }
            }
            Ok(_) => {
                if let Some(m) = reloc_mods.get(i) {
                    groups.entry((r.type_id, m)).or_default().push(i);
                }
            }
        }
    }
    let vmlinux = ki.kernel().vmlinux.name.as_str();
    for ((_, mods), idx) in &groups {
        let group: Vec<&CoreRelo> = idx.iter().filter_map(|&i| relos.get(i)).collect();
        let Some(Ok((root, name))) = group.first().map(|r| local_root(ob, r)) else { continue };
        // (score, each relocation's answer, where)
        let mut best: Option<(usize, Vec<Option<CandRes>>)> = None;
        let mut ambiguous: Option<String> = None;
        let searched = |wher: &str| {
            wher == vmlinux
                || match modules {
                    CiliumModules::None => false,
                    CiliumModules::AttachTarget => mods.contains(wher),
                    CiliumModules::All => true,
                }
        };
        let cands = candidates(ki, name, root.kind, Rules::Cilium).into_iter().filter(|c| searched(c.2));
        for (tb, tid, wher) in cands {
            let answers: Vec<Option<CandRes>> = group.iter().map(|r| candidate_result(ob, r, root, tb, tid, wher, Rules::Cilium)).collect();
            let score = answers.iter().filter(|a| a.is_none()).count();
            let best_score = best.as_ref().map_or(group.len(), |b| b.0);
            if score > best_score || (best.is_none() && score == best_score) {
                continue;
            }
            if score < best_score {
                best = Some((score, answers));
                continue;
            }
            let same = |a: &Option<CandRes>, b: &Option<CandRes>| match (a, b) {
                (Some(a), Some(b)) => a.value == b.value && a.bits == b.bits,
                (None, None) => true,
                _ => false,
            };
            if let Some((_, b)) = &best {
                if let Some((x, y)) = b.iter().zip(&answers).find(|(x, y)| !same(x, y)) {
                    let show = |c: &Option<CandRes>| c.as_ref().map_or("no match".to_string(), |c| format!("{} in {}", c.text, c.wher));
                    ambiguous = Some(format!(
                        "candidates of `{name}` score alike and disagree ({} vs {}): cilium/ebpf refuses the program (btf/core.go `coreCalculateFixups`: \"multiple types match: ambiguous relocation\")",
                        show(x),
                        show(y)
                    ));
                    break;
                }
            }
        }
        for (k, &i) in idx.iter().enumerate() {
            let Some(r) = relos.get(i) else { continue };
            let res = match (&ambiguous, &best) {
                (Some(w), _) => CoreRes { outcome: CoreOutcome::Fatal(w.clone()), value: None, reach: None },
                (None, Some((_, answers))) => match answers.get(k).and_then(Option::as_ref) {
                    Some(c) => decide(r, std::slice::from_ref(c)),
                    None => no_target(r, format!("the `{name}` cilium/ebpf chose (fewest relocations it cannot satisfy) has no such field/value")),
                },
                (None, None) => no_target(r, format!("no type named {} in {} satisfies any of its relocations", essential_last(name), modules.searched())),
            };
            if let Some(o) = out.get_mut(i) {
                *o = Some(res);
            }
        }
    }
    out
}

/// The outcomes as `loader` applies them (`obj`'s relocations, `core` in
/// their order).
///
/// cilium/ebpf (btf/core.go `COREFixup.Apply`, v0.9.1 to v0.22.0) patches a
/// load/store's offset and never compares the field's size or signedness
/// with the instruction's, unlike libbpf's `bpf_core_patch_insn`
/// (`fail_memsz_adjust`): what libbpf poisons there loads (measured:
/// selftests' bpf_iter_tcp4 on 6.12.117). Without a target type it poisons
/// every kind but those `checksForExistence` names (`coreCalculateFixups`:
/// FIELD/TYPE/ENUMVAL_EXISTS, and TYPE_MATCHES from v0.15.0), where libbpf
/// patches 0 for every type-based kind (relo_core.c
/// `bpf_core_calc_type_relo`): a TYPE_ID_TARGET or TYPE_SIZE of a type the
/// kernel lacks is poisoned ("bad CO-RE relocation" once reached).
///
/// aya (aya-obj `btf/relocation.rs`, aya-v0.13.1 and aya-v0.14.0)
/// relocates every function of the object before loading any program, and
/// an error there fails the object: `compute_type_relocation` errors on a
/// TYPE_ID_TARGET or TYPE_SIZE without a target ("missing target BTF info
/// for type"), `ComputedRelocation::apply` on a load/store whose size
/// changes unless both are pointers or unsigned integers ("original type
/// ... has size ..."), and `RelocationKind` has no TYPE_MATCHES (the
/// `.BTF.ext` does not parse). Those are returned as object reasons; the
/// outcomes stay poisoned for the program.
pub(super) fn as_applied_by(obj: &BpfObject, core: &mut [CoreRes], loader: crate::loader::Loader) -> Vec<Reason> {
    use crate::loader::Family;
    let mut object = Vec::new();
    match loader.family() {
        Family::Libbpf => {}
        Family::Cilium => {
            let exists_only = |k: CoreReloKind| {
                matches!(k, CoreReloKind::FieldExists | CoreReloKind::TypeExists | CoreReloKind::EnumvalExists)
                    || (k == CoreReloKind::TypeMatches && loader.version().minor >= 15)
            };
            for (c, r) in core.iter_mut().zip(&obj.core_relos) {
                match &c.outcome {
                    CoreOutcome::MemSize(w) => {
                        let w = w.replace(
                            "libbpf refuses to adjust a load/store of it",
                            &format!("{loader} patches the offset without checking the access size (btf/core.go `COREFixup.Apply`)"),
                        );
                        c.outcome = CoreOutcome::Resolved(w);
                    }
                    CoreOutcome::Zero(w) if !exists_only(r.kind) => {
                        let w = w.replace(": resolves to 0", "");
                        c.outcome = CoreOutcome::Unresolved(format!(
                            "{w}: {loader} poisons a {} without a target (btf/core.go `coreCalculateFixups`; libbpf patches 0)",
                            r.kind
                        ));
                        c.value = None;
                    }
                    _ => {}
                }
            }
        }
        Family::Aya => {
            // Which relocations a load or store carries.
            let mut mem: BTreeMap<u32, bool> = BTreeMap::new();
            for ins in obj.functions.iter().flat_map(|f| &f.insns) {
                if let Some(r) = ins.core {
                    *mem.entry(r).or_default() |= matches!(ins.code & 0x07, 0x01..=0x03);
                }
            }
            for (i, (c, r)) in core.iter().zip(&obj.core_relos).enumerate() {
                let why = match &c.outcome {
                    _ if r.kind == CoreReloKind::TypeMatches => Some("aya-obj `RelocationKind` has no TYPE_MATCHES: the `.BTF.ext` does not parse".to_string()),
                    CoreOutcome::Zero(w) if matches!(r.kind, CoreReloKind::TypeIdTarget | CoreReloKind::TypeSize) => Some(format!(
                        "{}: aya-obj `compute_type_relocation` fails (\"missing target BTF info for type\"; libbpf patches 0)",
                        w.replace(": resolves to 0", "")
                    )),
                    CoreOutcome::MemSize(w) if mem.get(&(i as u32)).copied().unwrap_or(false) => Some(format!(
                        "{}: aya-obj `ComputedRelocation::apply` fails the relocation (\"original type ... has size ...\"; libbpf poisons the instruction)",
                        w.replace("; libbpf refuses to adjust a load/store of it", "")
                    )),
                    CoreOutcome::Fatal(w) => Some(w.clone()),
                    // relocate_btf_functions: every candidate that matches
                    // must agree, with no narrowing (ConflictingCandidates).
                    CoreOutcome::Ambiguous(w) => {
                        Some(format!("{w}: aya-obj `relocate_btf_functions` fails (\"multiple candidate target types found with different memory layouts\")"))
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    object.push(Reason::fact(
                        ReasonKind::CoreRelocationRefused,
                        &format!("{} {}", r.kind, r.path),
                        format!("{why}: {loader} relocates every program before loading one (`EbpfLoader::load`), so the object fails to load"),
                    ));
                }
            }
        }
    }
    object
}

/// The relocations of every instruction of the call graph (`all`) that
/// libbpf cannot apply (`Fatal`): they fail the load even in code the
/// verifier would not reach (`reached`).
pub(super) fn refused_in_dead_code(obj: &BpfObject, core: &[CoreRes], all: &Reached, reached: &Reached, rs: &mut Vec<Reason>) {
    for &c in all.core.keys().filter(|c| !reached.core.contains_key(c)) {
        if let (Some(r), Some(CoreRes { outcome: CoreOutcome::Fatal(w), .. })) = (obj.core_relos.get(c as usize), core.get(c as usize)) {
            let mut f = Reason::fact(ReasonKind::CoreRelocationRefused, &format!("{} {}", r.kind, r.path), w.clone());
            f.message.push_str(" (in code the verifier would not reach: the loader relocates it first)");
            rs.push(f);
        }
    }
}

/// The CO-RE relocations of reachable instructions.
pub(super) fn reached(obj: &BpfObject, core: &[CoreRes], loader: crate::loader::Loader, reached: &Reached, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let fact = Reason::fact;
    // Who poisons: libbpf (relo_core.c `bpf_core_poison_insn`), cilium/ebpf
    // (btf/core.go `COREFixup.Apply` writes its own poison call); aya fails
    // the object instead (`as_applied_by`).
    let who = match loader.family() {
        crate::loader::Family::Cilium => "cilium/ebpf",
        _ => "libbpf",
    };
    for (&ri, &mem) in &reached.core {
        let (Some(r), Some(res)) = (obj.core_relos.get(ri as usize), core.get(ri as usize)) else { continue };
        let label = format!("{} {}", r.kind, r.path);
        match &res.outcome {
            CoreOutcome::Resolved(w) => rs.push(fact(R::CoreOk, &label, w.clone())),
            CoreOutcome::Ambiguous(w) => rs.push(fact(R::CoreAmbiguous, &label, format!("ambiguous: {w}"))),
            CoreOutcome::Zero(w) if r.is_check => rs.push(fact(R::CoreCheckFalse, &label, format!("existence check evaluates to 0 ({w})"))),
            CoreOutcome::Zero(w) => rs.push(fact(R::CoreZero, &label, w.clone())),
            // relo_core.c `bpf_core_patch_insn`: a refused size adjustment
            // poisons loads and stores only.
            CoreOutcome::MemSize(w) if mem => {
                rs.push(fact(R::CoreUnresolved, &label, format!("{w}: {who} poisons the load/store and the verifier rejects it")))
            }
            CoreOutcome::MemSize(w) => rs.push(fact(R::CoreOk, &label, w.clone())),
            CoreOutcome::Fatal(w) => rs.push(fact(R::CoreRelocationRefused, &label, w.clone())),
            CoreOutcome::Unresolved(w) => rs.push(fact(
                R::CoreUnresolved,
                &label,
                format!("{w}: {who} poisons the instruction and the verifier reaches it (no constant the kernel knows makes it dead code)"),
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
        CoreRelo {
            section: "x".into(),
            insn_off: 0,
            type_id: LocalTypeId(type_id),
            access: access.into(),
            spec: crate::object::btf_ext::AccessPath::parse(access),
            kind,
            path: String::new(),
            is_check: kind.is_check(),
        }
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

    /// cilium/ebpf's CO-RE candidates by version ([`CiliumModules`]): a
    /// type only a module defines is a candidate before v0.14 never
    /// (vmlinux alone: the field access is poisoned), from v0.14 to v0.18
    /// only for programs attached to that module's functions, from v0.19
    /// for every program.
    #[test]
    fn cilium_module_candidates_by_version() {
        use crate::kernel::{Kernel, KernelBtf};
        use crate::loader::Version;
        use std::sync::Arc;
        let mut vb = Builder::new(Endian::Little);
        let u32_ = vb.int("unsigned int", 4, 32, false);
        let mut mb = Builder::new_split(Endian::Little, vb.next_id().get() - 1, vb.str_len());
        mb.composite(false, "s", 8, &[("a", u32_, 0, 0), ("b", u32_, 32, 0)]);
        let vmlinux = Arc::new(Btf::parse(Bytes::from_vec(vb.build())).unwrap());
        let module = Btf::parse_split(Bytes::from_vec(mb.build()), vmlinux.clone()).unwrap();
        let kb = |name: &str, btf: Arc<Btf>| KernelBtf { name: name.into(), btf, btf_ids: None, origin: "synthetic".into() };
        let k = KernelModel::new(Kernel::new(None, kb("vmlinux", vmlinux), vec![kb("mymod", Arc::new(module))]));
        let (lb, id) = local(|b| two_fields(b, "s___local", 0));
        let relos = [relo(CoreReloKind::FieldByteOffset, id, "0:1")];
        let unattached = [BTreeSet::new()];
        let attached = [BTreeSet::from(["mymod"])];
        let at =
            |v: &str, mods: &[BTreeSet<&str>]| resolve_cilium(&lb, &relos, &[0], mods, &k, CiliumModules::of(v.parse::<Version>().unwrap())).remove(0).unwrap();
        for (v, mods, found) in [
            ("0.11", &unattached, false),
            ("0.13", &attached, false),
            ("0.14", &unattached, false),
            ("0.18", &attached, true),
            ("0.19", &unattached, true),
            ("0.22", &unattached, true),
        ] {
            let r = at(v, mods);
            if found {
                assert!(matches!(r.outcome, CoreOutcome::Resolved(_)) && r.value == Some(4), "{v}");
            } else {
                assert!(matches!(r.outcome, CoreOutcome::Unresolved(_)), "{v}");
            }
        }
        assert!(matches!(at("0.11", &unattached).outcome, CoreOutcome::Unresolved(ref w) if w.contains("before v0.14")));
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
        let c = resolve_core_cached(&lb, &c_off, &k, Rules::Libbpf, &mut cache);
        assert!(matches!(c.outcome, CoreOutcome::Resolved(_)) && c.value == Some(12));
        let b = resolve_core_cached(&lb, &b_off, &k, Rules::Libbpf, &mut cache);
        assert!(matches!(b.outcome, CoreOutcome::Resolved(_)) && b.value == Some(8), "{:?}", b.value);
        // A relocation no candidate satisfies leaves the set unchanged.
        let mut cache = HashMap::new();
        assert_eq!(resolve_core_cached(&lb, &relo(CoreReloKind::FieldExists, id, "0:3"), &k, Rules::Libbpf, &mut cache).value, Some(0));
        assert!(matches!(resolve_core_cached(&lb, &b_off, &k, Rules::Libbpf, &mut cache).outcome, CoreOutcome::Ambiguous(_)));
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
