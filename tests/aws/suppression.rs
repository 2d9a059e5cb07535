//! Noise control across invocations against DynamoDB, SNS and SQS on moto, with the clock in the test's hands:
//! first alert, suppression, digest, back-off, breakthrough on a new cause, resolved; two concurrent handlers on
//! one fingerprint send one alert; a missing table fails open; a message that could not be published is not
//! counted as sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{Handler, Response};
use apigw_doctor::publish::render::Message;
use apigw_doctor::publish::sns::{PublishError, Publisher, SnsPublisher};
use apigw_doctor::remediate::Disabled;
use apigw_doctor::suppress::Timing;
use apigw_doctor::suppress::dynamo::DynamoSuppressor;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::Value;

use crate::support::{Topic, event, sdk, unique};

const MIN: i64 = 60_000;
const T0: i64 = 1_764_000_000_000;

/// The table as template.yaml declares it.
pub async fn create_table(sdk: &aws_config::SdkConfig) -> String {
    let name = unique("suppression");
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("fingerprint")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("fingerprint")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    name
}

struct Rig {
    sdk: aws_config::SdkConfig,
    topic: Topic,
    queue: String,
    table: String,
    clock: Arc<AtomicI64>,
    config: Config,
}

impl Rig {
    async fn new() -> Rig {
        let sdk = sdk().await;
        let topic = Topic::create(&sdk).await;
        let queue = topic.subscribe(&sdk, true, None).await;
        let table = create_table(&sdk).await;
        Rig {
            sdk,
            topic,
            queue,
            table,
            clock: Arc::new(AtomicI64::new(T0)),
            config: Config {
                suppression: Timing {
                    window_ms: 5 * MIN,
                    max_window_ms: 20 * MIN,
                    quiet_ms: 15 * MIN,
                },
                ..Config::default()
            },
        }
    }

    fn suppressor(&self, table: &str) -> DynamoSuppressor {
        let clock = self.clock.clone();
        DynamoSuppressor::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            table,
            self.config.suppression,
            Arc::new(move || clock.load(Ordering::SeqCst)),
        )
    }

    fn at(&self, minutes: i64) {
        self.clock.store(T0 + minutes * MIN, Ordering::SeqCst);
    }

    /// `payload` (a sample delivery) as a new delivery at the current clock: its events moved in time, so that it
    /// is another occurrence of its problems, not Lambda's retry of the same delivery (which counts once).
    fn fresh(&self, payload: &[u8]) -> Vec<u8> {
        let shift = self.clock.load(Ordering::SeqCst) - T0;
        let json = apigw_doctor::ingest::decode(payload, 1 << 24).unwrap();
        let mut batch = apigw_doctor::ingest::parse_batch(&json).unwrap();
        for event in &mut batch.log_events {
            event.timestamp += shift;
        }
        apigw_doctor::ingest::encode(&batch).unwrap()
    }

    /// Handles `payload` at the current clock and returns what SQS received: (notice, cause, machine JSON).
    async fn run(
        &self,
        payload: &[u8],
        metrics: &mut Metrics,
        topic_arn: &str,
    ) -> Vec<(String, String, Value)> {
        let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&self.sdk), topic_arn);
        let suppressor = self.suppressor(&self.table);
        let handler = Handler::new(&self.config, &publisher, &Disabled, &suppressor);
        let _ = handler.payload(payload, metrics).await;
        self.received().await
    }

    async fn received(&self) -> Vec<(String, String, Value)> {
        let mut got: Vec<(String, String, Value)> = self
            .topic
            .drain(&self.queue)
            .await
            .into_iter()
            .map(|(body, attributes)| {
                (
                    attributes
                        .get("notice")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    attributes["cause"].as_str().unwrap().to_owned(),
                    serde_json::from_str(&body).unwrap(),
                )
            })
            .collect();
        got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        got
    }
}

