//! `approve` mode: a planned fix waits for a person (the "Apply fix" button of the chat alert, or an invocation
//! with `{"approve": "<plan id>"}`).
//!
//! The kept plan is a key, never the authority. It holds what the alert was about (account, region, API, stage,
//! route or authorizer: the same trusted fields a live alert plans from) and the statements planned then. On
//! approval the fix is planned again from the API's configuration as it is now, through the same guarded path as
//! `auto`; it is applied only when the same statements come out and every guard still admits them. Anything else
//! (the integration points elsewhere, the function left the allow-list, the mode changed) is refused with why.

use std::hash::{BuildHasher, RandomState};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::plan::{Fix, Mode};
use super::{AWAITING_APPROVAL, Action, ApiConfig, PermissionApi, Report, Settings, remediate};
use crate::alert::{Alert, ConfiguredProblem};
use crate::diagnose::Cause;
use crate::diagnose::finding::ApiSource;

/// How long a plan can be approved.
pub const PLAN_TTL_MS: i64 = 24 * 3600 * 1000;

/// The state-table key of a plan.
pub fn plan_key(id: &str) -> String {
    format!("plan#{id}")
}

/// What the chat button needs: the plan and the function that takes the approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub plan_id: String,
    /// This function's name: the button's criterion matches it, so a channel watching several stacks shows each
    /// alert the button of the stack that sent it. `None` outside Lambda: no button, the invocation still works.
    pub function_name: Option<String>,
    /// Until when (ms since the epoch) the plan can be approved.
    pub expires_at: i64,
}

/// One statement planned when the alert went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFix {
    pub function_arn: String,
    pub qualifier: Option<String>,
    pub statement_id: String,
    pub source_arn: String,
}

impl PlannedFix {
    fn of(fix: &Fix) -> PlannedFix {
        PlannedFix {
            function_arn: fix.function_arn.clone(),
            qualifier: fix.qualifier.clone(),
            statement_id: fix.statement_id.clone(),
            source_arn: fix.source_arn.clone(),
        }
    }

    fn function(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function_arn),
            None => self.function_arn.clone(),
        }
    }
}

/// A plan kept for approval (JSON in the state table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPlan {
    /// The problem's fingerprint: the chat thread the result goes to.
    pub fingerprint: String,
    pub cause: String,
    pub account: String,
    pub region: String,
    pub api_id: String,
    pub stage: String,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub authorizer_ids: Vec<String>,
    pub fixes: Vec<PlannedFix>,
    pub created_at: i64,
}

impl PendingPlan {
    /// The plan of an alert whose fix awaits approval; `None` when there is nothing to approve.
    pub fn of(alert: &Alert, report: &Report, now_ms: i64) -> Option<PendingPlan> {
        // The API of an execution log group's name, or the one an access-log group's stage configuration names.
        let (api_id, stage) = match (&report.api, alert.api_source) {
            (Some(api), _) => (api.api_id.clone(), api.stage.clone()),
            (None, Some(ApiSource::LogGroup)) => (alert.api_id.clone()?, alert.stage.clone()?),
            _ => return None,
        };
        if report.status != AWAITING_APPROVAL {
            return None;
        }
        let fixes: Vec<PlannedFix> = report
            .actions
            .iter()
            .filter(|a| a.outcome == AWAITING_APPROVAL)
            .filter_map(|a| a.fix.as_ref().map(PlannedFix::of))
            .collect();
        if fixes.is_empty() {
            return None;
        }
        Some(PendingPlan {
            fingerprint: alert.fingerprint.clone(),
            cause: alert.cause.as_str().to_owned(),
            account: alert.account.clone()?,
            region: alert.region.clone(),
            api_id,
            stage,
            method: alert.method.clone(),
            resource_path: alert.resource_path.clone(),
            authorizer_ids: alert.authorizer_ids.clone(),
            fixes,
            created_at: now_ms,
        })
    }

