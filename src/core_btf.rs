//! `check --core-btf FILE`: CO-RE relocations resolved against a BTF other
//! than the kernel's own, as libbpf does with `btf_custom_path`
//! (`bpf_object_open_opts`): libbpf then loads that file as
//! `obj->btf_vmlinux_override` and `bpf_core_find_cands` takes CO-RE
//! candidates from it alone ("if vmlinux BTF was overridden, don't attempt
//! to load module BTFs"), while helpers, kfuncs, ksyms and attach targets
//! still come from the running kernel's BTF. Typical use: a BTFHub BTF, or
//! a `bpftool gen min_core_btf` reduction, for a kernel built without BTF.
//!
//! Such a BTF is usually not a whole kernel: one without `enum
//! bpf_prog_type` given as a kernel is refused ([`require_kernel`]) with a
//! message pointing to `--core-btf`.

use crate::error::{Error, ErrorKind, Result};
use crate::kernel::LoadOptions;
use crate::model::KernelModel;
use std::path::Path;
use std::sync::Arc;

/// Read a BTF (any kernel input form: raw BTF, vmlinux ELF, ...) to resolve
/// CO-RE against. Module BTFs are not read: libbpf takes none with an
/// override.
pub fn load(path: &Path) -> Result<Arc<KernelModel>> {
    let lo = LoadOptions { modules: false, ..LoadOptions::default() };
    KernelModel::load(&[path.to_path_buf()], &lo).map(Arc::new)
}

/// A kernel given to judge helpers, kfuncs and attach targets must have
/// the kernel's own enums: without `enum bpf_prog_type` the BTF is a
/// CO-RE-only one (BTFHub minimal, `bpftool gen min_core_btf`), which
/// belongs to `--core-btf`.
pub fn require_kernel(ki: &KernelModel, input: &Path) -> Result<()> {
    if ki.kernel().info.reduced || !ki.prog_types().is_empty() {
        return Ok(());
    }
    Err(Error::of(
        ErrorKind::WrongInput,
        input.display().to_string(),
        "no `enum bpf_prog_type` in this BTF: not a kernel's whole BTF (helpers, kfuncs and program types cannot be judged with it); \
         to resolve CO-RE against it, give it with --core-btf FILE and the kernel with --kernel",
    ))
}

/// Give every kernel the CO-RE BTF read from `path`.
pub fn attach(kernels: &mut [KernelModel], path: &Path) -> Result<()> {
    let btf = load(path)?;
    let origin = path.display().to_string();
    for k in kernels {
        k.set_core_btf(Arc::clone(&btf), origin.clone());
    }
    Ok(())
}
