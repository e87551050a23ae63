//! `bpfabi lint`: the BTF health of a kernel build, for distribution and
//! kernel maintainers. Facts (header, kinds used and the tools that read
//! them, evidence counts) are kept apart from findings; each finding has a
//! stable string code and names what it is about; its severity is the
//! `Policy`'s grade of the code (`DefaultPolicy::grade_finding`), which a
//! manifest's `[grades]` may change.
//!
//! Checks:
//! - `kfunc_decl_tags_missing`: `.BTF_ids` has kfunc sets but the BTF has no
//!   `bpf_kfunc` decl tags (pahole < 1.27, or a kernel before 6.9 that does
//!   not ask for them): `bpftool btf dump format c` prints no kfuncs;
//! - `kfunc_impl_mismatch`: `foo` and `foo_impl` disagree on the arguments
//!   they share or on the return type;
//! - `kfunc_implicit_args`: a kfunc whose BTF prototype carries arguments
//!   the verifier supplies (`__ign`, `__prog`, `struct bpf_prog_aux *`);
//! - `type_duplicate` / `type_conflict`: one name defined more than once,
//!   with the same shallow layout (deduplication kept copies) or different
//!   ones (CO-RE sees several candidates);
//! - `module_base_mismatch`: a module's split BTF does not fit the vmlinux
//!   (does not parse on it, references land on the wrong kinds, or its
//!   vermagic names another release);
//! - `btf_ids_not_func` / `btf_ids_unresolved`: kfunc set entries that name
//!   a non-FUNC type, or 0 (resolve_btfids found no such function);
//! - `module_btf_missing`: a module that registers kfunc sets
//!   (`register_btf_kfunc_id_set`) has no BTF, so its kfuncs do not exist.

use crate::btf::{render, Btf, Kind, TypeId};
use crate::btf_ids::BTF_SET8_KFUNCS;
use crate::kernel::{Kernel, KernelBtf};
use crate::policy::{Circumstance, DefaultPolicy, Observation, Policy};
use crate::surface::{self, Source};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a finding is about; the string form is stable (JSON, docs/lint.md).
/// It lives with the policy codes (`policy::codes`) so that one `Policy`
/// grades lint findings too.
pub use crate::policy::codes::LintCode as Code;

/// How bad a finding is: the shared scale (greater is graver).
pub use crate::vocab::Level as Severity;

#[derive(Debug, Clone, Serialize)]
/// One finding.
#[non_exhaustive]
pub struct Finding {
    /// Stable code.
    pub code: Code,
    /// Severity: the policy's grade of the code under the circumstance.
    pub severity: Severity,
    /// What changes the default grade (`policy::Circumstance`).
    #[serde(skip)]
    pub circumstance: Circumstance,
    /// "vmlinux" or the module name.
    pub origin: String,
    /// The kfunc, type or module it is about (none for kernel-wide findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// In words.
    pub message: String,
}

/// A tool and the oldest version that reads every BTF kind this kernel uses.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Reader {
    /// Tool name.
    pub tool: &'static str,
    /// Oldest version that reads this BTF.
    pub min_version: &'static str,
    /// Which feature of the BTF needs it.
    pub because: String,
}

#[derive(Debug, Clone, Serialize)]
/// What the kernel's BTF is made of.
#[non_exhaustive]
pub struct Facts {
    /// Kernel release.
    pub release: Option<String>,
    /// BTF version.
    pub btf_version: u8,
    /// Header length in bytes.
    pub header_len: u32,
    /// A kind-layout section is present (32-byte header).
    pub kind_layout: bool,
    /// Byte order.
    pub endian: &'static str,
    /// Types in vmlinux BTF.
    pub vmlinux_types: usize,
    /// BTF kinds used by vmlinux and modules, with counts.
    pub kinds: BTreeMap<&'static str, usize>,
    /// Tools that can read it.
    pub readers: Vec<Reader>,
    /// `CONFIG_PAHOLE_VERSION` when the config is known.
    pub pahole_version: Option<u32>,
    /// `bpf_kfunc` decl tags.
    pub decl_tags: usize,
    /// What `.BTF_ids` holds.
    pub btf_ids: &'static str,
    /// set8 records in `.BTF_ids`.
    pub set8_records: usize,
    /// kfuncs found.
    pub kfuncs: usize,
    /// Modules read.
    pub modules: usize,
    /// Modules without BTF.
    pub modules_without_btf: usize,
}

