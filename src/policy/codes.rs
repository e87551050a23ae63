//! The stable codes of findings: policy findings (`P001` ...; the list is
//! in docs/policy.md) and lint findings (`type_conflict` ...; docs/lint.md),
//! and the [`Observation`] a detector makes of one before the `Policy`
//! grades it: the vocabulary the manifest's `[grades]` and waivers, the
//! detectors and the findings' printers share.

use serde::Serialize;

/// A finding code. The numbers are stable: never reused, never renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Code {
    Unlisted,
    StaleEntry,
    StaleRule,
    Change,
    RemovedWithoutDeprecation,
    RemovedBeforeWindow,
    PresentAfterRemoval,
    DeprecationIncomplete,
    ReplacementProblem,
    NameReused,
    SilentChange,
    FactsDisagree,
    FactsToRecord,
    WaiverExpired,
    WaiverUnmatched,
    FlagBitReused,
    DeprecatedUse,
    UseOfRemoved,
}

impl Code {
    /// Every code, in number order.
    pub const ALL: [Code; 18] = [
        Code::Unlisted,
        Code::StaleEntry,
        Code::StaleRule,
        Code::Change,
        Code::RemovedWithoutDeprecation,
        Code::RemovedBeforeWindow,
        Code::PresentAfterRemoval,
        Code::DeprecationIncomplete,
        Code::ReplacementProblem,
        Code::NameReused,
        Code::SilentChange,
        Code::FactsDisagree,
        Code::FactsToRecord,
        Code::WaiverExpired,
        Code::WaiverUnmatched,
        Code::FlagBitReused,
        Code::DeprecatedUse,
        Code::UseOfRemoved,
    ];
    /// `P001` ...
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unlisted => "P001",
            Code::StaleEntry => "P002",
            Code::StaleRule => "P003",
            Code::Change => "P010",
            Code::RemovedWithoutDeprecation => "P011",
            Code::RemovedBeforeWindow => "P012",
            Code::PresentAfterRemoval => "P013",
            Code::DeprecationIncomplete => "P014",
            Code::ReplacementProblem => "P015",
            Code::NameReused => "P016",
            Code::SilentChange => "P017",
            Code::FactsDisagree => "P018",
            Code::FactsToRecord => "P019",
            Code::WaiverExpired => "P020",
            Code::WaiverUnmatched => "P021",
            Code::FlagBitReused => "P030",
            Code::DeprecatedUse => "P100",
            Code::UseOfRemoved => "P101",
        }
    }
    /// Short name (SARIF rule name).
    pub fn name(self) -> &'static str {
        match self {
            Code::Unlisted => "kfunc-not-in-manifest",
            Code::StaleEntry => "stale-entry",
            Code::StaleRule => "stale-rule",
            Code::Change => "change-graded-by-tier",
            Code::RemovedWithoutDeprecation => "removed-without-deprecation",
            Code::RemovedBeforeWindow => "removed-before-window-end",
            Code::PresentAfterRemoval => "present-after-announced-removal",
            Code::DeprecationIncomplete => "deprecated-without-replacement-or-reason",
            Code::ReplacementProblem => "replacement-missing-or-less-stable",
            Code::NameReused => "removed-name-back-with-another-prototype",
            Code::SilentChange => "fingerprint-changed-unrecorded",
            Code::FactsDisagree => "facts-disagree-with-kernels",
            Code::FactsToRecord => "facts-to-record",
            Code::WaiverExpired => "waiver-expired",
            Code::WaiverUnmatched => "waiver-unmatched",
            Code::FlagBitReused => "kf-bit-reused",
            Code::DeprecatedUse => "deprecated-kfunc-used",
            Code::UseOfRemoved => "kfunc-used-past-removal",
        }
    }
    /// Parse `P012`.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// JSON: the code (`"P011"`).
impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a finding is about; the string form is stable (JSON, docs/lint.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LintCode {
    /// `.BTF_ids` has kfunc sets but the BTF has no `bpf_kfunc` decl tags (pahole too old).
    KfuncDeclTagsMissing,
    /// A kfunc disagrees with its `_impl` twin.
    KfuncImplMismatch,
    /// A kfunc has arguments the verifier supplies.
    KfuncImplicitArgs,
    /// A named type defined more than once, identically.
    TypeDuplicate,
    /// A named type defined more than once, differently.
    TypeConflict,
    /// A module's split BTF does not fit the vmlinux it is read with.
    ModuleBaseMismatch,
    /// A `.BTF_ids` entry names a type that is not a FUNC.
    BtfIdsNotFunc,
    /// A `.BTF_ids` entry is 0 (unresolved by resolve_btfids).
    BtfIdsUnresolved,
    /// A module registers kfuncs but has no BTF.
    ModuleBtfMissing,
}

impl LintCode {
    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// Every code.
    pub const ALL: [LintCode; 9] = [
        LintCode::KfuncDeclTagsMissing,
        LintCode::KfuncImplMismatch,
        LintCode::KfuncImplicitArgs,
        LintCode::TypeDuplicate,
        LintCode::TypeConflict,
        LintCode::ModuleBaseMismatch,
        LintCode::BtfIdsNotFunc,
        LintCode::BtfIdsUnresolved,
        LintCode::ModuleBtfMissing,
    ];
}

/// Any finding code a `Policy` grades: a policy finding (`P013`) or a lint
/// finding (`type_conflict`). The manifest's `[grades]` table is keyed by
/// these spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingCode {
    /// `policy check` or `check --policy`.
    Policy(Code),
    /// `lint`.
    Lint(LintCode),
}

impl FindingCode {
    /// `P013` or `type_conflict`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::Policy(c) => c.as_str(),
            FindingCode::Lint(c) => c.as_str(),
        }
    }
    /// Parse either spelling.
    pub fn parse(s: &str) -> Option<FindingCode> {
        Code::parse(s).map(FindingCode::Policy).or_else(|| LintCode::ALL.into_iter().find(|c| c.as_str() == s).map(FindingCode::Lint))
    }
    /// Graded by a tier's per-change-kind actions (`[tier.NAME]`), not by
    /// the finding grades: P010, P011, P012.
    pub fn tier_graded(self) -> bool {
        matches!(self, FindingCode::Policy(Code::Change | Code::RemovedWithoutDeprecation | Code::RemovedBeforeWindow))
    }
}

impl From<Code> for FindingCode {
    fn from(c: Code) -> Self {
        FindingCode::Policy(c)
    }
}

impl From<LintCode> for FindingCode {
    fn from(c: LintCode) -> Self {
        FindingCode::Lint(c)
    }
}

/// A circumstance a detector observed that changes a finding's default
/// grade (the default table is `DefaultPolicy::grade_finding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Circumstance {
    /// Nothing beyond the code.
    #[default]
    Plain,
    /// P015: the replacement is not in the newest kernel at all (not only
    /// less stable).
    ReplacementMissing,
    /// `kfunc_decl_tags_missing` on a kernel before 6.9, whose build does
    /// not ask pahole for `bpf_kfunc` decl tags.
    DeclTagsNotAsked,
}

/// A finding as its detector observed it, before it is graded: the code
/// and the circumstance the grade may depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Observation {
    /// What was found.
    pub code: FindingCode,
    /// Under which circumstance.
    pub circumstance: Circumstance,
}

impl Observation {
    /// An observation of `code`.
    pub fn new(code: impl Into<FindingCode>, circumstance: Circumstance) -> Self {
        Observation { code: code.into(), circumstance }
    }
}
