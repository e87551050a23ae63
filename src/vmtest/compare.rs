//! Prediction against reality: `check`'s verdict for each load unit next to
//! what the kernel did, and the confusion counts. A struct_ops unit is
//! predicted by the worst verdict of its programs; an object the loader
//! refused whole (`open_failed`) counts once per predicted program;
//! `no_programs` records and units `check` has no program for are counted
//! apart.

use super::record::{LoadRecord, Status, UnitKind};
use crate::check::alternatives::{decide, ObjectVerdict, Role};
use crate::check::{ProgramResult, Verdict};
use serde::Serialize;

/// How a prediction compares with a real load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Predicted fails, really rejected.
    TrueReject,
    /// Predicted loads (or warns), really loaded.
    TrueLoad,
    /// Predicted fails, but it loaded.
    FalseAlarm,
    /// Predicted loads (or warns), but it was rejected.
    Missed,
    /// No comparable pair (object-level record, timeout, crash, no prediction).
    NotCompared,
}

impl Outcome {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::TrueReject => "true_reject",
            Outcome::TrueLoad => "true_load",
            Outcome::FalseAlarm => "false_alarm",
            Outcome::Missed => "missed",
            Outcome::NotCompared => "not_compared",
        }
    }
    /// Prediction and reality agree.
    pub fn agrees(self) -> bool {
        matches!(self, Outcome::TrueReject | Outcome::TrueLoad)
    }
}

/// One unit on one kernel.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Object.
    pub object: String,
    /// Unit.
    pub unit: String,
    /// Kernel.
    pub kernel: String,
    /// Predicted.
    pub predicted: Option<Verdict>,
    /// `kind name: message` of the predicted problems.
    pub predicted_reasons: Vec<String>,
    /// Real.
    pub real: Status,
    /// The decisive lines of a real failure.
    pub real_error: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Why a unit with a prediction and a real result is not compared
    /// (the environment refused it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_compared_because: Option<String>,
}

/// Whether a real rejection is the environment's, not the program's:
/// EPERM with the privileges to load (the probe's rule,
/// `probe::classify::baseline`: "privileges or the environment", e.g. a
/// kernel without ftrace trampolines refusing every fentry/fexit), or
/// EACCES without a word from the verifier (an LSM's denial). EACCES with
/// a verifier log is the verifier's refusal (`bpf_check` returns -EACCES
/// for most of its rejections: "invalid mem access", "access beyond
/// struct"): a verdict, compared. The kernel's verdict on the program is
/// unknown where the environment refused it.
pub fn environment_refused(rec: &LoadRecord) -> Option<String> {
    let verifier_spoke = !rec.log.trim().is_empty() || rec.error.contains("processed ");
    (rec.status == Status::Rejected && (rec.errno == libc::EPERM || (rec.errno == libc::EACCES && !verifier_spoke))).then(|| {
        let what = match (rec.prog_type.as_deref(), rec.attach_type.as_deref()) {
            (Some(t), Some(a)) => format!("{t} programs ({a})"),
            (Some(t), None) => format!("{t} programs"),
            _ => "this program".into(),
        };
        let errno = if rec.errno == libc::EPERM { "EPERM" } else { "EACCES" };
        format!("this machine refuses {what} ({errno}): an environment limit, not a verdict")
    })
}

/// Confusion counts over rows.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Confusion {
    /// True reject.
    pub true_reject: usize,
    /// True load.
    pub true_load: usize,
    /// False alarm.
    pub false_alarm: usize,
    /// Missed.
    pub missed: usize,
    /// Not compared.
    pub not_compared: usize,
}

