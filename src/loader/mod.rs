//! Who loads an object: libbpf, cilium/ebpf or aya, at a version, and what
//! that loader's own rules say about the object before the kernel sees it.
//!
//! The kernel's verdict does not depend on the loader, but what reaches the
//! kernel does: each loader reads section names with its own grammar
//! ([`libbpf`], [`cilium`], [`aya`]), accepts or refuses legacy `maps`
//! sections, creates (or cannot create) certain maps without help from
//! user space, and resolves a different set of externs. [`Loader::findings`]
//! lists those differences for one object as [`Finding`]s, each citing the
//! upstream function it mirrors; `check` grades them. [`evidence`] infers
//! the loader an object was built for. docs/loaders.md tabulates the rules.

pub mod aya;
pub mod cilium;
pub mod evidence;
pub mod libbpf;

use crate::object::sections::SectionDesc;
use crate::object::{map_type, BpfObject, ExternKind};
use crate::uapi::ProgType;
use crate::vocab::ReasonKind;
use serde::Serialize;
use std::fmt;

/// A loader release, `major.minor[.patch]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch, when given.
    pub patch: Option<u16>,
}

impl Version {
    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Version { major, minor, patch: None }
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut it = s.split('.');
        let num = |p: Option<&str>| p.and_then(|x| x.parse::<u16>().ok());
        let (major, minor) = (num(it.next()), num(it.next()));
        let patch = it.next();
        match (major, minor) {
            (Some(major), Some(minor)) if it.next().is_none() => match patch {
                None => Ok(Version { major, minor, patch: None }),
                Some(p) => {
                    num(Some(p)).map(|p| Version { major, minor, patch: Some(p) }).ok_or_else(|| format!("`{s}` is not a version (MAJOR.MINOR[.PATCH])"))
                }
            },
            _ => Err(format!("`{s}` is not a version (MAJOR.MINOR[.PATCH])")),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// A loader library and its release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Loader {
    /// libbpf (C; also bpftool, skeletons, libbpf-rs, libbpfgo).
    Libbpf {
        /// Release.
        version: Version,
    },
    /// cilium/ebpf (Go; `bpf2go`).
    CiliumEbpf {
        /// Release (`0.22`).
        version: Version,
    },
    /// aya (Rust).
    Aya {
        /// Release (`0.14`).
        version: Version,
    },
}

/// The three loader families, without a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// libbpf.
    Libbpf,
    /// cilium/ebpf.
    Cilium,
    /// aya.
    Aya,
}

impl Family {
    /// The CLI spelling (`libbpf`, `cilium`, `aya`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Libbpf => "libbpf",
            Family::Cilium => "cilium",
            Family::Aya => "aya",
        }
    }
    /// The releases whose rules are modelled (any patch release of them is
    /// accepted), oldest first; the last is the default.
    pub fn known(self) -> &'static [Version] {
        const LIBBPF: &[Version] = &[
            Version::new(0, 5),
            Version::new(0, 6),
            Version::new(0, 7),
            Version::new(0, 8),
            Version::new(1, 0),
            Version::new(1, 1),
            Version::new(1, 2),
            Version::new(1, 3),
            Version::new(1, 4),
            Version::new(1, 5),
            Version::new(1, 6),
            Version::new(1, 7),
        ];
        const CILIUM: &[Version] = &[
            Version::new(0, 9),
            Version::new(0, 10),
            Version::new(0, 11),
            Version::new(0, 12),
            Version::new(0, 13),
            Version::new(0, 14),
            Version::new(0, 15),
            Version::new(0, 16),
            Version::new(0, 17),
            Version::new(0, 18),
            Version::new(0, 19),
            Version::new(0, 20),
            Version::new(0, 21),
            Version::new(0, 22),
        ];
        const AYA: &[Version] = &[Version::new(0, 13), Version::new(0, 14)];
        match self {
            Family::Libbpf => LIBBPF,
            Family::Cilium => CILIUM,
            Family::Aya => AYA,
        }
    }
    /// This family at `version`.
    pub fn at(self, version: Version) -> Loader {
        match self {
            Family::Libbpf => Loader::Libbpf { version },
            Family::Cilium => Loader::CiliumEbpf { version },
            Family::Aya => Loader::Aya { version },
        }
    }
    /// The newest modelled release.
    pub fn newest(self) -> Loader {
        let v = self.known().last().copied().unwrap_or(Version::new(0, 0));
        self.at(v)
    }
    /// Every family.
    pub const ALL: [Family; 3] = [Family::Libbpf, Family::Cilium, Family::Aya];
}

