//! Judgement, in one place: a [`Policy`] turns the facts `diff` and `check`
//! observe into severities and verdicts. [`DefaultPolicy`] is bpfabi's
//! built-in judgement (rationale: docs/diff.md, docs/check.md); a stability
//! manifest (docs/policy.md) is another: [`ManifestPolicy`]. Detectors never
//! decide how bad something is.
//!
//! Submodules: [`manifest`] (strict TOML parsing, layering), [`merge`] (recorded facts merged with the kernels'), [`history`]
//! (kernels in release order, facts, `policy check`), [`findings`] (stable
//! codes and printers), [`edit`] (`policy init`, `--fix`), [`uses`]
//! (`check --policy`: deprecated kfuncs at their call sites), [`compat`]
//! (C compatibility header), [`docs`] (kfunc reference site).

pub mod codes;
pub mod compat;
pub mod docs;
pub mod edit;
pub mod findings;
pub mod history;
pub mod manifest;
pub mod merge;
pub mod uses;

pub use history::ManifestPolicy;
pub use manifest::Manifest;

pub use codes::{Circumstance, FindingCode, LintCode, Observation};

use crate::vocab::{Exposure, Fact, Level, ReasonKind, Severity, SubjectKind, Verdict};

/// What a fact is about: the kfunc, helper or type, and for types reached
/// from kfunc prototypes, how callers see them.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Subject<'a> {
    /// kfunc, helper or type name.
    pub name: &'a str,
    /// Module of a kfunc.
    pub module: Option<&'a str>,
    /// For a type compared because kfunc prototypes reach it: how a caller
    /// sees it. `None` for types asked for by name.
    pub exposure: Option<Exposure>,
}

impl<'a> Subject<'a> {
    /// A subject by name.
    pub fn named(name: &'a str) -> Self {
        Subject { name, ..Subject::default() }
    }
}

/// Grades facts. Implementations must be cheap and deterministic: they are
/// called once per observed fact.
pub trait Policy: Send + Sync {
    /// How much a kernel-to-kernel change matters to existing programs.
    fn grade_change(&self, subject: &Subject, fact: &Fact) -> Severity;
    /// Why, in a few words (appended to the fact's description), if there
    /// is more to say than the description.
    fn explain_change(&self, subject: &Subject, fact: &Fact) -> Option<String> {
        let _ = (subject, fact);
        None
    }
    /// The verdict one requirement of a program earns on a kernel.
    fn grade_requirement(&self, requirement: &Requirement) -> Verdict;
    /// How grave a finding of `policy check`, `check --policy` or `lint`
    /// is. For policy findings `Error` is deny, `Warning` warn and `Info`
    /// allow (not reported); lint reports every level. The default is
    /// [`DefaultPolicy`]'s table.
    fn grade_finding(&self, observation: &Observation) -> Level {
        DefaultPolicy.grade_finding(observation)
    }
}

/// A requirement fact as check observed it: what kind, and the properties
/// that can change its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requirement {
    /// What was checked and found.
    pub kind: ReasonKind,
    /// The extern is `__weak` (libbpf tolerates its absence).
    pub weak: bool,
    /// The evidence is indirect: a probe refusal measured on another attach
    /// target than the program's (the refusal may be the target's).
    pub indirect: bool,
}

impl Requirement {
    /// A requirement of `kind`.
    pub fn new(kind: ReasonKind, weak: bool) -> Self {
        Requirement { kind, weak, indirect: false }
    }
}

/// Name prefixes of the kfuncs the kernel registers only to test itself:
/// `bpf_kfunc_call_test*` (net/bpf/test_run.c, `bpf_prog_test_run`) and
/// `bpf_testmod_*` (tools/testing/selftests/bpf/bpf_testmod). The default
/// policy grades their changes info; `policy init` ignores them.
pub const TEST_KFUNC_PREFIXES: &[&str] = &["bpf_kfunc_call_", "bpf_testmod_"];

