//! Keeps the watched log groups subscribed: the function finds API Gateway's log groups itself and puts its own
//! subscription filter on each, so a new API is covered within one sweep and the template needs no list.
//!
//! In: the [`Settings`] (which prefixes, which APIs, the filter's name and pattern), the function's own ARN, and
//! a [`LogsApi`] port. Out: a [`Report`] of what was subscribed, what already was, and what could not be (a log
//! group that already has CloudWatch Logs' maximum of two filters is reported, never overwritten).
//!
//! Only filters with this stack's name and this function as destination are ever changed or removed.

pub mod aws;

use std::future::Future;

use serde::Serialize;

/// The prefix of every REST/WebSocket execution log group: `API-Gateway-Execution-Logs_{api-id}/{stage}`.
pub const EXECUTION_LOG_PREFIX: &str = "API-Gateway-Execution-Logs_";

/// CloudWatch Logs allows at most two subscription filters per log group.
pub const MAX_FILTERS_PER_LOG_GROUP: usize = 2;

/// What discovery watches and how it names its filters (built by the config from the environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Whether the sweep subscribes new log groups (removal on stack delete runs either way).
    pub enabled: bool,
    /// The filter's name: one per stack, so that two stacks never touch each other's filters.
    pub filter_name: String,
    pub filter_pattern: String,
    /// Extra log-group name prefix for access logs (their names are the team's choice).
    pub access_log_prefix: Option<String>,
    /// When not empty, only these: API ids (their execution log groups, their stages' access-log groups) or exact
    /// log group names.
    pub only: Vec<String>,
    /// The function's own log group (`AWS_LAMBDA_LOG_GROUP_NAME`, set by Lambda): never subscribed, whatever the
    /// prefix (the function would invoke itself on its own log lines, without end).
    pub own_log_group: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: false,
            filter_name: "apigw-doctor".to_owned(),
            filter_pattern: String::new(),
            access_log_prefix: None,
            only: Vec::new(),
            own_log_group: None,
        }
    }
}

impl Settings {
    /// The name prefixes whose log groups are listed.
    pub fn prefixes(&self) -> Vec<&str> {
        let mut prefixes = vec![EXECUTION_LOG_PREFIX];
        if let Some(p) = self.access_log_prefix.as_deref().filter(|p| !p.is_empty()) {
            prefixes.push(p);
        }
        prefixes
    }

    /// Whether the access-log group of an API stage (found through the API's configuration, whatever its name:
    /// `/aws/vendedlogs/...` is common, and the stage itself says it is an API's log) is one to watch: never the
    /// function's own group, and within `only` when it is set (by API id or name).
    pub fn watches_stage_log(&self, api_id: &str, log_group: &str) -> bool {
        self.own_log_group.as_deref() != Some(log_group)
            && (self.only.is_empty() || self.only.iter().any(|o| o == api_id || o == log_group))
    }

    /// Whether a listed log group is one to watch.
    pub fn watches(&self, log_group: &str) -> bool {
        self.in_scope(log_group) && !self.never_watched(log_group)
    }

    /// Log groups discovery never subscribes, whatever the access-log prefix says (a broad one, `/` or `/aws/`,
    /// lists them all): this function's own, and AWS services' own groups under `/aws/` other than API Gateway's
    /// (`/aws/lambda/...` of every function among them). API Gateway's execution logs have their own prefix.
    pub fn never_watched(&self, log_group: &str) -> bool {
        if self.own_log_group.as_deref() == Some(log_group) {
            return true;
        }
        match log_group.strip_prefix("/aws/") {
            // `/aws/apigateway/...`, `/aws/api-gateway/...`, `/aws/api_gw/...`, `/aws/http-api/...`: a team's
            // access logs, named after the service.
            Some(rest) => {
                let service = rest.split('/').next().unwrap_or("").to_ascii_lowercase();
                !(service.contains("api") || service.contains("gateway"))
            }
            None => false,
        }
    }

