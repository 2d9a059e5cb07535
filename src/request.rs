//! Reassembly: events → one [`Request`] per request id, with the context the catalogue calls useful.
//!
//! Strings borrow from the events (and so from the inflated delivery); a request allocates once, plus a small
//! vector only when it has failure lines. Which function to *fix* never comes from here: these fields are for
//! the report, and remediation looks the function up in the API's own configuration.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use memchr::memmem;

use crate::access_log;
use crate::decode::unescape;
use crate::logline::split_request_id;
use crate::signature::{self, Failure, Kind};

/// Where a request's lines came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    #[default]
    ExecutionLog,
    AccessLog,
    /// An access-log line in a layout we do not read (CLF, CSV, XML): counted and skipped.
    UnreadAccessLog,
}

/// A failure sentence that was an event's own message, with where its variable part starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal<'a> {
    pub failure: Failure,
    pub line: Cow<'a, str>,
    /// Byte offset in `line` of the text after the matched sentence start.
    pub detail_at: usize,
}

impl Signal<'_> {
    pub fn detail(&self) -> &str {
        self.line.get(self.detail_at..).unwrap_or("")
    }
}

/// Everything we know about one request after reading its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request<'a> {
    pub source: Source,
    pub request_id: Option<Cow<'a, str>>,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    pub method: Option<Cow<'a, str>>,
    pub resource_path: Option<Cow<'a, str>>,
    /// From `Method completed with status: N` (or `$context.status`): the status the client got.
    pub status: Option<u16>,
    pub integration_latency_ms: Option<u64>,
    /// The integration's Lambda, from `Endpoint request URI` / `Sending request to`. Report only.
    pub function_arn: Option<&'a str>,
    /// The authorizer's Lambda, from `Sending request to` inside the authorizer phase. Report only.
    pub authorizer_arn: Option<&'a str>,
    pub authorizer_id: Option<&'a str>,
    /// A non-Lambda integration endpoint (HTTP/VPC link), for the report.
    pub endpoint: Option<&'a str>,
    pub lambda_request_id: Option<&'a str>,
    /// `X-Amz-Function-Error` from the endpoint response headers (`Unhandled` / `Handled`).
    pub function_error_header: Option<&'a str>,
    /// `x-amzn-ErrorType` from the endpoint response headers (Lambda service errors, throttling).
    pub error_type_header: Option<&'a str>,
    /// `Endpoint response body before transformations:` (what the Lambda returned), trimmed.
    pub response_body: Option<&'a str>,
    pub authorizer_body: Option<&'a str>,
    /// `Gateway response type: T with status code: N`, or `$context.error.responseType`.
    pub response_type: Option<Cow<'a, str>>,
    pub error_message: Option<Cow<'a, str>>,
    pub succeeded: bool,
    pub unauthorized: bool,
    pub started_authorizer: bool,
    pub started_execution: bool,
    pub truncated_events: u32,
    pub events: u32,
    pub signals: Vec<Signal<'a>>,
    /// API id and stage from an access-log record (execution logs take them from the log group name only).
    pub record_api_id: Option<Cow<'a, str>>,
    pub record_stage: Option<Cow<'a, str>>,
    /// The borrowed text is still JSON-escaped (the hot path): see [`Request::text`].
    pub escaped: bool,
    pub(crate) in_authorizer: bool,
    pub(crate) closed: bool,
}