impl Confusion {
    /// Collect from a run (or rows).
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Confusion {
        let mut c = Confusion::default();
        for r in rows {
            match r.outcome {
                Outcome::TrueReject => c.true_reject += 1,
                Outcome::TrueLoad => c.true_load += 1,
                Outcome::FalseAlarm => c.false_alarm += 1,
                Outcome::Missed => c.missed += 1,
                Outcome::NotCompared => c.not_compared += 1,
            }
        }
        c
    }
    /// Units with both a prediction and a real result.
    pub fn compared(&self) -> usize {
        self.true_reject + self.true_load + self.false_alarm + self.missed
    }
    /// Share of compared units where prediction and reality agree.
    pub fn agreement(&self) -> f64 {
        let n = self.compared();
        if n == 0 {
            1.0
        } else {
            (self.true_reject + self.true_load) as f64 / n as f64
        }
    }
}

/// The object's verdict from its real loads (`check::alternatives::decide`):
/// each program's real outcome (loaded: `loads`, rejected: `fails`,
/// anything else: `unknown`) with the role `check` gave it, so a group
/// whose fentry variant the kernel refuses and whose kprobe variant it
/// loads reads "loads if kprobe_vfs_read … is chosen". Records without a
/// prediction (programs left out with `--autoload-off`) do not count;
/// `None` without any.
pub fn real_object_verdict(kernel: &str, records: &[&LoadRecord], predictions: &[ProgramResult]) -> Option<ObjectVerdict> {
    let object = predictions.first()?.object.as_str();
    let real = |st: Status| match st {
        Status::Loaded => Verdict::Loads,
        Status::Rejected => Verdict::Fails,
        _ => Verdict::Unknown,
    };
    let mut outcomes: Vec<(&str, &Role, Verdict)> = Vec::new();
    for rec in records {
        let unit = rec.unit_name();
        for p in predictions.iter().filter(|p| p.program == unit || (rec.unit == Some(UnitKind::StructOpsMap) && rec.programs.contains(&p.program))) {
            outcomes.push((p.program.as_str(), &p.role, real(rec.status)));
        }
    }
    (!outcomes.is_empty()).then(|| decide(object, kernel, outcomes.into_iter()))
}

/// Pair one object's real records with its predictions on the same kernel.
/// An object the loader refused whole (`open_failed`: libbpf's open, aya's
/// `Object::parse` or relocation, cilium/ebpf's `LoadCollectionSpec`) is
/// compared once per predicted program: each was refused.
pub fn rows(kernel: &str, records: &[&LoadRecord], predictions: &[ProgramResult]) -> Vec<Row> {
    let per_program: Vec<LoadRecord>;
    let expanded: Vec<&LoadRecord> = if records.iter().any(|r| r.unit.is_none() && r.status == Status::OpenFailed) && !predictions.is_empty() {
        per_program = records
            .iter()
            .filter(|r| r.unit.is_none() && r.status == Status::OpenFailed)
            .flat_map(|r| {
                predictions.iter().map(move |p| {
                    let mut one = (*r).clone();
                    one.unit = Some(UnitKind::Program);
                    one.program = Some(p.program.clone());
                    one
                })
            })
            .collect();
        records.iter().copied().filter(|r| !(r.unit.is_none() && r.status == Status::OpenFailed)).chain(per_program.iter()).collect()
    } else {
        records.to_vec()
    };
    expanded
        .iter()
        .map(|rec| {
            let unit = rec.unit_name().to_string();
            let members: Vec<&ProgramResult> = match rec.unit {
                // A map without programs is predicted as a unit of its own
                // (`struct_ops:<map>`).
                Some(UnitKind::StructOpsMap) if rec.programs.is_empty() => predictions.iter().filter(|p| p.program == unit).collect(),
                Some(UnitKind::StructOpsMap) => predictions.iter().filter(|p| rec.programs.contains(&p.program)).collect(),
                Some(UnitKind::Program) => predictions.iter().filter(|p| p.program == unit).collect(),
                None => Vec::new(),
            };
            let predicted = members.iter().map(|p| p.verdict).max();
            let predicted_reasons = members
                .iter()
                .flat_map(|p| p.reasons.iter().filter(|x| x.severity == Verdict::Fails || predicted != Some(Verdict::Fails)))
                .map(|x| format!("{} {}: {}", x.kind, x.name, x.message))
                .collect();
            let not_compared_because = predicted.and(environment_refused(rec));
            let outcome = match (predicted, rec.status) {
                _ if not_compared_because.is_some() => Outcome::NotCompared,
                // `unknown` claims nothing: not a load, not a refusal.
                (Some(Verdict::Unknown), _) => Outcome::NotCompared,
                (Some(Verdict::Fails), Status::Rejected) => Outcome::TrueReject,
                (Some(Verdict::Fails), Status::Loaded) => Outcome::FalseAlarm,
                (Some(_), Status::Loaded) => Outcome::TrueLoad,
                (Some(Verdict::Fails), Status::OpenFailed) => Outcome::TrueReject,
                (Some(_), Status::Rejected | Status::OpenFailed) => Outcome::Missed,
                _ => Outcome::NotCompared,
            };
            Row {
                object: rec.object.clone(),
                unit,
                kernel: kernel.to_string(),
                predicted,
                predicted_reasons,
                real: rec.status,
                real_error: rec.error.clone(),
                outcome,
                not_compared_because,
            }
        })
        .collect()
}

