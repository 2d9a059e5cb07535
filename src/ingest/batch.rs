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
    let mut out = String::with_capacity(escaped.len());
    out.push_str(&escaped[..first]);
    let mut at = first;
    while at < bytes.len() {
        // `at` is on a backslash.
        let Some(&kind) = bytes.get(at + 1) else {
            return Cow::Borrowed(escaped);
        };
        at += 2;
        match kind {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let Some(unit) = hex4(bytes, at) else {
                    return Cow::Borrowed(escaped);
                };
                at += 4;
                let c = match unit {
                    0xD800..=0xDBFF => {
                        let low = (bytes.get(at) == Some(&b'\\')
                            && bytes.get(at + 1) == Some(&b'u'))
                        .then(|| hex4(bytes, at + 2))
                        .flatten()
                        .filter(|low| (0xDC00..=0xDFFF).contains(low));
                        let Some(low) = low else {
                            return Cow::Borrowed(escaped);
                        };
                        at += 6;
                        char::from_u32(
                            0x10000
                                + ((u32::from(unit) - 0xD800) << 10)
                                + (u32::from(low) - 0xDC00),
                        )
                    }
                    0xDC00..=0xDFFF => None,
                    _ => char::from_u32(u32::from(unit)),
                };
                let Some(c) = c else {
                    return Cow::Borrowed(escaped);
                };
                out.push(c);
            }
            _ => return Cow::Borrowed(escaped),
        }
        // Escape-dense text (a JSON body inside a log line) has the next backslash a few bytes on: looked for
        // byte by byte first, then with `memchr` when the gap is long.
        let near = bytes[at..].iter().take(16).position(|&b| b == b'\\');
        let next = match near {
            Some(n) => at + n,
            None => memchr::memchr(b'\\', &bytes[at..]).map_or(bytes.len(), |n| at + n),
        };
        let segment = &escaped[at..next];
        if !plain(segment) {
            return Cow::Borrowed(escaped);
        }
        out.push_str(segment);
        at = next;
    }
    Cow::Owned(out)
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

    proptest::proptest! {
        #[test]
        fn unescape_agrees_with_serde_json(
            text in proptest::string::string_regex(r#"([a-z "{}:,é😀]|\\[\\"/bfnrtux]|\\u[0-9a-fA-F]{0,4}|\\ud8[0-3][0-9a-f]\\udc[0-9a-f]{2}){0,40}"#).unwrap()
        ) {
            check(&text);
        }
    }
}
