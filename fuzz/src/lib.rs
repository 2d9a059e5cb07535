//! The properties the fuzz targets check, one function per entry point that takes untrusted input. The fuzz
//! targets (`fuzz_targets/`) feed them libFuzzer's inputs; `tests/core/properties.rs` includes this file and
//! feeds them generated inputs on every CI run, so both check the same thing.
//!
//! Each function panics when a property fails: that is how libFuzzer and proptest see a finding.

use apigw_doctor::diagnose::redact::is_bidi_control;
use apigw_doctor::ingest::{self, MAX_EVENTS_PER_DELIVERY, scan};
use apigw_doctor::input::{ReadOptions, diagnose_input};
use apigw_doctor::lambda::Handler;
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::publish::render::{MAX_MESSAGE_BYTES, Message};
use apigw_doctor::publish::sns::{PublishError, Publisher};
use apigw_doctor::remediate::Disabled;
use apigw_doctor::remediate::plan::{
    Decision, Facts, Mode, PolicyState, Source, decide, function_from_integration_uri, source_arn,
    wildcard_match,
};
use apigw_doctor::suppress::NoSuppression;

/// The inflate cap of these checks: small, so that a run stays fast (the real cap is tested on its own).
pub const MAX_INFLATED: usize = 1 << 20;

/// Any bytes as a subscription event: decoding never panics, and what it accepts is a batch within the caps.
pub fn decode(data: &[u8]) {
    if let Ok(json) = ingest::decode(data, MAX_INFLATED) {
        let batch =
            ingest::parse_raw_batch(&json).expect("decode accepted a batch it cannot parse");
        assert!(batch.log_events.len() <= MAX_EVENTS_PER_DELIVERY);
    }
    // The same bytes as the compressed payload and as the inflated JSON.
    if let Ok(json) = ingest::gunzip(data, MAX_INFLATED) {
        assert!(json.len() <= MAX_INFLATED);
    }
    let _ = ingest::parse_raw_batch(data);
}

/// The fast scanner reads exactly what serde_json reads: whatever it accepts, serde_json accepts with the same
/// fields, the same timestamps and the same messages (it may give up on anything: serde_json then reads it).
pub fn scanner_vs_serde(json: &[u8]) {
    let Some(fast) = scan::scan_batch(json) else {
        return;
    };
    let slow = ingest::parse_raw_batch_with_serde(json).unwrap_or_else(|e| {
        panic!(
            "the scanner accepted what serde_json rejects ({e}): {}",
            String::from_utf8_lossy(json)
        )
    });
    assert_eq!(fast.message_type, slow.message_type);
    assert_eq!(fast.owner, slow.owner);
    assert_eq!(fast.log_group, slow.log_group);
    assert_eq!(fast.log_stream, slow.log_stream);
    assert_eq!(fast.log_events.len(), slow.log_events.len());
    for (a, b) in fast.log_events.iter().zip(&slow.log_events) {
        assert_eq!(a.timestamp, b.timestamp);
        assert_eq!(
            ingest::unescape(a.message.escaped()),
            ingest::unescape(b.message.escaped())
        );
    }
}

/// Any text as the CLI reads it (a paste, a saved event, a file): no panic, the counts add up, only problems
/// are listed by default, and no evidence line carries a control character (tabs aside) or a bidirectional
/// override to a terminal or an email.
pub fn pasted_text(data: &[u8]) {
    for all in [false, true] {
        let options = ReadOptions {
            all,
            ..ReadOptions::default()
        };
        let Ok(found) = diagnose_input(data, &options) else {
            continue;
        };
        assert_eq!(found.by_cause.values().sum::<u64>(), found.requests);
        assert!(found.findings.len() as u64 <= found.requests);
        for finding in &found.findings {
            assert!(all || finding.is_problem());
            for line in finding.evidence.iter().chain(&finding.detail) {
                let unsafe_char = |c: char| c.is_control() && c != '\t' || is_bidi_control(c);
                assert!(
                    !line.chars().any(unsafe_char),
                    "control character in {line:?}"
                );
            }
        }
    }
}

/// Counts what the handler would publish and checks each message against SNS's limit.
#[derive(Default)]
struct Sizes {
    sent: std::sync::Mutex<usize>,
}

impl Publisher for Sizes {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        let size = message.structured().len() + message.subject.len();
        assert!(size <= MAX_MESSAGE_BYTES, "a message of {size} bytes");
        assert!(message.attributes.iter().all(|(_, v)| !v.is_empty()));
        let mut sent = self.sent.lock().unwrap();
        *sent += 1;
        Ok(sent.to_string())
    }
}

/// Any payload as the Lambda function receives it (a delivery, a Kinesis batch, anything): no panic, every
/// message fits SNS, and no more messages than `MAX_ALERTS_PER_INVOCATION` allows.
pub fn handler_payload(payload: &[u8]) {
    let config = Config {
        max_inflated_bytes: MAX_INFLATED,
        ..Config::default()
    };
    let publisher = Sizes::default();
    let handler = Handler::new(&config, &publisher, &Disabled, &NoSuppression);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut metrics = Metrics::default();
    let _ = runtime.block_on(handler.payload(payload, &mut metrics));
    let sent = *publisher.sent.lock().unwrap();
    assert!(sent <= config.max_alerts_per_invocation, "{sent} messages");
}

/// A Kinesis event whose records carry `parts`, each gzip + base64 as a CloudWatch Logs destination writes it.
pub fn kinesis_event(parts: &[&[u8]]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let data = ingest::envelope_data(&ingest::encode_json(part))
                .expect("encode_json writes an envelope")
                .into_owned();
            serde_json::json!({
                "kinesis": {"data": data, "sequenceNumber": i.to_string(), "partitionKey": "p"},
                "eventSource": "aws:kinesis",
                "eventID": format!("shardId-000000000000:{i}"),
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
        .to_string()
        .into_bytes()
}

const ACCOUNT: &str = "123456789012";
const API: &str = "a1b2c3d4e5";

/// The remediation planner on any integration URI, stage variables, policy document and route: whatever it
/// decides to add names a function of the API's own account that the allow-list admits, and a source ARN
/// inside this API.
pub fn remediation_plan(
    uri: &str,
    variables: &[(String, String)],
    policy: &str,
    pattern: &str,
    method: &str,
    path: &str,
) {
    let source = source_arn(
        "us-east-1",
        ACCOUNT,
        API,
        &Source::Route {
            method: method.to_owned(),
            resource_path: path.to_owned(),
        },
    );
    let base = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{API}/*/");
    assert!(source.starts_with(&base), "{source}");
    let Ok(function) = function_from_integration_uri(uri, variables) else {
        return;
    };
    let state = PolicyState::parse(policy, &source, ACCOUNT);
    let allowed = [pattern.to_owned()];
    let facts = Facts {
        mode: Mode::Auto,
        allowed_functions: &allowed,
        allowed_apis: &[],
        account: ACCOUNT,
        api_id: API,
        function: &function,
        credentials: None,
        source_arn: source.clone(),
        policy: &state,
    };
    match decide(&facts) {
        Decision::Apply { fix } | Decision::AlreadyApplied { fix } => {
            assert_eq!(function.account, ACCOUNT);
            assert!(wildcard_match(pattern, &function.name));
            assert_eq!(fix.source_arn, source);
            assert_eq!(fix.principal, "apigateway.amazonaws.com");
            assert_eq!(fix.action, "lambda:InvokeFunction");
            assert!(fix.statement_id.starts_with("apigw-doctor-"));
        }
        Decision::DryRun { .. } => panic!("auto mode planned a dry run"),
        Decision::Refuse { .. } => {}
    }
}
