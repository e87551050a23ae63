//! Rendering of analysis results: human tables, C headers, JSON. Renderers
//! only format data the analyses produced; they compute nothing.

pub mod check;
pub mod diff;
pub mod surface;
pub mod versions;
pub mod vmtest;

/// Left-aligned text table with a header row; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i + 1 < n {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', w[i] - c.chars().count() + 2));
            } else {
                s.push_str(c);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

/// Shell-style pattern match (`*`, `?`); a pattern without either matches
/// as a substring.
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return text.contains(pattern);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with backtracking to the last star.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn patterns() {
        assert!(matches_pattern("task", "bpf_task_acquire"));
        assert!(matches_pattern("bpf_*_acquire", "bpf_task_acquire"));
        assert!(!matches_pattern("bpf_*_acquire", "bpf_task_release"));
        assert!(matches_pattern("bpf_?pu*", "bpf_cpumask_create"));
        assert!(!matches_pattern("bpf_?pux*", "bpf_cpumask_create"));
        assert!(matches_pattern("*", ""));
    }
}