impl<'a> Request<'a> {
    fn absorb(&mut self, message: &'a str, timestamp: Option<i64>) {
        self.events += 1;
        if let Some(ts) = timestamp {
            self.first_timestamp.get_or_insert(ts);
            self.last_timestamp = Some(ts);
        }
        if message.ends_with("[TRUNCATED]") {
            self.truncated_events += 1;
        }
        let Some((kind, rest)) = signature::match_start(message) else {
            return;
        };
        match kind {
            Kind::StartingExecution => {
                self.in_authorizer = false;
                self.started_execution = true;
                self.request_id
                    .get_or_insert(Cow::Borrowed(first_token(rest)));
            }
            Kind::ExecutionLogHeader => {
                self.request_id
                    .get_or_insert(Cow::Borrowed(first_token(rest)));
            }
            Kind::HttpMethod => {
                // `HTTP Method: POST, Resource Path: /receipt`
                if let Some((method, path)) = rest.split_once(", Resource Path: ") {
                    self.method = Some(Cow::Borrowed(method.trim()));
                    self.resource_path = Some(Cow::Borrowed(path.trim()));
                }
            }
            Kind::EndpointRequestUri | Kind::SendingRequest => {
                let uri = first_token(rest);
                match lambda_arn_in_uri(uri) {
                    Some(arn) if self.in_authorizer => self.authorizer_arn = Some(arn),
                    Some(arn) => self.function_arn = Some(arn),
                    None if !self.in_authorizer => self.endpoint = Some(uri),
                    None => {}
                }
            }
            Kind::ReceivedResponse => {
                if let Some(ms) = latency_ms(rest) {
                    self.integration_latency_ms = Some(ms);
                }
            }
            Kind::EndpointResponseBody => self.response_body = Some(rest.trim()),
            Kind::EndpointResponseHeaders => {
                let [function_error, error_type, request_id] = lambda_headers(rest);
                self.function_error_header = function_error;
                self.error_type_header = error_type;
                if request_id.is_some() {
                    self.lambda_request_id = request_id;
                }
            }
            Kind::MethodCompleted => {
                self.status = rest.trim().parse().ok();
                self.closed = true;
            }
            Kind::Succeeded => self.succeeded = true,
            Kind::IntegrationEndpointRequestId => {
                self.lambda_request_id = Some(rest.trim());
            }
            Kind::StartingAuthorizer => {
                self.in_authorizer = true;
                self.started_authorizer = true;
                self.authorizer_id = Some(first_token(rest));
            }
            Kind::AuthorizerResultBody => self.authorizer_body = Some(rest.trim()),
            Kind::AuthorizerSucceeded => self.in_authorizer = false,
            Kind::Unauthorized => self.unauthorized = true,
            Kind::GatewayResponse => {
                // `AUTHORIZER_CONFIGURATION_ERROR with status code: 500`
                if let Some((kind, status)) = rest.split_once(" with status code: ") {
                    self.response_type = Some(Cow::Borrowed(kind.trim()));
                    if self.status.is_none() {
                        self.status = status.trim().parse().ok();
                    }
                }
            }
            Kind::Failure(failure) => {
                if failure == Failure::CustomerFunctionError
                    && let Some((_, id)) = rest.rsplit_once(" Lambda request id: ")
                {
                    self.lambda_request_id = Some(id.trim());
                }
                self.signals.push(Signal {
                    failure,
                    line: Cow::Borrowed(message),
                    detail_at: message.len() - rest.len(),
                });
            }
        }
    }

    /// A field's text as people read it: unescaped when the request was read from escaped delivery text.
    pub fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.escaped {
            unescape(s)
        } else {
            Cow::Borrowed(s)
        }
    }

    /// Whether this request saw any line we understand (anything else is prose in a paste).
    pub fn is_recognised(&self) -> bool {
        self.status.is_some()
            || !self.signals.is_empty()
            || self.started_execution
            || self.started_authorizer
            || self.method.is_some()
            || self.succeeded
            || self.response_type.is_some()
            || self.function_arn.is_some()
    }
}

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
        // Access-log records and bare field values are small and rare: read them unescaped.
        let plain = if escaped {
            unescape(text)
        } else {
            Cow::Borrowed(text)
        };
        if let Some(record) = access_log::parse_record(&plain) {
            let mut request = record;
            if let Some(ts) = timestamp {
                request.first_timestamp = Some(ts);
                request.last_timestamp = Some(ts);
            }
            requests.push(request);
            anonymous = None;
            continue;
        }
        if access_log::is_clf_line(&plain) {
            requests.push(Request {
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
            requests.push(access_log::request_from_error_value(failure, &plain));
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

/// `message` without its `(id) ` prefix when that prefix is exactly `id` (what [`split_request_id`] gives).
fn strip_id_prefix<'m>(message: &'m str, id: &str) -> Option<&'m str> {
    let rest = message
        .strip_prefix('(')?
        .strip_prefix(id)?
        .strip_prefix(')')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// The first whitespace-separated token (ASCII whitespace: log tokens are ASCII).
fn first_token(s: &str) -> &str {
    let s = s.trim_ascii_start();
    let end = s
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[..end]
}

static FUNCTIONS_ARN: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"/functions/arn:"));
static INTEGRATION_LATENCY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"Integration latency: "));

