//! Target architectures, and what each architecture's BPF JIT can run per
//! kernel release.
//!
//! A kernel's architecture comes from its release string when that carries
//! a Debian flavour (`6.1.0-56-arm64`, `6.12.117+deb13-powerpc64le`), else
//! from the layout of `struct pt_regs` in its BTF (every architecture spells
//! its registers differently), else, for the running kernel, from the host.
//! Whether the JIT exists at all comes from the kernel configuration when
//! one is at hand (a `config` file beside the BTF, as in `bpfabi`'s cache
//! and the corpus; `/boot/config-<release>` for the running kernel).
//!
//! The per-release JIT table is documented, with its sources, in
//! `docs/arch-jit.md`.

use super::Kernel;
use crate::btf::{Btf, Kind};
use crate::release::Release;
use serde::Serialize;
use std::path::Path;

/// A Debian architecture (the names `dpkg --print-architecture` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// 32-bit x86.
    I386,
    /// AArch64.
    Arm64,
    /// 32-bit ARM, hard float.
    Armhf,
    /// 32-bit ARM, soft float.
    Armel,
    /// 64-bit POWER, little-endian.
    Ppc64el,
    /// IBM Z (big-endian).
    S390x,
    /// 64-bit RISC-V.
    Riscv64,
    /// 64-bit MIPS, little-endian.
    Mips64el,
    /// LoongArch 64.
    Loong64,
}

/// Every architecture, in display order.
pub const ALL: &[Arch] =
    &[Arch::Amd64, Arch::Arm64, Arch::Armhf, Arch::Armel, Arch::I386, Arch::Ppc64el, Arch::Riscv64, Arch::S390x, Arch::Mips64el, Arch::Loong64];

impl Arch {
    /// The Debian name (`amd64`, `ppc64el`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::I386 => "i386",
            Arch::Arm64 => "arm64",
            Arch::Armhf => "armhf",
            Arch::Armel => "armel",
            Arch::Ppc64el => "ppc64el",
            Arch::S390x => "s390x",
            Arch::Riscv64 => "riscv64",
            Arch::Mips64el => "mips64el",
            Arch::Loong64 => "loong64",
        }
    }

    /// From a Debian architecture name (`arm64`).
    pub fn from_name(s: &str) -> Option<Arch> {
        ALL.iter().copied().find(|a| a.name() == s)
    }

    /// The Linux architecture directory (`arch/<dir>`), for messages.
    pub fn kernel_dir(self) -> &'static str {
        match self {
            Arch::Amd64 | Arch::I386 => "x86",
            Arch::Arm64 => "arm64",
            Arch::Armhf | Arch::Armel => "arm",
            Arch::Ppc64el => "powerpc",
            Arch::S390x => "s390",
            Arch::Riscv64 => "riscv",
            Arch::Mips64el => "mips",
            Arch::Loong64 => "loongarch",
        }
    }

    /// The flavour of Debian's default kernel metapackage (`linux-image-<flavour>`).
    pub fn default_flavour(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::I386 => "686-pae",
            Arch::Arm64 => "arm64",
            Arch::Armhf => "armmp",
            Arch::Armel => "marvell",
            Arch::Ppc64el => "powerpc64le",
            Arch::S390x => "s390x",
            Arch::Riscv64 => "riscv64",
            Arch::Mips64el => "mips64r2el",
            Arch::Loong64 => "loong64",
        }
    }

    /// The architecture a Debian kernel flavour is built for (`cloud-amd64`,
    /// `rt-armmp`, `686-pae`, `powerpc64le-64k`, `arm64-16k`, ...).
    pub fn from_flavour(flavour: &str) -> Option<Arch> {
        let parts: Vec<&str> = flavour.split('-').collect();
        let has = |p: &str| parts.contains(&p);
        Some(if has("amd64") {
            Arch::Amd64
        } else if has("arm64") {
            Arch::Arm64
        } else if has("armmp") {
            Arch::Armhf
        } else if has("marvell") || has("rpi") {
            Arch::Armel
        } else if has("686") || has("pae") {
            Arch::I386
        } else if has("powerpc64le") {
            Arch::Ppc64el
        } else if has("s390x") {
            Arch::S390x
        } else if has("riscv64") {
            Arch::Riscv64
        } else if has("loong64") {
            Arch::Loong64
        } else if parts.iter().any(|p| p.starts_with("mips64") || *p == "5kc" || *p == "octeon" || *p == "loongson") {
            Arch::Mips64el
        } else {
            return None;
        })
    }

    /// The architecture named by a Debian release string's flavour
    /// (`6.1.0-56-cloud-arm64` -> arm64); `None` for other releases.
    pub fn from_release(release: &str) -> Option<Arch> {
        // The flavour follows the ABI number: drop leading version parts.
        let rest = release.split_once('-').map(|x| x.1)?;
        let flavour: Vec<&str> = rest.split('-').skip_while(|p| p.chars().all(|c| c.is_ascii_digit())).collect();
        Arch::from_flavour(&flavour.join("-"))
    }

    /// The host this program runs on.
    pub fn native() -> Option<Arch> {
        Some(match std::env::consts::ARCH {
            "x86_64" => Arch::Amd64,
            "x86" => Arch::I386,
            "aarch64" => Arch::Arm64,
            "arm" => Arch::Armhf,
            "powerpc64" => Arch::Ppc64el,
            "s390x" => Arch::S390x,
            "riscv64" => Arch::Riscv64,
            "mips64" => Arch::Mips64el,
            "loongarch64" => Arch::Loong64,
            _ => return None,
        })
    }

    /// From the members of `struct pt_regs` (and pointer size) in a vmlinux BTF.
    pub fn from_btf(btf: &Btf) -> Option<Arch> {
        let regs = btf.by_name("pt_regs").find(|t| t.kind == Kind::Struct)?;
        // Member names, through anonymous structs and unions (ppc64, s390x, arm64).
        let mut members: Vec<&str> = Vec::new();
        let mut stack = vec![(regs.id, 0)];
        while let Some((id, depth)) = stack.pop() {
            let Some(t) = btf.resolve(id) else { continue };
            for m in t.members() {
                if m.name.is_empty() && depth < 4 {
                    stack.push((m.ty, depth + 1));
                } else {
                    members.push(m.name);
                }
            }
        }
        let has = |n: &str| members.contains(&n);
        let long_size = btf.by_name("long int").find(|t| t.kind == Kind::Int).map(|t| t.size());
        Some(if has("r15") && has("orig_ax") {
            Arch::Amd64
        } else if has("bx") && has("orig_ax") {
            Arch::I386
        } else if has("pstate") || has("syscallno") {
            Arch::Arm64
        } else if has("uregs") {
            Arch::Armhf
        } else if has("psw") && has("gprs") {
            Arch::S390x
        } else if has("epc") && has("ra") && has("t6") {
            Arch::Riscv64
        } else if has("gpr") && has("nip") {
            (long_size == Some(8)).then_some(Arch::Ppc64el)?
        } else if has("cp0_status") {
            Arch::Mips64el
        } else if has("csr_era") {
            Arch::Loong64
        } else {
            return None;
        })
    }

    /// Whether its BTF is big-endian.
    pub fn big_endian(self) -> bool {
        matches!(self, Arch::S390x)
    }
}

