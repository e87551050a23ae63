//! Probe data for the kernels being checked: probe files given by the user
//! (`--probe FILE`), beside a kernel (`probe.json`) or kept with the project
//! (`data/probe/<release>.json`), each attached to the kernel whose BTF it
//! was measured on ([`KernelModel::set_probe`]); a probe of another kernel
//! is refused.

use super::file::{fingerprint_of, ProbeIndex};
use crate::error::{Error, Result};
use crate::model::KernelModel;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of a probe beside a kernel's files in a kernel directory.
pub const PROBE_FILE_NAME: &str = "probe.json";

/// Where probe data kept with the project is looked for: `$BPFABI_DATA/probe`,
/// `data/probe` in the current directory, and `data/probe` of the source tree
/// a `target/<profile>/bpfabi` binary was built in.
pub fn data_probe_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("BPFABI_DATA") {
        out.push(PathBuf::from(d).join("probe"));
    }
    out.push(PathBuf::from("data/probe"));
    if let Some(root) = std::env::current_exe().ok().and_then(|e| e.parent()?.parent()?.parent().map(|p| p.to_path_buf())) {
        out.push(root.join("data/probe"));
    }
    out
}

/// Give each kernel its probe: `probe.json` inside a kernel directory
/// given as input (`kernel_inputs[i]` is the input of `indexes[i]`), then
/// every explicit probe file, matched to a kernel by BTF fingerprint. A
/// probe that belongs to none of the kernels is an error.
/// Kernels still without one then get the project's
/// `data/probe/<release>.json` when it matches (see [`data_probe_dirs`]).
pub fn attach(indexes: &mut [KernelModel], probe_files: &[PathBuf], kernel_inputs: &[PathBuf]) -> Result<()> {
    let mut fps: Vec<Option<super::BtfFingerprint>> = vec![None; indexes.len()];
    let mut fp_of = |i: usize, ki: &KernelModel| -> super::BtfFingerprint {
        match fps.get_mut(i) {
            Some(Some(f)) => f.clone(),
            Some(slot) => slot.insert(fingerprint_of(ki.kernel())).clone(),
            None => fingerprint_of(ki.kernel()),
        }
    };
    for (i, (ki, input)) in indexes.iter_mut().zip(kernel_inputs).enumerate() {
        let path = input.join(PROBE_FILE_NAME);
        if !input.is_dir() || !path.is_file() {
            continue;
        }
        let p = ProbeIndex::load(&path)?;
        let fp = fp_of(i, ki);
        if !p.matches(&fp) {
            return Err(refusal(&path, &p, &[(ki.label().to_string(), fp)]));
        }
        ki.set_probe(Arc::new(p.with_kernel_facts(ki.kernel())));
    }
    // Probe data kept with the project (`data/probe/<release>.json`): used
    // when it belongs to the kernel (same BTF), skipped otherwise.
    for (i, ki) in indexes.iter_mut().enumerate() {
        // A reduced catalog kernel's BTF is not the BTF any probe was
        // measured on (a probe runs on a real kernel, fingerprinting its
        // full vmlinux BTF): no kept probe can match, so none is read (a
        // kernel matrix would parse megabytes of JSON to discard it).
        if ki.probe().is_some() || ki.kernel().info.reduced {
            continue;
        }
        let Some(path) = data_probe_dirs().into_iter().map(|d| d.join(format!("{}.json", ki.label()))).find(|p| p.is_file()) else { continue };
        let Ok(p) = ProbeIndex::load(&path) else { continue };
        if p.matches(&fp_of(i, ki)) {
            ki.set_probe(Arc::new(p.with_kernel_facts(ki.kernel())));
        }
    }
    for f in probe_files {
        let p = ProbeIndex::load(f)?;
        let mut seen = Vec::new();
        let mut hit = None;
        for (i, ki) in indexes.iter().enumerate() {
            let fp = fp_of(i, ki);
            if p.matches(&fp) {
                hit = Some(i);
                break;
            }
            seen.push((ki.label().to_string(), fp));
        }
        match hit.and_then(|i| indexes.get_mut(i)) {
            Some(ki) => {
                let p = p.with_kernel_facts(ki.kernel());
                ki.set_probe(Arc::new(p))
            }
            None => return Err(refusal(f, &p, &seen)),
        }
    }
    Ok(())
}

fn refusal(path: &Path, p: &ProbeIndex, kernels: &[(String, super::BtfFingerprint)]) -> Error {
    let ks: Vec<String> = kernels.iter().map(|(l, f)| format!("{l} (BTF sha256 {})", f.vmlinux.get(..12).unwrap_or(""))).collect();
    Error::of(
        crate::error::ErrorKind::Mismatch,
        path.display().to_string(),
        format!("probe of another kernel: it was made on {}, which is not {}; refusing to judge with it", p.kernel_label(), ks.join(" or ")),
    )
}
