//! `handle`: what the deployed function does with each payload, published to `ALERT_TOPIC_ARN` or printed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{Handler, Response};
use apigw_doctor::publish::render::Message;
use apigw_doctor::publish::sns::{PublishError, Publisher, SnsPublisher};
use apigw_doctor::remediate::{self, Remediator};
use apigw_doctor::suppress::dynamo::Configured;
use apigw_doctor::suppress::{NoSuppression, Suppressor};

use crate::{Format, config, plural, read, runtime};

/// Prints each message instead of publishing it.
struct StdoutPublisher {
    format: Format,
}

impl Publisher for StdoutPublisher {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        let mut out = std::io::stdout().lock();
        let written = match self.format {
            Format::Json => {
                let attributes: serde_json::Map<String, serde_json::Value> = message
                    .attributes
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                    .collect();
                let line = serde_json::json!({
                    "subject": message.subject,
                    "attributes": attributes,
                    "bodies": message.bodies,
                });
                writeln!(out, "{line}")
            }
            Format::Text => {
                let attributes: Vec<String> = message
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                writeln!(
                    out,
                    "Subject: {}\nAttributes: {}\n\n{}\n{}",
                    message.subject,
                    attributes.join(" "),
                    message.bodies.email(),
                    "-".repeat(72)
                )
            }
        };
        written
            .map(|()| "printed".to_owned())
            .map_err(|e| PublishError::Sns {
                topic_arn: "stdout".to_owned(),
                reason: e.to_string(),
            })
    }
}

pub fn handle(format: Format, events: Vec<PathBuf>) -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        match config.alert_topic_arn.clone() {
            Some(topic) => {
                let sdk = apigw_doctor::lambda::aws::sdk_config().await;
                let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic);
                let remediator = remediate::aws::live(config.remediation.clone(), &sdk);
                let suppressor = Configured::new(
                    config.suppression_table.as_deref(),
                    config.suppression,
                    &sdk,
                );
                let handler = Handler::new(&config, &publisher, &remediator, &suppressor);
                handle_all(&handler, &events).await
            }
            // No AWS: print the messages, and the remediation plan as far as it can be made offline.
            None => {
                let remediator = remediate::Offline {
                    settings: config.remediation.clone(),
                };
                let publisher = StdoutPublisher { format };
                let handler = Handler::new(&config, &publisher, &remediator, &NoSuppression);
                handle_all(&handler, &events).await
            }
        }
    })
}

async fn handle_all<P: Publisher, R: Remediator, S: Suppressor>(
    handler: &Handler<'_, P, R, S>,
    events: &[PathBuf],
) -> ExitCode {
    let mut failed = false;
    for path in events {
        let name = path.display();
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                failed = true;
                continue;
            }
        };
        let mut metrics = Metrics::default();
        match handler.payload(&bytes, &mut metrics).await {
            Ok(Response::Sweep(outcome)) => eprintln!(
                "apigw-doctor: {name}: sweep: {} resolved, {} digest{} sent",
                outcome.resolved_sent,
                outcome.digests_sent,
                plural(outcome.digests_sent)
            ),
            Ok(Response::Approval(outcome)) => {
                // What the function returns to the invoker (Chatbot shows it in the channel): the answer itself.
                match serde_json::to_string(&outcome) {
                    Ok(json) => println!("{json}"),
                    Err(error) => eprintln!("apigw-doctor: {name}: {error}"),
                }
                eprintln!(
                    "apigw-doctor: {name}: approval {}: {}",
                    outcome.approval, outcome.result.outcome
                );
            }
            Ok(Response::CustomResource(outcome)) => eprintln!(
                "apigw-doctor: {name}: custom resource {}: {}",
                outcome.request_type, outcome.status
            ),
            Ok(Response::Logs(outcome)) => eprintln!(
                "apigw-doctor: {name}: {} request{}, {} alert{} sent",
                outcome.requests,
                plural(outcome.requests),
                outcome.alerts_sent,
                plural(outcome.alerts_sent)
            ),
            Ok(Response::Kinesis(response)) => {
                let records = metrics.deliveries;
                eprintln!(
                    "apigw-doctor: {name}: {records} record{}, {} request{}, {} alert{} sent, {} batch item failure{}",
                    plural(records),
                    metrics.requests,
                    plural(metrics.requests),
                    metrics.alerts_sent,
                    plural(metrics.alerts_sent),
                    response.batch_item_failures.len(),
                    plural(response.batch_item_failures.len() as u64),
                );
                for item in &response.batch_item_failures {
                    eprintln!(
                        "apigw-doctor: {name}: batch item failure: {}",
                        item.item_identifier.as_deref().unwrap_or("?")
                    );
                    failed = true;
                }
            }
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
