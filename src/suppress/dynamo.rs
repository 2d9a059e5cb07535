//! The suppression state in DynamoDB: one item per fingerprint (key `fingerprint`), written only with a
//! condition on the version read (or on the item not existing), so that of two invocations racing on one
//! fingerprint exactly one sends. `expires_at` (epoch seconds) is the table's TTL attribute.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    Admission, MAX_SWEEP_ITEMS, State, SuppressError, Suppressor, SweepItem, Timing, Undo,
    on_occurrence, on_sweep,
};
use crate::alert::Alert;
use crate::remediate::Report;

/// Items outlive their last occurrence by this long, then DynamoDB's TTL removes them.
const KEEP_SECONDS: i64 = 7 * 24 * 3600;
/// Read-decide-write attempts per alert when other invocations keep winning the race.
const ATTEMPTS: usize = 4;

/// Milliseconds since the epoch; injected so tests can move time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    })
}

pub struct DynamoSuppressor {
    client: Client,
    table: String,
    timing: Timing,
    clock: Clock,
}

enum WriteError {
    /// Another invocation wrote first.
    Conflict,
    Other(String),
}

impl DynamoSuppressor {
    pub fn new(client: Client, table: impl Into<String>, timing: Timing, clock: Clock) -> Self {
        DynamoSuppressor {
            client,
            table: table.into(),
            timing,
            clock,
        }
    }

    fn error(&self, reason: String) -> SuppressError {
        SuppressError {
            table: self.table.clone(),
            reason,
        }
    }

    async fn get(&self, fingerprint: &str) -> Result<Option<State>, SuppressError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("fingerprint", AttributeValue::S(fingerprint.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(DisplayErrorContext(&e).to_string()))?;
        Ok(output.item.as_ref().and_then(from_item))
    }

    /// Writes `state` if the stored version is still `expected` (`None`: if there is no item).
    async fn put(&self, state: &State, expected: Option<u64>) -> Result<(), WriteError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(state)));
        request = match expected {
            None => request.condition_expression("attribute_not_exists(fingerprint)"),
            Some(version) => request
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", number(version as i64)),
        };
        request.send().await.map(|_| ()).map_err(classify_write)
    }

    async fn delete(&self, fingerprint: &str, expected: u64) -> Result<(), WriteError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("fingerprint", AttributeValue::S(fingerprint.to_owned()))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", number(expected as i64))
            .send()
            .await
            .map(|_| ())
            .map_err(classify_write)
    }

    async fn open_states(&self) -> Result<Vec<State>, SuppressError> {
        let mut states = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("#o = :open")
                .expression_attribute_names("#o", "open")
                .expression_attribute_values(":open", AttributeValue::Bool(true))
                .set_exclusive_start_key(start.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.error(DisplayErrorContext(&e).to_string()))?;
            states.extend(page.items().iter().filter_map(from_item));
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(states),
            }
        }
    }
}

impl Suppressor for DynamoSuppressor {
    fn is_configured(&self) -> bool {
        true
    }

