//! `REMEDIATION_MODE=approve` at the edge: keep each planned fix of an alert that goes out (the state table, 24 h),
//! and take an approval (`{"approve":"<plan id>"}`, what the chat's "Apply fix" button invokes).
//!
//! The answer of an approval is the function's response (Chatbot shows it to whoever pressed the button) and, once
//! something was decided about a known plan, a message on the topic in the alert's chat thread.

use serde::Serialize;

use super::{Handler, Metrics};
use crate::alert::Alert;
use crate::publish::render::render_approval;
use crate::publish::sns::Publisher;
use crate::remediate::approval::{
    Approval, Offer, PLAN_TTL_MS, PendingPlan, approval_plan_id, decision_key, is_plan_id,
    plan_key, shown_id,
};
use crate::remediate::plan::Mode;
use crate::remediate::{Remediator, Report};
use crate::subscribe::LogsApi;
use crate::suppress::Suppressor;

/// What the function answers to an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutcome {
    pub approval: String,
    #[serde(flatten)]
    pub result: Approval,
    /// Whether the threaded result went out on the topic (`false` when there was nothing to thread, or it failed).
    pub published: bool,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl<P, R, S, L, C, A, M> Handler<'_, P, R, S, L, C, A, M>
where
    P: Publisher,
    R: Remediator,
    S: Suppressor,
    L: LogsApi,
    C: super::custom_resource::Responder,
    A: super::latent::Auditor,
    M: super::members::Members,
{
    /// In `approve` mode, keeps the plan of an alert about to go out and puts what its button needs in `report`.
    /// A plan that cannot be kept leaves the alert without a button (its text still gives the command).
    pub(super) async fn offer(&self, alert: &Alert, report: &mut Report, metrics: &mut Metrics) {
        if self.config.remediation.mode != Mode::Approve {
            return;
        }
        let now = now_ms();
        let Some(plan) = PendingPlan::of(alert, report, now) else {
            return;
        };
        let id = plan.new_id();
        let json = serde_json::to_string(&plan).unwrap_or_default();
        match self
            .suppressor
            .keep(&plan_key(&id), &json, PLAN_TTL_MS)
            .await
        {
            Ok(()) => {
                tracing::info!(audit = "remediation", plan_id = %id, fingerprint = %alert.fingerprint, "Plan kept for approval");
                report.approval = Some(Offer {
                    plan_id: id,
                    function_name: self.config.function_name.clone(),
                    expires_at: now + PLAN_TTL_MS,
                });
            }
            Err(error) => {
                metrics.suppression_errors += 1;
                tracing::warn!(%error, fingerprint = %alert.fingerprint, "Plan not kept: the alert goes without its Apply fix button");
            }
        }
    }

    /// An approval: look the plan up, let self-healing plan again and apply it if it still stands, answer, and
    /// thread the result under the alert. Never fails the invocation (a retry would not change the answer).
    pub async fn approval(&self, payload: &[u8], metrics: &mut Metrics) -> ApprovalOutcome {
        let raw = approval_plan_id(payload);
        // Only ever echoed cleaned: the answer goes to a chat channel.
        let id = raw.as_deref().map(shown_id).unwrap_or_default();
        let answer = |result: Approval| ApprovalOutcome {
            approval: id.clone(),
            result,
            published: false,
        };
        let Some(raw) = raw else {
            return answer(Approval::refused(
                "an approval is exactly {\"approve\":\"<plan id>\"}".to_owned(),
            ));
        };
        if self.config.remediation.mode != Mode::Approve {
            return answer(Approval::refused(format!(
                "REMEDIATION_MODE is {}, not approve",
                self.config.remediation.mode.as_str()
            )));
        }
        if !is_plan_id(&raw) {
            return answer(Approval::unknown(&id));
        }
        let plan = match self.suppressor.recall(&plan_key(&id)).await {
            Ok(Some(json)) => serde_json::from_str::<PendingPlan>(&json).ok(),
            Ok(None) => None,
            Err(error) => {
                metrics.suppression_errors += 1;
                return answer(Approval::refused(format!(
                    "the plan could not be read ({error})"
                )));
            }
        };
        let Some(plan) = plan else {
            return answer(Approval::unknown(&id));
        };
        // The decision is a conditional write: of two clicks at once, or a click after a decision (a refusal, or a
        // permission applied and then removed on purpose), exactly one acts and publishes; a decided plan stays so.
        match self
            .suppressor
            .remember(&decision_key(&id), PLAN_TTL_MS)
            .await
        {
            Ok(true) => {}
            Ok(false) => return answer(Approval::already_decided(&id)),
            Err(error) => {
                metrics.suppression_errors += 1;
                return answer(Approval::refused(format!(
                    "the decision could not be recorded ({error})"
                )));
            }
        }
        let mut budget = self.remediator.max_changes();
        let result = self.remediator.approve(&plan, &mut budget).await;
        if let Some(report) = &result.report {
            metrics.add_remediation(report);
        }
        tracing::info!(
            audit = "remediation",
            approval = %id,
            outcome = result.outcome,
            fingerprint = %plan.fingerprint,
            message = %result.message,
            "Approval"
        );
        // A second click changes nothing and says so to whoever clicked; the thread already has the answer.
        let published = if result.outcome == "already-applied" {
            false
        } else {
            let message = render_approval(&plan, &id, &result, now_ms());
            self.send(&message, Vec::new(), metrics).await.is_ok()
        };
        ApprovalOutcome {
            approval: id,
            result,
            published,
        }
    }
}
