//! `policy`: manifests (strict parsing, layering) and `policy check` over
//! synthetic kernel histories built with the BTF builder, one finding code
//! at a time; `policy init` / `--fix` round trips.

#[path = "policy/kernels.rs"]
mod kernels;
use bpfabi::model::KernelModel;
use bpfabi::policy::findings::{counts, Code, Finding};
use bpfabi::policy::manifest::{Action, PolicyKind};
use bpfabi::policy::{edit, history, Manifest};
use kernels::{kernel, kf, Kf};
use std::collections::BTreeMap;

const KF_RET_NULL: u32 = 4;
const KF_TRUSTED_ARGS: u32 = 16;

/// 6.10 .. 6.14 with one event per kfunc (see the manifest below).
fn history_a() -> Vec<KernelModel> {
    let always = |v: &mut Vec<Kf>| {
        v.push(kf("kf_late", &[("a", "int")], 0));
        v.push(kf("kf_dep_noreason", &[("a", "int")], 0));
        v.push(kf("kf_dep_missing", &[("a", "int")], 0));
        v.push(kf("kf_dep_weaker", &[("a", "int")], 0));
        v.push(kf("kf_exp_repl", &[("a", "int")], 0));
        v.push(kf("kf_deep", &[("t", "task")], 0));
        v.push(kf("kf_unlisted", &[("a", "int")], 0));
        v.push(kf("kf_annot", &[("buf", "task"), ("len", "u32")], 0));
    };
    let mut out = Vec::new();
    for (i, rel) in ["6.10", "6.11", "6.12", "6.13", "6.14"].iter().enumerate() {
        let mut v = Vec::new();
        always(&mut v);
        // Gains KF_RET_NULL in 6.13 (stable: deny; waived).
        v.push(kf("kf_stable", &[("t", "task")], if i >= 3 { KF_RET_NULL } else { 0 }));
        // Removed in 6.12 without deprecation (stable: deny).
        if i < 2 {
            v.push(kf("kf_gone", &[("a", "int")], 0));
        }
        // Deprecated 6.11, removed 6.12: window of 4 not over.
        if i < 2 {
            v.push(kf("kf_early", &[("a", "int")], 0));
        }
        // Deprecated 6.10, removed 6.12, tier `short` (1 release): fine, graded `removed`.
        if i < 2 {
            v.push(kf("kf_ok", &[("a", "int")], 0));
        }
        // Back in 6.12 with another prototype.
        if i != 1 {
            v.push(kf("kf_back", if i == 0 { &[("a", "int")] } else { &[("a", "u64")] }, 0));
        }
        // Renamed in 6.13 (successor name___v2), no deprecation.
        v.push(if i < 3 { kf("kf_rn", &[("t", "task"), ("n", "int")], 0) } else { kf("kf_rn___v2", &[("t", "task"), ("n", "int")], 0) });
        // Prototype change in 6.14.
        v.push(kf("kf_proto", if i < 4 { &[("a", "int")] } else { &[("a", "u64")] }, 0));
        // Becomes a helper in 6.14.
        if i < 4 {
            v.push(kf("bpf_promo", &[("a", "int")], 0));
        }
        if i == 4 {
            // Verifier annotation change in 6.14: len -> len__sz.
            v.retain(|k| k.name != "kf_annot");
            v.push(kf("kf_annot", &[("buf", "task"), ("len__sz", "u32")], 0));
        }
        let helpers: &[&str] = if i == 4 { &["map_lookup_elem", "promo"] } else { &["map_lookup_elem"] };
        // struct task grows in 6.13: kf_deep's deep fingerprint changes silently.
        out.push(kernel(rel, &v, helpers, if i >= 3 { 8 } else { 4 }));
    }
    out
}

const MANIFEST_A: &str = r#"
schema = 1
default_tier = "unstable"
ignore = ["bpf_kfunc_call_*"]

[tier.short]
window_releases = 1
removed = "warn"
removed_without_deprecation = "deny"

[[rule]]
match = "zz_*"
tier = "experimental"

[kfunc.kf_stable]
tier = "stable"
[kfunc.kf_stable.facts]
first_release = "6.11"

