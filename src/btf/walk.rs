//! The walk over a BTF type section that finds where each record starts
//! and its kind, and the table it fills (what every lookup by type id
//! reads); when asked, also the largest type id and name offset the
//! records refer to.
//!
//! A record's length depends on its own header (kind and vlen), so a walk
//! is one chain of dependent loads: about 6 ns a record however tight the
//! loop, 0.75 ms for the 126,000 types of a 6.18 vmlinux. For the lazy
//! parse (layout only), a section of
//! [`SPLIT_MIN`] bytes or more is walked as [`CHAINS`] chains interleaved in
//! one loop (their loads overlap; about 1.8× faster measured): chain `i`
//! starts at a record start found after `i/CHAINS` of the section (the
//! first 4-byte aligned offset from which a short walk meets no bad
//! record). A chain's records count only when the chain before it lands
//! exactly on its start: from a common record start two walks are the
//! same, so the table is the one walk's, entry for entry. A chain not
//! landed on is dropped and the chain before it walks on alone to the
//! end; errors are those of the one walk (the first bad record in order).
//!
//! Each chain writes its entries where no earlier chain can reach (chain
//! `i` from index `start/12`: every record takes at least 12 bytes), so the
//! table is laid out in up to [`CHAINS`] runs with unused entries between
//! them, never touched (never faulted in): [`Table`] maps an index to its
//! run. Moving the runs together would fault as many pages again.
//!
//! A chained walk (the lazy parse: `surface`) also keeps the record offset
//! of one entry in [`STRIDE`] only (the kind of every one): a quarter of
//! the offset table's pages, which are most of the page faults of a
//! `surface` run (about 100 fewer on a 6.18 vmlinux, 1.4 µs each here).
//! The offset of an entry in between is found from the one kept before
//! it, or from its run's first record, by stepping over at most
//! `STRIDE - 1` records (their headers sit just before the entry's own).
//! A pass that reads every entry's offset ([`Table::runs`]) gets a full
//! table, walked once more on first use.

use super::{elems_bound, word_at, RecordShape, Refs, TYPE_HDR};

/// Type sections this large (a vmlinux's are 3–4 MB; modules' and BPF
/// objects' a few KB) are walked as interleaved chains.
pub(super) const SPLIT_MIN: usize = 1 << 20;

/// Chains walked at once in a large section.
pub(super) const CHAINS: usize = 4;

/// A chained walk keeps the offset of one entry in this many (those whose
/// slot is a multiple of it).
pub(super) const STRIDE: usize = 4;

/// Records a trial walk from a candidate chain start must read without a
/// bad record (a walk from inside a record fails within a few).
const TRIAL: usize = 16;

/// Candidate chain starts tried, 4 bytes apart.
const TRIES: usize = 4096;

/// One run of the table: entries `first..first + len` by index are at
/// `at..at + len` of the table's vectors.
#[derive(Debug, Clone, Copy)]
struct Run {
    first: usize,
    at: usize,
    len: usize,
}

/// Each type's record offset (relative to the type section) and raw kind
/// number, by index (id - start_id), in up to [`CHAINS`] runs.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// By slot (index + its run's shift), or for a strided table by slot
    /// / [`STRIDE`] (slots that are multiples of it only).
    offsets: Vec<u32>,
    kinds: Vec<u8>,
    /// The first index of runs 1.. (`u32::MAX` for runs not used).
    starts: [u32; CHAINS - 1],
    /// What to add to an index of each run to find its entry (every run
    /// starts at or after its first index: no record is under 12 bytes).
    shift: [u32; CHAINS],
    len: u32,
    /// Set when one offset in [`STRIDE`] is kept.
    strided: Option<Box<Strided>>,
}

/// What finding the offsets a strided table does not keep takes.
#[derive(Debug)]
struct Strided {
    shapes: [RecordShape; 32],
    be: bool,
    /// Each run's first slot and the offset of its first record.
    run_at: [u32; CHAINS],
    run_off: [u32; CHAINS],
    /// Every entry's offset, for the passes that read them all.
    full: std::sync::OnceLock<Table>,
}

