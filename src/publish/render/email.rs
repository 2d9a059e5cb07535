//! The plain-text report (email and the `default` body), and its self-healing section.

use super::*;

/// The plain-text report for email and the `default` body.
pub fn email_text(alert: &Alert, links: &Links) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let status = alert
        .status
        .map_or_else(|| "5xx".to_owned(), |s| s.to_string());
    let route = route_label(alert).unwrap_or_else(|| "(route not logged)".to_owned());
    // An alert of no request is a latent one (found by the audit): nothing has failed yet.
    if alert.count == 0 {
        let _ = writeln!(
            t,
            "No request has failed yet on {} {route}; the first one will answer {status}.",
            api_label(alert)
        );
    } else {
        let _ = writeln!(
            t,
            "API Gateway answered {status} to {} on {} {route}.",
            plural(alert.count, "request", "requests"),
            api_label(alert)
        );
    }
    match (
        alert.first_seen.and_then(iso),
        alert.last_seen.and_then(iso),
    ) {
        (Some(a), Some(b)) if a != b => {
            let _ = writeln!(t, "Seen from {a} to {b}.");
        }
        (Some(a), _) => {
            let _ = writeln!(t, "Seen at {a}.");
        }
        _ => {}
    }
    let _ = writeln!(
        t,
        "\nCause: {} (severity {})\n{}",
        alert.cause,
        alert.severity.as_str(),
        alert.summary
    );
    if let Some(detail) = &alert.detail {
        let _ = writeln!(t, "What is wrong: {detail}");
    }
    if alert.status_inferred && alert.count > 0 {
        let _ = writeln!(
            t,
            "(The status was not logged; {status} is what this cause gives.)"
        );
    }
    if !alert.evidence.is_empty() {
        let first = alert
            .sample_request_ids
            .first()
            .map(|id| format!(" (request {id})"))
            .unwrap_or_default();
        let _ = writeln!(t, "\nEvidence{first}:");
        for line in &alert.evidence {
            let _ = writeln!(t, "  {line}");
        }
    }
    let _ = writeln!(t, "\nFix:\n  {}", alert.advice);
    if !alert.function_arns.is_empty() {
        let _ = writeln!(t, "\nFunction: {}", alert.function_arns.join(", "));
    }
    if !alert.authorizer_arns.is_empty() {
        let _ = writeln!(
            t,
            "Authorizer function: {}",
            alert.authorizer_arns.join(", ")
        );
    }
    if !alert.sample_request_ids.is_empty() {
        let _ = writeln!(
            t,
            "Sample request ids: {}",
            alert.sample_request_ids.join(", ")
        );
    }
    if !alert.sample_lambda_request_ids.is_empty() {
        let _ = writeln!(
            t,
            "Lambda request ids: {}",
            alert.sample_lambda_request_ids.join(", ")
        );
    }
    let _ = writeln!(
        t,
        "Account {}, region {}.",
        alert.account.as_deref().unwrap_or("unknown"),
        alert.region
    );
    if links.log_group.is_some() || links.insights_query.is_some() {
        let _ = writeln!(t, "\nLogs:");
        if let Some(url) = &links.log_stream {
            let _ = writeln!(t, "  Log stream: {url}");
        }
        if let Some(url) = &links.log_group {
            let _ = writeln!(t, "  Log group: {url}");
        }
        if let (Some(url), Some(query)) = (&links.logs_insights, &links.insights_query) {
            let _ = writeln!(
                t,
                "  Logs Insights, this query on log group {} (opens filled in): {url}\n    {query}",
                alert.log_group.as_deref().unwrap_or("?")
            );
        }
        if let Some(url) = &links.function_logs {
            let _ = writeln!(t, "  The function's own log for this request: {url}");
        }
        if let Some(url) = &links.xray_trace {
            let _ = writeln!(t, "  X-Ray trace of this request: {url}");
        }
        if let Some(url) = &links.dashboard {
            let _ = writeln!(
                t,
                "  Dashboard (5xx by cause, API stage and account): {url}"
            );
        }
    }
    let _ = writeln!(
        t,
        "\nFingerprint {} (account, region, API, stage, route and cause; the same problem keeps it).\n-- apigw-doctor",
        alert.fingerprint
    );
    t
}

/// The self-healing section of the text report: what was (or would be) done, how to undo it, and what to put in
/// the template.
pub fn remediation_text(report: &Report) -> String {
    use std::fmt::Write;
    if report.actions.is_empty() {
        return String::new();
    }
    let mut t = format!("\nSelf-healing: {}\n", report.status);
    if let Some(role) = &report.acted_as {
        let _ = writeln!(t, "  Through the member account's role {role}.");
    }
    if let Some(offer) = &report.approval {
        let _ = writeln!(
            t,
            "  To apply: press \"Apply fix\" on this alert in the chat channel, or invoke {} with {{\"approve\":\"{}\"}} \
             (until {}). apigw-doctor checks the API again before it changes anything.",
            offer.function_name.as_deref().unwrap_or("apigw-doctor"),
            offer.plan_id,
            iso(offer.expires_at).unwrap_or_else(|| offer.expires_at.to_string())
        );
    }
    for action in &report.actions {
        let verb = match action.outcome {
            "applied" => "Added",
            "dry-run" => "Would add (dry-run; set REMEDIATION_MODE=auto to apply)",
            crate::remediate::AWAITING_APPROVAL => {
                "Would add once a person approves (REMEDIATION_MODE=approve)"
            }
            "failed" => "Failed to add",
            _ => "Not changed",
        };
        let _ = writeln!(t, "  {verb}.");
        if let Some(reason) = &action.reason {
            let _ = writeln!(t, "  Why: {reason}");
        }
        if let Some(fix) = &action.fix {
            let _ = writeln!(
                t,
                "  Statement: {} allows {} to call {} on {}{} when SourceArn is {} (account {})",
                fix.statement_id,
                fix.principal,
                fix.action,
                fix.function_arn,
                fix.qualifier
                    .as_ref()
                    .map(|q| format!(":{q}"))
                    .unwrap_or_default(),
                fix.source_arn,
                fix.source_account
            );
            if action.outcome == "applied" {
                let _ = writeln!(t, "  Undo: {}", fix.undo_command());
            } else {
                let _ = writeln!(t, "  Command: {}", fix.add_command());
            }
            let _ = writeln!(
                t,
                "  Keep it in your template so the next deploy does not remove it:\n{}",
                fix.template_snippet()
                    .lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    t
}
