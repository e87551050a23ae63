//! Checking BPF objects where they are built (docs/integration.md): one
//! configuration — target kernels, stability manifest, loader, strictness —
//! read from a crate's `[package.metadata.bpfabi]` or a project's
//! `.bpfabi.toml`, and one run that checks objects against it and returns
//! compiler-style [`Diagnostic`]s. Cargo build scripts ([`cargo`], feature
//! `build-script`), `check --config` (Go generate, Make, CMake, pre-commit,
//! CI) all go through [`check`].
//!
//! ```toml
//! # Cargo.toml ([package.metadata.bpfabi]) or .bpfabi.toml (top level)
//! kernels = ["debian:bookworm", "debian:trixie"]  # default: the running kernel
//! manifest = "bpfabi-policy.toml"  # relative to the file; default: bpfabi-policy.toml beside it, if any
//! loader = "libbpf"                # libbpf (default)
//! deny_deprecated = false          # uses of deprecated kfuncs are errors
//! fail_on = "deny"                 # deny | error | never: what fails the build
//! ```

#[cfg(feature = "build-script")]
pub mod cargo;

use crate::app::{self, check::CheckSpec, check::Extra};
use crate::check::{ProgramResult, Verdict};
use crate::diagnostics::{self, Diagnostic};
use crate::error::{Error, ErrorKind, Result};
use crate::loader::LoaderChoice;
use crate::policy::manifest::Action;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The manifest taken when a configuration names none and this file sits
/// beside it (the pre-commit hook's and the CI action's default).
pub const DEFAULT_MANIFEST: &str = "bpfabi-policy.toml";

/// The project configuration file `check --config` and the pre-commit
/// hook look for at the repository root.
pub const CONFIG_FILE: &str = ".bpfabi.toml";

/// Whose rules decide whether a program loads: any spelling `check
/// --loader` takes (`libbpf`, `libbpf:0.8`, `cilium`, `cilium:0.11`, `aya`,
/// `auto`; docs/loaders.md). Default: libbpf 1.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loader(pub LoaderChoice);

impl Default for Loader {
    fn default() -> Self {
        Loader(LoaderChoice::Fixed(crate::loader::Loader::default()))
    }
}

impl<'de> Deserialize<'de> for Loader {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<LoaderChoice>().map(Loader).map_err(serde::de::Error::custom)
    }
}

/// What makes [`Outcome::failed`] true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// A `deny` policy finding: a use of a kfunc removed in a target
    /// kernel (P101), or any unguarded deprecated use with `deny_deprecated`.
    #[default]
    Deny,
    /// Any error: `deny` findings and programs that fail to load on a
    /// target kernel.
    Error,
    /// Nothing: diagnostics only.
    Never,
}

/// Where and how to check (the keys of `[package.metadata.bpfabi]` and
/// `.bpfabi.toml`; unknown keys are errors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Target kernels: `debian:` names (the built-in catalog offline),
    /// kernel directories, packages, BTF files: any input `check --kernel`
    /// takes. Empty: the running kernel.
    #[serde(default)]
    pub kernels: Vec<String>,
    /// Stability manifest (docs/policy.md), relative to the configuration
    /// file's directory.
    #[serde(default)]
    pub manifest: Option<PathBuf>,
    /// The loader whose rules apply.
    #[serde(default)]
    pub loader: Loader,
    /// Unguarded uses of deprecated kfuncs are errors.
    #[serde(default)]
    pub deny_deprecated: bool,
    /// What fails the build.
    #[serde(default)]
    pub fail_on: FailOn,
    /// Read kernel modules found with the kernels (default true).
    #[serde(default = "yes")]
    pub modules: bool,
}

fn yes() -> bool {
    true
}

impl Config {
    /// `check --config` (and [`check`]): the configuration's kernels,
    /// manifest, `deny_deprecated`, modules and loader where the spec has
    /// none.
    pub fn apply(&self, mut spec: CheckSpec) -> CheckSpec {
        if spec.kernels.is_empty() {
            spec.kernels = self.kernels.iter().map(PathBuf::from).collect();
        }
        spec.policy = spec.policy.or_else(|| self.manifest.clone());
        spec.deny_deprecated |= self.deny_deprecated;
        spec.modules &= self.modules;
        if !spec.loader_given {
            spec.loader = self.loader.0;
        }
        spec
    }

