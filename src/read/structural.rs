//! Finding where a JSON object or array ends, 64 bytes at a time.
//!
//! The record splitter's hot loop. With AVX2 a 64-byte block is classified
//! into bit masks (quotes, brackets, token bytes); a prefix-XOR of the quote
//! bits gives the in-string mask, so only brackets outside strings are walked
//! one by one. A block holding a backslash (or following one) is walked byte by
//! byte, which keeps escape handling simple and exact. Without AVX2 every
//! block is walked byte by byte. Both paths share one state machine and
//! give identical results (a property test checks it).
//!
//! Outside strings, every byte must be JSON punctuation, whitespace, or a
//! character of a number or literal; this catches garbage in records that
//! are never parsed, without a full parse.
//!
//! The same pass can also fill a [`Tape`]: where the members of a record's
//! objects are separated, down to a fixed depth, and where its nested
//! containers open and close. A rule pack then reads the members it needs
//! from the tape instead of scanning the record a second time.

use crate::read::error::FormatError;

/// Open brackets (object = true), as bits for the first 64 levels.
#[derive(Default)]
struct BracketStack {
    low: u64,
    deep: Vec<bool>,
    depth: usize,
}

impl BracketStack {
    fn push(&mut self, object: bool) {
        if self.depth < 64 {
            self.low = (self.low & !(1 << self.depth)) | (u64::from(object) << self.depth);
        } else {
            self.deep.push(object);
        }
        self.depth += 1;
    }

    fn pop(&mut self) -> Option<bool> {
        self.depth = self.depth.checked_sub(1)?;
        if self.depth < 64 {
            Some(self.low & (1 << self.depth) != 0)
        } else {
            self.deep.pop()
        }
    }

    /// Whether the innermost open container is an object.
    fn top_is_object(&self) -> bool {
        match self.depth {
            0 => false,
            d if d <= 64 => self.low & (1 << (d - 1)) != 0,
            _ => self.deep.last() == Some(&true),
        }
    }
}

/// What the scan reports as it goes; `()` records nothing, and its calls
/// compile away.
trait Recorder {
    const ON: bool;
    /// Whether separators in the innermost open container are recorded.
    fn wants_seps(&self, stack: &BracketStack) -> bool;
    /// A `,` or `:` outside strings, inside the innermost open container.
    fn sep(&mut self, at: usize, byte: u8, stack: &BracketStack) {
        if self.wants_seps(stack) {
            self.push_sep(at, byte);
        }
    }
    /// Records a separator [`Recorder::wants_seps`] approved.
    fn push_sep(&mut self, at: usize, byte: u8);
    /// A container opened at `at`; `stack` already holds it.
    fn open(&mut self, at: usize, stack: &BracketStack);
    /// The container at `depth` closed at `at`.
    fn close(&mut self, at: usize, depth: usize);
    /// A backslash was seen in a string.
    fn escape(&mut self);
}

impl Recorder for () {
    const ON: bool = false;
    fn wants_seps(&self, _: &BracketStack) -> bool {
        false
    }
    fn push_sep(&mut self, _: usize, _: u8) {}
    fn open(&mut self, _: usize, _: &BracketStack) {}
    fn close(&mut self, _: usize, _: usize) {}
    fn escape(&mut self) {}
}

/// One mark on a [`Tape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A `:` between a key and its value.
    Colon,
    /// A `,` between two members.
    Comma,
    /// A container opens; `close` is the index of the mark where it closes.
    Open { object: bool, close: usize },
    /// A container closes.
    Close,
}

/// A record's structure down to a fixed object depth, found by the scan
/// that finds where the record ends.
///
/// The record is depth 1. The tape holds the `:` and `,` of every object at
/// depth `depth` or less, and the opening and closing of every container at
/// depth `depth + 1` or less; offsets are from the record's first byte.
/// Arrays' commas are left out: a reader steps over an array by its
/// closing mark.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    depth: usize,
    base: usize,
    /// Offset (low 32 bits), kind (next 3) and, for an opening, the index
    /// of its closing mark (the rest).
    marks: Vec<u64>,
    /// Mark indices of the open containers the tape holds.
    open: Vec<usize>,
    escapes: bool,
}

