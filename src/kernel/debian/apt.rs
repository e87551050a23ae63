//! bpfabi's private apt trees: one per (suite, architecture) under the
//! cache directory, each with its own sources, lists, dpkg status (empty)
//! and configuration, so apt's own machinery (signature checks, mirrors
//! from the machine's sources, partial downloads) is used while the
//! system's apt setup is never read or touched (`APT_CONFIG` points at the
//! tree's `apt.conf`, which redirects every `Dir::*`).

use super::sources::Archive;
use crate::error::{Error, Result};
use crate::kernel::arch::Arch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One apt tree.
#[derive(Debug, Clone)]
pub struct AptTree {
    /// Root of the private apt tree.
    pub root: PathBuf,
    /// Suite.
    pub suite: String,
    /// Architecture.
    pub arch: Arch,
}

/// Suites fetched together for a suite name: the release, its updates and
/// its security suite (backports and sid stand alone).
pub fn suite_group(suite: &str) -> Vec<(String, bool)> {
    if suite.contains('-') || matches!(suite, "sid" | "unstable" | "experimental") {
        return vec![(suite.to_string(), false)];
    }
    vec![(suite.to_string(), false), (format!("{suite}-updates"), false), (format!("{suite}-security"), true)]
}

impl AptTree {
    /// The tree for `suite` and `arch` under `cache`.
    pub fn new(cache: &Path, suite: &str, arch: Arch) -> AptTree {
        AptTree { root: cache.join("apt").join(format!("{suite}_{}", arch.name())), suite: suite.to_string(), arch }
    }

    fn conf(&self) -> PathBuf {
        self.root.join("apt.conf")
    }

    /// Where apt keeps its package lists.
    pub fn lists_dir(&self) -> PathBuf {
        self.root.join("var/lib/apt/lists")
    }