/// Is `name` one of the kernel's self-test kfuncs ([`TEST_KFUNC_PREFIXES`])?
pub fn is_test_kfunc(name: &str) -> bool {
    TEST_KFUNC_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// bpfabi's built-in judgement.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

/// What gaining (`true`) or losing a KF_* flag means for an existing program:
/// the default policy's table, one arm per [`KfFlag`] (the kernel's flags
/// table, `crate::kflags::FLAGS`). `None`: no known meaning (a bit no
/// kernel named, `KF_IMPLICIT_ARGS`).
pub fn flag_rule(flag: crate::kflags::Flag, gained: bool) -> Option<(Severity, &'static str)> {
    use crate::kflags::KfFlag::*;
    use Severity::*;
    Some(match (flag.known()?, gained) {
        (TrustedArgs, true) => (Breaking, "now rejects programs that pass untrusted (e.g. walked) pointers"),
        (TrustedArgs, false) => (Compatible, "accepts untrusted pointers too"),
        (RetNull, true) => (Breaking, "may now return NULL: programs that do not check it are rejected"),
        (RetNull, false) => (Compatible, "no longer returns NULL; existing NULL checks stay valid"),
        (Acquire, true) => (Breaking, "now returns a reference programs must release"),
        (Acquire, false) => (Breaking, "no longer returns a reference: programs releasing it are rejected"),
        (Release, _) => (Breaking, "reference ownership of the argument changed"),
        (Sleepable, true) => (Breaking, "may now sleep: only sleepable programs may call it"),
        (Sleepable, false) => (Compatible, "no longer sleeps: callable from non-sleepable programs"),
        (Destructive, true) => (Breaking, "now destructive: needs CAP_SYS_BOOT"),
        (Destructive, false) => (Compatible, "no longer destructive"),
        (Rcu, true) => (Compatible, "now also accepts RCU-protected pointers"),
        (Rcu, false) => (Breaking, "no longer accepts RCU-protected pointers"),
        (RcuProtected, true) => (Breaking, "must now be called under bpf_rcu_read_lock()"),
        (RcuProtected, false) => (Compatible, "no longer needs an RCU read-side section"),
        (Fastcall, _) => (Info, "calling convention hint for the verifier/JIT only"),
        (KptrGet, _) => (Breaking, "kptr reference semantics changed"),
        (IterNew | IterNext | IterDestroy, _) => (Breaking, "iterator protocol role changed"),
        (ArenaRet | ArenaArg1 | ArenaArg2, _) => (Breaking, "arena pointer semantics of an argument or return changed"),
        (ImplicitArgs, _) => return None,
    })
}

impl Policy for DefaultPolicy {
    fn grade_change(&self, subject: &Subject, fact: &Fact) -> Severity {
        use Severity::*;
        // A type kfunc callers only ever hold a pointer to (and do not build
        // themselves): its layout matters to CO-RE reads, not to the calls.
        if subject.exposure == Some(Exposure::BehindPointer) && fact.kind().subject() == SubjectKind::Type {
            return Info;
        }
        // The kernel's own test kfuncs: no program outside the selftests
        // calls them (the default manifest ignores them too).
        if fact.kind().subject() == SubjectKind::Kfunc && is_test_kfunc(subject.name) {
            return Info;
        }
        match fact {
            Fact::KfuncRemoved { .. } | Fact::KfuncRenamed { .. } => Breaking,
            Fact::KfuncAdded { .. } => Compatible,
            Fact::KfuncMoved { .. } => Info,
            Fact::ReturnRetyped { .. } | Fact::ParamRetyped { .. } | Fact::ParamRemoved { .. } | Fact::ParamAdded { .. } => Breaking,
            Fact::ParamRenamed { annotation_from, annotation_to, .. } if annotation_from != annotation_to => Breaking,
            Fact::ParamRenamed { .. } => Info,
            Fact::FlagLost { retired_default: true, .. } => Info,
            Fact::FlagGained { flag } => flag_rule(*flag, true).map(|r| r.0).unwrap_or(Info),
            Fact::FlagLost { flag, .. } => flag_rule(*flag, false).map(|r| r.0).unwrap_or(Info),
            Fact::HelperRemoved { .. } => Breaking,
            Fact::HelperRenamed { .. } => Info,
            Fact::HelperAdded { .. } => Compatible,
            Fact::TypeAdded { .. } | Fact::TypeDuplicates { .. } => Info,
            Fact::TypeRemoved { .. } | Fact::TypeKindChanged => Breaking,
            Fact::MemberRetyped { same_repr: true, .. } => Compatible,
            Fact::IntEncodingChanged { size_from, size_to, .. } if size_from != size_to => Breaking,
            Fact::IntEncodingChanged { .. } => Compatible,
            Fact::MemberRemoved { .. } | Fact::MemberRetyped { .. } => Breaking,
            Fact::MemberMoved { .. } | Fact::MemberAdded { .. } => Compatible,
            Fact::SizeChanged { is_enum: true, .. } => Breaking,
            Fact::SizeChanged { from, to, .. } => {
                if to < from {
                    Breaking
                } else {
                    Info
                }
            }
            Fact::EnumValueRemoved { .. } => Breaking,
            Fact::EnumValueChanged { .. } | Fact::EnumValueAdded { .. } => Compatible,
            Fact::TypedefChanged { .. } | Fact::DefinitionChanged { .. } => Breaking,
        }
    }

    fn explain_change(&self, subject: &Subject, fact: &Fact) -> Option<String> {
        if fact.kind().subject() == SubjectKind::Kfunc && is_test_kfunc(subject.name) {
            return Some("a kernel self-test kfunc: no program outside the selftests calls it".into());
        }
        match fact {
            Fact::KfuncRenamed { .. } => Some("programs calling the old name fail to load".into()),
            Fact::MemberRetyped { same_repr: true, .. } => Some("loads and CO-RE reads of it are unchanged".into()),
            Fact::IntEncodingChanged { size_from, size_to, .. } if size_from == size_to => {
                Some("same size: layouts are unchanged, values may be read with another signedness".into())
            }
            Fact::FlagLost { retired_default: true, .. } => Some("flag retired: trusted arguments are the default from 6.19".into()),
            Fact::FlagGained { flag } => Some(flag_rule(*flag, true).map(|r| r.1).unwrap_or("flag with no known meaning in this kernel").into()),
            Fact::FlagLost { flag, .. } => Some(flag_rule(*flag, false).map(|r| r.1).unwrap_or("flag with no known meaning in this kernel").into()),
            _ => None,
        }
    }

    fn grade_requirement(&self, r: &Requirement) -> Verdict {
        use ReasonKind::*;
        match r.kind {
            MapTypeOk | StructOpsOk | AttachTargetOk | HelperOk | KfuncOk | KsymOk | KsymTypeless | CoreOk | CoreCheckFalse | CoreZero | BranchPruned => {
                Verdict::Loads
            }
            // Probe facts: a refusal fails the program unless measured on
            // another attach target; an availability never measured (no
            // probe, an undecided answer, no variant) is unknown: never a
            // failure, never "loads".
            HelperAllowed | KfuncAllowed => Verdict::Loads,
            ProgTypeUnverified | ProbeUndecided | ProbeNoVariant => Verdict::Unknown,
            // A kfunc the probe never asked (its module was not loaded
            // then): unknown; a weak extern warns: libbpf resolves it to 0
            // where the module is not loaded (the program's own
            // `bpf_ksym_exists()` fallback runs), but where the module is
            // loaded the call's availability was not measured, so it never
            // reads `loads` (issue #22; docs/check.md).
            KfuncNotProbed if r.weak => Verdict::Warns,
            KfuncNotProbed => Verdict::Unknown,
            HelperNotAllowed | KfuncNotAllowed if r.indirect => Verdict::Warns,
            AttachTargetNotInBtf | AttachTargetSetAtRuntime | CoreUnresolvedGuarded | DependsOnRodata | NotCheckedReducedKernel | MapSizedByUserSpace => {
                Verdict::Warns
            }
            // libbpf: a missing weak extern resolves to 0 (kfunc calls are
            // poisoned, `bpf_ksym_exists()` is false), and so does a weak
            // kfunc whose prototype is incompatible
            // (`bpf_object__resolve_ksym_func_btf_id`: "if (ext->is_weak)
            // return 0"); a strong one fails the load.
            KfuncMissing | KsymMissing | KfuncProtoMismatch if r.weak => Verdict::Warns,
            // kfunc compat families (src/check/kfunc_family.rs): no variant
            // resolves but none is called where reachable: loads without
            // the feature, worth a warning.
            KfuncFamilyOk => Verdict::Loads,
            KfuncFamilyUnresolved if r.weak => Verdict::Warns,
            _ => Verdict::Fails,
        }
    }

    /// The default grade of every finding code: the one place a new
    /// finding's grade goes (a manifest's `[grades]` may change it).
    fn grade_finding(&self, o: &Observation) -> Level {
        use codes::Code as P;
        use Level::*;
        match (o.code, o.circumstance) {
            // Graded by the tiers' actions (ManifestPolicy::judge); listed
            // for completeness, never consulted.
            (FindingCode::Policy(P::Change | P::RemovedWithoutDeprecation | P::RemovedBeforeWindow), _) => Warning,
            // Lifecycle findings of `policy check`.
            (FindingCode::Policy(P::ReplacementProblem), Circumstance::ReplacementMissing) => Error,
            (FindingCode::Policy(P::NameReused | P::FlagBitReused), _) => Error,
            (
                FindingCode::Policy(
                    P::Unlisted
                    | P::StaleEntry
                    | P::StaleRule
                    | P::PresentAfterRemoval
                    | P::DeprecationIncomplete
                    | P::ReplacementProblem
                    | P::SilentChange
                    | P::FactsDisagree
                    | P::FactsToRecord
                    | P::WaiverExpired
                    | P::WaiverUnmatched,
                ),
                _,
            ) => Warning,
            // Uses in programs (`check --policy`): a deprecated kfunc is a
            // warning (`--deny-deprecated` raises unguarded ones); a strong
            // use on a kernel past the removal fails the load.
            (FindingCode::Policy(P::DeprecatedUse), _) => Warning,
            (FindingCode::Policy(P::UseOfRemoved), _) => Error,
            // `lint`: what BPF users will hit is an error, degraded
            // tooling a warning, what is worth knowing info.
            (FindingCode::Lint(LintCode::KfuncDeclTagsMissing), Circumstance::DeclTagsNotAsked) => Info,
            (FindingCode::Lint(LintCode::KfuncDeclTagsMissing | LintCode::KfuncImplMismatch | LintCode::BtfIdsUnresolved), _) => Warning,
            (FindingCode::Lint(LintCode::KfuncImplicitArgs | LintCode::TypeDuplicate | LintCode::TypeConflict), _) => Info,
            (FindingCode::Lint(LintCode::ModuleBaseMismatch | LintCode::BtfIdsNotFunc | LintCode::ModuleBtfMissing), _) => Error,
        }
    }
}

/// A manifest outside a history (`lint --policy`, `check --policy`): the
/// default policy with the manifest's `[grades]` over its finding grades.
/// (Over a history, `ManifestPolicy` grades kfunc changes by tier too.)
impl Policy for Manifest {
    fn grade_change(&self, subject: &Subject, fact: &Fact) -> Severity {
        DefaultPolicy.grade_change(subject, fact)
    }
    fn explain_change(&self, subject: &Subject, fact: &Fact) -> Option<String> {
        DefaultPolicy.explain_change(subject, fact)
    }
    fn grade_requirement(&self, requirement: &Requirement) -> Verdict {
        DefaultPolicy.grade_requirement(requirement)
    }
    fn grade_finding(&self, o: &Observation) -> Level {
        self.finding_action(o).level()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kflags::{Flag, KfFlag};

    #[test]
    fn default_table() {
        let p = DefaultPolicy;
        assert_eq!(p.grade_change(&Subject::default(), &Fact::FlagGained { flag: KfFlag::RetNull.into() }), Severity::Breaking);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::FlagLost { flag: KfFlag::RetNull.into(), retired_default: false }), Severity::Compatible);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::FlagLost { flag: KfFlag::TrustedArgs.into(), retired_default: true }), Severity::Info);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::FlagLost { flag: KfFlag::TrustedArgs.into(), retired_default: false }), Severity::Compatible);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::FlagGained { flag: Flag::Bit(30) }), Severity::Info);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::SizeChanged { from: 8, to: 16, is_enum: false }), Severity::Info);
        assert_eq!(p.grade_change(&Subject::default(), &Fact::SizeChanged { from: 16, to: 8, is_enum: false }), Severity::Breaking);
        let renamed = |a: &str, b: &str| Fact::ParamRenamed { index: 1, from: "x".into(), to: "y".into(), annotation_from: a.into(), annotation_to: b.into() };
        assert_eq!(p.grade_change(&Subject::default(), &renamed("", "")), Severity::Info);
        assert_eq!(p.grade_change(&Subject::default(), &renamed("", "__sz")), Severity::Breaking);
        assert_eq!(p.grade_requirement(&Requirement::new(ReasonKind::KfuncMissing, true)), Verdict::Warns);
        assert_eq!(p.grade_requirement(&Requirement::new(ReasonKind::KfuncMissing, false)), Verdict::Fails);
        assert_eq!(p.grade_requirement(&Requirement::new(ReasonKind::CoreCheckFalse, false)), Verdict::Loads);
        assert_eq!(p.grade_requirement(&Requirement::new(ReasonKind::EndiannessMismatch, false)), Verdict::Fails);
        assert_eq!(p.grade_requirement(&Requirement::new(ReasonKind::CoreRelocationRefused, false)), Verdict::Fails);
        // Types behind pointers: informational for kfunc callers.
        let behind = Subject { exposure: Some(Exposure::BehindPointer), ..Subject::named("struct sk_buff") };
        let gone = Fact::MemberRemoved { member: "x".into(), ty: "int".into() };
        assert_eq!(p.grade_change(&behind, &gone), Severity::Info);
        // The kernel's self-test kfuncs: info, whatever happens to them.
        let removed = Fact::KfuncRemoved { proto: "void f(void)".parse().unwrap() };
        assert_eq!(p.grade_change(&Subject::named("bpf_kfunc_call_test_release"), &removed), Severity::Info);
        assert_eq!(p.grade_change(&Subject::named("bpf_testmod_ctx_create"), &Fact::FlagGained { flag: KfFlag::RetNull.into() }), Severity::Info);
        assert_eq!(p.grade_change(&Subject::named("bpf_task_acquire"), &removed), Severity::Breaking);
        let filled = Subject { exposure: Some(Exposure::Filled), ..Subject::named("struct bpf_ct_opts") };
        assert_eq!(p.grade_change(&filled, &gone), Severity::Breaking);
        // Findings of policy check, check --policy and lint.
        let f = |c: FindingCode, x: Circumstance| p.grade_finding(&Observation { code: c, circumstance: x });
        use codes::Code as P;
        assert_eq!(f(FindingCode::Policy(P::NameReused), Circumstance::Plain), Level::Error);
        assert_eq!(f(FindingCode::Policy(P::FactsDisagree), Circumstance::Plain), Level::Warning);
        assert_eq!(f(FindingCode::Policy(P::ReplacementProblem), Circumstance::ReplacementMissing), Level::Error);
        assert_eq!(f(FindingCode::Policy(P::DeprecatedUse), Circumstance::Plain), Level::Warning);
        assert_eq!(f(FindingCode::Policy(P::UseOfRemoved), Circumstance::Plain), Level::Error);
        assert_eq!(f(FindingCode::Lint(LintCode::KfuncDeclTagsMissing), Circumstance::DeclTagsNotAsked), Level::Info);
        assert_eq!(f(FindingCode::Lint(LintCode::KfuncDeclTagsMissing), Circumstance::Plain), Level::Warning);
        assert_eq!(f(FindingCode::Lint(LintCode::ModuleBtfMissing), Circumstance::Plain), Level::Error);
    }

    /// A stricter policy changes severities without touching the detectors.
    #[test]
    fn another_policy_changes_the_judgement() {
        struct Strict;
        impl Policy for Strict {
            fn grade_change(&self, _: &Subject, _: &Fact) -> Severity {
                Severity::Breaking
            }
            fn grade_requirement(&self, r: &Requirement) -> Verdict {
                DefaultPolicy.grade_requirement(r).max(Verdict::Warns)
            }
        }
        assert_eq!(Strict.grade_change(&Subject::default(), &Fact::HelperAdded { id: 1 }), Severity::Breaking);
        // Finding grades it does not override are the default policy's.
        let o = Observation::new(LintCode::TypeConflict, Circumstance::Plain);
        assert_eq!(Strict.grade_finding(&o), DefaultPolicy.grade_finding(&o));
        assert_eq!(Strict.grade_requirement(&Requirement::new(ReasonKind::HelperOk, false)), Verdict::Warns);
    }
}
