//! `diagnose`: files, pastes and saved events, or a live log group (or an API stage's two log groups).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use apigw_doctor::diagnose::Findings;
use apigw_doctor::diagnose::finding::{Origin, find};
use apigw_doctor::fetch::{self, Window, aws::CloudWatchLogs};
use apigw_doctor::input::ReadOptions;
use apigw_doctor::report::{Format, Printed, plural, print_found, report_input};

use crate::{AwsArgs, config, read, runtime, sdk_config};

/// Reading a live account's CloudWatch Logs instead of files.
#[derive(clap::Args)]
pub struct LiveArgs {
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
    #[command(flatten)]
    aws: AwsArgs,
    /// Stop after this many log lines
    #[arg(long, default_value_t = 1_000_000)]
    max_lines: u64,
}

impl LiveArgs {
    pub fn wanted(&self) -> bool {
        self.since.is_some() || self.start.is_some() || self.api_id.is_some()
    }
}

/// What the inputs gave, for the exit status.
#[derive(Default)]
struct Outcome {
    /// An input (or AWS) could not be read.
    failed: bool,
    /// An input held no API Gateway log line.
    unrecognised: bool,
    /// A problem (a 5xx or a failure cause) was reported.
    problems: bool,
}

impl Outcome {
    fn add(&mut self, printed: Printed) {
        self.failed |= printed.records_failed;
        self.problems |= printed.problems > 0;
    }

    /// 2: an input or AWS could not be read; 1: a problem was reported (scripts and CI gate on it); 3: an input
    /// held no API Gateway log line (never a silent "0 problems"); 0: read, and nothing failed.
    fn exit_code(&self) -> ExitCode {
        if self.failed {
            ExitCode::from(2)
        } else if self.problems {
            ExitCode::from(1)
        } else if self.unrecognised {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        }
    }
}

pub fn files(
    all: bool,
    format: Format,
    colour: bool,
    log_group: Option<String>,
    inputs: Vec<PathBuf>,
) -> ExitCode {
    let inputs = if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs
    };
    // Only the inflate cap and ACCESS_LOG_APIS matter here; nothing is published.
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    // Findings are built only for what is printed: every request with --all, else the problems (#29).
    let options = ReadOptions {
        all,
        log_group,
        config,
    };
    // Buffered: stdout is line-buffered, and a report of 35,000 problems was 250,000 write calls (#29). Each
    // input's report is flushed before the next input is read.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut outcome = Outcome::default();
    for path in &inputs {
        let name = path.display().to_string();
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("apigw-doctor: {name}: {error}");
                outcome.failed = true;
                continue;
            }
        };
        let mut warn = std::io::stderr().lock();
        let reported = report_input(&mut out, &mut warn, &name, &bytes, &options, format, colour);
        match reported.and_then(|reported| out.flush().map(|()| reported)) {
            Ok(Some(printed)) => {
                if printed.recognised_nothing {
                    outcome.unrecognised = true;
                }
                outcome.add(printed.printed);
            }
            Ok(None) => outcome.failed = true,
            // stdout closed (e.g. piped into `head`): nothing more to say.
            Err(_) => break,
        }
    }
    outcome.exit_code()
}

/// `diagnose` on a live account: the failing requests of a log group (or of an API's stage) in a time window,
/// read from CloudWatch Logs with the standard credential chain; the same engine and output as for files. An API
/// stage's execution log and access log are read both, and a request in both is one finding.
pub fn live(
    all: bool,
    format: Format,
    colour: bool,
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
        let sdk = match sdk_config(&live.aws).await {
            Ok(sdk) => sdk,
            Err(code) => return code,
        };
        let (label, groups) = match (&live.api_id, &live.stage, log_group) {
            (Some(api), Some(stage), _) => match stage_log_groups(&sdk, api, stage).await {
                Ok(groups) => (format!("{api}/{stage}"), groups),
                Err(error) => {
                    eprintln!("apigw-doctor: {error}");
                    return ExitCode::from(2);
                }
            },
            (_, _, Some(group)) => (group.clone(), vec![group]),
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
        let mut outcome = Outcome::default();
        let mut joined: Option<Findings> = None;
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
                        outcome.failed = true;
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
            // An access-log group read through `--api-id`: the stage's own configuration names it.
            let mapped_api = match (&live.api_id, &live.stage) {
                (Some(api), Some(stage)) if !group.starts_with("API-Gateway-Execution-Logs_") => {
                    Some((api.clone(), stage.clone()))
                }
                _ => None,
            };
            let origin = Origin {
                log_group: Some(group.clone()),
                mapped_api,
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
                outcome.unrecognised = true;
            }
            // The execution log comes first: its cause leads, the access log's fields fill in.
            match joined.as_mut() {
                Some(first) => first.absorb_same_requests(found),
                None => joined = Some(found),
            }
        }
        if let Some(found) = joined {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            if let Ok(printed) = print_found(
                &mut out,
                &mut std::io::stderr().lock(),
                &label,
                found,
                all,
                format,
                colour,
            )
            .and_then(|printed| out.flush().map(|()| printed))
            {
                outcome.add(printed);
            }
        }
        outcome.exit_code()
    })
}

/// The log groups of an API's stage: the execution log group (REST and WebSocket APIs), and the access-log group
/// the stage's `AccessLogSettings` name (an HTTP API's only log).
async fn stage_log_groups(
    sdk: &aws_config::SdkConfig,
    api_id: &str,
    stage: &str,
) -> Result<Vec<String>, String> {
    use apigw_doctor::remediate::{ApiConfig, ApiKind, aws::ApiGatewayConfig};
    let api = ApiGatewayConfig::new(sdk);
    let kind = api
        .api_kind(api_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no REST, HTTP or WebSocket API {api_id} in this region: check the id and --region"
            )
        })?;
    let access = api
        .stage_access_log_group(api_id, stage)
        .await
        .map_err(|e| format!("API Gateway GetStage of API {api_id} stage {stage}: {e}"))?;
    let mut groups = Vec::new();
    if kind != ApiKind::Http {
        groups.push(format!("API-Gateway-Execution-Logs_{api_id}/{stage}"));
    }
    match access {
        Some(group) => groups.push(group),
        None if kind == ApiKind::Http => {
            return Err(format!(
                "HTTP API {api_id} stage {stage} has no access log, and HTTP APIs write no execution log: nothing \
                 records its failures. Turn on access logging (docs/access-logs.md has the format)"
            ));
        }
        None => {}
    }
    Ok(groups)
}
