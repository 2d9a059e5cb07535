//! The CloudWatch Logs adapter of [`super::LogsApi`].

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};

use crate::aws_error::explain;

use super::{Filter, LogsApi, Settings, SubscribeError};

pub struct CloudWatchLogs {
    client: Client,
}

impl CloudWatchLogs {
    pub fn new(client: Client) -> Self {
        CloudWatchLogs { client }
    }
}

fn error<E, R>(operation: &'static str, target: &str, e: SdkError<E, R>) -> SubscribeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    SubscribeError {
        operation,
        target: target.to_owned(),
        reason: explain(&format!("logs:{operation}"), &e),
    }
}

impl LogsApi for CloudWatchLogs {
    async fn log_groups(&self, prefix: &str) -> Result<Vec<String>, SubscribeError> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("DescribeLogGroups", prefix, e))?;
            names.extend(
                page.log_groups
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|g| g.log_group_name),
            );
        }
        Ok(names)
    }

    async fn filters(&self, log_group: &str) -> Result<Vec<Filter>, SubscribeError> {
        let out = self
            .client
            .describe_subscription_filters()
            .log_group_name(log_group)
            .send()
            .await
            .map_err(|e| error("DescribeSubscriptionFilters", log_group, e))?;
        Ok(out
            .subscription_filters
            .unwrap_or_default()
            .into_iter()
            .map(|f| Filter {
                name: f.filter_name.unwrap_or_default(),
                destination_arn: f.destination_arn.unwrap_or_default(),
                pattern: f.filter_pattern.unwrap_or_default(),
            })
            .collect())
    }

    async fn put_filter(
        &self,
        log_group: &str,
        settings: &Settings,
        destination_arn: &str,
    ) -> Result<(), SubscribeError> {
        self.client
            .put_subscription_filter()
            .log_group_name(log_group)
            .filter_name(&settings.filter_name)
            .filter_pattern(&settings.filter_pattern)
            .destination_arn(super::unqualified(destination_arn))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error("PutSubscriptionFilter", log_group, e))
    }

    async fn delete_filter(
        &self,
        log_group: &str,
        filter_name: &str,
    ) -> Result<(), SubscribeError> {
        self.client
            .delete_subscription_filter()
            .log_group_name(log_group)
            .filter_name(filter_name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error("DeleteSubscriptionFilter", log_group, e))
    }
}
