//! The one pass every buffer gets before any regex runs: ASCII case folding, a SIMD literal
//! search for a short window of each keyword, and detection of the long base64 runs in which
//! an encoded secret could hide — chunk by chunk, so a buffer is read from memory once and
//! the folded copy stays in cache whatever the file's size.
//!
//! Why windows of folded text: keywords are case-insensitive, and a case-insensitive
//! Aho-Corasick automaton over two dozen keywords has no usable literal prefilter (their first
//! bytes, in both cases, cover most letters), so it steps through every byte. Folding a chunk
//! to lower case costs almost nothing, and searching the folded chunk case-sensitively for the
//! rarest four bytes of each keyword lets the packed (Teddy) searcher skip nearly everything.
//! Each candidate is then checked against the whole keyword in the original bytes, so the set
//! of keywords reported is exactly the set that occurs, case-insensitively, in the buffer.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span};
use std::cell::RefCell;

/// Bytes folded and searched at a time: fits in L2 cache, a multiple of [`BLOCK`].
const CHUNK: usize = 64 * 1024;
/// Bytes classified at a time (one bit each in a `u64`).
const BLOCK: usize = 64;
/// Length of the keyword windows the literal searcher looks for.
const WINDOW: usize = 4;
/// Windows per packed searcher. Teddy sorts patterns into 8 buckets by their first bytes;
/// past a dozen patterns the buckets' false candidates slow it down more than a second pass
/// over the (cached) chunk costs: two searchers of 11 windows run about twice as fast as one
/// of 22 on source code. With 26 general windows, two searchers of 13 cost 2% more CPU than
/// the 22 did and three of 9 cost 7.5% more (100k-file bench home): a third pass costs more
/// than two more patterns per searcher.
const WINDOWS_PER_SEARCHER: usize = 13;
/// Base64 runs shorter than this are never decoded.
pub(super) const MIN_RUN: usize = 20;