#[derive(Debug, Clone, Serialize)]
/// Facts and findings of one kernel.
#[non_exhaustive]
pub struct Lint {
    /// Facts.
    pub facts: Facts,
    /// Findings.
    pub findings: Vec<Finding>,
}

impl Lint {
    /// Findings that fail `lint` (error or warning).
    pub fn failing(&self) -> usize {
        self.findings.iter().filter(|f| f.severity >= Severity::Warning).count()
    }
}

/// The severity a finding has until the policy grades it.
const UNGRADED: Severity = Severity::Info;

/// Lint a kernel, with findings graded by the default policy.
pub fn lint(k: &Kernel) -> Lint {
    lint_with(k, &DefaultPolicy)
}

/// Lint a kernel; `policy` grades the findings (a manifest's `[grades]`
/// may make `type_conflict` an error).
pub fn lint_with(k: &Kernel, policy: &dyn Policy) -> Lint {
    let s = surface::of(k);
    let mut findings = Vec::new();
    let pahole = k.info.config.as_deref().and_then(|c| config_value(c, "CONFIG_PAHOLE_VERSION")).and_then(|v| v.parse().ok());
    let version = k.version();

    // kfunc decl tags vs kfunc sets.
    let from_sets = s.kfuncs.iter().filter(|f| f.sources.iter().any(|x| matches!(x, Source::BtfIds | Source::Heuristic))).count();
    if s.discovery.decl_tags == 0 && from_sets > 0 {
        let since_6_9 = version.is_some_and(|v| v >= crate::release::Release::new(6, 9, 0));
        let why = match (since_6_9, pahole) {
            (true, Some(p)) => format!("built with pahole {}.{} (decl tags need pahole >= 1.27)", p / 100, p % 100),
            (true, None) => "pahole older than 1.27?".to_string(),
            (false, _) => "kernels before 6.9 do not ask pahole for them".to_string(),
        };
        findings.push(Finding {
            code: Code::KfuncDeclTagsMissing,
            severity: UNGRADED,
            circumstance: if since_6_9 { Circumstance::Plain } else { Circumstance::DeclTagsNotAsked },
            origin: "vmlinux".into(),
            subject: None,
            message: format!(
                "{from_sets} kfuncs in .BTF_ids kfunc sets, 0 bpf_kfunc decl tags ({why}): `bpftool btf dump ... format c` lists no kfunc prototypes"
            ),
        });
    } else if s.discovery.decl_tags > 0 {
        for f in s.kfuncs.iter().filter(|f| !f.sources.contains(&Source::DeclTag)) {
            findings.push(Finding {
                code: Code::KfuncDeclTagsMissing,
                severity: UNGRADED,
                circumstance: Circumstance::Plain,
                origin: f.module.clone().unwrap_or_else(|| "vmlinux".into()),
                subject: Some(f.name.clone()),
                message: "in a kfunc set but without a bpf_kfunc decl tag (missing __bpf_kfunc?): bpftool does not list it".into(),
            });
        }
    }

    // foo / foo_impl pairs and verifier-supplied arguments.
    for f in &s.kfuncs {
        let Some(kb) = k.btf_in(f.module.as_deref()) else { continue };
        let origin = f.module.clone().unwrap_or_else(|| "vmlinux".into());
        let hidden: Vec<String> =
            proto_params(&kb.btf, f.btf_id).into_iter().filter(|(n, ty)| is_verifier_supplied(n, ty)).map(|(n, ty)| format!("`{ty} {n}`")).collect();
        if !hidden.is_empty() {
            findings.push(Finding {
                code: Code::KfuncImplicitArgs,
                severity: UNGRADED,
                circumstance: Circumstance::Plain,
                origin: origin.clone(),
                subject: Some(f.name.clone()),
                message: format!("prototype carries verifier-supplied arguments {}: programs pass NULL/0 for them", hidden.join(", ")),
            });
        }
        let (Some(twin), false) = (f.impl_pair.as_ref(), f.name.ends_with("_impl")) else { continue };
        let Some(tid) = kb.btf.by_name(twin).find(|t| t.kind == Kind::Func).map(|t| t.id) else { continue };
        let (a, b) = (proto_params(&kb.btf, f.btf_id), proto_params(&kb.btf, tid));
        let (ra, rb) = (proto_ret(&kb.btf, f.btf_id), proto_ret(&kb.btf, tid));
        // The BPF-visible prototype carries `address_space(1)` type tags on
        // arena pointers that the kernel-side `_impl` does not: an
        // annotation for the BPF side, not a disagreement.
        let norm = |t: &str| without_address_space(t);
        let shared_differ = a.len() > b.len() || a.iter().zip(&b).any(|(x, y)| norm(&x.1) != norm(&y.1));
        if shared_differ || norm(&ra) != norm(&rb) {
            findings.push(Finding {
                code: Code::KfuncImplMismatch,
                severity: UNGRADED,
                circumstance: Circumstance::Plain,
                origin,
                subject: Some(f.name.clone()),
                message: format!("`{}` and its twin `{}` disagree", render::func_decl(&kb.btf, f.btf_id), render::func_decl(&kb.btf, tid)),
            });
        }
    }

    // Duplicate / conflicting definitions, vmlinux and each module's own.
    for kb in k.btfs() {
        duplicates(kb, &mut findings);
    }

    // Modules and their base.
    for (name, _origin, why) in &k.info.bad_modules {
        findings.push(Finding {
            code: Code::ModuleBaseMismatch,
            severity: UNGRADED,
            circumstance: Circumstance::Plain,
            origin: name.clone(),
            subject: Some(name.clone()),
            message: why.clone(),
        });
    }
    for m in &k.modules {
        let wrong = wrong_kind_refs(&m.btf);
        if wrong.count > 0 {
            findings.push(Finding {
                code: Code::ModuleBaseMismatch,
                severity: UNGRADED,
                circumstance: Circumstance::Plain,
                origin: m.name.clone(),
                subject: Some(m.name.clone()),
                message: format!(
                    "{} references in its split BTF land on the wrong kind in this vmlinux (e.g. {}): built against another vmlinux",
                    wrong.count,
                    wrong.example.unwrap_or_default()
                ),
            });
        }
    }
    for (name, r) in &k.info.module_releases {
        findings.push(Finding {
            code: Code::ModuleBaseMismatch,
            severity: UNGRADED,
            circumstance: Circumstance::Plain,
            origin: name.clone(),
            subject: Some(name.clone()),
            message: format!("vermagic says {r}, the kernel is {}", k.release.as_deref().unwrap_or("?")),
        });
    }

    // .BTF_ids kfunc set entries.
    for kb in k.btfs() {
        btf_ids_entries(kb, &mut findings);
    }

    // Modules without BTF that register kfuncs.
    for m in k.info.modules_without_btf.iter().filter(|m| m.registers_kfuncs) {
        findings.push(Finding {
            code: Code::ModuleBtfMissing,
            severity: UNGRADED,
            circumstance: Circumstance::Plain,
            origin: m.name.clone(),
            subject: Some(m.name.clone()),
            message: "registers kfunc sets (imports register_btf_kfunc_id_set) but has no .BTF: its kfuncs are not callable".into(),
        });
    }

    for f in &mut findings {
        f.severity = policy.grade_finding(&Observation::new(f.code, f.circumstance));
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)).then(a.origin.cmp(&b.origin)).then(a.subject.cmp(&b.subject)));
    Lint { facts: facts(k, &s, pahole), findings }
}

