//! `apigw-doctor audit`: read-only checks of an API's configuration (REST, HTTP or WebSocket), before a client gets
//! a 500.
//!
//! One result per check per target (each Lambda integration, each Lambda authorizer):
//! - `invoke_permission`: the function's resource policy lets `apigateway.amazonaws.com` invoke it for this API,
//!   stage and route (the remediation planner's own policy evaluation; `fail` with the exact fix);
//! - `function_exists`: the function (alias, version) the integration names exists and is `Active`;
//! - `timeouts`: the function may not run longer than API Gateway waits for it (else clients get 504 while the
//!   function keeps running and billing);
//! - per stage, [`logging`]: `execution_logging`, `access_logging`, `log_subscription`.
//!
//! The API, its integrations and the functions come from API Gateway's own configuration through the
//! remediation ports ([`ApiConfig`], [`PermissionApi`]); [`FunctionInfo`] reads a function's configuration.

pub mod auditor;
pub mod aws;
pub mod logging;

use std::future::Future;

use serde::Serialize;

use crate::remediate::plan::{
    Fix, FunctionRef, PolicyState, Source, concrete_source, function_from_integration_uri,
    is_lambda_uri, source_arn,
};
use crate::remediate::{ApiConfig, ApiKind, PermissionApi, RemediateError};

/// API Gateway's integration timeout of a REST API when `timeoutInMillis` is not set (HTTP APIs: 30 s,
/// [`ApiKind::max_integration_timeout_ms`]).
pub const DEFAULT_INTEGRATION_TIMEOUT_MS: i32 = 29_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// One check on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub check: &'static str,
    pub status: Status,
    pub api_id: String,
    pub stage: String,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub authorizer_id: Option<String>,
    pub function_arn: Option<String>,
    pub message: String,
    /// What to do, for people: the command and, for a permission, the template snippet.
    pub fix: Option<String>,
    /// The exact command of the fix on its own (for scripts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The fix as the team's template declares it (`AWS::Lambda::Permission`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iac_snippet: Option<String>,
    /// The routes that use an authorizer (its failure fails each of them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
}

/// What Lambda says of a function (`GetFunctionConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionState {
    /// `Active`, `Pending`, `Inactive`, `Failed`.
    pub state: String,
    pub timeout_s: i32,
}

/// Reads a function's configuration.
pub trait FunctionInfo {
    /// `None` when the function (or its alias or version) does not exist.
    fn function_state(
        &self,
        function: &FunctionRef,
    ) -> impl Future<Output = Result<Option<FunctionState>, RemediateError>> + Send;
}

/// A function's configuration left unread: `GetFunctionConfiguration` answers with the function's environment
/// variables (secrets included), and the deployed function's sweep needs only the resource policy to find a
/// missing permission. Its `function_exists` and `timeouts` checks say so (a `warn`); `invoke_permission` is whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigurationNotRead;

impl FunctionInfo for ConfigurationNotRead {
    async fn function_state(
        &self,
        function: &FunctionRef,
    ) -> Result<Option<FunctionState>, RemediateError> {
        Err(RemediateError::Lambda {
            operation: "GetFunctionConfiguration",
            function: function.unqualified_arn(),
            reason: "not read by design: it would return the function's environment variables"
                .to_owned(),
        })
    }
}

/// Where the audit runs: the API's account and region (the source ARNs a policy must allow are built from them).
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub api_id: &'a str,
    pub kind: ApiKind,
    pub stage: &'a str,
    pub region: &'a str,
    /// `None`: the account of each integration's function (an API and its functions are usually in one account).
    pub account: Option<&'a str>,
}

