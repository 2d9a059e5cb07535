//! The stage's logging, checked for what apigw-doctor (and a responder) needs to see a failure:
//! - `execution_logging`: execution logs on for every method (`*/*`), at which level; full request/response data
//!   (`dataTraceEnabled`) puts request and response bodies in the logs, a privacy `warn`;
//! - `access_logging`: an access log with a JSON format that carries the variables the diagnosis reads (each
//!   missing one named, with what is lost without it; the list is the one in `docs/access-logs.md`);
//! - `log_subscription`: the stage's log groups are subscribed to apigw-doctor (a filter named `apigw-doctor…`,
//!   the name discovery gives its filters, or one whose destination is an apigw-doctor function or stream).
//!
//! Nothing here fails the audit: an API with logging off still answers its clients; each is a `warn` at worst.

use std::future::Future;

use super::{CheckResult, Status, Target};
use crate::remediate::{ApiKind, RemediateError};
use crate::subscribe::{Filter, LogsApi};

/// What `GetStage` says of a stage's logging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageLogging {
    /// `methodSettings["*/*"].loggingLevel`: `OFF`, `ERROR`, `INFO`; `None` when the stage sets none (off).
    pub logging_level: Option<String>,
    /// `methodSettings["*/*"].dataTraceEnabled`: full request and response logs.
    pub data_trace: bool,
    /// `accessLogSettings.destinationArn` (a log group ARN or a Firehose stream).
    pub access_log_destination: Option<String>,
    /// `accessLogSettings.format`.
    pub access_log_format: Option<String>,
}

/// Reads a stage's logging settings (API Gateway `GetStage`, read-only).
pub trait StageLoggingApi {
    fn stage_logging(
        &self,
        api_id: &str,
        stage: &str,
        kind: ApiKind,
    ) -> impl Future<Output = Result<StageLogging, RemediateError>> + Send;
}

/// The variables an HTTP API's access log needs: it is the only log an HTTP API writes.
pub const HTTP_ACCESS_LOG_VARIABLES: &[(&[&str], &str)] = &[
    (
        &["$context.requestId"],
        "alerts quote no request ids to look up",
    ),
    (&["$context.status"], "no record is known to be a 5xx"),
    (
        &["$context.integrationErrorMessage"],
        "missing permissions, timeouts and function errors all read as unknown_5xx",
    ),
    (
        &["$context.integration.error"],
        "the integration's own error (a function error's type) is not seen",
    ),
    (
        &["$context.integration.status"],
        "a function that answered cannot be told from one that was never invoked",
    ),
    (
        &["$context.authorizer.error"],
        "an authorizer that cannot be invoked looks like an integration permission error",
    ),
    (
        &["$context.routeKey"],
        "self-healing cannot name the route: it checks every Lambda route of the API instead",
    ),
];

/// The variables a WebSocket API's access log needs (its execution log has the rest).
pub const WEBSOCKET_ACCESS_LOG_VARIABLES: &[(&[&str], &str)] = &[
    (
        &["$context.requestId"],
        "alerts quote no request ids to look up",
    ),
    (&["$context.status"], "no record is known to be a 5xx"),
    (
        &[
            "$context.integrationErrorMessage",
            "$context.integration.error",
        ],
        "missing permissions and function errors read as unknown_5xx",
    ),
    (
        &["$context.routeKey"],
        "one alert per API and cause instead of per route ($connect, $default, ...)",
    ),
];

fn access_log_variables(kind: ApiKind) -> &'static [(&'static [&'static str], &'static str)] {
    match kind {
        ApiKind::Rest => ACCESS_LOG_VARIABLES,
        ApiKind::Http => HTTP_ACCESS_LOG_VARIABLES,
        ApiKind::WebSocket => WEBSOCKET_ACCESS_LOG_VARIABLES,
    }
}

/// The variables the access-log reader uses, and what is lost without each (REST APIs).
pub const ACCESS_LOG_VARIABLES: &[(&[&str], &str)] = &[
    (
        &["$context.requestId"],
        "alerts quote no request ids to look up",
    ),
    (&["$context.status"], "no record is known to be a 5xx"),
    (
        &[
            "$context.integrationErrorMessage",
            "$context.integration.error",
        ],
        "function errors, timeouts, payload limits and missing permissions all read as unknown_5xx",
    ),
    (
        &["$context.error.responseType"],
        "integration timeouts, throttles and authorizer errors are guessed from the status alone",
    ),
    (
        &["$context.authorizer.error"],
        "an authorizer that cannot be invoked looks like an integration permission error",
    ),
    (
        &["$context.httpMethod"],
        "one alert per API and cause instead of per route",
    ),
    (
        &["$context.resourcePath", "$context.routeKey"],
        "one alert per API and cause instead of per route",
    ),
    (
        &["$context.apiId"],
        "alerts name no API unless ACCESS_LOG_APIS maps the log group",
    ),
    (&["$context.stage"], "alerts name no stage"),
];

