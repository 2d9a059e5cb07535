//! Self-healing for `missing_invoke_permission` and `authorizer_missing_invoke_permission`: add the missing
//! `lambda:InvokeFunction` permission for `apigateway.amazonaws.com`, least privilege, idempotent, guarded.
//!
//! Trust: the API id and stage come from the execution log group's name, the account from the delivery's owner,
//! the function from the API's own configuration (its integration or authorizer), the region is our own. The
//! logged route and authorizer id only *select* among what the API's configuration holds; a function ARN or any
//! other text inside a log line is never used. [`plan`] is pure; AWS calls go through [`ApiConfig`] and
//! [`PermissionApi`] ([`aws`] has the SDK adapters).

pub mod approval;
pub mod aws;
pub mod plan;

use std::future::Future;

use serde::Serialize;

use crate::alert::Alert;
use crate::diagnose::classify::Cause;
use crate::diagnose::finding::ApiSource;
use plan::{
    Decision, Facts, Fix, FunctionRef, Mode, PolicyState, Scope, Source, decide, source_arn,
};

/// Remediation settings (see `config.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// Glob patterns on function names; empty means nothing is ever applied.
    pub allowed_functions: Vec<String>,
    /// API ids; empty means any API (the function allow-list still applies).
    pub allowed_apis: Vec<String>,
    pub scope: Scope,
    /// At most this many permissions added per invocation.
    pub max_changes: usize,
    /// The account this function runs in (from ALERT_TOPIC_ARN, a topic of the same stack). Alerts of other
    /// accounts (the Kinesis fan-in) are refused: our credentials cannot read or change their APIs and functions.
    pub home_account: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::DryRun,
            allowed_functions: Vec::new(),
            allowed_apis: Vec::new(),
            scope: Scope::Route,
            max_changes: 3,
            home_account: None,
        }
    }
}

/// The three kinds of API Gateway API: REST (v1), HTTP and WebSocket (v2). Each gets the same diagnosis, audit and
/// healing; what differs is how their configuration is read and which logs they write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    Rest,
    Http,
    #[serde(rename = "websocket")]
    WebSocket,
}

impl ApiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Rest => "rest",
            ApiKind::Http => "http",
            ApiKind::WebSocket => "websocket",
        }
    }

    /// API Gateway's longest wait for an integration: 29 s for REST and WebSocket (REST's can be raised by a quota
    /// increase), 30 s for HTTP APIs.
    pub fn max_integration_timeout_ms(self) -> i32 {
        match self {
            ApiKind::Http => 30_000,
            ApiKind::Rest | ApiKind::WebSocket => 29_000,
        }
    }
}

impl std::str::FromStr for ApiKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ApiKind, String> {
        match s.to_ascii_lowercase().as_str() {
            "rest" => Ok(ApiKind::Rest),
            "http" => Ok(ApiKind::Http),
            "websocket" => Ok(ApiKind::WebSocket),
            other => Err(format!(
                "{other:?} is not an API kind (rest, http, websocket)"
            )),
        }
    }
}

/// A Lambda integration of the API, as its configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// The route's method (`GET`, `ANY`); empty for a route named by its key alone (`$default`, `$connect`).
    pub method: String,
    /// The resource path (`/orders/{id}`), or the route key when `method` is empty.
    pub resource_path: String,
    pub uri: Option<String>,
    pub credentials: Option<String>,
    /// `timeoutInMillis` (API Gateway's default, 29,000, when not set).
    pub timeout_ms: Option<i32>,
}

impl Integration {
    /// The route as people and route keys write it: `GET /orders/{id}`, `$connect`.
    pub fn route(&self) -> String {
        if self.method.is_empty() {
            self.resource_path.clone()
        } else {
            format!("{} {}", self.method, self.resource_path)
        }
    }

    /// What a permission for this route must allow.
    pub fn source(&self) -> Source {
        Source::of_route(&self.method, &self.resource_path)
    }
}

/// An authorizer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    pub id: String,
    pub uri: Option<String>,
    pub credentials: Option<String>,
    /// The routes that use it (`GET /orders`): its failure fails each of them.
    pub routes: Vec<String>,
    /// A JWT authorizer (HTTP APIs): API Gateway validates the token itself and invokes no function.
    pub jwt: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    #[error("api gateway lookup failed for api {api_id}: {reason}")]
    Lookup { api_id: String, reason: String },
    #[error("lambda {operation} failed for {function}: {reason}")]
    Lambda {
        operation: &'static str,
        function: String,
        reason: String,
    },
}