/// Runs every check on every Lambda integration and authorizer of the API. An error means the API itself could
/// not be read; a function that cannot be read is a `warn` of its own.
pub async fn audit<A: ApiConfig, P: PermissionApi, F: FunctionInfo>(
    target: &Target<'_>,
    api: &A,
    permissions: &P,
    functions: &F,
) -> Result<Vec<CheckResult>, RemediateError> {
    let variables = api.stage_variables(target.api_id, target.stage).await?;
    let mut results = Vec::new();
    for integration in api.lambda_integrations(target.api_id).await? {
        let route = Route {
            method: Some(integration.method.clone()).filter(|m| !m.is_empty()),
            resource_path: Some(integration.resource_path.clone()),
            authorizer_id: None,
            routes: Vec::new(),
        };
        let source = integration.source();
        let checked = Checked {
            target,
            route: &route,
            uri: integration.uri.as_deref(),
            credentials: integration.credentials.as_deref(),
            variables: &variables,
        };
        let concrete = |function: &FunctionRef| {
            concrete_source(
                target.region,
                target.account.unwrap_or(&function.account),
                target.api_id,
                target.stage,
                &integration.method,
                &integration.resource_path,
            )
        };
        let timeout = Some(
            integration
                .timeout_ms
                .unwrap_or(target.kind.max_integration_timeout_ms()),
        );
        checked
            .run(
                &source,
                concrete,
                timeout,
                permissions,
                functions,
                &mut results,
            )
            .await;
    }
    for authorizer in api.authorizers(target.api_id).await? {
        if authorizer.jwt {
            results.push(CheckResult {
                check: "invoke_permission",
                status: Status::Pass,
                api_id: target.api_id.to_owned(),
                stage: target.stage.to_owned(),
                method: None,
                resource_path: None,
                authorizer_id: Some(authorizer.id.clone()),
                function_arn: None,
                message: "a JWT authorizer: API Gateway validates the token itself and invokes no function, so no \
                          permission is needed"
                    .to_owned(),
                fix: None,
                command: None,
                iac_snippet: None,
                routes: authorizer.routes.clone(),
            });
            continue;
        }
        let Some(uri) = authorizer.uri.as_deref().filter(|u| is_lambda_uri(u)) else {
            continue;
        };
        let route = Route {
            method: None,
            resource_path: None,
            authorizer_id: Some(authorizer.id.clone()),
            routes: authorizer.routes.clone(),
        };
        let source = Source::Authorizer {
            authorizer_id: authorizer.id.clone(),
        };
        let checked = Checked {
            target,
            route: &route,
            uri: Some(uri),
            credentials: authorizer.credentials.as_deref(),
            variables: &variables,
        };
        let concrete = |function: &FunctionRef| {
            source_arn(
                target.region,
                target.account.unwrap_or(&function.account),
                target.api_id,
                &source,
            )
        };
        checked
            .run(
                &source,
                concrete,
                None,
                permissions,
                functions,
                &mut results,
            )
            .await;
    }
    Ok(results)
}

/// What a result is about.
struct Route {
    method: Option<String>,
    resource_path: Option<String>,
    authorizer_id: Option<String>,
    /// An authorizer's routes.
    routes: Vec<String>,
}

/// One integration or authorizer under check.
struct Checked<'a> {
    target: &'a Target<'a>,
    route: &'a Route,
    uri: Option<&'a str>,
    credentials: Option<&'a str>,
    variables: &'a [(String, String)],
}

