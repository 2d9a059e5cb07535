//! Reassembly: events → one [`Request`] per request id, in order of first appearance.
//!
//! Events with a `(request-id)` prefix are grouped by id; access-log records are a request each; lines without
//! an id (pastes) are split where a new execution starts or after the final status.

use std::borrow::Cow;
use std::collections::HashMap;

use super::access;
use super::logline::split_request_id;
use super::request::{Request, Source};
use crate::ingest::unescape;
use crate::signature::{self, Failure, Kind};

/// Groups events into requests in order of first appearance. Events with a `(request-id)` prefix are grouped by
/// id; events without one (pasted logs, console tests) are split where a new execution starts or after the final
/// status; access-log records are a request each.
pub fn reassemble<'a, I>(events: I) -> Vec<Request<'a>>
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    reassemble_with(events, false)
}

/// [`reassemble`] over messages still JSON-escaped, as they sit in the delivery buffer: nothing is copied;
/// what a request keeps is unescaped later, and only if it is reported. Signature starts are plain ASCII, which
/// JSON never escapes, so matching is the same on both forms.
pub fn reassemble_escaped<'a, I>(events: I) -> Vec<Request<'a>>
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    reassemble_with(events, true)
}

fn reassemble_with<'a, I>(events: I, escaped: bool) -> Vec<Request<'a>>
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    reassemble_inner(events, escaped, None)
}

/// [`reassemble_escaped`] for the Lambda's hot path, handing each request to `done` instead of returning them:
/// a request complete in one event (an access-log record, a bare field value, a record skipped unread) as soon as
/// it is read, so that 16 MiB of access-log records is never held at once; the others, grouped by id, at the end,
/// in order of first appearance. The same requests as [`reassemble_escaped`]; only the order differs, and only
/// where records and lines with ids are mixed in one delivery (a log group holds one or the other).
pub fn reassemble_escaped_each<'a, I>(events: I, mut done: impl FnMut(Request<'a>))
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    for request in reassemble_inner(events, true, Some(&mut done)) {
        done(request);
    }
}

