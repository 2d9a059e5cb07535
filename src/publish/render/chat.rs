//! The Amazon Q Developer (AWS Chatbot) custom notification Slack and Teams channels receive.

use super::*;

/// The AWS Chatbot / Amazon Q Developer custom notification: what Slack and Teams channels receive.
pub fn chatbot(
    alert: &Alert,
    links: &Links,
    remediation: &Report,
    notice: Option<&Notice>,
) -> String {
    let status = alert
        .status
        .map_or_else(|| "5xx".to_owned(), |s| s.to_string());
    let route = route_label(alert).unwrap_or_else(|| "(route not logged)".to_owned());
    let icon = match alert.severity {
        Severity::Critical => ":rotating_light:",
        Severity::High => ":red_circle:",
        Severity::Medium => ":warning:",
    };
    let mut description = notice.map(notice_line).unwrap_or_default();
    description.push_str(&format!(
        "*{}* on `{}` `{route}`: {}",
        if alert.count == 0 {
            "No request yet".to_owned()
        } else {
            plural(alert.count, "request", "requests")
        },
        api_label(alert),
        alert.summary
    ));
    if let Some(detail) = &alert.detail {
        description.push_str(&format!("\n*What is wrong:* {detail}"));
    }
    if !alert.evidence.is_empty() {
        description.push_str("\n```\n");
        for line in &alert.evidence {
            description.push_str(&line.replace("```", "'''"));
            description.push('\n');
        }
        description.push_str("```");
    }
    let mut next_steps = Vec::new();
    for action in &remediation.actions {
        let what = action
            .fix
            .as_ref()
            .map(|f| format!(" `{}` on `{}`", f.statement_id, f.function_name));
        next_steps.push(match action.outcome {
            "applied" => format!(
                "Self-healing added{}. Undo: `{}`",
                what.unwrap_or_default(),
                action
                    .fix
                    .as_ref()
                    .map(|f| f.undo_command())
                    .unwrap_or_default()
            ),
            "dry-run" => format!(
                "Self-healing (dry-run) would add{}{}",
                what.unwrap_or_default(),
                action
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            crate::remediate::AWAITING_APPROVAL => format!(
                "Self-healing awaits approval: *Apply fix* adds{} after checking the API again{}",
                what.unwrap_or_default(),
                remediation
                    .approval
                    .as_ref()
                    .and_then(|o| iso(o.expires_at))
                    .map(|at| format!(" (until {at})"))
                    .unwrap_or_default()
            ),
            outcome => format!(
                "Self-healing {outcome}: {}",
                action.reason.as_deref().unwrap_or("no reason given")
            ),
        });
    }
    next_steps.push(alert.advice.to_string());
    if let Some(url) = &links.log_group {
        next_steps.push(format!("<{url}|Open the log group>"));
    }
    if let (Some(url), Some(query)) = (&links.logs_insights, &links.insights_query) {
        next_steps.push(format!("<{url}|Open in Logs Insights>: `{query}`"));
    }
    if let Some(url) = &links.function_logs {
        next_steps.push(format!("<{url}|The function's log for this request>"));
    }
    if let Some(url) = &links.xray_trace {
        next_steps.push(format!("<{url}|X-Ray trace>"));
    }
    if let Some(url) = &links.dashboard {
        next_steps.push(format!("<{url}|Dashboard>"));
    }
    let related: Vec<&String> = alert
        .function_arns
        .iter()
        .chain(alert.authorizer_arns.iter())
        .collect();
    // The button's variables: only when the plan is kept and this function's name is known.
    let offer = remediation
        .approval
        .as_ref()
        .and_then(|o| Some((o.plan_id.as_str(), o.function_name.as_deref()?)));
    let context = ChatContext {
        api_id: alert.api_id.as_deref().unwrap_or("unknown"),
        stage: alert.stage.as_deref().unwrap_or("unknown"),
        count: alert.count.to_string(),
        sample_request_ids: alert.sample_request_ids.join(","),
        approve_plan: offer.map(|(plan, _)| plan),
        approve_function: offer.map(|(_, function)| function),
    };
    json!({
        "version": "1.0",
        "source": "custom",
        // Unique per message (Chatbot may drop a repeated id); `threadId` is what threads them.
        "id": message_id(&alert.fingerprint, notice.map_or("alert", Notice::as_str), alert.last_seen),
        "content": {
            "textType": "client-markdown",
            "title": format!(
                "{icon} {}{status} {} on {} {route}",
                match notice {
                    Some(Notice::Digest { .. }) => "still failing: ",
                    Some(Notice::Latent) => "will fail: ",
                    _ => "",
                },
                alert.cause,
                api_label(alert)
            ),
            "description": cut_description(&description),
            "nextSteps": next_steps,
            "keywords": [alert.cause.as_str(), alert.severity.as_str(), status],
        },
        "metadata": {
            "threadId": alert.fingerprint,
            "summary": message_subject(alert, notice),
            "eventType": chat_event_type(alert.cause.as_str()),
            "relatedResources": related,
            "additionalContext": context,
        },
    })
    .to_string()
}

/// `metadata.additionalContext` of the Chatbot notification: every value a string (the schema says so; `null`
/// is refused), built from a type so that no field can be left out or be of another kind.
#[derive(Debug, Serialize)]
pub(super) struct ChatContext<'a> {
    api_id: &'a str,
    stage: &'a str,
    count: String,
    sample_request_ids: String,
    /// The plan the "Apply fix" button approves (32 hex digits), in `approve` mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    approve_plan: Option<&'a str>,
    /// This function's name: the button's criterion, so it shows on this stack's alerts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    approve_function: Option<&'a str>,
}

/// `metadata.eventType`: the cause in the characters a custom action's `NotificationType` admits
/// (`[a-zA-Z0-9-]+`), so that a button can be attached by it.
pub fn chat_event_type(cause: &str) -> String {
    cause
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A Chatbot notification id unique per message: the problem, what kind of message, and when.
pub(super) fn message_id(fingerprint: &str, kind: &str, at: Option<i64>) -> String {
    format!("{fingerprint}-{kind}-{}", at.unwrap_or(0))
}

/// Slack shows at most 3,000 characters of a block: the Chatbot description is cut to this.
pub const MAX_CHAT_DESCRIPTION_CHARS: usize = 3_000;

/// `text` within [`MAX_CHAT_DESCRIPTION_CHARS`] characters, the ellipsis and a code block's closing fence included.
pub fn cut_description(text: &str) -> String {
    if text.chars().count() <= MAX_CHAT_DESCRIPTION_CHARS {
        return text.to_owned();
    }
    // Room for `…` and, when the cut falls inside a code block, "\n```" to close it.
    let mut out: String = text.chars().take(MAX_CHAT_DESCRIPTION_CHARS - 5).collect();
    out.push('…');
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    out
}