impl Table {
    fn new(offsets: Vec<u32>, kinds: Vec<u8>, runs: &[Run]) -> Table {
        let mut starts = [u32::MAX; CHAINS - 1];
        let mut shift = [0u32; CHAINS];
        for (r, run) in runs.iter().enumerate() {
            if let Some(s) = r.checked_sub(1).and_then(|j| starts.get_mut(j)) {
                *s = run.first as u32;
            }
            if let Some(d) = shift.get_mut(r) {
                *d = (run.at - run.first) as u32;
            }
        }
        let len = runs.iter().map(|r| r.len).sum::<usize>() as u32;
        Table { offsets, kinds, starts, shift, len, strided: None }
    }

    /// A table of one offset in [`STRIDE`]: `runs`, the chain starts they
    /// were walked from (run `r` begins at `starts[r]`), and how to step
    /// over a record.
    fn new_strided(offsets: Vec<u32>, kinds: Vec<u8>, runs: &[Run], starts: &[usize], shapes: &[RecordShape; 32], be: bool) -> Table {
        let mut t = Table::new(offsets, kinds, runs);
        let mut s = Strided { shapes: *shapes, be, run_at: [0; CHAINS], run_off: [0; CHAINS], full: std::sync::OnceLock::new() };
        for ((run, &off), (at, o)) in runs.iter().zip(starts).zip(s.run_at.iter_mut().zip(s.run_off.iter_mut())) {
            *at = run.at as u32;
            *o = off as u32;
        }
        t.strided = Some(Box::new(s));
        t
    }

    /// Number of types.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// The run of index `i`: how many later runs start at or before it.
    #[inline(always)]
    fn run_of(&self, i: u32) -> usize {
        self.starts.iter().filter(|&&s| i >= s).count()
    }

    /// The record offset of the type of index `i` (`types`: the section
    /// walked, read for an offset a strided table does not keep).
    #[inline(always)]
    pub(super) fn offset(&self, i: usize, types: &[u8]) -> Option<u32> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.len)?;
        let r = self.run_of(i);
        let at = i + self.shift.get(r).copied().unwrap_or(0);
        match &self.strided {
            None => self.offsets.get(at as usize).copied(),
            Some(s) => s.offset(&self.offsets, r, at, types),
        }
    }

    /// The runs in index order: the index of each run's first entry, its
    /// offsets and its kinds (`types`: the section walked; a strided
    /// table walks it once more, on first use, for every offset).
    pub(super) fn runs<'a>(&'a self, types: &[u8]) -> impl Iterator<Item = (usize, &'a [u32], &'a [u8])> + 'a {
        let t = match &self.strided {
            None => self,
            Some(s) => s.full.get_or_init(|| self.expand(types)),
        };
        t.kind_runs().map(move |(first, at, kinds)| (first, t.offsets.get(at..at + kinds.len()).unwrap_or(&[]), kinds))
    }

    /// The runs in index order: the index of each run's first entry, its
    /// first slot and its kinds (every table keeps every kind).
    pub(super) fn kind_runs(&self) -> impl Iterator<Item = (usize, usize, &[u8])> + '_ {
        let firsts = std::iter::once(0).chain(self.starts.iter().copied().take_while(|&s| s != u32::MAX));
        let ends = self.starts.iter().copied().take_while(|&s| s != u32::MAX).chain(std::iter::once(self.len));
        firsts.zip(ends).zip(self.shift).map(|((first, end), d)| {
            let (at, len) = ((first + d) as usize, (end - first) as usize);
            (first as usize, at, self.kinds.get(at..at + len).unwrap_or(&[]))
        })
    }

    /// A strided table as a full one: every entry's offset, each run
    /// walked from its first record (records the walk read without fault).
    #[cold]
    fn expand(&self, types: &[u8]) -> Table {
        let mut offsets = vec![0u32; self.kinds.len()];
        if let Some(s) = &self.strided {
            for (r, (_, at, kinds)) in self.kind_runs().enumerate() {
                let mut off = s.run_off.get(r).copied().unwrap_or(0);
                for slot in offsets.iter_mut().skip(at).take(kinds.len()) {
                    *slot = off;
                    off = s.next(off, types);
                }
            }
        }
        Table { offsets, kinds: self.kinds.clone(), starts: self.starts, shift: self.shift, len: self.len, strided: None }
    }
}

