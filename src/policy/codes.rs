//! The stable codes of policy findings (`P001` ...; the list is in
//! docs/policy.md): the vocabulary the manifest's waivers and the findings'
//! printers share.

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

