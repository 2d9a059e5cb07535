//! One request as read from its lines: [`Request`], and how one line updates it (`Request::absorb`).
//!
//! Strings borrow from the events (and so from the inflated delivery); a request allocates once, plus a small
//! vector only when it has failure lines. Which function to *fix* never comes from here: these fields are for
//! the report, and remediation looks the function up in the API's own configuration.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;

use crate::ingest::unescape;
use crate::signature::{self, Failure, Kind};

// Searchers built once: `str::split_once` with a string pattern builds one on every line, on every request.
static RESOURCE_PATH: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(", Resource Path: "));

/// Where a request's lines came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    #[default]
    ExecutionLog,
    AccessLog,
    /// An access-log line in a layout we do not read (CLF, CSV, XML): counted and skipped.
    UnreadAccessLog,
    /// A JSON record past what an access-log format can produce (depth, fields, key or record length): counted and
    /// skipped before anything is built.
    OversizedRecord,
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

/// The fields of an access-log record no execution log has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFields<'a> {
    /// `$context.error.message` (or the integration error when there is none).
    pub error_message: Option<Cow<'a, str>>,
    /// API id and stage from the record (execution logs take them from the log group name only).
    pub api_id: Option<Cow<'a, str>>,
    pub stage: Option<Cow<'a, str>>,
}

/// A request's exchange with its integration, as logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationLines<'a> {
    /// `Endpoint request headers: {...}` (outside the authorizer phase), read only when asked: a healthy
    /// request's 1 KB headers line is never searched. See [`Request::source_arn`] and [`Request::trace_id`].
    pub request_headers: Option<&'a str>,
    /// `Endpoint response headers: {...}`, read only when asked: see [`Request::function_error_header`].
    pub response_headers: Option<&'a str>,
    /// The Lambda service's own status, from `Received response. Status: 200, ...` (not the client's).
    pub lambda_status: Option<u16>,
    /// The integration's Lambda, from `Endpoint request URI` / `Sending request to`. Report only.
    pub function_arn: Option<&'a str>,
    /// A non-Lambda integration endpoint (HTTP/VPC link), for the report.
    pub endpoint: Option<&'a str>,
    /// `Endpoint response body before transformations:` (what the Lambda returned), trimmed.
    pub response_body: Option<&'a str>,
}

/// A request's Lambda authorizer, as logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerLines<'a> {
    /// The authorizer's Lambda, from `Sending request to` inside the authorizer phase. Report only.
    pub arn: Option<&'a str>,
    /// From `Starting authorizer: <id>`.
    pub id: Option<&'a str>,
    pub body: Option<&'a str>,
}

/// Everything we know about one request after reading its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request<'a> {
    pub source: Source,
    pub request_id: Option<Cow<'a, str>>,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    pub method: Option<Cow<'a, str>>,
    /// As logged: in execution logs the **concrete** path the client asked for (`/orders/123`), in access logs
    /// the resource template. Never reported as such: see [`Request::route_template`].
    pub resource_path: Option<Cow<'a, str>>,
    /// `Method request path: {id=123}` as logged: the values are request data, used only to find the template.
    pub path_parameters: Option<&'a str>,
    /// What API Gateway logged of its exchange with the integration (boxed: a request that failed before or
    /// without one, held by the ten thousand in the worst deliveries, does not pay for it).
    pub(crate) integration: Option<Box<IntegrationLines<'a>>>,
    /// What it logged of a Lambda authorizer (boxed likewise).
    pub(crate) authorizer: Option<Box<AuthorizerLines<'a>>>,
    /// The response headers' `x-amzn-RequestId` is the Lambda request id: they came last, on a Lambda integration.
    pub(crate) lambda_request_id_in_headers: bool,
    /// From `Method completed with status: N` (or `$context.status`): the status the client got.
    pub status: Option<u16>,
    /// The status came from the console's TEST panel or `test-invoke-method`'s `status`, not from a log line.
    pub status_reported: bool,
    pub integration_latency_ms: Option<u64>,
    /// From `AWS Integration Endpoint RequestId :` or a function error's `Lambda request id:`; see
    /// [`Request::lambda_request_id`] for the response headers' own.
    pub(crate) lambda_request_id: Option<&'a str>,
    /// `Gateway response type: T with status code: N`, or `$context.error.responseType`.
    pub response_type: Option<Cow<'a, str>>,
    /// What only an access-log record carries (boxed: execution-log requests, held by the ten thousand until their
    /// delivery is read, do not pay for it).
    pub record: Option<Box<RecordFields<'a>>>,
    pub succeeded: bool,
    pub unauthorized: bool,
    pub started_authorizer: bool,
    /// `Successfully completed authorizer execution`: the authorizer answered with a policy API Gateway could use.
    pub authorizer_succeeded: bool,
    pub started_execution: bool,
    pub truncated_events: u32,
    pub events: u32,
    pub signals: Vec<Signal<'a>>,
    /// The borrowed text is still JSON-escaped (the hot path): see [`Request::text`].
    pub escaped: bool,
    pub(crate) in_authorizer: bool,
    pub(crate) closed: bool,
    /// A line of the request began with a sentence of the catalogue (any kind, failure or not).
    pub(crate) saw_known_line: bool,
}

