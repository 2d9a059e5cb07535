//! [`Request`] → [`Diagnosis`]: the cause label of `docs/how-it-decides.md` §0, the status the client got, and the
//! decisive lines. A total function: what no signature explains is `unknown_5xx` with its evidence, never a guess.

use std::fmt;
use std::sync::LazyLock;

use memchr::memmem;

use serde::{Deserialize, Serialize};

use super::{service, shape};
use crate::requests::request::rfind_label;
use crate::requests::{Request, Signal, Source};
use crate::signature::Failure;

/// The stable vocabulary of the CLI output, the alerts and the SNS message attributes (`docs/how-it-decides.md` §0),
/// plus `incomplete` for a request whose final status is not in this batch and which shows no failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Ok,
    ClientError,
    Throttled,
    MalformedProxyResponse,
    FunctionError,
    FunctionTimeout,
    IntegrationTimeout,
    MissingInvokePermission,
    AuthorizerMissingInvokePermission,
    AuthorizerError,
    LambdaThrottled,
    PayloadTooLarge,
    LambdaKmsError,
    LambdaServiceError,
    /// Lambda refused or failed the Invoke before the function ran (VPC networking, the function not ready, ...).
    LambdaInvokeError,
    MappingError,
    /// An AWS service integration answered an error (its role refused, its request invalid) that no integration
    /// response maps.
    ServiceIntegrationError,
    BackendError,
    #[serde(rename = "unknown_5xx")]
    Unknown5xx,
    Incomplete,
}

impl Cause {
    pub const ALL: [Cause; 20] = [
        Cause::Ok,
        Cause::ClientError,
        Cause::Throttled,
        Cause::MalformedProxyResponse,
        Cause::FunctionError,
        Cause::FunctionTimeout,
        Cause::IntegrationTimeout,
        Cause::MissingInvokePermission,
        Cause::AuthorizerMissingInvokePermission,
        Cause::AuthorizerError,
        Cause::LambdaThrottled,
        Cause::PayloadTooLarge,
        Cause::LambdaKmsError,
        Cause::LambdaServiceError,
        Cause::LambdaInvokeError,
        Cause::MappingError,
        Cause::ServiceIntegrationError,
        Cause::BackendError,
        Cause::Unknown5xx,
        Cause::Incomplete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Ok => "ok",
            Cause::ClientError => "client_error",
            Cause::Throttled => "throttled",
            Cause::MalformedProxyResponse => "malformed_proxy_response",
            Cause::FunctionError => "function_error",
            Cause::FunctionTimeout => "function_timeout",
            Cause::IntegrationTimeout => "integration_timeout",
            Cause::MissingInvokePermission => "missing_invoke_permission",
            Cause::AuthorizerMissingInvokePermission => "authorizer_missing_invoke_permission",
            Cause::AuthorizerError => "authorizer_error",
            Cause::LambdaThrottled => "lambda_throttled",
            Cause::PayloadTooLarge => "payload_too_large",
            Cause::LambdaKmsError => "lambda_kms_error",
            Cause::LambdaServiceError => "lambda_service_error",
            Cause::LambdaInvokeError => "lambda_invoke_error",
            Cause::MappingError => "mapping_error",
            Cause::ServiceIntegrationError => "service_integration_error",
            Cause::BackendError => "backend_error",
            Cause::Unknown5xx => "unknown_5xx",
            Cause::Incomplete => "incomplete",
        }
    }

    /// Whether this cause is a server-side failure worth an alert (the 5xx family).
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            Cause::Ok | Cause::ClientError | Cause::Throttled | Cause::Incomplete
        )
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Cause {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cause::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown cause {s:?}"))
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cause: Cause,
    /// The status the client got: logged, or (when `status_inferred`) the one the catalogue says this cause gives.
    pub status: Option<u16>,
    pub status_inferred: bool,
    /// The decisive lines, without request-id prefixes, each cut to [`MAX_EVIDENCE_CHARS`].
    pub evidence: Vec<String>,
    /// What exactly is wrong, when the logs say more than the label (e.g. the shape of a malformed response).
    pub detail: Option<String>,
}

impl Diagnosis {
    /// Failures and any 5xx: what `diagnose` prints without `--all` and what alerts are made of.
    pub fn is_problem(&self) -> bool {
        self.cause.is_failure() || self.status.is_some_and(|s| s >= 500)
    }
}

/// Evidence lines are cut here: the decisive part of a failure line is short, bodies are not.
pub const MAX_EVIDENCE_CHARS: usize = 300;
const MAX_EVIDENCE_LINES: usize = 6;

/// Classifies one request. Never fails.
pub fn classify(request: &Request<'_>) -> Diagnosis {
    let mut diagnosis = classify_cause(request);
    diagnosis.evidence = evidence(request, &diagnosis);
    diagnosis
}

/// [`classify`] without the evidence lines: the hot path writes them only for a request that opens an alert
/// ([`evidence`]), not for the thousands that count into one.
pub(crate) fn classify_cause(request: &Request<'_>) -> Diagnosis {
    let (cause, detail) = cause_of(request);
    let (status, status_inferred) = match request.status {
        Some(s) => (Some(s), false),
        None => match typical_status(cause, request) {
            Some(s) => (Some(s), true),
            None => (None, false),
        },
    };
    Diagnosis {
        cause,
        status,
        status_inferred,
        evidence: Vec::new(),
        detail,
    }
}

/// The decisive lines of a request [`classify_cause`] diagnosed: none unless it is a problem.
pub(crate) fn evidence(request: &Request<'_>, diagnosis: &Diagnosis) -> Vec<String> {
    if diagnosis.is_problem() {
        evidence_of(request, diagnosis.cause)
    } else {
        Vec::new()
    }
}

fn has<'r, 'a>(request: &'r Request<'a>, failure: Failure) -> Option<&'r Signal<'a>> {
    request.signals.iter().find(|s| s.failure == failure)
}

fn response_type_is(request: &Request<'_>, names: &[&str]) -> bool {
    request
        .response_type
        .as_deref()
        .is_some_and(|t| names.contains(&t))
}

