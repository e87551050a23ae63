//! `btf dump KERNEL --min-core OBJ...`: the kernel's BTF cut down to what
//! the objects' CO-RE relocations need, as `bpftool gen min_core_btf INPUT
//! OUTPUT OBJ...` makes it (bpftool `src/gen.c` `minimize_btf`, v7.5.0):
//! every relocation of every program (autoload or not) is resolved against
//! the kernel's vmlinux BTF alone, with one candidate cache per object
//! (`btfgen_record_obj`), by the same resolver `check` uses
//! ([`super::core`]); what the first matching candidate reaches is marked
//! and written by [`crate::btf::min_core`]. The result is meant for
//! libbpf's `btf_custom_path` (`check --core-btf`): CO-RE then resolves on
//! it as on the whole kernel.
//!
//! As bpftool, an object with a relocation whose candidates disagree (an
//! ambiguity) or that libbpf cannot apply is an error; unlike bpftool the
//! other objects are still cut, and the error is reported.

use super::core::{resolve_object_core, CoreOutcome};
use crate::btf::min_core::Cut;
use crate::error::{Error, ErrorKind, Result};
use crate::model::KernelModel;
use crate::object::btf_ext::CoreReloKind;
use crate::object::BpfObject;
use std::collections::BTreeSet;

/// A cut and what went into it.
#[derive(Debug)]
#[non_exhaustive]
pub struct MinCore {
    /// The raw BTF.
    pub btf: Vec<u8>,
    /// Types kept (of the kernel's).
    pub types: usize,
    /// Types of the kernel's BTF.
    pub kernel_types: usize,
    /// Objects whose relocations were recorded.
    pub objects: usize,
    /// Relocations recorded (`type_id_local` ones need no kernel type).
    pub relocations: usize,
    /// Objects left out, one error each.
    pub errors: Vec<Error>,
}

/// Cut `kernel`'s vmlinux BTF to what `objects`' CO-RE relocations reach.
/// A catalog kernel (no members) or split BTF cannot be cut.
pub fn min_core(kernel: &KernelModel, objects: &[BpfObject]) -> Result<MinCore> {
    let k = kernel.kernel();
    let origin = k.vmlinux.name.clone();
    if k.info.reduced {
        return Err(Error::of(ErrorKind::WrongInput, origin, "a catalog kernel keeps no members of its types: a min_core cut needs the kernel's whole BTF"));
    }
    let btf = &k.vmlinux.btf;
    if btf.is_split() {
        return Err(Error::of(ErrorKind::WrongInput, origin, "split BTF: give the vmlinux BTF it continues"));
    }
    let mut cut = Cut::new(btf);
    let (mut done, mut relocations, mut errors) = (0, 0, Vec::new());
    for obj in objects {
        let Some(ob) = obj.btf.as_deref() else {
            done += 1;
            continue;
        };
        let res = resolve_object_core(ob, &obj.core_relos, &BTreeSet::new(), kernel);
        let mut reaches = Vec::new();
        let (mut failed, mut n) = (None, 0);
        for (r, c) in obj.core_relos.iter().zip(&res) {
            if r.kind == CoreReloKind::TypeIdLocal {
                continue;
            }
            match &c.outcome {
                // relo_core.c `bpf_core_calc_relo_insn` fails: bpftool stops.
                CoreOutcome::Ambiguous(w) | CoreOutcome::Fatal(w) => {
                    failed = Some(format!("{} {} in {}: {w}", r.kind, r.path, r.section));
                    break;
                }
                _ => reaches.extend(c.reach.clone()),
            }
            n += 1;
        }
        if let Some(why) = failed {
            errors.push(Error::of(ErrorKind::Unsupported, obj.path.clone(), format!("left out of the cut (bpftool gen min_core_btf fails on it too): {why}")));
            continue;
        }
        let mut marked = cut.clone();
        match reaches.iter().try_for_each(|r| marked.mark(r)) {
            Ok(()) => {
                cut = marked;
                done += 1;
                relocations += n;
            }
            Err(e) => errors.push(Error::of(ErrorKind::Malformed, obj.path.clone(), format!("left out of the cut: {e}"))),
        }
    }
    Ok(MinCore { btf: cut.write(), types: cut.types(), kernel_types: btf.own_types(), objects: done, relocations, errors })
}
