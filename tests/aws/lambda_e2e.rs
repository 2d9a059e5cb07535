//! The compiled `bootstrap` binary, driven through the Lambda Runtime API by cargo-lambda's emulator
//! (`cargo lambda watch --only-lambda-apis`), publishing to SNS on moto: proves the binary, not only the library.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Topic, event, moto_endpoint, repo_path, sdk};

/// Kills the process when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn cargo_lambda() -> PathBuf {
    std::env::var_os("CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path(".venv/bin/cargo-lambda"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the runtime emulator did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// POSTs `body` and returns (status, response body). Plain HTTP/1.1 on loopback.
pub fn post(port: u16, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// cargo-lambda's Runtime API emulator on a free loopback port, ready.
pub fn emulator() -> (u16, Running) {
    let port = free_port();
    let running = Running(
        Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(repo_path(""))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo-lambda is installed by scripts/test.sh into .venv"),
    );
    wait_for_port(port);
    (port, running)
}

pub fn bootstrap(port: u16, topic_arn: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apigw-doctor-lambda"));
    command
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env_remove("ALERT_TOPIC_ARN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(arn) = topic_arn {
        command.env("ALERT_TOPIC_ARN", arn);
    }
    command
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn bootstrap_binary_handles_events_through_the_runtime_api() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;

    let (port, _emulator) = emulator();
    let _function = Running(bootstrap(port, Some(&topic.arn)).spawn().unwrap());

    let invoke = "/2015-03-31/functions/_/invocations";
    let (status, body) = post(port, invoke, &event("mixed-batch"));
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["alerts_sent"], 3, "{body}");
    assert_eq!(outcome["requests"], 7);
    assert_eq!(outcome["causes"]["ok"], 3);

    let mut causes: Vec<String> = topic
        .drain(&queue)
        .await
        .iter()
        .map(|(body, attributes)| {
            let alert: Value = serde_json::from_str(body).unwrap();
            assert_eq!(alert["cause"], attributes["cause"]);
            attributes["cause"].as_str().unwrap().to_owned()
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

    // A Kinesis batch from the fan-in stream: the partial batch response names exactly the corrupt record.
    let (status, body) = post(port, invoke, &event("kinesis-fan-in"));
    assert_eq!(status, 200, "{body}");
    let response: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        response,
        serde_json::json!({"batchItemFailures": [
            {"itemIdentifier": "495903338346157801823176654302000000000000000000000000000002"}
        ]})
    );
    assert_eq!(topic.drain(&queue).await.len(), 5);

    // The scheduled sweep's payload is understood (without SUPPRESSION_TABLE there is nothing to close).
    let (status, body) = post(port, invoke, br#"{"apigw-doctor":"sweep"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        serde_json::json!({"sweep": true, "resolved_sent": 0, "digests_sent": 0})
    );

    // A delivery that cannot be decoded fails the invocation with a typed error, and nothing is published.
    let (_, body) = post(port, invoke, &event("bad-payload"));
    let error: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(error["errorType"], "ApigwDoctor.DecodeError", "{body}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not valid gzip")
    );
    assert!(topic.drain(&queue).await.is_empty());

    // The function keeps serving after a failed invocation.
    let (status, body) = post(port, invoke, &event("control-message"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["control_message"],
        true
    );
}

#[test]
#[ignore = "needs moto's server: run scripts/test.sh"]
fn bootstrap_fails_init_naming_the_missing_variable() {
    // Nothing listens on this port: init must fail before the runtime is ever contacted.
    let output = bootstrap(free_port(), None).output().unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("ALERT_TOPIC_ARN is required"), "{all}");
}

/// A delivery from `API-Gateway-Execution-Logs_a1b2c3d4e5/prod` of one failing request per `(method, path,
/// path parameters)`, in the lines a real execution log writes (the concrete path, not the template).
fn concrete_delivery(requests: &[(String, String)]) -> Vec<u8> {
    let messages: Vec<String> = requests
        .iter()
        .enumerate()
        .flat_map(|(i, (path, parameters))| {
            let id = format!("({i:08x}-7c1d-4e8a-9b2f-3d4c5b6a7980)");
            [
                format!("{id} Extended Request Id: Kx{i:06}FiAMEF=="),
                format!("{id} Verifying Usage Plan for request: {i:08x}. API Key:  API Stage: a1b2c3d4e5/prod"),
                format!("{id} Starting execution for request: {i:08x}-7c1d-4e8a-9b2f-3d4c5b6a7980"),
                format!("{id} HTTP Method: GET, Resource Path: {path}"),
                format!("{id} Method request path: {parameters}"),
                format!("{id} Execution failed due to configuration error: Malformed Lambda proxy response"),
                format!("{id} Method completed with status: 502"),
            ]
        })
        .collect();
    crate::support::delivery(
        "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
        &messages,
        1_764_000_000_000,
    )
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn bootstrap_alerts_once_per_route_template_and_its_overflow_fits_sns() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (port, _emulator) = emulator();
    let _function = Running(bootstrap(port, Some(&topic.arn)).spawn().unwrap());
    let invoke = "/2015-03-31/functions/_/invocations";

    // Fifty orders, one route: one alert, on the template, with no order id anywhere in it.
    let orders: Vec<(String, String)> = (0..50)
        .map(|n| {
            (
                format!("/orders/{}", 90_210 + n),
                format!("{{id={}}}", 90_210 + n),
            )
        })
        .collect();
    let (status, body) = post(port, invoke, &concrete_delivery(&orders));
    assert_eq!(status, 200, "{body}");
    let got = topic.drain(&queue).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let alert: Value = serde_json::from_str(&got[0].0).unwrap();
    assert_eq!(alert["resource_path"], "/orders/{id}");
    assert_eq!(alert["count"], 50);
    assert!(!got[0].0.contains("90210"), "{}", got[0].0);

    // 400 distinct routes with long multi-byte paths: 19 alerts and one overflow message, which SNS accepts
    // (moto refuses a message over 256 KB as SNS does) and which counts the other 381.
    let routes: Vec<(String, String)> = (0..400)
        .map(|n| {
            let segment = format!("{}{n}", "commandé-ü".repeat(12));
            (format!("/{segment}"), "{}".to_owned())
        })
        .collect();
    let (status, body) = post(port, invoke, &concrete_delivery(&routes));
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["alerts_sent"], 20, "{body}");
    let got = topic.drain(&queue).await;
    assert_eq!(got.len(), 20);
    let overflow: Vec<Value> = got
        .iter()
        .filter(|(_, attributes)| attributes["cause"] == "multiple")
        .map(|(body, _)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(overflow.len(), 1);
    assert_eq!(overflow[0]["problems"], 381);
    assert_eq!(overflow[0]["requests"], 381);
}

/// base64 of one gzip'd delivery of `messages` from `log_group` (what a Kinesis record of the fan-in carries).
fn record_data(owner: &str, log_group: &str, messages: &[String]) -> String {
    let wire = crate::support::delivery_of(owner, log_group, messages, 1_764_000_000_000);
    let delivery: Value = serde_json::from_slice(&wire).unwrap();
    delivery["awslogs"]["data"].as_str().unwrap().to_owned()
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn the_compiled_function_ranks_a_kinesis_batch_as_one_and_refuses_forged_and_oversized_records()
 {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (port, _emulator) = emulator();
    let mut command = bootstrap(port, Some(&topic.arn));
    command.env("MAX_ALERTS_PER_INVOCATION", "4");
    let _function = Running(command.spawn().unwrap());

    // Record 1, a noisy account: thirty routes timing out. Record 2, another account: one route lost its invoke
    // permission, beside an access record whose unescaped User-Agent adds case variants of its keys (a 200 made
    // to look like a 502 on another API) and a record nested fifty deep with 2,000-character keys.
    let noisy: Vec<String> = (0..30)
        .flat_map(|i| {
            let id = format!("{i:08x}-aaaa-4bbb-8ccc-111122223333");
            [
                format!("({id}) HTTP Method: POST, Resource Path: /r{i}"),
                format!("({id}) Execution failed due to a timeout error"),
                format!("({id}) Method completed with status: 504"),
            ]
        })
        .collect();
    let critical_id = "00000001-aaaa-4bbb-8ccc-444455556666";
    let critical = vec![
        format!("({critical_id}) HTTP Method: GET, Resource Path: /health"),
        format!(
            "({critical_id}) Execution failed due to configuration error: Invalid permissions on Lambda function"
        ),
        format!("({critical_id}) Method completed with status: 500"),
    ];
    let key = "k".repeat(2_000);
    let access = vec![
        r#"{"requestId":"f1","apiId":"a1b2c3d4e5","status":"200","userAgent":"x","Status":"502","IntegrationErrorMessage":"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration","ApiId":"victim0001","ua":"y"}"#.to_owned(),
        format!(
            "{}\"status\":\"500\"{}",
            format!("{{\"{key}\":").repeat(50),
            "}".repeat(50)
        ),
    ];
    let payload = serde_json::json!({"Records": [
        {"kinesis": {"data": record_data("111122223333", "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", &noisy), "sequenceNumber": "1"}},
        {"kinesis": {"data": record_data("444455556666", "API-Gateway-Execution-Logs_z9y8x7w6v5/live", &critical), "sequenceNumber": "2"}},
        {"kinesis": {"data": record_data("444455556666", "/team/access-orders", &access), "sequenceNumber": "3"}},
    ]});
    let (status, body) = post(
        port,
        "/2015-03-31/functions/_/invocations",
        payload.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        serde_json::json!([]),
        "{answer}"
    );
    let received = topic.drain(&queue).await;
    let subjects: Vec<String> = received
        .iter()
        .map(|(body, _)| {
            let alert: Value = serde_json::from_str(body).unwrap();
            format!(
                "{} {} {}",
                alert["cause"].as_str().unwrap_or("overflow"),
                alert["account"].as_str().unwrap_or("-"),
                alert["api_id"].as_str().unwrap_or("-")
            )
        })
        .collect();
    // Four messages for the invocation: the other account's critical problem among them, and one overflow.
    assert_eq!(received.len(), 4, "{subjects:?}");
    assert!(
        subjects
            .iter()
            .any(|s| s == "missing_invoke_permission 444455556666 z9y8x7w6v5"),
        "{subjects:?}"
    );
    // The forged record raised nothing, on any API; the oversized one was skipped.
    assert!(
        !received.iter().any(|(body, _)| body.contains("victim0001")),
        "{subjects:?}"
    );
    assert!(
        !subjects
            .iter()
            .any(|s| s.starts_with("missing_invoke_permission 444455556666 -")),
        "{subjects:?}"
    );
}
