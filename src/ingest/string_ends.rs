//! Where each JSON string of a delivery ends, found 64 bytes at a time.
//!
//! The scanner used to stop at every quote and backslash (a `memchr2` call each, then a branch on what it found):
//! a stage's log has about twenty per line, most of them in the JSON bodies API Gateway logs, and each stop cost
//! more in mispredicted branches than the bytes around it. Here each 64-byte block is classified at once (16
//! bytes per SIMD comparison: SSE2 on x86-64, NEON on arm64, through the `wide` crate, as the crate forbids
//! `unsafe`), and which characters a backslash escapes is worked out with carries instead of branches (simdjson's
//! method, Langdale and Lemire, "Parsing Gigabytes of JSON per Second", 2019). What is left is one stop
//! per string, at its closing quote.
//!
//! The escapes are checked here too: a backslash followed by anything JSON does not allow (or by `u` and fewer
//! than four hex digits) anywhere in a block looked at makes the search answer `None`, and the scanner gives up
//! (to serde_json, which decides). A bad escape outside the string being read is bad JSON all the same.

use wide::u8x16;

/// Odd bit positions (1, 3, ..., 63).
const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// The closing quotes of a buffer's strings, block by block; the last block is kept, since the scanner moves
/// forward (it steps back only to re-read an event in another key order).
pub(crate) struct StringEnds<'a> {
    b: &'a [u8],
    /// The kept block's index, `usize::MAX` before the first.
    block: usize,
    /// Its quotes that no backslash escapes.
    quotes: u64,
    /// Whether its last backslash escapes the next block's first byte.
    carry: bool,
}

impl<'a> StringEnds<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            block: usize::MAX,
            quotes: 0,
            carry: false,
        }
    }

    /// The first quote at or after `at` that no backslash escapes: where a string whose content starts before it
    /// ends. `None` when there is none, or when a block on the way has an escape JSON does not allow.
    pub(crate) fn next_from(&mut self, at: usize) -> Option<usize> {
        let mut block = at / 64;
        let mut from = at % 64;
        loop {
            if block != self.block {
                self.load(block)?;
            }
            let quotes = self.quotes & (u64::MAX << from);
            if quotes != 0 {
                return Some(block * 64 + quotes.trailing_zeros() as usize);
            }
            block += 1;
            from = 0;
            if block * 64 >= self.b.len() {
                return None;
            }
        }
    }

    fn load(&mut self, block: usize) -> Option<()> {
        let start = block * 64;
        let rest = self.b.get(start..).filter(|r| !r.is_empty())?;
        // The next block in order takes the carry of the one before; any other counts the backslashes before it
        // (the scanner only jumps or steps back to where an event begins, after a `,` or `[`).
        let first_escaped = if self.block.checked_add(1) == Some(block) {
            self.carry
        } else {
            self.b[..start]
                .iter()
                .rev()
                .take_while(|&&c| c == b'\\')
                .count()
                % 2
                == 1
        };
        let classified = match rest.first_chunk::<64>() {
            Some(chunk) => classify(chunk),
            None => {
                // The tail, padded with spaces (a backslash escaping the padding is an escape with nothing after
                // it: refused below, as serde_json refuses it).
                let mut padded = [b' '; 64];
                padded[..rest.len()].copy_from_slice(rest);
                classify(&padded)
            }
        };
        let Some((quotes, backslashes)) = classified else {
            self.block = usize::MAX;
            return None;
        };
        let (escaped, carry) = escaped(backslashes, first_escaped);
        // Escaped quotes and backslashes are what nearly every escape is; the rest are read one by one.
        let mut others = escaped & !(quotes | backslashes);
        while others != 0 {
            let at = start + others.trailing_zeros() as usize;
            if !allowed_escape(self.b, at) {
                self.block = usize::MAX;
                return None;
            }
            others &= others - 1;
        }
        self.block = block;
        self.quotes = quotes & !escaped;
        self.carry = carry;
        Some(())
    }
}

