//! The raw `bpf(2)` commands the probe needs, without libbpf: load a program
//! (with its verifier log), and find the kernel's module BTF objects
//! (`BPF_BTF_GET_NEXT_ID`, `BPF_BTF_GET_FD_BY_ID`, `BPF_OBJ_GET_INFO_BY_FD`).
//! Every descriptor is an [`OwnedFd`]: nothing outlives its use.
//!
//! `union bpf_attr` layouts are the kernel's UAPI (`include/uapi/linux/bpf.h`);
//! the kernel accepts a larger attribute than it knows as long as the bytes it
//! does not know are zero, so one layout serves every kernel version.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_BTF_LOAD: libc::c_long = 18;
const BPF_BTF_GET_FD_BY_ID: libc::c_long = 19;
const BPF_BTF_GET_NEXT_ID: libc::c_long = 23;

/// `BPF_F_SLEEPABLE` program flag.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `src_reg` of a call to a kernel function (kfunc).
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of a `ld_imm64` whose immediate is a map fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of a `ld_imm64` whose immediate is a subprogram (a callback).
pub const BPF_PSEUDO_FUNC: u8 = 4;
/// `BPF_F_MMAPABLE` map flag (arena maps must have it).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// One BPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// dst_reg in the low nibble, src_reg in the high one (little endian).
    pub regs: u8,
    /// Offset.
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

impl Insn {
    /// `call imm` (helper), or a kfunc call with `src = BPF_PSEUDO_KFUNC_CALL`.
    pub fn call(src: u8, imm: i32, off: i16) -> Insn {
        Insn { code: 0x85, regs: (src & 0xf) << 4, off, imm }
    }
    /// `r0 = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
    pub fn mov_r0(imm: i32) -> Insn {
        Insn { code: 0xb7, regs: 0, off: 0, imm }
    }
    /// `rDST = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
    pub fn mov_imm(dst: u8, imm: i32) -> Insn {
        Insn { code: 0xb7, regs: dst & 0xf, off: 0, imm }
    }
    /// `rDST = rSRC` (BPF_ALU64 | BPF_MOV | BPF_X).
    pub fn mov_reg(dst: u8, src: u8) -> Insn {
        Insn { code: 0xbf, regs: ((src & 0xf) << 4) | (dst & 0xf), off: 0, imm: 0 }
    }
    /// `rDST += imm` (BPF_ALU64 | BPF_ADD | BPF_K).
    pub fn add_imm(dst: u8, imm: i32) -> Insn {
        Insn { code: 0x07, regs: dst & 0xf, off: 0, imm }
    }
    /// `rDST = *(u64 *)(rSRC + off)` (BPF_LDX | BPF_MEM | BPF_DW).
    pub fn ldx_dw(dst: u8, src: u8, off: i16) -> Insn {
        Insn { code: 0x79, regs: ((src & 0xf) << 4) | (dst & 0xf), off, imm: 0 }
    }
    /// `*(u32 *)(rDST + off) = imm` (BPF_ST | BPF_MEM | BPF_W).
    pub fn st_w(dst: u8, off: i16, imm: i32) -> Insn {
        Insn { code: 0x62, regs: dst & 0xf, off, imm }
    }
    /// `if rDST == imm goto +off` (BPF_JMP | BPF_JEQ | BPF_K).
    pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> Insn {
        Insn { code: 0x15, regs: dst & 0xf, off, imm }
    }
    /// `rDST = &subprog` (`ld_imm64` with `src = BPF_PSEUDO_FUNC`, `imm` the
    /// instruction offset from the next instruction): two slots.
    pub fn ld_func(dst: u8, rel: i32) -> [Insn; 2] {
        [Insn { code: 0x18, regs: (BPF_PSEUDO_FUNC << 4) | (dst & 0xf), off: 0, imm: rel }, Insn::default()]
    }
    /// `exit`.
    pub fn exit() -> Insn {
        Insn { code: 0x95, regs: 0, off: 0, imm: 0 }
    }
    /// `rDST = map fd` (`ld_imm64` with `src = BPF_PSEUDO_MAP_FD`): two
    /// instruction slots.
    pub fn ld_map_fd(dst: u8, fd: RawFd) -> [Insn; 2] {
        [Insn { code: 0x18, regs: (BPF_PSEUDO_MAP_FD << 4) | (dst & 0xf), off: 0, imm: fd }, Insn::default()]
    }
}

