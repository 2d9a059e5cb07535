//! One event's message → request id and message; and the text forms people paste.
//!
//! Execution-log events read `(<request-id>) <message>`. The id is a UUID for REST stages but the extended
//! request id (`PDS1PEC4oAMFpyA=`) for WebSocket APIs, so we accept any short token without spaces.

use std::borrow::Cow;

use crate::signature;

/// The longest request id we accept in a `(...)` prefix; real ones are 36 (UUID) or ~16 (extended id) chars.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Splits `(<request-id>) <message>` into its parts. Messages without the prefix come back whole.
pub fn split_request_id(message: &str) -> (Option<&str>, &str) {
    let bytes = message.as_bytes();
    if bytes.first() != Some(&b'(') {
        return (None, message);
    }
    let window = &bytes[1..bytes.len().min(MAX_REQUEST_ID_LEN + 2)];
    let Some(close) = memchr::memchr(b')', window) else {
        return (None, message);
    };
    let id = &message[1..1 + close];
    let valid = !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic() && b != b'(');
    if !valid {
        return (None, message);
    }
    let rest = &message[close + 2..];
    // The prefix is followed by one space; an event may also be the bare prefix.
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    (Some(id), rest)
}

/// One event recovered from pasted text. `message` keeps any `(request-id) ` prefix so that it goes through
/// exactly the same path as a delivered event.
/// Borrowed from the text unless lines were joined into it (a wrapped sentence, a body over several lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEvent<'a> {
    pub message: Cow<'a, str>,
}

/// Put by the paste reader where a code fence opens: [`parse_text`] reads each block on its own. A control
/// character no log line holds.
pub const BLOCK_BREAK: char = '\u{1e}';

/// Reads pasted execution-log text: one event per line in the stage form `(<id>) msg`, optionally after a
/// timestamp (ISO 8601, `HH:MM:SS`, the CloudWatch console's tab-separated form), the console test form
/// `Ddd Mon DD HH:MM:SS UTC YYYY : msg`, or bare messages. A line that is not the start of an event continues
/// the event before it (multi-line bodies and error messages). Leading `#` comment lines are skipped.
pub fn parse_text(input: &str) -> Vec<TextEvent<'_>> {
    // Blocks the paste reader found (code fences) are read each on its own: a body never runs from one fence
    // into the next, and one block may carry timestamps where another has bare lines.
    if !input.contains(BLOCK_BREAK) {
        return parse_block(input);
    }
    input.split(BLOCK_BREAK).flat_map(parse_block).collect()
}

fn parse_block(input: &str) -> Vec<TextEvent<'_>> {
    let lines: Vec<&str> = input
        .lines()
        .skip_while(|line| line.starts_with('#') || line.trim().is_empty())
        .collect();
    let prefixed = lines.iter().any(|line| strip_line_prefix(line).1);
    let mut events: Vec<TextEvent> = Vec::new();
    let mut next = 0;
    while let Some(&line) = lines.get(next) {
        next += 1;
        let (message, had_prefix) = strip_line_prefix(line);
        if let Some((record, end)) = pretty_record(input, message) {
            // A record pretty-printed over several lines, as the console shows it expanded.
            events.push(TextEvent {
                message: Cow::Owned(record),
            });
            while lines.get(next).is_some_and(|l| offset_in(input, l) < end) {
                next += 1;
            }
            continue;
        }
        let opens = if prefixed {
            // The console's `Execution log for request <id>` header carries no timestamp of its own.
            had_prefix
                || message.starts_with("Execution log for request ")
                || is_json_record(message) && super::access::parse_record(message).is_some()
        } else {
            signature::starts_an_event(message)
                || is_json_record(message)
                || super::access::is_clf_line(message)
        };
        match events.last_mut() {
            Some(last) if !opens && continues_a_sentence(&last.message, message) => {
                // A sentence wrapped onto the next line (a narrow terminal, an email): joined with one space.
                let joined = last.message.to_mut();
                joined.truncate(joined.trim_end().len());
                joined.push(' ');
                joined.push_str(message.trim());
            }
            // A link on a line of its own is the writer's prose around the log, never part of a log message.
            Some(last) if !opens && !is_bare_link(message) => {
                let joined = last.message.to_mut();
                joined.push('\n');
                joined.push_str(line);
            }
            _ if message.trim().is_empty() => {}
            _ => events.push(TextEvent {
                message: Cow::Borrowed(message),
            }),
        }
    }
    for event in &mut events {
        match &mut event.message {
            Cow::Borrowed(text) => *text = text.trim_end(),
            Cow::Owned(text) => text.truncate(text.trim_end().len()),
        }
    }
    events
}

