// Record the git commit in `bpfabi --version` (BPFABI_GIT_VERSION); builds
// outside a git checkout (registry packages, tarballs) just use the package version.
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    let dirty =
        Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]).output().ok().is_some_and(|o| o.status.success() && !o.stdout.is_empty());
    if let Some(c) = commit {
        println!("cargo:rustc-env=BPFABI_GIT_VERSION={version} ({c}{})", if dirty { ", modified" } else { "" });
    }
    catalog();
    // Where git keeps HEAD and the index: `.git/` in a clone, elsewhere in
    // a worktree (a path that does not exist would rerun this every build).
    for file in ["HEAD", "index"] {
        if let Some(p) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `$OUT_DIR/catalog_files.rs`: every file of data/catalog as
/// `(relative path, include_bytes!(...))`, for `bpfabi::catalog` (feature
/// `catalog`). An absent directory gives an empty catalog.
fn catalog() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                println!("cargo:rerun-if-changed={}", p.display());
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(&root) {
                files.push((rel.to_string_lossy().into_owned(), p.clone()));
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (rel, p) in files {
        out.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", p.display().to_string()));
    }
    out.push(']');
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("catalog_files.rs");
    let _ = std::fs::write(dest, out);
}
