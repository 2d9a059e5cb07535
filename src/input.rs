//! What the CLI accepts, detected per input: a subscription delivery, a decoded `DATA_MESSAGE`, or pasted text.

use crate::diagnose::Cause;
use crate::diagnose::finding::{
    Confidence, Finding, Findings, Origin, Problem, find_escaped_in_order, find_pasted,
    find_pasted_each,
};
use crate::diagnose::redact::redact;
use crate::ingest::kinesis;
use crate::ingest::{self, DecodeError};
use crate::lambda::config::Config;
use crate::requests::logline::parse_text;
use crate::requests::paste;

/// The kind of one input, as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `{"awslogs":{"data":"..."}}`
    Delivery,
    /// The decoded subscription JSON (`messageType`, `logEvents`, ...).
    DataMessage,
    /// A Kinesis event from the fan-in stream (`{"Records":[{"kinesis":{"data":...}}]}`).
    Kinesis,
    /// Pasted log lines.
    Text,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("input is neither json nor utf-8 text")]
    NotText,
}

/// Settings for reading one input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Print every request, not only problems.
    pub all: bool,
    /// Context for pasted text, which carries no log group of its own.
    pub log_group: Option<String>,
    /// The inflate cap and the access-log group mapping (`ACCESS_LOG_APIS`).
    pub config: Config,
}

/// Detects the kind of `bytes` without decoding it fully.
pub fn detect(bytes: &[u8]) -> InputKind {
    let head = bytes.trim_ascii_start();
    if !head.starts_with(b"{") {
        return InputKind::Text;
    }
    // A delivery as Lambda receives it is read without a JSON parse (a saved 1 MB event was parsed twice).
    if ingest::plain_envelope(bytes).is_some() {
        return InputKind::Delivery;
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        awslogs: Option<serde::de::IgnoredAny>,
        #[serde(rename = "messageType")]
        message_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "logEvents")]
        log_events: Option<serde::de::IgnoredAny>,
        #[serde(rename = "Records")]
        records: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(p) if p.awslogs.is_some() => InputKind::Delivery,
        Ok(p) if p.records.is_some() => InputKind::Kinesis,
        Ok(p) if p.message_type.is_some() || p.log_events.is_some() => InputKind::DataMessage,
        _ => InputKind::Text,
    }
}

/// What to tell someone whose input held no API Gateway log line: what was expected, and for gzip data how to
/// get at what is inside.
pub fn nothing_recognised_hint(bytes: &[u8]) -> std::borrow::Cow<'static, str> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        "this is gzip data: decompress it (gunzip), or pass the subscription delivery ({\"awslogs\":{\"data\":...}})"
            .into()
    } else if let Some(status) = std::str::from_utf8(bytes)
        .ok()
        .and_then(paste::panel_without_log)
    {
        format!(
            "this is the console's TEST result (status {status}) without its log: paste the whole panel, \
             including the \"Log\" section under the response"
        )
        .into()
    } else if let Some(message) = std::str::from_utf8(bytes)
        .ok()
        .and_then(lambda_error_document)
    {
        format!(
            "this is Lambda's own error document, not API Gateway's log: Lambda refused or failed the Invoke before \
             the function ran (\"{message}\"); API Gateway answers such a refusal with 500 (502 when it logs it as a \
             malformed proxy response). Unconfirmed without the execution log: paste the lines around it to confirm"
        )
        .into()
    } else if let Some(sentence) = std::str::from_utf8(bytes)
        .ok()
        .and_then(crate::signature::failure_sentence_within)
    {
        format!(
            "the text quotes API Gateway's \"{sentence}\" inside other text; only a line that begins with it counts \
             (so that a sentence inside a request body or header cannot forge a failure): paste the log lines as \
             they are"
        )
        .into()
    } else if let Some(answer) = std::str::from_utf8(bytes).ok().and_then(gateway_answer) {
        answer.into()
    } else {
        "expected a CloudWatch Logs subscription delivery, its decoded DATA_MESSAGE JSON, a Kinesis event, \
         execution-log lines such as \"(request-id) Method completed with status: 502\", or access-log JSON records"
            .into()
    }
}