[kfunc.kf_gone]
tier = "stable"

[kfunc.kf_early]
tier = "stable"
deprecated_since = "6.11"
replacement = "kf_late"
reason = "superseded"

[kfunc.kf_ok]
tier = "short"
deprecated_since = "6.10"
replacement = "kf_late"
reason = "superseded"

[kfunc.kf_late]
removal_not_before = "6.12"

[kfunc.kf_dep_noreason]
deprecated_since = "6.12"

[kfunc.kf_dep_missing]
deprecated_since = "6.12"
replacement = "kf_nowhere"
reason = "renamed"

[kfunc.kf_dep_weaker]
tier = "stable"
deprecated_since = "6.12"
replacement = "kf_exp_repl"
reason = "moved"

[kfunc.kf_exp_repl]
tier = "experimental"

[kfunc.kf_back]
[kfunc.kf_deep]
[kfunc.kf_rn]
tier = "stable"
[kfunc.kf_rn___v2]
[kfunc.kf_proto]
tier = "stable"
[kfunc.bpf_promo]
tier = "stable"
[kfunc.kf_annot]
tier = "stable"

[kfunc.kf_stale]

[kfunc.zz_tomb.facts]
first_release = "5.15"
removed_in = "6.0"

[[waiver]]
kfunc = "kf_stable"
change = "flags_tightened"
release = "6.13"
reason = "NULL was always possible; the flag documents it"
approved_by = "maintainer"
expires = "2099-01-01"

[[waiver]]
kfunc = "kf_proto"
change = "proto_incompatible"
release = "6.14"
reason = "temporary"
approved_by = "maintainer"
expires = "2020-01-01"

[[waiver]]
kfunc = "kf_nothing"
change = "P012"
release = "6.13"
reason = "stale"
approved_by = "maintainer"
"#;

fn labels(ks: &[KernelModel]) -> Vec<String> {
    ks.iter().map(|k| history::label_of(k).unwrap()).collect()
}

fn find<'a>(f: &'a [Finding], code: Code, kfunc: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.code == code && x.kfunc.as_deref() == Some(kfunc)).collect()
}

fn one<'a>(f: &'a [Finding], code: Code, kfunc: &str) -> &'a Finding {
    let v = find(f, code, kfunc);
    assert_eq!(v.len(), 1, "{} {kfunc}: {v:#?}\nall: {:#?}", code.as_str(), f.iter().map(bpfabi::policy::findings::line).collect::<Vec<_>>());
    v[0]
}

