//! Shared AWS SDK configuration: one HTTP client on rustls with ring (no aws-lc, no second TLS stack), with
//! timeouts and bounded retries so that an endpoint that hangs cannot hold the function until Lambda kills it.
//! The SDK honours `AWS_ENDPOINT_URL` and the usual credential variables, which is how tests point it at moto.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;

/// Connecting to an AWS endpoint takes milliseconds; a connection not made in this time will not be.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of one call (SNS Publish, a DynamoDB write, a Lambda or API Gateway read).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// One call with its retries: well under the function's 60 s, so that the handler can still take back what it
/// must (suppression state) and answer.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);

pub async fn sdk_config() -> SdkConfig {
    sdk_config_with(None, None).await
}

/// [`sdk_config`] with the CLI's `--region` and `--profile` (the standard chain when `None`).
pub async fn sdk_config_with(region: Option<&str>, profile: Option<&str>) -> SdkConfig {
    loader(region, profile).load().await
}

/// [`sdk_config_with`], with the credentials of `role_arn` assumed (STS `AssumeRole`, refreshed before they expire)
/// from those of the standard chain: another account's APIs and logs, read as that account's role allows.
pub async fn sdk_config_assuming(
    region: Option<&str>,
    profile: Option<&str>,
    role_arn: &str,
) -> SdkConfig {
    let base = sdk_config_with(region, profile).await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("apigw-doctor")
        .configure(&base)
        .build()
        .await;
    loader(region, profile)
        .credentials_provider(provider)
        .load()
        .await
}

fn loader(region: Option<&str>, profile: Option<&str>) -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
}
