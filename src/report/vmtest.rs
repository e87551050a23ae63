//! Renderers for real loads (`bpfabi vmtest`, `bpfabi check --load`): the
//! check-shaped JSON document (schema `bpfabi.check/1`, every result with
//! the `load` fields added), a table, and the prediction-vs-reality
//! comparison with confusion counts.

use crate::check::{Reason, Verdict};
use crate::vmtest::compare::{Confusion, Outcome, Row};
use crate::vmtest::record::{LoadRecord, Status, UnitKind};
use crate::vmtest::vm::VmRun;
use serde::Serialize;
use std::io::{self, Write};

/// One real load as a `check` result (same fields first, then the load's).
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    /// Object.
    pub object: String,
    /// Program.
    pub program: String,
    /// Section.
    pub section: String,
    /// Kernel.
    pub kernel: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Reasons.
    pub reasons: Vec<Reason>,
    /// Status.
    pub status: Status,
    /// errno of the failed load (0 when loaded).
    pub errno: i32,
    /// Unit.
    pub unit: Option<UnitKind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Programs.
    pub programs: Vec<String>,
    /// Prog type.
    pub prog_type: Option<String>,
    /// Maps sized for the load (as user space would).
    pub maps_resized: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// libbpf's log, when asked for.
    pub log: Option<String>,
}

fn reason_kind(r: &LoadRecord) -> crate::check::ReasonKind {
    use crate::check::ReasonKind as K;
    match r.status {
        Status::Loaded => K::Loaded,
        Status::Rejected if r.log.contains("-- BEGIN PROG LOAD LOG --") => K::VerifierRejected,
        Status::Rejected => K::LibbpfRejected,
        Status::OpenFailed => K::OpenFailed,
        Status::NoPrograms => K::NoPrograms,
        Status::Timeout => K::LoadTimeout,
        Status::VmCrashed => K::VmCrashed,
    }
}

/// One load record as a check-shaped result.
pub fn result(kernel: &str, r: &LoadRecord, with_log: bool) -> LoadResult {
    let verdict = if r.loaded { Verdict::Loads } else { Verdict::Fails };
    let reasons =
        if r.loaded { Vec::new() } else { vec![Reason::fact(reason_kind(r), &r.program.clone().unwrap_or_default(), r.error.clone()).graded(Verdict::Fails)] };
    LoadResult {
        object: r.object.clone(),
        program: r.program.clone().unwrap_or_default(),
        section: r.section.clone().unwrap_or_default(),
        kernel: kernel.to_string(),
        verdict,
        reasons,
        status: r.status,
        errno: r.errno,
        unit: r.unit.clone(),
        programs: r.programs.clone(),
        prog_type: r.prog_type.clone(),
        maps_resized: r.maps_resized.clone(),
        duration_ms: r.duration_ms,
        log: with_log.then(|| r.log.clone()),
    }
}

/// Per-kernel facts of a VM run (timings, modules, probe).
#[derive(Serialize)]
pub struct RunSummary<'a> {
    /// Kernel.
    pub kernel: &'a str,
    /// Kernel source.
    pub kernel_source: &'a str,
    /// Loader.
    pub loader: &'a str,
    /// Boots.
    pub boots: &'a [crate::vmtest::vm::Boot],
    /// Why KVM was given up for TCG, if it was.
    pub kvm_fallback: Option<&'a str>,
    /// Modules.
    pub modules: &'a [crate::vmtest::protocol::ModuleStatus],
    /// Missing modules.
    pub missing_modules: &'a [String],
    /// Probe duration in milliseconds.
    pub probe_ms: Option<u64>,
    /// Probe.
    pub probe: Option<&'a serde_json::Value>,
    /// Units.
    pub units: usize,
    /// Time spent loading, in milliseconds.
    pub load_ms: u64,
    /// Why the run ended early, if it did.
    pub incomplete: Option<&'a str>,
}

impl<'a> RunSummary<'a> {
    /// Collect from a run (or rows).
    pub fn of(run: &'a VmRun) -> Self {
        RunSummary {
            kernel: &run.release,
            kernel_source: &run.kernel_source,
            loader: &run.loader,
            boots: &run.boots,
            kvm_fallback: run.kvm_fallback.as_deref(),
            modules: &run.modules,
            missing_modules: &run.missing_modules,
            probe_ms: run.probe_ms,
            probe: run.probe.as_ref(),
            units: run.records.len(),
            load_ms: run.load_ms,
            incomplete: run.incomplete.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    source: &'static str,
    kernels: &'a [String],
    results: &'a [LoadResult],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<RunSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<CompareDoc<'a>>,
}

#[derive(Serialize)]
struct CompareDoc<'a> {
    rows: &'a [Row],
    confusion: Vec<(String, Confusion)>,
}

/// The JSON document (`bpfabi.check/1` plus load fields; see docs/vmtest.md).
pub fn json(w: &mut dyn Write, kernels: &[String], results: &[LoadResult], runs: &[&VmRun], rows: Option<&[Row]>) -> io::Result<()> {
    let comparison = rows.map(|rows| CompareDoc { rows, confusion: confusion_by_kernel(kernels, rows) });
    let doc = Doc { schema: super::check::SCHEMA, source: "load", kernels, results, runs: runs.iter().map(|r| RunSummary::of(r)).collect(), comparison };
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::from)?;
    writeln!(w)
}