impl<'a> Request<'a> {
    /// The record's `$context.error.message`, when it is an access-log record that has one.
    pub fn error_message(&self) -> Option<&Cow<'a, str>> {
        self.record.as_ref()?.error_message.as_ref()
    }

    /// The record's own API id and stage (access-log records only).
    pub fn record_api_id(&self) -> Option<&str> {
        self.record.as_ref()?.api_id.as_deref()
    }

    pub fn record_stage(&self) -> Option<&str> {
        self.record.as_ref()?.stage.as_deref()
    }

    /// The integration's Lambda, from `Endpoint request URI` / `Sending request to`. Report only.
    pub fn function_arn(&self) -> Option<&'a str> {
        self.integration.as_ref()?.function_arn
    }

    /// A non-Lambda integration endpoint (HTTP/VPC link), for the report.
    pub fn endpoint(&self) -> Option<&'a str> {
        self.integration.as_ref()?.endpoint
    }

    /// The Lambda service's own status, from `Received response. Status: 200, ...` (not the client's).
    pub fn lambda_status(&self) -> Option<u16> {
        self.integration.as_ref()?.lambda_status
    }

    /// `Endpoint response body before transformations:` (what the Lambda returned), trimmed.
    pub fn response_body(&self) -> Option<&'a str> {
        self.integration.as_ref()?.response_body
    }

    /// The authorizer's Lambda. Report only.
    pub fn authorizer_arn(&self) -> Option<&'a str> {
        self.authorizer.as_ref()?.arn
    }

    /// From `Starting authorizer: <id>`: selects among the API's own authorizers, never names a function.
    pub fn authorizer_id(&self) -> Option<&'a str> {
        self.authorizer.as_ref()?.id
    }

    fn integration_mut(&mut self) -> &mut IntegrationLines<'a> {
        self.integration.get_or_insert_default()
    }

    fn authorizer_mut(&mut self) -> &mut AuthorizerLines<'a> {
        self.authorizer.get_or_insert_default()
    }

    /// The access-log fields, created on first use.
    pub fn record_mut(&mut self) -> &mut RecordFields<'a> {
        self.record.get_or_insert_with(Box::default)
    }

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
        // The console's `Execution log for request <id>` header alone is no request (its lines may follow apart).
        self.saw_known_line |= kind != Kind::ExecutionLogHeader;
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
                if let Some(at) = RESOURCE_PATH.find(rest.as_bytes()) {
                    self.method = Some(Cow::Borrowed(rest[..at].trim()));
                    self.resource_path = Some(Cow::Borrowed(
                        rest[at + RESOURCE_PATH.needle().len()..].trim(),
                    ));
                }
            }
            Kind::MethodRequestPath => self.path_parameters = Some(rest.trim()),
            Kind::EndpointRequestHeaders if !self.in_authorizer => {
                self.integration_mut().request_headers = Some(rest)
            }
            Kind::EndpointRequestHeaders => {}
            Kind::EndpointRequestUri | Kind::SendingRequest => {
                let uri = first_token(rest);
                match lambda_arn_in_uri(uri) {
                    Some(arn) if self.in_authorizer => self.authorizer_mut().arn = Some(arn),
                    Some(arn) => self.integration_mut().function_arn = Some(arn),
                    None if !self.in_authorizer => self.integration_mut().endpoint = Some(uri),
                    None => {}
                }
            }
            Kind::ReceivedResponse => {
                if let Some(ms) = latency_ms(rest) {
                    self.integration_latency_ms = Some(ms);
                }
                // ` Status: 200, Integration latency: 426 ms` (2023 on); 2019 logs have no status.
                if let Some(status) = rest.trim_start().strip_prefix("Status: ") {
                    let digits = status.bytes().take_while(u8::is_ascii_digit).count();
                    self.integration_mut().lambda_status = status[..digits].parse().ok();
                }
            }
            Kind::EndpointResponseBody => self.integration_mut().response_body = Some(rest.trim()),
            Kind::EndpointResponseHeaders => {
                let integration = self.integration_mut();
                integration.response_headers = Some(rest);
                // An AWS service or HTTP integration's own request id is not a Lambda request id.
                let lambda = integration.endpoint.is_none();
                self.lambda_request_id_in_headers = lambda;
            }
            Kind::MethodCompleted => {
                // Only the status's own line: in a paste, prose after the last line is appended to it.
                let first_line = rest.split(['\n', '\r', '\\']).next().unwrap_or(rest);
                self.status = first_line.trim().parse().ok();
                self.closed = true;
            }
            Kind::Succeeded => self.succeeded = true,
            Kind::IntegrationEndpointRequestId => {
                self.lambda_request_id = Some(rest.trim());
                self.lambda_request_id_in_headers = false;
            }
            Kind::StartingAuthorizer => {
                self.in_authorizer = true;
                self.started_authorizer = true;
                self.authorizer_mut().id = Some(first_token(rest));
            }
            Kind::AuthorizerResultBody => self.authorizer_mut().body = Some(rest.trim()),
            Kind::AuthorizerSucceeded => {
                self.in_authorizer = false;
                self.authorizer_succeeded = true;
            }
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
                    && let Some(at) = rfind_label(rest, LAMBDA_REQUEST_ID)
                {
                    self.lambda_request_id = Some(rest[at + LAMBDA_REQUEST_ID.len()..].trim());
                    self.lambda_request_id_in_headers = false;
                }
                // Most failing requests have one or two signals: a first push would reserve four (160 bytes,
                // held for every request of a delivery until it is read).
                if self.signals.capacity() == self.signals.len() {
                    self.signals
                        .reserve_exact(if self.signals.is_empty() { 1 } else { 2 });
                }
                self.signals.push(Signal {
                    failure,
                    line: Cow::Borrowed(message),
                    detail_at: message.len() - rest.len(),
                });
            }
        }
    }

    /// The `X-Amz-Source-Arn` API Gateway put in its request to the integration, when well formed.
    pub fn source_arn(&self) -> Option<&'a str> {
        self.integration
            .as_ref()?
            .request_headers
            .and_then(source_arn)
    }

    /// The X-Ray trace id (`1-5f2b3c4d-0123456789abcdef01234567`) of API Gateway's request to the integration,
    /// when well formed and not marked unsampled (an unsampled trace is not recorded, so there is nothing to open).
    pub fn trace_id(&self) -> Option<&'a str> {
        let id = trace_header(self.integration.as_ref()?.request_headers?)
            .and_then(|(id, sampled)| sampled.then_some(id))?;
        // The integration's answer may say the trace was not sampled after all.
        let unsampled = self
            .integration
            .as_ref()
            .and_then(|i| i.response_headers)
            .and_then(trace_header)
            .is_some_and(|(answered, sampled)| !sampled && answered == id);
        (!unsampled).then_some(id)
    }

    /// `X-Amz-Function-Error` from the endpoint response headers (`Unhandled` / `Handled`).
    pub fn function_error_header(&self) -> Option<&'a str> {
        header_value(
            self.integration.as_ref()?.response_headers?,
            LAMBDA_HEADERS[0],
        )
    }

    /// `x-amzn-ErrorType` from the endpoint response headers (Lambda service errors, throttling).
    pub fn error_type_header(&self) -> Option<&'a str> {
        header_value(
            self.integration.as_ref()?.response_headers?,
            LAMBDA_HEADERS[1],
        )
    }

    /// The Lambda request id: the last of `AWS Integration Endpoint RequestId :`, a function error's `Lambda
    /// request id:` and, on a Lambda integration, the endpoint response headers' `x-amzn-RequestId`.
    pub fn lambda_request_id(&self) -> Option<&'a str> {
        let in_headers = self
            .integration
            .as_ref()
            .and_then(|i| i.response_headers)
            .filter(|_| self.lambda_request_id_in_headers)
            .and_then(|h| header_value(h, LAMBDA_HEADERS[2]));
        in_headers.or(self.lambda_request_id)
    }

    /// A field's text as people read it: unescaped when the request was read from escaped delivery text.
    pub fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.escaped {
            unescape(s)
        } else {
            Cow::Borrowed(s)
        }
    }

    /// The route as its resource template (`/orders/{id}`, `/{proxy+}`), never the concrete path: from the
    /// `X-Amz-Source-Arn` API Gateway sends to a Lambda integration (only there: on other integrations those
    /// headers can be the client's), else by putting the logged path parameters back into the path. `None` when
    /// the path holds values that cannot be located (the route is then reported as not logged).
    pub fn route_template(&self, api_id: Option<&str>) -> Option<String> {
        let path = self.text(self.resource_path.as_deref()?).into_owned();
        if self.function_arn().is_some()
            && let Some(route) = self.source_arn().and_then(|arn| arn_route(arn, api_id))
        {
            return Some(route);
        }
        match self.path_parameters {
            Some(params) => template_from_parameters(&path, &self.text(params)),
            // No parameters logged: an access-log record's template, or a path without parameters.
            None => Some(path),
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
            || self.function_arn().is_some()
            // Any line API Gateway writes (an integration's answer alone, a request cut before its start).
            || self.saw_known_line
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
// Built once: `str::find` with a `&str` pattern builds its searcher on every call, and these run on every
// headers line (1 KB each) of every request.
static SOURCE_ARN: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"X-Amz-Source-Arn="));
static INVOCATIONS: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"/invocations"));

