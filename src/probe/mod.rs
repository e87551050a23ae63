//! `bpfabi probe`: which helpers and kfuncs the running kernel's verifier
//! accepts from which program types, decided by loading tiny programs.
//!
//! For every program variant ([`variants`]: each `enum bpf_prog_type` of the
//! kernel, split by attach type, sleepability and attach target where that
//! changes availability) the probe first loads `r0 = 0; exit`. If the
//! variant loads, it then loads, for every helper of `enum bpf_func_id`,
//! `call HELPER; r0 = 0; exit`, and for every kfunc of the kernel's surface
//! `call KFUNC (BPF_PSEUDO_KFUNC_CALL); r0 = 0; exit`. The verifier's log
//! decides ([`classify`]): a refusal naming the call means "not allowed",
//! anything else (argument types, unreleased references, return values)
//! means the call itself was accepted. Every program is closed at once;
//! nothing is pinned or left loaded. Loads are saved where the kernel makes
//! the answer the same: a kfunc is asked once per program type unless a
//! filter, sleepability or an allowlist may answer per variant
//! ([`reuse`]; struct_ops types and members too), a helper once per
//! program type and sleepability unless its `get_func_proto` case looks at
//! the attach type ([`reuse::HELPER_SHARING`]; struct_ops members:
//! [`reuse::MEMBER_HELPER_SHARING`]), and a helper under a non-GPL license
//! first, which answers `gpl_only` in the same load ([`run_unshared`] asks
//! everything).
//! (`probe per kfunc set` is per kfunc hook here: every set registered for a
//! program type is merged into its hook's one set, so a refusal as no member
//! is taken across the program types of one hook, [`reuse::KFUNC_HOOK_GROUPS`];
//! helpers are shared across program types of one `get_func_proto`.)
//!
//! The result, [`Probe`], is the documented `bpfabi.probe/1` JSON document
//! (`docs/probe.md`); it carries a SHA-256 of the kernel's vmlinux BTF so that
//! `check` can match it to a kernel later ([`file`], [`attach`]). This module
//! has no CLI dependencies: [`run`] with [`ProbeOptions`] is the whole API.

pub mod attach;
mod callbacks;
pub mod classify;
pub mod contexts;
pub mod ctx;
pub mod file;
mod refs;
pub mod reuse;
pub mod sys;
pub mod variants;

use crate::error::{Error, Result};
use crate::kernel::{self, Kernel, LoadOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub use contexts::{CallbackKind, Context, ContextResult};
pub use file::{fingerprint_of, read_probe, ProbeIndex};
pub use sys::kernel_version_code;

/// Schema id of the JSON document written. `/2` added, additively, the
/// per-member results of struct_ops variants ([`VariantResult::members`]);
/// a `/1` document is still read (it has no per-member results).
pub const SCHEMA: &str = "bpfabi.probe/2";
/// Every schema id [`file::read_probe`] accepts.
pub const SCHEMAS_READ: &[&str] = &["bpfabi.probe/1", SCHEMA];

/// How one helper or kfunc was decided for one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Decision {
    /// The program loaded: available.
    VerifierAccepted,
    /// The verifier refused the call itself: not available.
    #[allow(missing_docs)]
    VerifierRejectedNotAllowed { message: String },
    /// The verifier passed the call and complained about something else
    /// (arguments, references, return value): available.
    #[allow(missing_docs)]
    RejectedOther { message: String },
    /// Nothing could be concluded (privileges, environment, skipped).
    #[allow(missing_docs)]
    Undecided { reason: String },
}

impl Decision {
    /// `Some(true)` available, `Some(false)` not, `None` undecided.
    pub fn available(&self) -> Option<bool> {
        match self {
            Decision::VerifierAccepted | Decision::RejectedOther { .. } => Some(true),
            Decision::VerifierRejectedNotAllowed { .. } => Some(false),
            Decision::Undecided { .. } => None,
        }
    }
    /// Short name of how the answer was decided (JSON `how`).
    pub fn how(&self) -> &'static str {
        match self {
            Decision::VerifierAccepted => "verifier_accepted",
            Decision::VerifierRejectedNotAllowed { .. } => "verifier_rejected_not_allowed",
            Decision::RejectedOther { .. } => "rejected_other",
            Decision::Undecided { .. } => "undecided",
        }
    }
    /// The verifier's message or the reason, if any.
    pub fn detail(&self) -> &str {
        match self {
            Decision::VerifierAccepted => "",
            Decision::VerifierRejectedNotAllowed { message } | Decision::RejectedOther { message } => message,
            Decision::Undecided { reason } => reason,
        }
    }
}

/// Whether the variant itself (`r0 = 0; exit`) loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum LoadOutcome {
    /// The trivial program of this variant loads.
    Loadable,
    /// The kernel refuses this program/attach type (e.g. not built in).
    #[allow(missing_docs)]
    Unsupported { message: String },
    /// Could not tell (privileges, environment, no attach target, freplace).
    #[allow(missing_docs)]
    Undecided { reason: String },
}

/// The BTF object a tracing, LSM or struct_ops variant attaches to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachBtf {
    /// Module name.
    pub name: String,
    /// "func", "typedef" (tp_btf) or "struct" (struct_ops).
    pub kind: String,
    /// BTF object id (`/sys/kernel/btf`).
    pub id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Module (None: vmlinux).
    pub module: Option<String>,
}

/// One program variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// libbpf-style name: `kprobe`, `cgroup/connect4`, `fentry.s`, `struct_ops/tcp_congestion_ops`.
    pub label: String,
    /// `enum bpf_prog_type` enumerator and value on the probed kernel.
    pub prog_type: String,
    /// `enum bpf_prog_type` value.
    pub prog_type_id: u32,
    /// `enum bpf_attach_type` enumerator (`expected_attach_type`), if set.
    #[serde(default)]
    pub attach_type: Option<String>,
    /// Its value; for struct_ops, the index of the implemented member.
    #[serde(default)]
    pub attach_type_id: Option<u32>,
    /// Loaded with BPF_F_SLEEPABLE.
    pub sleepable: bool,
    #[serde(default)]
    /// Attach target in BTF (tracing, LSM, struct_ops).
    pub attach_btf: Option<AttachBtf>,
    /// struct_ops: the member the probe programs implement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub struct_ops_member: Option<String>,
    /// Why the variant is not probed at all.
    #[serde(skip)]
    pub not_probed: Option<String>,
    /// struct_ops: every other function-pointer member (name, index), probed
    /// one by one (results in [`VariantResult::members`]).
    #[serde(skip)]
    pub other_members: Vec<(String, u32)>,
}