/// What to say of API Gateway's own answer to the client pasted without its log (from curl, Postman, a browser):
/// the `message` of the default gateway responses of a 5xx. The answer names no cause; the log does.
fn gateway_answer(text: &str) -> Option<&'static str> {
    // Spaces, line breaks and a JSON string's escapes vary with the tool that printed it.
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\\')
        .collect();
    if squeezed.contains(r#""message":"Endpointrequesttimedout""#) {
        Some(
            "this is API Gateway's answer to the client, not its log: {\"message\": \"Endpoint request timed out\"} \
             is a REST API's integration timeout (504: the integration did not answer within its timeout, 29 s by \
             default; the function may still have finished). The execution log names the integration and shows no \
             \"Received response\" line: paste the request's log lines, or read them with apigw-doctor diagnose \
             --api-id ID --stage STAGE --since 1h",
        )
    } else if squeezed.contains(r#""message":"Internalservererror""#) {
        Some(
            "this is API Gateway's answer to the client, not its log: {\"message\": \"Internal server error\"} is \
             what it answers for most 500 and 502 failures (a missing invoke permission, a throttled or failing \
             function, a malformed proxy response), and only the log says which: paste the request's log lines, or \
             read them with apigw-doctor diagnose --api-id ID --stage STAGE --since 1h",
        )
    } else {
        None
    }
}

/// The message of a paste that is Lambda's error document and nothing else, inside the usual paste wrappers.
fn lambda_error_document(text: &str) -> Option<String> {
    crate::diagnose::shape::lambda_error_message(&paste::normalise(text))
}

/// Diagnoses one input of any kind.
pub fn diagnose_input(bytes: &[u8], options: &ReadOptions) -> Result<Findings, InputError> {
    let mut kept = Vec::new();
    let mut found = diagnose_input_each(bytes, options, &mut |f| kept.push(f.into_finding()))?;
    found.findings = kept;
    Ok(found)
}

/// A request [`diagnose_input_each`] hands on: classified, with its fields still borrowed from a delivery, or a
/// finding already (pasted text, whose requests may be held and read again).
pub enum Found<'r> {
    Problem(Problem<'r>),
    Finding(Finding),
}

impl Found<'_> {
    pub fn into_finding(self) -> Finding {
        match self {
            Found::Problem(problem) => problem.into_finding(),
            Found::Finding(finding) => finding,
        }
    }

    pub fn is_problem(&self) -> bool {
        match self {
            Found::Problem(problem) => problem.is_problem(),
            Found::Finding(finding) => finding.is_problem(),
        }
    }

    /// Read from a sentence quoted inside other text, not from a log line.
    pub fn is_quoted(&self) -> bool {
        matches!(self, Found::Finding(f) if f.confidence == Confidence::Quoted)
    }
}