/// The three endpoint response headers we read (Lambda's; matched ignoring ASCII case).
const LAMBDA_HEADERS: [&str; 3] = [
    "X-Amz-Function-Error",
    "x-amzn-ErrorType",
    "x-amzn-RequestId",
];

/// `https://lambda.eu-west-2.amazonaws.com/2015-03-31/functions/arn:aws:lambda:...:function:name/invocations`
/// Only a URI of the Lambda service counts: on an HTTP integration the path is the client's, and
/// `https://backend/x/functions/arn:aws:lambda:...` must not name a function.
fn lambda_arn_in_uri(uri: &str) -> Option<&str> {
    let host = uri.strip_prefix("https://")?.split('/').next()?;
    let lambda_host = host.starts_with("lambda.")
        && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"));
    if !lambda_host {
        return None;
    }
    let start = FUNCTIONS_ARN.find(uri.as_bytes())? + "/functions/".len();
    let arn = &uri[start..];
    let end = INVOCATIONS.find(arn.as_bytes()).unwrap_or(arn.len());
    let arn = &arn[..end];
    arn.contains(":lambda:").then_some(arn)
}

/// The number that follows `Integration latency: ` in `text`, e.g. `Integration latency: 426 ms`.
fn latency_ms(text: &str) -> Option<u64> {
    let at = INTEGRATION_LATENCY.find(text.as_bytes())? + "Integration latency: ".len();
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    text[at..at + digits].parse().ok()
}

