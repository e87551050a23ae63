//! Real loads through libbpf 1.7 (the `libbpf-sys` crate, vendored source,
//! linked statically): CO-RE, externs, kfunc resolution, struct_ops and the
//! rest are libbpf's own, so a verdict here is what a libbpf application
//! would get. One unit at a time: every other program's autoload is off;
//! a struct_ops unit is one struct_ops map (the others' autocreate off;
//! libbpf then loads exactly the programs that map uses). Maps whose
//! `max_entries` is 0 get the size their user space would give them (ring
//! buffers 256 KiB, others 1; perf event arrays are left to libbpf), stack
//! trace maps with `value_size` 0 get 1016 (127 frames).
//!
//! Everything loaded is released when the object is closed, before the
//! next unit.

use super::record::{decisive_lines, LoadRecord, Status, UnitKind};
use libbpf_sys as sys;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::sync::Mutex;
use std::time::Instant;

/// libbpf's messages go here (its print callback has no user pointer).
static LOG: Mutex<String> = Mutex::new(String::new());
/// Cap on the log kept per unit.
const LOG_CAP: usize = 256 << 10;

extern "C" {
    fn vsnprintf(s: *mut c_char, n: usize, fmt: *const c_char, ap: *mut sys::__va_list_tag) -> c_int;
}

unsafe extern "C" fn print_cb(level: sys::libbpf_print_level, fmt: *const c_char, ap: *mut sys::__va_list_tag) -> c_int {
    if level == sys::LIBBPF_DEBUG {
        return 0;
    }
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf is writable for its length; fmt/ap come from libbpf.
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), fmt, ap) };
    if n < 0 {
        return n;
    }
    let len = (n as usize).min(buf.len().saturating_sub(1));
    let text = String::from_utf8_lossy(buf.get(..len).unwrap_or(&[])).into_owned();
    if let Ok(mut l) = LOG.lock() {
        if l.len() < LOG_CAP {
            l.push_str(&text);
        }
    }
    n
}

fn take_log() -> String {
    LOG.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
}

fn install_printer() {
    // SAFETY: print_cb has the signature libbpf expects and is 'static.
    unsafe {
        sys::libbpf_set_print(Some(print_cb));
    }
}

fn cstr(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: libbpf returns NUL-terminated strings it owns.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A unit to load, as enumerated from the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Kind.
    pub kind: UnitKind,
    /// Program name, or struct_ops map name.
    pub name: String,
}

impl Unit {
    /// The `program` field of its record.
    pub fn key(&self) -> String {
        match self.kind {
            UnitKind::Program => self.name.clone(),
            UnitKind::StructOpsMap => format!("struct_ops:{}", self.name),
        }
    }
}

/// An opened libbpf object; closed (and everything it loaded released) on
/// drop. Maps the object pins by name (`LIBBPF_PIN_BY_NAME`) go under a
/// private bpffs directory ([`PIN_ROOT`]), unpinned and removed on drop:
/// nothing is left behind and nothing pinned by others is reused.
struct Obj {
    ptr: *mut sys::bpf_object,
    _pin_root: CString,
}

/// Where an object's maps pinned by name go while it is loaded (libbpf
/// `bpf_object_open_opts.pin_root_path`; its default is /sys/fs/bpf).
fn pin_root() -> String {
    format!("/sys/fs/bpf/bpfabi-load-{}", std::process::id())
}

impl Drop for Obj {
    fn drop(&mut self) {
        // SAFETY: ptr came from bpf_object__open_mem and is closed once; the
        // maps are the object's own, unpinned from their own pin paths.
        unsafe {
            for m in self.maps() {
                if sys::bpf_map__is_pinned(m) {
                    sys::bpf_map__unpin(m, std::ptr::null());
                }
            }
            sys::bpf_object__close(self.ptr)
        }
        let _ = std::fs::remove_dir(pin_root());
    }
}

