//! The sharing rules of `bpfabi probe` (src/probe/reuse.rs) hold in the
//! probes the project made per variant on other kernels (`data/probe`, made
//! under vmtest): every verdict a rule would copy equals the one measured.
//! `tests/probe_live.rs` checks the same on the running kernel by probing
//! with and without sharing.

mod common;
use bpfabi::probe::{reuse, Decision, LoadOutcome, Probe, VariantResult};
use std::path::{Path, PathBuf};

fn data_probes() -> Vec<(PathBuf, Probe)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/probe");
    let mut out: Vec<(PathBuf, Probe)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let probe = bpfabi::probe::file::load_probe(&p).unwrap();
            (p, probe)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 4, "{} probes in {}", out.len(), dir.display());
    out
}

/// The first loadable variant of `prog_type` of one sleepability without an
/// attach target, as the probe picks its leaders.
/// The probed kernel's BTF among the corpus kernels, found by its
/// fingerprint (`None` for a data probe of a kernel the corpus lacks).
fn probed_btf(p: &Probe) -> Option<bpfabi::btf::Btf> {
    let btf = std::fs::read_dir(common::corpus().join("kernels"))
        .unwrap()
        .map(|e| e.unwrap().path().join("vmlinux.btf"))
        .filter_map(|f| std::fs::read(&f).ok())
        .find(|b| bpfabi::probe::file::fingerprint_bytes(b) == p.kernel.btf)?;
    Some(bpfabi::btf::Btf::parse(bpfabi::bytes::Bytes::from_vec(btf)).unwrap())
}

fn first<'a>(p: &'a Probe, prog_type: &str, sleepable: bool) -> Option<&'a VariantResult> {
    p.variants
        .iter()
        .find(|v| v.load == LoadOutcome::Loadable && v.variant.prog_type == prog_type && v.variant.sleepable == sleepable && v.variant.attach_btf.is_none())
}

/// Program types of one helper group (same `get_func_proto`, or one that
/// delegates to it) answer alike outside their exceptions, `gpl_only` too.
#[test]
fn helper_groups_hold_on_data_kernels() {
    let mut pairs = 0;
    for (path, p) in data_probes() {
        for (i, &(lt, group, lexc)) in reuse::HELPER_SHARING.iter().enumerate() {
            // The group's leader is its first type in the table order the
            // variants follow; compare every later type of the group with it.
            if reuse::HELPER_SHARING.iter().take(i).any(|(_, g, _)| *g == group) {
                continue;
            }
            let Some(l) = first(&p, lt, false) else { continue };
            for &(ft, _, fexc) in reuse::HELPER_SHARING.iter().skip(i + 1).filter(|(_, g, _)| *g == group) {
                let Some(f) = first(&p, ft, false) else { continue };
                pairs += 1;
                for (a, b) in l.helpers.iter().zip(&f.helpers) {
                    assert_eq!(a.name, b.name);
                    if lexc.contains(&a.name.as_str()) || fexc.contains(&a.name.as_str()) {
                        continue;
                    }
                    assert_eq!(a.decision, b.decision, "{}: {} vs {}: {}", path.display(), l.variant.label, f.variant.label, a.name);
                    assert_eq!(l.gpl_only_helpers.contains(&a.id), f.gpl_only_helpers.contains(&b.id), "{}: gpl_only {}", path.display(), a.name);
                }
            }
        }
    }
    // tc/action, raw_tp/raw_tp.w, lwt_in/out/xmit on each of four kernels.
    assert!(pairs >= 12, "{pairs} pairs compared");
}

/// Variants with an attach target that share a helper group
/// (`reuse::TARGET_HELPER_SHARING`: tp_btf) answer as the group's leader
/// outside both exception lists, `gpl_only` too; and the exceptions are
/// not idle: on every kernel some of them differ.
#[test]
fn target_helper_groups_hold_on_data_kernels() {
    let (mut pairs, mut differing) = (0, 0);
    for (path, p) in data_probes() {
        for &(pt, at, group, exc) in reuse::TARGET_HELPER_SHARING {
            let Some(&(lt, _, lexc)) = reuse::HELPER_SHARING.iter().find(|(_, g, _)| *g == group) else { panic!("no group {group}") };
            let Some(l) = first(&p, lt, false) else { continue };
            let followers = p.variants.iter().filter(|v| {
                v.load == LoadOutcome::Loadable && v.variant.prog_type == pt && v.variant.attach_type.as_deref() == Some(at) && !v.variant.sleepable
            });
            for f in followers {
                pairs += 1;
                for (a, b) in l.helpers.iter().zip(&f.helpers) {
                    assert_eq!(a.name, b.name);
                    if lexc.contains(&a.name.as_str()) || exc.contains(&a.name.as_str()) {
                        differing += usize::from(a.decision != b.decision);
                        continue;
                    }
                    assert_eq!(a.decision, b.decision, "{}: {} vs {}: {}", path.display(), l.variant.label, f.variant.label, a.name);
                    assert_eq!(l.gpl_only_helpers.contains(&a.id), f.gpl_only_helpers.contains(&b.id), "{}: gpl_only {}", path.display(), a.name);
                }
            }
        }
    }
    // kprobe and tp_btf on each of four kernels.
    assert!(pairs >= 4 && differing >= 4 * pairs, "{pairs} pairs, {differing} exceptions differing");
}

