//! Programs picked at run time: which programs of an object its user space
//! loads is decided when it runs, so an object's verdict is not simply the
//! worst of its programs'.
//!
//! - **autoload off** (`--autoload-off [OBJ:]GLOB`): the program is not
//!   judged at all, as libbpf does not load a program after
//!   `bpf_program__set_autoload(prog, false)` (libbpf.c
//!   `bpf_object_load_progs`: `if (!prog->autoload) continue`) and
//!   cilium/ebpf loads no program whose spec was deleted from
//!   `CollectionSpec.Programs` before `NewCollection`;
//! - **optional** (`--optional [OBJ:]GLOB`): the program is judged, but its
//!   failure does not fail the object (the user space tries it and goes on
//!   without it);
//! - **alternatives**, found in the object itself: programs of one object
//!   that hook the same kernel function (or tracepoint) by different
//!   mechanisms — `fentry`/`fexit` vs `kprobe`/`kretprobe` on `vfs_read`,
//!   `tp_btf` vs `raw_tp` vs `tracepoint` on `sched_switch` — are one
//!   group, each mechanism one variant. libbpf-tools keep one variant and
//!   switch the others off (`fentry_can_attach()` then
//!   `bpf_program__set_autoload(false)`, bcc libbpf-tools/trace_helpers.c);
//!   the group loads if one variant (all of its programs) loads.
//!
//! The object's verdict ([`object_verdicts`]) is the worst of its required
//! programs and, for each group, of its best variant; a group whose best
//! variant is better than its worst program records the choice ("loads if
//! one of {fentry_vfs_read, kprobe_vfs_read} is chosen").
//!
//! Not grouped: programs of one mechanism on different targets
//! (`account_page_dirtied` vs `folio_account_dirtied`): tcpconnect attaches
//! one body to `tcp_v4_connect` and `tcp_v6_connect` and needs both, so
//! identical code is no evidence of a choice; name such programs with
//! `--optional`. Nor are programs selected by a `.rodata` switch (that is
//! [`super::reach`]'s `depends_on_rodata`).

use super::{ProgramResult, Verdict};
use crate::object::{BpfObject, Program};
use crate::uapi::{AttachType, ProgType};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What the user says of the programs a glob matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pick {
    /// Judged; a failure does not fail the object.
    Optional,
    /// Not judged at all (not loaded).
    AutoloadOff,
}

/// One `--optional` / `--autoload-off` argument: `GLOB` (programs of every
/// object) or `OBJ:GLOB` (programs of the objects whose path or file name
/// matches `OBJ`). Globs take `*` (any run of characters) and `?` (one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickRule {
    object: Option<String>,
    program: String,
    pick: Pick,
}

impl PickRule {
    /// Parse `[OBJ:]GLOB` (program names never hold `:`, so the last `:`
    /// splits).
    pub fn parse(spec: &str, pick: Pick) -> Result<PickRule, String> {
        let (object, program) = match spec.rsplit_once(':') {
            Some((o, p)) => (Some(o), p),
            None => (None, spec),
        };
        if program.is_empty() || object.is_some_and(str::is_empty) {
            return Err(format!("`{spec}`: expected PROGRAM_GLOB or OBJECT_GLOB:PROGRAM_GLOB"));
        }
        Ok(PickRule { object: object.map(str::to_string), program: program.to_string(), pick })
    }

    fn matches(&self, object: &str, program: &str) -> bool {
        let file = object.rsplit('/').next().unwrap_or(object);
        glob(&self.program, program) && self.object.as_deref().is_none_or(|o| glob(o, object) || glob(o, file))
    }
}

/// The `--optional` and `--autoload-off` rules of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    rules: Vec<PickRule>,
}

