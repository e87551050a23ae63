//! Which loader an object was built for, from evidence in the object and
//! where it was found (`check --loader auto`).
//!
//! Evidence, strongest first:
//! - embedded in a Go executable (its `\xff Go buildinf:` header): Go
//!   programs load BPF with cilium/ebpf;
//! - `bpf2go`'s output names (`<stem>_bpfel.o`, `_bpfeb.o`,
//!   `_<arch>_bpfel.o`; cmd/bpf2go `gen.go`): cilium/ebpf;
//! - Rust symbols (`_ZN…`/`_R…` mangling, `rust_begin_unwind`): aya;
//! - weak: section names only cilium/ebpf reads (prefix matches such as
//!   `tc_ingress` or `socket1`) or a legacy `maps` section, which libbpf
//!   ≥ 1.0 refuses: cilium/ebpf, the most common loader that takes both.
//!   This says the object is not for libbpf ≥ 1.0, not who loads it:
//!   libbpf 0.x, iproute2 (`tc`, whose `struct bpf_elf_map` in
//!   include/bpf_elf.h has the same seven `u32`s as aya-ebpf's
//!   `bpf_map_def`, so a 28-byte definition is no evidence of aya) and
//!   projects' own ELF loaders take such objects too; [`Inference::weak`]
//!   says so.
//!
//! Without evidence the answer is libbpf, the default.

use super::{Family, Loader};
use crate::object::BpfObject;
use serde::Serialize;

/// The inferred loader and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inference {
    /// The loader chosen.
    pub loader: Loader,
    /// The evidence, in words; empty when none was found (the default).
    pub why: Vec<String>,
    /// Only weak evidence (section names, legacy `maps`): the object is not
    /// for libbpf ≥ 1.0, and the loader named is a guess.
    pub weak: bool,
}

/// The loader `obj` was most likely built for.
pub fn infer(obj: &BpfObject) -> Inference {
    let mut why = Vec::new();
    let file = obj.path.rsplit_once('@').map_or(obj.path.as_str(), |(f, _)| f);
    let base = file.rsplit('/').next().unwrap_or(file);
    let mut family: Option<Family> = None;
    // The first vote decides; later votes for it add their reasons.
    let vote = |family: &mut Option<Family>, why: &mut Vec<String>, f: Family, reason: String| {
        if family.is_none() {
            *family = Some(f);
        }
        if *family == Some(f) {
            why.push(reason);
        }
    };
    if obj.in_go_executable {
        vote(&mut family, &mut why, Family::Cilium, "embedded in a Go executable".into());
    }
    let stem = base.strip_suffix(".o").unwrap_or(base);
    if stem.ends_with("_bpfel") || stem.ends_with("_bpfeb") {
        vote(&mut family, &mut why, Family::Cilium, format!("file name `{base}` follows bpf2go's <stem>_bpfel.o/_bpfeb.o"));
    }
    let rust = obj
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .chain(obj.maps.iter().map(|m| m.name.as_str()))
        .find(|n| n.starts_with("_ZN") || n.starts_with("_R") || *n == "rust_begin_unwind");
    if let Some(n) = rust {
        vote(&mut family, &mut why, Family::Aya, format!("Rust symbol `{n}`"));
    }
    let strong = family.is_some();
    let libbpf = Family::Libbpf.newest();
    let cilium = Family::Cilium.newest();
    if let Some(p) = obj.programs.iter().find(|p| {
        libbpf.decode_section(&p.section).is_some_and(|d| d.prog_type.is_none()) && cilium.decode_section(&p.section).is_some_and(|d| d.prog_type.is_some())
    }) {
        vote(&mut family, &mut why, Family::Cilium, format!("section `{}` has a program type for cilium/ebpf only (prefix match)", p.section));
    }
    if let Some(m) = obj.maps.iter().find(|m| m.definition == "legacy") {
        vote(&mut family, &mut why, Family::Cilium, format!("legacy `maps` definition `{}` (refused by libbpf ≥ 1.0)", m.name));
    }
    Inference { loader: family.unwrap_or(Family::Libbpf).newest(), weak: !strong && family.is_some(), why }
}