/// The execution log group of a REST API stage (API Gateway's own name for it).
pub fn execution_log_group(api_id: &str, stage: &str) -> String {
    format!("API-Gateway-Execution-Logs_{api_id}/{stage}")
}

/// The log group name of an access-log destination ARN (`arn:aws:logs:r:a:log-group:NAME[:*]`); `None` for a
/// Firehose stream.
pub fn access_log_group(destination_arn: &str) -> Option<&str> {
    crate::remediate::log_group_of_arn(destination_arn)
}

/// Whether one of `filters` sends the log group to apigw-doctor.
pub fn is_ours(filters: &[Filter]) -> bool {
    filters.iter().any(|f| {
        f.name.starts_with("apigw-doctor")
            || f.destination_arn
                .rsplit([':', '/'])
                .next()
                .is_some_and(|name| name.contains("apigw-doctor") || name.contains("ApigwDoctor"))
    })
}

/// Reads the stage's logging and its log groups' filters, and checks them. `Err` only when the stage cannot be
/// read; a log group whose filters cannot be read gives a `warn` saying so.
pub async fn audit_logging<S: StageLoggingApi, L: LogsApi>(
    target: &Target<'_>,
    stages: &S,
    logs: &L,
) -> Result<Vec<CheckResult>, RemediateError> {
    let logging = stages
        .stage_logging(target.api_id, target.stage, target.kind)
        .await?;
    // HTTP APIs write no execution log.
    let mut groups = Vec::new();
    if target.kind != ApiKind::Http {
        groups.push(execution_log_group(target.api_id, target.stage));
    }
    if let Some(group) = logging
        .access_log_destination
        .as_deref()
        .and_then(access_log_group)
    {
        groups.push(group.to_owned());
    }
    let mut subscriptions = Vec::new();
    for group in groups {
        let state = match logs.filters(&group).await {
            Ok(filters) => Subscription::Known(is_ours(&filters)),
            Err(e) if e.reason.contains("ResourceNotFoundException") => Subscription::Missing,
            Err(e) => Subscription::Unreadable(e.reason),
        };
        subscriptions.push((group, state));
    }
    Ok(logging_checks(target, &logging, &subscriptions))
}

/// Whether a log group is subscribed to apigw-doctor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    Known(bool),
    /// The log group does not exist (API Gateway creates it with the first request it logs).
    Missing,
    /// The filters could not be read (a log group that does not exist yet reads as not subscribed).
    Unreadable(String),
}

/// The checks on settings already read (pure).
pub fn logging_checks(
    target: &Target<'_>,
    logging: &StageLogging,
    subscriptions: &[(String, Subscription)],
) -> Vec<CheckResult> {
    let result =
        |check: &'static str, status: Status, message: String, fix: Option<String>| CheckResult {
            check,
            status,
            api_id: target.api_id.to_owned(),
            stage: target.stage.to_owned(),
            method: None,
            resource_path: None,
            authorizer_id: None,
            function_arn: None,
            message,
            fix,
            command: None,
            iac_snippet: None,
            routes: Vec::new(),
        };
    let set_level = |level: &str| match target.kind {
        ApiKind::Rest => format!(
            "aws apigateway update-stage --rest-api-id {} --stage-name {} --patch-operations \
             op=replace,path=/*/*/logging/loglevel,value={level}",
            target.api_id, target.stage
        ),
        _ => format!(
            "aws apigatewayv2 update-stage --api-id {} --stage-name {} --default-route-settings LoggingLevel={level}",
            target.api_id, target.stage
        ),
    };
    let no_data_trace = match target.kind {
        ApiKind::Rest => format!(
            "aws apigateway update-stage --rest-api-id {} --stage-name {} --patch-operations \
             op=replace,path=/*/*/logging/dataTrace,value=false",
            target.api_id, target.stage
        ),
        _ => format!(
            "aws apigatewayv2 update-stage --api-id {} --stage-name {} --default-route-settings DataTraceEnabled=false",
            target.api_id, target.stage
        ),
    };
    let mut out = Vec::new();
    if target.kind == ApiKind::Http {
        // No execution log exists for HTTP APIs: the access log is the whole record.
        out.push(access_logging(target.kind, logging, &result));
        push_subscriptions(&mut out, subscriptions, &result);
        return out;
    }
    let level = logging.logging_level.as_deref().unwrap_or("OFF");
    out.push(match level {
        "INFO" | "ERROR" if logging.data_trace => result(
            "execution_logging",
            Status::Warn,
            format!(
                "execution logging is {level} with full request and response data: request and response bodies \
                 (personal data, tokens) are written to CloudWatch Logs"
            ),
            Some(no_data_trace),
        ),
        "INFO" => result(
            "execution_logging",
            Status::Pass,
            "execution logging is INFO: every request's lines, including the failure and the final status".into(),
            None,
        ),
        "ERROR" => result(
            "execution_logging",
            Status::Pass,
            "execution logging is ERROR: failures are logged; INFO also logs the route and integration lines \
             an alert quotes"
                .into(),
            None,
        ),
        other => result(
            "execution_logging",
            Status::Warn,
            format!(
                "execution logging is {other} for the stage: API Gateway writes no execution log, so a 5xx's \
                 cause (permission, malformed response, timeout) is visible nowhere"
            ),
            Some(set_level("ERROR")),
        ),
    });
    out.push(access_logging(target.kind, logging, &result));
    push_subscriptions(&mut out, subscriptions, &result);
    out
}

