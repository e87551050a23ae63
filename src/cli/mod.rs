//! The command line of the `bpfabi` binary (clap stays here, out of the
//! library): one file per command, holding its arguments and the wiring
//! from them to library calls and printers; [`common`] holds what every
//! command shares. [`Cmd`] lists the commands (its doc comments are their
//! `--help`), [`FORMATS`] the formats each one writes.

pub mod btf;
pub mod catalog;
pub mod census;
pub mod check;
pub mod common;
pub mod completions;
pub mod diff;
pub mod inspect;
pub mod kernels;
pub mod lint;
pub mod policy;
pub mod probe;
pub mod report;
pub mod surface;
pub mod versions;
pub mod vmtest;

use bpfabi::report::{Format, Render};
use clap::{Parser, Subcommand, ValueEnum};
use common::FormatArg;

#[derive(Parser)]
#[command(name = "bpfabi", version = bpfabi::VERSION, about = "The BPF <-> kernel interface, visible, comparable and enforceable")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

// Deferred: a command's arguments are built only when it runs or its help
// is shown (clap's `Command::defer`), not every command's at each start.
#[derive(Subcommand)]
#[command(defer = true)]
pub enum Cmd {
    /// List the BPF ABI a kernel offers: helpers and kfuncs with prototypes and flags.
    ///
    /// INPUT is any mix of: raw BTF (`vmlinux.btf`, `/sys/kernel/btf/vmlinux`),
    /// module BTF (`/sys/kernel/btf/<module>`, `modules/*.btf`), a vmlinux ELF,
    /// a compressed kernel image (bzImage/vmlinuz), kernel modules (`.ko`,
    /// `.ko.xz`, `.ko.zst`, `.ko.gz`), a Debian kernel package (`.deb`), or a
    /// directory holding `vmlinux.btf` and `modules/*.btf`. All inputs describe
    /// one kernel. With no INPUT: the running kernel.
    Surface(surface::SurfaceArgs),
    /// Fingerprint ("symbol version") of every kfunc, and of named types.
    ///
    /// The prototype fingerprint covers return and parameter types, parameter
    /// names and KF_* flags; the deep one adds the layout of every type
    /// reachable from the prototype. See docs/fingerprints.md.
    Versions(versions::VersionsArgs),
    /// What changed in the BPF ABI between two kernels, classified breaking /
    /// compatible / info. Exit 0: nothing breaking, 1: something breaking.
    ///
    /// OLD and NEW take any input `surface` accepts (a corpus-style directory
    /// or a .deb brings the modules along); --old-input / --new-input add
    /// more (e.g. module files).
    Diff(diff::DiffArgs),
    /// What BPF objects need from a kernel: programs, helpers, kfuncs, CO-RE
    /// relocations, attach targets, maps. OBJ may be a .bpf.o or an
    /// executable embedding BPF objects (libbpf skeletons).
    Inspect(inspect::InspectArgs),
    /// Will these BPF objects load on these kernels? Exit 0: everything loads
    /// everywhere, 1: some program fails on some kernel.
    Check(check::CheckArgs),
    /// BTF health of a kernel build (for distribution and kernel
    /// maintainers): findings with stable codes (docs/lint.md). Exit 0: no
    /// error or warning, 1: findings, 2: input error.
    Lint(lint::LintArgs),
    /// Which helpers and kfuncs the running kernel's verifier allows, per
    /// program type (and attach type, sleepability, struct_ops type), decided
    /// by loading tiny programs. Needs root. Leaves nothing loaded.
    Probe(probe::ProbeArgs),
    /// Debian kernels by name: list the cache, resolve (and fetch) names.
    ///
    /// NAME is debian:<suite>[/<arch>][:<flavour>] (debian:bookworm,
    /// debian:trixie/arm64:cloud) or debian:<release> (debian:6.1.0-56-amd64);
    /// such names are accepted wherever a kernel input is. Packages come
    /// through apt with a private configuration in the cache
    /// ($XDG_CACHE_HOME/bpfabi/debian). See docs/kernels.md.
    Kernels(kernels::KernelsArgs),
    /// Load every program of every object for real, in a kernel booted under
    /// QEMU (this binary is the VM's /init; libbpf 1.7 loads one program at
    /// a time). Exit 0: everything loaded (with --compare: prediction and
    /// reality agree everywhere), 1: otherwise. See docs/vmtest.md.
    Vmtest(vmtest::VmtestArgs),
    /// The built-in catalog of reduced Debian kernels (what `debian:` names
    /// fall back to offline): list it, or add kernels to a catalog directory.
    #[command(subcommand)]
    Catalog(catalog::CatalogCmd),
    /// Usage census of real BPF programs: which kfuncs, helpers, kernel types
    /// and fields, program types and attach targets objects need, by
    /// distinct objects and projects; `census impact` and `census suggest`
    /// join it with kernels.
    ///
    /// PATH is any mix of: BPF objects, executables and shared libraries
    /// embedding them, Debian packages (`.deb`, streamed), directories
    /// (walked), and `-` (a list of paths on stdin). Objects are
    /// deduplicated by SHA-256.
    Census(census::CensusArgs),
    /// Static site and Markdown summary from a census and kernels (release order).
    Report(report::ReportArgs),
    /// Stability policy: a manifest of kfunc tiers, deprecations and facts
    /// (docs/policy.md), checked over kernel history.
    #[command(subcommand)]
    Policy(policy::PolicyCmd),
    /// A kernel's BTF as a C header (`vmlinux.h`) or as raw BTF.
    #[command(subcommand)]
    Btf(btf::BtfCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `bpfabi man | man -l -`.
    Man,
}

/// The formats each command writes: what its `--help` lists, what
/// `--format` accepts there (checked by clap) and what [`common::OutputArgs::format`]
/// allows. Keyed by the command path (`census impact`).
pub const FORMATS: &[(&str, &[Format])] = &[
    ("surface", bpfabi::app::kernel::SurfaceReport::FORMATS),
    ("versions", bpfabi::app::kernel::VersionsReport::FORMATS),
    ("diff", bpfabi::app::kernel::DiffReport::FORMATS),
    ("inspect", bpfabi::app::inspect::InspectReport::FORMATS),
    ("check", bpfabi::app::check::CheckReport::FORMATS),
    ("lint", bpfabi::app::kernel::LintReport::FORMATS),
    ("probe", bpfabi::app::kernel::ProbeReport::FORMATS),
    ("kernels", bpfabi::app::kernels::KernelsReport::FORMATS),
    ("vmtest", bpfabi::app::vmtest::VmtestReport::FORMATS),
    ("catalog list", bpfabi::app::kernel::CatalogList::FORMATS),
    ("census", bpfabi::app::census::CensusReport::FORMATS),
    ("census impact", bpfabi::census::impact::Impact::FORMATS),
    ("census suggest", bpfabi::app::census::Fragment::FORMATS),
    ("report", bpfabi::app::census::Site::FORMATS),
    ("policy check", bpfabi::app::policy::PolicyCheckReport::FORMATS),
    ("policy suggest", bpfabi::app::census::Fragment::FORMATS),
];

/// Narrows a command's `--format` to the formats it writes ([`FORMATS`],
/// keyed by the command path): what its `--help` lists and clap accepts;
/// `--json` is hidden where JSON is not one. Used as
/// `#[command(formats = "census impact")]` on the command's variant, so it
/// runs inside the deferred build of that command only.
pub(crate) trait NarrowFormats {
    fn formats(self, path: &str) -> Self;
}

impl NarrowFormats for clap::Command {
    fn formats(self, path: &str) -> Self {
        use clap::builder::{PossibleValuesParser, TypedValueParser};
        let Some(&(_, formats)) = FORMATS.iter().find(|(p, _)| *p == path) else { return self };
        let names: Vec<&'static str> = formats.iter().map(|f| f.as_str()).collect();
        let parser = PossibleValuesParser::new(names).try_map(|v: String| FormatArg::from_str(&v, false));
        let c = self.mut_arg("format", |a| a.value_parser(parser));
        if formats.contains(&Format::Json) {
            c
        } else {
            c.mut_arg("json", |a| a.hide(true))
        }
    }
}

/// The command line definition, every command built (for the manual page
/// and completion scripts).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut c = Cli::command();
    c.build();
    complete_help_tree(c)
}

