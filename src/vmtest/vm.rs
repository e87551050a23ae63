//! The host side of `vmtest`: build the initramfs (this very binary as
//! `/init`, its shared libraries if it is not static, the modules, the
//! kernel config, the objects), boot `qemu-system-x86_64`, follow the
//! guest's messages, and keep the run alive:
//!
//! - KVM first when `/dev/kvm` opens, but a boot whose console stops
//!   growing before the guest says hello is a stall (nested KVM hangs stock
//!   kernels): QEMU is killed and the run continues under TCG;
//! - a unit that runs past the per-program watchdog is a `timeout`, a VM
//!   that dies during a unit is `vm_crashed`: either way the VM restarts
//!   and skips what is done;
//! - a whole-run watchdog bounds everything.

use super::cpio::Cpio;
use super::package::BootKernel;
use super::protocol::{Job, JobObject, Message, ModuleStatus, JOB_PATH};
use super::record::{LoadRecord, Status};
use crate::error::{Error, Result};
use crate::kernel::arch::Arch;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which QEMU accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// KVM when it opens and boots, else TCG.
    Auto,
    /// Kvm.
    Kvm,
    /// Tcg.
    Tcg,
}

impl Accel {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Auto => "auto",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// How to run the VM.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// QEMU binary.
    pub qemu: String,
    /// Guest memory in MiB.
    pub memory_mb: u32,
    /// Accel.
    pub accel: Accel,
    /// Under KVM: no console output for this long before the guest's hello
    /// is a stall (fall back to TCG).
    pub kvm_stall: Duration,
    /// Boot to hello, under TCG.
    pub boot_timeout: Duration,
    /// One unit (per-program watchdog).
    pub unit_timeout: Duration,
    /// The whole run, restarts included.
    pub vm_timeout: Duration,
    /// Restarts after timeouts and crashes before giving up.
    pub max_restarts: usize,
    /// Keep the last boot's console log here.
    pub console: Option<PathBuf>,
    /// The binary to run as /init (default: this executable).
    pub init: Option<PathBuf>,
    /// A reference loader to load with instead of libbpf (`vmtest --loader
    /// cilium|aya`; see [`super::external`]): put into the initramfs.
    pub loader: Option<PathBuf>,
    /// Run the probe hook in the guest.
    pub probe: bool,
    /// Bytes of libbpf log kept per unit.
    pub log_limit: usize,
    /// The KVM device whose opening means "try KVM first" under `Accel::Auto`.
    pub kvm_device: PathBuf,
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            qemu: "qemu-system-x86_64".into(),
            memory_mb: 1024,
            accel: Accel::Auto,
            kvm_stall: Duration::from_secs(15),
            boot_timeout: Duration::from_secs(600),
            unit_timeout: Duration::from_secs(300),
            vm_timeout: Duration::from_secs(4 * 3600),
            max_restarts: 20,
            console: None,
            init: None,
            loader: None,
            probe: true,
            log_limit: 64 << 10,
            kvm_device: PathBuf::from("/dev/kvm"),
        }
    }
}

/// One boot of the VM.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Boot {
    /// Accel.
    pub accel: &'static str,
    /// QEMU start to the guest's hello (PID 1 running).
    pub hello_ms: Option<u64>,
    /// QEMU start to the first unit starting.
    pub first_load_ms: Option<u64>,
    /// QEMU start to the end of this boot.
    pub total_ms: u64,
    /// Guest uptime at hello (kernel boot time as the guest sees it).
    pub guest_hello_uptime_ms: Option<u64>,
    /// How it ended: done, kvm_stall, unit_timeout, crashed, boot_timeout, vm_timeout.
    pub end: String,
}

/// Everything one kernel's run produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VmRun {
    /// Release.
    pub release: String,
    /// Kernel source.
    pub kernel_source: String,
    /// Loader.
    pub loader: String,
    /// Modules.
    pub modules: Vec<ModuleStatus>,
    /// Missing modules.
    pub missing_modules: Vec<String>,
    /// Probe.
    pub probe: Option<serde_json::Value>,
    /// Probe duration in milliseconds.
    pub probe_ms: Option<u64>,
    /// (object index, record), in the order they ran.
    pub records: Vec<(usize, LoadRecord)>,
    /// Boots.
    pub boots: Vec<Boot>,
    /// Why KVM was not used, when it was tried.
    pub kvm_fallback: Option<String>,
    /// Sum of the units' own load times.
    pub load_ms: u64,
    /// Set when the run ended early (whole-run watchdog, restart limit).
    pub incomplete: Option<String>,
}