thread_local! {
    /// Folded chunk, reused by every search on this thread (no allocation per file).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Finds which of a set of keywords occur in a buffer, ignoring ASCII case.
pub(super) struct KeywordSearch {
    /// The keywords, lower case.
    keywords: Vec<Box<[u8]>>,
    /// Keywords that are empty: present in every buffer.
    always: Vec<usize>,
    /// The distinct windows of the keywords.
    windows: Vec<Window>,
    /// The windows split among searchers.
    groups: Vec<WindowGroup>,
    /// Folded bytes past a chunk's end that a window starting in it may need.
    overlap: usize,
}

/// A short piece of one or more keywords, searched for in folded text.
struct Window {
    bytes: Box<[u8]>,
    /// The keywords it is a piece of, with its offset in each.
    keywords: Vec<(usize, usize)>,
}

/// A share of the windows and the searcher for them.
struct WindowGroup {
    searcher: LiteralSearcher,
    /// Pattern of the searcher → the windows to try where it is reported: itself, and those
    /// of the group it is a prefix of or that are a prefix of it (a leftmost-first search
    /// reports only one of the patterns that start at the same place).
    related: Vec<Vec<usize>>,
}

impl KeywordSearch {
    /// Compiles the search for `keywords` (any case).
    pub(super) fn new<K: AsRef<[u8]>>(keywords: &[K]) -> Result<KeywordSearch, String> {
        let keywords: Vec<Box<[u8]>> = keywords
            .iter()
            .map(|k| k.as_ref().to_ascii_lowercase().into_boxed_slice())
            .collect();
        let mut always = Vec::new();
        let mut windows: Vec<Window> = Vec::new();
        for (idx, kw) in keywords.iter().enumerate() {
            if kw.is_empty() {
                always.push(idx);
                continue;
            }
            let off = rarest_window(kw);
            let bytes = &kw[off..kw.len().min(off + WINDOW)];
            match windows.iter_mut().find(|w| *w.bytes == *bytes) {
                Some(w) => w.keywords.push((idx, off)),
                None => windows.push(Window {
                    bytes: bytes.into(),
                    keywords: vec![(idx, off)],
                }),
            }
        }
        let overlap = windows.iter().map(|w| w.bytes.len() - 1).max().unwrap_or(0);
        // Short windows together, so that the others get Teddy's longer fingerprints. The
        // searcher that holds them matches every window of its share on the first three bytes
        // only: the windows whose first three bytes are rarest join them (`key-` would match
        // every `key` of source code there).
        windows.sort_by_key(|w| {
            let head: u32 = w.bytes.iter().take(3).map(|&b| commonness(b)).sum();
            (w.bytes.len(), head)
        });
        let mut groups = Vec::new();
        if !windows.is_empty() {
            let n_groups = windows.len().div_ceil(WINDOWS_PER_SEARCHER);
            let per = windows.len().div_ceil(n_groups);
            for first in (0..windows.len()).step_by(per) {
                let ids: Vec<usize> = (first..windows.len().min(first + per)).collect();
                let literals: Vec<&[u8]> = ids.iter().map(|&i| &*windows[i].bytes).collect();
                let related = ids
                    .iter()
                    .map(|&i| {
                        let w = &windows[i].bytes;
                        ids.iter()
                            .copied()
                            .filter(|&j| {
                                w.starts_with(&windows[j].bytes) || windows[j].bytes.starts_with(w)
                            })
                            .collect()
                    })
                    .collect();
                groups.push(WindowGroup {
                    searcher: LiteralSearcher::new(&literals)?,
                    related,
                });
            }
        }
        Ok(KeywordSearch {
            keywords,
            always,
            windows,
            groups,
            overlap,
        })
    }

    /// One pass over `data`: calls `keyword(k)` for every keyword `k` that occurs (possibly
    /// more than once for the same keyword), and `run(start, end)` for every maximal run of
    /// base64 bytes (`[A-Za-z0-9+/=_-]`) at least [`MIN_RUN`] long, in order.
    pub(super) fn scan(
        &self,
        data: &[u8],
        keyword: &mut dyn FnMut(usize),
        run: &mut dyn FnMut(usize, usize),
    ) {
        for &k in &self.always {
            keyword(k);
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.scan_with(&mut scratch, data, keyword, run),
            // Only if a callback searched again on this thread: use a buffer of its own.
            Err(_) => self.scan_with(&mut Vec::new(), data, keyword, run),
        });
    }

    fn scan_with(
        &self,
        scratch: &mut Vec<u8>,
        data: &[u8],
        keyword: &mut dyn FnMut(usize),
        run: &mut dyn FnMut(usize, usize),
    ) {
        let need = CHUNK + BLOCK + self.overlap;
        if scratch.len() < need {
            scratch.resize(need, 0);
        }
        let mut runs = LongRuns::default();
        let mut start = 0;
        while start < data.len() {
            let end = data.len().min(start + CHUNK);
            let chunk = &data[start..end];
            fold_chunk(chunk, &mut scratch[..], start, &mut runs, run);
            let extra = (data.len() - end).min(self.overlap);
            for (d, &b) in scratch[chunk.len()..chunk.len() + extra]
                .iter_mut()
                .zip(&data[end..end + extra])
            {
                *d = b.to_ascii_lowercase();
            }
            self.find_keywords(
                &scratch[..chunk.len() + extra],
                chunk.len(),
                start,
                data,
                keyword,
            );
            start = end;
        }
        runs.finish(run);
    }

    /// Reports the keywords whose window starts in `folded[..limit]`, the folded copy of
    /// `data[base..]` (and a little beyond), checking each candidate against the keyword.
    fn find_keywords(
        &self,
        folded: &[u8],
        limit: usize,
        base: usize,
        data: &[u8],
        keyword: &mut dyn FnMut(usize),
    ) {
        for group in &self.groups {
            let mut at = 0;
            while at < limit {
                let Some((pattern, q)) = group.searcher.find(folded, at) else {
                    break;
                };
                if q >= limit {
                    break;
                }
                for &w in &group.related[pattern] {
                    let window = &self.windows[w];
                    if !folded[q..].starts_with(&window.bytes) {
                        continue;
                    }
                    for &(k, off) in &window.keywords {
                        if self.keyword_at(k, off, folded, q, base, data) {
                            keyword(k);
                        }
                    }
                }
                at = q + 1;
            }
        }
    }

    /// Does keyword `k`, whose window is at offset `off` in it, occur where that window was
    /// found, at `folded[q]` (= `data[base + q]`, folded)?
    fn keyword_at(
        &self,
        k: usize,
        off: usize,
        folded: &[u8],
        q: usize,
        base: usize,
        data: &[u8],
    ) -> bool {
        let kw = &self.keywords[k];
        if kw.len() <= WINDOW {
            return true; // the window is the whole keyword
        }
        let Some(p) = (base + q).checked_sub(off) else {
            return false;
        };
        match q.checked_sub(off).and_then(|s| folded.get(s..s + kw.len())) {
            Some(f) => f == &**kw,
            // Reaches out of the folded chunk: compare with the original bytes.
            None => data
                .get(p..p + kw.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(kw)),
        }
    }
}