impl Variant {
    /// A variant: label, program type (name, value), attach type (name, value), sleepability.
    pub fn new(label: String, prog_type: &str, prog_type_id: u32, attach: Option<(String, u32)>, sleepable: bool) -> Variant {
        let (attach_type, attach_type_id) = match attach {
            Some((n, v)) => (Some(n), Some(v)),
            None => (None, None),
        };
        Variant {
            label,
            prog_type: prog_type.to_string(),
            prog_type_id,
            attach_type,
            attach_type_id,
            sleepable,
            attach_btf: None,
            struct_ops_member: None,
            not_probed: None,
            other_members: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::HelperWire")]
/// What the verifier said about one helper in one variant.
pub struct HelperDecision {
    /// Helper id.
    pub id: u32,
    /// Helper name.
    pub name: String,
    #[serde(flatten)]
    /// The answer.
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::KfuncWire")]
/// What the verifier said about one kfunc in one variant.
pub struct KfuncDecision {
    /// kfunc name.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Module (None: vmlinux).
    pub module: Option<String>,
    /// BTF id in its BTF.
    pub btf_id: u32,
    #[serde(flatten)]
    /// The answer.
    pub decision: Decision,
}

/// Reading decisions fast: a probe holds tens of thousands of them, and
/// serde's `flatten` of the internally tagged [`Decision`] buffers every
/// entry before reading it again. These plain structs read the same JSON
/// (`how` plus `message` or `reason`) in one pass; writing is unchanged.
mod wire {
    use super::{Decision, HelperDecision, KfuncDecision};
    use serde::Deserialize;
    use std::borrow::Cow;

    #[derive(Deserialize)]
    pub(super) struct HelperWire<'a> {
        id: u32,
        name: String,
        #[serde(borrow)]
        how: Cow<'a, str>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct KfuncWire<'a> {
        name: String,
        #[serde(default)]
        module: Option<String>,
        btf_id: u32,
        #[serde(borrow)]
        how: Cow<'a, str>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    }

    /// The variant named by `how`, with the field it needs.
    fn decision(how: &str, message: Option<String>, reason: Option<String>) -> Result<Decision, String> {
        let need = |v: Option<String>, field: &str| v.ok_or_else(|| format!("missing field `{field}`"));
        Ok(match how {
            "verifier_accepted" => Decision::VerifierAccepted,
            "verifier_rejected_not_allowed" => Decision::VerifierRejectedNotAllowed { message: need(message, "message")? },
            "rejected_other" => Decision::RejectedOther { message: need(message, "message")? },
            "undecided" => Decision::Undecided { reason: need(reason, "reason")? },
            other => {
                return Err(format!(
                    "unknown variant `{other}`, expected one of `verifier_accepted`, `verifier_rejected_not_allowed`, `rejected_other`, `undecided`"
                ))
            }
        })
    }

    impl TryFrom<HelperWire<'_>> for HelperDecision {
        type Error = String;
        fn try_from(w: HelperWire<'_>) -> Result<Self, String> {
            Ok(HelperDecision { id: w.id, name: w.name, decision: decision(&w.how, w.message, w.reason)? })
        }
    }

    impl TryFrom<KfuncWire<'_>> for KfuncDecision {
        type Error = String;
        fn try_from(w: KfuncWire<'_>) -> Result<Self, String> {
            Ok(KfuncDecision { name: w.name, module: w.module, btf_id: w.btf_id, decision: decision(&w.how, w.message, w.reason)? })
        }
    }
}

/// The probe's answers for one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantResult {
    #[serde(flatten)]
    /// The variant.
    pub variant: Variant,
    /// Whether its trivial program loads.
    pub load: LoadOutcome,
    /// Helper ids decided available (accepted or rejected_other).
    pub allowed_helpers: Vec<u32>,
    /// kfunc names decided available.
    pub allowed_kfuncs: Vec<String>,
    /// Every helper decision (empty when the variant did not load).
    pub helpers: Vec<HelperDecision>,
    /// Every kfunc decision (empty when the variant did not load).
    pub kfuncs: Vec<KfuncDecision>,
    /// struct_ops (schema `/2`): the type's other function-pointer members,
    /// each probed with its own `expected_attach_type` (the member index),
    /// because a struct_ops type's `get_func_proto` and kfunc filters may
    /// answer per member (e.g. `bpf_tcp_ca_get_func_proto` refuses
    /// `bpf_setsockopt` to `tcp_congestion_ops.release`). Absent in `/1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberResult>,
    /// Of `allowed_helpers`, those refused under a non-GPL license (the
    /// kernel's `gpl_only`), when the probe measured it
    /// ([`Probe::helper_gpl_measured`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpl_only_helpers: Vec<u32>,
    /// Contexts measured on top of the variant ([`contexts`]: other
    /// iterator targets, an arena map in the program), with the decisions
    /// that differ (added within `/2`; see [`Probe::contexts_measured`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<ContextResult>,
}

/// One struct_ops member probed on its own. Only the decisions whose
/// availability differs from the variant's own (its `struct_ops_member`)
/// are listed: any helper or kfunc not listed has the variant's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberResult {
    /// Member name in the kernel's struct.
    pub member: String,
    /// Member index (the `expected_attach_type` loaded with).
    pub index: u32,
    /// Whether `r0 = 0; exit` (or `r0 = 1`) loads for this member.
    pub load: LoadOutcome,
    /// Helper decisions that differ in availability from the variant's.
    #[serde(default)]
    pub helpers: Vec<HelperDecision>,
    /// kfunc decisions that differ in availability from the variant's.
    #[serde(default)]
    pub kfuncs: Vec<KfuncDecision>,
}

impl VariantResult {
    /// The per-member result for struct_ops member `name`, if probed.
    pub fn member(&self, name: &str) -> Option<&MemberResult> {
        self.members.iter().find(|m| m.member == name)
    }
}

/// Identity of the probed kernel's BTF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BtfFingerprint {
    /// "sha256".
    pub algorithm: String,
    /// Hex digest of the vmlinux BTF blob (`/sys/kernel/btf/vmlinux`, the
    /// vmlinux's `.BTF` section: the same bytes).
    pub vmlinux: String,
    /// Size of the vmlinux BTF.
    pub vmlinux_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// The kernel a probe was made on.
pub struct ProbeKernel {
    /// `uname -r`.
    pub release: Option<String>,
    /// Architecture the probe ran on.
    pub machine: String,
    /// BTF fingerprint (SHA-256).
    pub btf: BtfFingerprint,
    /// Modules with BTF (their kfuncs and struct_ops were probed).
    pub modules: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Counts over a probe.
pub struct Summary {
    /// Variants probed.
    pub variants: usize,
    /// Variants whose trivial program loads.
    pub loadable: usize,
    /// Variants the kernel refuses.
    pub unsupported: usize,
    /// Variants not decided.
    pub undecided_variants: usize,
    /// Helper decisions.
    pub helpers: usize,
    /// kfunc decisions.
    pub kfuncs: usize,
    /// `BPF_PROG_LOAD` calls made.
    pub loads: usize,
    /// Decisions per `how`.
    pub verifier_accepted: usize,
    /// Decisions: not allowed.
    pub verifier_rejected_not_allowed: usize,
    /// Decisions: rejected for another reason (means allowed).
    pub rejected_other: usize,
    /// Decisions: undecided.
    pub undecided: usize,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time.
    pub duration_ms: u64,
}

/// The `bpfabi.probe/1` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// `bpfabi.probe/1`.
    pub schema: String,
    /// `bpfabi <version>`.
    pub tool: String,
    /// The kernel probed.
    pub kernel: ProbeKernel,
    /// Options used.
    pub options: ProbeOptions,
    /// Counts.
    pub summary: Summary,
    /// Per variant: load outcome and decisions.
    pub variants: Vec<VariantResult>,
    /// The variants' `gpl_only_helpers` were measured (added within
    /// `bpfabi.probe/2`; false in files made before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub helper_gpl_measured: bool,
    /// The variants' `contexts` were measured (added within
    /// `bpfabi.probe/2`; false in files made before: a context the file
    /// does not list was then never asked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contexts_measured: bool,
    /// The callback contexts (`callback`: wq, timer, task_work, loop) and
    /// the sleepable struct_ops members (`sleepable`) were measured (added
    /// within `bpfabi.probe/2`; false in files made before: `check` then
    /// leaves what a callback or a sleepable member changes `unknown`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callbacks_measured: bool,
}

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeOptions {
    /// Probe helpers.
    pub helpers: bool,
    /// Probe kfuncs.
    pub kfuncs: bool,
    /// Also probe the helpers whose load has side effects (as `bpftool
    /// feature probe full`): `bpf_trace_printk`, `bpf_trace_vprintk` (a
    /// kernel log banner and trace buffers) and `bpf_probe_write_user` (a
    /// kernel log warning). Otherwise they are `undecided`.
    pub full: bool,
    /// Worker threads; 0: one per CPU.
    pub threads: usize,
    /// Only variants whose label or program type matches one of these
    /// patterns (substring or glob); empty: all.
    pub only: Vec<String>,
    /// A `.BTF_ids` file for the running vmlinux (kfuncs of kernels without
    /// decl tags); not part of the output.
    #[serde(skip)]
    pub btf_ids: Option<std::path::PathBuf>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions { helpers: true, kfuncs: true, full: false, threads: 0, only: Vec::new(), btf_ids: None }
    }
}

