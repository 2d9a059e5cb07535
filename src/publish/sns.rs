//! The publishing port and its SNS adapter.

use std::future::Future;

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use super::render::{Message, NUMBER_ATTRIBUTES};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("publish to {topic_arn} failed: {reason}")]
    Sns { topic_arn: String, reason: String },
    #[error("could not build the sns request for {topic_arn}: {reason}")]
    Request { topic_arn: String, reason: String },
    /// Not sent, or not answered, before the invocation's deadline: the retry sends it.
    #[error("publish not finished before the invocation's deadline ({subject})")]
    Deadline { subject: String },
}

/// Somewhere alerts go.
pub trait Publisher {
    /// Publishes one message; returns the service's message id.
    fn publish(
        &self,
        message: &Message,
    ) -> impl Future<Output = Result<String, PublishError>> + Send;
}

/// Publishes to one SNS topic with `MessageStructure=json`.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> SnsPublisher {
        SnsPublisher {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

impl Publisher for SnsPublisher {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message_structure("json")
            .message(message.structured());
        for (name, value) in &message.attributes {
            let data_type = if NUMBER_ATTRIBUTES.contains(name) {
                "Number"
            } else {
                "String"
            };
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| PublishError::Request {
                    topic_arn: self.topic_arn.clone(),
                    reason: e.to_string(),
                })?;
            request = request.message_attributes(*name, attribute);
        }
        let output = request.send().await.map_err(|e| PublishError::Sns {
            topic_arn: self.topic_arn.clone(),
            reason: DisplayErrorContext(&e).to_string(),
        })?;
        Ok(output.message_id.unwrap_or_default())
    }
}
