//! Rule family: program-type availability of helpers and kfuncs, as the
//! probe measured it on the target kernel (`bpfabi probe`). For each
//! program the probe variants standing for it (same program type, attach
//! type and sleepability; libbpf loads `SEC("syscall")` sleepable;
//! struct_ops programs by the object's struct_ops types) say whether the
//! program type loads at all and whether each helper and kfunc it calls is
//! allowed. Only a definite "not allowed" (every matching variant refused)
//! fails a program; undecided answers never do.

use super::{Reached, Target};
use crate::model::KernelModel;
use crate::object::{essential, BpfObject, ExternKind, Program};
use crate::policy::{Policy, Requirement};
use crate::probe::{Decision, LoadOutcome, MemberResult, ProbeIndex, Variant, VariantResult};
use crate::vocab::{Reason, ReasonKind as R, Verdict};

/// The probe's reasons for the calls of `p` in `calls` (helpers and kfuncs
/// of the reachable code, or of every instruction).
pub(super) fn availability(t: &Target, obj: &BpfObject, p: &Program, calls: &Reached) -> Vec<Reason> {
    let Some(pi) = t.probe else { return Vec::new() };
    let mut q = p.clone();
    q.helpers.retain(|id, _| calls.helpers.contains(id));
    q.kfuncs.retain(|n| calls.calls.iter().any(|&e| obj.externs.get(e as usize).is_some_and(|x| &x.name == n)));
    pi.judge(t.kernel, obj, &q)
}

/// Whether the probe refuses anything every instruction of the call graph
/// (`all`) calls: only then can pruning change its verdict.
pub(super) fn may_fail(t: &Target, obj: &BpfObject, p: &Program, all: &Reached, policy: &dyn Policy) -> bool {
    availability(t, obj, p, all)
        .iter()
        .any(|r| policy.grade_requirement(&Requirement { indirect: r.indirect, ..Requirement::new(r.kind, r.weak) }) != Verdict::Loads)
}

fn reason(kind: R, name: &str, message: String) -> Reason {
    Reason::fact(kind, name, message)
}

/// The kernel's spelling of a program's type (`unknown` when none).
fn type_name(p: &Program) -> String {
    p.prog_type.map(|t| t.to_string()).unwrap_or_else(|| "unknown".into())
}

impl ProbeIndex {
    /// Indices of the variants standing for program `p` of `obj`.
    pub fn variants_for(&self, obj: &BpfObject, p: &Program) -> Vec<usize> {
        let vs = &self.probe.variants;
        let all = || vs.iter().enumerate();
        let prog_type = type_name(p);
        let expected_attach = p.expected_attach.map(|a| a.to_string());
        if prog_type == "BPF_PROG_TYPE_STRUCT_OPS" {
            let labels: Vec<String> = obj.struct_ops.iter().map(|s| format!("struct_ops/{}", s.kernel_type)).collect();
            return all().filter(|(_, v)| labels.contains(&v.variant.label)).map(|(i, _)| i).collect();
        }
        if prog_type == "BPF_PROG_TYPE_EXT" {
            return Vec::new();
        }
        let sleepable = p.sleepable || prog_type == "BPF_PROG_TYPE_SYSCALL";
        let same = |v: &Variant| v.prog_type == prog_type && v.sleepable == sleepable;
        let exact: Vec<usize> =
            all().filter(|(_, v)| same(&v.variant) && v.variant.attach_type.as_deref() == expected_attach.as_deref()).map(|(i, _)| i).collect();
        if !exact.is_empty() {
            return exact;
        }
        let default: Vec<usize> = all().filter(|(_, v)| same(&v.variant) && v.variant.attach_type.is_none()).map(|(i, _)| i).collect();
        if !default.is_empty() {
            return default;
        }
        all().filter(|(_, v)| same(&v.variant)).map(|(i, _)| i).collect()
    }