/// Finds where the leftmost of many case-sensitive literals starts (the base64 forms of the
/// keywords), with several packed searchers of a few dozen literals each: four times the
/// speed of one automaton over all of them on base64 text.
pub(super) struct LiteralSet {
    groups: Vec<LiteralSearcher>,
    longest: usize,
}

/// Literals per searcher of a [`LiteralSet`].
const LITERALS_PER_SEARCHER: usize = 32;

impl LiteralSet {
    pub(super) fn new<L: AsRef<[u8]>>(literals: &[L]) -> Result<LiteralSet, String> {
        let mut literals: Vec<&[u8]> = literals.iter().map(AsRef::as_ref).collect();
        if literals.iter().any(|l| l.is_empty()) {
            return Err("empty literal".into());
        }
        literals.sort_by_key(|l| l.len());
        let groups = if literals.is_empty() {
            Vec::new()
        } else {
            let n = literals.len().div_ceil(LITERALS_PER_SEARCHER);
            literals
                .chunks(literals.len().div_ceil(n))
                .map(LiteralSearcher::new)
                .collect::<Result<_, _>>()?
        };
        let longest = literals.iter().map(|l| l.len()).max().unwrap_or(0);
        Ok(LiteralSet { groups, longest })
    }

    /// Start of the leftmost occurrence of any literal in `haystack`.
    pub(super) fn leftmost(&self, haystack: &[u8]) -> Option<usize> {
        let mut best: Option<usize> = None;
        for group in &self.groups {
            // Once a literal is found, the others need only be looked for before it.
            let end = best.map_or(haystack.len(), |b| haystack.len().min(b + self.longest - 1));
            if let Some((_, start)) = group.find(&haystack[..end], 0) {
                if best.is_none_or(|b| start < b) {
                    best = Some(start);
                }
            }
        }
        best
    }
}

/// A leftmost-first search for a few literals: packed Teddy (SIMD) where the CPU has it, else
/// an Aho-Corasick automaton.
enum LiteralSearcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl LiteralSearcher {
    fn new(literals: &[&[u8]]) -> Result<LiteralSearcher, String> {
        if let Some(s) = packed::Config::new().builder().extend(literals).build() {
            return Ok(LiteralSearcher::Packed(s));
        }
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(literals)
            .map(LiteralSearcher::Automaton)
            .map_err(|e| format!("keyword search: {e}"))
    }

    /// The leftmost literal starting at or after `at`: its index and start.
    fn find(&self, haystack: &[u8], at: usize) -> Option<(usize, usize)> {
        let span = Span::from(at..haystack.len());
        let m = match self {
            LiteralSearcher::Packed(s) => s.find_in(haystack, span)?,
            LiteralSearcher::Automaton(ac) => ac.find(Input::new(haystack).span(span))?,
        };
        Some((m.pattern().as_usize(), m.start()))
    }
}

/// How often a byte turns up in source code and prose, roughly: windows made of rare bytes
/// give the literal searcher fewer false candidates.
fn commonness(b: u8) -> u32 {
    match b {
        b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 8,
        b'l' | b'c' | b'd' | b'h' | b'u' | b'm' | b'p' | b'f' | b'_' | b'\n' => 6,
        b'g' | b'y' | b'b' | b'w' | b'v' | b'.' | b'(' | b')' | b'"' | b'\'' | b'=' => 5,
        b'k' | b'x' | b'-' | b',' | b':' | b'/' => 4,
        b'0'..=b'9' | b'j' | b'q' | b'z' => 3,
        _ => 2,
    }
}

/// Offset of the [`WINDOW`]-byte window of `kw` made of the rarest bytes (the first such).
fn rarest_window(kw: &[u8]) -> usize {
    if kw.len() <= WINDOW {
        return 0;
    }
    (0..=kw.len() - WINDOW)
        .min_by_key(|&o| {
            kw[o..o + WINDOW]
                .iter()
                .map(|&b| commonness(b))
                .sum::<u32>()
        })
        .unwrap_or(0)
}

