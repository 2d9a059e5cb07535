//! `audit`: read-only checks of an API's configuration (REST, HTTP or WebSocket), before it fails.

use std::io::Write;
use std::process::ExitCode;

use apigw_doctor::audit::{self, CheckResult, Status};
use apigw_doctor::remediate::{self, ApiConfig, ApiKind};

use crate::{AwsArgs, Format, runtime, sdk_config};

/// What to audit: one API (`--api-id`), or every API of the account and region (`--all-apis`).
pub enum Apis {
    One {
        api_id: String,
        kind: Option<ApiKind>,
    },
    All,
}

/// 0 when no check fails, 1 when one does, 2 when an API cannot be read (with `--all-apis`, the others are still
/// audited).
pub fn audit(
    apis: Apis,
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
        let api = remediate::aws::ApiGatewayConfig::new(&sdk);
        let reason = |error: remediate::RemediateError| match error {
            remediate::RemediateError::Lookup { reason, .. } => reason,
            other => other.to_string(),
        };
        let targets: Vec<(String, ApiKind)> = match apis {
            Apis::One {
                api_id,
                kind: Some(kind),
            } => vec![(api_id, kind)],
            Apis::One { api_id, kind: None } => match api.api_kind(&api_id).await {
                Ok(Some(kind)) => vec![(api_id, kind)],
                Ok(None) => {
                    eprintln!(
                        "apigw-doctor: no REST, HTTP or WebSocket API {api_id} in {region}: check the id and --region"
                    );
                    return ExitCode::from(2);
                }
                Err(error) => {
                    eprintln!(
                        "apigw-doctor: API Gateway GetRestApi/GetApi (which kind of API) of API {api_id} in {region}: {}",
                        reason(error)
                    );
                    return ExitCode::from(2);
                }
            },
            Apis::All => match api.all_apis().await {
                Ok(all) => all,
                Err(error) => {
                    eprintln!(
                        "apigw-doctor: API Gateway GetRestApis/GetApis (every API) in {region}: {}",
                        reason(error)
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
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let permissions = remediate::aws::LambdaPermissions::new(lambda.clone());
        let functions = audit::aws::LambdaFunctions::new(lambda);
        let stage_settings = audit::aws::ApiGatewayStages::new(&sdk);
        let logs = apigw_doctor::subscribe::aws::CloudWatchLogs::new(
            aws_sdk_cloudwatchlogs::Client::new(&sdk),
        );
        let mut out = std::io::stdout().lock();
        let (mut failed, mut unreadable) = (false, false);
        for (api_id, kind) in &targets {
            let (api_id, kind) = (api_id.as_str(), *kind);
            let stages = match &stage {
                Some(stage) => vec![stage.clone()],
                None => match stage_names(&sdk, api_id, kind).await {
                    Ok(stages) => stages,
                    Err(reason) => {
                        eprintln!(
                            "apigw-doctor: API Gateway GetStages of {} API {api_id} in {region}: {reason}",
                            kind_label(kind)
                        );
                        unreadable = true;
                        continue;
                    }
                },
            };
            for stage in &stages {
                let target = audit::Target {
                    api_id,
                    kind,
                    stage,
                    region: &region,
                    account: Some(account.as_str()).filter(|a| !a.is_empty()),
                };
                let checked = async {
                    let mut results =
                        audit::audit(&target, &api, &permissions, &functions).await?;
                    results.extend(
                        audit::logging::audit_logging(&target, &stage_settings, &logs).await?,
                    );
                    Ok::<_, remediate::RemediateError>(results)
                };
                let results = match checked.await {
                    Ok(results) => results,
                    Err(error) => {
                        eprintln!("apigw-doctor: {error}");
                        unreadable = true;
                        continue;
                    }
                };
                failed |= results.iter().any(|r| r.status == Status::Fail);
                if write_audit(&mut out, api_id, kind, stage, &results, format).is_err() {
                    break;
                }
            }
        }
        if unreadable {
            ExitCode::from(2)
        } else if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// `REST`, `HTTP`, `WebSocket`: as people write them.
fn kind_label(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Rest => "REST",
        ApiKind::Http => "HTTP",
        ApiKind::WebSocket => "WebSocket",
    }
}

/// Every stage of the API.
async fn stage_names(
    sdk: &aws_config::SdkConfig,
    api_id: &str,
    kind: ApiKind,
) -> Result<Vec<String>, String> {
    if kind == ApiKind::Rest {
        let out = aws_sdk_apigateway::Client::new(sdk)
            .get_stages()
            .rest_api_id(api_id)
            .send()
            .await
            .map_err(|e| apigw_doctor::aws_error::explain("apigateway:GET", &e))?;
        return Ok(out
            .item
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.stage_name)
            .collect());
    }
    let out = aws_sdk_apigatewayv2::Client::new(sdk)
        .get_stages()
        .api_id(api_id)
        .max_results("500")
        .send()
        .await
        .map_err(|e| apigw_doctor::aws_error::explain("apigateway:GET", &e))?;
    Ok(out
        .items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.stage_name)
        .collect())
}

fn write_audit(
    out: &mut impl Write,
    api_id: &str,
    kind: ApiKind,
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
        "{api_id}/{stage} ({} API): {} fail, {} warn, {} pass",
        kind_label(kind),
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
            (None, Some(key), None) => key.clone(),
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