/// Where the architecture of a kernel was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchEvidence {
    /// The flavour in the release string.
    Release,
    /// `struct pt_regs` in the BTF.
    Btf,
    /// The running kernel: the host.
    Host,
}

/// What the kernel configuration says about the JIT, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JitConfig {
    /// `CONFIG_BPF_JIT=y`.
    pub jit: bool,
    /// `CONFIG_BPF_JIT_ALWAYS_ON=y`.
    pub always_on: bool,
}

/// What is known about a kernel's architecture and JIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KernelArch {
    /// The architecture.
    pub arch: Arch,
    /// What said so.
    pub evidence: ArchEvidence,
    /// Kernel version, when known.
    #[serde(serialize_with = "crate::release::serialize_series")]
    pub version: Option<Release>,
    /// From the kernel configuration, when one was found.
    pub config: Option<JitConfig>,
}

/// Parse `CONFIG_BPF_JIT` / `CONFIG_BPF_JIT_ALWAYS_ON` out of a `.config`.
pub fn jit_config(text: &str) -> Option<JitConfig> {
    // A config that never mentions BPF at all is not a kernel config.
    if !text.contains("CONFIG_BPF") {
        return None;
    }
    let (mut jit, mut always_on) = (false, false);
    for l in text.lines() {
        match l.trim() {
            "CONFIG_BPF_JIT=y" => jit = true,
            "CONFIG_BPF_JIT_ALWAYS_ON=y" => always_on = true,
            _ => {}
        }
    }
    Some(JitConfig { jit, always_on })
}

/// The configuration of a loaded kernel: `config` in an input directory
/// (bpfabi's cache, the corpus), `config-<release>` beside an image, or
/// `/boot/config-<release>` for the running kernel.
fn config_of(k: &Kernel) -> Option<JitConfig> {
    // The config the inputs carried (a package's boot/config-*, a tree's, a
    // corpus or catalog directory's `config`), else files beside them.
    if let Some(c) = k.info.config.as_deref().and_then(jit_config) {
        return Some(c);
    }
    let mut cands: Vec<std::path::PathBuf> = Vec::new();
    for i in &k.inputs {
        let p = Path::new(i);
        if p.is_dir() {
            cands.push(p.join("config"));
        }
        if p.starts_with("/sys/kernel/btf") {
            if let Some(r) = &k.release {
                cands.push(Path::new("/boot").join(format!("config-{r}")));
            }
        }
    }
    cands.into_iter().find_map(|p| std::fs::read_to_string(p).ok()).and_then(|t| jit_config(&t))
}

