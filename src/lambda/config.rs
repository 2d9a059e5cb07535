//! Raw environment → validated [`Config`]. The same variables configure the Lambda and the CLI.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ALERT_TOPIC_ARN` | SNS topic the alerts are published to (required by the Lambda; the CLI prints instead when unset) | — |
//! | `METRICS_NAMESPACE` | CloudWatch namespace of the Embedded Metric Format lines | `ApigwDoctor` |
//! | `MAX_INFLATED_BYTES` | cap on one delivery's inflated size, in bytes | `16777216` (16 MiB) |
//! | `ALERT_SAMPLE_REQUEST_IDS` | request ids quoted per alert (1–20) | `5` |
//! | `MAX_ALERTS_PER_INVOCATION` | distinct problems alerted one by one per invocation; the rest go into one overflow alert (1–100) | `20` |
//! | `REMEDIATION_MODE` | `off` (no Lambda or API Gateway call at all), `dry-run` (say what would be done) or `auto` | `dry-run` |
//! | `REMEDIATION_ALLOWED_FUNCTIONS` | comma-separated glob patterns on function names that `auto` may change; empty: none | — |
//! | `REMEDIATION_ALLOWED_APIS` | comma-separated API ids (REST, HTTP, WebSocket) remediation may act for; empty: any | — |
//! | `REMEDIATION_SCOPE` | `route` (`{api}/*/{METHOD}/{path}`) or `api` (`{api}/*`) | `route` |
//! | `REMEDIATION_MAX_CHANGES` | permissions added per invocation at most (0–50) | `3` |
//! | `ACCESS_LOG_APIS` | access-log groups → the API they log: `log-group=api-id/stage`, comma-separated (the name of an access-log group is the team's choice, so it says nothing by itself) | — |
//! | `SUPPRESSION_TABLE` | DynamoDB table of the cross-invocation suppression state; unset: every invocation alerts on its own | — |
//! | `SUPPRESSION_WINDOW_SECONDS` | after an alert, repeats are counted, not sent, for this long (60–86400) | `300` |
//! | `SUPPRESSION_MAX_WINDOW_SECONDS` | windows double after each digest up to this (60–86400) | `3600` |
//! | `RESOLVE_AFTER_SECONDS` | no occurrence for this long: one "resolved" message (60–604800) | `900` |
//! | `DISCOVERY` | `on`: the sweep subscribes API Gateway log groups that have no filter of ours; `off`: only what the operator subscribed | `off` |
//! | `SUBSCRIPTION_FILTER_NAME` | the name of the filters discovery puts (one per stack); only filters with this name are changed or removed | `apigw-doctor` |
//! | `SUBSCRIPTION_FILTER_PATTERN` | their filter pattern; empty sends every line | — |
//! | `ACCESS_LOG_GROUP_PREFIX` | also subscribe log groups whose names start with this (access logs) | — |
//! | `DISCOVERY_ONLY` | comma-separated API ids (REST, HTTP, WebSocket) or log group names: discovery subscribes only these | — |
//! | `LATENT_AUDIT_HOURS` | the sweep audits each watched API's configuration at most this often and alerts (`notice=latent`) on what will answer 500 before any client does; `auto` mode fixes a missing invoke permission then. Needs `SUPPRESSION_TABLE` (it remembers when each API was audited). 0: off (0–168) | `0` |
//! | `MEMBER_ACCOUNTS` | comma-separated member account ids the sweep works in through their role (organisation install: `member/template.yaml`); empty: this account only | — |
//! | `MEMBER_ROLE_NAME` | the role each member account's stack creates | `apigw-doctor-member` |
//! | `MEMBER_EXTERNAL_ID` | the external id the member roles' trust asks for, if any | — |
//! | `MEMBER_SWEEP_MINUTES` | each member account is swept once in this period (the sweeps take them in turn) (5–1440) | `30` |
//! | `FAN_IN_DESTINATION_ARN` | the CloudWatch Logs destination member accounts' log groups are subscribed to (the fan-in's) | — |
//! | `DASHBOARD_NAME` | the stack's CloudWatch dashboard: every alert links to it | — |
//! | `MALLOC_MMAP_THRESHOLD_` | read by glibc's malloc, not by apigw-doctor: allocations of this size and more are mapped and given back when freed (the template sets 131072, so a warm function does not keep a worst delivery's memory) | glibc's, adaptive |
//! | `STACK_ID` | the stack that deploys the function (`AWS::StackId`): the only stack whose custom-resource requests it answers; unset: it answers none | — |
//! | `AWS_REGION` | set by Lambda; used for console links and fingerprints | `us-east-1` |
//!
//! `from_lookup` is pure (tests pass a map); `from_env` is the one line that reads the environment.