/// Whether the byte at `at`, which follows an escaping backslash, makes an escape JSON allows.
fn allowed_escape(b: &[u8], at: usize) -> bool {
    match b.get(at) {
        Some(b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
        Some(b'u') => b
            .get(at + 1..at + 5)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => false,
    }
}

/// One bit per byte of `chunk` (bit `i` for byte `i`): its quotes, and its backslashes; `None` when it has a
/// control byte (below 0x20), which JSON does not allow raw in a string, and compact JSON has nowhere else.
fn classify(chunk: &[u8; 64]) -> Option<(u64, u64)> {
    let quote = u8x16::splat(b'"');
    let backslash = u8x16::splat(b'\\');
    let below_space = u8x16::splat(0x1f);
    let (mut quotes, mut backslashes) = (0u64, 0u64);
    let mut controls = u8x16::splat(0);
    for (i, lane) in chunk.chunks_exact(16).enumerate() {
        let v = u8x16::new(lane.try_into().unwrap_or([0; 16]));
        // `move_mask` sets bit `j` for lane `j`; only the low 16 bits are used.
        quotes |= u64::from(v.cmp_eq(quote).move_mask() as u16) << (16 * i);
        backslashes |= u64::from(v.cmp_eq(backslash).move_mask() as u16) << (16 * i);
        controls |= v.min(below_space).cmp_eq(v);
    }
    (!controls.any()).then_some((quotes, backslashes))
}

/// Which bytes of a block a backslash escapes, given its `backslashes` and whether the block's first byte is
/// escaped by the block before; and whether this block's last backslash escapes the next block's first byte.
///
/// In a run of backslashes, the first escapes the second, the third the fourth, and so on; an odd run escapes
/// the byte after it. Runs that start on an even bit are told from runs that start on an odd bit by one
/// addition, whose carries run to the end of each run (simdjson's `escaped_prefix`).
fn escaped(backslashes: u64, first_escaped: bool) -> (u64, bool) {
    let carried = u64::from(first_escaped);
    // A backslash escaped by the block before escapes nothing.
    let backslashes = backslashes & !carried;
    let follows_escape = (backslashes << 1) | carried;
    let odd_starts = backslashes & ODD_BITS & !follows_escape;
    let (even_starts_shifted, overflow) = odd_starts.overflowing_add(backslashes);
    let invert = even_starts_shifted << 1;
    (((!ODD_BITS) ^ invert) & follows_escape, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: byte by byte, which bytes a backslash escapes.
    fn escaped_reference(b: &[u8]) -> Vec<bool> {
        let mut out = vec![false; b.len()];
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                if i + 1 < b.len() {
                    out[i + 1] = true;
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        out
    }

    /// The reference search: the first unescaped quote at or after `at`, or `None` when there is none or any
    /// escape in the blocks from `at`'s to the answer's is not one JSON allows or any byte there is a control
    /// byte (in a last, partial block, a backslash at the very end escapes the padding: refused).
    fn next_reference(b: &[u8], at: usize) -> Option<usize> {
        let escaped = escaped_reference(&[b, &[0][..]].concat());
        let found = (at..b.len()).find(|&i| b[i] == b'"' && !escaped[i]);
        let last_block = found.unwrap_or(b.len().saturating_sub(1)) / 64;
        let limit = if b.len().is_multiple_of(64) {
            b.len()
        } else {
            b.len() + 1
        };
        for i in (at / 64 * 64)..limit.min((last_block + 1) * 64) {
            let quote_or_backslash = i < b.len() && (b[i] == b'"' || b[i] == b'\\');
            let control = i < b.len() && b[i] < 0x20;
            if control || escaped[i] && !quote_or_backslash && !allowed_escape(b, i) {
                return None;
            }
        }
        found
    }

    #[test]
    fn classify_marks_exactly_quotes_and_backslashes() {
        for special in 0u8..=255 {
            for at in 0..64 {
                let mut chunk = [b'a'; 64];
                chunk[at] = special;
                let Some((quotes, backslashes)) = classify(&chunk) else {
                    assert!(special < 0x20, "{special} {at}");
                    continue;
                };
                assert!(special >= 0x20, "{special} {at}");
                assert_eq!(quotes, u64::from(special == b'"') << at, "{special} {at}");
                assert_eq!(
                    backslashes,
                    u64::from(special == b'\\') << at,
                    "{special} {at}"
                );
            }
        }
    }

    #[test]
    fn runs_of_backslashes_escape_what_they_should_across_blocks() {
        // Runs of every length up to 140, starting at every offset around a block boundary, then a quote.
        for run in 0..140 {
            for offset in 50..70 {
                let mut text = vec![b'a'; offset];
                text.extend(std::iter::repeat_n(b'\\', run));
                text.push(b'"');
                text.extend_from_slice(b"bc\"");
                let want = next_reference(&text, 0);
                assert_eq!(StringEnds::new(&text).next_from(0), want, "{run} {offset}");
                // From inside the run (a block reached out of order counts the backslashes before it).
                for at in [offset, offset + run / 2, offset + run] {
                    assert_eq!(
                        StringEnds::new(&text).next_from(at),
                        next_reference(&text, at),
                        "{run} {offset} {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn escapes_json_does_not_allow_are_refused() {
        for (text, want) in [
            (&br#"abc\x" more""#[..], None),
            (br#"abc\u12" more""#, None),
            (br#"abc\u12ag" more""#, None),
            (br#"abc\u12aF" more""#, Some(9)),
            (br#"\/\b\f\n\r\t\\\"""#, Some(16)),
            (b"abc\\", None),
            (b"abc", None),
        ] {
            assert_eq!(
                StringEnds::new(text).next_from(0),
                want,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn agrees_with_the_byte_by_byte_reference(
            text in proptest::collection::vec(
                prop_oneof![8 => Just(b'a'), 4 => Just(b'\\'), 3 => Just(b'"'), 1 => Just(b'n'), 1 => Just(b'u'),
                    1 => Just(b'0'), 1 => Just(b'x')],
                0..300,
            ),
            control in proptest::option::weighted(0.2, 0usize..300),
            starts in proptest::collection::vec(0usize..300, 1..6),
        ) {
            let mut text = text;
            if let Some(at) = control.filter(|&at| at < text.len()) {
                text[at] = b'\n';
            }
            // Several searches on one cursor, forward and back, as the scanner makes them.
            let mut ends = StringEnds::new(&text);
            for at in starts {
                let at = at.min(text.len());
                prop_assert_eq!(ends.next_from(at), next_reference(&text, at), "at {}", at);
            }
        }
    }
}