/// The value of the first header `name` (ASCII case ignored) in API Gateway's `{Name=value, Name=value}`
/// rendering. A name counts only after `{` or `, ` and right before `=`, so a header whose value contains `Name=`
/// cannot spoof it. Read from each `=` back: a few dozen per 1 KB line, cheaper than a search for the name.
fn header_value<'h>(headers: &'h str, name: &str) -> Option<&'h str> {
    let bytes = headers.as_bytes();
    memchr::memchr_iter(b'=', bytes).find_map(|eq| {
        let at = eq.checked_sub(name.len())?;
        let boundary = at == 0 || bytes[at - 1] == b'{' || (at >= 2 && &bytes[at - 2..at] == b", ");
        (boundary && bytes[at..eq].eq_ignore_ascii_case(name.as_bytes())).then(|| {
            let value = &headers[eq + 1..];
            let end = value.find([',', '}']).unwrap_or(value.len());
            value[..end].trim()
        })
    })
}

/// [`header_value`] of each of [`LAMBDA_HEADERS`].
#[cfg(test)]
fn lambda_headers(headers: &str) -> [Option<&str>; 3] {
    LAMBDA_HEADERS.map(|name| header_value(headers, name))
}

/// `X-Amzn-Trace-Id=Root=1-5f2b3c4d-0123456789abcdef01234567;Parent=...;Sampled=1` in a `{Name=value, ...}`
/// header rendering: the trace id when it is well formed (`1-` + 8 + `-` + 24 lowercase hex digits, the X-Ray
/// format) and whether the header leaves it sampled (only `Sampled=0` says no). The name counts only at a header
/// boundary, in the two spellings seen (Lambda answers `x-amzn-trace-id`... `root=`).
fn trace_header(headers: &str) -> Option<(&str, bool)> {
    const NAME: &str = "x-amzn-trace-id=";
    let lower = headers;
    let mut from = 0;
    while let Some(at) = find_trace_name(&lower[from..]).map(|i| i + from) {
        from = at + NAME.len();
        let boundary = at == 0 || lower[..at].ends_with('{') || lower[..at].ends_with(", ");
        if !boundary {
            continue;
        }
        let value = &lower[from..];
        let value = &value[..value.find([',', '}']).unwrap_or(value.len())];
        let mut id = None;
        let mut sampled = true;
        for part in value.split(';') {
            let (key, v) = part.split_once('=').unwrap_or((part, ""));
            if key.trim().eq_ignore_ascii_case("root") && is_trace_id(v.trim()) {
                id = Some(v.trim());
            } else if key.trim().eq_ignore_ascii_case("sampled") && v.trim() == "0" {
                sampled = false;
            }
        }
        return id.map(|id| (id, sampled));
    }
    None
}

