//! Real loads: does the kernel accept the program? `bpfabi vmtest` boots a
//! kernel package under QEMU with this binary as `/init` and loads every
//! program of every object there with libbpf, one at a time; `bpfabi check
//! --load` does the same on the running kernel. Both give check-shaped
//! results (verdict + the decisive libbpf/verifier lines) and can be set
//! next to `check`'s predictions ([`compare`]).
//!
//! | module | job |
//! |---|---|
//! | [`package`] | kernel image, config and the modules to insert (from .deb, trees, files) |
//! | [`modinfo`] | `.modinfo` of a module: dependencies, soft dependencies, aliases; load order |
//! | [`cpio`] | the initramfs writer (newc) |
//! | [`vm`] | QEMU: initramfs, KVM→TCG fallback, watchdogs, restarts |
//! | [`guest`] | PID 1 inside the VM |
//! | [`external`] | loads with a reference loader (cilium/ebpf, aya) instead of libbpf |
//! | [`protocol`] | host↔guest job and messages |
//! | `libbpf` (feature `libbpf`) | the loader: libbpf 1.7, one unit at a time |
//! | [`record`] | a unit's outcome and its decisive lines |
//! | [`compare`] | prediction vs reality, confusion counts |

pub mod compare;
pub mod cpio;
pub mod external;
pub mod guest;
#[cfg(feature = "libbpf")]
pub mod libbpf;
pub mod modinfo;
pub mod package;
pub mod protocol;
pub mod record;
pub mod vm;

use crate::error::{Error, Result};
use std::path::Path;

/// A BPF object to load: its display name, ELF bytes and what the object
/// reader made of them.
#[derive(Debug, Clone)]
pub struct InputObject {
    /// Name.
    pub name: String,
    /// Bytes.
    pub bytes: Vec<u8>,
    /// The object as read ([`crate::object::locate`]); `None` when it does
    /// not parse (its bytes are still loaded: the loader has its say).
    pub object: Option<crate::object::BpfObject>,
}

impl InputObject {
    /// An object already read (`check --load` loads what `check` read).
    pub fn of(o: &crate::object::BpfObject) -> InputObject {
        InputObject { name: o.path.clone(), bytes: o.bytes.as_slice().to_vec(), object: Some(o.clone()) }
    }
}

/// Read BPF objects (or executables embedding them: each embedded object
/// becomes `file@0xOFFSET`) with the object reader. Names are relative to
/// `root` when given.
pub fn read_objects(paths: &[std::path::PathBuf], root: Option<&Path>) -> Result<Vec<InputObject>> {
    let mut out = Vec::new();
    for p in paths {
        let data = crate::bytes::Bytes::from_path(p).map_err(|e| Error::io(p.display().to_string(), e))?;
        let name = match root.and_then(|r| p.strip_prefix(r).ok()) {
            Some(rel) => rel.display().to_string(),
            None => p.display().to_string(),
        };
        for l in crate::object::locate(&data, &name)? {
            out.push(InputObject { name: l.name, bytes: l.bytes.as_slice().to_vec(), object: l.object.ok() });
        }
    }
    Ok(out)
}

/// Whether this binary can load programs (built with the `libbpf` feature).
pub const CAN_LOAD: bool = cfg!(feature = "libbpf");

/// Load every unit of every object on the running kernel (`check --load`).
/// Everything is released after each unit.
#[cfg(feature = "libbpf")]
pub fn load_here(objects: &[InputObject]) -> Vec<(usize, record::LoadRecord)> {
    load_here_except(objects, &|_, _| false)
}

/// [`load_here`] without the programs `off(object, program)` names: they
/// are not loaded, as libbpf loads no program after
/// `bpf_program__set_autoload(prog, false)` (`check --load --autoload-off`).
#[cfg(feature = "libbpf")]
pub fn load_here_except(objects: &[InputObject], off: &dyn Fn(&str, &str) -> bool) -> Vec<(usize, record::LoadRecord)> {
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        match libbpf::units(&o.bytes, &o.name) {
            Err(r) => out.push((i, *r)),
            Ok(us) => out.extend(
                us.iter().filter(|u| !(u.kind == record::UnitKind::Program && off(&o.name, &u.name))).map(|u| (i, libbpf::load_unit(&o.bytes, &o.name, u))),
            ),
        }
    }
    out
}
