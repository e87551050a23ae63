//! Which instructions of a function the verifier can reach, given the
//! constants libbpf and the verifier know at load time: a forward constant
//! propagation over registers and stack slots, a worklist over basic blocks
//! whose join drops disagreeing values (linear-ish, no path explosion).
//!
//! The verifier explores only feasible paths and removes the rest as dead
//! code (`check_cfg` accepts it, `opt_remove_dead_code` drops it), and
//! libbpf relies on that: a poisoned CO-RE instruction or kfunc call, or a
//! helper the kernel lacks, is fine where it is unreachable. The constants
//! come from an [`Oracle`] (CO-RE relocation results on a kernel,
//! `bpf_ksym_exists()` addresses, `.kconfig` values, frozen `.rodata`);
//! everything else is unknown, so a branch is pruned only when the known
//! constants decide it. What the kernel knows and this does not (ranges the
//! verifier tracks, paths it splits) can only make more code reachable here:
//! the analysis errs towards requiring more, never less.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use super::{Insn, InsnTarget};

/// Where a known value comes from (what decided a branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Src {
    /// An immediate in the code.
    Literal,
    /// A CO-RE relocation (index into the object's relocations).
    Core(u32),
    /// An extern's address (`bpf_ksym_exists()`), index into the externs.
    Extern(u32),
    /// A `.kconfig` extern's value, index into the externs.
    Kconfig(u32),
    /// A frozen `.rodata` value: (ELF section index, byte offset).
    Rodata(u32, u64),
}

/// What a pointer points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base {
    /// The frame (`r10`).
    Stack,
    /// A `.kconfig` extern (index into the externs).
    Kconfig(u32),
    /// A data section (ELF section index).
    Data(u32),
}

/// An abstract register value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Val {
    /// Anything.
    Unknown,
    /// Exactly this.
    Const(u64, Src),
    /// Not zero (a resolved extern's address).
    NonZero(Src),
    /// In `lo..=hi`, unsigned (`LINUX_KERNEL_VERSION` when only X.Y is known).
    Range(u64, u64, Src),
    /// An address.
    Ptr(Base, i64),
    /// The result of an instruction libbpf poisoned.
    Poison,
}

impl Val {
    fn src(self) -> Option<Src> {
        match self {
            Val::Const(_, s) | Val::NonZero(s) | Val::Range(_, _, s) => Some(s),
            _ => None,
        }
    }
}

/// The load-time facts the analysis asks about.
pub trait Oracle {
    /// The value CO-RE relocation `relo` patches into its instruction
    /// ([`Val::Poison`] when libbpf poisons it, [`Val::Unknown`] when not known).
    fn core(&self, relo: u32) -> Val;
    /// An extern's address (`ld_imm64` of a ksym): [`Val::NonZero`] when
    /// it resolves, 0 for a missing weak one; a pointer for `.kconfig` ones.
    fn extern_addr(&self, ext: u32) -> Val;
    /// The value of a `.kconfig` extern.
    fn kconfig(&self, ext: u32) -> Val;
    /// `size` bytes at `off` of read-only data section `section`.
    fn rodata(&self, section: u32, off: u64, size: u8) -> Val;
}

/// A branch the known constants decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Instruction index of the conditional jump.
    pub insn: usize,
    /// Whether the jump is taken.
    pub taken: bool,
    /// What the deciding value came from.
    pub by: Src,
}

/// What the analysis found for one function.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// Per instruction slot: reachable.
    pub live: Vec<bool>,
    /// Branches decided by known constants (in instruction order).
    pub decisions: Vec<Decision>,
    /// False when the work bound was hit and everything was taken as live.
    pub exact: bool,
}

const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_JMP: u8 = 0x05;
const CLASS_JMP32: u8 = 0x06;
const CLASS_ALU64: u8 = 0x07;
const LD_IMM64: u8 = 0x18;

#[derive(Clone, PartialEq)]
struct State {
    regs: [Val; 11],
    /// (frame offset, size, value), few entries.
    stack: Vec<(i64, u8, Val)>,
}