/// [`diagnose_input`] that hands each request it would keep to `each`, in order, and returns the counts only: what
/// the input gave without holding one owned finding per failing request (#29: 46,000 of them are 50 MB).
pub fn diagnose_input_each(
    bytes: &[u8],
    options: &ReadOptions,
    each: &mut dyn FnMut(Found<'_>),
) -> Result<Findings, InputError> {
    match detect(bytes) {
        InputKind::Delivery => {
            // `diagnose_json` reads the JSON and reports what does not parse: `ingest::decode` would read it twice.
            let data = ingest::envelope_data(bytes)?;
            let json = ingest::inflate(&data, options.config.max_inflated_bytes)?;
            diagnose_json(&json, options, each)
        }
        InputKind::DataMessage => diagnose_json(bytes, options, each),
        InputKind::Kinesis => {
            let event = kinesis::parse(bytes).map_err(|e| DecodeError::Envelope {
                reason: format!("not a Kinesis event: {e}"),
                size: bytes.len(),
            })?;
            let mut all = Findings::default();
            for record in &event.records {
                let found =
                    ingest::inflate(&record.kinesis.data, options.config.max_inflated_bytes)
                        .map_err(InputError::from)
                        .and_then(|json| diagnose_json(&json, options, &mut *each));
                match found {
                    Ok(found) => all.merge(found),
                    Err(error) => all.failed_records.push(format!(
                        "record {}: {error}",
                        record.kinesis.sequence_number
                    )),
                }
            }
            Ok(all)
        }
        // Gzip data (a saved `awslogs.data`, a `.gz` export): no log line readable as it is; the CLI says how.
        InputKind::Text if bytes.starts_with(&[0x1f, 0x8b]) => Ok(Findings::default()),
        InputKind::Text => {
            let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotText)?;
            let origin = Origin {
                log_group: options.log_group.clone(),
                ..Origin::default()
            }
            .with_mapping(&options.config.access_log_apis);
            // What people and tools wrap around log lines comes off first (pasted text only).
            let pasted = paste::read(text);
            let events = parse_text(&pasted.text);
            // Requests cut before their end are held until the paste is known to diagnose something: one that
            // diagnoses nothing is read again for quoted sentences, whose findings replace them.
            let mut undiagnosed: Option<Vec<Finding>> = Some(Vec::new());
            let found = find_pasted_each(
                &origin,
                events.iter().map(|e| (None, e.message.as_ref())),
                options.all,
                &pasted.reported_statuses,
                |f| match undiagnosed.as_mut() {
                    Some(held) if f.cause == Cause::Incomplete => held.push(f),
                    Some(held) => {
                        held.drain(..).for_each(|f| each(Found::Finding(f)));
                        undiagnosed = None;
                        each(Found::Finding(f));
                    }
                    None => each(Found::Finding(f)),
                },
            );
            let diagnosed = found.by_cause.keys().any(|c| *c != Cause::Incomplete);
            if !diagnosed && let Some(mut quoted) = quoted_findings(&pasted.text, &origin, options)
            {
                std::mem::take(&mut quoted.findings)
                    .into_iter()
                    .for_each(|f| each(Found::Finding(f)));
                return Ok(quoted);
            }
            undiagnosed
                .unwrap_or_default()
                .into_iter()
                .for_each(|f| each(Found::Finding(f)));
            Ok(found)
        }
    }
}

/// A paste whose log lines give no diagnosis (none at all, or only requests cut before their end) is read once more
/// for the failure sentences it quotes inside other text: a 5xx the user can see is never refused. What that finds
/// is marked `quoted`, with the line it was found in. Never for deliveries: there a sentence that does not begin its
/// line is request data (a body, a header) and could be forged. `None` when no quoted sentence gives a problem.
fn quoted_findings(text: &str, origin: &Origin, options: &ReadOptions) -> Option<Findings> {
    let (sentences, line) = paste::quoted_sentences(text)?;
    let events = parse_text(&sentences);
    let mut quoted = find_pasted(
        origin,
        events.iter().map(|e| (None, e.message.as_ref())),
        options.all,
        &[],
    );
    if !quoted.findings.iter().any(Finding::is_problem) {
        return None;
    }
    let shown: String = redact(line.trim()).chars().take(300).collect();
    for finding in &mut quoted.findings {
        finding.confidence = Confidence::Quoted;
        finding.quoted_line = Some(shown.clone());
    }
    Some(quoted)
}

