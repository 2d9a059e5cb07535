//! The Lambda adapter of [`super::FunctionInfo`]: `GetFunctionConfiguration`, read-only.

use aws_sdk_lambda::error::DisplayErrorContext;

use super::{FunctionInfo, FunctionState};
use crate::remediate::RemediateError;
use crate::remediate::plan::FunctionRef;

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
                reason: DisplayErrorContext(&e).to_string(),
            }),
        }
    }
}
