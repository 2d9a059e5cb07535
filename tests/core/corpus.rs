//! Every file of tests/data (the shared corpus of real cases plus our own) is diagnosed with the label and
//! status its `# ` header expects, per request.

use std::collections::BTreeMap;

use apigw_doctor::input::{ReadOptions, diagnose_input};

use crate::repo_path;

#[derive(Debug, Default)]
struct Expected {
    all: Option<(String, Option<u16>)>,
    per_request: BTreeMap<String, (String, Option<u16>)>,
    /// `# expected-route: GET /{proxy+}`: the route every request of the file is reported with.
    route: Option<String>,
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(name)? + name.len();
    let value = line[at..].trim_start();
    let end = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(value.len());
    Some(&value[..end])
}

fn expectations(text: &str) -> Expected {
    let mut expected = Expected::default();
    let mut cause = None;
    let mut status = None;
    for line in text.lines().filter(|l| l.starts_with('#')) {
        if let Some((id, rest)) = line.trim_start_matches('#').trim().split_once(" -> ") {
            let c = field(rest, "expected-cause:")
                .expect("per-request cause")
                .to_owned();
            let s = field(rest, "expected-status:").and_then(|s| s.parse().ok());
            expected.per_request.insert(id.trim().to_owned(), (c, s));
        } else if line.starts_with("# expected-cause:") {
            cause = field(line, "expected-cause:").map(str::to_owned);
        } else if let Some(route) = line.strip_prefix("# expected-route:") {
            expected.route = Some(route.trim().to_owned());
        } else if line.starts_with("# expected-status:") {
            status = field(line, "expected-status:").and_then(|s| s.parse().ok());
        }
    }
    if expected.per_request.is_empty() {
        expected.all = Some((cause.expect("file has an expected-cause"), status));
    }
    expected
}

#[test]
fn every_corpus_case_gets_its_expected_cause_and_status() {
    let mut files: Vec<_> = std::fs::read_dir(repo_path("tests/data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    assert!(files.len() >= 28, "corpus went missing: {files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = expectations(&text);
        let options = ReadOptions {
            all: true,
            ..ReadOptions::default()
        };
        let findings = diagnose_input(text.as_bytes(), &options).unwrap().findings;
        let name = path.file_name().unwrap().to_string_lossy();
        if findings.is_empty() {
            failures.push(format!("{name}: no request found"));
        }
        for finding in &findings {
            let want = match (&expected.all, &finding.request_id) {
                (Some(all), _) => all,
                (None, Some(id)) => match expected.per_request.get(id) {
                    Some(want) => want,
                    None => {
                        failures.push(format!("{name}: unexpected request {id}"));
                        continue;
                    }
                },
                (None, None) => {
                    failures.push(format!("{name}: request without id"));
                    continue;
                }
            };
            if let Some(route) = &expected.route {
                let got = format!(
                    "{} {}",
                    finding.method.as_deref().unwrap_or("-"),
                    finding.resource_path.as_deref().unwrap_or("-")
                );
                if &got != route {
                    failures.push(format!("{name}: route {got:?}, want {route:?}"));
                }
            }
            let got = (finding.cause.as_str().to_owned(), finding.status);
            if &got != want {
                failures.push(format!(
                    "{name}: request {:?}: got {got:?}, want {want:?}",
                    finding.request_id
                ));
            }
        }
        for id in expected.per_request.keys() {
            if !findings.iter().any(|f| f.request_id.as_deref() == Some(id)) {
                failures.push(format!("{name}: request {id} not found"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_header_parser_reads_both_header_styles() {
    let e = expectations(
        "#   r1 -> expected-cause: ok; expected-status: 200\n#   r2 -> expected-cause: function_error (x); expected-status: 502\n",
    );
    assert_eq!(
        e.per_request["r2"],
        ("function_error".to_owned(), Some(502))
    );
    let e = expectations(
        "# expected-cause: authorizer_error (x)\n# expected-status: 500 (not shown)\n",
    );
    assert_eq!(e.all, Some(("authorizer_error".to_owned(), Some(500))));
}

#[test]
fn injected_text_never_names_another_function() {
    let text =
        std::fs::read_to_string(repo_path("tests/data/42-log-injection-is-inert.log")).unwrap();
    let options = ReadOptions {
        all: true,
        ..ReadOptions::default()
    };
    let findings = diagnose_input(text.as_bytes(), &options).unwrap().findings;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].function_arn, None);
    assert!(findings[0].evidence.is_empty());
}

/// The execution-log cases again as CloudWatch Logs delivers them: each event a log event of a subscription
/// delivery (gzip, base64), through the Lambda's path (messages left escaped in the buffer). The same requests
/// must get the same causes and statuses as in text form.
#[test]
fn execution_log_cases_read_the_same_as_deliveries() {
    use apigw_doctor::ingest::{Batch, LogEvent, encode};
    use apigw_doctor::requests::logline::{parse_text, split_request_id};
    use apigw_doctor::requests::paste::normalise;
    let options = ReadOptions {
        all: true,
        ..ReadOptions::default()
    };
    let mut compared = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(repo_path("tests/data")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let normalised = normalise(&text);
        let events = parse_text(&normalised);
        // Only files whose every event is in the stage form `(request-id) message`.
        if events.is_empty()
            || events
                .iter()
                .any(|e| split_request_id(&e.message).0.is_none())
        {
            continue;
        }
        let delivery = encode(&Batch {
            message_type: "DATA_MESSAGE".into(),
            owner: "123456789012".into(),
            log_group: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
            log_stream: "e369853df766fa44e1ed0ff613f563bd".into(),
            subscription_filters: vec!["f".into()],
            log_events: events
                .iter()
                .enumerate()
                .map(|(i, e)| LogEvent {
                    id: i.to_string().into(),
                    timestamp: 1_700_000_000_000 + i as i64,
                    message: e.message.as_ref().into(),
                })
                .collect(),
        })
        .unwrap();
        let summary = |findings: Vec<apigw_doctor::diagnose::Finding>| {
            findings
                .into_iter()
                .map(|f| (f.request_id, f.cause, f.status))
                .collect::<Vec<_>>()
        };
        let as_text = summary(diagnose_input(text.as_bytes(), &options).unwrap().findings);
        let as_delivery = summary(diagnose_input(&delivery, &options).unwrap().findings);
        if as_text != as_delivery {
            failures.push(format!(
                "{}:\n  text:     {as_text:?}\n  delivery: {as_delivery:?}",
                path.display()
            ));
        }
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} execution-log cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
