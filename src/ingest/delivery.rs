//! A subscription delivery's bytes → inflated JSON → [`Batch`] / [`RawBatch`]: the envelope, base64, a capped
//! inflate, and typed errors.
//!
//! The wire format is `{"awslogs":{"data":"<base64 of gzip of JSON>"}}`. We decode it ourselves rather than
//! through `aws_lambda_events`: parsing from a buffer is several times faster than reading JSON from a gzip
//! stream, and we need a typed error and a cap on the inflated size (a hostile gzip must not take the memory).

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use super::batch::{Batch, RawBatch};
use super::scan::scan_batch;

/// Default cap on the inflated size of one delivery. Real deliveries are at most 1 MB compressed (Lambda's
/// asynchronous payload limit) and a few MB inflated (6.5 MB for the largest the benchmark builds); 16 MiB leaves
/// room. What the worst admitted delivery costs is measured in BENCHMARKS.md ("Worst-case memory").
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;

/// Cap on the events of one delivery: a PutLogEvents batch holds at most 10,000, and the largest real delivery
/// the benchmark builds 17,147. Many tiny events cost memory per event (the reassembly, the findings), not per
/// byte: this bounds them whatever the inflated size.
pub const MAX_EVENTS_PER_DELIVERY: usize = 50_000;

/// Parses inflated subscription JSON for the hot path. A control message yields a batch with no events.
/// CloudWatch Logs' own compact layout is read by [`super::scan`]; anything else by serde_json, whose answer
/// (and error message) the scanner never contradicts.
pub fn parse_raw_batch(json: &[u8]) -> Result<RawBatch<'_>, DecodeError> {
    let mut batch = match scan_batch(json) {
        Some(batch) => batch,
        None => parse_raw_batch_with_serde(json)?,
    };
    if is_control(&batch.message_type)? {
        batch.log_events.clear();
    }
    check_event_count(batch.log_events.len())?;
    Ok(batch)
}

fn check_event_count(events: usize) -> Result<(), DecodeError> {
    if events > MAX_EVENTS_PER_DELIVERY {
        return Err(DecodeError::TooManyEvents {
            events,
            cap: MAX_EVENTS_PER_DELIVERY,
        });
    }
    Ok(())
}

/// [`parse_raw_batch`]'s layout through serde_json only: the fallback, and the reference the scanner is
/// tested against.
pub fn parse_raw_batch_with_serde(json: &[u8]) -> Result<RawBatch<'_>, DecodeError> {
    serde_json::from_slice(json).map_err(|e| json_error(json, &e))
}

fn json_error(json: &[u8], error: &serde_json::Error) -> DecodeError {
    DecodeError::Json {
        size: json.len(),
        reason: error.to_string(),
    }
}

/// `DATA_MESSAGE` is data, `CONTROL_MESSAGE` a health check whose events are dropped; anything else is an error.
fn is_control(message_type: &str) -> Result<bool, DecodeError> {
    match message_type {
        "DATA_MESSAGE" => Ok(false),
        "CONTROL_MESSAGE" => Ok(true),
        other => Err(DecodeError::MessageType {
            message_type: other.chars().take(64).collect(),
        }),
    }
}

/// Why a delivery could not be decoded. Each variant says which step failed and carries the sizes an operator
/// would look for when the delivery lands in the on-failure destination.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a cloudwatch logs delivery: {reason} ({size} bytes)")]
    Envelope { reason: String, size: usize },
    #[error("the data is not valid base64 ({size} bytes): {source}")]
    Base64 {
        size: usize,
        #[source]
        source: base64::DecodeError,
    },
    #[error("the data is not valid gzip ({size} compressed bytes): {source}")]
    Gzip {
        size: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("delivery inflates past the cap of {cap} bytes ({size} compressed bytes)")]
    TooLarge { size: usize, cap: usize },
    #[error("delivery is not valid subscription json ({size} inflated bytes): {reason}")]
    Json { size: usize, reason: String },
    #[error("unknown messageType {message_type:?}")]
    MessageType { message_type: String },
    #[error("delivery holds {events} events, over the cap of {cap}")]
    TooManyEvents { events: usize, cap: usize },
}

