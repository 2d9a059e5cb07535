//! The answer to an approval, threaded under the problem's alert.

use super::*;

/// The answer to an approval, threaded under the problem's alert (the same `threadId`): what was added and how
/// to undo it, or why nothing was.
pub fn render_approval(
    plan: &PendingPlan,
    plan_id: &str,
    approval: &Approval,
    at_ms: i64,
) -> Message {
    let headline = match approval.outcome {
        "applied" => "Applied by approval",
        "already-applied" => "Already applied",
        "failed" => "Approval failed",
        _ => "Approval refused",
    };
    let route = match (&plan.method, &plan.resource_path) {
        (Some(m), Some(p)) => format!("{m} {p}"),
        _ => match plan.authorizer_ids.first() {
            Some(id) => format!("authorizer {id}"),
            None => "every route".to_owned(),
        },
    };
    let subject = sanitize_subject(&format!(
        "[apigw-doctor] {headline}: {} on {}/{} {route}",
        plan.cause, plan.api_id, plan.stage
    ));
    let text = format!(
        "{}\n\nPlan {plan_id}: {} on {route}, API {} stage {} (account {}, {}).\nFingerprint {} (the alert this \
         answers).\n-- apigw-doctor\n",
        approval.message,
        plan.cause,
        plan.api_id,
        plan.stage,
        plan.account,
        plan.region,
        plan.fingerprint
    );
    let machine = json!({
        "schema": "apigw-doctor.approval/v1",
        "plan_id": plan_id,
        "fingerprint": plan.fingerprint,
        "outcome": approval.outcome,
        "message": approval.message,
        "cause": plan.cause,
        "account": plan.account,
        "region": plan.region,
        "api_id": plan.api_id,
        "stage": plan.stage,
        "method": plan.method,
        "resource_path": plan.resource_path,
        "remediation": approval.report,
    })
    .to_string();
    let icon = if approval.outcome == "applied" {
        ":white_check_mark:"
    } else {
        ":no_entry:"
    };
    let chat = json!({
        "version": "1.0",
        "source": "custom",
        "id": message_id(&plan.fingerprint, "approval", Some(at_ms)),
        "content": {
            "textType": "client-markdown",
            "title": format!("{icon} {headline}: {} on {route}", plan.cause),
            "description": approval.message,
        },
        "metadata": {
            "threadId": plan.fingerprint,
            "summary": subject,
            "eventType": chat_event_type(&plan.cause),
        },
    })
    .to_string();
    let cause: Option<Cause> = plan.cause.parse().ok();
    let mut attributes = filter_attributes(
        &plan.cause,
        Some(500),
        [
            &Some(plan.api_id.clone()),
            &Some(plan.stage.clone()),
            &Some(plan.account.clone()),
            &Some(plan.region.clone()),
        ],
        cause.map_or(Severity::High, Severity::of),
        approval.outcome,
    );
    attributes.push(("notice", "approval".to_owned()));
    Message {
        subject,
        attributes,
        bodies: Bodies::new(text, chat, machine),
    }
}