/// An argument the verifier fills in: `__prog` arguments (prog aux, 6.16+),
/// the btf_struct_meta of the graph kfuncs (`meta__ign`), the prog aux of
/// `bpf_wq_set_callback_impl` (`aux__ign`), or any `struct bpf_prog_aux *`.
/// (`__ign` alone only means "type not checked": programs pass real values.)
fn is_verifier_supplied(name: &str, ty: &str) -> bool {
    name.ends_with("__prog") || name == "meta__ign" || name == "aux__ign" || ty == "struct bpf_prog_aux *"
}

fn config_value<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    config.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// (name, C type) of each parameter of FUNC `id`.
fn proto_params(btf: &Btf, id: TypeId) -> Vec<(String, String)> {
    let Some(proto) = btf.ty(id).and_then(|f| btf.ty(f.ref_type())) else { return Vec::new() };
    proto.params().map(|p| (p.name.to_string(), render::type_name(btf, p.ty))).collect()
}

fn proto_ret(btf: &Btf, id: TypeId) -> String {
    btf.ty(id).and_then(|f| btf.ty(f.ref_type())).map(|p| render::type_name(btf, p.ref_type())).unwrap_or_default()
}

/// A shallow, id-free description of a named type's definition.
fn shallow(btf: &Btf, id: TypeId) -> String {
    let Some(t) = btf.ty(id) else { return String::new() };
    match t.kind {
        Kind::Struct | Kind::Union => {
            let mut s = format!("{} {}:", t.size(), t.vlen());
            for m in t.members() {
                s.push_str(&format!("{}@{}:{}:{};", m.name, m.bit_offset, m.bitfield_size, render::type_name(btf, m.ty)));
            }
            s
        }
        Kind::Enum | Kind::Enum64 => {
            let mut s = format!("{}:", t.size());
            for e in t.enumerators() {
                s.push_str(&format!("{}={};", e.name, e.value));
            }
            s
        }
        Kind::Typedef => render::type_name(btf, t.ref_type()),
        _ => String::new(),
    }
}

