//! [`Alert`] → the SNS message people and machines receive: a subject, a body per protocol
//! (`MessageStructure=json`), and message attributes for subscription filter policies.
//!
//! Privacy: only what the alert holds goes out (failure lines, status, route, latency, response shape); no
//! request or response body, header value or query string is ever rendered.

use serde::Serialize;
use serde_json::json;

use crate::alert::{Alert, Severity, Unlisted};
use crate::diagnose::classify::Cause;
use crate::remediate::Report;
use crate::remediate::approval::{Approval, PendingPlan};
use crate::suppress::{Notice, State};

/// SNS: the subject must be under 100 printable ASCII characters with no line break.
pub const MAX_SUBJECT_CHARS: usize = 99;
/// SNS: 256 KiB for the whole message. We keep a margin for the attributes and the JSON envelope.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 - 8 * 1024;

/// The bodies of one message, one per SNS protocol: the same text for `default` and `email`, the Chatbot
/// notification for `https`, the machine JSON for the queue and function subscribers.
///
/// Built once and read only: the `MessageStructure=json` document is written when the bodies are, because the
/// renderer measures it (SNS's size limit) and the publisher sends it, and each text is escaped into it once
/// although it appears twice (serialising the bodies was a fifth of the handler's instructions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bodies {
    text: String,
    chat: String,
    machine: String,
    structured: String,
}

impl Bodies {
    fn new(text: String, chat: String, machine: String) -> Bodies {
        let structured = structured_document(&text, &chat, &machine);
        Bodies {
            text,
            chat,
            machine,
            structured,
        }
    }

    /// For email subscribers (and `default`, which every other protocol falls back to).
    pub fn email(&self) -> &str {
        &self.text
    }

    /// For `https` subscribers: the AWS Chatbot / Amazon Q Developer custom notification.
    pub fn https(&self) -> &str {
        &self.chat
    }

    /// For `sqs` and `lambda` subscribers: the alert document (schema `apigw-doctor.alert/v1`).
    pub fn machine(&self) -> &str {
        &self.machine
    }
}

/// `{"default":T,"email":T,"https":C,"sqs":M,"lambda":M}`: what `serde_json` writes for the five keys, with
/// each string escaped once.
fn structured_document(text: &str, chat: &str, machine: &str) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let (text, chat, machine) = (quoted(text), quoted(chat), quoted(machine));
    let mut out = String::with_capacity(2 * text.len() + chat.len() + 2 * machine.len() + 48);
    for (key, value) in [
        ("default", &text),
        ("email", &text),
        ("https", &chat),
        ("sqs", &machine),
        ("lambda", &machine),
    ] {
        out.push(if out.is_empty() { '{' } else { ',' });
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
        out.push_str(value);
    }
    out.push('}');
    out
}

impl Serialize for Bodies {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("default", &self.text)?;
        map.serialize_entry("email", &self.text)?;
        map.serialize_entry("https", &self.chat)?;
        map.serialize_entry("sqs", &self.machine)?;
        map.serialize_entry("lambda", &self.machine)?;
        map.end()
    }
}

/// A message ready to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub subject: String,
    /// Name → value; every value is a non-empty string (SNS `DataType=String`).
    pub attributes: Vec<(&'static str, String)>,
    pub bodies: Bodies,
}

impl Message {
    /// The `Message` parameter for `MessageStructure=json`.
    pub fn structured(&self) -> &str {
        &self.bodies.structured
    }
}

/// The machine-readable alert sent to SQS and Lambda subscribers (schema `apigw-doctor.alert/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct AlertDocument<'a> {
    pub schema: &'static str,
    #[serde(flatten)]
    pub alert: &'a Alert,
    pub severity_rank: u8,
    pub first_seen_iso: Option<String>,
    pub last_seen_iso: Option<String>,
    pub links: Links,
    pub remediation: &'a Report,
    /// Why this message goes out, when cross-invocation suppression is on (`SUPPRESSION_TABLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<&'a Notice>,
}

