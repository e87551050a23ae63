//! Commands over kernels, end to end: what a kernel offers (`surface`),
//! fingerprints (`versions`), what changed between two (`diff`), BTF health
//! (`lint`). Each takes kernels already read and returns a result that
//! writes itself ([`Render`]) as its command does.

use crate::diff::{Diff, DiffOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::kernel::Kernel;
use crate::lint::Lint;
use crate::model::KernelModel;
use crate::report::{self, matches_pattern, Format, Render};
use crate::surface::Surface;
use crate::versions::{hex, Key, Version};
use std::io::{self, Write};

/// What part of a surface to show.
#[derive(Debug, Clone, Default)]
pub struct SurfaceSelect {
    /// Only names matching this (substring, or a glob with `*` and `?`).
    pub grep: Option<String>,
    /// Only kfuncs.
    pub kfuncs_only: bool,
    /// Only helpers.
    pub helpers_only: bool,
}

/// The part of a kernel's surface selected.
pub struct SurfaceReport {
    /// Helpers and kfuncs.
    pub surface: Surface,
    /// As selected.
    pub select: SurfaceSelect,
}

/// The helpers and kfuncs of a kernel, as selected (the surface taken out
/// of `k`, not copied).
pub fn surface(k: &mut KernelModel, select: SurfaceSelect) -> SurfaceReport {
    let mut s = k.take_surface();
    if let Some(p) = &select.grep {
        s.retain(|n| matches_pattern(p, n));
    }
    if select.kfuncs_only {
        s.helpers.clear();
    }
    if select.helpers_only {
        s.kfuncs.clear();
    }
    SurfaceReport { surface: s, select }
}

impl Render for SurfaceReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::C];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::surface::json(w, &self.surface),
            Format::C => report::surface::c_header(w, &self.surface),
            _ => report::surface::table(w, &self.surface, !self.select.helpers_only, !self.select.kfuncs_only),
        }
    }
}

/// Which fingerprints to list besides the kfuncs'.
#[derive(Debug, Clone, Default)]
pub struct VersionsSpec {
    /// Named types (`struct task_struct`, `task_struct`).
    pub types: Vec<String>,
    /// Every named type the kfunc prototypes reach.
    pub reachable_types: bool,
    /// Only names matching this.
    pub grep: Option<String>,
}

/// Fingerprints of a kernel's kfuncs and named types.
pub struct VersionsReport {
    /// The kernel's release, when known.
    pub release: Option<String>,
    /// kfuncs first, then types.
    pub versions: Vec<Version>,
}

/// The fingerprints the spec asks for; a type name the kernel lacks is an
/// error naming the closest ones.
pub fn versions(k: &KernelModel, spec: &VersionsSpec) -> Result<VersionsReport> {
    let btf = k.vmlinux();
    let mut keys: Vec<Key> = Vec::new();
    for t in &spec.types {
        keys.push(crate::versions::lookup_type_name(btf, t).map_err(|what| Error::of(ErrorKind::NotFound, k.label(), what))?);
    }
    let mut v = k.versions();
    let mut out: Vec<Version> = k
        .surface()
        .kfuncs
        .iter()
        .filter_map(|f| {
            let (p, d) = v.kfuncs.get(&(f.name.clone(), f.module.clone()))?;
            Some(Version::new(f.name.clone(), "kfunc", f.module.clone(), hex(*p), hex(*d)))
        })
        .collect();
    if spec.reachable_types {
        let mut r = v.vmlinux_keys();
        r.sort();
        keys.extend(r);
    }
    for key in keys {
        if let Some((sh, dp)) = v.type_version(btf, &key) {
            out.push(Version::new(key.name.clone(), key.class.as_str(), None, hex(sh), hex(dp)));
        }
    }
    drop(v);
    if let Some(p) = &spec.grep {
        out.retain(|x| matches_pattern(p, &x.name));
    }
    Ok(VersionsReport { release: k.kernel().release.clone(), versions: out })
}

impl Render for VersionsReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::versions::json(w, self.release.as_deref(), &self.versions),
            _ => report::versions::table(w, &self.versions),
        }
    }
}

/// What `diff` compares besides kfuncs and helpers.
#[derive(Debug, Clone, Default)]
pub struct DiffSpec {
    /// Also these named types.
    pub types: Vec<String>,
    /// Every named vmlinux type.
    pub all_types: bool,
    /// Not the types kfunc prototypes reach.
    pub no_kfunc_types: bool,
}

/// How the text of a diff looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffText {
    /// ANSI colours.
    pub color: bool,
    /// Every type change, not one line per changed type.
    pub each_type_change: bool,
}

/// What changed between two kernels, graded by the default policy.
pub struct DiffReport {
    /// The changes.
    pub diff: Diff,
    /// How the table looks.
    pub text: DiffText,
}

/// Compare two kernels; a `types` name neither has is an error.
pub fn diff(old: &KernelModel, new: &KernelModel, spec: &DiffSpec, text: DiffText) -> Result<DiffReport> {
    for t in &spec.types {
        if crate::versions::lookup_type_name(old.vmlinux(), t).is_err() {
            crate::versions::lookup_type_name(new.vmlinux(), t).map_err(|what| Error::of(ErrorKind::NotFound, "--type", what))?;
        }
    }
    let opts = DiffOptions::default().types(spec.types.clone()).all_types(spec.all_types).kfunc_types(!spec.no_kfunc_types);
    Ok(DiffReport { diff: crate::diff::diff(old, new, &opts, &crate::policy::DefaultPolicy), text })
}