    /// An opaque id: 32 hex digits, unguessable (the process's random hasher keys and the time go into it). It
    /// grants nothing: approving needs `lambda:InvokeFunction` on this function, and the plan is re-checked.
    pub fn new_id(&self) -> String {
        let random = RandomState::new().hash_one((&self.fingerprint, self.created_at));
        let mut hash = Sha256::new();
        hash.update(self.fingerprint.as_bytes());
        hash.update(self.created_at.to_be_bytes());
        hash.update(random.to_be_bytes());
        hash.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The alert to plan again from: the kept fields only, as a live alert of that route would carry them.
    fn alert(&self) -> Option<Alert> {
        let cause: Cause = self.cause.parse().ok()?;
        let authorizer = cause == Cause::AuthorizerMissingInvokePermission;
        let mut alert = ConfiguredProblem {
            cause,
            account: self.account.clone(),
            region: self.region.clone(),
            api_id: self.api_id.clone(),
            stage: self.stage.clone(),
            method: self.method.clone(),
            resource_path: self.resource_path.clone(),
            authorizer_id: authorizer
                .then(|| self.authorizer_ids.first().cloned())
                .flatten(),
            function_arn: None,
            evidence: Vec::new(),
        }
        .alert()?;
        alert.authorizer_ids = self.authorizer_ids.clone();
        alert.fingerprint = self.fingerprint.clone();
        Some(alert)
    }
}

/// Whether a payload is an approval (`{"approve": "..."}`), and of which plan id (unchecked).
/// The plan id of an approval: exactly `{"approve":"<plan id>"}`, one key and a string (a payload that carries
/// anything else is not an approval, whatever else it looks like).
pub fn approval_plan_id(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        approve: String,
    }
    serde_json::from_slice::<Probe>(payload)
        .ok()
        .map(|p| p.approve)
}

/// An id from an invoker, as it may be echoed to a chat channel: letters, digits, `-` and `_` only (no control
/// character, no `@here` or `<!channel>` mention, no markup), at most 40.
pub fn shown_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect()
}

/// The state-table key that records a plan's decision: written once, by the first approval that acts on it.
pub fn decision_key(id: &str) -> String {
    format!("decided#{id}")
}

/// Whether `id` has the shape of the ids [`PendingPlan::new_id`] makes (before anything is looked up).
pub fn is_plan_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What an approval did: the function's answer (Chatbot shows it in the channel) and, when something was
/// decided, the threaded message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// `applied`, `already-applied`, `already-decided`, `refused`, `unknown` or `failed`.
    pub outcome: &'static str,
    pub message: String,
    /// What the guarded path did when it ran (the statements, their undo commands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl Approval {
    pub fn refused(reason: impl Into<String>) -> Approval {
        Approval {
            outcome: "refused",
            message: format!("Not applied: {}. Nothing was changed.", reason.into()),
            report: None,
        }
    }

    pub fn unknown(id: &str) -> Approval {
        Approval {
            outcome: "unknown",
            message: format!(
                "Plan {id} is unknown or expired (plans are kept {} hours): nothing was changed. If the problem \
                 lasts, its next alert carries a new plan.",
                PLAN_TTL_MS / 3_600_000
            ),
            report: None,
        }
    }

    /// Another approval of the same plan acted first (a second click, two people at once): nothing is done twice.
    pub fn already_decided(id: &str) -> Approval {
        Approval {
            outcome: "already-decided",
            message: format!(
                "Plan {id} was already decided by an earlier approval (see the alert's thread): nothing was changed. \
                 If the problem comes back, its next alert carries a new plan."
            ),
            report: None,
        }
    }

    fn failed(reason: &str) -> Approval {
        Approval {
            outcome: "failed",
            message: format!("Could not check the plan: {reason}. Nothing was changed."),
            report: None,
        }
    }
}