impl State {
    fn entry() -> Self {
        let mut regs = [Val::Unknown; 11];
        regs[10] = Val::Ptr(Base::Stack, 0);
        State { regs, stack: Vec::new() }
    }
    fn reg(&self, r: u8) -> Val {
        self.regs.get(r as usize).copied().unwrap_or(Val::Unknown)
    }
    fn set(&mut self, r: u8, v: Val) {
        if let Some(x) = self.regs.get_mut(r as usize) {
            *x = v;
        }
    }
    /// Join `o` into self; true when self changed.
    fn join(&mut self, o: &State) -> bool {
        let mut changed = false;
        for (a, b) in self.regs.iter_mut().zip(o.regs.iter()) {
            if *a != *b && *a != Val::Unknown {
                *a = Val::Unknown;
                changed = true;
            }
        }
        let before = self.stack.len();
        self.stack.retain(|e| o.stack.contains(e));
        changed || self.stack.len() != before
    }
    fn store(&mut self, off: i64, size: u8, v: Val) {
        let end = off.saturating_add(size as i64);
        self.stack.retain(|&(o, s, _)| o.saturating_add(s as i64) <= off || end <= o);
        if v != Val::Unknown && self.stack.len() < 64 {
            self.stack.push((off, size, v));
        }
    }
    fn load(&self, off: i64, size: u8) -> Val {
        self.stack.iter().find(|&&(o, s, _)| o == off && s == size).map(|e| e.2).unwrap_or(Val::Unknown)
    }
}

fn size_bytes(code: u8) -> u8 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn truncate(v: u64, size: u8) -> u64 {
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (size as u32 * 8)) - 1)
    }
}

/// Jump target of the (conditional or not) jump at `i`, if in range.
fn jump_target(i: usize, ins: &Insn) -> Option<usize> {
    // JMP32 | JA (`gotol`) takes its offset from imm.
    let delta = if ins.code == CLASS_JMP32 { ins.imm as i64 } else { ins.off as i64 };
    let t = i as i64 + 1 + delta;
    usize::try_from(t).ok()
}

fn is_cond_jump(ins: &Insn) -> bool {
    let class = ins.code & 0x07;
    (class == CLASS_JMP || class == CLASS_JMP32) && !matches!(ins.code & 0xf0, 0x00 | 0x80 | 0x90)
}

fn is_ja(ins: &Insn) -> bool {
    let class = ins.code & 0x07;
    (class == CLASS_JMP || class == CLASS_JMP32) && ins.code & 0xf0 == 0x00
}

fn is_exit(ins: &Insn) -> bool {
    ins.code == (CLASS_JMP | 0x90)
}

/// Evaluate a conditional jump; `Some(taken)` when decided.
fn decide(op: u8, a: Val, b: Val, wide: bool) -> Option<(bool, Option<Src>)> {
    let src = a.src().filter(|s| *s != Src::Literal).or(b.src());
    let narrow = |v: u64| if wide { v } else { v & 0xffff_ffff };
    let signed = |v: u64| if wide { v as i64 } else { v as u32 as i32 as i64 };
    match (a, b) {
        (Val::Const(x, _), Val::Const(y, _)) => {
            let (x, y) = (narrow(x), narrow(y));
            let (sx, sy) = (signed(x), signed(y));
            let t = match op {
                0x10 => x == y,
                0x20 => x > y,
                0x30 => x >= y,
                0x40 => x & y != 0,
                0x50 => x != y,
                0x60 => sx > sy,
                0x70 => sx >= sy,
                0xa0 => x < y,
                0xb0 => x <= y,
                0xc0 => sx < sy,
                0xd0 => sx <= sy,
                _ => return None,
            };
            Some((t, src))
        }
        (Val::NonZero(_), Val::Const(0, _)) | (Val::Const(0, _), Val::NonZero(_)) if wide => match op {
            0x10 => Some((false, src)),
            0x50 => Some((true, src)),
            _ => None,
        },
        (Val::NonZero(_), Val::Const(0, _)) if wide && op == 0x20 => Some((true, src)),
        (Val::Range(lo, hi, _), Val::Const(y, _)) if wide => {
            let t = match op {
                0x10 if y < lo || y > hi => false,
                0x50 if y < lo || y > hi => true,
                0x20 | 0x60 if lo > y => true,
                0x20 | 0x60 if hi <= y => false,
                0x30 | 0x70 if lo >= y => true,
                0x30 | 0x70 if hi < y => false,
                0xa0 | 0xc0 if hi < y => true,
                0xa0 | 0xc0 if lo >= y => false,
                0xb0 | 0xd0 if hi <= y => true,
                0xb0 | 0xd0 if lo > y => false,
                _ => return None,
            };
            // Signed compares are decided only for non-negative values.
            if matches!(op, 0x60 | 0x70 | 0xc0 | 0xd0) && (hi > i64::MAX as u64 || y > i64::MAX as u64) {
                return None;
            }
            Some((t, src))
        }
        _ => None,
    }
}

