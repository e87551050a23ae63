//! The vocabulary every layer shares: what detectors observe (change
//! [`Fact`]s of `diff`, requirement [`Reason`]s of `check`), and the scales
//! a policy grades them on ([`Level`], [`Severity`], [`Verdict`]). It sits at
//! the bottom: detectors push facts, a `Policy` (module `policy`) grades
//! them, printers render them, and none of them owns the words.
//!
//! One ordering for every scale: greater is graver (`Info < Warning <
//! Error`, `Info < Compatible < Breaking`, `Loads < Warns < Fails`), so the
//! worst of several is their `max()`. JSON spellings come from serde only.

use crate::kflags::Flag;
use serde::Serialize;

/// The JSON spelling serde gives a unit variant of an enum (`#[serde(rename_all
/// = "snake_case")]`): the one source of the `as_str` spellings of the
/// vocabulary, so text and JSON cannot disagree. `""` for anything that is
/// not a unit variant (never the case for the enums that call it; their
/// tests check every variant).
pub fn serde_name<T: Serialize + ?Sized>(v: &T) -> &'static str {
    v.serialize(VariantName).unwrap_or("")
}

/// A serializer that only accepts a unit variant and returns its name.
struct VariantName;

/// Not a unit variant.
#[derive(Debug)]
struct NotAUnitVariant;

impl std::fmt::Display for NotAUnitVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a unit variant")
    }
}

impl std::error::Error for NotAUnitVariant {}

impl serde::ser::Error for NotAUnitVariant {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotAUnitVariant
    }
}

macro_rules! refuse {
    ($($f:ident($($t:ty),*)),* $(,)?) => {
        $(fn $f(self, $(_: $t),*) -> Result<&'static str, NotAUnitVariant> { Err(NotAUnitVariant) })*
    };
}

impl serde::Serializer for VariantName {
    type Ok = &'static str;
    type Error = NotAUnitVariant;
    type SerializeSeq = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeTuple = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleStruct = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleVariant = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeMap = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeStruct = serde::ser::Impossible<&'static str, NotAUnitVariant>;
    type SerializeStructVariant = serde::ser::Impossible<&'static str, NotAUnitVariant>;

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<&'static str, NotAUnitVariant> {
        Ok(variant)
    }
    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<&'static str, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<&'static str, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<&'static str, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, NotAUnitVariant> {
        Err(NotAUnitVariant)
    }
}

/// How grave a finding is, on the scale every output shares (SARIF
/// `level`, table colours, exit codes). Ordered: greater is graver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Worth knowing; fails nothing.
    Info,
    /// Degraded or doubtful; does not fail by default.
    Warning,
    /// Something BPF users will hit.
    Error,
}

impl Level {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// The SARIF 2.1.0 `result.level` (`note`, `warning`, `error`).
    pub fn sarif(self) -> &'static str {
        match self {
            Level::Info => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// How much a change matters to existing BPF programs. Decided by a
/// policy, not by the detectors. Ordered: greater is graver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing, no effect on programs.
    Info,
    /// Programs keep working; new ones may do more.
    Compatible,
    /// Programs that worked may now fail to load or misbehave.
    Breaking,
}

impl Severity {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// On the shared scale: breaking is an error, compatible a warning.
    pub fn level(self) -> Level {
        match self {
            Severity::Breaking => Level::Error,
            Severity::Compatible => Level::Warning,
            Severity::Info => Level::Info,
        }
    }
}

/// How a caller of the kfuncs that reach a type sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Exposure {
    /// Passed or returned by value (an enum argument, a struct by value, a
    /// typedef of a scalar): its layout is part of the call.
    ByValue,
    /// Built by the program and passed by pointer with its size (`opts,
    /// opts__sz`), or a by-value part of such a type.
    Filled,
    /// Only ever behind a pointer the kernel hands out: callers do not see
    /// its layout except through CO-RE reads.
    BehindPointer,
}

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SubjectKind {
    /// A kfunc.
    Kfunc,
    /// A helper.
    Helper,
    /// A named type.
    Type,
}

/// The kind of one reported change (JSON `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum ChangeKind {
    KfuncAdded,
    KfuncRemoved,
    KfuncRenamed,
    KfuncMoved,
    KfuncProtoChanged,
    KfuncFlagsChanged,
    HelperAdded,
    HelperRemoved,
    HelperRenamed,
    TypeAdded,
    TypeRemoved,
    TypeChanged,
    TypeKindChanged,
    TypeMemberAdded,
    TypeMemberRemoved,
    TypeMemberRetyped,
    TypeMemberMoved,
    TypeSizeChanged,
    EnumValueAdded,
    EnumValueRemoved,
    EnumValueChanged,
    TypedefChanged,
}

