//! The SDK adapters of the remediation ports: API Gateway, REST (v1) and HTTP/WebSocket (v2), read-only; Lambda
//! (GetPolicy, AddPermission).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::aws_error::explain;

use super::plan::{Fix, FunctionRef, is_lambda_uri};
use super::{
    Added, ApiConfig, ApiKind, Authorizer, Integration, Live, PermissionApi, RemediateError,
    Settings, StageInfo, log_group_of_arn,
};

/// The remediator the Lambda and `apigw-doctor handle` use. Building clients makes no call; in mode `off` the
/// remediator returns before using them.
pub fn live(
    settings: Settings,
    sdk: &aws_config::SdkConfig,
) -> Live<ApiGatewayConfig, LambdaPermissions> {
    Live {
        settings,
        api: ApiGatewayConfig::new(sdk),
        permissions: LambdaPermissions::new(aws_sdk_lambda::Client::new(sdk)),
    }
}

/// Reads the configuration of REST, HTTP and WebSocket APIs with `apigateway:GET` only. An API id is looked up as
/// a REST API first (`GetRestApi`), then as an HTTP or WebSocket API (`GetApi`); the answer is kept.
#[derive(Debug, Clone)]
pub struct ApiGatewayConfig {
    client: aws_sdk_apigateway::Client,
    v2: aws_sdk_apigatewayv2::Client,
    kinds: Arc<Mutex<HashMap<String, ApiKind>>>,
}

impl ApiGatewayConfig {
    pub fn new(sdk: &aws_config::SdkConfig) -> ApiGatewayConfig {
        ApiGatewayConfig {
            client: aws_sdk_apigateway::Client::new(sdk),
            v2: aws_sdk_apigatewayv2::Client::new(sdk),
            kinds: Arc::default(),
        }
    }

    /// The kind of the API; an API of neither kind is an error naming the id.
    async fn kind(&self, api_id: &str) -> Result<ApiKind, RemediateError> {
        self.api_kind(api_id).await?.ok_or_else(|| {
            lookup(
                api_id,
                "apigateway:GET: no REST, HTTP or WebSocket API has this id in this account and region; check the id and --region",
            )
        })
    }

    async fn v2_routes(
        &self,
        api_id: &str,
    ) -> Result<Vec<aws_sdk_apigatewayv2::types::Route>, RemediateError> {
        all_pages(|token| async move {
            let page = self
                .v2
                .get_routes()
                .api_id(api_id)
                .max_results("500")
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
            Ok((page.items.unwrap_or_default(), page.next_token))
        })
        .await
    }

    async fn v2_integrations(
        &self,
        api_id: &str,
    ) -> Result<HashMap<String, aws_sdk_apigatewayv2::types::Integration>, RemediateError> {
        let all = all_pages(|token| async move {
            let page = self
                .v2
                .get_integrations()
                .api_id(api_id)
                .max_results("500")
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
            Ok((page.items.unwrap_or_default(), page.next_token))
        })
        .await?;
        Ok(all
            .into_iter()
            .filter_map(|i| Some((i.integration_id.clone()?, i)))
            .collect())
    }

    /// Every route with its integration (a route's target is `integrations/{id}`).
    async fn v2_route_integrations(
        &self,
        api_id: &str,
    ) -> Result<Vec<Integration>, RemediateError> {
        let integrations = self.v2_integrations(api_id).await?;
        let mut out: Vec<Integration> = self
            .v2_routes(api_id)
            .await?
            .into_iter()
            .filter_map(|route| {
                let key = route.route_key?;
                let id = route.target?.strip_prefix("integrations/")?.to_owned();
                let integration = integrations.get(&id)?;
                let (method, path) = split_route_key(&key);
                Some(Integration {
                    method,
                    resource_path: path,
                    uri: integration.integration_uri.clone(),
                    credentials: integration.credentials_arn.clone(),
                    timeout_ms: integration.timeout_in_millis.filter(|t| *t > 0),
                })
            })
            .collect();
        out.sort_by_key(Integration::route);
        Ok(out)
    }

