//! `vmtest` end to end: for each kernel, its boot artefacts read (a
//! package, a `debian:` name, a tree, a vmlinuz; pieces joined by commas),
//! the VM booted with the objects, every unit loaded for real; with
//! `compare`, `check`'s prediction for that kernel paired with reality.
//! [`VmtestReport`] writes itself as `vmtest` does (table or JSON).

use crate::error::{Error, Result};
use crate::kernel::{KernelSource, LoadOptions, Resolver};
use crate::report::{self, write_file, Format, Render};
use crate::vmtest::compare::{self, Row};
use crate::vmtest::protocol::Message;
use crate::vmtest::vm::{self, VmConfig, VmRun};
use crate::vmtest::{package, read_objects};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What to load, where, and what to keep (the options of `bpfabi vmtest`).
#[derive(Debug, Clone)]
pub struct VmtestSpec {
    /// BPF objects (or files embedding them).
    pub objects: Vec<PathBuf>,
    /// Name objects relative to this directory.
    pub root: Option<PathBuf>,
    /// Kernels to boot, each `K[,K...]` (pieces of one kernel).
    pub kernels: Vec<String>,
    /// Modules to insert (with their dependencies).
    pub modules: Vec<String>,
    /// How to run each VM (its `console` is numbered per kernel).
    pub vm: VmConfig,
    /// Pair `check`'s prediction with each load.
    pub compare: bool,
    /// With `compare`: the kernel `check` predicts for (default: the booted
    /// kernel's package, modules limited to those inserted).
    pub check_kernel: Vec<PathBuf>,
    /// With `compare`: list every unit, not only disagreements.
    pub all: bool,
    /// Keep libbpf's log per unit in the results.
    pub log: bool,
    /// Write the guest's probe here (FILE, FILE.1, ... per kernel).
    pub probe_out: Option<PathBuf>,
    /// Write the whole records here, one JSON line per unit (FILE, FILE.1, ...).
    pub jsonl: Option<PathBuf>,
}

/// What happens while [`run`] works, for progress output.
pub enum Event<'a> {
    /// A kernel's boot artefacts are read.
    KernelRead {
        /// Its release.
        release: &'a str,
        /// Milliseconds it took.
        ms: u128,
        /// Modules to insert.
        modules: usize,
    },
    /// A message from the guest.
    Guest(&'a Message),
    /// The VM of this kernel is done.
    VmDone,
}

/// `FILE` for the first kernel, `FILE.N` for the N-th after it.
fn nth(p: &Path, ki: usize) -> PathBuf {
    if ki == 0 {
        p.to_path_buf()
    } else {
        PathBuf::from(format!("{}.{ki}", p.display()))
    }
}

