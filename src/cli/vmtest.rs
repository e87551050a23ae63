//! Command `vmtest`: real loads in kernels booted under QEMU; the probe the guest runs.

use super::common::{write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::vmtest::{self, Event, VmtestSpec};
use bpfabi::report::Render;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(formats = "vmtest")]
pub struct VmtestArgs {
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

pub fn run(a: &VmtestArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::vmtest::{package, vm};
    use std::time::Duration;
    let format = a.out.format("vmtest")?;
    let loader = vmtest_loader(a)?;
    if loader.is_none() && !bpfabi::vmtest::CAN_LOAD {
        return Err(bpfabi::Error::new("vmtest", "this bpfabi was built without the `libbpf` feature: nothing could load in the VM"));
    }
    let modules: Vec<String> = if a.no_modules {
        Vec::new()
    } else if a.modules.is_empty() {
        package::DEFAULT_MODULES.iter().map(|s| s.to_string()).collect()
    } else {
        a.modules.clone()
    };
    let vm = vm::VmConfig {
        accel: match a.accel.as_str() {
            "kvm" => vm::Accel::Kvm,
            "tcg" => vm::Accel::Tcg,
            _ => vm::Accel::Auto,
        },
        memory_mb: a.memory,
        unit_timeout: Duration::from_secs(a.unit_timeout),
        vm_timeout: Duration::from_secs(a.vm_timeout),
        kvm_stall: Duration::from_secs(a.kvm_stall),
        console: a.console.clone(),
        // With another loader the probe (bpfabi's own) runs only when asked for.
        probe: !a.no_probe && (loader.is_none() || a.probe_out.is_some()),
        loader,
        ..vm::VmConfig::default()
    };
    let spec = VmtestSpec {
        objects: a.objects.clone(),
        root: a.root.clone(),
        kernels: a.kernels.clone(),
        modules,
        vm,
        compare: a.compare,
        check_kernel: a.check_kernel.clone(),
        all: a.all,
        log: a.log,
        probe_out: a.probe_out.clone(),
        jsonl: a.jsonl.clone(),
    };
    let report = vmtest::run(&spec, &mut progress(a.progress))?;
    write_out(report.render(format, w))?;
    Ok(report.exit_code())
}

/// Progress on stderr: with --progress a line per event, else a spinner
/// on a terminal (the boot and the loads take from seconds to minutes
/// under TCG).
fn progress(lines: bool) -> impl FnMut(Event) {
    use bpfabi::vmtest::protocol::Message as M;
    let mut spinner: Option<bpfabi::progress::Spinner> = None;
    let mut done = 0usize;
    move |e| match e {
        Event::KernelRead { release, ms, modules } => {
            if lines {
                eprintln!("vmtest: kernel {release} read in {ms} ms ({modules} modules to insert)");
            }
            let s = bpfabi::progress::Spinner::new(!lines, &format!("vmtest {release}"));
            s.message("booting");
            spinner = Some(s);
            done = 0;
        }
        Event::VmDone => spinner = None,
        Event::Guest(m) if lines => match m {
            M::Hello { release, uptime_ms, .. } => eprintln!("vmtest: {release} up after {uptime_ms} ms"),
            M::Module(s) => eprintln!("vmtest: module {} {}", s.name, s.status),
            M::Result { record, .. } => eprintln!("vmtest: {} {} {}", record.object, record.unit_name(), record.status.as_str()),
            _ => {}
        },
        Event::Guest(m) => match (m, &spinner) {
            (M::Hello { uptime_ms, .. }, Some(s)) => s.message(format!("up after {:.1} s, loading", *uptime_ms as f64 / 1000.0)),
            (M::Result { record, .. }, Some(s)) => {
                done += 1;
                s.message(format!("{done} units loaded or refused; last {} {}", record.object, record.unit_name()));
            }
            _ => {}
        },
    }
}

/// `vmtest --loader`: the reference loader binary to put into the guest
/// (`None`: libbpf, linked into bpfabi).
fn vmtest_loader(a: &VmtestArgs) -> bpfabi::Result<Option<PathBuf>> {
    use bpfabi::vmtest::external::LoaderKind;
    let kind = LoaderKind::parse(&a.loader)
        .ok_or_else(|| bpfabi::Error::new("--loader", format!("unknown loader `{}`; known: {}", a.loader, LoaderKind::NAMES.join(", "))))?;
    if kind == LoaderKind::Libbpf {
        if a.loader_bin.is_some() {
            return Err(bpfabi::Error::new("--loader-bin", "libbpf is linked into bpfabi: --loader-bin goes with --loader cilium or aya"));
        }
        return Ok(None);
    }
    if a.compare {
        return Err(bpfabi::Error::new(
            "--compare",
            format!("check predicts libbpf's loads; with --loader {} compare the records (--jsonl) instead", a.loader),
        ));
    }
    let bin = a
        .loader_bin
        .clone()
        .or_else(|| kind.default_binary())
        .ok_or_else(|| bpfabi::Error::new("--loader", "no home directory to find the loader cache in: give --loader-bin"))?;
    if !bin.is_file() {
        return Err(bpfabi::Error::new(
            bin.display().to_string(),
            format!("no {} loader binary here: build it with scripts/build-loaders, or give --loader-bin", a.loader),
        ));
    }
    Ok(Some(bin))
}

/// The probe a vmtest guest runs: everything, noisy helpers included (the VM
/// is thrown away). An error travels back as `{"error": ...}`.
pub fn guest_probe() -> serde_json::Value {
    let ids = std::path::Path::new(bpfabi::vmtest::vm::GUEST_BTF_IDS);
    let opts = bpfabi::probe::ProbeOptions { full: true, btf_ids: ids.exists().then(|| ids.to_path_buf()), ..Default::default() };
    match bpfabi::probe::run(&opts) {
        Ok(p) => serde_json::to_value(&p).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}