/// The verifier's refusal of a `gpl_only` helper to a non-GPL program
/// (verifier.c `check_helper_call`, v4.x–v6.18).
const GPL_REFUSAL: &str = "cannot call GPL-restricted function";

/// Helpers whose loading has side effects (the ones `bpftool feature probe`
/// skips unless `full`).
const NOISY_HELPERS: &[&str] = &["bpf_trace_printk", "bpf_trace_vprintk", "bpf_probe_write_user"];

/// Probe the running kernel (needs root, or CAP_BPF + CAP_PERFMON +
/// CAP_NET_ADMIN + CAP_SYS_ADMIN for every program type).
pub fn run(opts: &ProbeOptions) -> Result<Probe> {
    probe_running(opts, true)
}

/// [`run`] without sharing verdicts: every kfunc asked in every variant,
/// every helper under GPL and then, where available, once more under a
/// non-GPL license. The same answers as [`run`] with more loads: the
/// reference `tests/probe_live.rs` compares [`run`] with.
pub fn run_unshared(opts: &ProbeOptions) -> Result<Probe> {
    probe_running(opts, false)
}

/// Read the running kernel (no config: nothing probed depends on it) and
/// probe it, sharing verdicts or not.
fn probe_running(opts: &ProbeOptions, share: bool) -> Result<Probe> {
    let start = Instant::now();
    let kernel = kernel::load_running(&LoadOptions { btf_ids: opts.btf_ids.clone(), config: false, ..LoadOptions::default() })?;
    run_on(&kernel, opts, start, share)
}

#[derive(Clone, Copy)]
enum Call {
    /// `r0 = N; exit`.
    Baseline(i32),
    Helper(u32),
    /// The helper call under a non-GPL license.
    HelperNonGpl(u32),
    /// `r0 = ret; exit` (the variant's return value) under a non-GPL license.
    BaselineNonGpl,
    /// Index into the kfunc list.
    Kfunc(usize),
}

/// Per-variant load parameters.
struct Prepared {
    prog_type: u32,
    expected_attach_type: u32,
    flags: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: RawFd,
    /// Return value the variant's programs exit with.
    ret: i32,
    /// Instructions every program of the variant starts with (releasing a
    /// refcounted struct_ops argument: `src/probe/refs.rs`).
    prologue: Vec<sys::Insn>,
}

/// Whether every load of variant `v` costs much more than another's: a
/// tp_btf program's (`BPF_TRACE_RAW_TP` with a target), whose tracepoint
/// verifier.c `bpf_check_attach_target` resolves by a linear scan of
/// vmlinux BTF (`btf_find_by_name_kind` for the template's `__bpf_trace_*`
/// FUNC) on every load.
fn costly(v: &Variant) -> bool {
    v.attach_btf.is_some() && v.attach_type.as_deref() == Some("BPF_TRACE_RAW_TP")
}

fn run_on(kernel: &Kernel, opts: &ProbeOptions, start: Instant, share: bool) -> Result<Probe> {
    // The SHA-256 of the vmlinux BTF (5.5 MB on 6.18) on a thread of its
    // own, while this one reads the surface and the variants.
    std::thread::scope(|sc| {
        let fp = sc.spawn(|| fingerprint_of(kernel));
        probe_on(kernel, opts, start, share, || fp.join().unwrap_or_else(|_| fingerprint_of(kernel)))
    })
}