impl Selection {
    /// Rules in any order (autoload off wins over optional).
    pub fn new(rules: Vec<PickRule>) -> Self {
        Selection { rules }
    }
    /// The rules of `--optional` and `--autoload-off` arguments; a rule
    /// that names no program of `objects` is an error (a misspelt glob
    /// would silently judge everything).
    pub fn parse(optional: &[String], autoload_off: &[String], objects: &[BpfObject]) -> Result<Selection, String> {
        let rules = optional.iter().map(|s| PickRule::parse(s, Pick::Optional)).chain(autoload_off.iter().map(|s| PickRule::parse(s, Pick::AutoloadOff)));
        let sel = Selection::new(rules.collect::<Result<Vec<_>, String>>()?);
        match sel.unmatched(objects).as_slice() {
            [] => Ok(sel),
            none => Err(format!("--optional/--autoload-off: no program of the objects matches {}", none.join(", "))),
        }
    }
    /// What the rules say of `program` of the object at `object`.
    pub fn pick(&self, object: &str, program: &str) -> Option<Pick> {
        self.rules.iter().filter(|r| r.matches(object, program)).map(|r| r.pick).max()
    }
    /// Rules that matched no program of `objects` (a misspelt glob).
    pub fn unmatched(&self, objects: &[BpfObject]) -> Vec<String> {
        self.unmatched_in(&objects.iter().map(|o| (o.path.as_str(), o.programs.as_slice())).collect::<Vec<_>>())
    }

    /// [`Selection::unmatched`] over `(path, programs)` pairs.
    fn unmatched_in(&self, objects: &[(&str, &[Program])]) -> Vec<String> {
        let spell = |r: &PickRule| match &r.object {
            Some(o) => format!("{o}:{}", r.program),
            None => r.program.clone(),
        };
        self.rules.iter().filter(|r| !objects.iter().any(|(path, programs)| programs.iter().any(|p| r.matches(path, &p.name)))).map(spell).collect()
    }
}

/// One `--retarget [OBJ:]PROG_GLOB=TARGET`: the program is judged on the
/// attach target its user space gives it before loading rather than the
/// one in its section name, as libbpf's `bpf_program__set_attach_target(prog,
/// 0, TARGET)` (libbpf.c: replaces `prog->attach_func_name` before the
/// load resolves it) or the function a kprobe's user space passes to
/// `bpf_program__attach_kprobe`. libbpf-tools retarget this way
/// (cachestat: `account_page_dirtied` to `folio_account_dirtied` or
/// `__folio_mark_dirty`), which the object cannot show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retarget {
    rule: PickRule,
    target: String,
}

impl Retarget {
    /// Parse `[OBJ:]GLOB=TARGET` (targets never hold `=`).
    pub fn parse(spec: &str) -> Result<Retarget, String> {
        let (sel, target) =
            spec.split_once('=').filter(|(_, t)| !t.is_empty()).ok_or_else(|| format!("`{spec}`: expected [OBJECT_GLOB:]PROGRAM_GLOB=TARGET"))?;
        Ok(Retarget { rule: PickRule::parse(sel, Pick::Optional)?, target: target.to_string() })
    }
}

/// Give the programs `rules` name their new attach target; a rule that
/// names no program of `objects` is an error (a misspelt glob would
/// silently judge the old target).
pub fn retarget(objects: &mut [BpfObject], rules: &[Retarget]) -> Result<(), String> {
    let mut unmatched = Vec::new();
    for r in rules {
        let mut hit = false;
        for o in objects.iter_mut() {
            let path = o.path.clone();
            for p in o.programs.iter_mut().filter(|p| r.rule.matches(&path, &p.name)) {
                p.attach_target = Some(r.target.clone());
                hit = true;
            }
        }
        if !hit {
            unmatched.push(match &r.rule.object {
                Some(o) => format!("{o}:{}", r.rule.program),
                None => r.rule.program.clone(),
            });
        }
    }
    match unmatched.as_slice() {
        [] => Ok(()),
        none => Err(format!("--retarget: no program of the objects matches {}", none.join(", "))),
    }
}

/// `*` and `?` globbing ([`crate::report::matches_pattern`]); a name
/// without either must match whole (`tcp_v4_connect` is not
/// `tcp_v4_connect_ret`).
fn glob(pattern: &str, text: &str) -> bool {
    if pattern.contains(['*', '?']) {
        crate::report::matches_pattern(pattern, text)
    } else {
        pattern == text
    }
}

