//! `.BTF_ids` section decoding: finds the `struct btf_id_set8` records
//! (`{u32 cnt; u32 flags; {u32 id; u32 flags;} pairs[cnt]}`) that the kernel
//! build's resolve_btfids filled with type ids and KF_* flags.
//!
//! Debian strips the symbol table of the vmlinux inside bzImage, so record
//! boundaries are unknown: records are recognised from their structure — a
//! count that fits, a set-flags word, then `cnt` pairs whose ids are FUNC
//! types in the matching BTF, sorted ascending (resolve_btfids sorts them for
//! the kernel's bsearch) and whose flags use only bits the kernel defines.
//! From 6.9 kfunc sets carry `BTF_SET8_KFUNCS` in the set-flags word, which
//! makes the answer certain; before that, it is a structural inference.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::btf::{Btf, Kind, TypeId};
use crate::bytes::Endian;

/// `BTF_SET8_KFUNCS`: the set-flags bit marking a kfunc set (kernel >= 6.9).
pub const BTF_SET8_KFUNCS: u32 = 1 << 0;

/// One decoded set8 record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Set8 {
    /// Byte offset of the record in the section.
    pub offset: usize,
    /// Flags word of the set8 record (BTF_SET8_KFUNCS from 6.9).
    pub set_flags: u32,
    /// (FUNC type id, KF_* flags) pairs. Unresolved (0) ids are dropped.
    pub pairs: Vec<(TypeId, u32)>,
}

impl Set8 {
    /// Whether the record declares itself a kfunc set.
    pub fn is_kfunc_set(&self) -> bool {
        self.set_flags & BTF_SET8_KFUNCS != 0
    }
}

/// Scan a `.BTF_ids` section for set8 records whose ids are FUNCs of `btf`
/// (own types only: a module's section refers to its own split ids). Pair
/// flags must fit in `flag_mask` for records without `BTF_SET8_KFUNCS`
/// (the structural case); a flagged record is trusted with any flag bits, so
/// a kernel newer than the flag table keeps its kfunc sets.
pub fn scan_set8(section: &[u8], endian: Endian, btf: &Btf, flag_mask: u32) -> Vec<Set8> {
    let mut out = Vec::new();
    let is_func = |id: TypeId| id >= btf.start_id() && btf.ty(id).is_some_and(|t| t.kind == Kind::Func);
    let mut off = 0usize;
    while off + 16 <= section.len() {
        if let Some((set, len)) = try_set8(section, endian, off, &is_func, flag_mask) {
            out.push(set);
            off += len;
        } else {
            off += 4;
        }
    }
    out
}

fn try_set8(s: &[u8], e: Endian, off: usize, is_func: &dyn Fn(TypeId) -> bool, flag_mask: u32) -> Option<(Set8, usize)> {
    let cnt = e.u32(s, off)? as usize;
    let set_flags = e.u32(s, off + 4)?;
    if cnt == 0 || set_flags & !BTF_SET8_KFUNCS != 0 {
        return None;
    }
    let avail = (s.len() - off - 8) / 8;
    if cnt > avail {
        return None;
    }
    let mut pairs = Vec::with_capacity(cnt);
    let mut prev = TypeId::VOID;
    for i in 0..cnt {
        let id = TypeId(e.u32(s, off + 8 + i * 8)?);
        let flags = e.u32(s, off + 12 + i * 8)?;
        let flagged = set_flags & BTF_SET8_KFUNCS != 0;
        if (!flagged && flags & !flag_mask != 0) || id < prev {
            return None;
        }
        prev = id;
        if id == TypeId::VOID {
            // An id resolve_btfids could not resolve (function compiled out).
            continue;
        }
        if !is_func(id) {
            return None;
        }
        pairs.push((id, flags));
    }
    if pairs.is_empty() {
        return None;
    }
    Some((Set8 { offset: off, set_flags, pairs }, 8 + cnt * 8))
}

/// Scan a `.BTF_ids` section for `struct btf_id_set` records
/// (`BTF_SET_START`/`BTF_SET_END`: `{u32 cnt; u32 ids[cnt]}`, strictly
/// ascending for the kernel's bsearch) of at least `min` FUNCs of `btf`
/// whose names `accept` takes (own types only). A record is the longest
/// run that fits: ids resolve_btfids left 0 (compiled out) are skipped.
/// Records are recognised from that shape alone (Debian strips the
/// `__BTF_ID__set__*` symbols), so callers say what names to accept.
pub fn scan_func_sets(section: &[u8], endian: Endian, btf: &Btf, min: usize, accept: &dyn Fn(&str) -> bool) -> Vec<Vec<TypeId>> {
    let mut out = Vec::new();
    let func_named = |id: TypeId| id >= btf.start_id() && btf.ty(id).is_some_and(|t| t.kind == Kind::Func && accept(t.name()));
    let mut off = 0usize;
    while off + 8 <= section.len() {
        let found = (|| {
            let cnt = endian.u32(section, off)? as usize;
            if cnt < min.max(1) || cnt > (section.len() - off - 4) / 4 {
                return None;
            }
            let mut ids = Vec::with_capacity(cnt);
            let mut prev = 0u32;
            for i in 0..cnt {
                let id = endian.u32(section, off + 4 + i * 4)?;
                if id == 0 {
                    continue;
                }
                if id <= prev || !func_named(TypeId(id)) {
                    return None;
                }
                prev = id;
                ids.push(TypeId(id));
            }
            (ids.len() >= min).then_some((ids, 4 + cnt * 4))
        })();
        match found {
            Some((ids, len)) => {
                out.push(ids);
                off += len;
            }
            None => off += 4,
        }
    }
    out
}