impl Obj {
    fn open(data: &[u8], name: &str) -> Result<Obj, (i32, String)> {
        let cname = CString::new(name.rsplit('/').next().unwrap_or(name)).unwrap_or_default();
        // SAFETY: zeroed opts with sz set is how libbpf's OPTS macros build them.
        let mut opts: sys::bpf_object_open_opts = unsafe { std::mem::zeroed() };
        opts.sz = std::mem::size_of::<sys::bpf_object_open_opts>() as _;
        opts.object_name = cname.as_ptr();
        let pin_root = CString::new(pin_root()).unwrap_or_default();
        opts.pin_root_path = pin_root.as_ptr();
        // SAFETY: data outlives the call (libbpf copies what it keeps, the
        // pin root included).
        let ptr = unsafe { sys::bpf_object__open_mem(data.as_ptr().cast(), data.len() as _, &opts) };
        if ptr.is_null() {
            let e = errno();
            return Err((if e == 0 { 22 } else { e }, take_log()));
        }
        Ok(Obj { ptr, _pin_root: pin_root })
    }

    fn programs(&self) -> Vec<*mut sys::bpf_program> {
        let mut v = Vec::new();
        let mut p = std::ptr::null_mut();
        loop {
            // SAFETY: iterating the object's own list.
            p = unsafe { sys::bpf_object__next_program(self.ptr, p) };
            if p.is_null() {
                break;
            }
            v.push(p);
        }
        v
    }

    fn maps(&self) -> Vec<*mut sys::bpf_map> {
        let mut v = Vec::new();
        let mut m = std::ptr::null_mut();
        loop {
            // SAFETY: iterating the object's own list.
            m = unsafe { sys::bpf_object__next_map(self.ptr, m) };
            if m.is_null() {
                break;
            }
            v.push(m);
        }
        v
    }
}

fn prog_name(p: *const sys::bpf_program) -> String {
    // SAFETY: p is a live program of a live object.
    cstr(unsafe { sys::bpf_program__name(p) }).unwrap_or_default()
}

fn map_name(m: *const sys::bpf_map) -> String {
    // SAFETY: m is a live map of a live object.
    cstr(unsafe { sys::bpf_map__name(m) }).unwrap_or_default()
}

fn is_struct_ops_prog(p: *const sys::bpf_program) -> bool {
    // SAFETY: as above.
    unsafe { sys::bpf_program__type(p) == sys::BPF_PROG_TYPE_STRUCT_OPS }
}

fn is_struct_ops_map(m: *const sys::bpf_map) -> bool {
    // SAFETY: as above.
    unsafe { sys::bpf_map__type(m) == sys::BPF_MAP_TYPE_STRUCT_OPS }
}

/// The units of an object, or the object-level record when libbpf cannot
/// open it or it has nothing to load.
pub fn units(data: &[u8], object: &str) -> Result<Vec<Unit>, Box<LoadRecord>> {
    install_printer();
    take_log();
    let started = Instant::now();
    let obj = Obj::open(data, object).map_err(|(e, log)| Box::new(object_record(object, Status::OpenFailed, e, &log, started)))?;
    let mut out: Vec<Unit> =
        obj.programs().into_iter().filter(|&p| !is_struct_ops_prog(p)).map(|p| Unit { kind: UnitKind::Program, name: prog_name(p) }).collect();
    out.extend(obj.maps().into_iter().filter(|&m| is_struct_ops_map(m)).map(|m| Unit { kind: UnitKind::StructOpsMap, name: map_name(m) }));
    take_log();
    if out.is_empty() {
        return Err(Box::new(object_record(object, Status::NoPrograms, 0, "object has no programs", started)));
    }
    Ok(out)
}

fn object_record(object: &str, status: Status, errno: i32, log: &str, started: Instant) -> LoadRecord {
    let error = if status == Status::NoPrograms { log.to_string() } else { decisive_lines(log) };
    LoadRecord { duration_ms: started.elapsed().as_millis() as u64, ..LoadRecord::not_loaded(object.to_string(), None, status, errno, error, log.to_string()) }
}

/// Map types whose `max_entries` 0 is right as it is: storage maps must
/// have 0 (the kernel refuses anything else), perf event arrays are sized
/// by libbpf (one slot per CPU).
fn keeps_zero_entries(t: sys::bpf_map_type) -> bool {
    matches!(
        t,
        sys::BPF_MAP_TYPE_PERF_EVENT_ARRAY
            | sys::BPF_MAP_TYPE_CGROUP_STORAGE
            | sys::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
            | sys::BPF_MAP_TYPE_SK_STORAGE
            | sys::BPF_MAP_TYPE_INODE_STORAGE
            | sys::BPF_MAP_TYPE_TASK_STORAGE
            | sys::BPF_MAP_TYPE_CGRP_STORAGE
    )
}