const KIND_COLON: u64 = 0;
const KIND_COMMA: u64 = 1;
const KIND_OBJECT: u64 = 2;
const KIND_ARRAY: u64 = 3;
const KIND_CLOSE: u64 = 4;

impl Tape {
    /// A tape that indexes objects down to `depth` (1: the record's own
    /// members).
    pub fn new(depth: usize) -> Tape {
        Tape {
            depth,
            ..Tape::default()
        }
    }

    /// The object depth this tape indexes.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Makes the tape index objects down to `depth` from the next record on.
    pub fn set_depth(&mut self, depth: usize) {
        self.depth = depth;
    }

    /// How many marks the tape holds.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether the tape holds no marks.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Mark `i`: its offset from the record's first byte, and what it is.
    pub fn mark(&self, i: usize) -> (usize, Mark) {
        let m = self.marks[i];
        let at = (m & 0xffff_ffff) as usize;
        let mark = match (m >> 32) & 7 {
            KIND_COLON => Mark::Colon,
            KIND_COMMA => Mark::Comma,
            KIND_CLOSE => Mark::Close,
            kind => Mark::Open {
                object: kind == KIND_OBJECT,
                close: (m >> 35) as usize,
            },
        };
        (at, mark)
    }

    /// Whether some string in the record holds a backslash (so a key may
    /// be escaped).
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }

    fn reset(&mut self, base: usize) {
        self.base = base;
        self.marks.clear();
        self.open.clear();
        self.escapes = false;
    }

    fn push(&mut self, at: usize, kind: u64) {
        // Offsets past 4 GiB cannot be held; the reader then finds a
        // mark out of order and falls back.
        let at = (at - self.base).min(u32::MAX as usize) as u64;
        self.marks.push(at | kind << 32);
    }
}

impl Recorder for &mut Tape {
    const ON: bool = true;

    #[inline]
    fn wants_seps(&self, stack: &BracketStack) -> bool {
        stack.depth <= self.depth && stack.top_is_object()
    }

    #[inline]
    fn push_sep(&mut self, at: usize, byte: u8) {
        self.push(at, if byte == b':' { KIND_COLON } else { KIND_COMMA });
    }

    #[inline]
    fn open(&mut self, at: usize, stack: &BracketStack) {
        if stack.depth <= self.depth + 1 {
            self.open.push(self.marks.len());
            let kind = if stack.top_is_object() {
                KIND_OBJECT
            } else {
                KIND_ARRAY
            };
            self.push(at, kind);
        }
    }

    #[inline]
    fn close(&mut self, at: usize, depth: usize) {
        if depth <= self.depth + 1 {
            if let Some(open) = self.open.pop() {
                self.marks[open] |= (self.marks.len() as u64) << 35;
            }
            self.push(at, KIND_CLOSE);
        }
    }

    fn escape(&mut self) {
        self.escapes = true;
    }
}

/// Bytes that may appear outside strings, brackets aside: whitespace, `:`,
/// `,`, number characters and the letters of `true`, `false` and `null`.
const TOKEN_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let allowed = b" \t\r\n:,0123456789+-.eEtrufalsn";
    let mut i = 0;
    while i < allowed.len() {
        t[allowed[i] as usize] = true;
        i += 1;
    }
    t
};

/// The scanner's state between bytes.
struct Scan<'b, R> {
    buf: &'b [u8],
    open: usize,
    stack: BracketStack,
    in_string: bool,
    /// The previous byte was an unescaped backslash inside a string.
    escaped: bool,
    rec: R,
}

/// What a step found.
enum Step {
    Continue,
    /// The container closed; the offset just past it.
    End(usize),
}

