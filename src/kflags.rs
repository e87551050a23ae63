//! KF_* kfunc flag names, keyed by kernel series (a [`Release`] at patch 0).
//!
//! The bits live in `include/linux/btf.h` and were reused over time: bit 3
//! was KF_KPTR_GET until 6.4, bit 8 was proposed as KF_DEPRECATED and became
//! KF_ITER_NEW, KF_TRUSTED_ARGS (bit 4) was dropped when trusted arguments
//! became the default. One table says which name a bit has in which kernel;
//! `docs/kfunc-flags.md` is its human copy.

use crate::release::Release;

/// The release whose `include/linux/btf.h` the table was last compared with.
pub const CHECKED_AGAINST: Release = Release::new(7, 1, 0);

/// The newest series this table knows ([`CHECKED_AGAINST`]); used when a
/// kernel's is unknown.
pub const LATEST: Release = CHECKED_AGAINST;

/// A KF_* flag, by name: one variant per row of [`FLAGS`] (the kernel's
/// `include/linux/btf.h`), so code that judges flags matches on the enum
/// and the compiler names every flag a new row adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum KfFlag {
    /// `KF_ACQUIRE` (bit 0).
    Acquire,
    /// `KF_RELEASE` (bit 1).
    Release,
    /// `KF_RET_NULL` (bit 2).
    RetNull,
    /// `KF_KPTR_GET` (bit 3).
    KptrGet,
    /// `KF_TRUSTED_ARGS` (bit 4).
    TrustedArgs,
    /// `KF_SLEEPABLE` (bit 5).
    Sleepable,
    /// `KF_DESTRUCTIVE` (bit 6).
    Destructive,
    /// `KF_RCU` (bit 7).
    Rcu,
    /// `KF_ITER_NEW` (bit 8).
    IterNew,
    /// `KF_ITER_NEXT` (bit 9).
    IterNext,
    /// `KF_ITER_DESTROY` (bit 10).
    IterDestroy,
    /// `KF_RCU_PROTECTED` (bit 11).
    RcuProtected,
    /// `KF_FASTCALL` (bit 12).
    Fastcall,
    /// `KF_ARENA_RET` (bit 13).
    ArenaRet,
    /// `KF_ARENA_ARG1` (bit 14).
    ArenaArg1,
    /// `KF_ARENA_ARG2` (bit 15).
    ArenaArg2,
    /// `KF_IMPLICIT_ARGS` (bit 16).
    ImplicitArgs,
}

impl KfFlag {
    /// The kernel's name (`KF_RET_NULL`).
    pub fn name(self) -> &'static str {
        FLAGS.iter().find(|d| d.flag == self).map_or("", |d| d.name)
    }
    /// The flag called `name` in any kernel of the table (`KF_BIT_30`, a
    /// bit no kernel named: `None`).
    pub fn parse(name: &str) -> Option<KfFlag> {
        FLAGS.iter().find(|d| d.name == name).map(|d| d.flag)
    }
}

/// A KF_* flag as a kfunc carries it: a flag of [`FLAGS`], or a bit that
/// has no name in the kernel read (`KF_BIT_<n>`, as [`names`] spells it).
/// Its JSON spelling is its name (`"KF_RET_NULL"`, `"KF_BIT_30"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// A flag of the table.
    Known(KfFlag),
    /// A bit with no name in the kernel read.
    Bit(u32),
}

impl Flag {
    /// The flag called `name` ([`KfFlag::parse`]), or `KF_BIT_<n>`.
    pub fn parse(name: &str) -> Option<Flag> {
        KfFlag::parse(name).map(Flag::Known).or_else(|| name.strip_prefix("KF_BIT_")?.parse().ok().map(Flag::Bit))
    }

    /// The flag of the table, when it is one.
    pub fn known(self) -> Option<KfFlag> {
        match self {
            Flag::Known(f) => Some(f),
            Flag::Bit(_) => None,
        }
    }
}

impl From<KfFlag> for Flag {
    fn from(f: KfFlag) -> Flag {
        Flag::Known(f)
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flag::Known(k) => f.write_str(k.name()),
            Flag::Bit(b) => write!(f, "KF_BIT_{b}"),
        }
    }
}

impl serde::Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One flag name valid for bit `bit` from `since` (inclusive) until `until`
/// (exclusive, `None`: still valid).
pub struct FlagDef {
    /// Bit number in the set8 flags word.
    pub bit: u32,
    /// The flag.
    pub flag: KfFlag,
    /// Flag name (`KF_ACQUIRE`), as `btf.h` spells it.
    pub name: &'static str,
    /// First release with this meaning.
    pub since: Release,
    /// First release where the bit no longer means this.
    pub until: Option<Release>,
    /// What it means for callers.
    pub meaning: &'static str,
    /// The line of `include/linux/btf.h` that defines it (from `since`).
    pub source: &'static str,
}

const fn v(a: u32, b: u32) -> Release {
    Release::new(a, b, 0)
}