impl Strided {
    /// Where the record after the one at `off` starts (`u32::MAX` past
    /// the section).
    #[inline(always)]
    fn next(&self, off: u32, types: &[u8]) -> u32 {
        let Some(hdr) = types.get(off as usize..).and_then(|t| t.first_chunk::<TYPE_HDR>()) else { return u32::MAX };
        let end = if self.be { record_end::<true>(&self.shapes, hdr, off as usize).3 } else { record_end::<false>(&self.shapes, hdr, off as usize).3 };
        u32::try_from(end).unwrap_or(u32::MAX)
    }

    /// The offset of slot `at` of run `r`: from the slot kept at or before
    /// it in the run, or from the run's first record.
    #[inline(always)]
    fn offset(&self, offsets: &[u32], r: usize, at: u32, types: &[u8]) -> Option<u32> {
        let run_at = self.run_at.get(r).copied()?;
        let kept = at - at % STRIDE as u32;
        let (mut off, from) = if kept >= run_at { (offsets.get((kept as usize) / STRIDE).copied()?, kept) } else { (self.run_off.get(r).copied()?, run_at) };
        for _ in from..at {
            off = self.next(off, types);
        }
        (off != u32::MAX).then_some(off)
    }
}

/// Why a walk stopped before the end of the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The record at `off` has a kind with no known layout.
    UnknownKind { off: usize, raw_kind: u8 },
    /// The record at `off` runs past the section (`next`: where it would end).
    Short { off: usize, raw_kind: u8, vlen: u32, next: usize },
    /// Every slot is filled and at least a header is left (the id limit).
    OutOfSlots { off: usize },
    /// Less than a header is left at `off`.
    Tail { off: usize },
}

/// A failed walk: the fault and the number of records before it (the
/// index of the bad record).
pub(super) type Failure = (Fault, usize);

/// The walk's result: the table and the reference bounds (zero unless
/// gathered).
pub(super) struct Walked {
    pub table: Table,
    pub max_ref: u32,
    pub max_str: u32,
}

/// One chain's state.
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    /// Offset of the next record.
    off: usize,
    /// Records read, and where the next one's entry goes.
    n: usize,
    at: usize,
    max_ref: u32,
    max_str: u32,
}

/// The shape of the record whose header is `hdr` at `off`, its raw kind,
/// vlen, and where it ends (past any type section for a kind with no
/// known layout: `shape.fixed` is then `u32::MAX`).
#[inline(always)]
fn record_end<const BE: bool>(shapes: &[RecordShape; 32], hdr: &[u8; TYPE_HDR], off: usize) -> (RecordShape, u8, u32, usize) {
    let info = word_at::<BE>(hdr, 4);
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let vlen = info & 0xffff;
    let shape = shapes.get(raw_kind as usize).copied().unwrap_or(RecordShape::INVALID);
    (shape, raw_kind, vlen, off + TYPE_HDR + shape.fixed as usize + (shape.per * vlen) as usize)
}

/// Read the record at `c.off` into entry `c.at` and step past it. `REFS`:
/// also gather the reference bounds. `STRIDED`: keep the offset of slots
/// that are multiples of [`STRIDE`] only (at slot / STRIDE). Hot: the kind
/// dispatch is a table lookup, records are read as fixed-size words, no
/// message is built.
#[inline(always)]
fn step<const BE: bool, const REFS: bool, const STRIDED: bool>(
    types: &[u8],
    shapes: &[RecordShape; 32],
    c: &mut Chain,
    offsets: &mut [u32],
    kinds: &mut [u8],
) -> Result<(), Fault> {
    let off = c.off;
    let Some(hdr) = types.get(off..).and_then(|t| t.first_chunk::<TYPE_HDR>()) else { return Err(Fault::Tail { off }) };
    // (The offsets have a slot wherever the kinds have one.)
    let Some(slot_kind) = kinds.get_mut(c.at) else { return Err(Fault::OutOfSlots { off }) };
    // An unknown kind's `fixed` runs past any type section: one check
    // covers both failures.
    let (shape, raw_kind, vlen, next) = record_end::<BE>(shapes, hdr, off);
    if next > types.len() {
        if shape.fixed == RecordShape::INVALID.fixed {
            return Err(Fault::UnknownKind { off, raw_kind });
        }
        return Err(Fault::Short { off, raw_kind, vlen, next });
    }
    if REFS {
        // (In range: the header is, and `next` is past it.)
        let rest = types.get(off + TYPE_HDR..next).unwrap_or(&[]);
        c.max_str = c.max_str.max(word_at::<BE>(hdr, 0));
        c.max_ref = c.max_ref.max(word_at::<BE>(hdr, 8) & shape.ref_mask);
        match shape.refs {
            Refs::None => {}
            Refs::NamesTypes12 => elems_bound::<BE, 12>(rest, true, true, &mut c.max_ref, &mut c.max_str),
            Refs::NamesTypes8 => elems_bound::<BE, 8>(rest, true, true, &mut c.max_ref, &mut c.max_str),
            Refs::Names8 => elems_bound::<BE, 8>(rest, true, false, &mut c.max_ref, &mut c.max_str),
            Refs::Names12 => elems_bound::<BE, 12>(rest, true, false, &mut c.max_ref, &mut c.max_str),
            // Variables: type, offset, size (the type is word 0 here).
            Refs::Types12 => {
                for e in rest.chunks_exact(12) {
                    c.max_ref = c.max_ref.max(word_at::<BE>(e, 0));
                }
            }
            Refs::Array => {
                if let Some(a) = rest.first_chunk::<8>() {
                    c.max_ref = c.max_ref.max(word_at::<BE>(a, 0)).max(word_at::<BE>(a, 4));
                }
            }
        }
    }
    if !STRIDED {
        if let Some(o) = offsets.get_mut(c.at) {
            *o = off as u32;
        }
    } else if c.at % STRIDE == 0 {
        if let Some(o) = offsets.get_mut(c.at / STRIDE) {
            *o = off as u32;
        }
    }
    *slot_kind = raw_kind;
    c.n += 1;
    c.at += 1;
    c.off = next;
    Ok(())
}