impl DecodeError {
    /// A stable short name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Envelope { .. } => "envelope",
            DecodeError::Base64 { .. } => "base64",
            DecodeError::Gzip { .. } => "gzip",
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Json { .. } => "json",
            DecodeError::MessageType { .. } => "message_type",
            DecodeError::TooManyEvents { .. } => "too_many_events",
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// Reads the `awslogs.data` string out of a raw subscription event (the bytes Lambda hands us).
pub fn envelope_data(event: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    if let Some(data) = plain_envelope(event) {
        return Ok(Cow::Borrowed(data));
    }
    serde_json::from_slice::<Envelope<'_>>(event)
        .map(|e| e.awslogs.data)
        .map_err(|e| DecodeError::Envelope {
            reason: e.to_string(),
            size: event.len(),
        })
}

/// The base64 of `{"awslogs":{"data":"..."}}` exactly as Lambda's subscription delivery writes it (no
/// whitespace but around the whole, no other key), found without a JSON parse: the string ends at the first
/// quote, and it is what serde_json would read when it holds no escape (`\`), no control byte (which JSON
/// refuses) and is UTF-8; the base64 decoder then judges the alphabet, as it would after serde_json. Anything
/// else is left to serde_json (`None`). A 1 MB delivery was scanned by serde_json twice for this (the kind probe
/// and the envelope).
pub fn plain_envelope(event: &[u8]) -> Option<&str> {
    const OPEN: &[u8] = br#"{"awslogs":{"data":""#;
    let body = event.trim_ascii().strip_prefix(OPEN)?;
    let end = memchr::memchr(b'"', body)?;
    let (data, rest) = body.split_at(end);
    // Two SIMD passes (a byte search, a vectorised control-byte check) rather than one
    // byte-at-a-time test; the answer is almost always "plain".
    let plain = memchr::memchr(b'\\', data).is_none() && !has_control_byte(data);
    if rest != br#""}}"# || !plain {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// Any byte below 0x20 (JSON forbids them raw inside strings).
fn has_control_byte(b: &[u8]) -> bool {
    // A minimum without early exit, folded by hand: the compiler vectorises this loop (`Iterator::min` went
    // through a comparison function a byte at a time), and the answer is almost always "none".
    b.iter().fold(u8::MAX, |low, &byte| low.min(byte)) < 0x20
}

/// base64 → gzip → inflated JSON bytes, with the inflated size capped at `max_inflated`.
pub fn inflate(data: &str, max_inflated: usize) -> Result<Vec<u8>, DecodeError> {
    let compressed = base64_decode(data)?;
    gunzip(&compressed, max_inflated)
}

/// Standard base64 with padding, SIMD-accelerated (about 4 times the scalar decoder on these payloads).
pub fn base64_decode(data: &str) -> Result<Vec<u8>, DecodeError> {
    let trimmed = data.trim_ascii();
    base64_simd::STANDARD
        .decode_to_vec(trimmed)
        .map_err(|_| DecodeError::Base64 {
            size: data.len(),
            // The SIMD decoder does not say where; the scalar one does, for the error message only.
            source: base64::engine::general_purpose::STANDARD
                .decode(trimmed)
                .err()
                .unwrap_or(base64::DecodeError::InvalidPadding),
        })
}

/// Inflates a gzip member (or several), refusing to produce more than `max_inflated` bytes.
///
/// The fast path inflates in one shot with libdeflate into a buffer of exactly the size the gzip trailer
/// announces (measured about twice as fast as flate2's streaming inflate here). Anything unusual (a trailer that
/// lies, several members, a size over the cap) takes flate2's streaming path, which enforces the cap.
pub fn gunzip(compressed: &[u8], max_inflated: usize) -> Result<Vec<u8>, DecodeError> {
    let announced = size_hint(compressed);
    if announced > 0 && announced <= max_inflated {
        // The buffer of the previous delivery on this thread, if it was given back ([`recycle`]): already mapped
        // and written, so only what it lacks is zeroed (a fresh 6.5 MB buffer cost a tenth of the handler's time
        // on the largest delivery in zeroing and page faults).
        let mut out = SPARE.with_borrow_mut(std::mem::take);
        out.resize(announced, 0);
        let mut inflater = libdeflater::Decompressor::new();
        if let Some(deflated) = gzip_member_body(compressed)
            && let Ok(written) = inflater.deflate_decompress(deflated, &mut out)
            && written == announced
        {
            return Ok(out);
        }
        recycle(out);
    }
    gunzip_streaming(compressed, max_inflated)
}

thread_local! {
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The largest buffer kept for the next delivery: the typical large delivery (1 MB on the wire, 6.5 MB inflated)
/// reuses it; a buffer near the inflate cap (16 MiB) is given back, so a warm function does not hold it between
/// invocations (BENCHMARKS.md, "A warm function").
pub const MAX_SPARE_BYTES: usize = 8 << 20;

/// Gives an inflated delivery's buffer back once it has been read, for the next delivery on this thread (the
/// Lambda handles one invocation at a time: at most one buffer, of at most [`MAX_SPARE_BYTES`], is kept).
pub fn recycle(buffer: Vec<u8>) {
    if buffer.capacity() > MAX_SPARE_BYTES {
        return;
    }
    SPARE.with_borrow_mut(|spare| {
        if buffer.capacity() > spare.capacity() {
            *spare = buffer;
        }
    });
}

/// The deflate stream of a one-member gzip file: after the header (RFC 1952 §2.3, optional fields skipped), before
/// the 8-byte trailer. `None` when the header is not gzip's.
///
/// The fast path inflates this raw stream and checks the inflated size against the trailer's, but does not
/// recompute the CRC-32 (a tenth of the handler's time on the largest delivery): the payload came from CloudWatch
/// Logs over TLS inside a JSON string, a damaged deflate stream fails to inflate or to parse, and a size that
/// disagrees sends the delivery to flate2's path, which checks the CRC.
fn gzip_member_body(gz: &[u8]) -> Option<&[u8]> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const RESERVED: u8 = 0xe0;
    let (header, mut rest) = gz.split_first_chunk::<10>()?;
    let [0x1f, 0x8b, 8, flags, ..] = *header else {
        return None;
    };
    if flags & RESERVED != 0 {
        return None;
    }
    if flags & FEXTRA != 0 {
        let (len, after) = rest.split_first_chunk::<2>()?;
        rest = after.get(usize::from(u16::from_le_bytes(*len))..)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = memchr::memchr(0, rest)?;
            rest = &rest[end + 1..];
        }
    }
    if flags & FHCRC != 0 {
        rest = rest.get(2..)?;
    }
    rest.get(..rest.len().checked_sub(8)?)
}

/// flate2's streaming inflate with the cap: the reference path.
pub fn gunzip_streaming(compressed: &[u8], max_inflated: usize) -> Result<Vec<u8>, DecodeError> {
    let size = compressed.len();
    let mut out = Vec::with_capacity(size_hint(compressed).min(max_inflated));
    let limit = u64::try_from(max_inflated)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    MultiGzDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|source| DecodeError::Gzip { size, source })?;
    if out.len() > max_inflated {
        return Err(DecodeError::TooLarge {
            size,
            cap: max_inflated,
        });
    }
    Ok(out)
}

