//! Every paste form the CLI reads: the same two requests wrapped the ways people and tools wrap them. In each
//! form the real failure is found, and the failure sentences an attacker put in a query, a header and a body
//! count for nothing (the injection rule holds once the wrappers are off).

use apigw_doctor::diagnose::Cause;
use apigw_doctor::input::{ReadOptions, diagnose_input};

/// A healthy request whose query, headers and body quote failure sentences, then a request that really failed.
const LINES: &[&str] = &[
    "(a1) HTTP Method: GET, Resource Path: /items",
    "(a1) Method request query string: {q=Execution failed due to configuration error: Invalid permissions on Lambda function}",
    "(a1) Method request headers: {User-Agent=Lambda execution failed with status 200 due to customer function error: boom}",
    "(a1) Endpoint response body before transformations: {\"note\":\"Execution failed due to a timeout error\"}",
    "(a1) Method completed with status: 200",
    "(b2) HTTP Method: POST, Resource Path: /orders",
    "(b2) Execution failed due to configuration error: Malformed Lambda proxy response",
    "(b2) Method completed with status: 502",
];

/// Every request of a paste, as `diagnose --all` reads it.
fn findings_of(text: &str) -> Vec<apigw_doctor::diagnose::Finding> {
    let options = ReadOptions {
        all: true,
        ..ReadOptions::default()
    };
    diagnose_input(text.as_bytes(), &options).unwrap().findings
}

/// [`findings_of`] a file of the real corpus.
fn findings_of_case(file: &str) -> Vec<apigw_doctor::diagnose::Finding> {
    findings_of(&std::fs::read_to_string(crate::repo_path(&format!("tests/data/{file}"))).unwrap())
}

fn forms() -> Vec<(&'static str, String)> {
    let each =
        |f: &dyn Fn(&str) -> String| LINES.iter().map(|l| f(l)).collect::<Vec<_>>().join("\n");
    let events_json = serde_json::json!({
        "events": LINES.iter().enumerate().map(|(i, l)| serde_json::json!({
            "logStreamName": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "timestamp": i, "message": l,
            "ingestionTime": i, "eventId": i.to_string()
        })).collect::<Vec<_>>(),
        "searchedLogStreams": []
    });
    let console: Vec<String> = LINES
        .iter()
        .map(|l| {
            format!(
                "Wed Nov 02 10:19:35 UTC 2022 : {}",
                l.split_once(") ").unwrap().1
            )
        })
        .collect();
    vec![
        ("plain", LINES.join("\n")),
        ("markdown blockquote", each(&|l| format!("> {l}"))),
        ("markdown fence in a quote", format!("> ```\n{}\n> ```", each(&|l| format!("> {l}")))),
        ("bullets", each(&|l| format!("- {l}"))),
        ("quoted lines with commas", each(&|l| format!("  \"{}\",", l.replace('"', "'")))),
        ("html line breaks", LINES.join("<br/>")),
        ("elisions", each(&|l| format!("... {l}"))),
        ("awslogs get", each(&|l| format!("API-Gateway-Execution-Logs_a1b2c3d4e5/prod 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e {l}"))),
        ("aws logs tail", each(&|l| format!("2024-11-30T10:00:00.123000+00:00 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e {l}"))),
        ("sam logs", each(&|l| format!("0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e 2024-11-30T10:00:00.123000 {l}"))),
        ("logs insights table", format!("@timestamp\t@message\n{}", each(&|l| format!("2024-11-30 10:00:00.000\t{l}")))),
        ("filter-log-events JSON", serde_json::to_string_pretty(&events_json).unwrap()),
        ("indented code block", each(&|l| format!("\t{l}"))),
        ("console TEST panels", format!(
            "Request: /items\nStatus: 200\nLatency: 31 ms\nResponse Body\n\
             Wed Nov 02 10:19:35 UTC 2022 : Execution failed due to configuration error: Invalid permissions on Lambda function\n\
             Response Headers\n{{}}\nLogs\nExecution log for request a1\n{}\n\
             Request: /orders\nStatus: 502\nLatency: 12 ms\nResponse Body\n{{\"message\": \"Internal server error\"}}\n\
             Response Headers\n{{}}\nLogs\nExecution log for request b2\n{}",
            console[..5].join("\n"),
            console[5..].join("\n"),
        )),
        ("test-invoke-method JSON (first request)", serde_json::to_string_pretty(&serde_json::json!({
            "status": 200, "body": "{}", "headers": {},
            "log": format!("Execution log for request a1\n{}\n", console[..5].join("\n")), "latency": 31
        })).unwrap()),
    ]
}