fn cause_of(request: &Request<'_>) -> (Cause, Option<String>) {
    use Failure as F;
    let authorizer_context = has(request, F::AuthorizerError).is_some()
        || has(request, F::AuthorizerConfigurationException).is_some()
        || response_type_is(
            request,
            &["AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE"],
        )
        // An authorizer that completed (the console's authorizer test stops there) failed nothing.
        || (request.started_authorizer && !request.started_execution && !request.authorizer_succeeded);

    // §7: "Invalid permissions on Lambda function" followed by "Authorizer error" is the authorizer's.
    if has(request, F::HttpApiAuthorizerPermission).is_some()
        || (has(request, F::InvalidPermissions).is_some() && authorizer_context)
    {
        return (Cause::AuthorizerMissingInvokePermission, None);
    }
    if has(request, F::InvalidPermissions).is_some()
        || has(request, F::HttpApiIntegrationPermission).is_some()
    {
        return (Cause::MissingInvokePermission, None);
    }
    if has(request, F::CannotAssumeRole).is_some() {
        return if authorizer_context {
            (
                Cause::AuthorizerError,
                Some("API Gateway cannot assume the authorizer's credentials role".into()),
            )
        } else {
            (
                Cause::MissingInvokePermission,
                Some("API Gateway cannot assume the integration's credentials role".into()),
            )
        };
    }
    if let Some(signal) = [
        F::CouldNotParsePolicy,
        F::AuthorizerInvalidJson,
        F::AuthorizerConfigurationException,
        F::AuthorizerError,
    ]
    .iter()
    .find_map(|f| has(request, *f))
    {
        let detail = match signal.failure {
            F::CouldNotParsePolicy => {
                Some("the authorizer did not return a valid IAM policy document".into())
            }
            F::AuthorizerInvalidJson => {
                Some("the authorizer's response is not the JSON API Gateway expects".into())
            }
            _ => None,
        };
        return (Cause::AuthorizerError, detail);
    }
    if let Some(signal) = has(request, F::LambdaInvocationFailed) {
        let status: Option<u16> = signal
            .detail()
            .trim_start()
            .get(..3)
            .and_then(|s| s.parse().ok());
        if status == Some(429) {
            return (Cause::LambdaThrottled, None);
        }
        if let Some(found) = lambda_service_body(request) {
            return found;
        }
        // A 4xx is Lambda refusing API Gateway's Invoke: retrying does not help, the refusal's reason does.
        if let Some(status @ 400..=499) = status {
            return (Cause::LambdaInvokeError, Some(lambda_refusal(status)));
        }
        return (Cause::LambdaServiceError, None);
    }
    if has(request, F::RateExceeded).is_some() {
        return (Cause::LambdaThrottled, None);
    }
    if has(request, F::IntegrationTimeout).is_some()
        || response_type_is(request, &["INTEGRATION_TIMEOUT"])
    {
        return (Cause::IntegrationTimeout, None);
    }
    if let Some(signal) = [
        F::CustomerFunctionError,
        F::HttpApiFunctionError,
        F::AccessLogFunctionError,
    ]
    .iter()
    .find_map(|f| has(request, *f))
    {
        return function_failure(&request.text(signal.detail()));
    }
    // Lambda itself refused or failed the Invoke (its own status, its x-amzn-ErrorType): that decides, before any
    // later "Malformed Lambda proxy response" (API Gateway's reading of Lambda's error document as a response).
    if let Some(found) = lambda_invoke_refusal(request) {
        return found;
    }
    if has(request, F::MalformedProxyResponse).is_some() {
        // §1 row 8b: in 2018, Lambda throttling surfaced as a malformed response whose body is Lambda's error (the
        // x-amzn-ErrorType header was decided above; here only the body says so).
        if body_reason(request).is_some_and(|r| r.ends_with("LimitExceeded")) {
            return (
                Cause::LambdaThrottled,
                Some("Lambda refused the invocation (TooManyRequestsException)".into()),
            );
        }
        if let Some(found) = lambda_service_body(request) {
            return found;
        }
        let detail = request.response_body().map(|body| {
            // Read where it lies when the delivery's text is still escaped; unescaped only when that reader
            // cannot answer.
            let problems = request
                .escaped
                .then(|| shape::proxy_response_problems_escaped(body))
                .flatten()
                .unwrap_or_else(|| shape::proxy_response_problems(request.text(body).trim()));
            if problems.is_empty() {
                "the logged response looks well-formed; check the part cut off by the 1 KB log limit".to_owned()
            } else {
                problems.join("; ")
            }
        });
        return (Cause::MalformedProxyResponse, detail);
    }
    if has(request, F::UnableToTransformRequest).is_some()
        || has(request, F::OutputMappingInvalid).is_some()
    {
        return (Cause::MappingError, None);
    }
    if let Some(signal) = has(request, F::NoOutputMappingMatch) {
        return unmapped_answer(request, signal);
    }
    if has(request, F::Base64DecodeBody).is_some() {
        let detail = "content handling: the payload was to be converted from base64 to binary \
                      (contentHandling CONVERT_TO_BINARY on the integration or integration response, or a binary \
                      media type matching the request) but is not base64 text";
        return (Cause::MappingError, Some(detail.to_owned()));
    }
    if has(request, F::TlsHostNameMismatch).is_some() {
        let detail = "TLS: the integration endpoint's certificate is not for the host name API Gateway connected to \
                      (the integration URI's host; through a VPC link, the load balancer's name unless the \
                      integration sets tlsConfig.serverNameToVerify)";
        return (Cause::BackendError, Some(detail.to_owned()));
    }
    if [
        F::InternalErrorExecuting,
        F::InvalidEndpointAddress,
        F::NetworkError,
    ]
    .iter()
    .any(|f| has(request, *f).is_some())
    {
        return (Cause::BackendError, None);
    }
    if has(request, F::KeyThrottle).is_some() || response_type_is(request, &["THROTTLED"]) {
        return (Cause::Throttled, None);
    }
    // A failure inside the authorizer phase with no sentence we know; a denial (401/403) is the client's.
    if authorizer_context && !request.unauthorized && request.status.is_none_or(|s| s >= 500) {
        return (Cause::AuthorizerError, None);
    }
    let is_5xx = request.status.is_some_and(|s| s >= 500);
    if (is_5xx || !request.succeeded)
        && let Some(found) = lambda_service_body(request)
    {
        return found;
    }
    if is_5xx
        && request
            .function_error_header()
            .is_some_and(|h| h.eq_ignore_ascii_case("Unhandled"))
    {
        return (Cause::FunctionError, None);
    }
    if has(request, F::OtherConfigurationError).is_some() {
        return (Cause::Unknown5xx, None);
    }
    match request.status {
        Some(200..=399) => (Cause::Ok, None),
        Some(429) => (Cause::Throttled, None),
        Some(400..=499) => (Cause::ClientError, None),
        // An access-log record with a 5xx and no error field: its format records nothing that could explain it.
        Some(_)
            if request.source == Source::AccessLog
                && request.signals.is_empty()
                && request.response_type.is_none()
                && request.error_message().is_none() =>
        {
            let detail = "the access log's format records no error: add $context.integrationErrorMessage and \
                          $context.error.message (HTTP API), or $context.integration.error, \
                          $context.error.responseType and $context.error.message (REST API) to it; a REST API's \
                          execution log names the cause too";
            (Cause::Unknown5xx, Some(detail.to_owned()))
        }
        Some(_) => (Cause::Unknown5xx, None),
        None if request.unauthorized => (Cause::ClientError, None),
        None if request.succeeded => (Cause::Ok, None),
        None => timeout_document_alone(request).unwrap_or((Cause::Incomplete, None)),
    }
}

