//! `apigw-doctor diagnose --log-group ... --since ...` on a live account: log events written with PutLogEvents to
//! CloudWatch Logs on moto, read back by the built CLI binary (the standard credential chain pointed at moto).

use std::process::Command;

use serde_json::Value;

use crate::support::{moto_endpoint, root_resource, sdk, unique};

/// Writes `lines` (already `(request-id) message`) to a new stream of `group`, timestamped just now.
pub(crate) async fn put(sdk: &aws_config::SdkConfig, group: &str, lines: &[&str]) {
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

pub(crate) fn cli(args: &[&str]) -> (i32, String, String) {
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
    assert_eq!(code, 1, "a problem is exit 1: {stderr}");
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
    // One line: what was asked, what AWS answered, the likely fix; no SDK debug dump.
    let error: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("apigw-doctor:") && l.contains("FilterLogEvents"))
        .collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("AWS answered ResourceNotFoundException")
            && error[0].contains("--region"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("DispatchFailure")
            && !stderr.contains("raw: Response")
            && stderr.len() < 600,
        "{stderr}"
    );
    // -v adds the SDK's whole chain.
    let (code, _, verbose) = cli(&[
        "diagnose",
        "-v",
        "--log-group",
        "API-Gateway-Execution-Logs_zzzzzzzzzz/none",
        "--since",
        "1h",
    ]);
    assert_eq!(code, 2);
    assert!(verbose.contains("full error:"), "{verbose}");
}

#[test]
#[ignore = "needs moto's server: run scripts/test.sh"]
fn aws_errors_are_one_line_with_the_likely_fix() {
    // An endpoint that answers nothing (a port just closed): what a wrong AWS_ENDPOINT_URL or no network gives.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(["audit", "--api-id", "a1b2c3d4e5", "--region", "eu-west-1"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("of API a1b2c3d4e5 in eu-west-1")
            && stderr.contains("could not reach AWS")
            && stderr.contains("AWS_ENDPOINT_URL"),
        "{stderr}"
    );
    // No region anywhere: said, with how to set one, before any call.
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(["audit", "--api-id", "a1b2c3d4e5"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no AWS region: pass --region"), "{stderr}");
    // No credentials anywhere: `aws configure` / --profile.
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(["audit", "--api-id", "a1b2c3d4e5", "--region", "eu-west-1"])
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("aws configure"), "{stderr}");
}

/// A REST API with a `prod` stage whose access log goes to `access_group` (a mock integration on `/`).
async fn api_with_access_log(sdk: &aws_config::SdkConfig, access_group: &str) -> String {
    use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
    let apigw = aws_sdk_apigateway::Client::new(sdk);
    let api = apigw
        .create_rest_api()
        .name(unique("merge"))
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let root = root_resource(&apigw, &api).await;
    apigw
        .put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    apigw
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/accessLogSettings/destinationArn")
                .value(format!(
                    "arn:aws:logs:us-east-1:123456789012:log-group:{access_group}"
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    api
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn diagnose_api_id_reports_a_request_in_both_logs_once_with_the_execution_logs_cause() {
    let sdk = sdk().await;
    let access_group = unique("/aws/apigateway/access-merge");
    let api = api_with_access_log(&sdk, &access_group).await;
    let id = "33333333-aaaa-4bbb-8ccc-000000000003";
    // The execution log names the cause but not the route (the shape of corpus 09: no HTTP Method line).
    put(
        &sdk,
        &format!("API-Gateway-Execution-Logs_{api}/prod"),
        &[
            &format!("({id}) Execution failed due to configuration error: Invalid permissions on Lambda function"),
            &format!("({id}) Method completed with status: 500"),
        ],
    )
    .await;
    // The access log of the same request (the format of docs/access-logs.md): the route, the latency, and its own
    // reading of the error.
    put(
        &sdk,
        &access_group,
        &[&format!(
            r#"{{"requestId":"{id}","apiId":"{api}","stage":"prod","httpMethod":"POST","resourcePath":"/orders/{{id}}","status":"500","integrationErrorMessage":"-","integrationLatency":"12"}}"#
        )],
    )
    .await;
    let (code, stdout, stderr) = cli(&[
        "diagnose", "--api-id", &api, "--stage", "prod", "--since", "1h", "--format", "json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let found: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "one request, once: {stdout}\n{stderr}");
    assert_eq!(found[0]["request_id"], id);
    assert_eq!(found[0]["cause"], "missing_invoke_permission");
    assert_eq!(found[0]["status"], 500);
    // The access log's fields fill what the execution log did not say, and the fix names the route.
    assert_eq!(found[0]["method"], "POST");
    assert_eq!(found[0]["resource_path"], "/orders/{id}");
    let advice = found[0]["advice"].as_str().unwrap();
    assert!(
        advice.contains(&format!("{api}/*/POST/orders/*")),
        "{advice}"
    );
}
