//! Command `versions`: fingerprints of kfuncs and named types.

use super::common::{write_out, KernelArgs, Out, OutputArgs};
use bpfabi::report::{self, Format};
use bpfabi::{Error, ErrorKind};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct VersionsArgs {
    /// Kernel inputs (as for `surface`); none: the running kernel.
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    kernel: KernelArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Also list these named types (`struct task_struct`, `task_struct`); repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Also list every named type the kfunc prototypes reach.
    #[arg(long)]
    reachable_types: bool,
    /// Only names matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    grep: Option<String>,
}

pub fn run(a: &VersionsArgs, w: Out) -> bpfabi::Result<u8> {
    use bpfabi::versions::{hex, Version};
    let format = a.out.format("versions")?;
    let k = a.kernel.model(&a.inputs)?;
    let btf = k.vmlinux();
    let mut keys: Vec<bpfabi::versions::Key> = Vec::new();
    for t in &a.types {
        keys.push(bpfabi::versions::lookup_type_name(btf, t).map_err(|what| Error::of(ErrorKind::NotFound, k.label(), what))?);
    }
    let mut v = k.versions();
    let mut out: Vec<Version> = k
        .surface()
        .kfuncs
        .iter()
        .filter_map(|f| {
            let (p, d) = v.kfuncs.get(&(f.name.clone(), f.module.clone()))?;
            Some(Version::new(f.name.clone(), "kfunc", f.module.clone(), hex(*p), hex(*d)))
        })
        .collect();
    if a.reachable_types {
        let mut r = v.vmlinux_keys();
        r.sort();
        keys.extend(r);
    }
    for key in keys {
        if let Some((sh, dp)) = v.type_version(btf, &key) {
            out.push(Version::new(key.name.clone(), key.class.as_str(), None, hex(sh), hex(dp)));
        }
    }
    drop(v);
    if let Some(p) = &a.grep {
        out.retain(|x| report::matches_pattern(p, &x.name));
    }
    write_out(match format {
        Format::Json => report::versions::json(w, k.kernel().release.as_deref(), &out),
        _ => report::versions::table(w, &out),
    })?;
    Ok(0)
}