    /// The configuration of a crate: `[package.metadata.bpfabi]` of its
    /// `Cargo.toml` (none: the defaults, with `bpfabi-policy.toml` beside
    /// it when present).
    pub fn from_cargo_toml(path: &Path) -> Result<Config> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(&label, e))?;
        let doc: toml::Table = toml::from_str(&text).map_err(|e| Error::of(ErrorKind::Malformed, &label, e.to_string()))?;
        let table = doc.get("package").and_then(|p| p.get("metadata")).and_then(|m| m.get("bpfabi"));
        let config = match table {
            Some(t) => {
                Config::deserialize(t.clone()).map_err(|e| Error::of(ErrorKind::Malformed, &label, format!("[package.metadata.bpfabi]: {}", e.message())))?
            }
            None => Config { modules: true, ..Config::default() },
        };
        Ok(config.rooted(path.parent().unwrap_or(Path::new("."))))
    }

    /// A project configuration file (`.bpfabi.toml`: the same keys at the
    /// top level).
    pub fn from_file(path: &Path) -> Result<Config> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(&label, e))?;
        Config::parse(&text, &label, path.parent().unwrap_or(Path::new(".")))
    }

    /// The text of a `.bpfabi.toml` named `label` in messages, its paths
    /// relative to `dir`. Errors name `label:line:column`.
    pub fn parse(text: &str, label: &str, dir: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| line_col(text, s.start)).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
            Error::of(ErrorKind::Malformed, format!("{label}{at}"), e.message().to_string())
        })?;
        Ok(config.rooted(dir))
    }

    /// Paths made relative to `dir` (where the configuration lives); the
    /// default manifest taken when it exists there.
    fn rooted(mut self, dir: &Path) -> Config {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        self.manifest = match self.manifest.take() {
            Some(m) => Some(dir.join(m)),
            None => Some(dir.join(DEFAULT_MANIFEST)).filter(|m| m.is_file()),
        };
        // Kernel inputs that name files are relative to the configuration
        // too; `debian:` names are not paths.
        for k in &mut self.kernels {
            if !k.starts_with("debian:") && Path::new(k.as_str()).is_relative() {
                *k = dir.join(k.as_str()).display().to_string();
            }
        }
        self
    }
}

/// 1-based line and column of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |n| before.len() - n - 1) + 1;
    (line, col)
}

/// What a run found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// Policy findings first (in object order), then `check` problems.
    pub diagnostics: Vec<Diagnostic>,
    /// The labels of the kernels checked against.
    pub kernels: Vec<String>,
    /// Every program on every kernel.
    pub results: Vec<ProgramResult>,
    /// The manifest read, if any.
    pub manifest: Option<PathBuf>,
    /// The configuration's `fail_on` is met.
    pub failed: bool,
}

/// Check `objects` (BPF object files, or files and directories holding
/// them) against the configuration's kernels and manifest.
pub fn check(config: &Config, objects: &[PathBuf]) -> Result<Outcome> {
    let spec = config.apply(CheckSpec {
        objects: objects.to_vec(),
        kernels: Vec::new(),
        modules: true,
        probes: Vec::new(),
        core_btf: None,
        rodata: Vec::new(),
        optional: Vec::new(),
        autoload_off: Vec::new(),
        retarget: Vec::new(),
        loader: config.loader.0,
        loader_given: false,
        explain: false,
        policy: None,
        deny_deprecated: false,
        load: false,
        loader_bin: None,
    });
    let (mut found, kernels) = app::check::read(&spec);
    // A build fails on an object it cannot read: the first error says which.
    if !found.errors.is_empty() {
        return Err(found.errors.swap_remove(0));
    }
    if found.objects.is_empty() {
        let what = objects.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        return Err(Error::of(ErrorKind::WrongInput, what, "no BPF object (EM_BPF ELF, or a file embedding one) found"));
    }
    let report = app::check::run(&spec, found.objects, kernels?)?;
    let mut diags = Vec::new();
    let mut deny = false;
    if let Extra::Policy(f) = &report.extra {
        deny = f.iter().any(|(x, _)| x.level == Action::Deny);
        diags.extend(diagnostics::from_policy(f));
    }
    diags.extend(diagnostics::from_check(&report.objects, &report.results));
    let fails = report.results.iter().any(|r| r.verdict == Verdict::Fails);
    let failed = match config.fail_on {
        FailOn::Deny => deny,
        FailOn::Error => deny || fails,
        FailOn::Never => false,
    };
    Ok(Outcome { diagnostics: diags, kernels: report.kernels, results: report.results, manifest: config.manifest.clone(), failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Config, String> {
        toml::from_str::<Config>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn keys_and_defaults() {
        let c = parse("kernels = [\"debian:bookworm\"]\nfail_on = \"error\"\n").unwrap();
        assert_eq!(c.kernels, ["debian:bookworm"]);
        assert_eq!((c.loader, c.fail_on, c.modules, c.deny_deprecated), (Loader::default(), FailOn::Error, true, false));
        assert!(parse("kernel = []").unwrap_err().contains("unknown field `kernel`"));
        assert!(parse("loader = \"bcc\"").unwrap_err().contains("bcc"));
        assert_eq!(parse("loader = \"cilium\"").unwrap().loader.0, "cilium".parse::<LoaderChoice>().unwrap());
        assert!(parse("fail_on = \"sometimes\"").is_err());
    }

    #[test]
    fn paths_are_relative_to_the_file() {
        let c = parse("kernels = [\"debian:trixie\", \"k/6.1\", \"/abs/k\"]\nmanifest = \"m.toml\"").unwrap().rooted(Path::new("proj"));
        assert_eq!(c.kernels, ["debian:trixie", "proj/k/6.1", "/abs/k"]);
        assert_eq!(c.manifest.as_deref(), Some(Path::new("proj/m.toml")));
        // No manifest named and none beside it: none.
        let c = parse("").unwrap().rooted(Path::new("/nonexistent-dir"));
        assert_eq!(c.manifest, None);
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