fn duplicates(kb: &KernelBtf, out: &mut Vec<Finding>) {
    let btf = &kb.btf;
    let mut by_name: BTreeMap<(&'static str, &str), Vec<TypeId>> = BTreeMap::new();
    for t in btf.types() {
        if t.id < btf.start_id() || t.name().is_empty() {
            continue;
        }
        let class = match t.kind {
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Enum | Kind::Enum64 => "enum",
            Kind::Typedef => "typedef",
            _ => continue,
        };
        by_name.entry((class, t.name())).or_default().push(t.id);
    }
    let (mut dup, mut conflict): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for ((class, name), ids) in by_name.iter().filter(|(_, v)| v.len() > 1) {
        let shapes: BTreeSet<String> = ids.iter().map(|&id| shallow(btf, id)).collect();
        let label = format!("{class} {name} ×{}", ids.len());
        if shapes.len() == 1 {
            dup.push(label);
        } else {
            conflict.push(label);
        }
    }
    for (code, list, what) in [
        (Code::TypeDuplicate, dup, "defined more than once with the same shallow layout (deduplication kept copies: some referenced type differs deeper)"),
        (Code::TypeConflict, conflict, "defined more than once with different layouts (CO-RE relocations on them see several candidates)"),
    ] {
        if list.is_empty() {
            continue;
        }
        let shown: Vec<&str> = list.iter().take(8).map(String::as_str).collect();
        out.push(Finding {
            code,
            severity: UNGRADED,
            circumstance: Circumstance::Plain,
            origin: kb.name.clone(),
            subject: None,
            message: format!("{} names {what}: {}{}", list.len(), shown.join(", "), if list.len() > shown.len() { ", ..." } else { "" }),
        });
    }
}

struct Wrong {
    count: usize,
    example: Option<String>,
}

/// References from a module's own types whose target has a kind that
/// cannot be right (a FUNC whose type is not a FUNC_PROTO, a member or
/// pointer to a FUNC, a decl tag on a pointer...): what a split BTF shows
/// when read on another vmlinux, whose ids it does not share.
fn wrong_kind_refs(btf: &Btf) -> Wrong {
    let mut w = Wrong { count: 0, example: None };
    let kind = |id: TypeId| btf.ty(id).map(|t| t.kind);
    let mut bad = |from: &crate::btf::Type<'_>, to: TypeId, why: &str| {
        w.count += 1;
        if w.example.is_none() {
            let k = kind(to).map(|k| k.name()).unwrap_or("?");
            w.example = Some(format!("{} `{}` {why} type {to}, a {k}", from.kind.name(), from.name()));
        }
    };
    let is_value = |k: Option<Kind>| !matches!(k, Some(Kind::Func | Kind::FuncProto | Kind::Datasec | Kind::Var | Kind::DeclTag) | None);
    for t in btf.types().filter(|t| t.id >= btf.start_id()) {
        match t.kind {
            Kind::Func if kind(t.ref_type()) != Some(Kind::FuncProto) => bad(&t, t.ref_type(), "has"),
            // A pointer or typedef (and their modifiers) may name a FUNC_PROTO.
            Kind::Ptr | Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag
                if !(is_value(kind(t.ref_type())) || t.ref_type() == TypeId::VOID || kind(t.ref_type()) == Some(Kind::FuncProto)) =>
            {
                bad(&t, t.ref_type(), "refers to")
            }
            Kind::Struct | Kind::Union => {
                if let Some(m) = t.members().find(|m| !is_value(kind(m.ty))) {
                    bad(&t, m.ty, &format!("member `{}` has", m.name));
                }
            }
            Kind::FuncProto => {
                if let Some(p) = t.params().find(|p| p.ty != TypeId::VOID && !is_value(kind(p.ty))) {
                    bad(&t, p.ty, &format!("parameter `{}` has", p.name));
                }
            }
            Kind::DeclTag if !matches!(kind(t.ref_type()), Some(Kind::Func | Kind::Var | Kind::Struct | Kind::Union | Kind::Typedef)) => {
                bad(&t, t.ref_type(), "tags")
            }
            _ => {}
        }
    }
    w
}