/// What the user asked for: one loader, or "infer it from the object".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderChoice {
    /// Check as this loader.
    Fixed(Loader),
    /// Infer per object ([`evidence::infer`]).
    Auto,
}

/// Every accepted spelling, for usage errors: `libbpf[:0.5…1.7]`, ….
pub fn known_loaders() -> String {
    let mut out = vec!["auto".to_string()];
    for f in Family::ALL {
        let k = f.known();
        let (first, last) = (k.first().copied().unwrap_or(Version::new(0, 0)), k.last().copied().unwrap_or(Version::new(0, 0)));
        out.push(format!("{}[:VERSION] ({})", f.as_str(), if first == last { first.to_string() } else { format!("{first} to {last}") }));
    }
    out.join(", ")
}

impl std::str::FromStr for LoaderChoice {
    type Err = String;
    /// `libbpf`, `libbpf:1.7`, `cilium:0.22.0`, `aya:0.14`, `auto`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(LoaderChoice::Auto);
        }
        let (name, version) = match s.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        let family = match name {
            "libbpf" => Family::Libbpf,
            "cilium" | "cilium/ebpf" | "cilium-ebpf" => Family::Cilium,
            "aya" => Family::Aya,
            _ => return Err(format!("unknown loader `{name}`; known: {}", known_loaders())),
        };
        let Some(v) = version else { return Ok(LoaderChoice::Fixed(family.newest())) };
        let v: Version = v.parse()?;
        if !family.known().iter().any(|k| k.major == v.major && k.minor == v.minor) {
            return Err(format!("unknown {} version {v}; known: {}", family.as_str(), known_loaders()));
        }
        Ok(LoaderChoice::Fixed(family.at(v)))
    }
}

impl Default for Loader {
    /// libbpf 1.7, the loader of the ground truth and of `vmtest`.
    fn default() -> Self {
        Family::Libbpf.newest()
    }
}

impl fmt::Display for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loader::Libbpf { version } => write!(f, "libbpf {version}"),
            Loader::CiliumEbpf { version } => write!(f, "cilium/ebpf {version}"),
            Loader::Aya { version } => write!(f, "aya {version}"),
        }
    }
}

impl Serialize for Loader {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One finding: which rule, about what, in words, and whom it hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule, as the check reason it becomes (`SectionUnknown`,
    /// `LegacyMapsUnsupported`, `Map*`, `ExternUnsupportedByLoader`,
    /// `StructOpsUnsupportedByLoader`).
    pub rule: ReasonKind,
    /// The map, extern, section ... concerned.
    pub subject: String,
    /// What the loader does, citing its source.
    pub message: String,
    /// The program it hits; `None`: every program of the object (the
    /// loader fails the whole object, or creates every map for each).
    pub program: Option<String>,
}

impl Loader {
    /// Its family.
    pub fn family(&self) -> Family {
        match self {
            Loader::Libbpf { .. } => Family::Libbpf,
            Loader::CiliumEbpf { .. } => Family::Cilium,
            Loader::Aya { .. } => Family::Aya,
        }
    }
    /// Its release.
    pub fn version(&self) -> Version {
        match *self {
            Loader::Libbpf { version } | Loader::CiliumEbpf { version } | Loader::Aya { version } => version,
        }
    }
    /// Reads section names as [`crate::object::sections`] (libbpf ≥ 1.0)
    /// does: the object's own decoding stands.
    pub fn is_libbpf_1(&self) -> bool {
        matches!(self, Loader::Libbpf { version } if version.major >= 1)
    }
    /// This loader's reading of a section name; `None` for aya when the
    /// name makes it refuse the whole object.
    pub fn decode_section(&self, sec: &str) -> Option<SectionDesc> {
        match *self {
            Loader::Libbpf { version } => Some(libbpf::decode(sec, version.major)),
            Loader::CiliumEbpf { version } => Some(cilium::decode(sec, version.minor)),
            Loader::Aya { .. } => aya::decode(sec),
        }
    }

