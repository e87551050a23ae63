//! Release and package version orderings, shared by every layer. Debian
//! version ordering (`dpkg --compare-versions`, dpkg `verrevcmp`): epoch, upstream
//! version and revision compared part by part, letters before non-letters,
//! `~` before everything, digits numerically.

use std::cmp::Ordering;

fn split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), r),
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

/// dpkg's `verrevcmp` on one part.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        while (i < a.len() && !a.get(i).is_some_and(u8::is_ascii_digit)) || (j < b.len() && !b.get(j).is_some_and(u8::is_ascii_digit)) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            if i < a.len() && !a.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if j < b.len() && !b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
        // Digit run, numerically (leading zeros ignored).
        let num = |s: &[u8], k: &mut usize| {
            let start = *k;
            while s.get(*k).is_some_and(u8::is_ascii_digit) {
                *k += 1;
            }
            let d = s.get(start..*k).unwrap_or(&[]);
            let d = d.get(d.iter().position(|&c| c != b'0').unwrap_or(d.len())..).unwrap_or(&[]);
            d.to_vec()
        };
        let (x, y) = (num(a, &mut i), num(b, &mut j));
        let o = x.len().cmp(&y.len()).then_with(|| x.cmp(&y));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Compare two Debian versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb).then_with(|| verrevcmp(ua, ub)).then_with(|| verrevcmp(ra, rb))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn dpkg_ordering() {
        // Each pair checked with `dpkg --compare-versions`.
        for (a, b, o) in [
            ("6.12.117-1", "6.12.95-1~bpo12+1", Greater),
            ("6.1.176-1", "6.1.192-2", Less),
            ("7.3.4-1~bpo13+1", "7.3.4-1", Less),
            ("1.0~rc1", "1.0", Less),
            ("1:1.0", "2.0", Greater),
            ("6.12.117-1", "6.12.117-1", Equal),
            ("1.0a", "1.0+", Less),
            ("2.30-2", "2.30-10", Less),
        ] {
            assert_eq!(compare(a, b), o, "{a} vs {b}");
        }
    }
}