impl Checked<'_> {
    fn result(
        &self,
        check: &'static str,
        status: Status,
        function: Option<&FunctionRef>,
        message: String,
        fix: Option<String>,
    ) -> CheckResult {
        CheckResult {
            check,
            status,
            api_id: self.target.api_id.to_owned(),
            stage: self.target.stage.to_owned(),
            method: self.route.method.clone(),
            resource_path: self.route.resource_path.clone(),
            authorizer_id: self.route.authorizer_id.clone(),
            function_arn: function.map(qualified_arn),
            message,
            fix,
            command: None,
            iac_snippet: None,
            routes: self.route.routes.clone(),
        }
    }

    /// What fails with this target: the route, or every route that uses the authorizer.
    fn what_fails(&self) -> String {
        match (&self.route.authorizer_id, self.route.routes.as_slice()) {
            (None, _) => "every request on this route".to_owned(),
            (Some(id), []) => {
                format!("every request through authorizer {id} (no route uses it now)")
            }
            (Some(id), routes) => format!(
                "every request through authorizer {id}, on {}",
                routes.join(", ")
            ),
        }
    }

    async fn run<P: PermissionApi, F: FunctionInfo>(
        &self,
        source: &Source,
        concrete: impl Fn(&FunctionRef) -> String,
        integration_timeout_ms: Option<i32>,
        permissions: &P,
        functions: &F,
        results: &mut Vec<CheckResult>,
    ) {
        let function = match function_from_integration_uri(self.uri.unwrap_or(""), self.variables) {
            Ok(function) => function,
            Err(reason) => {
                results.push(
                    self.result(
                        "function_exists",
                        Status::Fail,
                        None,
                        format!(
                            "the integration names no function this stage can invoke: {reason}"
                        ),
                        Some(
                            "set the stage variable, or point the integration at a function ARN"
                                .to_owned(),
                        ),
                    ),
                );
                return;
            }
        };
        // function_exists and timeouts
        match functions.function_state(&function).await {
            Ok(None) => results.push(self.result(
                "function_exists",
                Status::Fail,
                Some(&function),
                format!("{} does not exist: every request on this route answers 500", qualified_arn(&function)),
                Some("deploy the function (or the alias or version), or correct the integration URI".to_owned()),
            )),
            Ok(Some(state)) => {
                let active = state.state.eq_ignore_ascii_case("Active");
                results.push(self.result(
                    "function_exists",
                    if active { Status::Pass } else { Status::Warn },
                    Some(&function),
                    format!("{} exists, state {}", qualified_arn(&function), state.state),
                    (!active).then(|| "wait for the function to become Active, or look at why it is not".to_owned()),
                ));
                if let Some(limit) = integration_timeout_ms {
                    let function_ms = i64::from(state.timeout_s) * 1_000;
                    let too_long = function_ms > i64::from(limit);
                    results.push(self.result(
                        "timeouts",
                        if too_long { Status::Warn } else { Status::Pass },
                        Some(&function),
                        format!(
                            "the function may run {} s; API Gateway waits {} ms{}",
                            state.timeout_s,
                            limit,
                            if too_long {
                                ": a slow request gets 504 while the function keeps running and billing"
                            } else {
                                ""
                            }
                        ),
                        too_long.then(|| {
                            format!(
                                "lower the function's timeout to {} s or less, or raise the integration's timeoutInMillis",
                                limit / 1_000
                            )
                        }),
                    ));
                }
            }
            Err(error) => results.push(self.result(
                "function_exists",
                Status::Warn,
                Some(&function),
                format!("could not read the function: {error}"),
                None,
            )),
        }
        // invoke_permission
        if let Some(role) = self.credentials {
            results.push(self.result(
                "invoke_permission",
                Status::Warn,
                Some(&function),
                format!(
                    "the integration invokes with the credentials role {role}: the function's resource policy does \
                     not apply, and the role's own permissions were not verified"
                ),
                Some(format!("make sure {role} may lambda:InvokeFunction on {}", function.unqualified_arn())),
            ));
            return;
        }
        let account = self.target.account.unwrap_or(&function.account);
        let concrete = concrete(&function);
        let policy = match permissions.get_policy(&function).await {
            Ok(Some(document)) => PolicyState::parse(&document, &concrete, account),
            Ok(None) => PolicyState::none(),
            Err(error) => {
                results.push(self.result(
                    "invoke_permission",
                    Status::Warn,
                    Some(&function),
                    format!("could not read the function's policy: {error}"),
                    None,
                ));
                return;
            }
        };
        if policy.allows_source {
            results.push(self.result(
                "invoke_permission",
                Status::Pass,
                Some(&function),
                format!("the function's policy allows API Gateway to invoke it for {concrete}"),
                None,
            ));
        } else {
            let fix = Fix::new(
                &function,
                source_arn(self.target.region, account, self.target.api_id, source),
                account,
            );
            let cause = if self.route.authorizer_id.is_some() {
                "authorizer_missing_invoke_permission"
            } else {
                "missing_invoke_permission"
            };
            let mut result = self.result(
                "invoke_permission",
                Status::Fail,
                Some(&function),
                format!(
                    "API Gateway may not invoke {}: {} will answer 500 ({cause})",
                    qualified_arn(&function),
                    self.what_fails()
                ),
                Some(format!("{}\n{}", fix.add_command(), fix.template_snippet())),
            );
            result.command = Some(fix.add_command());
            result.iac_snippet = Some(fix.template_snippet());
            results.push(result);
        }
    }
}