fn reassemble_inner<'a, I>(
    events: I,
    escaped: bool,
    mut complete: Option<&mut dyn FnMut(Request<'a>)>,
) -> Vec<Request<'a>>
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    let events = events.into_iter();
    // About 20 lines per request in a stage's log.
    let expected = events.size_hint().0 / 16;
    let mut requests: Vec<Request<'a>> = Vec::with_capacity(expected);
    let mut by_id: HashMap<&'a str, usize, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(expected, foldhash::fast::RandomState::default());
    let mut anonymous: Option<usize> = None;
    // A request's lines mostly come in runs: the previous line's request is checked before the map.
    let mut last: Option<(&'a str, usize)> = None;
    for (timestamp, message) in events {
        // A message may end with a newline (`\n` while still escaped): both forms must read alike.
        let message = if escaped {
            trim_escaped_end(message)
        } else {
            message.trim_end()
        };
        // A line of the same request as the one before: its known-good id is compared, not parsed again.
        if let Some((last_id, at)) = last
            && let Some(text) = strip_id_prefix(message, last_id)
        {
            requests[at].absorb(text, timestamp);
            continue;
        }
        let (id, text) = split_request_id(message);
        if let Some(id) = id {
            let at = *by_id.entry(id).or_insert_with(|| {
                requests.push(Request {
                    request_id: Some(Cow::Borrowed(id)),
                    escaped,
                    ..Request::default()
                });
                requests.len() - 1
            });
            last = Some((id, at));
            requests[at].absorb(text, timestamp);
            continue;
        }
        // The common access-log record is read from the escaped text; anything else that is not a line of a
        // request (an unusual record, a bare field value) is small and rare: read it unescaped.
        let flat_record = escaped
            .then(|| access::parse_escaped_record(text))
            .flatten();
        let plain = match (&flat_record, escaped) {
            (Some(_), _) => Cow::Borrowed(""),
            (None, true) => unescape(text),
            (None, false) => Cow::Borrowed(text),
        };
        let json_like = {
            let t = plain.trim();
            t.starts_with('{') && t.ends_with('}')
        };
        // A request complete in this one event: handed on at once when streaming, else kept in order.
        let mut whole = |request: Request<'a>| match complete.as_mut() {
            Some(done) => done(request),
            None => requests.push(request),
        };
        if json_like && !access::within_bounds(plain.trim()) {
            whole(Request {
                source: Source::OversizedRecord,
                events: 1,
                ..Request::default()
            });
            anonymous = None;
            continue;
        }
        if let Some(record) = flat_record.or_else(|| access::parse_record_within_bounds(&plain)) {
            let mut request = record;
            if let Some(ts) = timestamp {
                request.first_timestamp = Some(ts);
                request.last_timestamp = Some(ts);
            }
            whole(request);
            anonymous = None;
            continue;
        }
        if access::is_clf_line(&plain) {
            whole(Request {
                source: Source::UnreadAccessLog,
                events: 1,
                ..Request::default()
            });
            anonymous = None;
            continue;
        }
        let kind = signature::match_start(text).map(|m| m.0);
        if let Some(Kind::Failure(
            failure @ (Failure::HttpApiFunctionError
            | Failure::AccessLogFunctionError
            | Failure::HttpApiIntegrationPermission
            | Failure::HttpApiAuthorizerPermission),
        )) = kind
        {
            // A bare access-log field value (e.g. from a Logs Insights query) is a whole record on its own.
            whole(access::request_from_error_value(failure, &plain));
            anonymous = None;
            continue;
        }
        let opens_new = match anonymous {
            None => true,
            Some(at) => {
                let current = &requests[at];
                current.closed
                    || (matches!(
                        kind,
                        Some(Kind::StartingExecution | Kind::ExecutionLogHeader)
                    ) && (current.started_execution
                        || current.events > 0 && current.request_id.is_some()))
            }
        };
        if opens_new {
            requests.push(Request {
                escaped,
                ..Request::default()
            });
            anonymous = Some(requests.len() - 1);
        }
        if let Some(at) = anonymous {
            requests[at].absorb(text, timestamp);
        }
    }
    requests
}

/// `message` (JSON-escaped) without trailing whitespace and escaped `\n`, `\r`, `\t`. An escape counts only
/// when its backslash is not itself escaped (`\\n` is a backslash and an `n`).
fn trim_escaped_end(message: &str) -> &str {
    // Most lines end in a visible ASCII character that ends no escape: nothing to trim (`trim_end` decodes the
    // last character to ask Unicode, a percent of the largest delivery's time).
    if let Some(&last) = message.as_bytes().last()
        && (b'!'..=b'~').contains(&last)
        && !matches!(last, b'n' | b'r' | b't')
    {
        return message;
    }
    let mut s = message.trim_end();
    loop {
        let bytes = s.as_bytes();
        let Some((&last, rest)) = bytes.split_last() else {
            return s;
        };
        let backslashes = rest.iter().rev().take_while(|&&b| b == b'\\').count();
        if matches!(last, b'n' | b'r' | b't') && backslashes % 2 == 1 {
            s = s[..s.len() - 2].trim_end();
        } else {
            return s;
        }
    }
}

