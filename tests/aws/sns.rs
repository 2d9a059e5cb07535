//! The handler (the library the Lambda runs) publishing to SNS on moto, read back from SQS subscribers.

use apigw_doctor::ingest::{Batch, LogEvent, encode};
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{HandlerError, handle};
use apigw_doctor::publish::sns::SnsPublisher;
use apigw_doctor::remediate::Disabled;
use serde_json::Value;

use crate::support::{NEEDS_MOTO, Topic, event, sdk};

fn publisher(sdk: &aws_config::SdkConfig, topic: &str) -> SnsPublisher {
    SnsPublisher::new(aws_sdk_sns::Client::new(sdk), topic)
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn mixed_batch_publishes_one_alert_per_problem_with_subject_attributes_and_machine_json() {
    let _ = NEEDS_MOTO;
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let raw = topic.subscribe(&sdk, true, None).await;
    let envelope = topic.subscribe(&sdk, false, None).await;
    let mut metrics = Metrics::default();
    let outcome = handle(
        &event("mixed-batch"),
        &Config::default(),
        &publisher(&sdk, &topic.arn),
        &Disabled,
        &mut metrics,
    )
    .await
    .unwrap();
    assert_eq!(outcome.alerts_sent, 3);
    assert_eq!(metrics.alerts_sent, 3);

    let received = topic.drain(&raw).await;
    assert_eq!(received.len(), 3);
    let mut causes: Vec<String> = received
        .iter()
        .map(|(body, attributes)| {
            let alert = body_json(body);
            assert_eq!(alert["schema"], "apigw-doctor.alert/v1");
            assert_eq!(alert["cause"], attributes["cause"]);
            assert_eq!(alert["api_id"], "uwe3g5jm54");
            assert_eq!(alert["stage"], "Prod");
            assert_eq!(alert["count"], 1);
            assert_eq!(attributes["api_id"], "uwe3g5jm54");
            assert_eq!(attributes["remediation"], "none");
            alert["cause"].as_str().unwrap().to_owned()
        })
        .collect();
    causes.sort();
    assert_eq!(
        causes,
        [
            "function_timeout",
            "malformed_proxy_response",
            "missing_invoke_permission"
        ]
    );
    let permission = received
        .iter()
        .find(|(_, a)| a["cause"] == "missing_invoke_permission")
        .unwrap();
    assert_eq!(permission.1["status"], "500");
    assert_eq!(permission.1["severity"], "critical");
    let malformed = body_json(
        &received
            .iter()
            .find(|(_, a)| a["cause"] == "malformed_proxy_response")
            .unwrap()
            .0,
    );
    assert_eq!(
        malformed["detail"],
        "body is a JSON object, not a string (serialise it: JSON.stringify / json.dumps)"
    );
    assert_eq!(malformed["resource_path"], "/receipt");
    // Privacy: the failing response's body text never leaves in the alert.
    assert!(
        !received
            .iter()
            .any(|(b, _)| b.contains("Request failed with status code"))
    );

    // Without raw delivery SQS gets SNS's envelope: the subject and the `sqs` body as Message.
    let mut subjects: Vec<String> = topic
        .drain(&envelope)
        .await
        .iter()
        .map(|(body, _)| {
            let envelope = body_json(body);
            assert_eq!(envelope["Type"], "Notification");
            assert_eq!(
                body_json(envelope["Message"].as_str().unwrap())["schema"],
                "apigw-doctor.alert/v1"
            );
            envelope["Subject"].as_str().unwrap().to_owned()
        })
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[apigw-doctor] 500 missing_invoke_permission on uwe3g5jm54/Prod (1)",
            "[apigw-doctor] 502 function_timeout on uwe3g5jm54/Prod GET /echo (1)",
            "[apigw-doctor] 502 malformed_proxy_response on uwe3g5jm54/Prod POST /receipt (1)",
        ]
    );
}

