//! The sweep's audit: each watched API stage's configuration, at most every `LATENT_AUDIT_HOURS`, so that what
//! will answer 500 (a Lambda integration or authorizer API Gateway may not invoke) is reported, and in `auto` mode
//! fixed, before a client meets it.
//!
//! Which APIs: the execution log groups the function watches (`API-Gateway-Execution-Logs_{api}/{stage}`, the
//! discovery settings' prefix and `DISCOVERY_ONLY`). When: the suppression table remembers each audit for the
//! interval (so concurrent sweeps audit an API once), and each latent problem for a day (one alert a day while it
//! lasts). What changes the account: only the remediator, through its own guarded planner, from the API's own
//! configuration. Without a suppression table nothing is audited (every 5-minute sweep would audit every API).

use serde::Serialize;

use super::{Budget, Handler, Metrics};
use crate::alert::{Alert, ConfiguredProblem};
use crate::audit::{CheckResult, Status, Target};
use crate::diagnose::Cause;
use crate::diagnose::finding::execution_log_group;
use crate::publish::render::render_noticed;
use crate::publish::sns::Publisher;
use crate::remediate::{ApiKind, Remediator};
use crate::subscribe::{EXECUTION_LOG_PREFIX, LogsApi};
use crate::suppress::{Notice, Suppressor};

/// API stages audited in one sweep at most: the sweep has a 5-minute schedule and a deadline.
pub const MAX_AUDITS_PER_SWEEP: usize = 10;
/// A latent problem that is still there is reported again after this long.
pub const LATENT_REMINDER_MS: i64 = 24 * 3_600_000;

pub use crate::audit::auditor::{Auditor, LiveAuditor, NoAudit};

/// What the sweep's audit did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LatentReport {
    /// API stages audited in this sweep.
    pub audited: u64,
    /// Latent problems alerted (`notice=latent`), fixed ones included.
    pub alerts_sent: u64,
    /// Of those, fixed by self-healing before any client saw them.
    pub fixed: u64,
    /// `api/stage: reason` for each audit that could not run, and why auditing did not run at all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// The alert for one failing check: the same fingerprint fields as a live failure of the route (account, region,
/// API, stage, route, cause), so that self-healing plans it the same way.
pub fn latent_alert(check: &CheckResult, account: &str, region: &str) -> Option<Alert> {
    if check.status != Status::Fail || check.check != "invoke_permission" {
        return None;
    }
    let cause = if check.authorizer_id.is_some() {
        Cause::AuthorizerMissingInvokePermission
    } else {
        Cause::MissingInvokePermission
    };
    let mut alert = ConfiguredProblem {
        cause,
        account: account.to_owned(),
        region: region.to_owned(),
        api_id: check.api_id.clone(),
        stage: check.stage.clone(),
        method: check.method.clone(),
        resource_path: check.resource_path.clone(),
        authorizer_id: check.authorizer_id.clone(),
        function_arn: check.function_arn.clone(),
        evidence: vec![format!("audit {}: {}", check.check, check.message)],
    }
    .alert()?;
    // No request has failed yet.
    alert.count = 0;
    Some(alert)
}

