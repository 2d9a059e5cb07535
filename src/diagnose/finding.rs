//! A request's diagnosis joined with where it came from: the unit of the CLI's output and of alert grouping.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::advice::advice;
use super::classify::{Cause, Diagnosis, classify_cause, evidence};
use super::redact::{RedactedLines, redact};
use crate::requests::{Request, Source, paste, reassemble, reassemble_escaped};

/// Where a batch of events came from. The API id and stage of execution logs come from the log group name
/// only, never from message text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub owner: Option<String>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// API id and stage the operator mapped to this (access-)log group (`ACCESS_LOG_APIS`).
    pub mapped_api: Option<(String, String)>,
}

impl Origin {
    pub fn new(owner: &str, log_group: &str, log_stream: &str) -> Origin {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Origin {
            owner: some(owner),
            log_group: some(log_group),
            log_stream: some(log_stream),
            mapped_api: None,
        }
    }

    /// Adds the operator's mapping for this log group, if any (`ACCESS_LOG_APIS`, built by the config).
    pub fn with_mapping(mut self, mapping: &[AccessLogApi]) -> Origin {
        self.mapped_api = self
            .log_group
            .as_deref()
            .and_then(|group| mapped_api(mapping, group))
            .map(|(api, stage)| (api.to_owned(), stage.to_owned()));
        self
    }

    /// `(api id, stage)` from `API-Gateway-Execution-Logs_{rest-api-id}/{stage}`.
    pub fn execution_log_api(&self) -> Option<(&str, &str)> {
        execution_log_group(self.log_group.as_deref()?)
    }
}

/// One `log-group=api-id/stage` entry of the operator's access-log mapping: the name of an access-log group is
/// the team's choice, so it says nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogApi {
    pub log_group: String,
    pub api_id: String,
    pub stage: String,
}

/// The API id and stage `mapping` gives an access-log group.
pub fn mapped_api<'m>(mapping: &'m [AccessLogApi], log_group: &str) -> Option<(&'m str, &'m str)> {
    mapping
        .iter()
        .find(|m| m.log_group == log_group)
        .map(|m| (m.api_id.as_str(), m.stage.as_str()))
}

/// Parses `API-Gateway-Execution-Logs_{api-id}/{stage}` strictly: API ids are 10 lower-case letters and digits,
/// stage names letters, digits, `-` and `_`.
pub fn execution_log_group(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("API-Gateway-Execution-Logs_")?;
    let (api_id, stage) = rest.split_once('/')?;
    let api_ok = is_api_id(api_id);
    let stage_ok = !stage.is_empty()
        && stage.len() <= 128
        && stage
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (api_ok && stage_ok).then_some((api_id, stage))
}

/// An API Gateway API id: 10 lower-case letters and digits.
pub fn is_api_id(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// How a finding was read: from a log line, or from a sentence quoted in a paste.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    #[default]
    Logged,
    Quoted,
}

impl Confidence {
    pub fn is_logged(&self) -> bool {
        *self == Confidence::Logged
    }
}

/// Where the API id and stage of a finding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiSource {
    /// The execution log group's name: trustworthy.
    LogGroup,
    /// The operator's `ACCESS_LOG_APIS` mapping for the access-log group.
    Mapping,
    /// An access-log record's own fields: as good as the team's log format.
    Record,
}

/// One diagnosed request, owned, ready to print or to group into alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub request_id: Option<String>,
    pub status: Option<u16>,
    pub status_inferred: bool,
    pub cause: Cause,
    pub api_id: Option<String>,
    pub stage: Option<String>,
    pub api_source: Option<ApiSource>,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub function_arn: Option<String>,
    pub authorizer_arn: Option<String>,
    /// From `Starting authorizer: <id>`; selects among the API's own authorizers, never names a function.
    pub authorizer_id: Option<String>,
    pub lambda_request_id: Option<String>,
    /// X-Ray trace id of API Gateway's request to the integration (well formed, not unsampled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub integration_latency_ms: Option<u64>,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    pub account: Option<String>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// Scrubbed when first read (most findings of a large delivery are only counted).
    pub evidence: RedactedLines,
    pub detail: Option<String>,
    /// `logged`: read from a log line as API Gateway writes it; `quoted`: a paste no log line explained, read from
    /// a sentence quoted inside other text ([`Finding::quoted_line`] is that text).
    #[serde(skip_serializing_if = "Confidence::is_logged")]
    pub confidence: Confidence,
    /// The pasted line a quoted finding was read from (scrubbed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_line: Option<String>,
    pub summary: &'static str,
    /// The cause's advice; the CLI fills in what the finding knows before printing ([`crate::publish::fix`]).
    pub advice: std::borrow::Cow<'static, str>,
}

