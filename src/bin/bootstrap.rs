//! The Lambda function: wiring only. Config is validated at cold start (init fails naming the variable), the SNS
//! client is built once, and each event goes through `handler::handle`.

use apigw_doctor::audit::ConfigurationNotRead;
use apigw_doctor::lambda::Handler;
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::custom_resource::HttpResponder;
use apigw_doctor::lambda::latent::LiveAuditor;
use apigw_doctor::lambda::members::Organisation;
use apigw_doctor::lambda::members::aws::AssumedMembers;
use apigw_doctor::lambda::metrics::{Metrics, emf_lines};
use apigw_doctor::publish::sns::SnsPublisher;
use apigw_doctor::remediate;
use apigw_doctor::subscribe::aws::CloudWatchLogs;
use apigw_doctor::suppress::dynamo::Configured;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Nobody runs `-v` on a deployed function: its log keeps the SDK's whole error chain.
    apigw_doctor::aws_error::show_full_chain(true);
    let config =
        Config::from_env().and_then(|c| c.require_topic().map(str::to_owned).map(|t| (c, t)));
    let (config, topic_arn) = match config {
        Ok(found) => found,
        Err(error) => {
            // Fail init, naming the variable: Lambda shows this line and reports Runtime.ExitError.
            tracing::error!(%error, "Configuration is invalid");
            return Err(error.to_string().into());
        }
    };
    if let Some(name) = &config.dashboard_name {
        apigw_doctor::publish::render::set_dashboard(name);
    }
    let sdk = apigw_doctor::lambda::aws::sdk_config().await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic_arn);
    // The organisation's member accounts (MEMBER_ACCOUNTS), each through its role; none: this account only.
    let members = AssumedMembers::new(
        &sdk,
        config.members.clone(),
        config.remediation.clone(),
        &config.region,
    );
    // An alert is healed in the account it names: this one, or a member account through its role.
    let remediator = Organisation {
        home: remediate::aws::live(config.remediation.clone(), &sdk),
        members: &members,
    };
    let suppressor = Configured::new(
        config.suppression_table.as_deref(),
        config.suppression,
        &sdk,
    );
    if config.allows_every_function() {
        tracing::warn!(
            "REMEDIATION_ALLOWED_FUNCTIONS contains *: auto mode may add permissions to every function of the account"
        );
    }
    let logs = CloudWatchLogs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk));
    // Used only by the sweep, and only when LATENT_AUDIT_HOURS is set (the template grants its reads then).
    let auditor = LiveAuditor {
        api: remediate::aws::ApiGatewayConfig::new(&sdk),
        permissions: remediate::aws::LambdaPermissions::new(aws_sdk_lambda::Client::new(&sdk)),
        // Never GetFunctionConfiguration: its answer holds every function's environment variables.
        functions: ConfigurationNotRead,
    };
    let handler = Handler::new(&config, &publisher, &remediator, &suppressor)
        .with_account(&logs, &HttpResponder)
        .with_auditor(&auditor)
        .with_members(&members);
    let (config, handler) = (&config, &handler);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let mut metrics = Metrics::default();
            let function_arn = Some(event.context.invoked_function_arn.as_str())
                .filter(|arn| arn.starts_with("arn:"));
            // This invocation's deadline: ms since the epoch from the Runtime API. One in the past is not real
            // Lambda's (cargo-lambda's emulator sends a duration): then only the SDK timeouts bound a hang.
            let left_ms = u64::try_from(event.context.deadline as i64 - now_ms()).ok();
            let handler = Handler {
                deadline: left_ms
                    .map(|ms| std::time::Instant::now() + std::time::Duration::from_millis(ms)),
                ..*handler
            };
            // Boxed: keeps the future's type shallow enough for the compiler's layout query.
            let result = Box::pin(handler.invoke(
                event.payload.get().as_bytes(),
                function_arn,
                &mut metrics,
            ))
            .await;
            for line in emf_lines(&metrics, &config.metrics_namespace, now_ms()) {
                println!("{line}");
            }
            result
        },
    ))
    .await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