/// clap (4.6, `Command::_check_help_and_version`) copies the command tree
/// under `help` when it builds the top command, before a deferred command
/// has added its subcommands (`census impact`, `census suggest` come with
/// `census`'s own arguments): the copy of such a command has none, so
/// completion scripts offered nothing after `bpfabi help census`. Graft
/// them in from the built tree (name, about and the name completion
/// scripts key on).
fn complete_help_tree(c: clap::Command) -> clap::Command {
    let missing: Vec<(String, Vec<clap::Command>)> = c
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .filter(|s| c.find_subcommand("help").and_then(|h| h.find_subcommand(s.get_name())).is_some_and(|h| !h.has_subcommands()))
        .map(|s| {
            let kids = s
                .get_subcommands()
                .filter(|k| k.get_name() != "help")
                .map(|k| {
                    let copy = clap::Command::new(k.get_name().to_string()).hide(k.is_hide_set()).bin_name(format!(
                        "{} help {} {}",
                        c.get_name(),
                        s.get_name(),
                        k.get_name()
                    ));
                    match k.get_about() {
                        Some(a) => copy.about(a.clone()),
                        None => copy,
                    }
                })
                .collect();
            (s.get_name().to_string(), kids)
        })
        .filter(|(_, kids): &(String, Vec<clap::Command>)| !kids.is_empty())
        .collect();
    if missing.is_empty() {
        return c;
    }
    c.mut_subcommand("help", |mut h| {
        for (name, kids) in missing {
            h = h.mut_subcommand(name, |n| n.subcommands(kids));
        }
        h
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command path of [`FORMATS`] gets its formats, and only those,
    /// as `--format`'s possible values once its deferred arguments are
    /// built (`NarrowFormats` runs inside them); `--json` is hidden where
    /// JSON is not one of them.
    #[test]
    fn each_command_lists_exactly_its_formats() {
        let c = command();
        for (path, formats) in FORMATS {
            let mut sc = &c;
            for name in path.split(' ') {
                sc = sc.find_subcommand(name).unwrap_or_else(|| panic!("no command {path}"));
            }
            let arg = sc.get_arguments().find(|a| a.get_id() == "format").unwrap_or_else(|| panic!("{path}: no --format"));
            let listed: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
            let want: Vec<String> = formats.iter().map(|f| f.as_str().to_string()).collect();
            assert_eq!(listed, want, "{path}");
            let json = sc.get_arguments().find(|a| a.get_id() == "json").unwrap_or_else(|| panic!("{path}: no --json"));
            assert_eq!(json.is_hide_set(), !formats.contains(&Format::Json), "{path}");
        }
    }

    /// `help` offers every command's subcommands, deferred ones included,
    /// in the tree and in a completion script.
    #[test]
    fn help_mirrors_every_commands_subcommands() {
        let c = command();
        let help = c.find_subcommand("help").expect("help");
        let names = |s: &clap::Command| s.get_subcommands().map(|k| k.get_name().to_string()).filter(|n| n != "help").collect::<Vec<_>>();
        let mut nested = 0;
        for s in c.get_subcommands().filter(|s| s.get_name() != "help") {
            let copy = help.find_subcommand(s.get_name()).unwrap_or_else(|| panic!("help {}", s.get_name()));
            assert_eq!(names(copy), names(s), "help {}", s.get_name());
            nested += !names(s).is_empty() as usize;
        }
        assert!(nested >= 4, "catalog, census, policy, btf have subcommands");
        let mut script = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut command(), "bpfabi", &mut script);
        let script = String::from_utf8(script).expect("utf-8");
        let case = script.split("bpfabi__subcmd__help__subcmd__census)").nth(1).expect("a case for help census");
        let opts = case.lines().nth(1).unwrap_or_default();
        assert!(opts.contains("impact suggest"), "{opts}");
    }
}