#[test]
fn every_paste_form_finds_the_failure_and_ignores_the_injected_sentences() {
    let options = ReadOptions {
        all: true,
        ..ReadOptions::default()
    };
    for (name, text) in forms() {
        let found = diagnose_input(text.as_bytes(), &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .findings;
        let got: Vec<(Cause, Option<u16>)> = found.iter().map(|f| (f.cause, f.status)).collect();
        let want: &[(Cause, Option<u16>)] = if name.starts_with("test-invoke") {
            &[(Cause::Ok, Some(200))]
        } else {
            &[
                (Cause::Ok, Some(200)),
                (Cause::MalformedProxyResponse, Some(502)),
            ]
        };
        assert_eq!(got, want, "{name}:\n{text}");
        assert!(
            found[0].evidence.is_empty(),
            "{name}: {:?}",
            found[0].evidence
        );
    }
}

/// The console's TEST panel shows the status the client got above the log. When the log pasted stops before its
/// last line (a cut paste, a truncated excerpt), that status still makes the request a problem, never a silent
/// "0 problems"; without the panel the same lines are `incomplete`. The lines are case 54's real log cut after
/// the call to the function.
#[test]
fn a_panel_status_makes_a_log_cut_short_a_problem() {
    let log = "Execution log for request 1bd86219-bafa-4b63-ae7c-19ce1a30621f\n\
        Mon Mar 31 04:36:11 UTC 2025 : Starting execution for request: 1bd86219-bafa-4b63-ae7c-19ce1a30621f\n\
        Mon Mar 31 04:36:11 UTC 2025 : HTTP Method: POST, Resource Path: /appointments\n\
        Mon Mar 31 04:36:11 UTC 2025 : Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:963170596026:function:appointment-dev-createAppointment/invocations\n";
    let panel = format!(
        "Request\n/appointments\nLatency ms\n1360\nStatus\n502\nResponse body\n{{\"message\": \"Internal server error\"}}\nResponse headers\n{{}}\nLog\n{log}"
    );
    let options = ReadOptions {
        all: true,
        ..ReadOptions::default()
    };
    let with_panel = diagnose_input(panel.as_bytes(), &options).unwrap().findings;
    assert_eq!(with_panel.len(), 1);
    let finding = &with_panel[0];
    assert!(finding.is_problem());
    assert_eq!(
        (finding.cause, finding.status, finding.status_inferred),
        (Cause::Unknown5xx, Some(502), false)
    );
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.contains("Status: 502 (shown by the TEST output")),
        "{:?}",
        finding.evidence
    );
    let without = diagnose_input(log.as_bytes(), &options).unwrap().findings;
    assert_eq!(
        (without[0].cause, without[0].status),
        (Cause::Incomplete, None)
    );
    // A logged final status is never overridden by the panel's.
    let logged =
        panel.clone() + "Mon Mar 31 04:36:12 UTC 2025 : Method completed with status: 200\n";
    let found = diagnose_input(logged.as_bytes(), &options)
        .unwrap()
        .findings;
    assert_eq!(found[0].status, Some(200));
}

#[test]
fn a_blog_export_keeps_the_logged_status_and_the_function_behind_its_html() {
    // Case 79: WordPress's <pre class="wp-block-code"><code> glued to the first line, </code></pre> to the last.
    let findings = findings_of_case("79-wordpress-export-pre-code-malformed-502.log");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(
        (f.cause, f.status, f.status_inferred),
        (Cause::MalformedProxyResponse, Some(502), false)
    );
    assert_eq!(
        f.function_arn.as_deref(),
        Some("arn:aws:lambda:us-east-1:525422853402:function:local-aws-testing-dev-hello")
    );
}

#[test]
fn a_one_line_sentence_is_its_own_evidence_and_a_function_error_keeps_its_trace() {
    let evidence = |text: &str| {
        let findings = findings_of(text);
        assert_eq!(findings.len(), 1, "{text}");
        findings[0].evidence.clone()
    };
    // Pasted without prefixes, the prose after a sentence continues its event; it is not the sentence's.
    let malformed = evidence(
        "I get the following error on the server.\nExecution failed due to configuration error: Malformed Lambda proxy response\n\nand to verify yes I have added binary support.\n",
    );
    assert_eq!(
        malformed[0],
        "Execution failed due to configuration error: Malformed Lambda proxy response"
    );
    // A function's error runs over its stack trace: that stays.
    let raised = evidence(
        "Lambda execution failed with status 200 due to customer function error: boom\n    at handler (index.js:3)\n",
    );
    assert!(raised[0].ends_with("at handler (index.js:3)"), "{raised:?}");
}

#[test]
fn each_code_fence_is_read_on_its_own() {
    // Case 87: one fence of console lines with timestamps, a later fence of bare lines. The bare lines were read
    // as the continuation of the first fence's last event, and the second run was lost.
    let findings = findings_of_case("87-readme-log-fence-with-panel-comments-malformed-502.log");
    let got: Vec<_> = findings
        .iter()
        .map(|f| (f.cause, f.status, f.status_inferred))
        .collect();
    assert_eq!(
        got,
        [(Cause::MalformedProxyResponse, Some(502), false); 2],
        "{findings:#?}"
    );
}
