//! `bpfabi kernels`: the Debian kernel cache and what names resolve to, as
//! a table or JSON (schema in docs/kernels.md).

use crate::kernel::debian::{CachedKernel, Resolution};

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
}

/// Human listing: resolutions first (with notes), then the cache.
pub fn text(cache_dir: &str, cached: &[CachedKernel], debs_bytes: u64, resolved: &[Resolution], errors: &[String]) -> String {
    let mut out = String::new();
    for r in resolved {
        let pkgs: Vec<String> = r.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
        out.push_str(&format!(
            "{} -> {} ({}{}{}; from {}{}): {}\n",
            r.name,
            r.release,
            r.arch.name(),
            r.suite.as_deref().map(|s| format!(", {s}")).unwrap_or_default(),
            r.flavour.as_deref().map(|f| format!(", flavour {f}")).unwrap_or_default(),
            r.resolved_from,
            if r.was_cached { ", already cached" } else if r.dir.is_some() { ", downloaded" } else { "" },
            pkgs.join(" + ")
        ));
        for n in &r.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
    }
    for e in errors {
        out.push_str(&format!("error: {e}\n"));
    }
    if !resolved.is_empty() || !errors.is_empty() {
        out.push('\n');
    }
    let total: u64 = cached.iter().map(|k| k.bytes).sum();
    out.push_str(&format!(
        "cache {cache_dir}: {} kernels, {} extracted BTF, {} packages\n",
        cached.len(),
        mib(total),
        mib(debs_bytes)
    ));
    if cached.is_empty() {
        return out;
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
    out.push_str(&super::table_string(&["RELEASE", "ARCH", "SUITE", "MODULES", "SIZE", "PACKAGES"], &rows));
    out
}

/// JSON document (`schema` 1).
pub fn json(cache_dir: &str, cached: &[CachedKernel], debs_bytes: u64, resolved: &[Resolution], errors: &[String]) -> String {
    let v = serde_json::json!({
        "schema": 1,
        "cache": cache_dir,
        "packages_bytes": debs_bytes,
        "cached": cached,
        "resolved": resolved,
        "errors": errors,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
