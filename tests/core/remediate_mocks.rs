//! Lambda answers the server cannot produce (real Lambda's conflict on a duplicate statement id, a failed
//! precondition, throttling), through aws-smithy-mocks on the real SDK client.

use apigw_doctor::remediate::aws::LambdaPermissions;
use apigw_doctor::remediate::plan::{Fix, FunctionRef};
use apigw_doctor::remediate::{Added, PermissionApi};
use aws_sdk_lambda::operation::add_permission::AddPermissionError;
use aws_sdk_lambda::operation::get_policy::{GetPolicyError, GetPolicyOutput};
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

/// Real Lambda: `AddPermission` answers a conflict, then `GetPolicy` answers `policy`.
fn conflicting(policy: Option<&'static str>) -> LambdaPermissions {
    let add = mock!(aws_sdk_lambda::Client::add_permission).then_error(|| {
        AddPermissionError::ResourceConflictException(
            ResourceConflictException::builder()
                .message("The statement id (apigw-doctor-x) provided already exists, or an update is in progress")
                .build(),
        )
    });
    let get = match policy {
        Some(policy) => mock!(aws_sdk_lambda::Client::get_policy)
            .then_output(move || GetPolicyOutput::builder().policy(policy).build()),
        None => mock!(aws_sdk_lambda::Client::get_policy).then_error(|| {
            GetPolicyError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
        }),
    };
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&add, &get], |c| c
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled()));
    LambdaPermissions::new(client)
}

#[tokio::test]
async fn a_conflict_counts_as_done_only_when_the_policy_then_shows_our_statement() {
    let sid = fix().statement_id;
    let policy: &'static str = Box::leak(
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow"}}]}}"#)
            .into_boxed_str(),
    );
    assert_eq!(
        conflicting(Some(policy))
            .add_permission(&fix())
            .await
            .unwrap(),
        Added::AlreadyThere
    );
}

#[tokio::test]
async fn a_conflict_without_our_statement_is_an_update_in_progress_and_not_applied() {
    let other = r#"{"Version":"2012-10-17","Statement":[{"Sid":"someone-else","Effect":"Allow"}]}"#;
    for policy in [Some(other), None] {
        let err = conflicting(policy)
            .add_permission(&fix())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not applied"), "{err}");
    }
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
