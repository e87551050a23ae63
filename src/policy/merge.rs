//! Facts that never lose history: the facts a manifest records about a
//! kfunc merged with what the kernels of one `policy check` show. The
//! kernels decide at their own releases; everything the manifest records
//! about other releases (an older `first_release`, a later `removed_in`,
//! fingerprint ranges of kernels not given) is kept. `policy check` reports
//! P018 when the merge differs from the record, `--fix` writes the merge;
//! only `--fix --shrink` replaces the record by the kernels' facts alone.

use super::manifest::{release_cmp, FactVersion, Facts};
use std::cmp::Ordering;

/// The kernels of the history as one kfunc sees them.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    /// Release labels, oldest first.
    pub labels: &'a [String],
    /// Per label: whether that kernel says anything about the kfunc (a
    /// module kfunc is unknown in a kernel read without its module).
    pub known: &'a [bool],
}

impl Given<'_> {
    fn known_labels(&self) -> impl Iterator<Item = &str> + '_ {
        self.labels.iter().zip(self.known).filter(|(_, k)| **k).map(|(l, _)| l.as_str())
    }
}

fn le(a: &str, b: &str) -> bool {
    release_cmp(a, b) != Ordering::Greater
}

fn lt(a: &str, b: &str) -> bool {
    release_cmp(a, b) == Ordering::Less
}

/// Fingerprint of `computed` at a given release (`None`: absent there).
fn at<'c>(computed: &'c Facts, label: &str) -> Option<&'c FactVersion> {
    computed.versions.iter().find(|v| le(&v.from, label) && le(label, &v.to))
}

/// The facts to record: `recorded` (the manifest) merged with `computed`
/// (what the kernels of `given` show).
pub fn merge(recorded: &Facts, computed: &Facts, given: Given) -> Facts {
    let known: Vec<&str> = given.known_labels().collect();
    let Some(newest) = known.last().copied() else { return recorded.clone() };
    let mut out = computed.clone();
    out.versions = merge_versions(&recorded.versions, computed, &known);

    // first_release: an older recorded one stands unless a kernel given
    // between it and the first kernel showing the kfunc lacks it.
    out.first_release = match (&recorded.first_release, &computed.first_release) {
        (Some(r), Some(c)) if le(r, c) && !known.iter().any(|l| le(r, l) && lt(l, c)) => Some(r.clone()),
        (Some(r), None) => Some(r.clone()),
        (_, c) => c.clone(),
    };

    // The record knows later releases than the kernels: its fate and
    // last-known values describe those (a removal the kernels show at their
    // end is a gap in what they know, not the fate).
    let beyond = recorded.removed_in.as_deref().is_some_and(|d| lt(newest, d)) || recorded.versions.iter().any(|v| lt(newest, &v.to));
    let last_present = known.iter().rev().find(|l| at(computed, l).is_some()).copied();
    let keep_fate = if beyond {
        true
    } else {
        match (&recorded.removed_in, &computed.removed_in) {
            // Present in the newest kernel given: not removed (yet).
            (_, None) if last_present == Some(newest) => false,
            // Unknown in the newest kernel given (module not read): the record stands.
            (_, None) => true,
            // The recorded removal lies between the last kernel that has it and the one that lacks it.
            (Some(d), Some(e)) => last_present.is_some_and(|p| lt(p, d)) && le(d, e),
            (None, Some(_)) => false,
        }
    };
    if keep_fate {
        out.removed_in = recorded.removed_in.clone();
        out.renamed_to = recorded.renamed_to.clone().or(if recorded.removed_in == computed.removed_in { computed.renamed_to.clone() } else { None });
        out.became = recorded.became.clone().or(if recorded.removed_in == computed.removed_in { computed.became.clone() } else { None });
    }
    if beyond {
        out.prototype = recorded.prototype.clone().or(out.prototype);
        out.flags = recorded.flags.clone().or(out.flags);
        // `None` is a fact here: vmlinux.
        out.module = recorded.module.clone();
    } else {
        out.prototype = out.prototype.or_else(|| recorded.prototype.clone());
        out.flags = out.flags.or_else(|| recorded.flags.clone());
        if computed.prototype.is_none() {
            out.module = recorded.module.clone();
        }
    }
    out
}

