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

mod approval;
mod chat;
mod email;
mod links;
mod member;
mod overflow;
mod state;
#[cfg(test)]
mod tests;

pub use approval::render_approval;
use chat::message_id;
pub use chat::{MAX_CHAT_DESCRIPTION_CHARS, chat_event_type, chatbot};
pub use email::{email_text, remediation_text};
pub use links::{Links, links, set_dashboard};
pub use member::render_member_unreachable;
pub use overflow::render_overflow;
pub use state::render_state;

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

/// Renders one alert, with what self-healing did about it.
pub fn render(alert: &Alert, remediation: &Report) -> Message {
    render_noticed(alert, remediation, None)
}

/// [`render`] with the reason it goes out: a digest reports the requests counted since the last message (its
/// count and times replace this invocation's); a breakthrough says why it did not wait.
pub fn render_noticed(alert: &Alert, remediation: &Report, notice: Option<&Notice>) -> Message {
    // An access-log alert names the API its stage's own configuration names (found while planning the fix).
    let named;
    let alert = match (&remediation.api, &alert.api_id) {
        (Some(api), None) => {
            let mut a = alert.clone();
            a.api_id = Some(api.api_id.clone());
            a.stage = Some(api.stage.clone());
            named = a;
            &named
        }
        _ => alert,
    };
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

/// Milliseconds since the epoch → RFC 3339 (UTC).
pub fn iso(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}
