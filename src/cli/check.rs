//! Command `check`: will these objects load on these kernels (with `--policy`, `--load`, `--config`).

use super::common::{read_objects, with_failed, write_out, Out, OutputArgs};
use bpfabi::check::{CheckOptions, Verdict};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::policy::Manifest;
use bpfabi::report::{self, Format};
use bpfabi::Error;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct CheckArgs {
    /// BPF objects, files embedding them, or directories to walk.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// List the files skipped because they hold no BPF object.
    #[arg(short, long)]
    verbose: bool,
    /// A target kernel (any input `surface` accepts); repeatable. Default: the running kernel.
    #[arg(long = "kernel", value_name = "INPUT")]
    kernels: Vec<PathBuf>,
    /// Do not read modules found in kernel directories and packages.
    #[arg(long)]
    no_modules: bool,
    /// List every requirement and where it is satisfied.
    #[arg(long, conflicts_with_all = ["json", "format", "sarif"])]
    explain: bool,
    #[command(flatten)]
    out: OutputArgs,
    /// Same as --format sarif.
    #[arg(long, hide = true, conflicts_with_all = ["json", "format"])]
    sarif: bool,
    /// A `bpfabi probe` JSON file: judge helper/kfunc availability per
    /// program type on the kernel it belongs to (matched by BTF fingerprint;
    /// a probe of another kernel is refused). Repeatable. A `probe.json` in a
    /// kernel directory given with --kernel is used automatically.
    #[arg(long = "probe", value_name = "FILE")]
    probes: Vec<PathBuf>,
    /// Also load every program for real on the running kernel (root), one at
    /// a time with libbpf, and print where prediction and reality disagree.
    /// Everything loaded is removed.
    #[arg(long, conflicts_with_all = ["sarif", "explain"])]
    load: bool,
    /// A stability manifest (docs/policy.md): warn at every use of a
    /// deprecated kfunc (source line from .BTF.ext), error when a target
    /// kernel is at or past its removal.
    #[arg(long, value_name = "MANIFEST")]
    policy: Option<PathBuf>,
    /// With --policy: uses of deprecated kfuncs are errors (CI).
    #[arg(long, requires = "policy")]
    deny_deprecated: bool,
    /// State the load-time value of a `const volatile` (.rodata) variable
    /// user space sets before loading (NAME=VALUE, decimal or 0x hex);
    /// repeatable. Branches it decides are then not reported as
    /// `depends_on_rodata`.
    #[arg(long = "rodata", value_name = "NAME=VALUE", value_parser = parse_rodata)]
    rodata: Vec<(String, u64)>,
    /// Resolve CO-RE relocations against this BTF (libbpf's
    /// btf_custom_path, e.g. a BTFHub file) instead of the kernel's;
    /// helpers, kfuncs and attach targets still come from --kernel.
    #[arg(long = "core-btf", value_name = "FILE")]
    core_btf: Option<PathBuf>,
    /// A project configuration (`.bpfabi.toml`, docs/integration.md):
    /// its kernels, manifest and deny_deprecated apply where the command
    /// line gives none.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Who loads the objects: libbpf[:VERSION], cilium[:VERSION],
    /// aya[:VERSION], or auto (inferred per object from its evidence; the
    /// inference is printed). Each loader's own rules apply
    /// (docs/loaders.md).
    #[arg(long, value_name = "LOADER", default_value = "libbpf", value_parser = parse_loader)]
    loader: bpfabi::loader::LoaderChoice,
}

fn parse_loader(s: &str) -> std::result::Result<bpfabi::loader::LoaderChoice, String> {
    s.parse()
}

fn parse_rodata(s: &str) -> std::result::Result<(String, u64), String> {
    let (n, v) = s.split_once('=').ok_or_else(|| format!("expected NAME=VALUE, found `{s}`"))?;
    let v = v.trim();
    let value = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse::<u64>().ok().or_else(|| v.parse::<i64>().ok().map(|x| x as u64)),
    };
    match (n.trim(), value) {
        ("", _) => Err(format!("expected NAME=VALUE, found `{s}`")),
        (n, Some(v)) => Ok((n.to_string(), v)),
        (_, None) => Err(format!("`{v}` is not a number (decimal or 0x hex)")),
    }
}

