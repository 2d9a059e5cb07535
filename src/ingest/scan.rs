//! A fast reader for the one JSON layout CloudWatch Logs writes into a subscription delivery, compact and in this
//! key order or any other:
//! `{"messageType":..,"owner":..,"logGroup":..,"logStream":..,"subscriptionFilters":[..],"logEvents":[{"id":..,
//! "timestamp":..,"message":..},..]}`.
//!
//! serde_json validates every string byte by byte; here the buffer is checked once for UTF-8 (with SIMD), and
//! each string's end is found from 64-byte blocks classified at once, which also refuse control bytes and bad
//! escapes (`string_ends.rs`). Anything this reader does not expect (whitespace, an unknown key, a number that is
//! not an integer, a bad escape) makes it give up, and the caller reads the buffer with serde_json instead: the
//! result is always what serde_json would give, only sooner.

use std::borrow::Cow;

use super::batch::{RawBatch, RawEvent, RawText, unescape};
use super::string_ends::StringEnds;

/// The batch, or `None` when the buffer is not in the layout this reader knows.
pub fn scan_batch(json: &[u8]) -> Option<RawBatch<'_>> {
    // Control bytes are refused block by block as the strings are read (`StringEnds`): compact JSON has them
    // nowhere else, and a byte outside a string is only ever one the reader expects there.
    let text = simdutf8::basic::from_utf8(json).ok()?;
    let mut r = Reader {
        b: json,
        s: text,
        i: 0,
        ends: StringEnds::new(json),
    };
    let mut batch = RawBatch {
        message_type: Cow::Borrowed(""),
        owner: Cow::Borrowed(""),
        log_group: Cow::Borrowed(""),
        log_stream: Cow::Borrowed(""),
        log_events: Vec::new(),
    };
    // serde_json refuses a duplicate field: so do we (by giving up).
    let mut seen = Seen::default();
    r.eat(b'{')?;
    if !r.peek_is(b'}') {
        loop {
            let key = r.string()?;
            r.eat(b':')?;
            match key {
                "messageType" => {
                    seen.first(0)?;
                    batch.message_type = r.text()?;
                }
                "owner" => {
                    seen.first(1)?;
                    batch.owner = r.text()?;
                }
                "logGroup" => {
                    seen.first(2)?;
                    batch.log_group = r.text()?;
                }
                "logStream" => {
                    seen.first(3)?;
                    batch.log_stream = r.text()?;
                }
                "subscriptionFilters" => {
                    seen.first(4)?;
                    r.string_array()?;
                }
                "logEvents" => {
                    seen.first(5)?;
                    batch.log_events = r.events()?;
                }
                _ => return None,
            }
            if !r.comma_or(b'}')? {
                break;
            }
        }
    } else {
        r.i += 1;
    }
    (seen.has(0) && r.i == json.len()).then_some(batch)
}

/// Which fields an object had.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    /// `None` when field `bit` was already there.
    fn first(&mut self, bit: u8) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        Some(())
    }

    fn has(&self, bit: u8) -> bool {
        self.0 & (1 << bit) != 0
    }
}

struct Reader<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
    ends: StringEnds<'a>,
}

impl<'a> Reader<'a> {
    fn peek_is(&self, byte: u8) -> bool {
        self.b.get(self.i) == Some(&byte)
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        if self.peek_is(byte) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// After a value: `true` on `,` (another follows), `false` on `close`.
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        match self.b.get(self.i)? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            &c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string's raw content (escapes left in), after checking each escape is one JSON allows.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = self.ends.next_from(start)?;
        self.i = end + 1;
        self.s.get(start..end)
    }