#[test]
fn every_finding_code_on_a_synthetic_history() {
    let ks = history_a();
    let labels = labels(&ks);
    assert_eq!(labels, ["6.10", "6.11", "6.12", "6.13", "6.14"]);
    let m = Manifest::parse(MANIFEST_A, "m.toml").unwrap();
    let o = history::check(&m, &ks, &labels, &history::CheckOptions { today: bpfabi::release::Date::new(2026, 1, 1) });
    let f = &o.findings;

    let x = one(f, Code::Unlisted, "kf_unlisted");
    assert_eq!((x.level, x.release.as_deref()), (Action::Warn, Some("6.10")));
    let x = one(f, Code::StaleEntry, "kf_stale");
    assert_eq!(x.location.as_ref().map(|l| l.to_string()).as_deref(), Some("m.toml:67:1"));
    assert!(find(f, Code::StaleEntry, "zz_tomb").is_empty(), "a tombstone is not stale");
    assert!(f.iter().any(|x| x.code == Code::StaleRule && x.message.contains("zz_*")));

    // Graded by tier: stable flags_tightened is deny, waived here.
    let x = one(f, Code::Change, "kf_stable");
    assert_eq!((x.change, x.level, x.release.as_deref()), (Some(PolicyKind::FlagsTightened), Action::Deny, Some("6.13")));
    assert!(x.waived_by.as_deref().unwrap().contains("by maintainer"), "{x:?}");
    let x = one(f, Code::Change, "kf_proto");
    assert_eq!((x.change, x.level), (Some(PolicyKind::ProtoIncompatible), Action::Deny));
    assert!(x.waived_by.is_none(), "the waiver expired");
    let x = one(f, Code::Change, "kf_annot");
    assert_eq!((x.change, x.level), (Some(PolicyKind::ParamAnnotationChanged), Action::Deny));
    let x = one(f, Code::Change, "bpf_promo");
    assert_eq!((x.change, x.level, x.release.as_deref()), (Some(PolicyKind::Promoted), Action::Deny, Some("6.14")));
    let x = one(f, Code::Change, "kf_ok");
    assert_eq!((x.change, x.level, x.tier.as_deref()), (Some(PolicyKind::Removed), Action::Warn, Some("short")));

    let x = one(f, Code::RemovedWithoutDeprecation, "kf_gone");
    assert_eq!((x.level, x.release.as_deref()), (Action::Deny, Some("6.12")));
    let x = one(f, Code::RemovedWithoutDeprecation, "kf_rn");
    assert_eq!((x.change, x.level, x.release.as_deref()), (Some(PolicyKind::Renamed), Action::Deny, Some("6.13")));
    assert!(x.message.contains("kf_rn___v2"), "{}", x.message);
    let x = one(f, Code::RemovedBeforeWindow, "kf_early");
    assert!(x.message.contains("1 of 4 releases"), "{}", x.message);
    assert_eq!(x.level, Action::Deny);

    let x = one(f, Code::PresentAfterRemoval, "kf_late");
    assert_eq!(x.release.as_deref(), Some("6.13"));
    let x = one(f, Code::DeprecationIncomplete, "kf_dep_noreason");
    assert!(x.message.contains("replacement or reason"), "{}", x.message);
    assert_eq!(one(f, Code::ReplacementProblem, "kf_dep_missing").level, Action::Deny);
    let x = one(f, Code::ReplacementProblem, "kf_dep_weaker");
    assert_eq!(x.level, Action::Warn);
    assert!(x.message.contains("less stable"), "{}", x.message);

    let x = one(f, Code::NameReused, "kf_back");
    assert_eq!(x.release.as_deref(), Some("6.12"));
    let x = one(f, Code::SilentChange, "kf_deep");
    assert_eq!(x.release.as_deref(), Some("6.13"));
    assert!(find(f, Code::SilentChange, "kf_stable").is_empty(), "kf_stable's flags changed: not silent");

    let x = one(f, Code::FactsDisagree, "kf_stable");
    assert!(x.message.contains("first_release 6.11 (kernels: 6.10)"), "{}", x.message);
    assert!(x.fixable);

    assert!(f.iter().any(|x| x.code == Code::WaiverExpired && x.kfunc.as_deref() == Some("kf_proto")));
    assert!(f.iter().any(|x| x.code == Code::WaiverUnmatched && x.kfunc.as_deref() == Some("kf_nothing")));

    let c = counts(f);
    assert_eq!(c.waived, 1);
    let deny = f.iter().filter(|x| x.level == Action::Deny && x.waived_by.is_none()).count();
    assert_eq!(c.deny, deny);
    assert!(c.deny >= 7, "{c:?}");
}

#[test]
fn kf_bit_reused_with_another_meaning() {
    // Bit 4 is KF_TRUSTED_ARGS until 6.19, unnamed after.
    let ks = vec![
        kernel("6.18", &[kf("kf_x", &[("t", "task")], KF_TRUSTED_ARGS)], &[], 4),
        kernel("6.19", &[kf("kf_x", &[("t", "task")], KF_TRUSTED_ARGS)], &[], 4),
    ];
    let labels = labels(&ks);
    let m = Manifest::parse("schema = 1\n[kfunc.kf_x]\n", "m.toml").unwrap();
    let o = history::check(&m, &ks, &labels, &Default::default());
    let x = o.findings.iter().find(|x| x.code == Code::FlagBitReused).expect("P030");
    assert!(x.message.contains("bit 4 means KF_TRUSTED_ARGS in 6.18 and KF_BIT_4 in 6.19"), "{}", x.message);
}

