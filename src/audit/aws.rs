//! The adapters of the audit's ports: Lambda's `GetFunctionConfiguration` ([`super::FunctionInfo`]) and API
//! Gateway's `GetStage` ([`super::logging::StageLoggingApi`]), both read-only.

use crate::aws_error::explain;

use super::logging::{StageLogging, StageLoggingApi};
use super::{FunctionInfo, FunctionState};
use crate::remediate::plan::FunctionRef;
use crate::remediate::{ApiKind, RemediateError};

#[derive(Debug, Clone)]
pub struct LambdaFunctions {
    client: aws_sdk_lambda::Client,
}

impl LambdaFunctions {
    pub fn new(client: aws_sdk_lambda::Client) -> LambdaFunctions {
        LambdaFunctions { client }
    }
}

impl FunctionInfo for LambdaFunctions {
    async fn function_state(
        &self,
        function: &FunctionRef,
    ) -> Result<Option<FunctionState>, RemediateError> {
        match self
            .client
            .get_function_configuration()
            .function_name(function.unqualified_arn())
            .set_qualifier(function.qualifier.clone())
            .send()
            .await
        {
            Ok(out) => Ok(Some(FunctionState {
                // Functions created before states existed report none: they are active.
                state: out
                    .state
                    .map_or_else(|| "Active".to_owned(), |s| s.as_str().to_owned()),
                timeout_s: out.timeout.unwrap_or(3),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(RemediateError::Lambda {
                operation: "GetFunctionConfiguration",
                function: function.unqualified_arn(),
                reason: explain("lambda:GetFunctionConfiguration", &e),
            }),
        }
    }
}

/// `GetStage` (REST or v2) for the stage's logging settings.
#[derive(Debug, Clone)]
pub struct ApiGatewayStages {
    client: aws_sdk_apigateway::Client,
    v2: aws_sdk_apigatewayv2::Client,
}

impl ApiGatewayStages {
    pub fn new(sdk: &aws_config::SdkConfig) -> ApiGatewayStages {
        ApiGatewayStages {
            client: aws_sdk_apigateway::Client::new(sdk),
            v2: aws_sdk_apigatewayv2::Client::new(sdk),
        }
    }
}

impl StageLoggingApi for ApiGatewayStages {
    async fn stage_logging(
        &self,
        api_id: &str,
        stage: &str,
        kind: ApiKind,
    ) -> Result<StageLogging, RemediateError> {
        if kind != ApiKind::Rest {
            let out = self
                .v2
                .get_stage()
                .api_id(api_id)
                .stage_name(stage)
                .send()
                .await
                .map_err(|e| RemediateError::Lookup {
                    api_id: api_id.to_owned(),
                    reason: explain("apigateway:GET", &e),
                })?;
            let route = out.default_route_settings.as_ref();
            return Ok(StageLogging {
                logging_level: route
                    .and_then(|r| r.logging_level.as_ref())
                    .map(|l| l.as_str().to_owned()),
                data_trace: route.and_then(|r| r.data_trace_enabled).unwrap_or(false),
                access_log_destination: out
                    .access_log_settings
                    .as_ref()
                    .and_then(|a| a.destination_arn.clone()),
                access_log_format: out.access_log_settings.and_then(|a| a.format),
            });
        }
        let out = self
            .client
            .get_stage()
            .rest_api_id(api_id)
            .stage_name(stage)
            .send()
            .await
            .map_err(|e| RemediateError::Lookup {
                api_id: api_id.to_owned(),
                reason: explain("apigateway:GET", &e),
            })?;
        // `*/*` holds the stage-wide setting; a method's own override is not an audit of the stage.
        let all = out.method_settings.as_ref().and_then(|m| m.get("*/*"));
        Ok(StageLogging {
            logging_level: all.and_then(|m| m.logging_level.clone()),
            data_trace: all.is_some_and(|m| m.data_trace_enabled),
            access_log_destination: out
                .access_log_settings
                .as_ref()
                .and_then(|a| a.destination_arn.clone()),
            access_log_format: out.access_log_settings.and_then(|a| a.format),
        })
    }
}