    /// A string as serde's `Cow<str>` gives it: borrowed unless it has escapes.
    fn text(&mut self) -> Option<Cow<'a, str>> {
        let raw = self.string()?;
        if raw.contains('\\') {
            // Lone surrogates and the like: serde_json decides.
            serde_json::from_str::<String>(&format!("\"{raw}\""))
                .ok()
                .map(Cow::Owned)
        } else {
            Some(unescape(raw))
        }
    }

    fn string_array(&mut self) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.text()?;
            if !self.comma_or(b']')? {
                return Some(());
            }
        }
    }

    fn integer(&mut self) -> Option<i64> {
        let start = self.i;
        if self.peek_is(b'-') {
            self.i += 1;
        }
        // The timestamp of every event is read here, in one plain loop (an iterator chain over the rest of the
        // buffer cost about 250 instructions a timestamp): digits summed without overflow checks while there are
        // too few to overflow (19 digits always fit in a u64).
        let first = self.i;
        let rest = self.b.get(first..)?;
        let mut digits = 0;
        let mut magnitude = 0u64;
        // A millisecond timestamp has 13 digits: two overlapping words of eight, when a non-digit follows.
        if let Some(thirteen) = rest.get(..14)
            && !thirteen[13].is_ascii_digit()
            && let Some(high) = eight_digits(u64::from_le_bytes(thirteen[..8].try_into().ok()?))
            && let Some(low) = eight_digits(u64::from_le_bytes(thirteen[5..13].try_into().ok()?))
        {
            magnitude = high * 100_000 + low % 100_000;
            digits = 13;
        }
        // Eight digits at a time while they cannot overflow.
        while digits <= 11
            && let Some(eight) = rest
                .get(digits..digits + 8)
                .and_then(|c| eight_digits(u64::from_le_bytes(c.try_into().ok()?)))
        {
            magnitude = magnitude * 100_000_000 + eight;
            digits += 8;
        }
        while let Some(&d) = rest.get(digits) {
            if !d.is_ascii_digit() {
                break;
            }
            if digits < 19 {
                magnitude = magnitude * 10 + u64::from(d - b'0');
            }
            digits += 1;
        }
        let overflow = digits > 19;
        self.i += digits;
        // No leading zeros (JSON), no fraction or exponent (we only read integers here).
        if digits == 0 || (digits > 1 && self.b[first] == b'0') {
            return None;
        }
        // `-0` is a float to serde_json (negative zero), which an integer field refuses: so do we.
        if first > start && digits == 1 && self.b[first] == b'0' {
            return None;
        }
        if overflow || matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if first > start {
            // -9223372036854775808 is the one magnitude past i64::MAX that is still an i64.
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    fn events(&mut self) -> Option<Vec<RawEvent<'a>>> {
        self.eat(b'[')?;
        // About 380 bytes per event in a stage's log: reserve once instead of growing.
        let mut events = Vec::with_capacity((self.b.len() - self.i) / 320);
        if self.eat(b']').is_some() {
            return Some(events);
        }
        loop {
            events.push(self.event()?);
            if !self.comma_or(b']')? {
                return Some(events);
            }
        }
    }

    fn literal(&mut self, text: &[u8]) -> Option<()> {
        if self.b.get(self.i..)?.starts_with(text) {
            self.i += text.len();
            Some(())
        } else {
            None
        }
    }

    /// `{"id":"..","timestamp":N,"message":".."}`, the order CloudWatch Logs writes: no key to look up.
    fn event_in_order(&mut self) -> Option<RawEvent<'a>> {
        self.literal(br#"{"id":"#)?;
        self.string()?;
        self.literal(br#","timestamp":"#)?;
        let timestamp = self.integer()?;
        self.literal(br#","message":"#)?;
        let message = RawText::from_escaped(self.string()?);
        self.literal(b"}")?;
        Some(RawEvent { timestamp, message })
    }

    fn event(&mut self) -> Option<RawEvent<'a>> {
        let start = self.i;
        if let Some(event) = self.event_in_order() {
            return Some(event);
        }
        self.i = start;
        self.eat(b'{')?;
        let mut timestamp = 0;
        let mut message = None;
        let mut seen = Seen::default();
        if self.eat(b'}').is_some() {
            return None; // serde_json: missing field `message`
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            match key {
                "id" => {
                    seen.first(0)?;
                    self.string()?;
                }
                "timestamp" => {
                    seen.first(1)?;
                    timestamp = self.integer()?;
                }
                "message" => {
                    seen.first(2)?;
                    message = Some(RawText::from_escaped(self.string()?));
                }
                _ => return None,
            }
            if !self.comma_or(b'}')? {
                break;
            }
        }
        Some(RawEvent {
            timestamp,
            message: message?,
        })
    }
}

/// The value of eight ASCII digits read as a little-endian word (the first digit in the low byte), or `None` when
/// any byte is not a digit: fast_float's and simdjson's SWAR conversion, three multiplications.
fn eight_digits(word: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // Every byte 0x30..=0x3F, and still below 0x40 after adding 6: 0x30..=0x39.
    if word & HIGH != ZEROS || word.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let v = word - ZEROS;
    let v = v.wrapping_mul(10) + (v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32))
        + ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::delivery::parse_raw_batch_with_serde;

    fn same(json: &str) {
        let fast = scan_batch(json.as_bytes());
        let slow = parse_raw_batch_with_serde(json.as_bytes()).ok();
        match (&fast, &slow) {
            (Some(f), Some(s)) => {
                assert_eq!(f.message_type, s.message_type);
                assert_eq!(f.owner, s.owner);
                assert_eq!(f.log_group, s.log_group);
                assert_eq!(f.log_stream, s.log_stream);
                assert_eq!(f.log_events.len(), s.log_events.len());
                for (a, b) in f.log_events.iter().zip(&s.log_events) {
                    assert_eq!(a.timestamp, b.timestamp);
                    assert_eq!(a.message.escaped(), b.message.escaped());
                }
            }
            (Some(_), None) => panic!("scanner accepted what serde_json rejects: {json}"),
            _ => {}
        }
    }

    #[test]
    fn reads_the_cloudwatch_layout() {
        let json = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"API-Gateway-Execution-Logs_a1b2c3d4e5/prod","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1732440000000,"message":"(a) Method completed with status: 502"},{"id":"2","timestamp":1,"message":"(a) body {\"k\":\"v\\u00e9\"}"}]}"#;
        let batch = scan_batch(json.as_bytes()).unwrap();
        assert_eq!(batch.log_events.len(), 2);
        assert_eq!(
            batch.log_events[1].message.escaped(),
            r#"(a) body {\"k\":\"v\\u00e9\"}"#
        );
        same(json);
    }

    #[test]
    fn reads_every_sample_delivery_itself() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(wire) = std::fs::read(&path) else {
                continue;
            };
            let Ok(json) = crate::ingest::delivery::decode(
                &wire,
                crate::ingest::delivery::DEFAULT_MAX_INFLATED_BYTES,
            ) else {
                continue; // bad-payload, the Kinesis batch
            };
            assert!(scan_batch(&json).is_some(), "{}", path.display());
            same(std::str::from_utf8(&json).unwrap());
            read += 1;
        }
        assert!(read >= 20, "{read}");
    }

    #[test]
    fn eight_digits_are_read_as_a_number_and_anything_else_is_refused() {
        let read = |s: &[u8; 8]| eight_digits(u64::from_le_bytes(*s));
        assert_eq!(read(b"12345678"), Some(12_345_678));
        assert_eq!(read(b"00000000"), Some(0));
        assert_eq!(read(b"99999999"), Some(99_999_999));
        assert_eq!(read(b"17324400"), Some(17_324_400));
        for bad in [
            b"1234567,",
            b"/1234567",
            b"12:45678",
            b"1234 678",
            b"123456\x7f8",
            b"\xff1234567",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_at_the_edges_of_i64_read_as_serde_json_reads_them() {
        for (ts, readable) in [
            ("9223372036854775807", true),
            ("-9223372036854775808", true),
            ("9223372036854775808", false),
            ("-9223372036854775809", false),
            ("18446744073709551615", false),
            ("99999999999999999999", false),
            ("1732440000000", true),
            // Around the 13 digits of a millisecond timestamp, read two overlapping words at a time.
            ("0732440000000", false),
            ("-1732440000000", true),
            ("1732440000000.5", false),
            ("1732440000000e3", false),
            ("173244000000", true),
            ("17324400000001", true),
            ("9999999999999", true),
            ("1000000000000", true),
            ("1732440000a00", false),
        ] {
            let json = format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","timestamp":{ts},"message":"m"}}]}}"#
            );
            assert_eq!(scan_batch(json.as_bytes()).is_some(), readable, "{ts}");
            if readable {
                let read = scan_batch(json.as_bytes()).unwrap().log_events[0].timestamp;
                assert_eq!(read.to_string(), ts, "{ts}");
            }
            same(&json);
        }
    }

    #[test]
    fn reads_events_in_any_key_order() {
        let json = r#"{"logEvents":[{"message":"m","timestamp":5,"id":"1"},{"timestamp":6,"message":"n"}],"messageType":"DATA_MESSAGE"}"#;
        let batch = scan_batch(json.as_bytes()).unwrap();
        assert_eq!(batch.log_events[0].timestamp, 5);
        assert_eq!(batch.log_events[1].message.escaped(), "n");
        same(json);
    }

    #[test]
    fn gives_up_on_anything_else() {
        for json in [
            r#"{ "messageType":"DATA_MESSAGE"}"#,
            r#"{"messageType":"DATA_MESSAGE","extra":1}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":1.5,"message":"x"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":01,"message":"x"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":-0,"message":"x"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"bad \q escape"}]}"#,
            "{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"raw\ttab\"}]}",
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1"}]}"#,
            r#"{"owner":"x"}"#,
            r#"{"messageType":"DATA_MESSAGE"} trailing"#,
            r#"{"messageType":"DATA_MESSAGE""#,
            r#"{"messageType":"DATA_MESSAGE","owner":"a","owner":"b"}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a","message":"b"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"a","id":"2"}]}"#,
        ] {
            assert!(scan_batch(json.as_bytes()).is_none(), "{json}");
            same(json);
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json(
            messages in proptest::collection::vec(".{0,40}", 0..6),
            owner in ".{0,12}",
            timestamps in proptest::collection::vec(
                proptest::prop_oneof![proptest::num::i64::ANY, 0i64..100_000_000_000_000],
                6,
            ),
        ) {
            let events: Vec<serde_json::Value> = messages
                .iter()
                .zip(&timestamps)
                .map(|(m, t)| serde_json::json!({"id": "x", "timestamp": t, "message": m}))
                .collect();
            let doc = serde_json::json!({
                "messageType": "DATA_MESSAGE", "owner": owner, "logGroup": "g", "logStream": "s",
                "subscriptionFilters": ["f"], "logEvents": events,
            });
            let json = doc.to_string();
            // Compact JSON without control characters is read by the scanner itself.
            if !json.bytes().any(|b| b < 0x20) {
                proptest::prop_assert!(scan_batch(json.as_bytes()).is_some());
            }
            same(&json);
        }

        #[test]
        fn never_accepts_what_serde_rejects(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                same(text);
            } else {
                proptest::prop_assert!(scan_batch(&bytes).is_none());
            }
        }
    }
}
