//! The `apigw-doctor` command line: the same engine as the Lambda, on files, saved events and pasted logs.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::atomic::{AtomicBool, Ordering};

use apigw_doctor::diagnose::finding::{Finding, Origin, find};
use apigw_doctor::fetch::{self, Window, aws::CloudWatchLogs};
use apigw_doctor::input::{ReadOptions, diagnose_input, nothing_recognised_hint};
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{Handler, Response};
use apigw_doctor::publish::render::Message;
use apigw_doctor::publish::sns::{PublishError, Publisher, SnsPublisher};
use apigw_doctor::remediate::{self, Remediator};
use apigw_doctor::suppress::dynamo::Configured;
use apigw_doctor::suppress::{NoSuppression, Suppressor};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "apigw-doctor",
    version,
    about = "Tells why an API Gateway API answered 5xx, from its logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose logs: subscription deliveries, decoded DATA_MESSAGE JSON, or pasted log lines
    Diagnose {
        /// Print every request, not only those with a 5xx status or a failure cause
        #[arg(long)]
        all: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Log group of pasted text, e.g. API-Gateway-Execution-Logs_a1b2c3d4e5/prod (gives the API id and stage);
        /// with --since or --start, the log group to read from CloudWatch Logs
        #[arg(long)]
        log_group: Option<String>,
        #[command(flatten)]
        live: Box<LiveArgs>,
        /// Files to read; `-` or none reads standard input
        inputs: Vec<PathBuf>,
    },
    /// Read-only checks of a REST API's configuration: invoke permissions, functions, timeouts (exit 1 on a fail)
    Audit {
        /// The REST API to check
        #[arg(long)]
        api_id: String,
        /// The stage (default: every stage of the API)
        #[arg(long)]
        stage: Option<String>,
        /// Output format: text, or one JSON object per check and target
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The API's account (default: each integration's function's account)
        #[arg(long)]
        account: Option<String>,
        /// AWS region (default: the standard chain)
        #[arg(long)]
        region: Option<String>,
        /// AWS profile (default: the standard chain)
        #[arg(long)]
        profile: Option<String>,
    },
    /// Do exactly what the Lambda does with subscription events: publish the alerts to ALERT_TOPIC_ARN, or print
    /// them when it is unset
    Handle {
        /// How printed messages look (when ALERT_TOPIC_ARN is unset)
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Subscription events (`{"awslogs":{"data":...}}`); `-` reads standard input
        #[arg(required = true)]
        events: Vec<PathBuf>,
    },
}

/// Reading a live account's CloudWatch Logs instead of files.
#[derive(clap::Args)]
struct LiveArgs {
    /// Read the last DURATION of the log group from CloudWatch Logs (e.g. 15m, 1h, 2d)
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// Read from this time (RFC 3339, e.g. 2026-11-30T10:00:00Z)
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// Read until this time (RFC 3339; default now)
    #[arg(long, value_name = "TIME")]
    end: Option<String>,
    /// The REST API whose stage logs to read (with --stage): its execution log group and its access-log group
    #[arg(long, requires = "stage")]
    api_id: Option<String>,
    /// The stage of --api-id
    #[arg(long, requires = "api_id")]
    stage: Option<String>,
    /// AWS region (default: the standard chain)
    #[arg(long)]
    region: Option<String>,
    /// AWS profile (default: the standard chain)
    #[arg(long)]
    profile: Option<String>,
    /// Stop after this many log lines
    #[arg(long, default_value_t = 1_000_000)]
    max_lines: u64,
}

impl LiveArgs {
    fn wanted(&self) -> bool {
        self.since.is_some() || self.start.is_some() || self.api_id.is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Diagnose {
            all,
            format,
            log_group,
            live,
            inputs,
        } if live.wanted() => {
            if !inputs.is_empty() {
                eprintln!("apigw-doctor: give files or a live read (--since/--start), not both");
                return ExitCode::from(2);
            }
            diagnose_live(all, format, log_group, &live)
        }
        Command::Diagnose {
            all,
            format,
            log_group,
            live: _,
            inputs,
        } => diagnose(all, format, log_group, inputs),
        Command::Handle { format, events } => handle(format, events),
        Command::Audit {
            api_id,
            stage,
            format,
            account,
            region,
            profile,
        } => audit(&api_id, stage, format, account, region, profile),
    }
}