    /// Whether a log group is under the prefixes and the `only` restriction (removal reads this alone, so that a
    /// filter of ours on a group now excluded is still removed).
    fn in_scope(&self, log_group: &str) -> bool {
        let in_prefix = self.prefixes().iter().any(|p| log_group.starts_with(p));
        if !in_prefix {
            return false;
        }
        if self.only.is_empty() {
            return true;
        }
        let api_id = log_group
            .strip_prefix(EXECUTION_LOG_PREFIX)
            .and_then(|rest| rest.split_once('/'))
            .map(|(api, _)| api);
        self.only
            .iter()
            .any(|o| o == log_group || Some(o.as_str()) == api_id)
    }
}

/// One subscription filter as CloudWatch Logs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub destination_arn: String,
    pub pattern: String,
}

/// What to do with one watched log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No filter of ours: put one.
    Subscribe,
    /// Ours, but pointing elsewhere or with another pattern (the stack was re-created or updated): put it again.
    Update,
    /// Ours and current.
    AlreadySubscribed,
    /// Two filters of others: CloudWatch Logs allows no third. Reported, never overwritten.
    Full,
}

/// The decision for one log group, from its filters (pure).
pub fn decide(settings: &Settings, filters: &[Filter], destination_arn: &str) -> Decision {
    match filters.iter().find(|f| f.name == settings.filter_name) {
        Some(f)
            if same_function(&f.destination_arn, destination_arn)
                && f.pattern == settings.filter_pattern =>
        {
            Decision::AlreadySubscribed
        }
        Some(_) => Decision::Update,
        None if filters.len() >= MAX_FILTERS_PER_LOG_GROUP => Decision::Full,
        None => Decision::Subscribe,
    }
}

/// A function ARN without its qualifier (`:alias` or `:version`): what a filter's destination is compared on.
pub fn unqualified(arn: &str) -> &str {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    match arn.match_indices(':').nth(6) {
        Some((at, _)) => &arn[..at],
        None => arn,
    }
}

fn same_function(a: &str, b: &str) -> bool {
    unqualified(a) == unqualified(b)
}

#[derive(Debug, thiserror::Error)]
#[error("cloudwatch logs {operation} failed for {target}: {reason}")]
pub struct SubscribeError {
    pub operation: &'static str,
    /// The log group (or prefix) the call was about.
    pub target: String,
    pub reason: String,
}