/// Boot every kernel of the spec in turn and load the objects there.
pub fn run(spec: &VmtestSpec, on: &mut dyn FnMut(Event)) -> Result<VmtestReport> {
    let objs = read_objects(&spec.objects, spec.root.as_deref())?;
    let pairs: Vec<(String, Vec<u8>)> = objs.iter().map(|o| (o.name.clone(), o.bytes.clone())).collect();
    let mut out = VmtestReport { labels: Vec::new(), results: Vec::new(), runs: Vec::new(), rows: spec.compare.then(Vec::new), all: spec.all };
    // Every kernel's pieces parsed before the first VM boots (a malformed
    // name fails at once), then resolved to boot artefacts one kernel at a time.
    let kernels =
        spec.kernels.iter().map(|k| k.split(',').filter(|s| !s.is_empty()).map(KernelSource::parse).collect::<Result<Vec<_>>>()).collect::<Result<Vec<_>>>()?;
    let mut resolver = Resolver::new(true);
    for (ki, sources) in kernels.iter().enumerate() {
        let mut pieces = Vec::new();
        for source in sources {
            pieces.extend(resolver.boot(source)?);
        }
        let t = std::time::Instant::now();
        let (boot, cached) = package::open_cached(&pieces, &spec.modules)?;
        on(Event::KernelRead { release: &boot.release, ms: t.elapsed().as_millis(), modules: boot.modules.len() });
        let cfg = VmConfig { console: spec.vm.console.as_deref().map(|c| nth(c, ki)), ..spec.vm.clone() };
        let run = vm::run(&boot, &pairs, &cfg, &mut |m| on(Event::Guest(m)));
        on(Event::VmDone);
        let run = run?;
        let label = run.release.clone();
        // The guest's probe, read back as a probe file once: for probe_out
        // (where a failure is an error) and for compare (where it is not).
        let mut probe = (spec.probe_out.is_some() || spec.compare)
            .then(|| report::vmtest::probe_json(&run))
            .flatten()
            .map(|raw| crate::probe::file::read_probe(raw.as_bytes(), &format!("probe of {}", run.release)));
        if let Some(path) = spec.probe_out.as_deref().map(|p| nth(p, ki)) {
            if let Some(e) = run.probe.as_ref().and_then(|p| p.get("error")).and_then(|e| e.as_str()) {
                return Err(Error::new(format!("probe of {}", run.release), format!("failed inside the VM: {e}")));
            }
            // A guest-side failure ({"error": ..}) or a malformed document is
            // an error here, not a file `check` trips on.
            let p = probe.take().ok_or_else(|| Error::new("--probe-out", "the guest ran no probe (see docs/vmtest.md)"))??;
            write_file(&path, |fw| report::probe::json(fw, &p))?;
            probe = Some(Ok(p));
        }
        if let Some(path) = spec.jsonl.as_deref().map(|p| nth(p, ki)) {
            write_file(&path, |fw| report::vmtest::jsonl(fw, &run))?;
        }
        out.results.extend(run.records.iter().map(|(_, r)| report::vmtest::result(&label, r, spec.log)));
        if let Some(rows) = out.rows.as_mut() {
            let k = if spec.check_kernel.is_empty() {
                compare::booted_kernel(&boot, cached.as_deref(), &pieces, &run)?
            } else {
                crate::kernel::load(&spec.check_kernel, &LoadOptions::default())?
            };
            rows.extend(compare::predict_and_pair(&label, &objs, &run.records, k, probe.and_then(Result::ok)));
        }
        out.labels.push(label);
        out.runs.push(run);
    }
    Ok(out)
}

/// What the VMs did.
pub struct VmtestReport {
    /// The booted kernels' releases, in order.
    pub labels: Vec<String>,
    /// One result per unit per kernel.
    pub results: Vec<report::vmtest::LoadResult>,
    /// The runs (boots, modules, probe).
    pub runs: Vec<VmRun>,
    /// With `compare`: prediction next to reality per unit.
    pub rows: Option<Vec<Row>>,
    /// With `compare`: the text lists every unit, not only disagreements.
    pub all: bool,
}

impl VmtestReport {
    /// With `compare`: 1 when prediction and reality disagree somewhere
    /// (a false alarm or a miss). Without: 1 when a unit did not load or a
    /// run did not finish.
    pub fn exit_code(&self) -> u8 {
        let bad = match &self.rows {
            Some(rows) => rows.iter().any(|r| matches!(r.outcome, compare::Outcome::FalseAlarm | compare::Outcome::Missed)),
            None => self.runs.iter().any(|run| run.records.iter().any(|(_, r)| !r.loaded) || run.incomplete.is_some()),
        };
        bad as u8
    }
}

impl Render for VmtestReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        let runs: Vec<&VmRun> = self.runs.iter().collect();
        let summaries = |w: &mut dyn Write| runs.iter().try_for_each(|r| report::vmtest::run_summary(w, r));
        match (format, &self.rows) {
            (Format::Json, rows) => report::vmtest::json(w, &self.labels, &self.results, &runs, rows.as_deref()),
            (_, Some(rows)) => {
                summaries(w)?;
                writeln!(w)?;
                report::vmtest::compare_text(w, &self.labels, rows, self.all)
            }
            (_, None) => {
                report::vmtest::table(w, &self.results)?;
                writeln!(w)?;
                summaries(w)
            }
        }
    }
}