impl KernelArch {
    /// Everything known about `k`'s architecture, `None` if nothing says.
    pub fn of(k: &Kernel) -> Option<KernelArch> {
        let version = k.version();
        let (arch, evidence) = if let Some(a) = k.release.as_deref().and_then(Arch::from_release) {
            (a, ArchEvidence::Release)
        } else if let Some(a) = Arch::from_btf(&k.vmlinux.btf) {
            (a, ArchEvidence::Btf)
        } else if k.inputs.iter().any(|i| i.starts_with("/sys/kernel/btf")) {
            (Arch::native()?, ArchEvidence::Host)
        } else {
            return None;
        };
        Some(KernelArch { arch, evidence, version, config: config_of(k) })
    }
}

/// Features only a JIT provides, that some JITs lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JitFeature {
    /// Calls to kernel functions (`bpf_jit_supports_kfunc_call()`); the
    /// verifier refuses kfunc calls without the JIT.
    KfuncCall,
    /// Tail calls in programs that also make bpf-to-bpf calls
    /// (`bpf_jit_supports_subprog_tailcalls()`).
    SubprogTailcalls,
}

impl JitFeature {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            JitFeature::KfuncCall => "kfunc calls",
            JitFeature::SubprogTailcalls => "tail calls mixed with bpf-to-bpf calls",
        }
    }
}

/// One row of the JIT table: from which release an architecture's JIT has
/// a feature (`None`: not in any release this table covers), and the
/// upstream commit that added it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JitRow {
    /// Architecture.
    pub arch: Arch,
    /// The JIT feature.
    pub feature: JitFeature,
    /// First release whose JIT has it (None: none yet).
    #[serde(serialize_with = "crate::release::serialize_series")]
    pub since: Option<Release>,
    /// Where that comes from (commit and subject).
    pub source: &'static str,
}

const fn row(arch: Arch, feature: JitFeature, since: Option<(u32, u32)>, source: &'static str) -> JitRow {
    let since = match since {
        Some((a, b)) => Some(Release::new(a, b, 0)),
        None => None,
    };
    JitRow { arch, feature, since, source }
}

use JitFeature::{KfuncCall as K, SubprogTailcalls as T};

/// The table (sources in docs/arch-jit.md). Architectures absent for a
/// feature are unknown: no finding is reported for them.
pub const JIT_TABLE: &[JitRow] = &[
    row(Arch::Amd64, K, Some((5, 13)), "e6ac2450d6de bpf: Support bpf program calling kernel function"),
    row(Arch::I386, K, Some((5, 13)), "797b84f727bc bpf: Support kernel function call in x86-32"),
    row(Arch::Arm64, K, Some((5, 18)), "b5e975d256db bpf, arm64: Enable kfunc call"),
    row(Arch::Armhf, K, Some((6, 2)), "bpf: Add kernel function call support in 32-bit ARM for EABI (Yang Jihong)"),
    row(Arch::Armel, K, Some((6, 2)), "bpf: Add kernel function call support in 32-bit ARM for EABI (Yang Jihong)"),
    row(Arch::S390x, K, Some((6, 3)), "63d7b53ab59f s390/bpf: Implement bpf_jit_supports_kfunc_call()"),
    row(Arch::Riscv64, K, Some((6, 4)), "riscv, bpf: Add kfunc support for RV64 (Pu Lehui)"),
    row(Arch::Ppc64el, K, Some((6, 9)), "powerpc/bpf: enable kfunc call (Hari Bathini)"),
    row(Arch::Mips64el, K, None, "arch/mips/net/bpf_jit_comp*.c defines no bpf_jit_supports_kfunc_call()"),
    row(Arch::Amd64, T, Some((5, 10)), "e411901c0b77 bpf: allow for tailcalls in BPF subprograms for x64 JIT"),
    row(Arch::Arm64, T, Some((6, 0)), "d4609a5d8c70 bpf, arm64: Keep tail call count across bpf2bpf calls"),
    row(Arch::S390x, T, Some((6, 3)), "dd691e847d28 s390/bpf: Implement bpf_jit_supports_subprog_tailcalls()"),
    row(Arch::Riscv64, T, Some((6, 9)), "ec72848ca0ad riscv, bpf: Mixing bpf2bpf and tailcalls"),
    row(Arch::Ppc64el, T, Some((7, 0)), "2ed2d8f6fb38 powerpc64/bpf: Support tailcalls with subprogs"),
    row(Arch::I386, T, None, "x86-32 JIT compiles no bpf-to-bpf calls"),
    row(Arch::Armhf, T, None, "arm32 JIT compiles no bpf-to-bpf calls"),
    row(Arch::Armel, T, None, "arm32 JIT compiles no bpf-to-bpf calls"),
];