/// Does this `.BTF_ids` section belong to `btf`? Every id resolve_btfids
/// wrote is a type of the BTF it ran on, so in the right BTF the set-shaped
/// records (`btf_id_set8` `{cnt, flags, {id, flags}[cnt]}` with ascending
/// ids, and `btf_id_set` `{cnt, id[cnt]}` with strictly ascending ids)
/// name FUNCs; in another kernel's BTF most of them land on other kinds or
/// past the last id. Measured on the corpus: matching pairs have at most one
/// odd shape against 3–16 good ones, mismatched pairs more odd than good.
/// A flagged kfunc set (`BTF_SET8_KFUNCS`) whose ids are not FUNCs is a
/// mismatch on its own.
pub fn check_matches(section: &[u8], btf: &Btf) -> Result<(), String> {
    let e = btf.endian();
    let words = section.len() / 4;
    let w = |i: usize| e.u32(section, i * 4);
    let (mut good, mut bad, mut flagged_bad) = (0usize, 0usize, 0usize);
    let mut example: Option<String> = None;
    let describe = |id: u32| -> Option<String> {
        if id >= btf.next_id().get() {
            return Some(format!("id {id} is past the last type ({})", btf.next_id().get().saturating_sub(1)));
        }
        let t = btf.ty(TypeId(id))?;
        (t.kind != Kind::Func).then(|| match t.name() {
            "" => format!("id {id} is an anonymous {}", t.kind.name()),
            n => format!("id {id} is {} `{n}`", t.kind.name()),
        })
    };
    for i in 0..words {
        let Some(cnt) = w(i) else { break };
        let cnt = cnt as usize;
        let Some(next) = w(i + 1) else { break };
        if !(1..=4096).contains(&cnt) {
            continue;
        }
        let mut odd: Option<String> = None;
        if next <= 1 && i + 2 + 2 * cnt <= words {
            // set8-shaped
            // Every word position is tried as a record: test the shape in
            // one pass that stops at the first pair out of order or with a
            // flag word too large, without collecting the pairs.
            let pairs = || (0..cnt).filter_map(|j| Some((w(i + 2 + 2 * j)?, w(i + 3 + 2 * j)?)));
            let (mut prev, mut nonzero, mut shaped) = (0u32, 0usize, true);
            for (id, flags) in pairs() {
                if id < prev || flags > 0x00ff_ffff {
                    shaped = false;
                    break;
                }
                prev = id;
                nonzero += usize::from(id != 0);
            }
            if !shaped || nonzero < if next == 1 { 1 } else { 2 } {
                continue;
            }
            for (id, _) in pairs().filter(|p| p.0 != 0) {
                let own = id >= btf.start_id().get() || id >= btf.next_id().get();
                if let Some(d) = describe(id).or_else(|| (!own).then(|| format!("id {id} is a base type, not this BTF's own"))) {
                    odd = Some(d);
                    break;
                }
            }
            if odd.is_some() && next == 1 {
                flagged_bad += 1;
            }
        } else if next > 1 && cnt >= 3 && i + 1 + cnt <= words {
            // set-shaped
            let ids = || (0..cnt).filter_map(|j| w(i + 1 + j));
            let mut prev: Option<u32> = None;
            if !ids().all(|id| {
                let up = prev.is_none_or(|p| p < id);
                prev = Some(id);
                up
            }) {
                continue;
            }
            odd = ids().find_map(describe);
        } else {
            continue;
        }
        match odd {
            None => good += 1,
            Some(d) => {
                bad += 1;
                if example.is_none() {
                    example = Some(format!("record at {:#x}: {d}", i * 4));
                }
            }
        }
    }
    if flagged_bad > 0 || bad > good {
        return Err(format!(
            "{} of {} id sets in it name types that are not FUNCs of this BTF{} (e.g. {}); it comes from another kernel build: give the .BTF_ids of the same vmlinux",
            bad,
            bad + good,
            if flagged_bad > 0 { format!(", {flagged_bad} of them flagged kfunc sets") } else { String::new() },
            example.unwrap_or_default()
        ));
    }
    Ok(())
}
