//! `audit`: read-only checks of a REST API's configuration, before it fails.

use std::io::Write;
use std::process::ExitCode;

use apigw_doctor::audit::{self, CheckResult, Status};
use apigw_doctor::remediate;

use crate::{AwsArgs, Format, runtime, sdk_config};

/// 0 when no check fails, 1 when one does, 2 when the API cannot be read.
pub fn audit(
    api_id: &str,
    stage: Option<String>,
    format: Format,
    account: Option<String>,
    aws: &AwsArgs,
) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let sdk = match sdk_config(aws).await {
            Ok(sdk) => sdk,
            Err(code) => return code,
        };
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let apigateway = aws_sdk_apigateway::Client::new(&sdk);
        let stages = match stage {
            Some(stage) => vec![stage],
            None => match apigateway.get_stages().rest_api_id(api_id).send().await {
                Ok(out) => out
                    .item
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|s| s.stage_name)
                    .collect(),
                Err(e) => {
                    eprintln!(
                        "apigw-doctor: API Gateway GetStages of REST API {api_id} in {region}: {}",
                        apigw_doctor::aws_error::explain("apigateway:GET", &e)
                    );
                    return ExitCode::from(2);
                }
            },
        };
        // The source ARN a fix allows is the API's: its account is the one the credentials read it in (a function
        // of another account behind a route does not change whose API it is).
        let account = match account {
            Some(account) => account,
            None => match aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await {
                Ok(identity) => identity.account.unwrap_or_default(),
                Err(e) => {
                    eprintln!(
                        "apigw-doctor: STS GetCallerIdentity (the API's account; or pass --account): {}",
                        apigw_doctor::aws_error::explain("sts:GetCallerIdentity", &e)
                    );
                    return ExitCode::from(2);
                }
            },
        };
        let api = remediate::aws::ApiGatewayConfig::new(apigateway);
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let permissions = remediate::aws::LambdaPermissions::new(lambda.clone());
        let functions = audit::aws::LambdaFunctions::new(lambda);
        let stage_settings =
            audit::aws::ApiGatewayStages::new(aws_sdk_apigateway::Client::new(&sdk));
        let logs = apigw_doctor::subscribe::aws::CloudWatchLogs::new(
            aws_sdk_cloudwatchlogs::Client::new(&sdk),
        );
        let mut out = std::io::stdout().lock();
        let mut failed = false;
        for stage in &stages {
            let target = audit::Target {
                api_id,
                stage,
                region: &region,
                account: Some(account.as_str()).filter(|a| !a.is_empty()),
            };
            let checked = async {
                let mut results = audit::audit(&target, &api, &permissions, &functions).await?;
                results
                    .extend(audit::logging::audit_logging(&target, &stage_settings, &logs).await?);
                Ok::<_, remediate::RemediateError>(results)
            };
            let results = match checked.await {
                Ok(results) => results,
                Err(error) => {
                    eprintln!("apigw-doctor: {error}");
                    return ExitCode::from(2);
                }
            };
            failed |= results.iter().any(|r| r.status == Status::Fail);
            if write_audit(&mut out, api_id, stage, &results, format).is_err() {
                break;
            }
        }
        if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

fn write_audit(
    out: &mut impl Write,
    api_id: &str,
    stage: &str,
    results: &[CheckResult],
    format: Format,
) -> std::io::Result<()> {
    if format == Format::Json {
        for result in results {
            serde_json::to_writer(&mut *out, result).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    writeln!(
        out,
        "{api_id}/{stage}: {} fail, {} warn, {} pass",
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Pass)
    )?;
    for r in results {
        let label = match r.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        let target = match (&r.method, &r.resource_path, &r.authorizer_id) {
            (Some(m), Some(p), _) => format!("{m} {p}"),
            (_, _, Some(id)) => format!("authorizer {id}"),
            _ => "stage".to_owned(),
        };
        writeln!(out, "  {label}  {:<17} {target}: {}", r.check, r.message)?;
        if let Some(fix) = &r.fix {
            for line in fix.lines() {
                writeln!(out, "        {line}")?;
            }
        }
    }
    writeln!(out)
}