/// `message` without its `(id) ` prefix when that prefix is exactly `id` (what [`split_request_id`] gives).
fn strip_id_prefix<'m>(message: &'m str, id: &str) -> Option<&'m str> {
    let rest = message
        .strip_prefix('(')?
        .strip_prefix(id)?
        .strip_prefix(')')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(Option<i64>, &str)> {
        text.lines().map(|l| (None, l)).collect()
    }

    #[test]
    fn reassemble_groups_interleaved_events_by_request_id() {
        let text = "(a) Starting execution for request: a\n(b) Starting execution for request: b\n\
                    (a) Method completed with status: 200\n(b) Method completed with status: 502";
        let requests = reassemble(lines(text));
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].request_id.as_deref(), Some("a"));
        assert_eq!(requests[0].status, Some(200));
        assert_eq!(requests[1].status, Some(502));
    }

    #[test]
    fn reassemble_reads_route_latency_arn_and_headers() {
        let text = "(r) HTTP Method: POST, Resource Path: /orders/{id}\n\
            (r) Endpoint request URI: https://lambda.eu-west-2.amazonaws.com/2015-03-31/functions/arn:aws:lambda:eu-west-2:123456789012:function:orders:live/invocations\n\
            (r) Received response. Status: 200, Integration latency: 426 ms\n\
            (r) Endpoint response headers: {Date=Tue, 26 Feb 2019 16:48:37 GMT, x-amzn-RequestId=abc, X-Amz-Function-Error=Unhandled, Content-Type=application/json}\n\
            (r) Method completed with status: 502";
        let r = &reassemble(lines(text))[0];
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.resource_path.as_deref(), Some("/orders/{id}"));
        assert_eq!(
            r.function_arn(),
            Some("arn:aws:lambda:eu-west-2:123456789012:function:orders:live")
        );
        assert_eq!(r.integration_latency_ms, Some(426));
        assert_eq!(r.function_error_header(), Some("Unhandled"));
        assert_eq!(r.lambda_request_id(), Some("abc"));
        assert_eq!(r.status, Some(502));
    }

    #[test]
    fn authorizer_phase_arn_is_the_authorizers() {
        let text = "(r) Starting authorizer: abc123 for request: r\n\
            (r) Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations\n\
            (r) Execution failed due to configuration error: Invalid permissions on Lambda function";
        let r = &reassemble(lines(text))[0];
        assert_eq!(r.authorizer_id(), Some("abc123"));
        assert_eq!(
            r.authorizer_arn(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:auth")
        );
        assert_eq!(r.function_arn(), None);
    }

    #[test]
    fn a_trailing_newline_reads_alike_escaped_or_not() {
        assert_eq!(trim_escaped_end(r"status: 502\n"), "status: 502");
        assert_eq!(trim_escaped_end(r"status: 502\r\n  "), "status: 502");
        assert_eq!(trim_escaped_end(r"a backslash \\n"), r"a backslash \\n");
        assert_eq!(trim_escaped_end(r"\n"), "");
        // Every last character, visible or not, ASCII or not: the same as trimming first, then the escapes.
        let lasts = (0u8..=0x7f)
            .map(char::from)
            .chain(['\u{a0}', '\u{3000}', '\u{85}', 'é']);
        for (last, head) in lasts.flat_map(|c| [(c, r"502\n"), (c, r"502\\n"), (c, "502")]) {
            let message = format!("{head}{last}");
            let mut want = message.trim_end();
            while let Some(rest) = [r"\n", r"\r", r"\t"]
                .iter()
                .find_map(|e| want.strip_suffix(e))
                .filter(|rest| !rest.ends_with('\\'))
            {
                want = rest.trim_end();
            }
            assert_eq!(trim_escaped_end(&message), want, "{last:?}");
        }
        let plain = "(r1) HTTP Method: GET, Resource Path: /orders/7\n(r1) Method request path: {id=7}\n\
                     (r1) Method completed with status: 502";
        let escaped: Vec<String> = plain.lines().map(|l| format!("{l}\\n")).collect();
        let a = &reassemble(plain.lines().map(|l| (None, l)))[0];
        let b = &reassemble_escaped(escaped.iter().map(|l| (None, l.as_str())))[0];
        assert_eq!((a.status, b.status), (Some(502), Some(502)));
        assert_eq!(a.route_template(None).as_deref(), Some("/orders/{id}"));
        assert_eq!(b.route_template(None), a.route_template(None));
    }

    #[test]
    fn events_without_ids_split_after_the_final_status() {
        let text = "Execution failed due to a timeout error\nMethod completed with status: 504\n\
                    Execution failed due to configuration error: Invalid permissions on Lambda function\n\
                    Method completed with status: 500";
        let requests = reassemble(lines(text));
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].status, Some(500));
    }
}
