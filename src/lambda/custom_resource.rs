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

    /// The resource's id: kept across updates (a new id would make CloudFormation delete the old one).
    pub fn physical_id(&self) -> String {
        self.physical_resource_id
            .clone()
            .unwrap_or_else(|| format!("{}-subscriptions", self.logical_resource_id))
    }
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

    #[test]
    fn a_long_reason_is_cut_to_fit_the_response_limit() {
        let request = Request::parse(CREATE.as_bytes()).unwrap();
        let response = Response::failure(&request, "x".repeat(10_000));
        assert_eq!(response.reason.len(), 1000);
        assert_eq!(response.status, "FAILED");
    }
}
