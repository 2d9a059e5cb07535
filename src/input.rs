//! What the CLI accepts, detected per input: a subscription delivery, a decoded `DATA_MESSAGE`, or pasted text.

use crate::diagnose::finding::{Findings, Origin, find_escaped, find_pasted};
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
    } else {
        "expected a CloudWatch Logs subscription delivery, its decoded DATA_MESSAGE JSON, a Kinesis event, \
         execution-log lines such as \"(request-id) Method completed with status: 502\", or access-log JSON records"
            .into()
    }
}

/// The message of a paste that is Lambda's error document and nothing else, inside the usual paste wrappers.
fn lambda_error_document(text: &str) -> Option<String> {
    crate::diagnose::shape::lambda_error_message(&paste::normalise(text))
}

/// Diagnoses one input of any kind.
pub fn diagnose_input(bytes: &[u8], options: &ReadOptions) -> Result<Findings, InputError> {
    match detect(bytes) {
        InputKind::Delivery => {
            // `diagnose_json` reads the JSON and reports what does not parse: `ingest::decode` would read it twice.
            let data = ingest::envelope_data(bytes)?;
            let json = ingest::inflate(&data, options.config.max_inflated_bytes)?;
            diagnose_json(&json, options)
        }
        InputKind::DataMessage => diagnose_json(bytes, options),
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
                        .and_then(|json| diagnose_json(&json, options));
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
            Ok(find_pasted(
                &origin,
                events.iter().map(|e| (None, e.message.as_str())),
                options.all,
                &pasted.reported_statuses,
            ))
        }
    }
}

fn diagnose_json(json: &[u8], options: &ReadOptions) -> Result<Findings, InputError> {
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
    Ok(find_escaped(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.escaped())),
        options.all,
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
    fn a_sentence_quoted_inside_prose_gets_a_hint_of_its_own() {
        // A public pull request's description (ivanderbu2/serverless-newsletter-signup#1, 2017).
        let prose = "I tried out your example but I was getting 502 \"Internal service error\" back. \n\
                     Turns out it was from \"Execution failed due to configuration error: Malformed Lambda proxy response\"\n";
        let options = ReadOptions::default();
        assert!(
            diagnose_input(prose.as_bytes(), &options)
                .unwrap()
                .recognised_nothing()
        );
        let hint = nothing_recognised_hint(prose.as_bytes());
        assert!(
            hint.contains(
                "\"Execution failed due to configuration error: Malformed Lambda proxy response\""
            ) && hint.contains("only a line that begins with it counts"),
            "{hint}"
        );
        assert!(nothing_recognised_hint(b"# README\nHello, world.\n").starts_with("expected"));
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
    fn lambdas_error_document_alone_is_named_not_diagnosed_as_a_log() {
        let paste = b"```\n{\n    \"Message\": \"Lambda was not able to create an ENI in the VPC of the Lambda function because the limit for Network Interfaces has been reached.\",\n    \"Type\": \"User\"\n}\n```\n";
        assert!(
            diagnose_input(paste, &ReadOptions::default())
                .unwrap()
                .recognised_nothing()
        );
        let hint = nothing_recognised_hint(paste);
        assert!(hint.contains("Lambda's own error document"), "{hint}");
        assert!(hint.contains("create an ENI"), "{hint}");
        assert!(
            !nothing_recognised_hint(br#"{"Message":"order 7 not found","Type":"User"}"#)
                .contains("Lambda's own")
        );
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