/// The mixed sample (two 502s and a 500 on one API) handled and published to `topic`.
async fn handle_mixed_batch(sdk: &aws_config::SdkConfig, topic: &Topic) {
    handle(
        &event("mixed-batch"),
        &Config::default(),
        &publisher(sdk, &topic.arn),
        &Disabled,
        &mut Metrics::default(),
    )
    .await
    .unwrap();
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_filter_policy_on_the_cause_attribute_routes_only_that_cause() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let platform = topic
        .subscribe(
            &sdk,
            true,
            Some(r#"{"cause":["missing_invoke_permission"]}"#),
        )
        .await;
    handle_mixed_batch(&sdk, &topic).await;
    let received = topic.drain(&platform).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        body_json(&received[0].0)["cause"],
        "missing_invoke_permission"
    );
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_numeric_filter_policy_on_status_code_and_routing_by_account_work() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    // mixed-batch: two 502s and a 500; only the 502s pass a numeric filter on the Number attribute.
    let gateways = topic
        .subscribe(
            &sdk,
            true,
            Some(r#"{"status_code":[{"numeric":[">=",502]}],"account":["123456789012"]}"#),
        )
        .await;
    handle_mixed_batch(&sdk, &topic).await;
    let mut statuses: Vec<i64> = topic
        .drain(&gateways)
        .await
        .iter()
        .map(|(body, _)| body_json(body)["status"].as_i64().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [502, 502]);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn every_sample_event_yields_its_alerts_over_the_wire() {
    let cases: &[(&str, &[&str])] = &[
        // Two routes (POST /receipt, and one whose route was not logged): two problems.
        (
            "malformed-proxy-response",
            &["malformed_proxy_response", "malformed_proxy_response"],
        ),
        ("function-error", &["function_error"]),
        ("function-timeout", &["function_timeout"]),
        ("integration-timeout", &["integration_timeout"]),
        ("missing-invoke-permission", &["missing_invoke_permission"]),
        (
            "authorizer-missing-invoke-permission",
            &["authorizer_missing_invoke_permission"],
        ),
        ("authorizer-error", &["authorizer_error"]),
        ("lambda-throttled", &["lambda_throttled"]),
        ("lambda-throttled-2018", &["lambda_throttled"]),
        ("payload-too-large", &["payload_too_large"]),
        ("lambda-kms-error", &["lambda_kms_error"]),
        ("lambda-service-error", &["lambda_service_error"]),
        ("mapping-error", &["mapping_error"]),
        ("backend-error", &["backend_error"]),
        ("service-integration-error", &["service_integration_error"]),
        ("lambda-invoke-error", &["lambda_invoke_error"]),
        ("unknown-5xx", &["unknown_5xx"]),
        ("throttled", &[]),
        ("client-error", &[]),
        ("log-injection", &[]),
        ("control-message", &[]),
    ];
    let sdk = sdk().await;
    for (name, expected) in cases {
        let topic = Topic::create(&sdk).await;
        let queue = topic.subscribe(&sdk, true, None).await;
        handle(
            &event(name),
            &Config::default(),
            &publisher(&sdk, &topic.arn),
            &Disabled,
            &mut Metrics::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Vec<String> = topic
            .drain(&queue)
            .await
            .iter()
            .map(|(_, a)| a["cause"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, *expected, "{name}");
    }
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn ten_thousand_failing_lines_on_one_route_are_one_alert() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let messages: Vec<String> = (0..5_000)
        .flat_map(|i| {
            [
                format!("(req-{i}) Execution failed due to configuration error: Malformed Lambda proxy response"),
                format!("(req-{i}) Method completed with status: 502"),
            ]
        })
        .collect();
    let batch = Batch {
        message_type: "DATA_MESSAGE".into(),
        owner: "123456789012".into(),
        log_group: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
        log_stream: "0123456789abcdef0123456789abcdef".into(),
        subscription_filters: vec!["apigw-doctor".into()],
        log_events: messages
            .iter()
            .enumerate()
            .map(|(i, m)| LogEvent {
                id: i.to_string().into(),
                timestamp: 1_732_440_000_000 + i as i64,
                message: m.as_str().into(),
            })
            .collect(),
    };
    assert_eq!(batch.log_events.len(), 10_000);
    let outcome = handle(
        &encode(&batch).unwrap(),
        &Config::default(),
        &publisher(&sdk, &topic.arn),
        &Disabled,
        &mut Metrics::default(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.requests, 5_000);
    let received = topic.drain(&queue).await;
    assert_eq!(received.len(), 1);
    let alert = body_json(&received[0].0);
    assert_eq!(alert["count"], 5_000);
    assert_eq!(alert["sample_request_ids"].as_array().unwrap().len(), 5);
    assert_eq!(alert["first_seen"], 1_732_440_000_000_i64);
    assert_eq!(alert["last_seen"], 1_732_440_009_999_i64);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_missing_topic_fails_the_invocation_and_is_counted() {
    let sdk = sdk().await;
    let mut metrics = Metrics::default();
    let err = handle(
        &event("missing-invoke-permission"),
        &Config::default(),
        &publisher(&sdk, "arn:aws:sns:us-east-1:123456789012:no-such-topic"),
        &Disabled,
        &mut metrics,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            HandlerError::Publish {
                failed: 1,
                total: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no-such-topic"), "{err}");
    assert_eq!(metrics.publish_failures, 1);
    assert_eq!(metrics.alerts_sent, 0);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn an_undecodable_delivery_fails_the_invocation_publishes_nothing_and_is_counted() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let mut metrics = Metrics::default();
    let err = handle(
        &event("bad-payload"),
        &Config::default(),
        &publisher(&sdk, &topic.arn),
        &Disabled,
        &mut metrics,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "ApigwDoctor.DecodeError");
    assert_eq!(metrics.decode_failures, 1);
    assert!(topic.drain(&queue).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn an_sns_endpoint_that_never_answers_fails_the_publish_within_the_sdk_timeouts() {
    use apigw_doctor::lambda::aws::OPERATION_TIMEOUT;
    use apigw_doctor::publish::render::Message;
    use apigw_doctor::publish::sns::{PublishError, Publisher};
    // Accepts connections on loopback and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let _connections: Vec<_> = listener.incoming().take(8).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
    let sdk = sdk().await;
    let client = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build(),
    );
    let publisher = SnsPublisher::new(client, "arn:aws:sns:us-east-1:123456789012:dead");
    let (_, messages) = apigw_doctor::lambda::plan_messages(
        &apigw_doctor::ingest::parse_raw_batch(
            &apigw_doctor::ingest::decode(&event("function-timeout"), 1 << 26).unwrap(),
        )
        .unwrap(),
        &Config::default(),
    );
    let message: &Message = &messages[0];
    let started = std::time::Instant::now();
    let result = publisher.publish(message).await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(PublishError::Sns { .. })),
        "{result:?}"
    );
    assert!(
        took < OPERATION_TIMEOUT + std::time::Duration::from_secs(3),
        "took {took:?}"
    );
}