impl<P, R, S, L, C, A, M> Handler<'_, P, R, S, L, C, A, M>
where
    P: Publisher,
    R: Remediator,
    S: Suppressor,
    L: LogsApi,
    C: super::custom_resource::Responder,
    A: Auditor,
    M: super::members::Members,
{
    /// The sweep's audit of the watched API stages that are due. Never fails the sweep: what could not run is
    /// reported in [`LatentReport::failed`] and logged.
    pub(super) async fn audit_latent(
        &self,
        account: &str,
        every_ms: i64,
        budget: &mut Budget,
        metrics: &mut Metrics,
    ) -> LatentReport {
        let mut report = LatentReport::default();
        if !self.suppressor.is_configured() {
            report
                .failed
                .push("LATENT_AUDIT_HOURS needs SUPPRESSION_TABLE: nothing audited".to_owned());
            return report;
        }
        let region = self.config.region.as_str();
        let groups = match self.logs.log_groups(EXECUTION_LOG_PREFIX).await {
            Ok(groups) => groups,
            Err(error) => {
                report.failed.push(error.to_string());
                return report;
            }
        };
        let mut stages: Vec<(String, String, ApiKind)> = groups
            .iter()
            .filter(|g| self.config.discovery.watches(g))
            .filter_map(|g| execution_log_group(g))
            .map(|(api, stage)| (api.to_owned(), stage.to_owned(), ApiKind::Rest))
            .collect();
        // HTTP APIs write no execution log: their stages are found through the API, watched through the access log.
        match self.auditor.v2_stages().await {
            Ok(found) => stages.extend(
                found
                    .into_iter()
                    .filter(|s| s.kind == ApiKind::Http)
                    .filter(|s| {
                        s.access_log_group
                            .as_deref()
                            .is_some_and(|g| self.config.discovery.watches_stage_log(&s.api_id, g))
                    })
                    .map(|s| (s.api_id, s.stage, s.kind)),
            ),
            Err(error) => report.failed.push(format!("HTTP API stages: {error}")),
        }
        for (api_id, stage, kind) in &stages {
            let (api_id, stage) = (api_id.as_str(), stage.as_str());
            if report.audited as usize >= MAX_AUDITS_PER_SWEEP || !self.has_time_for_a_step() {
                break;
            }
            let key = format!("audit#{account}/{region}/{api_id}/{stage}");
            match self.suppressor.remember(&key, every_ms).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    metrics.suppression_errors += 1;
                    report.failed.push(format!("{api_id}/{stage}: {error}"));
                    return report;
                }
            }
            report.audited += 1;
            let target = Target {
                api_id,
                kind: *kind,
                stage,
                region,
                account: Some(account),
            };
            let results = match self.auditor.audit(&target).await {
                Ok(results) => results,
                Err(error) => {
                    tracing::warn!(%error, api_id, stage, "Audit could not read the API");
                    report.failed.push(format!("{api_id}/{stage}: {error}"));
                    continue;
                }
            };
            for alert in results
                .iter()
                .filter_map(|check| latent_alert(check, account, region))
            {
                self.report_latent(&alert, budget, metrics, &mut report)
                    .await;
            }
        }
        report
    }

    /// Heals the latent problem when self-healing may, and alerts: at once when it was fixed, else once a day.
    async fn report_latent(
        &self,
        alert: &Alert,
        budget: &mut Budget,
        metrics: &mut Metrics,
        report: &mut LatentReport,
    ) {
        let mut remediation = self.remediator.remediate(alert, &mut budget.changes).await;
        let fixed = remediation.status == "applied";
        if !fixed {
            let key = format!("latent#{}", alert.fingerprint);
            match self.suppressor.remember(&key, LATENT_REMINDER_MS).await {
                Ok(true) => {}
                Ok(false) => return,
                // Fail open, as for live alerts.
                Err(error) => {
                    metrics.suppression_errors += 1;
                    tracing::warn!(%error, "Latent problem not remembered: alerting anyway");
                }
            }
        }
        if budget.alerts == 0 {
            metrics.alerts_not_sent += 1;
            return;
        }
        budget.alerts -= 1;
        self.offer(alert, &mut remediation, metrics).await;
        let message = render_noticed(alert, &remediation, Some(&Notice::Latent));
        match self.send(&message, Vec::new(), metrics).await {
            Ok(()) => {
                report.alerts_sent += 1;
                report.fixed += u64::from(fixed);
            }
            Err(error) => report
                .failed
                .push(format!("{}: {error}", alert.fingerprint)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: Status, check: &'static str, authorizer: Option<&str>) -> CheckResult {
        CheckResult {
            check,
            status,
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: authorizer.is_none().then(|| "POST".into()),
            resource_path: authorizer.is_none().then(|| "/orders".into()),
            authorizer_id: authorizer.map(str::to_owned),
            function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:orders-api".into()),
            message: "no statement allows apigateway.amazonaws.com".into(),
            fix: Some("aws lambda add-permission ...".into()),
            command: None,
            iac_snippet: None,
            routes: Vec::new(),
        }
    }

    #[test]
    fn only_a_failing_invoke_permission_is_latent() {
        let alert = latent_alert(
            &check(Status::Fail, "invoke_permission", None),
            "123456789012",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(alert.cause, Cause::MissingInvokePermission);
        assert_eq!(alert.count, 0);
        assert_eq!(alert.api_id.as_deref(), Some("a1b2c3d4e5"));
        assert_eq!(alert.resource_path.as_deref(), Some("/orders"));
        let message = render_noticed(
            &alert,
            &crate::remediate::Report::none(),
            Some(&Notice::Latent),
        );
        assert_eq!(
            message.subject,
            "[apigw-doctor] POST /orders will answer 500: API Gateway may not invoke orders-api"
        );
        assert!(
            message
                .attributes
                .contains(&("notice", "latent".to_owned()))
        );
        // No request has failed: the bodies say so, and the chat summary is the latent subject.
        assert!(
            message
                .bodies
                .email()
                .contains("No request has failed yet on a1b2c3d4e5/prod POST /orders")
        );
        assert!(!message.bodies.email().contains("answered 500 to 0"));
        let chat: serde_json::Value = serde_json::from_str(message.bodies.https()).unwrap();
        assert_eq!(chat["metadata"]["summary"], message.subject.as_str());
        let authorizer = latent_alert(
            &check(Status::Fail, "invoke_permission", Some("x1y2z3")),
            "123456789012",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(authorizer.cause, Cause::AuthorizerMissingInvokePermission);
        for other in [
            check(Status::Warn, "invoke_permission", None),
            check(Status::Pass, "invoke_permission", None),
            check(Status::Fail, "function_exists", None),
        ] {
            assert!(latent_alert(&other, "123456789012", "us-east-1").is_none());
        }
    }
}