/// The family of `bpf_base_func_proto` (`reuse::BASE_FAMILY`): the first
/// program type of the family (by variant order, non-sleepable, no attach
/// target) and every other one answer alike outside both their cases,
/// `gpl_only` too, on every data kernel the lists cover; and leaving a
/// list out would be seen (7.2's `sock_filter_func_proto` answers
/// `setsockopt`, 6.12's cgroup types the current-task helpers).
#[test]
fn base_family_holds_on_data_kernels() {
    let (mut pairs, mut kernels) = (0, 0);
    let mut caught = std::collections::HashSet::new();
    for (path, p) in data_probes() {
        let code = p.kernel.release.as_deref().map(bpfabi::probe::sys::kernel_version_code).unwrap_or(0);
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<&VariantResult> = p
            .variants
            .iter()
            .filter(|v| v.load == LoadOutcome::Loadable && !v.variant.sleepable && v.variant.attach_btf.is_none())
            .filter(|v| reuse::base_family_cases(&v.variant.prog_type, code).is_some())
            .filter(|v| seen.insert(v.variant.prog_type.clone()))
            .collect();
        let Some((l, rest)) = firsts.split_first() else { continue };
        kernels += 1;
        let lcases = reuse::base_family_cases(&l.variant.prog_type, code).unwrap();
        for f in rest {
            pairs += 1;
            let cases = reuse::base_family_cases(&f.variant.prog_type, code).unwrap();
            for (a, b) in l.helpers.iter().zip(&f.helpers) {
                assert_eq!(a.name, b.name);
                let differs = a.decision != b.decision || l.gpl_only_helpers.contains(&a.id) != f.gpl_only_helpers.contains(&b.id);
                if reuse::in_cases(cases, &a.name) || reuse::in_cases(lcases, &a.name) {
                    if differs && (a.name == "bpf_setsockopt" || a.name == "bpf_get_current_uid_gid") {
                        caught.insert(a.name.clone());
                    }
                    continue;
                }
                assert!(!differs, "{}: {} vs {}: {}: {:?} vs {:?}", path.display(), l.variant.label, f.variant.label, a.name, a.decision, b.decision);
            }
        }
    }
    assert!(kernels >= 4 && pairs >= 60, "{kernels} kernels, {pairs} pairs");
    assert_eq!(caught.len(), 2, "the version-specific cases are needed: {caught:?}");
}

/// A kfunc call a non-sleepable variant's arguments check refused
/// (`reuse::argument_refusal`) is refused alike in every sleepable variant
/// of its program type (iter.s, uprobe.s, uprobe.multi.s, lsm.s, fentry.s
/// where they load).
#[test]
fn argument_refusals_hold_in_sleepable_variants_on_data_kernels() {
    let mut compared = 0;
    for (path, p) in data_probes() {
        for f in p.variants.iter().filter(|v| v.load == LoadOutcome::Loadable && v.variant.sleepable) {
            let Some(l) = p.variants.iter().find(|v| v.load == LoadOutcome::Loadable && !v.variant.sleepable && v.variant.prog_type == f.variant.prog_type)
            else {
                continue;
            };
            for (a, b) in l.kfuncs.iter().zip(&f.kfuncs) {
                assert_eq!(a.name, b.name);
                if reuse::kfunc_filtered(&a.name) {
                    continue;
                }
                if let Decision::RejectedOther { message } = &a.decision {
                    if reuse::argument_refusal(message) {
                        compared += 1;
                        assert_eq!(a.decision, b.decision, "{}: {} vs {}: {}", path.display(), l.variant.label, f.variant.label, a.name);
                    }
                }
            }
        }
    }
    assert!(compared > 300, "{compared} verdicts compared");
}