    fn labels(&self, idx: &[usize]) -> String {
        idx.iter().filter_map(|&i| self.probe.variants.get(i)).map(|v| v.variant.label.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Combine the decisions of several variants: not allowed only when
    /// every variant that decided refused.
    fn combine<'a>(ds: impl Iterator<Item = Option<&'a Decision>>) -> Option<&'a Decision> {
        let ds: Vec<&Decision> = ds.flatten().collect();
        ds.iter().find(|d| d.available() == Some(true)).or_else(|| ds.iter().find(|d| d.available() == Some(false))).or(ds.first()).copied()
    }

    /// Reasons (problems and satisfied requirements) for one program on
    /// `kernel`, the kernel this probe is attached to (its kfuncs say which
    /// calls the probe should have measured).
    pub fn judge(&self, kernel: &KernelModel, obj: &BpfObject, p: &Program) -> Vec<Reason> {
        let mut rs = Vec::new();
        let prog_type = type_name(p);
        let idx = self.variants_for(obj, p);
        let src = &self.origin;
        if idx.is_empty() {
            rs.push(reason(R::ProbeNoVariant, &prog_type, format!("the probe ({src}) has no variant for this program: availability not measured{DECIDE}")));
            return rs;
        }
        let labels = self.labels(&idx);
        let loads: Vec<&LoadOutcome> = idx.iter().filter_map(|&i| self.probe.variants.get(i)).map(|v| &v.load).collect();
        let loadable: Vec<usize> = idx.iter().copied().filter(|&i| self.probe.variants.get(i).is_some_and(|v| v.load == LoadOutcome::Loadable)).collect();
        if loadable.is_empty() {
            if let Some(LoadOutcome::Unsupported { message }) = loads.iter().find(|l| matches!(l, LoadOutcome::Unsupported { .. })) {
                if loads.iter().all(|l| matches!(l, LoadOutcome::Unsupported { .. })) {
                    rs.push(reason(R::ProgTypeUnsupported, &prog_type, format!("{labels} programs do not load on this kernel: `{message}` (probe {src})")));
                    return rs;
                }
            }
            let why = loads.iter().find_map(|l| match l {
                LoadOutcome::Undecided { reason } => Some(reason.as_str()),
                _ => None,
            });
            rs.push(reason(
                R::ProbeUndecided,
                &prog_type,
                format!("the probe could not load {labels} programs on that machine: {}{DECIDE}", why.unwrap_or("?")),
            ));
            return rs;
        }
        // A struct_ops member the kernel refuses to let BPF implement
        // (verifier.c `check_struct_ops_btf_id`, the type's `check_member`).
        if let Some((label, message)) = self.struct_ops_member_refused(obj, p, &loadable) {
            rs.push(reason(R::ProgTypeUnsupported, &label, format!("the kernel refuses BPF implementations of this member: `{message}` (probe {src})")));
            return rs;
        }
        // A struct_ops program judged with the answers for its own member
        // (schema /2), when the probe has them.
        let member = self.struct_ops_member(obj, p, &loadable);
        let label = match &member {
            Some(m) => m.label.clone(),
            None => self.labels(&loadable),
        };
        let specific = if member.is_some() { None } else { self.target_specific(&loadable, p) };
        let helper_name = |id: u32| loadable.iter().find_map(|&i| self.helper(i, id)).map(|h| h.name.clone()).unwrap_or_else(|| format!("helper #{id}"));
        let ctx = super::context::ContextView::new(self, obj, p, &loadable, member.as_ref().map(|m| (m.variant, m.member.as_str())));
        // A sleepable program on a member the kernel refuses to run sleepable
        // (measured: the probe's `sleepable` context of that member).
        if let Some((member, message)) = ctx.sleepable_member_refused() {
            rs.push(reason(
                R::AttachTargetNotSleepable,
                &label,
                format!("the kernel refuses a sleepable BPF implementation of member {member}: `{message}` (probe {src})"),
            ));
            return rs;
        }
        for id in p.helpers.keys() {
            let d = match &member {
                Some(m) => m.helper(self, *id),
                None => Self::combine(loadable.iter().map(|&i| self.helper(i, *id).map(|h| &h.decision))),
            };
            let name = helper_name(*id);
            match d {
                // A probe made without helpers (`probe --no-helpers`) measured none.
                None if !self.probe.options.helpers => {
                    rs.push(reason(R::ProbeUndecided, &name, format!("not measured: the probe ({src}) was made without helpers{DECIDE}")))
                }
                // Not in the probe: not in this kernel's enum bpf_func_id (check reports that).
                None => {}
                Some(d) => match ctx.helper(self, *id, d) {
                    // Judged in the context that runs the call (iterator
                    // target, async callback): that context's answer.
                    Some((d, context)) => rs.push(helper_reason(&name, *id, &d, &format!("{label} ({context})"), src)),
                    None => rs.push(soften(helper_reason(&name, *id, d, &label, src), specific.as_deref())),
                },
            }
        }
        // verifier.c `check_helper_call`: a `gpl_only` helper from a program
        // whose license is not GPL-compatible. The variants measured it
        // (schema /2, `helper_gpl_measured`); refused when every variant
        // that allows the helper says so.
        if self.probe.helper_gpl_measured && !obj.gpl_compatible() {
            let variants: Vec<usize> = match &member {
                Some(m) => vec![m.variant],
                None => loadable.clone(),
            };
            for id in p.helpers.keys() {
                let allowing: Vec<&VariantResult> =
                    variants.iter().filter_map(|&i| self.probe.variants.get(i)).filter(|v| v.allowed_helpers.contains(id)).collect();
                if !allowing.is_empty() && allowing.iter().all(|v| v.gpl_only_helpers.contains(id)) {
                    let name = helper_name(*id);
                    let license = obj.license.as_deref().unwrap_or("");
                    rs.push(reason(
                        R::HelperGplOnly,
                        &name,
                        format!("{name} is GPL-only on this kernel and the program's license \"{license}\" is not GPL-compatible: the verifier says `cannot call GPL-restricted function from non-GPL compatible program` (probe {src})"),
                    ));
                }
            }
        }
        for name in &p.kfuncs {
            let Some(ext) = obj.externs.iter().find(|e| &e.name == name && e.kind == ExternKind::Kfunc) else {
                continue;
            };
            let ess = essential(name);
            let d = match &member {
                Some(m) => m.kfunc(self, ess),
                None => Self::combine(loadable.iter().map(|&i| self.kfunc(i, ess))),
            };
            if d.is_none() && !self.probe.options.kfuncs {
                // A probe made without kfuncs measured none.
                rs.push(reason(R::ProbeUndecided, ess, format!("not measured: the probe ({src}) was made without kfuncs{DECIDE}")));
            } else if d.is_none() {
                // A kfunc of this kernel the probe never asked about.
                if let Some(r) = self.not_probed(kernel, ess, ext.weak) {
                    rs.push(r.weak(ext.weak));
                }
            }
            if let Some(d) = d {
                match ctx.kfunc(self, name, ess, d) {
                    Some((d, context)) => rs.push(kfunc_reason(name, ess, &d, &format!("{label} ({context})"), src)),
                    None => rs.push(soften(kfunc_reason(name, ess, d, &label, src), specific.as_deref())),
                }
            }
        }
        rs
    }
}