/// Is `b` a base64 byte, standard or URL-safe alphabet, or padding?
pub(super) fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Folds `chunk` (the bytes at offset `at` of the buffer) to ASCII lower case into `dst`,
/// feeding the mask of its base64 bytes to `runs`, block by block. `dst` has room for the
/// chunk rounded up to a whole block.
fn fold_chunk(
    chunk: &[u8],
    dst: &mut [u8],
    at: usize,
    runs: &mut LongRuns,
    run: &mut dyn FnMut(usize, usize),
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { x86::fold_chunk_avx2(chunk, dst, at, runs, run) };
        } else {
            fold_chunk_with(chunk, dst, at, runs, run, x86::fold_block_sse2);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    fold_chunk_with(chunk, dst, at, runs, run, fold_block_scalar);
}

/// [`fold_chunk`] with a given block folder, inlined into each caller so that the folder is
/// compiled with its caller's CPU features.
#[inline(always)]
fn fold_chunk_with(
    chunk: &[u8],
    dst: &mut [u8],
    at: usize,
    runs: &mut LongRuns,
    run: &mut dyn FnMut(usize, usize),
    fold_block: impl Fn(&[u8; BLOCK], &mut [u8; BLOCK]) -> u64,
) {
    let full = chunk.len() - chunk.len() % BLOCK;
    for (i, (src, out)) in chunk[..full]
        .chunks_exact(BLOCK)
        .zip(dst.chunks_exact_mut(BLOCK))
        .enumerate()
    {
        let mask = fold_block(
            src.try_into().expect("block"),
            out.try_into().expect("block"),
        );
        runs.push(at + i * BLOCK, mask, run);
    }
    if full < chunk.len() {
        // The tail, padded with NULs (not base64: they close any open run).
        let mut src = [0u8; BLOCK];
        src[..chunk.len() - full].copy_from_slice(&chunk[full..]);
        let out: &mut [u8; BLOCK] = (&mut dst[full..full + BLOCK]).try_into().expect("block");
        let mask = fold_block(&src, out);
        runs.push(at + full, mask, run);
    }
}

/// Folds one block with SSE2 (every x86_64 CPU) or AVX2 (most since 2013): the same result
/// as [`fold_block_scalar`], 16 or 32 bytes at a time.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{fold_chunk_with, LongRuns, BLOCK};
    use std::arch::x86_64::*;

    /// The specials of the base64 alphabets besides letters and digits.
    const SPECIALS: [u8; 5] = [b'+', b'/', b'-', b'_', b'='];

    /// Lanes where `v - lo < n`, unsigned (SSE2 compares only signed: flip the sign bits).
    #[inline(always)]
    unsafe fn in_range(v: __m128i, lo: u8, n: u8) -> __m128i {
        let t = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
        _mm_cmplt_epi8(
            _mm_xor_si128(t, _mm_set1_epi8(i8::MIN)),
            _mm_set1_epi8((n ^ 0x80) as i8),
        )
    }

    pub(super) fn fold_block_sse2(src: &[u8; BLOCK], dst: &mut [u8; BLOCK]) -> u64 {
        let mut mask = 0u64;
        for lane in 0..BLOCK / 16 {
            // SAFETY: SSE2 is part of the x86_64 baseline; the unaligned load and store touch
            // bytes 16*lane..16*lane+16 of 64-byte arrays.
            unsafe {
                let v = _mm_loadu_si128(src.as_ptr().add(16 * lane).cast());
                let upper = in_range(v, b'A', 26);
                let folded = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
                _mm_storeu_si128(dst.as_mut_ptr().add(16 * lane).cast(), folded);
                let mut class = _mm_or_si128(in_range(folded, b'a', 26), in_range(v, b'0', 10));
                for b in SPECIALS {
                    class = _mm_or_si128(class, _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
                }
                mask |= u64::from(_mm_movemask_epi8(class) as u16) << (16 * lane);
            }
        }
        mask
    }

    /// Lanes where `v - lo < n`, unsigned.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn in_range256(v: __m256i, lo: u8, n: u8) -> __m256i {
        let t = _mm256_sub_epi8(v, _mm256_set1_epi8(lo as i8));
        _mm256_cmpgt_epi8(
            _mm256_set1_epi8((n ^ 0x80) as i8),
            _mm256_xor_si256(t, _mm256_set1_epi8(i8::MIN)),
        )
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn fold_block_avx2(src: &[u8; BLOCK], dst: &mut [u8; BLOCK]) -> u64 {
        let mut mask = 0u64;
        for lane in 0..BLOCK / 32 {
            let v = _mm256_loadu_si256(src.as_ptr().add(32 * lane).cast());
            let upper = in_range256(v, b'A', 26);
            let folded = _mm256_or_si256(v, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
            _mm256_storeu_si256(dst.as_mut_ptr().add(32 * lane).cast(), folded);
            let mut class =
                _mm256_or_si256(in_range256(folded, b'a', 26), in_range256(v, b'0', 10));
            for b in SPECIALS {
                class = _mm256_or_si256(class, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b as i8)));
            }
            mask |= u64::from(_mm256_movemask_epi8(class) as u32) << (32 * lane);
        }
        mask
    }

    /// [`super::fold_chunk`] with AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fold_chunk_avx2(
        chunk: &[u8],
        dst: &mut [u8],
        at: usize,
        runs: &mut LongRuns,
        run: &mut dyn FnMut(usize, usize),
    ) {
        // SAFETY (of the calls in the closure): this function runs only where AVX2 is
        // available; the loads and stores stay inside the 64-byte arrays.
        fold_chunk_with(chunk, dst, at, runs, run, |s, d| unsafe {
            fold_block_avx2(s, d)
        });
    }

    #[cfg(test)]
    pub(super) fn fold_block_avx2_checked(src: &[u8; BLOCK], dst: &mut [u8; BLOCK]) -> Option<u64> {
        // SAFETY: only called where the CPU has AVX2.
        is_x86_feature_detected!("avx2").then(|| unsafe { fold_block_avx2(src, dst) })
    }
}