/// Program types of one kfunc hook (`reuse::KFUNC_SAME_HOOK`) refuse a
/// kfunc's first argument alike where it can be no program's context
/// (`reuse::hook_copies_argument_refusal`), on the data kernels whose
/// `enum btf_kfunc_hook` the table describes and whose BTF the corpus has.
#[test]
fn same_hook_argument_refusals_hold_on_data_kernels() {
    if !common::have_corpus() {
        return;
    }
    let mut compared = 0;
    for (path, p) in data_probes() {
        let Some(btf) = probed_btf(&p) else { continue };
        if !reuse::kfunc_hooks_known(&bpfabi::probe::variants::enum_names(&btf, "btf_kfunc_hook")) {
            continue;
        }
        let ctx = bpfabi::probe::ctx::context_structs_in(&btf).unwrap();
        for types in reuse::KFUNC_SAME_HOOK {
            let firsts: Vec<&VariantResult> = types
                .iter()
                .filter_map(|t| p.variants.iter().find(|v| v.load == LoadOutcome::Loadable && !v.variant.sleepable && v.variant.prog_type == *t))
                .collect();
            let Some((l, rest)) = firsts.split_first() else { continue };
            for f in rest {
                for (a, b) in l.kfuncs.iter().zip(&f.kfuncs) {
                    assert_eq!(a.name, b.name);
                    let free = a.module.is_none() && bpfabi::probe::ctx::first_param_ctx_free_in(&btf, bpfabi::btf::TypeId(a.btf_id), &ctx);
                    if reuse::hook_copies_argument_refusal(&a.name, &a.decision, free) {
                        compared += 1;
                        assert_eq!(a.decision, b.decision, "{}: {} vs {}: {}", path.display(), l.variant.label, f.variant.label, a.name);
                    }
                }
            }
        }
    }
    assert!(compared > 200, "{compared} verdicts compared");
}

/// Iterator targets add no helper but `reuse::ITER_TARGET_HELPERS` on any
/// data kernel whose probe asked every refused helper of every target (6.1,
/// 6.12, 7.2), and tcp and unix do add them.
#[test]
fn iter_targets_add_only_sockopt_on_data_kernels() {
    let (mut targets, mut sockopt) = (0, 0);
    for (path, p) in data_probes() {
        for v in &p.variants {
            for c in &v.contexts {
                let bpfabi::probe::Context::IterTarget { target } = &c.context else { continue };
                targets += 1;
                for h in &c.helpers {
                    assert!(reuse::ITER_TARGET_HELPERS.contains(&h.name.as_str()), "{}: iter/{target} adds {}", path.display(), h.name);
                    sockopt += usize::from((target == "tcp" || target == "unix") && h.decision.available() == Some(true));
                }
            }
        }
    }
    assert!(targets >= 45 && sockopt >= 12, "{targets} targets, {sockopt} sockopt answers");
}

/// In a kernel whose `enum btf_kfunc_hook` the table describes, every
/// membership refusal of a hook group's first program type is the verdict of
/// every other type of the group; and on 6.1 (another layout, where the rule
/// is off) it would not be.
#[test]
fn kfunc_hook_groups_hold_on_data_kernels() {
    if !common::have_corpus() {
        return;
    }
    let (mut checked, mut copied, mut wrong_elsewhere) = (0, 0, 0);
    for (path, p) in data_probes() {
        let Some(btf) = probed_btf(&p) else { continue };
        let known = reuse::kfunc_hooks_known(&bpfabi::probe::variants::enum_names(&btf, "btf_kfunc_hook"));
        for (_, types) in reuse::KFUNC_HOOK_GROUPS {
            let members: Vec<&VariantResult> = types
                .iter()
                .filter_map(|t| {
                    first(&p, t, false)
                        .or_else(|| p.variants.iter().find(|v| v.load == LoadOutcome::Loadable && v.variant.prog_type == *t && !v.variant.sleepable))
                })
                .collect();
            let Some((l, rest)) = members.split_first() else { continue };
            for f in rest {
                for (a, b) in l.kfuncs.iter().zip(&f.kfuncs) {
                    assert_eq!(a.name, b.name);
                    if !reuse::hook_copies(&a.name, &a.decision) {
                        continue;
                    }
                    if known {
                        copied += 1;
                        assert_eq!(a.decision, b.decision, "{}: {} vs {}: {}", path.display(), l.variant.label, f.variant.label, a.name);
                    } else if a.decision != b.decision {
                        wrong_elsewhere += 1;
                    }
                }
            }
        }
        checked += usize::from(known);
    }
    assert!(checked >= 1 && copied > 1000, "{checked} kernels, {copied} verdicts");
    // 6.1 maps tracepoints to no hook and tracing to BTF_KFUNC_HOOK_TRACING.
    assert!(wrong_elsewhere > 0, "the gate on the hook layout is what keeps 6.1 out");
}