/// The probe's answers for one struct_ops member: the variant's own member,
/// or another member with the decisions that differ from the variant's.
struct MemberView<'a> {
    variant: usize,
    /// The member's name.
    member: String,
    other: Option<&'a MemberResult>,
    /// `struct_ops/TYPE.member`.
    label: String,
}

impl MemberView<'_> {
    fn helper<'b>(&'b self, pi: &'b ProbeIndex, id: u32) -> Option<&'b Decision> {
        self.other.and_then(|m| m.helpers.iter().find(|h| h.id == id).map(|h| &h.decision)).or_else(|| pi.helper(self.variant, id).map(|h| &h.decision))
    }
    fn kfunc<'b>(&'b self, pi: &'b ProbeIndex, name: &str) -> Option<&'b Decision> {
        self.other.and_then(|m| m.kfuncs.iter().find(|k| k.name == name).map(|k| &k.decision)).or_else(|| pi.kfunc(self.variant, name))
    }
}

impl ProbeIndex {
    /// A kfunc `kernel` registers that the probe has no decision for, in
    /// any variant: why it was not measured, as a `kfunc_not_probed`
    /// reason (`None`: not a kfunc of `kernel`, which the extern rules
    /// report). The probe asks every kfunc of the kernel it runs on, and
    /// that kernel has the kfuncs of the modules loaded then
    /// (`/sys/kernel/btf`, listed in the probe's `kernel.modules`): a
    /// module kfunc is missing from the probe when its module was not
    /// loaded (libbpf resolves a kfunc against the module BTFs loaded at
    /// load time, `find_ksym_btf_id`), any kfunc when the probed kernel did
    /// not list it as one (no decl tag, no `.BTF_ids` of that module). The
    /// policy grades it `unknown`, or `warns` for a weak extern (`__weak`,
    /// behind `bpf_ksym_exists()`): libbpf resolves it to 0 where the
    /// module is not loaded and the program runs its own fallback, but
    /// where the module is loaded the call was not measured.
    fn not_probed(&self, kernel: &KernelModel, ess: &str, weak: bool) -> Option<Reason> {
        let k = kernel.kfunc(ess)?;
        let src = &self.origin;
        let weak_note = if weak {
            "; the extern is weak: where the module is not loaded libbpf resolves it to 0 (`bpf_ksym_exists()` is false) and the program's fallback runs, where it is loaded the call's availability is unmeasured"
        } else {
            ""
        };
        let message = match k.module.as_deref() {
            Some(m) if !self.probe.kernel.modules.iter().any(|x| x == m) => format!(
                "kfunc `{ess}` is in module {m}, which was not loaded when the probe ran ({src}: modules {}): its availability was not measured{weak_note} (decide it: load the module, `modprobe {m}`, then `bpfabi probe` on that kernel; or a real load: `bpfabi vmtest`)",
                if self.probe.kernel.modules.is_empty() { "none".to_string() } else { self.probe.kernel.modules.join(", ") }
            ),
            wher => format!(
                "kfunc `{ess}` ({}) was not asked by the probe ({src}): the kernel it ran on did not list it as a kfunc (no decl tag or `.BTF_ids` for it there), so its availability was not measured{weak_note} (decide it with a real load: `bpfabi vmtest`)",
                wher.map_or_else(|| "vmlinux".to_string(), |m| format!("module {m}"))
            ),
        };
        Some(reason(R::KfuncNotProbed, ess, message))
    }

