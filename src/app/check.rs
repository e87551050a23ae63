//! `check` end to end: objects and kernels read side by side, the rules of
//! [`crate::check`] run, then what was asked on top: a stability manifest's
//! findings about deprecated kfuncs (`--policy`, docs/policy.md) or real
//! loads on the running kernel (`--load`). [`CheckReport`] writes itself in
//! every format `check` has.

use crate::check::alternatives::Selection;
use crate::check::{CheckOptions, ProgramResult};
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::inputs::Found;
use crate::kernel::{KernelSource, LoadOptions};
use crate::loader::{evidence, LoaderChoice};
use crate::model::KernelModel;
use crate::object::BpfObject;
use crate::policy::findings::{Finding, SarifLoc};
use crate::policy::manifest::{Action, Manifest};
use crate::policy::uses;
use crate::report::{self, Format, Render};
use std::io::{self, Write};
use std::path::PathBuf;

/// What to check, against what, and how (the options of `bpfabi check`).
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// BPF objects, files embedding them, directories, packages.
    pub objects: Vec<PathBuf>,
    /// Target kernels (any kernel input); none: the running kernel.
    pub kernels: Vec<PathBuf>,
    /// Read the modules found with the kernels.
    pub modules: bool,
    /// Probe files (`bpfabi probe` JSON), matched to kernels by BTF.
    pub probes: Vec<PathBuf>,
    /// BTF CO-RE relocations resolve against instead of the kernel's.
    pub core_btf: Option<PathBuf>,
    /// Load-time values of `.rodata` variables.
    pub rodata: Vec<(String, u64)>,
    /// `--optional`: programs whose failure does not fail their object
    /// (`[OBJ_GLOB:]PROG_GLOB`, [`crate::check::alternatives::Selection`]).
    pub optional: Vec<String>,
    /// `--autoload-off`: programs not judged at all.
    pub autoload_off: Vec<String>,
    /// `--retarget`: `[OBJ_GLOB:]PROG_GLOB=TARGET`, the attach target user
    /// space sets ([`crate::check::alternatives::Retarget`]).
    pub retarget: Vec<String>,
    /// Whose rules apply.
    pub loader: LoaderChoice,
    /// `loader` was given (`--loader`), so a configuration's does not apply.
    pub loader_given: bool,
    /// List every requirement, not only problems.
    pub explain: bool,
    /// A stability manifest: findings at uses of deprecated kfuncs.
    pub policy: Option<PathBuf>,
    /// With `policy`: deprecated uses are errors.
    pub deny_deprecated: bool,
    /// Also load every program for real on the running kernel.
    pub load: bool,
    /// With `load` and a cilium/ebpf or aya loader: the reference loader
    /// binary (default: scripts/build-loaders' one of that version).
    pub loader_bin: Option<std::path::PathBuf>,
}

/// The objects under the spec's paths and its kernels (CO-RE BTF and probe
/// data attached), read at once; the caller reports what [`Found`] skipped
/// and could not read.
pub fn read(spec: &CheckSpec) -> (Found, Result<Vec<KernelModel>>) {
    let lo = LoadOptions { modules: spec.modules, progress: true, ..LoadOptions::default() };
    let load_kernels = || -> Result<Vec<KernelModel>> {
        // Every --kernel parsed before the first is read; none: the running kernel.
        let sources = KernelSource::parse_or_running(&spec.kernels)?;
        let mut kernels = sources.iter().map(|s| KernelModel::from_sources(std::slice::from_ref(s), &lo)).collect::<Result<Vec<_>>>()?;
        for (k, input) in kernels.iter().zip(&spec.kernels) {
            crate::core_btf::require_kernel(k, input)?;
        }
        if let Some(f) = &spec.core_btf {
            crate::core_btf::attach(&mut kernels, f)?;
        }
        crate::probe::attach::attach(&mut kernels, &spec.probes, &spec.kernels)?;
        Ok(kernels)
    };
    std::thread::scope(|s| {
        let kernels = s.spawn(load_kernels);
        let found = crate::inputs::find_objects(&spec.objects, true);
        (found, kernels.join().unwrap_or_else(|_| Err(Error::new("--kernel", "the kernel reader panicked"))))
    })
}