/// Where the trace header's name starts, as API Gateway (`X-Amzn-Trace-Id`) or Lambda (`x-amzn-trace-id`)
/// writes it: two SIMD substring searches, not a byte-by-byte case-folding scan (this runs on every headers line).
fn find_trace_name(haystack: &str) -> Option<usize> {
    static FINDERS: LazyLock<[memmem::Finder<'static>; 2]> = LazyLock::new(|| {
        [
            memmem::Finder::new(b"X-Amzn-Trace-Id="),
            memmem::Finder::new(b"x-amzn-trace-id="),
        ]
    });
    FINDERS
        .iter()
        .filter_map(|f| f.find(haystack.as_bytes()))
        .min()
}

/// The X-Ray trace id format: `1-{8 hex: epoch seconds}-{24 hex}`.
pub fn is_trace_id(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: &[u8]| {
        r.iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    };
    b.len() == 35 && b.starts_with(b"1-") && b[10] == b'-' && hex(&b[2..10]) && hex(&b[11..])
}

/// `X-Amz-Source-Arn=arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{template}` in API Gateway's
/// `{Name=value, ...}` header rendering. A name counts only at a header boundary; a value cut by the 1 KB limit
/// (it then runs into ` [TRUNCATED]`) is dropped.
fn source_arn(headers: &str) -> Option<&str> {
    const NAME: &str = "X-Amz-Source-Arn=";
    let mut from = 0;
    while let Some(at) = SOURCE_ARN
        .find(&headers.as_bytes()[from..])
        .map(|i| i + from)
    {
        let boundary = at == 0 || headers[..at].ends_with('{') || headers[..at].ends_with(", ");
        if boundary {
            let value = &headers[at + NAME.len()..];
            // The value ends at the next `,` or `}` outside the template's own `{param}` braces.
            let mut depth = 0u32;
            let end = value.bytes().position(|b| match b {
                b'{' => {
                    depth += 1;
                    false
                }
                b'}' if depth > 0 => {
                    depth -= 1;
                    false
                }
                b',' | b'}' => true,
                _ => false,
            })?;
            let value = &value[..end];
            let ok = value.starts_with("arn:aws")
                && value.contains(":execute-api:")
                && !value.bytes().any(|b| b.is_ascii_whitespace());
            return ok.then_some(value);
        }
        from = at + NAME.len();
    }
    None
}