/// `union bpf_attr` for `BPF_MAP_CREATE`, up to `map_extra` (5.16).
#[repr(C, align(8))]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}

/// Create a map without BTF (`BPF_MAP_CREATE`): the fd, or the errno.
pub fn map_create(map_type: u32, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32) -> Result<OwnedFd, i32> {
    map_create_extra(map_type, key_size, value_size, max_entries, map_flags, 0)
}

/// [`map_create`] with `map_extra` (an arena's user address: kernel/bpf/arena.c
/// `arena_map_alloc` takes it as `user_vm_start`, and the verifier refuses a
/// program using an arena whose address was neither given nor mmap()ed:
/// "arena's user address must be set via map_extra or mmap()").
pub fn map_create_extra(map_type: u32, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32, map_extra: u64) -> Result<OwnedFd, i32> {
    let mut attr =
        MapCreateAttr { map_type, key_size, value_size, max_entries, map_flags, map_extra, map_name: *b"bpfabi_probe\0\0\0\0", ..MapCreateAttr::default() };
    let fd = sys_bpf(BPF_MAP_CREATE, (&mut attr as *mut MapCreateAttr).cast(), std::mem::size_of::<MapCreateAttr>());
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `union bpf_attr` for `BPF_BTF_LOAD`.
#[repr(C, align(8))]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
}

/// Load a BTF blob (`BPF_BTF_LOAD`): the fd, or the errno and the kernel's
/// BTF log.
pub fn btf_load(blob: &[u8]) -> Result<OwnedFd, (i32, String)> {
    let mut log = vec![0u8; 4096];
    let mut attr = BtfLoadAttr {
        btf: blob.as_ptr() as u64,
        btf_size: blob.len() as u32,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
    };
    let fd = sys_bpf(BPF_BTF_LOAD, (&mut attr as *mut BtfLoadAttr).cast(), std::mem::size_of::<BtfLoadAttr>());
    if fd < 0 {
        return Err((errno(), log_text(&log)));
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Create an array map of one entry whose value type is described by BTF
/// (`btf_fd`, key type `key_id` = a 4-byte int, value type `value_id` of
/// `value_size` bytes): the kernel finds `bpf_timer`, `bpf_wq`,
/// `bpf_task_work` fields in the value by their BTF.
pub fn map_create_btf(map_type: u32, btf_fd: RawFd, key_id: u32, value_id: u32, value_size: u32) -> Result<OwnedFd, i32> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size: 4,
        value_size,
        max_entries: 1,
        btf_fd: btf_fd.max(0) as u32,
        btf_key_type_id: key_id,
        btf_value_type_id: value_id,
        map_name: *b"bpfabi_probe\0\0\0\0",
        ..MapCreateAttr::default()
    };
    let fd = sys_bpf(BPF_MAP_CREATE, (&mut attr as *mut MapCreateAttr).cast(), std::mem::size_of::<MapCreateAttr>());
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `union bpf_attr` for `BPF_PROG_LOAD`, up to `fd_array_cnt` (6.14).
#[repr(C, align(8))]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    log_true_size: u32,
    prog_token_fd: i32,
    fd_array_cnt: u32,
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadSpec<'a> {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// `enum bpf_attach_type`.
    pub expected_attach_type: u32,
    /// BPF_F_* flags.
    pub prog_flags: u32,
    /// Attach target BTF id.
    pub attach_btf_id: u32,
    /// Module BTF holding `attach_btf_id` (0: vmlinux).
    pub attach_btf_obj_fd: RawFd,
    /// Kernel version (kprobes on old kernels).
    pub kern_version: u32,
    /// Load under "GPL" (else "Proprietary": which helpers the kernel
    /// declares `gpl_only`).
    pub gpl: bool,
    /// The program.
    pub insns: &'a [Insn],
    /// kfunc calls with `off = i` take their BTF from `fd_array[i]`.
    pub fd_array: &'a [RawFd],
    /// The program's BTF (0: none): a program passing a callback needs
    /// one, with `func_info` (verifier.c `check_ld_imm`: "missing btf
    /// func_info" for a `BPF_PSEUDO_FUNC` without it).
    pub prog_btf_fd: RawFd,
    /// `struct bpf_func_info` records: (instruction offset, FUNC type id)
    /// of each subprogram.
    pub func_info: &'a [[u32; 2]],
}

