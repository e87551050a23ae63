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
