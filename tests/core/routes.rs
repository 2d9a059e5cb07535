//! Real execution logs write the concrete path (`Resource Path: /items/123`); alerts group and name the resource
//! template. Fifty ids on one route are one problem, and no id leaves in a message.

use apigw_doctor::alert::plan_alerts;
use apigw_doctor::ingest::{Batch, LogEvent, encode};
use apigw_doctor::input::{ReadOptions, diagnose_input};
use apigw_doctor::publish::render::render;
use apigw_doctor::remediate::Report;

/// One failing request in the shape of a real proxy-resource log (tests/data/47): the concrete path, its
/// parameter, the source ARN with the template, then a malformed proxy response.
fn request(n: usize) -> Vec<String> {
    let id = format!("8f1c0000-49f6-11e7-8898-{n:012}");
    let item = format!("sku-{n:04}-secret");
    [
        format!("Starting execution for request: {id}"),
        format!("HTTP Method: GET, Resource Path: /items/{item}"),
        format!("Method request path: {{itemId={item}}}"),
        "Endpoint request URI: https://lambda.us-west-2.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-west-2:123456789012:function:items/invocations".to_owned(),
        "Endpoint request headers: {x-amzn-lambda-integration-tag=t, X-Amz-Source-Arn=arn:aws:execute-api:us-west-2:123456789012:oo8kadh853/Test/GET/items/{itemId}, Accept=application/json} [TRUNCATED]".to_owned(),
        "Endpoint response body before transformations: {\"statusCode\": 200, \"body\": {\"ok\": true}}".to_owned(),
        "Execution failed due to configuration error: Malformed Lambda proxy response".to_owned(),
        "Method completed with status: 502".to_owned(),
    ]
    .into_iter()
    .map(|line| format!("({id}) {line}"))
    .collect()
}

#[test]
fn fifty_concrete_paths_of_one_route_are_one_alert_named_by_its_template() {
    let lines: Vec<String> = (0..50).flat_map(request).collect();
    let batch = Batch {
        message_type: "DATA_MESSAGE".into(),
        owner: "123456789012".into(),
        log_group: "API-Gateway-Execution-Logs_oo8kadh853/Test".into(),
        log_stream: "e369853df766fa44e1ed0ff613f563bd".into(),
        subscription_filters: vec![],
        log_events: lines
            .iter()
            .enumerate()
            .map(|(i, m)| LogEvent {
                id: i.to_string().into(),
                timestamp: 1_496_671_067_369 + i as i64,
                message: m.as_str().into(),
            })
            .collect(),
    };
    let found = diagnose_input(&encode(&batch).unwrap(), &ReadOptions::default()).unwrap();
    assert_eq!(found.findings.len(), 50);
    let plan = plan_alerts(&found.findings, "us-west-2", 5, 20);
    assert_eq!(plan.alerts.len(), 1, "{:?}", plan.alerts);
    assert!(plan.overflow.is_empty());
    let alert = &plan.alerts[0];
    assert_eq!(alert.count, 50);
    assert_eq!(alert.resource_path.as_deref(), Some("/items/{itemId}"));
    let message = render(alert, &Report::none());
    let everything = format!("{}{}", message.subject, message.structured());
    assert!(
        everything.contains("/items/{itemId}"),
        "{}",
        message.subject
    );
    assert!(
        !everything.contains("secret"),
        "a concrete path left in the message"
    );
}