/// Plans `plan`'s alert again from the API's configuration and, when exactly the kept statements come out and
/// every guard admits them, applies them as `auto` would (allow-lists, budget, idempotent statement ids, audit
/// log). `settings` are the function's own, now: a mode changed since the plan refuses.
pub async fn approve<A: ApiConfig, P: PermissionApi>(
    plan: &PendingPlan,
    settings: &Settings,
    api: &A,
    permissions: &P,
    budget: &mut usize,
) -> Approval {
    if settings.mode != Mode::Approve {
        return Approval::refused(format!(
            "REMEDIATION_MODE is {} now, not approve",
            settings.mode.as_str()
        ));
    }
    let Some(alert) = plan.alert() else {
        return Approval::refused(format!(
            "the plan names a cause ({}) that is not healed",
            plan.cause
        ));
    };
    // First without changing anything: is it still the same fix, still allowed?
    let now = remediate(&alert, settings, api, permissions, &mut 0).await;
    if let Some(verdict) = compare(plan, &now.actions) {
        return verdict;
    }
    let auto = Settings {
        mode: Mode::Auto,
        ..settings.clone()
    };
    let report = remediate(&alert, &auto, api, permissions, budget).await;
    let added: Vec<&Fix> = report
        .actions
        .iter()
        .filter(|a| a.outcome == "applied")
        .filter_map(|a| a.fix.as_ref())
        .collect();
    let outcome = match report.status {
        "applied" => "applied",
        "failed" => "failed",
        _ => "refused",
    };
    let message = match outcome {
        "applied" => format!(
            "Applied by approval: {}.",
            added
                .iter()
                .map(|f| format!(
                    "statement {} on {} (undo: {})",
                    f.statement_id,
                    f.function_name,
                    f.undo_command()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        _ => format!(
            "Not applied: {}.",
            first_reason(&report.actions).unwrap_or("no reason given")
        ),
    };
    Approval {
        outcome,
        message,
        report: Some(report),
    }
}

/// `None` when the plan made now is the kept one and awaits only the click; else the answer.
fn compare(plan: &PendingPlan, now: &[Action]) -> Option<Approval> {
    let same =
        |kept: &PlannedFix, a: &&Action| a.fix.as_ref().is_some_and(|f| PlannedFix::of(f) == *kept);
    for kept in &plan.fixes {
        let Some(action) = now.iter().find(|a| same(kept, a)) else {
            let now_targets: Vec<String> = now
                .iter()
                .filter_map(|a| a.fix.as_ref())
                .map(|f| format!("{} for {}", function_label(f), f.source_arn))
                .collect();
            let reason = first_reason(now)
                .filter(|_| now_targets.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    format!(
                        "the API's configuration changed since the plan: it was {} for {}, the API now names {}",
                        kept.function(),
                        kept.source_arn,
                        if now_targets.is_empty() {
                            "no function for it".to_owned()
                        } else {
                            now_targets.join(", ")
                        }
                    )
                });
            return Some(Approval::refused(reason));
        };
        match action.outcome {
            AWAITING_APPROVAL => {}
            "applied" => {}
            "failed" => {
                return Some(Approval::failed(
                    action.reason.as_deref().unwrap_or("no reason given"),
                ));
            }
            _ => {
                return Some(Approval::refused(
                    action.reason.as_deref().unwrap_or("no reason given"),
                ));
            }
        }
    }
    // A statement the API needs now that the plan did not name: a new plan, not this one.
    if let Some(extra) = now
        .iter()
        .filter(|a| a.outcome == AWAITING_APPROVAL)
        .filter_map(|a| a.fix.as_ref())
        .find(|f| !plan.fixes.contains(&PlannedFix::of(f)))
    {
        return Some(Approval::refused(format!(
            "the API's configuration changed since the plan: it now also names {} for {}",
            function_label(extra),
            extra.source_arn
        )));
    }
    if now.iter().all(|a| a.outcome == "applied") {
        return Some(Approval {
            outcome: "already-applied",
            message: format!(
                "Already applied: {} in the function's policy; nothing new was done.",
                plan.fixes
                    .iter()
                    .map(|f| format!("statement {} is", f.statement_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            report: None,
        });
    }
    None
}

fn function_label(fix: &Fix) -> String {
    match &fix.qualifier {
        Some(q) => format!("{}:{q}", fix.function_arn),
        None => fix.function_arn.clone(),
    }
}

fn first_reason(actions: &[Action]) -> Option<&str> {
    actions.iter().find_map(|a| a.reason.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_is_exactly_one_key_and_its_id_is_echoed_clean() {
        assert_eq!(
            approval_plan_id(br#"{"approve":"0123456789abcdef0123456789abcdef"}"#).as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            approval_plan_id(br#"{"approve":"x","RequestType":"Delete"}"#),
            None
        );
        assert_eq!(approval_plan_id(br#"{"approve":7}"#), None);
        assert_eq!(
            shown_id("<!channel> @here \u{7}\u{202e}ab_c-1"),
            "channelhereab_c-1"
        );
        assert_eq!(shown_id(&"a".repeat(100)).len(), 40);
    }
    use crate::alert::tests_support;

    fn awaiting(fix: Fix) -> Report {
        Report {
            status: AWAITING_APPROVAL,
            api: None,
            acted_as: None,
            actions: vec![Action {
                outcome: AWAITING_APPROVAL,
                reason: None,
                fix: Some(fix),
            }],
            approval: None,
        }
    }

    fn fix(function: &str) -> Fix {
        let f = super::super::plan::FunctionRef::parse(function).unwrap();
        Fix::new(
            &f,
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders/*".into(),
            "123456789012",
        )
    }

    const ORDERS: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

    fn pending() -> PendingPlan {
        let mut alert = tests_support::alert();
        alert.api_source = Some(ApiSource::LogGroup);
        PendingPlan::of(&alert, &awaiting(fix(ORDERS)), 1_700_000_000_000).unwrap()
    }

    #[test]
    fn only_an_awaiting_fix_of_a_trusted_alert_is_kept() {
        let mut alert = tests_support::alert();
        alert.api_source = Some(ApiSource::LogGroup);
        let mut report = awaiting(fix(ORDERS));
        assert!(PendingPlan::of(&alert, &report, 0).is_some());
        report.status = "dry-run";
        assert!(PendingPlan::of(&alert, &report, 0).is_none());
        alert.api_source = Some(ApiSource::Mapping);
        assert!(PendingPlan::of(&alert, &awaiting(fix(ORDERS)), 0).is_none());
        // An access-log alert whose API the stage's own configuration named while planning: kept for that API.
        alert.api_source = None;
        alert.api_id = None;
        alert.stage = None;
        let mut report = awaiting(fix(ORDERS));
        report.api = Some(super::super::ResolvedApi {
            api_id: "h77p4p1x9z".into(),
            stage: "$default".into(),
        });
        let plan = PendingPlan::of(&alert, &report, 0).unwrap();
        assert_eq!(
            (plan.api_id.as_str(), plan.stage.as_str()),
            ("h77p4p1x9z", "$default")
        );
    }

    #[test]
    fn ids_are_opaque_distinct_and_of_their_shape() {
        let plan = pending();
        let (a, b) = (plan.new_id(), plan.new_id());
        assert!(is_plan_id(&a) && is_plan_id(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!is_plan_id("../../etc"));
        assert_eq!(
            approval_plan_id(br#"{"approve":"abc"}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(approval_plan_id(br#"{"apigw-doctor":"sweep"}"#), None);
    }

    #[test]
    fn the_plan_round_trips_and_replans_the_same_problem() {
        let plan = pending();
        let json = serde_json::to_string(&plan).unwrap();
        let back: PendingPlan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, plan);
        let alert = back.alert().unwrap();
        assert_eq!(alert.fingerprint, plan.fingerprint);
        assert_eq!(alert.api_id.as_deref(), Some(plan.api_id.as_str()));
        assert_eq!(alert.resource_path, plan.resource_path);
        assert_eq!(alert.api_source, Some(ApiSource::LogGroup));
    }

    #[test]
    fn a_changed_target_or_a_refusal_is_refused_and_the_same_fix_passes() {
        let plan = pending();
        let same = awaiting(fix(ORDERS)).actions;
        assert_eq!(compare(&plan, &same), None);
        let elsewhere = awaiting(fix(
            "arn:aws:lambda:us-east-1:123456789012:function:billing",
        ))
        .actions;
        let verdict = compare(&plan, &elsewhere).unwrap();
        assert_eq!(verdict.outcome, "refused");
        assert!(
            verdict.message.contains("changed since the plan"),
            "{}",
            verdict.message
        );
        assert!(
            verdict.message.contains("function:billing"),
            "{}",
            verdict.message
        );
        let mut left = same.clone();
        left[0].outcome = "refused";
        left[0].reason =
            Some("function orders does not match REMEDIATION_ALLOWED_FUNCTIONS".into());
        let verdict = compare(&plan, &left).unwrap();
        assert_eq!(verdict.outcome, "refused");
        assert!(verdict.message.contains("REMEDIATION_ALLOWED_FUNCTIONS"));
        let mut done = same;
        done[0].outcome = "applied";
        assert_eq!(compare(&plan, &done).unwrap().outcome, "already-applied");
    }
}