fn qualified_arn(function: &FunctionRef) -> String {
    match &function.qualifier {
        Some(q) => format!("{}:{q}", function.unqualified_arn()),
        None => function.unqualified_arn(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediate::{Added, Authorizer, Integration};

    const ACCOUNT: &str = "123456789012";

    fn uri(function: &str) -> String {
        format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations"
        )
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
    }

    #[derive(Default)]
    struct Api {
        integrations: Vec<Integration>,
        authorizers: Vec<Authorizer>,
        variables: Vec<(String, String)>,
    }

    impl ApiConfig for Api {
        async fn route_integration(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<Integration>, RemediateError> {
            Ok(None)
        }
        async fn lambda_integrations(&self, _: &str) -> Result<Vec<Integration>, RemediateError> {
            Ok(self.integrations.clone())
        }
        async fn authorizers(&self, _: &str) -> Result<Vec<Authorizer>, RemediateError> {
            Ok(self.authorizers.clone())
        }
        async fn stage_variables(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<(String, String)>, RemediateError> {
            Ok(self.variables.clone())
        }
    }

    /// Functions by unqualified ARN: (policy, timeout); absent ones do not exist.
    #[derive(Default)]
    struct Lambda {
        functions: Vec<(String, Option<String>, i32)>,
    }

    impl PermissionApi for Lambda {
        async fn get_policy(
            &self,
            function: &FunctionRef,
        ) -> Result<Option<String>, RemediateError> {
            Ok(self
                .functions
                .iter()
                .find(|(a, _, _)| *a == function.unqualified_arn())
                .and_then(|(_, p, _)| p.clone()))
        }
        async fn add_permission(&self, _: &Fix) -> Result<Added, RemediateError> {
            unreachable!("the audit never changes anything")
        }
    }

    impl FunctionInfo for Lambda {
        async fn function_state(
            &self,
            function: &FunctionRef,
        ) -> Result<Option<FunctionState>, RemediateError> {
            Ok(self
                .functions
                .iter()
                .find(|(a, _, _)| *a == function.unqualified_arn())
                .map(|(_, _, t)| FunctionState {
                    state: "Active".to_owned(),
                    timeout_s: *t,
                }))
        }
    }

    fn integration(method: &str, path: &str, uri: String) -> Integration {
        Integration {
            method: method.into(),
            resource_path: path.into(),
            uri: Some(uri),
            credentials: None,
            timeout_ms: None,
        }
    }

    fn allows(pattern: &str) -> Option<String> {
        Some(format!(
            r#"{{"Statement":[{{"Sid":"s","Effect":"Allow","Principal":{{"Service":"apigateway.amazonaws.com"}},"Action":"lambda:InvokeFunction","Resource":"x","Condition":{{"ArnLike":{{"AWS:SourceArn":"{pattern}"}}}}}}]}}"#
        ))
    }

    fn run(api: &Api, lambda: &Lambda) -> Vec<CheckResult> {
        let target = Target {
            api_id: "a1b2c3d4e5",
            kind: ApiKind::Rest,
            stage: "prod",
            region: "us-east-1",
            account: None,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(audit(&target, api, lambda, lambda))
            .unwrap()
    }

    fn status_of<'r>(
        results: &'r [CheckResult],
        check: &str,
        path: Option<&str>,
    ) -> Vec<&'r CheckResult> {
        results
            .iter()
            .filter(|r| r.check == check && r.resource_path.as_deref() == path)
            .collect()
    }

    #[test]
    fn an_http_api_waits_30_s_its_default_route_has_its_source_and_a_jwt_authorizer_needs_nothing()
    {
        let api = Api {
            integrations: vec![
                // HTTP APIs take the bare function ARN as the integration URI.
                Integration {
                    timeout_ms: None,
                    ..integration("", "$default", arn("fallback"))
                },
            ],
            authorizers: vec![Authorizer {
                id: "jwt123".into(),
                uri: None,
                credentials: None,
                routes: vec!["$default".into()],
                jwt: true,
            }],
            ..Api::default()
        };
        let lambda = Lambda {
            functions: vec![(arn("fallback"), None, 30)],
        };
        let target = Target {
            api_id: "h77p4p1x9z",
            kind: ApiKind::Http,
            stage: "$default",
            region: "us-east-1",
            account: None,
        };
        let results = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(audit(&target, &api, &lambda, &lambda))
            .unwrap();
        // 30 s of the function against HTTP's 30 s: no 504 in waiting.
        let timeouts = status_of(&results, "timeouts", Some("$default"));
        assert_eq!(timeouts[0].status, Status::Pass, "{timeouts:?}");
        assert!(timeouts[0].message.contains("30000 ms"), "{timeouts:?}");
        let permission = status_of(&results, "invoke_permission", Some("$default"));
        assert_eq!(permission[0].status, Status::Fail);
        assert_eq!(permission[0].method, None);
        assert!(
            permission[0].command.as_deref().unwrap().contains(&format!(
                "--source-arn arn:aws:execute-api:us-east-1:{ACCOUNT}:h77p4p1x9z/*/$default"
            )),
            "{permission:?}"
        );
        let jwt = results
            .iter()
            .find(|r| r.authorizer_id.as_deref() == Some("jwt123"))
            .unwrap();
        assert_eq!(jwt.status, Status::Pass);
        assert!(jwt.message.contains("JWT"), "{jwt:?}");
    }

    #[test]
    fn a_missing_permission_fails_with_the_exact_fix_and_a_granted_one_passes() {
        let api = Api {
            integrations: vec![
                integration("POST", "/orders/{id}", uri(&arn("orders"))),
                integration("ANY", "/{proxy+}", uri(&arn("proxy"))),
            ],
            ..Api::default()
        };
        let lambda = Lambda {
            functions: vec![
                (arn("orders"), None, 10),
                (
                    arn("proxy"),
                    allows(&format!(
                        "arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/*/*"
                    )),
                    10,
                ),
            ],
        };
        let results = run(&api, &lambda);
        let orders = status_of(&results, "invoke_permission", Some("/orders/{id}"));
        assert_eq!(orders[0].status, Status::Fail);
        let fix = orders[0].fix.as_deref().unwrap();
        assert!(fix.contains("aws lambda add-permission"), "{fix}");
        assert!(
            fix.contains(&format!(
                "arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/POST/orders/*"
            )),
            "{fix}"
        );
        assert!(fix.contains("AWS::Lambda::Permission"), "{fix}");
        let proxy = status_of(&results, "invoke_permission", Some("/{proxy+}"));
        assert_eq!(proxy[0].status, Status::Pass, "{}", proxy[0].message);
        assert!(
            results
                .iter()
                .filter(|r| r.check == "function_exists")
                .all(|r| r.status == Status::Pass)
        );
    }

    #[test]
    fn a_cross_account_functions_fix_allows_the_apis_account_not_the_functions() {
        let shared = "arn:aws:lambda:us-east-1:999988887777:function:shared";
        let api = Api {
            integrations: vec![integration("POST", "/orders", uri(shared))],
            ..Api::default()
        };
        let lambda = Lambda {
            functions: vec![(shared.to_owned(), None, 10)],
        };
        let target = Target {
            api_id: "a1b2c3d4e5",
            kind: ApiKind::Rest,
            stage: "prod",
            region: "us-east-1",
            account: Some(ACCOUNT),
        };
        let results = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(audit(&target, &api, &lambda, &lambda))
            .unwrap();
        let failed = status_of(&results, "invoke_permission", Some("/orders"));
        let command = failed[0].command.as_deref().unwrap();
        assert!(
            command.contains(&format!(
                "--source-arn arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/POST/orders --source-account {ACCOUNT}"
            )),
            "{command}"
        );
        assert!(
            !command.contains("execute-api:us-east-1:999988887777"),
            "{command}"
        );
    }

    #[test]
    fn stage_variables_aliases_authorizers_missing_functions_and_timeouts() {
        let api = Api {
            integrations: vec![
                integration(
                    "GET",
                    "/items",
                    uri(
                        "arn:aws:lambda:us-east-1:123456789012:function:items:${stageVariables.alias}",
                    ),
                ),
                integration("GET", "/gone", uri(&arn("gone"))),
                Integration {
                    timeout_ms: Some(5_000),
                    ..integration("GET", "/slow", uri(&arn("slow")))
                },
                integration("GET", "/unset", uri("${stageVariables.missing}")),
            ],
            authorizers: vec![Authorizer {
                id: "abc123".into(),
                uri: Some(uri(&arn("auth"))),
                credentials: None,
                routes: vec!["GET /orders".into(), "POST /orders".into()],
                jwt: false,
            }],
            variables: vec![("alias".into(), "live".into())],
        };
        let lambda = Lambda {
            functions: vec![
                (
                    arn("items"),
                    allows(&format!(
                        "arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5/*/GET/items"
                    )),
                    3,
                ),
                (arn("slow"), allows("*"), 30),
                (arn("auth"), None, 3),
            ],
        };
        let results = run(&api, &lambda);
        let items = status_of(&results, "invoke_permission", Some("/items"));
        assert_eq!(items[0].status, Status::Pass);
        assert_eq!(
            items[0].function_arn.as_deref(),
            Some(format!("{}:live", arn("items")).as_str())
        );
        assert_eq!(
            status_of(&results, "function_exists", Some("/gone"))[0].status,
            Status::Fail
        );
        assert_eq!(
            status_of(&results, "timeouts", Some("/slow"))[0].status,
            Status::Warn
        );
        assert_eq!(
            status_of(&results, "timeouts", Some("/items"))[0].status,
            Status::Pass
        );
        assert_eq!(
            status_of(&results, "function_exists", Some("/unset"))[0].status,
            Status::Fail
        );
        let authorizer: Vec<&CheckResult> = results
            .iter()
            .filter(|r| {
                r.authorizer_id.as_deref() == Some("abc123") && r.check == "invoke_permission"
            })
            .collect();
        assert_eq!(authorizer[0].status, Status::Fail);
        assert!(
            authorizer[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("a1b2c3d4e5/authorizers/abc123")
        );
    }
}