    async fn admit(&self, alert: &Alert, remediation: &Report) -> Admission {
        for _ in 0..ATTEMPTS {
            let previous = match self.get(&alert.fingerprint).await {
                Ok(previous) => previous,
                Err(error) => {
                    return Admission::FailOpen {
                        reason: error.to_string(),
                    };
                }
            };
            let now = (self.clock)();
            let (notice, next) =
                on_occurrence(previous.as_ref(), alert, remediation, now, &self.timing);
            match self.put(&next, previous.as_ref().map(|p| p.version)).await {
                Ok(()) => {
                    return match notice {
                        Some(notice) => Admission::Send {
                            notice: Some(notice),
                            undo: Some(Box::new(Undo {
                                previous,
                                written_version: next.version,
                                fingerprint: next.fingerprint,
                            })),
                        },
                        None => Admission::Suppress,
                    };
                }
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Other(reason)) => {
                    return Admission::FailOpen {
                        reason: self.error(reason).to_string(),
                    };
                }
            }
        }
        Admission::FailOpen {
            reason: format!(
                "suppression table {}: still contended after {ATTEMPTS} attempts",
                self.table
            ),
        }
    }

    async fn undo(&self, undo: Box<Undo>) {
        let result = match &undo.previous {
            Some(previous) => self.put(previous, Some(undo.written_version)).await,
            None => self.delete(&undo.fingerprint, undo.written_version).await,
        };
        match result {
            Ok(()) => {}
            // Someone wrote after us: their state stands.
            Err(WriteError::Conflict) => {}
            Err(WriteError::Other(reason)) => tracing::warn!(
                fingerprint = %undo.fingerprint,
                %reason,
                "Could not take back the suppression state of an alert that was not published"
            ),
        }
    }

    async fn sweep(&self) -> Result<Vec<SweepItem>, SuppressError> {
        let now = (self.clock)();
        let due = self
            .open_states()
            .await?
            .into_iter()
            .filter_map(|state| {
                on_sweep(&state, now, &self.timing).map(|(notice, next)| SweepItem {
                    notice,
                    read_version: state.version,
                    state: next,
                })
            })
            .take(MAX_SWEEP_ITEMS)
            .collect();
        Ok(due)
    }

    async fn close(&self, item: &SweepItem) -> Result<bool, SuppressError> {
        match self.put(&item.state, Some(item.read_version)).await {
            Ok(()) => Ok(true),
            // A delivery updated it meanwhile: the next sweep looks again.
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Other(reason)) => Err(self.error(reason)),
        }
    }

    /// One item under `key` (never `open`, so the sweep's scan passes it by), written only when absent or past its
    /// `until` (the TTL deletes it later, not on time).
    async fn remember(&self, key: &str, for_ms: i64) -> Result<bool, SuppressError> {
        let now = (self.clock)();
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("fingerprint", AttributeValue::S(key.to_owned()))
            .item("until", number(now + for_ms))
            .item("expires_at", number((now + for_ms) / 1000 + 3600))
            .condition_expression("attribute_not_exists(fingerprint) OR #u < :now")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":now", number(now))
            .send()
            .await
            .map(|_| ())
            .map_err(classify_write);
        match written {
            Ok(()) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Other(reason)) => Err(self.error(reason)),
        }
    }

    async fn keep(&self, key: &str, value: &str, for_ms: i64) -> Result<(), SuppressError> {
        self.keep_item(key, value, for_ms).await
    }

    async fn recall(&self, key: &str) -> Result<Option<String>, SuppressError> {
        self.recall_item(key).await
    }
}

impl DynamoSuppressor {
    async fn keep_item(&self, key: &str, value: &str, for_ms: i64) -> Result<(), SuppressError> {
        let now = (self.clock)();
        self.client
            .put_item()
            .table_name(&self.table)
            .item("fingerprint", AttributeValue::S(key.to_owned()))
            .item("value", AttributeValue::S(value.to_owned()))
            .item("until", number(now + for_ms))
            .item("expires_at", number((now + for_ms) / 1000 + 3600))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(DisplayErrorContext(&e).to_string()))
    }

    /// The kept value, unless past its `until` (DynamoDB's TTL deletes late, up to days after).
    async fn recall_item(&self, key: &str) -> Result<Option<String>, SuppressError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("fingerprint", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(DisplayErrorContext(&e).to_string()))?;
        let now = (self.clock)();
        Ok(output.item.and_then(|item| {
            let until = item.get("until")?.as_n().ok()?.parse::<i64>().ok()?;
            (until > now).then_some(())?;
            item.get("value")?.as_s().ok().cloned()
        }))
    }
}

/// The suppressor the configuration asks for: DynamoDB when a table is named (`SUPPRESSION_TABLE`), else none.
pub enum Configured {
    Off(super::NoSuppression),
    Dynamo(DynamoSuppressor),
}

impl Configured {
    pub fn new(table: Option<&str>, timing: Timing, sdk: &aws_config::SdkConfig) -> Configured {
        match table {
            Some(table) => Configured::Dynamo(DynamoSuppressor::new(
                Client::new(sdk),
                table.to_owned(),
                timing,
                system_clock(),
            )),
            None => Configured::Off(super::NoSuppression),
        }
    }
}

impl Suppressor for Configured {
    fn is_configured(&self) -> bool {
        matches!(self, Configured::Dynamo(_))
    }

    async fn admit(&self, alert: &Alert, remediation: &Report) -> Admission {
        match self {
            Configured::Off(s) => s.admit(alert, remediation).await,
            Configured::Dynamo(s) => s.admit(alert, remediation).await,
        }
    }

    async fn undo(&self, undo: Box<Undo>) {
        match self {
            Configured::Off(s) => s.undo(undo).await,
            Configured::Dynamo(s) => s.undo(undo).await,
        }
    }

    async fn sweep(&self) -> Result<Vec<SweepItem>, SuppressError> {
        match self {
            Configured::Off(s) => s.sweep().await,
            Configured::Dynamo(s) => s.sweep().await,
        }
    }

    async fn close(&self, item: &SweepItem) -> Result<bool, SuppressError> {
        match self {
            Configured::Off(s) => s.close(item).await,
            Configured::Dynamo(s) => s.close(item).await,
        }
    }