/// Prints each message instead of publishing it.
struct StdoutPublisher {
    format: Format,
}

impl Publisher for StdoutPublisher {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        let mut out = std::io::stdout().lock();
        let written = match self.format {
            Format::Json => {
                let attributes: serde_json::Map<String, serde_json::Value> = message
                    .attributes
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                    .collect();
                let line = serde_json::json!({
                    "subject": message.subject,
                    "attributes": attributes,
                    "bodies": message.bodies,
                });
                writeln!(out, "{line}")
            }
            Format::Text => {
                let attributes: Vec<String> = message
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                writeln!(
                    out,
                    "Subject: {}\nAttributes: {}\n\n{}\n{}",
                    message.subject,
                    attributes.join(" "),
                    message.bodies.email(),
                    "-".repeat(72)
                )
            }
        };
        written
            .map(|()| "printed".to_owned())
            .map_err(|e| PublishError::Sns {
                topic_arn: "stdout".to_owned(),
                reason: e.to_string(),
            })
    }
}

fn handle(format: Format, events: Vec<PathBuf>) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("apigw-doctor: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        match config.alert_topic_arn.clone() {
            Some(topic) => {
                let sdk = apigw_doctor::lambda::aws::sdk_config().await;
                let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), topic);
                let remediator = remediate::aws::live(config.remediation.clone(), &sdk);
                let suppressor = Configured::new(
                    config.suppression_table.as_deref(),
                    config.suppression,
                    &sdk,
                );
                let handler = Handler::new(&config, &publisher, &remediator, &suppressor);
                handle_all(&handler, &events).await
            }
            // No AWS: print the messages, and the remediation plan as far as it can be made offline.
            None => {
                let remediator = remediate::Offline {
                    settings: config.remediation.clone(),
                };
                let publisher = StdoutPublisher { format };
                let handler = Handler::new(&config, &publisher, &remediator, &NoSuppression);
                handle_all(&handler, &events).await
            }
        }
    })
}

async fn handle_all<P: Publisher, R: Remediator, S: Suppressor>(
    handler: &Handler<'_, P, R, S>,
    events: &[PathBuf],
) -> ExitCode {
    let mut failed = false;
    for path in events {
        let name = path.display();
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                failed = true;
                continue;
            }
        };
        let mut metrics = Metrics::default();
        match handler.payload(&bytes, &mut metrics).await {
            Ok(Response::Sweep(outcome)) => eprintln!(
                "apigw-doctor: {name}: sweep: {} resolved, {} digest{} sent",
                outcome.resolved_sent,
                outcome.digests_sent,
                plural(outcome.digests_sent)
            ),
            Ok(Response::Approval(outcome)) => eprintln!(
                "apigw-doctor: {name}: approval {}: {}: {}",
                outcome.approval, outcome.result.outcome, outcome.result.message
            ),
            Ok(Response::CustomResource(outcome)) => eprintln!(
                "apigw-doctor: {name}: custom resource {}: {}",
                outcome.request_type, outcome.status
            ),
            Ok(Response::Logs(outcome)) => eprintln!(
                "apigw-doctor: {name}: {} request{}, {} alert{} sent",
                outcome.requests,
                plural(outcome.requests),
                outcome.alerts_sent,
                plural(outcome.alerts_sent)
            ),
            Ok(Response::Kinesis(response)) => {
                let records = metrics.deliveries;
                eprintln!(
                    "apigw-doctor: {name}: {records} record{}, {} request{}, {} alert{} sent, {} batch item failure{}",
                    plural(records),
                    metrics.requests,
                    plural(metrics.requests),
                    metrics.alerts_sent,
                    plural(metrics.alerts_sent),
                    response.batch_item_failures.len(),
                    plural(response.batch_item_failures.len() as u64),
                );
                for item in &response.batch_item_failures {
                    eprintln!(
                        "apigw-doctor: {name}: batch item failure: {}",
                        item.item_identifier.as_deref().unwrap_or("?")
                    );
                    failed = true;
                }
            }
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn diagnose(
    all: bool,
    format: Format,
    log_group: Option<String>,
    inputs: Vec<PathBuf>,
) -> ExitCode {
    let inputs = if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs
    };
    // Only the inflate cap and ACCESS_LOG_APIS matter here; nothing is published.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("apigw-doctor: {error}");
            return ExitCode::from(2);
        }
    };
    let options = ReadOptions {
        all: true,
        log_group,
        config,
    };
    let colour = format == Format::Text && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    let mut unrecognised = false;
    for path in &inputs {
        let name = path.display().to_string();
        let found = match read(path).map_err(|e| e.to_string()).and_then(|bytes| {
            diagnose_input(&bytes, &options)
                .map(|found| (found, nothing_recognised_hint(&bytes)))
                .map_err(|e| e.to_string())
        }) {
            Ok((found, hint)) => {
                if found.recognised_nothing() {
                    // Never a silent "0 problems": that reads as healthy.
                    eprintln!("apigw-doctor: {name}: no API Gateway log line found: {hint}");
                    unrecognised = true;
                }
                found
            }
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                failed = true;
                continue;
            }
        };
        match print_found(&mut out, &name, found, all, format, colour) {
            Ok(records_failed) => failed |= records_failed,
            // stdout closed (e.g. piped into `head`): nothing more to say.
            Err(_) => break,
        }
    }
    diagnose_exit_code(failed, unrecognised)
}