/// Folds `src` to ASCII lower case into `dst`; returns the mask of its base64 bytes (bit `i`
/// for `src[i]`). The portable form, and the reference the SIMD forms are tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn fold_block_scalar(src: &[u8; BLOCK], dst: &mut [u8; BLOCK]) -> u64 {
    let mut mask = 0u64;
    for (i, (&b, d)) in src.iter().zip(dst.iter_mut()).enumerate() {
        *d = b.to_ascii_lowercase();
        mask |= u64::from(is_base64_byte(b)) << i;
    }
    mask
}

/// Finds maximal runs of set bits at least [`MIN_RUN`] long in a stream of 64-bit block
/// masks, carrying a run across block boundaries.
#[derive(Default)]
struct LongRuns {
    /// Start and length of the run that reaches the end of the previous block.
    open_start: usize,
    open_len: usize,
}

impl LongRuns {
    /// The block at byte offset `at` has base64 bytes where `mask` has bits set.
    #[inline(always)]
    fn push(&mut self, at: usize, mask: u64, run: &mut dyn FnMut(usize, usize)) {
        // The common case in text: nothing open, no long run in the block.
        if self.open_len == 0 && starts_of_runs(mask, MIN_RUN) == 0 {
            self.open_len = mask.leading_ones() as usize;
            self.open_start = at + BLOCK - self.open_len;
            return;
        }
        if mask == u64::MAX {
            if self.open_len == 0 {
                self.open_start = at;
            }
            self.open_len += BLOCK;
            return;
        }
        // The run touching bit 0 continues the open one, if any.
        let low = mask.trailing_ones() as usize;
        if self.open_len + low >= MIN_RUN {
            let start = if self.open_len > 0 {
                self.open_start
            } else {
                at
            };
            run(start, at + low);
        }
        // The run touching bit 63 stays open for the next block.
        let high = mask.leading_ones() as usize;
        let mut inner = mask & !((1u64 << low) - 1) & (u64::MAX >> high);
        if inner != 0 {
            let mut long = starts_of_runs(inner, MIN_RUN);
            while long != 0 {
                let s = long.trailing_zeros() as usize;
                let len = (inner >> s).trailing_ones() as usize;
                run(at + s, at + s + len);
                // s + len < 64: bit 63 of `inner` is clear.
                let done = !((1u64 << (s + len)) - 1);
                inner &= done;
                long &= done;
            }
        }
        if high > 0 {
            self.open_start = at + BLOCK - high;
            self.open_len = high;
        } else {
            self.open_len = 0;
        }
    }

    /// The buffer ended right after the last block pushed.
    fn finish(self, run: &mut dyn FnMut(usize, usize)) {
        if self.open_len >= MIN_RUN {
            run(self.open_start, self.open_start + self.open_len);
        }
    }
}

