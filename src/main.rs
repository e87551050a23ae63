//! `bpfabi` command line: parses arguments, calls the library, prints.
//! Exit codes: 0 ok, 1 findings, 2 usage or input error.

use bpfabi::kernel::{self, LoadOptions};
use bpfabi::report;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "bpfabi", version, about = "The BPF <-> kernel interface, visible, comparable and enforceable")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the BPF ABI a kernel offers: helpers and kfuncs with prototypes and flags.
    ///
    /// INPUT is any mix of: raw BTF (`vmlinux.btf`, `/sys/kernel/btf/vmlinux`),
    /// module BTF (`/sys/kernel/btf/<module>`, `modules/*.btf`), a vmlinux ELF,
    /// a compressed kernel image (bzImage/vmlinuz), kernel modules (`.ko`,
    /// `.ko.xz`, `.ko.zst`, `.ko.gz`), a Debian kernel package (`.deb`), or a
    /// directory holding `vmlinux.btf` and `modules/*.btf`. All inputs describe
    /// one kernel. With no INPUT: the running kernel.
    Surface(SurfaceArgs),
    /// Fingerprint ("symbol version") of every kfunc, and of named types.
    ///
    /// The prototype fingerprint covers return and parameter types, parameter
    /// names and KF_* flags; the deep one adds the layout of every type
    /// reachable from the prototype. See docs/fingerprints.md.
    Versions(VersionsArgs),
    /// What changed in the BPF ABI between two kernels, classified breaking /
    /// compatible / info. Exit 0: nothing breaking, 1: something breaking.
    ///
    /// OLD and NEW take any input `surface` accepts (a corpus-style directory
    /// or a .deb brings the modules along); --old-input / --new-input add
    /// more (e.g. module files).
    Diff(DiffArgs),
    /// What BPF objects need from a kernel: programs, helpers, kfuncs, CO-RE
    /// relocations, attach targets, maps. OBJ may be a .bpf.o or an
    /// executable embedding BPF objects (libbpf skeletons).
    Inspect(InspectArgs),
    /// Will these BPF objects load on these kernels? Exit 0: everything loads
    /// everywhere, 1: some program fails on some kernel.
    Check(CheckArgs),
    /// Debian kernels by name: list the cache, resolve (and fetch) names.
    ///
    /// NAME is debian:<suite>[/<arch>][:<flavour>] (debian:bookworm,
    /// debian:trixie/arm64:cloud) or debian:<release> (debian:6.1.0-56-amd64);
    /// such names are accepted wherever a kernel input is. Packages come
    /// through apt with a private configuration in the cache
    /// ($XDG_CACHE_HOME/bpfabi/debian). See docs/kernels.md.
    Kernels(KernelsArgs),
}

#[derive(Args)]
struct KernelsArgs {
    /// Names to resolve (and download unless --resolve-only).
    names: Vec<String>,
    /// Only say what each name resolves to; download nothing.
    #[arg(long)]
    resolve_only: bool,
    /// Refresh package lists whatever their age.
    #[arg(long, conflicts_with = "offline")]
    refresh: bool,
    /// Use only what is cached (same as BPFABI_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InspectArgs {
    /// BPF objects (or files embedding them).
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// BPF objects (or files embedding them).
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    /// A target kernel (any input `surface` accepts); repeatable. Default: the running kernel.
    #[arg(long = "kernel", value_name = "INPUT")]
    kernels: Vec<PathBuf>,
    /// List every requirement and where it is satisfied.
    #[arg(long, conflicts_with_all = ["json", "sarif"])]
    explain: bool,
    /// JSON output.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// SARIF 2.1.0 output (code scanning).
    #[arg(long)]
    sarif: bool,
}

#[derive(Args)]
struct VersionsArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    /// Also list these named types (`struct task_struct`, `task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Also list every named type the kfunc prototypes reach.
    #[arg(long)]
    reachable_types: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Only names matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    grep: Option<String>,
}

#[derive(Args)]
struct DiffArgs {
    /// The old kernel.
    old: PathBuf,
    /// The new kernel.
    new: PathBuf,
    /// More inputs for the old kernel (modules); repeatable.
    #[arg(long, value_name = "PATH")]
    old_input: Vec<PathBuf>,
    /// More inputs for the new kernel (modules); repeatable.
    #[arg(long, value_name = "PATH")]
    new_input: Vec<PathBuf>,
    /// Release of the old kernel when its inputs do not say.
    #[arg(long, value_name = "RELEASE")]
    old_release: Option<String>,
    /// Release of the new kernel when its inputs do not say.
    #[arg(long, value_name = "RELEASE")]
    new_release: Option<String>,
    /// Also compare this named type (`struct task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Compare every named vmlinux type.
    #[arg(long)]
    all_types: bool,
    /// Do not compare the types kfunc prototypes reach.
    #[arg(long)]
    no_kfunc_types: bool,
    /// JSON output.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Markdown output (PR comment, release note).
    #[arg(long)]
    markdown: bool,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    color: String,
}

