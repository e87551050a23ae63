//! Which modules of a kernel define a name: one pass over the modules' own
//! named types, so that a lookup vmlinux cannot answer asks only the few
//! modules that have the name. Without it a lookup asks every module in
//! turn, and each module asked builds its own by-name index and reads all
//! its strings: for a kernel with 4,216 module BTFs (Debian's 7.2), one
//! CO-RE relocation or kfunc missing from vmlinux grew the model by about
//! 90 MiB of module name indexes.
//!
//! The index is a sorted list of 64-bit entries, each a name hash (upper
//! bits) and a module position (lower [`MODULE_BITS`] bits): eight bytes
//! per (name, module) pair, a lookup is a binary search. A name `a___b` is
//! also entered under every prefix that ends before a `___` (`a`), so the
//! flavoured candidates of CO-RE (libbpf, aya and cilium/ebpf each strip
//! a `___flavour` their own way: `crate::object::essential`) are found by
//! their essential name. Hash collisions only add modules, which the
//! caller's exact lookup then rules out.

use super::KernelBtf;

/// Bits of an entry that hold the module position.
const MODULE_BITS: u32 = 20;
const MODULE_MASK: u64 = (1 << MODULE_BITS) - 1;

/// The module index of one kernel (see the module documentation).
#[derive(Debug, Default)]
pub struct ModuleNames {
    /// `hash & !MODULE_MASK | position`, sorted, no duplicates; `None`
    /// when there are too many modules to pack (every module is then a
    /// candidate).
    entries: Option<Vec<u64>>,
    modules: usize,
}

fn key(name: &[u8], module: usize) -> u64 {
    (crate::hash::fnv1a(name) & !MODULE_MASK) | module as u64
}

impl ModuleNames {
    /// Index the own named types of `modules` (positions are indices into
    /// this slice).
    pub fn build(modules: &[KernelBtf]) -> Self {
        if modules.len() as u64 > MODULE_MASK {
            return ModuleNames { entries: None, modules: modules.len() };
        }
        let mut entries = Vec::new();
        let mut own: Vec<u64> = Vec::new();
        for (i, m) in modules.iter().enumerate() {
            own.clear();
            for (_, _, off) in m.btf.kinds_and_names() {
                if off.get() == 0 {
                    continue;
                }
                let name = m.btf.str_bytes_at(off);
                if name.is_empty() {
                    continue;
                }
                own.push(key(name, i));
                // Every prefix before a `___` (overlapping ones too:
                // `a____b` is entered under `a` and `a_`).
                for p in memchr::memchr_iter(b'_', name) {
                    if name.get(p + 1..p + 3) == Some(b"__") {
                        own.push(key(name.get(..p).unwrap_or(&[]), i));
                    }
                }
            }
            own.sort_unstable();
            own.dedup();
            entries.extend_from_slice(&own);
            // Every name read: one module's bytes resident at a time.
            m.btf.release_pages();
        }
        entries.sort_unstable();
        entries.shrink_to_fit();
        ModuleNames { entries: Some(entries), modules: modules.len() }
    }

    /// Positions of the modules that may define a type named `name` or a
    /// flavour of it (`name___x`), ascending.
    pub fn modules(&self, name: &[u8]) -> Vec<usize> {
        let Some(entries) = &self.entries else { return (0..self.modules).collect() };
        let lo = crate::hash::fnv1a(name) & !MODULE_MASK;
        let a = entries.partition_point(|&e| e < lo);
        let b = entries.partition_point(|&e| e <= lo | MODULE_MASK);
        entries.get(a..b).unwrap_or(&[]).iter().map(|&e| (e & MODULE_MASK) as usize).collect()
    }

    /// Entries held (one per distinct name and prefix of each module).
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Vec::len)
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::builder::Builder;
    use crate::btf::Btf;
    use crate::bytes::{Bytes, Endian};
    use std::sync::Arc;

    #[test]
    fn finds_names_and_flavours_in_their_modules_only() {
        let mut b = Builder::new(Endian::Little);
        let int = b.int("int", 4, 32, true);
        let base = Arc::new(Btf::parse(Bytes::from_vec(b.build())).unwrap());
        let module = |names: &[&str]| {
            let mut s = Builder::new_split(Endian::Little, b.next_id().get() - 1, b.str_len());
            for n in names {
                s.composite(false, n, 4, &[("x", int, 0, 0)]);
            }
            let btf = Btf::parse_split(Bytes::from_vec(s.build()), base.clone()).unwrap();
            KernelBtf::new("m", Arc::new(btf), None, "test")
        };
        let mods = vec![module(&["a", "task_struct___v1"]), module(&["b"]), module(&["a", "x____y"])];
        let idx = ModuleNames::build(&mods);
        assert_eq!(idx.modules(b"a"), [0, 2]);
        assert_eq!(idx.modules(b"b"), [1]);
        assert_eq!(idx.modules(b"task_struct"), [0]);
        assert_eq!(idx.modules(b"task_struct___v1"), [0]);
        assert_eq!(idx.modules(b"x"), [2]);
        assert_eq!(idx.modules(b"x_"), [2]);
        assert!(idx.modules(b"int").is_empty(), "base types are not the modules'");
        assert!(idx.modules(b"c").is_empty());
    }
}
