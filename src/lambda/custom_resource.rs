//! CloudFormation custom-resource requests: the stack asks the function to subscribe the log groups right after
//! deploy (Create, Update) and to remove its filters on Delete. CloudFormation waits for a PUT of the result to
//! the request's pre-signed `ResponseURL`; a request never answered holds the stack for an hour, so every request
//! is answered, even one the function cannot make sense of.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// The request CloudFormation sends (only what we use).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The function's own ARN: what the subscription filters point at.
    #[serde(default)]
    pub service_token: Option<String>,
}

/// What the request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Subscribe,
    Unsubscribe,
}

impl Request {
    pub fn parse(payload: &[u8]) -> Result<Request, serde_json::Error> {
        serde_json::from_slice(payload)
    }

    pub fn action(&self) -> Action {
        if self.request_type == "Delete" {
            Action::Unsubscribe
        } else {
            Action::Subscribe
        }
    }

    /// Why this request is not one to act on, if it is not: any invoker can send a CloudFormation-shaped payload
    /// (a chat channel's role, a forged event), and a Delete removes every filter while the answer is a PUT to
    /// whatever URL the request names. Accepted only from the function's own stack (`STACK_ID`), with an answer URL
    /// on CloudFormation's own response bucket over https, and for this function (its `ServiceToken`).
    pub fn refusal(&self, own_stack: Option<&str>, own_function: Option<&str>) -> Option<String> {
        let Some(own_stack) = own_stack else {
            return Some(
                "STACK_ID is not set: this function answers no custom-resource request".to_owned(),
            );
        };
        if self.stack_id != own_stack {
            return Some(format!(
                "the request's StackId is not this function's stack ({})",
                printable(&self.stack_id)
            ));
        }
        if !is_cloudformation_response_url(&self.response_url) {
            return Some(format!(
                "the ResponseURL is not CloudFormation's (https://cloudformation-custom-resource-response-*.s3*.amazonaws.com): {}",
                printable(&self.response_url)
            ));
        }
        if let (Some(token), Some(own)) = (self.service_token.as_deref(), own_function)
            && unqualified(token) != unqualified(own)
        {
            return Some(format!(
                "the ServiceToken names another function ({})",
                printable(token)
            ));
        }
        None
    }

    /// The resource's id: kept across updates (a new id would make CloudFormation delete the old one).
    pub fn physical_id(&self) -> String {
        self.physical_resource_id
            .clone()
            .unwrap_or_else(|| format!("{}-subscriptions", self.logical_resource_id))
    }
}

/// `https://cloudformation-custom-resource-response-{region}.s3[.-]{region}.amazonaws.com[.cn]/...`: the bucket
/// CloudFormation pre-signs its answer URLs in (no user, no port, https only).
pub fn is_cloudformation_response_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some(bucket_rest) = host.strip_prefix("cloudformation-custom-resource-response-") else {
        return false;
    };
    let Some((region, endpoint)) = bucket_rest.split_once('.') else {
        return false;
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    plain(region)
        && plain(endpoint)
        && endpoint.starts_with("s3")
        && (endpoint.ends_with(".amazonaws.com") || endpoint.ends_with(".amazonaws.com.cn"))
        && !endpoint.contains("..")
}

/// A function ARN without its alias or version.
fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((at, _)) => &arn[..at],
        None => arn,
    }
}

/// At most 200 characters of a value from the request, without control characters (it goes to the log).
fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The response document CloudFormation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub status: &'static str,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: ResponseData,
}

/// `Fn::GetAtt`-able results: how many log groups are watched now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseData {
    pub subscribed: u64,
    pub already_subscribed: u64,
    pub full: u64,
    pub removed: u64,
    pub failed: u64,
}

impl Response {
    /// A success, with `reason` telling what was done. Discovery problems are reported in the reason and the
    /// function's log, not as a failed stack: the sweep tries again every few minutes.
    pub fn success(request: &Request, reason: String, data: ResponseData) -> Response {
        Response::new(request, "SUCCESS", reason, data)
    }

    pub fn failure(request: &Request, reason: String) -> Response {
        Response::new(request, "FAILED", reason, ResponseData::default())
    }

