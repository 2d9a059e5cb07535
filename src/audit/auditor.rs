//! The sweep's port to the audit: [`Auditor`] runs `apigw-doctor audit`'s checks on one API stage and lists the
//! account's HTTP and WebSocket stages; [`LiveAuditor`] over the API Gateway and Lambda ports, [`NoAudit`] none.

use std::future::Future;

use super::{CheckResult, FunctionInfo, Target};
use crate::remediate::{ApiConfig, PermissionApi, RemediateError, StageInfo};

/// Runs the checks of `apigw-doctor audit` on one API stage.
pub trait Auditor {
    /// Whether there is anything to audit with (the Lambda has the API Gateway and Lambda clients).
    fn is_configured(&self) -> bool;
    fn audit(
        &self,
        target: &Target<'_>,
    ) -> impl Future<Output = Result<Vec<CheckResult>, RemediateError>> + Send;
    /// The stages of the account's HTTP and WebSocket APIs (their access-log groups are found through them).
    fn v2_stages(&self) -> impl Future<Output = Result<Vec<StageInfo>, RemediateError>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// No auditing (the CLI, tests of other paths, `LATENT_AUDIT_HOURS=0`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl Auditor for NoAudit {
    fn is_configured(&self) -> bool {
        false
    }

    async fn audit(&self, _target: &Target<'_>) -> Result<Vec<CheckResult>, RemediateError> {
        Ok(Vec::new())
    }
}

/// The audit over the account's own API Gateway and Lambda (read-only).
pub struct LiveAuditor<A, P, F> {
    pub api: A,
    pub permissions: P,
    pub functions: F,
}

impl<A: ApiConfig + Sync, P: PermissionApi + Sync, F: FunctionInfo + Sync> Auditor
    for LiveAuditor<A, P, F>
{
    fn is_configured(&self) -> bool {
        true
    }

    async fn audit(&self, target: &Target<'_>) -> Result<Vec<CheckResult>, RemediateError> {
        // An execution log group's name does not say whether its API is REST or WebSocket: the API does.
        let kind = self
            .api
            .api_kind(target.api_id)
            .await?
            .unwrap_or(target.kind);
        let target = Target {
            kind,
            ..target.clone()
        };
        super::audit(&target, &self.api, &self.permissions, &self.functions).await
    }

    async fn v2_stages(&self) -> Result<Vec<StageInfo>, RemediateError> {
        self.api.v2_stages().await
    }
}