pub use crate::diagnose::finding::AccessLogApi;
use crate::diagnose::finding::is_api_id;
use crate::ingest::DEFAULT_MAX_INFLATED_BYTES;
use crate::remediate::Settings as RemediationSettings;
use crate::remediate::plan::{Mode, Scope};
use crate::subscribe::Settings as DiscoverySettings;
use crate::suppress::Timing;

pub const ALERT_TOPIC_ARN: &str = "ALERT_TOPIC_ARN";
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
pub const MAX_INFLATED_BYTES: &str = "MAX_INFLATED_BYTES";
pub const ALERT_SAMPLE_REQUEST_IDS: &str = "ALERT_SAMPLE_REQUEST_IDS";
pub const MAX_ALERTS_PER_INVOCATION: &str = "MAX_ALERTS_PER_INVOCATION";
pub const REMEDIATION_MODE: &str = "REMEDIATION_MODE";
pub const REMEDIATION_ALLOWED_FUNCTIONS: &str = "REMEDIATION_ALLOWED_FUNCTIONS";
pub const REMEDIATION_ALLOWED_APIS: &str = "REMEDIATION_ALLOWED_APIS";
pub const REMEDIATION_SCOPE: &str = "REMEDIATION_SCOPE";
pub const REMEDIATION_MAX_CHANGES: &str = "REMEDIATION_MAX_CHANGES";
pub const ACCESS_LOG_APIS: &str = "ACCESS_LOG_APIS";
pub const SUPPRESSION_TABLE: &str = "SUPPRESSION_TABLE";
pub const SUPPRESSION_WINDOW_SECONDS: &str = "SUPPRESSION_WINDOW_SECONDS";
pub const SUPPRESSION_MAX_WINDOW_SECONDS: &str = "SUPPRESSION_MAX_WINDOW_SECONDS";
pub const RESOLVE_AFTER_SECONDS: &str = "RESOLVE_AFTER_SECONDS";
pub const DISCOVERY: &str = "DISCOVERY";
pub const SUBSCRIPTION_FILTER_NAME: &str = "SUBSCRIPTION_FILTER_NAME";
pub const SUBSCRIPTION_FILTER_PATTERN: &str = "SUBSCRIPTION_FILTER_PATTERN";
pub const ACCESS_LOG_GROUP_PREFIX: &str = "ACCESS_LOG_GROUP_PREFIX";
pub const DISCOVERY_ONLY: &str = "DISCOVERY_ONLY";
pub const LATENT_AUDIT_HOURS: &str = "LATENT_AUDIT_HOURS";
pub const MEMBER_ACCOUNTS: &str = "MEMBER_ACCOUNTS";
pub const MEMBER_ROLE_NAME: &str = "MEMBER_ROLE_NAME";
pub const MEMBER_EXTERNAL_ID: &str = "MEMBER_EXTERNAL_ID";
pub const MEMBER_SWEEP_MINUTES: &str = "MEMBER_SWEEP_MINUTES";
pub const FAN_IN_DESTINATION_ARN: &str = "FAN_IN_DESTINATION_ARN";
pub const DASHBOARD_NAME: &str = "DASHBOARD_NAME";
/// Read by glibc's allocator at start (the template sets it): large allocations are always mapped, so they are
/// given back to the system when freed instead of staying in a heap that does not shrink.
pub const MALLOC_MMAP_THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";
pub const STACK_ID: &str = "STACK_ID";
pub const AWS_REGION: &str = "AWS_REGION";
/// Set by Lambda: this function's name.
pub const AWS_LAMBDA_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
/// Set by Lambda: this function's own log group (discovery never subscribes it).
pub const AWS_LAMBDA_LOG_GROUP_NAME: &str = "AWS_LAMBDA_LOG_GROUP_NAME";

