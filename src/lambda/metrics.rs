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
    /// Failing requests of the alerted problems, per account (`ProblemsByAccount`, dimension `Account`).
    pub by_account: BTreeMap<String, u64>,
    /// The same per API stage (`ProblemsByApi`, dimensions `ApiId`, `Stage`).
    pub by_api: BTreeMap<(String, String), u64>,
}

/// Distinct values of a dimension per invocation at most (the rest are counted under `other`): a metric per
/// value is a custom metric, billed; accounts and alerted API stages are few, this bounds a storm.
pub const MAX_DIMENSION_VALUES: usize = 50;

fn add_bounded<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, other: K, n: u64) {
    let key = if map.contains_key(&key) || map.len() < MAX_DIMENSION_VALUES {
        key
    } else {
        other
    };
    *map.entry(key).or_default() += n;
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

    /// Adds another run's counts (a member account swept alongside others).
    pub fn absorb(&mut self, other: Metrics) {
        let Metrics {
            deliveries,
            control_messages,
            events,
            requests,
            by_cause,
            alerts_sent,
            decode_failures,
            publish_failures,
            remediations_applied,
            remediations_dry_run,
            remediations_refused,
            remediations_failed,
            access_log_lines_unread,
            records_failed,
            alerts_suppressed,
            suppression_errors,
            log_groups_subscribed,
            log_groups_full,
            subscription_errors,
            alerts_not_sent,
            suppression_skipped,
            deadline_cut,
            custom_resource_refused,
            oversized_records,
            by_account,
            by_api,
        } = other;
        self.deliveries += deliveries;
        self.control_messages += control_messages;
        self.events += events;
        self.requests += requests;
        self.alerts_sent += alerts_sent;
        self.decode_failures += decode_failures;
        self.publish_failures += publish_failures;
        self.remediations_applied += remediations_applied;
        self.remediations_dry_run += remediations_dry_run;
        self.remediations_refused += remediations_refused;
        self.remediations_failed += remediations_failed;
        self.access_log_lines_unread += access_log_lines_unread;
        self.records_failed += records_failed;
        self.alerts_suppressed += alerts_suppressed;
        self.suppression_errors += suppression_errors;
        self.log_groups_subscribed += log_groups_subscribed;
        self.log_groups_full += log_groups_full;
        self.subscription_errors += subscription_errors;
        self.alerts_not_sent += alerts_not_sent;
        self.suppression_skipped += suppression_skipped;
        self.deadline_cut += deadline_cut;
        self.custom_resource_refused += custom_resource_refused;
        self.oversized_records += oversized_records;
        self.add_causes(&by_cause);
        for (account, n) in by_account {
            add_bounded(&mut self.by_account, account, "other".to_owned(), n);
        }
        for (api, n) in by_api {
            add_bounded(
                &mut self.by_api,
                api,
                ("other".to_owned(), "other".to_owned()),
                n,
            );
        }
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

    /// Counts the failing requests of a delivery's alerted problems by account and by API stage.
    pub fn add_problems(&mut self, plan: &crate::alert::Plan) {
        for alert in plan.alerts.iter().chain(&plan.overflow) {
            let account = alert
                .account
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            add_bounded(
                &mut self.by_account,
                account,
                "other".to_owned(),
                alert.count,
            );
            if let (Some(api), Some(stage)) = (&alert.api_id, &alert.stage) {
                add_bounded(
                    &mut self.by_api,
                    (api.clone(), stage.clone()),
                    ("other".to_owned(), "other".to_owned()),
                    alert.count,
                );
            }
        }
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
    for (account, n) in &metrics.by_account {
        lines.push(
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [["Account"]],
                        "Metrics": [{"Name": "ProblemsByAccount", "Unit": "Count"}],
                    }],
                },
                "Account": account,
                "ProblemsByAccount": n,
            })
            .to_string(),
        );
    }
    for ((api, stage), n) in &metrics.by_api {
        lines.push(
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [["ApiId", "Stage"]],
                        "Metrics": [{"Name": "ProblemsByApi", "Unit": "Count"}],
                    }],
                },
                "ApiId": api,
                "Stage": stage,
                "ProblemsByApi": n,
            })
            .to_string(),
        );
    }
    lines
}

/// Every metric name the function emits (the dashboard may name no other).
pub fn metric_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Metrics::default()
        .counters()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    names.extend(["RequestsByCause", "ProblemsByAccount", "ProblemsByApi"]);
    names
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

    #[test]
    fn problems_are_counted_by_account_and_api_stage_with_bounded_dimensions() {
        let mut plan = crate::alert::Plan::default();
        let mut alert = crate::alert::tests_support::alert();
        alert.count = 7;
        plan.alerts.push(alert.clone());
        for i in 0..MAX_DIMENSION_VALUES + 5 {
            let mut other = alert.clone();
            other.account = Some(format!("{:012}", i));
            other.count = 1;
            plan.overflow.push(other);
        }
        let mut m = Metrics::default();
        m.add_problems(&plan);
        assert_eq!(m.by_account.len(), MAX_DIMENSION_VALUES + 1, "50 and other");
        assert_eq!(m.by_account["123456789012"], 7);
        assert_eq!(m.by_account["other"], 6);
        assert_eq!(
            m.by_api[&("a1b2c3d4e5".to_owned(), "prod".to_owned())],
            7 + 55
        );
        let lines = emf_lines(&m, "ApigwDoctor", 0);
        let api: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(api["ProblemsByApi"], 62);
        assert_eq!(
            api["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1],
            "Stage"
        );
    }
}
