//! The one directory walk every command uses to look for inputs under a
//! directory: depth first, entries in name order (files of a directory before
//! its subdirectories), symlinks never followed into directories (no cycles,
//! no escaping the tree), so the same tree always yields the same order.

use std::path::{Path, PathBuf};

/// Calls `file` for every regular file under `root` and `unreadable` for every
/// directory that cannot be listed (the walk goes on past it). Either may stop
/// the walk by returning an error.
pub(crate) fn walk_files<E>(
    root: &Path,
    file: &mut dyn FnMut(PathBuf) -> Result<(), E>,
    unreadable: &mut dyn FnMut(&Path, std::io::Error) -> Result<(), E>,
) -> Result<(), E> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) => {
                unreadable(&d, e)?;
                continue;
            }
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        let mut subdirs = Vec::new();
        for e in entries {
            let Ok(m) = std::fs::symlink_metadata(&e) else { continue };
            if m.is_dir() {
                subdirs.push(e);
            } else if m.is_file() {
                file(e)?;
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_name_order_depth_first_without_following_symlinks() {
        let root = std::env::temp_dir().join(format!("bpfabi-fswalk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["b/c", "a"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in ["z", "a/1", "b/2", "b/c/3"] {
            std::fs::write(root.join(f), f).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(&root, root.join("b/loop")).unwrap();
        let mut seen = Vec::new();
        let mut on_file = |p: PathBuf| {
            seen.push(p.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
            Ok(())
        };
        walk_files::<()>(&root, &mut on_file, &mut |_, _| Ok(())).unwrap();
        assert_eq!(seen, ["z", "a/1", "b/2", "b/c/3"]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