/// Every variable this project defines (not `AWS_REGION`, which Lambda sets): `template.yaml` sets each of them.
pub const VARIABLES: &[&str] = &[
    ALERT_TOPIC_ARN,
    METRICS_NAMESPACE,
    MAX_INFLATED_BYTES,
    ALERT_SAMPLE_REQUEST_IDS,
    MAX_ALERTS_PER_INVOCATION,
    REMEDIATION_MODE,
    REMEDIATION_ALLOWED_FUNCTIONS,
    REMEDIATION_ALLOWED_APIS,
    REMEDIATION_SCOPE,
    REMEDIATION_MAX_CHANGES,
    ACCESS_LOG_APIS,
    SUPPRESSION_TABLE,
    SUPPRESSION_WINDOW_SECONDS,
    SUPPRESSION_MAX_WINDOW_SECONDS,
    RESOLVE_AFTER_SECONDS,
    DISCOVERY,
    SUBSCRIPTION_FILTER_NAME,
    SUBSCRIPTION_FILTER_PATTERN,
    ACCESS_LOG_GROUP_PREFIX,
    DISCOVERY_ONLY,
    LATENT_AUDIT_HOURS,
    MEMBER_ACCOUNTS,
    MEMBER_ROLE_NAME,
    MEMBER_EXTERNAL_ID,
    MEMBER_SWEEP_MINUTES,
    FAN_IN_DESTINATION_ARN,
    DASHBOARD_NAME,
    MALLOC_MMAP_THRESHOLD,
    STACK_ID,
];

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub alert_topic_arn: Option<String>,
    pub metrics_namespace: String,
    pub max_inflated_bytes: usize,
    pub sample_request_ids: usize,
    pub max_alerts_per_invocation: usize,
    pub region: String,
    pub remediation: RemediationSettings,
    /// The operator's mapping of access-log groups to APIs.
    pub access_log_apis: Vec<AccessLogApi>,
    pub suppression_table: Option<String>,
    pub suppression: Timing,
    pub discovery: DiscoverySettings,
    /// How often the sweep audits each watched API (`LATENT_AUDIT_HOURS`); `None`: never.
    pub latent_audit_every_ms: Option<i64>,
    /// This function's own name (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda): what an approval invokes, and the
    /// value the "Apply fix" button's criterion matches, so that it shows on this stack's alerts only.
    pub function_name: Option<String>,
    /// The stack that deploys the function (`STACK_ID`): a custom-resource request from any other stack, or with
    /// none set, is refused.
    pub stack_id: Option<String>,
    /// The organisation's member accounts and how to reach them.
    pub members: MemberSettings,
    /// The stack's dashboard (`DASHBOARD_NAME`), linked from every alert.
    pub dashboard_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required")]
    Missing { name: &'static str },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            alert_topic_arn: None,
            metrics_namespace: "ApigwDoctor".to_owned(),
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
            sample_request_ids: 5,
            max_alerts_per_invocation: 20,
            region: "us-east-1".to_owned(),
            remediation: RemediationSettings::default(),
            access_log_apis: Vec::new(),
            suppression_table: None,
            suppression: Timing::default(),
            discovery: DiscoverySettings::default(),
            latent_audit_every_ms: None,
            function_name: None,
            stack_id: None,
            members: MemberSettings::default(),
            dashboard_name: None,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads and validates every variable; a variable set to an empty string counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let defaults = Config::default();
        let alert_topic_arn = get(ALERT_TOPIC_ARN)
            .map(|arn| validate_topic_arn(&arn).map(|()| arn))
            .transpose()?;
        let metrics_namespace = match get(METRICS_NAMESPACE) {
            Some(ns) if valid_namespace(&ns) => ns,
            Some(ns) => {
                return Err(invalid(
                    METRICS_NAMESPACE,
                    &ns,
                    "use 1-255 letters, digits and . - _ / # : (no spaces first)",
                ));
            }
            None => defaults.metrics_namespace,
        };
        let number = |name: &'static str,
                      default: usize,
                      min: usize,
                      max: usize|
         -> Result<usize, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(invalid(
                        name,
                        &v,
                        &format!("expected a whole number from {min} to {max}"),
                    )),
                },
            }
        };
        let access_log_apis = list(get(ACCESS_LOG_APIS), ACCESS_LOG_APIS, |entry| {
            parse_access_log_api(entry).is_some()
        })?
        .iter()
        .filter_map(|entry| parse_access_log_api(entry))
        .collect();
        let home_account = alert_topic_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .map(str::to_owned);
        let suppression_table = match get(SUPPRESSION_TABLE) {
            Some(t)
                if (3..=255).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) =>
            {
                Some(t)
            }
            Some(t) => {
                return Err(invalid(
                    SUPPRESSION_TABLE,
                    &t,
                    "a DynamoDB table name: 3-255 letters, digits, _ - .",
                ));
            }
            None => None,
        };
        let seconds = |name, default_ms: i64, max| -> Result<i64, ConfigError> {
            number(name, (default_ms / 1000) as usize, 60, max).map(|s| s as i64 * 1000)
        };
        let defaults_timing = Timing::default();
        let suppression = Timing {
            window_ms: seconds(
                SUPPRESSION_WINDOW_SECONDS,
                defaults_timing.window_ms,
                86_400,
            )?,
            max_window_ms: seconds(
                SUPPRESSION_MAX_WINDOW_SECONDS,
                defaults_timing.max_window_ms,
                86_400,
            )?,
            quiet_ms: seconds(RESOLVE_AFTER_SECONDS, defaults_timing.quiet_ms, 604_800)?,
        };
        if suppression.max_window_ms < suppression.window_ms {
            return Err(invalid(
                SUPPRESSION_MAX_WINDOW_SECONDS,
                &(suppression.max_window_ms / 1000).to_string(),
                "must not be shorter than SUPPRESSION_WINDOW_SECONDS",
            ));
        }
        let discovery = discovery_settings(&get)?;
        let latent_audit_every_ms = match number(LATENT_AUDIT_HOURS, 0, 0, 168)? {
            0 => None,
            hours => Some(hours as i64 * 3_600_000),
        };
        let stack_id = get(STACK_ID)
            .map(|id| {
                if id.starts_with("arn:")
                    && id.contains(":cloudformation:")
                    && id.contains(":stack/")
                {
                    Ok(id)
                } else {
                    Err(invalid(
                        STACK_ID,
                        &id,
                        "a CloudFormation stack ARN (AWS::StackId)",
                    ))
                }
            })
            .transpose()?;
        let members = member_settings(&get, &number)?;
        let config = Config {
            dashboard_name: get(DASHBOARD_NAME),
            members,
            stack_id,
            function_name: get(AWS_LAMBDA_FUNCTION_NAME).filter(|n| {
                // A custom-action variable's value: printable ASCII, no space (Lambda's names are narrower still).
                (1..=140).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_graphic())
            }),
            latent_audit_every_ms,
            discovery,
            suppression_table,
            suppression,
            access_log_apis,
            alert_topic_arn,
            metrics_namespace,
            max_inflated_bytes: number(
                MAX_INFLATED_BYTES,
                defaults.max_inflated_bytes,
                1024,
                1 << 30,
            )?,
            sample_request_ids: number(
                ALERT_SAMPLE_REQUEST_IDS,
                defaults.sample_request_ids,
                1,
                20,
            )?,
            max_alerts_per_invocation: number(
                MAX_ALERTS_PER_INVOCATION,
                defaults.max_alerts_per_invocation,
                1,
                100,
            )?,
            region: get(AWS_REGION).unwrap_or(defaults.region),
            remediation: RemediationSettings {
                mode: match get(REMEDIATION_MODE).as_deref() {
                    None | Some("dry-run") => Mode::DryRun,
                    Some("off") => Mode::Off,
                    Some("approve") => Mode::Approve,
                    Some("auto") => Mode::Auto,
                    Some(other) => {
                        return Err(invalid(
                            REMEDIATION_MODE,
                            other,
                            "expected off, dry-run, approve or auto",
                        ));
                    }
                },
                allowed_functions: list(
                    get(REMEDIATION_ALLOWED_FUNCTIONS),
                    REMEDIATION_ALLOWED_FUNCTIONS,
                    |p| {
                        !p.is_empty()
                            && p.len() <= 140
                            && p.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-_*?$".contains(&b))
                    },
                )?,
                allowed_apis: list(
                    get(REMEDIATION_ALLOWED_APIS),
                    REMEDIATION_ALLOWED_APIS,
                    is_api_id,
                )?,
                scope: match get(REMEDIATION_SCOPE).as_deref() {
                    None | Some("route") => Scope::Route,
                    Some("api") => Scope::Api,
                    Some(other) => {
                        return Err(invalid(REMEDIATION_SCOPE, other, "expected route or api"));
                    }
                },
                max_changes: number(
                    REMEDIATION_MAX_CHANGES,
                    defaults.remediation.max_changes,
                    0,
                    50,
                )?,
                home_account,
            },
        };
        if config.remediation.mode == Mode::Approve && config.suppression_table.is_none() {
            return Err(invalid(
                REMEDIATION_MODE,
                "approve",
                "approve keeps each planned fix until it is approved: it needs SUPPRESSION_TABLE",
            ));
        }
        Ok(config)
    }

    /// Whether `auto` may change every function of the account (`*` among the patterns).
    pub fn allows_every_function(&self) -> bool {
        self.remediation.mode == Mode::Auto
            && self.remediation.allowed_functions.iter().any(|p| p == "*")
    }

    /// The API id and stage the operator mapped to an access-log group.
    pub fn mapped_api(&self, log_group: &str) -> Option<(&str, &str)> {
        crate::diagnose::finding::mapped_api(&self.access_log_apis, log_group)
    }

    /// The Lambda cannot run without a topic; the CLI can.
    pub fn require_topic(&self) -> Result<&str, ConfigError> {
        self.alert_topic_arn.as_deref().ok_or(ConfigError::Missing {
            name: ALERT_TOPIC_ARN,
        })
    }
}

