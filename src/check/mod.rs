//! Will this BPF object load on that kernel? For every program × kernel, the
//! requirements of the program (see [`crate::object`]) are matched against
//! a [`Target`] (the kernel model, the BTF CO-RE resolves against, probe
//! data) with libbpf's and the verifier's rules, one file per rule family,
//! each pushing requirement facts ([`Reason`]s) that the [`Policy`] grades:
//!
//! - [`maps`]: byte order and map types (object-wide);
//! - [`externs`]: kfuncs, typed ksyms and `.kconfig` externs;
//!   [`kfunc_family`]: variants of one kfunc (flavours, renames behind
//!   `bpf_ksym_exists()`);
//! - [`helpers`]: program and attach types, helper ids; [`probe`]: what the
//!   program type may call, as the probe measured it;
//! - [`core`]: CO-RE relocations;
//! - [`license`]: GPL-only program kinds;
//! - [`struct_ops`]: struct_ops map types;
//! - [`attach`]: attach targets;
//! - [`filters`]: the kernel's context filters (kfunc set filters per
//!   attach type and struct_ops member, sleepable LSM hooks);
//! - [`arch`]: what the architecture's JIT cannot run.
//!
//! [`alternatives`] decides which programs count for the object's verdict
//! (`--optional`, `--autoload-off`, programs hooking one function by
//! different mechanisms).
//!
//! [`reach`] says which instructions the verifier reaches on the target
//! (load-time constants prune branches); this module runs the families in
//! order and grades. A new rule goes into its family's file (and that
//! file's test); a new family is one file plus one call in
//! [`check_object`].

pub mod alternatives;
pub mod arch;
pub mod attach;
pub mod context;
pub mod core;
pub mod externs;
pub mod filters;
pub mod helpers;
pub mod kfunc_family;
pub mod license;
pub mod loader;
pub mod maps;
pub mod min_core;
pub mod probe;
pub mod reach;
pub mod struct_ops;

use crate::loader::{Loader, LoaderChoice};
use crate::model::KernelModel;
use crate::object::flow::{Flow, Src};
use crate::object::BpfObject;
use crate::policy::{DefaultPolicy, Policy, Requirement};
use crate::probe::ProbeIndex;
use alternatives::{Role, Selection};
use externs::ExternStatus;
use reach::{reach, Facts, Reached};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use self::attach::is_placeholder_target;
pub use self::core::types_are_compat;
pub use crate::vocab::{Reason, ReasonKind, Verdict};

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
    /// The loader whose rules were applied (`libbpf 1.7`, `cilium/ebpf 0.22`).
    pub loader: Loader,
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
    /// How the program counts for its object's verdict
    /// ([`alternatives`]); absent when required.
    #[serde(skip_serializing_if = "Role::is_required")]
    pub role: Role,
    /// What could not be checked on a reduced (catalog) kernel, as one
    /// `not_checked_reduced_kernel` reason: not part of the verdict, which
    /// covers only what was checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<Reason>,
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
    /// Who loads the objects (`--loader`); default libbpf 1.7.
    pub loader: LoaderChoice,
    /// Programs the user space leaves out or may lose (`--autoload-off`,
    /// `--optional`).
    pub selection: Selection,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions {
            explain: false,
            policy: &DefaultPolicy,
            rodata: BTreeMap::new(),
            loader: LoaderChoice::Fixed(Loader::default()),
            selection: Selection::default(),
        }
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
    /// Check as loaded by this loader, or the one each object's evidence
    /// names ([`crate::loader::evidence`]).
    pub fn loader(mut self, loader: LoaderChoice) -> Self {
        self.loader = loader;
        self
    }
    /// Leave programs out (autoload off) or make them optional.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }
    /// Judge with `policy` instead of the default.
    pub fn policy(mut self, policy: &'p dyn Policy) -> Self {
        self.policy = policy;
        self
    }
}

/// What programs are checked against: the kernel, the BTF CO-RE
/// relocations resolve against, and what the probe measured there.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Target<'k> {
    /// The kernel: its BTF (vmlinux and modules), enums, configuration,
    /// architecture.
    pub kernel: &'k KernelModel,
    /// Where CO-RE candidates come from: `--core-btf` (libbpf
    /// `btf_custom_path`) when given, else the kernel itself.
    pub core: &'k KernelModel,
    /// Program-type availability measured on this kernel (`None`: not
    /// measured).
    pub probe: Option<&'k ProbeIndex>,
}

