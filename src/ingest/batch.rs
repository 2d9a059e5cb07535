//! What a subscription delivery holds, in the two views the rest of the crate reads: [`Batch`] (strings
//! unescaped where needed; the CLI, tests and samples) and [`RawBatch`] (messages left escaped in the inflated
//! buffer; the hot path). Both [`super::delivery`] (through serde) and [`super::scan`] produce them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One decoded delivery. Strings borrow from the inflated JSON buffer where they carry no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One CloudWatch Logs event: one API Gateway log entry, which may span several physical lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent<'a> {
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    #[serde(default)]
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// A JSON string exactly as the delivery holds it: borrowed, still escaped, never copied. The hot path works on
/// this form (every signature starts with plain ASCII that JSON never escapes) and unescapes only what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawText<'a>(&'a str);

impl<'a> RawText<'a> {
    /// A string's content between its quotes, as [`super::scan`] found it.
    pub(crate) fn from_escaped(escaped: &'a str) -> Self {
        RawText(escaped)
    }

    /// The string's content between its quotes, escapes included.
    pub fn escaped(&self) -> &'a str {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // serde_json's RawValue borrows the value's text from the input, escapes and all.
        let raw = <&'a serde_json::value::RawValue>::deserialize(deserializer)?.get();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => Ok(RawText(inner)),
            None => Err(D::Error::custom("expected a string")),
        }
    }
}

/// The JSON unescaping of `escaped` (borrowed when there is nothing to unescape). What is not a valid JSON
/// string body (an unknown or cut escape, a lone surrogate, a raw `"` or control character) is returned as it is:
/// deliveries were validated when parsed, and the raw text is better than nothing. The same result as
/// `serde_json::from_str::<String>` of the quoted text (a property test holds them equal), without building that
/// copy: long escaped bodies go through here.
pub fn unescape(escaped: &str) -> Cow<'_, str> {
    let bytes = escaped.as_bytes();
    let Some(first) = memchr::memchr(b'\\', bytes) else {
        return Cow::Borrowed(escaped);
    };
    let plain = |segment: &str| !segment.bytes().any(|b| b < 0x20 || b == b'"');
    if !plain(&escaped[..first]) {
        return Cow::Borrowed(escaped);
    }
    // Bytes, not chars: every escape writes ASCII or a whole UTF-8 sequence, and every other byte is copied as
    // it is, so the result is UTF-8 (checked once at the end). The output is never longer than the input.
    let mut out: Vec<u8> = Vec::with_capacity(escaped.len());
    out.extend_from_slice(&bytes[..first]);
    let mut at = first;
    while at < bytes.len() {
        // The next backslash, quote or control byte, eight bytes at a time: long plain runs are copied a word at a
        // time, and escape-dense text (a JSON body inside a message) costs one word test per escape, or none when
        // an escape follows an escape (`\\\"`, a quote inside a JSON body inside a message).
        let special = match bytes
            .get(at..at + 8)
            .filter(|_| bytes[at] != b'\\')
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            Some(chunk) => {
                // The whole word is copied (a fixed-size copy, no call), then cut back to the special byte.
                let base = out.len();
                out.extend_from_slice(&chunk);
                let mask = special_bytes(u64::from_le_bytes(chunk), true);
                if mask == 0 {
                    at += 8;
                    continue;
                }
                let n = first_marked(mask);
                out.truncate(base + n);
                at + n
            }
            None if bytes[at] == b'\\' => at,
            None => {
                let n = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
                    .unwrap_or(bytes.len() - at);
                out.extend_from_slice(&bytes[at..at + n]);
                at + n
            }
        };
        at = special;
        if at == bytes.len() {
            break;
        }
        if bytes[at] != b'\\' {
            // A raw quote or control byte: not a JSON string body.
            return Cow::Borrowed(escaped);
        }
        let Some(&kind) = bytes.get(at + 1) else {
            return Cow::Borrowed(escaped);
        };
        at += 2;
        let simple = match kind {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return Cow::Borrowed(escaped),
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let Some(unit) = hex4(bytes, at) else {
            return Cow::Borrowed(escaped);
        };
        at += 4;
        let c = match unit {
            0xD800..=0xDBFF => {
                let low = (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
                    .then(|| hex4(bytes, at + 2))
                    .flatten()
                    .filter(|low| (0xDC00..=0xDFFF).contains(low));
                let Some(low) = low else {
                    return Cow::Borrowed(escaped);
                };
                at += 6;
                char::from_u32(
                    0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00),
                )
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(u32::from(unit)),
        };
        let Some(c) = c else {
            return Cow::Borrowed(escaped);
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(_) => Cow::Borrowed(escaped),
    }
}

/// 0x80 in each byte of `word` (read little-endian) that is a quote or a backslash, and with `controls` a control
/// byte (below 0x20); no false positives, so the lowest mark is the first such byte ([`first_marked`]).
pub(crate) fn special_bytes(word: u64, controls: bool) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte is zero when neither its low seven bits (plus 0x7f, which cannot carry out of the byte) nor its
    // high bit set the high bit.
    let zero = |v: u64| !(((v & LOW7) + LOW7) | v) & HIGH;
    let mut mask = zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')));
    if controls {
        // Below 0x20: high bit clear, and the low seven bits plus 0x60 stay below 0x80.
        mask |= !(((word & LOW7) + ONES * 0x60) | word) & HIGH;
    }
    mask
}