#[test]
fn strict_parsing_names_file_line_column() {
    let err = |text: &str| Manifest::parse(text, "p.toml").unwrap_err().to_string();
    let e = err("schema = 1\nbogus = 2\n");
    assert!(e.contains("p.toml:2:1") && e.contains("bogus"), "{e}");
    let e = err("schema = 1\n[tier.stable]\nremoved = \"maybe\"\n");
    assert!(e.contains("p.toml:3:11"), "{e}");
    let e = err("schema = 1\n[kfunc.a]\n[[rule]]\nmatch = \"b[x]*\"\n");
    assert!(e.contains("p.toml:4:9") && e.contains("malformed glob"), "{e}");
    let e = err("schema = 1\n[kfunc.a]\n[[rule]]\nmatch = \"scx_*\"\n");
    assert!(e.contains("p.toml:4:9") && e.contains("selects no kfunc"), "{e}");
    let e = err("schema = 1\n[kfunc.a]\ntier = \"gold\"\n");
    assert!(e.contains("p.toml:3:8") && e.contains("unknown tier `gold`"), "{e}");
    let e = err("schema = 1\n[kfunc.a]\ndeprecated_since = \"soon\"\n");
    assert!(e.contains("p.toml:3:20"), "{e}");
    let e = err("schema = 2\n");
    assert!(e.contains("p.toml:1:10") && e.contains("schema = 1"), "{e}");
    let e = err("schema = 1\n[[waiver]]\nkfunc = \"a\"\nchange = \"gone\"\nrelease = \"6.1\"\nreason = \"r\"\napproved_by = \"x\"\n");
    assert!(e.contains("p.toml:4:10"), "{e}");
    let e = err("schema = 1\n[kfunc.a.facts]\nfirst = \"6.1\"\n");
    assert!(e.contains("p.toml:") && e.contains("first"), "{e}");
}