impl<'k> Target<'k> {
    /// The target a kernel model stands for, with the CO-RE BTF and probe
    /// attached to it.
    pub fn of(kernel: &'k KernelModel) -> Self {
        Target { kernel, core: kernel.core_btf().map(|(m, _)| m).unwrap_or(kernel), probe: kernel.probe() }
    }
}

/// Check every program of every object against every kernel: one result per
/// program × kernel, objects outermost, in input order. Helper names come
/// from the kernels (newest names win).
pub fn check(objects: &[BpfObject], kernels: &[KernelModel], opts: &CheckOptions) -> Vec<ProgramResult> {
    check_named(objects, kernels, &crate::model::helper_names(kernels), opts)
}

/// [`check`] with the helper names of messages given
/// ([`crate::model::helper_names`] of a whole series, when the kernels are
/// checked one at a time: the same messages as one call over all of them).
pub fn check_named(objects: &[BpfObject], kernels: &[KernelModel], names: &BTreeMap<u32, String>, opts: &CheckOptions) -> Vec<ProgramResult> {
    let per_object = |o: &BpfObject| kernels.iter().flat_map(|k| check_object(o, k, names, opts)).collect::<Vec<_>>();
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

/// Check one object's programs against one kernel. `helper_names` names
/// helper ids in messages (see [`crate::model::helper_names`]).
pub fn check_object(obj: &BpfObject, ki: &KernelModel, helper_names: &BTreeMap<u32, String>, opts: &CheckOptions) -> Vec<ProgramResult> {
    let loader = loader::object_loader(obj, opts.loader);
    if loader.is_libbpf_1() {
        return check_object_as(obj, ki, helper_names, opts, loader);
    }
    // Another loader reads section names its own way.
    check_object_as(&loader.reread(obj), ki, helper_names, opts, loader)
}

/// [`check_object`] with the loader decided (`obj` as that loader reads it,
/// [`Loader::reread`]).
fn check_object_as(obj: &BpfObject, ki: &KernelModel, helper_names: &BTreeMap<u32, String>, opts: &CheckOptions, loader: Loader) -> Vec<ProgramResult> {
    let t = Target::of(ki);
    let mut out = Vec::new();
    let mut object_reasons = Vec::new();
    // What the loader itself refuses or leaves to user space (src/loader).
    let loader_findings = loader.findings(obj);
    loader::object_reasons(&loader_findings, &mut object_reasons);
    maps::object(&t, obj, &mut object_reasons);
    let struct_ops_types = struct_ops::types(&t, obj);
    // libbpf resolves every extern of the object before loading any
    // program (`bpf_object__resolve_externs`): one it cannot resolve fails
    // them all. cilium/ebpf and aya resolve, per program, the externs its
    // instructions reference (linker.go `resolveKfuncs`).
    let mut extern_reasons = Vec::new();
    let externs = externs::resolve_externs(&t, obj, loader, &mut extern_reasons);
    let per_program_externs = loader.family() != crate::loader::Family::Libbpf;
    if per_program_externs {
        loader::at_load_reasons(obj, loader, &mut extern_reasons);
    } else {
        object_reasons.append(&mut extern_reasons);
    }
    externs::kconfig_missing(&t, obj, &mut object_reasons);
    let ext_status: Vec<Option<&ExternStatus>> = obj.externs.iter().map(|e| externs.get(e.name.as_str())).collect();
    let mut core = core::resolve(&t, obj, loader);
    object_reasons.extend(core::as_applied_by(obj, &mut core, loader));
    let frozen_before_load = !matches!(loader, Loader::CiliumEbpf { version } if version.minor < 12);
    let facts = Facts { obj, ki, core: &core, externs: &ext_status, rodata_known: true, rodata_stated: &opts.rodata, frozen_before_load };
    // kfunc compat families, judged per program on its reachable calls.
    let families = kfunc_family::families(obj, &facts);
    let resolved = |e: u32| matches!(ext_status.get(e as usize).copied().flatten(), Some(ExternStatus::Ok(_)));
    let mut flows: Vec<Option<Flow>> = vec![None; obj.functions.len()];
    let mut flows_unknown_rodata: Vec<Option<Flow>> = Vec::new();
    let grade = |rs: &mut [Reason]| {
        for r in rs.iter_mut() {
            r.severity = opts.policy.grade_requirement(&Requirement { indirect: r.indirect, ..Requirement::new(r.kind, r.weak) });
        }
    };
    let roles = alternatives::roles(&obj.path, &obj.programs, &opts.selection);
    for (p, role) in obj.programs.iter().zip(roles) {
        // Autoload off: not loaded, not judged.
        let Some(role) = role else { continue };
        let mut rs: Vec<Reason> = object_reasons.clone();
        loader::program_reasons(&loader_findings, p, &mut rs);
        struct_ops::of_program(&struct_ops_types, p, &mut rs);
        helpers::program_types(&t, p, &mut rs);
        attach::targets(&t, p, loader, &mut rs);
        filters::lsm_sleepable(&t, p, &mut rs);
        filters::struct_ops_sleepable(&t, obj, p, &mut rs);
        arch::jit(&t, p, &mut rs);
        // What every instruction of the call graph needs: when none of it
        // fails or warns, pruning cannot change the verdict and the analysis
        // is skipped (unless --explain asks what it pruned).
        let all = reach(obj, p, None, &facts);
        maps::program(&t, obj, p, &all, &mut rs);
        if per_program_externs {
            loader::used_externs(obj, &all, &extern_reasons, &mut rs);
        }
        license::rules(&t, obj, p, &all, &mut rs);
        let program_families: Vec<&kfunc_family::Family> =
            families.iter().filter(|f| f.variants.iter().any(|v| all.calls.contains(v) || all.addrs.contains(v))).collect();
        // With a probe, what the verifier allows this program type decides
        // too: judged first over all the code, pruning matters only when
        // something there is refused.
        let pruned = (opts.explain || reach::may_fail(&all, &facts, ki) || probe::may_fail(&t, obj, p, &all, opts.policy))
            .then(|| reach(obj, p, Some(&mut flows), &facts));
        let reached = pruned.as_ref().unwrap_or(&all);
        reached_reasons(&t, obj, p, helper_names, &externs, &core, loader, reached, &mut rs);
        core::refused_in_dead_code(obj, &core, &all, reached, &mut rs);
        for fam in program_families {
            rs.push(kfunc_family::judge(obj, fam, &resolved, &reached.calls));
        }
        helpers::unverified(&t, p, reached, &mut rs);
        let not_checked = if ki.kernel().info.reduced { reduced_kernel_limits(&mut rs) } else { Vec::new() };
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
            reached_reasons(&t, obj, p, helper_names, &externs, &core, loader, &rb, &mut other);
            if ki.kernel().info.reduced {
                // What a reduced kernel cannot answer is not a failure
                // behind a branch either (reported once, as not checked).
                other.retain(|r| !needs_full_btf(r.kind));
            }
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
            satisfied.extend(reach::explain_pruning(obj, &facts, reached));
        }
        out.push(ProgramResult {
            object: obj.path.clone(),
            program: p.name.clone(),
            section: p.section.clone(),
            kernel: ki.label().to_string(),
            loader,
            verdict,
            reasons: problems,
            satisfied: if opts.explain { satisfied } else { Vec::new() },
            core_btf: ki.core_btf().map(|(_, o)| o.to_string()),
            role,
            not_checked,
        });
    }
    for (so, r) in struct_ops::without_programs(&struct_ops_types) {
        let mut rs: Vec<Reason> = object_reasons.clone();
        rs.push(r.clone());
        let not_checked = if ki.kernel().info.reduced { reduced_kernel_limits(&mut rs) } else { Vec::new() };
        grade(&mut rs);
        let verdict = rs.iter().map(|r| r.severity).max().unwrap_or(Verdict::Loads);
        let (problems, satisfied): (Vec<Reason>, Vec<Reason>) = rs.into_iter().partition(|r| r.severity != Verdict::Loads);
        out.push(ProgramResult {
            object: obj.path.clone(),
            program: format!("struct_ops:{}", so.name),
            section: format!("struct_ops map of struct {}", so.kernel_type),
            kernel: ki.label().to_string(),
            loader,
            verdict,
            reasons: problems,
            satisfied: if opts.explain { satisfied } else { Vec::new() },
            core_btf: ki.core_btf().map(|(_, o)| o.to_string()),
            role: Role::Required,
            not_checked,
        });
    }
    out
}

