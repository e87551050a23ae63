//! Command `catalog`: the built-in catalog of reduced Debian kernels (list, add).

use super::common::{write_out, Out, OutputArgs};
use bpfabi::report::{self, Format};
use bpfabi::Error;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum CatalogCmd {
    /// List the entries (built-in, or of --dir).
    List {
        #[command(flatten)]
        out: OutputArgs,
        /// A catalog directory instead of the built-in one.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Reduce kernels (any input, `debian:` names included) into a catalog
    /// directory (default data/catalog) and update its index.json.
    Add {
        /// Kernels, one per argument.
        #[arg(required = true)]
        kernels: Vec<PathBuf>,
        /// The catalog directory.
        #[arg(long, value_name = "DIR", default_value = "data/catalog")]
        dir: PathBuf,
        /// Suite the kernel is current in (default: from the kernel's meta.json).
        #[arg(long)]
        suite: Option<String>,
        /// Debian architecture (default: meta.json or the release suffix).
        #[arg(long)]
        arch: Option<String>,
        /// Flavour.
        #[arg(long)]
        flavour: Option<String>,
        /// Package version.
        #[arg(long = "package-version")]
        version: Option<String>,
    },
}

pub fn run(c: &CatalogCmd, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::catalog;
    match c {
        CatalogCmd::List { out, dir } => {
            let format = out.format("catalog list")?;
            let idx = match dir {
                Some(d) => {
                    let p = d.join("index.json");
                    catalog::read_index(&std::fs::read_to_string(&p).map_err(|e| Error::io(p.display().to_string(), e))?, &p.display().to_string())?
                }
                None => catalog::builtin_index()?,
            };
            if format == Format::Json {
                write_out(report::write_json(w, catalog::INDEX_SCHEMA, &serde_json::json!({ "entries": idx.entries })))?;
                return Ok(0);
            }
            let rows: Vec<Vec<String>> = idx
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.release.clone(),
                        e.arch.clone(),
                        e.suites.join(","),
                        e.version.clone().unwrap_or_default(),
                        e.kfuncs.to_string(),
                        e.helpers.to_string(),
                        format!("{:.1} KiB", e.bytes as f64 / 1024.0),
                        format!("{:.1} MiB", e.full_btf_bytes as f64 / 1048576.0),
                    ]
                })
                .collect();
            let total: u64 = idx.entries.iter().map(|e| e.bytes).sum();
            write_out(writeln!(w, "{} kernels, {:.1} KiB in all", idx.entries.len(), total as f64 / 1024.0))?;
            write_out(report::write_table(w, &["RELEASE", "ARCH", "SUITES", "VERSION", "KFUNCS", "HELPERS", "SIZE", "FULL BTF"], &rows))?;
            Ok(0)
        }
        CatalogCmd::Add { kernels, dir, suite, arch, flavour, version } => {
            let given = catalog::Provenance { suite: suite.clone(), arch: arch.clone(), flavour: flavour.clone(), version: version.clone() };
            for k in kernels {
                let e = catalog::add(dir, k, &given)?;
                write_out(writeln!(w, "{}: {} {} [{}] {} kfuncs, {} helpers, {} bytes (from {} bytes of BTF)", dir.display(), e.release, e.arch, e.suites.join(","), e.kfuncs, e.helpers, e.bytes, e.full_btf_bytes))?;
            }
            Ok(0)
        }
    }
}
