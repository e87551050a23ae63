//! BPF objects inside other files (libbpf skeletons embed the `.bpf.o` in
//! an executable or shared library): find ELF headers with EM_BPF and
//! bound each object by its section header table.

use crate::bytes::Endian;

/// True when `d` starts with a 64-bit ELF header whose machine is EM_BPF.
pub fn is_bpf_elf(d: &[u8]) -> bool {
    header(d).is_some()
}

/// (is little-endian, e_shoff, e_shentsize, e_shnum) for a BPF ELF64 header.
fn header(d: &[u8]) -> Option<(bool, u64, u16, u16)> {
    if d.get(0..4)? != b"\x7fELF" || *d.get(4)? != 2 {
        return None;
    }
    let e = match d.get(5)? {
        1 => Endian::Little,
        2 => Endian::Big,
        _ => return None,
    };
    let le = e == Endian::Little;
    let u16_at = |o: usize| e.u16(d, o);
    let u64_at = |o: usize| e.u64(d, o);
    if u16_at(18)? != crate::elf::EM_BPF {
        return None;
    }
    Some((le, u64_at(0x28)?, u16_at(0x3a)?, u16_at(0x3c)?))
}

/// Every embedded BPF object: (offset, length). The length runs to the end
/// of the section header table, which clang places last.
pub fn find(d: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = d.get(pos..).and_then(|s| s.windows(4).position(|w| w == b"\x7fELF")) {
        let off = pos + i;
        if let Some((_, shoff, shentsize, shnum)) = header(d.get(off..).unwrap_or(&[])) {
            let len = shoff.checked_add(shentsize as u64 * shnum as u64);
            if let Some(len) = len.filter(|&l| l >= 64 && (off as u64).checked_add(l).is_some_and(|end| end <= d.len() as u64)) {
                out.push((off, len as usize));
                pos = off + len as usize;
                continue;
            }
        }
        pos = off + 4;
    }
    out
}

/// Length of the BPF ELF object starting at `d` (up to the end of its
/// section header table), when `d` starts with a BPF ELF header; `d` may
/// hold only the header (streaming readers ask before reading the rest).
pub fn object_len(d: &[u8]) -> Option<u64> {
    let (_, shoff, shentsize, shnum) = header(d)?;
    shoff.checked_add(shentsize as u64 * shnum as u64).filter(|&l| l >= 64)
}

/// Go executables carry this header (runtime/debug `buildinfo`).
const GO_BUILDINFO: &[u8] = b"\xff Go buildinf:";

/// Does `container` (a file objects were found embedded in) look like a
/// Go executable (its build-info header)?
pub fn is_go_executable(container: &[u8]) -> bool {
    memchr::memmem::find(container, GO_BUILDINFO).is_some()
}