/// `No match for output mapping and no default output mapping configured. Endpoint Response Status Code: 400`: the
/// integration answered with a status no integration response selects, and none is the default. An error status
/// from an AWS service is the service refusing the integration's call (its role, or the request API Gateway
/// built): that is the cause, the missing mapping only turned it into a 500. From an HTTP backend it is the
/// backend's error. A success status that nothing maps is the mapping's fault.
fn unmapped_answer(request: &Request<'_>, signal: &Signal<'_>) -> (Cause, Option<String>) {
    let logged: Option<u16> = signal
        .detail()
        .split_once("Endpoint Response Status Code: ")
        .and_then(|(_, s)| s.get(..3))
        .and_then(|s| s.parse().ok());
    let answered = logged.or(request.lambda_status());
    let unmapped = |status: Option<u16>| match status {
        Some(s) => format!(
            "no integration response matches status {s} and none is the default (the one without a selection pattern), so API \
             Gateway answered 500"
        ),
        None => {
            "no integration response matches the integration's answer and none is the default, so \
                 API Gateway answered 500"
                .to_owned()
        }
    };
    if answered.is_some_and(|s| s < 400) || request.function_arn().is_some() {
        return (Cause::MappingError, Some(unmapped(answered)));
    }
    let service = request.endpoint().and_then(service::service_of);
    if request.endpoint().is_some() && service.is_none() {
        let status = answered.map_or_else(|| "an error".to_owned(), |s| s.to_string());
        return (
            Cause::BackendError,
            Some(format!(
                "the HTTP backend answered {status}; {}",
                unmapped(answered)
            )),
        );
    }
    let body = request.response_body().map(|b| request.text(b));
    let code = body.as_deref().and_then(service::error_code);
    let who = service.map_or_else(
        || "the integration (the log does not name its endpoint; an AWS service, or for an HTTP integration its backend)".to_owned(),
        str::to_owned,
    );
    let answer = match (answered, code) {
        (Some(s), Some(c)) => format!("{s} {c}"),
        (Some(s), None) => s.to_string(),
        (None, Some(c)) => c.to_owned(),
        (None, None) => "an error".to_owned(),
    };
    let why = code.map_or(
        "the endpoint response body names the error when the stage logs full requests and responses",
        service::meaning,
    );
    (
        Cause::ServiceIntegrationError,
        Some(format!(
            "{who} answered {answer}: {why}; {}",
            unmapped(answered)
        )),
    )
}

/// A customer function error (the text after the matched sentence start): its own timeout, the 6 MB response
/// limit, or anything else it raised.
fn function_failure(detail: &str) -> (Cause, Option<String>) {
    // REST: `200 due to customer function error: <msg>. Lambda request id: <id>`
    // Finders built once: this runs for every failing request.
    static DUE_TO: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new("due to customer function error: "));
    let message = DUE_TO
        .find(detail.as_bytes())
        .map_or(detail, |at| &detail[at + DUE_TO.needle().len()..]);
    let message =
        rfind_label(message, ". Lambda request id: ").map_or(message, |at| &message[..at]);
    // HTTP API: `<msg>. Check your Lambda function code and try again.`
    let message = message
        .strip_suffix(". Check your Lambda function code and try again.")
        .unwrap_or(message)
        .trim();
    if message.starts_with("Response payload size exceeded maximum allowed payload size") {
        return (
            Cause::PayloadTooLarge,
            Some("the response exceeded Lambda's 6 MB synchronous payload limit".into()),
        );
    }
    if let Some(seconds) = own_timeout_seconds(message) {
        return (
            Cause::FunctionTimeout,
            Some(format!(
                "the function hit its own Lambda timeout after {seconds} seconds"
            )),
        );
    }
    (Cause::FunctionError, None)
}