/// How a program reaches its hook point: the variants of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// BPF trampoline: `fentry`, `fexit`, `fmod_ret` (BTF of the function).
    Trampoline,
    /// `kprobe`, `kretprobe` (the function's symbol).
    Kprobe,
    /// `tp_btf` (BTF-typed raw tracepoint).
    TpBtf,
    /// `raw_tp` / `raw_tracepoint`.
    RawTp,
    /// `tracepoint` / `tp` (perf event tracepoint).
    Tracepoint,
}

impl Mechanism {
    /// As in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Trampoline => "fentry/fexit",
            Mechanism::Kprobe => "kprobe/kretprobe",
            Mechanism::TpBtf => "tp_btf",
            Mechanism::RawTp => "raw_tp",
            Mechanism::Tracepoint => "tracepoint",
        }
    }
}

/// A program's place in its object's selection (in `check --json`,
/// `"role"`; absent for required programs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Its verdict counts for the object's.
    #[default]
    Required,
    /// `--optional`: judged, never fails the object.
    Optional,
    /// One variant of an alternative group.
    Alternative {
        /// What the group hooks: `function vfs_read`, `tracepoint sched_switch`.
        hook: String,
        /// This program's variant.
        mechanism: Mechanism,
    },
}

impl Role {
    /// Required (the default, not serialised).
    pub fn is_required(&self) -> bool {
        *self == Role::Required
    }
}

/// The hook point and mechanism of a program, if it can have alternatives:
/// function hooks by trampoline or kprobe (not uprobes, syscall or
/// multi-kprobes, whose targets are no single kernel function), tracepoints
/// by `tp_btf`, `raw_tp` or `tracepoint`. Kinds as libbpf's `section_defs`
/// (libbpf.c) give them.
pub fn hook(p: &Program) -> Option<(String, Mechanism)> {
    let kind = p.section.split('/').next().unwrap_or("");
    let target = p.attach_target.as_deref().filter(|t| !t.is_empty())?;
    let function = |m| Some((format!("function {}", target.split('+').next().unwrap_or(target)), m));
    let tracepoint = |m| Some((format!("tracepoint {}", target.rsplit('/').next().unwrap_or(target)), m));
    match (p.prog_type?, p.expected_attach) {
        (ProgType::Tracing, Some(AttachType::TraceFentry | AttachType::TraceFexit | AttachType::ModifyReturn)) => function(Mechanism::Trampoline),
        (ProgType::Tracing, Some(AttachType::TraceRawTp)) => tracepoint(Mechanism::TpBtf),
        (ProgType::Kprobe, None) if kind == "kprobe" || kind == "kretprobe" => function(Mechanism::Kprobe),
        (ProgType::RawTracepoint, _) => tracepoint(Mechanism::RawTp),
        (ProgType::Tracepoint, _) => tracepoint(Mechanism::Tracepoint),
        _ => None,
    }
}

/// The role of every program of the object at `path` (by index), autoload-off programs
/// `None`: the selection first, then groups among the rest (a hook with
/// programs of two or more mechanisms).
pub fn roles(path: &str, programs: &[Program], sel: &Selection) -> Vec<Option<Role>> {
    let picks: Vec<Option<Pick>> = programs.iter().map(|p| sel.pick(path, &p.name)).collect();
    let hooks: Vec<Option<(String, Mechanism)>> = programs.iter().zip(&picks).map(|(p, k)| if k.is_none() { hook(p) } else { None }).collect();
    let mut mechanisms: BTreeMap<&str, Vec<Mechanism>> = BTreeMap::new();
    for (h, m) in hooks.iter().flatten() {
        let ms = mechanisms.entry(h.as_str()).or_default();
        if !ms.contains(m) {
            ms.push(*m);
        }
    }
    picks
        .iter()
        .zip(&hooks)
        .map(|(pick, h)| match (pick, h) {
            (Some(Pick::AutoloadOff), _) => None,
            (Some(Pick::Optional), _) => Some(Role::Optional),
            (None, Some((hook, m))) if mechanisms.get(hook.as_str()).is_some_and(|ms| ms.len() > 1) => {
                Some(Role::Alternative { hook: hook.clone(), mechanism: *m })
            }
            _ => Some(Role::Required),
        })
        .collect()
}

