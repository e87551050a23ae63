//! The guest side of `vmtest`: the `bpfabi` binary itself runs as `/init`
//! (PID 1) of the initramfs. It mounts proc, sysfs, devtmpfs and bpffs,
//! inserts the modules (decompressed by the host, `init_module(2)`), runs
//! the probe hook, loads every unit of every object with libbpf, writes one
//! [`Message`] per line to the second serial port, and powers off.

use super::protocol::{Job, Message, ModuleStatus, JOB_PATH, RESULTS_TTY};
use std::ffi::CString;
use std::io::Write;
use std::time::Instant;

/// The kernel probe (`bpfabi::probe`, built separately) plugs in here: it
/// runs inside the guest after the modules are in and before any load, and
/// its JSON comes back to the host as `Message::Probe` (then
/// `VmRun::probe`). `None` until the probe module is wired in `main.rs`.
pub type ProbeHook = fn() -> serde_json::Value;

/// Is this process the `vmtest` guest? (PID 1 with a job in its initramfs;
/// a container running bpfabi as PID 1 has no job file.)
pub fn is_guest() -> bool {
    std::process::id() == 1 && std::path::Path::new(JOB_PATH).exists()
}

fn mount(src: &str, target: &str, fstype: &str) {
    let _ = std::fs::create_dir_all(target);
    let (Ok(s), Ok(t), Ok(f)) = (CString::new(src), CString::new(target), CString::new(fstype)) else { return };
    // SAFETY: valid NUL-terminated strings; no data argument.
    unsafe {
        libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, std::ptr::null());
    }
}

fn uptime_ms() -> u64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
        .map_or(0, |s| (s * 1000.0) as u64)
}

fn insert_module(name: &str) -> String {
    let path = format!("/bpfabi/modules/{name}.ko");
    let Ok(data) = std::fs::read(&path) else { return format!("failed: {path} missing") };
    let params = c"";
    // SAFETY: data is a readable buffer of its length; params is NUL-terminated.
    let r = unsafe { libc::syscall(libc::SYS_init_module, data.as_ptr(), data.len(), params.as_ptr()) };
    if r == 0 {
        return "loaded".into();
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EEXIST) {
        "already".into()
    } else {
        format!("failed: {e}")
    }
}

struct Out {
    tty: Option<std::fs::File>,
}

impl Out {
    fn send(&mut self, m: &Message) {
        let line = m.line();
        match &mut self.tty {
            Some(t) => {
                let _ = t.write_all(line.as_bytes()).and_then(|_| t.flush());
            }
            None => {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(line.as_bytes()).and_then(|_| o.flush());
            }
        }
    }
}

fn power_off() -> ! {
    // SAFETY: plain syscalls; PID 1 may power the machine off.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    // Not reached when reboot works; exiting PID 1 panics the kernel,
    // which with `panic=-1` and `-no-reboot` also ends QEMU.
    std::process::exit(0)
}