fn alu(op: u8, a: Val, b: Val, wide: bool) -> Val {
    let fin = |v: u64, s: Src| Val::Const(if wide { v } else { v & 0xffff_ffff }, s);
    match (a, b) {
        (Val::Const(x, sa), Val::Const(y, sb)) => {
            let s = if sa != Src::Literal { sa } else { sb };
            let (x, y) = if wide { (x, y) } else { (x & 0xffff_ffff, y & 0xffff_ffff) };
            let bits = if wide { 63 } else { 31 };
            let v = match op {
                0x00 => x.wrapping_add(y),
                0x10 => x.wrapping_sub(y),
                0x20 => x.wrapping_mul(y),
                0x30 => x.checked_div(y).unwrap_or(0),
                0x40 => x | y,
                0x50 => x & y,
                0x60 => x.wrapping_shl((y & bits) as u32),
                0x70 => x.wrapping_shr((y & bits) as u32),
                0x90 => x.checked_rem(y).unwrap_or(x),
                0xa0 => x ^ y,
                0xc0 if wide => ((x as i64) >> (y & 63)) as u64,
                0xc0 => ((x as u32 as i32) >> (y & 31)) as u32 as u64,
                _ => return Val::Unknown,
            };
            fin(v, s)
        }
        (Val::Ptr(base, k), Val::Const(y, _)) if wide && op == 0x00 => Val::Ptr(base, k.wrapping_add(y as i64)),
        (Val::Ptr(base, k), Val::Const(y, _)) if wide && op == 0x10 => Val::Ptr(base, k.wrapping_sub(y as i64)),
        (Val::Poison, _) | (_, Val::Poison) => Val::Poison,
        _ => Val::Unknown,
    }
}