/// A request whose log ends at the integration's answer, that answer being exactly the document Lambda returns for a
/// function that ran past its own timeout (`{"errorMessage":"<ts> <id> Task timed out after 3.01 seconds"}`, with
/// `errorType` `Sandbox.Timedout` in newer runtimes): the function's timeout, said to be inferred (no failure line
/// and no final status were logged; behind a proxy integration the client gets 502).
fn timeout_document_alone(request: &Request<'_>) -> Option<(Cause, Option<String>)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TimeoutDocument {
        #[serde(rename = "errorMessage")]
        error_message: String,
        #[serde(rename = "errorType", default)]
        error_type: Option<String>,
    }
    let raw = request.response_body()?;
    if !request.signals.is_empty()
        || raw.len() > LAMBDA_DOCUMENT_MAX
        || !raw.contains("Task timed out")
    {
        return None;
    }
    // Lambda writes it on one line; in a paste, what follows the line (prose, a fence) was appended to it.
    let text = request.text(raw);
    let line = text.lines().next().unwrap_or_default().trim();
    let document: TimeoutDocument = serde_json::from_str(line).ok()?;
    if document
        .error_type
        .as_deref()
        .is_some_and(|t| t != "Sandbox.Timedout")
    {
        return None;
    }
    let seconds = own_timeout_seconds(&document.error_message)?;
    Some((
        Cause::FunctionTimeout,
        Some(format!(
            "inferred from the function's timeout document alone (the log shows no failure line and no final \
             status): the function hit its own Lambda timeout after {seconds} seconds"
        )),
    ))
}

/// Lambda's own timeout sentence, and nothing else: `[<ts> <id> |RequestId: <id> Error: ]Task timed out after
/// N.NN seconds`. The words "timed out" anywhere else in an error message mean nothing (§7).
fn own_timeout_seconds(message: &str) -> Option<&str> {
    const SENTENCE: &str = "Task timed out after ";
    static FINDER: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(SENTENCE));
    let at = FINDER.find(message.as_bytes())?;
    let head = &message[..at];
    let head_ok = head.is_empty()
        || (head.starts_with("RequestId: ")
            && head.ends_with(" Error: ")
            && head.split(' ').count() == 4)
        || (head.split(' ').count() == 3
            && head.ends_with(' ')
            && head.as_bytes()[0].is_ascii_digit());
    let seconds = message[at + SENTENCE.len()..]
        .trim_end_matches('.')
        .strip_suffix(" seconds")?;
    let numeric = !seconds.is_empty() && seconds.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    (head_ok && numeric).then_some(seconds)
}

/// The `Reason` of Lambda's own error document in the endpoint response body (`{"Reason": "...", "Type": ...}`).
fn body_reason(request: &Request<'_>) -> Option<String> {
    // Lambda's own status under 400 says the function answered: the body is the function's, whatever it says.
    if answered_by_the_function(request) {
        return None;
    }
    // Only Lambda's own short error documents carry it: a body without the word is not parsed (it may be 1 MB).
    let raw = request.response_body()?;
    if raw.len() > LAMBDA_DOCUMENT_MAX || !raw.contains("Reason") {
        return None;
    }
    let body = request.text(raw);
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    value.get("Reason")?.as_str().map(str::to_owned)
}

/// Lambda's Invoke API errors that mean the function never ran, by `x-amzn-ErrorType`: what each says.
const INVOKE_ERRORS: &[(&str, &str)] = &[
    (
        "ENILimitReachedException",
        "VPC networking: Lambda could not create a network interface (ENI limit reached)",
    ),
    (
        "EC2ThrottledException",
        "VPC networking: EC2 throttled the network interface Lambda needs",
    ),
    (
        "EC2AccessDeniedException",
        "VPC networking: the execution role may not create the network interface (ec2:CreateNetworkInterface)",
    ),
    (
        "EC2UnexpectedException",
        "VPC networking: EC2 failed while Lambda set up the network interface",
    ),
    (
        "SubnetIPAddressLimitReachedException",
        "VPC networking: the function's subnets have no free IP address",
    ),
    (
        "InvalidSubnetIDException",
        "VPC networking: a subnet of the function's VPC configuration does not exist",
    ),
    (
        "InvalidSecurityGroupIDException",
        "VPC networking: a security group of the function's VPC configuration does not exist",
    ),
    (
        "ResourceNotReadyException",
        "the function is not ready (Pending, or Inactive after idling: Lambda is restoring it)",
    ),
    (
        "SnapStartNotReadyException",
        "the function's SnapStart snapshot is not ready yet",
    ),
    (
        "EFSMountConnectivityException",
        "the function cannot reach its EFS file system",
    ),
    (
        "EFSMountFailureException",
        "the function's EFS file system could not be mounted",
    ),
    (
        "EFSMountTimeoutException",
        "mounting the function's EFS file system timed out",
    ),
    ("EFSIOException", "the function's EFS file system failed"),
    (
        "InvalidRuntimeException",
        "the function's runtime or layers are not valid",
    ),
];

/// Lambda itself answered the Invoke with an error: its service status (`Received response. Status: N`) is 4xx or
/// 5xx, or its `x-amzn-ErrorType` names an Invoke API error. The status and the header decide; the body (Lambda's
/// error document) only describes, so a function that returns such a document with status 200 is not one.
fn lambda_invoke_refusal(request: &Request<'_>) -> Option<(Cause, Option<String>)> {
    let error_type = request
        .error_type_header()
        .map(|t| t.split(':').next().unwrap_or(t).trim());
    // Only on a Lambda integration: an HTTP backend's status is logged the same way.
    let refused =
        request.function_arn().is_some() && request.lambda_status().is_some_and(|s| s >= 400);
    let named = error_type.and_then(|t| {
        INVOKE_ERRORS
            .iter()
            .find(|(name, _)| t.eq_ignore_ascii_case(name))
    });
    if !refused && named.is_none() {
        // 2018 logs: no service status; the header alone says Lambda throttled.
        if error_type.is_some_and(|t| t.eq_ignore_ascii_case("TooManyRequestsException")) {
            return Some((
                Cause::LambdaThrottled,
                Some("Lambda refused the invocation (TooManyRequestsException)".into()),
            ));
        }
        return lambda_document_alone(request);
    }
    let status = request
        .lambda_status()
        .map_or_else(String::new, |s| format!(" {s}"));
    match error_type {
        Some(t)
            if t.eq_ignore_ascii_case("TooManyRequestsException")
                || request.lambda_status() == Some(429) =>
        {
            Some((
                Cause::LambdaThrottled,
                Some(format!("Lambda answered{status} TooManyRequestsException")),
            ))
        }
        Some(t) if t.to_ascii_uppercase().starts_with("KMS") => Some((
            Cause::LambdaKmsError,
            Some(format!("Lambda answered{status} {t}")),
        )),
        Some(t) if t.eq_ignore_ascii_case("ServiceException") => Some((
            Cause::LambdaServiceError,
            Some(format!("Lambda answered{status} {t}")),
        )),
        _ => {
            if let Some((name, meaning)) = named {
                return Some((
                    Cause::LambdaInvokeError,
                    Some(format!("{meaning} (Lambda answered{status} {name})")),
                ));
            }
            // A status of Lambda's own and its error document, no header we know.
            match lambda_service_body(request) {
                Some(found) => Some(found),
                None => {
                    let body = request
                        .response_body()
                        .map(|b| request.text(b).into_owned());
                    let message = body
                        .as_deref()
                        .and_then(|b| serde_json::from_str::<serde_json::Value>(b.trim()).ok())
                        .and_then(|v| v.get("Message").and_then(|m| m.as_str()).map(str::to_owned));
                    Some((
                        Cause::LambdaInvokeError,
                        Some(match message {
                            Some(m) => format!("Lambda answered{status}: {m}"),
                            None => format!("Lambda answered{status} before the function ran"),
                        }),
                    ))
                }
            }
        }
    }
}