fn raw_tty(f: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: termios of an open tty fd; cfmakeraw only edits the struct.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(f.as_raw_fd(), &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
}

/// PID 1's whole life. Never returns.
pub fn main(probe: Option<ProbeHook>) -> ! {
    mount("proc", "/proc", "proc");
    mount("sysfs", "/sys", "sysfs");
    mount("devtmpfs", "/dev", "devtmpfs");
    mount("bpf", "/sys/fs/bpf", "bpf");
    mount("tracefs", "/sys/kernel/tracing", "tracefs");
    mount("debugfs", "/sys/kernel/debug", "debugfs");
    let tty = std::fs::OpenOptions::new().write(true).open(RESULTS_TTY).ok();
    if let Some(t) = &tty {
        raw_tty(t);
    }
    let mut out = Out { tty };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let job: std::result::Result<Job, String> =
        std::fs::read(JOB_PATH).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
    let loader = match job.as_ref().ok().and_then(|j| j.external_loader.as_deref()) {
        Some(bin) => super::external::version(bin),
        None => loader_name(),
    };
    out.send(&Message::Hello { release, uptime_ms: uptime_ms(), loader });
    // SAFETY: raising our own limit (kernels before 5.11 charge BPF memory to memlock).
    unsafe {
        let inf = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
        libc::setrlimit(libc::RLIMIT_MEMLOCK, &inf);
    }
    let job: Job = match job {
        Ok(j) => j,
        Err(e) => {
            out.send(&Message::Fatal { what: format!("{JOB_PATH}: {e}"), ends_run: true });
            power_off()
        }
    };
    for m in &job.modules {
        let status = insert_module(m);
        out.send(&Message::Module(ModuleStatus { name: m.clone(), status }));
    }
    if job.probe {
        if let Some(p) = probe {
            let t = Instant::now();
            let result = p();
            out.send(&Message::Probe { duration_ms: t.elapsed().as_millis() as u64, result });
        }
    }
    match job.external_loader.as_deref() {
        Some(bin) => run_external(&job, bin, &mut out),
        None => run_loads(&job, &mut out),
    }
    out.send(&Message::Done { uptime_ms: uptime_ms() });
    power_off()
}

fn loader_name() -> String {
    #[cfg(feature = "libbpf")]
    {
        format!("bpfabi vmtest / libbpf {}", super::libbpf::version())
    }
    #[cfg(not(feature = "libbpf"))]
    {
        "none (built without the libbpf feature)".into()
    }
}

/// The loader's standard error goes to a file (a pipe could fill and stall it).
const LOADER_STDERR: &str = "/tmp/loader.stderr";

fn err_file() -> std::process::Stdio {
    std::fs::File::create(LOADER_STDERR).map(std::process::Stdio::from).unwrap_or(std::process::Stdio::null())
}

/// Loads with a reference loader (cilium/ebpf, aya): one run of the binary
/// over every object not done yet (it reads the kernel's BTF once, which
/// under TCG takes seconds), its lines streamed back as results. The host's
/// watchdog keys on `Begin`: sent again after every result, so that it times
/// a program, not the run. When the loader dies before reporting every
/// object, the first object it said nothing about gets the failure and the
/// loader runs again on the rest. An object with any result from an earlier
/// boot is done (a restart cannot resume inside an object).
fn run_external(job: &Job, bin: &str, out: &mut Out) {
    use std::io::BufRead;
    let mut todo: Vec<usize> = (0..job.objects.len()).filter(|i| !job.skip.iter().any(|(oi, _)| oi == i)).collect();
    while let Some(&first) = todo.first() {
        out.send(&Message::Begin { object: first, unit: String::new() });
        let files: Vec<&str> = todo.iter().filter_map(|&i| job.objects.get(i).map(|o| o.file.as_str())).collect();
        let child =
            std::process::Command::new(bin).args(&files).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(err_file()).spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                out.send(&Message::Fatal { what: format!("{bin}: {e}"), ends_run: true });
                return;
            }
        };
        let mut reported: Vec<usize> = Vec::new();
        let mut t = Instant::now();
        if let Some(stdout) = child.stdout.take() {
            for line in std::io::BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
                let file = serde_json::from_str::<serde_json::Value>(&line).ok().and_then(|v| v.get("object").and_then(|o| o.as_str()).map(String::from));
                let Some(i) = file.and_then(|f| todo.iter().copied().find(|&i| job.objects.get(i).is_some_and(|o| o.file == f))) else { continue };
                let Some(o) = job.objects.get(i) else { continue };
                let Some(rec) = super::external::record(&o.name, &line, t.elapsed().as_millis() as u64) else { continue };
                if !reported.contains(&i) {
                    reported.push(i);
                }
                out.send(&Message::Result { object: i, record: Box::new(rec) });
                out.send(&Message::Begin { object: i, unit: String::new() });
                t = Instant::now();
            }
        }
        let status = child.wait();
        let rest: Vec<usize> = todo.iter().copied().filter(|i| !reported.contains(i)).collect();
        let Some(&culprit) = rest.first() else { break };
        let ok = status.as_ref().is_ok_and(|s| s.success());
        // A clean exit that skipped objects: say so for each, and stop.
        let blamed: &[usize] = if ok { &rest } else { std::slice::from_ref(&culprit) };
        let stderr = std::fs::read_to_string(LOADER_STDERR).unwrap_or_default();
        let stderr = stderr.get(stderr.len().saturating_sub(2000)..).unwrap_or("").trim().to_string();
        for &i in blamed {
            let Some(o) = job.objects.get(i) else { continue };
            let why = format!(
                "{bin} ended ({}) without a result for this object: {stderr}",
                status.as_ref().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
            );
            let rec = super::record::LoadRecord::not_loaded(o.name.clone(), None, super::record::Status::OpenFailed, 0, why, String::new());
            out.send(&Message::Result { object: i, record: Box::new(rec) });
        }
        if ok {
            break;
        }
        todo = rest.into_iter().skip(1).collect();
    }
}

#[cfg(feature = "libbpf")]
fn run_loads(job: &Job, out: &mut Out) {
    use super::libbpf;
    for (i, o) in job.objects.iter().enumerate() {
        let data = match std::fs::read(&o.file) {
            Ok(d) => d,
            Err(e) => {
                out.send(&Message::Fatal { what: format!("{}: {e}", o.file), ends_run: false });
                continue;
            }
        };
        let units = match libbpf::units(&data, &o.name) {
            Ok(u) => u,
            Err(rec) => {
                if !job.skip.iter().any(|(oi, k)| *oi == i && k.is_empty()) {
                    out.send(&Message::Begin { object: i, unit: String::new() });
                    out.send(&Message::Result { object: i, record: Box::new(trim(*rec, job.log_limit)) });
                }
                continue;
            }
        };
        for u in units {
            let key = u.key();
            if job.skip.iter().any(|(oi, k)| *oi == i && *k == key) {
                continue;
            }
            out.send(&Message::Begin { object: i, unit: key });
            let rec = libbpf::load_unit(&data, &o.name, &u);
            out.send(&Message::Result { object: i, record: Box::new(trim(rec, job.log_limit)) });
        }
    }
}

#[cfg(feature = "libbpf")]
fn trim(mut rec: super::record::LoadRecord, limit: usize) -> super::record::LoadRecord {
    if rec.log.len() > limit {
        let mut cut = rec.log.len() - limit;
        while !rec.log.is_char_boundary(cut) {
            cut += 1;
        }
        rec.log = format!("[...]\n{}", rec.log.get(cut..).unwrap_or(""));
    }
    rec
}

#[cfg(not(feature = "libbpf"))]
fn run_loads(_job: &Job, out: &mut Out) {
    out.send(&Message::Fatal { what: "this bpfabi was built without the `libbpf` feature: nothing can be loaded".into(), ends_run: true });
}