/// Entries of flagged kfunc sets (`BTF_SET8_KFUNCS`, kernels >= 6.9) that
/// are not FUNCs of this BTF, or 0.
fn btf_ids_entries(kb: &KernelBtf, out: &mut Vec<Finding>) {
    let Some(ids) = &kb.btf_ids else { return };
    let btf = &kb.btf;
    let sec = ids.as_slice();
    let e = btf.endian();
    let words = sec.len() / 4;
    let mut i = 0;
    while i + 2 <= words {
        let (Some(cnt), Some(flags)) = (e.u32(sec, i * 4), e.u32(sec, i * 4 + 4)) else { break };
        let cnt = cnt as usize;
        let pairs: Vec<(u32, u32)> = (0..cnt).map_while(|j| Some((e.u32(sec, (i + 2 + 2 * j) * 4)?, e.u32(sec, (i + 3 + 2 * j) * 4)?))).collect();
        let shaped = flags == BTF_SET8_KFUNCS
            && (1..=4096).contains(&cnt)
            && pairs.len() == cnt
            && pairs.windows(2).all(|p| p.first().map(|a| a.0) <= p.get(1).map(|b| b.0))
            && pairs.iter().all(|p| p.1 <= 0x00ff_ffff)
            && pairs.iter().filter(|p| p.0 != 0).any(|p| btf.ty(TypeId(p.0)).is_some_and(|t| t.kind == Kind::Func));
        if !shaped {
            i += 1;
            continue;
        }
        for &(id, _) in &pairs {
            let t = btf.ty(TypeId(id));
            if id == 0 {
                out.push(Finding {
                    code: Code::BtfIdsUnresolved,
                    severity: UNGRADED,
                    circumstance: Circumstance::Plain,
                    origin: kb.name.clone(),
                    subject: None,
                    message: format!("kfunc set at .BTF_ids+{:#x} has an unresolved entry (id 0): resolve_btfids found no BTF for that function", i * 4),
                });
            } else if t.is_none_or(|t| t.kind != Kind::Func) {
                let what = t.map(|t| format!("{} `{}`", t.kind.name(), t.name())).unwrap_or_else(|| "past the last type".into());
                out.push(Finding {
                    code: Code::BtfIdsNotFunc,
                    severity: UNGRADED,
                    circumstance: Circumstance::Plain,
                    origin: kb.name.clone(),
                    subject: None,
                    message: format!("kfunc set at .BTF_ids+{:#x} lists id {id}, which is {what}, not a FUNC", i * 4),
                });
            }
        }
        i += 2 + 2 * cnt;
    }
}

