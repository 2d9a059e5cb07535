//! The fuzz targets' properties (`fuzz/src/lib.rs`) on generated inputs, on every run: decode, the scanner
//! against serde_json, pasted text, any payload through the handler (deliveries and Kinesis batches), and the
//! remediation planner. Arbitrary bytes find the crashes; the structured generators reach the deep paths that
//! random bytes never do (valid gzip, JSON in CloudWatch Logs' layout with every number and escape form).

use apigw_doctor::ingest;
use proptest::prelude::*;

use crate::fuzz_checks as check;

/// A JSON string literal: plain, with escapes, or with characters JSON must escape.
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => "[a-zA-Z0-9 /_.:(){}=-]{0,24}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        4 => "(?s).{0,16}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        // Long and dense in escapes, so that runs of backslashes cross the scanner's 64-byte blocks.
        2 => "[a\\\\\"\n/]{40,160}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        1 => "[a\\\\\"ntu0]{40,160}".prop_map(|s| format!("\"{s}\"")),
        1 => Just(r#""\u00e9\n\t\"\\\/""#.to_owned()),
        1 => Just(r#""\ud83d\ude00 pair""#.to_owned()),
        1 => Just(r#""\ud800 lone""#.to_owned()),
        1 => Just(r#""bad \x escape""#.to_owned()),
        1 => Just("\"raw \u{1} control\"".to_owned()),
    ]
}

/// A JSON number as a timestamp might be written, valid or not for an `i64`.
fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => any::<i64>().prop_map(|n| n.to_string()),
        1 => Just("-0".to_owned()),
        1 => Just("0".to_owned()),
        1 => Just("01".to_owned()),
        1 => Just("1.5".to_owned()),
        1 => Just("1e3".to_owned()),
        1 => Just("1E+2".to_owned()),
        1 => Just("-".to_owned()),
        1 => Just("9223372036854775808".to_owned()),
        1 => Just("-9223372036854775809".to_owned()),
        1 => Just("\"1\"".to_owned()),
        1 => Just("null".to_owned()),
    ]
}

fn space() -> impl Strategy<Value = &'static str> {
    prop_oneof![30 => Just(""), 1 => Just(" "), 1 => Just("\n")]
}

/// One `"key":value` member, sometimes with whitespace around the colon.
fn member(
    key: &'static str,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = String> {
    (space(), value).prop_map(move |(ws, v)| format!("\"{key}\"{ws}:{ws}{v}"))
}

fn object(members: Vec<String>) -> String {
    format!("{{{}}}", members.join(","))
}

/// A log event in any key order, with a member missing, repeated or unknown now and then.
fn event() -> impl Strategy<Value = String> {
    (
        member("id", json_string()),
        member("timestamp", json_number()),
        member("message", json_string()),
        prop_oneof![
            30 => Just(None),
            1 => member("extra", json_string()).prop_map(Some),
            1 => member("message", json_string()).prop_map(Some),
        ],
        proptest::bool::weighted(0.05),
    )
        .prop_flat_map(|(id, ts, message, extra, drop_id)| {
            let mut members = vec![ts, message];
            if !drop_id {
                members.push(id);
            }
            members.extend(extra);
            Just(members).prop_shuffle().prop_map(object)
        })
}

/// A subscription batch in CloudWatch Logs' layout, with the deviations a scanner might read differently.
fn batch_json() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            4 => Just("\"DATA_MESSAGE\"".to_owned()),
            1 => Just("\"CONTROL_MESSAGE\"".to_owned()),
            1 => json_string()
        ],
        json_string(),
        prop_oneof![
            Just("\"API-Gateway-Execution-Logs_a1b2c3d4e5/prod\"".to_owned()),
            json_string()
        ],
        json_string(),
        proptest::collection::vec(event(), 0..4),
        space(),
    )
        .prop_flat_map(|(kind, owner, group, stream, events, ws)| {
            let members = vec![
                format!("\"messageType\":{kind}"),
                format!("\"owner\":{owner}"),
                format!("\"logGroup\":{group}"),
                format!("\"logStream\":{stream}"),
                "\"subscriptionFilters\":[\"f\"]".to_owned(),
                format!("\"logEvents\":{ws}[{}]", events.join(",")),
            ];
            Just(members).prop_shuffle().prop_map(object)
        })
}