/// A partial log (a paste) that shows Lambda's error document as the body but neither Lambda's status nor its
/// `x-amzn-ErrorType`: nothing confirms who wrote the document, so the diagnosis says it is inferred. Only the exact
/// shape Lambda writes (`Message` and `Type` and nothing else, `Type` User, Service or null, a message naming
/// Lambda) counts; a logged status of 200 means the function returned it (its own malformed response).
fn lambda_document_alone(request: &Request<'_>) -> Option<(Cause, Option<String>)> {
    if request.lambda_status().is_some() || request.error_type_header().is_some() {
        return None;
    }
    let raw = request.response_body()?;
    if raw.len() > LAMBDA_DOCUMENT_MAX || !raw.contains("Message") {
        return None;
    }
    let message = shape::lambda_error_message(&request.text(raw))?;
    let meaning = if message.contains("ENI") || message.contains("network interface") {
        "VPC networking: Lambda could not attach the function to its VPC"
    } else if message.contains("EFS") || message.contains("file system") {
        "the function's EFS file system"
    } else if message.contains("Pending")
        || message.contains("inactive")
        || message.contains("Inactive")
    {
        "the function is not ready"
    } else if message.contains("KMS") {
        return Some((
            Cause::LambdaKmsError,
            Some("inferred from Lambda's error document alone (the log shows no Lambda status or error type)".into()),
        ));
    } else {
        "Lambda refused or failed the Invoke"
    };
    Some((
        Cause::LambdaInvokeError,
        Some(format!(
            "{meaning}; inferred from Lambda's error document alone (\"{message}\"): the log shows no Lambda status or \
             x-amzn-ErrorType to confirm it, and the function did not run"
        )),
    ))
}

/// What Lambda's Invoke API means by a 4xx status (its documented errors for each), when no error type or document
/// was logged with it.
fn lambda_refusal(status: u16) -> String {
    let meaning = match status {
        400 => {
            "the request was invalid (InvalidRequestContentException, InvalidParameterValueException, or a VPC, \
                EFS or runtime problem Lambda reports as 4xx)"
        }
        403 => {
            "access was denied (AccessDeniedException): the call was not allowed to reach the function, e.g. an \
                organization SCP or a region not (yet) enabled for the account"
        }
        404 => {
            "the function, alias or version does not exist (ResourceNotFoundException): deleted, renamed, or an \
                integration URI or stage variable naming the wrong one"
        }
        409 => {
            "the function is not ready (ResourceConflictException / ResourceNotReadyException): still being \
                created or updated, or inactive"
        }
        413 => {
            "the request payload is too large for Lambda (RequestTooLargeException, 6 MB synchronous)"
        }
        415 => "the content type is not supported (UnsupportedMediaTypeException)",
        _ => "Lambda refused it",
    };
    format!(
        "Lambda refused the invocation with status {status}: {meaning}; the function did not run"
    )
}

/// Lambda service error documents (§1 rows 10, 11): the function never ran, Lambda itself answered.
/// Lambda's error documents (`{"Message": ..., "Type": ...}`) are short: a longer body is the function's own.
const LAMBDA_DOCUMENT_MAX: usize = 8 * 1024;

fn lambda_service_body(request: &Request<'_>) -> Option<(Cause, Option<String>)> {
    // A function that echoes Lambda's error document (or a client's input) with status 200 is not Lambda failing.
    if answered_by_the_function(request) {
        return None;
    }
    let raw = request.response_body()?;
    if raw.len() > LAMBDA_DOCUMENT_MAX || !raw.contains("Message") || !raw.contains("Type") {
        return None;
    }
    let body = request.text(raw);
    let body = body.trim();
    if !body.starts_with('{') || request.function_error_header().is_some() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let object = value.as_object()?;
    let message = object.get("Message")?.as_str()?;
    if !object.contains_key("Type") {
        return None;
    }
    if message.starts_with(
        "Lambda was unable to decrypt the environment variables because KMS access was denied",
    ) {
        return Some((Cause::LambdaKmsError, None));
    }
    if object.get("Type").and_then(|t| t.as_str()) == Some("Service") {
        return Some((Cause::LambdaServiceError, None));
    }
    None
}

/// Lambda logged its own status (`Received response. Status: N`) and it is under 400: Lambda invoked the function
/// and the body is the function's answer. Every check of a body for Lambda's error documents reads this first.
fn answered_by_the_function(request: &Request<'_>) -> bool {
    request.lambda_status().is_some_and(|s| s < 400)
}