impl<'b, R: Recorder> Scan<'b, R> {
    fn new(buf: &'b [u8], open: usize, rec: R) -> Scan<'b, R> {
        Scan {
            buf,
            open,
            stack: BracketStack::default(),
            in_string: false,
            escaped: false,
            rec,
        }
    }

    /// Handles one byte at offset `i` outside the fast path.
    #[inline]
    fn byte(&mut self, i: usize) -> Result<Step, FormatError> {
        let c = self.buf[i];
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if c == b'\\' {
                self.escaped = true;
                self.rec.escape();
            } else if c == b'"' {
                self.in_string = false;
            }
            return Ok(Step::Continue);
        }
        match c {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.open(i, c == b'{'),
            b'}' | b']' => return self.close(i, c),
            b',' | b':' if R::ON => self.rec.sep(i, c, &self.stack),
            c if !TOKEN_BYTE[c as usize] => {
                return Err(FormatError::NotJson { offset: i, byte: c })
            }
            _ => {}
        }
        Ok(Step::Continue)
    }

    #[inline]
    fn open(&mut self, i: usize, object: bool) {
        self.stack.push(object);
        self.rec.open(i, &self.stack);
    }

    #[inline]
    fn close(&mut self, i: usize, c: u8) -> Result<Step, FormatError> {
        let depth = self.stack.depth;
        if self.stack.pop() != Some(c == b'}') {
            return Err(FormatError::Malformed {
                offset: i,
                what: "mismatched bracket",
            });
        }
        self.rec.close(i, depth);
        Ok(if self.stack.depth == 0 {
            Step::End(i + 1)
        } else {
            Step::Continue
        })
    }

    fn bytes(&mut self, from: usize, to: usize) -> Result<Step, FormatError> {
        for i in from..to {
            if let Step::End(e) = self.byte(i)? {
                return Ok(Step::End(e));
            }
        }
        Ok(Step::Continue)
    }

    fn truncated(&self) -> FormatError {
        FormatError::Truncated {
            what: if self.buf[self.open] == b'{' {
                "an object"
            } else {
                "an array"
            },
            offset: self.open,
        }
    }
}

/// Returns the offset just past the object or array opening at `open`.
pub fn skip_container(buf: &[u8], open: usize) -> Result<usize, FormatError> {
    run(Scan::new(buf, open, ()))
}

/// The same, byte by byte only: the reference the fast path is tested against.
pub fn skip_container_scalar(buf: &[u8], open: usize) -> Result<usize, FormatError> {
    run_scalar(Scan::new(buf, open, ()))
}

/// [`skip_container`], filling `tape` with the container's structure on
/// the way (the tape is cleared first).
pub fn index_container(buf: &[u8], open: usize, tape: &mut Tape) -> Result<usize, FormatError> {
    tape.reset(open);
    run(Scan::new(buf, open, tape))
}

/// The same, byte by byte only.
pub fn index_container_scalar(
    buf: &[u8],
    open: usize,
    tape: &mut Tape,
) -> Result<usize, FormatError> {
    tape.reset(open);
    run_scalar(Scan::new(buf, open, tape))
}

fn run<R: Recorder>(mut scan: Scan<'_, R>) -> Result<usize, FormatError> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available, as just checked.
            return unsafe { avx2::skip(&mut scan) };
        }
    }
    run_scalar(scan)
}

fn run_scalar<R: Recorder>(mut scan: Scan<'_, R>) -> Result<usize, FormatError> {
    match scan.bytes(scan.open, scan.buf.len())? {
        Step::End(e) => Ok(e),
        Step::Continue => Err(scan.truncated()),
    }
}