/// Reads the API's own configuration (API Gateway).
pub trait ApiConfig {
    /// The integration of `method` on the resource whose path is `resource_path` (falling back to `ANY`).
    fn route_integration(
        &self,
        api_id: &str,
        method: &str,
        resource_path: &str,
    ) -> impl Future<Output = Result<Option<Integration>, RemediateError>> + Send;
    /// Every Lambda integration of the API.
    fn lambda_integrations(
        &self,
        api_id: &str,
    ) -> impl Future<Output = Result<Vec<Integration>, RemediateError>> + Send;
    fn authorizers(
        &self,
        api_id: &str,
    ) -> impl Future<Output = Result<Vec<Authorizer>, RemediateError>> + Send;
    fn stage_variables(
        &self,
        api_id: &str,
        stage: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, RemediateError>> + Send;
    /// Which kind of API this is; `None` when no API of either kind has this id.
    fn api_kind(
        &self,
        api_id: &str,
    ) -> impl Future<Output = Result<Option<ApiKind>, RemediateError>> + Send {
        let _ = api_id;
        async { Ok(Some(ApiKind::Rest)) }
    }
    /// The log group the stage writes its access log to (`AccessLogSettings.DestinationArn`, as a group name).
    fn stage_access_log_group(
        &self,
        api_id: &str,
        stage: &str,
    ) -> impl Future<Output = Result<Option<String>, RemediateError>> + Send {
        let _ = (api_id, stage);
        async { Ok(None) }
    }
    /// Every stage of the account's HTTP and WebSocket APIs (in this region), with where its access log goes.
    fn v2_stages(&self) -> impl Future<Output = Result<Vec<StageInfo>, RemediateError>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// The HTTP and WebSocket API stages whose access log goes to this log group: an access-log group's name says
/// nothing, the stages' own configuration does.
pub async fn stages_logging_to<A: ApiConfig>(
    api: &A,
    log_group: &str,
) -> Result<Vec<(String, String)>, RemediateError> {
    Ok(api
        .v2_stages()
        .await?
        .into_iter()
        .filter(|s| s.access_log_group.as_deref() == Some(log_group))
        .map(|s| (s.api_id, s.stage))
        .collect())
}

/// A stage of an HTTP or WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageInfo {
    pub api_id: String,
    pub stage: String,
    pub kind: ApiKind,
    /// The log group its access log goes to (`None`: no access log, or one to Firehose).
    pub access_log_group: Option<String>,
}

/// The log group name of a CloudWatch Logs ARN (`arn:aws:logs:{region}:{account}:log-group:{name}[:*]`).
pub fn log_group_of_arn(arn: &str) -> Option<&str> {
    let (_, name) = arn.split_once(":log-group:")?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!name.is_empty()).then_some(name)
}

/// Whether an `AddPermission` created the statement or found it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Created,
    /// Real Lambda answers `ResourceConflictException` for an existing statement id: counts as done.
    AlreadyThere,
}

/// Reads and changes Lambda resource policies.
pub trait PermissionApi {
    /// The policy document, or `None` when the function has none.
    fn get_policy(
        &self,
        function: &FunctionRef,
    ) -> impl Future<Output = Result<Option<String>, RemediateError>> + Send;
    fn add_permission(
        &self,
        fix: &Fix,
    ) -> impl Future<Output = Result<Added, RemediateError>> + Send;
}

/// What self-healing did for one alert: the `remediation` message attribute and the alert's section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `none`, `applied`, `dry-run`, `awaiting-approval`, `refused` or `failed`.
    pub status: &'static str,
    pub actions: Vec<Action>,
    /// In `approve` mode, once the plan is kept: what the "Apply fix" button needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<approval::Offer>,
    /// The API and stage of an access-log alert, as the stage's own configuration names them (its access log goes
    /// to the alert's log group): the API the plan was made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ResolvedApi>,
    /// The role the plan was made (and applied) through: a member account's, in an organisation install.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acted_as: Option<String>,
}

/// An API and stage found through the API's own configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedApi {
    pub api_id: String,
    pub stage: String,
}

impl Report {
    pub fn none() -> Report {
        Report {
            status: "none",
            actions: Vec::new(),
            approval: None,
            api: None,
            acted_as: None,
        }
    }

    /// Nothing planned, and why.
    pub fn refused(reason: impl Into<String>) -> Report {
        Report::from_actions(vec![Action::refused(reason, None)])
    }

    fn from_actions(actions: Vec<Action>) -> Report {
        let has = |s: &str| actions.iter().any(|a| a.outcome == s);
        let status = if has("applied") {
            "applied"
        } else if has("failed") {
            "failed"
        } else if has(AWAITING_APPROVAL) {
            AWAITING_APPROVAL
        } else if has("dry-run") {
            "dry-run"
        } else {
            "refused"
        };
        Report {
            status,
            actions,
            approval: None,
            api: None,
            acted_as: None,
        }
    }
}

/// The outcome (and report status) of a fix planned in `approve` mode, waiting for a person.
pub const AWAITING_APPROVAL: &str = "awaiting-approval";

/// One decision about one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// `applied`, `dry-run`, `awaiting-approval`, `refused` or `failed`.
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub fix: Option<Fix>,
}

impl Action {
    fn refused(reason: impl Into<String>, fix: Option<Fix>) -> Action {
        Action {
            outcome: "refused",
            reason: Some(reason.into()),
            fix,
        }
    }
}

/// Refuses an alert of another account than ours, saying why.
fn cross_account(settings: &Settings, account: &str) -> Option<Action> {
    let home = settings.home_account.as_deref()?;
    (home != account).then(|| {
        Action::refused(
            format!(
                "the API is in account {account}, this function runs in {home}: list the account in MemberAccounts \
                 and deploy member/template.yaml there (docs/organisation.md), or add the permission there"
            ),
            None,
        )
    })
}