/// Predict every object on kernel `k` and pair the predictions with the
/// real records `(object index, record)` of the same objects. `check` sees
/// the probe the guest just ran (`probe`) when it belongs to `k`, otherwise
/// the project's `data/probe/<release>.json` when that does, as `check`
/// would on the host.
pub fn predict_and_pair(
    label: &str,
    objects: &[super::InputObject],
    records: &[(usize, LoadRecord)],
    k: crate::kernel::Kernel,
    probe: Option<crate::probe::Probe>,
) -> Vec<Row> {
    use crate::check::{check_object, CheckOptions};
    let mut kidx = crate::model::KernelModel::new(k);
    let fresh = probe.map(|p| crate::probe::ProbeIndex::new(p, format!("the probe run in the {label} guest")));
    match fresh.filter(|p| p.matches(&crate::probe::file::fingerprint_of(kidx.kernel()))) {
        Some(p) => kidx.set_probe(std::sync::Arc::new(p)),
        None => {
            let _ = crate::probe::attach::attach(std::slice::from_mut(&mut kidx), &[], &[]);
        }
    }
    let names = kidx.helper_names().clone();
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let preds = match &o.object {
            Some(po) => check_object(po, &kidx, &names, &CheckOptions::default()),
            None => Vec::new(),
        };
        let recs: Vec<&LoadRecord> = records.iter().filter(|(j, _)| *j == i).map(|(_, r)| r).collect();
        out.extend(rows(label, &recs, &preds));
    }
    out
}