/// Prints what one input gave (text or JSON lines), and its warnings on stderr; `Ok(true)` when some of its records
/// could not be read.
fn print_found(
    out: &mut impl Write,
    name: &str,
    found: apigw_doctor::diagnose::Findings,
    all: bool,
    format: Format,
    colour: bool,
) -> std::io::Result<bool> {
    if found.unread_access_log_lines > 0 {
        eprintln!(
            "apigw-doctor: {name}: {} access-log line{} in a CLF-like layout skipped: \
             use a JSON access-log format (README, \"Access logs\")",
            found.unread_access_log_lines,
            plural(found.unread_access_log_lines)
        );
    }
    for failure in &found.failed_records {
        eprintln!("apigw-doctor: {name}: {failure}");
    }
    let incomplete = found
        .by_cause
        .get(&apigw_doctor::diagnose::Cause::Incomplete)
        .copied()
        .unwrap_or(0);
    if incomplete > 0 && !all {
        // Not a problem and not an all-clear: say so, so that "0 problems" is never read as healthy for them.
        eprintln!(
            "apigw-doctor: {name}: {incomplete} request{} with no final status in this input (it starts after or ends \
             before it): not counted as problems; --all lists them",
            plural(incomplete)
        );
    }
    let findings = found.findings;
    let total = findings.len();
    let shown: Vec<&Finding> = findings.iter().filter(|f| all || f.is_problem()).collect();
    match format {
        Format::Json => shown.iter().try_for_each(|f| {
            serde_json::to_writer(&mut *out, f).map_err(std::io::Error::other)?;
            writeln!(out)
        })?,
        Format::Text => write_text(out, name, total, &shown, colour)?,
    }
    Ok(!found.failed_records.is_empty())
}

