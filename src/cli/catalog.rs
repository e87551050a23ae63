//! Command `catalog`: the built-in catalog of reduced Debian kernels (list, add).

use super::common::{write_out, Out, OutputArgs};
use super::NarrowFormats;
use bpfabi::app::kernel;
use bpfabi::report::Render;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum CatalogCmd {
    /// List the entries (built-in, or of --dir).
    #[command(formats = "catalog list")]
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
            write_out(kernel::catalog_list(dir.as_deref())?.render(format, w))?;
            Ok(0)
        }
        CatalogCmd::Add { kernels, dir, suite, arch, flavour, version } => {
            let given = catalog::Provenance { suite: suite.clone(), arch: arch.clone(), flavour: flavour.clone(), version: version.clone() };
            for k in kernels {
                let e = catalog::add(dir, k, &given)?;
                write_out(writeln!(
                    w,
                    "{}: {} {} [{}] {} kfuncs, {} helpers, {} bytes (from {} bytes of BTF)",
                    dir.display(),
                    e.release,
                    e.arch,
                    e.suites.join(","),
                    e.kfuncs,
                    e.helpers,
                    e.bytes,
                    e.full_btf_bytes
                ))?;
            }
            Ok(0)
        }
    }
}