    /// Age of the package lists in seconds; `None` when there are none.
    pub fn lists_age(&self) -> Option<u64> {
        let rd = std::fs::read_dir(self.lists_dir()).ok()?;
        let newest = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("_Packages"))
            .filter_map(|e| e.metadata().ok()?.modified().ok())
            .max()?;
        Some(newest.elapsed().map(|d| d.as_secs()).unwrap_or(0))
    }

    /// Create (or refresh) the tree's directories, sources and configuration.
    pub fn prepare(&self, archive: &Archive) -> Result<()> {
        let io = |p: &Path, e: std::io::Error| Error::io(p.display().to_string(), e);
        for d in [
            "etc/apt/sources.list.d",
            "etc/apt/apt.conf.d",
            "etc/apt/preferences.d",
            "etc/apt/trusted.gpg.d",
            "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial",
            "var/lib/dpkg",
            "var/log/apt",
        ] {
            let p = self.root.join(d);
            std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
        }
        let status = self.root.join("var/lib/dpkg/status");
        if !status.exists() {
            std::fs::write(&status, b"").map_err(|e| io(&status, e))?;
        }
        let mut sources = String::new();
        for (suite, security) in suite_group(&self.suite) {
            let uri = if security {
                match &archive.security_uri {
                    Some(u) => u.clone(),
                    None => continue,
                }
            } else {
                archive.uri.clone()
            };
            sources.push_str(&format!("Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: main\nArchitectures: {}\n", self.arch.name()));
            if let Some(k) = &archive.keyring {
                sources.push_str(&format!("Signed-By: {k}\n"));
            }
            sources.push('\n');
        }
        let sp = self.root.join("etc/apt/sources.list.d/bpfabi.sources");
        std::fs::write(&sp, sources).map_err(|e| io(&sp, e))?;
        let root = self.root.display();
        let arch = self.arch.name();
        // Release files of frozen mirrors and snapshots expire; signatures
        // are still checked, and nothing is ever installed from here.
        let conf = format!(
            "Dir \"{root}/\";\nDir::State \"var/lib/apt/\";\nDir::State::status \"{root}/var/lib/dpkg/status\";\nDir::Cache \"var/cache/apt/\";\nDir::Cache::srcpkgcache \"\";\n\
             Dir::Etc \"etc/apt/\";\nDir::Etc::parts \"apt.conf.d/\";\nDir::Etc::sourcelist \"sources.list\";\nDir::Etc::sourceparts \"sources.list.d/\";\n\
             Dir::Etc::preferences \"preferences\";\nDir::Etc::preferencesparts \"preferences.d/\";\nDir::Log \"var/log/apt/\";\n\
             APT::Architecture \"{arch}\";\nAPT::Architectures {{ \"{arch}\"; }};\nAcquire::Languages \"none\";\nAcquire::GzipIndexes \"true\";\n\
             Acquire::Check-Valid-Until \"false\";\n"
        );
        let cp = self.conf();
        std::fs::write(&cp, conf).map_err(|e| io(&cp, e))?;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("APT_CONFIG", self.conf()).env("LC_ALL", "C").env_remove("APT_CONFIG_OVERRIDE");
        c
    }

    /// `apt-get update` in this tree.
    pub fn update(&self) -> Result<()> {
        let out = self
            .command("apt-get")
            .args(["-q", "update"])
            .output()
            .map_err(|e| Error::new("apt-get", format!("cannot run apt-get (is apt installed?): {e}")))?;
        let err = String::from_utf8_lossy(&out.stderr);
        let failed: Vec<&str> = err.lines().filter(|l| l.starts_with("E:") || l.starts_with("W: Failed")).collect();
        if !out.status.success() || self.lists_age().is_none() {
            return Err(Error::new(
                format!("apt-get update ({})", self.root.display()),
                format!("failed: {}", if failed.is_empty() { err.trim().to_string() } else { failed.join("; ") }),
            ));
        }
        Ok(())
    }

    /// `apt-cache show NAME...`: every stanza of every version, parsed.
    pub fn show(&self, names: &[String]) -> Result<Vec<Stanza>> {
        let out = self.command("apt-cache").arg("show").args(names).output().map_err(|e| Error::new("apt-cache", e.to_string()))?;
        // apt-cache exits 100 when some name is unknown; the rest is still printed.
        Ok(parse_stanzas(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Package names starting with `prefix`.
    pub fn pkgnames(&self, prefix: &str) -> Result<Vec<String>> {
        let out = self.command("apt-cache").args(["pkgnames", prefix]).output().map_err(|e| Error::new("apt-cache", e.to_string()))?;
        let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
        v.sort();
        Ok(v)
    }

    /// `apt-get download NAME=VERSION` into `dir` (apt checks the hash).
    pub fn download(&self, name: &str, version: &str, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let out = self
            .command("apt-get")
            .args(["-q", "download", &format!("{name}={version}")])
            .current_dir(dir)
            .output()
            .map_err(|e| Error::new("apt-get", e.to_string()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let e: Vec<&str> = err.lines().filter(|l| l.starts_with("E:")).collect();
            // The file of the error is the URL apt failed on when it says
            // (`E: Failed to fetch URL  404 ...`), so a caller can tell which
            // archive directory lacks it.
            let url = e.iter().find_map(|l| l.split_whitespace().find(|w| w.contains("://"))).map(str::to_string);
            let file = url.unwrap_or_else(|| format!("apt-get download {name}={version}"));
            return Err(Error::of(crate::ErrorKind::Fetch, file, e.join("; ")));
        }
        Ok(())
    }
}

/// One `Packages` stanza (the fields bpfabi uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stanza {
    /// Package.
    pub package: String,
    /// Version.
    pub version: String,
    /// Architecture.
    pub architecture: String,
    /// Depends field.
    pub depends: String,
    /// Path in the archive.
    pub filename: String,
    /// Size.
    pub size: u64,
    /// SHA-256.
    pub sha256: String,
}

impl Stanza {
    /// `(name, exact version)` of each dependency (`name (= v)`; alternatives flattened).
    pub fn depends_list(&self) -> Vec<(String, Option<String>)> {
        self.depends
            .split([',', '|'])
            .filter_map(|d| {
                let d = d.trim();
                let name = d.split([' ', '(', ':']).next()?.to_string();
                let ver = d.split_once("(=").map(|(_, v)| v.trim_end_matches(')').trim().to_string());
                (!name.is_empty()).then_some((name, ver))
            })
            .collect()
    }

    /// The file name `apt-get download` gives this package.
    pub fn deb_file_name(&self) -> String {
        format!("{}_{}_{}.deb", self.package, self.version.replace(':', "%3a"), self.architecture)
    }
}

/// Paragraphs of a Packages file.
pub fn parse_stanzas(text: &str) -> Vec<Stanza> {
    let mut out = Vec::new();
    let mut cur = Stanza::default();
    let mut any = false;
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if any && !cur.package.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur = Stanza::default();
            any = false;
            continue;
        }
        any = true;
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim().to_string();
        match k {
            "Package" => cur.package = v,
            "Version" => cur.version = v,
            "Architecture" => cur.architecture = v,
            "Depends" | "Pre-Depends" => {
                if !cur.depends.is_empty() {
                    cur.depends.push_str(", ");
                }
                cur.depends.push_str(&v);
            }
            "Filename" => cur.filename = v,
            "Size" => cur.size = v.parse().unwrap_or(0),
            "SHA256" => cur.sha256 = v,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_and_depends() {
        let t = "Package: linux-image-amd64\nVersion: 7.2.13-1\nArchitecture: amd64\nDepends: linux-base-amd64 (= 7.2.13-1), linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)\nSize: 1000\n\nPackage: linux-image-7.2.13+deb14-amd64\nVersion: 7.2.13-1\nArchitecture: amd64\nDepends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-binary-7.2.13+deb14-amd64 (= 7.2.13-1)\nDescription: x\n continuation: y\n";
        let s = parse_stanzas(t);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].depends_list()[1], ("linux-image-7.2.13+deb14-amd64".to_string(), Some("7.2.13-1".to_string())));
        assert!(s[1].depends_list().iter().any(|(n, v)| n == "linux-binary-7.2.13+deb14-amd64" && v.as_deref() == Some("7.2.13-1")));
        assert_eq!(s[0].deb_file_name(), "linux-image-amd64_7.2.13-1_amd64.deb");
    }

    #[test]
    fn groups() {
        assert_eq!(suite_group("bookworm").len(), 3);
        assert_eq!(suite_group("bookworm-backports"), vec![("bookworm-backports".to_string(), false)]);
        assert_eq!(suite_group("sid").len(), 1);
    }
}
