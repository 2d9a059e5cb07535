//! Console links of an alert: the log group, the first stream, a Logs Insights query, the function's log and the
//! X-Ray trace, built only from well-formed ids and names.

use super::*;

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
    /// The stack's CloudWatch dashboard (5xx by cause, API stage and account), when the function knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

/// The stack's dashboard name (`DASHBOARD_NAME`), set once at start.
static DASHBOARD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Links every alert to the stack's dashboard (a name of letters, digits, `-` and `_`, as CloudWatch allows).
pub fn set_dashboard(name: &str) {
    let valid = (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        let _ = DASHBOARD.set(name.to_owned());
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
        dashboard: DASHBOARD
            .get()
            .map(|name| format!("{base}#dashboards/dashboard/{name}")),
    }
}

/// A Logs Insights link that opens with `query` on `log_group` over the last 24 hours: the console reads its
/// state from the fragment, written in JSURL (`~` separators, `'` before a string, `*xx` for a byte outside
/// `[A-Za-z0-9_.-]`, `!` for `$`), as the console's own links are.
pub(super) fn insights_link(base: &str, log_group: &str, query: &str) -> String {
    format!(
        "{base}#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'{}~source~(~'{}))",
        jsurl(query),
        jsurl(log_group)
    )
}

/// JSURL's string escaping.
pub(super) fn jsurl(s: &str) -> String {
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
pub(super) fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/".contains(&b))
}

pub(super) fn is_uuid(id: &str) -> bool {
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
pub(super) fn is_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(super) fn console_host(region: &str) -> String {
    if region.starts_with("cn-") {
        "console.amazonaws.cn".to_owned()
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com".to_owned()
    } else {
        format!("{region}.console.aws.amazon.com")
    }
}

/// The CloudWatch console's fragment escaping: URL-encode twice, then write `%` as `$`.
pub(super) fn console_escape(s: &str) -> String {
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
