//! Probe files as input: `bpfabi.probe/1` JSON read as untrusted bytes
//! (size cap, schema and shape checks, errors naming file, line and column),
//! and matched to a kernel by the SHA-256 of its vmlinux BTF.

use super::{BtfFingerprint, Decision, LoadOutcome, Probe, SCHEMA};
use crate::error::{Error, Result};
use crate::kernel::Kernel;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// Largest probe file read (a 7.x probe with every kfunc is a few MiB).
pub const MAX_PROBE_FILE: u64 = 256 << 20;
/// Shape bounds a probe document must respect.
pub const MAX_VARIANTS: usize = 4096;
/// Most entries a probe file may hold (a bound for hostile files).
pub const MAX_ENTRIES: usize = 1 << 20;

/// SHA-256 of a vmlinux BTF blob.
pub fn fingerprint_bytes(btf: &[u8]) -> BtfFingerprint {
    let digest = Sha256::digest(btf);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    BtfFingerprint { algorithm: "sha256".into(), vmlinux: hex, vmlinux_bytes: btf.len() as u64 }
}

/// The fingerprint of a kernel: its vmlinux BTF bytes, however they were
/// read (sysfs, raw `.BTF`, from an ELF or a compressed image: same bytes).
pub fn fingerprint_of(kernel: &Kernel) -> BtfFingerprint {
    fingerprint_bytes(kernel.vmlinux.btf.raw_bytes().as_slice())
}

/// Parse and validate a probe document.
pub fn read_probe(data: &[u8], origin: &str) -> Result<Probe> {
    if data.len() as u64 > MAX_PROBE_FILE {
        return Err(Error::new(origin, format!("{} bytes: larger than the {MAX_PROBE_FILE}-byte cap for probe files", data.len())));
    }
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    let probe: Probe = match serde_json::from_slice(data) {
        Ok(p) => p,
        Err(e) => {
            // Say "wrong schema" rather than "missing field" when that is the cause.
            if let Ok(Head { schema: Some(s) }) = serde_json::from_slice::<Head>(data) {
                if !super::SCHEMAS_READ.contains(&s.as_str()) {
                    return Err(Error::new(origin, format!("schema `{s}`: expected `{SCHEMA}`")));
                }
            }
            return Err(Error::new(origin, format!("line {} column {}: not a {SCHEMA} document: {e}", e.line(), e.column())));
        }
    };
    validate(&probe).map_err(|what| Error::new(origin, what))?;
    Ok(probe)
}

fn validate(p: &Probe) -> Result<(), String> {
    if !super::SCHEMAS_READ.contains(&p.schema.as_str()) {
        return Err(format!("schema `{}`: expected `{SCHEMA}`", p.schema));
    }
    let fp = &p.kernel.btf;
    if fp.algorithm != "sha256" {
        return Err(format!("kernel.btf.algorithm `{}`: expected `sha256`", fp.algorithm));
    }
    if fp.vmlinux.len() != 64 || !fp.vmlinux.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err("kernel.btf.vmlinux: expected 64 lowercase hex digits (a SHA-256)".into());
    }
    if p.variants.len() > MAX_VARIANTS {
        return Err(format!("{} variants: more than {MAX_VARIANTS}", p.variants.len()));
    }
    for (i, v) in p.variants.iter().enumerate() {
        if v.variant.label.is_empty() || v.variant.prog_type.is_empty() {
            return Err(format!("variants[{i}]: empty label or prog_type"));
        }
        if v.helpers.len() > MAX_ENTRIES || v.kfuncs.len() > MAX_ENTRIES {
            return Err(format!("variants[{i}] ({}): more than {MAX_ENTRIES} entries", v.variant.label));
        }
        if v.load != LoadOutcome::Loadable && (!v.helpers.is_empty() || !v.kfuncs.is_empty()) {
            return Err(format!("variants[{i}] ({}): decisions for a variant that did not load", v.variant.label));
        }
        if v.contexts.len() > MAX_VARIANTS || v.contexts.iter().any(|c| c.helpers.len() > MAX_ENTRIES || c.kfuncs.len() > MAX_ENTRIES) {
            return Err(format!("variants[{i}] ({}): more than {MAX_VARIANTS} contexts or {MAX_ENTRIES} context entries", v.variant.label));
        }
        if v.members.len() > MAX_VARIANTS || v.members.iter().any(|m| m.helpers.len() > MAX_ENTRIES || m.kfuncs.len() > MAX_ENTRIES) {
            return Err(format!("variants[{i}] ({}): more than {MAX_VARIANTS} members or {MAX_ENTRIES} member entries", v.variant.label));
        }
    }
    Ok(())
}