fn probe_on(kernel: &Kernel, opts: &ProbeOptions, start: Instant, share: bool, fingerprint: impl FnOnce() -> BtfFingerprint) -> Result<Probe> {
    let surface = crate::surface::of(kernel);
    let mut vs = variants::of(kernel);
    if !opts.only.is_empty() {
        vs.retain(|v| opts.only.iter().any(|p| crate::report::matches_pattern(p, &v.label) || crate::report::matches_pattern(p, &v.prog_type)));
    }
    let release = kernel.release.clone();
    let kern_version = release.as_deref().map(sys::kernel_version_code).unwrap_or(0);

    // Module BTF objects, by name: for module kfuncs (fd_array) and module
    // struct_ops / attach targets (attach_btf_obj_fd).
    let needs_modules =
        vs.iter().any(|v| v.attach_btf.as_ref().is_some_and(|a| a.module.is_some())) || (opts.kfuncs && surface.kfuncs.iter().any(|k| k.module.is_some()));
    let btf_fds = if needs_modules { sys::kernel_btfs().unwrap_or_default() } else { Vec::new() };
    let module_fd: HashMap<&str, RawFd> = btf_fds.iter().map(|b| (b.name.as_str(), b.fd.as_raw_fd())).collect();

    // The stubs of every struct_ops member asked (refcounted arguments).
    let stubs = refs::Stubs::of(
        kernel,
        vs.iter()
            .filter_map(|v| Some((v.attach_btf.as_ref()?.name.as_str(), v)))
            .flat_map(|(ops, v)| v.struct_ops_member.iter().map(String::as_str).chain(v.other_members.iter().map(|(m, _)| m.as_str())).map(move |m| (ops, m))),
    );
    let mut prepared: Vec<Prepared> = vs
        .iter()
        .map(|v| Prepared {
            prog_type: v.prog_type_id,
            expected_attach_type: v.attach_type_id.unwrap_or(0),
            flags: if v.sleepable { sys::BPF_F_SLEEPABLE } else { 0 },
            attach_btf_id: v.attach_btf.as_ref().map(|a| a.id).unwrap_or(0),
            attach_btf_obj_fd: v.attach_btf.as_ref().and_then(|a| a.module.as_deref()).and_then(|m| module_fd.get(m).copied()).unwrap_or(0),
            ret: 0,
            prologue: match (&v.attach_btf, &v.struct_ops_member) {
                (Some(a), Some(m)) => refs::member_prologue(kernel, &surface.kfuncs, &stubs, &a.name, m),
                _ => Vec::new(),
            },
        })
        .collect();
    let threads = if opts.threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { opts.threads };
    let exec = |jobs: &[(usize, Call)], prepared: &[Prepared]| execute(jobs, prepared, &surface.kfuncs, &module_fd, kern_version, threads);

    // Phase 1: does each variant load at all? Exiting with 0 first; where
    // the verifier wants another return value (sock_addr recvmsg,
    // getpeername, getsockname want 1), with 1.
    let base_jobs: Vec<(usize, Call)> = vs.iter().enumerate().filter(|(_, v)| v.not_probed.is_none()).map(|(i, _)| (i, Call::Baseline(0))).collect();
    let mut base = exec(&base_jobs, &prepared);
    let mut loads = base_jobs.len();
    let retry: Vec<usize> = base.iter().enumerate().filter(|(_, r)| !r.loaded && r.log.contains("At program exit the register R0")).map(|(n, _)| n).collect();
    let retry_jobs: Vec<(usize, Call)> = retry.iter().filter_map(|&n| base_jobs.get(n)).map(|&(i, _)| (i, Call::Baseline(1))).collect();
    let again = exec(&retry_jobs, &prepared);
    loads += retry_jobs.len();
    for ((&n, &(i, _)), r) in retry.iter().zip(&retry_jobs).zip(again) {
        if r.loaded {
            if let (Some(slot), Some(p)) = (base.get_mut(n), prepared.get_mut(i)) {
                *slot = r;
                p.ret = 1;
            }
        }
    }
    let mut outcomes: Vec<LoadOutcome> =
        vs.iter().map(|v| LoadOutcome::Undecided { reason: v.not_probed.clone().unwrap_or_else(|| "not probed".into()) }).collect();
    for (&(i, _), r) in base_jobs.iter().zip(&base) {
        if let (Some(o), Some(v)) = (outcomes.get_mut(i), vs.get(i)) {
            *o = if r.errno == -1 { LoadOutcome::Undecided { reason: r.log.clone() } } else { classify::baseline(r, v.attach_btf.is_some()) };
        }
    }
    if !outcomes.contains(&LoadOutcome::Loadable) {
        if let Some(r) = base.iter().find(|r| matches!(r.errno, libc::EPERM | libc::EACCES)) {
            return Err(Error::new(
                "bpf(BPF_PROG_LOAD)",
                format!("{}: no program loads; probing needs root (or CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN)", sys::errno_name(r.errno)),
            ));
        }
    }

    // Phase 1b: the other function-pointer members of each loadable
    // struct_ops variant, each with its own expected_attach_type (the
    // member index: the kernel's `prog_ops_moff()` / `st_ops->check_member`
    // and `get_func_proto` see it). Prepared entries past `vs.len()`.
    let mut member_of: Vec<(usize, String, u32)> = Vec::new();
    for (i, v) in vs.iter().enumerate() {
        if outcomes.get(i) != Some(&LoadOutcome::Loadable) {
            continue;
        }
        let Some(p) = prepared.get(i) else { continue };
        let (prog_type, flags, attach_btf_id, attach_btf_obj_fd) = (p.prog_type, p.flags, p.attach_btf_id, p.attach_btf_obj_fd);
        for (name, idx) in &v.other_members {
            let prologue = v.attach_btf.as_ref().map(|a| refs::member_prologue(kernel, &surface.kfuncs, &stubs, &a.name, name)).unwrap_or_default();
            prepared.push(Prepared { prog_type, expected_attach_type: *idx, flags, attach_btf_id, attach_btf_obj_fd, ret: 0, prologue });
            member_of.push((i, name.clone(), *idx));
        }
    }
    let first_member = vs.len();
    let mjobs: Vec<(usize, Call)> = (0..member_of.len()).map(|n| (first_member + n, Call::Baseline(0))).collect();
    let mut mbase = exec(&mjobs, &prepared);
    loads += mjobs.len();
    let mretry: Vec<usize> = mbase.iter().enumerate().filter(|(_, r)| !r.loaded && r.log.contains("At program exit the register R0")).map(|(n, _)| n).collect();
    let mretry_jobs: Vec<(usize, Call)> = mretry.iter().filter_map(|&n| mjobs.get(n)).map(|&(i, _)| (i, Call::Baseline(1))).collect();
    let again = exec(&mretry_jobs, &prepared);
    loads += mretry_jobs.len();
    for ((&n, &(i, _)), r) in mretry.iter().zip(&mretry_jobs).zip(again) {
        if r.loaded {
            if let (Some(slot), Some(p)) = (mbase.get_mut(n), prepared.get_mut(i)) {
                *slot = r;
                p.ret = 1;
            }
        }
    }
    let member_outcomes: Vec<LoadOutcome> =
        mbase.iter().map(|r| if r.errno == -1 { LoadOutcome::Undecided { reason: r.log.clone() } } else { classify::baseline(r, true) }).collect();

    // Phase 2: every helper in the leader of each helper group and every
    // struct_ops member; every kfunc in the leader of each program type,
    // refusals as no member from the leader of its kfunc hook group
    // ([`reuse`]); then the followers.
    let helpers: Vec<&crate::surface::Helper> = if opts.helpers { surface.helpers.iter().collect() } else { Vec::new() };
    let kfunc_idx: Vec<usize> = if opts.kfuncs { (0..surface.kfuncs.len()).collect() } else { Vec::new() };
    let sleepable = |i: usize| prepared.get(i).is_some_and(|p| p.flags & sys::BPF_F_SLEEPABLE != 0);
    // Every loadable program shares, struct_ops variants and members too:
    // they all resolve to BTF_KFUNC_HOOK_STRUCT_OPS, and the sets filtered
    // per struct_ops type or member (sched_ext, HID-BPF, qdisc) are re-asked
    // in each ([`reuse::must_reprobe`]).
    let loadable = |i: usize| match i.checked_sub(first_member) {
        None => outcomes.get(i) == Some(&LoadOutcome::Loadable),
        Some(n) => member_outcomes.get(n) == Some(&LoadOutcome::Loadable),
    };
    let lead = reuse::leaders(
        &prepared
            .iter()
            .enumerate()
            .map(|(i, p)| (p.prog_type, p.flags & sys::BPF_F_SLEEPABLE != 0, share && loadable(i), vs.get(i).is_some_and(costly)))
            .collect::<Vec<_>>(),
    );
    // Kfunc hook groups ([`reuse::KFUNC_HOOK_GROUPS`]): the program-type
    // leaders of one group after its first take that one's refusals as no
    // member of the hook's set, on kernels whose `enum btf_kfunc_hook` the
    // table describes.
    let hooks_known = share && reuse::kfunc_hooks_known(&variants::enum_names(&kernel.vmlinux.btf, "btf_kfunc_hook"));
    let mut hook_lead: Vec<Option<usize>> = vec![None; prepared.len()];
    if hooks_known {
        let mut first: HashMap<(&str, bool), usize> = HashMap::new();
        for (i, v) in vs.iter().enumerate() {
            if lead.get(i) != Some(&i) || !loadable(i) {
                continue;
            }
            let Some(g) = reuse::kfunc_hook_group(&v.prog_type) else { continue };
            let h = *first.entry((g, v.sleepable)).or_insert(i);
            if let (true, Some(slot)) = (h != i, hook_lead.get_mut(i)) {
                *slot = Some(h);
            }
        }
    }
    let probed: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| **o == LoadOutcome::Loadable)
        .map(|(i, _)| i)
        .chain(member_outcomes.iter().enumerate().filter(|(_, o)| **o == LoadOutcome::Loadable).map(|(n, _)| first_member + n))
        .collect();
    // Helpers are asked under a non-GPL license first where the variant's
    // trivial program loads so (struct_ops and LSM programs must be GPL):
    // verifier.c `check_helper_call` refuses a `gpl_only` helper to a
    // non-GPL program ("cannot call GPL-restricted function from non-GPL
    // compatible program") right after `get_func_proto` found it and before
    // anything else, and the license enters no other check of a helper call.
    // So one load answers both questions for every helper that is not
    // `gpl_only`, and only the refused ones are asked again under GPL.
    let nongpl_base: Vec<(usize, Call)> = if helpers.is_empty() || !share { Vec::new() } else { probed.iter().map(|&i| (i, Call::BaselineNonGpl)).collect() };
    let nongpl_results = exec(&nongpl_base, &prepared);
    loads += nongpl_base.len();
    let license_neutral: std::collections::HashSet<usize> = nongpl_base.iter().zip(&nongpl_results).filter(|(_, r)| r.loaded).map(|(&(i, _), _)| i).collect();
    // Helper leaders ([`reuse::HELPER_SHARING`]): variants of one program
    // type, one sleepability, no attach target and both asked under a
    // non-GPL license take the helper verdicts (and `gpl_only`) of the
    // first such one, except the helpers its `get_func_proto` answers per
    // attach type; struct_ops members those of their type's first member
    // ([`reuse::MEMBER_HELPER_SHARING`]).
    // (leader, the follower's exceptions, the leader's exceptions)
    let mut hlead: Vec<(usize, &[&str], &[&str])> = (0..prepared.len()).map(|i| (i, &[][..], &[][..])).collect();
    if share {
        let mut first: HashMap<(&str, bool), (usize, &[&str])> = HashMap::new();
        for &i in probed.iter().filter(|&&i| i < first_member && license_neutral.contains(&i)) {
            let Some(v) = vs.get(i) else { continue };
            let Some((group, exc)) = reuse::variant_helper_group(&v.prog_type, v.attach_type.as_deref(), v.attach_btf.is_some()) else { continue };
            let (l, lexc) = *first.entry((group, v.sleepable)).or_insert((i, exc));
            if let Some(slot) = hlead.get_mut(i) {
                *slot = (l, exc, lexc);
            }
        }
        for (n, (vi, _, _)) in member_of.iter().enumerate() {
            let exc = vs.get(*vi).and_then(|v| v.attach_btf.as_ref()).and_then(|a| reuse::member_helper_exceptions(&a.name));
            if let (Some(exc), Some(slot)) = (exc, hlead.get_mut(first_member + n)) {
                *slot = (*vi, exc, exc);
            }
        }
    }
    // The family of `bpf_base_func_proto` ([`reuse::BASE_FAMILY`]): each
    // helper leader of it after the first of its sleepability measures its
    // own cases and the first's, and takes the first's other verdicts.
    // (family leader, the follower's cases, the leader's cases)
    type Cases = &'static [&'static [&'static str]];
    let mut fam: Vec<Option<(usize, Cases, Cases)>> = vec![None; prepared.len()];
    if share {
        let mut first: HashMap<bool, (usize, Cases)> = HashMap::new();
        for &i in probed.iter().filter(|&&i| i < first_member && license_neutral.contains(&i)) {
            let Some(v) = vs.get(i).filter(|v| v.attach_btf.is_none() && hlead.get(i).is_some_and(|h| h.0 == i)) else { continue };
            let Some(cases) = reuse::base_family_cases(&v.prog_type, kern_version) else { continue };
            let (l, lcases) = *first.entry(v.sleepable).or_insert((i, cases));
            if let (true, Some(slot)) = (l != i, fam.get_mut(i)) {
                *slot = Some((l, cases, lcases));
            }
        }
    }
    let helper_call = |i: usize, id: u32| if license_neutral.contains(&i) { Call::HelperNonGpl(id) } else { Call::Helper(id) };
    let probed_helpers: Vec<&crate::surface::Helper> = helpers.iter().copied().filter(|h| opts.full || !NOISY_HELPERS.contains(&h.name.as_str())).collect();
    let mut jobs = Vec::new();
    for &i in &probed {
        if hlead.get(i).is_some_and(|&(l, _, _)| l == i) {
            match fam.get(i).copied().flatten() {
                Some((_, own, lown)) => jobs.extend(
                    probed_helpers.iter().filter(|h| reuse::in_cases(own, &h.name) || reuse::in_cases(lown, &h.name)).map(|h| (i, helper_call(i, h.id))),
                ),
                None => jobs.extend(probed_helpers.iter().map(|h| (i, helper_call(i, h.id)))),
            }
        }
        if lead.get(i) == Some(&i) && hook_lead.get(i).is_some_and(Option::is_none) {
            jobs.extend(kfunc_idx.iter().map(|&k| (i, Call::Kfunc(k))));
        }
    }
    let mut by_job = Verdicts::new(prepared.len(), helpers.iter().map(|h| h.id as usize + 1).max().unwrap_or(0), surface.kfuncs.len());
    let decide = |by_job: &mut Verdicts, jobs: &[(usize, Call)], results: &mut [Loaded]| {
        for (&(i, c), r) in jobs.iter().zip(results) {
            let key = match c {
                Call::Helper(id) => (i, 0, id),
                Call::Kfunc(k) => (i, 1, k as u32),
                Call::Baseline(_) | Call::HelperNonGpl(_) | Call::BaselineNonGpl => continue,
            };
            if let Some(d) = r.d.take() {
                by_job.insert(key, d);
            }
        }
    };
    // Helper calls asked under a non-GPL license: decided, or (refused as
    // `gpl_only`) asked again under GPL.
    let settle_nongpl = |by_job: &mut Verdicts, jobs: &[(usize, Call)], results: &mut [Loaded]| {
        let mut again = Vec::new();
        for (&(i, c), r) in jobs.iter().zip(results) {
            if let Call::HelperNonGpl(id) = c {
                match r.d.take() {
                    Some(d) => {
                        by_job.insert((i, 0, id), d);
                    }
                    None => again.push((i, Call::Helper(id))),
                }
            }
        }
        again
    };
    // Load `jobs`, decide them, and ask the helpers refused as `gpl_only`
    // under a non-GPL license again under GPL (added to `restricted`);
    // returns the loads made.
    let round = |by_job: &mut Verdicts, jobs: &[(usize, Call)], restricted: &mut Vec<(usize, Call)>| -> usize {
        let mut results = exec(jobs, &prepared);
        let mut made = jobs.iter().zip(&results).filter(|(_, r)| r.errno != -1).count();
        decide(by_job, jobs, &mut results);
        let again_jobs = settle_nongpl(by_job, jobs, &mut results);
        let mut again = exec(&again_jobs, &prepared);
        made += again_jobs.len();
        decide(by_job, &again_jobs, &mut again);
        restricted.extend(again_jobs);
        made
    };
    let mut gpl_restricted: Vec<(usize, Call)> = Vec::new();
    loads += round(&mut by_job, &jobs, &mut gpl_restricted);
    // The family followers' other helpers: the family leader's verdict
    // (and `gpl_only`, below), or measured where it was left undecided.
    let mut copied_helpers: Vec<(usize, usize, u32)> = Vec::new();
    let mut fam_jobs: Vec<(usize, Call)> = Vec::new();
    for (i, f) in fam.iter().enumerate() {
        let Some((l, own, lown)) = *f else { continue };
        for h in probed_helpers.iter().filter(|h| !reuse::in_cases(own, &h.name) && !reuse::in_cases(lown, &h.name)) {
            match by_job.get(&(l, 0, h.id)) {
                Some(d) if !matches!(d, Decision::Undecided { .. }) => {
                    let d = d.clone();
                    by_job.insert((i, 0, h.id), d);
                    copied_helpers.push((i, l, h.id));
                }
                _ => fam_jobs.push((i, helper_call(i, h.id))),
            }
        }
    }
    loads += round(&mut by_job, &fam_jobs, &mut gpl_restricted);
    // Followers: the leader's kfunc verdicts, except those a filter, the
    // program's sleepability or an allowlist may change; the helper
    // leader's helper verdicts, except those its `get_func_proto` answers
    // per attach type or member.
    // A follower's kfunc verdicts from its program-type leader `l`: copied,
    // or asked again where its sleepability or a filter may change them
    // (`reuse::must_reprobe`).
    // The program type of program `i` (a variant or a struct_ops member).
    let prog_type_of = |i: usize| -> &str {
        let vi = i.checked_sub(first_member).and_then(|n| member_of.get(n)).map_or(i, |m| m.0);
        vs.get(vi).map_or("", |v| v.prog_type.as_str())
    };
    // A filtered kfunc refused as no member, whose filter belongs to
    // another hook than the program's (`reuse::filter_elsewhere`).
    let plain_refusal = |name: &str, i: usize, d: &Decision| hooks_known && reuse::filter_elsewhere(name, prog_type_of(i), d);
    // Per kfunc: whether its first parameter can be no program's context
    // (`reuse::hook_copies_argument_refusal`).
    let first_free: Vec<bool> = match ctx::context_structs(kernel).filter(|_| hooks_known) {
        Some(structs) => surface.kfuncs.iter().map(|k| ctx::first_param_ctx_free(kernel, k, &structs)).collect(),
        None => Vec::new(),
    };
    let from_type_leader = |by_job: &Verdicts, i: usize, l: usize, copied: &mut Vec<((usize, u8, u32), Decision)>, jobs: &mut Vec<(usize, Call)>| {
        for &k in &kfunc_idx {
            let Some(kf) = surface.kfuncs.get(k) else { continue };
            match by_job.get(&(l, 1, k as u32)) {
                Some(d) if !reuse::must_reprobe(&kf.name, d, sleepable(l), sleepable(i)) || plain_refusal(&kf.name, i, d) => {
                    copied.push(((i, 1, k as u32), d.clone()))
                }
                _ => jobs.push((i, Call::Kfunc(k))),
            }
        }
    };
    let mut follow_jobs: Vec<(usize, Call)> = Vec::new();
    let mut copied: Vec<((usize, u8, u32), Decision)> = Vec::new();
    // Followers of a program-type leader that itself follows its hook
    // group's leader: asked once that one is decided.
    let mut later: Vec<usize> = Vec::new();
    for &i in &probed {
        if let Some(&(l, exc, lexc)) = hlead.get(i).filter(|&&(l, _, _)| l != i) {
            for h in &probed_helpers {
                match by_job.get(&(l, 0, h.id)) {
                    Some(d) if !reuse::helper_must_reprobe(&h.name, exc, lexc, d) => {
                        copied.push(((i, 0, h.id), d.clone()));
                        copied_helpers.push((i, l, h.id));
                    }
                    _ => follow_jobs.push((i, helper_call(i, h.id))),
                }
            }
        }
        if let Some(h) = hook_lead.get(i).copied().flatten() {
            for &k in &kfunc_idx {
                let Some(kf) = surface.kfuncs.get(k) else { continue };
                let same_set = reuse::same_kfunc_hook(prog_type_of(h), prog_type_of(i));
                match by_job.get(&(h, 1, k as u32)) {
                    Some(d)
                        if reuse::hook_copies(&kf.name, d)
                            || plain_refusal(&kf.name, i, d)
                            || (same_set && reuse::hook_copies_argument_refusal(&kf.name, d, first_free.get(k).copied().unwrap_or(false))) =>
                    {
                        copied.push(((i, 1, k as u32), d.clone()))
                    }
                    _ => follow_jobs.push((i, Call::Kfunc(k))),
                }
            }
            continue;
        }
        let Some(&l) = lead.get(i).filter(|&&l| l != i) else { continue };
        if hook_lead.get(l).copied().flatten().is_some() {
            later.push(i);
            continue;
        }
        from_type_leader(&by_job, i, l, &mut copied, &mut follow_jobs);
    }
    loads += round(&mut by_job, &follow_jobs, &mut gpl_restricted);
    by_job.extend(copied);
    // The followers of hook-group followers, from their program-type leader.
    let mut later_jobs: Vec<(usize, Call)> = Vec::new();
    let mut later_copied: Vec<((usize, u8, u32), Decision)> = Vec::new();
    for &i in &later {
        let Some(&l) = lead.get(i) else { continue };
        from_type_leader(&by_job, i, l, &mut later_copied, &mut later_jobs);
    }
    let mut later_results = exec(&later_jobs, &prepared);
    loads += later_jobs.iter().zip(&later_results).filter(|(_, r)| r.errno != -1).count();
    decide(&mut by_job, &later_jobs, &mut later_results);
    by_job.extend(later_copied);

    // Phase 3: which helpers the kernel declares `gpl_only`, per variant
    // (the kernel's `get_func_proto` may return another proto per program
    // type): every helper a variant allows, once more under a non-GPL
    // license (verifier.c `check_helper_call`: "cannot call GPL-restricted
    // function from non-GPL compatible program", checked right after the
    // helper is found and before its arguments).
    // Variants asked under a non-GPL license first know it already.
    let mut gpl_only: HashMap<usize, Vec<u32>> = HashMap::new();
    for &(i, c) in &gpl_restricted {
        if let (Call::Helper(id), true) = (c, i < outcomes.len()) {
            if by_job.get(&(i, 0, id)).and_then(Decision::available) == Some(true) {
                gpl_only.entry(i).or_default().push(id);
            }
        }
    }
    for &(i, l, id) in &copied_helpers {
        if gpl_only.get(&l).is_some_and(|g| g.contains(&id)) {
            gpl_only.entry(i).or_default().push(id);
        }
    }
    let mut gpl_jobs: Vec<(usize, Call)> = Vec::new();
    for i in (0..outcomes.len()).filter(|i| !license_neutral.contains(i)) {
        for h in &helpers {
            if by_job.get(&(i, 0, h.id)).and_then(Decision::available) == Some(true) {
                gpl_jobs.push((i, Call::HelperNonGpl(h.id)));
            }
        }
    }
    let gpl_results = exec(&gpl_jobs, &prepared);
    loads += gpl_jobs.iter().zip(&gpl_results).filter(|(_, r)| r.errno != -1).count();
    for (&(i, c), r) in gpl_jobs.iter().zip(&gpl_results) {
        if let (Call::HelperNonGpl(id), true) = (c, r.log.contains(GPL_REFUSAL)) {
            gpl_only.entry(i).or_default().push(id);
        }
    }
    let mut summary = Summary { variants: vs.len(), threads, loads, ..Summary::default() };
    let mut out = Vec::new();
    for (i, (v, load)) in vs.into_iter().zip(outcomes).enumerate() {
        match &load {
            LoadOutcome::Loadable => summary.loadable += 1,
            LoadOutcome::Unsupported { .. } => summary.unsupported += 1,
            LoadOutcome::Undecided { .. } => summary.undecided_variants += 1,
        }
        let mut hd = Vec::new();
        let mut kd = Vec::new();
        if load == LoadOutcome::Loadable {
            for h in &helpers {
                let decision = by_job.remove(&(i, 0, h.id)).unwrap_or_else(|| Decision::Undecided {
                    reason: "not probed: loading it has side effects (kernel log notice, trace buffers); `probe --full` probes it".into(),
                });
                hd.push(HelperDecision { id: h.id, name: h.name.clone(), decision });
            }
            for &k in &kfunc_idx {
                let Some(kf) = surface.kfuncs.get(k) else { continue };
                let decision = by_job.remove(&(i, 1, k as u32)).unwrap_or(Decision::Undecided { reason: "not probed".into() });
                kd.push(KfuncDecision { name: kf.name.clone(), module: kf.module.clone(), btf_id: kf.btf_id.get(), decision });
            }
        }
        for d in hd.iter().map(|h| &h.decision).chain(kd.iter().map(|k| &k.decision)) {
            match d {
                Decision::VerifierAccepted => summary.verifier_accepted += 1,
                Decision::VerifierRejectedNotAllowed { .. } => summary.verifier_rejected_not_allowed += 1,
                Decision::RejectedOther { .. } => summary.rejected_other += 1,
                Decision::Undecided { .. } => summary.undecided += 1,
            }
        }
        summary.helpers += hd.len();
        summary.kfuncs += kd.len();
        // Per member: only the decisions whose availability differs.
        let mut members = Vec::new();
        for (n, ((_, name, index), load)) in member_of.iter().zip(&member_outcomes).enumerate().filter(|(_, ((vi, _, _), _))| *vi == i) {
            let mi = first_member + n;
            let mut mh = Vec::new();
            let mut mk = Vec::new();
            if *load == LoadOutcome::Loadable {
                for h in &hd {
                    if let Some(d) = by_job.remove(&(mi, 0, h.id)) {
                        if d.available() != h.decision.available() {
                            mh.push(HelperDecision { id: h.id, name: h.name.clone(), decision: d });
                        }
                    }
                }
                for (&k, kv) in kfunc_idx.iter().zip(&kd) {
                    if let Some(d) = by_job.remove(&(mi, 1, k as u32)) {
                        if d.available() != kv.decision.available() {
                            mk.push(KfuncDecision { name: kv.name.clone(), module: kv.module.clone(), btf_id: kv.btf_id, decision: d });
                        }
                    }
                }
            }
            members.push(MemberResult { member: name.clone(), index: *index, load: load.clone(), helpers: mh, kfuncs: mk });
        }
        let mut gpl_only_helpers = gpl_only.remove(&i).unwrap_or_default();
        gpl_only_helpers.sort_unstable();
        out.push(VariantResult {
            members,
            gpl_only_helpers,
            contexts: Vec::new(),
            allowed_helpers: hd.iter().filter(|h| h.decision.available() == Some(true)).map(|h| h.id).collect(),
            allowed_kfuncs: kd.iter().filter(|k| k.decision.available() == Some(true)).map(|k| k.name.clone()).collect(),
            variant: v,
            load,
            helpers: hd,
            kfuncs: kd,
        });
    }
    // Contexts (src/probe/contexts.rs): iterator targets, an arena map.
    let env = contexts::Env {
        kernel,
        kfuncs: &surface.kfuncs,
        module_fd: &module_fd,
        kern_version,
        threads,
        helpers: opts.helpers,
        kfunc_probes: opts.kfuncs,
        share,
        stubs: &stubs,
        frames: prepared.iter().take(out.len()).map(|p| (p.prologue.clone(), p.ret)).collect(),
    };
    summary.loads += contexts::add(&env, &mut out);
    if env.helpers || env.kfunc_probes {
        summary.loads += callbacks::add(&env, &mut out);
        summary.loads += callbacks::sleepable_members(&env, &mut out);
    }
    summary.duration_ms = start.elapsed().as_millis() as u64;
    Ok(Probe {
        schema: SCHEMA.into(),
        tool: format!("bpfabi {}", env!("CARGO_PKG_VERSION")),
        kernel: ProbeKernel {
            release,
            machine: std::env::consts::ARCH.to_string(),
            btf: fingerprint(),
            modules: kernel.modules.iter().map(|m| m.name.clone()).collect(),
        },
        options: opts.clone(),
        summary,
        variants: out,
        helper_gpl_measured: opts.helpers,
        contexts_measured: opts.helpers || opts.kfuncs,
        callbacks_measured: opts.helpers || opts.kfuncs,
    })
}