/// gzip's trailer holds the inflated size mod 2^32: a free, usually exact, capacity hint.
fn size_hint(compressed: &[u8]) -> usize {
    match compressed.len().checked_sub(4).map(|at| &compressed[at..]) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
    }
}

/// Parses inflated subscription JSON. A control message yields a batch with no events.
pub fn parse_batch(json: &[u8]) -> Result<Batch<'_>, DecodeError> {
    let mut batch: Batch<'_> = serde_json::from_slice(json).map_err(|e| json_error(json, &e))?;
    if is_control(&batch.message_type)? {
        batch.log_events.clear();
    }
    check_event_count(batch.log_events.len())?;
    Ok(batch)
}

/// The whole decode of one raw subscription event, for callers that want the inflated bytes back
/// (to borrow a [`Batch`] or [`RawBatch`] from them).
pub fn decode(event: &[u8], max_inflated: usize) -> Result<Vec<u8>, DecodeError> {
    let data = envelope_data(event)?;
    let json = inflate(&data, max_inflated)?;
    // Validate now so the caller gets every decode error from one place; the borrowed parse copies nothing.
    parse_raw_batch(&json)?;
    Ok(json)
}

/// Encodes a batch as a subscription event: the inverse of [`decode`], used by tests, samples and benchmarks.
pub fn encode(batch: &Batch<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(batch)?;
    Ok(encode_json(&json))
}