/// The CloudWatch Logs calls discovery needs.
pub trait LogsApi {
    /// Names of the log groups whose names start with `prefix` (all pages).
    fn log_groups(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, SubscribeError>> + Send;
    fn filters(
        &self,
        log_group: &str,
    ) -> impl Future<Output = Result<Vec<Filter>, SubscribeError>> + Send;
    fn put_filter(
        &self,
        log_group: &str,
        settings: &Settings,
        destination_arn: &str,
    ) -> impl Future<Output = Result<(), SubscribeError>> + Send;
    fn delete_filter(
        &self,
        log_group: &str,
        filter_name: &str,
    ) -> impl Future<Output = Result<(), SubscribeError>> + Send;
}

/// What one run did, per log group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub subscribed: Vec<String>,
    pub updated: Vec<String>,
    pub already_subscribed: u64,
    /// Log groups with two filters of others: not watched until one is removed.
    pub full: Vec<String>,
    pub removed: Vec<String>,
    /// `log group: reason` for each call that failed (the next sweep tries again).
    pub failed: Vec<String>,
    /// Log groups not looked at: the invocation's time was up (the next sweep goes on).
    #[serde(skip_serializing_if = "is_zero")]
    pub left: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Subscribes every watched log group that has no filter of ours: those under the prefixes, and `stage_groups`,
/// the access-log groups API stages name in their configuration (an HTTP API's only log, named as its team
/// likes). A failure on one log group is reported and the others go on; only a failure to list log groups at
/// all is an error.
///
/// `in_time` is asked before each log group: `false` (the invocation's deadline is near) stops here, counted in
/// [`Report::left`]; each group's work is idempotent, so the next sweep simply goes on.
pub async fn subscribe_all<L: LogsApi>(
    logs: &L,
    settings: &Settings,
    destination_arn: &str,
    stage_groups: &[String],
    in_time: impl Fn() -> bool,
) -> Result<Report, SubscribeError> {
    let mut report = Report::default();
    let mut groups = watched(logs, settings).await?;
    let listed = groups.len();
    groups.extend(
        stage_groups
            .iter()
            .filter(|g| !groups.contains(g))
            .cloned()
            .collect::<Vec<_>>(),
    );
    groups[listed..].sort();
    groups.dedup();
    let total = groups.len();
    for (i, group) in groups.into_iter().enumerate() {
        if !in_time() {
            report.left = (total - i) as u64;
            break;
        }
        let filters = match logs.filters(&group).await {
            Ok(filters) => filters,
            // A stage's access-log group API Gateway has not created yet (no request logged): the next sweep.
            Err(error) if i >= listed && error.reason.contains("ResourceNotFound") => continue,
            Err(error) => {
                report.failed.push(format!("{group}: {error}"));
                continue;
            }
        };
        let decision = decide(settings, &filters, destination_arn);
        match decision {
            Decision::AlreadySubscribed => report.already_subscribed += 1,
            Decision::Full => {
                tracing::warn!(
                    log_group = %group,
                    filters = ?filters.iter().map(|f| &f.name).collect::<Vec<_>>(),
                    "Log group already has two subscription filters; not watched"
                );
                report.full.push(group);
            }
            Decision::Subscribe | Decision::Update => {
                match logs.put_filter(&group, settings, destination_arn).await {
                    Ok(()) if decision == Decision::Subscribe => report.subscribed.push(group),
                    Ok(()) => report.updated.push(group),
                    Err(error) => report.failed.push(format!("{group}: {error}")),
                }
            }
        }
    }
    Ok(report)
}

/// Removes exactly the filters this stack made: our name and our function as destination, on the watched
/// prefixes (whatever `only` says now: a filter made under an earlier setting is ours too).
/// `stage_groups`: the access-log groups API stages name (discovery subscribes them whatever their names).
pub async fn unsubscribe_all<L: LogsApi>(
    logs: &L,
    settings: &Settings,
    destination_arn: &str,
    stage_groups: &[String],
) -> Result<Report, SubscribeError> {
    let unrestricted = Settings {
        only: Vec::new(),
        ..settings.clone()
    };
    let mut report = Report::default();
    let mut groups = listed(logs, &unrestricted, Settings::in_scope).await?;
    let listed = groups.len();
    groups.extend(
        stage_groups
            .iter()
            .filter(|g| !groups.contains(g))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for (i, group) in groups.into_iter().enumerate() {
        let filters = match logs.filters(&group).await {
            Ok(filters) => filters,
            Err(error) if i >= listed && error.reason.contains("ResourceNotFound") => continue,
            Err(error) => {
                report.failed.push(format!("{group}: {error}"));
                continue;
            }
        };
        let ours = filters.iter().any(|f| {
            f.name == settings.filter_name && same_function(&f.destination_arn, destination_arn)
        });
        if ours {
            match logs.delete_filter(&group, &settings.filter_name).await {
                Ok(()) => report.removed.push(group),
                Err(error) => report.failed.push(format!("{group}: {error}")),
            }
        }
    }
    Ok(report)
}

async fn watched<L: LogsApi>(logs: &L, settings: &Settings) -> Result<Vec<String>, SubscribeError> {
    listed(logs, settings, Settings::watches).await
}

/// The log groups under the prefixes that `keep` keeps, each once.
async fn listed<L: LogsApi>(
    logs: &L,
    settings: &Settings,
    keep: fn(&Settings, &str) -> bool,
) -> Result<Vec<String>, SubscribeError> {
    let mut groups = Vec::new();
    for prefix in settings.prefixes() {
        groups.extend(
            logs.log_groups(prefix)
                .await?
                .into_iter()
                .filter(|g| keep(settings, g)),
        );
    }
    groups.sort();
    groups.dedup();
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "arn:aws:lambda:us-east-1:123456789012:function:stack-Function-ABC";

    fn settings() -> Settings {
        Settings {
            enabled: true,
            filter_name: "apigw-doctor-stack".into(),
            ..Settings::default()
        }
    }

    fn filter(name: &str, destination: &str) -> Filter {
        Filter {
            name: name.into(),
            destination_arn: destination.into(),
            pattern: String::new(),
        }
    }

    #[test]
    fn a_stage_named_access_log_group_is_watched_whatever_its_name_but_never_our_own() {
        let settings = Settings {
            own_log_group: Some("/aws/lambda/apigw-doctor".into()),
            ..Settings::default()
        };
        assert!(settings.watches_stage_log("a1b2c3d4e5", "/aws/vendedlogs/orders-api"));
        assert!(!settings.watches_stage_log("a1b2c3d4e5", "/aws/lambda/apigw-doctor"));
        let only = Settings {
            only: vec!["a1b2c3d4e5".into()],
            ..Settings::default()
        };
        assert!(only.watches_stage_log("a1b2c3d4e5", "orders-access"));
        assert!(!only.watches_stage_log("zzzzzzzzzz", "orders-access"));
    }

    #[test]
    fn a_group_without_our_filter_is_subscribed_and_one_with_it_is_left_alone() {
        let s = settings();
        assert_eq!(decide(&s, &[], ME), Decision::Subscribe);
        assert_eq!(
            decide(&s, &[filter("other", "arn:x")], ME),
            Decision::Subscribe
        );
        assert_eq!(
            decide(&s, &[filter("apigw-doctor-stack", ME)], ME),
            Decision::AlreadySubscribed
        );
        // Invoked through an alias: the same function.
        assert_eq!(
            decide(
                &s,
                &[filter("apigw-doctor-stack", ME)],
                &format!("{ME}:live")
            ),
            Decision::AlreadySubscribed
        );
    }

    #[test]
    fn a_group_with_two_filters_of_others_is_full_and_never_overwritten() {
        let s = settings();
        let two = [filter("a", "arn:1"), filter("b", "arn:2")];
        assert_eq!(decide(&s, &two, ME), Decision::Full);
        // Ours among the two: updating ours is not a third filter.
        let ours = [
            filter("a", "arn:1"),
            filter("apigw-doctor-stack", "arn:old"),
        ];
        assert_eq!(decide(&s, &ours, ME), Decision::Update);
    }

    #[test]
    fn a_changed_pattern_updates_our_filter() {
        let s = Settings {
            filter_pattern: "?\"Execution failed\"".into(),
            ..settings()
        };
        assert_eq!(
            decide(&s, &[filter("apigw-doctor-stack", ME)], ME),
            Decision::Update
        );
    }

    #[test]
    fn only_restricts_by_api_id_or_log_group_name() {
        let s = Settings {
            only: vec!["a1b2c3d4e5".into(), "/team/access".into()],
            access_log_prefix: Some("/team/".into()),
            ..settings()
        };
        assert!(s.watches("API-Gateway-Execution-Logs_a1b2c3d4e5/prod"));
        assert!(!s.watches("API-Gateway-Execution-Logs_zzzzzzzzzz/prod"));
        assert!(s.watches("/team/access"));
        assert!(!s.watches("/team/other"));
        // Never outside the prefixes, whatever `only` says.
        let s = Settings {
            only: vec!["/aws/lambda/x".into()],
            ..settings()
        };
        assert!(!s.watches("/aws/lambda/x"));
    }

    #[test]
    fn a_broad_prefix_never_reaches_the_functions_own_group_or_other_services() {
        let s = Settings {
            access_log_prefix: Some("/".into()),
            own_log_group: Some("/apigw-doctor/function".into()),
            ..settings()
        };
        for never in [
            "/apigw-doctor/function",
            "/aws/lambda/apigw-doctor-Function-AbC",
            "/aws/lambda/orders",
            "/aws/codebuild/build",
            "/aws/vendedlogs/states/flow",
        ] {
            assert!(!s.watches(never), "{never}");
        }
        for watched in [
            "/aws/apigateway/access-orders",
            "/aws/api_gw/evidence_api",
            "/aws/api-gateway/prod",
            "/team/access",
            "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
        ] {
            assert!(s.watches(watched), "{watched}");
        }
    }

    #[test]
    fn the_qualifier_is_not_part_of_the_function() {
        assert_eq!(unqualified(&format!("{ME}:7")), ME);
        assert_eq!(unqualified(ME), ME);
    }
}