#[derive(Args)]
struct KernelArgs {
    /// `.BTF_ids` section file of the vmlinux (default: `<name>.btf_ids` beside a raw BTF file).
    #[arg(long, value_name = "FILE")]
    btf_ids: Option<PathBuf>,
    /// Kernel release to assume when the inputs do not say (e.g. 6.1.0-56-amd64).
    #[arg(long, value_name = "RELEASE")]
    release: Option<String>,
    /// Do not read modules found in directories and packages.
    #[arg(long)]
    no_modules: bool,
}

impl KernelArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            btf_ids: self.btf_ids.clone(),
            release: self.release.clone(),
            modules: !self.no_modules,
            ..LoadOptions::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SurfaceFormat {
    Table,
    Json,
    C,
}

#[derive(Args)]
struct SurfaceArgs {
    /// Kernel inputs (see above); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: SurfaceFormat,
    /// Same as --format json.
    #[arg(long)]
    json: bool,
    /// Only kfuncs.
    #[arg(long, conflicts_with = "helpers")]
    kfuncs: bool,
    /// Only helpers.
    #[arg(long)]
    helpers: bool,
    /// Only names matching PATTERN (substring, or a glob with * and ?).
    #[arg(long, value_name = "PATTERN")]
    grep: Option<String>,
}

fn load_kernel(inputs: &[PathBuf], args: &KernelArgs) -> bpfabi::Result<kernel::Kernel> {
    let opts = args.options();
    if inputs.is_empty() {
        kernel::load_running(&opts)
    } else {
        kernel::load(inputs, &opts)
    }
}

fn surface(a: &SurfaceArgs) -> bpfabi::Result<(String, u8)> {
    let k = load_kernel(&a.inputs, &a.kernel)?;
    let mut s = bpfabi::surface::of(&k);
    if let Some(p) = &a.grep {
        s.retain(|n| report::matches_pattern(p, n));
    }
    if a.kfuncs {
        s.helpers.clear();
    }
    if a.helpers {
        s.kfuncs.clear();
    }
    let format = if a.json { SurfaceFormat::Json } else { a.format };
    let text = match format {
        SurfaceFormat::Json => report::surface::json(&s),
        SurfaceFormat::C => report::surface::c_header(&s),
        SurfaceFormat::Table => report::surface::table(&s, !a.helpers, !a.kfuncs),
    };
    Ok((text, 0))
}

fn versions(a: &VersionsArgs) -> bpfabi::Result<(String, u8)> {
    use bpfabi::versions::{hex, KernelVersions, Version};
    let k = load_kernel(&a.inputs, &a.kernel)?;
    let s = bpfabi::surface::of(&k);
    let mut v = KernelVersions::compute(&k, &s);
    let mut out: Vec<Version> = s
        .kfuncs
        .iter()
        .filter_map(|f| {
            let (p, d) = v.kfuncs.get(&(f.name.clone(), f.module.clone()))?;
            Some(Version { name: f.name.clone(), kind: "kfunc".into(), module: f.module.clone(), proto: hex(*p), deep: hex(*d) })
        })
        .collect();
    let btf = k.vmlinux.btf.clone();
    let mut keys: Vec<bpfabi::versions::Key> = Vec::new();
    for t in &a.types {
        match bpfabi::versions::parse_type_name(&btf, t) {
            Some(key) => keys.push(key),
            None => return Err(bpfabi::Error::new(k.label(), format!("no type named `{t}`"))),
        }
    }
    if a.reachable_types {
        let mut r = v.vmlinux_keys();
        r.sort();
        keys.extend(r);
    }
    for key in keys {
        if let Some((sh, dp)) = v.type_version(&btf, &key) {
            out.push(Version { name: key.name.clone(), kind: key.class.as_str().into(), module: None, proto: hex(sh), deep: hex(dp) });
        }
    }
    if let Some(p) = &a.grep {
        out.retain(|x| report::matches_pattern(p, &x.name));
    }
    let text = if a.json { report::versions::json(k.release.as_deref(), &out) } else { report::versions::table(&out) };
    Ok((text, 0))
}