/// One group's outcome on one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupOutcome {
    /// What the group hooks.
    pub hook: String,
    /// The variants: mechanism, programs, verdict (worst of its programs).
    pub variants: Vec<Variant>,
    /// The best variant's verdict: the group's.
    pub verdict: Verdict,
}

/// One variant of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// How it hooks.
    pub mechanism: Mechanism,
    /// Its programs (all load together).
    pub programs: Vec<String>,
    /// Worst verdict of its programs.
    pub verdict: Verdict,
}

impl GroupOutcome {
    /// The choice matters: a variant is worse than the group.
    pub fn is_choice(&self) -> bool {
        self.variants.iter().any(|v| v.verdict > self.verdict)
    }
    /// The variants with the group's verdict, as `{a, b}` program lists
    /// joined with `+` when a variant has several programs.
    pub fn chosen(&self) -> Vec<String> {
        self.variants.iter().filter(|v| v.verdict == self.verdict).map(|v| v.programs.join("+")).collect()
    }
}

/// The verdict of one object on one kernel once its selection is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectVerdict {
    /// Object path.
    pub object: String,
    /// Kernel label.
    pub kernel: String,
    /// Worst of the required programs and of each group's best variant.
    pub verdict: Verdict,
    /// Programs judged.
    pub programs: usize,
    /// Programs judged `fails` (optional and alternatives included).
    pub failing: usize,
    /// Groups where the choice matters, each naming the variants that give
    /// the object its verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<GroupOutcome>,
    /// Optional programs that fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub optional_failing: Vec<String>,
}

impl ObjectVerdict {
    /// `loads if one of {fentry_vfs_read, kprobe_vfs_read} is chosen; ...`,
    /// empty when no choice matters.
    pub fn condition(&self) -> String {
        let mut parts: Vec<String> = self
            .choices
            .iter()
            .map(|g| {
                let names = |keep: &dyn Fn(&Variant) -> bool| g.variants.iter().filter(|v| keep(v)).map(|v| v.programs.join("+")).collect::<Vec<_>>();
                let (chosen, others) = (names(&|v| v.verdict == g.verdict), names(&|v| v.verdict != g.verdict));
                match chosen.as_slice() {
                    [one] => format!("{one} (not {})", others.join(", ")),
                    _ => format!("one of {{{}}} (not {})", chosen.join(", "), others.join(", ")),
                }
            })
            .collect();
        let mut out = Vec::new();
        match parts.len() {
            0 => {}
            1 => out.push(format!("{} if {} is chosen", self.verdict.as_str(), parts.join(""))),
            n => {
                if n > 3 {
                    parts.truncate(2);
                    parts.push(format!("{} more groups", n - 2));
                }
                out.push(format!("{} if these are chosen: {}", self.verdict.as_str(), parts.join("; ")));
            }
        }
        if !self.optional_failing.is_empty() {
            out.push(format!("without optional {}", self.optional_failing.join(", ")));
        }
        out.join("; ")
    }
}

impl fmt::Display for ObjectVerdict {
    /// The table cell: `loads`, `fails (2/5)`, `loads (1 choice)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut notes = Vec::new();
        match self.choices.len() {
            0 => {}
            1 => notes.push("1 choice".to_string()),
            n => notes.push(format!("{n} choices")),
        }
        if !self.optional_failing.is_empty() {
            notes.push(format!("{} optional fail", self.optional_failing.len()));
        }
        match (self.verdict, notes.is_empty()) {
            (Verdict::Fails, _) => write!(f, "fails ({}/{})", self.failing, self.programs),
            (v, true) => f.write_str(v.as_str()),
            (v, false) => write!(f, "{} ({})", v.as_str(), notes.join(", ")),
        }
    }
}

