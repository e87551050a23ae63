//! Finding what an input did not bring: the vmlinux BTF a module's split
//! BTF was built against (beside it, one directory up, the image of a
//! package tree, or `/sys/kernel/btf/vmlinux` for the running kernel), and
//! the `.BTF_ids` of the running kernel, which sysfs does not export but the
//! kernel image on disk carries.

use super::{read_input, running_release, KernelBtf, LoadInfo, LoadOptions, NoteKind, Piece};
use std::path::{Path, PathBuf};

const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// `path` names the running kernel's vmlinux BTF in sysfs.
/// `meta` is `path`'s (followed) metadata: the same file is the same device
/// and inode, one stat of the sysfs file instead of resolving every
/// component of `path`.
pub(super) fn is_sysfs_vmlinux(path: &Path, meta: &std::fs::Metadata) -> bool {
    if path == Path::new(SYSFS_VMLINUX) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(SYSFS_VMLINUX).is_ok_and(|s| (s.dev(), s.ino()) == (meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        std::fs::canonicalize(path).is_ok_and(|p| p == Path::new(SYSFS_VMLINUX))
    }
}

/// For module pieces read without a vmlinux: the places their base may be,
/// in order, and the first that exists. Returns (every place tried, found).
pub(super) fn base_for_modules(inputs: &[PathBuf], pieces: &[Piece]) -> (Vec<PathBuf>, Option<PathBuf>) {
    let mut tried: Vec<PathBuf> = Vec::new();
    let releases: Vec<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Module { release: Some(r), .. } => Some(r.as_str()),
            _ => None,
        })
        .collect();
    for input in inputs.iter().filter(|p| p.is_file()) {
        for c in base_candidates(input, releases.first().copied()) {
            if inputs.contains(&c) || tried.contains(&c) {
                continue;
            }
            if c.is_file() {
                tried.push(c.clone());
                return (tried, Some(c));
            }
            tried.push(c);
        }
    }
    (tried, None)
}

/// Where the base of the module file `module` may be: `vmlinux.btf` or
/// `vmlinux` beside it or one directory up (the corpus layout), the image of
/// the kernel whose `lib/modules/RELEASE/` tree holds it, and the running
/// kernel's sysfs BTF when the module's release (vermagic) is the running one.
pub fn base_candidates(module: &Path, release: Option<&str>) -> Vec<PathBuf> {
    let dir = module.parent().map(Path::to_path_buf).unwrap_or_default();
    // One directory up, spelled without `..` when the path allows it.
    let up = match dir.parent() {
        Some(p) if dir.file_name().is_some_and(|f| f != "." && f != "..") => p.to_path_buf(),
        _ => dir.join(".."),
    };
    let mut out = vec![dir.join("vmlinux.btf"), up.join("vmlinux.btf"), dir.join("vmlinux"), up.join("vmlinux")];
    // <root>/lib/modules/<release>/... or <root>/usr/lib/modules/<release>/...
    let mut rel_from_path = None;
    for a in module.ancestors() {
        if a.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "modules")
            && a.parent().and_then(Path::parent).and_then(|p| p.file_name()).is_some_and(|n| n == "lib")
        {
            let (Some(rel), Some(lib)) = (a.file_name().and_then(|f| f.to_str()), a.parent().and_then(Path::parent)) else { continue };
            let root = if lib.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "usr") { lib.parent().and_then(Path::parent) } else { lib.parent() };
            if let Some(root) = root {
                out.extend(image_candidates(root, rel));
            }
            rel_from_path = Some(rel.to_string());
            break;
        }
    }
    let running = running_release();
    if running.is_some() && (release.map(str::to_string) == running || rel_from_path == running) {
        out.push(PathBuf::from(SYSFS_VMLINUX));
    }
    out
}

/// Where a kernel image of `release` lives under `root` (`/` for this machine).
pub fn image_candidates(root: &Path, release: &str) -> Vec<PathBuf> {
    vec![
        root.join(format!("boot/vmlinuz-{release}")),
        root.join(format!("boot/vmlinux-{release}")),
        root.join(format!("usr/lib/modules/{release}/vmlinuz")),
        root.join(format!("lib/modules/{release}/vmlinuz")),
        root.join(format!("usr/lib/debug/boot/vmlinux-{release}")),
        root.join(format!("usr/lib/debug/lib/modules/{release}/vmlinux")),
    ]
}

