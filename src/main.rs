//! `bpfabi` command line: parses arguments, calls the library, prints.
//! Exit codes: 0 ok, 1 findings, 2 usage, input or output error.

use bpfabi::check::{CheckOptions, Verdict};
use bpfabi::kernel::LoadOptions;
use bpfabi::model::KernelModel;
use bpfabi::report::{self, Format};
use bpfabi::{Error, ErrorKind};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "bpfabi", version = bpfabi::VERSION, about = "The BPF <-> kernel interface, visible, comparable and enforceable")]
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
    /// BTF health of a kernel build (for distribution and kernel
    /// maintainers): findings with stable codes (docs/lint.md). Exit 0: no
    /// error or warning, 1: findings, 2: input error.
    Lint(LintArgs),
    /// Which helpers and kfuncs the running kernel's verifier allows, per
    /// program type (and attach type, sleepability, struct_ops type), decided
    /// by loading tiny programs. Needs root. Leaves nothing loaded.
    Probe(ProbeArgs),
    /// Debian kernels by name: list the cache, resolve (and fetch) names.
    ///
    /// NAME is debian:<suite>[/<arch>][:<flavour>] (debian:bookworm,
    /// debian:trixie/arm64:cloud) or debian:<release> (debian:6.1.0-56-amd64);
    /// such names are accepted wherever a kernel input is. Packages come
    /// through apt with a private configuration in the cache
    /// ($XDG_CACHE_HOME/bpfabi/debian). See docs/kernels.md.
    Kernels(KernelsArgs),
    /// Load every program of every object for real, in a kernel booted under
    /// QEMU (this binary is the VM's /init; libbpf 1.7 loads one program at
    /// a time). Exit 0: everything loaded (with --compare: prediction and
    /// reality agree everywhere), 1: otherwise. See docs/vmtest.md.
    Vmtest(VmtestArgs),
    /// The built-in catalog of reduced Debian kernels (what `debian:` names
    /// fall back to offline): list it, or add kernels to a catalog directory.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// Usage census of real BPF programs: which kfuncs, helpers, kernel types
    /// and fields, program types and attach targets objects need, by
    /// distinct objects and projects; `census impact` and `census suggest`
    /// join it with kernels.
    ///
    /// PATH is any mix of: BPF objects, executables and shared libraries
    /// embedding them, Debian packages (`.deb`, streamed), directories
    /// (walked), and `-` (a list of paths on stdin). Objects are
    /// deduplicated by SHA-256.
    Census(CensusArgs),
    /// Static site and Markdown summary from a census and kernels (release order).
    Report(ReportArgs),
    /// Stability policy: a manifest of kfunc tiers, deprecations and facts
    /// (docs/policy.md), checked over kernel history.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// A kernel's BTF as a C header (`vmlinux.h`) or as raw BTF.
    #[command(subcommand)]
    Btf(BtfCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `bpfabi man | man -l -`.
    Man,
}

/// Output options, the same on every subcommand.
#[derive(Args, Clone)]
struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatArg>,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorWhen,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    Table,
    Json,
    Jsonl,
    Markdown,
    Sarif,
    C,
    /// Compiler-style lines: `file:line:col: warning: message [code]`.
    Gnu,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// The formats each command writes: what its `--help` lists, what
/// `--format` accepts there (checked by clap) and what [`OutputArgs::format`]
/// allows. Keyed by the command path (`census impact`).
const FORMATS: &[(&str, &[Format])] = &[
    ("surface", &[Format::Table, Format::Json, Format::C]),
    ("versions", &[Format::Table, Format::Json]),
    ("diff", &[Format::Table, Format::Json, Format::Markdown]),
    ("inspect", &[Format::Table, Format::Json]),
    ("check", &[Format::Table, Format::Json, Format::Jsonl, Format::Sarif, Format::Gnu, Format::Markdown]),
    ("lint", &[Format::Table, Format::Json]),
    ("probe", &[Format::Table, Format::Json]),
    ("kernels", &[Format::Table, Format::Json]),
    ("vmtest", &[Format::Table, Format::Json]),
    ("catalog list", &[Format::Table, Format::Json]),
    ("census", &[Format::Table, Format::Json, Format::Jsonl]),
    ("census impact", &[Format::Table, Format::Json]),
    ("census suggest", &[Format::Table]),
    ("report", &[Format::Table]),
    ("policy check", &[Format::Table, Format::Json, Format::Sarif]),
    ("policy suggest", &[Format::Table]),
];

/// The command line definition, each command's `--format` limited to the
/// formats it writes ([`FORMATS`]; `--json` hidden where JSON is not one).
fn command() -> clap::Command {
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    fn limit(c: clap::Command, path: &[&str], formats: &'static [Format]) -> clap::Command {
        match path {
            [] => {
                let names: Vec<&'static str> = formats.iter().map(|f| f.as_str()).collect();
                let parser = PossibleValuesParser::new(names).try_map(|v: String| FormatArg::from_str(&v, false));
                let c = c.mut_arg("format", |a| a.value_parser(parser));
                if formats.contains(&Format::Json) {
                    c
                } else {
                    c.mut_arg("json", |a| a.hide(true))
                }
            }
            [first, rest @ ..] => c.mut_subcommand(*first, |s| limit(s, rest, formats)),
        }
    }
    use clap::CommandFactory;
    let mut c = Cli::command();
    for (path, formats) in FORMATS {
        let path: Vec<&str> = path.split(' ').collect();
        c = limit(c, &path, formats);
    }
    c
}

impl OutputArgs {
    /// The chosen format, refused with a message when `cmd` does not write it.
    fn format(&self, cmd: &str) -> bpfabi::Result<Format> {
        let supported = FORMATS.iter().find(|(c, _)| *c == cmd).map_or(&[Format::Table][..], |(_, f)| f);
        let f = match (self.json, self.format) {
            (true, _) => Format::Json,
            (false, None) => Format::Table,
            (false, Some(f)) => match f {
                FormatArg::Table => Format::Table,
                FormatArg::Json => Format::Json,
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Sarif => Format::Sarif,
                FormatArg::C => Format::C,
                FormatArg::Gnu => Format::Gnu,
            },
        };
        if supported.contains(&f) {
            return Ok(f);
        }
        let names: Vec<&str> = supported.iter().map(|f| f.as_str()).collect();
        Err(usage(format!("`{cmd}` does not write --format {}; it writes: {}", f.as_str(), names.join(", "))))
    }
    fn color(&self) -> bool {
        match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// Kernel options, the same wherever a kernel is read.
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
            progress: true,
            ..LoadOptions::default()
        }
    }
    /// The kernel the inputs describe; none: the running kernel.
    fn model(&self, inputs: &[PathBuf]) -> bpfabi::Result<KernelModel> {
        load_with(inputs, &self.options()).map(KernelModel::new)
    }
}

fn load_with(inputs: &[PathBuf], opts: &LoadOptions) -> bpfabi::Result<bpfabi::kernel::Kernel> {
    let k = if inputs.is_empty() { bpfabi::kernel::load_running(opts)? } else { bpfabi::kernel::load(inputs, opts)? };
    warn_release(&k);
    Ok(k)
}