/// The status the catalogue says a cause gives, for logs that did not include `Method completed with status`.
fn typical_status(cause: Cause, request: &Request<'_>) -> Option<u16> {
    let http_api = request.signals.iter().any(|s| {
        matches!(
            s.failure,
            Failure::HttpApiFunctionError
                | Failure::HttpApiIntegrationPermission
                | Failure::HttpApiAuthorizerPermission
        )
    });
    match cause {
        Cause::MalformedProxyResponse | Cause::PayloadTooLarge => Some(502),
        Cause::FunctionError | Cause::FunctionTimeout => Some(if http_api { 500 } else { 502 }),
        Cause::IntegrationTimeout => Some(504),
        Cause::MissingInvokePermission
        | Cause::AuthorizerMissingInvokePermission
        | Cause::AuthorizerError
        | Cause::LambdaKmsError
        | Cause::LambdaServiceError
        | Cause::MappingError
        | Cause::ServiceIntegrationError => Some(500),
        Cause::LambdaInvokeError => {
            Some(if has(request, Failure::MalformedProxyResponse).is_some() {
                502
            } else {
                500
            })
        }
        Cause::LambdaThrottled => {
            Some(if has(request, Failure::MalformedProxyResponse).is_some() {
                502
            } else {
                500
            })
        }
        Cause::Throttled => Some(429),
        // The configuration-error sentences (§1 rows 14, 14b, 15) are API_CONFIGURATION_ERROR: 500. A network
        // error's status is not confirmed.
        Cause::BackendError => [
            Failure::InternalErrorExecuting,
            Failure::TlsHostNameMismatch,
            Failure::InvalidEndpointAddress,
        ]
        .iter()
        .any(|f| has(request, *f).is_some())
        .then_some(500),
        Cause::Unknown5xx | Cause::Ok | Cause::ClientError | Cause::Incomplete => None,
    }
}

fn evidence_of(request: &Request<'_>, cause: Cause) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    if request.source == Source::AccessLog {
        if let Some(t) = &request.response_type {
            lines.push(format!("error.responseType: {}", cut(t)));
        }
        if let Some(m) = request.error_message() {
            lines.push(format!("error.message: {}", cut(m)));
        }
    }
    if matches!(
        cause,
        Cause::LambdaThrottled | Cause::LambdaInvokeError | Cause::LambdaKmsError
    ) && let Some(t) = request.error_type_header()
    {
        lines.push(format!(
            "Endpoint response headers: x-amzn-ErrorType={}",
            cut(&request.text(t))
        ));
    }
    if matches!(
        cause,
        Cause::LambdaKmsError
            | Cause::LambdaServiceError
            | Cause::LambdaInvokeError
            | Cause::ServiceIntegrationError
    ) && let Some(body) = request.response_body()
    {
        // Lambda's or the AWS service's own error document, not the function's output.
        lines.push(format!(
            "Endpoint response body before transformations: {}",
            cut(&request.text(body))
        ));
    }
    if cause == Cause::FunctionTimeout
        && request.signals.is_empty()
        && let Some(body) = request.response_body()
    {
        // The timeout document the diagnosis was inferred from (its first line: Lambda writes it on one).
        let body = request.text(body);
        lines.push(format!(
            "Endpoint response body before transformations: {}",
            cut(body.lines().next().unwrap_or_default())
        ));
    }
    if matches!(cause, Cause::FunctionError)
        && request.signals.is_empty()
        && let Some(h) = request.function_error_header()
    {
        lines.push(format!(
            "Endpoint response headers: X-Amz-Function-Error={}",
            cut(&request.text(h))
        ));
    }
    for signal in &request.signals {
        if lines.len() >= MAX_EVIDENCE_LINES - 1 {
            break;
        }
        let text = request.text(&signal.line);
        let text = if signal.failure.may_span_lines() {
            &text
        } else {
            text.lines().next().unwrap_or_default()
        };
        lines.push(cut(text));
    }
    if request.source == Source::ExecutionLog {
        if let Some(t) = &request.response_type {
            lines.push(format!("Gateway response type: {}", cut(&request.text(t))));
        }
        if let Some(s) = request.status.filter(|_| request.status_reported) {
            lines.push(format!(
                "Status: {s} (shown by the TEST output; the log pasted ends before the final status)"
            ));
        } else if let Some(s) = request.status {
            lines.push(format!("Method completed with status: {s}"));
        }
    } else if let Some(s) = request.status {
        lines.push(format!("status: {s}"));
    }
    lines
}