/// The verdicts of [`probe_on`], keyed `(program, 0, helper id)` or
/// `(program, 1, kfunc index)`: a dense table, not a hash map (26,000
/// verdicts on 6.18 are inserted, looked up and taken out again).
struct Verdicts {
    helper_slots: usize,
    stride: usize,
    slots: Vec<Option<Decision>>,
}

impl Verdicts {
    fn new(programs: usize, helper_slots: usize, kfuncs: usize) -> Verdicts {
        let stride = helper_slots + kfuncs;
        Verdicts { helper_slots, stride, slots: std::iter::repeat_with(|| None).take(programs * stride).collect() }
    }

    fn slot(&self, &(i, kind, n): &(usize, u8, u32)) -> Option<usize> {
        let (base, limit) = if kind == 0 { (0, self.helper_slots) } else { (self.helper_slots, self.stride - self.helper_slots) };
        let n = n as usize;
        (n < limit).then(|| i * self.stride + base + n)
    }

    fn get(&self, key: &(usize, u8, u32)) -> Option<&Decision> {
        self.slot(key).and_then(|s| self.slots.get(s)).and_then(Option::as_ref)
    }

    fn insert(&mut self, key: (usize, u8, u32), d: Decision) {
        if let Some(slot) = self.slot(&key).and_then(|s| self.slots.get_mut(s)) {
            *slot = Some(d);
        }
    }

