//! Shared set-up: SDK clients on moto, a topic with SQS subscribers, reading what SQS received.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::Value;

pub const NEEDS_MOTO: &str = "needs moto's server: run scripts/test.sh";

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn event(name: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("events/{name}.json"))).unwrap()
}

pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect("MOTO_ENDPOINT is not set: run scripts/test.sh")
}

pub async fn sdk() -> aws_config::SdkConfig {
    moto_endpoint();
    apigw_doctor::lambda::aws::sdk_config().await
}

/// A name no other test uses, so tests can share one moto server.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A topic and its SQS subscribers.
pub struct Topic {
    pub arn: String,
    pub sqs: aws_sdk_sqs::Client,
}

impl Topic {
    pub async fn create(sdk: &aws_config::SdkConfig) -> Topic {
        let sns = aws_sdk_sns::Client::new(sdk);
        let arn = sns
            .create_topic()
            .name(unique("alerts"))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        Topic {
            arn,
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }

    /// Subscribes a new queue; `raw` delivers the `sqs` body itself, otherwise SNS's JSON envelope.
    pub async fn subscribe(
        &self,
        sdk: &aws_config::SdkConfig,
        raw: bool,
        filter_policy: Option<&str>,
    ) -> String {
        let url = self
            .sqs
            .create_queue()
            .queue_name(unique("q"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let queue_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let mut request = aws_sdk_sns::Client::new(sdk)
            .subscribe()
            .topic_arn(&self.arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", raw.to_string());
        if let Some(policy) = filter_policy {
            request = request.attributes("FilterPolicy", policy);
        }
        request.send().await.unwrap();
        url
    }

    /// Everything the queue holds now: (body, message attributes as name → string value).
    pub async fn drain(&self, queue_url: &str) -> Vec<(String, serde_json::Map<String, Value>)> {
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let attributes = m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v.string_value.unwrap_or_default())))
                    .collect();
                out.push((m.body.unwrap_or_default(), attributes));
                self.sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// The smallest valid zip: an end-of-central-directory record (moto stores functions, it never runs these).
const EMPTY_ZIP: &[u8] = &[
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A role Lambda may assume.
pub async fn create_role(sdk: &aws_config::SdkConfig) -> String {
    aws_sdk_iam::Client::new(sdk)
        .create_role()
        .role_name(unique("role"))
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn
}

/// A function (never invoked), by name; its ARN.
pub async fn create_function(sdk: &aws_config::SdkConfig, role: &str, name: &str) -> String {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    aws_sdk_lambda::Client::new(sdk)
        .create_function()
        .function_name(name)
        .role(role)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(EMPTY_ZIP))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .function_arn
        .unwrap()
}

/// A subscription delivery (`{"awslogs":{"data":...}}`) of `messages` from `log_group`, one event each, the n-th
/// at `first_timestamp + n` ms.
pub fn delivery(log_group: &str, messages: &[String], first_timestamp: i64) -> Vec<u8> {
    delivery_of("123456789012", log_group, messages, first_timestamp)
}

/// [`delivery`] from the account `owner`.
pub fn delivery_of(
    owner: &str,
    log_group: &str,
    messages: &[String],
    first_timestamp: i64,
) -> Vec<u8> {
    apigw_doctor::ingest::encode(&apigw_doctor::ingest::Batch {
        message_type: "DATA_MESSAGE".into(),
        owner: owner.into(),
        log_group: log_group.into(),
        log_stream: "e369853df766fa44e1ed0ff613f563bd".into(),
        subscription_filters: vec!["apigw-doctor".into()],
        log_events: messages
            .iter()
            .enumerate()
            .map(|(i, m)| apigw_doctor::ingest::LogEvent {
                id: i.to_string().into(),
                timestamp: first_timestamp + i as i64,
                message: m.as_str().into(),
            })
            .collect(),
    })
    .unwrap()
}

/// The id of the API's resource at `path`.
pub async fn resource_id(apigw: &aws_sdk_apigateway::Client, api_id: &str, path: &str) -> String {
    apigw
        .get_resources()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap()
        .items
        .unwrap()
        .into_iter()
        .find(|r| r.path.as_deref() == Some(path))
        .unwrap()
        .id
        .unwrap()
}

/// The id of the API's root resource (`/`).
pub async fn root_resource(apigw: &aws_sdk_apigateway::Client, api_id: &str) -> String {
    resource_id(apigw, api_id, "/").await
}
