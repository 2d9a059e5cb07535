//! Lambda answers the server cannot produce (real Lambda's conflict on a duplicate statement id, a failed
//! precondition, throttling), through aws-smithy-mocks on the real SDK client.

use apigw_doctor::remediate::aws::LambdaPermissions;
use apigw_doctor::remediate::plan::{Fix, FunctionRef};
use apigw_doctor::remediate::{Added, PermissionApi};
use aws_sdk_lambda::operation::add_permission::AddPermissionError;
use aws_sdk_lambda::operation::get_policy::GetPolicyError;
use aws_sdk_lambda::types::error::{
    PreconditionFailedException, ResourceConflictException, ResourceNotFoundException,
    TooManyRequestsException,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

fn fix() -> Fix {
    let function =
        FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:orders").unwrap();
    Fix::new(
        &function,
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders".to_owned(),
        "123456789012",
    )
}

fn permissions(error: fn() -> AddPermissionError) -> LambdaPermissions {
    let rule = mock!(aws_sdk_lambda::Client::add_permission).then_error(error);
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule], |c| c
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled()));
    LambdaPermissions::new(client)
}

#[tokio::test]
async fn a_conflict_from_real_lambda_counts_as_done() {
    let p = permissions(|| {
        AddPermissionError::ResourceConflictException(ResourceConflictException::builder().build())
    });
    assert_eq!(p.add_permission(&fix()).await.unwrap(), Added::AlreadyThere);
}

#[tokio::test]
async fn a_failed_precondition_is_an_error_naming_the_function() {
    let p = permissions(|| {
        AddPermissionError::PreconditionFailedException(
            PreconditionFailedException::builder().build(),
        )
    });
    let err = p.add_permission(&fix()).await.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "lambda AddPermission failed for arn:aws:lambda:us-east-1:123456789012:function:orders"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_is_an_error_not_a_success() {
    let p = permissions(|| {
        AddPermissionError::TooManyRequestsException(TooManyRequestsException::builder().build())
    });
    let err = p.add_permission(&fix()).await.unwrap_err().to_string();
    assert!(err.contains("AddPermission"), "{err}");
}

#[tokio::test]
async fn a_function_without_a_policy_has_none() {
    let rule = mock!(aws_sdk_lambda::Client::get_policy).then_error(|| {
        GetPolicyError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
    });
    let client = mock_client!(aws_sdk_lambda, [&rule]);
    let function =
        FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:orders").unwrap();
    assert_eq!(
        LambdaPermissions::new(client)
            .get_policy(&function)
            .await
            .unwrap(),
        None
    );
}