impl Finding {
    /// Failures and any 5xx: what `diagnose` prints without `--all` and what alerts are made of.
    pub fn is_problem(&self) -> bool {
        self.cause.is_failure() || self.status.is_some_and(|s| s >= 500)
    }
}

/// A classified request with its fields still borrowed from the delivery: the hot path groups most failing
/// requests into an alert that exists, which needs a few fields compared and counted, not a [`Finding`] of a
/// dozen owned strings and scrubbed lines (#29: a fifth of a failing access-log record's cost). A [`Finding`] is
/// this, owned: [`Problem::into_finding`].
pub struct Problem<'r> {
    origin: &'r Origin,
    request: &'r Request<'r>,
    /// Without its evidence lines: [`Problem::into_finding`] writes them.
    pub(crate) diagnosis: Diagnosis,
    pub(crate) api_id: Option<Cow<'r, str>>,
    pub(crate) stage: Option<Cow<'r, str>>,
    api_source: Option<ApiSource>,
    pub(crate) method: Option<Cow<'r, str>>,
    pub(crate) resource_path: Option<String>,
    pub(crate) request_id: Option<Cow<'r, str>>,
    pub(crate) function_arn: Option<Cow<'r, str>>,
    pub(crate) authorizer_arn: Option<Cow<'r, str>>,
    pub(crate) authorizer_id: Option<Cow<'r, str>>,
    pub(crate) lambda_request_id: Option<Cow<'r, str>>,
    pub(crate) trace_id: Option<Cow<'r, str>>,
    integration_latency_ms: Option<u64>,
    pub(crate) first_timestamp: Option<i64>,
    pub(crate) last_timestamp: Option<i64>,
}

impl<'r> Problem<'r> {
    /// `request` as [`classify_cause`] diagnosed it; `log_group_api` is `origin`'s
    /// [`Origin::execution_log_api`], read once for the whole batch.
    fn of(
        origin: &'r Origin,
        log_group_api: Option<(&'r str, &'r str)>,
        request: &'r Request<'r>,
        diagnosis: Diagnosis,
    ) -> Problem<'r> {
        let text = |s: Option<&'r str>| s.map(|s| request.text(s));
        let (api_id, stage, api_source) = match log_group_api {
            Some((api, stage)) => (
                Some(Cow::Borrowed(api)),
                Some(Cow::Borrowed(stage)),
                Some(ApiSource::LogGroup),
            ),
            None if origin.mapped_api.is_some() => {
                let (api, stage) = origin
                    .mapped_api
                    .as_ref()
                    .map(|(api, stage)| {
                        (Cow::Borrowed(api.as_str()), Cow::Borrowed(stage.as_str()))
                    })
                    .unzip();
                (api, stage, Some(ApiSource::Mapping))
            }
            // A delivery's access-log group the operator did not map: the record's own `apiId` is no more than the
            // record's text, which a variable API Gateway does not escape (the User-Agent) can forge. An alert names
            // no API the log group does not vouch for; a paste (the user's own text) still shows it.
            None if origin.log_group.is_some() => (None, None, None),
            None => {
                let api = text(request.record_api_id());
                let stage = text(request.record_stage());
                let source = (api.is_some() || stage.is_some()).then_some(ApiSource::Record);
                (api, stage, source)
            }
        };
        // The resource template: concrete paths carry ids, emails and tokens, and never leave the account.
        let resource_path = request.route_template(api_id.as_deref());
        Problem {
            origin,
            request,
            api_id,
            stage,
            api_source,
            method: text(request.method.as_deref()),
            resource_path,
            request_id: text(request.request_id.as_deref()),
            function_arn: text(request.function_arn()),
            authorizer_arn: text(request.authorizer_arn()),
            authorizer_id: text(request.authorizer_id()),
            lambda_request_id: text(request.lambda_request_id()),
            trace_id: text(request.trace_id()),
            integration_latency_ms: request.integration_latency_ms,
            first_timestamp: request.first_timestamp,
            last_timestamp: request.last_timestamp,
            diagnosis,
        }
    }

    pub fn origin(&self) -> &'r Origin {
        self.origin
    }

    /// The same test as [`Finding::is_problem`].
    pub fn is_problem(&self) -> bool {
        self.diagnosis.is_problem()
    }

    pub fn into_finding(self) -> Finding {
        let owned = |s: Option<Cow<'_, str>>| s.map(Cow::into_owned);
        let evidence = evidence(self.request, &self.diagnosis);
        let advice = advice(self.diagnosis.cause);
        Finding {
            request_id: owned(self.request_id),
            status: self.diagnosis.status,
            status_inferred: self.diagnosis.status_inferred,
            cause: self.diagnosis.cause,
            api_id: owned(self.api_id),
            stage: owned(self.stage),
            api_source: self.api_source,
            method: owned(self.method),
            resource_path: self.resource_path,
            function_arn: owned(self.function_arn),
            authorizer_arn: owned(self.authorizer_arn),
            authorizer_id: owned(self.authorizer_id),
            lambda_request_id: owned(self.lambda_request_id),
            trace_id: owned(self.trace_id),
            integration_latency_ms: self.integration_latency_ms,
            first_timestamp: self.first_timestamp,
            last_timestamp: self.last_timestamp,
            account: self.origin.owner.clone(),
            log_group: self.origin.log_group.clone(),
            log_stream: self.origin.log_stream.clone(),
            // Everything downstream (alerts, machine JSON, DynamoDB, logs) takes these from here: scrubbed once,
            // when first read.
            evidence: RedactedLines::new(evidence),
            detail: self.diagnosis.detail.as_deref().map(redact),
            confidence: Confidence::Logged,
            quoted_line: None,
            summary: advice.summary,
            advice: Cow::Borrowed(advice.fix),
        }
    }
}