fn diagnose_json(
    json: &[u8],
    options: &ReadOptions,
    each: &mut dyn FnMut(Found<'_>),
) -> Result<Findings, InputError> {
    // The same path as the Lambda: messages stay escaped in the buffer.
    let batch = ingest::parse_raw_batch(json)?;
    if batch.is_control_message() {
        return Ok(Findings {
            control_messages: 1,
            ..Findings::default()
        });
    }
    let origin = Origin::new(&batch.owner, &batch.log_group, &batch.log_stream)
        .with_mapping(&options.config.access_log_apis);
    Ok(find_escaped_in_order(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.escaped())),
        options.all,
        |problem| each(Found::Problem(problem)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_tells_the_three_kinds_apart() {
        assert_eq!(detect(br#" {"awslogs":{"data":"x"}}"#), InputKind::Delivery);
        assert_eq!(
            detect(br#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#),
            InputKind::DataMessage
        );
        assert_eq!(
            detect(b"(a) Method completed with status: 500"),
            InputKind::Text
        );
        assert_eq!(
            detect(br#"{"status":"500","requestId":"x"}"#),
            InputKind::Text
        );
    }

    #[test]
    fn a_sentence_quoted_inside_prose_is_read_and_marked_quoted() {
        // A public pull request's description (ivanderbu2/serverless-newsletter-signup#1, 2017).
        let prose = "I tried out your example but I was getting 502 \"Internal service error\" back. \n\
                     Turns out it was from \"Execution failed due to configuration error: Malformed Lambda proxy response\"\n";
        let found = diagnose_input(prose.as_bytes(), &ReadOptions::default()).unwrap();
        let [finding] = found.findings.as_slice() else {
            panic!("{:?}", found.findings);
        };
        assert_eq!(finding.cause, Cause::MalformedProxyResponse);
        assert_eq!(finding.status, Some(502));
        assert!(finding.status_inferred);
        assert_eq!(finding.confidence, Confidence::Quoted);
        assert!(
            finding
                .quoted_line
                .as_deref()
                .unwrap()
                .starts_with("Turns out it was from"),
            "{finding:?}"
        );
        assert!(nothing_recognised_hint(b"# README\nHello, world.\n").starts_with("expected"));
    }

    #[test]
    fn two_sentences_joined_in_one_bullet_are_one_quoted_request() {
        let bullet = "- we see `Execution failed due to configuration error: Invalid permissions on Lambda function Method completed with status: 500` on every call\n";
        let found = diagnose_input(bullet.as_bytes(), &ReadOptions::default()).unwrap();
        let causes: Vec<(Cause, Option<u16>, bool)> = found
            .findings
            .iter()
            .map(|f| (f.cause, f.status, f.status_inferred))
            .collect();
        assert_eq!(
            causes,
            [(Cause::MissingInvokePermission, Some(500), false)],
            "{:?}",
            found.findings
        );
        assert_eq!(found.findings[0].confidence, Confidence::Quoted);
    }

    #[test]
    fn a_configuration_error_quoted_without_its_prefix_is_read_as_quoted() {
        // A public project's troubleshooting section (code index id 38423666122): the sentence's distinctive part,
        // in quotes, in a numbered bold item.
        let item = "1. **500 Internal Server Error - \"Invalid permissions on Lambda function\"**\n   \
                    - **Cause**: API Gateway doesn't have permission to invoke Lambda\n";
        let found = diagnose_input(item.as_bytes(), &ReadOptions::default()).unwrap();
        let [finding] = found.findings.as_slice() else {
            panic!("{:?}", found.findings);
        };
        assert_eq!(
            (finding.cause, finding.status, finding.confidence),
            (
                Cause::MissingInvokePermission,
                Some(500),
                Confidence::Quoted
            )
        );
        // A generic tail alone ("Authorizer error", "Rate Exceeded.") is too common in prose to count.
        let vague = "the docs say Authorizer error means the token was bad\n";
        assert!(
            diagnose_input(vague.as_bytes(), &ReadOptions::default())
                .unwrap()
                .findings
                .is_empty()
        );
    }

    #[test]
    fn a_logs_insights_table_without_a_message_column_is_read_as_quoted() {
        let table = "| @timestamp | requestId | msg |\n|---|---|---|\n\
                     | 2024-05-02 10:00:01.123 | 8f0e | Lambda execution failed with status 200 due to customer function error: Task timed out after 6.01 seconds. Lambda request id: 1f2e3d4c-0000-4000-8000-000000000001 |\n\
                     | 2024-05-02 10:00:01.124 | 8f0e | Method completed with status: 502 |\n";
        let found = diagnose_input(table.as_bytes(), &ReadOptions::default()).unwrap();
        let [finding] = found.findings.as_slice() else {
            panic!("{:?}", found.findings);
        };
        assert_eq!(
            (finding.cause, finding.status),
            (Cause::FunctionTimeout, Some(502))
        );
        assert_eq!(finding.confidence, Confidence::Quoted);
    }

    #[test]
    fn a_paste_with_a_real_log_line_never_falls_back_to_quoted_sentences() {
        // A body that quotes a failure sentence, in a request that ended 200: the anchored lines decide.
        let paste = "(a1) Starting execution for request: a1\n\
                     (a1) Method request body before transformations: {\"note\":\"Execution failed due to configuration error: Invalid permissions on Lambda function\"}\n\
                     (a1) Method completed with status: 200\n";
        let found = diagnose_input(paste.as_bytes(), &ReadOptions::default()).unwrap();
        assert!(found.findings.is_empty(), "{:?}", found.findings);
        assert_eq!(found.by_cause.get(&Cause::Ok), Some(&1));
    }

    #[test]
    fn an_input_with_no_api_gateway_line_is_told_apart_from_a_healthy_one() {
        let options = ReadOptions::default();
        let prose = diagnose_input(b"# README\nHello, world.\n", &options).unwrap();
        assert!(prose.recognised_nothing());
        let json = diagnose_input(br#"{"resource":"/","httpMethod":"GET"}"#, &options).unwrap();
        assert!(json.recognised_nothing());
        let healthy = diagnose_input(
            b"(a) Starting execution for request: a\n(a) Method completed with status: 200\n",
            &options,
        )
        .unwrap();
        assert!(!healthy.recognised_nothing());
        assert!(nothing_recognised_hint(&[0x1f, 0x8b, 8, 0]).contains("gunzip"));
        // The panel as AWS's own mock-integration guide prints it: a status, no log.
        let panel = b"**Request:** /\nStatus: 500\nLatency: 16 ms\n**Response Body**\n{\n\"statusCode\": 500\n}\n";
        assert!(
            diagnose_input(panel, &options)
                .unwrap()
                .recognised_nothing()
        );
        assert!(
            nothing_recognised_hint(panel).contains("TEST result (status 500) without its log")
        );
    }

    #[test]
    fn every_test_invoke_run_of_a_paste_is_read() {
        let paste = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/multi/two-test-invoke-runs-500-then-502.md"
        ))
        .unwrap();
        let found = diagnose_input(&paste, &ReadOptions::default()).unwrap();
        let read: Vec<(Cause, Option<u16>)> =
            found.findings.iter().map(|f| (f.cause, f.status)).collect();
        assert_eq!(
            read,
            [
                (Cause::MissingInvokePermission, Some(500)),
                (Cause::MalformedProxyResponse, Some(502))
            ]
        );
    }

    /// The hint for `bytes`, which must be recognised as nothing.
    fn hint_for_unrecognised(bytes: &[u8]) -> String {
        let found = diagnose_input(bytes, &ReadOptions::default()).unwrap();
        assert!(found.recognised_nothing(), "{found:?}");
        nothing_recognised_hint(bytes).into_owned()
    }

    #[test]
    fn lambdas_error_document_alone_is_named_not_diagnosed_as_a_log() {
        let paste = b"```\n{\n    \"Message\": \"Lambda was not able to create an ENI in the VPC of the Lambda function because the limit for Network Interfaces has been reached.\",\n    \"Type\": \"User\"\n}\n```\n";
        let hint = hint_for_unrecognised(paste);
        assert!(hint.contains("Lambda's own error document"), "{hint}");
        assert!(hint.contains("create an ENI"), "{hint}");
        assert!(
            !nothing_recognised_hint(br#"{"Message":"order 7 not found","Type":"User"}"#)
                .contains("Lambda's own")
        );
    }

    #[test]
    fn api_gateways_answer_to_the_client_is_named_and_the_log_asked_for() {
        // What a client gets from a REST API's integration timeout (status 504, this body; AWS knowledge center
        // "api-gateway-504-errors", DataBiosphere/azul#6284), pasted from curl inside a fence.
        let timeout = b"Our upload fails intermittently:\n\n```\n$ curl -i -X POST https://abc123.execute-api.us-east-1.amazonaws.com/prod/upload\nHTTP/2 504\ncontent-type: application/json\nx-amzn-errortype: InternalServerErrorException\n\n{\"message\": \"Endpoint request timed out\"}\n```\n";
        let hint = hint_for_unrecognised(timeout);
        assert!(hint.contains("integration timeout (504"), "{hint}");
        assert!(hint.contains("--api-id ID --stage STAGE"), "{hint}");
        // Escaped inside another JSON document (a test tool's report), and the 500/502 body.
        let escaped = br#"{"status":502,"body":"{\"message\":\"Internal server error\"}"}"#;
        assert!(nothing_recognised_hint(escaped).contains("most 500 and 502 failures"));
        // Another answer is not one of these.
        assert!(nothing_recognised_hint(br#"{"message":"Forbidden"}"#).starts_with("expected"));
    }

    #[test]
    fn a_broken_delivery_is_an_error_not_text() {
        let err =
            diagnose_input(br#"{"awslogs":{"data":"!!"}}"#, &ReadOptions::default()).unwrap_err();
        assert!(matches!(
            err,
            InputError::Decode(DecodeError::Base64 { .. })
        ));
    }
}
