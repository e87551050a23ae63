//! Which loader an object was built for, from evidence in the object and
//! where it was found (`check --loader auto`).
//!
//! Evidence, strongest first:
//! - embedded in a Go executable (its `\xff Go buildinf:` header): Go
//!   programs load BPF with cilium/ebpf;
//! - `bpf2go`'s output names (`<stem>_bpfel.o`, `_bpfeb.o`,
//!   `_<arch>_bpfel.o`; cmd/bpf2go `gen.go`): cilium/ebpf;
//! - Rust symbols (`_ZN…`/`_R…` mangling, `rust_begin_unwind`) or legacy
//!   map definitions of aya-ebpf's 28-byte `bpf_map_def`: aya;
//! - section names only cilium/ebpf reads (prefix matches such as
//!   `tc_ingress` or `socket1`) or a legacy `maps` section, which libbpf
//!   ≥ 1.0 refuses: cilium/ebpf, the most common loader that takes both.
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
}

/// The loader `obj` was most likely built for.
pub fn infer(obj: &BpfObject) -> Inference {
    let mut why = Vec::new();
    let file = obj.path.rsplit_once('@').map_or(obj.path.as_str(), |(f, _)| f);
    let base = file.rsplit('/').next().unwrap_or(file);
    let mut family: Option<Family> = None;
    let mut vote = |f: Family, reason: String| {
        if family.is_none() {
            family = Some(f);
        }
        if family == Some(f) {
            why.push(reason);
        }
    };
    if obj.in_go_executable {
        vote(Family::Cilium, "embedded in a Go executable".into());
    }
    let stem = base.strip_suffix(".o").unwrap_or(base);
    if stem.ends_with("_bpfel") || stem.ends_with("_bpfeb") {
        vote(Family::Cilium, format!("file name `{base}` follows bpf2go's <stem>_bpfel.o/_bpfeb.o"));
    }
    let rust = obj.functions.iter().map(|f| f.name.as_str()).chain(obj.maps.iter().map(|m| m.name.as_str())).find(|n| n.starts_with("_ZN") || n.starts_with("_R") || *n == "rust_begin_unwind");
    if let Some(n) = rust {
        vote(Family::Aya, format!("Rust symbol `{n}`"));
    }
    if let Some(m) = obj.maps.iter().find(|m| m.definition == "legacy" && m.extra.is_some_and(|e| e.len == 8) && m.pinning.is_some()) {
        vote(Family::Aya, format!("legacy map `{}` has aya-ebpf's 28-byte bpf_map_def", m.name));
    }
    let libbpf = Family::Libbpf.newest();
    let cilium = Family::Cilium.newest();
    if let Some(p) = obj.programs.iter().find(|p| {
        libbpf.decode_section(&p.section).is_some_and(|d| d.prog_type.is_none()) && cilium.decode_section(&p.section).is_some_and(|d| d.prog_type.is_some())
    }) {
        vote(Family::Cilium, format!("section `{}` has a program type for cilium/ebpf only (prefix match)", p.section));
    }
    if let Some(m) = obj.maps.iter().find(|m| m.definition == "legacy") {
        vote(Family::Cilium, format!("legacy `maps` definition `{}` (refused by libbpf ≥ 1.0)", m.name));
    }
    Inference { loader: family.unwrap_or(Family::Libbpf).newest(), why }
}
