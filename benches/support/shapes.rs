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