/// Sets bit i of the result to the XOR of bits 0..=i of `x`.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{prefix_xor, Recorder, Scan, Step, TOKEN_BYTE};
    use crate::read::error::FormatError;

    /// Bit masks of one 64-byte block.
    struct Masks {
        quote: u64,
        backslash: u64,
        open_brace: u64,
        close_brace: u64,
        open_bracket: u64,
        close_bracket: u64,
        /// Bytes that are certainly valid outside strings besides
        /// separators (space, newline, digits); the rest is checked one by one.
        plain: u64,
        /// `:` and `,`.
        sep: u64,
    }

    /// Bytes equal to `c`, as a vector mask.
    #[target_feature(enable = "avx2")]
    fn eq(v: __m256i, c: u8) -> __m256i {
        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8))
    }

    /// Two 32-byte vector masks as one 64-bit mask.
    #[target_feature(enable = "avx2")]
    fn bits(lo: __m256i, hi: __m256i) -> u64 {
        let l = _mm256_movemask_epi8(lo) as u32;
        let h = _mm256_movemask_epi8(hi) as u32;
        u64::from(l) | (u64::from(h) << 32)
    }

    /// [`bits`] for the quote mask, whose prefix XOR the optimizer turned
    /// back into byte shuffles of the vector masks when recording a tape,
    /// which made that scan three times slower. An empty asm block hides
    /// where the mask came from. (Without a recorder it does not happen,
    /// and the block would cost 20%.)
    #[target_feature(enable = "avx2")]
    fn quote_bits<R: Recorder>(lo: __m256i, hi: __m256i) -> u64 {
        #[allow(unused_mut)]
        let mut m = bits(lo, hi);
        if R::ON {
            // SAFETY: the block holds no instruction; it reads and writes `m` only.
            unsafe {
                std::arch::asm!("/* {0} */", inout(reg) m, options(pure, nomem, nostack, preserves_flags));
            }
        }
        m
    }

    /// `:` and `,`, as a vector mask.
    #[target_feature(enable = "avx2")]
    fn seps(v: __m256i) -> __m256i {
        _mm256_or_si256(eq(v, b':'), eq(v, b','))
    }

    /// Space, newline and digits, as a vector mask.
    #[target_feature(enable = "avx2")]
    fn plain(v: __m256i) -> __m256i {
        let d = _mm256_sub_epi8(v, _mm256_set1_epi8(b'0' as i8));
        let digits = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
        _mm256_or_si256(_mm256_or_si256(eq(v, b' '), eq(v, b'\n')), digits)
    }

    /// Classifies the 64 bytes at `block[..64]`. Each mask is built from
    /// its two halves directly: gathering them through arrays made the
    /// compiler move bytes one at a time.
    #[target_feature(enable = "avx2")]
    fn masks<R: Recorder>(block: &[u8; 64]) -> Masks {
        // SAFETY: both loads read 32 bytes inside the 64-byte array; unaligned
        // loads are allowed.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast()),
            )
        };
        Masks {
            quote: quote_bits::<R>(eq(lo, b'"'), eq(hi, b'"')),
            backslash: bits(eq(lo, b'\\'), eq(hi, b'\\')),
            open_brace: bits(eq(lo, b'{'), eq(hi, b'{')),
            close_brace: bits(eq(lo, b'}'), eq(hi, b'}')),
            open_bracket: bits(eq(lo, b'['), eq(hi, b'[')),
            close_bracket: bits(eq(lo, b']'), eq(hi, b']')),
            plain: bits(plain(lo), plain(hi)),
            sep: bits(seps(lo), seps(hi)),
        }
    }

    /// Scans from `scan.open` to the end of the container.
    #[target_feature(enable = "avx2")]
    pub(super) fn skip<R: Recorder>(scan: &mut Scan<'_, R>) -> Result<usize, FormatError> {
        let buf = scan.buf;
        let mut i = scan.open;
        while i + 64 <= buf.len() {
            let m = masks::<R>(buf[i..i + 64].try_into().expect("64 bytes"));
            let step = if m.backslash != 0 || scan.escaped {
                scan.bytes(i, i + 64)?
            } else {
                block(scan, &m, i)?
            };
            if let Step::End(e) = step {
                return Ok(e);
            }
            i += 64;
        }
        match scan.bytes(i, buf.len())? {
            Step::End(e) => Ok(e),
            Step::Continue => Err(scan.truncated()),
        }
    }

    /// A block without backslashes: brackets outside strings are walked in
    /// order; other bytes outside strings are validated in bulk.
    #[inline]
    fn block<R: Recorder>(
        scan: &mut Scan<'_, R>,
        m: &Masks,
        base: usize,
    ) -> Result<Step, FormatError> {
        let carry = if scan.in_string { u64::MAX } else { 0 };
        // Bit set for bytes inside a string, opening quote included.
        let inside = prefix_xor(m.quote) ^ carry;
        let outside = !inside & !m.quote;
        let brackets = (m.open_brace | m.close_brace | m.open_bracket | m.close_bracket) & outside;
        let mut odd = outside & !brackets & !m.plain & !m.sep;
        let mut seps = if R::ON { m.sep & outside } else { 0 };
        let mut walk = brackets;
        while walk != 0 {
            let bit = walk.trailing_zeros() as usize;
            walk &= walk - 1;
            // Validate the odd bytes that come before this bracket.
            check_odd(scan.buf, base, &mut odd, bit)?;
            if R::ON {
                record_seps(scan, base, &mut seps, bit);
            }
            let at = base + bit;
            let step = match scan.buf[at] {
                b'{' => {
                    scan.open(at, true);
                    Step::Continue
                }
                b'[' => {
                    scan.open(at, false);
                    Step::Continue
                }
                c => scan.close(at, c)?,
            };
            if let Step::End(e) = step {
                return Ok(Step::End(e));
            }
        }
        check_odd(scan.buf, base, &mut odd, 64)?;
        if R::ON {
            record_seps(scan, base, &mut seps, 64);
        }
        scan.in_string = inside >> 63 == 1;
        Ok(Step::Continue)
    }

    /// Records the separators below bit `limit`, all in the same container.
    #[inline]
    fn record_seps<R: Recorder>(scan: &mut Scan<'_, R>, base: usize, seps: &mut u64, limit: usize) {
        let below = if limit >= 64 {
            u64::MAX
        } else {
            (1u64 << limit) - 1
        };
        let mut todo = *seps & below;
        *seps &= !below;
        if todo == 0 || !scan.rec.wants_seps(&scan.stack) {
            return;
        }
        while todo != 0 {
            let at = base + todo.trailing_zeros() as usize;
            todo &= todo - 1;
            scan.rec.push_sep(at, scan.buf[at]);
        }
    }

    /// Checks the odd outside-string bytes below bit `limit` one by one.
    #[inline]
    fn check_odd(buf: &[u8], base: usize, odd: &mut u64, limit: usize) -> Result<(), FormatError> {
        let below = if limit >= 64 {
            u64::MAX
        } else {
            (1u64 << limit) - 1
        };
        let mut todo = *odd & below;
        *odd &= !below;
        while todo != 0 {
            let at = base + todo.trailing_zeros() as usize;
            todo &= todo - 1;
            if !TOKEN_BYTE[buf[at] as usize] {
                return Err(FormatError::NotJson {
                    offset: at,
                    byte: buf[at],
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefix_xor_marks_string_spans() {
        assert_eq!(prefix_xor(0b1001), 0b0111);
        assert_eq!(prefix_xor(1 << 63), 1 << 63);
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("\"a{b]\"".to_string()),
            Just(r#""q\"}""#.to_string()),
            Just(r#""\\""#.to_string()),
            Just(r#""x\\\"]""#.to_string()),
            Just(":".to_string()),
            Just(",".to_string()),
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("true".to_string()),
            Just("-1.5e3".to_string()),
            Just("nope".to_string()),
            Just("\"long string without escapes, about forty bytes\"".to_string()),
            Just("\\".to_string()),
            Just("\"".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The block path and the byte path agree on every input.
        #[test]
        fn fast_path_equals_byte_path(body in prop::collection::vec(piece(), 0..80)) {
            let text = format!("{{{}", body.concat());
            let a = skip_container(text.as_bytes(), 0);
            let b = skip_container_scalar(text.as_bytes(), 0);
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
    }

    fn marks(tape: &Tape) -> Vec<(usize, Mark)> {
        (0..tape.len()).map(|i| tape.mark(i)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The block path and the byte path make the same tape.
        #[test]
        fn fast_tape_equals_byte_tape(
            body in prop::collection::vec(piece(), 0..80),
            depth in 0usize..4,
        ) {
            let text = format!("{{{}", body.concat());
            let (mut a, mut b) = (Tape::new(depth), Tape::new(depth));
            let ra = index_container(text.as_bytes(), 0, &mut a);
            let rb = index_container_scalar(text.as_bytes(), 0, &mut b);
            prop_assert_eq!(format!("{ra:?}"), format!("{rb:?}"));
            prop_assert_eq!(&ra, &skip_container(text.as_bytes(), 0));
            if ra.is_ok() {
                prop_assert_eq!(marks(&a), marks(&b));
            }
        }
    }

    #[test]
    fn a_tape_holds_separators_and_containers_down_to_its_depth() {
        // Padding past 64 bytes puts part of the record in the block path.
        let pad = "p".repeat(70);
        let rec = format!(r#"{{"a":1,"b":{{"c":[1,{{"d":2}}],"e":"{pad}"}},"f":"x,y:{{"}} ,"#);
        let mut tape = Tape::new(2);
        let end = index_container(rec.as_bytes(), 0, &mut tape).unwrap();
        assert_eq!(end, rec.len() - 2);
        let at = |needle: &str| rec.find(needle).unwrap();
        let b_open = at(r#"{"c""#);
        let array_close = at("}]") + 1;
        let b_close = at(r#"p"}"#) + 2;
        let want = vec![
            (
                0,
                Mark::Open {
                    object: true,
                    close: 13,
                },
            ),
            (4, Mark::Colon),
            (6, Mark::Comma),
            (10, Mark::Colon),
            (
                b_open,
                Mark::Open {
                    object: true,
                    close: 10,
                },
            ),
            (b_open + 4, Mark::Colon),
            // The array is at depth 3: it opens and closes, but its commas
            // and the object inside it are not on a depth-2 tape.
            (
                at("[1"),
                Mark::Open {
                    object: false,
                    close: 7,
                },
            ),
            (array_close, Mark::Close),
            (array_close + 1, Mark::Comma),
            (array_close + 5, Mark::Colon),
            (b_close, Mark::Close),
            (b_close + 1, Mark::Comma),
            (b_close + 5, Mark::Colon),
            (end - 1, Mark::Close),
        ];
        assert_eq!(marks(&tape), want);
        assert!(!tape.has_escapes());
        // Depth 1 keeps the record's own members and where `b` is.
        let mut shallow = Tape::new(1);
        index_container(rec.as_bytes(), 0, &mut shallow).unwrap();
        let kept: Vec<_> = want
            .iter()
            .filter(|(at, _)| *at < b_open + 1 || *at >= b_close)
            .map(|&(at, _)| at)
            .collect();
        let got: Vec<_> = marks(&shallow).iter().map(|&(at, _)| at).collect();
        assert_eq!(got, kept);
    }

    #[test]
    fn long_records_end_where_they_end() {
        let rec = format!(
            r#"{{"a":"{}","b":[{{"c":"}}]"}}],"d":"\\\"{{"}}"#,
            "x".repeat(200)
        );
        let text = format!("{rec}, {{}}");
        assert_eq!(skip_container(text.as_bytes(), 0).unwrap(), rec.len());
        assert_eq!(
            skip_container_scalar(text.as_bytes(), 0).unwrap(),
            rec.len()
        );
    }
}