    /// The member a struct_ops program implements (libbpf
    /// `bpf_object__collect_st_ops_relos` ties the program to the member at
    /// the relocation's offset; `bpf_map__init_kern_struct_ops` loads it
    /// with `expected_attach_type` = the kernel member's index, which the
    /// kernel's `get_func_proto` may look at, as `bpf_tcp_ca_get_func_proto`
    /// does through `prog_ops_moff()`), when the probe measured that member
    /// and it loads. `None`: judge as before (the variant's member, softened).
    fn struct_ops_member(&self, obj: &BpfObject, p: &Program, loadable: &[usize]) -> Option<MemberView<'_>> {
        let (variant, member, label) = self.struct_ops_slot(obj, p, loadable)?;
        let v = self.probe.variants.get(variant)?;
        if v.variant.struct_ops_member.as_deref() == Some(member) {
            return Some(MemberView { variant, member: member.to_string(), other: None, label });
        }
        let m = v.member(member)?;
        (m.load == LoadOutcome::Loadable).then_some(MemberView { variant, member: member.to_string(), other: Some(m), label })
    }

    /// The member a struct_ops program implements, when the probe found
    /// that the kernel refuses any BPF implementation of it: (label, why).
    fn struct_ops_member_refused(&self, obj: &BpfObject, p: &Program, loadable: &[usize]) -> Option<(String, String)> {
        let (variant, member, label) = self.struct_ops_slot(obj, p, loadable)?;
        match &self.probe.variants.get(variant)?.member(member)?.load {
            LoadOutcome::Unsupported { message } => Some((label, message.clone())),
            _ => None,
        }
    }

    /// (loadable struct_ops variant, member, `struct_ops/TYPE.member`) of a
    /// struct_ops program: the member must be the same in every struct_ops
    /// map using the program.
    fn struct_ops_slot<'o>(&self, obj: &'o BpfObject, p: &Program, loadable: &[usize]) -> Option<(usize, &'o str, String)> {
        if p.prog_type != Some(crate::uapi::ProgType::StructOps) {
            return None;
        }
        let mut found: Option<(&str, &str)> = None;
        for s in &obj.struct_ops {
            for slot in s.slots.iter().filter(|sl| sl.program == p.name) {
                match found {
                    None => found = Some((s.kernel_type.as_str(), slot.member.as_str())),
                    Some(f) if f == (s.kernel_type.as_str(), slot.member.as_str()) => {}
                    Some(_) => return None,
                }
            }
        }
        let (ty, member) = found?;
        let want = format!("struct_ops/{}", essential(ty));
        let &variant = loadable.iter().find(|&&i| self.probe.variants.get(i).is_some_and(|v| v.variant.label == want))?;
        Some((variant, member, format!("{want}.{member}")))
    }

    /// When the probed variants attach to a specific target (fentry/fexit/
    /// fmod_ret function, LSM hook, struct_ops member) that is not the
    /// program's, a refusal may be the target's (helper `allowed()`
    /// callbacks, kfunc filters): say which target the probe used.
    fn target_specific(&self, idx: &[usize], p: &Program) -> Option<String> {
        for v in idx.iter().filter_map(|&i| self.probe.variants.get(i)).map(|v| &v.variant) {
            let Some(t) = &v.attach_btf else { continue };
            let tracing = v.prog_type == "BPF_PROG_TYPE_TRACING"
                && matches!(v.attach_type.as_deref(), Some("BPF_TRACE_FENTRY" | "BPF_TRACE_FEXIT" | "BPF_MODIFY_RETURN"));
            if v.prog_type == "BPF_PROG_TYPE_STRUCT_OPS" {
                return Some(format!("{}.{}", t.name, v.struct_ops_member.as_deref().unwrap_or("?")));
            }
            let program_target = match (v.prog_type.as_str(), &p.attach_target) {
                ("BPF_PROG_TYPE_LSM", Some(h)) => Some(format!("bpf_lsm_{h}")),
                (_, t) => t.clone(),
            };
            if (tracing || v.prog_type == "BPF_PROG_TYPE_LSM") && program_target.as_deref() != Some(t.name.as_str()) {
                return Some(t.name.clone());
            }
        }
        None
    }
}

