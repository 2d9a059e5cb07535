//! Discovery over the real wire: log groups and subscription filters in moto's CloudWatch Logs; the function
//! subscribes the watched ones, never a third filter, changes nothing on a second run, and removes exactly its
//! own filters. Then the same through the compiled binary, as CloudFormation's custom resource drives it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use apigw_doctor::subscribe::aws::CloudWatchLogs;
use apigw_doctor::subscribe::{Settings, subscribe_all, unsubscribe_all};
use aws_sdk_cloudwatchlogs::Client;
use serde_json::Value;

use crate::lambda_e2e::{Running, bootstrap, emulator, post};
use crate::support::{Topic, create_function, create_role, sdk, unique};

/// A REST API id no other test uses: 10 lower-case letters and digits.
fn api_id() -> String {
    let u = unique("x").replace(['x', '-'], "");
    format!("{:0>10}", u.chars().rev().take(10).collect::<String>())
}

pub(crate) async fn log_group(logs: &Client, name: &str) {
    logs.create_log_group()
        .log_group_name(name)
        .send()
        .await
        .unwrap();
}

async fn put(logs: &Client, group: &str, filter: &str, destination: &str) {
    logs.put_subscription_filter()
        .log_group_name(group)
        .filter_name(filter)
        .filter_pattern("")
        .destination_arn(destination)
        .send()
        .await
        .unwrap();
}

/// `(filter name, destination)` of each filter on a log group, sorted.
pub(crate) async fn filters(logs: &Client, group: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = logs
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
        .unwrap()
        .subscription_filters
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.filter_name.unwrap(), f.destination_arn.unwrap()))
        .collect();
    found.sort();
    found
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn discovery_subscribes_each_watched_group_once_never_a_third_filter_and_removes_only_its_own()
 {
    let sdk = sdk().await;
    let logs = Client::new(&sdk);
    let role = create_role(&sdk).await;
    let ours = create_function(&sdk, &role, &unique("apigw-doctor")).await;
    let theirs = create_function(&sdk, &role, &unique("log-shipper")).await;
    let team = unique("/team");
    let (a, b, c) = (api_id(), api_id(), api_id());
    let fresh = format!("API-Gateway-Execution-Logs_{a}/prod");
    let full = format!("API-Gateway-Execution-Logs_{b}/prod");
    let shared = format!("API-Gateway-Execution-Logs_{c}/dev");
    let access = format!("{team}/access-orders");
    let elsewhere = format!("{team}/other");
    let not_api = format!("/aws/lambda/{}", unique("fn"));
    for group in [&fresh, &full, &shared, &access, &elsewhere, &not_api] {
        log_group(&logs, group).await;
    }
    put(&logs, &full, "shipper-1", &theirs).await;
    put(&logs, &full, "shipper-2", &theirs).await;
    put(&logs, &shared, "shipper", &theirs).await;

    let settings = Settings {
        enabled: true,
        filter_name: unique("apigw-doctor-stack"),
        filter_pattern: String::new(),
        access_log_prefix: Some(format!("{team}/access-")),
        // Restricted to this test's groups (the server is shared): three API ids and the access-log group.
        only: vec![a.clone(), b.clone(), c.clone(), access.clone()],
        own_log_group: None,
    };
    let api = CloudWatchLogs::new(logs.clone());
    let mine = |group: &str| (settings.filter_name.clone(), ours.clone(), group.to_owned());

    let first = subscribe_all(&api, &settings, &ours, &[], || true)
        .await
        .unwrap();
    let mut expected = vec![fresh.clone(), shared.clone(), access.clone()];
    expected.sort();
    assert_eq!(first.subscribed, expected);
    assert_eq!(first.full, vec![full.clone()]);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    for group in [&fresh, &access] {
        let (name, destination, _) = mine(group);
        assert_eq!(filters(&logs, group).await, vec![(name, destination)]);
    }
    let (name, destination, _) = mine(&shared);
    let mut both = vec![("shipper".to_owned(), theirs.clone()), (name, destination)];
    both.sort();
    assert_eq!(filters(&logs, &shared).await, both);
    // Never a third filter, never someone else's replaced.
    assert_eq!(
        filters(&logs, &full).await,
        vec![
            ("shipper-1".to_owned(), theirs.clone()),
            ("shipper-2".to_owned(), theirs.clone())
        ]
    );
    // Outside the prefixes: untouched.
    assert!(filters(&logs, &elsewhere).await.is_empty());
    assert!(filters(&logs, &not_api).await.is_empty());

    // A second run changes nothing.
    let second = subscribe_all(&api, &settings, &ours, &[], || true)
        .await
        .unwrap();
    assert!(second.subscribed.is_empty() && second.updated.is_empty());
    assert_eq!(second.already_subscribed, 3);
    assert_eq!(second.full, vec![full.clone()]);

    // Removal: exactly ours, on every group we made one.
    let removed = unsubscribe_all(&api, &settings, &ours, &[]).await.unwrap();
    assert_eq!(removed.removed, expected);
    assert!(filters(&logs, &fresh).await.is_empty());
    assert!(filters(&logs, &access).await.is_empty());
    assert_eq!(
        filters(&logs, &shared).await,
        vec![("shipper".to_owned(), theirs.clone())]
    );
    assert_eq!(filters(&logs, &full).await.len(), 2);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_broad_access_log_prefix_never_subscribes_the_functions_own_group_or_a_lambda_group() {
    let sdk = sdk().await;
    let logs = Client::new(&sdk);
    let role = create_role(&sdk).await;
    let ours = create_function(&sdk, &role, &unique("apigw-doctor")).await;
    // The probe's setting: a prefix so broad it lists the function's own log group and every Lambda's.
    let root = unique("/org");
    let own = format!("{root}/aws/lambda/apigw-doctor");
    let access = format!("{root}/access-orders");
    let lambda_group = format!("/aws/lambda/{}", unique("orders"));
    for group in [&own, &access, &lambda_group] {
        log_group(&logs, group).await;
    }
    let settings = Settings {
        enabled: true,
        filter_name: unique("apigw-doctor-stack"),
        filter_pattern: String::new(),
        access_log_prefix: Some("/".into()),
        only: vec![own.clone(), access.clone(), lambda_group.clone()],
        own_log_group: Some(own.clone()),
    };
    let api = CloudWatchLogs::new(logs.clone());
    let report = subscribe_all(&api, &settings, &ours, &[], || true)
        .await
        .unwrap();
    assert_eq!(report.subscribed, vec![access.clone()]);
    assert!(
        filters(&logs, &own).await.is_empty(),
        "its own group: it would invoke itself"
    );
    assert!(filters(&logs, &lambda_group).await.is_empty());
    // A filter of ours left on its own group (by an earlier version) is still removed on delete.
    put(&logs, &own, &settings.filter_name, &ours).await;
    let removed = unsubscribe_all(&api, &settings, &ours, &[]).await.unwrap();
    let mut expected = vec![access.clone(), own.clone()];
    expected.sort();
    assert_eq!(removed.removed, expected);
}

/// A one-request HTTP server on loopback standing in for CloudFormation's pre-signed S3 URL: hands back the
/// request line, the headers and the body it received.
fn response_url() -> (String, mpsc::Receiver<(String, String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/cloudformation-response?X-Amz-Signature=abc",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut headers = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            headers.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        tx.send((
            request_line,
            headers,
            serde_json::from_slice(&body).unwrap(),
        ))
        .unwrap();
    });
    (url, rx)
}

