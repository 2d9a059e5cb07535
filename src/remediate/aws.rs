//! The SDK adapters of the remediation ports: API Gateway (read-only) and Lambda (GetPolicy, AddPermission).

use crate::aws_error::explain;

use super::plan::{Fix, FunctionRef};
use super::{
    Added, ApiConfig, Authorizer, Integration, Live, PermissionApi, RemediateError, Settings,
};

/// The remediator the Lambda and `apigw-doctor handle` use. Building clients makes no call; in mode `off` the
/// remediator returns before using them.
pub fn live(
    settings: Settings,
    sdk: &aws_config::SdkConfig,
) -> Live<ApiGatewayConfig, LambdaPermissions> {
    Live {
        settings,
        api: ApiGatewayConfig::new(aws_sdk_apigateway::Client::new(sdk)),
        permissions: LambdaPermissions::new(aws_sdk_lambda::Client::new(sdk)),
    }
}

/// Reads REST API configuration with `apigateway:GET` only.
#[derive(Debug, Clone)]
pub struct ApiGatewayConfig {
    client: aws_sdk_apigateway::Client,
}

impl ApiGatewayConfig {
    pub fn new(client: aws_sdk_apigateway::Client) -> ApiGatewayConfig {
        ApiGatewayConfig { client }
    }

    /// Every resource of the API (paginated), with its methods.
    async fn resources(
        &self,
        api_id: &str,
    ) -> Result<Vec<aws_sdk_apigateway::types::Resource>, RemediateError> {
        let mut all = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let page = self
                .client
                .get_resources()
                .rest_api_id(api_id)
                .limit(500)
                .embed("methods")
                .set_position(position.clone())
                .send()
                .await
                .map_err(|e| lookup(api_id, explain("apigateway:GET", &e)))?;
            all.extend(page.items.unwrap_or_default());
            match page.position {
                Some(next) if Some(&next) != position.as_ref() => position = Some(next),
                _ => return Ok(all),
            }
        }
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

fn lookup(api_id: &str, reason: impl std::fmt::Display) -> RemediateError {
    RemediateError::Lookup {
        api_id: api_id.to_owned(),
        reason: reason.to_string(),
    }
}

impl ApiConfig for ApiGatewayConfig {
    async fn route_integration(
        &self,
        api_id: &str,
        method: &str,
        resource_path: &str,
    ) -> Result<Option<Integration>, RemediateError> {
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
                    && i.uri
                        .as_deref()
                        .is_some_and(|u| u.contains(":lambda:path/"))
                {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    async fn authorizers(&self, api_id: &str) -> Result<Vec<Authorizer>, RemediateError> {
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
                }
            })
            .collect())
    }

    async fn stage_variables(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Result<Vec<(String, String)>, RemediateError> {
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