/// What reading a batch of events found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Every request when asked for all, else only problems.
    pub findings: Vec<Finding>,
    /// How many requests were recognised, and their causes (all of them, problems or not).
    pub requests: u64,
    pub by_cause: BTreeMap<Cause, u64>,
    /// Access-log lines in a layout we do not read (CLF and the like): skipped, counted, reported.
    pub unread_access_log_lines: u64,
    /// JSON records past the bounds of an access-log format (nested, wide, long keys): skipped unread.
    pub oversized_records: u64,
    /// Records of a Kinesis event that could not be decoded (the CLI reports them).
    pub failed_records: Vec<String>,
    /// CloudWatch Logs' `CONTROL_MESSAGE` health checks read (they hold no log line, and that is fine).
    pub control_messages: u64,
}

impl Findings {
    /// Whether the input held nothing this tool reads: no request, no access-log line, no control message. The
    /// CLI says so instead of a silent "0 problems", which would read as healthy.
    pub fn recognised_nothing(&self) -> bool {
        self.requests == 0
            && self.unread_access_log_lines == 0
            && self.oversized_records == 0
            && self.control_messages == 0
            && self.failed_records.is_empty()
    }
}

impl Findings {
    /// Adds another batch's findings (the records of one Kinesis event).
    pub fn merge(&mut self, other: Findings) {
        self.findings.extend(other.findings);
        self.requests += other.requests;
        for (cause, n) in other.by_cause {
            *self.by_cause.entry(cause).or_default() += n;
        }
        self.unread_access_log_lines += other.unread_access_log_lines;
        self.oversized_records += other.oversized_records;
        self.failed_records.extend(other.failed_records);
        self.control_messages += other.control_messages;
    }
}

impl Findings {
    /// Joins what another log of the same stage says of the same requests (the access log beside the execution
    /// log): a request in both is one finding, with this log's cause first and the other's fields filling what this
    /// one does not say; the other's remaining requests are added.
    pub fn absorb_same_requests(&mut self, mut other: Findings) {
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (i, f) in self.findings.iter().enumerate() {
            if let Some(id) = &f.request_id {
                index.entry(id.clone()).or_insert(i);
            }
        }
        let mut rest = Vec::with_capacity(other.findings.len());
        for theirs in std::mem::take(&mut other.findings) {
            let Some(&at) = theirs.request_id.as_ref().and_then(|id| index.get(id)) else {
                rest.push(theirs);
                continue;
            };
            other.requests = other.requests.saturating_sub(1);
            if let Some(n) = other.by_cause.get_mut(&theirs.cause) {
                *n = n.saturating_sub(1);
            }
            let ours = &mut self.findings[at];
            if ours.status.is_none()
                || (ours.status_inferred && theirs.status.is_some() && !theirs.status_inferred)
            {
                ours.status = theirs.status;
                ours.status_inferred = theirs.status_inferred;
            }
            let fill = |mine: &mut Option<String>, theirs: Option<String>| {
                if mine.is_none() {
                    *mine = theirs;
                }
            };
            fill(&mut ours.method, theirs.method);
            fill(&mut ours.resource_path, theirs.resource_path);
            fill(&mut ours.function_arn, theirs.function_arn);
            fill(&mut ours.authorizer_arn, theirs.authorizer_arn);
            fill(&mut ours.lambda_request_id, theirs.lambda_request_id);
            fill(&mut ours.trace_id, theirs.trace_id);
            if ours.detail.is_none() && ours.cause == theirs.cause {
                ours.detail = theirs.detail;
            }
            ours.integration_latency_ms = ours
                .integration_latency_ms
                .or(theirs.integration_latency_ms);
            ours.first_timestamp = ours.first_timestamp.or(theirs.first_timestamp);
            ours.last_timestamp = ours.last_timestamp.or(theirs.last_timestamp);
        }
        other.by_cause.retain(|_, n| *n > 0);
        other.findings = rest;
        self.merge(other);
    }
}