/// `/{template}` from a source ARN whose API is `api_id` (when known): `.../{api}/{stage}/{METHOD}/{template}`.
fn arn_route(arn: &str, api_id: Option<&str>) -> Option<String> {
    let resource = arn.rsplit_once(':')?.1;
    let mut parts = resource.splitn(4, '/');
    let (api, _stage, method) = (parts.next()?, parts.next()?, parts.next()?);
    let template = parts.next().unwrap_or("");
    let api_ok = api_id.is_none_or(|id| id == api);
    let shape_ok = !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_uppercase() || b == b'*')
        && template.bytes().all(|b| b.is_ascii_graphic());
    (api_ok && shape_ok).then(|| format!("/{template}"))
}

/// Puts `{name=value, ...}` back into `path`: a segment equal to a value becomes `{name}`, and a value with a
/// `/` (a greedy `{name+}`) replaces the path's tail. `None` when a value cannot be located: the path would leak it.
fn template_from_parameters(path: &str, params: &str) -> Option<String> {
    let inner = params.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    if inner.trim().is_empty() {
        return Some(path.to_owned());
    }
    for pair in inner.split(", ") {
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        if value.is_empty() {
            continue;
        }
        if value.contains('/') {
            let tail: Vec<&str> = value.split('/').collect();
            let start = segments.len().checked_sub(tail.len())?;
            if segments[start..]
                .iter()
                .map(String::as_str)
                .ne(tail.iter().copied())
            {
                return None;
            }
            segments.truncate(start);
            segments.push(format!("{{{name}+}}"));
        } else {
            // From the end: a greedy or deeper parameter is more often last, and ids rarely repeat a prefix.
            let at = segments.iter().rposition(|s| s == value)?;
            segments[at] = format!("{{{name}}}");
        }
    }
    Some(segments.join("/"))
}

/// The label before the Lambda request id that ends a function-error sentence.
pub const LAMBDA_REQUEST_ID: &str = " Lambda request id: ";

