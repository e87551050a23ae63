//! Command `check`: will these objects load on these kernels (with `--policy`, `--load`, `--config`).

use super::common::{objects_found, with_failed, write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::check::{self, CheckSpec};
use bpfabi::report::{Format, Render};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "check")]
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
    /// a time with the --loader (libbpf, or the cilium/ebpf or aya reference
    /// loader scripts/build-loaders makes), and print where prediction and
    /// reality disagree. Everything loaded is removed.
    #[arg(long, conflicts_with_all = ["sarif", "explain"])]
    load: bool,
    /// With --load --loader cilium|aya: the reference loader binary
    /// (default: scripts/build-loaders' one of that version).
    #[arg(long, value_name = "FILE", requires = "load")]
    loader_bin: Option<PathBuf>,
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
    /// Programs judged whose failure does not fail their object (user
    /// space tries them and goes on): `GLOB` or `OBJECT_GLOB:GLOB`
    /// (docs/check.md, "Programs picked at run time")
    #[arg(long, value_name = "[OBJ:]PROG_GLOB")]
    optional: Vec<String>,
    /// Programs not judged at all, as after
    /// `bpf_program__set_autoload(false)`: `GLOB` or `OBJECT_GLOB:GLOB`
    #[arg(long = "autoload-off", value_name = "[OBJ:]PROG_GLOB")]
    autoload_off: Vec<String>,
    /// Judge the programs on the attach target their user space sets
    /// before loading (`bpf_program__set_attach_target`), not the one in
    /// the section name: `PROG_GLOB=TARGET` or `OBJECT_GLOB:PROG_GLOB=TARGET`
    #[arg(long, value_name = "[OBJ:]PROG_GLOB=TARGET")]
    retarget: Vec<String>,
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
    /// (docs/loaders.md). Default: the --config file's `loader`, else libbpf
    #[arg(long, value_name = "LOADER", value_parser = parse_loader)]
    loader: Option<bpfabi::loader::LoaderChoice>,
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
    let spec = CheckSpec {
        objects: a.objects.clone(),
        kernels: a.kernels.clone(),
        modules: !a.no_modules,
        probes: a.probes.clone(),
        core_btf: a.core_btf.clone(),
        rodata: a.rodata.clone(),
        optional: a.optional.clone(),
        autoload_off: a.autoload_off.clone(),
        retarget: a.retarget.clone(),
        loader: a.loader.unwrap_or(bpfabi::loader::LoaderChoice::Fixed(bpfabi::loader::Loader::default())),
        loader_given: a.loader.is_some(),
        explain: a.explain,
        policy: a.policy.clone(),
        deny_deprecated: a.deny_deprecated,
        load: a.load,
        loader_bin: a.loader_bin.clone(),
    };
    let spec = match &a.config {
        Some(f) => bpfabi::integration::Config::from_file(f)?.apply(spec),
        None => spec,
    };
    let format = if a.sarif { Format::Sarif } else { a.out.format("check")? };
    let (found, kernels) = check::read(&spec);
    let (objects, failed) = objects_found(found, &spec.objects, a.verbose)?;
    let kernels = kernels?;
    for n in check::loader_notes(&objects, spec.loader) {
        eprintln!("note: {n}");
    }
    let report = check::run(&spec, objects, kernels)?;
    write_out(report.render(format, w))?;
    Ok(with_failed(failed, report.exit_code()))
}