/// Reassembles and classifies events; keeps every request when `all`, else only problems. Requests made only of
/// lines we do not recognise (prose in a paste) are left out. Healthy requests allocate nothing here.
pub fn find<'a, I>(origin: &Origin, events: I, all: bool) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    let mut kept = Vec::new();
    let mut out = findings_of(origin, reassemble(events), all, |f| kept.push(f));
    out.findings = kept;
    out
}

/// [`find`] over pasted text, each request first given the status its test run reported when its log shows none
/// ([`crate::requests::paste::apply_reported_statuses`]).
pub fn find_pasted<'a, I>(origin: &Origin, events: I, all: bool, reported: &[u16]) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    let mut kept = Vec::new();
    let mut out = find_pasted_each(origin, events, all, reported, |f| kept.push(f));
    out.findings = kept;
    out
}

/// [`find_pasted`] that hands each finding to `each`, in request order, instead of keeping it.
pub fn find_pasted_each<'a, I>(
    origin: &Origin,
    events: I,
    all: bool,
    reported: &[u16],
    each: impl FnMut(Finding),
) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    let mut requests = reassemble(events);
    paste::apply_reported_statuses(&mut requests, reported);
    findings_of(origin, requests, all, each)
}

/// [`find`] over messages still JSON-escaped (a [`crate::ingest::RawBatch`]).
pub fn find_escaped<'a, I>(origin: &Origin, events: I, all: bool) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    let mut kept = Vec::new();
    let mut out = find_escaped_in_order(origin, events, all, |p| kept.push(p.into_finding()));
    out.findings = kept;
    out
}

/// [`find_escaped`] that hands each problem (each request with `all`) to `each`, in request order, instead of
/// keeping it: the CLI prints a delivery of 46,000 failing requests one at a time, or groups them without making
/// each a [`Finding`] (#29).
pub fn find_escaped_in_order<'a, I>(
    origin: &Origin,
    events: I,
    all: bool,
    mut each: impl FnMut(Problem<'_>),
) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    problems_of(origin, reassemble_escaped(events), all, &mut each)
}