fn diff(a: &DiffArgs) -> bpfabi::Result<(String, u8)> {
    use bpfabi::diff::{DiffOptions, Prepared};
    let side = |main: &PathBuf, extra: &[PathBuf], release: &Option<String>| {
        let mut inputs = vec![main.clone()];
        inputs.extend_from_slice(extra);
        kernel::load(&inputs, &LoadOptions { release: release.clone(), ..LoadOptions::default() })
    };
    let ko = side(&a.old, &a.old_input, &a.old_release)?;
    let kn = side(&a.new, &a.new_input, &a.new_release)?;
    let (mut po, mut pn) = (Prepared::new(&ko), Prepared::new(&kn));
    let opts = DiffOptions { types: a.types.clone(), all_types: a.all_types, kfunc_types: !a.no_kfunc_types };
    let d = bpfabi::diff::diff(&mut po, &mut pn, &opts);
    let color = match a.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = if a.json {
        report::diff::json(&d)
    } else if a.markdown {
        report::diff::markdown(&d)
    } else {
        report::diff::text(&d, color)
    };
    Ok((text, d.has_breaking() as u8))
}

fn read_objects(paths: &[PathBuf]) -> bpfabi::Result<Vec<bpfabi::object::BpfObject>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(bpfabi::object::read_path(p)?.into_iter().map(|(_, o)| o));
    }
    Ok(out)
}

/// Helper names by id, from the given kernels (newest names win).
fn helper_names<'a>(surfaces: impl Iterator<Item = &'a bpfabi::surface::Surface>) -> std::collections::BTreeMap<u32, String> {
    let mut m = std::collections::BTreeMap::new();
    for s in surfaces {
        for h in &s.helpers {
            m.insert(h.id, h.name.clone());
        }
    }
    m
}

fn inspect(a: &InspectArgs) -> bpfabi::Result<(String, u8)> {
    let objs = read_objects(&a.objects)?;
    if a.json {
        return Ok((report::check::inspect_json(&objs), 0));
    }
    // Name helpers from the running kernel when there is one.
    let names = kernel::load_running(&LoadOptions::default())
        .map(|k| helper_names(std::iter::once(&bpfabi::surface::of(&k))))
        .unwrap_or_default();
    Ok((report::check::inspect_text(&objs, &names), 0))
}

fn check(a: &CheckArgs) -> bpfabi::Result<(String, u8)> {
    use bpfabi::check::{check_object, KernelIndex, Verdict};
    let objs = read_objects(&a.objects)?;
    let kernels = if a.kernels.is_empty() {
        vec![kernel::load_running(&LoadOptions::default())?]
    } else {
        a.kernels.iter().map(|p| kernel::load(std::slice::from_ref(p), &LoadOptions::default())).collect::<bpfabi::Result<Vec<_>>>()?
    };
    let indexes: Vec<KernelIndex> = kernels.iter().map(KernelIndex::new).collect();
    let names = helper_names(indexes.iter().map(|k| &k.surface));
    let mut results = Vec::new();
    for o in &objs {
        for ki in &indexes {
            results.extend(check_object(o, ki, &names, a.explain));
        }
    }
    let labels: Vec<String> = indexes.iter().map(|k| k.label.clone()).collect();
    let text = if a.json {
        report::check::json(&labels, &results)
    } else if a.sarif {
        report::check::sarif(&results)
    } else if a.explain {
        report::check::explain(&results)
    } else {
        report::check::matrix(&labels, &results)
    };
    let failed = results.iter().any(|r| r.verdict == Verdict::Fails);
    Ok((text, failed as u8))
}

fn kernels(a: &KernelsArgs) -> bpfabi::Result<(String, u8)> {
    use bpfabi::kernel::debian::{self, Cache, DebianName, ResolveOptions};
    let cache = Cache::default_location()?;
    let mut opts = ResolveOptions::default();
    opts.offline |= a.offline;
    opts.refresh = a.refresh;
    opts.fetch = !a.resolve_only;
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for n in &a.names {
        let name = DebianName::parse(n).unwrap_or_else(|| Err(bpfabi::Error::new(n, "expected a debian: name")))?;
        match debian::resolve(&name, &cache, &opts) {
            Ok(r) => resolved.push(r),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let cached = debian::list_cached(&cache);
    let debs: u64 = std::fs::read_dir(cache.debs_dir())
        .map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    let dir = cache.dir.display().to_string();
    let text = if a.json {
        report::kernels::json(&dir, &cached, debs, &resolved, &errors)
    } else {
        report::kernels::text(&dir, &cached, debs, &resolved, &errors)
    };
    Ok((text, if errors.is_empty() { 0 } else { 2 }))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Cmd::Surface(a) => surface(a),
        Cmd::Versions(a) => versions(a),
        Cmd::Diff(a) => diff(a),
        Cmd::Inspect(a) => inspect(a),
        Cmd::Check(a) => check(a),
        Cmd::Kernels(a) => kernels(a),
    };
    match result {
        Ok((text, code)) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("bpfabi: error: {e}");
            ExitCode::from(2)
        }
    }
}
