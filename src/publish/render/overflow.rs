//! One message for the problems that did not get an alert of their own, within SNS's size limit.

use super::*;

/// How many problems the overflow message lists one by one (the rest are counted).
pub(super) const OVERFLOW_LISTED: usize = 100;

/// `s` cut to at most `max` bytes, on a character boundary (a byte cut inside a character would panic).
pub(super) fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

/// One message for the problems that did not get an alert of their own in this invocation: counts per cause
/// and route, the first `OVERFLOW_LISTED` (100) problems by severity and size, and the number left out (with the
/// problems a delivery counted without itemising them). Every body together stays under SNS's limit whatever the
/// number of problems. `notice`: why it goes out, when noise control admitted its problems (the `notice`
/// attribute subscribers filter on).
pub fn render_overflow(
    overflow: &[Alert],
    unlisted: &Unlisted,
    notice: Option<&Notice>,
) -> Option<Message> {
    let worst = overflow
        .iter()
        .map(|a| a.severity)
        .chain(unlisted.by_cause.keys().map(|c| Severity::of(*c)))
        .max()?;
    let (unlisted_problems, unlisted_requests) = unlisted.totals();
    let total: u64 = overflow.iter().map(|a| a.count).sum::<u64>() + unlisted_requests;
    let problems = overflow.len() + unlisted_problems as usize;
    let mut ranked: Vec<&Alert> = overflow.iter().collect();
    ranked.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.count.cmp(&a.count)));
    // Counts per cause: the summary a responder reads first.
    let mut per_cause: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for alert in overflow {
        let entry = per_cause.entry(alert.cause.as_str()).or_default();
        entry.0 += 1;
        entry.1 += alert.count;
    }
    for (cause, (n, requests)) in &unlisted.by_cause {
        let entry = per_cause.entry(cause.as_str()).or_default();
        entry.0 += n;
        entry.1 += requests;
    }
    let mut listed = ranked.len().min(OVERFLOW_LISTED);
    loop {
        let mut message = overflow_message(problems, total, worst, &per_cause, &ranked[..listed]);
        if let Some(notice) = notice {
            message
                .attributes
                .push(("notice", notice.as_str().to_owned()));
        }
        if message.structured().len() <= MAX_MESSAGE_BYTES || listed == 0 {
            return Some(message);
        }
        listed /= 2;
    }
}

pub(super) fn overflow_message(
    problems: usize,
    total: u64,
    worst: Severity,
    per_cause: &std::collections::BTreeMap<&str, (u64, u64)>,
    listed: &[&Alert],
) -> Message {
    let mut text = format!(
        "{problems} more distinct problems ({}) were found in this delivery than are alerted one by one \
         (MAX_ALERTS_PER_INVOCATION).\n\nBy cause:\n",
        plural(total, "request", "requests")
    );
    for (cause, (n, requests)) in per_cause {
        text.push_str(&format!(
            "  {cause}: {} ({})\n",
            plural(*n, "problem", "problems"),
            plural(*requests, "request", "requests")
        ));
    }
    text.push_str("\nThe largest, most severe first:\n");
    for alert in listed {
        text.push_str(&format!(
            "  {} {} {} on {} {} ({}), fingerprint {}\n",
            alert.severity.as_str(),
            alert
                .status
                .map_or_else(|| "5xx".to_owned(), |s| s.to_string()),
            alert.cause,
            api_label(alert),
            route_label(alert).unwrap_or_default(),
            plural(alert.count, "request", "requests"),
            alert.fingerprint
        ));
    }
    if problems > listed.len() {
        text.push_str(&format!("  ... and {} more\n", problems - listed.len()));
    }
    text.push_str("\n-- apigw-doctor\n");
    cut(&mut text, MAX_MESSAGE_BYTES / 4);
    let machine = json!({
        "schema": "apigw-doctor.overflow/v1",
        "problems": problems,
        "requests": total,
        "by_cause": per_cause.iter().map(|(c, (n, r))| json!({"cause": c, "problems": n, "requests": r})).collect::<Vec<_>>(),
        "alerts": listed.iter().map(|a| json!({
            "fingerprint": a.fingerprint, "cause": a.cause, "status": a.status, "count": a.count,
            "severity": a.severity, "api_id": a.api_id, "stage": a.stage,
            "method": a.method, "resource_path": a.resource_path,
        })).collect::<Vec<_>>(),
        "alerts_not_listed": problems - listed.len(),
    })
    .to_string();
    let subject = sanitize_subject(&format!(
        "[apigw-doctor] {problems} more problems ({})",
        plural(total, "request", "requests")
    ));
    let description = super::chat::cut_description(&text);
    let chat = json!({
        "version": "1.0",
        "source": "custom",
        "content": {"textType": "client-markdown", "title": subject, "description": description},
        "metadata": {"summary": subject, "eventType": "overflow"},
    })
    .to_string();
    Message {
        subject,
        attributes: vec![
            ("cause", "multiple".to_owned()),
            ("status", "multiple".to_owned()),
            ("api_id", "multiple".to_owned()),
            ("stage", "multiple".to_owned()),
            ("severity", worst.as_str().to_owned()),
            ("remediation", "none".to_owned()),
        ],
        bodies: Bodies::new(text, chat, machine),
    }
}