/// A `--release` the inputs contradict is a warning on stderr.
fn warn_release(k: &bpfabi::kernel::Kernel) {
    if let Some(n) = k.note(bpfabi::kernel::NoteKind::ReleaseIgnored) {
        eprintln!("bpfabi: warning: {n}");
    }
}

fn probe(a: &ProbeArgs, w: Out) -> bpfabi::Result<u8> {
    let format = if a.detail { Format::Table } else { a.out.format("probe")? };
    let opts = bpfabi::probe::ProbeOptions { helpers: !a.no_helpers, kfuncs: !a.no_kfuncs, full: a.full, threads: a.threads, only: a.only.clone(), btf_ids: a.btf_ids.clone() };
    let p = bpfabi::probe::run(&opts)?;
    if let Some(f) = &a.output {
        write_file(f, |fw| report::probe::json(fw, &p))?;
    }
    write_out(match format {
        Format::Json => report::probe::json(w, &p),
        _ if a.detail => report::probe::detail(w, &p),
        _ => report::probe::table(w, &p),
    })?;
    Ok(0)
}

fn kernels(a: &KernelsArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::kernel::debian::{self, Cache, DebianName, ResolveOptions};
    let format = a.out.format("kernels")?;
    let cache = Cache::default_location()?;
    let mut opts = ResolveOptions::default();
    opts.offline |= a.offline;
    opts.refresh = a.refresh;
    opts.fetch = !a.resolve_only;
    opts.progress = true;
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for n in &a.names {
        let name = DebianName::parse(n).unwrap_or_else(|| Err(Error::of(ErrorKind::NotFound, n, "expected a debian: name")))?;
        match debian::resolve(&name, &cache, &opts) {
            Ok(r) => resolved.push(r),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let pruned = if a.prune {
        Some(debian::prune::prune(&cache, &debian::prune::PruneOptions::new(a.keep, a.max_size, a.dry_run))?)
    } else {
        None
    };
    let cached = debian::list_cached(&cache);
    let debs: u64 = std::fs::read_dir(cache.debs_dir()).map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0);
    let dir = cache.dir.display().to_string();
    write_out(match format {
        Format::Json => report::kernels::json(w, &dir, &cached, debs, &resolved, &errors, pruned.as_ref()),
        _ => pruned.as_ref().map_or(Ok(()), |p| report::kernels::pruned_text(w, p)).and_then(|_| report::kernels::text(w, &report::kernels::display_dir(&cache.dir), &cached, debs, &resolved, &errors)),
    })?;
    Ok(if errors.is_empty() { 0 } else { 2 })
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

fn vmtest(a: &VmtestArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("vmtest")?;
    use bpfabi::vmtest::{compare, package, read_objects, vm};
    use std::time::Duration;
    let loader = vmtest_loader(a)?;
    if loader.is_none() && !bpfabi::vmtest::CAN_LOAD {
        return Err(bpfabi::Error::new("vmtest", "this bpfabi was built without the `libbpf` feature: nothing could load in the VM"));
    }
    let objs = read_objects(&a.objects, a.root.as_deref())?;
    let wanted: Vec<String> = if a.no_modules {
        Vec::new()
    } else if a.modules.is_empty() {
        package::DEFAULT_MODULES.iter().map(|s| s.to_string()).collect()
    } else {
        a.modules.clone()
    };
    let pairs: Vec<(String, Vec<u8>)> = objs.iter().map(|o| (o.name.clone(), o.bytes.clone())).collect();
    let mut labels = Vec::new();
    let mut results = Vec::new();
    let mut runs = Vec::new();
    let mut rows = Vec::new();
    let mut exit = 0u8;
    for (ki, spec) in a.kernels.iter().enumerate() {
        let mut pieces = Vec::new();
        for piece in spec.split(',').filter(|s| !s.is_empty()) {
            if piece.starts_with("debian:") {
                pieces.extend(bpfabi::kernel::debian::package_files(piece, true)?);
            } else {
                pieces.push(PathBuf::from(piece));
            }
        }
        let t = std::time::Instant::now();
        let (boot, cached) = package::open_cached(&pieces, &wanted)?;
        if a.progress {
            eprintln!("vmtest: kernel {} read in {} ms ({} modules to insert)", boot.release, t.elapsed().as_millis(), boot.modules.len());
        }
        let cfg = vm::VmConfig {
            accel: match a.accel.as_str() {
                "kvm" => vm::Accel::Kvm,
                "tcg" => vm::Accel::Tcg,
                _ => vm::Accel::Auto,
            },
            memory_mb: a.memory,
            unit_timeout: Duration::from_secs(a.unit_timeout),
            vm_timeout: Duration::from_secs(a.vm_timeout),
            kvm_stall: Duration::from_secs(a.kvm_stall),
            console: a.console.as_ref().map(|c| if ki == 0 { c.clone() } else { PathBuf::from(format!("{}.{ki}", c.display())) }),
            // With another loader the probe (bpfabi's own) runs only when asked for.
            probe: !a.no_probe && (loader.is_none() || a.probe_out.is_some()),
            loader: loader.clone(),
            ..vm::VmConfig::default()
        };
        let progress = a.progress;
        // A spinner on a terminal (unless --progress prints lines): the boot
        // and the loads take from seconds to minutes under TCG.
        let spinner = bpfabi::progress::Spinner::new(!progress, &format!("vmtest {}", boot.release));
        spinner.message("booting");
        let mut done = 0usize;
        let mut on_msg = |m: &bpfabi::vmtest::protocol::Message| {
            use bpfabi::vmtest::protocol::Message as M;
            if !progress {
                match m {
                    M::Hello { uptime_ms, .. } => spinner.message(format!("up after {:.1} s, loading", *uptime_ms as f64 / 1000.0)),
                    M::Result { record, .. } => {
                        done += 1;
                        spinner.message(format!("{done} units loaded or refused; last {} {}", record.object, record.unit_name()));
                    }
                    _ => {}
                }
                return;
            }
            match m {
                M::Hello { release, uptime_ms, .. } => eprintln!("vmtest: {release} up after {uptime_ms} ms"),
                M::Module(s) => eprintln!("vmtest: module {} {}", s.name, s.status),
                M::Result { record, .. } => eprintln!("vmtest: {} {} {}", record.object, record.unit_name(), record.status.as_str()),
                _ => {}
            }
        };
        let run = vm::run(&boot, &pairs, &cfg, &mut on_msg);
        drop(spinner);
        let run = run?;
        let label = run.release.clone();
        let nth = |p: &PathBuf| if ki == 0 { p.clone() } else { PathBuf::from(format!("{}.{ki}", p.display())) };
        // The guest's probe, read back as a probe file once: for --probe-out
        // (where a failure is an error) and for --compare (where it is not).
        let mut probe = (a.probe_out.is_some() || a.compare)
            .then(|| report::vmtest::probe_json(&run))
            .flatten()
            .map(|raw| bpfabi::probe::file::read_probe(raw.as_bytes(), &format!("probe of {}", run.release)));
        if let Some(path) = a.probe_out.as_ref().map(nth) {
            if let Some(e) = run.probe.as_ref().and_then(|p| p.get("error")).and_then(|e| e.as_str()) {
                return Err(bpfabi::Error::new(format!("probe of {}", run.release), format!("failed inside the VM: {e}")));
            }
            // A guest-side failure ({"error": ..}) or a malformed document is
            // an error here, not a file `check` trips on.
            let p = probe.take().ok_or_else(|| bpfabi::Error::new("--probe-out", "the guest ran no probe (see docs/vmtest.md)"))??;
            write_file(&path, |fw| report::probe::json(fw, &p))?;
            probe = Some(Ok(p));
        }
        if let Some(path) = a.jsonl.as_ref().map(nth) {
            write_file(&path, |fw| report::vmtest::jsonl(fw, &run))?;
        }
        results.extend(run.records.iter().map(|(_, r)| report::vmtest::result(&label, r, a.log)));
        if run.records.iter().any(|(_, r)| !r.loaded) || run.incomplete.is_some() {
            exit = 1;
        }
        if a.compare {
            let k = if a.check_kernel.is_empty() {
                compare::booted_kernel(&boot, cached.as_deref(), &pieces, &run)?
            } else {
                bpfabi::kernel::load(&a.check_kernel, &LoadOptions::default())?
            };
            rows.extend(compare::predict_and_pair(&label, &objs, &run.records, k, probe.and_then(Result::ok)));
        }
        labels.push(label);
        runs.push(run);
    }
    if a.compare {
        let disagree = rows.iter().any(|r| matches!(r.outcome, compare::Outcome::FalseAlarm | compare::Outcome::Missed));
        exit = disagree as u8;
    }
    let run_refs: Vec<&vm::VmRun> = runs.iter().collect();
    let summaries = |w: Out| run_refs.iter().try_for_each(|r| report::vmtest::run_summary(w, r));
    write_out(if format == Format::Json {
        report::vmtest::json(w, &labels, &results, &run_refs, a.compare.then_some(rows.as_slice()))
    } else if a.compare {
        summaries(w).and_then(|_| writeln!(w)).and_then(|_| report::vmtest::compare_text(w, &labels, &rows, a.all))
    } else {
        report::vmtest::table(w, &results).and_then(|_| writeln!(w)).and_then(|_| summaries(w))
    })?;
    Ok(exit)
}

/// `vmtest --loader`: the reference loader binary to put into the guest
/// (`None`: libbpf, linked into bpfabi).
fn vmtest_loader(a: &VmtestArgs) -> bpfabi::Result<Option<PathBuf>> {
    use bpfabi::vmtest::external::LoaderKind;
    let kind = LoaderKind::parse(&a.loader).ok_or_else(|| bpfabi::Error::new("--loader", format!("unknown loader `{}`; known: {}", a.loader, LoaderKind::NAMES.join(", "))))?;
    if kind == LoaderKind::Libbpf {
        if a.loader_bin.is_some() {
            return Err(bpfabi::Error::new("--loader-bin", "libbpf is linked into bpfabi: --loader-bin goes with --loader cilium or aya"));
        }
        return Ok(None);
    }
    if a.compare {
        return Err(bpfabi::Error::new("--compare", format!("check predicts libbpf's loads; with --loader {} compare the records (--jsonl) instead", a.loader)));
    }
    let bin = a.loader_bin.clone().or_else(|| kind.default_binary()).ok_or_else(|| bpfabi::Error::new("--loader", "no home directory to find the loader cache in: give --loader-bin"))?;
    if !bin.is_file() {
        return Err(bpfabi::Error::new(bin.display().to_string(), format!("no {} loader binary here: build it with scripts/build-loaders, or give --loader-bin", a.loader)));
    }
    Ok(Some(bin))
}

fn lint(a: &LintArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("lint")?;
    let opts = LoadOptions { keep_bad_modules: true, ..a.kernel.options() };
    let k = load_with(&a.inputs, &opts)?;
    let l = bpfabi::lint::lint(&k);
    let label = k.label();
    write_out(match format {
        Format::Json => report::lint::json(w, &label, &l),
        _ => report::lint::table(w, &label, &l),
    })?;
    Ok((l.failing() > 0) as u8)
}

#[derive(Subcommand)]
enum BtfCmd {
    /// Write the vmlinux BTF of a kernel (any input `surface` accepts,
    /// `debian:` names and catalog kernels included) as a C header for BPF
    /// programs (`--format c`: every type, as `bpftool btf dump file X format
    /// c` writes it, consistent with `surface --format c`'s kfunc
    /// declarations) or as raw BTF (`--format raw`, e.g. for libbpf's
    /// btf_custom_path).
    Dump(BtfDumpArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DumpFormat {
    C,
    Raw,
}

#[derive(Args)]
struct BtfDumpArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    /// c: a vmlinux.h; raw: the BTF bytes.
    #[arg(long, value_enum, default_value = "c")]
    format: DumpFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn btf_dump(a: &BtfDumpArgs, w: Out) -> bpfabi::Result<u8> {
    let k = load_with(&a.inputs, &LoadOptions { modules: false, ..a.kernel.options() })?;
    let btf = &k.vmlinux.btf;
    let bytes: Vec<u8> = match a.format {
        DumpFormat::Raw => btf.raw_bytes().as_slice().to_vec(),
        DumpFormat::C => {
            let release = k.release.as_deref().unwrap_or("unknown kernel");
            format!("/* vmlinux.h of {release}, generated by bpfabi from its BTF. */
{}", bpfabi::btf::c_dump::header(btf, "__VMLINUX_H__")).into_bytes()
        }
    };
    match &a.output {
        Some(f) => write_file(f, |fw| fw.write_all(&bytes))?,
        None if a.format == DumpFormat::Raw && io::stdout().is_terminal() => {
            return Err(usage("--format raw writes binary BTF: give -o FILE or redirect stdout".into()));
        }
        None => write_out(w.write_all(&bytes))?,
    }
    Ok(0)
}

#[derive(Args)]
struct SurfaceArgs {
    /// Kernel inputs (see above); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
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

#[derive(Args)]
struct VersionsArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Also list these named types (`struct task_struct`, `task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Also list every named type the kfunc prototypes reach.
    #[arg(long)]
    reachable_types: bool,
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
    /// Do not read modules found in directories and packages.
    #[arg(long)]
    no_modules: bool,
    /// Also compare this named type (`struct task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Compare every named vmlinux type.
    #[arg(long)]
    all_types: bool,
    /// Do not compare the types kfunc prototypes reach.
    #[arg(long)]
    no_kfunc_types: bool,
    /// List every type change (default: one line per changed type).
    #[arg(long = "types")]
    each_type_change: bool,
    #[command(flatten)]
    out: OutputArgs,
    /// Same as --format markdown.
    #[arg(long, hide = true, conflicts_with_all = ["json", "format"])]
    markdown: bool,
}

#[derive(Args)]
struct ProbeArgs {
    #[command(flatten)]
    out: OutputArgs,
    /// Also write the JSON document to FILE (e.g. KERNEL_DIR/probe.json for `check`).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// List every decision (variant, helper or kfunc, how, verifier message).
    #[arg(long, conflicts_with_all = ["json", "format"])]
    detail: bool,
    /// Also probe helpers whose load has side effects (bpf_trace_printk,
    /// bpf_trace_vprintk, bpf_probe_write_user), as `bpftool feature probe full`.
    #[arg(long)]
    full: bool,
    /// Only variants whose label or program type matches PATTERN; repeatable.
    #[arg(long, value_name = "PATTERN")]
    only: Vec<String>,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Do not probe helpers.
    #[arg(long)]
    no_helpers: bool,
    /// Do not probe kfuncs.
    #[arg(long)]
    no_kfuncs: bool,
    /// The running vmlinux's `.BTF_ids` section file (the kfuncs of a kernel
    /// without decl tags when its image is not in /boot).
    #[arg(long, value_name = "FILE")]
    btf_ids: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum CatalogCmd {
    /// List the entries (built-in, or of --dir).
    List {
        #[command(flatten)]
        out: OutputArgs,
        /// A catalog directory instead of the built-in one.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Reduce kernels (any input, `debian:` names included) into a catalog
    /// directory (default data/catalog) and update its index.json.
    Add {
        /// Kernels, one per argument.
        #[arg(required = true)]
        kernels: Vec<PathBuf>,
        /// The catalog directory.
        #[arg(long, value_name = "DIR", default_value = "data/catalog")]
        dir: PathBuf,
        /// Suite the kernel is current in (default: from the kernel's meta.json).
        #[arg(long)]
        suite: Option<String>,
        /// Debian architecture (default: meta.json or the release suffix).
        #[arg(long)]
        arch: Option<String>,
        /// Flavour.
        #[arg(long)]
        flavour: Option<String>,
        /// Package version.
        #[arg(long = "package-version")]
        version: Option<String>,
    },
}

fn catalog(c: &CatalogCmd, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::catalog;
    match c {
        CatalogCmd::List { out, dir } => {
            let format = out.format("catalog list")?;
            let idx = match dir {
                Some(d) => {
                    let p = d.join("index.json");
                    catalog::read_index(&std::fs::read_to_string(&p).map_err(|e| Error::io(p.display().to_string(), e))?, &p.display().to_string())?
                }
                None => catalog::builtin_index()?,
            };
            if format == Format::Json {
                write_out(report::write_json(w, catalog::INDEX_SCHEMA, &serde_json::json!({ "entries": idx.entries })))?;
                return Ok(0);
            }
            let rows: Vec<Vec<String>> = idx
                .entries
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
            let total: u64 = idx.entries.iter().map(|e| e.bytes).sum();
            write_out(writeln!(w, "{} kernels, {:.1} KiB in all", idx.entries.len(), total as f64 / 1024.0))?;
            write_out(report::write_table(w, &["RELEASE", "ARCH", "SUITES", "VERSION", "KFUNCS", "HELPERS", "SIZE", "FULL BTF"], &rows))?;
            Ok(0)
        }
        CatalogCmd::Add { kernels, dir, suite, arch, flavour, version } => {
            let given = catalog::Provenance { suite: suite.clone(), arch: arch.clone(), flavour: flavour.clone(), version: version.clone() };
            for k in kernels {
                let e = catalog::add(dir, k, &given)?;
                write_out(writeln!(w, "{}: {} {} [{}] {} kfuncs, {} helpers, {} bytes (from {} bytes of BTF)", dir.display(), e.release, e.arch, e.suites.join(","), e.kfuncs, e.helpers, e.bytes, e.full_btf_bytes))?;
            }
            Ok(0)
        }
    }
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
    /// List the cache (what `bpfabi kernels` with no NAME prints).
    #[arg(long, conflicts_with_all = ["names", "prune"])]
    list: bool,
    /// Remove extracted kernels and packages from the cache: those beyond
    /// --keep per architecture and flavour, then the oldest extracted until
    /// --max-size is met, and packages of no cached kernel.
    #[arg(long, conflicts_with = "names")]
    prune: bool,
    /// With --prune: kernels kept per architecture and flavour (newest package version first).
    #[arg(long, value_name = "N", requires = "prune")]
    keep: Option<usize>,
    /// With --prune: size the kernels and packages may take (bytes, or 500M, 2G, ...).
    #[arg(long, value_name = "SIZE", requires = "prune", value_parser = parse_size)]
    max_size: Option<u64>,
    /// With --prune: only say what would be removed.
    #[arg(long, requires = "prune")]
    dry_run: bool,
    #[command(flatten)]
    out: OutputArgs,
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
    bpfabi::kernel::debian::prune::parse_size(s).ok_or_else(|| format!("expected a size (bytes, or a number with K, M, G or T), found `{s}`"))
}

#[derive(Args)]
struct VmtestArgs {
    /// BPF objects (or files embedding them).
    #[arg(required_unless_present = "probe_out")]
    objects: Vec<PathBuf>,
    /// Write the kernel probe's JSON (from inside the VM) to FILE (FILE.1, ...
    /// for more kernels); objects are then optional.
    #[arg(long, value_name = "FILE", conflicts_with = "no_probe")]
    probe_out: Option<PathBuf>,
    /// A kernel to boot: a Debian package, a `debian:` name (see `bpfabi
    /// kernels`), an unpacked package tree, or a vmlinuz; pieces of one kernel joined by commas (Debian 7.x's
    /// `linux-binary-*.deb,linux-modules-*.deb`, or `vmlinuz,/lib/modules/R`).
    /// Repeat for more kernels.
    #[arg(long = "kernel", value_name = "K[,K...]", required = true)]
    kernels: Vec<String>,
    /// Module to insert (with its dependencies); repeatable. Default: the
    /// modules registering kfunc sets (nf_conntrack, nf_nat, nf_flow_table,
    /// fou, xfrm_interface, tcp_bbr, tcp_dctcp, hid, bpf_crypto_skcipher).
    #[arg(long = "module", value_name = "NAME")]
    modules: Vec<String>,
    /// Insert no modules.
    #[arg(long, conflicts_with = "modules")]
    no_modules: bool,
    /// Name objects relative to this directory.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Also run `check` and print prediction next to reality, with confusion counts.
    #[arg(long)]
    compare: bool,
    /// With --compare: list every unit, not only disagreements.
    #[arg(long, requires = "compare")]
    all: bool,
    /// With --compare: the kernel `check` predicts for (any `surface` input;
    /// default: the booted kernel's package, modules limited to those inserted).
    #[arg(long, value_name = "INPUT", requires = "compare")]
    check_kernel: Vec<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
    /// Include libbpf's full log per unit in the JSON.
    #[arg(long)]
    log: bool,
    /// Write the whole records, one JSON line per unit (ground-truth format), to FILE.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<PathBuf>,
    /// QEMU accelerator: auto (KVM, falling back to TCG when the boot stalls), kvm, tcg.
    #[arg(long, default_value = "auto", value_parser = ["auto", "kvm", "tcg"])]
    accel: String,
    /// Guest memory.
    #[arg(long, default_value_t = 1024, value_name = "MB")]
    memory: u32,
    /// Per-program watchdog.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    unit_timeout: u64,
    /// Whole-run watchdog (per kernel).
    #[arg(long, default_value_t = 14400, value_name = "SECS")]
    vm_timeout: u64,
    /// Under KVM, console silence before the guest starts that counts as a stall.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    kvm_stall: u64,
    /// Keep the (last boot's) console log of each kernel: FILE, FILE.1, ...
    #[arg(long, value_name = "FILE")]
    console: Option<PathBuf>,
    /// Do not run the kernel probe in the guest.
    #[arg(long)]
    no_probe: bool,
    /// Print each unit's result on stderr as it arrives.
    #[arg(long)]
    progress: bool,
    /// The loader inside the guest: libbpf (linked into bpfabi), or the real
    /// cilium/ebpf or aya library through the reference loaders that
    /// `scripts/build-loaders` builds (docs/loaders.md).
    #[arg(long, default_value = "libbpf", value_parser = bpfabi::vmtest::external::LoaderKind::NAMES)]
    loader: String,
    /// The reference loader binary for --loader cilium|aya (static; default:
    /// scripts/build-loaders' ciliumload-sid or ayaload in ~/.cache/bpfabi/loaders/bin).
    #[arg(long, value_name = "FILE")]
    loader_bin: Option<PathBuf>,
}

#[derive(Args)]
struct LintArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// BPF objects, files embedding them, or directories to walk.
    #[arg(required = true)]
    objects: Vec<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
    /// List the files skipped because they hold no BPF object.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args, Clone)]
struct CheckArgs {
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

/// A usage error: about the command line, no input in particular
/// (printed `bpfabi: error: WHAT`).
fn usage(what: String) -> Error {
    Error::of(ErrorKind::NotFound, "", what)
}

type Out<'a> = &'a mut dyn Write;

fn surface(a: &SurfaceArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("surface")?;
    if format == Format::C && a.helpers {
        return Err(usage("--format c writes kfunc declarations; --helpers leaves none (helpers are declared by libbpf's bpf_helper_defs.h)".into()));
    }
    let k = a.kernel.model(&a.inputs)?;
    let mut s = k.surface().clone();
    if let Some(p) = &a.grep {
        s.retain(|n| report::matches_pattern(p, n));
    }
    if a.kfuncs {
        s.helpers.clear();
    }
    if a.helpers {
        s.kfuncs.clear();
    }
    write_out(match format {
        Format::Json => report::surface::json(w, &s),
        Format::C => report::surface::c_header(w, &s),
        _ => report::surface::table(w, &s, !a.helpers, !a.kfuncs),
    })?;
    Ok(0)
}

fn versions(a: &VersionsArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::versions::{hex, Version};
    let format = a.out.format("versions")?;
    let k = a.kernel.model(&a.inputs)?;
    let btf = k.vmlinux();
    let mut keys: Vec<bpfabi::versions::Key> = Vec::new();
    for t in &a.types {
        keys.push(bpfabi::versions::lookup_type_name(btf, t).map_err(|what| Error::of(ErrorKind::NotFound, k.label(), what))?);
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
    if a.reachable_types {
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
    if let Some(p) = &a.grep {
        out.retain(|x| report::matches_pattern(p, &x.name));
    }
    write_out(match format {
        Format::Json => report::versions::json(w, k.kernel().release.as_deref(), &out),
        _ => report::versions::table(w, &out),
    })?;
    Ok(0)
}

fn diff(a: &DiffArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::diff::DiffOptions;
    let format = if a.markdown { Format::Markdown } else { a.out.format("diff")? };
    let side = |main: &PathBuf, extra: &[PathBuf], release: &Option<String>| {
        let mut inputs = vec![main.clone()];
        inputs.extend_from_slice(extra);
        load_with(&inputs, &LoadOptions { release: release.clone(), modules: !a.no_modules, progress: true, ..LoadOptions::default() }).map(KernelModel::new)
    };
    // Both kernels are read and prepared at once (errors: the old side's first).
    let (ko, kn) = std::thread::scope(|s| {
        let old = s.spawn(|| side(&a.old, &a.old_input, &a.old_release));
        let kn = side(&a.new, &a.new_input, &a.new_release);
        (old.join(), kn)
    });
    let ko = ko.unwrap_or_else(|p| std::panic::resume_unwind(p))?;
    let kn = kn?;
    for t in &a.types {
        if bpfabi::versions::lookup_type_name(ko.vmlinux(), t).is_err() {
            bpfabi::versions::lookup_type_name(kn.vmlinux(), t).map_err(|what| Error::of(ErrorKind::NotFound, "--type", what))?;
        }
    }
    let opts = DiffOptions::default().types(a.types.clone()).all_types(a.all_types).kfunc_types(!a.no_kfunc_types);
    let d = bpfabi::diff::diff(&ko, &kn, &opts, &bpfabi::policy::DefaultPolicy);
    write_out(match format {
        Format::Json => report::diff::json(w, &d),
        Format::Markdown => report::diff::markdown(w, &d),
        _ => report::diff::text(w, &d, a.out.color(), a.each_type_change),
    })?;
    Ok(d.has_breaking() as u8)
}

/// Objects under the paths (directories walked, packages streamed); files
/// without BPF are skipped with a count on stderr (`-v` lists them). An
/// input that fails is reported on stderr and the others are read: the
/// number that failed comes back for the exit code (2).
fn read_objects(paths: &[PathBuf], verbose: bool) -> bpfabi::Result<(Vec<bpfabi::object::BpfObject>, usize)> {
    let found = bpfabi::inputs::find_objects(paths, true);
    if verbose {
        for s in &found.skipped {
            eprintln!("bpfabi: skipped {s}: no BPF object");
        }
    } else if !found.skipped.is_empty() {
        eprintln!("bpfabi: skipped {} without BPF objects (-v lists them)", report::count(found.skipped.len(), "file", "files"));
    }
    for e in &found.errors {
        eprintln!("bpfabi: error: {e}");
    }
    if found.objects.is_empty() {
        let what = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        let why = match found.errors.len() {
            0 => "no BPF object (EM_BPF ELF, or a file embedding one) found".to_string(),
            n => format!("no BPF object read ({} failed, see above)", report::count(n, "input", "inputs")),
        };
        return Err(Error::of(ErrorKind::WrongInput, what, why));
    }
    Ok((found.objects, found.errors.len()))
}

/// The exit code of a command over objects: 2 when an input failed,
/// whatever the findings about the others.
fn with_failed(failed: usize, code: u8) -> u8 {
    if failed > 0 {
        2
    } else {
        code
    }
}

fn inspect(a: &InspectArgs, w: Out) -> bpfabi::Result<u8> {
    let format = a.out.format("inspect")?;
    let (objs, failed) = read_objects(&a.objects, a.verbose)?;
    if format == Format::Json {
        write_out(report::check::inspect_json(w, &objs))?;
        return Ok(with_failed(failed, 0));
    }
    // Name helpers and map types from the running kernel when there is one.
    let running = KernelModel::running(&LoadOptions::default()).ok();
    // Built-in UAPI names, overlaid by the running kernel's.
    let mut names: std::collections::BTreeMap<u32, String> =
        (1..bpfabi::uapi::HELPER_NAMES.len() as u32).filter_map(|id| Some((id, bpfabi::uapi::helper_name(id)?))).collect();
    names.extend(running.as_ref().map(|k| k.helper_names().clone()).unwrap_or_default());
    let map_name = |t: u32| -> Option<String> {
        let n = running.as_ref()?.map_types().name(t as u64)?;
        Some(n.trim_start_matches("BPF_MAP_TYPE_").to_ascii_lowercase())
    };
    write_out(report::check::inspect_text(w, &objs, &names, &map_name))?;
    Ok(with_failed(failed, 0))
}

fn check(a: &CheckArgs, w: Out) -> bpfabi::Result<u8> {
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
        return policy_cli::check_with_policy(a, &m, format, objs, kernels, &labels, &results, w);
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

/// Write a file through a printer; a failed create or write names the file.
fn write_file(path: &std::path::Path, print: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> bpfabi::Result<()> {
    let io_err = |e| Error::io(path.display().to_string(), e);
    let mut f = io::BufWriter::new(std::fs::File::create(path).map_err(io_err)?);
    print(&mut f).and_then(|_| f.flush()).map_err(io_err)
}

/// A write error becomes an input/output error (exit 2), except a pipe
/// closed by the reader (`bpfabi surface | head`), which ends quietly.
fn write_out(r: io::Result<()>) -> bpfabi::Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Error::of(ErrorKind::Write, "stdout", "closed").with_source(e)),
        Err(e) => Err(Error::of(ErrorKind::Write, "stdout", format!("write failed: {e}")).with_source(e)),
    }
}


/// The probe a vmtest guest runs: everything, noisy helpers included (the VM
/// is thrown away). An error travels back as `{"error": ...}`.
fn guest_probe() -> serde_json::Value {
    let ids = std::path::Path::new(bpfabi::vmtest::vm::GUEST_BTF_IDS);
    let opts = bpfabi::probe::ProbeOptions { full: true, btf_ids: ids.exists().then(|| ids.to_path_buf()), ..Default::default() };
    match bpfabi::probe::run(&opts) {
        Ok(p) => serde_json::to_value(&p).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}

// ---- census and report (issue #15) ----

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct CensusArgs {
    #[command(subcommand)]
    sub: Option<CensusSub>,
    /// Inputs to walk: files, directories, `.deb` packages, wheels, npm
    /// tarballs, crates; named packages `pypi:NAME==VERSION`,
    /// `npm:NAME@VERSION`, `crate:NAME@VERSION` (fetched with pip, npm,
    /// cargo); `-`: paths on stdin.
    paths: Vec<PathBuf>,
    /// Merge census JSON documents (shards) instead of reading inputs;
    /// the result equals one run over all their inputs.
    #[arg(long, num_args = 1.., value_name = "CENSUS")]
    merge: Vec<PathBuf>,
    /// Keep each distinct object as DIR/<sha256>.o (for `impact` and `report`).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Files under a walked directory are ROOT/<package>/<version>/...
    #[arg(long)]
    package_dirs: bool,
    /// Worker threads (default: one per core).
    #[arg(short, long, default_value_t = 0)]
    jobs: usize,
    /// Read only shard K of N (K from 1): a deterministic partition by
    /// package; `--merge` of the N outputs equals one run.
    #[arg(long, value_name = "K/N")]
    shard: Option<bpfabi::census::walk::Shard>,
    /// Rows per category in the table (0: all).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Write the output to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Subcommand)]
enum CensusSub {
    /// What each release (consecutive KERNELs) breaks among the census objects.
    Impact(CensusKernelArgs),
    /// Stable kfunc candidates as a policy manifest fragment (TOML).
    Suggest(SuggestArgs),
}

#[derive(Args)]
struct CensusKernelArgs {
    /// A `bpfabi census --format json` document.
    #[arg(long, value_name = "FILE")]
    census: PathBuf,
    /// Where `census --store` kept the objects.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Kernels (any input `surface` accepts), in release order.
    #[arg(required = true)]
    kernels: Vec<PathBuf>,
    /// Do not read modules found in kernel directories and packages.
    #[arg(long)]
    no_modules: bool,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Args)]
struct SuggestArgs {
    #[command(flatten)]
    k: CensusKernelArgs,
    /// Distinct projects that must use a kfunc.
    #[arg(long, default_value_t = 2)]
    min_projects: usize,
    /// Consecutive releases (up to the newest) with the same prototype.
    #[arg(long, default_value_t = 2)]
    min_releases: usize,
    /// A stability manifest (docs/policy.md): the fragment becomes a layer
    /// over it (`schema`, `extends`, `tier_since`) that `policy check`
    /// reads; kfuncs it deprecates, ignores or already places are left out.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The `extends` path written into the fragment (default: --manifest as given).
    #[arg(long, value_name = "PATH", requires = "manifest")]
    extends: Option<String>,
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    k: CensusKernelArgs,
    /// Output directory (created).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Distinct projects for a stable candidate.
    #[arg(long, default_value_t = 2)]
    min_projects: usize,
    /// Releases with the same prototype for a stable candidate.
    #[arg(long, default_value_t = 2)]
    min_releases: usize,
    /// A stability manifest (docs/policy.md): each used kfunc's lifecycle
    /// (tier, deprecated_since, removal_not_before, replacement) in the report.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

mod census_cmd {
    use super::*;
    use bpfabi::census::{self, Census};

    pub fn census(a: &CensusArgs, w: Out) -> bpfabi::Result<u8> {
        match &a.sub {
            Some(CensusSub::Impact(k)) => return impact(k, w),
            Some(CensusSub::Suggest(s)) => return suggest(s, w),
            None => {}
        }
        let format = a.out.format("census")?;
        let c = if !a.merge.is_empty() {
            if !a.paths.is_empty() {
                return Err(usage("give either PATHs or --merge, not both".to_string()));
            }
            let parts = a.merge.iter().map(|p| Census::read(p)).collect::<bpfabi::Result<Vec<_>>>()?;
            Census::merge(parts)
        } else {
            if a.paths.is_empty() {
                return Err(usage("give PATHs to walk (`-`: a list on stdin) or --merge CENSUS...".to_string()));
            }
            let stdin = if a.paths.iter().any(|p| p.as_os_str() == "-") {
                let mut s = String::new();
                io::Read::read_to_string(&mut io::stdin(), &mut s).map_err(|e| Error::io("stdin", e))?;
                Some(s)
            } else {
                None
            };
            let mut opts = census::walk::CensusOptions::default();
            opts.jobs = a.jobs;
            opts.package_dirs = a.package_dirs;
            opts.shard = a.shard;
            // Named packages (pypi:, npm:, crate:) beside the Debian cache.
            opts.fetch_cache = bpfabi::kernel::debian::Cache::default_location().ok().and_then(|c| c.dir.parent().map(|p| p.join("packages")));
            opts.store = a.store.clone();
            opts.progress = true;
            let t = std::time::Instant::now();
            let (c, st) = census::walk::run(&a.paths, stdin.as_deref(), &opts);
            eprintln!(
                "bpfabi: census: {} files ({} packages, {:.1} MB read, {:.1} MB unpacked), {} distinct objects in {:.2} s",
                st.files,
                st.packages,
                st.bytes as f64 / 1e6,
                st.unpacked as f64 / 1e6,
                c.totals.objects,
                t.elapsed().as_secs_f64()
            );
            c
        };
        let mut file;
        let w: Out = match &a.output {
            Some(p) => {
                file = io::BufWriter::new(std::fs::File::create(p).map_err(|e| Error::io(p.display().to_string(), e))?);
                &mut file
            }
            None => w,
        };
        write_out(match format {
            Format::Json => report::census::json(w, &c),
            Format::Jsonl => report::census::jsonl(w, &c),
            _ => report::census::table(w, &c, a.top),
        })?;
        write_out(w.flush())?;
        // An input that failed (listed with the output) makes the run exit
        // 2; errors carried over from merged shards do not.
        if a.merge.is_empty() && !c.errors.is_empty() {
            eprintln!("bpfabi: census: {} failed (listed in the output)", report::count(c.errors.len(), "input", "inputs"));
            return Ok(2);
        }
        Ok(0)
    }

    fn kernels(k: &CensusKernelArgs) -> bpfabi::Result<Vec<KernelModel>> {
        let lo = LoadOptions { modules: !k.no_modules, ..LoadOptions::default() };
        k.kernels.iter().map(|p| KernelModel::load(std::slice::from_ref(p), &lo)).collect()
    }

    fn impact(k: &CensusKernelArgs, w: Out) -> bpfabi::Result<u8> {
        let format = k.out.format("census impact")?;
        let c = Census::read(&k.census)?;
        let ks = kernels(k)?;
        let i = census::impact::impact(&c, &ks, k.store.as_deref());
        write_out(match format {
            Format::Json => report::census::impact_json(w, &i),
            _ => report::census::impact_text(w, &i),
        })?;
        Ok(i.releases.iter().any(|r| !r.breaks.is_empty()) as u8)
    }

    pub(super) fn suggest(s: &SuggestArgs, w: Out) -> bpfabi::Result<u8> {
        s.k.out.format("census suggest")?;
        let c = Census::read(&s.k.census)?;
        let ks = kernels(&s.k)?;
        let opts = census::suggest::SuggestOptions::new(s.min_projects, s.min_releases);
        let cands = census::suggest::candidates(&c, &ks, &opts);
        let text = match &s.manifest {
            Some(m) => {
                let man = bpfabi::policy::Manifest::load(m)?;
                let ext = s.extends.clone().unwrap_or_else(|| m.display().to_string());
                census::suggest::manifest_fragment(&c, &ks, &cands, &opts, &man, &ext)
            }
            None => census::suggest::fragment(&c, &ks, &cands, &opts),
        };
        write_out(w.write_all(text.as_bytes()))?;
        Ok(0)
    }

    pub fn report(a: &ReportArgs, w: Out) -> bpfabi::Result<u8> {
        a.k.out.format("report")?;
        let t = std::time::Instant::now();
        let c = Census::read(&a.k.census)?;
        let ks = kernels(&a.k)?;
        let t_load = t.elapsed();
        let i = census::impact::impact(&c, &ks, a.k.store.as_deref());
        let opts = census::suggest::SuggestOptions::new(a.min_projects, a.min_releases);
        let cands = census::suggest::candidates(&c, &ks, &opts);
        let frag = census::suggest::fragment(&c, &ks, &cands, &opts);
        let manifest = a.manifest.as_ref().map(|m| bpfabi::policy::Manifest::load(m).map(|man| (m.display().to_string(), census::site::lifecycle(&c, &man)))).transpose()?;
        let life = manifest.as_ref().map(|(p, l)| (p.as_str(), l.as_slice()));
        let files = census::site::render_with_lifecycle(&c, &ks, &i, &cands, &frag, &opts, life, &a.output)?;
        write_out(writeln!(
            w,
            "{}: {} files (index.html, summary.md, {} kfunc and package pages); kernels read in {:.2} s, total {:.2} s",
            a.output.display(),
            files.len(),
            files.len().saturating_sub(2),
            t_load.as_secs_f64(),
            t.elapsed().as_secs_f64()
        ))?;
        for r in &i.releases {
            write_out(writeln!(w, "{}", r.sentence()))?;
        }
        Ok(0)
    }
}

fn main() -> ExitCode {
    // Inside a vmtest VM this binary is /init; the kernel probe runs there
    // before the loads (see vmtest::guest::ProbeHook).
    if bpfabi::vmtest::guest::is_guest() {
        bpfabi::vmtest::guest::main(Some(guest_probe));
    }
    let cli = {
        use clap::FromArgMatches;
        Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit())
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = match &cli.cmd {
        Cmd::Surface(a) => surface(a, &mut out),
        Cmd::Versions(a) => versions(a, &mut out),
        Cmd::Diff(a) => diff(a, &mut out),
        Cmd::Inspect(a) => inspect(a, &mut out),
        Cmd::Check(a) => check(a, &mut out),
        Cmd::Lint(a) => lint(a, &mut out),
        Cmd::Probe(a) => probe(a, &mut out),
        Cmd::Kernels(a) => kernels(a, &mut out),
        Cmd::Vmtest(a) => vmtest(a, &mut out),
        Cmd::Catalog(c) => catalog(c, &mut out),
        Cmd::Census(a) => census_cmd::census(a, &mut out),
        Cmd::Report(a) => census_cmd::report(a, &mut out),
        Cmd::Policy(c) => policy_cli::run(c, &mut out),
        Cmd::Btf(BtfCmd::Dump(a)) => btf_dump(a, &mut out),
        Cmd::Completions { shell } => {
            clap_complete::generate(*shell, &mut command(), "bpfabi", &mut out);
            Ok(0)
        }
        Cmd::Man => {
            write_out(clap_mangen::Man::new(command()).render(&mut out)).map(|_| 0)
        }
    };
    let result = result.and_then(|code| write_out(out.flush()).map(|_| code));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind == ErrorKind::Write && e.what == "closed" => ExitCode::from(0),
        Err(e) => {
            // Whatever was buffered is dropped: the error explains why output is missing.
            eprintln!("bpfabi: error: {e}");
            ExitCode::from(2)
        }
    }
}

// ---- policy (docs/policy.md) ---------------------------------------------

#[derive(Subcommand)]
enum PolicyCmd {
    /// A new manifest from a kernel history: every kfunc with its facts
    /// (first release, removal, fingerprints per release range); decisions
    /// default to the default tier. KERNEL: any input `surface` accepts, one
    /// per kernel, any order (sorted by release).
    Init(PolicyInitArgs),
    /// Check a kernel history against a manifest: every change graded by the
    /// kfunc's tier, deprecation windows, facts, waivers. Exit 0: no deny
    /// finding, 1: some, 2: error.
    Check(PolicyCheckArgs),
    /// A C header for BPF programs: weak declarations of each deprecated or
    /// renamed kfunc and its replacement, and a `<replacement>_compat()`
    /// wrapper calling whichever the running kernel has.
    Compat(PolicyCompatArgs),
    /// A kfunc reference from a manifest and a kernel history: Markdown
    /// (kfuncs.md), a static HTML site (no external assets) and kfuncs.json.
    Docs(PolicyDocsArgs),
    /// Stable kfunc candidates from a census as a layer over the manifest
    /// (`census suggest --manifest`): kfuncs used by enough projects and
    /// unchanged in enough releases, evidence in comments.
    Suggest(SuggestArgs),
}

#[derive(Args)]
struct PolicyDocsArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    #[command(flatten)]
    k: PolicyKernels,
    /// Output directory.
    #[arg(long, short = 'o', value_name = "DIR", default_value = "kfunc-docs")]
    output: PathBuf,
    /// A `bpfabi census --format json` document: users per kfunc, users.html.
    #[arg(long, value_name = "FILE")]
    census: Option<PathBuf>,
}

#[derive(Args)]
struct PolicyCompatArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct PolicyKernels {
    /// Kernels (any input `surface` accepts, one per kernel).
    #[arg(required = true)]
    kernels: Vec<PathBuf>,
    /// Do not read modules found in kernel directories and packages.
    #[arg(long)]
    no_modules: bool,
}

#[derive(Args)]
struct PolicyInitArgs {
    #[command(flatten)]
    k: PolicyKernels,
    /// Default tier of the new manifest.
    #[arg(long, default_value = "unstable")]
    default_tier: String,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct PolicyCheckArgs {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    #[command(flatten)]
    k: PolicyKernels,
    /// Rewrite the manifest's facts (never decisions) from the kernels, keeping comments, order and the facts about releases not given.
    #[arg(long)]
    fix: bool,
    /// With --fix: facts become exactly what the kernels given show (drops the recorded history outside them).
    #[arg(long, requires = "fix")]
    shrink: bool,
    /// Today's date for waiver expiry (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DATE", hide = true)]
    today: Option<String>,
    #[command(flatten)]
    out: OutputArgs,
}

mod policy_cli {
    use super::*;
    use bpfabi::policy::{edit, findings, history, Manifest};

    pub(super) fn run(c: &PolicyCmd, w: Out) -> bpfabi::Result<u8> {
        match c {
            PolicyCmd::Init(a) => init(a, w),
            PolicyCmd::Suggest(a) => {
                if a.manifest.is_none() {
                    return Err(usage("policy suggest: --manifest is required (census suggest works without)".to_string()));
                }
                super::census_cmd::suggest(a, w)
            }
            PolicyCmd::Check(a) => check(a, w),
            PolicyCmd::Docs(a) => {
                let m = Manifest::load(&a.manifest)?;
                let (models, labels) = kernels(&a.k)?;
                let o = history::check(&m, &models, &labels, &Default::default());
                let mut site = bpfabi::policy::docs::build(&m, &labels, &o);
                if let Some(c) = &a.census {
                    bpfabi::policy::docs::add_users(&mut site, &m, &bpfabi::census::Census::read(c)?, &c.display().to_string());
                }
                bpfabi::policy::docs::write(&site, &a.output)?;
                write_out(writeln!(w, "{}: {} kfunc pages, index.html, tiers.html, releases.html, kfuncs.md, kfuncs.json", a.output.display(), site.kfuncs.len()))?;
                Ok(0)
            }
            PolicyCmd::Compat(a) => {
                let text = bpfabi::policy::compat::header(&Manifest::load(&a.manifest)?);
                match &a.output {
                    Some(f) => std::fs::write(f, text).map_err(|e| Error::io(f.display().to_string(), e))?,
                    None => write_out(w.write_all(text.as_bytes()))?,
                }
                Ok(0)
            }
        }
    }

    /// Kernels loaded on threads, in release order.
    pub(super) fn kernels(k: &PolicyKernels) -> bpfabi::Result<(Vec<KernelModel>, Vec<String>)> {
        let lo = LoadOptions { modules: !k.no_modules, ..LoadOptions::default() };
        let models: Vec<bpfabi::Result<KernelModel>> = std::thread::scope(|s| {
            let hs: Vec<_> = k.kernels.iter().map(|p| s.spawn(|| KernelModel::load(std::slice::from_ref(p), &lo))).collect();
            hs.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::new("policy", "a kernel reader panicked")))).collect()
        });
        history::order(models.into_iter().collect::<bpfabi::Result<Vec<_>>>()?)
    }

    /// `check --policy`: the check's output with the manifest's findings
    /// about deprecated kfuncs (text before the matrix; merged into JSON/SARIF).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_with_policy(
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

    fn init(a: &PolicyInitArgs, w: Out) -> bpfabi::Result<u8> {
        let (models, labels) = kernels(&a.k)?;
        let h = history::History::new(&models, &labels);
        let renames = history::renames(&models);
        let text = edit::init(&a.default_tier, &labels, &h.facts(&renames))?;
        match &a.output {
            Some(f) => std::fs::write(f, text).map_err(|e| Error::io(f.display().to_string(), e))?,
            None => write_out(w.write_all(text.as_bytes()))?,
        }
        Ok(0)
    }

    fn check(a: &PolicyCheckArgs, w: Out) -> bpfabi::Result<u8> {
        let format = a.out.format("policy check")?;
        let m = Manifest::load(&a.manifest)?;
        let (models, labels) = kernels(&a.k)?;
        let mut opts = history::CheckOptions::default();
        if let Some(t) = &a.today {
            opts.today = bpfabi::policy::manifest::parse_date(t).ok_or_else(|| usage(format!("--today: expected YYYY-MM-DD, found `{t}`")))?;
        }
        let mut o = history::check(&m, &models, &labels, &opts);
        if a.fix {
            let file = a.manifest.display().to_string();
            let text = std::fs::read_to_string(&a.manifest).map_err(|e| Error::io(&file, e))?;
            let add: Vec<&String> = o.findings.iter().filter(|f| f.code == findings::Code::Unlisted).filter_map(|f| f.kfunc.as_ref()).collect();
            let fixed = edit::fix(&text, &file, if a.shrink { &o.facts } else { &o.merged }, &add)?;
            std::fs::write(&a.manifest, fixed).map_err(|e| Error::io(&file, e))?;
            let m = Manifest::load(&a.manifest)?;
            o = history::check(&m, &models, &labels, &opts);
        }
        write_out(match format {
            Format::Json => findings::json(w, &labels, &o.findings),
            Format::Sarif => findings::sarif(w, &o.findings, &findings::manifest_loc),
            _ => findings::text(w, &labels, &o.findings),
        })?;
        Ok((findings::counts(&o.findings).deny > 0) as u8)
    }
}