    /// The object as this loader reads it: every program's type, attach
    /// type and target re-decoded from its section name.
    pub fn reread(&self, obj: &BpfObject) -> BpfObject {
        let mut o = obj.clone();
        for p in &mut o.programs {
            let d =
                self.decode_section(&p.section).unwrap_or(SectionDesc { prog_type: None, attach: None, target: None, sleepable: false, autoload_off: false });
            p.prog_type = d.prog_type;
            p.expected_attach = d.attach;
            p.attach_target = d.target;
            p.sleepable = d.sleepable;
            p.autoload = !d.autoload_off;
        }
        o
    }

    /// What this loader refuses or leaves to user space in `obj`, before
    /// any kernel is asked.
    pub fn findings(&self, obj: &BpfObject) -> Vec<Finding> {
        let mut out = Vec::new();
        self.section_findings(obj, &mut out);
        self.static_findings(obj, &mut out);
        self.map_findings(obj, &mut out);
        self.extern_findings(obj, &mut out);
        self.struct_ops_findings(obj, &mut out);
        out
    }

    fn section_findings(&self, obj: &BpfObject, out: &mut Vec<Finding>) {
        for p in &obj.programs {
            let decoded = self.decode_section(&p.section);
            // cilium/ebpf <= 0.12 reads `syscall` from its own table without
            // BPF_F_SLEEPABLE (elf_reader.go `getProgType`: {"syscall",
            // Syscall, AttachNone, 0}); the kernel loads syscall programs
            // only sleepable (verifier.c `check_attach_btf_id`: "Syscall
            // programs can only be sleepable"). libbpf's `syscall` definition
            // is SEC_SLEEPABLE, as is cilium/ebpf's from 0.13.
            if decoded.as_ref().is_some_and(|d| d.prog_type == Some(ProgType::Syscall) && !d.sleepable) {
                out.push(Finding {
                    rule: ReasonKind::ProgramUnsupportedByLoader,
                    subject: p.section.clone(),
                    message: format!(
                        "{self} reads section `{}` as a syscall program without BPF_F_SLEEPABLE (elf_reader.go `getProgType`): the kernel refuses it (\"Syscall programs can only be sleepable\") unless user space sets ProgramSpec.Flags",
                        p.section
                    ),
                    program: Some(p.name.clone()),
                });
            }
            let known = decoded.is_some_and(|d| d.prog_type.is_some());
            if known {
                continue;
            }
            let (message, program) = match self {
                Loader::Libbpf { version } => (
                    format!(
                        "libbpf {version} finds no program type in section `{}` (libbpf.c `sec_def_matches`{}): the program fails (\"missing BPF prog type, check ELF section name\") unless user space sets one (bpf_program__set_type)",
                        p.section,
                        if version.major >= 1 { ", exact since 1.0" } else { ", v0.8.0 prefixes" }
                    ),
                    Some(p.name.clone()),
                ),
                Loader::CiliumEbpf { version } => (
                    format!(
                        "cilium/ebpf {version} finds no program type in section `{}` (elf_reader.go `getProgType`{}): UnspecifiedProgram, which NewCollection skips and LoadProgram refuses (\"program type is unspecified\") unless user space sets ProgramSpec.Type",
                        p.section,
                        if version.minor >= 13 { "/`matchSectionName`" } else { " prefixes" }
                    ),
                    Some(p.name.clone()),
                ),
                Loader::Aya { version } => (
                    format!(
                        "aya {version} refuses section `{}` (aya-obj `ProgramSection::from_str`: InvalidProgramSection), and with it the whole object (`Object::parse` fails)",
                        p.section
                    ),
                    None,
                ),
            };
            out.push(Finding { rule: ReasonKind::SectionUnknown, subject: p.section.clone(), message, program });
        }
    }

    /// A `static` function in a program section: libbpf.c
    /// `bpf_object__add_programs` (v0.5.0 to v1.7.0) refuses the object
    /// ("program '%s' is static and not supported"); cilium/ebpf
    /// (elf_reader.go `loadProgramSections`, v0.9.1 to v0.22.0) and aya
    /// (aya-obj `Object::parse_programs`, v0.2.1/v0.3.0) take every function
    /// symbol of a program section as a program, whatever its binding.
    fn static_findings(&self, obj: &BpfObject, out: &mut Vec<Finding>) {
        let Loader::Libbpf { version } = self else { return };
        if let Some(p) = obj.programs.iter().find(|p| p.is_static) {
            out.push(Finding {
                rule: ReasonKind::ProgramUnsupportedByLoader,
                subject: p.name.clone(),
                message: format!(
                    "program `{}` in section `{}` is static: libbpf {version} refuses the object (libbpf.c `bpf_object__add_programs`: \"program '{}' is static and not supported\"); cilium/ebpf and aya load static programs",
                    p.name, p.section, p.name
                ),
                program: None,
            });
        }
    }