/// `diagnose` on a live account: the failing requests of a log group (or of an API's stage) in a time window,
/// read from CloudWatch Logs with the standard credential chain; the same engine and output as for files.
fn diagnose_live(
    all: bool,
    format: Format,
    log_group: Option<String>,
    live: &LiveArgs,
) -> ExitCode {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(i64::MAX);
    let window = match Window::parse(
        live.since.as_deref(),
        live.start.as_deref(),
        live.end.as_deref(),
        now_ms,
    ) {
        Ok(window) => window,
        Err(error) => {
            eprintln!("apigw-doctor: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let sdk = apigw_doctor::lambda::aws::sdk_config_with(
            live.region.as_deref(),
            live.profile.as_deref(),
        )
        .await;
        let groups = match (&live.api_id, &live.stage, log_group) {
            (Some(api), Some(stage), _) => match stage_log_groups(&sdk, api, stage).await {
                Ok(groups) => groups,
                Err(error) => {
                    eprintln!("apigw-doctor: {error}");
                    return ExitCode::from(2);
                }
            },
            (_, _, Some(group)) => vec![group],
            _ => {
                eprintln!(
                    "apigw-doctor: a live read needs --log-group NAME, or --api-id ID --stage NAME"
                );
                return ExitCode::from(2);
            }
        };
        // Ctrl-C ends the read; what was read is still diagnosed.
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::Relaxed);
            }
        });
        let reader = CloudWatchLogs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk));
        let progress = std::io::stderr().is_terminal();
        let colour = format == Format::Text && std::io::stdout().is_terminal();
        let mut out = std::io::stdout().lock();
        let (mut failed, mut unrecognised) = (false, false);
        for group in &groups {
            let mut show = |n: u64| {
                if progress {
                    eprint!("\rapigw-doctor: {group}: {n} lines read");
                }
            };
            let fetched =
                match fetch::read(&reader, group, window, live.max_lines, &mut show, &stop).await {
                    Ok(fetched) => fetched,
                    Err(error) => {
                        eprintln!("\napigw-doctor: {error}");
                        failed = true;
                        continue;
                    }
                };
            if progress {
                eprintln!();
            }
            eprintln!(
                "apigw-doctor: {group}: {} line{} read, {} request{} fetched{}",
                fetched.lines_read,
                plural(fetched.lines_read),
                fetched.requests,
                plural(fetched.requests as u64),
                if fetched.cut_short {
                    " (stopped early: what was read is diagnosed)"
                } else {
                    ""
                }
            );
            let origin = Origin {
                log_group: Some(group.clone()),
                ..Origin::default()
            };
            let found = find(
                &origin,
                fetched.events.iter().map(|(ts, m)| (Some(*ts), m.as_str())),
                true,
            );
            if fetched.events.is_empty() && fetched.lines_read == 0 {
                // Nothing failed in the window, or nothing was logged: say which, never a bare "0 problems".
                eprintln!("apigw-doctor: {group}: no failing request in the window");
            } else if found.recognised_nothing() {
                eprintln!("apigw-doctor: {group}: no API Gateway log line in what was read");
                unrecognised = true;
            }
            if print_found(&mut out, group, found, all, format, colour).is_err() {
                break;
            }
        }
        diagnose_exit_code(failed, unrecognised)
    })
}