fn first_line(r: &LoadResult) -> String {
    let Some(reason) = r.reasons.first() else { return String::new() };
    // The verifier's words (indented) say most; else the first line.
    let lines: Vec<&str> = reason.message.lines().collect();
    let v: Vec<&str> = lines.iter().filter(|l| l.starts_with("  ")).map(|l| l.trim()).collect();
    let s = if v.is_empty() { lines.first().map(|l| l.trim_start_matches("libbpf: ").to_string()).unwrap_or_default() } else { v.join(" / ") };
    if s.len() > 140 {
        let mut cut = 137;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

/// A table: one line per unit, the decisive line for failures.
pub fn table(w: &mut dyn Write, results: &[LoadResult]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![r.object.clone(), if r.program.is_empty() { "-".into() } else { r.program.clone() }, r.kernel.clone(), r.status.as_str().into(), first_line(r)]
        })
        .collect();
    super::write_table(w, &["OBJECT", "UNIT", "KERNEL", "RESULT", "DECISIVE LINE"], &rows)
}

/// A summary line per VM run: boots, timings, modules.
pub fn run_summary(w: &mut dyn Write, run: &VmRun) -> io::Result<()> {
    let loaded = run.records.iter().filter(|(_, r)| r.loaded).count();
    writeln!(w, "kernel {} ({}), loader {}", run.release, run.kernel_source, run.loader)?;
    for b in &run.boots {
        writeln!(
            w,
            "  boot {}: hello {} ms, first load {} ms, total {} ms ({})",
            b.accel,
            b.hello_ms.map_or("-".into(), |x| x.to_string()),
            b.first_load_ms.map_or("-".into(), |x| x.to_string()),
            b.total_ms,
            b.end
        )?;
    }
    if let Some(k) = &run.kvm_fallback {
        writeln!(w, "  KVM not used: {k}")?;
    }
    let failed: Vec<String> = run.modules.iter().filter(|m| m.status != "loaded").map(|m| format!("{} ({})", m.name, m.status)).collect();
    writeln!(
        w,
        "  modules: {} inserted{}{}",
        run.modules.iter().filter(|m| m.status == "loaded").count(),
        if failed.is_empty() { String::new() } else { format!(", not inserted: {}", failed.join(", ")) },
        if run.missing_modules.is_empty() { String::new() } else { format!(", not in this kernel: {}", run.missing_modules.join(", ")) }
    )?;
    if let Some(ms) = run.probe_ms {
        writeln!(w, "  probe: {ms} ms")?;
    }
    let secs = run.load_ms as f64 / 1000.0;
    writeln!(
        w,
        "  {} units, {} loaded, {} failed; {:.1} s loading ({:.1} units/s)",
        run.records.len(),
        loaded,
        run.records.len() - loaded,
        secs,
        if secs > 0.0 { run.records.len() as f64 / secs } else { 0.0 }
    )?;
    if let Some(i) = &run.incomplete {
        writeln!(w, "  INCOMPLETE: {i}")?;
    }
    Ok(())
}

/// Confusion counts per kernel.
pub fn confusion_by_kernel(kernels: &[String], rows: &[Row]) -> Vec<(String, Confusion)> {
    kernels.iter().map(|k| (k.clone(), Confusion::of(rows.iter().filter(|r| &r.kernel == k)))).collect()
}

/// Prediction next to reality: the disagreements (or every row with
/// `all`), then the confusion counts per kernel.
pub fn compare_text(w: &mut dyn Write, kernels: &[String], rows: &[Row], all: bool) -> io::Result<()> {
    let shown: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| all || !r.outcome.agrees())
        .map(|r| {
            let why = match r.outcome {
                Outcome::NotCompared if r.not_compared_because.is_some() => r.not_compared_because.clone().unwrap_or_default(),
                Outcome::Missed => r.real_error.lines().find(|l| l.starts_with("  ")).or_else(|| r.real_error.lines().next()).unwrap_or("").trim().to_string(),
                _ => r.predicted_reasons.first().cloned().unwrap_or_default(),
            };
            vec![
                r.object.clone(),
                r.unit.clone(),
                r.kernel.clone(),
                r.predicted.map_or("-".into(), |v| v.as_str().into()),
                r.real.as_str().into(),
                r.outcome.as_str().into(),
                why.chars().take(120).collect(),
            ]
        })
        .collect();
    if !shown.is_empty() {
        super::write_table(w, &["OBJECT", "UNIT", "KERNEL", "PREDICTED", "REAL", "OUTCOME", "WHY"], &shown)?;
        writeln!(w)?;
    }
    let mut t = Vec::new();
    for (k, c) in confusion_by_kernel(kernels, rows) {
        t.push(vec![
            k,
            c.true_reject.to_string(),
            c.true_load.to_string(),
            c.false_alarm.to_string(),
            c.missed.to_string(),
            c.not_compared.to_string(),
            format!("{:.1}%", 100.0 * c.agreement()),
        ]);
    }
    super::write_table(w, &["KERNEL", "TRUE REJECT", "TRUE LOAD", "FALSE ALARM", "MISSED", "NOT COMPARED", "AGREEMENT"], &t)
}

/// One ground-truth-format JSON line per unit (`kernel` and `loader` added).
pub fn jsonl(w: &mut dyn Write, run: &VmRun) -> io::Result<()> {
    for (_, r) in &run.records {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("kernel".into(), serde_json::Value::String(run.release.clone()));
            m.insert("loader".into(), serde_json::Value::String(run.loader.clone()));
        }
        super::write_jsonl(w, &v)?;
    }
    Ok(())
}

/// The probe's JSON of a run, pretty-printed, when the guest ran one.
pub fn probe_json(run: &VmRun) -> Option<String> {
    run.probe.as_ref().map(|p| {
        let mut text = serde_json::to_string_pretty(p).unwrap_or_default();
        text.push('\n');
        text
    })
}