    fn map_findings(&self, obj: &BpfObject, out: &mut Vec<Finding>) {
        let legacy: Vec<&str> = obj.maps.iter().filter(|m| m.definition == "legacy").map(|m| m.name.as_str()).collect();
        if let (Loader::Libbpf { version }, Some(first)) = (self, legacy.first()) {
            if version.major >= 1 {
                out.push(Finding {
                    rule: ReasonKind::LegacyMapsUnsupported,
                    subject: first.to_string(),
                    message: format!(
                        "legacy map definitions in `maps` ({}): libbpf {version} refuses the object (libbpf.c `bpf_object__init_user_maps`: \"legacy map definitions in 'maps' section are not supported by libbpf v1.0+\"); libbpf 0.x, cilium/ebpf and aya accept them",
                        legacy.join(", ")
                    ),
                    program: None,
                });
                // libbpf fails at open: nothing else about maps matters.
                return;
            }
        }
        for m in &obj.maps {
            let hit = |rule, message: String| Finding { rule, subject: m.name.clone(), message, program: None };
            // cilium/ebpf ≤ 0.11 elf_reader.go `loadBTFMaps`: "expected
            // struct, got Typedef" (`v.Type.(*btf.Struct)`; from v0.12 it
            // looks through typedefs with `btf.UnderlyingType`).
            if matches!(self, Loader::CiliumEbpf { version } if version.minor < 12) && m.not_struct {
                out.push(hit(
                    ReasonKind::MapDefinitionUnsupported,
                    format!("BTF map `{}` is not declared as a struct (a typedef of one): {self} refuses the object (elf_reader.go `loadBTFMaps`: \"expected struct, got Typedef\")", m.name),
                ));
            }
            // Map-in-map: libbpf takes the inner definition from
            // `__array(values, ...)` or lets user space set it
            // (bpf_map__set_inner_map_fd); without either, map creation
            // fails ("inner map ... not supported").
            if m.is_map_in_map() && !m.inner_map {
                let (who, how) = match self {
                    Loader::Libbpf { .. } => {
                        (self.to_string(), "libbpf.c `bpf_object__create_map`: map-in-map without inner map needs bpf_map__set_inner_map_fd")
                    }
                    Loader::CiliumEbpf { .. } => {
                        (self.to_string(), "map.go `newMapWithOptions`: \"ArrayOfMaps requires InnerMap\" unless user space sets MapSpec.InnerMap")
                    }
                    Loader::Aya { .. } => (self.to_string(), "aya creates map-in-maps without an inner map fd; the kernel refuses the create (EINVAL)"),
                };
                out.push(hit(ReasonKind::MapInnerMissing, format!("map-in-map `{}` declares no inner map: {who} cannot create it ({how})", m.name)));
            }
            // aya-obj 0.3 (aya-v0.14.0) `obj.rs` `parse_btf_map_struct`:
            // `values` must be a zero-length array of pointers to a map
            // struct; a prog array's initialiser points at functions
            // (UnexpectedBtfType: "BTF error"), and `Object::parse` fails.
            // aya-obj 0.2 (aya-v0.13.1) skips `values` ("skipping unknown
            // map section"): a map-in-map then has no inner map.
            if let Loader::Aya { version } = self {
                if m.inner_map && m.map_type == map_type::PROG_ARRAY && version.minor >= 14 {
                    out.push(hit(
                        ReasonKind::MapDefinitionUnsupported,
                        format!("prog array `{}` is initialised with programs (`values`): {self} refuses the object (aya-obj `parse_btf_map_struct`: `values` must point to a map struct: \"BTF error\")", m.name),
                    ));
                }
                if m.inner_map && m.is_map_in_map() && version.minor < 14 {
                    out.push(hit(
                        ReasonKind::MapInnerMissing,
                        format!("map-in-map `{}`: {self} skips `values` (aya-obj 0.2 `parse_btf_map_def`: \"skipping unknown map section\"), so it has no inner map and the kernel refuses the create (EINVAL)", m.name),
                    ));
                }
            }
            // cilium/ebpf map.go `newMapWithOptions`: PinNone and PinByName
            // only ("pin type %d: not supported"); aya-obj `PinningType`
            // likewise (0 and 1). libbpf.c `parse_btf_map_def`: "invalid
            // pinning value" for anything but LIBBPF_PIN_NONE/BY_NAME in a
            // BTF map; legacy definitions carry none.
            if let Some(pin) = m.pinning.filter(|&p| p > 1) {
                // aya 0.14 loads such maps (measured: tests/bpf
                // loader_btf_pinning, loader_legacy_pinning).
                let how = match self {
                    Loader::Libbpf { .. } if m.definition == "btf" => Some("libbpf.c `parse_btf_map_def`: \"invalid pinning value\""),
                    Loader::CiliumEbpf { .. } if m.definition == "btf" => Some("map.go `newMapWithOptions`: \"pin type N: not supported\""),
                    _ => None,
                };
                if let Some(how) = how {
                    out.push(hit(ReasonKind::MapPinningUnsupported, format!("map `{}` has pinning {pin}: {self} refuses it ({how})", m.name)));
                }
            }
            // cilium/ebpf map.go `createMap`: "extra contains unhandled
            // non-zero bytes" (iproute2's bpf_elf_map id/pinning/inner_*
            // fields, legacy only).
            if let (Loader::CiliumEbpf { .. }, Some(extra)) = (self, m.extra) {
                if extra.non_zero {
                    out.push(hit(
                        ReasonKind::MapExtraBytes,
                        format!(
                            "legacy map `{}` has {} non-zero byte(s) past struct bpf_map_def (iproute2's id/pinning/inner-map fields): {self} refuses it (map.go `createMap`: \"extra contains unhandled non-zero bytes\")",
                            m.name, extra.len
                        ),
                    ));
                }
            }
            // aya: map types it has no wrapper for, and a value_size it
            // cannot set (`EbpfLoader` has `set_max_entries` only; the kernel
            // refuses a stack trace map of value_size 0, stack_map_alloc).
            if let Loader::Aya { version } = self {
                if !m.name.starts_with('.') && !aya::supports_map_type(version.minor, m.map_type) {
                    out.push(hit(
                        ReasonKind::MapDefinitionUnsupported,
                        format!(
                            "map `{}` is of type {} (enum bpf_map_type), which {self} does not wrap (aya/src/bpf.rs `parse_map`): the object fails (\"type of {} ... is unsupported\") unless user space calls `EbpfLoader::allow_unsupported_maps`",
                            m.name, m.map_type, m.name
                        ),
                    ));
                }
                if m.map_type == aya::STACK_TRACE && m.value_size == Some(0) {
                    out.push(hit(
                        ReasonKind::MapDefinitionUnsupported,
                        format!(
                            "stack trace map `{}` has value_size 0 (user space sizes it, as libbpf-tools' does with bpf_map__set_value_size): {self} has no setter for it (`EbpfLoader` sets max_entries only), and the kernel refuses the map (EINVAL)",
                            m.name
                        ),
                    ));
                }
            }
            // max_entries 0: every loader sizes a perf event array to the
            // CPU count (libbpf.c `bpf_object__create_map` / map.go
            // `fixupMagicFields` / aya `PerfEventArray`); anything else is
            // left to user space (the kernel refuses 0 for most types).
            if m.max_entries == Some(0) && m.map_type != map_type::PERF_EVENT_ARRAY && m.map_type != map_type::STRUCT_OPS && !m.name.starts_with('.') {
                out.push(hit(
                    ReasonKind::MapSizedByUserSpace,
                    format!("map `{}` has max_entries 0: {self} creates it only once user space sets a size (the kernel refuses 0)", m.name),
                ));
            }
        }
    }