/// Console links and the Logs Insights query for the first sample request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Links {
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// Logs Insights on the alert's log group, the query for its first sample request filled in (last 24 hours).
    pub logs_insights: Option<String>,
    pub insights_query: Option<String>,
    /// The function's own log group in Logs Insights, filtered by the Lambda request id (function errors and
    /// timeouts), when both the function name and the id are well-formed.
    pub function_logs: Option<String>,
    /// The X-Ray trace of the first sample request, when API Gateway's request carried a well-formed trace id
    /// that was not marked unsampled (tracing on for the stage).
    pub xray_trace: Option<String>,
}

/// Renders one alert, with what self-healing did about it.
pub fn render(alert: &Alert, remediation: &Report) -> Message {
    render_noticed(alert, remediation, None)
}

/// [`render`] with the reason it goes out: a digest reports the requests counted since the last message (its
/// count and times replace this invocation's); a breakthrough says why it did not wait.
pub fn render_noticed(alert: &Alert, remediation: &Report, notice: Option<&Notice>) -> Message {
    let digest;
    let alert = match notice {
        Some(Notice::Digest { count, since, last }) => {
            let mut a = alert.clone();
            a.count = *count;
            a.first_seen = Some(*since);
            a.last_seen = Some(*last);
            digest = a;
            &digest
        }
        _ => alert,
    };
    let links = links(alert);
    let mut evidence_lines = alert.evidence.len();
    loop {
        let message = render_with(alert, &links, remediation, notice, evidence_lines);
        if message.structured().len() <= MAX_MESSAGE_BYTES || evidence_lines == 0 {
            return message;
        }
        evidence_lines -= 1;
    }
}

fn render_with(
    alert: &Alert,
    links: &Links,
    remediation: &Report,
    notice: Option<&Notice>,
    evidence_lines: usize,
) -> Message {
    let mut trimmed = alert.clone();
    trimmed.evidence.truncate(evidence_lines);
    trimmed.advice = super::fix::exact_fix(&super::fix::Target::of_alert(&trimmed));
    let mut text = notice.map(notice_line).unwrap_or_default();
    text.push_str(&email_text(&trimmed, links));
    text.push_str(&remediation_text(remediation));
    let document = AlertDocument {
        schema: "apigw-doctor.alert/v1",
        alert: &trimmed,
        severity_rank: trimmed.severity as u8,
        first_seen_iso: trimmed.first_seen.and_then(iso),
        last_seen_iso: trimmed.last_seen.and_then(iso),
        links: links.clone(),
        remediation,
        notice,
    };
    let machine = serde_json::to_string(&document).unwrap_or_default();
    let mut attributes = attributes(&trimmed, remediation);
    if let Some(notice) = notice {
        attributes.push(("notice", notice.as_str().to_owned()));
    }
    Message {
        subject: message_subject(&trimmed, notice),
        attributes,
        bodies: Bodies::new(text, chatbot(&trimmed, links, remediation, notice), machine),
    }
}

fn attributes(alert: &Alert, remediation: &Report) -> Vec<(&'static str, String)> {
    filter_attributes(
        alert.cause.as_str(),
        alert.status,
        [
            &alert.api_id,
            &alert.stage,
            &alert.account,
            &Some(alert.region.clone()),
        ],
        alert.severity,
        remediation.status,
    )
}

/// Attributes published with SNS `DataType=Number`, so that numeric filter policies can select them
/// (`{"status_code": [{"numeric": [">=", 500]}]}`); every other attribute is a `String`.
pub const NUMBER_ATTRIBUTES: &[&str] = &["status_code"];