/// The table. Flags in `.BTF_ids` exist from 6.0 (BTF_SET8 and BTF_ID_FLAGS);
/// 5.13–5.19 kept kfunc properties in separate BTF_SETs instead.
pub const FLAGS: &[FlagDef] = &[
    FlagDef {
        bit: 0,
        flag: KfFlag::Acquire,
        name: "KF_ACQUIRE",
        since: v(6, 0),
        until: None,
        meaning: "returns a referenced pointer the program must release",
        source: "#define KF_ACQUIRE (1 << 0) /* kfunc is an acquire function */",
    },
    FlagDef {
        bit: 1,
        flag: KfFlag::Release,
        name: "KF_RELEASE",
        since: v(6, 0),
        until: None,
        meaning: "releases a referenced pointer passed to it",
        source: "#define KF_RELEASE (1 << 1) /* kfunc is a release function */",
    },
    FlagDef {
        bit: 2,
        flag: KfFlag::RetNull,
        name: "KF_RET_NULL",
        since: v(6, 0),
        until: None,
        meaning: "may return NULL: the program must check",
        source: "#define KF_RET_NULL (1 << 2) /* kfunc returns a pointer that may be NULL */",
    },
    FlagDef {
        bit: 3,
        flag: KfFlag::KptrGet,
        name: "KF_KPTR_GET",
        since: v(6, 0),
        until: Some(v(6, 4)),
        meaning: "returns a reference to a kptr (removed in 6.4)",
        source: "#define KF_KPTR_GET (1 << 3) /* kfunc returns reference to a kptr */",
    },
    FlagDef {
        bit: 4,
        flag: KfFlag::TrustedArgs,
        name: "KF_TRUSTED_ARGS",
        since: v(6, 0),
        until: Some(v(6, 19)),
        meaning: "pointer arguments must be trusted (default behaviour from 6.19)",
        source: "#define KF_TRUSTED_ARGS (1 << 4) /* kfunc only takes trusted pointer arguments */",
    },
    FlagDef {
        bit: 5,
        flag: KfFlag::Sleepable,
        name: "KF_SLEEPABLE",
        since: v(6, 0),
        until: None,
        meaning: "may sleep: only sleepable programs may call it",
        source: "#define KF_SLEEPABLE (1 << 5) /* kfunc may sleep */",
    },
    FlagDef {
        bit: 6,
        flag: KfFlag::Destructive,
        name: "KF_DESTRUCTIVE",
        since: v(6, 0),
        until: None,
        meaning: "destructive operation: needs CAP_SYS_BOOT",
        source: "#define KF_DESTRUCTIVE (1 << 6) /* kfunc performs destructive actions */",
    },
    FlagDef {
        bit: 7,
        flag: KfFlag::Rcu,
        name: "KF_RCU",
        since: v(6, 2),
        until: None,
        meaning: "accepts RCU-protected pointer arguments",
        source: "#define KF_RCU (1 << 7) /* kfunc takes either rcu or trusted pointer arguments */",
    },
    FlagDef {
        bit: 8,
        flag: KfFlag::IterNew,
        name: "KF_ITER_NEW",
        since: v(6, 4),
        until: None,
        meaning: "open-coded iterator constructor (bit once proposed for KF_DEPRECATED)",
        source: "#define KF_ITER_NEW (1 << 8) /* kfunc implements BPF iter constructor */",
    },
    FlagDef {
        bit: 9,
        flag: KfFlag::IterNext,
        name: "KF_ITER_NEXT",
        since: v(6, 4),
        until: None,
        meaning: "open-coded iterator next method",
        source: "#define KF_ITER_NEXT (1 << 9) /* kfunc implements BPF iter next method */",
    },
    FlagDef {
        bit: 10,
        flag: KfFlag::IterDestroy,
        name: "KF_ITER_DESTROY",
        since: v(6, 4),
        until: None,
        meaning: "open-coded iterator destructor",
        source: "#define KF_ITER_DESTROY (1 << 10) /* kfunc implements BPF iter destructor */",
    },
    FlagDef {
        bit: 11,
        flag: KfFlag::RcuProtected,
        name: "KF_RCU_PROTECTED",
        since: v(6, 7),
        until: None,
        meaning: "must be called inside an RCU read-side section",
        source: "#define KF_RCU_PROTECTED (1 << 11) /* kfunc should be protected by rcu cs when they are invoked */",
    },
    FlagDef {
        bit: 12,
        flag: KfFlag::Fastcall,
        name: "KF_FASTCALL",
        since: v(6, 13),
        until: None,
        meaning: "follows the bpf_fastcall convention (no caller-saved spills)",
        source: "#define KF_FASTCALL (1 << 12) /* kfunc supports bpf_fastcall protocol */",
    },
    FlagDef {
        bit: 13,
        flag: KfFlag::ArenaRet,
        name: "KF_ARENA_RET",
        since: v(6, 16),
        until: None,
        meaning: "returns an arena pointer",
        source: "#define KF_ARENA_RET (1 << 13) /* kfunc returns an arena pointer */",
    },
    FlagDef {
        bit: 14,
        flag: KfFlag::ArenaArg1,
        name: "KF_ARENA_ARG1",
        since: v(6, 16),
        until: None,
        meaning: "first argument is an arena pointer",
        source: "#define KF_ARENA_ARG1 (1 << 14) /* kfunc takes an arena pointer as its first argument */",
    },
    FlagDef {
        bit: 15,
        flag: KfFlag::ArenaArg2,
        name: "KF_ARENA_ARG2",
        since: v(6, 16),
        until: None,
        meaning: "second argument is an arena pointer",
        source: "#define KF_ARENA_ARG2 (1 << 15) /* kfunc takes an arena pointer as its second argument */",
    },
    FlagDef {
        bit: 16,
        flag: KfFlag::ImplicitArgs,
        name: "KF_IMPLICIT_ARGS",
        since: v(7, 0),
        until: None,
        meaning: "has arguments supplied by the verifier (foo/foo_impl pair)",
        source: "#define KF_IMPLICIT_ARGS (1 << 16) /* kfunc has implicit arguments supplied by the verifier */",
    },
];