    fn remove(&mut self, key: &(usize, u8, u32)) -> Option<Decision> {
        self.slot(key).and_then(|s| self.slots.get_mut(s)).and_then(Option::take)
    }

    fn extend(&mut self, items: impl IntoIterator<Item = ((usize, u8, u32), Decision)>) {
        for (k, d) in items {
            self.insert(k, d);
        }
    }
}

/// Run `jobs` on `threads` workers; results in job order. A kfunc whose
/// module BTF could not be opened gets `errno = -1` and the reason as log.
fn execute(
    jobs: &[(usize, Call)],
    prepared: &[Prepared],
    kfuncs: &[crate::surface::Kfunc],
    module_fd: &HashMap<&str, RawFd>,
    kern_version: u32,
    threads: usize,
) -> Vec<Loaded> {
    let load = |call: Call, p: &Prepared, log: &mut [u8]| -> sys::LoadResult {
        let mut fd_array: Vec<RawFd> = Vec::new();
        let (body, off_problem) = match call {
            Call::Baseline(ret) => (vec![sys::Insn::mov_r0(ret), sys::Insn::exit()], None),
            Call::BaselineNonGpl => (vec![sys::Insn::mov_r0(p.ret), sys::Insn::exit()], None),
            Call::Helper(id) | Call::HelperNonGpl(id) => (vec![sys::Insn::call(0, id as i32, 0), sys::Insn::mov_r0(p.ret), sys::Insn::exit()], None),
            Call::Kfunc(k) => {
                let kf = kfuncs.get(k);
                let btf_id = kf.map(|k| k.btf_id.get()).unwrap_or(0) as i32;
                let (off, problem) = match kf.and_then(|k| k.module.as_deref()) {
                    None => (0, None),
                    Some(m) => match module_fd.get(m) {
                        Some(&fd) => {
                            // fd_array[0] is never read: offset 0 means vmlinux.
                            fd_array = vec![-1, fd];
                            (1, None)
                        }
                        None => (0, Some(format!("module {m}: its BTF object could not be opened (BPF_BTF_GET_FD_BY_ID)"))),
                    },
                };
                (vec![sys::Insn::call(sys::BPF_PSEUDO_KFUNC_CALL, btf_id, off), sys::Insn::mov_r0(p.ret), sys::Insn::exit()], problem)
            }
        };
        if let Some(reason) = off_problem {
            return sys::LoadResult { loaded: false, errno: -1, log: reason };
        }
        let insns: Vec<sys::Insn> = if p.prologue.is_empty() { body } else { p.prologue.iter().copied().chain(body).collect() };
        let spec = sys::LoadSpec {
            prog_type: p.prog_type,
            expected_attach_type: p.expected_attach_type,
            prog_flags: p.flags,
            attach_btf_id: p.attach_btf_id,
            attach_btf_obj_fd: p.attach_btf_obj_fd,
            kern_version,
            gpl: !matches!(call, Call::HelperNonGpl(_) | Call::BaselineNonGpl),
            insns: &insns,
            fd_array: &fd_array,
            ..sys::LoadSpec::default()
        };
        sys::prog_load(&spec, log)
    };
    let failed = || Loaded { r: sys::LoadResult { loaded: false, errno: -1, log: "worker thread failed".into() }, d: None };
    parallel_loads(
        jobs.len(),
        threads,
        |n, log| {
            let Some((&(_, call), p)) = jobs.get(n).and_then(|j| prepared.get(j.0).map(|p| (j, p))) else {
                return Loaded { r: sys::LoadResult { loaded: false, errno: -1, log: "no such job".into() }, d: None };
            };
            let r = load(call, p, log);
            // Decided on the worker, in parallel: the verifier's words.
            let d = match call {
                _ if r.errno == -1 && matches!(call, Call::Helper(_) | Call::HelperNonGpl(_) | Call::Kfunc(_)) => {
                    Some(Decision::Undecided { reason: r.log.clone() })
                }
                Call::Helper(_) => Some(classify::helper(&r)),
                // Refused as `gpl_only`: asked again under GPL (`settle_nongpl`).
                Call::HelperNonGpl(_) if r.log.contains(GPL_REFUSAL) => None,
                Call::HelperNonGpl(_) => Some(classify::helper(&r)),
                Call::Kfunc(_) => Some(classify::kfunc(&r)),
                Call::Baseline(_) | Call::BaselineNonGpl => None,
            };
            Loaded { r, d }
        },
        failed,
    )
}