/// Whether `next` finishes a catalogue sentence that `event` (one line so far) began: joined with a space, the
/// event then starts with a more specific failure sentence than before. Only the event's first line counts, so
/// a wrapped body line never joins anything.
fn continues_a_sentence(event: &str, next: &str) -> bool {
    if event.contains('\n') || next.trim().is_empty() {
        return false;
    }
    let message = split_request_id(event).1;
    let before = signature::match_start(message).map(|m| m.0);
    let joined = format!("{} {}", message.trim_end(), next.trim());
    let after = signature::match_start(&joined).map(|m| m.0);
    matches!(after, Some(signature::Kind::Failure(_))) && after != before
}

/// A line that is one URL and nothing else.
fn is_bare_link(line: &str) -> bool {
    let line = line.trim();
    (line.starts_with("https://") || line.starts_with("http://"))
        && !line.contains(char::is_whitespace)
}

/// Where `part` (a slice of `whole`) starts in it.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// An access-log record that opens on this line and spans several: its one-line form and where it ends in `input`.
fn pretty_record(input: &str, message: &str) -> Option<(String, usize)> {
    let head = message.trim_start();
    if !head.starts_with('{') || is_json_record(head) {
        return None;
    }
    let start = offset_in(input, head);
    let mut stream =
        serde_json::Deserializer::from_str(input.get(start..)?).into_iter::<serde_json::Value>();
    let value @ serde_json::Value::Object(_) = stream.next()?.ok()? else {
        return None;
    };
    let end = start + stream.byte_offset();
    let record = value.to_string();
    super::access::parse_record(&record).map(|_| (record, end))
}

/// A whole access-log record on one line.
fn is_json_record(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('{') && line.ends_with('}') && line.contains("\":")
}

/// Strips the timestamp forms people paste and says whether the line had any prefix (timestamp or request id).
fn strip_line_prefix(line: &str) -> (&str, bool) {
    let mut rest = line;
    let mut had = false;
    if let Some(after) = strip_console_tab(rest)
        .or_else(|| strip_iso_timestamp(rest))
        .or_else(|| strip_clock(rest))
        .or_else(|| strip_us_date(rest))
        .or_else(|| strip_console_test_date(rest))
    {
        rest = after;
        had = true;
    }
    if split_request_id(rest).0.is_some() {
        had = true;
    }
    (rest, had)
}

/// `<timestamp>\t<message>` as copied from the CloudWatch console or exported.
fn strip_console_tab(line: &str) -> Option<&str> {
    let (head, tail) = line.split_once('\t')?;
    let head = head.trim();
    let looks_like_time = head.len() >= 8
        && head.as_bytes()[0].is_ascii_digit()
        && head
            .bytes()
            .all(|b| b.is_ascii_digit() || b":-.TZ+ ,/".contains(&b));
    looks_like_time.then_some(tail)
}

/// `2020-07-02T11:34:31.881-04:00 message` (or `...Z`, or with a space between date and time).
fn strip_iso_timestamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let date = b.len() > 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':';
    if !date {
        return None;
    }
    let end = b[11..]
        .iter()
        .position(|c| !(c.is_ascii_digit() || b":.,+-Z".contains(c)))
        .map(|p| p + 11)?;
    let sep = *b.get(end)?;
    (sep == b' ' || sep == b'\t').then(|| &line[end + 1..])
}

/// `HH:MM:SS message` or `HH:MM:SS.mmm message`.
fn strip_clock(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let clock = b.len() > 9
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2] == b':'
        && b[3..5].iter().all(u8::is_ascii_digit)
        && b[5] == b':'
        && b[6..8].iter().all(u8::is_ascii_digit);
    if !clock {
        return None;
    }
    let mut end = 8;
    if b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    let sep = *b.get(end)?;
    (sep == b' ' || sep == b'\t').then(|| &line[end + 1..])
}

/// `04/21/2022 18:27:42: message` (month/day/year, the time, an optional colon), as some log viewers print lines.
fn strip_us_date(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = digits(0..2)
        && b.get(2) == Some(&b'/')
        && digits(3..5)
        && b.get(5) == Some(&b'/')
        && digits(6..10)
        && b.get(10) == Some(&b' ')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return None;
    }
    let rest = &line[19..];
    rest.strip_prefix(": ").or_else(|| rest.strip_prefix(' '))
}