fn kinds(got: &[(String, String, Value)]) -> Vec<(&str, &str)> {
    got.iter()
        .map(|(n, c, _)| (n.as_str(), c.as_str()))
        .collect()
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn first_alert_then_suppression_digests_with_back_off_breakthrough_and_resolved() {
    let rig = Rig::new().await;
    let timeout = event("function-timeout");
    let arn = rig.topic.arn.clone();
    let mut metrics = Metrics::default();

    // First occurrence: at once.
    rig.at(0);
    let got = rig.run(&rig.fresh(&timeout), &mut metrics, &arn).await;
    assert_eq!(kinds(&got), [("first", "function_timeout")]);
    let fingerprint = got[0].2["fingerprint"].as_str().unwrap().to_owned();

    // Repeats inside the 5-minute window: counted, not sent.
    for minute in [1, 2] {
        rig.at(minute);
        assert!(
            rig.run(&rig.fresh(&timeout), &mut metrics, &arn)
                .await
                .is_empty()
        );
    }
    assert_eq!(metrics.alerts_suppressed, 2);

    // The window ends while the problem persists: one digest with everything since the first alert.
    rig.at(5);
    let got = rig.run(&rig.fresh(&timeout), &mut metrics, &arn).await;
    assert_eq!(kinds(&got), [("digest", "function_timeout")]);
    let digest = &got[0].2;
    assert_eq!(digest["notice"]["kind"], "digest");
    assert_eq!(digest["notice"]["count"], 3, "two suppressed + this one");
    assert_eq!(digest["notice"]["since"], T0);
    assert_eq!(digest["count"], 3);
    assert_eq!(digest["fingerprint"], fingerprint.as_str());

    // Back-off: the next window is 10 minutes, so minute 10 is suppressed and minute 15 is the next digest.
    rig.at(10);
    assert!(
        rig.run(&rig.fresh(&timeout), &mut metrics, &arn)
            .await
            .is_empty()
    );
    rig.at(15);
    let got = rig.run(&rig.fresh(&timeout), &mut metrics, &arn).await;
    assert_eq!(kinds(&got), [("digest", "function_timeout")]);
    assert_eq!(got[0].2["notice"]["count"], 2);

    // A new cause on the same API breaks through at once; the persisting timeout stays suppressed.
    rig.at(16);
    let got = rig
        .run(&rig.fresh(&event("mixed-batch")), &mut metrics, &arn)
        .await;
    assert_eq!(
        kinds(&got),
        [
            ("first", "malformed_proxy_response"),
            ("first", "missing_invoke_permission")
        ]
    );

    // Quiet: the sweep before the quiet period sends nothing; after it, one resolved message per problem.
    let sweep = br#"{"apigw-doctor":"sweep"}"#;
    rig.at(30);
    assert!(rig.run(sweep, &mut metrics, &arn).await.is_empty());
    rig.at(31);
    let got = rig.run(sweep, &mut metrics, &arn).await;
    assert_eq!(
        kinds(&got),
        [
            ("resolved", "function_timeout"),
            ("resolved", "malformed_proxy_response"),
            ("resolved", "missing_invoke_permission")
        ]
    );
    let resolved = &got[0].2;
    assert_eq!(resolved["schema"], "apigw-doctor.notice/v1");
    assert_eq!(resolved["fingerprint"], fingerprint.as_str(), "same thread");
    assert_eq!(
        resolved["notice"]["total"], 7,
        "1 + 2 + 1 + 1 + 1 + 1 requests"
    );
    // Resolved once only; the next occurrence is a new first alert.
    rig.at(40);
    assert!(rig.run(sweep, &mut metrics, &arn).await.is_empty());
    rig.at(41);
    let got = rig.run(&rig.fresh(&timeout), &mut metrics, &arn).await;
    assert_eq!(kinds(&got), [("first", "function_timeout")]);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn the_sweep_sends_the_digest_of_a_window_no_delivery_closed() {
    let rig = Rig::new().await;
    let timeout = event("function-timeout");
    let arn = rig.topic.arn.clone();
    let mut metrics = Metrics::default();
    rig.at(0);
    assert_eq!(
        rig.run(&rig.fresh(&timeout), &mut metrics, &arn)
            .await
            .len(),
        1
    );
    rig.at(2);
    assert!(
        rig.run(&rig.fresh(&timeout), &mut metrics, &arn)
            .await
            .is_empty()
    );
    rig.at(6);
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &arn);
    let suppressor = rig.suppressor(&rig.table);
    let handler = Handler::new(&rig.config, &publisher, &Disabled, &suppressor);
    let response = handler
        .payload(br#"{"apigw-doctor":"sweep"}"#, &mut metrics)
        .await
        .unwrap();
    let Response::Sweep(outcome) = response else {
        panic!("a sweep answers with its outcome");
    };
    assert_eq!((outcome.digests_sent, outcome.resolved_sent), (1, 0));
    let got = rig.received().await;
    assert_eq!(kinds(&got), [("digest", "function_timeout")]);
    assert_eq!(got[0].2["notice"]["count"], 1);
}

/// SNS that hangs from its `hang_from`-th message on, as an endpoint that stops answering does.
struct HangingPublisher {
    inner: SnsPublisher,
    sent: std::sync::atomic::AtomicUsize,
    hang_from: usize,
}

impl Publisher for HangingPublisher {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        if self.sent.fetch_add(1, Ordering::SeqCst) + 1 >= self.hang_from {
            std::future::pending::<()>().await;
        }
        self.inner.publish(message).await
    }
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_sweep_killed_mid_way_loses_nothing_the_next_sweep_sends_the_rest() {
    let rig = Rig::new().await;
    let arn = rig.topic.arn.clone();
    let mut metrics = Metrics::default();
    // Two problems, each alerted, then suppressed once: two digests are due when their windows end.
    for minute in [0, 2] {
        rig.at(minute);
        for name in ["function-timeout", "missing-invoke-permission"] {
            rig.run(&rig.fresh(&event(name)), &mut metrics, &arn).await;
        }
    }
    rig.at(6);
    let suppressor = rig.suppressor(&rig.table);
    let hanging = HangingPublisher {
        inner: SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &arn),
        sent: Default::default(),
        hang_from: 2,
    };
    let handler = Handler::new(&rig.config, &hanging, &Disabled, &suppressor);
    let killed = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        handler.payload(br#"{"apigw-doctor":"sweep"}"#, &mut metrics),
    )
    .await;
    assert!(killed.is_err(), "the sweep hangs on its second message");
    assert_eq!(rig.received().await.len(), 1, "the first digest went out");
    // The Lambda was killed; the next sweep sends what did not go out.
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &arn);
    let handler = Handler::new(&rig.config, &publisher, &Disabled, &suppressor);
    handler
        .payload(br#"{"apigw-doctor":"sweep"}"#, &mut metrics)
        .await
        .unwrap();
    let got = rig.received().await;
    assert_eq!(got.len(), 1, "{:?}", kinds(&got));
    assert_eq!(got[0].0, "digest");
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn two_concurrent_handlers_on_one_fingerprint_send_one_alert() {
    let rig = Rig::new().await;
    let payload = event("missing-invoke-permission");
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &rig.topic.arn);
    let (one, two) = (rig.suppressor(&rig.table), rig.suppressor(&rig.table));
    let first = Handler::new(&rig.config, &publisher, &Disabled, &one);
    let second = Handler::new(&rig.config, &publisher, &Disabled, &two);
    let (mut m1, mut m2) = (Metrics::default(), Metrics::default());
    let (r1, r2) = tokio::join!(
        first.payload(&payload, &mut m1),
        second.payload(&payload, &mut m2)
    );
    r1.unwrap();
    r2.unwrap();
    assert_eq!(m1.alerts_sent + m2.alerts_sent, 1);
    assert_eq!(m1.alerts_suppressed + m2.alerts_suppressed, 1);
    assert_eq!(m1.suppression_errors + m2.suppression_errors, 0);
    let got = rig.received().await;
    assert_eq!(kinds(&got), [("first", "missing_invoke_permission")]);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_missing_table_fails_open_and_the_alerts_still_go_out() {
    let rig = Rig::new().await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &rig.topic.arn);
    let suppressor = rig.suppressor("no-such-table");
    let handler = Handler::new(&rig.config, &publisher, &Disabled, &suppressor);
    let mut metrics = Metrics::default();
    for _ in 0..2 {
        handler
            .payload(&event("mixed-batch"), &mut metrics)
            .await
            .unwrap();
    }
    assert_eq!(metrics.alerts_sent, 6, "every alert, both times");
    assert_eq!(metrics.suppression_errors, 6);
    let got = rig.received().await;
    assert_eq!(got.len(), 6);
    // Marked, so that a pager subscribed to `{"notice": ["first", "breakthrough"]}` still receives them.
    assert!(
        got.iter().all(|(notice, _, body)| notice == "breakthrough"
            && body["notice"]["reason"] == "noise control unavailable: sent without suppression"),
        "{got:?}"
    );
    // The sweep cannot fail open: it fails, and the schedule retries it.
    let err = handler
        .payload(br#"{"apigw-doctor":"sweep"}"#, &mut metrics)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ApigwDoctor.SuppressionError");
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn an_alert_that_could_not_be_published_is_not_remembered_as_sent() {
    let rig = Rig::new().await;
    let payload = event("missing-invoke-permission");
    let mut metrics = Metrics::default();
    rig.at(0);
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    assert!(rig.run(&payload, &mut metrics, missing).await.is_empty());
    assert_eq!(metrics.publish_failures, 1);
    let items = aws_sdk_dynamodb::Client::new(&rig.sdk)
        .scan()
        .table_name(&rig.table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert!(items.is_empty(), "the state was taken back: {items:?}");
    // The retry (Lambda's) alerts at once, as the first occurrence.
    rig.at(1);
    let got = rig.run(&payload, &mut metrics, &rig.topic.arn).await;
    assert_eq!(kinds(&got), [("first", "missing_invoke_permission")]);
}

/// A delivery with one failing request on each of `routes`: as many distinct problems.
fn distinct_routes(routes: &[&str], start: i64) -> Vec<u8> {
    let messages: Vec<String> = routes
        .iter()
        .enumerate()
        .flat_map(|(i, route)| {
            let id = format!("({i:08x}-5b1e-4c6e-9a2f-0a1b2c3d4e5f)");
            [
                format!("{id} HTTP Method: GET, Resource Path: {route}"),
                format!(
                    "{id} Execution failed due to configuration error: Malformed Lambda proxy response"
                ),
                format!("{id} Method completed with status: 502"),
            ]
        })
        .collect();
    crate::support::delivery(
        "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
        &messages,
        start,
    )
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn overflow_problems_pass_noise_control_like_any_alert() {
    let mut rig = Rig::new().await;
    rig.config.max_alerts_per_invocation = 2;
    let payload = distinct_routes(&["/a", "/b", "/c", "/d"], T0);
    let mut metrics = Metrics::default();
    let stored = async |rig: &Rig| {
        aws_sdk_dynamodb::Client::new(&rig.sdk)
            .scan()
            .table_name(&rig.table)
            .send()
            .await
            .unwrap()
            .count()
    };
    // Publishing fails: neither the alert nor the three overflow problems are remembered as sent.
    rig.at(0);
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    assert!(rig.run(&payload, &mut metrics, missing).await.is_empty());
    assert_eq!(stored(&rig).await, 0);
    // The retry: one alert and one overflow message listing the other three, both first occurrences.
    rig.at(1);
    let got = rig.run(&payload, &mut metrics, &rig.topic.arn).await;
    assert_eq!(
        kinds(&got),
        [("first", "malformed_proxy_response"), ("first", "multiple")]
    );
    let overflow = &got[1].2;
    assert_eq!(overflow["problems"], 3);
    assert_eq!(stored(&rig).await, 4);
    // Inside the window the same four problems are suppressed, the overflow's as well: nothing goes out.
    rig.at(2);
    metrics = Metrics::default();
    assert!(
        rig.run(&rig.fresh(&payload), &mut metrics, &rig.topic.arn)
            .await
            .is_empty()
    );
    assert_eq!(metrics.alerts_suppressed, 4);
    // A new problem among them is a first occurrence again: the overflow lists only it.
    rig.at(3);
    let got = rig
        .run(
            &distinct_routes(&["/a", "/b", "/c", "/d", "/new"], T0),
            &mut metrics,
            &rig.topic.arn,
        )
        .await;
    assert_eq!(kinds(&got), [("first", "multiple")]);
    assert_eq!(got[0].2["problems"], 1);
    assert_eq!(got[0].2["alerts"][0]["resource_path"], "/new");
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_retried_delivery_is_not_counted_twice_in_the_digest() {
    let rig = Rig::new().await;
    let mut metrics = Metrics::default();
    let delivery = |minute: i64| distinct_routes(&["/a", "/a", "/a"], T0 + minute * MIN);
    rig.at(0);
    let got = rig.run(&delivery(0), &mut metrics, &rig.topic.arn).await;
    assert_eq!(kinds(&got), [("first", "malformed_proxy_response")]);
    // Three more requests, then Lambda retries that delivery twice (its invocation failed on another message).
    for minute in [1, 2, 3] {
        rig.at(minute);
        assert!(
            rig.run(&delivery(1), &mut metrics, &rig.topic.arn)
                .await
                .is_empty()
        );
    }
    // The window ends with a new delivery: the digest counts 3 + 3, not 3 + 9.
    rig.at(6);
    let got = rig.run(&delivery(6), &mut metrics, &rig.topic.arn).await;
    assert_eq!(kinds(&got), [("digest", "malformed_proxy_response")]);
    assert_eq!(got[0].2["notice"]["count"], 6, "{}", got[0].2);
}

/// A TCP proxy on loopback in front of `upstream` that holds every chunk a client sends for `delay` before passing
/// it on: a table that answers, slowly (a throttled or distant DynamoDB).
async fn slow_proxy(upstream: &str, delay: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let forward = async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        tokio::time::sleep(delay).await;
                        if server_write.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let back = async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                };
                tokio::join!(forward, back);
            });
        }
    });
    format!("http://{address}")
}

