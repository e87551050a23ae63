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
    /// Load every program of every object for real, in a kernel booted under
    /// QEMU (this binary is the VM's /init; libbpf 1.7 loads one program at
    /// a time). Exit 0: everything loaded (with --compare: prediction and
    /// reality agree everywhere), 1: otherwise. See docs/vmtest.md.
    Vmtest(VmtestArgs),
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
    /// A kernel to boot: a Debian package, an unpacked package tree, or a
    /// vmlinuz; pieces of one kernel joined by commas (Debian 7.x's
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
    /// JSON output (schema bpfabi.check/1 with load fields; docs/vmtest.md).
    #[arg(long)]
    json: bool,
    /// Include libbpf's full log per unit in the JSON.
    #[arg(long, requires = "json")]
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
    /// Also load every program for real on the running kernel (root), one at
    /// a time with libbpf, and print where prediction and reality disagree.
    /// Everything loaded is removed.
    #[arg(long, conflicts_with_all = ["sarif", "explain"])]
    load: bool,
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
    if a.load {
        return check_load(a, &labels, &results);
    }
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

/// `check --load`: predictions (already computed) next to real loads here.
#[cfg(feature = "libbpf")]
fn check_load(a: &CheckArgs, labels: &[String], results: &[bpfabi::check::ProgramResult]) -> bpfabi::Result<(String, u8)> {
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
    let text = if a.json {
        report::vmtest::json(labels, &loads, &[], Some(&rows))
    } else {
        format!("{}
real loads on {kernel}:
{}", report::check::matrix(labels, results), report::vmtest::compare_text(labels, &rows, false))
    };
    Ok((text, disagree as u8))
}

#[cfg(not(feature = "libbpf"))]
fn check_load(_: &CheckArgs, _: &[String], _: &[bpfabi::check::ProgramResult]) -> bpfabi::Result<(String, u8)> {
    Err(bpfabi::Error::new("--load", "this bpfabi was built without the `libbpf` feature"))
}

fn vmtest(a: &VmtestArgs) -> bpfabi::Result<(String, u8)> {
    use bpfabi::vmtest::{compare, package, read_objects, vm};
    use std::time::Duration;
    if !bpfabi::vmtest::CAN_LOAD {
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
    let mut summaries = String::new();
    let mut exit = 0u8;
    for (ki, spec) in a.kernels.iter().enumerate() {
        let pieces: Vec<PathBuf> = spec.split(',').filter(|s| !s.is_empty()).map(PathBuf::from).collect();
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
            probe: !a.no_probe,
            ..vm::VmConfig::default()
        };
        let progress = a.progress;
        let mut on_msg = |m: &bpfabi::vmtest::protocol::Message| {
            if !progress {
                return;
            }
            use bpfabi::vmtest::protocol::Message as M;
            match m {
                M::Hello { release, uptime_ms, .. } => eprintln!("vmtest: {release} up after {uptime_ms} ms"),
                M::Module(s) => eprintln!("vmtest: module {} {}", s.name, s.status),
                M::Result { record, .. } => eprintln!("vmtest: {} {} {}", record.object, record.unit_name(), record.status.as_str()),
                _ => {}
            }
        };
        let run = vm::run(&boot, &pairs, &cfg, &mut on_msg)?;
        let label = run.release.clone();
        let nth = |p: &PathBuf| if ki == 0 { p.clone() } else { PathBuf::from(format!("{}.{ki}", p.display())) };
        if let Some(path) = a.probe_out.as_ref().map(nth) {
            let text = report::vmtest::probe_json(&run).ok_or_else(|| bpfabi::Error::new("--probe-out", "the guest ran no probe: this build has no probe hook wired (see docs/vmtest.md)"))?;
            std::fs::write(&path, text).map_err(|e| bpfabi::Error::io(path.display().to_string(), e))?;
        }
        if let Some(path) = a.jsonl.as_ref().map(nth) {
            std::fs::write(&path, report::vmtest::jsonl(&run)).map_err(|e| bpfabi::Error::io(path.display().to_string(), e))?;
        }
        results.extend(run.records.iter().map(|(_, r)| report::vmtest::result(&label, r, a.log)));
        if run.records.iter().any(|(_, r)| !r.loaded) || run.incomplete.is_some() {
            exit = 1;
        }
        summaries.push_str(&report::vmtest::run_summary(&run));
        if a.compare {
            let k = if a.check_kernel.is_empty() {
                compare::booted_kernel(&boot, cached.as_deref(), &pieces, &run)?
            } else {
                kernel::load(&a.check_kernel, &LoadOptions::default())?
            };
            rows.extend(compare::predict_and_pair(&label, &objs, &run.records, &k));
        }
        labels.push(label);
        runs.push(run);
    }
    if a.compare {
        let disagree = rows.iter().any(|r| matches!(r.outcome, compare::Outcome::FalseAlarm | compare::Outcome::Missed));
        exit = disagree as u8;
    }
    let run_refs: Vec<&vm::VmRun> = runs.iter().collect();
    let text = if a.json {
        report::vmtest::json(&labels, &results, &run_refs, a.compare.then_some(rows.as_slice()))
    } else if a.compare {
        format!("{summaries}\n{}", report::vmtest::compare_text(&labels, &rows, a.all))
    } else {
        format!("{}\n{summaries}", report::vmtest::table(&results))
    };
    Ok((text, exit))
}

fn main() -> ExitCode {
    // Inside a vmtest VM this binary is /init. The kernel probe plugs in
    // here (`Some(probe_fn)`, see vmtest::guest::ProbeHook).
    if bpfabi::vmtest::guest::is_guest() {
        bpfabi::vmtest::guest::main(None);
    }
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Cmd::Surface(a) => surface(a),
        Cmd::Versions(a) => versions(a),
        Cmd::Diff(a) => diff(a),
        Cmd::Inspect(a) => inspect(a),
        Cmd::Check(a) => check(a),
        Cmd::Vmtest(a) => vmtest(a),
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