pub(crate) const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/apigw-doctor/1";

/// A custom-resource request as CloudFormation sends it.
pub(crate) fn cloudformation_request(request_type: &str, url: &str, function_arn: &str) -> Value {
    serde_json::json!({
        "RequestType": request_type,
        "ServiceToken": function_arn,
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": format!("req-{request_type}"),
        "ResourceType": "Custom::LogGroupSubscriptions",
        "LogicalResourceId": "Subscriptions",
        "PhysicalResourceId": "Subscriptions-subscriptions",
        "ResourceProperties": {"ServiceToken": function_arn},
    })
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn the_compiled_function_refuses_a_forged_cloudformation_request_and_changes_nothing() {
    let sdk = sdk().await;
    let logs = Client::new(&sdk);
    let topic = Topic::create(&sdk).await;
    let role = create_role(&sdk).await;
    let function_arn = create_function(&sdk, &role, &unique("apigw-doctor")).await;
    let api = api_id();
    let group = format!("API-Gateway-Execution-Logs_{api}/prod");
    log_group(&logs, &group).await;
    let filter_name = unique("apigw-doctor-stack");
    put(&logs, &group, &filter_name, &function_arn).await;

    let (port, _emulator) = emulator();
    let mut command = bootstrap(port, Some(&topic.arn));
    command
        .env("DISCOVERY", "on")
        .env("SUBSCRIPTION_FILTER_NAME", &filter_name)
        .env("DISCOVERY_ONLY", &api)
        .env("STACK_ID", STACK_ID);
    let _function = Running(command.spawn().unwrap());
    let invoke = "/2015-03-31/functions/_/invocations";
    // The probe's forged Delete: an http answer URL on a host of the sender's choosing; then the right URL shape
    // from another stack.
    let (url, received) = response_url();
    let forged = cloudformation_request("Delete", &url, &function_arn);
    let mut other_stack = cloudformation_request(
        "Delete",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        &function_arn,
    );
    other_stack["StackId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/9".into();
    for request in [forged, other_stack] {
        let (status, body) = post(port, invoke, request.to_string().as_bytes());
        assert!(
            body.contains("ApigwDoctor.CustomResourceError") && body.contains("refused"),
            "{status} {body}"
        );
    }
    // Nothing was sent to the forged URL, and the filter is still there.
    assert!(received.recv_timeout(Duration::from_secs(2)).is_err());
    assert_eq!(
        filters(&logs, &group).await,
        vec![(filter_name.clone(), function_arn.clone())]
    );
}

/// Remembers where each answer would have gone.
#[derive(Default)]
pub(crate) struct Answers(pub(crate) std::sync::Mutex<Vec<(String, Value)>>);

impl apigw_doctor::lambda::custom_resource::Responder for Answers {
    async fn respond(
        &self,
        url: &str,
        response: &apigw_doctor::lambda::custom_resource::Response,
    ) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((url.to_owned(), serde_json::to_value(response).unwrap()));
        Ok(())
    }
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn cloudformations_own_request_subscribes_then_unsubscribes_and_is_answered() {
    use apigw_doctor::lambda::Handler;
    use apigw_doctor::lambda::config::Config;
    use apigw_doctor::lambda::metrics::Metrics;
    let sdk = sdk().await;
    let logs = Client::new(&sdk);
    let role = create_role(&sdk).await;
    let function_arn = create_function(&sdk, &role, &unique("apigw-doctor")).await;
    let api = api_id();
    let group = format!("API-Gateway-Execution-Logs_{api}/prod");
    log_group(&logs, &group).await;
    let filter_name = unique("apigw-doctor-stack");
    let config = Config::from_lookup(|name| match name {
        "DISCOVERY" => Some("on".to_owned()),
        "SUBSCRIPTION_FILTER_NAME" => Some(filter_name.clone()),
        "DISCOVERY_ONLY" => Some(api.clone()),
        "STACK_ID" => Some(STACK_ID.to_owned()),
        _ => None,
    })
    .unwrap();
    let adapter = CloudWatchLogs::new(logs.clone());
    let answers = Answers::default();
    let publisher = apigw_doctor::publish::sns::SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk),
        "arn:aws:sns:us-east-1:123456789012:unused",
    );
    let handler = Handler::new(
        &config,
        &publisher,
        &apigw_doctor::remediate::Disabled,
        &apigw_doctor::suppress::NoSuppression,
    )
    .with_account(&adapter, &answers);
    let url = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws?X-Amz-Signature=abc";
    for (request_type, expected_filters) in [("Create", 1), ("Delete", 0)] {
        let request = cloudformation_request(request_type, url, &function_arn);
        let mut metrics = Metrics::default();
        handler
            .invoke(
                request.to_string().as_bytes(),
                Some(&function_arn),
                &mut metrics,
            )
            .await
            .unwrap();
        let (to, answer) = answers.0.lock().unwrap().pop().unwrap();
        assert_eq!(to, url);
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
        assert_eq!(answer["RequestId"], format!("req-{request_type}"));
        assert_eq!(answer["PhysicalResourceId"], "Subscriptions-subscriptions");
        let on_group = filters(&logs, &group).await;
        assert_eq!(
            on_group.len(),
            expected_filters,
            "{request_type}: {on_group:?}"
        );
        if expected_filters == 1 {
            assert_eq!(on_group[0], (filter_name.clone(), function_arn.clone()));
            assert_eq!(answer["Data"]["Subscribed"], 1, "{answer}");
        } else {
            assert_eq!(answer["Data"]["Removed"], 1, "{answer}");
        }
    }
}

#[test]
fn the_answer_is_a_put_without_a_content_type() {
    use apigw_doctor::lambda::custom_resource::{
        HttpResponder, Request, Responder, Response, ResponseData,
    };
    let (url, received) = response_url();
    let request = Request::parse(
        cloudformation_request(
            "Create",
            &url,
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        )
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let answer = Response::success(&request, "ok".into(), ResponseData::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(HttpResponder.respond(&url, &answer))
        .unwrap();
    let (line, headers, body) = received.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        line.starts_with("PUT /cloudformation-response?X-Amz-Signature=abc "),
        "{line}"
    );
    // The URL is signed without a content type: none may be sent.
    assert!(
        headers
            .lines()
            .all(|h| !h.to_ascii_lowercase().starts_with("content-type:")
                || h.trim().eq_ignore_ascii_case("content-type:")),
        "{headers}"
    );
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["RequestId"], "req-Create");
}
