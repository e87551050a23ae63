//! JSON tokens written by hand, for the documents too large to go through
//! serde (diff's `changes`, a probe): strings escaped exactly as serde_json
//! escapes them, unsigned integers as it prints them. The tests hold both
//! to serde_json.

use std::io::{self, Write};

/// A JSON string as serde_json escapes it: `"` and `\` with a backslash,
/// control characters as `\b \t \n \f \r` or `\u00xx`, everything else as
/// is.
pub fn string(w: &mut impl Write, s: &str) -> io::Result<()> {
    w.write_all(b"\"")?;
    let b = s.as_bytes();
    // Most strings need no escape: looked for eight bytes at a time.
    let mut chunks = b.chunks_exact(8);
    let mut hit = 0;
    for c in chunks.by_ref() {
        hit |= escapes(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
    }
    if hit == 0 && chunks.remainder().iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
        w.write_all(b)?;
        return w.write_all(b"\"");
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                &[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]
            }
            _ => continue,
        };
        w.write_all(b.get(start..i).unwrap_or_default())?;
        w.write_all(esc)?;
        start = i + 1;
    }
    w.write_all(b.get(start..).unwrap_or_default())?;
    w.write_all(b"\"")
}

/// Non-zero when any of the eight bytes of `x` is below 0x20, `"` or `\`
/// (exact: the borrows of the subtractions only spread above a match).
#[inline]
fn escapes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let q = x ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let bs = x ^ (ONES * b'\\' as u64);
    let backslash = bs.wrapping_sub(ONES) & !bs & HIGH;
    below | quote | backslash
}

/// An unsigned integer in decimal (what serde_json writes for `u8`..`u64`
/// and `usize`), without going through `fmt`.
pub fn uint(w: &mut impl Write, mut n: u64) -> io::Result<()> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    w.write_all(digits.get(i..).unwrap_or_default())
}

/// `true` or `false`.
pub fn boolean(w: &mut impl Write, b: bool) -> io::Result<()> {
    w.write_all(if b { b"true" } else { b"false" })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character that needs escaping (and the ASCII ones that do
    /// not), at every position in and across an 8-byte chunk, escaped as
    /// serde_json escapes it; non-ASCII text and DEL as is.
    #[test]
    fn strings_as_serde_writes_them() {
        for i in 0..24 {
            for c in (0u8..0x80).map(char::from).chain(['é', '→', '\u{7f}', '\u{2028}', '\u{10ffff}']) {
                let s: String = std::iter::repeat_n('a', i).chain([c]).chain(std::iter::repeat_n('b', 9)).collect();
                let mut ours = Vec::new();
                string(&mut ours, &s).unwrap();
                assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
        let nasty: String = (0u8..0x20).map(char::from).chain("\"\\/é→\u{7f}x".chars()).collect();
        for s in ["", "\"", "\\", "1234567\"", &nasty] {
            let mut ours = Vec::new();
            string(&mut ours, s).unwrap();
            assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn integers_as_serde_writes_them() {
        let mut n = 1u64;
        let mut values = vec![0, 9, 10, 99, 100, u32::MAX as u64, u64::MAX, u64::MAX - 1];
        while let Some(m) = n.checked_mul(10) {
            values.extend([n - 1, n, n + 1]);
            n = m;
        }
        for v in values {
            let mut ours = Vec::new();
            uint(&mut ours, v).unwrap();
            assert_eq!(ours, serde_json::to_vec(&v).unwrap(), "{v}");
        }
        let (mut t, mut f) = (Vec::new(), Vec::new());
        boolean(&mut t, true).unwrap();
        boolean(&mut f, false).unwrap();
        assert_eq!((t, f), (serde_json::to_vec(&true).unwrap(), serde_json::to_vec(&false).unwrap()));
    }
}