/// The Lambda's hot path: [`find_escaped`] that hands each problem to `each` instead of keeping it, so that a
/// delivery of many failing requests is grouped as it is read (the returned [`Findings`] holds only counts). A
/// [`Problem`] still borrows the delivery: [`crate::alert::Grouping::add_problem`] makes it a [`Finding`] only for a
/// new alert.
pub fn find_escaped_each<'a, I>(
    origin: &Origin,
    events: I,
    mut each: impl FnMut(Problem<'_>),
) -> Findings
where
    I: IntoIterator<Item = (Option<i64>, &'a str)>,
{
    // Requests complete in one event (access-log records) are classified as they are read and dropped: a
    // delivery of records is never held whole.
    let mut out = Findings::default();
    let api = origin.execution_log_api();
    crate::requests::reassemble::reassemble_escaped_each(events, |request| {
        count_and_find(&mut out, origin, api, &request, false, &mut each);
    });
    out
}

fn findings_of(
    origin: &Origin,
    requests: Vec<Request<'_>>,
    all: bool,
    mut each: impl FnMut(Finding),
) -> Findings {
    problems_of(origin, requests, all, &mut |problem| {
        each(problem.into_finding())
    })
}

/// Each request in order, counted, and handed to `each` when it is a problem (or `all`).
fn problems_of(
    origin: &Origin,
    requests: Vec<Request<'_>>,
    all: bool,
    each: &mut impl FnMut(Problem<'_>),
) -> Findings {
    let mut out = Findings::default();
    let api = origin.execution_log_api();
    for request in &requests {
        count_and_find(&mut out, origin, api, request, all, each);
    }
    out
}

/// One request: counted, classified, and handed to `each` when it is a problem (or `all`).
fn count_and_find<'o>(
    out: &mut Findings,
    origin: &'o Origin,
    log_group_api: Option<(&'o str, &'o str)>,
    request: &Request<'_>,
    all: bool,
    each: &mut impl FnMut(Problem<'_>),
) {
    if request.source == Source::UnreadAccessLog {
        out.unread_access_log_lines += 1;
        return;
    }
    if request.source == Source::OversizedRecord {
        out.oversized_records += 1;
        return;
    }
    if !request.is_recognised() {
        return;
    }
    let diagnosis = classify_cause(request);
    out.requests += 1;
    *out.by_cause.entry(diagnosis.cause).or_default() += 1;
    if all || diagnosis.is_problem() {
        each(Problem::of(origin, log_group_api, request, diagnosis));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of a delivery (as it sits JSON-escaped in the buffer) from a small vocabulary that mixes every kind
    /// of request: execution-log lines with ids, access-log records, bare error values, CLF lines, oversized
    /// records, prose; hostile ones quote failure sentences inside bodies.
    fn delivery_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let id = 0u8..6;
        prop_oneof![
            (id.clone(), prop_oneof![Just(200u16), Just(500), Just(502), Just(429)])
                .prop_map(|(n, s)| format!("(r{n}) Method completed with status: {s}")),
            id.clone().prop_map(|n| format!(
                "(r{n}) Execution failed due to configuration error: Invalid permissions on Lambda function"
            )),
            id.clone().prop_map(|n| format!(
                "(r{n}) Method request body before transformations: {{\\\"x\\\":\\\"Execution failed due to configuration error: Malformed Lambda proxy response\\\"}}"
            )),
            id.clone().prop_map(|n| format!("(r{n}) HTTP Method: POST, Resource Path: /orders")),
            // A malformed proxy response has a detail only when its body was logged.
            id.clone().prop_map(|n| format!(
                "(r{n}) Execution failed due to configuration error: Malformed Lambda proxy response"
            )),
            id.clone().prop_map(|n| format!(
                "(r{n}) Endpoint response body before transformations: {{\\\"statusCode\\\":\\\"200\\\"}}"
            )),
            (id.clone(), prop_oneof![Just("500"), Just("200"), Just("502")]).prop_map(|(n, s)| format!(
                "{{\\\"requestId\\\":\\\"a{n}\\\",\\\"routeKey\\\":\\\"GET /x\\\",\\\"status\\\":\\\"{s}\\\",\\\"integrationErrorMessage\\\":\\\"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration. Check the permissions and try again.\\\"}}"
            )),
            Just("The Lambda function returned the following error: boom. Check your Lambda function code and try again.".to_owned()),
            Just("203.0.113.7 - - [06/Dec/2026:19:27:25 +0000] \\\"GET /x HTTP/1.1\\\" 502 35".to_owned()),
            Just(format!("{{\\\"requestId\\\":\\\"big\\\",\\\"status\\\":\\\"500\\\",\\\"x\\\":\\\"{}\\\"}}", "y".repeat(70_000))),
            Just("Starting execution for request: anonymous".to_owned()),
            Just("Then the API said hello".to_owned()),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// The hot path streams requests complete in one event; it must find exactly what the whole path finds.
        #[test]
        fn streaming_records_finds_what_holding_the_delivery_finds(
            lines in proptest::collection::vec(delivery_line(), 0..40)
        ) {
            let origin = Origin::new("1", "/aws/http-api/orders", "s");
            let events: Vec<(Option<i64>, &str)> =
                lines.iter().enumerate().map(|(i, l)| (Some(i as i64), l.as_str())).collect();
            let whole = find_escaped(&origin, events.iter().copied(), false);
            let mut streamed = Vec::new();
            let counts = find_escaped_each(&origin, events.iter().copied(), |p| streamed.push(p.into_finding()));
            proptest::prop_assert_eq!(counts.requests, whole.requests);
            proptest::prop_assert_eq!(&counts.by_cause, &whole.by_cause);
            proptest::prop_assert_eq!(counts.unread_access_log_lines, whole.unread_access_log_lines);
            proptest::prop_assert_eq!(counts.oversized_records, whole.oversized_records);
            let key = |f: &Finding| serde_json::to_string(f).unwrap();
            let mut a: Vec<String> = whole.findings.iter().map(key).collect();
            let mut b: Vec<String> = streamed.iter().map(key).collect();
            a.sort();
            b.sort();
            proptest::prop_assert_eq!(a, b);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// The hot path groups borrowed problems and makes a finding only for a new alert: the alerts, their counts
        /// and samples, and what is left unlisted past the cap must be what grouping each problem's finding gives.
        #[test]
        fn grouping_problems_plans_what_grouping_their_findings_plans(
            lines in proptest::collection::vec(delivery_line(), 0..40),
            execution_log in proptest::bool::ANY,
            cap in 1usize..5,
            samples in 0usize..3,
        ) {
            let group = if execution_log { "API-Gateway-Execution-Logs_a1b2c3d4e5/prod" } else { "/aws/http-api/orders" };
            let origin = Origin::new("123456789012", group, "s");
            let events: Vec<(Option<i64>, &str)> =
                lines.iter().enumerate().map(|(i, l)| (Some(i as i64), l.as_str())).collect();
            // In the same order (the streaming order: records as read, requests with ids at the end).
            let mut by_findings = crate::alert::Grouping::with_cap("eu-west-1", samples, cap);
            find_escaped_each(&origin, events.iter().copied(), |p| by_findings.add(&p.into_finding()));
            let mut by_problems = crate::alert::Grouping::with_cap("eu-west-1", samples, cap);
            find_escaped_each(&origin, events.iter().copied(), |p| by_problems.add_problem(p));
            proptest::prop_assert_eq!(by_problems.plan(2), by_findings.plan(2));
        }
    }

    #[test]
    fn log_group_gives_api_and_stage() {
        assert_eq!(
            execution_log_group("API-Gateway-Execution-Logs_uwe3g5jm54/Prod"),
            Some(("uwe3g5jm54", "Prod"))
        );
        for bad in [
            "API-Gateway-Execution-Logs/uwe3g5jm54/Prod",
            "api-gateway-execution-logs_uwe3g5jm54/prod",
            "API-Gateway-Execution-Logs_UWE3G5JM54/Prod",
            "API-Gateway-Execution-Logs_uwe3g5jm54/",
            "API-Gateway-Execution-Logs_uwe3g5jm54/a/b",
            "/aws/api_gw/evidence_api",
        ] {
            assert_eq!(execution_log_group(bad), None, "{bad}");
        }
    }

    #[test]
    fn evidence_reads_the_same_from_a_delivery_as_from_a_paste() {
        // The same request, as pasted and as it sits JSON-escaped in a delivery's buffer (KMS: Lambda's own error
        // document, quoted; a gateway response type of hostile length).
        let plain = [
            "(r1) Endpoint response headers: {x-amzn-ErrorType=KMSAccessDeniedException}",
            "(r1) Endpoint response body before transformations: {\"Message\":\"Lambda was unable to decrypt the environment variables because KMS access was denied.\",\"Type\":null}",
            "(r1) Method completed with status: 500",
        ];
        let long = format!(
            "(r2) Gateway response type: {} with status code: 500",
            "X".repeat(5_000)
        );
        let escaped: Vec<String> = plain
            .iter()
            .map(|l| l.replace('"', "\\\""))
            .chain([long.clone()])
            .collect();
        let origin = Origin::new("1", "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", "s");
        let from_paste = find(
            &origin,
            plain
                .iter()
                .copied()
                .chain([long.as_str()])
                .map(|l| (Some(1), l)),
            false,
        );
        let from_delivery = find_escaped(
            &origin,
            escaped.iter().map(|l| (Some(1), l.as_str())),
            false,
        );
        assert_eq!(from_paste.findings, from_delivery.findings);
        let kms = &from_delivery.findings[0];
        assert_eq!(kms.cause, Cause::LambdaKmsError);
        assert!(
            kms.evidence.iter().any(|e| e.starts_with(
                "Endpoint response body before transformations: {\"Message\":\"Lambda was unable"
            )),
            "{:?}",
            kms.evidence
        );
        let gateway = &from_delivery.findings[1];
        assert!(
            gateway
                .evidence
                .iter()
                .all(|e| e.chars().count() <= super::super::classify::MAX_EVIDENCE_CHARS + 40),
            "{:?}",
            gateway.evidence
        );
    }
}
