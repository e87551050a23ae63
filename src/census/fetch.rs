//! Named packages of other ecosystems as census inputs:
//! `pypi:NAME==VERSION`, `npm:NAME@VERSION`, `crate:NAME@VERSION`. Each is
//! fetched once with the ecosystem's own client (`pip download`, `npm
//! pack`, `cargo fetch`) into a cache directory of its own and read like a
//! local file ([`super::pkg`]). Nothing crawls a registry: only the exact
//! versions named are asked for.

use crate::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A package named by ecosystem, name and exact version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// `pypi:NAME==VERSION`: the wheel pip picks for this machine.
    Pypi {
        /// Distribution name.
        name: String,
        /// Exact version.
        version: String,
    },
    /// `npm:NAME@VERSION` (`npm:@scope/name@1.0.0`).
    Npm {
        /// Package name, with its scope.
        name: String,
        /// Exact version.
        version: String,
    },
    /// `crate:NAME@VERSION`.
    Crate {
        /// Crate name.
        name: String,
        /// Exact version.
        version: String,
    },
}

/// The prefixes of named packages.
pub const PREFIXES: [&str; 3] = ["pypi:", "npm:", "crate:"];

fn safe(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-+@/~".contains(c)) && !s.contains("..")
}

impl Spec {
    /// Parse an input: `None` when it names no package (a path), an error
    /// when it does but is malformed (no exact version, odd characters).
    pub fn parse(input: &str) -> Option<Result<Spec>> {
        let (prefix, rest) = PREFIXES.iter().find_map(|p| input.strip_prefix(p).map(|r| (*p, r)))?;
        let split = match prefix {
            "pypi:" => rest.split_once("=="),
            // The scope's leading `@` is part of the name.
            _ => rest.get(1..).and_then(|r| r.rsplit_once('@')).and_then(|(n, v)| Some((rest.get(..n.len() + 1)?, v))),
        };
        let bad = |why: &str| {
            Some(Err(Error::of(ErrorKind::WrongInput, input, format!("{why}: expected pypi:NAME==VERSION, npm:NAME@VERSION or crate:NAME@VERSION"))))
        };
        let Some((name, version)) = split else { return bad("no exact version") };
        if !safe(name) || !safe(version) || version.contains('/') || (prefix != "npm:" && name.contains(['/', '@'])) {
            return bad("not a package name and version");
        }
        let (name, version) = (name.to_string(), version.to_string());
        Some(Ok(match prefix {
            "pypi:" => Spec::Pypi { name, version },
            "npm:" => Spec::Npm { name, version },
            _ => Spec::Crate { name, version },
        }))
    }

    /// The cache directory of this package under `cache`.
    fn dir(&self, cache: &Path) -> PathBuf {
        let (eco, name, version) = match self {
            Spec::Pypi { name, version } => ("pypi", name, version),
            Spec::Npm { name, version } => ("npm", name, version),
            Spec::Crate { name, version } => ("crates", name, version),
        };
        cache.join(eco).join(format!("{}@{version}", name.replace('/', "__")))
    }
}

/// The one file of `ext` in `dir`, if exactly one.
fn only_file(dir: &Path, ext: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(ext)).collect();
    (found.len() == 1).then(|| found.pop()).flatten()
}

fn run(mut cmd: Command, what: &str, input: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::of(ErrorKind::NotFound, input, format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = last.get(last.len().saturating_sub(3)..).unwrap_or(&[]).join(" | ");
    Err(Error::of(ErrorKind::NotFound, input, format!("{what} failed ({}): {tail}", out.status)))
}

/// Fetch `spec` into `cache` (once: a second call reads the cached file)
/// and return the package file.
pub fn fetch(spec: &Spec, cache: &Path, input: &str) -> Result<PathBuf> {
    let dir = spec.dir(cache);
    let ext = match spec {
        Spec::Pypi { .. } => ".whl",
        Spec::Npm { .. } => ".tgz",
        Spec::Crate { .. } => ".crate",
    };
    if let Some(f) = only_file(&dir, ext) {
        return Ok(f);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    match spec {
        Spec::Pypi { name, version } => {
            let mut c = Command::new("python3");
            c.args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest"]).arg(&dir).arg(format!("{name}=={version}"));
            run(c, "pip download", input)?;
        }
        Spec::Npm { name, version } => {
            let mut c = Command::new("npm");
            c.args(["pack", "--silent", "--pack-destination"]).arg(&dir).arg(format!("{name}@{version}"));
            run(c, "npm pack", input)?;
        }
        Spec::Crate { name, version } => {
            // cargo fetches crates for a manifest: one that depends on
            // exactly this version, in a directory of its own.
            let manifest = format!("[package]\nname = \"bpfabi-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[lib]\npath = \"lib.rs\"\n[dependencies]\n{name} = \"={version}\"\n");
            let write = |f: &str, text: &str| std::fs::write(dir.join(f), text).map_err(|e| Error::io(dir.join(f).display().to_string(), e));
            write("Cargo.toml", &manifest)?;
            write("lib.rs", "")?;
            let mut c = Command::new("cargo");
            c.args(["fetch", "--quiet", "--manifest-path"]).arg(dir.join("Cargo.toml"));
            run(c, "cargo fetch", input)?;
            let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
            let file = format!("{name}-{version}.crate");
            let cached = home
                .and_then(|h| std::fs::read_dir(h.join("registry/cache")).ok())
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join(&file))
                .find(|p| p.is_file())
                .ok_or_else(|| Error::of(ErrorKind::NotFound, input, format!("cargo fetched, but {file} is not in cargo's registry cache")))?;
            std::fs::copy(&cached, dir.join(&file)).map_err(|e| Error::io(cached.display().to_string(), e))?;
        }
    }
    only_file(&dir, ext).ok_or_else(|| Error::of(ErrorKind::NotFound, input, format!("the client ran, but no single {ext} file is in {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let p = |s: &str| Spec::parse(s).map(|r| r.map_err(|e| e.to_string()));
        assert_eq!(p("pypi:bcc==0.1.10"), Some(Ok(Spec::Pypi { name: "bcc".into(), version: "0.1.10".into() })));
        assert_eq!(p("npm:@scope/pkg@1.2.3"), Some(Ok(Spec::Npm { name: "@scope/pkg".into(), version: "1.2.3".into() })));
        assert_eq!(p("npm:left-pad@1.3.0"), Some(Ok(Spec::Npm { name: "left-pad".into(), version: "1.3.0".into() })));
        assert_eq!(p("crate:aya@0.14.0"), Some(Ok(Spec::Crate { name: "aya".into(), version: "0.14.0".into() })));
        assert_eq!(p("some/file.deb"), None);
        for bad in ["pypi:bcc", "npm:@scope/pkg", "crate:aya", "crate:a/b@1", "pypi:x==1;rm", "npm:x@../1"] {
            assert!(matches!(p(bad), Some(Err(_))), "{bad}");
        }
    }
}
