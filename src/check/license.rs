//! Rule family: licenses. The verifier refuses, whatever code is
//! reachable, a struct_ops program (verifier.c `check_struct_ops_btf_id`)
//! and any program calling a kfunc (`add_kfunc_call`) when the object's
//! license is not GPL-compatible. GPL-only helpers are measured by the
//! probe ([`super::probe`]).

use super::{Reached, Target};
use crate::object::{BpfObject, Program};
use crate::uapi::ProgType;
use crate::vocab::{Reason, ReasonKind};

/// License rules for program `p`; `all` is what every instruction of its
/// call graph needs (the verifier scans them all before pruning).
pub(super) fn rules(t: &Target, obj: &BpfObject, p: &Program, all: &Reached, rs: &mut Vec<Reason>) {
    let ki = t.kernel;
    // verifier.c `check_struct_ops_btf_id`: "struct ops programs must
    // have a GPL compatible license".
    if !obj.gpl_compatible() && p.prog_type == Some(ProgType::StructOps) {
        let license = obj.license.as_deref().unwrap_or("");
        rs.push(Reason::fact(
            ReasonKind::StructOpsNonGplProgram,
            &p.section,
            format!("a struct_ops program under license \"{license}\", which is not GPL-compatible: the verifier refuses it (\"struct ops programs must have a GPL compatible license\")"),
        ));
    }
    // verifier.c `add_kfunc_call` (from `add_subprog_and_kfunc`, which
    // scans every instruction before any pruning): "cannot call kernel
    // function from non-GPL compatible program".
    if !obj.gpl_compatible() && !all.calls.is_empty() && !ki.surface().kfuncs.is_empty() {
        let license = obj.license.as_deref().unwrap_or("");
        let first = all.calls.iter().next().and_then(|&e| obj.externs.get(e as usize)).map(|e| e.name.as_str()).unwrap_or("?");
        rs.push(Reason::fact(
            ReasonKind::KfuncFromNonGplProgram,
            first,
            format!("the program calls kernel functions ({first} …) and its license \"{license}\" is not GPL-compatible: the verifier refuses it (\"cannot call kernel function from non-GPL compatible program\")"),
        ));
    }
}
