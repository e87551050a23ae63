//! Releases, dates and package version orderings, shared by every layer:
//! [`Release`] (a kernel release label, parsed once, ordered, with its
//! series), [`Date`], and Debian
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

/// A kernel release as policies, tables and labels name it: `MAJOR.MINOR`
/// or `MAJOR.MINOR.PATCH` (patch 0 when absent). Parsed once; ordered
/// numerically (`6.12.95 < 6.12.117 < 6.13`); written as its label (`6.1`,
/// `6.12.95`: the patch only when non-zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// `6` of `6.12.95`.
    pub major: u32,
    /// `12` of `6.12.95`.
    pub minor: u32,
    /// `95` of `6.12.95` (0 for `6.12`).
    pub patch: u32,
}

impl Release {
    /// `MAJOR.MINOR.PATCH`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Release {
        Release { major, minor, patch }
    }
    /// A label, exactly: `6.1` or `6.12.95` (nothing else around it).
    ///
    /// ```
    /// use bpfabi::release::Release;
    /// assert_eq!(Release::parse("6.12.95"), Some(Release::new(6, 12, 95)));
    /// assert!(Release::parse("6.12.95") < Release::parse("6.12.117"));
    /// assert_eq!(Release::parse("6.12-rc1"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Release> {
        let mut it = s.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(c) => c.parse().ok()?,
            None => 0,
        };
        it.next().is_none().then_some(Release { major, minor, patch })
    }
    /// The release of a kernel release string (`uname -r`): its leading
    /// `MAJOR.MINOR[.PATCH]` (`6.12.117+deb13-amd64` is 6.12.117; Debian's
    /// `5.10.0-32-amd64` is 5.10).
    ///
    /// ```
    /// use bpfabi::release::Release;
    /// assert_eq!(Release::of_kernel("6.12.117+deb13-amd64").map(|r| r.to_string()).as_deref(), Some("6.12.117"));
    /// assert_eq!(Release::of_kernel("5.10.0-32-amd64").map(|r| r.to_string()).as_deref(), Some("5.10"));
    /// ```
    pub fn of_kernel(release: &str) -> Option<Release> {
        let head = release.find(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(release, |i| release.get(..i).unwrap_or(""));
        let mut parts = head.split('.').filter(|p| !p.is_empty()).map(|p| p.parse::<u32>().ok());
        let (major, minor) = (parts.next()??, parts.next()??);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(Release { major, minor, patch })
    }
    /// The mainline series (`6.12` of `6.12.95`: patch 0).
    pub const fn series(self) -> Release {
        Release { major: self.major, minor: self.minor, patch: 0 }
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.patch {
            0 => write!(f, "{}.{}", self.major, self.minor),
            p => write!(f, "{}.{}.{p}", self.major, self.minor),
        }
    }
}

/// Serialize an optional series as `[MAJOR, MINOR]` (or `null`): the JSON
/// of a kernel's version and of the JIT table's `since`.
pub fn serialize_series<S: serde::Serializer>(v: &Option<Release>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&v.map(|r| [r.major, r.minor]), s)
}

/// A calendar date (proleptic Gregorian, UTC), ordered. Written and parsed
/// as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
}

impl Date {
    /// A date from its parts (not validated: tables use it).
    pub const fn new(year: i32, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }
    /// `YYYY-MM-DD`, exactly.
    ///
    /// ```
    /// use bpfabi::release::Date;
    /// assert_eq!(Date::parse("2025-01-19"), Some(Date::new(2025, 1, 19)));
    /// assert_eq!(Date::parse("2025-13-01"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let (y, m, d) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
        (it.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d) && s.len() == 10).then_some(Date { year: y, month: m, day: d })
    }
    /// The date `days` days after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date { year: (if m <= 2 { y + 1 } else { y }) as i32, month: m, day: d }
    }
    /// Today (UTC).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Date::from_days((secs / 86400) as i64)
    }
    /// Whole months from `self` to `later` (a month counts once its day is
    /// reached: 2025-01-19 to 2025-02-18 is 0).
    pub fn months_until(self, later: Date) -> i64 {
        let mut m = (later.year as i64 - self.year as i64) * 12 + later.month as i64 - self.month as i64;
        if later.day < self.day {
            m -= 1;
        }
        m
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn releases_and_series() {
        use super::Release;
        assert_eq!(Release::of_kernel("6.12.117+deb13-amd64"), Some(Release::new(6, 12, 117)));
        assert_eq!(Release::of_kernel("6.1.0-56-amd64").map(Release::series), Some(Release::new(6, 1, 0)));
        assert_eq!(Release::of_kernel("x"), None);
        assert!(Release::new(6, 18, 44) < Release::new(6, 19, 0));
        assert_eq!(Release::new(6, 12, 95).series().to_string(), "6.12");
        // A kernel's version in JSON (KernelArch, the JIT table) stays `[6, 12]`.
        #[derive(serde::Serialize)]
        struct V(#[serde(serialize_with = "super::serialize_series")] Option<Release>);
        assert_eq!(serde_json::to_string(&V(Some(Release::new(6, 12, 0)))).unwrap(), "[6,12]");
        assert_eq!(serde_json::to_string(&V(None)).unwrap(), "null");
    }

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