/// Fingerprint ranges: the kernels given decide at their releases, the
/// record's range ends stand for the releases not given; two neighbouring
/// releases with one fingerprint join when a recorded or computed range
/// spans both (otherwise the kfunc was absent between them).
fn merge_versions(recorded: &[FactVersion], computed: &Facts, known: &[&str]) -> Vec<FactVersion> {
    type Fp<'a> = (&'a str, &'a str);
    let mut points: Vec<(&str, Option<Fp>)> = Vec::new();
    for v in recorded {
        for r in [v.from.as_str(), v.to.as_str()] {
            if !known.iter().any(|l| release_cmp(l, r) == Ordering::Equal) && !points.iter().any(|(p, _)| release_cmp(p, r) == Ordering::Equal) {
                points.push((r, Some((v.proto.as_str(), v.deep.as_str()))));
            }
        }
    }
    for l in known {
        points.push((l, at(computed, l).map(|v| (v.proto.as_str(), v.deep.as_str()))));
    }
    points.sort_by(|a, b| release_cmp(a.0, b.0));
    let spans: Vec<&FactVersion> = recorded.iter().chain(&computed.versions).collect();
    let joined = |a: &str, b: &str, fp: Fp| spans.iter().any(|s| s.proto == fp.0 && s.deep == fp.1 && le(&s.from, a) && le(b, &s.to));
    let mut out: Vec<FactVersion> = Vec::new();
    let mut prev: Option<(&str, Option<Fp>)> = None;
    for (r, fp) in points {
        if let Some(fp) = fp {
            let extend = matches!(prev, Some((p, Some(pf))) if pf == fp && joined(p, r, fp));
            match out.last_mut() {
                Some(last) if extend => last.to = r.to_string(),
                _ => out.push(FactVersion { from: r.into(), to: r.into(), proto: fp.0.into(), deep: fp.1.into() }),
            }
        }
        prev = Some((r, fp));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(from: &str, to: &str, p: &str) -> FactVersion {
        FactVersion { from: from.into(), to: to.into(), proto: p.into(), deep: p.into() }
    }
    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fewer_kernels_keep_the_recorded_history() {
        // Recorded over 6.1 .. 7.3.4, removed in 7.4; kernels given: 6.12.117 and 6.18.44.
        let rec = Facts {
            first_release: Some("6.1".into()),
            removed_in: Some("7.4".into()),
            prototype: "int f(void)".parse().ok(),
            versions: vec![v("6.1", "6.12.95", "a"), v("6.12.117", "7.3.4", "b")],
            ..Facts::default()
        };
        let comp = Facts {
            first_release: Some("6.12.117".into()),
            prototype: "int f(void)".parse().ok(),
            versions: vec![v("6.12.117", "6.18.44", "b")],
            ..Facts::default()
        };
        let l = labels(&["6.12.117", "6.18.44"]);
        let m = merge(&rec, &comp, Given { labels: &l, known: &[true, true] });
        assert_eq!(m, rec);
    }

    #[test]
    fn the_kernels_decide_at_their_releases() {
        // Recorded first in 6.1, but the 6.1 kernel given lacks it: first in 6.12.95.
        let rec = Facts { first_release: Some("6.1".into()), versions: vec![v("6.1", "6.12.95", "a")], ..Facts::default() };
        let comp = Facts { first_release: Some("6.12.95".into()), versions: vec![v("6.12.95", "6.12.95", "a")], ..Facts::default() };
        let l = labels(&["6.1", "6.12.95"]);
        let m = merge(&rec, &comp, Given { labels: &l, known: &[true, true] });
        assert_eq!(m.first_release.as_deref(), Some("6.12.95"));
        assert_eq!(m.versions, vec![v("6.12.95", "6.12.95", "a")]);
        // A new kernel with another fingerprint extends the record; an absent one is a removal.
        let comp = Facts {
            first_release: Some("6.1".into()),
            removed_in: Some("7.2".into()),
            versions: vec![v("6.1", "6.1", "a"), v("6.18", "6.18", "c")],
            ..Facts::default()
        };
        let l = labels(&["6.1", "6.18", "7.2"]);
        let m = merge(&rec, &comp, Given { labels: &l, known: &[true, true, true] });
        assert_eq!(m.versions, vec![v("6.1", "6.12.95", "a"), v("6.18", "6.18", "c")]);
        assert_eq!(m.removed_in.as_deref(), Some("7.2"));
    }

    #[test]
    fn a_gap_between_ranges_stays_a_gap() {
        // Absent between 6.1 and 6.12.117 (same fingerprint on both sides): not joined.
        let rec = Facts { first_release: Some("6.1".into()), versions: vec![v("6.1", "6.1", "a"), v("6.12.117", "6.12.117", "a")], ..Facts::default() };
        let comp = Facts { first_release: Some("6.12.117".into()), versions: vec![v("6.12.117", "6.18", "a")], ..Facts::default() };
        let l = labels(&["6.12.117", "6.18"]);
        let m = merge(&rec, &comp, Given { labels: &l, known: &[true, true] });
        assert_eq!(m.versions, vec![v("6.1", "6.1", "a"), v("6.12.117", "6.18", "a")]);
        assert_eq!(m.first_release.as_deref(), Some("6.1"));
    }

    #[test]
    fn a_kernel_without_the_module_says_nothing() {
        let rec = Facts { first_release: Some("6.1".into()), module: Some("tcp_bbr".into()), versions: vec![v("6.1", "7.3", "a")], ..Facts::default() };
        let comp = Facts {
            first_release: Some("6.12.117".into()),
            module: Some("tcp_bbr".into()),
            versions: vec![v("6.12.117", "6.12.117", "a")],
            ..Facts::default()
        };
        let l = labels(&["6.12.117", "6.18"]);
        let m = merge(&rec, &comp, Given { labels: &l, known: &[true, false] });
        assert_eq!(m, rec);
    }
}