/// Object verdicts of `results` (one per object × kernel, in the order of
/// the results), from their roles and verdicts.
pub fn object_verdicts(results: &[ProgramResult]) -> Vec<ObjectVerdict> {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut by: BTreeMap<(&str, &str), Vec<&ProgramResult>> = BTreeMap::new();
    for r in results {
        let key = (r.object.as_str(), r.kernel.as_str());
        let e = by.entry(key).or_default();
        if e.is_empty() {
            order.push(key);
        }
        e.push(r);
    }
    order
        .into_iter()
        .map(|key| {
            let rs = by.remove(&key).unwrap_or_default();
            decide(key.0, key.1, rs.iter().map(|r| (r.program.as_str(), &r.role, r.verdict)))
        })
        .collect()
}

/// The object verdict from `(program, role, verdict)` triples: predicted
/// ones, or real loads (`loads`/`fails`).
pub fn decide<'a>(object: &str, kernel: &str, programs: impl Iterator<Item = (&'a str, &'a Role, Verdict)>) -> ObjectVerdict {
    let mut required = Verdict::Loads;
    let (mut n, mut failing) = (0, 0);
    let mut optional_failing = Vec::new();
    let mut groups: BTreeMap<&str, BTreeMap<Mechanism, (Vec<String>, Verdict)>> = BTreeMap::new();
    for (program, role, verdict) in programs {
        n += 1;
        failing += usize::from(verdict == Verdict::Fails);
        match role {
            Role::Required => required = required.max(verdict),
            Role::Optional if verdict == Verdict::Fails => optional_failing.push(program.to_string()),
            Role::Optional => {}
            Role::Alternative { hook, mechanism } => {
                let v = groups.entry(hook.as_str()).or_default().entry(*mechanism).or_insert((Vec::new(), Verdict::Loads));
                v.0.push(program.to_string());
                v.1 = v.1.max(verdict);
            }
        }
    }
    let mut verdict = required;
    let mut choices = Vec::new();
    for (hook, variants) in groups {
        let variants: Vec<Variant> = variants.into_iter().map(|(mechanism, (programs, verdict))| Variant { mechanism, programs, verdict }).collect();
        let best = variants.iter().map(|v| v.verdict).min().unwrap_or(Verdict::Loads);
        verdict = verdict.max(best);
        let g = GroupOutcome { hook: hook.to_string(), variants, verdict: best };
        if g.is_choice() {
            choices.push(g);
        }
    }
    ObjectVerdict { object: object.to_string(), kernel: kernel.to_string(), verdict, programs: n, failing, choices, optional_failing }
}