fn facts(k: &Kernel, s: &surface::Surface, pahole_version: Option<u32>) -> Facts {
    let h = k.vmlinux.btf.header();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut kflag_tags = false;
    for kb in k.btfs() {
        for t in kb.btf.types().filter(|t| t.id >= kb.btf.start_id()) {
            *kinds.entry(t.kind.name()).or_default() += 1;
            kflag_tags |= matches!(t.kind, Kind::DeclTag | Kind::TypeTag) && t.kind_flag();
        }
    }
    // (kind, libbpf, bpftool, pahole) that first read it without error.
    // Sources (first tag containing the commit): libbpf btf.c
    // btf_type_size/btf_validate_type — VAR/DATASEC 0c4ac0d5 (v0.0.3), FLOAT
    // 471e7c24 (v0.4.0), DECL_TAG 7e7f59d6 and TYPE_TAG 98181e05 (v0.6.0),
    // ENUM64 c3f8eecb (v1.0.0); bpftool: ENUM64 0f8c188 (v7.0.0), the 5.x
    // cells are the kernel release whose tools/bpf/bpftool gained the kind
    // (numbering changed to libbpf major + 6 in v6.7.0); pahole (dwarves):
    // VAR/DATASEC a4ba223 (1.16), FLOAT de708b3 (1.21), DECL_TAG loaded
    // properly from a9ae414 (1.27; 1.23-1.26 warn "Unknown kind"), TYPE_TAG
    // c969e49 (1.25), ENUM64 9712d9e (1.24).
    const NEEDS: &[(&str, &str, &str, &str)] = &[
        ("VAR", "0.0.3", "5.2", "1.16"),
        ("DATASEC", "0.0.3", "5.2", "1.16"),
        ("FLOAT", "0.4.0", "5.13", "1.21"),
        ("DECL_TAG", "0.6.0", "5.16", "1.27"),
        ("TYPE_TAG", "0.6.0", "5.17", "1.25"),
        ("ENUM64", "1.0.0", "7.0.0", "1.24"),
    ];
    let mut readers = Vec::new();
    if let Some(&(kind, libbpf, bpftool, pahole)) = NEEDS.iter().rev().find(|(kind, ..)| kinds.contains_key(kind)) {
        let because = format!("uses BTF_KIND_{kind}");
        readers.push(Reader { tool: "libbpf", min_version: libbpf, because: because.clone() });
        readers.push(Reader { tool: "bpftool", min_version: bpftool, because: because.clone() });
        readers.push(Reader { tool: "pahole", min_version: pahole, because });
    }
    if kflag_tags {
        // libbpf cc278ff7 "Check the kflag of type tags in btf_dump" (v1.6.0),
        // bundled from bpftool v7.6.0; older readers parse such tags (the
        // kflag is not validated) but print them as btf_type_tag(...).
        let because = "type tags with kind_flag (attributes such as address_space(1)) print as attributes from libbpf 1.6 / bpftool 7.6; older ones print btf_type_tag(...)";
        readers.push(Reader { tool: "libbpf", min_version: "1.6.0", because: because.into() });
        readers.push(Reader { tool: "bpftool", min_version: "7.6.0", because: because.into() });
    }
    if h.hdr_len > 24 {
        // libbpf honours hdr_len from 71e8af71 (v0.2.0) and only requires
        // type_off + type_len <= str_off, so the kind-layout section between
        // types and strings is skipped; pahole reads through its bundled
        // libbpf from 1.19. Byte-swapped BTF with a 32-byte header is refused
        // by every release up to libbpf 1.7 ("unsupported header length").
        let because = format!(
            "{}-byte header with a kind-layout section: libbpf 0.2+ reads it on a host of the same byte order (the layout is ignored); no released libbpf (<= 1.7) reads it byte-swapped",
            h.hdr_len
        );
        readers.push(Reader { tool: "libbpf", min_version: "0.2.0", because: because.clone() });
        readers.push(Reader { tool: "pahole", min_version: "1.19", because });
    }
    Facts {
        release: k.release.clone(),
        btf_version: h.version,
        header_len: h.hdr_len,
        kind_layout: k.vmlinux.btf.kind_layout().is_some(),
        endian: match k.vmlinux.btf.endian() {
            crate::bytes::Endian::Little => "little",
            crate::bytes::Endian::Big => "big",
        },
        vmlinux_types: k.vmlinux.btf.own_types(),
        kinds,
        readers,
        pahole_version,
        decl_tags: s.discovery.decl_tags,
        btf_ids: s.discovery.btf_ids,
        set8_records: s.discovery.set8_records,
        kfuncs: s.kfuncs.len(),
        modules: k.modules.len(),
        modules_without_btf: k.info.modules_without_btf.len(),
    }
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;

/// A rendered C type without `__attribute__((address_space(N)))` tags.
fn without_address_space(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find("__attribute__((address_space(") {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        match after.find(")))") {
            Some(j) => rest = after.get(j + 3..).unwrap_or_default().trim_start(),
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}