/// Every bit any kernel has given a name: the mask a set8 flags word is
/// checked against when the kernel's version is unknown.
pub const ALL_BITS: u32 = {
    let mut m = 0;
    let mut i = 0;
    while i < FLAGS.len() {
        m |= 1 << FLAGS[i].bit;
        i += 1;
    }
    m
};

fn def_for(bit: u32, ver: Release) -> Option<&'static FlagDef> {
    FLAGS.iter().find(|d| d.bit == bit && d.since <= ver && d.until.is_none_or(|u| ver < u))
}

/// Bits that have a name in `ver` (used to reject implausible set8 records).
pub fn known_mask(ver: Release) -> u32 {
    (0..32).filter(|&b| def_for(b, ver).is_some()).fold(0, |m, b| m | (1 << b))
}

/// Names of the set bits; a bit unknown in `ver` prints as `KF_BIT_<n>`.
pub fn names(flags: u32, ver: Release) -> Vec<String> {
    (0..32).filter(|b| flags & (1 << b) != 0).map(|b| def_for(b, ver).map(|d| d.name.to_string()).unwrap_or_else(|| format!("KF_BIT_{b}"))).collect()
}

/// The bit a flag has in `ver`.
pub fn bit_of(flag: KfFlag, ver: Release) -> Option<u32> {
    FLAGS.iter().find(|d| d.flag == flag && d.since <= ver && d.until.is_none_or(|u| ver < u)).map(|d| d.bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact's flag is typed and spelled in JSON as the kernel names it,
    /// unnamed bits as `names` spells them.
    #[test]
    fn flags_parse_print_and_serialize_by_name() {
        for d in FLAGS {
            let f = Flag::parse(d.name).unwrap();
            assert_eq!(f.known(), KfFlag::parse(d.name));
            assert_eq!(f.to_string(), d.name);
        }
        // Bit 8 has no name in 6.1: KF_BIT_8, parsed back as that bit.
        let n = names(1 << 8, Release::new(6, 1, 0));
        assert_eq!(Flag::parse(&n[0]), Some(Flag::Bit(8)));
        assert_eq!(Flag::parse("KF_NONSENSE"), None);
        let gained = crate::vocab::Fact::FlagGained { flag: KfFlag::RetNull.into() };
        assert_eq!(serde_json::to_string(&gained).unwrap(), r#"{"fact":"flag_gained","flag":"KF_RET_NULL"}"#);
        let lost = crate::vocab::Fact::FlagLost { flag: Flag::Bit(30), retired_default: false };
        assert_eq!(serde_json::to_string(&lost).unwrap(), r#"{"fact":"flag_lost","flag":"KF_BIT_30","retired_default":false}"#);
    }
    #[test]
    fn table_is_consistent_with_its_sources() {
        for d in FLAGS {
            // The cited #define names the flag and its bit.
            assert!(d.source.starts_with(&format!("#define {} (1 << {}) ", d.name, d.bit)), "{}", d.source);
            assert!(d.until.is_none_or(|u| d.since < u && u <= LATEST), "{}", d.name);
            assert!(d.since <= LATEST, "{}", d.name);
            // The enum and the table agree, both ways.
            assert_eq!(d.flag.name(), d.name);
            assert_eq!(KfFlag::parse(d.name), Some(d.flag));
        }
        assert_eq!(ALL_BITS, 0x1_ffff);
        assert_eq!(known_mask(LATEST) | (1 << 3) | (1 << 4), ALL_BITS);
        assert_eq!(names(1 << 8, Release::new(6, 1, 0)), ["KF_BIT_8"]);
        assert_eq!(names(1 << 8, Release::new(6, 12, 0)), ["KF_ITER_NEW"]);
        assert_eq!(KfFlag::parse("KF_BIT_8"), None);
        assert_eq!(bit_of(KfFlag::Fastcall, Release::new(6, 13, 0)), Some(12));
        assert_eq!(bit_of(KfFlag::Fastcall, Release::new(6, 12, 0)), None);
    }
}
