//! The only place that knows the order of steps: decode → reassemble → classify → plan alerts → publish.
//! Shared by the Lambda (`bootstrap`) and `apigw-doctor handle`.

use std::collections::BTreeMap;

use aws_lambda_events::streams::KinesisEventResponse;
use serde::Serialize;
use tracing::Instrument;

use crate::alert::render::{Message, render, render_overflow};
use crate::alert::sns::{PublishError, Publisher};
use crate::alert::{Plan, plan_alerts};
use crate::config::Config;
use crate::decode::{self, DecodeError, RawBatch};
use crate::finding::{Findings, Origin, find_escaped};
use crate::kinesis::{self, PayloadKind};
use crate::metrics::Metrics;
use crate::remediate::{Remediator, Report};

/// What one invocation did: the Lambda's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub control_message: bool,
    pub events: u64,
    pub requests: u64,
    /// Requests per cause label.
    pub causes: BTreeMap<String, u64>,
    /// Access-log lines in a layout we do not read (CLF-like): switch the stage to a JSON format.
    #[serde(skip_serializing_if = "is_zero")]
    pub unread_access_log_lines: u64,
    pub alerts_sent: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The invocation fails so that Lambda's retries and the on-failure destination keep the delivery.
    #[error("undecodable delivery ({size} bytes): {source}")]
    Decode {
        size: usize,
        #[source]
        source: DecodeError,
    },
    /// Every alert was tried; the invocation fails so that a retry sends what did not go out.
    #[error("{failed} of {total} alerts could not be published: {first}")]
    Publish {
        failed: usize,
        total: usize,
        first: PublishError,
    },
}

impl HandlerError {
    /// The `errorType` Lambda records for a failed invocation (and the on-failure destination carries).
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Decode { .. } => "ApigwDoctor.DecodeError",
            HandlerError::Publish { .. } => "ApigwDoctor.PublishError",
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// What the function answers: the outcome of a subscription delivery, or the partial batch response of a
/// Kinesis batch (Lambda reads `batchItemFailures` and retries only those records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Logs(Outcome),
    Kinesis(KinesisEventResponse),
}

