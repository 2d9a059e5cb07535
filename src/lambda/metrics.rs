//! Self-observability: counters for one invocation, written as CloudWatch Embedded Metric Format lines.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::diagnose::classify::Cause;

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    pub deliveries: u64,
    pub control_messages: u64,
    pub events: u64,
    pub requests: u64,
    pub by_cause: BTreeMap<Cause, u64>,
    pub alerts_sent: u64,
    pub decode_failures: u64,
    pub publish_failures: u64,
    pub remediations_applied: u64,
    pub remediations_dry_run: u64,
    pub remediations_refused: u64,
    pub remediations_failed: u64,
    /// Access-log lines in a layout we do not read (CLF-like).
    pub access_log_lines_unread: u64,
    /// Kinesis records reported in `batchItemFailures`.
    pub records_failed: u64,
    /// Alerts counted in the suppression table instead of sent.
    pub alerts_suppressed: u64,
    /// Suppression table errors: alerts went out anyway (fail open).
    pub suppression_errors: u64,
    /// Log groups discovery put our subscription filter on (new or updated).
    pub log_groups_subscribed: u64,
    /// Log groups with two filters of others: not watched.
    pub log_groups_full: u64,
    /// CloudWatch Logs calls of discovery that failed (the next sweep tries again).
    pub subscription_errors: u64,
    /// Latent problems found by the sweep's audit past the invocation's alert budget: logged, not sent.
    pub alerts_not_sent: u64,
    /// Overflow problems sent without a noise-control write of their own (past the itemised ones, or no time).
    pub suppression_skipped: u64,
    /// Alerts (and an overflow message) not tried because the deadline came: the invocation fails for a retry.
    pub deadline_cut: u64,
    /// CloudFormation-shaped requests refused (another stack, another answer URL, another function).
    pub custom_resource_refused: u64,
    /// JSON records past an access-log format's bounds, skipped unread.
    pub oversized_records: u64,
}

impl Metrics {
    /// The invocation-level counters, by their metric names.
    pub fn counters(&self) -> [(&'static str, u64); 23] {
        [
            ("Deliveries", self.deliveries),
            ("ControlMessages", self.control_messages),
            ("Events", self.events),
            ("Requests", self.requests),
            ("AlertsSent", self.alerts_sent),
            ("DecodeFailures", self.decode_failures),
            ("PublishFailures", self.publish_failures),
            ("RemediationsApplied", self.remediations_applied),
            ("RemediationsDryRun", self.remediations_dry_run),
            ("RemediationsRefused", self.remediations_refused),
            ("RemediationsFailed", self.remediations_failed),
            ("AccessLogLinesUnread", self.access_log_lines_unread),
            ("RecordsFailed", self.records_failed),
            ("AlertsSuppressed", self.alerts_suppressed),
            ("SuppressionErrors", self.suppression_errors),
            ("LogGroupsSubscribed", self.log_groups_subscribed),
            ("LogGroupsFull", self.log_groups_full),
            ("SubscriptionErrors", self.subscription_errors),
            ("AlertsNotSent", self.alerts_not_sent),
            ("SuppressionSkipped", self.suppression_skipped),
            ("DeadlineCut", self.deadline_cut),
            ("CustomResourceRefused", self.custom_resource_refused),
            ("OversizedRecords", self.oversized_records),
        ]
    }

    /// Counts every decision of a remediation report.
    pub fn add_remediation(&mut self, report: &crate::remediate::Report) {
        for action in &report.actions {
            match action.outcome {
                "applied" => self.remediations_applied += 1,
                // A plan awaiting approval changed nothing yet: counted with the dry runs.
                "dry-run" | crate::remediate::AWAITING_APPROVAL => self.remediations_dry_run += 1,
                "failed" => self.remediations_failed += 1,
                _ => self.remediations_refused += 1,
            }
        }
    }

    /// Counts what a discovery run did.
    pub fn add_subscriptions(&mut self, report: &crate::subscribe::Report) {
        self.log_groups_subscribed += (report.subscribed.len() + report.updated.len()) as u64;
        self.log_groups_full += report.full.len() as u64;
        self.subscription_errors += report.failed.len() as u64;
    }

    pub fn add_causes(&mut self, by_cause: &BTreeMap<Cause, u64>) {
        for (cause, n) in by_cause {
            *self.by_cause.entry(*cause).or_default() += n;
        }
    }
}

/// One EMF document with the invocation's counters, and one per cause seen (dimension `Cause`).
pub fn emf_lines(metrics: &Metrics, namespace: &str, timestamp_ms: i64) -> Vec<String> {
    let mut lines = Vec::with_capacity(1 + metrics.by_cause.len());
    let mut doc = Map::new();
    doc.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": metrics.counters().iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in metrics.counters() {
        doc.insert(name.to_owned(), Value::from(value));
    }
    lines.push(Value::Object(doc).to_string());
    for (cause, n) in &metrics.by_cause {
        lines.push(
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [["Cause"]],
                        "Metrics": [{"Name": "RequestsByCause", "Unit": "Count"}],
                    }],
                },
                "Cause": cause.as_str(),
                "RequestsByCause": n,
            })
            .to_string(),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_has_one_document_for_counters_and_one_per_cause() {
        let mut m = Metrics {
            deliveries: 1,
            decode_failures: 1,
            ..Metrics::default()
        };
        m.by_cause.insert(Cause::FunctionError, 3);
        let lines = emf_lines(&m, "ApigwDoctor", 1_700_000_000_000);
        assert_eq!(lines.len(), 2);
        let counters: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(counters["DecodeFailures"], 1);
        assert_eq!(
            counters["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ApigwDoctor"
        );
        let by_cause: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(by_cause["Cause"], "function_error");
        assert_eq!(by_cause["RequestsByCause"], 3);
    }
}