/// Walk chain `c` on until its offset reaches `stop` or the section ends.
fn run<const BE: bool, const REFS: bool, const STRIDED: bool>(
    types: &[u8],
    shapes: &[RecordShape; 32],
    c: &mut Chain,
    stop: usize,
    offsets: &mut [u32],
    kinds: &mut [u8],
) -> Result<(), Fault> {
    while c.off < stop && c.off < types.len() {
        step::<BE, REFS, STRIDED>(types, shapes, c, offsets, kinds)?;
    }
    Ok(())
}

/// Walk all of `types` (its `slots` entries at most) into a new table.
pub(super) fn index<const BE: bool, const REFS: bool>(types: &[u8], shapes: &[RecordShape; 32], slots: usize) -> Result<Walked, Failure> {
    index_with::<BE, REFS>(types, shapes, slots, SPLIT_MIN)
}

/// [`index`], chains from `split_min` bytes (tests lower it).
pub(super) fn index_with<const BE: bool, const REFS: bool>(
    types: &[u8],
    shapes: &[RecordShape; 32],
    slots: usize,
    split_min: usize,
) -> Result<Walked, Failure> {
    // Chains only where each has room for every record it may read (no id
    // limit below the section's record bound), and only for the layout
    // alone (the lazy parse): gathering the reference bounds reads every
    // element of every record, which the chains do not speed up (measured:
    // `check` of one object slower with them).
    let starts = if !REFS && types.len() >= split_min && slots >= types.len() / TYPE_HDR { chain_starts::<BE>(types, shapes) } else { vec![0] };
    index_from::<BE, REFS>(types, shapes, slots, &starts)
}

/// [`index`] with chains from `starts` (increasing, the first 0; any
/// other offsets: a chain not landed on is dropped). Chains without the
/// reference bounds (the lazy parse) keep one offset in [`STRIDE`].
fn index_from<const BE: bool, const REFS: bool>(types: &[u8], shapes: &[RecordShape; 32], slots: usize, starts: &[usize]) -> Result<Walked, Failure> {
    if !REFS && starts.len() > 1 {
        index_runs::<BE, REFS, true>(types, shapes, slots, starts)
    } else {
        index_runs::<BE, REFS, false>(types, shapes, slots, starts)
    }
}