impl ChangeKind {
    /// The JSON spelling (`kfunc_removed`), from serde.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// Whether it concerns a kfunc, a helper or a type.
    pub fn subject(self) -> SubjectKind {
        use ChangeKind::*;
        match self {
            KfuncAdded | KfuncRemoved | KfuncRenamed | KfuncMoved | KfuncProtoChanged | KfuncFlagsChanged => SubjectKind::Kfunc,
            HelperAdded | HelperRemoved | HelperRenamed => SubjectKind::Helper,
            _ => SubjectKind::Type,
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compare with the JSON spelling (`kind == "kfunc_removed"`).
impl PartialEq<str> for ChangeKind {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for ChangeKind {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

/// One observed difference, with everything a policy needs to grade it.
/// A [`Change`] carries one or more facts (a prototype change lists each
/// parameter difference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Fact {
    KfuncAdded {
        proto: crate::ctype::Decl,
    },
    KfuncRemoved {
        proto: crate::ctype::Decl,
    },
    KfuncRenamed {
        to: String,
    },
    KfuncMoved {
        from: Option<String>,
        to: Option<String>,
    },
    ReturnRetyped {
        from: String,
        to: String,
    },
    ParamRetyped {
        index: usize,
        name: String,
        from: String,
        to: String,
    },
    /// Renamed; `annotation_*` are verifier suffixes (`__sz`, `__k`, ...).
    ParamRenamed {
        index: usize,
        from: String,
        to: String,
        annotation_from: String,
        annotation_to: String,
    },
    ParamRemoved {
        index: usize,
        decl: String,
    },
    ParamAdded {
        index: usize,
        decl: String,
    },
    FlagGained {
        flag: Flag,
    },
    /// `retired_default`: the flag's behaviour became the default in the new
    /// kernel (KF_TRUSTED_ARGS from 6.19).
    FlagLost {
        flag: Flag,
        retired_default: bool,
    },
    HelperAdded {
        id: u32,
    },
    HelperRemoved {
        id: u32,
    },
    HelperRenamed {
        id: u32,
        to: String,
    },
    TypeAdded {
        was_declared: bool,
    },
    /// `explicit`: asked for by name (else reached from a kfunc prototype).
    TypeRemoved {
        explicit: bool,
    },
    TypeDuplicates {
        before: usize,
        after: usize,
    },
    TypeKindChanged,
    MemberAdded {
        member: String,
        ty: String,
    },
    MemberRemoved {
        member: String,
        ty: String,
    },
    /// `same_repr`: both are integers (or enums) of the same size and
    /// signedness (`long unsigned int` -> `u64`): loads read the same bits.
    MemberRetyped {
        member: String,
        from: String,
        to: String,
        same_repr: bool,
    },
    /// A base type's encoding changed (`int char`: signed -> unsigned).
    IntEncodingChanged {
        size_from: u32,
        size_to: u32,
        changes: Vec<String>,
    },
    MemberMoved {
        member: String,
        from_bit: u32,
        to_bit: u32,
        from_bits: u32,
        to_bits: u32,
    },
    SizeChanged {
        from: u32,
        to: u32,
        is_enum: bool,
    },
    EnumValueAdded {
        name: String,
        value: i128,
    },
    EnumValueRemoved {
        name: String,
        value: i128,
    },
    EnumValueChanged {
        name: String,
        from: i128,
        to: i128,
    },
    TypedefChanged {
        from: String,
        to: String,
    },
    DefinitionChanged {
        from: String,
        to: String,
    },
}

impl Fact {
    /// The change kind this fact is reported under.
    pub fn kind(&self) -> ChangeKind {
        use ChangeKind as K;
        match self {
            Fact::KfuncAdded { .. } => K::KfuncAdded,
            Fact::KfuncRemoved { .. } => K::KfuncRemoved,
            Fact::KfuncRenamed { .. } => K::KfuncRenamed,
            Fact::KfuncMoved { .. } => K::KfuncMoved,
            Fact::ReturnRetyped { .. } | Fact::ParamRetyped { .. } | Fact::ParamRenamed { .. } | Fact::ParamRemoved { .. } | Fact::ParamAdded { .. } => {
                K::KfuncProtoChanged
            }
            Fact::FlagGained { .. } | Fact::FlagLost { .. } => K::KfuncFlagsChanged,
            Fact::HelperAdded { .. } => K::HelperAdded,
            Fact::HelperRemoved { .. } => K::HelperRemoved,
            Fact::HelperRenamed { .. } => K::HelperRenamed,
            Fact::TypeAdded { .. } => K::TypeAdded,
            Fact::TypeRemoved { .. } => K::TypeRemoved,
            Fact::TypeDuplicates { .. } | Fact::DefinitionChanged { .. } | Fact::IntEncodingChanged { .. } => K::TypeChanged,
            Fact::TypeKindChanged => K::TypeKindChanged,
            Fact::MemberAdded { .. } => K::TypeMemberAdded,
            Fact::MemberRemoved { .. } => K::TypeMemberRemoved,
            Fact::MemberRetyped { .. } => K::TypeMemberRetyped,
            Fact::MemberMoved { .. } => K::TypeMemberMoved,
            Fact::SizeChanged { .. } => K::TypeSizeChanged,
            Fact::EnumValueAdded { .. } => K::EnumValueAdded,
            Fact::EnumValueRemoved { .. } => K::EnumValueRemoved,
            Fact::EnumValueChanged { .. } => K::EnumValueChanged,
            Fact::TypedefChanged { .. } => K::TypedefChanged,
        }
    }

    /// What changed, in words (without the judgement; see
    /// the policy's `explain_change` for why it matters).
    pub fn describe(&self) -> String {
        match self {
            Fact::KfuncAdded { proto } => format!("added: `{proto}`"),
            Fact::KfuncRemoved { proto } => format!("removed: programs calling it fail to load (was `{proto}`)"),
            Fact::KfuncRenamed { to } => format!("likely renamed to `{to}`"),
            Fact::KfuncMoved { from, to } => format!(
                "moved from {} to {}: libbpf resolves it either way, but the module must be loaded",
                from.as_deref().unwrap_or("vmlinux"),
                to.as_deref().unwrap_or("vmlinux")
            ),
            Fact::ReturnRetyped { from, to } => format!("return type changed from `{from}` to `{to}`"),
            Fact::ParamRetyped { index, name, from, to } => format!("parameter {index} `{name}` retyped from `{from}` to `{to}`"),
            Fact::ParamRenamed { index, from, to, annotation_from, annotation_to } if annotation_from != annotation_to => format!(
                "parameter {index} renamed `{from}` -> `{to}`: verifier annotation `{annotation_from}` -> `{annotation_to}` changes how the argument is checked"
            ),
            Fact::ParamRenamed { index, from, to, .. } => format!("parameter {index} renamed `{from}` -> `{to}`"),
            Fact::ParamRemoved { index, decl } => format!("parameter {index} `{decl}` removed"),
            Fact::ParamAdded { index, decl } => format!("parameter {index} `{decl}` added"),
            Fact::FlagGained { flag } => format!("gained {flag}"),
            Fact::FlagLost { flag, .. } => format!("lost {flag}"),
            Fact::HelperAdded { id } => format!("helper id {id} added"),
            Fact::HelperRemoved { id } => format!("helper id {id} removed: programs calling it are rejected"),
            Fact::HelperRenamed { id, to } => format!("helper id {id} renamed to {to}: the id, which programs use, is unchanged"),
            Fact::TypeAdded { was_declared: true } => "now defined".into(),
            Fact::TypeAdded { was_declared: false } => "added".into(),
            Fact::TypeRemoved { explicit: true } => "removed: CO-RE relocations against it fail".into(),
            Fact::TypeRemoved { explicit: false } => "removed: CO-RE relocations against it fail".into(),
            Fact::TypeDuplicates { before, after } => {
                format!("{before} definitions before, {after} after (duplicate names): compared as a whole")
            }
            Fact::TypeKindChanged => "changed between struct and union".into(),
            Fact::MemberAdded { member, ty } => format!("member `{member}` ({ty}) added"),
            Fact::MemberRemoved { member, ty } => format!("member `{member}` ({ty}) removed: CO-RE accesses to it fail to relocate"),
            Fact::MemberRetyped { member, from, to, same_repr: false } => format!("member `{member}` retyped from `{from}` to `{to}`"),
            Fact::MemberRetyped { member, from, to, same_repr: true } => {
                format!("member `{member}` retyped from `{from}` to `{to}` (same size and signedness)")
            }
            Fact::IntEncodingChanged { changes, .. } => format!("encoding changed: {}", changes.join(", ")),
            Fact::MemberMoved { member, from_bit, to_bit, from_bits, to_bits } => format!(
                "member `{member}` moved from bit {from_bit} to bit {to_bit}{}: CO-RE relocates it; programs without CO-RE read the wrong bytes",
                if from_bits != to_bits { format!(" (bitfield size {from_bits} -> {to_bits})") } else { String::new() }
            ),
            Fact::SizeChanged { from, to, is_enum: false } => format!("size {from} -> {to} bytes"),
            Fact::SizeChanged { from, to, is_enum: true } => format!("enum size {from} -> {to} bytes"),
            Fact::EnumValueAdded { name, value } => format!("`{name}` = {value} added"),
            Fact::EnumValueRemoved { name, value } => format!("`{name}` (= {value}) removed: bpf_core_enum_value() on it fails"),
            Fact::EnumValueChanged { name, from, to } => {
                format!("`{name}` changed from {from} to {to}: bpf_core_enum_value() relocates it; constants compiled in are wrong")
            }
            Fact::TypedefChanged { from, to } => format!("now `{to}`, was `{from}`"),
            Fact::DefinitionChanged { from, to } => format!("definition changed: {from} -> {to}"),
        }
    }
}

/// Will it load? Ordered: the worst verdict of a program's requirements wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Verdict {
    /// Every requirement is satisfied.
    Loads,
    /// Loads, with something worth knowing (a weak extern missing, ...).
    Warns,
    /// Not decided: something the load depends on was never measured for
    /// this kernel (no probe data, a helper the probe skipped, a variant or
    /// context the probing machine could not load). Never reported as
    /// `loads`; the reason names the command that would decide it.
    Unknown,
    /// libbpf or the verifier refuses it.
    Fails,
}

impl Verdict {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
    }
    /// On the shared scale: fails is an error, warns and unknown (not
    /// measured) warnings.
    pub fn level(self) -> Level {
        match self {
            Verdict::Fails => Level::Error,
            Verdict::Warns | Verdict::Unknown => Level::Warning,
            Verdict::Loads => Level::Info,
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
    /// A sleepable program on an LSM hook or struct_ops member the kernel
    /// does not let sleep (src/check/filters.rs).
    AttachTargetNotSleepable,
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
    /// A kfunc of the target kernel the probe has no decision for: its
    /// module was not loaded when the probe ran, or the probed kernel did
    /// not list it as a kfunc (`unknown`; `loads` for a weak extern).
    KfuncNotProbed,
    /// A map the program uses whose value (or type) its program type may
    /// not use (verifier.c `check_map_prog_compatibility`: a tracing
    /// program and a map holding a `bpf_spin_lock`, `bpf_timer`, ...).
    MapProgIncompatible,
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
    /// kfunc compat family (`check::kfunc_family`): the reachable code
    /// calls only variants that resolve.
    KfuncFamilyOk,
    /// No variant of a kfunc family resolves on this kernel.
    KfuncFamilyUnresolved,
    /// A variant resolves, but the reachable code calls one that does not.
    KfuncFamilyUnresolvedCall,
    /// A strong (not `__weak`) variant of a family does not resolve.
    KfuncFamilyStrongVariant,
    /// Loader rules (src/loader): a legacy `maps` section the loader refuses.
    LegacyMapsUnsupported,
    /// A map-in-map without an inner map definition.
    MapInnerMissing,
    /// A map `pinning` value the loader does not know.
    MapPinningUnsupported,
    /// Non-zero bytes past `struct bpf_map_def` (cilium/ebpf).
    MapExtraBytes,
    /// A map definition the loader cannot parse.
    MapDefinitionUnsupported,
    /// `max_entries` 0: user space sizes the map before loading.
    MapSizedByUserSpace,
    /// An extern the loader cannot resolve.
    ExternUnsupportedByLoader,
    /// A struct_ops map the loader cannot create.
    StructOpsUnsupportedByLoader,
    /// A program the loader refuses to read (a `static` function in a
    /// program section: libbpf).
    ProgramUnsupportedByLoader,
}

impl ReasonKind {
    /// The JSON spelling (`kfunc_missing`).
    pub fn as_str(self) -> &'static str {
        crate::vocab::serde_name(&self)
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
    /// which no policy grades; what a reduced kernel cannot answer).
    pub(crate) fn graded(mut self, v: Verdict) -> Self {
        self.severity = v;
        self
    }
    pub(crate) fn indirect(mut self, indirect: bool) -> Self {
        self.indirect = indirect;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spellings come from serde: `as_str` is what JSON says, for
    /// every scale, and something that is not a unit variant has none.
    #[test]
    fn spellings_are_serdes() {
        for l in [Level::Info, Level::Warning, Level::Error] {
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
        assert_eq!(Severity::Breaking.as_str(), "breaking");
        assert_eq!(Verdict::Unknown.as_str(), "unknown");
        assert_eq!(ChangeKind::KfuncProtoChanged.as_str(), "kfunc_proto_changed");
        assert_eq!(ReasonKind::TailcallSubprogJitUnsupported.as_str(), "tailcall_subprog_jit_unsupported");
        assert_eq!(ReasonKind::KfuncFromNonGplProgram.as_str(), "kfunc_from_non_gpl_program");
        assert_eq!(serde_name(&Fact::TypeKindChanged), "");
        assert_eq!(serde_name("text"), "");
    }
}