#[test]
fn extends_layers_a_distribution_over_upstream() {
    let dir = std::env::temp_dir().join(format!("bpfabi-policy-extends-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("upstream.toml"),
        "schema = 1\ndefault_tier = \"unstable\"\nignore = [\"t_*\"]\n[[rule]]\nmatch = \"scx_*\"\ntier = \"unstable\"\nowners = [\"sched_ext\"]\n[kfunc.scx_a]\n[kfunc.b]\ntier = \"stable\"\nreason = \"upstream\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("distro.toml"),
        "schema = 1\nextends = [\"upstream.toml\"]\n[tier.stable]\nwindow_releases = 8\n[kfunc.b]\nowners = [\"distro\"]\n[[rule]]\nmatch = \"scx_*\"\ntier = \"experimental\"\n",
    )
    .unwrap();
    let m = Manifest::load(&dir.join("distro.toml")).unwrap();
    assert_eq!(m.tier_name("scx_a"), "experimental", "the overlay's rule wins");
    assert_eq!(m.rules.len(), 2);
    assert!(m.ignored("t_x"));
    let b = &m.kfuncs["b"];
    assert_eq!(
        (b.decisions.tier.as_deref(), b.decisions.reason.as_deref(), b.decisions.owners.clone()),
        (Some("stable"), Some("upstream"), vec!["distro".to_string()])
    );
    assert_eq!(m.tiers["stable"].window_releases, 8);
    assert_eq!(m.tiers["stable"].window_months, 12, "the rest of the tier comes from below");
    std::fs::write(dir.join("bad.toml"), "schema = 1\nextends = [\"missing.toml\"]\n").unwrap();
    let e = Manifest::load(&dir.join("bad.toml")).unwrap_err().to_string();
    assert!(e.contains("bad.toml:2:12") && e.contains("missing.toml"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_then_check_is_clean_and_fix_keeps_decisions() {
    let ks = history_a();
    let labels = labels(&ks);
    let h = history::History::new(&ks, &labels);
    let facts = h.facts(&history::renames(&ks));
    assert_eq!(facts["kf_gone"].removed_in.as_deref(), Some("6.12"));
    assert_eq!(facts["kf_rn"].renamed_to.as_deref(), Some("kf_rn___v2"));
    assert_eq!(facts["bpf_promo"].became.as_deref(), Some("helper"));
    let v = &facts["kf_deep"].versions;
    assert_eq!((v.len(), v[0].to.as_str(), v[1].from.as_str()), (2, "6.12", "6.13"));
    let text = edit::init("unstable", &labels, &facts).unwrap();
    let m = Manifest::parse(&text, "init.toml").unwrap();
    assert_eq!(m.kfuncs.len(), facts.len());
    let o = history::check(&m, &ks, &labels, &Default::default());
    // Facts agree and record every fingerprint change; nothing unlisted.
    for c in [Code::FactsDisagree, Code::SilentChange, Code::Unlisted, Code::StaleEntry] {
        assert!(o.findings.iter().all(|x| x.code != c), "{}: {:?}", c.as_str(), o.findings);
    }
    // --fix: decisions and comments stay, facts are rewritten.
    let edited = text.replace(
        "[kfunc.kf_stable.facts]\nfirst_release = \"6.10\"",
        "[kfunc.kf_stable]\n# keep me\ntier = \"stable\"\n\n[kfunc.kf_stable.facts]\nfirst_release = \"6.12\"",
    );
    assert_ne!(edited, text);
    let m2 = Manifest::parse(&edited, "e.toml").unwrap();
    let o2 = history::check(&m2, &ks, &labels, &Default::default());
    assert!(o2.findings.iter().any(|x| x.code == Code::FactsDisagree), "the edit is seen");
    let fixed = edit::fix(&edited, "e.toml", &o2.facts, &[]).unwrap();
    assert!(fixed.contains("# keep me\ntier = \"stable\""), "{fixed}");
    let m3 = Manifest::parse(&fixed, "f.toml").unwrap();
    assert_eq!(m3.kfuncs["kf_stable"].decisions.tier.as_deref(), Some("stable"));
    let o3 = history::check(&m3, &ks, &labels, &Default::default());
    assert!(o3.findings.iter().all(|x| x.code != Code::FactsDisagree));
    let _: BTreeMap<(), ()> = BTreeMap::new();
}

/// The complete example of docs/policy.md parses (without its `extends`,
/// which names a file beside it) and means what the comments say.
#[test]
fn the_documented_example_parses() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/policy.md")).unwrap();
    let start = doc.find("```toml\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let example: String = doc[start..end].lines().filter(|l| !l.starts_with("extends")).map(|l| format!("{l}\n")).collect();
    let m = Manifest::parse(&example, "docs/policy.md").unwrap();
    assert_eq!(m.tier_name("scx_bpf_dispatch"), "unstable");
    assert_eq!(m.tier_name("scx_bpf_other"), "unstable");
    assert_eq!(m.tiers["vendor"].window_releases, 2);
    assert_eq!(m.tiers["stable"].action(PolicyKind::FlagsTightened), Action::Deny);
    let e = &m.kfuncs["scx_bpf_dispatch"];
    assert_eq!(e.decisions.replacement.as_deref(), Some("scx_bpf_dsq_insert"));
    assert_eq!(e.facts.removed_in.as_deref(), Some("6.17"));
    assert_eq!(m.waivers.len(), 1);
    assert_eq!(m.release_date("6.19"), Some(bpfabi::release::Date::new(2026, 2, 8)));
    assert!(m.ignored("bpf_kfunc_call_test1"));
}

/// A helper turned into a kfunc of the same name: the promotion breaks
/// programs calling the helper; graded by the tier.
#[test]
fn helper_promoted_to_kfunc() {
    let ks = vec![kernel("6.10", &[], &["map_lookup_elem", "rev"], 4), kernel("6.11", &[kf("bpf_rev", &[("a", "int")], 0)], &["map_lookup_elem"], 4)];
    let labels = labels(&ks);
    let m = Manifest::parse("schema = 1\n[kfunc.bpf_rev]\ntier = \"stable\"\n", "m.toml").unwrap();
    let o = history::check(&m, &ks, &labels, &Default::default());
    let x = one(&o.findings, Code::Change, "bpf_rev");
    assert_eq!((x.change, x.level, x.release.as_deref()), (Some(PolicyKind::Promoted), Action::Deny, Some("6.11")));
}