/// Read a probe file from disk.
pub fn load_probe(path: &Path) -> Result<Probe> {
    let origin = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(&origin, e))?;
    if meta.len() > MAX_PROBE_FILE {
        return Err(Error::new(&origin, format!("{} bytes: larger than the {MAX_PROBE_FILE}-byte cap for probe files", meta.len())));
    }
    let data = std::fs::read(path).map_err(|e| Error::io(&origin, e))?;
    read_probe(&data, &origin)
}

/// A probe prepared for lookups by `check`.
#[derive(Debug, Clone)]
pub struct ProbeIndex {
    /// Where it was read from.
    pub origin: String,
    /// The probe.
    pub probe: Probe,
    /// Per variant: helper id -> position in its `helpers`.
    helpers: Vec<HashMap<u32, usize>>,
    /// Per variant: positions in its `kfuncs`, sorted by name (stable: the
    /// last of equal names is the one that counts, as in a map).
    kfuncs: Vec<Vec<usize>>,
    /// Iterator targets with their own `get_func_proto` in the kernel this
    /// probe is attached to (see [`ProbeIndex::with_kernel_facts`]); `None`:
    /// not known.
    iter_protos: Option<std::collections::BTreeSet<String>>,
}

impl ProbeIndex {
    /// Index a probe read from `origin` (positions only: the decisions stay
    /// in the probe).
    pub fn new(probe: Probe, origin: impl Into<String>) -> ProbeIndex {
        let helpers = probe.variants.iter().map(|v| v.helpers.iter().enumerate().map(|(j, h)| (h.id, j)).collect()).collect();
        let kfuncs = probe
            .variants
            .iter()
            .map(|v| {
                let mut order: Vec<usize> = (0..v.kfuncs.len()).collect();
                order.sort_by(|&a, &b| v.kfuncs.get(a).map(|k| &k.name).cmp(&v.kfuncs.get(b).map(|k| &k.name)));
                order
            })
            .collect();
        ProbeIndex { origin: origin.into(), probe, helpers, kfuncs, iter_protos: None }
    }

    /// Iterator targets with a `get_func_proto` of their own in the kernel
    /// this probe is attached to (`None`: not known).
    pub fn iter_protos(&self) -> Option<&std::collections::BTreeSet<String>> {
        self.iter_protos.as_ref()
    }

    /// Facts of the kernel this probe belongs to that `check` needs with
    /// it: which iterator targets have a `get_func_proto` of their own. A
    /// target's `get_func_proto` is referenced from its `struct
    /// bpf_iter_reg` by address, so it is never inlined and the vmlinux BTF
    /// lists it as a FUNC `bpf_iter_<target>_get_func_proto` when it exists
    /// (net/ipv4/tcp_ipv4.c `bpf_iter_tcp_get_func_proto`, v5.19); a target
    /// without one has the helpers of every other target.
    pub fn with_kernel_facts(mut self, kernel: &Kernel) -> ProbeIndex {
        let mut protos = std::collections::BTreeSet::new();
        for kb in kernel.btfs() {
            for t in kb.btf.types_of_kind(crate::btf::Kind::Func) {
                if let Some(target) = t.name().strip_prefix("bpf_iter_").and_then(|n| n.strip_suffix("_get_func_proto")) {
                    protos.insert(target.to_string());
                }
            }
        }
        self.iter_protos = Some(protos);
        self
    }

    /// The decision about helper `id` in variant `v`, with the helper's name.
    pub fn helper(&self, v: usize, id: u32) -> Option<&super::HelperDecision> {
        let j = *self.helpers.get(v)?.get(&id)?;
        self.probe.variants.get(v)?.helpers.get(j)
    }

    /// The decision about kfunc `name` in variant `v`.
    pub fn kfunc(&self, v: usize, name: &str) -> Option<&Decision> {
        let ks = &self.probe.variants.get(v)?.kfuncs;
        let order = self.kfuncs.get(v)?;
        // The last position whose name is <= `name`.
        let end = order.partition_point(|&j| ks.get(j).is_some_and(|k| k.name.as_str() <= name));
        let k = order.get(end.checked_sub(1)?).and_then(|&j| ks.get(j))?;
        (k.name == name).then_some(&k.decision)
    }

    /// Read and index a probe file.
    pub fn load(path: &Path) -> Result<ProbeIndex> {
        Ok(ProbeIndex::new(load_probe(path)?, path.display().to_string()))
    }

    /// Does this probe belong to a kernel with this fingerprint?
    pub fn matches(&self, fp: &BtfFingerprint) -> bool {
        let mine = &self.probe.kernel.btf;
        mine.algorithm == fp.algorithm && mine.vmlinux == fp.vmlinux && mine.vmlinux_bytes == fp.vmlinux_bytes
    }

    /// A short name of the probed kernel for messages.
    pub fn kernel_label(&self) -> String {
        let fp = &self.probe.kernel.btf.vmlinux;
        format!("{} (BTF sha256 {})", self.probe.kernel.release.as_deref().unwrap_or("unknown release"), fp.get(..12).unwrap_or(fp))
    }
}
