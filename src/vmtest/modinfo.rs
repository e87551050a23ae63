//! Kernel module metadata: the `.modinfo` section of a `.ko` (`name=`,
//! `depends=`, `softdep=`, `alias=`), read from untrusted bytes, and the
//! load order of a set of modules with their dependencies.
//!
//! Debian packages do not ship `modules.dep` (depmod runs at install time),
//! so dependencies come from each module's own `depends=` field, as depmod
//! derives them; `softdep=pre:`/`post:` names (e.g. `libcrc32c` needs a
//! `crc32c` implementation) are followed too, through exact `alias=` names.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::ReadError;
use object::{Object, ObjectSection};
use std::collections::{BTreeMap, BTreeSet};

/// What a module says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// `name=` (always with underscores), else empty.
    pub name: String,
    /// `depends=`: modules that must be loaded first.
    pub depends: Vec<String>,
    /// `softdep=pre: ...` and `post: ...` names (module names or aliases).
    pub soft_pre: Vec<String>,
    /// Soft post-dependencies (`softdep ... post:`).
    pub soft_post: Vec<String>,
    /// `alias=` values.
    pub aliases: Vec<String>,
    /// `vermagic=`, which starts with the kernel release.
    pub vermagic: Option<String>,
}

/// Module names compare with `-` and `_` equal; the kernel uses `_`.
pub fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

/// The module name a file path implies: `.../nf_conntrack.ko.xz` -> `nf_conntrack`.
pub fn name_from_path(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let stem = [".ko.xz", ".ko.zst", ".ko.gz", ".ko"].iter().find_map(|s| file.strip_suffix(s))?;
    Some(normalize(stem))
}

/// Parse the `.modinfo` section of an (uncompressed) module ELF.
pub fn parse(elf: &[u8]) -> Result<ModInfo, ReadError> {
    let file = object::File::parse(elf).map_err(|e| ReadError::at(0, format!("expected a kernel module ELF: {e}")))?;
    let sec = file.section_by_name(".modinfo").ok_or_else(|| ReadError::msg("no .modinfo section: not a kernel module"))?;
    let data = sec.data().map_err(|e| ReadError::at(sec.file_range().map_or(0, |r| r.0 as usize), format!("bad .modinfo section: {e}")))?;
    Ok(parse_section(data))
}

/// Parse NUL-separated `key=value` strings.
pub fn parse_section(data: &[u8]) -> ModInfo {
    let mut m = ModInfo::default();
    for field in data.split(|&b| b == 0) {
        let s = String::from_utf8_lossy(field);
        let Some((k, v)) = s.split_once('=') else { continue };
        match k {
            "name" => m.name = normalize(v),
            "depends" => m.depends.extend(v.split(',').filter(|x| !x.is_empty()).map(normalize)),
            "alias" => m.aliases.push(v.to_string()),
            "vermagic" => m.vermagic = Some(v.to_string()),
            "softdep" => {
                let mut target = None;
                for word in v.split_whitespace() {
                    match word {
                        "pre:" => target = Some(true),
                        "post:" => target = Some(false),
                        w => match target {
                            Some(true) => m.soft_pre.push(w.to_string()),
                            Some(false) => m.soft_post.push(w.to_string()),
                            None => {}
                        },
                    }
                }
            }
            _ => {}
        }
    }
    m
}

/// The modules of one kernel, by name, with what each needs.
#[derive(Debug, Default, Clone)]
pub struct ModuleIndex {
    /// Modules.
    pub modules: BTreeMap<String, ModInfo>,
    /// alias -> module names.
    aliases: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleIndex {
    /// Add one module's information.
    pub fn insert(&mut self, file_name: String, mut info: ModInfo) {
        if info.name.is_empty() {
            info.name = file_name.clone();
        }
        for a in &info.aliases {
            self.aliases.entry(a.clone()).or_default().insert(file_name.clone());
        }
        self.modules.insert(file_name, info);
    }

    /// A name as a module name or, failing that, an exact alias.
    fn resolve(&self, name: &str) -> Vec<String> {
        let n = normalize(name);
        if self.modules.contains_key(&n) {
            return vec![n];
        }
        self.aliases.get(name).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// Insertion order for `wanted` and everything they need: hard
    /// dependencies and soft pre-dependencies before each module, soft
    /// post-dependencies after it. Names that are not modules of this kernel
    /// (built in, or absent) come back in the second list.
    pub fn load_order(&self, wanted: &[String]) -> (Vec<String>, Vec<String>) {
        let mut order = Vec::new();
        let mut missing = Vec::new();
        let mut state: BTreeMap<String, bool> = BTreeMap::new(); // false: visiting, true: done
        for w in wanted {
            let r = self.resolve(w);
            if r.is_empty() {
                missing.push(normalize(w));
            }
            for m in r {
                self.visit(&m, &mut state, &mut order, 0);
            }
        }
        (order, missing)
    }

    fn visit(&self, m: &str, state: &mut BTreeMap<String, bool>, order: &mut Vec<String>, depth: usize) {
        if state.contains_key(m) || depth > 64 {
            return;
        }
        let Some(info) = self.modules.get(m) else { return };
        state.insert(m.to_string(), false);
        for d in info.depends.iter().chain(info.soft_pre.iter()) {
            for r in self.resolve(d) {
                self.visit(&r, state, order, depth + 1);
            }
        }
        state.insert(m.to_string(), true);
        order.push(m.to_string());
        for d in &info.soft_post {
            for r in self.resolve(d) {
                self.visit(&r, state, order, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_order() {
        let sec = b"license=GPL\0depends=nf_defrag_ipv4,libcrc32c\0name=nf_conntrack\0vermagic=6.1.0-56-amd64 SMP mod_unload\0";
        let m = parse_section(sec);
        assert_eq!(m.name, "nf_conntrack");
        assert_eq!(m.depends, ["nf_defrag_ipv4", "libcrc32c"]);
        assert!(m.vermagic.as_deref().unwrap().starts_with("6.1.0-56-amd64"));
        let lib = parse_section(b"softdep=pre: crc32c\0depends=\0name=libcrc32c\0");
        assert_eq!(lib.soft_pre, ["crc32c"]);
        let mut idx = ModuleIndex::default();
        idx.insert("nf_conntrack".into(), m);
        idx.insert("libcrc32c".into(), lib);
        idx.insert("nf_defrag_ipv4".into(), parse_section(b"name=nf_defrag_ipv4\0"));
        idx.insert("crc32c_generic".into(), parse_section(b"alias=crc32c\0alias=crypto-crc32c\0name=crc32c_generic\0"));
        let (order, missing) = idx.load_order(&["nf_conntrack".into(), "bpf_crypto_skcipher".into()]);
        assert_eq!(order, ["nf_defrag_ipv4", "crc32c_generic", "libcrc32c", "nf_conntrack"]);
        assert_eq!(missing, ["bpf_crypto_skcipher"]);
    }

    #[test]
    fn cycles_end() {
        let mut idx = ModuleIndex::default();
        idx.insert("a".into(), parse_section(b"depends=b\0"));
        idx.insert("b".into(), parse_section(b"depends=a\0"));
        let (order, _) = idx.load_order(&["a".into()]);
        assert_eq!(order, ["b", "a"]);
    }

    #[test]
    fn names_from_paths() {
        assert_eq!(name_from_path("lib/modules/6.12/kernel/net/netfilter/nf_conntrack.ko.xz").as_deref(), Some("nf_conntrack"));
        assert_eq!(name_from_path("x/crc32c-intel.ko").as_deref(), Some("crc32c_intel"));
        assert_eq!(name_from_path("x/modules.dep"), None);
    }
}