impl Render for DiffReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Markdown];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::diff::json(w, &self.diff),
            Format::Markdown => report::diff::markdown(w, &self.diff),
            _ => report::diff::text(w, &self.diff, self.text.color, self.text.each_type_change),
        }
    }
}

/// The BTF health of a kernel build.
pub struct LintReport {
    /// The kernel's label.
    pub label: String,
    /// Findings and facts.
    pub lint: Lint,
}

/// Lint a kernel (read with its bad modules kept); `policy` grades the
/// findings (`DefaultPolicy`, or a manifest's `[grades]`).
pub fn lint(k: &Kernel, policy: &dyn crate::policy::Policy) -> LintReport {
    LintReport { label: k.label(), lint: crate::lint::lint_with(k, policy) }
}

impl Render for LintReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::lint::json(w, &self.label, &self.lint),
            _ => report::lint::table(w, &self.label, &self.lint),
        }
    }
}

/// What the running kernel's verifier allows (`probe`).
pub struct ProbeReport {
    /// The decisions.
    pub probe: crate::probe::Probe,
    /// The table lists every decision, not the summary.
    pub detail: bool,
}

impl Render for ProbeReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::probe::json(w, &self.probe),
            _ if self.detail => report::probe::detail(w, &self.probe),
            _ => report::probe::table(w, &self.probe),
        }
    }
}

/// The entries of a catalog (`catalog list`).
pub struct CatalogList(pub crate::catalog::Index);

/// The entries of the catalog directory `dir`, or of the built-in one.
pub fn catalog_list(dir: Option<&std::path::Path>) -> Result<CatalogList> {
    use crate::catalog;
    Ok(CatalogList(match dir {
        Some(d) => {
            let p = d.join("index.json");
            catalog::read_index(&std::fs::read_to_string(&p).map_err(|e| Error::io(p.display().to_string(), e))?, &p.display().to_string())?
        }
        None => catalog::builtin_index()?,
    }))
}

impl Render for CatalogList {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        let entries = &self.0.entries;
        if format == Format::Json {
            return report::write_json(w, crate::catalog::INDEX_SCHEMA, &serde_json::json!({ "entries": entries }));
        }
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                vec![
                    e.release.clone(),
                    e.arch.clone(),
                    e.suites.join(","),
                    e.version.clone().unwrap_or_default(),
                    e.kfuncs.to_string(),
                    e.helpers.to_string(),
                    format!("{:.1} KiB", e.bytes as f64 / 1024.0),
                    format!("{:.1} MiB", e.full_btf_bytes as f64 / 1048576.0),
                ]
            })
            .collect();
        let total: u64 = entries.iter().map(|e| e.bytes).sum();
        writeln!(w, "{} kernels, {:.1} KiB in all", entries.len(), total as f64 / 1024.0)?;
        report::write_table(w, &["RELEASE", "ARCH", "SUITES", "VERSION", "KFUNCS", "HELPERS", "SIZE", "FULL BTF"], &rows)
    }
}

/// A kernel's vmlinux BTF as `btf dump` writes it: a C header
/// (`vmlinux.h`, [`crate::btf::c_dump`]) or the raw BTF bytes; with
/// `--min-core`, the cut [`crate::check::min_core`] made of it.
pub struct BtfDump {
    /// The kernel's release, for the header's comment.
    pub release: Option<String>,
    /// The BTF written (the kernel's vmlinux BTF, or the cut).
    pub btf: std::sync::Arc<crate::btf::Btf>,
    /// `--min-core`: what went into the cut (its errors are the objects left out).
    pub cut: Option<crate::check::min_core::MinCore>,
}

/// The vmlinux BTF of `k`, to dump.
pub fn btf_dump(k: Kernel) -> BtfDump {
    BtfDump { btf: k.vmlinux.btf.clone(), release: k.release, cut: None }
}

/// `btf dump --min-core`: `k`'s vmlinux BTF cut to what the CO-RE
/// relocations of `objects` reach ([`crate::check::min_core::min_core`]).
pub fn btf_dump_min_core(k: Kernel, objects: &[crate::object::BpfObject]) -> Result<BtfDump> {
    let release = k.release.clone();
    let cut = crate::check::min_core::min_core(&KernelModel::new(k), objects)?;
    let btf =
        crate::btf::Btf::parse(crate::bytes::Bytes::from_vec(cut.btf.clone())).map_err(|e| Error::of(ErrorKind::Malformed, "min-core cut", e.to_string()))?;
    Ok(BtfDump { release, btf: std::sync::Arc::new(btf), cut: Some(cut) })
}

impl Render for BtfDump {
    const FORMATS: &'static [Format] = &[Format::C, Format::Raw];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        let btf = &self.btf;
        match format {
            Format::Raw => w.write_all(btf.raw_bytes().as_slice()),
            _ => {
                let release = self.release.as_deref().unwrap_or("unknown kernel");
                let what = if self.cut.is_some() { ", cut to the CO-RE relocations of the objects given" } else { "" };
                writeln!(w, "/* vmlinux.h of {release}{what}, generated by bpfabi from its BTF. */")?;
                w.write_all(crate::btf::c_dump::header(btf, "__VMLINUX_H__").as_bytes())
            }
        }
    }
}
