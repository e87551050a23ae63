//! Reading many kernel artefacts at once: a Debian kernel package or an
//! unpacked tree holds 1,000–4,000 compressed modules. Each job decompresses
//! one file and keeps only the small sections bpfabi needs (`.BTF`,
//! `.BTF_ids`, the release); jobs run on worker threads fed through a
//! bounded channel, so at most `2 × threads` compressed files wait and
//! `threads` are decompressed at any moment: memory stays bounded whatever
//! the package size, and the feeder (the package's own decompression) runs
//! alongside. A progress bar is drawn on stderr when asked for and stderr is
//! a terminal.

use super::{read_bytes, LoadOptions, Piece};
use crate::bytes::Bytes;
use crate::error::{Error, Result};
#[cfg(feature = "progress")]
pub(super) use indicatif::ProgressBar;
#[cfg(feature = "progress")]
use indicatif::ProgressStyle;

/// Without the `progress` feature: a bar that draws nothing.
#[cfg(not(feature = "progress"))]
pub(super) struct ProgressBar;

#[cfg(not(feature = "progress"))]
#[allow(missing_docs, dead_code)]
impl ProgressBar {
    pub fn hidden() -> Self {
        ProgressBar
    }
    pub fn inc(&self, _: u64) {}
    pub fn set_prefix(&self, _: impl Into<String>) {}
    pub fn set_message(&self, _: impl Into<String>) {}
    pub fn finish_and_clear(&self) {}
}
use std::path::Path;
use std::sync::Mutex;

/// One file to read: its path (inside the package or tree), the name used
/// in messages, and its bytes.
pub(super) struct Job {
    pub path: String,
    pub origin: String,
    pub data: Vec<u8>,
}

/// A progress bar on stderr, or a hidden one.
#[cfg(not(feature = "progress"))]
pub(super) fn bar(_: &LoadOptions, _: u64, _: bool) -> ProgressBar {
    ProgressBar
}

/// A progress bar on stderr, or a hidden one.
#[cfg(feature = "progress")]
pub(super) fn bar(opts: &LoadOptions, len: u64, bytes: bool) -> ProgressBar {
    if !opts.progress || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let t = if bytes {
        "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})"
    } else {
        "{spinner} {prefix} [{bar:30}] {pos}/{len} files {msg} ({elapsed})"
    };
    ProgressBar::new(len).with_style(ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "))
}

/// Run `feed`, which hands jobs to the `send` function it is given, while
/// worker threads read them. Returns every piece read, or the first error
/// (of the feeder first, else of a job).
pub(super) fn run<F>(opts: &LoadOptions, progress: &ProgressBar, feed: F) -> Result<Vec<Piece>>
where
    F: FnOnce(&mut dyn FnMut(Job) -> Result<()>) -> Result<()>,
{
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 16);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(threads * 2);
    let rx = Mutex::new(rx);
    let results: Mutex<Vec<Piece>> = Mutex::new(Vec::new());
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let fed = std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let job = match rx.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                let r = read_one(job, opts);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.set_message(format!("{n} files read"));
                match r {
                    Ok(p) => {
                        if let Ok(mut v) = results.lock() {
                            v.extend(p);
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = first_err.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            });
        }
        let mut send = |job: Job| tx.send(job).map_err(|_| Error::new("bpfabi", "module reader threads stopped"));
        let r = feed(&mut send);
        drop(tx);
        r
    });
    fed?;
    if let Some(e) = first_err.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(results.into_inner().unwrap_or_default())
}

/// Read one file and keep only small owned copies of what the pieces need
/// (not the whole decompressed module or vmlinux).
fn read_one(job: Job, opts: &LoadOptions) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    read_bytes(Bytes::from_vec(job.data), &job.origin, Path::new(&job.path), None, opts, &mut out, 1)?;
    for p in out.iter_mut() {
        match p {
            Piece::Module { btf, btf_ids, .. } => {
                *btf = Bytes::from_vec(btf.as_slice().to_vec());
                if let Some(ids) = btf_ids {
                    *ids = Bytes::from_vec(ids.as_slice().to_vec());
                }
            }
            Piece::Vmlinux { btf, btf_ids, origin, .. } => {
                let own = Bytes::from_vec(btf.raw_bytes().as_slice().to_vec());
                **btf = opts.parse_btf(own).map_err(|e| e.in_file(origin.clone()))?;
                if let Some(ids) = btf_ids {
                    *ids = Bytes::from_vec(ids.as_slice().to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A module file name (`.ko`, optionally compressed).
pub(super) fn is_module_file(p: &str) -> bool {
    [".ko", ".ko.xz", ".ko.zst", ".ko.gz"].iter().any(|s| p.ends_with(s))
}