/// Decides, and in `auto` acts, for one alert. `budget` is the changes left in this invocation.
pub async fn remediate<A: ApiConfig, P: PermissionApi>(
    alert: &Alert,
    settings: &Settings,
    api: &A,
    permissions: &P,
    budget: &mut usize,
) -> Report {
    let authorizer = match alert.cause {
        Cause::MissingInvokePermission => false,
        Cause::AuthorizerMissingInvokePermission => true,
        _ => return Report::none(),
    };
    if settings.mode == Mode::Off {
        return Report::none();
    }
    let report = match trusted_api(alert, settings, api).await {
        Err(action) => Report::from_actions(vec![action]),
        Ok(trusted) => {
            let mut report = match plan_targets(alert, &trusted, settings, authorizer, api).await {
                Err(action) => Report::from_actions(vec![action]),
                Ok(targets) => {
                    let mut actions = Vec::new();
                    for target in targets {
                        actions.push(act(&trusted, settings, &target, permissions, budget).await);
                    }
                    summarise(actions)
                }
            };
            // An access log without `$context.routeKey`: every Lambda route was examined; say how to name it.
            if trusted.resolved.is_some() && alert.resource_path.is_none() {
                for action in &mut report.actions {
                    let note = "the access log names no route: add \"routeKey\":\"$context.routeKey\" to the \
                                stage's access-log format, so that only the failing route is planned";
                    action.reason = Some(match action.reason.take() {
                        Some(reason) => format!("{reason}; {note}"),
                        None => note.to_owned(),
                    });
                }
            }
            report.api = trusted.resolved;
            report
        }
    };
    for action in &report.actions {
        // The audit trail: one structured event per decision.
        tracing::info!(
            audit = "remediation",
            outcome = action.outcome,
            mode = ?settings.mode,
            fingerprint = %alert.fingerprint,
            cause = %alert.cause,
            api_id = alert.api_id.as_deref().unwrap_or("-"),
            function = action.fix.as_ref().map_or("-", |f| f.function_arn.as_str()),
            source_arn = action.fix.as_ref().map_or("-", |f| f.source_arn.as_str()),
            statement_id = action.fix.as_ref().map_or("-", |f| f.statement_id.as_str()),
            reason = action.reason.as_deref().unwrap_or("-"),
            "Remediation decision"
        );
    }
    report
}

/// When several targets were examined (no route logged), those already allowed are not the problem: keep the
/// others, or one refusal saying every one of them is already allowed.
fn summarise(actions: Vec<Action>) -> Report {
    let already = |a: &Action| {
        a.reason
            .as_deref()
            .is_some_and(|r| r.contains("already allows"))
    };
    if actions.len() > 1 && actions.iter().any(|a| !already(a)) {
        return Report::from_actions(actions.into_iter().filter(|a| !already(a)).collect());
    }
    Report::from_actions(actions)
}

/// A function to check, with the source its permission must allow.
struct Target {
    function: FunctionRef,
    credentials: Option<String>,
    source: Source,
    /// A concrete ARN of a request that failed (real stage, a sample path), for the preflight.
    concrete: String,
}

/// The account, API and stage a plan is made for, from sources an attacker cannot write.
struct Trusted {
    account: String,
    region: String,
    api_id: String,
    stage: String,
    /// Set when the API's configuration (not the alert) named the API: an access-log alert.
    resolved: Option<ResolvedApi>,
}

/// Where the API of an alert comes from: an execution log group's name; or, for an access-log group (whose name is
/// the team's choice), the API stage whose own `AccessLogSettings` send its access log there: the operator's
/// `ACCESS_LOG_APIS` mapping is checked against it, an unmapped group is looked up by it. A pasted record's
/// `apiId` is never enough.
async fn trusted_api<A: ApiConfig>(
    alert: &Alert,
    settings: &Settings,
    api: &A,
) -> Result<Trusted, Action> {
    let Some(account) = alert.account.clone() else {
        return Err(Action::refused(
            "the delivery does not name the account, API and stage",
            None,
        ));
    };
    if let Some(refusal) = cross_account(settings, &account) {
        return Err(refusal);
    }
    let lookup_failed = |e: RemediateError| Action {
        outcome: "failed",
        reason: Some(e.to_string()),
        fix: None,
    };
    let (api_id, stage, resolved) = match (alert.api_source, &alert.log_group) {
        (Some(ApiSource::LogGroup), _) => match (&alert.api_id, &alert.stage) {
            (Some(api_id), Some(stage)) => (api_id.clone(), stage.clone(), false),
            _ => {
                return Err(Action::refused(
                    "the delivery does not name the account, API and stage",
                    None,
                ));
            }
        },
        (Some(ApiSource::Mapping), Some(group)) => {
            let (Some(api_id), Some(stage)) = (&alert.api_id, &alert.stage) else {
                return Err(Action::refused("the mapping names no API and stage", None));
            };
            let logs_to = api
                .stage_access_log_group(api_id, stage)
                .await
                .map_err(lookup_failed)?;
            if logs_to.as_deref() != Some(group.as_str()) {
                return Err(Action::refused(
                    format!(
                        "ACCESS_LOG_APIS maps {group} to {api_id}/{stage}, but that stage's access log goes to {}: \
                         the mapping is not trusted for a change",
                        logs_to.as_deref().unwrap_or("no log group")
                    ),
                    None,
                ));
            }
            (api_id.clone(), stage.clone(), true)
        }
        (None, Some(group)) => {
            let stages = stages_logging_to(api, group).await.map_err(lookup_failed)?;
            match stages.as_slice() {
                [(api_id, stage)] => (api_id.clone(), stage.clone(), true),
                [] => {
                    return Err(Action::refused(
                        format!(
                            "no HTTP or WebSocket API stage of this account and region sends its access log to {group}: \
                             the API cannot be named trustworthily (map it with ACCESS_LOG_APIS if it is a REST stage's)"
                        ),
                        None,
                    ));
                }
                several => {
                    let names: Vec<String> =
                        several.iter().map(|(a, s)| format!("{a}/{s}")).collect();
                    return Err(Action::refused(
                        format!(
                            "several API stages send their access log to {group} ({}): give each its own log group, \
                             or map the group with ACCESS_LOG_APIS",
                            names.join(", ")
                        ),
                        None,
                    ));
                }
            }
        }
        _ => {
            return Err(Action::refused(
                "only an execution log group's name, or an API stage whose access log goes to the delivery's log group, \
                 names the API trustworthily (a pasted record's apiId does not)",
                None,
            ));
        }
    };
    if !settings.allowed_apis.is_empty() && !settings.allowed_apis.contains(&api_id) {
        return Err(Action::refused(
            format!("API {api_id} is not in REMEDIATION_ALLOWED_APIS"),
            None,
        ));
    }
    let resolved = resolved.then(|| ResolvedApi {
        api_id: api_id.clone(),
        stage: stage.clone(),
    });
    Ok(Trusted {
        account,
        region: alert.region.clone(),
        api_id,
        stage,
        resolved,
    })
}