/// The message attributes subscription filter policies select on; every value non-empty.
fn filter_attributes(
    cause: &str,
    status: Option<u16>,
    [api_id, stage, account, region]: [&Option<String>; 4],
    severity: Severity,
    remediation: &str,
) -> Vec<(&'static str, String)> {
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
    let mut attributes = vec![
        ("cause", cause.to_owned()),
        (
            "status",
            status.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        ),
        ("api_id", or_unknown(api_id)),
        ("stage", or_unknown(stage)),
        ("severity", severity.as_str().to_owned()),
        ("remediation", remediation.to_owned()),
        // Where, for routing in a multi-account set-up.
        ("account", or_unknown(account)),
        ("region", or_unknown(region)),
    ];
    if let Some(status) = status {
        attributes.push(("status_code", status.to_string()));
    }
    attributes
}

/// `[apigw-doctor] 502 malformed_proxy_response on a1b2c3/prod POST /orders (37)`
pub fn subject(alert: &Alert) -> String {
    let status = alert
        .status
        .map_or_else(|| "5xx".to_owned(), |s| s.to_string());
    let head = format!(
        "[apigw-doctor] {status} {} on {}",
        alert.cause,
        api_label(alert)
    );
    let tail = format!(" ({})", alert.count);
    let route = route_label(alert)
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    let room = MAX_SUBJECT_CHARS.saturating_sub(head.len() + tail.len());
    let route = if route.len() > room {
        let cut: String = route.chars().take(room.saturating_sub(3)).collect();
        format!("{cut}...")
    } else {
        route
    };
    sanitize_subject(&format!("{head}{route}{tail}"))
}

/// The subject of an alert as it goes out: a latent problem's own, a digest's, or the alert's.
fn message_subject(alert: &Alert, notice: Option<&Notice>) -> String {
    match notice {
        Some(Notice::Latent) => latent_subject(alert),
        _ => noticed_subject(&subject(alert), notice),
    }
}

/// `[apigw-doctor] POST /orders will answer 500: API Gateway may not invoke orders-api`
fn latent_subject(alert: &Alert) -> String {
    let what = route_label(alert).unwrap_or_else(|| match alert.authorizer_ids.first() {
        Some(id) => format!("authorizer {id}"),
        None => api_label(alert),
    });
    let function = alert
        .function_arns
        .iter()
        .chain(&alert.authorizer_arns)
        .next()
        .and_then(|arn| arn.split(':').nth(6))
        .unwrap_or("its function");
    let status = alert.status.unwrap_or(500);
    let why = match alert.cause {
        Cause::MissingInvokePermission | Cause::AuthorizerMissingInvokePermission => {
            format!("API Gateway may not invoke {function}")
        }
        cause => format!("{cause} ({function})"),
    };
    sanitize_subject(&format!(
        "[apigw-doctor] {what} will answer {status}: {why}"
    ))
}

/// The subject of a digest says so up front; others keep the alert's subject.
fn noticed_subject(subject: &str, notice: Option<&Notice>) -> String {
    match notice {
        Some(Notice::Digest { .. }) => sanitize_subject(&subject.replacen(
            "[apigw-doctor] ",
            "[apigw-doctor] still failing: ",
            1,
        )),
        _ => subject.to_owned(),
    }
}

/// The first line of a noticed message's text.
fn notice_line(notice: &Notice) -> String {
    let at = |ms: &i64| iso(*ms).unwrap_or_else(|| ms.to_string());
    match notice {
        Notice::First => String::new(),
        Notice::Digest { count, since, last } => format!(
            "Still failing: {} since {}, the last at {} (digest: repeats are counted, not sent, until the \
             suppression window ends).\n\n",
            plural(*count, "request", "requests"),
            at(since),
            at(last)
        ),
        Notice::Breakthrough { reason } => {
            format!("Sent at once, inside the suppression window: {reason}.\n\n")
        }
        Notice::Resolved {
            total,
            first_seen,
            last_seen,
        } => format!(
            "Resolved: no occurrence since {} ({} from {}).\n",
            at(last_seen),
            plural(*total, "request", "requests"),
            at(first_seen)
        ),
        Notice::Latent => "Not failing yet: the scheduled audit of the API's configuration found this before any \
                           client did. No request has been counted; the first one will fail as described.\n\n"
            .to_owned(),
    }
}

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

