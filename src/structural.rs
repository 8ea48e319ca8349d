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

use crate::format::FormatError;

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
struct Scan<'b> {
    buf: &'b [u8],
    open: usize,
    stack: BracketStack,
    in_string: bool,
    /// The previous byte was an unescaped backslash inside a string.
    escaped: bool,
}

/// What a step found.
enum Step {
    Continue,
    /// The container closed; the offset just past it.
    End(usize),
}

impl<'b> Scan<'b> {
    fn new(buf: &'b [u8], open: usize) -> Scan<'b> {
        Scan {
            buf,
            open,
            stack: BracketStack::default(),
            in_string: false,
            escaped: false,
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
            } else if c == b'"' {
                self.in_string = false;
            }
            return Ok(Step::Continue);
        }
        match c {
            b'"' => self.in_string = true,
            b'{' => self.stack.push(true),
            b'[' => self.stack.push(false),
            b'}' | b']' => return self.close(i, c),
            c if !TOKEN_BYTE[c as usize] => {
                return Err(FormatError::NotJson { offset: i, byte: c })
            }
            _ => {}
        }
        Ok(Step::Continue)
    }

    #[inline]
    fn close(&mut self, i: usize, c: u8) -> Result<Step, FormatError> {
        if self.stack.pop() != Some(c == b'}') {
            return Err(FormatError::Malformed {
                offset: i,
                what: "mismatched bracket",
            });
        }
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
    let mut scan = Scan::new(buf, open);
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available, as just checked.
            return unsafe { avx2::skip(&mut scan) };
        }
    }
    match scan.bytes(open, buf.len())? {
        Step::End(e) => Ok(e),
        Step::Continue => Err(scan.truncated()),
    }
}

/// The same, byte by byte only: the reference the fast path is tested against.
pub fn skip_container_scalar(buf: &[u8], open: usize) -> Result<usize, FormatError> {
    let mut scan = Scan::new(buf, open);
    match scan.bytes(open, buf.len())? {
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

    use super::{prefix_xor, Scan, Step, TOKEN_BYTE};
    use crate::format::FormatError;

    /// Bit masks of one 64-byte block.
    struct Masks {
        quote: u64,
        backslash: u64,
        open_brace: u64,
        close_brace: u64,
        open_bracket: u64,
        close_bracket: u64,
        /// Bytes that are certainly valid outside strings (`:`, `,`, space,
        /// newline, digits); the rest is checked one by one.
        plain: u64,
    }

    #[target_feature(enable = "avx2")]
    fn eq(v: __m256i, c: u8) -> u32 {
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8))) as u32
    }

    /// Masks of one 32-byte half: quote, backslash, `{`, `}`, `[`, `]`, plain.
    #[target_feature(enable = "avx2")]
    fn half(v: __m256i) -> [u32; 7] {
        let d = _mm256_sub_epi8(v, _mm256_set1_epi8(b'0' as i8));
        let digits = _mm256_movemask_epi8(_mm256_cmpeq_epi8(
            _mm256_min_epu8(d, _mm256_set1_epi8(9)),
            d,
        )) as u32;
        [
            eq(v, b'"'),
            eq(v, b'\\'),
            eq(v, b'{'),
            eq(v, b'}'),
            eq(v, b'['),
            eq(v, b']'),
            eq(v, b':') | eq(v, b',') | eq(v, b' ') | eq(v, b'\n') | digits,
        ]
    }

    /// Classifies the 64 bytes at `block[..64]`.
    #[target_feature(enable = "avx2")]
    fn masks(block: &[u8; 64]) -> Masks {
        // SAFETY: both loads read 32 bytes inside the 64-byte array; unaligned
        // loads are allowed.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast()),
            )
        };
        let (l, h) = (half(lo), half(hi));
        let join = |k: usize| u64::from(l[k]) | (u64::from(h[k]) << 32);
        Masks {
            quote: join(0),
            backslash: join(1),
            open_brace: join(2),
            close_brace: join(3),
            open_bracket: join(4),
            close_bracket: join(5),
            plain: join(6),
        }
    }

    /// Scans from `scan.open` to the end of the container.
    #[target_feature(enable = "avx2")]
    pub(super) fn skip(scan: &mut Scan<'_>) -> Result<usize, FormatError> {
        let buf = scan.buf;
        let mut i = scan.open;
        while i + 64 <= buf.len() {
            let m = masks(buf[i..i + 64].try_into().expect("64 bytes"));
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
    fn block(scan: &mut Scan<'_>, m: &Masks, base: usize) -> Result<Step, FormatError> {
        let carry = if scan.in_string { u64::MAX } else { 0 };
        // Bit set for bytes inside a string, opening quote included.
        let inside = prefix_xor(m.quote) ^ carry;
        let outside = !inside & !m.quote;
        let brackets = (m.open_brace | m.close_brace | m.open_bracket | m.close_bracket) & outside;
        let mut odd = outside & !brackets & !m.plain;
        let mut walk = brackets;
        while walk != 0 {
            let bit = walk.trailing_zeros() as usize;
            walk &= walk - 1;
            // Validate the odd bytes that come before this bracket.
            check_odd(scan.buf, base, &mut odd, bit)?;
            let at = base + bit;
            let step = match scan.buf[at] {
                b'{' => {
                    scan.stack.push(true);
                    Step::Continue
                }
                b'[' => {
                    scan.stack.push(false);
                    Step::Continue
                }
                c => scan.close(at, c)?,
            };
            if let Step::End(e) = step {
                return Ok(Step::End(e));
            }
        }
        check_odd(scan.buf, base, &mut odd, 64)?;
        scan.in_string = inside >> 63 == 1;
        Ok(Step::Continue)
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