/// Check the objects on the kernels as the spec says.
pub fn run(spec: &CheckSpec, mut objects: Vec<BpfObject>, kernels: Vec<KernelModel>) -> Result<CheckReport> {
    crate::object::unknown_rodata(&objects, spec.rodata.iter().map(|(n, _)| n.as_str()))?;
    let retargets = spec.retarget.iter().map(|s| crate::check::alternatives::Retarget::parse(s)).collect::<std::result::Result<Vec<_>, String>>();
    retargets.and_then(|r| crate::check::alternatives::retarget(&mut objects, &r)).map_err(|e| Error::of(crate::error::ErrorKind::NotFound, "", e))?;
    let selection = crate::check::alternatives::Selection::parse(&spec.optional, &spec.autoload_off, &objects)
        .map_err(|e| Error::of(crate::error::ErrorKind::NotFound, "", e))?;
    let opts = CheckOptions::default().explain(spec.explain).rodata(spec.rodata.iter().cloned().collect()).loader(spec.loader).selection(selection.clone());
    let results = crate::check::check(&objects, &kernels, &opts);
    let labels: Vec<String> = kernels.iter().map(|k| k.label().to_string()).collect();
    let extra = if spec.load {
        Extra::Loads(loads(spec, &objects, &labels, &results, &selection)?)
    } else if let Some(m) = &spec.policy {
        let m = Manifest::load(m)?;
        Extra::Policy(uses::deprecations(&m, &objects, &kernels, uses::UseOptions { deny_deprecated: spec.deny_deprecated }))
    } else {
        Extra::None
    };
    Ok(CheckReport { kernels: labels, results, objects, explain: spec.explain, extra })
}

/// Notes for stderr before the check: with `--loader auto`, what was
/// inferred for each object and why; a fixed loader the object's evidence
/// contradicts.
pub fn loader_notes(objs: &[BpfObject], choice: LoaderChoice) -> Vec<String> {
    let mut out = Vec::new();
    for o in objs {
        let inf = evidence::infer(o);
        match choice {
            LoaderChoice::Auto if inf.why.is_empty() => out.push(format!("{}: checked as {} (no evidence of another loader)", o.path, inf.loader)),
            LoaderChoice::Auto => out.push(format!("{}: checked as {}: {}", o.path, inf.loader, inf.why.join("; "))),
            LoaderChoice::Fixed(l) if !inf.why.is_empty() && inf.loader.family() != l.family() => {
                out.push(format!("{}: checked as {l}, but it looks built for {} ({})", o.path, inf.loader, inf.why.join("; ")))
            }
            LoaderChoice::Fixed(_) => {}
        }
    }
    out
}

/// `check --load`: real loads on the running kernel, paired with the
/// predictions.
pub struct Loads {
    /// The kernel's label.
    pub kernel: String,
    /// Prediction next to reality, per unit.
    #[cfg(feature = "libbpf")]
    pub rows: Vec<crate::vmtest::compare::Row>,
    /// The loads as `vmtest` reports them.
    #[cfg(feature = "libbpf")]
    pub loads: Vec<report::vmtest::LoadResult>,
    /// Object verdicts from the real loads (programs picked at run time
    /// accounted for).
    #[cfg(feature = "libbpf")]
    pub objects: Vec<crate::check::alternatives::ObjectVerdict>,
}

/// The real loads skip the programs `--autoload-off` names (the in-process
/// libbpf loader does not load them; a reference loader's records of them
/// are dropped), and the object verdicts from the real loads take the roles
/// of the predictions (`--optional`, alternative groups).
#[cfg(feature = "libbpf")]
fn loads(spec: &CheckSpec, objects: &[BpfObject], labels: &[String], results: &[ProgramResult], sel: &Selection) -> Result<Loads> {
    use crate::check::alternatives::Pick;
    use crate::vmtest::{compare, load_here_except, InputObject};
    if !spec.kernels.is_empty() {
        return Err(Error::new("--load", "loads happen on the running kernel: use it without --kernel (or `bpfabi vmtest`)"));
    }
    let objs: Vec<InputObject> = objects.iter().map(InputObject::of).collect();
    let LoaderChoice::Fixed(loader) = spec.loader else {
        return Err(Error::new("--load", "name the loader to load with (--loader libbpf, cilium or aya), not auto"));
    };
    let off = |object: &str, program: &str| sel.pick(object, program) == Some(Pick::AutoloadOff);
    let records = match crate::vmtest::external::binary_for(loader, spec.loader_bin.clone())? {
        Some(bin) => {
            let mut recs = crate::vmtest::external::load_here(&bin, &objs)?;
            recs.retain(|(_, r)| !(r.unit == Some(crate::vmtest::record::UnitKind::Program) && off(&r.object, r.unit_name())));
            recs
        }
        None => load_here_except(&objs, &off),
    };
    let kernel = labels.first().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut objects = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let recs: Vec<&crate::vmtest::record::LoadRecord> = records.iter().filter(|(j, _)| *j == i).map(|(_, r)| r).collect();
        let preds: Vec<ProgramResult> = results.iter().filter(|r| r.object == o.name).cloned().collect();
        rows.extend(compare::rows(&kernel, &recs, &preds));
        objects.extend(compare::real_object_verdict(&kernel, &recs, &preds));
    }
    let loads = records.iter().map(|(_, r)| report::vmtest::result(&kernel, r, false)).collect();
    Ok(Loads { kernel, rows, loads, objects })
}