/// Where the last `label` (ending in `": "`) is in `text`, looked for from the colons at the end: such labels end
/// their sentence (the function's own message before them may quote anything), and a reverse substring search is a
/// scalar two-way search, many times slower than walking back over a few colons.
pub fn rfind_label(text: &str, label: &str) -> Option<usize> {
    let (bytes, label) = (text.as_bytes(), label.as_bytes());
    let colon = label.len().checked_sub(2)?;
    memchr::memrchr_iter(b':', bytes)
        .filter(|&at| at >= colon)
        .map(|at| at - colon)
        .find(|&start| bytes[start..].starts_with(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_integrations_request_id_is_not_lambdas() {
        let requests = crate::requests::reassemble(
            "(r) Sending request to https://states.us-east-1.amazonaws.com/?Action=StartExecution\n\
             (r) Endpoint response headers: {x-amzn-RequestId=7db46310-54f0-43bd-967b-dc8abda3a16e, Content-Length=63}\n\
             (r) Method completed with status: 500"
                .lines()
                .map(|l| (None, l)),
        );
        assert_eq!(requests[0].lambda_request_id(), None);
        assert_eq!(
            requests[0].endpoint(),
            Some("https://states.us-east-1.amazonaws.com/?Action=StartExecution")
        );
    }

    #[test]
    fn the_last_label_is_found_from_the_end() {
        let text = "error: a Lambda request id: fake. Lambda request id: 0a1b-2c3d";
        let at = rfind_label(text, LAMBDA_REQUEST_ID).unwrap();
        assert_eq!(&text[at + LAMBDA_REQUEST_ID.len()..], "0a1b-2c3d");
        assert_eq!(text.rfind(LAMBDA_REQUEST_ID), Some(at));
        for text in ["", ":", "no label: here", " Lambda request id:"] {
            assert_eq!(
                rfind_label(text, LAMBDA_REQUEST_ID),
                text.rfind(LAMBDA_REQUEST_ID),
                "{text:?}"
            );
        }
        assert_eq!(
            rfind_label("x. Lambda request id: ", ". Lambda request id: "),
            Some(1)
        );
    }

    #[test]
    fn trace_ids_are_taken_only_well_formed_at_a_header_boundary() {
        let id = "1-64754fe5-084fc11dc5ca6bb8641894f5";
        assert_eq!(
            trace_header(&format!(
                "{{Accept=application/json, X-Amzn-Trace-Id=Root={id}, Host=x}}"
            )),
            Some((id, true))
        );
        assert_eq!(
            trace_header(&format!("{{X-Amzn-Trace-Id=root={id};sampled=0}}")),
            Some((id, false))
        );
        assert_eq!(
            trace_header(&format!(
                "{{X-Amzn-Trace-Id=Root={id};Parent=4c7ee5155a6de4b2;Sampled=1;Lineage=1:710fb532:0}}"
            )),
            Some((id, true))
        );
        // Inside another value, malformed, upper-case hex, or cut: nothing.
        assert_eq!(
            trace_header(&format!("{{User-Agent=X-Amzn-Trace-Id=Root={id}}}")),
            None
        );
        assert_eq!(
            trace_header("{X-Amzn-Trace-Id=Root=1-64754fe5-<script>}"),
            None
        );
        assert_eq!(
            trace_header("{X-Amzn-Trace-Id=Root=1-64754FE5-084FC11DC5CA6BB8641894F5}"),
            None
        );
        assert_eq!(
            trace_header("{X-Amzn-Trace-Id=Root=1-64754fe5-084fc11d [TRUNCATED]"),
            None
        );
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
        // The first well-placed one wins; a name glued to another, or spaced from its `=`, is not it.
        let h = "x-amzn-RequestId=first, A=b,x-amzn-ErrorType=glued, x-amzn-RequestId=second, x-amzn-ErrorType =x";
        assert_eq!(lambda_headers(h), [None, None, Some("first")]);
        assert_eq!(lambda_headers("{}"), [None; 3]);
        assert_eq!(lambda_headers("=x-amzn-RequestId="), [None, None, None]);
    }

    #[test]
    fn a_request_cut_before_its_start_is_still_a_request_but_a_console_header_alone_is_not() {
        // The shape of a public 2022 paste: a second request's first lines, before its start line was logged.
        let text = "(c0) Extended Request Id: ZiFxuH9eFiAFYVw=\n(c0) Method request path: {proxy=ProjectOAuth/api/x}";
        let requests = crate::requests::reassemble(text.lines().map(|l| (None, l)));
        assert!(requests[0].is_recognised());
        let header =
            crate::requests::reassemble([(None, "Execution log for request test-request")]);
        assert!(!header[0].is_recognised());
        let prose = crate::requests::reassemble([(None, "Then the API said hello")]);
        assert!(!prose[0].is_recognised());
    }

    #[test]
    fn the_route_is_the_resource_template_never_the_concrete_path() {
        // The shape of a public 2017 log: a proxy resource, the concrete path, the source ARN with the template.
        let text = "(r) HTTP Method: GET, Resource Path: /all_state\n\
                    (r) Method request path: {resource=all_state}\n\
                    (r) Endpoint request URI: https://lambda.us-west-2.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-west-2:123456789012:function:extension_state/invocations\n\
                    (r) Endpoint request headers: {x-amzn-lambda-integration-tag=r, X-Amz-Date=20170605T135747Z, X-Amz-Source-Arn=arn:aws:execute-api:us-west-2:123456789012:oo8kadh853/Test/ANY/{resource+}, Accept=application/json, X-Amz-Security-Token=FQoD [TRUNCATED]";
        let requests = crate::requests::reassemble(text.lines().map(|l| (None, l)));
        let r = &requests[0];
        assert_eq!(
            r.route_template(Some("oo8kadh853")).as_deref(),
            Some("/{resource+}")
        );
        // The ARN of another API does not count: the parameters do.
        assert_eq!(
            r.route_template(Some("zzzzzzzzzz")).as_deref(),
            Some("/{resource}")
        );
    }

    #[test]
    fn path_parameters_go_back_into_the_path() {
        let t = template_from_parameters;
        assert_eq!(
            t("/repos/hello", "{id=hello}").as_deref(),
            Some("/repos/{id}")
        );
        assert_eq!(
            t("/users/7/orders/123", "{user=7, order=123}").as_deref(),
            Some("/users/{user}/orders/{order}")
        );
        assert_eq!(
            t("/files/a/b/c.txt", "{proxy=a/b/c.txt}").as_deref(),
            Some("/files/{proxy+}")
        );
        assert_eq!(t("/orders", "{}").as_deref(), Some("/orders"));
        // A value that cannot be found (encoded differently) never leaves in the path.
        assert_eq!(t("/users/john%40x.com", "{id=john@x.com}"), None);
    }

    #[test]
    fn a_source_arn_counts_only_as_a_whole_header_on_a_lambda_integration() {
        assert_eq!(
            source_arn("{A=1, X-Amz-Source-Arn=arn:aws:execute-api:r:1:api/s/GET/x, B=2}"),
            Some("arn:aws:execute-api:r:1:api/s/GET/x")
        );
        // Inside another header's value: not a header.
        assert_eq!(
            source_arn("{A=X-Amz-Source-Arn=arn:aws:execute-api:r:1:api/s/GET/x}"),
            None
        );
        // Cut by the 1 KB limit.
        assert_eq!(
            source_arn("{X-Amz-Source-Arn=arn:aws:execute-api:r:1:api/s/GET/{pro [TRUNCATED]"),
            None
        );
        // On an HTTP integration the endpoint request headers can be the client's: the ARN is not used.
        let text = "(r) HTTP Method: GET, Resource Path: /items/5\n\
                    (r) Method request path: {id=5}\n\
                    (r) Endpoint request URI: https://backend.example.com/items/5\n\
                    (r) Endpoint request headers: {X-Amz-Source-Arn=arn:aws:execute-api:us-east-1:1:api/s/GET/victim}";
        let requests = crate::requests::reassemble(text.lines().map(|l| (None, l)));
        assert_eq!(
            requests[0].route_template(None).as_deref(),
            Some("/items/{id}")
        );
    }

    #[test]
    fn only_a_lambda_service_uri_names_a_function() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:victim";
        assert_eq!(
            lambda_arn_in_uri(&format!(
                "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{arn}/invocations"
            )),
            Some(arn)
        );
        assert_eq!(
            lambda_arn_in_uri(&format!(
                "https://backend.example.com/x/functions/{arn}/invocations"
            )),
            None
        );
        assert_eq!(
            lambda_arn_in_uri(&format!(
                "https://lambda.us-east-1.amazonaws.com.evil.io/functions/{arn}"
            )),
            None
        );
    }
}

#[cfg(test)]
mod held_size {
    /// A request is held from its first line to the end of its delivery, by the tens of thousands in the worst
    /// ones (BENCHMARKS.md, "A warm function"): what only some requests log is boxed, and this keeps it so.
    #[test]
    fn a_held_request_stays_small() {
        assert!(
            std::mem::size_of::<super::Request<'_>>() <= 256,
            "{} bytes",
            std::mem::size_of::<super::Request<'_>>()
        );
    }
}