/// A log group name (or prefix): 1-512 of letters, digits and `_ - / . #`.
fn valid_log_group_name(s: &str) -> bool {
    (1..=512).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/.#".contains(&b))
}

fn discovery_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<DiscoverySettings, ConfigError> {
    let defaults = DiscoverySettings::default();
    let enabled = match get(DISCOVERY).as_deref() {
        None | Some("off") => false,
        Some("on") => true,
        Some(other) => return Err(invalid(DISCOVERY, other, "expected on or off")),
    };
    let filter_name = match get(SUBSCRIPTION_FILTER_NAME) {
        None => defaults.filter_name,
        Some(n) if (1..=512).contains(&n.len()) && !n.contains(':') && !n.contains('*') => n,
        Some(n) => {
            return Err(invalid(
                SUBSCRIPTION_FILTER_NAME,
                &n,
                "1-512 characters, no : or *",
            ));
        }
    };
    let access_log_prefix = match get(ACCESS_LOG_GROUP_PREFIX) {
        None => None,
        Some(p) if valid_log_group_name(&p) => Some(p),
        Some(p) => {
            return Err(invalid(
                ACCESS_LOG_GROUP_PREFIX,
                &p,
                "a log group name prefix: letters, digits and _ - / . #",
            ));
        }
    };
    let only = list(get(DISCOVERY_ONLY), DISCOVERY_ONLY, |entry| {
        is_api_id(entry) || valid_log_group_name(entry)
    })?;
    Ok(DiscoverySettings {
        enabled,
        filter_name,
        filter_pattern: get(SUBSCRIPTION_FILTER_PATTERN).unwrap_or_default(),
        access_log_prefix,
        only,
        own_log_group: get(AWS_LAMBDA_LOG_GROUP_NAME),
    })
}

