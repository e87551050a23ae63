//! `bpfabi kernels`: the Debian kernel cache and what names resolve to, as
//! a table or JSON (schema in docs/kernels.md).

use crate::kernel::debian::prune::Pruned;
use crate::kernel::debian::{CachedKernel, Resolution};
use std::io::{self, Write};

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
}

/// What `--prune` removed (or would remove), one line each, then the total.
pub fn pruned_text(w: &mut dyn Write, p: &Pruned) -> io::Result<()> {
    let verb = if p.dry_run { "would remove" } else { "removed" };
    for k in &p.kernels {
        writeln!(w, "{verb} kernel {} ({}{}, {})", k.kernel_release, k.arch, k.suite.as_deref().map(|s| format!(", {s}")).unwrap_or_default(), mib(k.bytes))?;
    }
    for f in &p.packages {
        let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        writeln!(w, "{verb} package {name} ({})", mib(f.bytes))?;
    }
    writeln!(w, "{}: {} freed, {} left in kernels and packages\n", if p.dry_run { "dry run" } else { "pruned" }, mib(p.freed), mib(p.left))
}

/// The cache directory as printed: `~/...` under the home directory, so
/// listings (and docs made from them) name no one machine's home.
pub fn display_dir(dir: &std::path::Path) -> String {
    match std::env::var_os("HOME").map(std::path::PathBuf::from).and_then(|h| dir.strip_prefix(h).ok().map(|r| r.to_path_buf())) {
        Some(rel) => format!("~/{}", rel.display()),
        None => dir.display().to_string(),
    }
}

/// Human listing: resolutions first (with notes), then the cache.
pub fn text(w: &mut dyn Write, cache_dir: &str, cached: &[CachedKernel], debs_bytes: u64, resolved: &[Resolution], errors: &[String]) -> io::Result<()> {
    for r in resolved {
        let pkgs: Vec<String> = r.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
        writeln!(
            w,
            "{} -> {} ({}{}{}; from {}{}): {}",
            r.name,
            r.release,
            r.arch.name(),
            r.suite.as_deref().map(|s| format!(", {s}")).unwrap_or_default(),
            r.flavour.as_deref().map(|f| format!(", flavour {f}")).unwrap_or_default(),
            r.resolved_from,
            if r.was_cached {
                ", already cached"
            } else if r.dir.is_some() {
                ", downloaded"
            } else {
                ""
            },
            pkgs.join(" + ")
        )?;
        for n in &r.notes {
            writeln!(w, "  note: {n}")?;
        }
    }
    for e in errors {
        writeln!(w, "error: {e}")?;
    }
    if !resolved.is_empty() || !errors.is_empty() {
        writeln!(w)?;
    }
    let total: u64 = cached.iter().map(|k| k.bytes).sum();
    writeln!(w, "cache {cache_dir}: {}, {} extracted BTF, {} packages", super::count(cached.len(), "kernel", "kernels"), mib(total), mib(debs_bytes))?;
    if cached.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = cached
        .iter()
        .map(|k| {
            vec![
                k.kernel_release.clone(),
                k.arch.clone(),
                k.suite.clone().unwrap_or_else(|| "-".into()),
                k.modules.to_string(),
                mib(k.bytes),
                k.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect::<Vec<_>>().join(" + "),
            ]
        })
        .collect();
    super::write_table(w, &["RELEASE", "ARCH", "SUITE", "MODULES", "SIZE", "PACKAGES"], &rows)
}

/// JSON document (`schema` 1).
#[allow(clippy::too_many_arguments)]
pub fn json(
    w: &mut dyn Write,
    cache_dir: &str,
    cached: &[CachedKernel],
    debs_bytes: u64,
    resolved: &[Resolution],
    errors: &[String],
    pruned: Option<&Pruned>,
) -> io::Result<()> {
    let mut v = serde_json::json!({
        "schema": 1,
        "cache": cache_dir,
        "packages_bytes": debs_bytes,
        "cached": cached,
        "resolved": resolved,
        "errors": errors,
    });
    if let Some(p) = pruned {
        v["pruned"] = serde_json::to_value(p).map_err(io::Error::from)?;
    }
    serde_json::to_writer_pretty(&mut *w, &v).map_err(io::Error::from)?;
    writeln!(w)
}