/// Bits `p` of `m` such that bits `p..p + n` are all set (`n` ≤ 64).
#[inline(always)]
fn starts_of_runs(m: u64, n: usize) -> u64 {
    let (mut y, mut have) = (m, 1);
    while have < n {
        let step = (n - have).min(have);
        y &= y >> step;
        have += step;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic byte stream (xorshift), biased towards `alphabet`.
    fn bytes(len: usize, seed: u64, alphabet: &[u8]) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let r = (x >> 24) as usize;
                if r % 8 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) % alphabet.len()]
                }
            })
            .collect()
    }

    fn runs_naive(data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, &b) in data.iter().enumerate() {
            match (is_base64_byte(b), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s >= MIN_RUN {
                        out.push((s, i));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start.filter(|s| data.len() - s >= MIN_RUN) {
            out.push((s, data.len()));
        }
        out
    }

    fn scan(search: &KeywordSearch, data: &[u8]) -> (Vec<usize>, Vec<(usize, usize)>) {
        let (mut kws, mut runs) = (Vec::new(), Vec::new());
        search.scan(data, &mut |k| kws.push(k), &mut |s, e| runs.push((s, e)));
        kws.sort();
        kws.dedup();
        (kws, runs)
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn simd_folds_match_scalar_for_every_byte() {
        for first in (0..=255u8).step_by(BLOCK) {
            let src: [u8; BLOCK] = std::array::from_fn(|i| first.wrapping_add(i as u8));
            let (mut want, mut got) = ([0u8; BLOCK], [0u8; BLOCK]);
            let mask = fold_block_scalar(&src, &mut want);
            assert_eq!(x86::fold_block_sse2(&src, &mut got), mask);
            assert_eq!(got, want);
            if let Some(m) = x86::fold_block_avx2_checked(&src, &mut got) {
                assert_eq!(m, mask);
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn long_runs_match_a_byte_by_byte_scan() {
        for (seed, alphabet) in [
            (1u64, &b"aB3+/=_- "[..]),
            (2, b"abcdefghij\n"),
            (3, b"QUJDREVGR0hJSktMTU5PUA=="),
            (4, b"x y"),
        ] {
            for len in [
                0,
                1,
                19,
                20,
                21,
                63,
                64,
                65,
                127,
                128,
                129,
                1000,
                CHUNK + 77,
            ] {
                let data = bytes(len, seed, alphabet);
                let search = KeywordSearch::new(&["zz"]).unwrap();
                assert_eq!(
                    scan(&search, &data).1,
                    runs_naive(&data),
                    "seed {seed} len {len}"
                );
            }
        }
        let all = vec![b'A'; 3 * CHUNK + 5];
        let search = KeywordSearch::new(&["zz"]).unwrap();
        assert_eq!(scan(&search, &all).1, vec![(0, all.len())]);
    }

    #[test]
    fn keywords_found_in_any_case_and_across_chunks() {
        let search =
            KeywordSearch::new(&["hf_", "aws_secret_access_key", "\"key\"", "", "ab"]).unwrap();
        let mut data = vec![b' '; 2 * CHUNK];
        let at = CHUNK - 10; // straddles the first chunk boundary
        data[at..at + 21].copy_from_slice(b"AWS_Secret_ACCESS_key");
        assert_eq!(scan(&search, &data).0, vec![1, 3]);
        data[5..8].copy_from_slice(b"Hf_");
        data[2 * CHUNK - 5..2 * CHUNK].copy_from_slice(b"\"KEY\"");
        assert_eq!(scan(&search, &data).0, vec![0, 1, 2, 3]);
        assert_eq!(scan(&search, b"xAbx").0, vec![3, 4]);
        assert_eq!(scan(&search, b"").0, vec![3]);
    }

    #[test]
    fn keywords_match_like_a_case_insensitive_automaton() {
        let kws = [
            "hf_",
            "api_org_",
            "T3BlbkFJ",
            "sk-ant-",
            "gsk_",
            "ghp_",
            "AKIA",
            "ASIA",
            "AIza",
            "aws_secret_access_key",
            "refresh_token",
            "\"key\"",
            "://",
            "machine",
        ];
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(kws)
            .unwrap();
        let search = KeywordSearch::new(&kws).unwrap();
        for seed in 1..40u64 {
            let data = bytes(
                3000,
                seed,
                b"hfHF_apiAPIorgkeyKEY\"sSkK-aA3tT:/mMcChHiInNeEzZ",
            );
            let mut want: Vec<usize> = ac
                .find_overlapping_iter(&data)
                .map(|m| m.pattern().as_usize())
                .collect();
            want.sort();
            want.dedup();
            assert_eq!(scan(&search, &data).0, want, "seed {seed}");
        }
    }
}