/// The kernel `check` predicts for after a VM run: the booted vmlinuz with
/// only the modules that were really inserted.
pub fn booted_kernel(
    boot: &super::package::BootKernel,
    cached: Option<&std::path::Path>,
    pieces: &[std::path::PathBuf],
    run: &super::vm::VmRun,
) -> crate::Result<crate::kernel::Kernel> {
    let mut k = crate::kernel::load(&super::package::btf_inputs(boot, cached, pieces), &crate::kernel::LoadOptions::default())?;
    let inserted: Vec<&str> = run.modules.iter().filter(|m| !m.status.starts_with("failed")).map(|m| m.name.as_str()).collect();
    k.modules.retain(|m| inserted.contains(&m.name.as_str()));
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Reason;

    fn rec(program: &str, status: Status, unit: UnitKind, programs: &[&str]) -> LoadRecord {
        LoadRecord {
            object: "o.bpf.o".into(),
            program: Some(program.into()),
            section: None,
            prog_type: None,
            attach_type: None,
            unit: Some(unit),
            programs: programs.iter().map(|s| s.to_string()).collect(),
            loaded: status == Status::Loaded,
            status,
            errno: 0,
            error: String::new(),
            log: String::new(),
            maps_resized: String::new(),
            duration_ms: 0,
        }
    }

    fn pred(program: &str, verdict: Verdict) -> ProgramResult {
        ProgramResult {
            object: "o.bpf.o".into(),
            program: program.into(),
            section: "s".into(),
            kernel: "k".into(),
            loader: crate::loader::Loader::default(),
            verdict,
            reasons: if verdict == Verdict::Loads {
                vec![]
            } else {
                vec![Reason::fact(crate::check::ReasonKind::KfuncMissing, program, "m".into()).graded(verdict)]
            },
            satisfied: vec![],
            core_btf: None,
            role: Default::default(),
            not_checked: Vec::new(),
        }
    }

    #[test]
    fn outcomes_and_struct_ops_units() {
        let preds = [
            pred("a", Verdict::Fails),
            pred("b", Verdict::Warns),
            pred("c", Verdict::Loads),
            pred("d", Verdict::Fails),
            pred("s1", Verdict::Loads),
            pred("s2", Verdict::Fails),
        ];
        let recs = [
            rec("a", Status::Rejected, UnitKind::Program, &[]),
            rec("b", Status::Loaded, UnitKind::Program, &[]),
            rec("c", Status::Rejected, UnitKind::Program, &[]),
            rec("d", Status::Loaded, UnitKind::Program, &[]),
            rec("struct_ops:ops", Status::Rejected, UnitKind::StructOpsMap, &["s1", "s2"]),
            rec("zz", Status::Timeout, UnitKind::Program, &[]),
        ];
        let mut eperm = rec("e", Status::Rejected, UnitKind::Program, &[]);
        eperm.errno = libc::EPERM;
        eperm.prog_type = Some("tracing".into());
        let r = rows("k", &[&eperm], &[pred("e", Verdict::Loads)]);
        assert_eq!(r[0].outcome, Outcome::NotCompared);
        assert_eq!(r[0].not_compared_because.as_deref(), Some("this machine refuses tracing programs (EPERM): an environment limit, not a verdict"));
        // EACCES: the verifier's refusal when it spoke (compared: a load
        // predicted is missed), an LSM's denial when it did not.
        let mut verifier = rec("v", Status::Rejected, UnitKind::Program, &[]);
        verifier.errno = libc::EACCES;
        verifier.log = "0: (79) r2 = *(u64 *)(r1 +48)\nR1 invalid mem access 'scalar'\nprocessed 1 insns".into();
        let mut lsm = rec("l", Status::Rejected, UnitKind::Program, &[]);
        lsm.errno = libc::EACCES;
        let r = rows("k", &[&verifier, &lsm], &[pred("v", Verdict::Loads), pred("l", Verdict::Loads)]);
        assert_eq!((r[0].outcome, r[1].outcome), (Outcome::Missed, Outcome::NotCompared), "{r:#?}");
        assert!(r[1].not_compared_because.as_deref().is_some_and(|w| w.contains("(EACCES)")));
        let refs: Vec<&LoadRecord> = recs.iter().collect();
        let r = rows("k", &refs, &preds);
        let o: Vec<Outcome> = r.iter().map(|x| x.outcome).collect();
        assert_eq!(o, [Outcome::TrueReject, Outcome::TrueLoad, Outcome::Missed, Outcome::FalseAlarm, Outcome::TrueReject, Outcome::NotCompared]);
        let c = Confusion::of(&r);
        assert_eq!((c.true_reject, c.true_load, c.false_alarm, c.missed, c.not_compared), (2, 1, 1, 1, 1));
        assert!((c.agreement() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn an_object_refused_whole_is_compared_per_program() {
        // aya's "invalid program section" or libbpf's open failure: one
        // object-level record stands for every predicted program.
        let mut whole = rec("", Status::OpenFailed, UnitKind::Program, &[]);
        whole.unit = None;
        whole.program = None;
        let r = rows("k", &[&whole], &[pred("a", Verdict::Fails), pred("b", Verdict::Loads)]);
        let got: Vec<(&str, Outcome)> = r.iter().map(|x| (x.unit.as_str(), x.outcome)).collect();
        assert_eq!(got, [("a", Outcome::TrueReject), ("b", Outcome::Missed)]);
        // Without predictions it stays one row, not compared.
        let r = rows("k", &[&whole], &[]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].outcome, Outcome::NotCompared);
    }
}
