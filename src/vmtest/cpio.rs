//! A `newc` cpio archive writer (the initramfs format the kernel unpacks),
//! in memory. Parent directories are added automatically, once each.

use std::collections::BTreeSet;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// An archive being written.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
    dirs: BTreeSet<String>,
}

impl Cpio {
    /// An empty archive.
    pub fn new() -> Self {
        Cpio::default()
    }

    fn header(&mut self, name: &str, mode: u32, nlink: u32, size: usize, rdev: (u32, u32)) {
        self.ino += 1;
        let name_size = name.len() + 1;
        let fields = [self.ino, mode, 0, 0, nlink, 0, size as u32, 0, 0, rdev.0, rdev.1, name_size as u32, 0];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
    }

    fn pad(&mut self) {
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
    }

    /// Create every missing parent directory of `path`.
    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for p in parts.iter().take(parts.len().saturating_sub(1)) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            if self.dirs.insert(acc.clone()) {
                let name = acc.clone();
                self.header(&name, S_IFDIR | 0o755, 2, 0, (0, 0));
            }
        }
    }

    fn clean(path: &str) -> String {
        path.trim_start_matches('/').to_string()
    }

    /// Add a directory.
    pub fn dir(&mut self, path: &str) {
        let p = Self::clean(path);
        self.parents(&p);
        if self.dirs.insert(p.clone()) {
            self.header(&p, S_IFDIR | 0o755, 2, 0, (0, 0));
        }
    }

    /// A regular file with permission bits `perm` (e.g. 0o755).
    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        let p = Self::clean(path);
        self.parents(&p);
        self.header(&p, S_IFREG | (perm & 0o7777), 1, data.len(), (0, 0));
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// Add a symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) {
        let p = Self::clean(path);
        self.parents(&p);
        self.header(&p, S_IFLNK | 0o777, 1, target.len(), (0, 0));
        self.out.extend_from_slice(target.as_bytes());
        self.pad();
    }

    /// A character device node (e.g. `/dev/console`, 5:1).
    pub fn char_dev(&mut self, path: &str, major: u32, minor: u32) {
        let p = Self::clean(path);
        self.parents(&p);
        self.header(&p, S_IFCHR | 0o600, 1, 0, (major, minor));
    }

    /// Close the archive with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 1, 0, (0, 0));
        // The kernel reads the initramfs in 512-byte blocks; pad like cpio(1).
        while self.out.len() % 512 != 0 {
            self.out.push(0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The archive lists and extracts with GNU cpio when it is installed.
    #[test]
    fn gnu_cpio_reads_it() {
        let mut c = Cpio::new();
        c.file("/bin/init", 0o755, b"#!/bin/sh\n");
        c.file("a/b/c.txt", 0o644, b"hello");
        c.symlink("lib64", "lib");
        c.char_dev("dev/console", 5, 1);
        let data = c.finish();
        assert_eq!(data.len() % 512, 0);
        assert!(data.starts_with(b"070701"));
        let Ok(mut child) =
            std::process::Command::new("cpio").args(["-t", "-v", "--quiet"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn()
        else {
            eprintln!("cpio(1) not installed: archive not cross-checked");
            return;
        };
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&data).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        // Every entry is dated 1970 (mtime 0); the name follows the date.
        let names: Vec<&str> = text.lines().filter_map(|l| l.split_once(" 1970 ").map(|x| x.1)).collect();
        assert_eq!(names, ["bin", "bin/init", "a", "a/b", "a/b/c.txt", "lib64 -> lib", "dev", "dev/console"], "{text}");
        assert!(text.lines().any(|l| l.starts_with("crw-------") && l.contains("5,") && l.ends_with("dev/console")), "{text}");
        assert!(text.lines().any(|l| l.starts_with("-rwxr-xr-x") && l.contains(" 10 ")), "{text}");
    }
}
