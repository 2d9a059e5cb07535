//! One request as read from its lines: [`Request`], and how one line updates it (`Request::absorb`).
//!
//! Strings borrow from the events (and so from the inflated delivery); a request allocates once, plus a small
//! vector only when it has failure lines. Which function to *fix* never comes from here: these fields are for
//! the report, and remediation looks the function up in the API's own configuration.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use memchr::memmem;

use crate::ingest::unescape;
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
    /// Reads one line of this request (its `(id) ` prefix already removed).
    pub(crate) fn absorb(&mut self, message: &'a str, timestamp: Option<i64>) {
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
}
