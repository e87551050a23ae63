//! What the host puts in the initramfs for the guest (the [`Job`]) and what
//! the guest sends back (one [`Message`] per line, JSON after [`MARKER`], on
//! the second serial port, so kernel messages on the console never
//! interleave with results).

use super::record::LoadRecord;
use serde::{Deserialize, Serialize};

/// Prefix of every result line.
pub const MARKER: &str = "@@bpfabi@@ ";
/// Where the job lives in the initramfs.
pub const JOB_PATH: &str = "/bpfabi/job.json";
/// Where the guest writes results (second serial port).
pub const RESULTS_TTY: &str = "/dev/ttyS1";

/// The guest's work.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Job {
    /// Objects, in order: display name and file inside the initramfs.
    pub objects: Vec<JobObject>,
    /// Modules to insert, in order: files `/bpfabi/modules/<name>.ko`.
    pub modules: Vec<String>,
    /// Units already done in an earlier boot: (object index, unit key).
    pub skip: Vec<(usize, String)>,
    /// Run the kernel probe (see `guest::ProbeHook`) before loading.
    pub probe: bool,
    /// Keep at most this many bytes of each unit's log.
    pub log_limit: usize,
    /// Load with this reference loader binary (cilium/ebpf, aya: see
    /// [`super::external`]) instead of libbpf; `None`: libbpf.
    #[serde(default)]
    pub external_loader: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
/// JobObject.
pub struct JobObject {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
}

/// Module insertion outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModuleStatus {
    /// Name.
    pub name: String,
    /// "loaded", "already" (built in or loaded), or "failed: <errno text>".
    pub status: String,
}

/// One line from the guest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Message {
    /// PID 1 is running: kernel release and uptime at that point.
    #[allow(missing_docs)]
    Hello { release: String, uptime_ms: u64, loader: String },
    /// A module was inserted, or not.
    Module(ModuleStatus),
    /// The probe's output and how long it took.
    #[allow(missing_docs)]
    Probe { duration_ms: u64, result: serde_json::Value },
    /// A unit starts (the host's per-program watchdog keys on this).
    #[allow(missing_docs)]
    Begin { object: usize, unit: String },
    /// A unit's result.
    #[allow(missing_docs)]
    Result { object: usize, record: Box<LoadRecord> },
    /// Everything ran; the guest powers off.
    #[allow(missing_docs)]
    Done { uptime_ms: u64 },
    /// Something the guest could not do; `ends_run` when nothing more will
    /// come (job unreadable, no loader), otherwise one object is skipped.
    #[allow(missing_docs)]
    Fatal {
        what: String,
        #[serde(default)]
        ends_run: bool,
    },
}

impl Message {
    /// The message as one protocol line.
    pub fn line(&self) -> String {
        format!("{MARKER}{}\n", serde_json::to_string(self).unwrap_or_default())
    }

    /// Parse a line if it carries a message.
    pub fn parse(line: &str) -> Option<Message> {
        let i = line.find(MARKER)?;
        serde_json::from_str(line.get(i + MARKER.len()..)?.trim_end()).ok()
    }
}