pub fn run(a: &CheckArgs, w: Out) -> bpfabi::Result<u8> {
    let configured;
    let a = match &a.config {
        Some(f) => {
            configured = with_config(a, &bpfabi::integration::Config::from_file(f)?);
            &configured
        }
        None => a,
    };
    let format = if a.sarif { Format::Sarif } else { a.out.format("check")? };
    // --policy: the manifest is parsed while objects and kernels are read.
    let manifest = a.policy.clone().map(|m| std::thread::spawn(move || bpfabi::policy::Manifest::load(&m)));
    // Kernels (and their probe data) are read while the objects are.
    let lo = LoadOptions { modules: !a.no_modules, progress: true, ..LoadOptions::default() };
    let load_kernels = || -> bpfabi::Result<Vec<KernelModel>> {
        let mut kernels = if a.kernels.is_empty() {
            vec![KernelModel::running(&lo)?]
        } else {
            a.kernels.iter().map(|p| KernelModel::load(std::slice::from_ref(p), &lo)).collect::<bpfabi::Result<Vec<_>>>()?
        };
        for (k, input) in kernels.iter().zip(&a.kernels) {
            bpfabi::core_btf::require_kernel(k, input)?;
        }
        if let Some(f) = &a.core_btf {
            bpfabi::core_btf::attach(&mut kernels, f)?;
        }
        bpfabi::probe::attach::attach(&mut kernels, &a.probes, &a.kernels)?;
        Ok(kernels)
    };
    let (objs, kernels) = std::thread::scope(|s| {
        let kernels = s.spawn(load_kernels);
        let objs = read_objects(&a.objects, a.verbose);
        (objs, kernels.join().unwrap_or_else(|_| Err(Error::new("--kernel", "the kernel reader panicked"))))
    });
    let ((objs, failed), kernels) = (objs?, kernels?);
    let code = check_objects(a, format, manifest, &objs, &kernels, w)?;
    Ok(with_failed(failed, code))
}

/// `check` once objects and kernels are read.
fn check_objects(
    a: &CheckArgs,
    format: Format,
    manifest: Option<std::thread::JoinHandle<bpfabi::Result<bpfabi::policy::Manifest>>>,
    objs: &[bpfabi::object::BpfObject],
    kernels: &[KernelModel],
    w: Out,
) -> bpfabi::Result<u8> {
    bpfabi::object::unknown_rodata(objs, a.rodata.iter().map(|(n, _)| n.as_str()))?;
    let opts = CheckOptions::default().explain(a.explain).rodata(a.rodata.iter().cloned().collect()).loader(a.loader);
    loader_notes(objs, a.loader);
    let results = bpfabi::check::check(objs, kernels, &opts);
    let labels: Vec<String> = kernels.iter().map(|k| k.label().to_string()).collect();
    if a.load {
        return check_load(a, format, &labels, &results, w);
    }
    if let Some(m) = manifest {
        let m = m.join().unwrap_or_else(|_| Err(Error::new("--policy", "the manifest reader panicked")))?;
        return check_with_policy(a, &m, format, objs, kernels, &labels, &results, w);
    }
    write_out(match format {
        Format::Json => report::check::json(w, &labels, &results),
        Format::Jsonl => report::check::jsonl(w, &results),
        Format::Sarif => report::check::sarif(w, &results),
        Format::Gnu => bpfabi::diagnostics::write(w, &bpfabi::diagnostics::from_check(objs, &results)),
        Format::Markdown => report::check::markdown(w, &labels, &results),
        _ if a.explain => report::check::explain(w, &results),
        _ => report::check::matrix(w, &labels, &results),
    })?;
    Ok(results.iter().any(|r| r.verdict == Verdict::Fails) as u8)
}

/// `check --config FILE`: the file's kernels, manifest and deny_deprecated
/// where the command line has none (bpfabi::integration::Config).
fn with_config(a: &CheckArgs, c: &bpfabi::integration::Config) -> CheckArgs {
    let mut a = a.clone();
    if a.kernels.is_empty() {
        a.kernels = c.kernels.iter().map(PathBuf::from).collect();
    }
    a.policy = a.policy.or_else(|| c.manifest.clone());
    a.deny_deprecated |= c.deny_deprecated;
    a.no_modules |= !c.modules;
    // The configuration's loader, unless --loader named another than the default.
    if a.loader == bpfabi::loader::LoaderChoice::Fixed(bpfabi::loader::Loader::default()) {
        a.loader = c.loader.0;
    }
    a
}