/// What the program's reachable code needs on the target, family by
/// family: helpers, kfunc calls and ksym addresses, program-type
/// availability (probe), CO-RE relocations.
#[allow(clippy::too_many_arguments)]
fn reached_reasons(
    t: &Target,
    obj: &BpfObject,
    p: &crate::object::Program,
    helper_names: &BTreeMap<u32, String>,
    externs: &HashMap<&str, ExternStatus>,
    core: &[core::CoreRes],
    loader: Loader,
    reached: &Reached,
    rs: &mut Vec<Reason>,
) {
    helpers::reached(t, helper_names, reached, rs);
    externs::reached(obj, externs, loader, reached, rs);
    rs.extend(probe::availability(t, obj, p, reached));
    filters::kfuncs(t, obj, p, reached, rs);
    core::reached(obj, core, loader, reached, rs);
}

/// What needs the full type graph, which a reduced catalog kernel lacks:
/// CO-RE candidates, attach target FUNCs, struct_ops types, typed ksym VARs.
fn needs_full_btf(k: ReasonKind) -> bool {
    use ReasonKind as R;
    matches!(
        k,
        R::CoreOk
            | R::CoreCheckFalse
            | R::CoreAmbiguous
            | R::CoreUnresolved
            | R::CoreUnresolvedGuarded
            | R::CoreRelocationRefused
            | R::AttachTargetOk
            | R::AttachTargetMissing
            | R::AttachTargetNotInBtf
            | R::StructOpsOk
            | R::StructOpsTypeMissing
            | R::KsymOk
            | R::KsymMissing
    )
}