/// Execution-log lines of the kinds the engine reacts to, with arbitrary tails.
fn log_lines() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("(r) Method completed with status: ".to_owned()),
            Just("(r) Endpoint response body before transformations: ".to_owned()),
            Just("(r) Endpoint response headers: {".to_owned()),
            Just("(r) Lambda execution failed with status 200 due to customer function error: ".to_owned()),
            Just("(r) Execution failed due to configuration error: Malformed Lambda proxy response".to_owned()),
            Just("(r) Execution failed due to configuration error: Invalid permissions on Lambda function".to_owned()),
            Just("(r) HTTP Method: GET, Resource Path: ".to_owned()),
            Just("(r) Method request path: {".to_owned()),
            Just("(r) Starting authorizer: ".to_owned()),
            Just("(r) Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/".to_owned()),
            Just("Wed Nov 02 10:19:35 UTC 2022 : ".to_owned()),
            Just("{\"status\":".to_owned()),
        ]
        .prop_flat_map(|head| "(?s).{0,60}".prop_map(move |tail| format!("{head}{tail}"))),
        0..16,
    )
    .prop_map(|lines| lines.join("\n"))
}

/// A delivery of `lines` as the execution log group writes it.
fn delivery_of(lines: &str) -> Vec<u8> {
    let events: Vec<serde_json::Value> = lines
        .lines()
        .enumerate()
        .map(|(i, l)| serde_json::json!({"id": i.to_string(), "timestamp": 1_700_000_000_000_i64 + i as i64, "message": l}))
        .collect();
    serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", "logStream": "s",
        "subscriptionFilters": ["f"], "logEvents": events,
    })
    .to_string()
    .into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_holds_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check::decode(&bytes);
    }

    #[test]
    fn decode_holds_on_arbitrary_awslogs_data(data in ".{0,256}") {
        let event = serde_json::json!({"awslogs": {"data": data}}).to_string();
        check::decode(event.as_bytes());
        prop_assert!(ingest::decode(event.as_bytes(), 1 << 16).is_err());
    }

    #[test]
    fn decode_holds_on_generated_batches(json in batch_json()) {
        check::decode(&ingest::encode_json(json.as_bytes()));
    }

    #[test]
    fn the_scanner_reads_what_serde_json_reads(json in batch_json()) {
        check::scanner_vs_serde(json.as_bytes());
    }

    #[test]
    fn pasted_text_holds_on_arbitrary_strings(text in "(?s).{0,600}") {
        check::pasted_text(text.as_bytes());
    }

    #[test]
    fn pasted_text_holds_on_log_shaped_strings(text in log_lines()) {
        check::pasted_text(text.as_bytes());
    }

    #[test]
    fn the_handler_holds_on_arbitrary_payloads(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check::handler_payload(&bytes);
    }

    #[test]
    fn the_handler_holds_on_deliveries_and_kinesis_batches(
        json in batch_json(),
        text in log_lines(),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delivery = delivery_of(&text);
        check::handler_payload(&ingest::encode_json(&delivery));
        check::handler_payload(&ingest::encode_json(json.as_bytes()));
        check::handler_payload(&check::kinesis_event(&[&delivery, json.as_bytes(), &garbage]));
    }

    #[test]
    fn the_remediation_plan_stays_inside_the_api_and_the_allow_list(
        account in prop_oneof![Just("123456789012"), Just("999999999999"), Just("*"), Just("")],
        name in prop_oneof![Just("orders".to_owned()), "[a-zA-Z0-9*:${}._-]{0,16}"],
        qualifier in prop_oneof![Just(String::new()), ":[a-zA-Z0-9$]{0,6}".prop_map(|s| s)],
        variable in "[a-zA-Z0-9:*_-]{0,24}",
        policy in prop_oneof![
            Just(String::new()),
            Just(r#"{"Statement":[{"Sid":"x","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*"}}}]}"#.to_owned()),
            "(?s).{0,80}",
        ],
        pattern in prop_oneof![Just("orders".to_owned()), Just("*".to_owned()), "[a-z*?]{0,8}"],
        method in prop_oneof![Just("GET".to_owned()), Just("ANY".to_owned()), "(?s).{0,6}"],
        path in prop_oneof![Just("/orders/{id}".to_owned()), Just("/{proxy+}".to_owned()), "(?s).{0,24}"],
    ) {
        let uri = format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:{account}:function:{name}{qualifier}/invocations"
        );
        check::remediation_plan(&uri, &[], &policy, &pattern, &method, &path);
        let through_variable = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${stageVariables.fn}/invocations";
        check::remediation_plan(through_variable, &[("fn".to_owned(), variable)], &policy, &pattern, &method, &path);
    }
}

/// The differential property is only as good as its inputs: enough generated batches must be in the layout the
/// scanner reads (else it would compare nothing), and enough must be refused by serde_json.
#[test]
fn the_generated_batches_reach_both_readers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut scanned, mut refused) = (0, 0);
    for _ in 0..400 {
        let json = batch_json().new_tree(&mut runner).unwrap().current();
        scanned += usize::from(ingest::scan::scan_batch(json.as_bytes()).is_some());
        refused += usize::from(ingest::parse_raw_batch_with_serde(json.as_bytes()).is_err());
    }
    assert!(scanned >= 40, "the scanner read {scanned} of 400");
    assert!(refused >= 40, "serde_json refused {refused} of 400");
}