/// Shared libraries a dynamically linked binary needs, from `ldd`: (path in
/// the guest = path on the host). Empty for a static binary.
fn shared_libs(bin: &Path) -> Result<Vec<PathBuf>> {
    let data = std::fs::read(bin).map_err(|e| Error::io(bin.display().to_string(), e))?;
    let is_dynamic = object::File::parse(&*data).is_ok_and(|f| {
        use object::Object;
        f.sections().any(|s| object::ObjectSection::name(&s) == Ok(".interp"))
    });
    if !is_dynamic {
        return Ok(Vec::new());
    }
    let out = Command::new("ldd").arg(bin).output().map_err(|e| Error::new(bin.display().to_string(), format!("dynamically linked and ldd failed: {e}")))?;
    let mut libs = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let l = l.trim();
        let path = match l.split_once("=>") {
            Some((_, r)) => r.trim().split(' ').next().unwrap_or(""),
            None => l.split(' ').next().unwrap_or(""),
        };
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

/// The part of the initramfs that does not change between boots.
pub fn base_initramfs(k: &BootKernel, objects: &[(String, Vec<u8>)], init: &Path, loader: Option<&Path>) -> Result<(Vec<u8>, Vec<JobObject>)> {
    let mut c = Cpio::new();
    let bin = std::fs::read(init).map_err(|e| Error::io(init.display().to_string(), e))?;
    c.file("/init", 0o755, &bin);
    let mut libs = shared_libs(init)?;
    if let Some(l) = loader {
        let bin = std::fs::read(l).map_err(|e| Error::io(l.display().to_string(), e))?;
        c.file(super::external::GUEST_LOADER, 0o755, &bin);
        libs.extend(shared_libs(l)?.into_iter().filter(|x| !libs.contains(x)).collect::<Vec<_>>());
    }
    for lib in libs {
        let data = std::fs::read(&lib).map_err(|e| Error::io(lib.display().to_string(), e))?;
        c.file(&lib.to_string_lossy(), 0o755, &data);
    }
    c.dir("/dev");
    c.char_dev("/dev/console", 5, 1);
    for d in ["/proc", "/sys", "/tmp", "/run"] {
        c.dir(d);
    }
    if let Some(cfg) = &k.config {
        c.file(&format!("/boot/config-{}", k.release), 0o644, cfg);
    }
    for (name, elf) in &k.modules {
        c.file(&format!("/bpfabi/modules/{name}.ko"), 0o644, elf);
    }
    let mut jobs = Vec::new();
    for (i, (name, data)) in objects.iter().enumerate() {
        let file = format!("/bpfabi/objects/{i}.o");
        c.file(&file, 0o644, data);
        jobs.push(JobObject { name: name.clone(), file });
    }
    Ok((c.finish(), jobs))
}

/// Where the guest finds the kernel's vmlinux `.BTF_ids` (see [`btf_ids_cpio`]).
pub const GUEST_BTF_IDS: &str = "/bpfabi/vmlinux.btf_ids";

/// A cpio holding the `.BTF_ids` of the image being booted, read on the host
/// (decompressing the image under TCG would cost the guest seconds); empty
/// when the image has none, and the probe then finds the kfuncs it can.
fn btf_ids_cpio(k: &BootKernel, dir: &Path) -> Vec<u8> {
    let img = dir.join("vmlinuz-for-btf-ids");
    if std::fs::write(&img, &k.vmlinuz).is_err() {
        return Vec::new();
    }
    let opts = crate::kernel::LoadOptions { modules: false, ..Default::default() };
    let ids = crate::kernel::load(std::slice::from_ref(&img), &opts).ok().and_then(|kernel| kernel.vmlinux.btf_ids);
    let _ = std::fs::remove_file(&img);
    let Some(ids) = ids else { return Vec::new() };
    let mut c = Cpio::new();
    c.file(GUEST_BTF_IDS, 0o644, ids.as_slice());
    c.finish()
}

fn job_cpio(job: &Job) -> Vec<u8> {
    let mut c = Cpio::new();
    c.file(JOB_PATH, 0o644, serde_json::to_string(job).unwrap_or_default().as_bytes());
    c.finish()
}

fn kvm_usable(dev: &Path) -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open(dev).is_ok()
}