/// The index of the first byte [`special_bytes`] marked.
pub(crate) fn first_marked(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Where the next quote or backslash is in `b`: the first two words looked at directly (in escape-dense text, a
/// JSON body inside a message, it is a few bytes on, and a `memchr2` call per escape costs more than the bytes),
/// then `memchr2` for a long plain run.
pub(crate) fn next_quote_or_backslash(b: &[u8]) -> Option<usize> {
    // An escape right after an escape (`\\\"`: a quote inside a JSON body inside a message) is the common case.
    if b.first() == Some(&b'\\') {
        return Some(0);
    }
    for at in [0, 8] {
        let Some(chunk) = b.get(at..at + 8) else {
            return b[at.min(b.len())..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .map(|n| at.min(b.len()) + n);
        };
        let mask = special_bytes(u64::from_le_bytes(chunk.try_into().ok()?), false);
        if mask != 0 {
            return Some(at + first_marked(mask));
        }
    }
    memchr::memchr2(b'"', b'\\', &b[16..]).map(|n| 16 + n)
}

/// Four hex digits at `at`, as a UTF-16 code unit.
fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(text, 16).ok()
}

/// The hot path's view of a delivery: like [`Batch`], with messages left escaped in the buffer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBatch<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_events: Vec<RawEvent<'a>>,
}

/// One event of a [`RawBatch`].
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    #[serde(default)]
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: RawText<'a>,
}

impl RawBatch<'_> {
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

impl Batch<'_> {
    /// CloudWatch Logs sends `CONTROL_MESSAGE` batches to check the destination is reachable.
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_quote_or_backslash_is_found_at_every_distance() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert_eq!(next_quote_or_backslash(&plain), None, "{len}");
            for at in 0..len {
                for special in [b'"', b'\\'] {
                    let mut text = plain.clone();
                    text[at] = special;
                    if at + 1 < len {
                        text[at + 1] = special;
                    }
                    assert_eq!(next_quote_or_backslash(&text), Some(at), "{len} {at}");
                }
            }
        }
    }

    /// What serde_json makes of the same text as a JSON string body; `None` where it refuses.
    fn reference(escaped: &str) -> Option<String> {
        serde_json::from_str::<String>(&format!("\"{escaped}\"")).ok()
    }

    fn check(escaped: &str) {
        match reference(escaped) {
            Some(expected) => assert_eq!(unescape(escaped), expected, "{escaped:?}"),
            None if escaped.contains('\\') => {
                assert_eq!(unescape(escaped), escaped, "{escaped:?} is kept as it is")
            }
            None => {}
        }
    }

    #[test]
    fn every_escape_form_reads_as_serde_json_reads_it() {
        for escaped in [
            r#"plain"#,
            r#"a\"b\\c\/d\b\f\n\r\t"#,
            r#"\u00e9t\u00E9 \ud83d\ude00 end"#,
            r#"lone \ud83d high"#,
            r#"lone \ude00 low"#,
            r#"cut \u12"#,
            r#"bad \x escape"#,
            "trailing \\",
            r#"{\"statusCode\":200,\"body\":\"{\\\"ok\\\":true}\"}"#,
            "raw \" quote \\n",
            "raw \u{1} control \\n",
            r#"\u0000 nul"#,
        ] {
            check(escaped);
        }
    }

    #[test]
    fn special_bytes_marks_exactly_quotes_backslashes_and_controls() {
        for special in 0u8..=255 {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = special;
                // A byte just past each class around it, to catch a borrow from the marked byte.
                word[(at + 1) % 8] = if at == 7 { b'a' } else { 0x80 };
                let value = u64::from_le_bytes(word);
                let expected_quote = |b: u8| b == b'"' || b == b'\\';
                let expected = |b: u8| expected_quote(b) || b < 0x20;
                for (controls, is) in [
                    (false, &expected_quote as &dyn Fn(u8) -> bool),
                    (true, &expected),
                ] {
                    let mask = special_bytes(value, controls);
                    for (i, &b) in word.iter().enumerate() {
                        assert_eq!(mask >> (i * 8 + 7) & 1 == 1, is(b), "{word:?} byte {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_quote_or_control_byte_anywhere_in_a_long_run_is_seen() {
        // The eight-bytes-at-a-time path: each position of the chunks after an escape.
        for at in 0..24 {
            for special in ['"', '\u{1}', '\u{1f}'] {
                let mut text: Vec<char> = "\\nabcdefghijklmnopqrstuvwxyz".chars().collect();
                text.insert(2 + at, special);
                let text: String = text.into_iter().collect();
                check(&text);
                assert_eq!(unescape(&text), text.as_str(), "{text:?}");
            }
        }
        let long = format!("\\t{}é\\u00e9{}", "x".repeat(37), "y".repeat(9));
        assert_eq!(
            unescape(&long),
            format!("\t{}éé{}", "x".repeat(37), "y".repeat(9))
        );
    }

    proptest::proptest! {
        #[test]
        fn unescape_agrees_with_serde_json(
            text in proptest::string::string_regex(r#"([a-z "{}:,é😀]|\\[\\"/bfnrtux]|\\u[0-9a-fA-F]{0,4}|\\ud8[0-3][0-9a-f]\\udc[0-9a-f]{2}){0,40}"#).unwrap()
        ) {
            check(&text);
        }
    }
}
