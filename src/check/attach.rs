//! Rule family: attach targets, as libbpf (`libbpf_find_attach_btf_id`,
//! v1.7.0) and the verifier (`bpf_check_attach_target`) look them up:
//! fentry/fexit/fmod_ret functions, `bpf_lsm_*` hooks, `btf_trace_*`
//! tracepoints and `bpf_iter_*` iterators must be in the kernel's BTF;
//! kprobe targets missing from BTF are warnings (kallsyms may have them);
//! freplace targets and `dummy_*` placeholders are set at run time.

use super::Target;
use crate::btf::Kind;
use crate::loader::{Family, Loader};
use crate::object::Program;
use crate::uapi::{AttachType, ProgType};
use crate::vocab::{Reason, ReasonKind};

/// Attach targets that name no kernel function on purpose: the loader sets
/// the real one with `bpf_program__set_attach_target()` before loading. The
/// convention in use (libbpf-tools' `*dist`/`*slower`: `fentry/dummy_file_open`)
/// is a `dummy_` prefix; no kernel has functions by that name.
pub fn is_placeholder_target(target: &str) -> bool {
    target.starts_with("dummy_")
}
/// The program's attach target exists in the kernel.
pub(super) fn targets(t: &Target, p: &Program, loader: Loader, rs: &mut Vec<Reason>) {
    use ReasonKind as R;
    let ki = t.kernel;
    let fact = Reason::fact;
    if let Some(t) = &p.attach_target {
        // A placeholder the program's user space replaces before loading
        // (`bpf_program__set_attach_target()`; libbpf-tools name them
        // `dummy_*`): the section's target is not what loads.
        let placeholder = |name: &str| {
            fact(
                R::AttachTargetSetAtRuntime,
                name,
                format!("attach target `{t}` is a placeholder its loader replaces (bpf_program__set_attach_target): not checked"),
            )
        };
        use AttachType as A;
        let (needed, kind): (Option<String>, Kind) = match (p.prog_type, p.expected_attach) {
            (Some(ProgType::Tracing), Some(A::TraceFentry | A::TraceFexit | A::ModifyReturn)) => (Some(t.clone()), Kind::Func),
            (Some(ProgType::Tracing), Some(A::TraceRawTp)) => (Some(format!("btf_trace_{t}")), Kind::Typedef),
            (Some(ProgType::Tracing), Some(A::TraceIter)) => (Some(format!("bpf_iter_{t}")), Kind::Func),
            (Some(ProgType::Lsm), _) => (Some(format!("bpf_lsm_{t}")), Kind::Func),
            // freplace: the target is a function of another BPF program,
            // which every loader knows only once user space names it.
            (Some(ProgType::Ext), _) => {
                let how = match loader.family() {
                    // libbpf.c `libbpf_find_attach_btf_id` (v1.7.0).
                    Family::Libbpf => "user space names that program (bpf_program__set_attach_target); libbpf refuses it otherwise (\"attach program FD is not set\")",
                    // prog.go `newProgramWithOptions` (v0.22.0): the target
                    // comes from ProgramSpec.AttachTarget only.
                    Family::Cilium => "user space sets ProgramSpec.AttachTarget (prog.go `newProgramWithOptions`); without it the kernel refuses the load (\"Tracing programs must provide btf_id\")",
                    // aya/src/programs/extension.rs `Extension::load(program, func_name)`.
                    Family::Aya => "user space passes the target program's fd to `Extension::load` (aya/src/programs/extension.rs)",
                };
                rs.push(fact(R::AttachTargetSetAtRuntime, t, format!("freplace target `{t}` is a function of another BPF program: it loads only once {how}")));
                (None, Kind::Func)
            }
            (Some(ProgType::Kprobe), None) => {
                match ki.find_type(t, Kind::Func) {
                    Some(b) => rs.push(fact(R::AttachTargetOk, t, format!("function in {}", b.name))),
                    None if is_placeholder_target(t) => rs.push(placeholder(t)),
                    None => rs.push(fact(
                        R::AttachTargetNotInBtf,
                        t,
                        format!("kprobe target `{t}` is not a function in this kernel's BTF (it may still exist in kallsyms, or be inlined)"),
                    )),
                }
                (None, Kind::Func)
            }
            _ => (None, Kind::Func),
        };
        if let Some(n) = needed {
            match ki.find_type(&n, kind) {
                Some(b) => rs.push(fact(R::AttachTargetOk, &n, format!("{} in {}", kind.name(), b.name))),
                None if is_placeholder_target(t) => rs.push(placeholder(&n)),
                None => rs.push(fact(R::AttachTargetMissing, &n, format!("attach target `{n}` ({}) is not in this kernel", kind.name()))),
            }
        }
    }
}