/// [`index_from`], the offsets kept as `STRIDED` says.
fn index_runs<const BE: bool, const REFS: bool, const STRIDED: bool>(
    types: &[u8],
    shapes: &[RecordShape; 32],
    slots: usize,
    starts: &[usize],
) -> Result<Walked, Failure> {
    // Chain `i` writes from entry start/12 + i: at most
    // (stop - 1 - start)/12 + 1 records lie before its stop, so it ends
    // at or before the next chain's first entry, and the last one within
    // len/12 + CHAINS entries.
    let slots = if starts.len() > 1 { types.len() / TYPE_HDR + CHAINS } else { slots };
    // Zeroed allocations: fresh pages, touched only as far as filled.
    let mut offsets = vec![0u32; if STRIDED { slots / STRIDE + 1 } else { slots }];
    let mut kinds = vec![0u8; slots];
    let mut chains: Vec<Chain> = starts.iter().enumerate().map(|(i, &s)| Chain { off: s, at: s / TYPE_HDR + i, ..Chain::default() }).collect();
    let stops: Vec<usize> = starts.iter().skip(1).copied().chain([usize::MAX]).collect();
    // Interleaved while every chain is short of its stop and none met a
    // bad record (then each goes on alone, below). The chains are locals
    // here (registers), and the four steps are combined without
    // short-circuit: their loads overlap.
    if let ([a, b, c, d], &[s0, s1, s2, s3]) = (chains.as_mut_slice(), stops.as_slice()) {
        let (mut ca, mut cb, mut cc, mut cd) = (*a, *b, *c, *d);
        while ca.off < s0 && cb.off < s1 && cc.off < s2 && cd.off < s3 {
            let ok = step::<BE, REFS, STRIDED>(types, shapes, &mut ca, &mut offsets, &mut kinds).is_ok()
                & step::<BE, REFS, STRIDED>(types, shapes, &mut cb, &mut offsets, &mut kinds).is_ok()
                & step::<BE, REFS, STRIDED>(types, shapes, &mut cc, &mut offsets, &mut kinds).is_ok()
                & step::<BE, REFS, STRIDED>(types, shapes, &mut cd, &mut offsets, &mut kinds).is_ok();
            if !ok {
                break;
            }
        }
        (*a, *b, *c, *d) = (ca, cb, cc, cd);
    }
    // Then in order: each chain to its stop; the next counts only if this
    // one landed on its start, else this one walks on to the end.
    let mut runs = Vec::with_capacity(chains.len());
    let mut first = 0usize;
    let mut end = 0usize;
    let (mut max_ref, mut max_str) = (0u32, 0u32);
    for (c, &stop) in chains.iter_mut().zip(&stops) {
        let at0 = c.at - c.n;
        if let Err(f) = run::<BE, REFS, STRIDED>(types, shapes, c, stop, &mut offsets, &mut kinds) {
            return Err((f, first + c.n));
        }
        let landed = c.off == stop;
        if !landed && stop != usize::MAX {
            // Not landed on the next chain's start: on alone to the end
            // (over the entries of the chains dropped).
            if let Err(f) = run::<BE, REFS, STRIDED>(types, shapes, c, usize::MAX, &mut offsets, &mut kinds) {
                return Err((f, first + c.n));
            }
        }
        runs.push(Run { first, at: at0, len: c.n });
        first += c.n;
        max_ref = max_ref.max(c.max_ref);
        max_str = max_str.max(c.max_str);
        end = c.off;
        if !landed {
            break;
        }
    }
    if end < types.len() {
        // Slots run out only at the id limit, or less than a header is left.
        return Err(if types.len() - end >= TYPE_HDR { (Fault::OutOfSlots { off: end }, first) } else { (Fault::Tail { off: end }, first) });
    }
    let table = if STRIDED { Table::new_strided(offsets, kinds, &runs, starts, shapes, BE) } else { Table::new(offsets, kinds, &runs) };
    Ok(Walked { table, max_ref, max_str })
}

/// Where the chains start: 0, then for each later chain the first 4-byte
/// aligned offset at or after its share of the section from which a walk
/// of [`TRIAL`] records meets no bad record (chains with none are left
/// out).
fn chain_starts<const BE: bool>(types: &[u8], shapes: &[RecordShape; 32]) -> Vec<usize> {
    let mut starts = vec![0usize];
    for i in 1..CHAINS {
        let from = (types.len() / CHAINS * i) & !3;
        let to = (types.len() / CHAINS * (i + 1)) & !3;
        let found = (0..TRIES).map(|k| from + 4 * k).take_while(|&o| o < to).find(|&o| trial::<BE>(types, shapes, o));
        if let Some(o) = found.filter(|&o| o > *starts.last().unwrap_or(&0)) {
            starts.push(o);
        }
    }
    // Interleaving needs all chains; fewer: one walk.
    if starts.len() != CHAINS {
        starts.truncate(1);
    }
    starts
}