    fn extern_findings(&self, obj: &BpfObject, out: &mut Vec<Finding>) {
        let v = self.version();
        // libbpf.c `bpf_object__collect_externs` (v0.8.0, v1.7.0): every
        // undefined symbol needs a BTF VAR or FUNC in a `.kconfig` or
        // `.ksyms` DATASEC ("failed to find BTF for extern '%s' [%d]
        // section"): an extern variable left for the static linker
        // (`bpftool gen object`) fails the open.
        if let (Loader::Libbpf { version }, Some(_)) = (self, obj.btf.as_deref()) {
            for e in obj.externs.iter().filter(|e| e.kind == ExternKind::Ksym && e.btf_id.is_none()) {
                out.push(Finding {
                    rule: ReasonKind::ExternUnsupportedByLoader,
                    subject: e.name.clone(),
                    message: format!(
                        "extern `{}` is in no `.kconfig` or `.ksyms` section (a variable for the static linker): libbpf {version} refuses the object (libbpf.c `bpf_object__collect_externs`: \"failed to find BTF for extern ... section\")",
                        e.name
                    ),
                    program: None,
                });
            }
        }
        for e in &obj.externs {
            let why: Option<String> = match (self, e.kind) {
                (_, ExternKind::ExternFunc) => None,
                // aya 0.13/0.14 (aya-obj 0.2/0.3 `relocation.rs`) resolve no
                // externs at all: a call or load relocated against an
                // undefined symbol fails `relocate_calls` / `relocate_maps`.
                (Loader::Aya { .. }, _) => Some(format!(
                    "aya {v} resolves no externs (aya-obj `relocate_maps`/`relocate_calls` know maps and functions only; kfuncs and ksyms arrive after 0.14): the object fails to load"
                )),
                (Loader::CiliumEbpf { .. }, ExternKind::Kfunc) if v.minor < 11 => {
                    Some(format!("cilium/ebpf {v} has no .ksyms support (kfuncs from 0.11, elf_reader.go `loadKsymsSection`): the object fails to load"))
                }
                (Loader::CiliumEbpf { .. }, ExternKind::Kfunc) if e.weak && v.minor < 14 => {
                    Some(format!("cilium/ebpf {v} refuses weak externs (STB_WEAK accepted from 0.14, elf_reader.go `relocateInstruction`)"))
                }
                // btf/btf.go `fixupDatasec`: a `.ksyms` VAR must be of type
                // void ("expected X to be *Void": typed ksyms and `const void`
                // are refused, v0.22.0).
                (Loader::CiliumEbpf { .. }, ExternKind::Ksym) if v.minor >= 18 && typed_ksym(obj, e) => Some(format!(
                    "cilium/ebpf {v} takes only `void` ksym variables (btf/btf.go `fixupDatasec`: \"expected {} to be *Void\"): the object fails to load",
                    e.name
                )),
                // elf_reader.go `relocateInstruction`: a `.kconfig` read
                // must bind STB_GLOBAL ("asm relocation: …: unsupported
                // binding: STB_WEAK").
                (Loader::CiliumEbpf { .. }, ExternKind::Kconfig) if e.weak && v.minor >= 11 => Some(format!(
                    "cilium/ebpf {v} refuses a weak `.kconfig` extern (elf_reader.go `relocateInstruction`: \"asm relocation: {}: unsupported binding: STB_WEAK\"): the object fails to load",
                    e.name
                )),
                (Loader::CiliumEbpf { .. }, ExternKind::Ksym) if v.minor < 18 => Some(format!(
                    "cilium/ebpf {v} takes only kfuncs from .ksyms (ksym variables from 0.18, linker.go `resolveKsymReferences`): the object fails to load"
                )),
                (Loader::CiliumEbpf { .. }, ExternKind::Kconfig) if v.minor < 11 => {
                    Some(format!("cilium/ebpf {v} has no .kconfig support (from 0.11, elf_reader.go `loadKconfigSection`): the object fails to load"))
                }
                // collection.go `resolveKconfig`: LINUX_KERNEL_VERSION,
                // LINUX_HAS_SYSCALL_WRAPPER and CONFIG_* only; a CONFIG_*
                // missing from the kernel's config fails even when weak.
                (Loader::CiliumEbpf { .. }, ExternKind::Kconfig) if e.name.starts_with("LINUX_") && !matches!(e.name.as_str(), "LINUX_KERNEL_VERSION" | "LINUX_HAS_SYSCALL_WRAPPER") => Some(format!(
                    "cilium/ebpf {v} fills only LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER and CONFIG_* (collection.go `resolveKconfig`): `{}` is looked up as a config option and fails the load",
                    e.name
                )),
                _ => None,
            };
            if let Some(message) = why {
                out.push(Finding { rule: ReasonKind::ExternUnsupportedByLoader, subject: e.name.clone(), message, program: None });
            }
        }
    }