/// A refusal measured on another attach target is indirect evidence (the
/// policy grades it a warning, not a failure).
fn soften(mut r: Reason, probed_target: Option<&str>) -> Reason {
    if let (R::HelperNotAllowed | R::KfuncNotAllowed, Some(t)) = (r.kind, probed_target) {
        r.message = format!("{}; the probe attached to `{t}`, and this refusal may depend on the attach target", r.message);
        r = r.indirect(true);
    }
    r
}

fn helper_reason(name: &str, id: u32, d: &Decision, label: &str, src: &str) -> Reason {
    match d.available() {
        Some(false) => reason(
            R::HelperNotAllowed,
            name,
            format!("helper id {id} is not allowed in {label} programs on this kernel: the verifier says `{}` (probe {src})", d.detail()),
        ),
        Some(true) => reason(R::HelperAllowed, name, format!("allowed in {label} programs ({})", d.how())),
        None => reason(R::ProbeUndecided, name, format!("not measured for {label}: {}{DECIDE}", d.detail())),
    }
}

/// What an `unknown` says would decide it.
pub(crate) const DECIDE: &str = " (decide it with `bpfabi probe --full` on that kernel, or a real load: `bpfabi vmtest`)";

fn kfunc_reason(name: &str, ess: &str, d: &Decision, label: &str, src: &str) -> Reason {
    match d.available() {
        Some(false) => reason(
            R::KfuncNotAllowed,
            name,
            format!("kfunc `{ess}` is not allowed in {label} programs on this kernel: the verifier says `{}` (probe {src})", d.detail()),
        ),
        Some(true) => reason(R::KfuncAllowed, name, format!("allowed in {label} programs ({})", d.how())),
        None => reason(R::ProbeUndecided, name, format!("not measured for {label}: {}{DECIDE}", d.detail())),
    }
}