/// Handles any payload the function is sent: a subscription delivery or a Kinesis batch of them.
pub async fn handle_payload<P: Publisher, R: Remediator>(
    payload: &[u8],
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<Response, HandlerError> {
    match kinesis::payload_kind(payload) {
        PayloadKind::Kinesis => handle_kinesis(payload, config, publisher, remediator, metrics)
            .await
            .map(Response::Kinesis),
        // Anything else is read as a delivery, whose decoder names what is wrong with it.
        _ => handle(payload, config, publisher, remediator, metrics)
            .await
            .map(Response::Logs),
    }
}

/// Handles one raw subscription event (`{"awslogs":{"data":...}}`).
pub async fn handle<P: Publisher, R: Remediator>(
    event: &[u8],
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<Outcome, HandlerError> {
    metrics.deliveries += 1;
    match decode::envelope_data(event) {
        Ok(data) => handle_data(&data, event.len(), config, publisher, remediator, metrics).await,
        Err(source) => Err(decode_failure(event.len(), source, metrics)),
    }
}

/// Handles a Kinesis batch from a CloudWatch Logs destination: each record is one delivery from any account.
/// A record that cannot be decoded, or whose alerts could not all be published, is reported in
/// `batchItemFailures`; the others are done. Only an unreadable batch fails the whole invocation.
pub async fn handle_kinesis<P: Publisher, R: Remediator>(
    payload: &[u8],
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<KinesisEventResponse, HandlerError> {
    let event = match kinesis::parse(payload) {
        Ok(event) => event,
        Err(error) => {
            let source = DecodeError::Envelope {
                reason: format!("not a Kinesis event: {error}"),
                size: payload.len(),
            };
            return Err(decode_failure(payload.len(), source, metrics));
        }
    };
    let mut response = KinesisEventResponse::default();
    for record in &event.records {
        metrics.deliveries += 1;
        let data = &record.kinesis.data;
        let span = tracing::info_span!(
            "record",
            sequence_number = %record.kinesis.sequence_number,
            event_id = %record.event_id,
            stream = %record.event_source_arn,
        );
        let result = handle_data(data, data.len(), config, publisher, remediator, metrics)
            .instrument(span)
            .await;
        if let Err(error) = result {
            metrics.records_failed += 1;
            tracing::error!(
                sequence_number = %record.kinesis.sequence_number,
                stream = %record.event_source_arn,
                error_type = error.error_type(),
                %error,
                "Record reported as a batch item failure"
            );
            response.add_failure(record.kinesis.sequence_number.as_ref());
        }
    }
    Ok(response)
}

/// One delivery's `data` (base64 of gzip of the subscription JSON) → alerts published.
async fn handle_data<P: Publisher, R: Remediator>(
    data: &str,
    size: usize,
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<Outcome, HandlerError> {
    let batch_json = decode::inflate(data, config.max_inflated_bytes);
    let json = match batch_json {
        Ok(json) => json,
        Err(source) => return Err(decode_failure(size, source, metrics)),
    };
    let batch = match decode::parse_raw_batch(&json) {
        Ok(batch) => batch,
        Err(source) => return Err(decode_failure(size, source, metrics)),
    };
    if batch.is_control_message() {
        metrics.control_messages += 1;
        tracing::info!(log_group = %batch.log_group, "Control message received");
        return Ok(Outcome {
            control_message: true,
            ..Outcome::default()
        });
    }
    let (found, plan) = plan_batch(&batch, config);
    metrics.events += batch.log_events.len() as u64;
    metrics.requests += found.requests;
    metrics.add_causes(&found.by_cause);
    metrics.access_log_lines_unread += found.unread_access_log_lines;
    if found.unread_access_log_lines > 0 {
        tracing::warn!(
            log_group = %batch.log_group,
            lines = found.unread_access_log_lines,
            "Access-log lines in a CLF-like layout skipped: use a JSON access-log format"
        );
    }
    // Remediation failures are reported in the alert; they never fail the invocation.
    let mut budget = remediator.max_changes();
    let mut messages = Vec::with_capacity(plan.alerts.len() + 1);
    for alert in &plan.alerts {
        let report = remediator.remediate(alert, &mut budget).await;
        metrics.add_remediation(&report);
        messages.push(render(alert, &report));
    }
    messages.extend(render_overflow(&plan.overflow));
    let total = messages.len();
    let mut failures: Vec<PublishError> = Vec::new();
    for message in &messages {
        match publisher.publish(message).await {
            Ok(id) => {
                metrics.alerts_sent += 1;
                tracing::info!(message_id = %id, subject = %message.subject, "Alert published");
            }
            Err(error) => {
                metrics.publish_failures += 1;
                tracing::error!(%error, subject = %message.subject, "Alert not published");
                failures.push(error);
            }
        }
    }
    let outcome = Outcome {
        control_message: false,
        events: batch.log_events.len() as u64,
        requests: found.requests,
        causes: found
            .by_cause
            .iter()
            .map(|(c, n)| (c.as_str().to_owned(), *n))
            .collect(),
        unread_access_log_lines: found.unread_access_log_lines,
        alerts_sent: (total - failures.len()) as u64,
    };
    match failures.into_iter().next() {
        None => Ok(outcome),
        Some(first) => Err(HandlerError::Publish {
            failed: total - outcome.alerts_sent as usize,
            total,
            first,
        }),
    }
}

/// The pure part of an invocation: what a decoded batch says, and the alerts it calls for.
pub fn plan_batch(batch: &RawBatch<'_>, config: &Config) -> (Findings, Plan) {
    let origin =
        Origin::new(&batch.owner, &batch.log_group, &batch.log_stream).with_mapping(config);
    let found = find_escaped(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.escaped())),
        false,
    );
    let plan = plan_alerts(
        &found.findings,
        &config.region,
        config.sample_request_ids,
        config.max_alerts_per_invocation,
    );
    (found, plan)
}

/// The messages a batch calls for when nothing is remediated (snapshots, previews).
pub fn plan_messages(batch: &RawBatch<'_>, config: &Config) -> (Findings, Vec<Message>) {
    let (found, plan) = plan_batch(batch, config);
    let none = Report::none();
    let messages = plan
        .alerts
        .iter()
        .map(|alert| render(alert, &none))
        .chain(render_overflow(&plan.overflow))
        .collect();
    (found, messages)
}

fn decode_failure(size: usize, source: DecodeError, metrics: &mut Metrics) -> HandlerError {
    metrics.decode_failures += 1;
    // The payload itself is never logged: it is the customer's logs. Size and reason are what an operator needs
    // to find it in the on-failure destination.
    tracing::error!(size, kind = source.kind(), error = %source, "Delivery could not be decoded");
    HandlerError::Decode { size, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records what would have been published.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<Message>>,
        fail: bool,
    }

    impl Publisher for Recorder {
        async fn publish(&self, message: &Message) -> Result<String, PublishError> {
            if self.fail {
                return Err(PublishError::Sns {
                    topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
                    reason: "service unavailable".into(),
                });
            }
            let mut sent = self.sent.lock().unwrap();
            sent.push(message.clone());
            Ok(format!("m{}", sent.len()))
        }
    }

    fn event(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn run(
        event: &[u8],
        publisher: &Recorder,
        metrics: &mut Metrics,
    ) -> Result<Outcome, HandlerError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(handle(
            event,
            &Config::default(),
            publisher,
            &crate::remediate::Disabled,
            metrics,
        ))
    }

    #[test]
    fn mixed_batch_gives_one_alert_per_problem() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let outcome = run(&event("mixed-batch"), &recorder, &mut metrics).unwrap();
        assert_eq!(outcome.requests, 7);
        assert_eq!(outcome.alerts_sent, 3);
        assert_eq!(outcome.causes["ok"], 3);
        let subjects: Vec<String> = recorder
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.subject.clone())
            .collect();
        assert_eq!(
            subjects,
            [
                "[apigw-doctor] 502 malformed_proxy_response on uwe3g5jm54/Prod POST /receipt (1)",
                "[apigw-doctor] 502 function_timeout on uwe3g5jm54/Prod GET /echo (1)",
                "[apigw-doctor] 500 missing_invoke_permission on uwe3g5jm54/Prod (1)",
            ]
        );
        assert_eq!(metrics.alerts_sent, 3);
    }

    #[test]
    fn bad_payload_fails_the_invocation_and_is_counted() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let err = run(&event("bad-payload"), &recorder, &mut metrics).unwrap_err();
        assert!(matches!(err, HandlerError::Decode { .. }));
        assert_eq!(metrics.decode_failures, 1);
        assert!(recorder.sent.lock().unwrap().is_empty());
    }

    #[test]
    fn control_message_sends_nothing() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let outcome = run(&event("control-message"), &recorder, &mut metrics).unwrap();
        assert!(outcome.control_message);
        assert_eq!(metrics.control_messages, 1);
        assert!(recorder.sent.lock().unwrap().is_empty());
    }

    #[test]
    fn publish_failure_fails_the_invocation_after_trying_every_alert() {
        let recorder = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let mut metrics = Metrics::default();
        let err = run(&event("mixed-batch"), &recorder, &mut metrics).unwrap_err();
        assert!(
            matches!(
                err,
                HandlerError::Publish {
                    failed: 3,
                    total: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(metrics.publish_failures, 3);
    }
}
