//! The input shapes an independent measurement found costly per byte (issue 16), as real deliveries: long
//! JSON-escaped bodies (healthy and malformed-proxy failures), thousands of distinct failing requests, one giant
//! request, and the most tiny events a delivery may hold. Deterministic; each fits Lambda's 1 MB payload.

use apigw_doctor::ingest::Batch;

use crate::synth::batch_of as batch;

fn rid(i: usize) -> String {
    format!("({i:08x}-0000-4000-8000-000000000000)")
}

/// A ~256 KB JSON body full of escapes (quotes, backslashes, newlines, unicode), as full request/response
/// logging writes it when a team turns the 1 KB cut off.
fn escaped_body(seed: usize) -> String {
    let mut body = String::from("{\"statusCode\":200,\"body\":\"");
    let mut i = seed;
    while body.len() < 256 * 1024 {
        body.push_str(&format!(
            "{{\\\"item\\\":{i},\\\"note\\\":\\\"line \\\\\\\"{i}\\\\\\\"\\\\n\\\\u00e9\\\"}},"
        ));
        i += 1;
    }
    body.push_str("\"}");
    body
}

/// Requests with 256 KB escaped bodies; `malformed`: each ends in a malformed proxy response (the body is then
/// read for its shape).
pub fn escaped_bodies(requests: usize, malformed: bool) -> Batch<'static> {
    let mut messages = Vec::new();
    for r in 0..requests {
        let id = rid(r);
        messages.push(format!(
            "{id} Starting execution for request: {}",
            &id[1..id.len() - 1]
        ));
        messages.push(format!("{id} HTTP Method: POST, Resource Path: /orders"));
        let body = escaped_body(r * 100_000);
        let body = if malformed {
            body.replacen("\"statusCode\":200,", "", 1)
        } else {
            body
        };
        messages.push(format!(
            "{id} Endpoint response body before transformations: {body}"
        ));
        if malformed {
            messages.push(format!(
                "{id} Execution failed due to configuration error: Malformed Lambda proxy response"
            ));
            messages.push(format!("{id} Method completed with status: 502"));
        } else {
            messages.push(format!("{id} Successfully completed execution"));
            messages.push(format!("{id} Method completed with status: 200"));
        }
    }
    batch(messages)
}

/// `requests` failing requests, each on a route of its own (none group together).
pub fn distinct_failures(requests: usize) -> Batch<'static> {
    let mut messages = Vec::new();
    for r in 0..requests {
        let id = rid(r);
        messages.push(format!("{id} HTTP Method: GET, Resource Path: /r{r:08x}"));
        messages.push(format!(
            "{id} Lambda execution failed with status 200 due to customer function error: Error {r}. Lambda request id: {r:08x}-1111-4000-8000-000000000000"
        ));
        messages.push(format!("{id} Method completed with status: 502"));
    }
    batch(messages)
}

/// One request of `lines` lines (a long multi-line stack trace, header after header).
pub fn giant_request(lines: usize) -> Batch<'static> {
    let id = rid(7);
    let mut messages = vec![format!("{id} HTTP Method: GET, Resource Path: /orders")];
    for l in 0..lines {
        messages.push(format!(
            "{id} Endpoint response headers: {{X-Line={l}, Content-Type=application/json, X-Amzn-Trace-Id=Root=1-64754fe5-084fc11dc5ca6bb8641894f5}}"
        ));
    }
    messages.push(format!("{id} Method completed with status: 200"));
    batch(messages)
}

/// `events` events of one byte.
pub fn tiny_events(events: usize) -> Batch<'static> {
    batch((0..events).map(|_| "x".to_owned()).collect())
}

/// Requests whose 256 KB escaped body was cut short (` [TRUNCATED]`) before a malformed proxy response: the cut
/// body is not a whole JSON object, so it is read by the tolerant scan (issue 29 measured 8.6 × per byte).
pub fn cut_bodies(requests: usize) -> Batch<'static> {
    let mut messages = Vec::new();
    for r in 0..requests {
        let id = rid(r);
        messages.push(format!("{id} HTTP Method: POST, Resource Path: /orders"));
        let body = escaped_body(r * 100_000).replacen("\"statusCode\":200,", "", 1);
        let cut = &body[..body.len() * 3 / 4];
        messages.push(format!(
            "{id} Endpoint response body before transformations: {cut} [TRUNCATED]"
        ));
        messages.push(format!(
            "{id} Execution failed due to configuration error: Malformed Lambda proxy response"
        ));
        messages.push(format!("{id} Method completed with status: 502"));
    }
    batch(messages)
}

/// REST access-log records (the JSON format AWS's console offers, with `integrationErrorMessage`), each a
/// failing request: field by field, and every one reaches a finding (issue 29 measured 5.7 ×).
pub fn failing_access_records(records: usize) -> Batch<'static> {
    let messages = (0..records)
        .map(|r| {
            format!(
                r#"{{"requestId":"{r:08x}-2222-4000-8000-000000000000","ip":"203.0.113.{}","caller":"-","user":"-","requestTime":"24/Nov/2024:09:20:{:02} +0000","httpMethod":"POST","resourcePath":"/orders/{{id}}","status":"502","protocol":"HTTP/1.1","responseLength":"36","integrationErrorMessage":"The Lambda function returned the following error: Task timed out after 3.00 seconds"}}"#,
                r % 250,
                r % 60
            )
        })
        .collect();
    batch(messages)
}

/// Every line is a request of its own that failed: a function error with nothing else logged for it
/// (issue 29 measured 3.6 ×).
pub fn every_line_failing(lines: usize) -> Batch<'static> {
    batch(
        (0..lines)
            .map(|r| {
                format!(
                    "{} Lambda execution failed with status 200 due to customer function error: Error {r}. Lambda request id: {r:08x}-1111-4000-8000-000000000000",
                    rid(r)
                )
            })
            .collect(),
    )
}

/// Every line carries a request id of its own, in the order and wording of a healthy request's lines
/// (issue 29 measured 4.0 ×): the most requests a delivery of real lines can open.
pub fn every_line_own_id(lines: usize) -> Batch<'static> {
    const HEALTHY: [&str; 6] = [
        "Extended Request Id: MJWHAFnDIAMFjcA=",
        "Verifying Usage Plan for request: 6a1c0d02-2d10-4f3c-9d3c-2b0a6d1e1f7a. API Key:  API Stage: a1b2c3d4e5/prod",
        "API Key  authorized because method 'GET /orders' does not require API Key. Request will not contribute to throttle or quota limits",
        "HTTP Method: GET, Resource Path: /orders",
        "Successfully completed execution",
        "Method completed with status: 200",
    ];
    batch(
        (0..lines)
            .map(|r| format!("{} {}", rid(r), HEALTHY[r % HEALTHY.len()]))
            .collect(),
    )
}
