//! The sweep's messages from the stored state alone: a problem resolved, or a digest no delivery closed.

use super::*;

/// A message the sweep sends from the stored state alone (no delivery to quote): "resolved", or the digest
/// of a window that ended with requests no message reported. Same fingerprint, so the same Chatbot thread.
pub fn render_state(state: &State, notice: &Notice) -> Message {
    let status = state
        .status
        .map_or_else(|| "5xx".to_owned(), |s| s.to_string());
    let api = where_label(&state.api_id, &state.stage, &state.log_group);
    let route = match (&state.method, &state.resource_path) {
        (Some(m), Some(p)) => format!(" {m} {p}"),
        (None, Some(p)) => format!(" {p}"),
        _ => String::new(),
    };
    let (head, icon) = match notice {
        Notice::Resolved { .. } => ("resolved: ", ":white_check_mark:"),
        Notice::Digest { .. } => ("still failing: ", ":rotating_light:"),
        _ => ("", ":rotating_light:"),
    };
    let title = format!("{head}{status} {} on {api}{route}", state.cause);
    let subject = sanitize_subject(&format!("[apigw-doctor] {title}"));
    let mut text = notice_line(notice);
    text.push_str(&format!(
        "\nCause: {}\nAPI: {api}{route}\nAccount: {}, region {}\nFingerprint: {}\n\n-- apigw-doctor\n",
        state.cause,
        state.account.as_deref().unwrap_or("unknown"),
        state.region,
        state.fingerprint
    ));
    let machine = json!({
        "schema": "apigw-doctor.notice/v1",
        "fingerprint": state.fingerprint,
        "notice": notice,
        "cause": state.cause,
        "status": state.status,
        "account": state.account,
        "region": state.region,
        "api_id": state.api_id,
        "stage": state.stage,
        "method": state.method,
        "resource_path": state.resource_path,
        "first_seen_iso": iso(state.first_seen),
        "last_seen_iso": iso(state.last_seen),
        "total": state.total,
    })
    .to_string();
    let chat = json!({
        "version": "1.0",
        "source": "custom",
        "id": message_id(&state.fingerprint, notice.as_str(), Some(state.last_seen)),
        "content": {"textType": "client-markdown", "title": format!("{icon} {title}"), "description": text},
        "metadata": {"threadId": state.fingerprint, "summary": subject, "eventType": chat_event_type(&state.cause)},
    })
    .to_string();
    let severity = match state.severity {
        2 => Severity::Critical,
        1 => Severity::High,
        _ => Severity::Medium,
    };
    let mut attributes = filter_attributes(
        &state.cause,
        state.status,
        [
            &state.api_id,
            &state.stage,
            &state.account,
            &Some(state.region.clone()),
        ],
        severity,
        "none",
    );
    attributes.push(("notice", notice.as_str().to_owned()));
    Message {
        subject,
        attributes,
        bodies: Bodies::new(text, chat, machine),
    }
}