/// `audit`: 0 when no check fails, 1 when one does, 2 when the API cannot be read.
fn audit(
    api_id: &str,
    stage: Option<String>,
    format: Format,
    account: Option<String>,
    region: Option<String>,
    profile: Option<String>,
) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let sdk =
            apigw_doctor::lambda::aws::sdk_config_with(region.as_deref(), profile.as_deref()).await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            eprintln!("apigw-doctor: no AWS region: pass --region or set AWS_REGION");
            return ExitCode::from(2);
        };
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
                        "apigw-doctor: API {api_id}: {}",
                        aws_sdk_apigateway::error::DisplayErrorContext(&e)
                    );
                    return ExitCode::from(2);
                }
            },
        };
        let api = remediate::aws::ApiGatewayConfig::new(apigateway);
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let permissions = remediate::aws::LambdaPermissions::new(lambda.clone());
        let functions = apigw_doctor::audit::aws::LambdaFunctions::new(lambda);
        let stage_settings =
            apigw_doctor::audit::aws::ApiGatewayStages::new(aws_sdk_apigateway::Client::new(&sdk));
        let logs = apigw_doctor::subscribe::aws::CloudWatchLogs::new(
            aws_sdk_cloudwatchlogs::Client::new(&sdk),
        );
        let mut out = std::io::stdout().lock();
        let mut failed = false;
        for stage in &stages {
            let target = apigw_doctor::audit::Target {
                api_id,
                stage,
                region: &region,
                account: account.as_deref(),
            };
            let checked = async {
                let mut results =
                    apigw_doctor::audit::audit(&target, &api, &permissions, &functions).await?;
                results.extend(
                    apigw_doctor::audit::logging::audit_logging(&target, &stage_settings, &logs)
                        .await?,
                );
                Ok::<_, apigw_doctor::remediate::RemediateError>(results)
            };
            let results = match checked.await {
                Ok(results) => results,
                Err(error) => {
                    eprintln!("apigw-doctor: {error}");
                    return ExitCode::from(2);
                }
            };
            failed |= results
                .iter()
                .any(|r| r.status == apigw_doctor::audit::Status::Fail);
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
    results: &[apigw_doctor::audit::CheckResult],
    format: Format,
) -> std::io::Result<()> {
    use apigw_doctor::audit::Status;
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

/// The log groups of a REST API's stage: its execution log group, and its access-log group when the stage has one.
async fn stage_log_groups(
    sdk: &aws_config::SdkConfig,
    api_id: &str,
    stage: &str,
) -> Result<Vec<String>, String> {
    let client = aws_sdk_apigateway::Client::new(sdk);
    let found = client
        .get_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .map_err(|e| {
            format!(
                "API {api_id} stage {stage}: {}",
                aws_sdk_apigateway::error::DisplayErrorContext(&e)
            )
        })?;
    let mut groups = vec![format!("API-Gateway-Execution-Logs_{api_id}/{stage}")];
    // `arn:aws:logs:<region>:<account>:log-group:<name>`
    if let Some(name) = found
        .access_log_settings
        .and_then(|s| s.destination_arn)
        .and_then(|arn| {
            arn.split_once(":log-group:")
                .map(|(_, name)| name.trim_end_matches(":*").to_owned())
        })
    {
        groups.push(name);
    }
    Ok(groups)
}

/// 2: an input could not be read or decoded; 3: an input held no API Gateway log line; 0: every input was read.
fn diagnose_exit_code(failed: bool, unrecognised: bool) -> ExitCode {
    if failed {
        ExitCode::from(2)
    } else if unrecognised {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// The async runtime the AWS calls run on; exit 2 when it cannot start.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("apigw-doctor: cannot start the async runtime: {error}");
            ExitCode::from(2)
        })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn read(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

fn write_text(
    out: &mut impl Write,
    name: &str,
    total: usize,
    shown: &[&Finding],
    colour: bool,
) -> std::io::Result<()> {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let problems = shown.iter().filter(|f| f.is_problem()).count();
    writeln!(
        out,
        "{}: {problems} problem{} in {total} request{}",
        paint("1", name),
        if problems == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" }
    )?;
    for f in shown {
        let status = match (f.status, f.status_inferred) {
            (Some(s), false) => s.to_string(),
            (Some(s), true) => format!("{s}?"),
            (None, _) => "---".to_owned(),
        };
        let route = match (&f.method, &f.resource_path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            _ => "(route not logged)".to_owned(),
        };
        let api = match (&f.api_id, &f.stage) {
            (Some(a), Some(s)) => format!("{a}/{s}"),
            _ => "(api unknown)".to_owned(),
        };
        let code = if f.is_problem() { "31;1" } else { "32" };
        writeln!(
            out,
            "\n{}  {}  {route}  {api}  request {}",
            paint(code, &status),
            paint(code, f.cause.as_str()),
            f.request_id.as_deref().unwrap_or("(none)")
        )?;
        if !f.is_problem() {
            continue;
        }
        writeln!(out, "  {}", f.summary)?;
        if let Some(detail) = &f.detail {
            writeln!(out, "  {} {detail}", paint("1", "What is wrong:"))?;
        }
        if f.status_inferred {
            writeln!(
                out,
                "  (status not in the log; {status} is what this cause gives)",
                status = status.trim_end_matches('?')
            )?;
        }
        if let Some(arn) = &f.function_arn {
            writeln!(out, "  Function: {arn}")?;
        }
        if let Some(arn) = &f.authorizer_arn {
            writeln!(out, "  Authorizer function: {arn}")?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "  {}", paint("1", "Evidence:"))?;
            for line in &f.evidence {
                writeln!(out, "    {line}")?;
            }
        }
        writeln!(out, "  {} {}", paint("1", "Fix:"), f.advice)?;
    }
    writeln!(out)
}