/// Can the JIT of `arch` at `version` do `feature`? `None` when the table
/// does not know.
pub fn jit_row(arch: Arch, feature: JitFeature) -> Option<&'static JitRow> {
    JIT_TABLE.iter().find(|r| r.arch == arch && r.feature == feature)
}

/// Why `feature` cannot run on this kernel, or `None` when it can (or
/// nothing is known).
pub fn jit_blocker(ka: &KernelArch, feature: JitFeature) -> Option<String> {
    if let Some(c) = ka.config {
        if !c.jit {
            return Some(format!(
                "this {} kernel has no BPF JIT (CONFIG_BPF_JIT is not set){}; {} need the JIT",
                ka.arch.name(),
                if ka.arch == Arch::S390x { ", as Debian's s390x kernels built for z10 are" } else { "" },
                feature.describe()
            ));
        }
    }
    let row = jit_row(ka.arch, feature)?;
    let v = ka.version?;
    match row.since {
        Some(since) if v >= since => None,
        Some(since) => Some(format!(
            "the {} JIT ({}) supports {} from Linux {}.{} ({}); this kernel is {}.{}",
            ka.arch.name(),
            ka.arch.kernel_dir(),
            feature.describe(),
            since.major,
            since.minor,
            row.source,
            v.major,
            v.minor
        )),
        None => Some(format!("the {} JIT does not support {} ({})", ka.arch.name(), feature.describe(), row.source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_from_release_and_flavour() {
        assert_eq!(Arch::from_release("6.1.0-56-amd64"), Some(Arch::Amd64));
        assert_eq!(Arch::from_release("6.1.0-56-cloud-arm64"), Some(Arch::Arm64));
        assert_eq!(Arch::from_release("6.12.117+deb13-powerpc64le"), Some(Arch::Ppc64el));
        assert_eq!(Arch::from_release("6.12.117+deb13-armmp-lpae"), Some(Arch::Armhf));
        assert_eq!(Arch::from_release("6.1.0-50-686-pae"), Some(Arch::I386));
        assert_eq!(Arch::from_release("6.12.117+deb13-riscv64"), Some(Arch::Riscv64));
        assert_eq!(Arch::from_release("7.2.13+deb14-s390x"), Some(Arch::S390x));
        assert_eq!(Arch::from_release("6.18.44-fc-v595"), None);
        assert_eq!(Arch::from_release("5.10.0-32-rt-amd64"), Some(Arch::Amd64));
        assert_eq!(Arch::from_flavour("arm64-16k"), Some(Arch::Arm64));
    }

    #[test]
    fn jit_table_decisions() {
        let ka = |arch, v: (u32, u32), config| KernelArch { arch, evidence: ArchEvidence::Release, version: Some(Release::new(v.0, v.1, 0)), config };
        assert!(jit_blocker(&ka(Arch::Arm64, (5, 10), None), JitFeature::KfuncCall).is_some());
        assert!(jit_blocker(&ka(Arch::Arm64, (6, 1), None), JitFeature::KfuncCall).is_none());
        assert!(jit_blocker(&ka(Arch::Ppc64el, (6, 1), None), JitFeature::KfuncCall).is_some());
        assert!(jit_blocker(&ka(Arch::Ppc64el, (6, 12), None), JitFeature::KfuncCall).is_none());
        assert!(jit_blocker(&ka(Arch::Riscv64, (6, 1), None), JitFeature::SubprogTailcalls).is_some());
        let no_jit = Some(JitConfig { jit: false, always_on: false });
        let msg = jit_blocker(&ka(Arch::S390x, (6, 12), no_jit), JitFeature::KfuncCall).unwrap_or_default();
        assert!(msg.contains("CONFIG_BPF_JIT is not set"), "{msg}");
        // Unknown architecture/feature pairs give no finding.
        assert!(jit_blocker(&ka(Arch::Loong64, (6, 1), None), JitFeature::KfuncCall).is_none());
    }

    #[test]
    fn jit_config_parsing() {
        assert_eq!(jit_config("CONFIG_BPF=y\nCONFIG_BPF_JIT=y\n# CONFIG_BPF_JIT_ALWAYS_ON is not set\n"), Some(JitConfig { jit: true, always_on: false }));
        assert_eq!(jit_config("CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\n"), Some(JitConfig { jit: false, always_on: false }));
        assert_eq!(jit_config("hello"), None);
    }
}
