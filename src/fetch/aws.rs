//! The CloudWatch Logs adapter of [`super::LogsReader`]: `FilterLogEvents`, page by page.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::aws_error::explain;

use super::{FetchError, LogsReader, Window};

/// Reads with `logs:FilterLogEvents` only.
#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl CloudWatchLogs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> CloudWatchLogs {
        CloudWatchLogs { client }
    }
}

impl LogsReader for CloudWatchLogs {
    async fn filter(
        &self,
        log_group: &str,
        pattern: Option<&str>,
        window: Window,
        limit: u64,
        seen: &mut (dyn FnMut(u64) + Send),
        stop: &AtomicBool,
    ) -> Result<Vec<(i64, String)>, FetchError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            if stop.load(Ordering::Relaxed) || events.len() as u64 >= limit {
                break;
            }
            let page_size = (limit - events.len() as u64).clamp(1, 10_000) as i32;
            let page = self
                .client
                .filter_log_events()
                .log_group_name(log_group)
                .set_filter_pattern(pattern.map(str::to_owned))
                .start_time(window.start_ms)
                .end_time(window.end_ms - 1)
                .limit(page_size)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| FetchError::Logs {
                    operation: "FilterLogEvents",
                    log_group: log_group.to_owned(),
                    reason: explain("logs:FilterLogEvents", &e),
                })?;
            for event in page.events.unwrap_or_default() {
                if let (Some(ts), Some(message)) = (event.timestamp, event.message) {
                    events.push((ts, message));
                }
            }
            seen(events.len() as u64);
            match page.next_token {
                // The same token twice would loop forever.
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => break,
            }
        }
        events.truncate(limit as usize);
        events.sort_by_key(|(ts, _)| *ts);
        Ok(events)
    }
}
