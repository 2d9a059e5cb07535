//! Shared AWS SDK configuration: one HTTP client on rustls with ring (no aws-lc, no second TLS stack).
//! The SDK honours `AWS_ENDPOINT_URL` and the usual credential variables, which is how tests point it at moto.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;

pub async fn sdk_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