/// `Wed Nov 02 10:19:35 UTC 2022 : message`, the API Gateway console's Test output.
fn strip_console_test_date(line: &str) -> Option<&str> {
    let (head, tail) = line.split_once(" : ")?;
    let parts: Vec<&str> = head.split(' ').collect();
    let shape = parts.len() == 6
        && parts[0].len() == 3
        && parts[1].len() == 3
        && parts[2].len() == 2
        && parts[3].len() == 8
        && parts[3].as_bytes()[2] == b':'
        && parts[5].len() == 4
        && parts[5].bytes().all(|b| b.is_ascii_digit());
    shape.then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_on_its_own_line_is_prose_not_the_message_before_it() {
        let events = parse_text(
            "Lambda invocation failed with status: 403.\n  https://repost.aws/questions/x\n",
        );
        assert_eq!(
            events[0].message,
            "Lambda invocation failed with status: 403."
        );
    }

    #[test]
    fn a_sentence_wrapped_onto_the_next_line_is_joined() {
        let text = "(a1) Execution failed due to configuration error: Malformed Lambda\nproxy response\n(a1) Method completed with status: 502";
        let events = parse_text(text);
        assert_eq!(
            events[0].message,
            "(a1) Execution failed due to configuration error: Malformed Lambda proxy response"
        );
        // A body's second line stays a line of the body, whatever it says.
        let body = "(a1) Endpoint response body before transformations: {\"a\":\nExecution failed due to configuration error: Invalid permissions on Lambda function}";
        assert!(parse_text(body)[0].message.contains("{\"a\":\nExecution"));
    }

    #[test]
    fn split_takes_a_uuid_prefix() {
        let (id, msg) = split_request_id(
            "(286364ab-3a83-11e9-8dc8-db3cf4c83204) Method completed with status: 502",
        );
        assert_eq!(id, Some("286364ab-3a83-11e9-8dc8-db3cf4c83204"));
        assert_eq!(msg, "Method completed with status: 502");
    }

    #[test]
    fn split_takes_a_websocket_extended_request_id() {
        let (id, msg) = split_request_id("(PDS1PEC4oAMFpyA=) Execution failed");
        assert_eq!(id, Some("PDS1PEC4oAMFpyA="));
        assert_eq!(msg, "Execution failed");
    }

    #[test]
    fn split_leaves_lines_without_a_prefix_alone() {
        for line in [
            "Method completed",
            "(has space) x",
            "() x",
            "(unclosed x",
            "",
        ] {
            assert_eq!(split_request_id(line), (None, line), "{line}");
        }
    }

    #[test]
    fn text_strips_each_timestamp_form() {
        let text = "2020-07-02T11:34:31.881-04:00 (a) one\n\
                    2022-04-23T18:37:47.070+09:00\t(b) two\n\
                    11:34:31 (c) three\n\
                    1551267060425\t(d) four\n\
                    04/21/2022 18:27:42: (e) five\n";
        let got: Vec<_> = parse_text(text).into_iter().map(|e| e.message).collect();
        assert_eq!(
            got,
            ["(a) one", "(b) two", "(c) three", "(d) four", "(e) five"]
        );
    }

    #[test]
    fn text_reads_the_console_test_form() {
        let text = "Wed Nov 02 10:19:35 UTC 2022 : Execution failed due to configuration error: Malformed Lambda proxy response\n\
                    Wed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502";
        let got: Vec<_> = parse_text(text).into_iter().map(|e| e.message).collect();
        assert_eq!(
            got,
            [
                "Execution failed due to configuration error: Malformed Lambda proxy response",
                "Method completed with status: 502"
            ]
        );
    }

    #[test]
    fn text_joins_continuation_lines_to_the_event_before() {
        let text = "(a) Endpoint response body before transformations:\n{\n    \"Reason\": \"x\"\n}\n\n(a) Method completed with status: 502\n";
        let got: Vec<_> = parse_text(text).into_iter().map(|e| e.message).collect();
        assert_eq!(
            got,
            [
                "(a) Endpoint response body before transformations:\n{\n    \"Reason\": \"x\"\n}",
                "(a) Method completed with status: 502"
            ]
        );
    }

    #[test]
    fn text_without_prefixes_opens_events_on_known_sentences() {
        let text = "Lambda execution failed with status 200 due to customer function error: Error: boom\n    at handler (index.js:1)\nMethod completed with status: 502";
        let got: Vec<_> = parse_text(text).into_iter().map(|e| e.message).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].ends_with("at handler (index.js:1)"));
    }

    #[test]
    fn text_reads_records_pretty_printed_over_several_lines() {
        let text = "2026-11-24T10:02:11.000Z\t{\n    \"requestId\": \"r1\",\n    \"status\": \"502\",\n    \"integrationErrorMessage\": \"x\"\n}\n{\"requestId\":\"r2\",\"status\":\"200\"}\n{\n  \"requestId\": \"r3\",\n  \"status\": 504\n}\n";
        let got: Vec<_> = parse_text(text).into_iter().map(|e| e.message).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with('{') && got[0].contains("\"r1\"") && !got[0].contains('\n'));
        assert_eq!(got[1], r#"{"requestId":"r2","status":"200"}"#);
        assert!(got[2].contains("\"r3\""));
    }

    #[test]
    fn text_skips_leading_comment_lines() {
        let got = parse_text(
            "# source: x\n# expected-status: 500\n(a) Method completed with status: 500",
        );
        assert_eq!(got.len(), 1);
    }
}