    /// Externs this loader resolves only when it loads a program that
    /// uses them, and cannot: each finding hits the programs whose
    /// instructions reference the extern (`check` decides which).
    ///
    /// cilium/ebpf collection.go `resolveKconfig` (v0.11.0 to v0.22.0),
    /// run for each program that reads `.kconfig`: `LINUX_KERNEL_VERSION`
    /// must be a `btf.Int` of 4 bytes and `LINUX_HAS_SYSCALL_WRAPPER` a
    /// `btf.Int`, as declared (no typedef is looked through: libbpf-tools'
    /// `extern __u32 LINUX_KERNEL_VERSION __kconfig` is "must be a 32 bits
    /// integer, got Typedef").
    pub fn findings_at_load(&self, obj: &BpfObject) -> Vec<Finding> {
        let Loader::CiliumEbpf { version } = *self else { return Vec::new() };
        if version.minor < 11 {
            return Vec::new();
        }
        let Some(b) = obj.btf.as_deref() else { return Vec::new() };
        let mut out = Vec::new();
        for e in obj.externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
            let want4 = match e.name.as_str() {
                "LINUX_KERNEL_VERSION" => true,
                "LINUX_HAS_SYSCALL_WRAPPER" => false,
                _ => continue,
            };
            let Some(var) = e.btf_id.and_then(|id| b.ty(id.0)) else { continue };
            let Some(t) = b.ty(var.ref_type()) else { continue };
            let int_ok = t.kind == crate::btf::Kind::Int && (!want4 || t.size() == 4);
            if !int_ok {
                let what = if want4 { "a 32 bits integer" } else { "an integer" };
                out.push(Finding {
                    rule: ReasonKind::ExternUnsupportedByLoader,
                    subject: e.name.clone(),
                    message: format!(
                        "`{}` is declared as {} {}, not a plain integer: {self} refuses every program reading it (collection.go `resolveKconfig`: \"variable {} must be {what}\")",
                        e.name,
                        t.kind.name(),
                        t.name(),
                        e.name
                    ),
                    program: None,
                });
            }
        }
        out
    }

