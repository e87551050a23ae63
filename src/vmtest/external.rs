//! Loads with a real loader other than libbpf (`vmtest --loader cilium|aya`):
//! the guest runs the loader binary the host put into the initramfs
//! ([`GUEST_LOADER`]) on each object and turns its JSON lines into
//! [`LoadRecord`]s. The loaders are the project's reference tools
//! (`tools/ciliumload`: cilium/ebpf, `tools/ayaload`: aya), built statically
//! by `scripts/build-loaders`; each loads one program at a time and prints
//! one line per program: `object`, `program`, `section`, `loaded`, `status`,
//! `error`, `loader` (docs/loaders.md).

use super::record::{LoadRecord, Status, UnitKind};
use super::InputObject;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where the loader binary lives in the initramfs.
pub const GUEST_LOADER: &str = "/bpfabi/loader";

/// A loader `vmtest` can load with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderKind {
    /// libbpf, linked into bpfabi itself.
    Libbpf,
    /// cilium/ebpf, through `tools/ciliumload`.
    Cilium,
    /// aya, through `tools/ayaload`.
    Aya,
}

impl LoaderKind {
    /// The names `--loader` accepts.
    pub const NAMES: [&'static str; 3] = ["libbpf", "cilium", "aya"];

    /// Parse a `--loader` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "libbpf" => Some(Self::Libbpf),
            "cilium" => Some(Self::Cilium),
            "aya" => Some(Self::Aya),
            _ => None,
        }
    }

    /// The binary `scripts/build-loaders` makes for this loader, in its
    /// cache (`$XDG_CACHE_HOME` or `~/.cache`, then `bpfabi/loaders/bin`):
    /// cilium/ebpf at Debian sid's version, aya 0.14. `None` for libbpf.
    pub fn default_binary(self) -> Option<PathBuf> {
        let name = match self {
            Self::Libbpf => return None,
            Self::Cilium => "ciliumload-sid",
            Self::Aya => "ayaload",
        };
        let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(cache.join("bpfabi/loaders/bin").join(name))
    }
}

/// One line of a reference loader.
#[derive(Debug, Deserialize)]
struct Line {
    program: Option<String>,
    section: Option<String>,
    #[serde(default)]
    loaded: bool,
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: String,
}

/// The errno a loader's message names (Go and Rust both print strerror's
/// words), 0 when none.
fn errno_of(msg: &str) -> i32 {
    let lower = msg.to_ascii_lowercase();
    (1..134)
        .find(|&e| {
            let s = std::io::Error::from_raw_os_error(e).to_string();
            let words = s.split(" (os error").next().unwrap_or("").to_ascii_lowercase();
            !words.is_empty() && lower.contains(&words)
        })
        .unwrap_or(0)
}

/// A reference loader's line as a record of `object`; `None` for a line
/// that is not one of its JSON lines.
pub fn record(object: &str, line: &str, duration_ms: u64) -> Option<LoadRecord> {
    let l: Line = serde_json::from_str(line.trim()).ok()?;
    let status = match l.status.as_str() {
        "loaded" if l.loaded => Status::Loaded,
        "open_failed" => Status::OpenFailed,
        "no_programs" => Status::NoPrograms,
        _ => Status::Rejected,
    };
    let error = if l.status == "not_loaded_by_library" { format!("not loaded by the library: {}", l.error) } else { l.error };
    let mut r = LoadRecord::not_loaded(object.to_string(), l.program.clone(), status, 0, error, String::new());
    r.loaded = status == Status::Loaded;
    r.errno = if r.loaded { 0 } else { errno_of(&r.error) };
    r.section = l.section;
    r.unit = l.program.map(|_| UnitKind::Program);
    r.duration_ms = duration_ms;
    Some(r)
}

/// The loader's own name (`LOADER --version`), run inside the guest.
pub fn version(binary: &str) -> String {
    match std::process::Command::new(binary).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => format!("{binary}: --version failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => format!("{binary}: {e}"),
    }
}

/// The reference loader binary that loads as `loader` does (`check --load
/// --loader cilium|aya`): `given`, else the first of scripts/build-loaders'
/// binaries for its family (cilium/ebpf: Debian sid's, then trixie's)
/// whose `--version` names the same `major.minor`. `None` for libbpf
/// (linked into bpfabi). A binary of another version is an error: its
/// loads would not test the rules of the version asked for.
pub fn binary_for(loader: crate::loader::Loader, given: Option<PathBuf>) -> Result<Option<PathBuf>> {
    use crate::loader::Family;
    let names: &[&str] = match loader.family() {
        Family::Libbpf if given.is_some() => {
            return Err(Error::new("--loader-bin", "libbpf is linked into bpfabi: --loader-bin goes with --loader cilium or aya"))
        }
        Family::Libbpf => return Ok(None),
        Family::Cilium => &["ciliumload-sid", "ciliumload-trixie"],
        Family::Aya => &["ayaload"],
    };
    let cache = LoaderKind::Aya.default_binary().and_then(|p| p.parent().map(Path::to_path_buf));
    let candidates: Vec<PathBuf> = match given {
        Some(g) => vec![g],
        None => names.iter().filter_map(|n| cache.as_ref().map(|c| c.join(n))).collect(),
    };
    let want = loader.version();
    let mut seen = Vec::new();
    for c in candidates {
        if !c.is_file() {
            seen.push(format!("{}: not there", c.display()));
            continue;
        }
        let v = version(&c.to_string_lossy());
        // `cilium/ebpf 0.22.0 (Debian sid …)`, `aya 0.14.0`.
        let got = v.split_whitespace().nth(1).and_then(|x| x.parse::<crate::loader::Version>().ok());
        if got.is_some_and(|g| (g.major, g.minor) == (want.major, want.minor)) {
            return Ok(Some(c));
        }
        seen.push(format!("{}: {v}", c.display()));
    }
    Err(Error::new("--loader", format!("no {loader} loader binary ({}): build it with scripts/build-loaders, or give --loader-bin", seen.join("; "))))
}