/// A comma-separated list whose every item passes `valid`.
fn list(
    value: Option<String>,
    name: &'static str,
    valid: impl Fn(&str) -> bool,
) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            if valid(item) {
                Ok(item.to_owned())
            } else {
                Err(invalid(name, item, "not a valid entry"))
            }
        })
        .collect()
}

/// `log-group=api-id/stage`: a CloudWatch Logs group name, a 10-character API id, a stage name (`$default` too).
fn parse_access_log_api(entry: &str) -> Option<AccessLogApi> {
    let (log_group, api) = entry.rsplit_once('=')?;
    let (api_id, stage) = api.split_once('/')?;
    let group_ok = !log_group.is_empty()
        && log_group.len() <= 512
        && log_group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    let api_ok = is_api_id(api_id);
    let stage_ok = !stage.is_empty()
        && stage.len() <= 128
        && stage
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_$".contains(&b));
    (group_ok && api_ok && stage_ok).then(|| AccessLogApi {
        log_group: log_group.to_owned(),
        api_id: api_id.to_owned(),
        stage: stage.to_owned(),
    })
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn validate_topic_arn(arn: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(invalid(
            ALERT_TOPIC_ARN,
            arn,
            "expected arn:aws:sns:<region>:<account>:<topic>",
        ))
    }
}

fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 255
        && !ns.starts_with(':')
        // CloudWatch reserves the AWS/ namespaces for AWS services.
        && !ns.starts_with("AWS/")
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/#: ".contains(&b))
}

/// The organisation settings (built by the config from `MEMBER_ACCOUNTS`, `MEMBER_ROLE_NAME`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSettings {
    /// The member accounts to sweep; empty: this account only.
    pub accounts: Vec<String>,
    /// The role each member account's stack creates (its name, the same in every account).
    pub role_name: String,
    /// The external id the member role's trust asks for, when it asks for one.
    pub external_id: Option<String>,
    /// Where member log groups are subscribed: the fan-in's CloudWatch Logs destination in this account.
    pub destination_arn: Option<String>,
    /// How long a swept account is left alone: the period in which every member account is swept once.
    pub every_ms: i64,
}

impl Default for MemberSettings {
    fn default() -> Self {
        MemberSettings {
            accounts: Vec::new(),
            role_name: "apigw-doctor-member".to_owned(),
            external_id: None,
            destination_arn: None,
            every_ms: 30 * 60_000,
        }
    }
}

impl MemberSettings {
    /// `arn:{partition}:iam::{account}:role/{role_name}`.
    pub fn role_arn(&self, partition: &str, account: &str) -> String {
        format!("arn:{partition}:iam::{account}:role/{}", self.role_name)
    }
}