/// Whether [`TRIAL`] records from `off` read without a bad record (or end
/// the section exactly).
fn trial<const BE: bool>(types: &[u8], shapes: &[RecordShape; 32], mut off: usize) -> bool {
    for _ in 0..TRIAL {
        if off == types.len() {
            return true;
        }
        let Some(hdr) = types.get(off..).and_then(|t| t.first_chunk::<TYPE_HDR>()) else { return false };
        let (_, _, _, next) = record_end::<BE>(shapes, hdr, off);
        if next > types.len() {
            return false;
        }
        off = next;
    }
    true
}

/// The type section of a blob, and the record shapes its reader uses (for
/// tests and fuzzing: no checks beyond the header words).
#[cfg(any(test, feature = "testing"))]
fn section(blob: &[u8]) -> Option<(&[u8], [RecordShape; 32], bool)> {
    let be = blob.first() == Some(&0xeb);
    let w = |o: usize| -> Option<usize> {
        let b = *blob.get(o..o + 4)?.first_chunk::<4>()?;
        Some(if be { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) } as usize)
    };
    let (hl, toff, tlen) = (w(4)?, w(8)?, w(12)?);
    // A blob the reader refuses still has the known kinds' shapes.
    let shapes = super::Btf::parse_lazy(crate::bytes::Bytes::from_vec(blob.to_vec())).map_or_else(|_| super::record_shapes(None), |b| b.record_shapes());
    let start = hl.checked_add(toff)?;
    Some((blob.get(start..start.checked_add(tlen)?)?, shapes, be))
}

/// Entries in index order (offset, kind), and the reference bounds.
#[cfg(any(test, feature = "testing"))]
type Found = (Vec<(u32, u8)>, u32, u32);

/// What a walk of `types` found, comparable: entries in index order (from
/// `offset` and from the runs, which must agree; a strided table's offsets
/// found before and after it made its full table), bounds; or the failure.
#[cfg(any(test, feature = "testing"))]
fn outcome(r: Result<Walked, Failure>, types: &[u8]) -> Result<Found, Failure> {
    let w = r?;
    let t = &w.table;
    let by_offset: Vec<Option<u32>> = (0..t.len()).map(|i| t.offset(i, types)).collect();
    let entries: Vec<(u32, u8)> = t.runs(types).flat_map(|(_, o, k)| o.iter().copied().zip(k.iter().copied())).collect();
    assert_eq!(entries.len(), t.len());
    assert_eq!(t.kind_runs().map(|(_, _, k)| k.len()).sum::<usize>(), t.len());
    for (i, &(o, _)) in entries.iter().enumerate() {
        assert_eq!(by_offset.get(i).copied().flatten(), Some(o), "entry {i}");
        assert_eq!(t.offset(i, types), Some(o), "entry {i}");
    }
    assert_eq!(t.offset(entries.len(), types), None);
    Ok((entries, w.max_ref, w.max_str))
}

/// For tests and fuzzing: the type section of `blob` walked once, as chains
/// from the starts found, and as chains from `starts` (sorted, 0 first)
/// gives the same table or fails at the same record, with and without
/// reference bounds. Panics where they differ.
#[cfg(feature = "testing")]
pub(super) fn check_chains(blob: &[u8], starts: &[usize]) {
    if let Some((types, shapes, be)) = section(blob) {
        agree(types, &shapes, be, starts);
    }
}