/// The three endpoint response headers we read, found in one case-insensitive pass.
const LAMBDA_HEADERS: [&str; 3] = [
    "X-Amz-Function-Error",
    "x-amzn-ErrorType",
    "x-amzn-RequestId",
];
static LAMBDA_HEADER_NAMES: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(LAMBDA_HEADERS)
        .ok()
});

/// `https://lambda.eu-west-2.amazonaws.com/2015-03-31/functions/arn:aws:lambda:...:function:name/invocations`
fn lambda_arn_in_uri(uri: &str) -> Option<&str> {
    let start = FUNCTIONS_ARN.find(uri.as_bytes())? + "/functions/".len();
    let arn = &uri[start..];
    let end = arn.find("/invocations").unwrap_or(arn.len());
    let arn = &arn[..end];
    arn.contains(":lambda:").then_some(arn)
}

/// The number that follows `Integration latency: ` in `text`, e.g. `Integration latency: 426 ms`.
fn latency_ms(text: &str) -> Option<u64> {
    let at = INTEGRATION_LATENCY.find(text.as_bytes())? + "Integration latency: ".len();
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    text[at..at + digits].parse().ok()
}

/// Values of [`LAMBDA_HEADERS`] in API Gateway's `{Name=value, Name=value}` rendering. A name counts only after
/// `{` or `, ` and before `=`, so a header whose value contains `Name=` cannot spoof it.
fn lambda_headers(headers: &str) -> [Option<&str>; 3] {
    let mut found = [None; 3];
    let Some(names) = LAMBDA_HEADER_NAMES.as_ref() else {
        return found;
    };
    let bytes = headers.as_bytes();
    for m in names.find_overlapping_iter(headers) {
        let (at, after) = (m.start(), m.end());
        let boundary = at == 0 || bytes[at - 1] == b'{' || (at >= 2 && &bytes[at - 2..at] == b", ");
        let slot = &mut found[m.pattern().as_usize()];
        if slot.is_none() && boundary && bytes.get(after) == Some(&b'=') {
            let value = &headers[after + 1..];
            let end = value.find([',', '}']).unwrap_or(value.len());
            *slot = Some(value[..end].trim());
        }
    }
    found
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
            r.function_arn,
            Some("arn:aws:lambda:eu-west-2:123456789012:function:orders:live")
        );
        assert_eq!(r.integration_latency_ms, Some(426));
        assert_eq!(r.function_error_header, Some("Unhandled"));
        assert_eq!(r.lambda_request_id, Some("abc"));
        assert_eq!(r.status, Some(502));
    }

    #[test]
    fn lambda_headers_ignore_a_name_inside_another_value() {
        let h = "{User-Agent=X-Amz-Function-Error=Unhandled, x-amzn-errortype=TooManyRequestsException}";
        assert_eq!(
            lambda_headers(h),
            [None, Some("TooManyRequestsException"), None]
        );
        let h = "{X-AMZ-FUNCTION-ERROR=Handled, x-amzn-RequestId=abc}";
        assert_eq!(lambda_headers(h), [Some("Handled"), None, Some("abc")]);
    }

    #[test]
    fn authorizer_phase_arn_is_the_authorizers() {
        let text = "(r) Starting authorizer: abc123 for request: r\n\
            (r) Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations\n\
            (r) Execution failed due to configuration error: Invalid permissions on Lambda function";
        let r = &reassemble(lines(text))[0];
        assert_eq!(r.authorizer_id, Some("abc123"));
        assert_eq!(
            r.authorizer_arn,
            Some("arn:aws:lambda:us-east-1:123456789012:function:auth")
        );
        assert_eq!(r.function_arn, None);
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
