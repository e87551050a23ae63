//! The layers `src/lib.rs` states, enforced: every module (a file of `src/`,
//! named to depth 2 as `check` or `kernel::debian`) imports only modules of
//! its own layer or below, and no modules import each other in a cycle.
//! Imports are the `crate::a::b` paths of a file (`use` lines, inline paths,
//! doc links, `crate::a::{b, c}` groups) and `super::x` paths; a module's
//! unit tests (`#[cfg(test)] mod tests` and what follows) may reach
//! anywhere. Edges between a module and its own submodules do not count
//! (a parent re-exports its children).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The full module path of a file (`src/check/core.rs` -> [check, core],
/// `src/check/mod.rs` -> [check], `src/lib.rs` -> []).
fn full_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn node(parts: &[String]) -> String {
    parts.iter().take(2).cloned().collect::<Vec<_>>().join("::")
}

/// The node a path names: its depth-2 prefix when that is a module, else
/// its first segment when that is one.
fn target(parts: &[&str], names: &BTreeSet<String>) -> Option<String> {
    (1..=2).rev().filter(|&k| k <= parts.len()).map(|k| parts[..k].join("::")).find(|n| names.contains(n))
}

/// `a::b::c` paths after `prefix` in `text`, with `{x, y::z}` groups expanded.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(i) = text[at..].find(prefix) {
        let start = at + i;
        at = start + prefix.len();
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let mut segs = Vec::new();
        let mut j = at;
        loop {
            let k = text[j..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(text.len(), |k| j + k);
            if k == j {
                break;
            }
            segs.push(text[j..k].to_string());
            if text[k..].starts_with("::") {
                j = k + 2;
                if text[j..].starts_with('{') {
                    let end = text[j..].find('}').map_or(text.len(), |e| j + e);
                    for item in text[j + 1..end].split(',') {
                        let mut s = segs.clone();
                        s.extend(item.trim().split("::").map(|x| x.trim().to_string()).filter(|x| !x.is_empty()));
                        out.push(s);
                    }
                    break;
                }
            } else {
                break;
            }
        }
        if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

/// Module -> the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let names: BTreeSet<String> = all.iter().map(|f| node(&full_path(f))).filter(|n| !n.is_empty()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for f in &all {
        let full = full_path(f);
        let m = node(&full);
        if m.is_empty() || f.file_name().is_some_and(|n| n == "main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let mut found: Vec<Vec<String>> = paths_after(code, "crate::");
        // `super::x` in module a::b (file a/b.rs) is a::x.
        let parent: Vec<String> = full.iter().take(full.len().saturating_sub(1)).cloned().collect();
        for p in paths_after(code, "super::") {
            found.push(parent.iter().cloned().chain(p).collect());
        }
        for p in found {
            let parts: Vec<&str> = p.iter().map(String::as_str).collect();
            let Some(t) = target(&parts, &names) else { continue };
            let related = t == m || m.starts_with(&format!("{t}::")) || t.starts_with(&format!("{m}::"));
            if !related {
                edges.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    edges
}

/// The layers of `src/lib.rs`: lines `//! N. title: `a` `b::c` `d::*``.
fn layers() -> Vec<(String, Vec<String>)> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut out = Vec::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((head, rest)) = line.split_once(": ") else { continue };
        let Some((num, title)) = head.split_once(". ") else { continue };
        if num.parse::<usize>().ok() != Some(out.len() + 1) {
            continue;
        }
        let mods: Vec<String> = rest.split('`').skip(1).step_by(2).map(str::to_string).collect();
        out.push((title.to_string(), mods));
    }
    out
}

fn layer_of(m: &str, layers: &[(String, Vec<String>)]) -> Option<usize> {
    let find = |name: &str| layers.iter().position(|(_, ms)| ms.iter().any(|x| x == name));
    let top = m.split("::").next().unwrap_or(m);
    find(m).or_else(|| if m.contains("::") { find(&format!("{top}::*")) } else { None }).or_else(|| find(top))
}

#[test]
fn every_module_imports_only_its_layer_or_below() {
    let layers = layers();
    assert!(layers.len() >= 5, "src/lib.rs states no layers (lines `//! 1. title: `module` ...`): {layers:?}");
    let g = graph();
    let mut problems = Vec::new();
    for (m, ts) in &g {
        let Some(lm) = layer_of(m, &layers) else {
            problems.push(format!("{m} is in no layer of src/lib.rs"));
            continue;
        };
        for t in ts {
            match layer_of(t, &layers) {
                Some(lt) if lt > lm => problems.push(format!("{m} (layer {}, {}) imports {t} (layer {}, {})", lm + 1, layers[lm].0, lt + 1, layers[lt].0)),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

/// Tarjan's strongly connected components with more than one module.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct St<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        idx: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn strong<'a>(s: &mut St<'a>, v: &'a str) {
        let n = s.idx.len();
        s.idx.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        let g = s.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.idx.contains_key(w) {
                strong(s, w);
                let l = s.low[v].min(s.low[w]);
                s.low.insert(v, l);
            } else if s.on.contains(w) {
                let l = s.low[v].min(s.idx[w]);
                s.low.insert(v, l);
            }
        }
        if s.low[v] == s.idx[v] {
            let mut c = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                s.out.push(c);
            }
        }
    }
    let mut s = St { g, idx: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on: BTreeSet::new(), out: Vec::new() };
    for v in g.keys() {
        if !s.idx.contains_key(v.as_str()) {
            strong(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_cycles() {
    let c = cycles(&graph());
    assert!(c.is_empty(), "import cycles: {c:?}");
}

/// The checks can fail: a cycle and an upward import are found.
#[test]
fn the_checks_see_a_cycle_and_an_upward_import() {
    let g: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])]
        .into_iter()
        .map(|(m, ts)| (m.to_string(), ts.into_iter().map(str::to_string).collect()))
        .collect();
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    let names: BTreeSet<String> = ["check", "kernel", "kernel::arch"].iter().map(|s| s.to_string()).collect();
    let found = paths_after("use crate::kernel::{arch::Arch, Kernel};\nlet x = crate::check::Reason;", "crate::");
    let ts: BTreeSet<String> = found.iter().filter_map(|p| target(&p.iter().map(String::as_str).collect::<Vec<_>>(), &names)).collect();
    assert_eq!(ts, ["check", "kernel", "kernel::arch"].iter().map(|s| s.to_string()).collect());
    let layers = vec![("low".to_string(), vec!["kernel".to_string()]), ("high".to_string(), vec!["check".to_string(), "kernel::arch".to_string()])];
    assert_eq!(layer_of("kernel::debian", &layers), Some(0));
    assert_eq!(layer_of("kernel::arch", &layers), Some(1));
    assert_eq!(layer_of("census", &layers), None);
    // The graph of this crate has the modules that exist.
    let g = graph();
    assert!(g.contains_key("check::core") && g.contains_key("vocab"), "{:?}", g.keys().collect::<Vec<_>>());
    assert!(g["check"].contains("vocab"), "{:?}", g["check"]);
}