#[cfg(not(feature = "libbpf"))]
fn loads(_: &CheckSpec, _: &[BpfObject], _: &[String], _: &[ProgramResult], _: &Selection) -> Result<Loads> {
    Err(Error::new("--load", "this bpfabi was built without the `libbpf` feature"))
}

/// What `check` asked on top of the rules.
pub enum Extra {
    /// Nothing.
    None,
    /// `--policy`: the manifest's findings (uses of deprecated kfuncs,
    /// stale entries), each with its place.
    Policy(Vec<(Finding, Option<SarifLoc>)>),
    /// `--load`: real loads here.
    Loads(Loads),
}

/// What `check` found.
pub struct CheckReport {
    /// The kernels' labels, in the order given.
    pub kernels: Vec<String>,
    /// Every program on every kernel.
    pub results: Vec<ProgramResult>,
    /// The objects checked (for source lines).
    pub objects: Vec<BpfObject>,
    /// Every requirement is listed (`--explain`).
    pub explain: bool,
    /// Policy findings or real loads.
    pub extra: Extra,
}

impl CheckReport {
    /// 1 when a program fails on a kernel, a policy finding denies, or
    /// (`--load`) prediction and reality disagree; else 0.
    pub fn exit_code(&self) -> u8 {
        // An object fails when a required program, or every variant of an
        // alternative group, fails (docs/check.md, "Programs picked at run time").
        let fails = crate::check::alternatives::any_object_fails(&self.results);
        let bad = match &self.extra {
            Extra::None => fails,
            Extra::Policy(f) => fails || f.iter().any(|(x, _)| x.level == Action::Deny),
            #[cfg(feature = "libbpf")]
            Extra::Loads(l) => l.rows.iter().any(|r| !r.outcome.agrees() && r.outcome != crate::vmtest::compare::Outcome::NotCompared),
            #[cfg(not(feature = "libbpf"))]
            Extra::Loads(_) => false,
        };
        bad as u8
    }

    /// The check's own output, without policy or loads.
    fn write_plain(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        let (k, r) = (&self.kernels, &self.results);
        match format {
            Format::Json => report::check::json(w, k, r),
            Format::Jsonl => report::check::jsonl(w, r),
            Format::Sarif => report::check::sarif(w, r),
            Format::Gnu => diagnostics::write(w, &diagnostics::from_check(&self.objects, r)),
            Format::Markdown => report::check::markdown(w, k, r),
            _ if self.explain => report::check::explain(w, r),
            _ => report::check::matrix(w, k, r),
        }
    }
}

impl Render for CheckReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Jsonl, Format::Sarif, Format::Gnu, Format::Markdown];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        let (k, r) = (&self.kernels, &self.results);
        match (&self.extra, format) {
            (Extra::None, _) => self.write_plain(format, w),
            (Extra::Policy(f), Format::Gnu) => {
                let mut d = diagnostics::from_policy(f);
                d.extend(diagnostics::from_check(&self.objects, r));
                diagnostics::write(w, &d)
            }
            (Extra::Policy(f), Format::Json) => report::check::json_with_policy(w, k, r, f),
            (Extra::Policy(f), Format::Sarif) => report::check::sarif_with_policy(w, r, f),
            (Extra::Policy(_), Format::Jsonl) => report::check::jsonl(w, r),
            // Compiler-style findings first, then the matrix (Markdown too).
            (Extra::Policy(f), _) => {
                uses::text(w, f)?;
                self.write_plain(Format::Table, w)
            }
            #[cfg(feature = "libbpf")]
            (Extra::Loads(l), Format::Json) => report::vmtest::json(w, k, &l.loads, &[], Some(&l.rows)),
            #[cfg(feature = "libbpf")]
            (Extra::Loads(l), _) => {
                report::check::matrix(w, k, r)?;
                writeln!(w, "\nreal loads on {}:", l.kernel)?;
                report::vmtest::compare_text(w, k, &l.rows, false)?;
                report::check::real_objects(w, &l.objects)
            }
            #[cfg(not(feature = "libbpf"))]
            (Extra::Loads(_), _) => self.write_plain(format, w),
        }
    }
}