/// `--loader auto`: what was inferred for each object and why; a fixed
/// loader the object's evidence contradicts: a note (stderr).
fn loader_notes(objs: &[bpfabi::object::BpfObject], choice: bpfabi::loader::LoaderChoice) {
    use bpfabi::loader::{evidence, LoaderChoice};
    for o in objs {
        let inf = evidence::infer(o);
        match choice {
            LoaderChoice::Auto if inf.why.is_empty() => eprintln!("note: {}: checked as {} (no evidence of another loader)", o.path, inf.loader),
            LoaderChoice::Auto => eprintln!("note: {}: checked as {}: {}", o.path, inf.loader, inf.why.join("; ")),
            LoaderChoice::Fixed(l) if !inf.why.is_empty() && inf.loader.family() != l.family() => {
                eprintln!("note: {}: checked as {l}, but it looks built for {} ({})", o.path, inf.loader, inf.why.join("; "))
            }
            LoaderChoice::Fixed(_) => {}
        }
    }
}

/// `check --load`: predictions (already computed) next to real loads here.
#[cfg(feature = "libbpf")]
fn check_load(a: &CheckArgs, format: Format, labels: &[String], results: &[bpfabi::check::ProgramResult], w: Out) -> bpfabi::Result<u8> {
    use bpfabi::vmtest::{compare, load_here, read_objects};
    if !a.kernels.is_empty() {
        return Err(bpfabi::Error::new("--load", "loads happen on the running kernel: use it without --kernel (or `bpfabi vmtest`)"));
    }
    let objs = read_objects(&a.objects, None)?;
    let records = load_here(&objs);
    let kernel = labels.first().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let recs: Vec<&bpfabi::vmtest::record::LoadRecord> = records.iter().filter(|(j, _)| *j == i).map(|(_, r)| r).collect();
        let preds: Vec<bpfabi::check::ProgramResult> = results.iter().filter(|r| r.object == o.name).cloned().collect();
        rows.extend(compare::rows(&kernel, &recs, &preds));
    }
    let loads: Vec<_> = records.iter().map(|(_, r)| report::vmtest::result(&kernel, r, false)).collect();
    let disagree = rows.iter().any(|r| !r.outcome.agrees() && r.outcome != compare::Outcome::NotCompared);
    write_out(if format == Format::Json {
        report::vmtest::json(w, labels, &loads, &[], Some(&rows))
    } else {
        report::check::matrix(w, labels, results).and_then(|_| writeln!(w, "\nreal loads on {kernel}:")).and_then(|_| report::vmtest::compare_text(w, labels, &rows, false))
    })?;
    Ok(disagree as u8)
}

#[cfg(not(feature = "libbpf"))]
fn check_load(_: &CheckArgs, _: Format, _: &[String], _: &[bpfabi::check::ProgramResult], _: Out) -> bpfabi::Result<u8> {
    Err(bpfabi::Error::new("--load", "this bpfabi was built without the `libbpf` feature"))
}

/// `check --policy`: the check's output with the manifest's findings
/// about deprecated kfuncs (text before the matrix; merged into JSON/SARIF).
#[allow(clippy::too_many_arguments)]
fn check_with_policy(
    a: &CheckArgs,
    m: &Manifest,
    format: Format,
    objs: &[bpfabi::object::BpfObject],
    kernels: &[KernelModel],
    labels: &[String],
    results: &[bpfabi::check::ProgramResult],
    w: Out,
) -> bpfabi::Result<u8> {
    use bpfabi::policy::uses;
    let f = uses::deprecations(m, objs, kernels, uses::UseOptions { deny_deprecated: a.deny_deprecated });
    if format == Format::Gnu {
        let mut d = bpfabi::diagnostics::from_policy(&f);
        d.extend(bpfabi::diagnostics::from_check(objs, results));
        write_out(bpfabi::diagnostics::write(w, &d))?;
    }
    let mut doc = Vec::new();
    write_out(match format {
        Format::Gnu => Ok(()),
        Format::Json => report::check::json(&mut doc, labels, results),
        Format::Jsonl => report::check::jsonl(&mut doc, results),
        Format::Sarif => report::check::sarif(&mut doc, results),
        _ if a.explain => report::check::explain(&mut doc, results),
        _ => report::check::matrix(&mut doc, labels, results),
    })?;
    match format {
        Format::Json | Format::Sarif => {
            let merged = uses::merge(&doc, format == Format::Sarif, &f).map_err(|e| Error::new("check --policy", e.to_string()))?;
            write_out(w.write_all(&merged))?;
        }
        Format::Jsonl => write_out(w.write_all(&doc))?,
        Format::Gnu => {}
        _ => {
            write_out(uses::text(w, &f))?;
            write_out(w.write_all(&doc))?;
        }
    }
    let deny = f.iter().any(|(x, _)| x.level == bpfabi::policy::manifest::Action::Deny);
    Ok((deny || results.iter().any(|r| r.verdict == Verdict::Fails)) as u8)
}