/// A reduced catalog kernel keeps kfuncs, helpers and the type enums only:
/// what needs the full type graph ([`needs_full_btf`]) is taken out of
/// `rs` and returned as one `not_checked_reduced_kernel` reason naming what
/// the catalog lacks ("catalog has no members of struct task_struct"),
/// kept apart from the verdict: the answer is partial, not a warning about
/// the program.
fn reduced_kernel_limits(rs: &mut Vec<Reason>) -> Vec<Reason> {
    use ReasonKind as R;
    let mut structs: BTreeSet<&str> = BTreeSet::new();
    let mut others: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rs.iter().filter(|r| needs_full_btf(r.kind)) {
        match r.kind {
            R::CoreOk | R::CoreCheckFalse | R::CoreAmbiguous | R::CoreUnresolved | R::CoreUnresolvedGuarded | R::CoreRelocationRefused => {
                // `FIELD_BYTE_OFFSET task_struct->comm`, `TYPE_EXISTS foo`
                let subject = r.name.split_once(' ').map_or(r.name.as_str(), |(_, s)| s);
                structs.insert(subject.split("->").next().unwrap_or(subject).trim());
            }
            R::AttachTargetOk | R::AttachTargetMissing | R::AttachTargetNotInBtf => {
                others.entry("attach targets").or_default().insert(&r.name);
            }
            R::StructOpsOk | R::StructOpsTypeMissing => {
                others.entry("struct_ops types").or_default().insert(&r.name);
            }
            _ => {
                others.entry("typed ksyms").or_default().insert(&r.name);
            }
        }
    }
    let list = |s: &BTreeSet<&str>| {
        let shown: Vec<&str> = s.iter().take(5).copied().collect();
        format!("{}{}", shown.join(", "), if s.len() > shown.len() { format!(" and {} more", s.len() - shown.len()) } else { String::new() })
    };
    let mut parts = Vec::new();
    if !structs.is_empty() {
        parts.push(format!("members of struct {}", list(&structs)));
    }
    for (what, names) in &others {
        parts.push(format!("{what} ({})", list(names)));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    rs.retain(|r| !needs_full_btf(r.kind));
    vec![Reason::fact(
        R::NotCheckedReducedKernel,
        "catalog",
        format!("not checked offline: the catalog kernel has no {} (give the kernel package, or go online, for those)", parts.join("; ")),
    )
    .graded(Verdict::Unknown)]
}