/// The result of one `BPF_PROG_LOAD`: the program was loaded (and is
/// already closed again), or the errno; with the verifier log either way.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// The verifier accepted it (the fd was closed at once).
    pub loaded: bool,
    /// errno when refused.
    pub errno: i32,
    /// Verifier log.
    pub log: String,
}

fn sys_bpf(cmd: libc::c_long, attr: *mut libc::c_void, size: usize) -> libc::c_long {
    // SAFETY: `attr` points to a live, initialised attribute of `size` bytes
    // whose pointer fields refer to buffers that outlive the call.
    unsafe { libc::syscall(libc::SYS_bpf, cmd, attr, size as libc::c_uint) }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `BPF_LOG_LEVEL1`: every instruction and the verifier's state as it goes.
const BPF_LOG_LEVEL1: u32 = 1;
/// `BPF_LOG_STATS` (v5.2+): only the verifier's `verbose()` messages (its
/// refusals) and the closing statistics. The instruction and state dumps
/// are printed under `env->log.level & BPF_LOG_LEVEL` only (verifier.c
/// `do_check`), while `verbose()` prints whenever a log is asked for
/// (`bpf_verifier_log_needed`: any non-zero level): the same refusal lines,
/// without formatting and copying out the dumps nobody reads.
const BPF_LOG_STATS: u32 = 4;
/// The log level loads ask for: [`BPF_LOG_STATS`] until a kernel refuses it
/// (before v5.2: EINVAL without a log), then [`BPF_LOG_LEVEL1`].
static LOG_LEVEL: AtomicU32 = AtomicU32::new(BPF_LOG_STATS);

/// Load a program with a verifier log (its messages, without the instruction
/// dump where the kernel can leave it out: [`BPF_LOG_STATS`]) into `log_buf`;
/// close it at once.
pub fn prog_load(spec: &LoadSpec, log_buf: &mut [u8]) -> LoadResult {
    const LICENSE: &[u8] = b"GPL\0";
    const NON_GPL: &[u8] = b"Proprietary\0";
    // The name `bpftool prog show` would list, were a program ever left behind.
    let name: [u8; 16] = *b"bpfabi_probe\0\0\0\0";
    if let Some(b) = log_buf.first_mut() {
        *b = 0;
    }
    let mut attr = ProgLoadAttr {
        prog_type: spec.prog_type,
        insn_cnt: spec.insns.len() as u32,
        insns: spec.insns.as_ptr() as u64,
        license: if spec.gpl { LICENSE.as_ptr() } else { NON_GPL.as_ptr() } as u64,
        log_level: if log_buf.is_empty() { 0 } else { LOG_LEVEL.load(Ordering::Relaxed) },
        log_size: log_buf.len() as u32,
        log_buf: log_buf.as_mut_ptr() as u64,
        kern_version: spec.kern_version,
        prog_flags: spec.prog_flags,
        prog_name: name,
        expected_attach_type: spec.expected_attach_type,
        attach_btf_id: spec.attach_btf_id,
        attach_btf_obj_fd: spec.attach_btf_obj_fd.max(0) as u32,
        fd_array: if spec.fd_array.is_empty() { 0 } else { spec.fd_array.as_ptr() as u64 },
        prog_btf_fd: spec.prog_btf_fd.max(0) as u32,
        func_info_rec_size: if spec.func_info.is_empty() { 0 } else { 8 },
        func_info: if spec.func_info.is_empty() { 0 } else { spec.func_info.as_ptr() as u64 },
        func_info_cnt: spec.func_info.len() as u32,
        ..ProgLoadAttr::default()
    };
    let size = std::mem::size_of::<ProgLoadAttr>();
    let mut fd = sys_bpf(BPF_PROG_LOAD, (&mut attr as *mut ProgLoadAttr).cast(), size);
    let mut err = if fd < 0 { errno() } else { 0 };
    // Kernels before 5.2 know no BPF_LOG_STATS (kernel/bpf/verifier.c
    // `bpf_check`: a level outside BPF_LOG_MASK is EINVAL before any log is
    // written): ask again at level 1, and keep level 1 if that answers
    // otherwise (an unknown program type is EINVAL without a log at any level).
    if fd < 0 && err == libc::EINVAL && attr.log_level == BPF_LOG_STATS && log_text(log_buf).is_empty() {
        attr.log_level = BPF_LOG_LEVEL1;
        fd = sys_bpf(BPF_PROG_LOAD, (&mut attr as *mut ProgLoadAttr).cast(), size);
        err = if fd < 0 { errno() } else { 0 };
        if fd >= 0 || err != libc::EINVAL || !log_text(log_buf).is_empty() {
            LOG_LEVEL.store(BPF_LOG_LEVEL1, Ordering::Relaxed);
        }
    }
    // Kernels before 4.15 know no program name: retry without one.
    if fd < 0 && err == libc::EINVAL && log_text(log_buf).is_empty() && attr.prog_name[0] != 0 {
        attr.prog_name = [0; 16];
        fd = sys_bpf(BPF_PROG_LOAD, (&mut attr as *mut ProgLoadAttr).cast(), size);
        err = if fd < 0 { errno() } else { 0 };
    }
    if fd >= 0 {
        // SAFETY: the kernel just returned this descriptor to us.
        drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    }
    LoadResult { loaded: fd >= 0, errno: err, log: log_text(log_buf) }
}

fn log_text(buf: &[u8]) -> String {
    let end = memchr::memchr(0, buf).unwrap_or(buf.len());
    let bytes = buf.get(..end).unwrap_or(&[]);
    // The verifier writes ASCII: checked a word at a time, copied once.
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `attr` for the `*_GET_NEXT_ID` / `*_GET_FD_BY_ID` commands.
#[repr(C, align(8))]
#[derive(Default)]
struct IdAttr {
    id: u32,
    next_id: u32,
    open_flags: u32,
    token_fd: u32,
}

/// `attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C, align(8))]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_btf_info`.
#[repr(C, align(8))]
#[derive(Default)]
struct BtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

/// A kernel BTF object (vmlinux or a module) opened by id.
#[derive(Debug)]
pub struct KernelBtfFd {
    /// Module name.
    pub name: String,
    /// BTF object fd.
    pub fd: OwnedFd,
}

/// Every kernel BTF object (`kernel_btf` set) loaded: vmlinux and modules.
/// Program BTF objects are skipped. Errors: the errno of the first failing
/// command that is not "no more ids".
pub fn kernel_btfs() -> Result<Vec<KernelBtfFd>, i32> {
    let mut out = Vec::new();
    let mut id = 0u32;
    // Bounded: BTF ids are u32, but a machine has at most a few thousand.
    for _ in 0..1_000_000 {
        let mut a = IdAttr { id, ..IdAttr::default() };
        if sys_bpf(BPF_BTF_GET_NEXT_ID, (&mut a as *mut IdAttr).cast(), std::mem::size_of::<IdAttr>()) < 0 {
            let e = errno();
            return if e == libc::ENOENT { Ok(out) } else { Err(e) };
        }
        id = a.next_id;
        let mut g = IdAttr { id, ..IdAttr::default() };
        let fd = sys_bpf(BPF_BTF_GET_FD_BY_ID, (&mut g as *mut IdAttr).cast(), std::mem::size_of::<IdAttr>());
        if fd < 0 {
            // Freed between the two calls: go on with the next id.
            continue;
        }
        // SAFETY: the kernel just returned this descriptor to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        let mut name = [0u8; 64];
        let mut info = BtfInfo { name: name.as_mut_ptr() as u64, name_len: name.len() as u32, ..BtfInfo::default() };
        let mut ia = InfoAttr { bpf_fd: fd.as_raw_fd() as u32, info_len: std::mem::size_of::<BtfInfo>() as u32, info: (&mut info as *mut BtfInfo) as u64 };
        if sys_bpf(BPF_OBJ_GET_INFO_BY_FD, (&mut ia as *mut InfoAttr).cast(), std::mem::size_of::<InfoAttr>()) < 0 {
            continue;
        }
        if info.kernel_btf == 0 {
            continue;
        }
        let n = log_text(&name);
        out.push(KernelBtfFd { name: n, fd });
    }
    Ok(out)
}

/// `KERNEL_VERSION(a, b, c)` of a release string (kprobe programs on
/// kernels before 5.0 must carry it).
pub fn kernel_version_code(release: &str) -> u32 {
    let mut it = release.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a.min(255) << 16) | (b.min(255) << 8) | c.min(255)
}

/// Short errno name for messages.
pub fn errno_name(e: i32) -> String {
    let n = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => return format!("errno {e}"),
    };
    n.to_string()
}
