//! `apigw-doctor diagnose --log-group ... --since ...` on a live account: log events written with PutLogEvents to
//! CloudWatch Logs on moto, read back by the built CLI binary (the standard credential chain pointed at moto).

use std::process::Command;

use serde_json::Value;

use crate::support::{moto_endpoint, sdk, unique};

/// Writes `lines` (already `(request-id) message`) to a new stream of `group`, timestamped just now.
async fn put(sdk: &aws_config::SdkConfig, group: &str, lines: &[&str]) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let _ = logs.create_log_group().log_group_name(group).send().await;
    let stream = unique("stream");
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(&stream)
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events = lines.iter().enumerate().map(|(i, line)| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now - 60_000 + i as i64)
            .message(*line)
            .build()
            .unwrap()
    });
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .unwrap();
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(args)
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn diagnose_reads_the_failing_requests_of_a_log_group_from_cloudwatch_logs() {
    let sdk = sdk().await;
    let api = format!(
        "{:0>10}",
        unique("")
            .replace('-', "")
            .chars()
            .rev()
            .take(10)
            .collect::<String>()
    )
    .to_ascii_lowercase();
    let group = format!("API-Gateway-Execution-Logs_{api}/prod");
    put(
        &sdk,
        &group,
        &[
            "(11111111-aaaa-4bbb-8ccc-000000000001) Extended Request Id: Kx1FiAMEF=",
            "(11111111-aaaa-4bbb-8ccc-000000000001) HTTP Method: POST, Resource Path: /orders",
            "(22222222-aaaa-4bbb-8ccc-000000000002) HTTP Method: GET, Resource Path: /health",
            "(11111111-aaaa-4bbb-8ccc-000000000001) Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders/invocations",
            "(22222222-aaaa-4bbb-8ccc-000000000002) Method completed with status: 200",
            "(11111111-aaaa-4bbb-8ccc-000000000001) Execution failed due to configuration error: Invalid permissions on Lambda function",
            "(11111111-aaaa-4bbb-8ccc-000000000001) Method completed with status: 500",
        ],
    )
    .await;
    let (code, stdout, stderr) = cli(&[
        "diagnose",
        "--log-group",
        &group,
        "--since",
        "1h",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let found: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(found[0]["cause"], "missing_invoke_permission");
    assert_eq!(found[0]["status"], 500);
    assert_eq!(
        found[0]["request_id"],
        "11111111-aaaa-4bbb-8ccc-000000000001"
    );
    assert_eq!(found[0]["api_id"], api.as_str());
    assert_eq!(found[0]["resource_path"], "/orders");
    assert!(stderr.contains("request"), "{stderr}");

    // A window before anything was written: nothing failing, said on stderr, exit 0.
    let (code, stdout, stderr) = cli(&[
        "diagnose",
        "--log-group",
        &group,
        "--start",
        "2020-01-01T00:00:00Z",
        "--end",
        "2020-01-01T01:00:00Z",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("no failing request in the window"),
        "{stderr}"
    );
    assert!(stdout.contains("0 problems"), "{stdout}");

    // A log group that does not exist: exit 2, naming it.
    let (code, _, stderr) = cli(&[
        "diagnose",
        "--log-group",
        "API-Gateway-Execution-Logs_zzzzzzzzzz/none",
        "--since",
        "1h",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("API-Gateway-Execution-Logs_zzzzzzzzzz/none"),
        "{stderr}"
    );
}