/// How one boot ended.
enum End {
    Done,
    KvmStall(String),
    UnitTimeout(usize, String),
    Crashed(Option<(usize, String)>),
    BootTimeout,
    VmTimeout,
    Fatal(String),
}

struct Tail {
    file: PathBuf,
    pos: u64,
    partial: String,
}

impl Tail {
    fn new(file: PathBuf) -> Self {
        Tail { file, pos: 0, partial: String::new() }
    }
    /// New complete lines since the last call.
    fn lines(&mut self) -> Vec<String> {
        let Ok(mut f) = std::fs::File::open(&self.file) else { return Vec::new() };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut out = Vec::new();
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            out.push(line.trim_end_matches(['\n', '\r']).to_string());
        }
        out
    }
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// The last `n` console lines, and QEMU's own complaints if any.
fn console_tail(p: &Path, n: usize) -> String {
    let mut text = std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    if let Some(err) = p.parent().and_then(|d| std::fs::read_to_string(d.join("qemu.err")).ok()).filter(|e| !e.trim().is_empty()) {
        text.push_str(&format!("\n[qemu] {}", err.trim()));
    }
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().skip(lines.len().saturating_sub(n)).copied().collect::<Vec<_>>().join("\n")
}

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Boot the kernel with `objects` and load every unit; `progress` sees each
/// message as it arrives (for live output).
pub fn run(k: &BootKernel, objects: &[(String, Vec<u8>)], cfg: &VmConfig, progress: &mut dyn FnMut(&Message)) -> Result<VmRun> {
    require_bootable(k)?;
    // Through /proc/<pid>/exe: still readable if a rebuild replaced the file.
    let init = match &cfg.init {
        Some(p) => p.clone(),
        None => PathBuf::from(format!("/proc/{}/exe", std::process::id())),
    };
    let (mut base, job_objects) = base_initramfs(k, objects, &init, cfg.loader.as_deref())?;
    let dir = std::env::temp_dir().join(format!("bpfabi-vmtest-{}-{}", std::process::id(), k.release));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    if cfg.probe {
        // The guest's /sys/kernel/btf/vmlinux has no `.BTF_ids`: without it a
        // kernel lacking decl tags (< 6.12) shows no kfuncs to probe.
        base.extend_from_slice(&btf_ids_cpio(k, &dir));
    }
    let result = run_in(k, &base, job_objects, cfg, &dir, progress);
    if let Some(c) = &cfg.console {
        let _ = std::fs::copy(dir.join("console.log"), c);
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The architecture a kernel image is built for, from its header: an arm64
/// `Image` (magic `ARM\x64` at offset 0x38, Documentation/arch/arm64/booting.rst),
/// a RISC-V `Image` (`RSC\x05` at 0x38, Documentation/arch/riscv/boot-image-header.rst),
/// an s390x image (`S390EP` at 0x10008, arch/s390/boot/head.S); else the
/// release's flavour (`-arm64`, `-686-pae`, ...); an x86 bzImage (`HdrS` at
/// 0x202, Documentation/arch/x86/boot.rst) of no known flavour is amd64.
pub fn image_arch(k: &BootKernel) -> Option<Arch> {
    let at = |o: usize, m: &[u8]| k.vmlinuz.get(o..o + m.len()) == Some(m);
    if at(0x38, b"ARM\x64") {
        return Some(Arch::Arm64);
    }
    if at(0x38, b"RSC\x05") {
        return Some(Arch::Riscv64);
    }
    if at(0x10008, b"S390EP") {
        return Some(Arch::S390x);
    }
    Arch::from_release(&k.release).or_else(|| at(0x202, b"HdrS").then_some(Arch::Amd64))
}

/// vmtest boots `qemu-system-x86_64` with this binary as the guest's
/// `/init`: a kernel of another architecture is refused before anything
/// starts (it would fail after seconds of emulation with a misleading
/// message), as is a host this binary does not run the guest for.
pub fn require_bootable(k: &BootKernel) -> Result<()> {
    let host = Arch::native();
    let origin = if k.origin.is_empty() { k.release.as_str() } else { k.origin.as_str() };
    match image_arch(k) {
        Some(a) if a != Arch::Amd64 => Err(Error::of(
            crate::error::ErrorKind::Unsupported,
            origin,
            format!(
                "{} is an {} kernel; vmtest boots amd64 kernels only (qemu-system-x86_64, with this {} bpfabi as the guest's /init): `bpfabi check --kernel` predicts for it without booting",
                k.release,
                a.name(),
                host.map_or("host", |h| h.name())
            ),
        )),
        _ if host != Some(Arch::Amd64) => Err(Error::of(
            crate::error::ErrorKind::Unsupported,
            origin,
            format!("vmtest runs on amd64 hosts only (this bpfabi is built for {}: it is the guest's /init)", host.map_or("an unknown architecture", |h| h.name())),
        )),
        _ => Ok(()),
    }
}

fn run_in(k: &BootKernel, base: &[u8], job_objects: Vec<JobObject>, cfg: &VmConfig, dir: &Path, progress: &mut dyn FnMut(&Message)) -> Result<VmRun> {
    let kernel_path = dir.join("vmlinuz");
    std::fs::write(&kernel_path, &k.vmlinuz).map_err(|e| Error::io(kernel_path.display().to_string(), e))?;
    let mut run = VmRun {
        release: k.release.clone(),
        kernel_source: k.origin.clone(),
        loader: String::new(),
        modules: Vec::new(),
        missing_modules: k.missing.clone(),
        probe: None,
        probe_ms: None,
        records: Vec::new(),
        boots: Vec::new(),
        kvm_fallback: None,
        load_ms: 0,
        incomplete: None,
    };
    let mut accel = match cfg.accel {
        Accel::Auto if kvm_usable(&cfg.kvm_device) => Accel::Kvm,
        Accel::Auto => {
            run.kvm_fallback = Some(format!("{} cannot be opened", cfg.kvm_device.display()));
            Accel::Tcg
        }
        a => a,
    };
    let mut job = Job {
        objects: job_objects,
        modules: k.modules.iter().map(|(n, _)| n.clone()).collect(),
        skip: Vec::new(),
        probe: cfg.probe,
        log_limit: cfg.log_limit,
        external_loader: cfg.loader.as_ref().map(|_| super::external::GUEST_LOADER.to_string()),
    };
    let started = Instant::now();
    let mut restarts = 0;
    loop {
        let initrd = dir.join("initrd.cpio");
        let mut bytes = base.to_vec();
        bytes.extend_from_slice(&job_cpio(&job));
        std::fs::write(&initrd, &bytes).map_err(|e| Error::io(initrd.display().to_string(), e))?;
        let left = cfg.vm_timeout.saturating_sub(started.elapsed());
        let end = boot_once(&kernel_path, &initrd, dir, accel, cfg, left, &mut job, &mut run, progress)?;
        match end {
            End::Done => break,
            End::KvmStall(why) => {
                if cfg.accel == Accel::Kvm {
                    return Err(Error::new(&k.origin, format!("KVM boot stalled: {why}\n{}", console_tail(&dir.join("console.log"), 20))));
                }
                run.kvm_fallback = Some(why);
                accel = Accel::Tcg;
                continue;
            }
            End::UnitTimeout(o, u) => {
                push_synthetic(&mut run, &mut job, o, &u, Status::Timeout, format!("no result after {} s: the VM was restarted", cfg.unit_timeout.as_secs()));
            }
            End::Crashed(Some((o, u))) => {
                let tail = console_tail(&dir.join("console.log"), 30);
                push_synthetic(&mut run, &mut job, o, &u, Status::VmCrashed, format!("the VM died during this unit; console tail:\n{tail}"));
            }
            End::Crashed(None) => {
                return Err(Error::new(
                    &k.origin,
                    format!("the VM ended before finishing (no unit running); console tail:\n{}", console_tail(&dir.join("console.log"), 30)),
                ));
            }
            End::BootTimeout => {
                return Err(Error::new(
                    &k.origin,
                    format!("no hello from the guest after {} s; console tail:\n{}", cfg.boot_timeout.as_secs(), console_tail(&dir.join("console.log"), 30)),
                ));
            }
            End::Fatal(what) => return Err(Error::new(&k.origin, format!("guest: {what}"))),
            End::VmTimeout => {
                run.incomplete = Some(format!("whole-run watchdog ({} s) fired", cfg.vm_timeout.as_secs()));
                break;
            }
        }
        restarts += 1;
        if restarts > cfg.max_restarts {
            run.incomplete = Some(format!("gave up after {restarts} restarts"));
            break;
        }
    }
    run.load_ms = run.records.iter().map(|(_, r)| r.duration_ms).sum();
    Ok(run)
}

fn push_synthetic(run: &mut VmRun, job: &mut Job, object: usize, unit: &str, status: Status, error: String) {
    let name = job.objects.get(object).map(|o| o.name.clone()).unwrap_or_default();
    job.skip.push((object, unit.to_string()));
    run.records.push((object, LoadRecord::not_loaded(name, (!unit.is_empty()).then(|| unit.to_string()), status, 0, error, String::new())));
}

#[allow(clippy::too_many_arguments)]
fn boot_once(
    kernel: &Path,
    initrd: &Path,
    dir: &Path,
    accel: Accel,
    cfg: &VmConfig,
    left: Duration,
    job: &mut Job,
    run: &mut VmRun,
    progress: &mut dyn FnMut(&Message),
) -> Result<End> {
    let console = dir.join("console.log");
    let results = dir.join("results.log");
    let _ = std::fs::remove_file(&console);
    let _ = std::fs::remove_file(&results);
    let mut cmd = Command::new(&cfg.qemu);
    cmd.args(["-machine", &format!("q35,accel={}", if accel == Accel::Kvm { "kvm" } else { "tcg" })])
        // `max` under KVM asks for MSRs a nested host may refuse.
        .args(["-cpu", if accel == Accel::Kvm { "host" } else { "max" }, "-smp", "1", "-m", &cfg.memory_mb.to_string()])
        .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0,115200 panic=-1 rdinit=/init mitigations=off nokaslr tsc=reliable"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-serial")
        .arg(format!("file:{}", results.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("qemu.err")).map(Stdio::from).unwrap_or(Stdio::null()));
    let t0 = Instant::now();
    let child = cmd.spawn().map_err(|e| Error::new(&cfg.qemu, format!("cannot start QEMU: {e}")))?;
    let mut child = Killer(child);
    let mut boot = Boot {
        accel: if accel == Accel::Kvm { "kvm" } else { "tcg" },
        hello_ms: None,
        first_load_ms: None,
        total_ms: 0,
        guest_hello_uptime_ms: None,
        end: String::new(),
    };
    let mut tail = Tail::new(results.clone());
    let mut last_console = (0u64, Instant::now());
    let mut current: Option<(usize, String, Instant)> = None;
    let end = loop {
        std::thread::sleep(Duration::from_millis(50));
        for line in tail.lines() {
            let Some(m) = Message::parse(&line) else { continue };
            progress(&m);
            match &m {
                Message::Hello { uptime_ms, loader, .. } => {
                    boot.hello_ms = Some(t0.elapsed().as_millis() as u64);
                    boot.guest_hello_uptime_ms = Some(*uptime_ms);
                    run.loader = loader.clone();
                }
                Message::Module(s) => {
                    if !run.modules.iter().any(|x| x.name == s.name) {
                        run.modules.push(s.clone());
                    }
                }
                Message::Probe { duration_ms, result } => {
                    if run.probe.is_none() {
                        run.probe = Some(result.clone());
                        run.probe_ms = Some(*duration_ms);
                    }
                }
                Message::Begin { object, unit } => {
                    if boot.first_load_ms.is_none() {
                        boot.first_load_ms = Some(t0.elapsed().as_millis() as u64);
                    }
                    current = Some((*object, unit.clone(), Instant::now()));
                }
                Message::Result { object, record } => {
                    job.skip.push((*object, record.unit_name().to_string()));
                    run.records.push((*object, (**record).clone()));
                    current = None;
                }
                Message::Done { .. } | Message::Fatal { .. } => {}
            }
            if let Message::Fatal { what, ends_run: true } = &m {
                boot.total_ms = t0.elapsed().as_millis() as u64;
                boot.end = "fatal".into();
                run.boots.push(boot);
                return Ok(End::Fatal(what.clone()));
            }
            if matches!(m, Message::Done { .. }) {
                current = None;
            }
        }
        let exited = child.0.try_wait().ok().flatten().is_some();
        if exited {
            // Drain what the guest wrote last.
            for line in tail.lines() {
                if let Some(Message::Result { object, record }) = Message::parse(&line) {
                    job.skip.push((object, record.unit_name().to_string()));
                    run.records.push((object, *record));
                    current = None;
                } else if let Some(Message::Done { .. }) = Message::parse(&line) {
                    current = None;
                }
            }
            let all_done = std::fs::read_to_string(&results).is_ok_and(|s| s.contains("\"msg\":\"done\""));
            if !all_done && accel == Accel::Kvm && boot.hello_ms.is_none() {
                let err = std::fs::read_to_string(dir.join("qemu.err")).unwrap_or_default();
                break End::KvmStall(format!("QEMU exited under KVM before the guest started: {}", err.trim().lines().next().unwrap_or("no message")));
            }
            break if all_done { End::Done } else { End::Crashed(current.take().map(|(o, u, _)| (o, u))) };
        }
        let n = file_len(&console);
        if n != last_console.0 {
            last_console = (n, Instant::now());
        }
        if boot.hello_ms.is_none() {
            if accel == Accel::Kvm && last_console.1.elapsed() > cfg.kvm_stall {
                break End::KvmStall(format!("no console output for {} s before the guest started (after {} bytes)", cfg.kvm_stall.as_secs(), last_console.0));
            }
            if t0.elapsed() > cfg.boot_timeout {
                break End::BootTimeout;
            }
        }
        if let Some((o, u, t)) = &current {
            if t.elapsed() > cfg.unit_timeout {
                break End::UnitTimeout(*o, u.clone());
            }
        }
        if t0.elapsed() > left {
            break End::VmTimeout;
        }
    };
    boot.total_ms = t0.elapsed().as_millis() as u64;
    boot.end = match &end {
        End::Done => "done",
        End::KvmStall(_) => "kvm_stall",
        End::UnitTimeout(..) => "unit_timeout",
        End::Crashed(_) => "crashed",
        End::BootTimeout => "boot_timeout",
        End::VmTimeout => "vm_timeout",
        End::Fatal(_) => "fatal",
    }
    .into();
    run.boots.push(boot);
    Ok(end)
}

#[cfg(test)]
mod arch_tests {
    use super::*;

    fn boot(release: &str, vmlinuz: Vec<u8>) -> BootKernel {
        BootKernel { release: release.into(), vmlinuz, config: None, modules: Vec::new(), missing: Vec::new(), origin: "k.deb".into() }
    }

    #[test]
    fn other_architectures_are_refused_up_front() {
        let mut arm = vec![0u8; 0x40];
        arm[0x38..0x3c].copy_from_slice(b"ARM\x64");
        // No flavour in the name: the image header says arm64.
        let k = boot("6.12.118", arm);
        assert_eq!(image_arch(&k), Some(Arch::Arm64));
        let e = run(&k, &[], &VmConfig::default(), &mut |_| {}).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Unsupported);
        assert!(e.to_string().starts_with("k.deb: 6.12.118 is an arm64 kernel; vmtest boots amd64 kernels only"), "{e}");
        // The flavour says it when the header does not.
        assert_eq!(image_arch(&boot("6.12.118+deb13-s390x", vec![0; 16])), Some(Arch::S390x));
        let mut bz = vec![0u8; 0x210];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        assert_eq!(image_arch(&boot("6.1.0-57-amd64", bz.clone())), Some(Arch::Amd64));
        assert_eq!(image_arch(&boot("6.1.0-57-686-pae", bz)), Some(Arch::I386));
        if Arch::native() == Some(Arch::Amd64) {
            assert!(require_bootable(&boot("6.1.0-57-amd64", vec![0; 16])).is_ok());
        }
    }
}