async fn plan_targets<A: ApiConfig>(
    alert: &Alert,
    trusted: &Trusted,
    settings: &Settings,
    authorizer: bool,
    api: &A,
) -> Result<Vec<Target>, Action> {
    let (account, api_id, stage) = (&trusted.account, &trusted.api_id, &trusted.stage);
    let lookup_failed = |e: RemediateError| Action {
        outcome: "failed",
        reason: Some(e.to_string()),
        fix: None,
    };
    let mut stage_variables: Option<Vec<(String, String)>> = None;
    let mut resolve = async |uri: &str| -> Result<FunctionRef, String> {
        if uri.contains("${stageVariables.") && stage_variables.is_none() {
            stage_variables = Some(
                api.stage_variables(api_id, stage)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        plan::function_from_integration_uri(uri, stage_variables.as_deref().unwrap_or(&[]))
    };
    let region = &alert.region;
    let concrete_route = |method: &str, path: &str| {
        plan::concrete_source(region, account, api_id, stage, method, path)
    };
    let mut targets = Vec::new();
    if authorizer {
        let all = api.authorizers(api_id).await.map_err(lookup_failed)?;
        let chosen: Vec<&Authorizer> = all
            .iter()
            .filter(|a| a.uri.as_deref().is_some_and(plan::is_lambda_uri))
            .filter(|a| alert.authorizer_ids.is_empty() || alert.authorizer_ids.contains(&a.id))
            .collect();
        if chosen.is_empty() {
            return Err(Action::refused(
                "the API has no matching Lambda authorizer",
                None,
            ));
        }
        for a in chosen {
            let source = Source::Authorizer {
                authorizer_id: a.id.clone(),
            };
            let concrete = source_arn(region, account, api_id, &source);
            match resolve(a.uri.as_deref().unwrap_or_default()).await {
                Ok(function) => targets.push(Target {
                    function,
                    credentials: a.credentials.clone(),
                    source,
                    concrete,
                }),
                Err(reason) => return Err(Action::refused(reason, None)),
            }
        }
        return Ok(targets);
    }
    // A logged route only selects among the API's own routes; a bare route key (`$connect`, `$default`) is an
    // HTTP or WebSocket route.
    let route = match (alert.method.as_deref(), alert.resource_path.as_deref()) {
        (Some(method), Some(path)) => Some((method, path)),
        (None, Some(key)) if !key.starts_with('/') => Some(("", key)),
        _ => None,
    };
    let integrations = match route {
        Some((method, path)) => match api.route_integration(api_id, method, path).await {
            Ok(Some(integration)) => vec![integration],
            Ok(None) => {
                return Err(Action::refused(
                    format!(
                        "the API has no integration for {}",
                        format!("{method} {path}").trim_start()
                    ),
                    None,
                ));
            }
            Err(e) => return Err(lookup_failed(e)),
        },
        _ => api
            .lambda_integrations(api_id)
            .await
            .map_err(lookup_failed)?,
    };
    for integration in integrations {
        let Some(uri) = integration
            .uri
            .as_deref()
            .filter(|u| plan::is_lambda_uri(u))
        else {
            return Err(Action::refused(
                format!(
                    "the integration of {} is not a Lambda integration",
                    integration.route()
                ),
                None,
            ));
        };
        let function = resolve(uri)
            .await
            .map_err(|reason| Action::refused(reason, None))?;
        let source = match settings.scope {
            Scope::Route => integration.source(),
            Scope::Api => Source::Api,
        };
        targets.push(Target {
            function,
            credentials: integration.credentials.clone(),
            concrete: concrete_route(&integration.method, &integration.resource_path),
            source,
        });
    }
    if targets.is_empty() {
        return Err(Action::refused("the API has no Lambda integration", None));
    }
    Ok(targets)
}

async fn act<P: PermissionApi>(
    trusted: &Trusted,
    settings: &Settings,
    target: &Target,
    permissions: &P,
    budget: &mut usize,
) -> Action {
    let (account, api_id) = (trusted.account.as_str(), trusted.api_id.as_str());
    let policy = match permissions.get_policy(&target.function).await {
        Ok(Some(document)) => PolicyState::parse(&document, &target.concrete, account),
        Ok(None) => PolicyState::none(),
        Err(e) => {
            return Action {
                outcome: "failed",
                reason: Some(e.to_string()),
                fix: None,
            };
        }
    };
    let facts = Facts {
        mode: settings.mode,
        allowed_functions: &settings.allowed_functions,
        allowed_apis: &settings.allowed_apis,
        account,
        api_id,
        function: &target.function,
        credentials: target.credentials.as_deref(),
        source_arn: source_arn(&trusted.region, account, api_id, &target.source),
        policy: &policy,
    };
    match decide(&facts) {
        Decision::Refuse { reason, fix } => Action::refused(reason, fix),
        Decision::AlreadyApplied { fix } => Action {
            outcome: "applied",
            reason: Some(format!(
                "the statement {} is in the function's policy: apigw-doctor added it (perhaps in an earlier attempt \
                 of this delivery); requests after it was added should succeed, and 500s that go on have another cause",
                fix.statement_id
            )),
            fix: Some(fix),
        },
        Decision::DryRun { fix } => Action {
            outcome: if settings.mode == Mode::Approve {
                AWAITING_APPROVAL
            } else {
                "dry-run"
            },
            reason: None,
            fix: Some(fix),
        },
        Decision::Apply { fix } if *budget == 0 => Action::refused(
            format!(
                "at most {} permission changes are made per invocation (REMEDIATION_MAX_CHANGES)",
                settings.max_changes
            ),
            Some(fix),
        ),
        Decision::Apply { fix } => {
            *budget -= 1;
            match permissions.add_permission(&fix).await {
                Ok(Added::Created) => Action {
                    outcome: "applied",
                    reason: None,
                    fix: Some(fix),
                },
                Ok(Added::AlreadyThere) => Action {
                    outcome: "applied",
                    reason: Some(
                        "the statement was already there (a retried invocation)".to_owned(),
                    ),
                    fix: Some(fix),
                },
                Err(e) => Action {
                    outcome: "failed",
                    reason: Some(e.to_string()),
                    fix: Some(fix),
                },
            }
        }
    }
}

/// What the handler asks of self-healing for each alert.
pub trait Remediator {
    /// `budget`: the permission changes still allowed in this invocation.
    fn remediate(&self, alert: &Alert, budget: &mut usize) -> impl Future<Output = Report> + Send;
    fn max_changes(&self) -> usize;
    /// A person approved a kept plan: plan again from the API's configuration and apply it if it still stands.
    fn approve(
        &self,
        plan: &approval::PendingPlan,
        budget: &mut usize,
    ) -> impl Future<Output = approval::Approval> + Send {
        let _ = (plan, budget);
        async { approval::Approval::refused("this apigw-doctor has no AWS access to apply a fix") }
    }
}

/// No remediation at all (mode `off`, or no AWS access wanted).
#[derive(Debug, Clone, Copy, Default)]
pub struct Disabled;

impl Remediator for Disabled {
    async fn remediate(&self, _alert: &Alert, _budget: &mut usize) -> Report {
        Report::none()
    }

    fn max_changes(&self) -> usize {
        0
    }
}

/// The real thing: API Gateway and Lambda through their SDK adapters (or any other implementation of the ports).
#[derive(Debug, Clone)]
pub struct Live<A, P> {
    pub settings: Settings,
    pub api: A,
    pub permissions: P,
}

impl<A: ApiConfig + Sync, P: PermissionApi + Sync> Remediator for Live<A, P> {
    async fn remediate(&self, alert: &Alert, budget: &mut usize) -> Report {
        remediate(alert, &self.settings, &self.api, &self.permissions, budget).await
    }

    async fn approve(
        &self,
        plan: &approval::PendingPlan,
        budget: &mut usize,
    ) -> approval::Approval {
        approval::approve(plan, &self.settings, &self.api, &self.permissions, budget).await
    }

    fn max_changes(&self) -> usize {
        self.settings.max_changes
    }
}

/// The plan without AWS access (`apigw-doctor handle` with no topic): what would be looked up and the statement's
/// source, with the function left to the API's configuration.
#[derive(Debug, Clone)]
pub struct Offline {
    pub settings: Settings,
}

impl Remediator for Offline {
    async fn remediate(&self, alert: &Alert, _budget: &mut usize) -> Report {
        let authorizer = match alert.cause {
            Cause::MissingInvokePermission => false,
            Cause::AuthorizerMissingInvokePermission => true,
            _ => return Report::none(),
        };
        if self.settings.mode == Mode::Off {
            return Report::none();
        }
        let (Some(account), Some(api_id), Some(ApiSource::LogGroup)) =
            (&alert.account, &alert.api_id, alert.api_source)
        else {
            return Report::from_actions(vec![Action::refused(
                "only REST execution log groups (API-Gateway-Execution-Logs_{api-id}/{stage}) name the API trustworthily",
                None,
            )]);
        };
        if let Some(refusal) = cross_account(&self.settings, account) {
            return Report::from_actions(vec![refusal]);
        }
        let (looked_up, source) = match (
            authorizer,
            &alert.method,
            &alert.resource_path,
            alert.authorizer_ids.first(),
        ) {
            (true, _, _, Some(id)) => (
                format!("authorizer {id} of API {api_id}"),
                source_arn(
                    &alert.region,
                    account,
                    api_id,
                    &Source::Authorizer {
                        authorizer_id: id.clone(),
                    },
                ),
            ),
            (true, _, _, None) => (
                format!("the Lambda authorizers of API {api_id}"),
                source_arn(
                    &alert.region,
                    account,
                    api_id,
                    &Source::Authorizer {
                        authorizer_id: "<authorizer-id>".into(),
                    },
                ),
            ),
            (false, Some(method), Some(path), _) if self.settings.scope == Scope::Route => (
                format!("the integration of {method} {path} on API {api_id}"),
                source_arn(
                    &alert.region,
                    account,
                    api_id,
                    &Source::Route {
                        method: method.clone(),
                        resource_path: path.clone(),
                    },
                ),
            ),
            (false, Some(method), Some(path), _) => (
                format!("the integration of {method} {path} on API {api_id}"),
                source_arn(&alert.region, account, api_id, &Source::Api),
            ),
            (false, _, _, _) => (
                format!("every Lambda integration of API {api_id} (no route was logged)"),
                source_arn(&alert.region, account, api_id, &Source::Api),
            ),
        };
        Report {
            status: "dry-run",
            approval: None,
            api: None,
            acted_as: None,
            actions: vec![Action {
                outcome: "dry-run",
                reason: Some(format!(
                    "offline plan: with AWS access, {looked_up} names the function (never the log); if its policy does not \
                     already allow it, add lambda:InvokeFunction for principal apigateway.amazonaws.com with SourceArn \
                     {source} and SourceAccount {account}"
                )),
                fix: None,
            }],
        }
    }

    fn max_changes(&self) -> usize {
        self.settings.max_changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::tests_support;
    use std::sync::Mutex;

    const FUNCTION: &str = "arn:aws:lambda:eu-west-2:123456789012:function:orders";

    fn uri(function: &str) -> String {
        format!(
            "arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/{function}/invocations"
        )
    }

    /// An API configuration in memory, counting calls.
    #[derive(Default)]
    struct FakeApi {
        integrations: Vec<Integration>,
        authorizers: Vec<Authorizer>,
        /// HTTP and WebSocket API stages, with their access-log groups.
        stages: Vec<StageInfo>,
        calls: Mutex<u32>,
    }

    impl FakeApi {
        fn with_route(method: &str, path: &str, function: &str) -> FakeApi {
            FakeApi {
                integrations: vec![Integration {
                    method: method.into(),
                    resource_path: path.into(),
                    uri: Some(uri(function)),
                    credentials: None,
                    timeout_ms: None,
                }],
                ..FakeApi::default()
            }
        }

        fn count(&self) {
            *self.calls.lock().unwrap() += 1;
        }
    }

    impl ApiConfig for FakeApi {
        async fn route_integration(
            &self,
            _: &str,
            method: &str,
            path: &str,
        ) -> Result<Option<Integration>, RemediateError> {
            self.count();
            Ok(self
                .integrations
                .iter()
                .find(|i| i.resource_path == path && (i.method == method || i.method == "ANY"))
                .cloned())
        }
        async fn lambda_integrations(&self, _: &str) -> Result<Vec<Integration>, RemediateError> {
            self.count();
            Ok(self.integrations.clone())
        }
        async fn authorizers(&self, _: &str) -> Result<Vec<Authorizer>, RemediateError> {
            self.count();
            Ok(self.authorizers.clone())
        }
        async fn stage_variables(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<(String, String)>, RemediateError> {
            self.count();
            Ok(Vec::new())
        }
        async fn stage_access_log_group(
            &self,
            api_id: &str,
            stage: &str,
        ) -> Result<Option<String>, RemediateError> {
            Ok(self
                .stages
                .iter()
                .find(|s| s.api_id == api_id && s.stage == stage)
                .and_then(|s| s.access_log_group.clone()))
        }
        async fn v2_stages(&self) -> Result<Vec<StageInfo>, RemediateError> {
            Ok(self.stages.clone())
        }
    }

    /// Lambda policies in memory: function ARN → statements added.
    #[derive(Default)]
    struct FakeLambda {
        added: Mutex<Vec<Fix>>,
        policies: Vec<(String, String)>,
        calls: Mutex<u32>,
    }

    impl PermissionApi for FakeLambda {
        async fn get_policy(
            &self,
            function: &FunctionRef,
        ) -> Result<Option<String>, RemediateError> {
            *self.calls.lock().unwrap() += 1;
            Ok(self
                .policies
                .iter()
                .find(|(f, _)| *f == function.unqualified_arn())
                .map(|(_, p)| p.clone()))
        }
        async fn add_permission(&self, fix: &Fix) -> Result<Added, RemediateError> {
            *self.calls.lock().unwrap() += 1;
            self.added.lock().unwrap().push(fix.clone());
            Ok(Added::Created)
        }
    }

    fn alert(method: Option<&str>, path: Option<&str>) -> Alert {
        let mut a = tests_support::alert();
        a.cause = Cause::MissingInvokePermission;
        a.method = method.map(str::to_owned);
        a.resource_path = path.map(str::to_owned);
        a
    }

    fn auto(patterns: &[&str]) -> Settings {
        Settings {
            mode: Mode::Auto,
            allowed_functions: patterns.iter().map(|p| (*p).to_owned()).collect(),
            ..Settings::default()
        }
    }

    fn run(
        alert: &Alert,
        settings: &Settings,
        api: &FakeApi,
        lambda: &FakeLambda,
        budget: &mut usize,
    ) -> Report {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(remediate(alert, settings, api, lambda, budget))
    }

    const HTTP_API: &str = "h77p4p1x9z";
    const ACCESS_GROUP: &str = "/aws/http-api/orders-access";

    fn http_stage(group: &str) -> StageInfo {
        StageInfo {
            api_id: HTTP_API.into(),
            stage: "$default".into(),
            kind: ApiKind::Http,
            access_log_group: Some(group.into()),
        }
    }

    /// An HTTP API's access-log alert as a delivery from an unmapped group makes it: no API named.
    fn access_log_alert(route_key_method: Option<&str>, path: Option<&str>) -> Alert {
        let mut a = alert(route_key_method, path);
        a.api_id = None;
        a.stage = None;
        a.api_source = None;
        a.log_group = Some(ACCESS_GROUP.into());
        a
    }

    /// HTTP APIs accept the bare function ARN as the integration URI (AWS::ApiGatewayV2::Integration).
    fn http_api(method: &str, path: &str) -> FakeApi {
        FakeApi {
            integrations: vec![Integration {
                method: method.into(),
                resource_path: path.into(),
                uri: Some(FUNCTION.into()),
                credentials: None,
                timeout_ms: Some(30_000),
            }],
            stages: vec![http_stage(ACCESS_GROUP)],
            ..FakeApi::default()
        }
    }

    #[test]
    fn an_http_api_access_log_alert_is_healed_for_the_api_its_stage_configuration_names() {
        let api = http_api("GET", "/orders/{id}");
        let lambda = FakeLambda::default();
        let report = run(
            &access_log_alert(Some("GET"), Some("/orders/{id}")),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "applied", "{report:?}");
        let added = lambda.added.lock().unwrap();
        assert_eq!(
            added[0].source_arn,
            format!("arn:aws:execute-api:eu-west-2:123456789012:{HTTP_API}/*/GET/orders/*")
        );
        assert_eq!(
            report.api,
            Some(ResolvedApi {
                api_id: HTTP_API.into(),
                stage: "$default".into()
            })
        );
    }

    #[test]
    fn an_access_log_without_a_route_key_says_what_to_add_to_its_format() {
        let api = http_api("GET", "/orders");
        let lambda = FakeLambda::default();
        let report = run(
            &access_log_alert(None, None),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "applied", "{report:?}");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("$context.routeKey"),
            "{report:?}"
        );
    }

    #[test]
    fn the_default_route_of_an_http_api_gets_its_route_key_source() {
        let api = http_api("", "$default");
        let lambda = FakeLambda::default();
        let report = run(
            &access_log_alert(None, Some("$default")),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "applied", "{report:?}");
        assert_eq!(
            lambda.added.lock().unwrap()[0].source_arn,
            format!("arn:aws:execute-api:eu-west-2:123456789012:{HTTP_API}/*/$default")
        );
    }

    #[test]
    fn an_access_log_group_no_stage_names_is_refused_and_nothing_is_read_of_lambda() {
        let mut api = http_api("GET", "/orders");
        api.stages = vec![http_stage("/aws/http-api/another-group")];
        let lambda = FakeLambda::default();
        let report = run(
            &access_log_alert(Some("GET"), Some("/orders")),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("no HTTP or WebSocket API stage"),
            "{report:?}"
        );
        assert_eq!(*lambda.calls.lock().unwrap(), 0);
    }

    #[test]
    fn two_stages_logging_to_one_group_are_not_guessed_between() {
        let mut api = http_api("GET", "/orders");
        let mut other = http_stage(ACCESS_GROUP);
        other.stage = "staging".into();
        api.stages.push(other);
        let lambda = FakeLambda::default();
        let report = run(
            &access_log_alert(Some("GET"), Some("/orders")),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("several API stages")
        );
        assert!(lambda.added.lock().unwrap().is_empty());
    }

    #[test]
    fn a_mapping_the_stage_configuration_contradicts_is_not_trusted_for_a_change() {
        let mut api = http_api("GET", "/orders");
        api.stages = vec![http_stage("/aws/http-api/elsewhere")];
        let mut a = access_log_alert(Some("GET"), Some("/orders"));
        a.api_id = Some(HTTP_API.into());
        a.stage = Some("$default".into());
        a.api_source = Some(ApiSource::Mapping);
        let lambda = FakeLambda::default();
        let report = run(&a, &auto(&["orders"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("not trusted"),
            "{report:?}"
        );
        // The same mapping, confirmed by the stage: healed.
        api.stages = vec![http_stage(ACCESS_GROUP)];
        let report = run(&a, &auto(&["orders"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "applied", "{report:?}");
    }

    #[test]
    fn a_pasted_record_naming_an_api_is_never_enough() {
        let api = http_api("GET", "/orders");
        let mut a = access_log_alert(Some("GET"), Some("/orders"));
        a.api_id = Some(HTTP_API.into());
        a.api_source = Some(ApiSource::Record);
        a.log_group = None;
        let lambda = FakeLambda::default();
        let report = run(&a, &auto(&["orders"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "refused");
        assert_eq!(*lambda.calls.lock().unwrap(), 0);
    }

    #[test]
    fn a_websocket_connect_route_from_its_execution_log_gets_the_connect_source() {
        let api = FakeApi {
            integrations: vec![Integration {
                method: String::new(),
                resource_path: "$connect".into(),
                uri: Some(uri(FUNCTION)),
                credentials: None,
                timeout_ms: None,
            }],
            ..FakeApi::default()
        };
        let lambda = FakeLambda::default();
        let mut a = alert(None, Some("$connect"));
        a.log_group = Some("API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into());
        let report = run(&a, &auto(&["orders"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "applied", "{report:?}");
        assert_eq!(
            lambda.added.lock().unwrap()[0].source_arn,
            "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3d4e5/*/$connect"
        );
        assert_eq!(
            report.api, None,
            "an execution log group names its API itself"
        );
    }

    #[test]
    fn auto_adds_one_route_scoped_statement_to_the_configured_function() {
        let api = FakeApi::with_route("POST", "/orders/{id}", FUNCTION);
        let lambda = FakeLambda::default();
        let report = run(
            &alert(Some("POST"), Some("/orders/{id}")),
            &auto(&["orders"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "applied", "{report:?}");
        let added = lambda.added.lock().unwrap();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].function_arn, FUNCTION);
        assert_eq!(
            added[0].source_arn,
            "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3d4e5/*/POST/orders/*"
        );
    }

    #[test]
    fn off_makes_no_call_at_all() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let settings = Settings {
            mode: Mode::Off,
            ..auto(&["*"])
        };
        let report = run(
            &alert(Some("POST"), Some("/orders")),
            &settings,
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report, Report::none());
        assert_eq!(*api.calls.lock().unwrap(), 0);
        assert_eq!(*lambda.calls.lock().unwrap(), 0);
    }

    #[test]
    fn dry_run_looks_but_changes_nothing() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let settings = Settings {
            mode: Mode::DryRun,
            ..auto(&["*"])
        };
        let report = run(
            &alert(Some("POST"), Some("/orders")),
            &settings,
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "dry-run");
        assert!(
            report.actions[0]
                .fix
                .as_ref()
                .unwrap()
                .add_command()
                .contains("add-permission")
        );
        assert!(lambda.added.lock().unwrap().is_empty());
    }

    #[test]
    fn the_budget_caps_changes_per_invocation() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let report = run(
            &alert(Some("POST"), Some("/orders")),
            &auto(&["*"]),
            &api,
            &lambda,
            &mut 0,
        );
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("REMEDIATION_MAX_CHANGES")
        );
        assert!(lambda.added.lock().unwrap().is_empty());
    }

    #[test]
    fn an_unknown_route_is_refused_without_guessing() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let report = run(
            &alert(Some("GET"), Some("/other")),
            &auto(&["*"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("no integration for GET /other")
        );
    }

    #[test]
    fn a_credentials_role_is_refused_and_named() {
        let mut api = FakeApi::with_route("POST", "/orders", FUNCTION);
        api.integrations[0].credentials = Some("arn:aws:iam::123456789012:role/invoker".into());
        let lambda = FakeLambda::default();
        let report = run(
            &alert(Some("POST"), Some("/orders")),
            &auto(&["*"]),
            &api,
            &lambda,
            &mut 3,
        );
        assert_eq!(report.status, "refused");
        assert!(
            report.actions[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("role/invoker")
        );
    }

    #[test]
    fn without_a_route_only_integrations_lacking_permission_are_fixed() {
        let other = "arn:aws:lambda:eu-west-2:123456789012:function:users";
        let mut api = FakeApi::with_route("POST", "/orders", FUNCTION);
        api.integrations.push(Integration {
            method: "GET".into(),
            resource_path: "/users".into(),
            uri: Some(uri(other)),
            credentials: None,
            timeout_ms: None,
        });
        let allows_users = r#"{"Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:eu-west-2:123456789012:a1b2c3d4e5/*"}}}]}"#;
        let lambda = FakeLambda {
            policies: vec![(other.to_owned(), allows_users.to_owned())],
            ..FakeLambda::default()
        };
        let report = run(&alert(None, None), &auto(&["*"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "applied");
        let added = lambda.added.lock().unwrap();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].function_name, "orders");
    }

    #[test]
    fn authorizer_permission_targets_the_authorizer_from_the_api_configuration() {
        let authorizer_fn = "arn:aws:lambda:eu-west-2:123456789012:function:token-authorizer";
        let api = FakeApi {
            authorizers: vec![
                Authorizer {
                    id: "other1".into(),
                    uri: Some(uri("arn:aws:lambda:eu-west-2:123456789012:function:nope")),
                    credentials: None,
                    routes: Vec::new(),
                    jwt: false,
                },
                Authorizer {
                    id: "6ad5l1".into(),
                    uri: Some(uri(authorizer_fn)),
                    credentials: None,
                    routes: Vec::new(),
                    jwt: false,
                },
            ],
            ..FakeApi::default()
        };
        let lambda = FakeLambda::default();
        let mut a = alert(Some("GET"), Some("/orders"));
        a.cause = Cause::AuthorizerMissingInvokePermission;
        a.authorizer_ids = vec!["6ad5l1".into()];
        let report = run(&a, &auto(&["token-*"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "applied", "{report:?}");
        let added = lambda.added.lock().unwrap();
        assert_eq!(added[0].function_arn, authorizer_fn);
        assert_eq!(
            added[0].source_arn,
            "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3d4e5/authorizers/6ad5l1"
        );
    }

    #[test]
    fn alerts_from_access_logs_are_never_remediated() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let mut a = alert(Some("POST"), Some("/orders"));
        a.api_source = Some(ApiSource::Record);
        let report = run(&a, &auto(&["*"]), &api, &lambda, &mut 3);
        assert_eq!(report.status, "refused");
        assert_eq!(*api.calls.lock().unwrap(), 0);
    }

    #[test]
    fn alerts_of_other_accounts_are_refused_with_the_reason() {
        let api = FakeApi::with_route("POST", "/orders", FUNCTION);
        let lambda = FakeLambda::default();
        let a = alert(Some("POST"), Some("/orders"));
        let settings = Settings {
            home_account: Some("999988887777".to_owned()),
            ..auto(&["*"])
        };
        let report = run(&a, &settings, &api, &lambda, &mut 3);
        assert_eq!(report.status, "refused");
        let reason = report.actions[0].reason.as_deref().unwrap();
        assert!(
            reason.contains("MemberAccounts") && reason.contains("member/template.yaml"),
            "{reason}"
        );
        assert_eq!(*api.calls.lock().unwrap(), 0);
        let same = Settings {
            home_account: a.account.clone(),
            ..auto(&["*"])
        };
        assert_eq!(run(&a, &same, &api, &lambda, &mut 3).status, "applied");
    }

    #[test]
    fn other_causes_are_left_alone() {
        let api = FakeApi::default();
        let lambda = FakeLambda::default();
        let mut a = alert(Some("POST"), Some("/orders"));
        a.cause = Cause::FunctionError;
        assert_eq!(
            run(&a, &auto(&["*"]), &api, &lambda, &mut 3),
            Report::none()
        );
    }
}