/// `MEMBER_*` and `FAN_IN_DESTINATION_ARN`.
fn member_settings(
    get: &impl Fn(&str) -> Option<String>,
    number: &impl Fn(&'static str, usize, usize, usize) -> Result<usize, ConfigError>,
) -> Result<MemberSettings, ConfigError> {
    let defaults = MemberSettings::default();
    let accounts = list(get(MEMBER_ACCOUNTS), MEMBER_ACCOUNTS, |a| {
        a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
    })?;
    let role_name = match get(MEMBER_ROLE_NAME) {
        None => defaults.role_name,
        Some(name)
            if (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)) =>
        {
            name
        }
        Some(name) => {
            return Err(invalid(
                MEMBER_ROLE_NAME,
                &name,
                "an IAM role name: 1-64 letters, digits and + = , . @ _ -",
            ));
        }
    };
    let destination_arn = match get(FAN_IN_DESTINATION_ARN) {
        None => None,
        Some(arn)
            if arn.starts_with("arn:")
                && arn.contains(":logs:")
                && arn.contains(":destination:") =>
        {
            Some(arn)
        }
        Some(arn) => {
            return Err(invalid(
                FAN_IN_DESTINATION_ARN,
                &arn,
                "a CloudWatch Logs destination ARN (arn:aws:logs:REGION:ACCOUNT:destination:NAME)",
            ));
        }
    };
    let minutes = number(MEMBER_SWEEP_MINUTES, 30, 5, 1440)?;
    Ok(MemberSettings {
        accounts,
        role_name,
        external_id: get(MEMBER_EXTERNAL_ID),
        destination_arn,
        every_ms: minutes as i64 * 60_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn discovery_is_read_and_validated() {
        let c = config(&[
            (DISCOVERY, "on"),
            (SUBSCRIPTION_FILTER_NAME, "apigw-doctor-prod"),
            (SUBSCRIPTION_FILTER_PATTERN, "?\"Execution failed\""),
            (ACCESS_LOG_GROUP_PREFIX, "/aws/apigateway/access-"),
            (DISCOVERY_ONLY, "a1b2c3d4e5, /team/access-orders"),
        ])
        .unwrap();
        assert!(c.discovery.enabled);
        assert_eq!(c.discovery.filter_name, "apigw-doctor-prod");
        assert_eq!(c.discovery.filter_pattern, "?\"Execution failed\"");
        assert_eq!(
            c.discovery.access_log_prefix.as_deref(),
            Some("/aws/apigateway/access-")
        );
        assert_eq!(c.discovery.only, ["a1b2c3d4e5", "/team/access-orders"]);
        assert!(!config(&[]).unwrap().discovery.enabled);
        for (name, bad) in [
            (DISCOVERY, "yes"),
            (SUBSCRIPTION_FILTER_NAME, "a:b"),
            (ACCESS_LOG_GROUP_PREFIX, "bad prefix"),
            (DISCOVERY_ONLY, "not an id!"),
        ] {
            let err = config(&[(name, bad)]).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn a_star_in_the_allow_list_is_flagged_in_auto_mode_only() {
        let star = [
            (REMEDIATION_MODE, "auto"),
            (REMEDIATION_ALLOWED_FUNCTIONS, "orders-*,*"),
        ];
        assert!(config(&star).unwrap().allows_every_function());
        let dry = [
            (REMEDIATION_MODE, "dry-run"),
            (REMEDIATION_ALLOWED_FUNCTIONS, "*"),
        ];
        assert!(!config(&dry).unwrap().allows_every_function());
        let named = [
            (REMEDIATION_MODE, "auto"),
            (REMEDIATION_ALLOWED_FUNCTIONS, "orders-*"),
        ];
        assert!(!config(&named).unwrap().allows_every_function());
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(config(&[]).unwrap(), Config::default());
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            (ALERT_TOPIC_ARN, "arn:aws:sns:eu-west-1:123456789012:alerts"),
            (METRICS_NAMESPACE, "Team/ApiDoctor"),
            (MAX_INFLATED_BYTES, "1048576"),
            (ALERT_SAMPLE_REQUEST_IDS, "3"),
            (MAX_ALERTS_PER_INVOCATION, "7"),
            (AWS_REGION, "eu-west-1"),
        ])
        .unwrap();
        assert_eq!(
            c.require_topic(),
            Ok("arn:aws:sns:eu-west-1:123456789012:alerts")
        );
        assert_eq!(c.metrics_namespace, "Team/ApiDoctor");
        assert_eq!(c.max_inflated_bytes, 1 << 20);
        assert_eq!(c.sample_request_ids, 3);
        assert_eq!(c.max_alerts_per_invocation, 7);
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.remediation.home_account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn errors_name_the_variable() {
        let err = config(&[(ALERT_TOPIC_ARN, "not-an-arn")]).unwrap_err();
        assert!(err.to_string().starts_with("ALERT_TOPIC_ARN="), "{err}");
        let err = config(&[(ALERT_SAMPLE_REQUEST_IDS, "0")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ALERT_SAMPLE_REQUEST_IDS="),
            "{err}"
        );
        let err = config(&[(MAX_INFLATED_BYTES, "lots")]).unwrap_err();
        assert!(err.to_string().contains("MAX_INFLATED_BYTES"), "{err}");
        assert_eq!(
            config(&[])
                .unwrap()
                .require_topic()
                .unwrap_err()
                .to_string(),
            "ALERT_TOPIC_ARN is required"
        );
    }

    #[test]
    fn remediation_settings_are_read_strictly() {
        let c = config(&[
            (REMEDIATION_MODE, "auto"),
            (REMEDIATION_ALLOWED_FUNCTIONS, "orders-*, payments"),
            (REMEDIATION_ALLOWED_APIS, "a1b2c3d4e5"),
            (REMEDIATION_SCOPE, "api"),
            (REMEDIATION_MAX_CHANGES, "1"),
        ])
        .unwrap();
        assert_eq!(c.remediation.mode, Mode::Auto);
        assert_eq!(c.remediation.allowed_functions, ["orders-*", "payments"]);
        assert_eq!(c.remediation.allowed_apis, ["a1b2c3d4e5"]);
        assert_eq!(c.remediation.scope, Scope::Api);
        assert_eq!(c.remediation.max_changes, 1);
        assert_eq!(config(&[]).unwrap().remediation.mode, Mode::DryRun);
        for (name, value) in [
            (REMEDIATION_MODE, "yes"),
            (REMEDIATION_SCOPE, "stage"),
            (REMEDIATION_ALLOWED_APIS, "not an api"),
            (REMEDIATION_ALLOWED_FUNCTIONS, "arn:aws:lambda:*"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn approve_mode_needs_the_state_table_and_knows_its_function() {
        let err = config(&[(REMEDIATION_MODE, "approve")]).unwrap_err();
        assert!(err.to_string().contains("SUPPRESSION_TABLE"), "{err}");
        let c = config(&[
            (REMEDIATION_MODE, "approve"),
            (SUPPRESSION_TABLE, "apigw-doctor-state"),
            (AWS_LAMBDA_FUNCTION_NAME, "apigw-doctor-Function-AbC123"),
        ])
        .unwrap();
        assert_eq!(c.remediation.mode, Mode::Approve);
        assert_eq!(
            c.function_name.as_deref(),
            Some("apigw-doctor-Function-AbC123")
        );
        // Not a button variable's value: left out, the alert then has no button.
        let c = config(&[(AWS_LAMBDA_FUNCTION_NAME, "two words")]).unwrap();
        assert_eq!(c.function_name, None);
    }

    #[test]
    fn access_log_groups_map_to_apis() {
        let c = config(&[(
            ACCESS_LOG_APIS,
            "/aws/http/orders=a1b2c3d4e5/$default, shop-access=uwe3g5jm54/Prod",
        )])
        .unwrap();
        assert_eq!(
            c.mapped_api("/aws/http/orders"),
            Some(("a1b2c3d4e5", "$default"))
        );
        assert_eq!(c.mapped_api("shop-access"), Some(("uwe3g5jm54", "Prod")));
        assert_eq!(c.mapped_api("other"), None);
        for bad in [
            "no-equals",
            "g=API/prod",
            "g=a1b2c3d4e5",
            "g=a1b2c3d4e5/",
            "=a1b2c3d4e5/p",
        ] {
            let err = config(&[(ACCESS_LOG_APIS, bad)]).unwrap_err();
            assert!(err.to_string().starts_with(ACCESS_LOG_APIS), "{err}");
        }
    }

    #[test]
    fn suppression_settings_are_read_in_seconds() {
        let c = config(&[
            (SUPPRESSION_TABLE, "apigw-doctor-state"),
            (SUPPRESSION_WINDOW_SECONDS, "120"),
            (SUPPRESSION_MAX_WINDOW_SECONDS, "960"),
            (RESOLVE_AFTER_SECONDS, "600"),
        ])
        .unwrap();
        assert_eq!(c.suppression_table.as_deref(), Some("apigw-doctor-state"));
        assert_eq!(
            c.suppression,
            Timing {
                window_ms: 120_000,
                max_window_ms: 960_000,
                quiet_ms: 600_000
            }
        );
        assert_eq!(config(&[]).unwrap().suppression_table, None);
        for (name, value) in [
            (SUPPRESSION_TABLE, "no spaces allowed"),
            (SUPPRESSION_WINDOW_SECONDS, "5"),
            (SUPPRESSION_MAX_WINDOW_SECONDS, "61"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        assert_eq!(
            config(&[(ALERT_TOPIC_ARN, " ")]).unwrap().alert_topic_arn,
            None
        );
    }
}