    async fn remember(&self, key: &str, for_ms: i64) -> Result<bool, SuppressError> {
        match self {
            Configured::Off(s) => s.remember(key, for_ms).await,
            Configured::Dynamo(s) => s.remember(key, for_ms).await,
        }
    }

    async fn keep(&self, key: &str, value: &str, for_ms: i64) -> Result<(), SuppressError> {
        match self {
            Configured::Off(s) => s.keep(key, value, for_ms).await,
            Configured::Dynamo(s) => s.keep_item(key, value, for_ms).await,
        }
    }

    async fn recall(&self, key: &str) -> Result<Option<String>, SuppressError> {
        match self {
            Configured::Off(s) => s.recall(key).await,
            Configured::Dynamo(s) => s.recall_item(key).await,
        }
    }
}

fn classify_write<E, R>(error: SdkError<E, R>) -> WriteError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.as_service_error().and_then(|e| e.code());
    if code == Some("ConditionalCheckFailedException") {
        WriteError::Conflict
    } else {
        WriteError::Other(DisplayErrorContext(&error).to_string())
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn to_item(state: &State) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::new();
    let mut text = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            item.insert(name.to_owned(), AttributeValue::S(v.clone()));
        }
    };
    text("account", &state.account);
    text("api_id", &state.api_id);
    text("stage", &state.stage);
    text("method", &state.method);
    text("resource_path", &state.resource_path);
    text("log_group", &state.log_group);
    item.insert(
        "remediation".to_owned(),
        AttributeValue::S(state.remediation.clone()),
    );
    for (name, value) in [
        ("first_seen", state.first_seen),
        ("last_seen", state.last_seen),
        ("last_sent", state.last_sent),
        ("window_ms", state.window_ms),
        ("suppressed", state.suppressed as i64),
        ("total", state.total as i64),
        ("severity", i64::from(state.severity)),
        ("version", state.version as i64),
        ("expires_at", state.last_seen / 1000 + KEEP_SECONDS),
    ] {
        item.insert(name.to_owned(), number(value));
    }
    if let Some(status) = state.status {
        item.insert("status".to_owned(), number(i64::from(status)));
    }
    item.insert(
        "fingerprint".to_owned(),
        AttributeValue::S(state.fingerprint.clone()),
    );
    item.insert("open".to_owned(), AttributeValue::Bool(state.open));
    if !state.deliveries.is_empty() {
        let list = state.deliveries.iter().cloned().map(AttributeValue::S);
        item.insert("deliveries".to_owned(), AttributeValue::L(list.collect()));
    }
    item.insert("cause".to_owned(), AttributeValue::S(state.cause.clone()));
    item.insert("region".to_owned(), AttributeValue::S(state.region.clone()));
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Option<State> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let int = |name: &str| -> Option<i64> { item.get(name)?.as_n().ok()?.parse().ok() };
    Some(State {
        fingerprint: text("fingerprint")?,
        open: item
            .get("open")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        first_seen: int("first_seen")?,
        last_seen: int("last_seen")?,
        last_sent: int("last_sent")?,
        window_ms: int("window_ms")?,
        suppressed: int("suppressed")? as u64,
        total: int("total")? as u64,
        severity: int("severity")? as u8,
        remediation: text("remediation").unwrap_or_default(),
        version: int("version")? as u64,
        deliveries: item
            .get("deliveries")
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default(),
        cause: text("cause")?,
        status: int("status").and_then(|s| u16::try_from(s).ok()),
        account: text("account"),
        region: text("region").unwrap_or_default(),
        api_id: text("api_id"),
        stage: text("stage"),
        method: text("method"),
        resource_path: text("resource_path"),
        log_group: text("log_group"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip() {
        let state = State {
            fingerprint: "0123456789abcdef".into(),
            open: true,
            first_seen: 1,
            last_seen: 2_000,
            last_sent: 3,
            window_ms: 300_000,
            suppressed: 5,
            total: 9,
            severity: 2,
            remediation: "dry-run".into(),
            version: 4,
            deliveries: vec!["0011223344556677".into(), "8899aabbccddeeff".into()],
            cause: "function_error".into(),
            status: Some(502),
            account: Some("123456789012".into()),
            region: "us-east-1".into(),
            api_id: Some("a1b2c3d4e5".into()),
            stage: Some("prod".into()),
            method: Some("GET".into()),
            resource_path: None,
            log_group: None,
        };
        let item = to_item(&state);
        assert_eq!(item["expires_at"], number(2 + KEEP_SECONDS));
        assert_eq!(from_item(&item), Some(state));
    }
}
