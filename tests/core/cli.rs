//! The built `apigw-doctor` binary on the sample events and on stdin: its JSON and its exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::repo_path;

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(args)
        // `handle` publishes when this is set; these tests want the printed messages.
        .env_remove("ALERT_TOPIC_ARN")
        .env_remove("REMEDIATION_MODE")
        .current_dir(repo_path(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn causes(lines: &[Value]) -> Vec<(String, Option<u64>)> {
    lines
        .iter()
        .map(|v| {
            (
                v["cause"].as_str().unwrap().to_owned(),
                v["status"].as_u64(),
            )
        })
        .collect()
}

fn owned(expected: &[(&str, u64)]) -> Vec<(String, Option<u64>)> {
    expected
        .iter()
        .map(|(c, s)| ((*c).to_owned(), Some(*s)))
        .collect()
}

#[test]
fn diagnose_prints_the_cause_of_every_sample_event() {
    let cases: &[(&str, &[(&str, u64)])] = &[
        (
            "malformed-proxy-response",
            &[
                ("malformed_proxy_response", 502),
                ("malformed_proxy_response", 502),
            ],
        ),
        (
            "function-error",
            &[("function_error", 502), ("function_error", 502)],
        ),
        ("function-timeout", &[("function_timeout", 502)]),
        ("integration-timeout", &[("integration_timeout", 504)]),
        (
            "missing-invoke-permission",
            &[("missing_invoke_permission", 500)],
        ),
        (
            "authorizer-missing-invoke-permission",
            &[("authorizer_missing_invoke_permission", 500)],
        ),
        (
            "authorizer-error",
            &[("authorizer_error", 500), ("authorizer_error", 500)],
        ),
        ("lambda-throttled", &[("lambda_throttled", 500)]),
        ("lambda-throttled-2018", &[("lambda_throttled", 502)]),
        ("payload-too-large", &[("payload_too_large", 502)]),
        ("lambda-kms-error", &[("lambda_kms_error", 500)]),
        ("lambda-service-error", &[("lambda_service_error", 500)]),
        (
            "mapping-error",
            &[("mapping_error", 500), ("mapping_error", 500)],
        ),
        (
            "service-integration-error",
            &[
                ("service_integration_error", 500),
                ("service_integration_error", 500),
            ],
        ),
        ("lambda-invoke-error", &[("lambda_invoke_error", 502)]),
        (
            "backend-error",
            &[
                ("backend_error", 500),
                ("backend_error", 500),
                ("backend_error", 500),
            ],
        ),
        ("unknown-5xx", &[("unknown_5xx", 503)]),
        ("throttled", &[]),
        ("client-error", &[]),
        ("log-injection", &[]),
        ("control-message", &[]),
        (
            "http-api-access-log",
            &[
                ("function_error", 500),
                ("function_timeout", 500),
                ("missing_invoke_permission", 500),
                ("authorizer_missing_invoke_permission", 500),
                ("function_error", 500),
            ],
        ),
        (
            "mixed-batch",
            &[
                ("malformed_proxy_response", 502),
                ("function_timeout", 502),
                ("missing_invoke_permission", 500),
            ],
        ),
    ];
    for (name, expected) in cases {
        let path = format!("events/{name}.json");
        let output = run(&["diagnose", "--format", "json", &path], None);
        // 1: a problem was reported; 0 for the samples whose requests are not failures of the API (429, 4xx).
        let problem = expected.iter().any(|(cause, status)| {
            *status >= 500 || !matches!(*cause, "throttled" | "client_error" | "ok")
        });
        assert_eq!(
            output.status.code(),
            Some(if problem { 1 } else { 0 }),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(causes(&json_lines(&output)), owned(expected), "{name}");
    }
}

#[test]
fn diagnose_all_prints_healthy_requests_too() {
    let output = run(
        &[
            "diagnose",
            "--all",
            "--format",
            "json",
            "events/mixed-batch.json",
        ],
        None,
    );
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 7);
    let ok = lines.iter().filter(|v| v["cause"] == "ok").count();
    assert_eq!(ok, 3);
    let throttled = lines.iter().find(|v| v["cause"] == "throttled").unwrap();
    assert_eq!(throttled["status"], 429);
}

#[test]
fn diagnose_json_has_the_documented_fields() {
    let output = run(
        &[
            "diagnose",
            "--format",
            "json",
            "events/missing-invoke-permission.json",
        ],
        None,
    );
    let line = &json_lines(&output)[0];
    assert_eq!(line["request_id"], "0b1c2d3e-0000-4000-8000-000000000039");
    assert_eq!(line["status"], 500);
    assert_eq!(line["cause"], "missing_invoke_permission");
    assert_eq!(line["api_id"], "a1b2c3d4e5");
    assert_eq!(line["stage"], "prod");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["resource_path"], "/orders/{id}");
    assert_eq!(
        line["function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:orders"
    );
    assert_eq!(
        line["evidence"][0],
        "Execution failed due to configuration error: Invalid permissions on Lambda function"
    );
    assert!(
        line["advice"]
            .as_str()
            .unwrap()
            .contains("lambda:InvokeFunction")
    );
}

#[test]
fn diagnose_reads_pasted_text_from_stdin() {
    let pasted = "2020-07-02T11:34:31.881-04:00 (PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Invalid permissions on Lambda function\n\
                  2020-07-02T11:34:31.882-04:00 (PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Authorizer error\n";
    let output = run(
        &[
            "diagnose",
            "--format",
            "json",
            "--log-group",
            "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
            "-",
        ],
        Some(pasted.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["cause"], "authorizer_missing_invoke_permission");
    assert_eq!(lines[0]["status"], 500);
    assert_eq!(lines[0]["status_inferred"], true);
    assert_eq!(lines[0]["api_id"], "a1b2c3d4e5");
}

#[test]
fn diagnose_reads_a_decoded_data_message() {
    let output = run(
        &[
            "diagnose",
            "--format",
            "json",
            "events/decoded/function-timeout.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        causes(&json_lines(&output)),
        owned(&[("function_timeout", 502)])
    );
}

#[test]
fn diagnose_text_report_names_cause_fix_and_evidence() {
    let output = run(&["diagnose", "events/function-timeout.json"], None);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("1 problem in 1 request"), "{text}");
    assert!(text.contains("function_timeout"));
    assert!(text.contains("Task timed out after 10.00 seconds"));
    assert!(text.contains("Fix:"));
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
}

#[test]
fn undecodable_input_exits_2_with_a_one_line_error_naming_it() {
    let output = run(&["diagnose", "events/bad-payload.json"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("events/bad-payload.json"));
    assert!(stderr.contains("gzip"));
    assert!(!stderr.contains("panicked"));
}

#[test]
fn missing_file_exits_2_but_other_inputs_are_still_read() {
    let output = run(
        &[
            "diagnose",
            "--format",
            "json",
            "no-such-file.log",
            "events/integration-timeout.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-file.log"));
    assert_eq!(
        causes(&json_lines(&output)),
        owned(&[("integration_timeout", 504)])
    );
}

#[test]
fn binary_garbage_on_stdin_is_a_clean_error() {
    let output = run(&["diagnose", "-"], Some(&[0xff, 0xfe, 0x00, 0x80]));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("apigw-doctor: -: "));
}

#[test]
fn handle_without_a_topic_prints_one_json_message_per_problem_with_every_body() {
    let output = run(
        &["handle", "--format", "json", "events/mixed-batch.json"],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let messages = json_lines(&output);
    assert_eq!(messages.len(), 3);
    for m in &messages {
        assert!(
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("[apigw-doctor] ")
        );
        for body in ["default", "email", "https", "sqs", "lambda"] {
            assert!(m["bodies"][body].is_string(), "{body} missing");
        }
        let chatbot: Value = serde_json::from_str(m["bodies"]["https"].as_str().unwrap()).unwrap();
        assert_eq!(chatbot["source"], "custom");
        let machine: Value = serde_json::from_str(m["bodies"]["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(machine["cause"], m["attributes"]["cause"]);
    }
    let permission = messages
        .iter()
        .find(|m| m["attributes"]["cause"] == "missing_invoke_permission")
        .unwrap();
    // The default mode is dry-run; offline, the plan says what it would look up and the SourceArn it would use.
    assert_eq!(permission["attributes"]["remediation"], "dry-run");
    assert!(
        permission["bodies"]["email"]
            .as_str()
            .unwrap()
            .contains("Self-healing: dry-run")
    );
}

#[test]
fn handle_fails_with_exit_2_on_a_bad_delivery_and_a_bad_setting() {
    let output = run(&["handle", "events/bad-payload.json"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("undecodable delivery"));
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(["handle", "events/mixed-batch.json"])
        .current_dir(repo_path(""))
        .env_remove("ALERT_TOPIC_ARN")
        .env("REMEDIATION_MODE", "sometimes")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("REMEDIATION_MODE"));
}

#[test]
fn diagnose_counts_and_names_access_log_lines_it_does_not_read() {
    let clf = b"203.0.113.9 - - [24/Nov/2026:10:02:11 +0000] \"GET /orders HTTP/1.1\" 502 36 r1\n\
                203.0.113.9 - - [24/Nov/2026:10:02:12 +0000] \"GET /orders HTTP/1.1\" 502 36 r2\n";
    let output = run(&["diagnose", "--format", "json"], Some(clf));
    assert!(output.status.success());
    assert!(json_lines(&output).is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2 access-log lines in a CLF-like layout skipped"),
        "{stderr}"
    );
}

#[test]
fn diagnose_reads_records_pasted_pretty_printed_from_the_console() {
    let output = run(
        &[
            "diagnose",
            "--format",
            "json",
            "tests/data/46-access-log-pretty-printed-console.log",
        ],
        None,
    );
    let lines = json_lines(&output);
    assert_eq!(
        causes(&lines),
        owned(&[
            ("missing_invoke_permission", 500),
            ("integration_timeout", 504)
        ])
    );
    assert_eq!(lines[0]["api_id"], "uwe3g5jm54");
    assert_eq!(lines[0]["api_source"], "record");
    assert_eq!(lines[0]["resource_path"], "/orders");
}

#[test]
fn access_log_groups_take_the_api_from_the_operator_mapping() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args([
            "diagnose",
            "--format",
            "json",
            "events/http-api-access-log.json",
        ])
        .env(
            "ACCESS_LOG_APIS",
            "/aws/vendedlogs/apigateway/orders-http-access=z9y8x7w6v5/live",
        )
        .current_dir(repo_path(""))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take();
    let output = child.wait_with_output().unwrap();
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_eq!(line["api_id"], "z9y8x7w6v5");
        assert_eq!(line["stage"], "live");
        assert_eq!(line["api_source"], "mapping");
    }
}

#[test]
fn handle_reports_exactly_the_corrupt_kinesis_record() {
    let output = run(
        &["handle", "--format", "json", "events/kinesis-fan-in.json"],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a batch item failure is a failure"
    );
    let subjects: Vec<String> = json_lines(&output)
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("function_timeout on uwe3g5jm54/Prod")),
        "{subjects:?}"
    );
    // The batch is ranked as one invocation: a critical problem of any record goes first.
    assert!(
        subjects[0].contains("missing_invoke_permission"),
        "{subjects:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split_once("batch item failure: ").map(|(_, id)| id))
        .collect();
    assert_eq!(
        failures,
        ["495903338346157801823176654302000000000000000000000000000002"]
    );
}

#[test]
fn an_input_with_no_api_gateway_line_exits_3_and_says_what_was_expected() {
    // A README, an API Gateway *test event* (the proxy event a function receives, not a log) and gzip data. (The
    // project's own README quotes the CLI's output, whose evidence lines are log lines: it is diagnosed.)
    for (input, hint) in [
        (
            "events/README.md",
            "expected a CloudWatch Logs subscription delivery",
        ),
        ("events/decoded/control-message.json", ""),
    ] {
        let output = run(&["diagnose", input], None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if hint.is_empty() {
            // A health check holds no log line by design: read, nothing to say.
            assert_eq!(output.status.code(), Some(0), "{input}: {stderr}");
        } else {
            assert_eq!(output.status.code(), Some(3), "{input}: {stderr}");
            assert!(stderr.contains(input) && stderr.contains(hint), "{stderr}");
        }
    }
    let proxy_event = br#"{"resource":"/orders/{id}","path":"/orders/7","httpMethod":"GET","requestContext":{"stage":"prod"}}"#;
    let output = run(&["diagnose"], Some(proxy_event));
    assert_eq!(output.status.code(), Some(3));
    let gzip = [
        0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let output = run(&["diagnose", "-"], Some(&gzip));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("decompress it"), "{stderr}");
    // Healthy logs are not "nothing": exit 0.
    let output = run(
        &["diagnose"],
        Some(b"(a) Starting execution for request: a\n(a) Method completed with status: 200\n"),
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn diagnose_fills_in_the_fix_and_names_what_the_log_does_not_say() {
    // The function, API, route and account are in the finding: the command is exact, as self-healing would run it.
    let output = run(&["diagnose", "events/missing-invoke-permission.json"], None);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let fix = text
        .lines()
        .find(|l| l.trim_start().starts_with("Fix:"))
        .unwrap();
    assert!(
        fix.contains(
            "aws lambda add-permission --function-name arn:aws:lambda:us-east-1:123456789012:function:orders \
             --statement-id apigw-doctor-"
        ) && fix.contains(
            "--source-arn arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders/* --source-account 123456789012"
        ),
        "{fix}"
    );
    assert!(
        !fix.contains('<'),
        "no placeholder where everything is known: {fix}"
    );
    // The sample from corpus 09 names no function and no route: those are placeholders, and the text says so.
    let output = run(
        &["diagnose", "--format", "json", "events/mixed-batch.json"],
        None,
    );
    let lines = json_lines(&output);
    let permission = lines
        .iter()
        .find(|l| l["cause"] == "missing_invoke_permission")
        .unwrap();
    let advice = permission["advice"].as_str().unwrap();
    assert!(
        advice.contains("uwe3g5jm54/*/<METHOD>/<path>")
            && advice.contains("The log does not name")
            && advice.contains("the function"),
        "{advice}"
    );
    let timeout = lines
        .iter()
        .find(|l| l["cause"] == "function_timeout")
        .unwrap();
    let advice = timeout["advice"].as_str().unwrap();
    assert!(
        advice.contains("--function-name arn:aws:lambda:eu-west-2:123456789012:function:log-test-1-EchoFunction-175HKORAF18IO")
            && advice.contains("now 10.00 s, from the log"),
        "{advice}"
    );
}

#[test]
fn a_visible_5xx_in_prose_is_reported_as_quoted_and_exits_1() {
    // A public pull request's description (ivanderbu2/serverless-newsletter-signup#1, 2017): the sentence after
    // prose on the same line.
    let prose = "I tried out your example but I was getting 502 \"Internal service error\" back. \n\
                 Turns out it was from \"Execution failed due to configuration error: Malformed Lambda proxy response\"\n";
    let output = run(
        &["diagnose", "--format", "json", "-"],
        Some(prose.as_bytes()),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["cause"], "malformed_proxy_response");
    assert_eq!(lines[0]["confidence"], "quoted");
    assert!(
        lines[0]["quoted_line"]
            .as_str()
            .unwrap()
            .contains("Turns out it was from"),
        "{}",
        lines[0]
    );
    assert!(stderr.contains("confidence: quoted"), "{stderr}");
    // A delivery never reads sentences inside other text: the injection sample stays without a problem.
    let output = run(
        &["diagnose", "--format", "json", "events/log-injection.json"],
        None,
    );
    assert!(
        json_lines(&output)
            .iter()
            .all(|l| l["cause"] != "missing_invoke_permission" && l.get("confidence").is_none()),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn test_invoke_method_json_broken_by_raw_line_breaks_is_read_line_by_line() {
    // Case 48's output, its `\n` escapes turned into the raw line breaks of a terminal copy: no longer JSON.
    let case = std::fs::read_to_string(crate::repo_path(
        "tests/data/48-test-invoke-method-json-permission-500.log",
    ))
    .unwrap();
    let body: String = case
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\n", "\n");
    assert!(serde_json::from_str::<Value>(body.trim().trim_start_matches(|c| c != '{')).is_err());
    let output = run(
        &["diagnose", "--format", "json", "-"],
        Some(body.as_bytes()),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        causes(&json_lines(&output)),
        owned(&[("missing_invoke_permission", 500)])
    );
    assert!(json_lines(&output)[0].get("confidence").is_none());
}

#[test]
fn cli_conventions_colour_completions_and_help() {
    let always = run(
        &[
            "diagnose",
            "--color",
            "always",
            "events/function-timeout.json",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&always.stdout).contains("\x1b["));
    let never = run(
        &[
            "diagnose",
            "--color",
            "never",
            "events/function-timeout.json",
        ],
        None,
    );
    assert!(!String::from_utf8_lossy(&never.stdout).contains('\x1b'));
    let output = Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args(["diagnose", "events/function-timeout.json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains('\x1b'));
    let bash = run(&["completions", "bash"], None);
    assert!(bash.status.success());
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(
        script.contains("apigw-doctor") && script.contains("diagnose"),
        "{script}"
    );
    let help = run(&["handle", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    for payload in [
        r#"{"awslogs":{"data":...}}"#,
        r#"{"Records":[{"kinesis":...}]}"#,
        r#"{"apigw-doctor":"sweep"}"#,
        r#"{"approve":"<plan id>"}"#,
        "CloudFormation custom-resource request",
    ] {
        assert!(
            help.contains(payload),
            "handle --help does not list {payload}:\n{help}"
        );
    }
    let help = run(&["diagnose", "--help"], None);
    assert!(String::from_utf8_lossy(&help.stdout).contains("1 a problem"));
}

#[test]
fn handle_prints_an_approvals_answer_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("approve.json");
    std::fs::write(&path, br#"{"approve":"0123456789abcdef0123456789abcdef"}"#).unwrap();
    let output = run(&["handle", path.to_str().unwrap()], None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(answer["approval"], "0123456789abcdef0123456789abcdef");
    assert!(
        answer["outcome"].is_string() && answer["message"].is_string(),
        "{answer}"
    );
}

/// Past the findings `diagnose` holds to print after its head line (1,000), the input is read a second time and each
/// finding printed as it is built (#29: 46,000 owned findings were 50 MB): the report must read as if held.
#[test]
fn a_report_past_the_held_findings_prints_every_problem_once_in_order() {
    // The two lines of tests/data/09-missing-invoke-permission-500-2025.log (a real paste), one request per id.
    let real = std::fs::read_to_string(repo_path(
        "tests/data/09-missing-invoke-permission-500-2025.log",
    ))
    .unwrap();
    let lines: Vec<&str> = real.lines().filter(|l| l.starts_with('(')).collect();
    assert_eq!(lines.len(), 2);
    let ids: Vec<String> = (0..1_203)
        .map(|n| format!("73737819-c94c-48d7-86d7-{n:012x}"))
        .collect();
    let pasted: String = ids
        .iter()
        .flat_map(|id| {
            lines.iter().map(move |l| {
                format!(
                    "{}\n",
                    l.replace("73737819-c94c-48d7-86d7-b1700e4be29b", id)
                )
            })
        })
        .collect();
    let group = "API-Gateway-Execution-Logs_k1k7gu3ct7/test";
    let json = run(
        &["diagnose", "--format", "json", "--log-group", group, "-"],
        Some(pasted.as_bytes()),
    );
    assert_eq!(json.status.code(), Some(1));
    let found = json_lines(&json);
    let read: Vec<&str> = found
        .iter()
        .map(|f| f["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(read, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        found
            .iter()
            .all(|f| f["cause"] == "missing_invoke_permission" && f["status"] == 500)
    );
    // Text with --all prints each request (as text without it does up to GROUP_PAST problems).
    let text = run(
        &["diagnose", "--all", "--log-group", group, "-"],
        Some(pasted.as_bytes()),
    );
    assert_eq!(text.status.code(), Some(1));
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(
        out.starts_with("-: 1203 problems in 1203 requests\n"),
        "{}",
        &out[..200.min(out.len())]
    );
    let mut at = 0;
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(out.matches(id.as_str()).count(), 1, "request {n} ({id})");
        let found = out.find(id.as_str()).unwrap();
        assert!(found > at, "request {n} ({id}) out of order");
        at = found;
    }
    assert_eq!(out.matches("Fix:").count(), 1_203);
}

/// Past `GROUP_PAST` (100) problems, a text report prints one block per distinct problem with its count and sample
/// requests, the exact fix once: 1,203 blocks of the same missing permission are read by nobody (#29).
#[test]
fn a_text_report_of_many_problems_prints_each_distinct_problem_once() {
    // tests/data/09-missing-invoke-permission-500-2025.log (a real paste) for 1,203 requests of one log group.
    let real = std::fs::read_to_string(repo_path(
        "tests/data/09-missing-invoke-permission-500-2025.log",
    ))
    .unwrap();
    let lines: Vec<&str> = real.lines().filter(|l| l.starts_with('(')).collect();
    let request = |id: &str, route: Option<&str>| -> String {
        // The route line as tests/data/01-malformed-proxy-response-batch.log (a real delivery) has it.
        let route = route.map(|r| format!("({id}) HTTP Method: POST, Resource Path: {r}\n"));
        let body: String = lines
            .iter()
            .map(|l| {
                format!(
                    "{}\n",
                    l.replace("73737819-c94c-48d7-86d7-b1700e4be29b", id)
                )
            })
            .collect();
        route.unwrap_or_default() + &body
    };
    let group = "API-Gateway-Execution-Logs_k1k7gu3ct7/test";
    let ids: Vec<String> = (0..1_203)
        .map(|n| format!("73737819-c94c-48d7-86d7-{n:012x}"))
        .collect();
    let pasted: String = ids.iter().map(|id| request(id, None)).collect();
    let text = run(
        &["diagnose", "--log-group", group, "-"],
        Some(pasted.as_bytes()),
    );
    assert_eq!(text.status.code(), Some(1));
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(
        out.starts_with(
            "-: 1203 problems in 1203 requests\nGrouped into 1 distinct problem (a cause on an API's route), each \
             with its count and sample requests; --all or --format json prints each request\n\n\
             500  missing_invoke_permission  (route not logged)  k1k7gu3ct7/test  1203 requests\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  Requests: {}, {}, {} and 1200 more\n",
            ids[0], ids[1], ids[2]
        )),
        "{out}"
    );
    assert_eq!(out.matches("Fix:").count(), 1, "{out}");
    assert!(
        out.contains("aws lambda add-permission") && out.contains("k1k7gu3ct7"),
        "{out}"
    );

    // 60 routes of 2 requests each and one of 30: the busiest first, 20 blocks, 30 lines, the rest counted.
    let mut pasted = String::new();
    for n in 0..30 {
        pasted += &request(&format!("0000aaaa-0000-4000-8000-{n:012x}"), Some("/hot"));
    }
    for n in 0..120 {
        let id = format!("0000bbbb-0000-4000-8000-{n:012x}");
        pasted += &request(&id, Some(&format!("/r{:02}", n / 2)));
    }
    let text = run(
        &["diagnose", "--log-group", group, "-"],
        Some(pasted.as_bytes()),
    );
    assert_eq!(text.status.code(), Some(1));
    let out = String::from_utf8(text.stdout).unwrap();
    let blocks: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("500  missing_invoke_permission  POST "))
        .collect();
    assert_eq!(blocks.len(), 50, "{out}");
    assert_eq!(
        blocks[0],
        "500  missing_invoke_permission  POST /hot  k1k7gu3ct7/test  30 requests"
    );
    assert_eq!(
        blocks[1],
        "500  missing_invoke_permission  POST /r00  k1k7gu3ct7/test  2 requests"
    );
    assert_eq!(out.matches("Fix:").count(), 20, "{out}");
    assert!(
        out.starts_with("-: 150 problems in 150 requests\nGrouped into 61 distinct problems"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\n11 more distinct problems in 22 requests, requests by cause: missing_invoke_permission 22\n\n"
        ),
        "{out}"
    );
}