    fn new(
        request: &Request,
        status: &'static str,
        reason: String,
        data: ResponseData,
    ) -> Response {
        Response {
            status,
            // CloudFormation shows the reason in the console; it allows 4 KB for the whole response.
            reason: reason.chars().take(1000).collect(),
            physical_resource_id: request.physical_id(),
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data,
        }
    }
}

/// Sends the response to the pre-signed URL.
pub trait Responder {
    fn respond(
        &self,
        url: &str,
        response: &Response,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// The HTTP PUT CloudFormation expects: JSON body, and an empty `Content-Type` (the URL is signed without one).
pub struct HttpResponder;

impl Responder for HttpResponder {
    async fn respond(&self, url: &str, response: &Response) -> Result<(), String> {
        let body = serde_json::to_vec(response).map_err(|e| e.to_string())?;
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            ureq::put(&url)
                .header("Content-Type", "")
                .send(&body[..])
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = r#"{"RequestType":"Create","ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL":"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/s/1","RequestId":"r-1",
        "LogicalResourceId":"Subscriptions","ResourceType":"Custom::ApigwDoctorSubscriptions",
        "ResourceProperties":{"ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;

    #[test]
    fn a_create_subscribes_and_answers_with_the_ids_cloudformation_sent() {
        let request = Request::parse(CREATE.as_bytes()).unwrap();
        assert_eq!(request.action(), Action::Subscribe);
        let response = Response::success(&request, "3 log groups".into(), ResponseData::default());
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["Status"], "SUCCESS");
        assert_eq!(json["RequestId"], "r-1");
        assert_eq!(json["LogicalResourceId"], "Subscriptions");
        assert_eq!(json["PhysicalResourceId"], "Subscriptions-subscriptions");
        assert_eq!(
            json["StackId"],
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"
        );
        assert_eq!(json["Data"]["Subscribed"], 0);
    }

    #[test]
    fn a_delete_keeps_the_physical_id_and_unsubscribes() {
        let text = CREATE.replace(
            r#""RequestType":"Create""#,
            r#""RequestType":"Delete","PhysicalResourceId":"p-7""#,
        );
        let request = Request::parse(text.as_bytes()).unwrap();
        assert_eq!(request.action(), Action::Unsubscribe);
        assert_eq!(request.physical_id(), "p-7");
    }

    const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";
    const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

    #[test]
    fn only_the_own_stacks_request_with_cloudformations_answer_url_is_accepted() {
        let request = Request::parse(CREATE.as_bytes()).unwrap();
        assert_eq!(request.refusal(Some(STACK), Some(FUNCTION)), None);
        // Invoked through an alias: still this function.
        assert_eq!(
            request.refusal(Some(STACK), Some(&format!("{FUNCTION}:live"))),
            None
        );
        // No STACK_ID: nothing is answered.
        assert!(
            request
                .refusal(None, Some(FUNCTION))
                .unwrap()
                .contains("STACK_ID")
        );
        // Another stack.
        let other = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/2";
        assert!(
            request
                .refusal(Some(other), Some(FUNCTION))
                .unwrap()
                .contains("StackId")
        );
        // Another function's token.
        let token = CREATE.replace("function:f\"", "function:g\"");
        let request = Request::parse(token.as_bytes()).unwrap();
        assert!(
            request
                .refusal(Some(STACK), Some(FUNCTION))
                .unwrap()
                .contains("ServiceToken")
        );
        // The forged Delete of the probe: an http URL on any host.
        for url in [
            "http://127.0.0.1:8080/x",
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://attacker.example/cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/x",
            "https://user@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x",
            "https://cloudformation-custom-resource-response-useast1.attacker.com/x",
        ] {
            let forged = CREATE.replace(
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
                url,
            );
            let request = Request::parse(forged.as_bytes()).unwrap();
            assert!(
                request.refusal(Some(STACK), Some(FUNCTION)).is_some(),
                "{url} accepted"
            );
        }
        for url in [
            "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=a",
            "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x",
        ] {
            assert!(is_cloudformation_response_url(url), "{url}");
        }
    }

    #[test]
    fn a_long_reason_is_cut_to_fit_the_response_limit() {
        let request = Request::parse(CREATE.as_bytes()).unwrap();
        let response = Response::failure(&request, "x".repeat(10_000));
        assert_eq!(response.reason.len(), 1000);
        assert_eq!(response.status, "FAILED");
    }
}