/// One delivery of `n` failing requests, each on its own route: `n` distinct problems.
fn distinct_problems(n: usize) -> Vec<u8> {
    let mut messages = Vec::new();
    for i in 0..n {
        let id = format!("{i:08x}-aaaa-4bbb-8ccc-000000000000");
        messages.push(format!("({id}) HTTP Method: POST, Resource Path: /r{i}"));
        messages.push(format!(
            "({id}) Execution failed due to configuration error: Invalid permissions on Lambda function"
        ));
        messages.push(format!("({id}) Method completed with status: 500"));
    }
    crate::support::delivery("API-Gateway-Execution-Logs_a1b2c3d4e5/prod", &messages, T0)
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_slow_table_at_the_deadline_loses_no_alert_and_the_retry_sends_the_rest() {
    let rig = Rig::new().await;
    let endpoint = slow_proxy(
        &crate::support::moto_endpoint(),
        std::time::Duration::from_millis(150),
    )
    .await;
    let slow = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&rig.sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let clock = rig.clock.clone();
    let suppressor = DynamoSuppressor::new(
        slow,
        &rig.table,
        rig.config.suppression,
        Arc::new(move || clock.load(Ordering::SeqCst)),
    );
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&rig.sdk), &rig.topic.arn);
    let payload = distinct_problems(30);
    let mut handler = Handler::new(&rig.config, &publisher, &Disabled, &suppressor);
    // Two seconds of work before the margin and the step's reserve: a few of the 20 alerts, at ~300 ms each.
    handler.deadline = Some(
        std::time::Instant::now()
            + apigw_doctor::lambda::DEADLINE_MARGIN
            + apigw_doctor::lambda::STEP_RESERVE
            + std::time::Duration::from_secs(2),
    );
    let mut metrics = Metrics::default();
    let error = handler.payload(&payload, &mut metrics).await.unwrap_err();
    assert_eq!(error.error_type(), "ApigwDoctor.DeadlineError", "{error}");
    let first = rig.received().await;
    assert!(
        (1..20).contains(&first.len()),
        "some alerts, not all: {}",
        first.len()
    );
    // Every state the table holds is an alert SQS received: nothing recorded as alerted and never sent.
    let items = aws_sdk_dynamodb::Client::new(&rig.sdk)
        .scan()
        .table_name(&rig.table)
        .send()
        .await
        .unwrap()
        .count;
    assert_eq!(items as usize, first.len());

    // Lambda's retry of the same delivery, with time: the rest, and nothing twice.
    let handler = Handler::new(&rig.config, &publisher, &Disabled, &suppressor);
    let mut metrics = Metrics::default();
    handler.payload(&payload, &mut metrics).await.unwrap();
    let second = rig.received().await;
    let routes = |got: &[(String, String, Value)]| -> Vec<String> {
        got.iter()
            .filter_map(|(_, _, json)| json["resource_path"].as_str().map(str::to_owned))
            .collect()
    };
    let mut all = routes(&first);
    all.extend(routes(&second));
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "an alert sent twice: {all:?}");
    // MAX_ALERTS_PER_INVOCATION messages: 19 alerts of their own and one overflow message for the other 11.
    assert_eq!(count, rig.config.max_alerts_per_invocation - 1, "{all:?}");
    assert_eq!(first.len() + second.len(), count + 1);
}