/// [`check_chains`] on a type section.
#[cfg(any(test, feature = "testing"))]
fn agree(types: &[u8], shapes: &[RecordShape; 32], be: bool, starts: &[usize]) {
    let mut starts: Vec<usize> = std::iter::once(0).chain(starts.iter().copied()).collect();
    starts.sort_unstable();
    starts.dedup();
    let slots = types.len() / TYPE_HDR;
    macro_rules! check {
        ($be:literal) => {{
            for refs in [false, true] {
                let (one, found, given) = if refs {
                    (
                        outcome(index_from::<$be, true>(types, shapes, slots, &[0]), types),
                        outcome(index_with::<$be, true>(types, shapes, slots, 0), types),
                        outcome(index_from::<$be, true>(types, shapes, slots, &starts), types),
                    )
                } else {
                    (
                        outcome(index_from::<$be, false>(types, shapes, slots, &[0]), types),
                        outcome(index_with::<$be, false>(types, shapes, slots, 0), types),
                        outcome(index_from::<$be, false>(types, shapes, slots, &starts), types),
                    )
                };
                assert_eq!(found, one, "found starts, refs {refs}");
                assert_eq!(given, one, "starts {starts:?}, refs {refs}");
            }
        }};
    }
    if be {
        check!(true)
    } else {
        check!(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Endian;

    /// The reader tests' section of every record size class, a quarter
    /// of it (the mutation test walks it some 3,000 times).
    fn large(e: Endian) -> Vec<u8> {
        crate::btf::tests::large_n(e, 3_000).build()
    }

    /// Any start offsets, in the middle of records included: the chains
    /// not landed on are dropped and the table is the one walk's.
    #[test]
    fn chains_from_any_starts_give_the_one_walks_table() {
        for e in [Endian::Little, Endian::Big] {
            let blob = large(e);
            let (types, shapes, be) = section(&blob).unwrap();
            let q = (types.len() / 4) & !3;
            agree(types, &shapes, be, &[0]);
            agree(types, &shapes, be, &[0, q, 2 * q, 3 * q]);
            for d in [4, 8, 12, 16, 20, 36] {
                agree(types, &shapes, be, &[0, q + d, 2 * q + d, 3 * q + d]);
                agree(types, &shapes, be, &[0, q, 2 * q + d, 3 * q]);
            }
            // Close together, and at the very end.
            agree(types, &shapes, be, &[0, 4, 8, 12]);
            agree(types, &shapes, be, &[0, types.len() - 12, types.len() - 8, types.len() - 4]);
            // The found starts are record starts: every chain kept.
            let found = chain_starts::<false>(types, &shapes);
            if !be {
                assert_eq!(found.len(), CHAINS);
                let one = outcome(index_from::<false, false>(types, &shapes, types.len() / 12, &[0]), types).unwrap().0;
                assert!(found.iter().all(|s| one.iter().any(|&(o, _)| o as usize == *s)), "{found:?}");
            }
        }
    }

    /// Mutation test: bytes changed all over the section (kinds, vlens,
    /// sizes): chained and one walk agree on the table or on the first bad
    /// record and its index.
    #[test]
    fn damaged_sections_fail_as_one_walk_does() {
        for e in [Endian::Little, Endian::Big] {
            let blob = large(e);
            let (types, _, _) = section(&blob).unwrap();
            let (start, n) = (types.as_ptr() as usize - blob.as_ptr() as usize, types.len());
            for (k, pos) in (0..n).step_by(n / 97 + 1).enumerate() {
                for v in [0x00u8, 0xff, 0x1f, 0x04, 0x80] {
                    let mut bad = blob.clone();
                    bad[start + pos] = v;
                    let (types, shapes, be) = section(&bad).unwrap();
                    let q = (types.len() / 4) & !3;
                    agree(types, &shapes, be, &[0, q + 4 * (k % 3), 2 * q, 3 * q]);
                }
            }
            // Cut short: a tail of less than a header, and a record cut.
            for cut in [1, 4, 11, 12, 13] {
                let (types, shapes, be) = section(&blob).unwrap();
                let types = &types[..types.len() - cut];
                let q = (types.len() / 4) & !3;
                agree(types, &shapes, be, &[0, q, 2 * q, 3 * q]);
            }
        }
    }

    /// The corpus kernels' vmlinux BTF: chains give the one walk's table.
    #[test]
    fn corpus_kernels_walk_the_same_in_chains() {
        let Some(corpus) = std::env::var_os("BPFABI_CORPUS") else { return };
        let Ok(dirs) = std::fs::read_dir(std::path::Path::new(&corpus).join("kernels")) else { return };
        let mut seen = 0;
        for d in dirs.flatten() {
            let Ok(blob) = std::fs::read(d.path().join("vmlinux.btf")) else { continue };
            let (types, shapes, be) = section(&blob).unwrap();
            assert!(types.len() >= SPLIT_MIN);
            let starts = if be { chain_starts::<true>(types, &shapes) } else { chain_starts::<false>(types, &shapes) };
            assert_eq!(starts.len(), CHAINS, "{}", d.path().display());
            agree(types, &shapes, be, &starts);
            seen += 1;
        }
        assert!(seen > 0);
    }
}