fn push_subscriptions(
    out: &mut Vec<CheckResult>,
    subscriptions: &[(String, Subscription)],
    result: &impl Fn(&'static str, Status, String, Option<String>) -> CheckResult,
) {
    for (group, state) in subscriptions {
        out.push(match state {
            Subscription::Known(true) => result(
                "log_subscription",
                Status::Pass,
                format!("log group {group} is subscribed to apigw-doctor"),
                None,
            ),
            Subscription::Known(false) => result(
                "log_subscription",
                Status::Warn,
                format!("log group {group} is not subscribed to apigw-doctor: its failures raise no alert"),
                Some(if group.starts_with("API-Gateway-Execution-Logs_") {
                    "deploy apigw-doctor with Discovery=enabled (it subscribes every API-Gateway-Execution-Logs_ \
                     group), or add a subscription filter to its function"
                        .into()
                } else {
                    format!(
                        "discovery subscribes the access-log group of every HTTP and WebSocket API stage it reads, \
                         and other access-log groups under the stack's AccessLogGroupPrefix parameter: deploy with \
                         Discovery=enabled, or AccessLogGroupPrefix={} (or a shorter prefix of it), or add a \
                         subscription filter to its function",
                        access_log_prefix(group)
                    )
                }),
            ),
            Subscription::Missing => result(
                "log_subscription",
                Status::Warn,
                format!(
                    "log group {group} does not exist yet (API Gateway creates it with the first request it logs): \
                     nothing to subscribe; discovery subscribes it once it exists"
                ),
                None,
            ),
            Subscription::Unreadable(reason) => result(
                "log_subscription",
                Status::Warn,
                format!("the subscription filters of log group {group} could not be read: {reason}"),
                None,
            ),
        });
    }
}

/// The prefix to suggest for an access-log group: its name up to its last `/` (a team keeps its groups together),
/// or the whole name.
fn access_log_prefix(group: &str) -> &str {
    match group.rfind('/') {
        Some(at) if at > 0 => &group[..=at],
        _ => group,
    }
}

fn access_logging(
    kind: ApiKind,
    logging: &StageLogging,
    result: &impl Fn(&'static str, Status, String, Option<String>) -> CheckResult,
) -> CheckResult {
    let Some(destination) = &logging.access_log_destination else {
        return result(
            "access_logging",
            Status::Warn,
            if kind == ApiKind::Http {
                "no access log: an HTTP API writes no execution log, so no failing request is recorded anywhere".into()
            } else {
                "no access log: the only record of a failing request is the execution log".into()
            },
            Some(
                "set the stage's access log (accessLogSettings) to a log group with the JSON format in \
                 docs/access-logs.md"
                    .into(),
            ),
        );
    };
    let format = logging.access_log_format.as_deref().unwrap_or("").trim();
    if !format.starts_with('{') {
        return result(
            "access_logging",
            Status::Warn,
            format!(
                "the access log to {destination} is not JSON: apigw-doctor counts and skips lines in a CLF-like \
                 layout"
            ),
            Some("use the JSON access-log format in docs/access-logs.md".into()),
        );
    }
    let missing: Vec<String> = access_log_variables(kind)
        .iter()
        .filter(|(names, _)| !names.iter().any(|n| carries(format, n)))
        .map(|(names, lost)| format!("{} ({lost})", names[0]))
        .collect();
    if missing.is_empty() {
        result(
            "access_logging",
            Status::Pass,
            format!(
                "the access log to {destination} is JSON and carries every variable apigw-doctor reads"
            ),
            None,
        )
    } else {
        result(
            "access_logging",
            Status::Warn,
            format!(
                "the access log to {destination} lacks {}: {}",
                if missing.len() == 1 {
                    "a variable"
                } else {
                    "variables"
                },
                missing.join("; ")
            ),
            Some("add them to the format (docs/access-logs.md has the recommended one)".into()),
        )
    }
}

/// Whether `format` carries the variable `name` itself (`$context.status`, not only `$context.statusCode`).
fn carries(format: &str, name: &str) -> bool {
    format.match_indices(name).any(|(at, m)| {
        !format[at + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Target<'static> = Target {
        api_id: "a1b2c3d4e5",
        kind: ApiKind::Rest,
        stage: "prod",
        region: "us-east-1",
        account: None,
    };

    fn status_of(results: &[CheckResult], check: &str) -> Vec<Status> {
        results
            .iter()
            .filter(|r| r.check == check)
            .map(|r| r.status)
            .collect()
    }

    #[test]
    fn execution_logging_levels() {
        let check = |level: Option<&str>, data_trace: bool| {
            let logging = StageLogging {
                logging_level: level.map(str::to_owned),
                data_trace,
                ..StageLogging::default()
            };
            logging_checks(&TARGET, &logging, &[])
                .into_iter()
                .find(|r| r.check == "execution_logging")
                .unwrap()
        };
        assert_eq!(check(Some("INFO"), false).status, Status::Pass);
        assert_eq!(check(Some("ERROR"), false).status, Status::Pass);
        let off = check(None, false);
        assert_eq!(off.status, Status::Warn);
        assert!(
            off.fix
                .unwrap()
                .contains("path=/*/*/logging/loglevel,value=ERROR")
        );
        let full = check(Some("INFO"), true);
        assert_eq!(full.status, Status::Warn);
        assert!(full.message.contains("bodies"));
        assert!(full.fix.unwrap().contains("logging/dataTrace,value=false"));
    }

    #[test]
    fn access_logging_names_each_missing_variable() {
        let with = |format: Option<&str>| StageLogging {
            access_log_destination: Some(
                "arn:aws:logs:us-east-1:123456789012:log-group:api-access".into(),
            ),
            access_log_format: format.map(str::to_owned),
            ..StageLogging::default()
        };
        let recommended = r#"{"requestId":"$context.requestId","apiId":"$context.apiId","stage":"$context.stage","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","errorResponseType":"$context.error.responseType","errorMessage":"$context.error.message","integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error"}"#;
        let results = logging_checks(&TARGET, &with(Some(recommended)), &[]);
        assert_eq!(status_of(&results, "access_logging"), [Status::Pass]);
        // `$context.statusCode` is not `$context.status`; `$context.requestTime` is not `$context.requestId`.
        let thin = r#"{"requestId":"$context.extendedRequestId","time":"$context.requestTime","code":"$context.statusCode"}"#;
        let results = logging_checks(&TARGET, &with(Some(thin)), &[]);
        let access = results
            .iter()
            .find(|r| r.check == "access_logging")
            .unwrap();
        assert_eq!(access.status, Status::Warn);
        assert!(
            access.message.contains("$context.requestId (alerts quote"),
            "{}",
            access.message
        );
        assert!(
            access.message.contains("$context.status (no record"),
            "{}",
            access.message
        );
        let clf = "$context.identity.sourceIp - - [$context.requestTime] \"$context.httpMethod\" $context.status";
        let results = logging_checks(&TARGET, &with(Some(clf)), &[]);
        assert!(
            results
                .iter()
                .any(|r| r.check == "access_logging" && r.message.contains("not JSON"))
        );
        let none = logging_checks(&TARGET, &StageLogging::default(), &[]);
        assert_eq!(status_of(&none, "access_logging"), [Status::Warn]);
    }

    #[test]
    fn subscriptions_are_ours_by_name_or_destination() {
        let filter = |name: &str, destination: &str| Filter {
            name: name.into(),
            destination_arn: destination.into(),
            pattern: String::new(),
        };
        assert!(is_ours(&[filter(
            "apigw-doctor-prod",
            "arn:aws:lambda:us-east-1:123456789012:function:x"
        )]));
        assert!(is_ours(&[filter(
            "org-fan-in",
            "arn:aws:logs:us-east-1:123456789012:destination:apigw-doctor-fan-in"
        )]));
        assert!(!is_ours(&[filter(
            "datadog",
            "arn:aws:lambda:us-east-1:123456789012:function:datadog-forwarder"
        )]));
        let results = logging_checks(
            &TARGET,
            &StageLogging::default(),
            &[
                (
                    "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
                    Subscription::Known(false),
                ),
                ("api-access".into(), Subscription::Known(true)),
            ],
        );
        assert_eq!(
            status_of(&results, "log_subscription"),
            [Status::Warn, Status::Pass]
        );
        assert_eq!(
            access_log_group("arn:aws:logs:us-east-1:1:log-group:api-access:*"),
            Some("api-access")
        );
        assert_eq!(
            access_log_group("arn:aws:firehose:us-east-1:1:deliverystream/amazon-apigateway-x"),
            None
        );
    }
}