/// Cuts a line to [`MAX_EVIDENCE_CHARS`] on a char boundary, folding newlines so each line stays one line.
pub fn cut(line: &str) -> String {
    // Most lines: short enough in bytes (so in characters) and on one line: copied as they are.
    if line.len() <= MAX_EVIDENCE_CHARS && memchr::memchr2(b'\n', b'\r', line.as_bytes()).is_none()
    {
        return line.to_owned();
    }
    let mut out: String = line
        .chars()
        .take(MAX_EVIDENCE_CHARS)
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if line.chars().nth(MAX_EVIDENCE_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::reassemble;

    fn diagnose(text: &str) -> Diagnosis {
        let requests = reassemble(text.lines().map(|l| (None, l)));
        assert_eq!(requests.len(), 1, "{requests:#?}");
        classify(&requests[0])
    }

    #[test]
    fn own_timeout_sentence_is_recognised_only_in_lambdas_forms() {
        assert_eq!(
            own_timeout_seconds(
                "2019-02-27T11:31:11.456Z 71952965-d5cc Task timed out after 10.00 seconds"
            ),
            Some("10.00")
        );
        assert_eq!(
            own_timeout_seconds("RequestId: 01fe3839 Error: Task timed out after 5.00 seconds"),
            Some("5.00")
        );
        assert_eq!(
            own_timeout_seconds("Task timed out after 3.00 seconds"),
            Some("3.00")
        );
        assert_eq!(
            own_timeout_seconds("upstream said: Task timed out after 3.00 seconds"),
            None
        );
        assert_eq!(own_timeout_seconds("Connection timed out"), None);
    }

    #[test]
    fn classify_ignores_failure_text_inside_request_body() {
        let d = diagnose(
            "(r) Method request body before transformations: {\"msg\":\"Execution failed due to a timeout error\"}\n\
             (r) Successfully completed execution\n(r) Method completed with status: 200",
        );
        assert_eq!(d.cause, Cause::Ok);
        assert!(d.evidence.is_empty());
    }

    #[test]
    fn customer_function_error_mentioning_timeouts_is_a_function_error() {
        let d = diagnose(
            "(r) Lambda execution failed with status 200 due to customer function error: upstream timeout after 502 retries, size limit reached. Lambda request id: x\n\
             (r) Method completed with status: 502",
        );
        assert_eq!(d.cause, Cause::FunctionError);
        assert_eq!(d.status, Some(502));
        assert!(!d.status_inferred);
    }

    #[test]
    fn a_log_ending_at_lambdas_timeout_document_is_the_functions_timeout_inferred() {
        let d = diagnose(
            r#"(r) Endpoint response body before transformations: {"errorMessage":"2023-11-15T14:05:05.017Z 30400a8b-8eab-47e5-a4f4-22473f201533 Task timed out after 3.01 seconds"}"#,
        );
        assert_eq!(d.cause, Cause::FunctionTimeout);
        assert_eq!((d.status, d.status_inferred), (Some(502), true));
        assert!(
            d.detail
                .as_deref()
                .is_some_and(|t| t.contains("inferred") && t.contains("3.01"))
        );
        assert!(
            d.evidence[0].contains("Task timed out after 3.01 seconds"),
            "{:?}",
            d.evidence
        );
        // The function's own object that merely mentions a timeout, another error type, or a logged status: not this.
        for other in [
            r#"(r) Endpoint response body before transformations: {"errorMessage":"upstream: Task timed out after 3.01 seconds","x":1}"#,
            r#"(r) Endpoint response body before transformations: {"errorMessage":"2023-11-15T14:05:05.017Z 30400a8b-8eab-47e5-a4f4-22473f201533 Task timed out after 3.01 seconds","errorType":"Error"}"#,
            "(r) Endpoint response body before transformations: {\"errorMessage\":\"Task timed out after 3.01 seconds\"}\n(r) Method completed with status: 200",
        ] {
            assert_ne!(diagnose(other).cause, Cause::FunctionTimeout, "{other}");
        }
    }

    #[test]
    fn an_access_log_5xx_without_error_fields_says_which_fields_to_log() {
        let bare = diagnose(r#"{"requestId":"r","routeKey":"GET /path","status":"500"}"#);
        assert_eq!(bare.cause, Cause::Unknown5xx);
        assert!(
            bare.detail
                .as_deref()
                .is_some_and(|d| d.contains("$context.integrationErrorMessage")),
            "{bare:?}"
        );
        // A record that does log an error keeps it as the evidence, without the hint.
        let logged = diagnose(
            r#"{"requestId":"r","routeKey":"GET /path","status":"500","errorMessage":"Something nobody has seen"}"#,
        );
        assert_eq!(logged.cause, Cause::Unknown5xx);
        assert_eq!(logged.detail, None);
    }

    #[test]
    fn unexplained_5xx_is_unknown_with_its_evidence() {
        let d = diagnose(
            "(r) Execution failed due to configuration error: Something nobody has seen\n(r) Method completed with status: 500",
        );
        assert_eq!(d.cause, Cause::Unknown5xx);
        assert_eq!(d.status, Some(500));
        assert_eq!(
            d.evidence[0],
            "Execution failed due to configuration error: Something nobody has seen"
        );
    }

    #[test]
    fn no_status_and_no_failure_is_incomplete_not_ok() {
        let d = diagnose("(r) Starting execution for request: r");
        assert_eq!(d.cause, Cause::Incomplete);
        assert_eq!(d.status, None);
    }

    #[test]
    fn cause_labels_round_trip_through_their_names() {
        for cause in Cause::ALL {
            assert_eq!(cause.as_str().parse::<Cause>(), Ok(cause));
            assert_eq!(
                serde_json::to_value(cause).unwrap(),
                serde_json::Value::String(cause.as_str().into())
            );
        }
    }

    fn classify_text(text: &str) -> Diagnosis {
        let requests = reassemble(text.lines().map(|l| (None, l)));
        classify(&requests[0])
    }

    const ENI: &str = "(r) Endpoint request URI: https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders/invocations\n\
        (r) Received response. Status: 502, Integration latency: 15031 ms\n\
        (r) Endpoint response body before transformations: {\"Message\":\"Lambda was not able to create an ENI in the VPC of the Lambda function because the limit for Network Interfaces has been reached.\",\"Type\":\"User\"}\n\
        (r) Endpoint response headers: {Date=Mon, 30 Nov 2026 10:00:00 GMT, Content-Type=application/json, x-amzn-RequestId=1f2e3d4c-0000-4000-8000-000000000001, x-amzn-ErrorType=ENILimitReachedException}\n\
        (r) Execution failed due to configuration error: Malformed Lambda proxy response\n\
        (r) Method completed with status: 502";

    #[test]
    fn lambdas_own_refusal_is_not_a_malformed_response_of_the_handler() {
        let d = classify_text(ENI);
        assert_eq!(d.cause, Cause::LambdaInvokeError);
        assert_eq!(d.status, Some(502));
        assert!(
            d.detail.as_deref().unwrap().contains("VPC networking"),
            "{:?}",
            d.detail
        );
    }

    #[test]
    fn lambdas_document_alone_is_inferred_only_in_lambdas_exact_shape() {
        let paste = |document: &str| {
            format!(
                "(r) Endpoint response body before transformations: {document}\n\
                 (r) Execution failed due to configuration error: Malformed Lambda proxy response\n\
                 (r) Method completed with status: 502"
            )
        };
        let eni = classify_text(&paste(
            r#"{"Message":"Lambda was not able to create an ENI in the VPC of the Lambda function because the limit for Network Interfaces has been reached.","Type":"User"}"#,
        ));
        assert_eq!(eni.cause, Cause::LambdaInvokeError);
        assert!(
            eni.detail.as_deref().unwrap().contains("inferred"),
            "{:?}",
            eni.detail
        );
        // The function's own object of the same keys, or one more key: its malformed response.
        for own in [
            r#"{"Message":"order not found","Type":"User"}"#,
            r#"{"Message":"Lambda was not able to create an ENI","Type":"User","statusCode":"500"}"#,
            r#"{"Message":"Lambda was not able to create an ENI","Type":"Order"}"#,
        ] {
            assert_eq!(
                classify_text(&paste(own)).cause,
                Cause::MalformedProxyResponse,
                "{own}"
            );
        }
    }

    #[test]
    fn a_4xx_from_lambdas_invoke_is_a_refusal_and_a_5xx_a_service_failure() {
        let line = |status: u16| {
            format!(
                "(r) Lambda invocation failed with status: {status}. Lambda request id: 0a1b2c3d-0000-4000-8000-000000000001\n\
                 (r) Execution failed due to configuration error: Lambda invocation failed\n\
                 (r) Method completed with status: 500"
            )
        };
        let refused = classify_text(&line(403));
        assert_eq!(refused.cause, Cause::LambdaInvokeError);
        assert!(
            refused
                .detail
                .as_deref()
                .unwrap()
                .contains("AccessDeniedException")
        );
        let missing = classify_text(&line(404));
        assert!(
            missing
                .detail
                .as_deref()
                .unwrap()
                .contains("does not exist")
        );
        assert_eq!(classify_text(&line(429)).cause, Cause::LambdaThrottled);
        assert_eq!(classify_text(&line(500)).cause, Cause::LambdaServiceError);
    }

    #[test]
    fn the_same_document_returned_by_the_function_with_status_200_is_the_functions_bad_response() {
        let text = ENI
            .replace("Status: 502", "Status: 200")
            .replace(", x-amzn-ErrorType=ENILimitReachedException", "");
        assert_eq!(classify_text(&text).cause, Cause::MalformedProxyResponse);
    }

    #[test]
    fn a_body_the_function_echoed_with_status_200_is_never_lambdas_kms_or_throttling_error() {
        // The function returned (echoed) Lambda's documents itself: Lambda's own status says it ran.
        for body in [
            r#"{"Message":"Lambda was unable to decrypt the environment variables because KMS access was denied. Please check the function's KMS key settings.","Type":"User"}"#,
            r#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#,
            r#"{"Message":"An error occurred","Type":"Service"}"#,
        ] {
            let text = format!(
                "(r) Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:echo/invocations\n\
                 (r) Received response. Status: 200, Integration latency: 9 ms\n\
                 (r) Endpoint response body before transformations: {body}\n\
                 (r) Execution failed due to configuration error: Malformed Lambda proxy response\n\
                 (r) Method completed with status: 502"
            );
            let cause = classify_text(&text).cause;
            assert_eq!(cause, Cause::MalformedProxyResponse, "{body}");
        }
    }

    #[test]
    fn the_error_type_names_kms_and_throttling() {
        let kms = ENI.replace("ENILimitReachedException", "KMSAccessDeniedException");
        assert_eq!(classify_text(&kms).cause, Cause::LambdaKmsError);
        let throttled = ENI
            .replace("ENILimitReachedException", "TooManyRequestsException")
            .replace("Status: 502", "Status: 429");
        assert_eq!(classify_text(&throttled).cause, Cause::LambdaThrottled);
    }

    #[test]
    fn an_http_backends_status_is_not_lambdas() {
        let text = "(r) Endpoint request URI: https://backend.example.com/orders\n\
                    (r) Received response. Status: 503, Integration latency: 12 ms\n\
                    (r) Endpoint response body before transformations: {\"Message\":\"down\",\"Type\":\"User\"}\n\
                    (r) Method completed with status: 503";
        assert_ne!(classify_text(text).cause, Cause::LambdaInvokeError);
    }

    /// An integration's answer that no integration response maps: the answer names the cause, by who answered.
    fn unmapped(uri: &str, status: u16, body: &str) -> Diagnosis {
        classify_text(&format!(
            "(r) Endpoint request URI: {uri}\n\
             (r) Received response. Status: {status}, Integration latency: 9 ms\n\
             (r) Endpoint response body before transformations: {body}\n\
             (r) Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {status}\n\
             (r) Method completed with status: 500"
        ))
    }

    #[test]
    fn an_aws_services_refusal_that_nothing_maps_is_the_services_not_the_mappings() {
        let sqs = unmapped(
            "https://sqs.us-east-2.amazonaws.com/123456789012/orders",
            403,
            "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code></Error></ErrorResponse>",
        );
        assert_eq!(sqs.cause, Cause::ServiceIntegrationError);
        assert_eq!(sqs.status, Some(500));
        let detail = sqs.detail.as_deref().unwrap();
        assert!(
            detail.starts_with("SQS answered 403 AccessDenied: the integration's credentials role"),
            "{detail}"
        );
        assert!(
            detail.contains("no integration response matches status 403"),
            "{detail}"
        );
        assert!(
            sqs.evidence
                .iter()
                .any(|e| e.contains("<Code>AccessDenied</Code>")),
            "{:?}",
            sqs.evidence
        );

        let ddb = unmapped(
            "https://dynamodb.eu-west-1.amazonaws.com/",
            400,
            r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid"}"#,
        );
        assert_eq!(ddb.cause, Cause::ServiceIntegrationError);
        assert!(ddb.detail.as_deref().unwrap().starts_with(
            "DynamoDB answered 400 ValidationException: the request API Gateway built"
        ));
    }

    #[test]
    fn an_unmapped_answer_from_a_backend_lambda_or_with_success_is_not_a_services() {
        let http = unmapped("https://backend.example.com/orders", 404, "not found");
        assert_eq!(http.cause, Cause::BackendError);
        assert!(
            http.detail
                .as_deref()
                .unwrap()
                .starts_with("the HTTP backend answered 404")
        );
        let ok = unmapped(
            "https://sqs.us-east-2.amazonaws.com/1/q",
            200,
            "<SendMessageResponse/>",
        );
        assert_eq!(ok.cause, Cause::MappingError);
        assert!(ok.detail.as_deref().unwrap().contains("matches status 200"));
        let lambda = unmapped(
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
            200,
            r#"{"errorMessage":"boom"}"#,
        );
        assert_eq!(lambda.cause, Cause::MappingError);
    }
}