    async fn v2_stage(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Result<aws_sdk_apigatewayv2::operation::get_stage::GetStageOutput, RemediateError> {
        self.v2
            .get_stage()
            .api_id(api_id)
            .stage_name(stage)
            .send()
            .await
            .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))
    }

    async fn v2_apis(&self) -> Result<Vec<(String, ApiKind)>, RemediateError> {
        let apis = all_pages(|token| async move {
            let page = self
                .v2
                .get_apis()
                .max_results("500")
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| lookup("*", explain("apigateway:GET", &e)))?;
            Ok((page.items.unwrap_or_default(), page.next_token))
        })
        .await?;
        let mut all = Vec::new();
        for api in apis {
            if let (Some(id), Some(protocol)) = (api.api_id, api.protocol_type) {
                let kind = v2_kind(&protocol);
                self.remember(&id, kind);
                all.push((id, kind));
            }
        }
        Ok(all)
    }

    /// Every API of the account and region, REST, HTTP and WebSocket, with its kind (`audit --all-apis`).
    pub async fn all_apis(&self) -> Result<Vec<(String, ApiKind)>, RemediateError> {
        let rest = all_pages(|position| async move {
            let page = self
                .client
                .get_rest_apis()
                .limit(500)
                .set_position(position)
                .send()
                .await
                .map_err(|e| lookup("*", explain("apigateway:GET", &e)))?;
            Ok((page.items.unwrap_or_default(), page.position))
        })
        .await?;
        let mut all = Vec::new();
        for id in rest.into_iter().filter_map(|api| api.id) {
            self.remember(&id, ApiKind::Rest);
            all.push((id, ApiKind::Rest));
        }
        all.extend(self.v2_apis().await?);
        Ok(all)
    }

    fn remember(&self, api_id: &str, kind: ApiKind) {
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.insert(api_id.to_owned(), kind);
        }
    }

    /// Every resource of the API (paginated), with its methods.
    async fn resources(
        &self,
        api_id: &str,
    ) -> Result<Vec<aws_sdk_apigateway::types::Resource>, RemediateError> {
        all_pages(|position| async move {
            let page = self
                .client
                .get_resources()
                .rest_api_id(api_id)
                .limit(500)
                .embed("methods")
                .set_position(position)
                .send()
                .await
                .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
            Ok((page.items.unwrap_or_default(), page.position))
        })
        .await
    }

    async fn integration(
        &self,
        api_id: &str,
        resource_id: &str,
        method: &str,
        path: &str,
    ) -> Result<Option<Integration>, RemediateError> {
        match self
            .client
            .get_integration()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(method)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Integration {
                method: method.to_owned(),
                resource_path: path.to_owned(),
                uri: out.uri,
                credentials: out.credentials,
                timeout_ms: Some(out.timeout_in_millis).filter(|t| *t > 0),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(lookup(api_id, explain("apigateway:GET", &e))),
        }
    }
}

/// Every item of a paginated listing: `page(token)` reads one page and the token of the next; it stops at a page
/// without one (or one that repeats the token it was given, which would loop).
async fn all_pages<T, F, P>(mut page: F) -> Result<Vec<T>, RemediateError>
where
    F: FnMut(Option<String>) -> P,
    P: std::future::Future<Output = Result<(Vec<T>, Option<String>), RemediateError>>,
{
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (items, next) = page(token.clone()).await?;
        all.extend(items);
        match next {
            Some(next) if Some(&next) != token.as_ref() => token = Some(next),
            _ => return Ok(all),
        }
    }
}

fn lookup(api_id: &str, reason: impl std::fmt::Display) -> RemediateError {
    RemediateError::Lookup {
        api_id: api_id.to_owned(),
        reason: reason.to_string(),
    }
}

/// `GET /orders/{id}` → (`GET`, `/orders/{id}`); `$connect`, `$default` → (``, the key).
pub fn split_route_key(key: &str) -> (String, String) {
    match key.split_once(' ') {
        Some((method, path)) => (method.to_owned(), path.to_owned()),
        None => (String::new(), key.to_owned()),
    }
}

fn v2_kind(protocol: &aws_sdk_apigatewayv2::types::ProtocolType) -> ApiKind {
    match protocol {
        aws_sdk_apigatewayv2::types::ProtocolType::Websocket => ApiKind::WebSocket,
        _ => ApiKind::Http,
    }
}