/// Load every program of `objects` on the running kernel with the reference
/// loader `bin` (`check --load --loader cilium|aya`), as the guest does in
/// `vmtest --loader`: the objects are written to a private temporary
/// directory, the loader runs once over all of them (each loader removes
/// what it loaded and pinned), and its lines become records `(object
/// index, record)`. An object it printed nothing about gets an open failure
/// naming the loader's exit status and last words.
pub fn load_here(bin: &Path, objects: &[InputObject]) -> Result<Vec<(usize, LoadRecord)>> {
    let dir = std::env::temp_dir().join(format!("bpfabi-load-{}", std::process::id()));
    let result = load_in(bin, objects, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn load_in(bin: &Path, objects: &[InputObject], dir: &Path) -> Result<Vec<(usize, LoadRecord)>> {
    let mut files = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let base = Path::new(&o.name).file_name().map(|f| f.to_string_lossy().replace('@', "_")).unwrap_or_else(|| "object.o".into());
        let sub = dir.join(i.to_string());
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(sub.display().to_string(), e))?;
        let f = sub.join(base);
        std::fs::write(&f, &o.bytes).map_err(|e| Error::io(f.display().to_string(), e))?;
        files.push(f);
    }
    let t = std::time::Instant::now();
    let out = std::process::Command::new(bin).args(&files).stdin(std::process::Stdio::null()).output().map_err(|e| Error::io(bin.display().to_string(), e))?;
    let ms = t.elapsed().as_millis() as u64;
    let mut recs = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let file = serde_json::from_str::<serde_json::Value>(line).ok().and_then(|v| v.get("object").and_then(|o| o.as_str()).map(PathBuf::from));
        let Some(i) = file.and_then(|f| files.iter().position(|x| *x == f)) else { continue };
        let Some(o) = objects.get(i) else { continue };
        if let Some(r) = record(&o.name, line, ms) {
            recs.push((i, r));
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.get(stderr.len().saturating_sub(2000)..).unwrap_or("").trim();
    for (i, o) in objects.iter().enumerate() {
        if !recs.iter().any(|(j, _)| *j == i) {
            let why = format!("{} ended ({}) without a result for this object: {last}", bin.display(), out.status);
            recs.push((i, LoadRecord::not_loaded(o.name.clone(), None, Status::OpenFailed, 0, why, String::new())));
        }
    }
    Ok(recs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_loaders_lines() {
        let c = r#"{"object":"x.o","program":"p","section":"xdp_foo","loaded":true,"status":"loaded","error":"","loader":"cilium/ebpf 0.22.0"}"#;
        let r = record("x.o", c, 5).unwrap();
        assert_eq!((r.status, r.loaded, r.section.as_deref(), r.unit_name(), r.errno), (Status::Loaded, true, Some("xdp_foo"), "p", 0));
        let a = r#"{"error":"invalid program section `tc`","loaded":false,"loader":"aya 0.14.0","object":"x.o","program":null,"section":null,"status":"open_failed"}"#;
        let r = record("x.o", a, 0).unwrap();
        assert_eq!((r.status, r.program.as_deref(), r.error.as_str()), (Status::OpenFailed, None, "invalid program section `tc`"));
        let e = r#"{"object":"x.o","program":"f","section":"fentry/x","loaded":false,"status":"rejected","error":"load program: operation not permitted","loader":"c"}"#;
        assert_eq!(record("x.o", e, 0).unwrap().errno, 1);
        let n = r#"{"object":"x.o","program":"k","section":"kprobe","loaded":false,"status":"not_loaded_by_library","error":"skipped","loader":"c"}"#;
        let r = record("x.o", n, 0).unwrap();
        assert_eq!(r.status, Status::Rejected);
        assert!(r.error.starts_with("not loaded by the library"));
        assert!(record("x.o", "garbage", 0).is_none());
        assert_eq!(LoaderKind::parse("cilium"), Some(LoaderKind::Cilium));
        // The binary for a loader: libbpf is linked in; a missing file or
        // one of another version is refused with what was found.
        use crate::loader::{Family, Version};
        assert!(matches!(binary_for(Family::Libbpf.newest(), None), Ok(None)));
        assert!(binary_for(Family::Libbpf.newest(), Some("x".into())).is_err());
        let e = binary_for(Family::Aya.newest(), Some("/nonexistent/ayaload".into())).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/ayaload: not there") && e.contains("aya 0.14"), "{e}");
        let sh = PathBuf::from("/bin/true");
        let e = binary_for(Family::Cilium.at(Version::new(0, 11)), Some(sh)).unwrap_err().to_string();
        assert!(e.contains("no cilium/ebpf 0.11 loader binary"), "{e}");
        assert_eq!(LoaderKind::parse("bcc"), None);
    }
}
