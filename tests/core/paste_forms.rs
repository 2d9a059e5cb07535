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