/// Size maps the way user space would before loading; returns the list.
fn size_maps(obj: &Obj) -> String {
    let mut done = Vec::new();
    for m in obj.maps() {
        // SAFETY: m is a live map; setters run before load.
        unsafe {
            if sys::bpf_map__is_internal(m) {
                continue;
            }
            let t = sys::bpf_map__type(m);
            let name = map_name(m);
            if t == sys::BPF_MAP_TYPE_STACK_TRACE && sys::bpf_map__value_size(m) == 0 {
                sys::bpf_map__set_value_size(m, 1016);
                done.push(format!("{name}.value_size=1016"));
            }
            if sys::bpf_map__max_entries(m) == 0 && !keeps_zero_entries(t) {
                let n = if t == sys::BPF_MAP_TYPE_RINGBUF || t == sys::BPF_MAP_TYPE_USER_RINGBUF { 256 * 1024 } else { 1 };
                sys::bpf_map__set_max_entries(m, n);
                done.push(format!("{name}={n}"));
            }
        }
    }
    done.join(",")
}

/// Load one unit of an object for real, then release everything.
pub fn load_unit(data: &[u8], object: &str, unit: &Unit) -> LoadRecord {
    install_printer();
    take_log();
    let started = Instant::now();
    let obj = match Obj::open(data, object) {
        Ok(o) => o,
        Err((e, log)) => return object_record(object, Status::OpenFailed, e, &log, started),
    };
    let mut rec = LoadRecord {
        object: object.to_string(),
        program: Some(unit.key()),
        section: None,
        prog_type: None,
        attach_type: None,
        unit: Some(unit.kind.clone()),
        programs: Vec::new(),
        loaded: false,
        status: Status::Rejected,
        errno: 0,
        error: String::new(),
        log: String::new(),
        maps_resized: String::new(),
        duration_ms: 0,
    };
    let progs = obj.programs();
    for &p in &progs {
        let mine = unit.kind == UnitKind::Program && prog_name(p) == unit.name;
        if mine {
            // SAFETY: live program; strings owned by libbpf.
            unsafe {
                rec.section = cstr(sys::bpf_program__section_name(p));
                rec.prog_type = cstr(sys::libbpf_bpf_prog_type_str(sys::bpf_program__type(p)));
                let at = sys::bpf_program__expected_attach_type(p);
                rec.attach_type = if at == 0 { None } else { cstr(sys::libbpf_bpf_attach_type_str(at)) };
            }
        }
        // struct_ops programs follow their maps' autocreate (libbpf decides),
        // unless this is a program unit.
        if !is_struct_ops_prog(p) || unit.kind == UnitKind::Program {
            // SAFETY: before load.
            unsafe { sys::bpf_program__set_autoload(p, mine) };
        }
    }
    for m in obj.maps() {
        if is_struct_ops_map(m) {
            let mine = unit.kind == UnitKind::StructOpsMap && map_name(m) == unit.name;
            // SAFETY: before load.
            unsafe { sys::bpf_map__set_autocreate(m, mine) };
        }
    }
    if unit.kind == UnitKind::StructOpsMap {
        rec.prog_type = Some("struct_ops".into());
    }
    rec.maps_resized = size_maps(&obj);
    // SAFETY: the object is open and configured.
    let ret = unsafe { sys::bpf_object__load(obj.ptr) };
    if unit.kind == UnitKind::StructOpsMap {
        // SAFETY: live programs; autoload as libbpf adjusted it.
        rec.programs = progs.iter().filter(|&&p| is_struct_ops_prog(p) && unsafe { sys::bpf_program__autoload(p) }).map(|&p| prog_name(p)).collect();
    }
    drop(obj);
    let log = take_log();
    rec.duration_ms = started.elapsed().as_millis() as u64;
    if ret == 0 {
        rec.loaded = true;
        rec.status = Status::Loaded;
    } else {
        rec.errno = -ret;
        rec.error = decisive_lines(&log);
    }
    rec.log = log;
    rec
}

/// Every unit of an object, loaded one by one.
pub fn load_object(data: &[u8], object: &str) -> Vec<LoadRecord> {
    match units(data, object) {
        Err(r) => vec![*r],
        Ok(us) => us.iter().map(|u| load_unit(data, object, u)).collect(),
    }
}

/// libbpf's version, e.g. `1.7`.
pub fn version() -> String {
    // SAFETY: static string.
    cstr(unsafe { sys::libbpf_version_string() }).unwrap_or_default()
}