    fn struct_ops_findings(&self, obj: &BpfObject, out: &mut Vec<Finding>) {
        for so in &obj.struct_ops {
            let why = match self {
                // cilium/ebpf v0.21+: `.struct_ops.link` only
                // (elf_reader.go: "got '.struct_ops' section: not supported").
                Loader::CiliumEbpf { version } if version.minor >= 21 && !so.link => Some((
                    "cilium/ebpf refuses a `.struct_ops` section (elf_reader.go `LoadCollectionSpecFromReader`: \"got '.struct_ops' section: not supported\"; only `.struct_ops.link`)",
                    None,
                )),
                Loader::CiliumEbpf { version } if version.minor < 21 => {
                    Some(("cilium/ebpf creates no struct_ops maps before 0.21 (elf_reader.go `associateStructOpsRelocs`): its programs load without a kernel struct to attach to", Some(())))
                }
                _ => None,
            };
            if let Some((msg, per_program)) = why {
                match per_program {
                    None => out.push(Finding {
                        rule: ReasonKind::StructOpsUnsupportedByLoader,
                        subject: so.name.clone(),
                        message: format!("struct_ops map `{}`: {msg}", so.name),
                        program: None,
                    }),
                    Some(()) => {
                        for p in obj
                            .programs
                            .iter()
                            .filter(|p| p.prog_type == Some(ProgType::StructOps) && (so.programs.is_empty() || so.programs.contains(&p.name)))
                        {
                            out.push(Finding {
                                rule: ReasonKind::StructOpsUnsupportedByLoader,
                                subject: so.name.clone(),
                                message: format!("struct_ops map `{}`: {msg}", so.name),
                                program: Some(p.name.clone()),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The loader families whose newest modelled release can load `obj` by its
/// own rules alone (no kernel asked): those with no finding that refuses
/// the whole object (a legacy `maps` section for libbpf ≥ 1.0, a section
/// name aya does not know, a map it cannot create, an extern it cannot
/// resolve ...; `max_entries` 0, which user space sizes, does not count).
/// In [`Family::ALL`] order (`census`).
pub fn loadable_by(obj: &BpfObject) -> Vec<Family> {
    Family::ALL.into_iter().filter(|f| !f.newest().findings(obj).iter().any(|x| x.program.is_none() && x.rule != ReasonKind::MapSizedByUserSpace)).collect()
}

/// One loader's reading of a section name (`inspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionReading {
    /// The loader (its family's newest modelled release).
    pub loader: Loader,
    /// The program type it decodes (kernel spelling); `None`: none, the
    /// program fails unless user space sets a type.
    pub prog_type: Option<String>,
    /// The expected attach type it sets.
    pub attach_type: Option<String>,
    /// aya: the name makes it refuse the whole object.
    pub refuses_object: bool,
}

/// A section name the loaders read differently, with each one's reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionDisagreement {
    /// The section name.
    pub section: String,
    /// The object's programs in it.
    pub programs: Vec<String>,
    /// One reading per loader family (libbpf, cilium/ebpf, aya), newest
    /// release of each.
    pub readings: Vec<SectionReading>,
}

/// The sections of `obj` whose program type the newest
/// libbpf, cilium/ebpf and aya read differently (each with its own grammar:
/// [`libbpf::decode`], [`cilium::decode`], [`aya::decode`]), in section
/// order; empty when they all agree.
pub fn section_disagreements(obj: &BpfObject) -> Vec<SectionDisagreement> {
    let mut out: Vec<SectionDisagreement> = Vec::new();
    for p in &obj.programs {
        if let Some(d) = out.iter_mut().find(|d| d.section == p.section) {
            d.programs.push(p.name.clone());
            continue;
        }
        let readings: Vec<SectionReading> = Family::ALL
            .iter()
            .map(|f| {
                let l = f.newest();
                let d = l.decode_section(&p.section);
                SectionReading {
                    loader: l,
                    prog_type: d.as_ref().and_then(|d| d.prog_type).map(|t| t.to_string()),
                    attach_type: d.as_ref().and_then(|d| d.attach).map(|t| t.to_string()),
                    refuses_object: d.is_none(),
                }
            })
            .collect();
        let first = readings.first();
        if readings.iter().all(|r| Some((&r.prog_type, r.refuses_object)) == first.map(|f| (&f.prog_type, f.refuses_object))) {
            continue;
        }
        out.push(SectionDisagreement { section: p.section.clone(), programs: vec![p.name.clone()], readings });
    }
    out
}

/// A `.ksyms` variable with a type (not `void`).
fn typed_ksym(obj: &BpfObject, e: &crate::object::Extern) -> bool {
    match (obj.btf.as_deref(), e.btf_id) {
        (Some(b), Some(id)) => b.ty(id.0).is_some_and(|var| var.kind == crate::btf::Kind::Var && var.ref_type() != crate::btf::TypeId(0)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_choices() {
        assert_eq!("libbpf".parse::<LoaderChoice>(), Ok(LoaderChoice::Fixed(Loader::Libbpf { version: Version::new(1, 7) })));
        assert_eq!(
            "cilium:0.22.0".parse::<LoaderChoice>(),
            Ok(LoaderChoice::Fixed(Loader::CiliumEbpf { version: Version { major: 0, minor: 22, patch: Some(0) } }))
        );
        assert_eq!("aya:0.14".parse::<LoaderChoice>().map(|c| matches!(c, LoaderChoice::Fixed(Loader::Aya { .. }))), Ok(true));
        assert_eq!("auto".parse::<LoaderChoice>(), Ok(LoaderChoice::Auto));
        let e = "bcc".parse::<LoaderChoice>().unwrap_err();
        assert!(e.contains("unknown loader `bcc`") && e.contains("cilium[:VERSION] (0.9 to 0.22)"), "{e}");
        let e = "cilium:0.8".parse::<LoaderChoice>().unwrap_err();
        assert!(e.contains("unknown cilium version 0.8"), "{e}");
        assert!("libbpf:x".parse::<LoaderChoice>().is_err());
        assert_eq!(Loader::default().to_string(), "libbpf 1.7");
    }
}