/// One load of [`execute`]: its result and, for a helper or kfunc call,
/// its decision (made on the worker thread).
struct Loaded {
    r: sys::LoadResult,
    d: Option<Decision>,
}

impl std::ops::Deref for Loaded {
    type Target = sys::LoadResult;
    fn deref(&self) -> &sys::LoadResult {
        &self.r
    }
}

/// Make loads `0..n` with `load(n, log buffer)` on `threads` workers (one
/// verifier log buffer each); results in order. The probe's one way of
/// running loads ([`execute`] for variants and members, [`contexts`]).
pub(super) fn parallel_loads<T, F>(n: usize, threads: usize, load: F, failed: impl Fn() -> T) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &mut [u8]) -> T + Sync,
{
    let next = AtomicUsize::new(0);
    let work = || {
        let mut log = vec![0u8; 16 * 1024];
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break done;
            }
            done.push((i, load(i, &mut log)));
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1)).map(|_| s.spawn(work)).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    all.sort_by_key(|(i, _)| *i);
    let mut out: Vec<T> = Vec::with_capacity(n);
    let mut it = all.into_iter().peekable();
    for i in 0..n {
        match it.next_if(|(m, _)| *m == i) {
            Some((_, r)) => out.push(r),
            None => out.push(failed()),
        }
    }
    out
}