impl ApiConfig for ApiGatewayConfig {
    async fn api_kind(&self, api_id: &str) -> Result<Option<ApiKind>, RemediateError> {
        if let Some(kind) = self.kinds.lock().ok().and_then(|k| k.get(api_id).copied()) {
            return Ok(Some(kind));
        }
        let kind = match self.client.get_rest_api().rest_api_id(api_id).send().await {
            Ok(_) => Some(ApiKind::Rest),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                match self.v2.get_api().api_id(api_id).send().await {
                    Ok(out) => Some(out.protocol_type.as_ref().map_or(ApiKind::Http, v2_kind)),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_not_found_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(lookup(api_id, explain("apigateway:GET", &e))),
                }
            }
            Err(e) => return Err(lookup(api_id, explain("apigateway:GET", &e))),
        };
        if let Some(kind) = kind {
            self.remember(api_id, kind);
        }
        Ok(kind)
    }

    async fn stage_access_log_group(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Result<Option<String>, RemediateError> {
        let destination = if self.kind(api_id).await? == ApiKind::Rest {
            self.client
                .get_stage()
                .rest_api_id(api_id)
                .stage_name(stage)
                .send()
                .await
                .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?
                .access_log_settings
                .and_then(|a| a.destination_arn)
        } else {
            self.v2_stage(api_id, stage)
                .await?
                .access_log_settings
                .and_then(|a| a.destination_arn)
        };
        Ok(destination
            .as_deref()
            .and_then(log_group_of_arn)
            .map(str::to_owned))
    }

    async fn v2_stages(&self) -> Result<Vec<StageInfo>, RemediateError> {
        let mut found = Vec::new();
        for (api_id, kind) in self.v2_apis().await? {
            let stages = self
                .v2
                .get_stages()
                .api_id(&api_id)
                .max_results("500")
                .send()
                .await
                .map_err(|e| lookup(&api_id, explain("apigateway:GET", &e)))?;
            for stage in stages.items.unwrap_or_default() {
                let access_log_group = stage
                    .access_log_settings
                    .as_ref()
                    .and_then(|a| a.destination_arn.as_deref())
                    .and_then(log_group_of_arn)
                    .map(str::to_owned);
                if let Some(name) = stage.stage_name {
                    found.push(StageInfo {
                        api_id: api_id.clone(),
                        stage: name,
                        kind,
                        access_log_group,
                    });
                }
            }
        }
        Ok(found)
    }

    async fn route_integration(
        &self,
        api_id: &str,
        method: &str,
        resource_path: &str,
    ) -> Result<Option<Integration>, RemediateError> {
        if self.kind(api_id).await? != ApiKind::Rest {
            // The route as logged, else the same path for any method (`ANY /orders`).
            let all = self.v2_route_integrations(api_id).await?;
            let method = method.to_ascii_uppercase();
            let exact = all
                .iter()
                .find(|i| i.method == method && i.resource_path == resource_path);
            let any = || {
                all.iter()
                    .find(|i| i.method == "ANY" && i.resource_path == resource_path)
            };
            return Ok(exact.or_else(any).cloned());
        }
        let resources = self.resources(api_id).await?;
        let Some(resource) = resources
            .iter()
            .find(|r| r.path.as_deref() == Some(resource_path))
        else {
            return Ok(None);
        };
        let resource_id = resource.id.as_deref().unwrap_or_default();
        let method = method.to_ascii_uppercase();
        if let Some(found) = self
            .integration(api_id, resource_id, &method, resource_path)
            .await?
        {
            return Ok(Some(found));
        }
        self.integration(api_id, resource_id, "ANY", resource_path)
            .await
    }

    async fn lambda_integrations(&self, api_id: &str) -> Result<Vec<Integration>, RemediateError> {
        if self.kind(api_id).await? != ApiKind::Rest {
            let mut all = self.v2_route_integrations(api_id).await?;
            all.retain(|i| i.uri.as_deref().is_some_and(is_lambda_uri));
            return Ok(all);
        }
        let mut out = Vec::new();
        for resource in self.resources(api_id).await? {
            let path = resource.path.clone().unwrap_or_default();
            let resource_id = resource.id.clone().unwrap_or_default();
            let mut methods: Vec<String> = resource
                .resource_methods
                .unwrap_or_default()
                .into_keys()
                .collect();
            methods.sort();
            for method in methods {
                if let Some(i) = self
                    .integration(api_id, &resource_id, &method, &path)
                    .await?
                    && i.uri.as_deref().is_some_and(is_lambda_uri)
                {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    async fn authorizers(&self, api_id: &str) -> Result<Vec<Authorizer>, RemediateError> {
        if self.kind(api_id).await? != ApiKind::Rest {
            // The authorizers the routes use, each read by id: one no route uses fails no request (and moto has
            // no GetAuthorizers for v2 APIs).
            let routes = self.v2_routes(api_id).await?;
            let mut ids: Vec<&str> = routes
                .iter()
                .filter_map(|r| r.authorizer_id.as_deref())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut out = Vec::new();
            for id in ids {
                let a = self
                    .v2
                    .get_authorizer()
                    .api_id(api_id)
                    .authorizer_id(id)
                    .send()
                    .await
                    .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
                let mut used_by: Vec<String> = routes
                    .iter()
                    .filter(|r| r.authorizer_id.as_deref() == Some(id))
                    .filter_map(|r| r.route_key.clone())
                    .collect();
                used_by.sort();
                out.push(Authorizer {
                    jwt: a.authorizer_type
                        == Some(aws_sdk_apigatewayv2::types::AuthorizerType::Jwt),
                    id: id.to_owned(),
                    uri: a.authorizer_uri,
                    credentials: a.authorizer_credentials_arn,
                    routes: used_by,
                });
            }
            return Ok(out);
        }
        let out = self
            .client
            .get_authorizers()
            .rest_api_id(api_id)
            .limit(500)
            .send()
            .await
            .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
        let items = out.items.unwrap_or_default();
        // Which routes use each authorizer: its failure fails each of them (only read when there is one).
        let resources = if items.is_empty() {
            Vec::new()
        } else {
            self.resources(api_id).await?
        };
        Ok(items
            .into_iter()
            .map(|a| {
                let id = a.id.unwrap_or_default();
                let mut routes: Vec<String> = resources
                    .iter()
                    .flat_map(|r| {
                        let path = r.path.as_deref().unwrap_or("/");
                        r.resource_methods
                            .iter()
                            .flatten()
                            .filter(|(_, m)| m.authorizer_id.as_deref() == Some(id.as_str()))
                            .map(move |(method, _)| format!("{method} {path}"))
                    })
                    .collect();
                routes.sort();
                Authorizer {
                    id,
                    uri: a.authorizer_uri,
                    credentials: a.authorizer_credentials,
                    routes,
                    jwt: false,
                }
            })
            .collect())
    }

    async fn stage_variables(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Result<Vec<(String, String)>, RemediateError> {
        if self.kind(api_id).await? != ApiKind::Rest {
            let out = self.v2_stage(api_id, stage).await?;
            return Ok(out
                .stage_variables
                .unwrap_or_default()
                .into_iter()
                .collect());
        }
        let out = self
            .client
            .get_stage()
            .rest_api_id(api_id)
            .stage_name(stage)
            .send()
            .await
            .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
        Ok(out.variables.unwrap_or_default().into_iter().collect())
    }
}

/// Reads and extends Lambda resource policies.
#[derive(Debug, Clone)]
pub struct LambdaPermissions {
    client: aws_sdk_lambda::Client,
}

impl LambdaPermissions {
    pub fn new(client: aws_sdk_lambda::Client) -> LambdaPermissions {
        LambdaPermissions { client }
    }
}

impl PermissionApi for LambdaPermissions {
    async fn get_policy(&self, function: &FunctionRef) -> Result<Option<String>, RemediateError> {
        match self
            .client
            .get_policy()
            .function_name(function.unqualified_arn())
            .set_qualifier(function.qualifier.clone())
            .send()
            .await
        {
            Ok(out) => Ok(out.policy),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(RemediateError::Lambda {
                operation: "GetPolicy",
                function: function.unqualified_arn(),
                reason: explain("lambda:GetPolicy", &e),
            }),
        }
    }

    async fn add_permission(&self, fix: &Fix) -> Result<Added, RemediateError> {
        match self
            .client
            .add_permission()
            .function_name(&fix.function_arn)
            .set_qualifier(fix.qualifier.clone())
            .statement_id(&fix.statement_id)
            .action(fix.action)
            .principal(fix.principal)
            .source_arn(&fix.source_arn)
            .source_account(&fix.source_account)
            .send()
            .await
        {
            Ok(_) => Ok(Added::Created),
            // Real Lambda answers a conflict both for a statement id that exists and for "an update is in
            // progress": it is "already there" only when the policy then shows our statement.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_conflict_exception()) =>
            {
                let policy = match FunctionRef::parse(&fix.function_arn) {
                    Some(function) => {
                        let function = FunctionRef {
                            qualifier: fix.qualifier.clone(),
                            ..function
                        };
                        self.get_policy(&function).await?
                    }
                    None => None,
                };
                if policy.is_some_and(|p| has_statement(&p, &fix.statement_id)) {
                    Ok(Added::AlreadyThere)
                } else {
                    Err(RemediateError::Lambda {
                        operation: "AddPermission",
                        function: fix.function_arn.clone(),
                        reason: format!(
                            "{} (the statement is not in the policy: not applied; the next delivery tries again)",
                            explain("lambda:AddPermission", &e)
                        ),
                    })
                }
            }
            Err(e) => Err(RemediateError::Lambda {
                operation: "AddPermission",
                function: fix.function_arn.clone(),
                reason: explain("lambda:AddPermission", &e),
            }),
        }
    }
}

/// Whether a policy document holds a statement with this `Sid`.
fn has_statement(policy: &str, sid: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(policy)
        .ok()
        .and_then(|doc| doc.get("Statement").cloned())
        .and_then(|s| s.as_array().cloned())
        .is_some_and(|statements| statements.iter().any(|st| st["Sid"] == sid))
}
