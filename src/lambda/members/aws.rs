//! Member accounts reached through STS `AssumeRole`: the role each member stack creates, credentials cached and
//! refreshed by the SDK for their lifetime, one set of clients per account for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_sts::config::{ProvideCredentials, SharedCredentialsProvider};

use super::{Member, Members, Settings, ThroughRole};
use crate::audit::ConfigurationNotRead;
use crate::audit::auditor::LiveAuditor;
use crate::remediate::aws::{ApiGatewayConfig, LambdaPermissions, live};
use crate::remediate::{Live, Settings as RemediationSettings};
use crate::subscribe::aws::CloudWatchLogs;

type MemberPorts = Member<
    CloudWatchLogs,
    LiveAuditor<ApiGatewayConfig, LambdaPermissions, ConfigurationNotRead>,
    ThroughRole<Live<ApiGatewayConfig, LambdaPermissions>>,
>;

/// Assumes `arn:{partition}:iam::{account}:role/{MEMBER_ROLE_NAME}` from the function's own credentials.
pub struct AssumedMembers {
    base: SdkConfig,
    settings: Settings,
    remediation: RemediationSettings,
    partition: &'static str,
    /// Per account: its SDK configuration and the credentials provider inside it (which refreshes them).
    sessions: Mutex<HashMap<String, (Arc<SdkConfig>, SharedCredentialsProvider)>>,
}

impl AssumedMembers {
    pub fn new(
        base: &SdkConfig,
        settings: Settings,
        remediation: RemediationSettings,
        region: &str,
    ) -> AssumedMembers {
        AssumedMembers {
            base: base.clone(),
            settings,
            remediation,
            partition: crate::remediate::plan::partition_of(region),
            sessions: Mutex::default(),
        }
    }

    /// The account's SDK configuration, its credentials asked for now (so that a removed role is known at once,
    /// not at the first call that needs it; cached credentials answer at once until they near expiry).
    async fn session(&self, account: &str) -> Result<Arc<SdkConfig>, String> {
        let role = self.settings.role_arn(self.partition, account);
        let cached = self
            .sessions
            .lock()
            .ok()
            .and_then(|s| s.get(account).cloned());
        if let Some((sdk, provider)) = cached {
            provider.provide_credentials().await.map_err(|e| {
                format!(
                    "sts:AssumeRole answered: {}",
                    aws_sdk_sts::error::DisplayErrorContext(&e)
                )
            })?;
            return Ok(sdk);
        }
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(&role)
            .session_name("apigw-doctor")
            .configure(&self.base);
        if let Some(id) = &self.settings.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        provider.provide_credentials().await.map_err(|e| {
            format!(
                "sts:AssumeRole answered: {}",
                aws_sdk_sts::error::DisplayErrorContext(&e)
            )
        })?;
        let provider = SharedCredentialsProvider::new(provider);
        let sdk = Arc::new(
            self.base
                .to_builder()
                .credentials_provider(provider.clone())
                .build(),
        );
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.insert(account.to_owned(), (sdk.clone(), provider));
        }
        Ok(sdk)
    }
}

impl Members for AssumedMembers {
    type Logs = CloudWatchLogs;
    type Auditor = LiveAuditor<ApiGatewayConfig, LambdaPermissions, ConfigurationNotRead>;
    type Remediator = ThroughRole<Live<ApiGatewayConfig, LambdaPermissions>>;

    fn is_configured(&self) -> bool {
        !self.settings.accounts.is_empty()
    }

    fn is_member(&self, account: &str) -> bool {
        self.settings.accounts.iter().any(|a| a == account)
    }

    async fn connect(&self, account: &str) -> Result<MemberPorts, String> {
        if !self.settings.accounts.iter().any(|a| a == account) {
            return Err(format!("{account} is not in MEMBER_ACCOUNTS"));
        }
        let sdk = self.session(account).await?;
        // Self-healing there acts for that account's APIs only (its alerts carry that account).
        let remediation = RemediationSettings {
            home_account: Some(account.to_owned()),
            ..self.remediation.clone()
        };
        Ok(Member {
            logs: CloudWatchLogs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk)),
            auditor: LiveAuditor {
                api: ApiGatewayConfig::new(&sdk),
                permissions: LambdaPermissions::new(aws_sdk_lambda::Client::new(&sdk)),
                // As at home: never GetFunctionConfiguration (it returns environment variables, secrets included).
                functions: ConfigurationNotRead,
            },
            remediator: ThroughRole {
                inner: live(remediation, &sdk),
                role: self.settings.role_arn(self.partition, account),
            },
        })
    }
}
