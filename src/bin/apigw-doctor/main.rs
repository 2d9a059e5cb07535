//! The `apigw-doctor` command line: the same engine as the Lambda, on files, saved events, pasted logs and a live
//! account. One module per command; this file holds the arguments and what every command shares.

mod audit;
mod diagnose;
mod handle;

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apigw_doctor::report::{Format, plural};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "apigw-doctor",
    version,
    about = "Tells why an API Gateway API answered 5xx, from its logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show the AWS SDK's whole error chain after an AWS error's one line
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Colour the text output: auto (a terminal, and NO_COLOR unset), always or never
    #[arg(long, value_enum, default_value_t = Colour::Auto, global = true)]
    color: Colour,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose logs: subscription deliveries, decoded DATA_MESSAGE JSON, pasted log lines, or a live log group
    #[command(
        after_help = "Exit status: 0 no problem found, 1 a problem (a 5xx or a failure cause) was reported, \
                            2 an input or AWS could not be read, 3 an input held no API Gateway log line."
    )]
    Diagnose {
        /// Print every request, one by one, not only those with a 5xx status or a failure cause (past 100
        /// problems, text output is otherwise grouped per distinct problem)
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
        live: Box<diagnose::LiveArgs>,
        /// Files to read; `-` or none reads standard input
        inputs: Vec<PathBuf>,
    },
    /// Read-only checks of an API's configuration (REST, HTTP or WebSocket): invoke permissions, functions,
    /// timeouts, logging (exit 1 on a fail)
    Audit {
        /// The API to check (REST, HTTP or WebSocket)
        #[arg(
            long,
            required_unless_present = "all_apis",
            conflicts_with = "all_apis"
        )]
        api_id: Option<String>,
        /// Every API of the account and region, REST, HTTP and WebSocket (one JSON line per check with --format json)
        #[arg(long)]
        all_apis: bool,
        /// The API's kind (default: detected from the API)
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// The stage (default: every stage of the API)
        #[arg(long)]
        stage: Option<String>,
        /// Output format: text, or one JSON object per check and target
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The API's account (default: the account of the credentials, from STS GetCallerIdentity)
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Do exactly what the deployed function does with a payload: publish to ALERT_TOPIC_ARN, or print when unset
    #[command(
        long_about = "Do exactly what the deployed function does with each payload it may be sent, and \
                            print its answer.\n\n\
                            Payloads (each file one JSON document):\n  \
                            {\"awslogs\":{\"data\":...}}          a CloudWatch Logs subscription delivery\n  \
                            {\"Records\":[{\"kinesis\":...}]}     a Kinesis batch from the organisation fan-in\n  \
                            {\"apigw-doctor\":\"sweep\"}          the scheduled sweep (digests, resolved, discovery, audit)\n  \
                            {\"approve\":\"<plan id>\"}           an Apply-fix approval (REMEDIATION_MODE=approve)\n  \
                            a CloudFormation custom-resource request (the stack's own set-up)\n\n\
                            With ALERT_TOPIC_ARN set, alerts are published and AWS is called as the function would \
                            (credentials from the standard chain); unset, the messages are printed and nothing \
                            leaves the machine. An approval's answer is printed on stdout as the function returns it."
    )]
    Handle {
        /// How printed messages look (when ALERT_TOPIC_ARN is unset)
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Payload files (see above); `-` reads standard input
        #[arg(required = true)]
        events: Vec<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Where AWS is: the standard chain unless told.
#[derive(clap::Args, Clone, Default)]
struct AwsArgs {
    /// AWS region (default: the standard chain)
    #[arg(long)]
    region: Option<String>,
    /// AWS profile (default: the standard chain)
    #[arg(long)]
    profile: Option<String>,
    /// A role to assume for the calls (another account's APIs and logs): arn:aws:iam::ACCOUNT:role/NAME
    #[arg(long)]
    role_arn: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Colour {
    Auto,
    Always,
    Never,
}

impl Colour {
    /// Whether text on stdout is coloured: `always`, or `auto` on a terminal without `NO_COLOR` (no-color.org:
    /// set and not empty).
    fn on_stdout(self, format: Format) -> bool {
        format == Format::Text
            && match self {
                Colour::Always => true,
                Colour::Never => false,
                Colour::Auto => {
                    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::stdout().is_terminal()
                }
            }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    apigw_doctor::aws_error::show_full_chain(cli.verbose);
    match cli.command {
        Command::Diagnose {
            all,
            format,
            log_group,
            live,
            inputs,
        } => {
            let colour = cli.color.on_stdout(format);
            if live.wanted() {
                if !inputs.is_empty() {
                    eprintln!(
                        "apigw-doctor: give files or a live read (--since/--start), not both"
                    );
                    return ExitCode::from(2);
                }
                diagnose::live(all, format, colour, log_group, &live)
            } else {
                diagnose::files(all, format, colour, log_group, inputs)
            }
        }
        Command::Handle { format, events } => handle::handle(format, events),
        Command::Audit {
            api_id,
            all_apis: _,
            kind,
            stage,
            format,
            account,
            aws,
        } => {
            let apis = match api_id {
                Some(api_id) => audit::Apis::One {
                    api_id,
                    kind: kind.map(KindArg::kind),
                },
                None => audit::Apis::All,
            };
            audit::audit(apis, stage, format, account, &aws)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "apigw-doctor",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
    }
}

/// `--kind`: an API's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KindArg {
    Rest,
    Http,
    Websocket,
}

impl KindArg {
    fn kind(self) -> apigw_doctor::remediate::ApiKind {
        use apigw_doctor::remediate::ApiKind;
        match self {
            KindArg::Rest => ApiKind::Rest,
            KindArg::Http => ApiKind::Http,
            KindArg::Websocket => ApiKind::WebSocket,
        }
    }
}

/// The environment's settings (the inflate cap, `ACCESS_LOG_APIS`, the topic and modes for `handle`); exit 2,
/// naming the variable, when one is invalid.
fn config() -> Result<apigw_doctor::lambda::config::Config, ExitCode> {
    apigw_doctor::lambda::config::Config::from_env().map_err(|error| {
        eprintln!("apigw-doctor: {error}");
        ExitCode::from(2)
    })
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

/// The SDK's configuration for `--region` and `--profile`; exit 2, saying how to set one, when no region is found.
async fn sdk_config(aws: &AwsArgs) -> Result<aws_config::SdkConfig, ExitCode> {
    let (region, profile) = (aws.region.as_deref(), aws.profile.as_deref());
    let sdk = match aws.role_arn.as_deref() {
        None => apigw_doctor::lambda::aws::sdk_config_with(region, profile).await,
        Some(role) if is_role_arn(role) => {
            apigw_doctor::lambda::aws::sdk_config_assuming(region, profile, role).await
        }
        Some(role) => {
            eprintln!(
                "apigw-doctor: --role-arn {role:?} is not a role ARN: arn:aws:iam::123456789012:role/NAME"
            );
            return Err(ExitCode::from(2));
        }
    };
    if sdk.region().is_none() {
        eprintln!(
            "apigw-doctor: no AWS region: pass --region (e.g. --region eu-west-1), set AWS_REGION, or give the \
             profile a region (aws configure set region eu-west-1)"
        );
        return Err(ExitCode::from(2));
    }
    Ok(sdk)
}

/// `arn:{partition}:iam::{12 digits}:role/{path and name}`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()))
}

fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
