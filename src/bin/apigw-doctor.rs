//! The `apigw-doctor` command line: the same engine as the Lambda, on files, saved events and pasted logs.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use apigw_doctor::diagnose::finding::Finding;
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
        /// Log group of pasted text, e.g. API-Gateway-Execution-Logs_a1b2c3d4e5/prod (gives the API id and stage)
        #[arg(long)]
        log_group: Option<String>,
        /// Files to read; `-` or none reads standard input
        inputs: Vec<PathBuf>,
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
            inputs,
        } => diagnose(all, format, log_group, inputs),
        Command::Handle { format, events } => handle(format, events),
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
                    message.bodies.email,
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("apigw-doctor: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
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
        if found.unread_access_log_lines > 0 {
            eprintln!(
                "apigw-doctor: {name}: {} access-log line{} in a CLF-like layout skipped: \
                 use a JSON access-log format (README, \"Access logs\")",
                found.unread_access_log_lines,
                if found.unread_access_log_lines == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        for failure in &found.failed_records {
            eprintln!("apigw-doctor: {name}: {failure}");
            failed = true;
        }
        let findings = found.findings;
        let total = findings.len();
        let shown: Vec<&Finding> = findings.iter().filter(|f| all || f.is_problem()).collect();
        let written = match format {
            Format::Json => shown.iter().try_for_each(|f| {
                serde_json::to_writer(&mut out, f).map_err(std::io::Error::other)?;
                writeln!(out)
            }),
            Format::Text => write_text(&mut out, &name, total, &shown, colour),
        };
        if written.is_err() {
            // stdout closed (e.g. piped into `head`): nothing more to say.
            break;
        }
    }
    diagnose_exit_code(failed, unrecognised)
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