/// Exit status of `check`: 1 when an object fails once its selection is
/// applied.
pub fn any_object_fails(results: &[ProgramResult]) -> bool {
    object_verdicts(results).iter().any(|o| o.verdict == Verdict::Fails)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(name: &str, section: &str, t: ProgType, a: Option<AttachType>, target: &str) -> Program {
        Program { name: name.into(), section: section.into(), prog_type: Some(t), expected_attach: a, attach_target: Some(target.into()), ..Program::default() }
    }

    struct Obj {
        path: String,
        programs: Vec<Program>,
    }

    fn obj(programs: Vec<Program>) -> Obj {
        Obj { path: "dir/vfsstat.bpf.o".into(), programs }
    }

    fn roles_of(o: &Obj, sel: &Selection) -> Vec<Option<Role>> {
        roles(&o.path, &o.programs, sel)
    }

    fn vfsstat_like() -> Obj {
        obj(vec![
            prog("fentry_vfs_read", "fentry/vfs_read", ProgType::Tracing, Some(AttachType::TraceFentry), "vfs_read"),
            prog("kprobe_vfs_read", "kprobe/vfs_read", ProgType::Kprobe, None, "vfs_read"),
            prog("fexit_trylock", "fexit/mutex_trylock", ProgType::Tracing, Some(AttachType::TraceFexit), "mutex_trylock"),
            prog("kprobe_trylock", "kprobe/mutex_trylock", ProgType::Kprobe, None, "mutex_trylock"),
            prog("kprobe_trylock_exit", "kretprobe/mutex_trylock", ProgType::Kprobe, None, "mutex_trylock"),
            prog("tp_switch", "tp_btf/sched_switch", ProgType::Tracing, Some(AttachType::TraceRawTp), "sched_switch"),
            prog("raw_switch", "raw_tp/sched_switch", ProgType::RawTracepoint, None, "sched_switch"),
            prog("tp_wakeup", "tracepoint/sched/sched_wakeup", ProgType::Tracepoint, None, "sched/sched_wakeup"),
            prog("entry_only", "kprobe/do_exit", ProgType::Kprobe, None, "do_exit"),
            prog("uprobe", "uprobe/libc.so.6:malloc", ProgType::Kprobe, None, "libc.so.6:malloc"),
        ])
    }

    fn result(o: &Obj, role: &Option<Role>, p: &Program, verdict: Verdict) -> Option<ProgramResult> {
        Some(ProgramResult {
            object: o.path.clone(),
            program: p.name.clone(),
            section: p.section.clone(),
            kernel: "k".into(),
            loader: Default::default(),
            verdict,
            reasons: Vec::new(),
            satisfied: Vec::new(),
            core_btf: None,
            role: role.clone()?,
            not_checked: Vec::new(),
        })
    }

    #[test]
    fn globs() {
        assert!(glob("kprobe_*", "kprobe_vfs_read"));
        assert!(glob("*_vfs_*", "fentry_vfs_read"));
        assert!(glob("a?c", "abc") && !glob("a?c", "abbc"));
        assert!(glob("*", "") && !glob("?", ""));
        assert!(glob("a*b*c", "axxbyybzc") && !glob("a*b*c", "axxbyyb"));
        assert!(!glob("fentry_*", "kprobe_vfs_read"));
        assert!(!glob("tcp_v4_connect", "tcp_v4_connect_ret"), "no substring match");
    }

    #[test]
    fn rules_parse_and_match() {
        let o = vfsstat_like();
        let r = PickRule::parse("vfsstat*.o:fentry_*", Pick::AutoloadOff).unwrap();
        assert!(r.matches("dir/vfsstat.bpf.o", "fentry_vfs_read"));
        assert!(!r.matches("dir/biosnoop.bpf.o", "fentry_vfs_read"));
        assert!(PickRule::parse("kprobe_*", Pick::Optional).unwrap().matches("any.o", "kprobe_x"));
        assert!(PickRule::parse(":x", Pick::Optional).is_err());
        assert!(PickRule::parse("obj.o:", Pick::Optional).is_err());
        let sel = Selection::new(vec![PickRule::parse("*", Pick::Optional).unwrap(), PickRule::parse("a", Pick::AutoloadOff).unwrap()]);
        assert_eq!(sel.pick("o", "a"), Some(Pick::AutoloadOff), "autoload off wins");
        assert_eq!(sel.pick("o", "b"), Some(Pick::Optional));
        assert_eq!(sel.unmatched_in(&[(o.path.as_str(), o.programs.as_slice())]), vec!["a".to_string()], "`*` matches, `a` names no program");
        let typo = Selection::new(vec![PickRule::parse("fentry_vfs_raed", Pick::Optional).unwrap()]);
        assert_eq!(typo.unmatched_in(&[(o.path.as_str(), o.programs.as_slice())]), vec!["fentry_vfs_raed".to_string()]);
    }

    #[test]
    fn groups_by_hook_across_mechanisms() {
        let o = vfsstat_like();
        let roles = roles_of(&o, &Selection::default());
        let alt = |h: &str, m| Some(Role::Alternative { hook: h.into(), mechanism: m });
        assert_eq!(roles[0], alt("function vfs_read", Mechanism::Trampoline));
        assert_eq!(roles[1], alt("function vfs_read", Mechanism::Kprobe));
        assert_eq!(roles[4], alt("function mutex_trylock", Mechanism::Kprobe), "kretprobe joins the kprobe variant");
        assert_eq!(roles[5], alt("tracepoint sched_switch", Mechanism::TpBtf));
        assert_eq!(roles[6], alt("tracepoint sched_switch", Mechanism::RawTp));
        assert_eq!(roles[7], Some(Role::Required), "a tracepoint with one mechanism is no group");
        assert_eq!(roles[8], Some(Role::Required));
        assert_eq!(roles[9], Some(Role::Required), "uprobes are not kernel functions");
    }

    #[test]
    fn entry_and_exit_of_one_mechanism_are_not_alternatives() {
        let o = obj(vec![
            prog("enter", "kprobe/tcp_connect", ProgType::Kprobe, None, "tcp_connect"),
            prog("leave", "kretprobe/tcp_connect", ProgType::Kprobe, None, "tcp_connect"),
        ]);
        assert_eq!(roles_of(&o, &Selection::default()), vec![Some(Role::Required), Some(Role::Required)]);
    }

    #[test]
    fn selection_overrides_groups() {
        let o = vfsstat_like();
        let sel = Selection::new(vec![PickRule::parse("fentry_*", Pick::AutoloadOff).unwrap(), PickRule::parse("*:entry_only", Pick::Optional).unwrap()]);
        let roles = roles_of(&o, &sel);
        assert_eq!(roles[0], None);
        assert_eq!(roles[1], Some(Role::Required), "the group lost its other variant");
        assert_eq!(roles[8], Some(Role::Optional));
    }

    #[test]
    fn object_verdict_takes_the_best_variant() {
        let o = vfsstat_like();
        let roles = roles_of(&o, &Selection::default());
        // fentry refused everywhere (a kernel without trampolines), the rest loads.
        let verdict = |p: &Program| if p.section.starts_with("fentry") || p.section.starts_with("fexit") { Verdict::Fails } else { Verdict::Loads };
        let results: Vec<ProgramResult> = o.programs.iter().zip(&roles).filter_map(|(p, r)| result(&o, r, p, verdict(p))).collect();
        let v = object_verdicts(&results);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].verdict, Verdict::Loads);
        assert_eq!((v[0].failing, v[0].programs), (2, 10));
        assert_eq!(v[0].choices.len(), 2);
        assert_eq!(v[0].choices[0].chosen(), vec!["kprobe_trylock+kprobe_trylock_exit".to_string()]);
        assert_eq!(v[0].to_string(), "loads (2 choices)");
        assert_eq!(
            v[0].condition(),
            "loads if these are chosen: kprobe_trylock+kprobe_trylock_exit (not fexit_trylock); kprobe_vfs_read (not fentry_vfs_read)"
        );
        assert!(!any_object_fails(&results));
        // Both variants of a group fail: the object fails.
        let results: Vec<ProgramResult> = o
            .programs
            .iter()
            .zip(&roles)
            .filter_map(|(p, r)| result(&o, r, p, if p.name.contains("vfs_read") { Verdict::Fails } else { Verdict::Loads }))
            .collect();
        let v = object_verdicts(&results);
        assert_eq!(v[0].verdict, Verdict::Fails);
        assert_eq!(v[0].to_string(), "fails (2/10)");
        assert!(any_object_fails(&results));
        // A required program failing fails it whatever the groups do.
        let results: Vec<ProgramResult> =
            o.programs.iter().zip(&roles).filter_map(|(p, r)| result(&o, r, p, if p.name == "entry_only" { Verdict::Fails } else { Verdict::Loads })).collect();
        assert_eq!(object_verdicts(&results)[0].verdict, Verdict::Fails);
    }

    #[test]
    fn optional_failures_do_not_fail_the_object() {
        let o = vfsstat_like();
        let sel = Selection::new(vec![PickRule::parse("entry_only", Pick::Optional).unwrap()]);
        let roles = roles_of(&o, &sel);
        let results: Vec<ProgramResult> =
            o.programs.iter().zip(&roles).filter_map(|(p, r)| result(&o, r, p, if p.name == "entry_only" { Verdict::Fails } else { Verdict::Loads })).collect();
        let v = &object_verdicts(&results)[0];
        assert_eq!(v.verdict, Verdict::Loads);
        assert_eq!(v.optional_failing, vec!["entry_only".to_string()]);
        assert_eq!(v.to_string(), "loads (1 optional fail)");
        assert_eq!(v.condition(), "without optional entry_only");
    }
}