/// In a kernel whose `enum btf_kfunc_hook` the table describes, a filtered
/// kfunc whose filtered set belongs to another hook than a program's
/// (`reuse::FILTERED_SETS`) is refused alike to every variant of that
/// program type and of its kfunc hook group once one refuses it as no member.
#[test]
fn filtered_kfuncs_of_other_hooks_hold_on_data_kernels() {
    if !common::have_corpus() {
        return;
    }
    let mut copied = 0;
    for (path, p) in data_probes() {
        let Some(btf) = probed_btf(&p) else { continue };
        if !reuse::kfunc_hooks_known(&bpfabi::probe::variants::enum_names(&btf, "btf_kfunc_hook")) {
            continue;
        }
        let lead = |t: &str| p.variants.iter().find(|v| v.load == LoadOutcome::Loadable && v.variant.prog_type == t);
        for b in p.variants.iter().filter(|v| v.load == LoadOutcome::Loadable) {
            // Its program type's leader, and its hook group's first type's.
            let group_lead =
                reuse::KFUNC_HOOK_GROUPS.iter().find(|(_, ts)| ts.contains(&b.variant.prog_type.as_str())).and_then(|(_, ts)| ts.iter().find_map(|t| lead(t)));
            for a in [lead(&b.variant.prog_type), group_lead].into_iter().flatten().filter(|a| a.variant.label != b.variant.label) {
                for (x, y) in a.kfuncs.iter().zip(&b.kfuncs) {
                    assert_eq!(x.name, y.name);
                    if reuse::filter_elsewhere(&x.name, &b.variant.prog_type, &x.decision)
                        && reuse::filter_elsewhere(&x.name, &a.variant.prog_type, &x.decision)
                    {
                        copied += 1;
                        assert_eq!(x.decision, y.decision, "{}: {} vs {}: {}", path.display(), a.variant.label, b.variant.label, x.name);
                    }
                }
            }
        }
    }
    assert!(copied > 100, "{copied} verdicts compared");
}

/// Callback contexts: variants of one program type and sleepability that
/// share helper verdicts list the same callback answers (outside their
/// exceptions); `bpf_loop` callbacks list none (they answer as the program).
#[test]
fn callback_answers_hold_on_data_kernels() {
    let mut compared = 0;
    let mut loops = 0;
    for (path, p) in data_probes().into_iter().filter(|(_, p)| p.callbacks_measured) {
        let answers = |v: &VariantResult| -> Vec<(String, String, Decision)> {
            let exc = reuse::helper_group(&v.variant.prog_type).map(|g| g.1).unwrap_or(&[]);
            let mut out = Vec::new();
            for c in &v.contexts {
                let bpfabi::probe::Context::Callback { callback } = &c.context else { continue };
                let kind = format!("{callback:?}");
                out.extend(c.helpers.iter().filter(|h| !exc.contains(&h.name.as_str())).map(|h| (kind.clone(), h.name.clone(), h.decision.clone())));
                out.extend(c.kfuncs.iter().filter(|k| !reuse::kfunc_filtered(&k.name)).map(|k| (kind.clone(), k.name.clone(), k.decision.clone())));
            }
            out
        };
        for v in p.variants.iter().filter(|v| v.load == LoadOutcome::Loadable && v.variant.attach_btf.is_none()) {
            if reuse::helper_group(&v.variant.prog_type).is_none() {
                continue;
            }
            let Some(l) = first(&p, &v.variant.prog_type, v.variant.sleepable) else { continue };
            if l.variant.label != v.variant.label {
                compared += 1;
                assert_eq!(answers(l), answers(v), "{}: {} vs {}", path.display(), l.variant.label, v.variant.label);
            }
        }
        for v in &p.variants {
            for c in v.contexts.iter().filter(|c| matches!(c.context, bpfabi::probe::Context::Callback { callback: bpfabi::probe::CallbackKind::Loop })) {
                loops += 1;
                assert!(c.load != LoadOutcome::Loadable && c.helpers.is_empty() && c.kfuncs.is_empty(), "{}: {}: {:?}", path.display(), v.variant.label, c);
            }
        }
    }
    assert!(compared >= 20, "{compared} variants compared");
    eprintln!("{compared} callback answer lists compared, {loops} loop contexts (none loadable)");
}