/// What looking for a kernel image's `.BTF_ids` gave.
#[derive(Debug)]
pub enum ImageLookup {
    /// The image's BTF is byte-identical to ours: its `.BTF_ids` apply.
    #[allow(missing_docs)]
    Found { path: PathBuf, btf_ids: crate::bytes::Bytes },
    /// No image at any of these places.
    #[allow(missing_docs)]
    NotFound { looked: Vec<PathBuf> },
    /// Images found, none usable: (path, why) for each.
    #[allow(missing_docs)]
    Unusable { images: Vec<(PathBuf, String)> },
}

/// Look under `root` for an image of `release` whose BTF is `btf` and take
/// its `.BTF_ids`.
pub fn btf_ids_from_image(btf: &crate::btf::Btf, root: &Path, release: &str, opts: &LoadOptions) -> ImageLookup {
    let looked = image_candidates(root, release);
    let mut images = Vec::new();
    for p in looked.iter().filter(|p| p.is_file()) {
        let mut pieces = Vec::new();
        let opts = LoadOptions { modules: false, btf_ids: None, release: None, ..opts.clone() };
        if let Err(e) = read_input(p, &opts, &mut pieces) {
            images.push((p.clone(), format!("unreadable: {e}")));
            continue;
        }
        match pieces.into_iter().next() {
            Some(Piece::Vmlinux { btf: ib, btf_ids, .. }) => {
                if ib.raw_bytes().as_slice() != btf.raw_bytes().as_slice() {
                    images.push((p.clone(), "its BTF differs from the running kernel's (another build)".into()));
                } else if let Some(ids) = btf_ids {
                    return ImageLookup::Found { path: p.clone(), btf_ids: crate::bytes::Bytes::from_vec(ids.as_slice().to_vec()) };
                } else {
                    images.push((p.clone(), "it has no .BTF_ids section".into()));
                }
            }
            _ => images.push((p.clone(), "not a vmlinux image".into())),
        }
    }
    if images.is_empty() {
        ImageLookup::NotFound { looked }
    } else {
        ImageLookup::Unusable { images }
    }
}

/// The running kernel read from sysfs has no `.BTF_ids`: take them from its
/// image on disk, or say once why flags are unknown and how to get them.
pub(super) fn running_btf_ids(vmlinux: &mut KernelBtf, release: Option<&str>, opts: &LoadOptions, info: &mut LoadInfo) {
    let Some(release) = release else {
        info.note(
            NoteKind::BtfIdsMissing,
            "KF_* flags unknown: /sys/kernel/btf has no .BTF_ids and the release is unknown; give --btf-ids FILE or the kernel image",
        );
        return;
    };
    let how = format!("give --btf-ids FILE (`objcopy -O binary --only-section=.BTF_ids vmlinux FILE`) or the image (`bpfabi surface /boot/vmlinuz-{release}`)");
    match btf_ids_from_image(&vmlinux.btf, Path::new("/"), release, opts) {
        ImageLookup::Found { path, btf_ids } => {
            vmlinux.btf_ids = Some(btf_ids);
            info.btf_ids_origin = Some(path.display().to_string());
            info.note(NoteKind::BtfIdsSource, format!(".BTF_ids from {} (its BTF equals /sys/kernel/btf/vmlinux)", path.display()));
        }
        ImageLookup::NotFound { looked } => info.note(
            NoteKind::BtfIdsMissing,
            format!(
                "KF_* flags unknown: /sys/kernel/btf has no .BTF_ids and no image of {release} was found ({}); {how}",
                looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        ),
        ImageLookup::Unusable { images } => info.note(
            NoteKind::BtfIdsMissing,
            format!(
                "KF_* flags unknown: /sys/kernel/btf has no .BTF_ids and {}; {how}",
                images.iter().map(|(p, why)| format!("{}: {why}", p.display())).collect::<Vec<_>>().join("; ")
            ),
        ),
    }
}