/// Wraps already-serialised subscription JSON as `{"awslogs":{"data":...}}`.
pub fn encode_json(json: &[u8]) -> Vec<u8> {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(json);
    let compressed = gz.finish().unwrap_or_default();
    let data = base64::engine::general_purpose::STANDARD.encode(compressed);
    format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::batch::{LogEvent, unescape};

    fn sample() -> Batch<'static> {
        Batch {
            message_type: "DATA_MESSAGE".into(),
            owner: "123456789012".into(),
            log_group: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
            log_stream: "e369853df766fa44e1ed0ff613f563bd".into(),
            subscription_filters: vec!["apigw-doctor".into()],
            log_events: vec![LogEvent {
                id: "1".into(),
                timestamp: 1_551_267_060_425,
                message: "(r1) Method request path:\n{}".into(),
            }],
        }
    }

    #[test]
    fn decode_round_trips_an_encoded_batch() {
        let event = encode(&sample()).unwrap();
        let json = decode(&event, DEFAULT_MAX_INFLATED_BYTES).unwrap();
        assert_eq!(parse_batch(&json).unwrap(), sample());
    }

    #[test]
    fn decode_keeps_a_multi_line_message_as_one_event() {
        let json = decode(&encode(&sample()).unwrap(), DEFAULT_MAX_INFLATED_BYTES).unwrap();
        let batch = parse_batch(&json).unwrap();
        assert_eq!(batch.log_events.len(), 1);
        assert_eq!(batch.log_events[0].message, "(r1) Method request path:\n{}");
    }

    #[test]
    fn decode_accepts_unknown_fields() {
        let json = br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",
            "subscriptionFilters":["f"],"policyLevel":"ACCOUNT_LEVEL_POLICY","newField":{"x":1},
            "logEvents":[{"id":"1","timestamp":2,"message":"m","extra":true}]}"#;
        let batch = parse_batch(&decode(&encode_json(json), 1 << 20).unwrap())
            .map(|b| b.log_events.len())
            .unwrap();
        assert_eq!(batch, 1);
    }

    #[test]
    fn decode_gives_an_empty_batch_for_a_control_message() {
        let json = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"",
            "subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,
            "message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        let inflated = decode(&encode_json(json), 1 << 20).unwrap();
        let batch = parse_batch(&inflated).unwrap();
        assert!(batch.is_control_message());
        assert!(batch.log_events.is_empty());
    }

    #[test]
    fn decode_reports_a_missing_envelope() {
        let err = decode(br#"{"Records":[]}"#, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "envelope");
        let err = decode(b"not json", 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "envelope");
    }

    #[test]
    fn decode_reports_bad_base64() {
        let err = decode(br#"{"awslogs":{"data":"%%%not base64%%%"}}"#, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "base64");
    }

    #[test]
    fn decode_reports_bad_gzip() {
        let data = base64::engine::general_purpose::STANDARD.encode(b"plain text, not gzip");
        let event = format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#);
        let err = decode(event.as_bytes(), 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "gzip");
    }

    #[test]
    fn decode_reports_bad_json_with_its_size() {
        let err = decode(&encode_json(b"{\"messageType\": oops"), 1 << 20).unwrap_err();
        assert_eq!(err.kind(), "json");
        assert!(err.to_string().contains("20 inflated bytes"), "{err}");
    }

    #[test]
    fn decode_reports_an_unknown_message_type() {
        let err = decode(
            &encode_json(br#"{"messageType":"SURPRISE","logEvents":[]}"#),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(err.kind(), "message_type");
    }

    #[test]
    fn decode_refuses_to_inflate_past_the_cap() {
        // 4 MiB of zeros compresses to a few KB: the classic gzip bomb shape.
        let bomb = vec![b' '; 4 << 20];
        let event = encode_json(&bomb);
        assert!(event.len() < 64 * 1024);
        let err = decode(&event, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { cap, .. } if cap == 1 << 20));
    }

    #[test]
    fn a_gzip_trailer_that_lies_about_the_size_still_inflates_correctly_or_hits_the_cap() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let mut gz = {
            use flate2::{Compression, write::GzEncoder};
            use std::io::Write;
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(&json).unwrap();
            e.finish().unwrap()
        };
        let at = gz.len() - 4;
        gz[at..].copy_from_slice(&7u32.to_le_bytes());
        // The fast path refuses the mismatch; the streaming path reports the corrupt trailer...
        assert_eq!(gunzip(&gz, 1 << 20).unwrap_err().kind(), "gzip");
        // ...and a small announced size cannot smuggle a payload past the cap.
        assert_eq!(gunzip(&gz, 8).unwrap_err().kind(), "too_large");
    }

    #[test]
    fn several_gzip_members_are_all_inflated() {
        let part = |bytes: &[u8]| {
            use flate2::{Compression, write::GzEncoder};
            use std::io::Write;
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        };
        let mut two = part(b"hello ");
        two.extend(part(b"world"));
        assert_eq!(gunzip(&two, 1 << 20).unwrap(), b"hello world");
    }

    #[test]
    fn fast_and_streaming_inflate_agree() {
        let event = encode(&sample()).unwrap();
        let data = envelope_data(&event).unwrap();
        let compressed = base64_decode(&data).unwrap();
        assert_eq!(
            gunzip(&compressed, 1 << 20).unwrap(),
            gunzip_streaming(&compressed, 1 << 20).unwrap()
        );
    }

    #[test]
    fn raw_batch_keeps_messages_escaped_and_unescapes_on_demand() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let raw = parse_raw_batch(&json).unwrap();
        let message = raw.log_events[0].message.escaped();
        assert_eq!(message, "(r1) Method request path:\\n{}");
        assert_eq!(unescape(message), "(r1) Method request path:\n{}");
        assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
        assert_eq!(raw.log_group, "API-Gateway-Execution-Logs_a1b2c3d4e5/prod");
    }

    #[test]
    fn raw_batch_reports_the_same_errors() {
        assert_eq!(
            parse_raw_batch(b"{\"messageType\": oops")
                .unwrap_err()
                .kind(),
            "json"
        );
        assert_eq!(
            parse_raw_batch(br#"{"messageType":"SURPRISE","logEvents":[]}"#)
                .unwrap_err()
                .kind(),
            "message_type"
        );
        assert_eq!(
            parse_raw_batch(br#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":7}]}"#)
                .unwrap_err()
                .kind(),
            "json"
        );
    }

    #[test]
    fn decode_accepts_a_payload_exactly_at_the_cap() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let event = encode_json(&json);
        assert!(decode(&event, json.len()).is_ok());
        assert_eq!(
            decode(&event, json.len() - 1).unwrap_err().kind(),
            "too_large"
        );
    }

    #[test]
    fn a_delivery_of_more_events_than_the_cap_is_refused_with_a_typed_error() {
        let events: Vec<String> = (0..=MAX_EVENTS_PER_DELIVERY)
            .map(|_| r#"{"id":"","timestamp":1,"message":"x"}"#.to_owned())
            .collect();
        let json = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{}]}}"#,
            events.join(",")
        );
        let err = decode(&encode_json(json.as_bytes()), DEFAULT_MAX_INFLATED_BYTES).unwrap_err();
        assert_eq!(err.kind(), "too_many_events", "{err}");
    }

    fn envelope_with_serde(event: &[u8]) -> Option<String> {
        serde_json::from_slice::<Envelope<'_>>(event)
            .ok()
            .map(|e| e.awslogs.data.into_owned())
    }

    #[test]
    fn the_plain_envelope_reads_what_serde_reads_or_leaves_it_to_serde() {
        for event in [
            &br#"{"awslogs":{"data":"H4sIAAAAAAAA/w=="}}"#[..],
            b" {\"awslogs\":{\"data\":\"QUJD\"}}\n",
            br#"{"awslogs":{"data":""}}"#,
        ] {
            assert_eq!(
                plain_envelope(event).map(str::to_owned),
                envelope_with_serde(event)
            );
            assert!(plain_envelope(event).is_some());
        }
        // Escapes, other keys, spaces inside, a byte outside base64: serde_json decides.
        for event in [
            &br#"{"awslogs":{"data":"QU\/J"}}"#[..],
            br#"{"awslogs":{"data":"QUJD"},"x":1}"#,
            br#"{"awslogs": {"data":"QUJD"}}"#,
            b"{\"awslogs\":{\"data\":\"QU\x01JD\"}}",
            br#"{"awslogs":{"data":"QUJD"}"#,
        ] {
            assert_eq!(
                plain_envelope(event),
                None,
                "{:?}",
                String::from_utf8_lossy(event)
            );
        }
        assert_eq!(
            envelope_data(br#"{"awslogs":{"data":"QU\/J"}}"#).unwrap(),
            "QU/J"
        );
        // A byte outside base64's alphabet is read as serde_json reads it; the base64 decoder refuses it.
        let spaced = br#"{"awslogs":{"data":"QU JD"}}"#;
        assert_eq!(
            plain_envelope(spaced).map(str::to_owned),
            envelope_with_serde(spaced)
        );
    }

    proptest::proptest! {
        #[test]
        fn the_plain_envelope_never_disagrees_with_serde(data in "[A-Za-z0-9+/=\\\\\" ]{0,40}", pad in "[ \n]{0,2}") {
            let event = format!("{pad}{{\"awslogs\":{{\"data\":\"{data}\"}}}}{pad}");
            if let Some(fast) = plain_envelope(event.as_bytes()) {
                proptest::prop_assert_eq!(Some(fast.to_owned()), envelope_with_serde(event.as_bytes()));
            }
        }
    }

    fn gzip_with_header(json: &[u8], header: &[u8]) -> Vec<u8> {
        let deflated = {
            use flate2::{Compression, write::DeflateEncoder};
            use std::io::Write;
            let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(json).unwrap();
            e.finish().unwrap()
        };
        let mut gz = header.to_vec();
        gz.extend(deflated);
        let mut crc = flate2::Crc::new();
        crc.update(json);
        gz.extend(crc.sum().to_le_bytes());
        gz.extend((json.len() as u32).to_le_bytes());
        gz
    }

    #[test]
    fn the_fast_inflate_reads_every_optional_gzip_header_field() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let base = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        // FEXTRA (2-byte length and the field), FNAME, FCOMMENT, FHCRC: each skipped to reach the deflate stream.
        let mut all = base;
        all[3] = 0x04 | 0x08 | 0x10 | 0x02;
        let mut header = all.to_vec();
        header.extend([3, 0, b'a', b'b', b'c']);
        header.extend(b"name.json\0a comment\0");
        // FHCRC: the low 16 bits of the header's CRC-32 (flate2 checks it; the fast path skips it).
        let mut crc = flate2::Crc::new();
        crc.update(&header);
        header.extend((crc.sum() as u16).to_le_bytes());
        for header in [base.to_vec(), header] {
            let gz = gzip_with_header(&json, &header);
            // The body found is exactly the deflate stream (the fast path, not the fallback, reads it).
            let mut out = vec![0; json.len()];
            let body = gzip_member_body(&gz).unwrap();
            let written = libdeflater::Decompressor::new()
                .deflate_decompress(body, &mut out)
                .unwrap();
            assert_eq!(&out[..written], &json[..]);
            assert_eq!(gunzip(&gz, 1 << 20).unwrap(), json);
            assert_eq!(gunzip_streaming(&gz, 1 << 20).unwrap(), json);
        }
        let mut reserved = base;
        reserved[3] = 0x20;
        assert!(gzip_member_body(&gzip_with_header(&json, &reserved)).is_none());
        assert!(gzip_member_body(&[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0, b'x']).is_none());
    }

    #[test]
    fn a_damaged_deflate_stream_is_a_gzip_error_not_garbage() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let mut gz = gzip_with_header(&json, &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        // The stream cut short, the size still announced: neither path returns the delivery.
        let at = gz.len() - 8;
        gz.drain(at - 20..at);
        assert_eq!(gunzip(&gz, 1 << 20).unwrap_err().kind(), "gzip");
    }
}