/// Analyse one function's instructions. `budget` bounds the block visits
/// (beyond it every instruction is taken as live).
pub fn analyse(insns: &[Insn], oracle: &dyn Oracle, budget: usize) -> Flow {
    let n = insns.len();
    let mut flow = Flow { live: vec![false; n], decisions: Vec::new(), exact: true };
    if n == 0 {
        return flow;
    }
    // Block leaders.
    let mut leader = vec![false; n];
    if let Some(l) = leader.first_mut() {
        *l = true;
    }
    let mut i = 0;
    while i < n {
        let Some(ins) = insns.get(i) else { break };
        let width = if ins.code == LD_IMM64 { 2 } else { 1 };
        if is_cond_jump(ins) || is_ja(ins) {
            if let Some(l) = jump_target(i, ins).and_then(|t| leader.get_mut(t)) {
                *l = true;
            }
        }
        if is_cond_jump(ins) || is_ja(ins) || is_exit(ins) {
            if let Some(l) = leader.get_mut(i + width) {
                *l = true;
            }
        }
        i += width;
    }
    let mut entry: Vec<Option<State>> = vec![None; n];
    let mut queued = vec![false; n];
    let mut work = std::collections::VecDeque::new();
    if let (Some(e), Some(q)) = (entry.first_mut(), queued.first_mut()) {
        *e = Some(State::entry());
        *q = true;
    }
    work.push_back(0usize);
    let mut visits = 0usize;
    let mut decisions: std::collections::BTreeMap<usize, Option<Decision>> = std::collections::BTreeMap::new();
    while let Some(start) = work.pop_front() {
        if let Some(q) = queued.get_mut(start) {
            *q = false;
        }
        visits += 1;
        if visits > budget {
            flow.live.iter_mut().for_each(|l| *l = true);
            flow.exact = false;
            flow.decisions.clear();
            return flow;
        }
        let Some(mut st) = entry.get(start).cloned().flatten() else { continue };
        let mut i = start;
        let mut succs: [Option<usize>; 2] = [None, None];
        while let Some(&ins) = insns.get(i) {
            if let Some(l) = flow.live.get_mut(i) {
                *l = true;
            }
            let class = ins.code & 0x07;
            let mut width = 1;
            match class {
                CLASS_ALU | CLASS_ALU64 => {
                    let wide = class == CLASS_ALU64;
                    let op = ins.code & 0xf0;
                    let operand = if ins.code & 0x08 != 0 {
                        st.reg(ins.src)
                    } else if let Some(r) = ins.core {
                        oracle.core(r)
                    } else {
                        Val::Const(if wide { ins.imm as i64 as u64 } else { ins.imm as u32 as u64 }, Src::Literal)
                    };
                    let v = match op {
                        0xb0 if ins.off == 0 => match operand {
                            Val::Const(x, s) if !wide => Val::Const(x & 0xffff_ffff, s),
                            v if wide => v,
                            Val::Poison => Val::Poison,
                            _ => Val::Unknown,
                        },
                        0x80 => match st.reg(ins.dst) {
                            Val::Const(x, s) => Val::Const(if wide { x.wrapping_neg() } else { (x as u32).wrapping_neg() as u64 }, s),
                            _ => Val::Unknown,
                        },
                        0xb0 | 0xd0 => Val::Unknown,
                        // Signed division and modulo (`off == 1`).
                        0x30 | 0x90 if ins.off != 0 => Val::Unknown,
                        _ => alu(op, st.reg(ins.dst), operand, wide),
                    };
                    st.set(ins.dst, v);
                }
                CLASS_LD if ins.code == LD_IMM64 => {
                    width = 2;
                    let hi = insns.get(i + 1).map(|x| x.imm as u32 as u64).unwrap_or(0);
                    if let Some(l) = flow.live.get_mut(i + 1) {
                        *l = true;
                    }
                    let v = if let Some(r) = ins.core {
                        oracle.core(r)
                    } else {
                        match ins.target {
                            InsnTarget::Extern(e) => oracle.extern_addr(e),
                            InsnTarget::Data { section, offset } => Val::Ptr(Base::Data(section), offset),
                            InsnTarget::Func(_) => Val::Unknown,
                            _ if ins.src == 0 => Val::Const((ins.imm as u32 as u64) | (hi << 32), Src::Literal),
                            _ => Val::Unknown,
                        }
                    };
                    st.set(ins.dst, v);
                }
                CLASS_LD => {
                    // LD_ABS / LD_IND: r0 is the packet data, r1-r5 scratched.
                    for r in 0..=5 {
                        st.set(r, Val::Unknown);
                    }
                }
                CLASS_LDX => {
                    let size = size_bytes(ins.code);
                    let v = if ins.core.is_some() {
                        match ins.core.map(|r| oracle.core(r)) {
                            Some(Val::Poison) => Val::Poison,
                            _ => Val::Unknown,
                        }
                    } else if ins.code & 0xe0 != 0x60 {
                        Val::Unknown
                    } else {
                        match st.reg(ins.src) {
                            Val::Ptr(Base::Stack, k) => st.load(k.wrapping_add(ins.off as i64), size),
                            Val::Ptr(Base::Kconfig(e), k) if k.wrapping_add(ins.off as i64) == 0 => match oracle.kconfig(e) {
                                Val::Const(x, s) => Val::Const(truncate(x, size), s),
                                v => v,
                            },
                            Val::Ptr(Base::Data(sec), k) => match u64::try_from(k.wrapping_add(ins.off as i64)) {
                                Ok(off) => oracle.rodata(sec, off, size),
                                Err(_) => Val::Unknown,
                            },
                            _ => Val::Unknown,
                        }
                    };
                    st.set(ins.dst, v);
                }
                CLASS_ST | CLASS_STX => {
                    let size = size_bytes(ins.code);
                    let mode = ins.code & 0xe0;
                    if let Val::Ptr(Base::Stack, k) = st.reg(ins.dst) {
                        let at = k.wrapping_add(ins.off as i64);
                        let v = match (mode, class) {
                            (0x60, CLASS_ST) => Val::Const(truncate(ins.imm as i64 as u64, size), Src::Literal),
                            (0x60, _) => match st.reg(ins.src) {
                                Val::Const(x, s) => Val::Const(truncate(x, size), s),
                                v if size == 8 => v,
                                _ => Val::Unknown,
                            },
                            _ => Val::Unknown,
                        };
                        st.store(at, size, v);
                    }
                    if class == CLASS_STX && mode == 0xc0 {
                        // Atomics: BPF_FETCH writes the old value to src; cmpxchg to r0.
                        if ins.imm & 0x01 != 0 {
                            st.set(ins.src, Val::Unknown);
                        }
                        if ins.imm == 0xf1 {
                            st.set(0, Val::Unknown);
                        }
                    }
                }
                CLASS_JMP | CLASS_JMP32 => {
                    let op = ins.code & 0xf0;
                    if op == 0x80 {
                        // Calls: r0 is the result, r1-r5 are scratched; memory
                        // a stack pointer argument points to may be written.
                        if (1..=5).any(|r| matches!(st.reg(r), Val::Ptr(Base::Stack, _))) {
                            st.stack.clear();
                        }
                        for r in 0..=5 {
                            st.set(r, Val::Unknown);
                        }
                    } else if op == 0x90 {
                        break;
                    } else if op == 0x00 {
                        succs[0] = jump_target(i, &ins);
                        break;
                    } else {
                        let wide = class == CLASS_JMP;
                        let b = if ins.code & 0x08 != 0 {
                            st.reg(ins.src)
                        } else {
                            Val::Const(if wide { ins.imm as i64 as u64 } else { ins.imm as u32 as u64 }, Src::Literal)
                        };
                        let target = jump_target(i, &ins);
                        match decide(op, st.reg(ins.dst), b, wide) {
                            Some((taken, by)) => {
                                succs[0] = if taken { target } else { Some(i + 1) };
                                let d = by.filter(|s| *s != Src::Literal).map(|by| Decision { insn: i, taken, by });
                                // A branch decided differently on another visit is not decided.
                                match decisions.get(&i) {
                                    Some(Some(prev)) if Some(*prev) != d => {
                                        decisions.insert(i, None);
                                    }
                                    None => {
                                        decisions.insert(i, d);
                                    }
                                    _ => {}
                                }
                            }
                            None => {
                                succs = [target, Some(i + 1)];
                                decisions.insert(i, None);
                            }
                        }
                        break;
                    }
                }
                _ => {}
            }
            i += width;
            if leader.get(i).copied().unwrap_or(false) {
                succs[0] = Some(i);
                break;
            }
        }
        for s in succs.into_iter().flatten() {
            let changed = match entry.get_mut(s) {
                Some(Some(e)) => e.join(&st),
                Some(slot) => {
                    *slot = Some(st.clone());
                    true
                }
                None => false,
            };
            if let Some(q) = queued.get_mut(s).filter(|q| changed && !**q) {
                *q = true;
                work.push_back(s);
            }
        }
    }
    flow.decisions = decisions.into_values().flatten().collect();
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    struct O;
    impl Oracle for O {
        fn core(&self, relo: u32) -> Val {
            match relo {
                0 => Val::Const(0, Src::Core(0)),
                1 => Val::Const(1, Src::Core(1)),
                _ => Val::Poison,
            }
        }
        fn extern_addr(&self, e: u32) -> Val {
            if e == 0 {
                Val::Const(0, Src::Extern(0))
            } else {
                Val::Ptr(Base::Kconfig(e), 0)
            }
        }
        fn kconfig(&self, e: u32) -> Val {
            Val::Range(5 << 16 | 10 << 8, 5 << 16 | 10 << 8 | 255, Src::Kconfig(e))
        }
        fn rodata(&self, s: u32, off: u64, _: u8) -> Val {
            Val::Const(0, Src::Rodata(s, off))
        }
    }
    fn i(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn { code, dst, src, off, imm, ..Insn::default() }
    }
    const MOV_K: u8 = 0xb7;
    const JEQ_K: u8 = 0x15;
    const JGE_K: u8 = 0x35;
    const CALL: u8 = 0x85;
    const EXIT: u8 = 0x95;

    /// `if (bpf_core_field_exists(..)) helper(); return` with the check 0:
    /// the call is dead; with the check 1 it is live.
    #[test]
    fn existence_check_prunes() {
        for (relo, call_live) in [(0, false), (1, true)] {
            let mut p = vec![i(MOV_K, 1, 0, 0, 1), i(JEQ_K, 1, 0, 1, 0), i(CALL, 0, 0, 0, 174), i(EXIT, 0, 0, 0, 0)];
            p[0].core = Some(relo);
            let f = analyse(&p, &O, 1000);
            assert_eq!(f.live, vec![true, true, call_live, true]);
            assert_eq!(f.decisions.len(), 1);
            assert_eq!(f.decisions[0].by, Src::Core(relo));
        }
    }

    /// A constant spilled to the stack and read back still decides.
    #[test]
    fn through_the_stack() {
        let mut p = vec![
            i(MOV_K, 1, 0, 0, 1),
            i(0x7b, 10, 1, -8, 0), // *(u64 *)(r10 - 8) = r1
            i(CALL, 0, 0, 0, 5),   // unrelated helper: the slot survives
            i(0x79, 2, 10, -8, 0), // r2 = *(u64 *)(r10 - 8)
            i(JEQ_K, 2, 0, 1, 0),
            i(CALL, 0, 0, 0, 174),
            i(EXIT, 0, 0, 0, 0),
        ];
        p[0].core = Some(0);
        let f = analyse(&p, &O, 1000);
        assert!(!f.live[5] && f.live[6]);
    }

    /// `LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 11, 0)` on a 5.10 kernel.
    #[test]
    fn kernel_version_range() {
        let mut ld = i(LD_IMM64, 1, 0, 0, 0);
        ld.target = InsnTarget::Extern(3);
        let p = vec![
            ld,
            i(0, 0, 0, 0, 0),
            i(0x61, 2, 1, 0, 0),                 // r2 = *(u32 *)(r1 + 0)
            i(0xa5, 2, 0, 1, 5 << 16 | 11 << 8), // if r2 < 5.11 goto +1
            i(CALL, 0, 0, 0, 174),
            i(EXIT, 0, 0, 0, 0),
        ];
        let f = analyse(&p, &O, 1000);
        assert!(!f.live[4]);
        assert_eq!(f.decisions[0].by, Src::Kconfig(3));
    }

    /// Unknown conditions keep both sides; loops terminate.
    #[test]
    fn loops_and_unknowns() {
        let p = vec![
            i(MOV_K, 1, 0, 0, 0),
            i(0x07, 1, 0, 0, 1),   // r1 += 1
            i(JGE_K, 1, 0, 1, 10), // if r1 >= 10 goto +1
            i(0x05, 0, 0, -3, 0),  // goto -3 (to r1 += 1)
            i(CALL, 0, 0, 0, 1),
            i(EXIT, 0, 0, 0, 0),
        ];
        let f = analyse(&p, &O, 1000);
        assert!(f.live.iter().all(|&l| l) && f.exact);
        let tight = analyse(&p, &O, 1);
        assert!(!tight.exact && tight.live.iter().all(|&l| l));
    }
}
