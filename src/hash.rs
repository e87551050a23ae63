//! FNV-1a 64, the one non-cryptographic hash of the crate: the BTF name
//! index and the id-free fingerprints (docs/fingerprints.md) both use it.
//! Small, fully specified and stable across platforms and releases, which
//! fingerprints need; collisions are tolerated because every index lookup
//! is verified against the name itself.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a of one byte string.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = OFFSET;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// FNV-1a over several parts, each followed by a 0xff separator so that
/// `("ab", "c")` and `("a", "bc")` differ.
pub fn fnv1a_parts(parts: &[&[u8]]) -> u64 {
    let mut h = OFFSET;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(PRIME);
        }
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
        assert_ne!(fnv1a_parts(&[b"ab", b"c"]), fnv1a_parts(&[b"a", b"bc"]));
    }
}

/// FNV-1a as a `std::hash::Hasher`, for hash maps on hot paths whose keys
/// are names and ids (SipHash, the standard default, costs several times
/// more per key). Like the name index, these maps tolerate collisions:
/// lookups compare the keys themselves.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(OFFSET)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }
    fn write_u32(&mut self, n: u32) {
        // One multiply for a whole id instead of four.
        self.0 ^= n as u64;
        self.0 = self.0.wrapping_mul(PRIME);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
        self.0 = self.0.wrapping_mul(PRIME);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` hashing with [`FnvHasher`].
pub type FnvHashMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FnvHasher>>;
/// A `HashSet` hashing with [`FnvHasher`].
pub type FnvHashSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<FnvHasher>>;