/// Printable ASCII only, no line breaks, at most [`MAX_SUBJECT_CHARS`].
fn sanitize_subject(s: &str) -> String {
    s.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

fn api_label(alert: &Alert) -> String {
    where_label(&alert.api_id, &alert.stage, &alert.log_group)
}

/// `api/stage`, else the API id, else the log group.
fn where_label(
    api_id: &Option<String>,
    stage: &Option<String>,
    log_group: &Option<String>,
) -> String {
    match (api_id, stage) {
        (Some(a), Some(s)) => format!("{a}/{s}"),
        (Some(a), None) => a.clone(),
        _ => log_group
            .clone()
            .unwrap_or_else(|| "an unknown API".to_owned()),
    }
}

fn route_label(alert: &Alert) -> Option<String> {
    match (&alert.method, &alert.resource_path) {
        (Some(m), Some(p)) => Some(format!("{m} {p}")),
        (None, Some(p)) => Some(p.clone()),
        _ => None,
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

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
            "description": description,
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
struct ChatContext<'a> {
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

/// A Chatbot notification id unique per message: the problem, what kind of message, and when.
fn message_id(fingerprint: &str, kind: &str, at: Option<i64>) -> String {
    format!("{fingerprint}-{kind}-{}", at.unwrap_or(0))
}

/// Slack shows at most 3,000 characters of a block: the Chatbot description is cut to this.
pub const MAX_CHAT_DESCRIPTION_CHARS: usize = 3_000;

/// How many problems the overflow message lists one by one (the rest are counted).
const OVERFLOW_LISTED: usize = 100;

/// `s` cut to at most `max` bytes, on a character boundary (a byte cut inside a character would panic).
fn cut(s: &mut String, max: usize) {
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

fn overflow_message(
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
    let mut description: String = text.chars().take(MAX_CHAT_DESCRIPTION_CHARS).collect();
    if description.len() < text.len() {
        description.push('…');
    }
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

/// Console links for the alert's log group and first stream, and the Logs Insights query for the first request.
pub fn links(alert: &Alert) -> Links {
    let host = console_host(&alert.region);
    let base = format!("https://{host}/cloudwatch/home?region={}", alert.region);
    let group = alert.log_group.as_deref();
    let sample = alert
        .sample_request_ids
        .first()
        .filter(|id| is_request_id(id));
    // Execution logs prefix each line with `(request-id)`; access-log records carry it as a field.
    let execution = group.is_some_and(|g| g.starts_with("API-Gateway-Execution-Logs_"));
    let insights_query = sample.map(|id| {
        if execution {
            format!("fields @timestamp, @message | filter @message like \"({id})\" | sort @timestamp asc")
        } else {
            format!("fields @timestamp, @message | filter requestId = \"{id}\" | sort @timestamp asc")
        }
    });
    let function_logs = matches!(
        alert.cause,
        Cause::FunctionError | Cause::FunctionTimeout | Cause::PayloadTooLarge
    )
    .then(|| {
        let name = alert
            .function_arns
            .first()
            .and_then(|arn| arn.split(':').nth(6))
            .filter(|n| is_function_name(n))?;
        let id = alert
            .sample_lambda_request_ids
            .first()
            .filter(|id| is_uuid(id))?;
        let query = format!(
            "fields @timestamp, @message | filter @requestId = \"{id}\" | sort @timestamp asc"
        );
        Some(insights_link(&base, &format!("/aws/lambda/{name}"), &query))
    })
    .flatten();
    let xray_trace = alert
        .sample_trace_ids
        .first()
        .filter(|id| crate::requests::request::is_trace_id(id))
        .map(|id| format!("{base}#xray:traces/{id}"));
    Links {
        log_group: group
            .map(|g| format!("{base}#logsV2:log-groups/log-group/{}", console_escape(g))),
        log_stream: group.zip(alert.log_streams.first()).map(|(g, s)| {
            format!(
                "{base}#logsV2:log-groups/log-group/{}/log-events/{}",
                console_escape(g),
                console_escape(s)
            )
        }),
        logs_insights: group.map(|g| match &insights_query {
            Some(query) => insights_link(&base, g, query),
            None => format!("{base}#logsV2:logs-insights"),
        }),
        insights_query,
        function_logs,
        xray_trace,
    }
}

/// A Logs Insights link that opens with `query` on `log_group` over the last 24 hours: the console reads its
/// state from the fragment, written in JSURL (`~` separators, `'` before a string, `*xx` for a byte outside
/// `[A-Za-z0-9_.-]`, `!` for `$`), as the console's own links are.
fn insights_link(base: &str, log_group: &str, query: &str) -> String {
    format!(
        "{base}#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'{}~source~(~'{}))",
        jsurl(query),
        jsurl(log_group)
    )
}

/// JSURL's string escaping.
fn jsurl(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '.' | '-' => out.push(c),
            '$' => out.push('!'),
            c if (c as u32) < 0x100 => out.push_str(&format!("*{:02x}", c as u32)),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("**{unit:04x}"));
                }
            }
        }
    }
    out
}

/// An API Gateway request id: a UUID, or the extended id's alphabet; nothing that could close a query string.
fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/".contains(&b))
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// A Lambda function name: letters, digits, `-` and `_`, at most 64.
fn is_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn console_host(region: &str) -> String {
    if region.starts_with("cn-") {
        "console.amazonaws.cn".to_owned()
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com".to_owned()
    } else {
        format!("{region}.console.aws.amazon.com")
    }
}

/// The CloudWatch console's fragment escaping: URL-encode twice, then write `%` as `$`.
fn console_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("$25{b:02X}"));
        }
    }
    out
}

/// Milliseconds since the epoch → RFC 3339 (UTC).
pub fn iso(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_insights_links_are_written_as_the_console_writes_them() {
        // The query part of a link the console produced (quoted in gh:cortexlabs/cortex#2085).
        assert_eq!(
            jsurl("fields @timestamp, @message\n| sort @timestamp desc\n"),
            "fields*20*40timestamp*2c*20*40message*0a*7c*20sort*20*40timestamp*20desc*0a"
        );
        assert_eq!(
            insights_link(
                "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2",
                "cortex",
                "x"
            ),
            "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'x~source~(~'cortex))"
        );
        assert_eq!(jsurl("a/b$é"), "a*2fb!*e9");
    }

    #[test]
    fn links_follow_the_log_kind_and_never_carry_malformed_ids() {
        let mut alert = crate::alert::tests_support::alert();
        alert.sample_request_ids = vec!["5cb7ee58-39e6-11e9-be7e-29aff96747f2".to_owned()];
        let l = links(&alert);
        assert!(
            l.insights_query
                .as_deref()
                .unwrap()
                .contains("filter @message like \"(5cb7ee58-39e6-11e9-be7e-29aff96747f2)\"")
        );
        assert!(
            l.logs_insights
                .as_deref()
                .unwrap()
                .contains("editorString~'fields*20*40timestamp")
        );
        alert.log_group = Some("/aws/apigateway/access".to_owned());
        assert!(
            links(&alert)
                .insights_query
                .as_deref()
                .unwrap()
                .contains("filter requestId = \"5cb7ee58")
        );
        alert.sample_request_ids = vec!["x\" | display secret".to_owned()];
        assert_eq!(links(&alert).insights_query, None);
        // The function's own log: only for its errors, with a well-formed name and Lambda request id.
        alert.cause = Cause::FunctionError;
        alert.sample_lambda_request_ids = vec!["71952965-d5cc-4974-ae08-6e2138b2275c".to_owned()];
        let url = links(&alert).function_logs.unwrap();
        assert!(url.contains("source~(~'*2faws*2flambda*2forders)"), "{url}");
        assert!(
            url.contains("71952965-d5cc-4974-ae08-6e2138b2275c"),
            "{url}"
        );
        alert.sample_lambda_request_ids = vec!["not-a-uuid".to_owned()];
        assert_eq!(links(&alert).function_logs, None);
        assert_eq!(links(&alert).xray_trace, None);
        alert.sample_trace_ids = vec!["1-64754fe5-084fc11dc5ca6bb8641894f5".to_owned()];
        assert_eq!(
            links(&alert).xray_trace.as_deref(),
            Some(
                "https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2#xray:traces/1-64754fe5-084fc11dc5ca6bb8641894f5"
            )
        );
        alert.sample_trace_ids = vec!["1-64754fe5-084fc11d\"><a href=x>".to_owned()];
        assert_eq!(links(&alert).xray_trace, None);
    }

    #[test]
    fn console_escape_matches_the_consoles_double_encoding() {
        assert_eq!(
            console_escape("API-Gateway-Execution-Logs_a1b2c3d4e5/prod"),
            "API-Gateway-Execution-Logs_a1b2c3d4e5$252Fprod"
        );
    }

    #[test]
    fn a_digest_says_so_and_reports_its_own_count_in_the_same_thread() {
        let alert = crate::alert::tests_support::alert();
        let notice = Notice::Digest {
            count: 1240,
            since: 1_732_440_000_000,
            last: 1_732_441_860_000,
        };
        let m = render_noticed(&alert, &Report::none(), Some(&notice));
        assert!(
            m.subject
                .starts_with("[apigw-doctor] still failing: 502 malformed_proxy_response"),
            "{}",
            m.subject
        );
        assert!(m.subject.ends_with("(1240)"), "{}", m.subject);
        assert!(m.bodies.email().starts_with(
            "Still failing: 1240 requests since 2024-11-24T09:20:00Z, the last at 2024-11-24T09:51:00Z"
        ));
        assert!(m.attributes.contains(&("notice", "digest".to_owned())));
        let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
        assert_eq!(chat["metadata"]["threadId"], alert.fingerprint);
        let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
        assert_eq!(machine["notice"]["count"], 1240);
        assert_eq!(machine["count"], 1240);
        // Without a notice nothing changes.
        let plain = render(&alert, &Report::none());
        assert!(!plain.attributes.iter().any(|(k, _)| *k == "notice"));
        assert!(!plain.bodies.machine().contains("\"notice\""));
    }

    #[test]
    fn the_structured_document_is_what_serde_json_writes_for_the_five_bodies() {
        let mut alert = crate::alert::tests_support::alert();
        alert.evidence.push(
            "Endpoint response body: {\"a\":\"line\\nbreak\", \"tab\":\"\t\", \"ctl\":\"\u{1}\", \"sep\":\"\u{2028}\", \"é\":\"</x>\"}"
                .to_owned(),
        );
        let m = render(&alert, &Report::none());
        assert_eq!(m.structured(), serde_json::to_string(&m.bodies).unwrap());
        let parsed: serde_json::Value = serde_json::from_str(m.structured()).unwrap();
        assert_eq!(parsed["default"], m.bodies.email());
        assert_eq!(parsed["email"], m.bodies.email());
        assert_eq!(parsed["https"], m.bodies.https());
        assert_eq!(parsed["sqs"], m.bodies.machine());
        assert_eq!(parsed["lambda"], m.bodies.machine());
    }

    #[test]
    fn resolved_threads_with_the_alert_and_names_the_problem() {
        let state = State {
            fingerprint: "0123456789abcdef".to_owned(),
            cause: "function_timeout".to_owned(),
            status: Some(502),
            api_id: Some("a1b2c3d4e5".to_owned()),
            stage: Some("prod".to_owned()),
            method: Some("GET".to_owned()),
            resource_path: Some("/echo".to_owned()),
            region: "us-east-1".to_owned(),
            total: 9,
            first_seen: 1_732_440_000_000,
            last_seen: 1_732_440_060_000,
            ..State::default()
        };
        let notice = Notice::Resolved {
            total: 9,
            first_seen: state.first_seen,
            last_seen: state.last_seen,
        };
        let m = render_state(&state, &notice);
        assert_eq!(
            m.subject,
            "[apigw-doctor] resolved: 502 function_timeout on a1b2c3d4e5/prod GET /echo"
        );
        let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
        assert_eq!(chat["metadata"]["threadId"], "0123456789abcdef");
        assert!(m.bodies.email().starts_with(
            "Resolved: no occurrence since 2024-11-24T09:21:00Z (9 requests from 2024-11-24T09:20:00Z)."
        ));
        assert!(m.attributes.contains(&("notice", "resolved".to_owned())));
    }

    #[test]
    fn iso_formats_milliseconds() {
        assert_eq!(
            iso(1_732_440_000_007).as_deref(),
            Some("2024-11-24T09:20:00.007Z")
        );
    }

    #[test]
    fn subject_is_printable_ascii_and_short_whatever_the_route() {
        let mut alert = crate::alert::tests_support::alert();
        alert.resource_path = Some(format!("/{}\n/é", "x".repeat(300)));
        let s = subject(&alert);
        assert!(s.len() <= MAX_SUBJECT_CHARS, "{}", s.len());
        assert!(s.chars().all(|c| (' '..='~').contains(&c)), "{s}");
        assert!(s.ends_with("... (37)"), "{s}");
    }

    #[test]
    fn huge_evidence_is_cut_to_fit_sns_but_the_headline_stays() {
        let mut alert = crate::alert::tests_support::alert();
        alert.evidence = vec!["e".repeat(100_000); 6];
        let m = render(&alert, &Report::none());
        assert!(m.structured().len() <= MAX_MESSAGE_BYTES);
        assert!(
            m.bodies
                .email()
                .starts_with("API Gateway answered 502 to 37 requests")
        );
        assert_eq!(m.subject, subject(&alert));
    }

    #[test]
    fn the_overflow_fits_sns_whatever_the_number_of_problems_and_never_cuts_inside_a_character() {
        // 400 distinct problems on routes with multi-byte characters: a byte cut at a fixed place lands inside
        // one of them.
        let overflow: Vec<Alert> = (0..400)
            .map(|i| {
                let mut a = crate::alert::tests_support::alert();
                a.fingerprint = format!("{i:016x}");
                a.resource_path = Some(format!("/commandes/{}/é{i}", "ü".repeat(40)));
                a.count = i + 1;
                a
            })
            .collect();
        let m = render_overflow(&overflow, &Unlisted::default(), None).unwrap();
        assert!(
            m.structured().len() <= MAX_MESSAGE_BYTES,
            "{}",
            m.structured().len()
        );
        assert!(m.bodies.email().contains("400 more distinct problems"));
        assert!(m.bodies.email().contains("... and 300 more"));
        let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
        let description = chat["content"]["description"].as_str().unwrap();
        assert!(description.chars().count() <= MAX_CHAT_DESCRIPTION_CHARS + 1);
        let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
        assert_eq!(machine["problems"], 400);
        assert_eq!(machine["alerts_not_listed"], 300);
        // The most requests first.
        assert_eq!(machine["alerts"][0]["count"], 400);
    }

    #[test]
    fn the_overflow_counts_problems_past_the_cap_and_carries_its_notice() {
        let mut grouping = crate::alert::Grouping::with_cap("us-east-1", 5, 1);
        let origin = crate::diagnose::Origin::new(
            "123456789012",
            "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
            "s",
        );
        let text: String = (0..4)
            .map(|i| format!("(r{i}) HTTP Method: GET, Resource Path: /r{i}\n(r{i}) Execution failed due to configuration error: Malformed Lambda proxy response\n(r{i}) Method completed with status: 502\n"))
            .collect();
        for finding in
            crate::diagnose::find(&origin, text.lines().map(|l| (None, l)), false).findings
        {
            grouping.add(&finding);
        }
        let plan = grouping.plan(1);
        assert!(plan.alerts.is_empty());
        assert_eq!(plan.overflow.len(), 1);
        let m = render_overflow(&plan.overflow, &plan.unlisted, Some(&Notice::First)).unwrap();
        assert!(
            m.bodies
                .email()
                .contains("4 more distinct problems (4 requests)"),
            "{}",
            m.bodies.email()
        );
        assert!(
            m.bodies
                .email()
                .contains("malformed_proxy_response: 4 problems (4 requests)")
        );
        assert!(m.bodies.email().contains("... and 3 more"));
        assert!(m.attributes.contains(&("notice", "first".to_owned())));
        let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
        assert_eq!(machine["problems"], 4);
        assert_eq!(machine["alerts_not_listed"], 3);
        // Nothing itemised and nothing counted: no message.
        assert!(render_overflow(&[], &Unlisted::default(), None).is_none());
    }

    #[test]
    fn cut_keeps_whole_characters() {
        let mut s = "aé".repeat(10);
        // Byte 5 falls inside the second é.
        cut(&mut s, 5);
        assert_eq!(s, "aéa");
        let mut s = "aé".to_owned();
        cut(&mut s, 2);
        assert_eq!(s, "a");
    }

    #[test]
    fn an_approval_result_is_threaded_under_its_alert() {
        let plan = crate::remediate::approval::PendingPlan {
            fingerprint: "0123456789abcdef".into(),
            cause: "missing_invoke_permission".into(),
            account: "123456789012".into(),
            region: "eu-west-2".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: Some("POST".into()),
            resource_path: Some("/orders/{id}".into()),
            authorizer_ids: Vec::new(),
            fixes: Vec::new(),
            created_at: 0,
        };
        let approval = Approval {
            outcome: "applied",
            message: "Applied by approval: statement apigw-doctor-x on orders (undo: ...).".into(),
            report: None,
        };
        let message = render_approval(&plan, "00ff", &approval, 1_700_000_000_000);
        assert_eq!(
            message.subject,
            "[apigw-doctor] Applied by approval: missing_invoke_permission on a1b2c3d4e5/prod POST /orders/{id}"
        );
        assert!(
            message
                .attributes
                .contains(&("notice", "approval".to_owned()))
        );
        assert!(
            message
                .attributes
                .contains(&("remediation", "applied".to_owned()))
        );
        let chat: serde_json::Value = serde_json::from_str(message.bodies.https()).unwrap();
        assert_eq!(chat["metadata"]["threadId"], "0123456789abcdef");
        assert_eq!(chat["metadata"]["eventType"], "missing-invoke-permission");
        assert!(message.bodies.email().starts_with("Applied by approval"));
        assert!(message.bodies.email().contains("Plan 00ff"));
    }

    #[test]
    fn chatbot_context_values_are_strings_and_every_message_has_its_own_id() {
        let mut alert = crate::alert::tests_support::alert();
        alert.api_id = None;
        alert.stage = None;
        let links = links(&alert);
        let first: serde_json::Value =
            serde_json::from_str(&chatbot(&alert, &links, &Report::none(), None)).unwrap();
        let context = first["metadata"]["additionalContext"].as_object().unwrap();
        assert!(
            context.values().all(serde_json::Value::is_string),
            "{context:?}"
        );
        let digest = Notice::Digest {
            count: 3,
            since: 1,
            last: 2,
        };
        let second: serde_json::Value =
            serde_json::from_str(&chatbot(&alert, &links, &Report::none(), Some(&digest))).unwrap();
        assert_ne!(first["id"], second["id"]);
        assert_eq!(
            first["metadata"]["threadId"],
            second["metadata"]["threadId"]
        );
    }
}
