//! The edges: the only place that knows the order of steps (decode → reassemble → classify → plan alerts →
//! remediate → suppress → render → publish), shared by the Lambda (`bootstrap`) and `apigw-doctor handle`.
//!
//! In: the raw payload Lambda hands over (a subscription delivery, a Kinesis batch, the scheduled sweep) and
//! the ports built from [`config::Config`]. Out: an [`Outcome`] (the function's response), messages on SNS,
//! EMF metrics in the function's log.
//!
//! - [`config`]: environment → validated settings; builds each lower stage's own settings
//! - [`metrics`]: Embedded Metric Format counters
//! - [`custom_resource`]: CloudFormation's requests to subscribe the log groups on deploy and unsubscribe on delete
//! - [`aws`]: the SDK configuration (one TLS stack)
//! - [`latent`]: the sweep's audit of the watched APIs, before a client meets what will fail
//! - [`approval`]: `approve` mode's kept plans and the approvals that apply them

pub mod approval;
pub mod aws;
pub mod config;
pub mod custom_resource;
pub mod latent;
pub mod members;
pub mod metrics;

use std::collections::BTreeMap;

use aws_lambda_events::streams::KinesisEventResponse;
use serde::Serialize;

use crate::alert::{Alert, Grouping, Invocation, Plan, delivery_id, rank_invocation};
use crate::diagnose::finding::{Findings, Origin, find_escaped_each};
use crate::ingest::kinesis::{self, PayloadKind};
use crate::ingest::{self, DecodeError, RawBatch};
use crate::lambda::config::Config;
use crate::lambda::metrics::Metrics;
use crate::publish::render::{Message, render, render_noticed, render_overflow, render_state};
use crate::publish::sns::{PublishError, Publisher};
use crate::remediate::{Remediator, Report};
use crate::subscribe::{self, LogsApi};
use crate::suppress::{Admission, NoSuppression, Notice, SuppressError, Suppressor, Undo};
use custom_resource::Responder;
use latent::{Auditor, LatentReport, NoAudit};
use members::{Members, MembersReport, NoMembers};

/// What one invocation did: the Lambda's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub control_message: bool,
    pub events: u64,
    pub requests: u64,
    /// Requests per cause label.
    pub causes: BTreeMap<String, u64>,
    /// Access-log lines in a layout we do not read (CLF-like): switch the stage to a JSON format.
    #[serde(skip_serializing_if = "is_zero")]
    pub unread_access_log_lines: u64,
    pub alerts_sent: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The invocation fails so that Lambda's retries and the on-failure destination keep the delivery.
    #[error("undecodable delivery ({size} bytes): {source}")]
    Decode {
        size: usize,
        #[source]
        source: DecodeError,
    },
    /// Every alert was tried; the invocation fails so that a retry sends what did not go out.
    #[error("{failed} of {total} alerts could not be published: {first}")]
    Publish {
        failed: usize,
        total: usize,
        first: PublishError,
    },
    /// The sweep could not read the suppression table (a delivery never fails for it: it fails open).
    #[error(transparent)]
    Suppression(SuppressError),
    /// A CloudFormation request could not be read or answered: the invocation fails so Lambda retries it.
    #[error("custom resource: {reason}")]
    CustomResource { reason: String },
    /// The deadline came before every problem was admitted and published: nothing was written for those left, and
    /// the invocation fails so that the retry alerts them (the ones sent are suppressed there as repeats).
    #[error(
        "the invocation's deadline came with {left} of {total} alerts not yet tried; sent: {sent}"
    )]
    Deadline {
        left: usize,
        total: usize,
        sent: usize,
    },
}

impl HandlerError {
    /// The `errorType` Lambda records for a failed invocation (and the on-failure destination carries).
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Decode { .. } => "ApigwDoctor.DecodeError",
            HandlerError::Publish { .. } => "ApigwDoctor.PublishError",
            HandlerError::Suppression(_) => "ApigwDoctor.SuppressionError",
            HandlerError::CustomResource { .. } => "ApigwDoctor.CustomResourceError",
            HandlerError::Deadline { .. } => "ApigwDoctor.DeadlineError",
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Time kept back from the invocation's deadline to take back suppression state and answer.
pub const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// What one more problem needs beyond the margin (self-healing's reads, noise control's write, the publish) before
/// it is started: a problem not started writes nothing, and the retry has it.
pub const STEP_RESERVE: std::time::Duration = std::time::Duration::from_secs(2);

/// How many problems of the overflow message noise control records one by one: the ones the message itemises
/// (the rest are counted there, and sent without a write each, so a slow table cannot hold the message).
pub const OVERFLOW_ADMITTED: usize = 100;

/// What one invocation may still do: the limits are per invocation, whether it carries one delivery or a
/// Kinesis batch of a hundred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Problems that may still get an alert of their own (`MAX_ALERTS_PER_INVOCATION`).
    pub alerts: usize,
    /// Permission changes self-healing may still make (`REMEDIATION_MAX_CHANGES`).
    pub changes: usize,
}

/// What the function answers: the outcome of a subscription delivery, the partial batch response of a Kinesis
/// batch (Lambda reads `batchItemFailures` and retries only those records), or what a sweep sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Logs(Outcome),
    Kinesis(KinesisEventResponse),
    Sweep(SweepOutcome),
    CustomResource(CustomResourceOutcome),
    Approval(approval::ApprovalOutcome),
}

/// What the scheduled sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepOutcome {
    pub sweep: bool,
    pub resolved_sent: u64,
    pub digests_sent: u64,
    /// What discovery did, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<subscribe::Report>,
    /// What the audit of the watched APIs did, when it ran (`LATENT_AUDIT_HOURS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latent: Option<LatentReport>,
    /// What the sweep did in the organisation's member accounts (`MEMBER_ACCOUNTS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<MembersReport>,
}

/// What a CloudFormation request did, and what was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomResourceOutcome {
    pub request_type: String,
    pub status: &'static str,
    pub subscriptions: subscribe::Report,
}

/// The CloudWatch Logs port where discovery does not run (the CLI, tests of other paths): it sees no log group.
pub struct NoLogs;

impl LogsApi for NoLogs {
    async fn log_groups(&self, _: &str) -> Result<Vec<String>, subscribe::SubscribeError> {
        Ok(Vec::new())
    }
    async fn filters(&self, _: &str) -> Result<Vec<subscribe::Filter>, subscribe::SubscribeError> {
        Ok(Vec::new())
    }
    async fn put_filter(
        &self,
        _: &str,
        _: &subscribe::Settings,
        _: &str,
    ) -> Result<(), subscribe::SubscribeError> {
        Ok(())
    }
    async fn delete_filter(&self, _: &str, _: &str) -> Result<(), subscribe::SubscribeError> {
        Ok(())
    }
}

/// The responder where no CloudFormation request is expected: it refuses.
pub struct NoResponder;

impl Responder for NoResponder {
    async fn respond(&self, _: &str, _: &custom_resource::Response) -> Result<(), String> {
        Err("no responder configured".to_owned())
    }
}

/// The ports one invocation uses: where alerts go, what heals, what remembers, and (in the Lambda) the log
/// groups to keep subscribed and CloudFormation to answer.
pub struct Handler<'a, P, R, S, L = NoLogs, C = NoResponder, A = NoAudit, M = NoMembers> {
    /// When the invocation must have answered (Lambda's deadline); `None` outside Lambda.
    pub deadline: Option<std::time::Instant>,
    /// The wall clock the sweep's turn-taking reads (ms since the epoch); `None`: the system's. The organisation
    /// simulation sets it to play sweeps five minutes apart.
    pub now_ms: Option<u64>,
    pub config: &'a Config,
    pub publisher: &'a P,
    pub remediator: &'a R,
    pub suppressor: &'a S,
    pub logs: &'a L,
    pub responder: &'a C,
    /// Reads the watched APIs' configuration for the sweep's audit (`LATENT_AUDIT_HOURS`).
    pub auditor: &'a A,
    /// The organisation's member accounts the sweep works in (`MEMBER_ACCOUNTS`).
    pub members: &'a M,
}

/// Handles any payload without cross-invocation suppression (see [`Handler::payload`]).
pub async fn handle_payload<P: Publisher, R: Remediator>(
    payload: &[u8],
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<Response, HandlerError> {
    Handler::new(config, publisher, remediator, &NoSuppression)
        .payload(payload, metrics)
        .await
}

/// Handles one subscription event without cross-invocation suppression (see [`Handler::logs`]).
pub async fn handle<P: Publisher, R: Remediator>(
    event: &[u8],
    config: &Config,
    publisher: &P,
    remediator: &R,
    metrics: &mut Metrics,
) -> Result<Outcome, HandlerError> {
    Handler::new(config, publisher, remediator, &NoSuppression)
        .logs(event, metrics)
        .await
}

impl<'a, P, R, S> Handler<'a, P, R, S> {
    pub fn new(config: &'a Config, publisher: &'a P, remediator: &'a R, suppressor: &'a S) -> Self {
        Handler {
            deadline: None,
            now_ms: None,
            config,
            publisher,
            remediator,
            suppressor,
            logs: &NoLogs,
            responder: &NoResponder,
            auditor: &NoAudit,
            members: &NoMembers,
        }
    }
}

impl<'a, P, R, S, L, C, A, M> Handler<'a, P, R, S, L, C, A, M> {
    /// The same handler, with the account's log groups to keep subscribed and CloudFormation to answer.
    pub fn with_account<L2, C2>(
        self,
        logs: &'a L2,
        responder: &'a C2,
    ) -> Handler<'a, P, R, S, L2, C2, A, M> {
        Handler {
            deadline: self.deadline,
            now_ms: self.now_ms,
            config: self.config,
            publisher: self.publisher,
            remediator: self.remediator,
            suppressor: self.suppressor,
            logs,
            responder,
            auditor: self.auditor,
            members: self.members,
        }
    }

    /// The same handler, auditing the watched APIs in the sweep with `auditor`.
    pub fn with_auditor<A2>(self, auditor: &'a A2) -> Handler<'a, P, R, S, L, C, A2, M> {
        Handler {
            deadline: self.deadline,
            now_ms: self.now_ms,
            config: self.config,
            publisher: self.publisher,
            remediator: self.remediator,
            suppressor: self.suppressor,
            logs: self.logs,
            responder: self.responder,
            auditor,
            members: self.members,
        }
    }

    /// The same handler, sweeping the organisation's member accounts with `members`.
    pub fn with_members<M2>(self, members: &'a M2) -> Handler<'a, P, R, S, L, C, A, M2> {
        Handler {
            deadline: self.deadline,
            now_ms: self.now_ms,
            config: self.config,
            publisher: self.publisher,
            remediator: self.remediator,
            suppressor: self.suppressor,
            logs: self.logs,
            responder: self.responder,
            auditor: self.auditor,
            members,
        }
    }
}

impl<P: Publisher, R: Remediator, S: Suppressor, L: LogsApi, C: Responder, A: Auditor, M: Members>
    Handler<'_, P, R, S, L, C, A, M>
{
    /// Any payload the function is sent (see [`Handler::invoke`]), outside Lambda (no function ARN).
    pub async fn payload(
        &self,
        payload: &[u8],
        metrics: &mut Metrics,
    ) -> Result<Response, HandlerError> {
        self.invoke(payload, None, metrics).await
    }

    /// Any payload the function is sent: a subscription delivery, a Kinesis batch of them, the sweep, or a
    /// CloudFormation request. `function_arn` is the function's own ARN (from the invocation's context): the
    /// destination of the filters discovery puts.
    pub async fn invoke(
        &self,
        payload: &[u8],
        function_arn: Option<&str>,
        metrics: &mut Metrics,
    ) -> Result<Response, HandlerError> {
        // A delivery as CloudWatch Logs writes it: its data found once, without a JSON parse (the kind probe and the
        // envelope would each read the 1 MB event).
        if let Some(data) = ingest::plain_envelope(payload) {
            metrics.deliveries += 1;
            return self
                .delivery(data, payload.len(), metrics)
                .await
                .map(Response::Logs);
        }
        match kinesis::payload_kind(payload) {
            PayloadKind::Kinesis => self.kinesis(payload, metrics).await.map(Response::Kinesis),
            PayloadKind::Sweep => self.sweep(function_arn, metrics).await.map(Response::Sweep),
            PayloadKind::CustomResource => self
                .custom_resource(payload, function_arn, metrics)
                .await
                .map(Response::CustomResource),
            PayloadKind::Approval => Ok(Response::Approval(self.approval(payload, metrics).await)),
            // Anything else is read as a delivery, whose decoder names what is wrong with it.
            PayloadKind::Logs | PayloadKind::Unknown => {
                self.logs(payload, metrics).await.map(Response::Logs)
            }
        }
    }

    /// One raw subscription event (`{"awslogs":{"data":...}}`).
    pub async fn logs(&self, event: &[u8], metrics: &mut Metrics) -> Result<Outcome, HandlerError> {
        metrics.deliveries += 1;
        match ingest::envelope_data(event) {
            Ok(data) => self.delivery(&data, event.len(), metrics).await,
            Err(source) => Err(decode_failure(event.len(), source, metrics)),
        }
    }

    /// One delivery's `awslogs.data`: decoded and planned, then sent with this invocation's budget.
    async fn delivery(
        &self,
        data: &str,
        size: usize,
        metrics: &mut Metrics,
    ) -> Result<Outcome, HandlerError> {
        let Prepared { outcome, plan } = self.prepare(data, size, metrics)?;
        let mut budget = self.budget();
        let sent = self
            .send_invocation(vec![(0, plan)], &mut budget, metrics)
            .await;
        let outcome = Outcome {
            alerts_sent: sent.sent,
            ..outcome
        };
        if sent.not_tried > 0 {
            return Err(HandlerError::Deadline {
                left: sent.not_tried,
                total: sent.tried + sent.not_tried,
                sent: sent.sent as usize,
            });
        }
        match sent.first_failure {
            None => Ok(outcome),
            Some(first) => Err(HandlerError::Publish {
                failed: sent.tried - sent.sent as usize,
                total: sent.tried,
                first,
            }),
        }
    }

    /// A Kinesis batch from a CloudWatch Logs destination: each record is one delivery from any account. A
    /// record that cannot be decoded, or whose alerts could not all be published, is reported in
    /// `batchItemFailures`; the others are done. Only an unreadable batch fails the whole invocation.
    pub async fn kinesis(
        &self,
        payload: &[u8],
        metrics: &mut Metrics,
    ) -> Result<KinesisEventResponse, HandlerError> {
        let event = match kinesis::parse(payload) {
            Ok(event) => event,
            Err(error) => {
                let source = DecodeError::Envelope {
                    reason: format!("not a Kinesis event: {error}"),
                    size: payload.len(),
                };
                return Err(decode_failure(payload.len(), source, metrics));
            }
        };
        let mut response = KinesisEventResponse::default();
        let fail = |response: &mut KinesisEventResponse,
                    metrics: &mut Metrics,
                    index: usize,
                    error: &dyn std::fmt::Display,
                    error_type: &str| {
            let record = &event.records[index];
            metrics.records_failed += 1;
            tracing::error!(
                sequence_number = %record.kinesis.sequence_number,
                stream = %record.event_source_arn,
                error_type,
                %error,
                "Record reported as a batch item failure"
            );
            response.add_failure(record.kinesis.sequence_number.as_ref());
        };
        // Every record is decoded and planned first, then the batch is one invocation: its problems are ranked
        // together (the most severe of any account first), one budget, one overflow message.
        let mut plans = Vec::with_capacity(event.records.len());
        for (index, record) in event.records.iter().enumerate() {
            metrics.deliveries += 1;
            let data = &record.kinesis.data;
            let span = tracing::info_span!(
                "record",
                sequence_number = %record.kinesis.sequence_number,
                event_id = %record.event_id,
                stream = %record.event_source_arn,
            );
            match span.in_scope(|| self.prepare(data, data.len(), metrics)) {
                Ok(prepared) => plans.push((index, prepared.plan)),
                Err(error) => fail(&mut response, metrics, index, &error, error.error_type()),
            }
        }
        let mut budget = self.budget();
        let sent = self.send_invocation(plans, &mut budget, metrics).await;
        let publish_error = sent
            .first_failure
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        for &index in sent.failed_records.union(&sent.cut_records) {
            if sent.failed_records.contains(&index) {
                fail(
                    &mut response,
                    metrics,
                    index,
                    &publish_error,
                    "ApigwDoctor.PublishError",
                );
            } else {
                let deadline = "the invocation's deadline came before its alerts were tried";
                fail(
                    &mut response,
                    metrics,
                    index,
                    &deadline,
                    "ApigwDoctor.DeadlineError",
                );
            }
        }
        Ok(response)
    }

    /// The access-log groups of the account's HTTP and WebSocket API stages (`watched`: only those discovery
    /// watches), and why they could not be read.
    async fn stage_log_groups(&self, watched: bool) -> (Vec<String>, Option<String>) {
        let settings = &self.config.discovery;
        match self.auditor.v2_stages().await {
            Ok(stages) => (
                stages
                    .into_iter()
                    .filter_map(|s| {
                        s.access_log_group
                            .filter(|g| !watched || settings.watches_stage_log(&s.api_id, g))
                    })
                    .collect(),
                None,
            ),
            Err(error) => (
                Vec::new(),
                Some(format!("HTTP and WebSocket API stages: {error}")),
            ),
        }
    }

    /// Subscribes the watched log groups that have no filter of ours. Never fails the invocation: what could
    /// not be done is logged and counted, and the next sweep tries again.
    async fn discover(&self, function_arn: &str, metrics: &mut Metrics) -> subscribe::Report {
        let settings = &self.config.discovery;
        // HTTP and WebSocket API stages name their access-log groups: those are watched whatever their names.
        let (stage_groups, stage_failure) = self.stage_log_groups(true).await;
        let found =
            subscribe::subscribe_all(self.logs, settings, function_arn, &stage_groups, || {
                self.has_time_for_a_step()
            })
            .await;
        let mut report = match found {
            Ok(report) => report,
            Err(error) => {
                tracing::error!(%error, "Discovery could not list log groups");
                subscribe::Report {
                    failed: vec![error.to_string()],
                    ..subscribe::Report::default()
                }
            }
        };
        report.failed.extend(stage_failure);
        metrics.add_subscriptions(&report);
        tracing::info!(
            subscribed = ?report.subscribed,
            updated = ?report.updated,
            already_subscribed = report.already_subscribed,
            full = ?report.full,
            failed = ?report.failed,
            "Discovery done"
        );
        report
    }

    /// A CloudFormation request: subscribe on Create and Update, remove exactly our filters on Delete, and
    /// always answer (a request never answered holds the stack for an hour).
    pub async fn custom_resource(
        &self,
        payload: &[u8],
        function_arn: Option<&str>,
        metrics: &mut Metrics,
    ) -> Result<CustomResourceOutcome, HandlerError> {
        use custom_resource::{Action, Request, Response as Answer, ResponseData};
        let request = Request::parse(payload).map_err(|e| HandlerError::CustomResource {
            reason: format!("unreadable request: {e}"),
        })?;
        if let Some(reason) = request.refusal(self.config.stack_id.as_deref(), function_arn) {
            // Not CloudFormation's: nothing changed, nothing sent anywhere.
            metrics.custom_resource_refused += 1;
            tracing::error!(%reason, request_type = %request.request_type, "Custom resource request refused");
            return Err(HandlerError::CustomResource {
                reason: format!("refused: {reason}"),
            });
        }
        // The filters point at this function: its own ARN from the invocation, the request's token only outside one.
        let destination = function_arn.or(request.service_token.as_deref());
        let settings = &self.config.discovery;
        let (report, reason) = match (request.action(), destination) {
            (_, None) => (
                subscribe::Report::default(),
                "the request names no function (ServiceToken)".to_owned(),
            ),
            (Action::Subscribe, Some(_)) if !settings.enabled => (
                subscribe::Report::default(),
                "discovery is off: no log group subscribed".to_owned(),
            ),
            (Action::Subscribe, Some(arn)) => {
                let report = self.discover(arn, metrics).await;
                let reason = format!(
                    "{} log groups subscribed, {} updated, {} already, {} with two filters of others, {} failed",
                    report.subscribed.len(),
                    report.updated.len(),
                    report.already_subscribed,
                    report.full.len(),
                    report.failed.len()
                );
                (report, reason)
            }
            (Action::Unsubscribe, Some(arn)) => {
                // Every stage's group: a filter of ours is removed wherever it is.
                let (stage_groups, _) = self.stage_log_groups(false).await;
                let report = subscribe::unsubscribe_all(self.logs, settings, arn, &stage_groups)
                    .await
                    .unwrap_or_else(|error| subscribe::Report {
                        failed: vec![error.to_string()],
                        ..subscribe::Report::default()
                    });
                metrics.subscription_errors += report.failed.len() as u64;
                let reason = format!(
                    "{} subscription filters removed, {} failed",
                    report.removed.len(),
                    report.failed.len()
                );
                (report, reason)
            }
        };
        let data = ResponseData {
            subscribed: (report.subscribed.len() + report.updated.len()) as u64,
            already_subscribed: report.already_subscribed,
            full: report.full.len() as u64,
            removed: report.removed.len() as u64,
            failed: report.failed.len() as u64,
        };
        // Discovery problems do not fail the stack: the sweep tries again within minutes.
        let answer = Answer::success(&request, reason, data);
        tracing::info!(
            request_type = %request.request_type,
            logical_resource_id = %request.logical_resource_id,
            reason = %answer.reason,
            "Custom resource request handled"
        );
        if let Err(error) = self.responder.respond(&request.response_url, &answer).await {
            tracing::error!(%error, "CloudFormation could not be answered");
            return Err(HandlerError::CustomResource {
                reason: format!("answer not delivered: {error}"),
            });
        }
        Ok(CustomResourceOutcome {
            request_type: request.request_type,
            status: answer.status,
            subscriptions: report,
        })
    }

    /// The scheduled sweep: discovery (new log groups get our filter), then "resolved" for problems quiet for
    /// the quiet period, digests for windows that ended with requests no message reported.
    pub async fn sweep(
        &self,
        function_arn: Option<&str>,
        metrics: &mut Metrics,
    ) -> Result<SweepOutcome, HandlerError> {
        let subscriptions = match function_arn {
            Some(arn) if self.config.discovery.enabled => Some(self.discover(arn, metrics).await),
            _ => None,
        };
        // Before the suppression sweep: a latent problem found and fixed here is news, the digests are not.
        // The account audited: the function's own (its ARN), else the alert topic's (the stack's account).
        let account = function_arn
            .and_then(|arn| arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .or(self.config.remediation.home_account.as_deref());
        let latent = match (account, self.config.latent_audit_every_ms) {
            (Some(account), Some(every)) if self.auditor.is_configured() => {
                let mut budget = self.budget();
                Some(
                    self.audit_latent(account, every, &mut budget, metrics)
                        .await,
                )
            }
            _ => None,
        };
        let members = if self.members.is_configured() {
            Some(self.sweep_members(metrics).await)
        } else {
            None
        };
        let due = match self.suppressor.sweep().await {
            Ok(due) => due,
            Err(error) => {
                metrics.suppression_errors += 1;
                tracing::error!(%error, "Sweep could not read the suppression table");
                return Err(HandlerError::Suppression(error));
            }
        };
        let mut outcome = SweepOutcome {
            sweep: true,
            subscriptions,
            latent,
            members,
            ..SweepOutcome::default()
        };
        let total = due.len();
        let mut failures = Vec::new();
        // Publish, then close: a message that did not go out leaves its item open for the next sweep.
        for item in due {
            let message = render_state(&item.state, &item.notice);
            if let Err(error) = self.send(&message, Vec::new(), metrics).await {
                failures.push(error);
                continue;
            }
            if matches!(item.notice, Notice::Resolved { .. }) {
                outcome.resolved_sent += 1;
            } else {
                outcome.digests_sent += 1;
            }
            match self.suppressor.close(&item).await {
                Ok(true) => {}
                Ok(false) => tracing::info!(
                    fingerprint = %item.state.fingerprint,
                    "Swept problem changed meanwhile: the next sweep looks again"
                ),
                Err(error) => {
                    metrics.suppression_errors += 1;
                    tracing::warn!(%error, fingerprint = %item.state.fingerprint, "Swept problem not closed: it may be sent again");
                }
            }
        }
        let failed = failures.len();
        match failures.into_iter().next() {
            None => Ok(outcome),
            Some(first) => Err(HandlerError::Publish {
                failed,
                total,
                first,
            }),
        }
    }

    /// Noise control's word on one alert: `None` when it is suppressed, else the notice it goes out with and the
    /// write to take back if it cannot be published.
    async fn admit(
        &self,
        alert: &Alert,
        report: &Report,
        metrics: &mut Metrics,
    ) -> Option<(Option<Notice>, Option<Box<Undo>>)> {
        match self.suppressor.admit(alert, report).await {
            Admission::Send { notice, undo } => Some((notice, undo)),
            Admission::Suppress => {
                metrics.alerts_suppressed += 1;
                tracing::info!(fingerprint = %alert.fingerprint, count = alert.count, "Alert suppressed");
                None
            }
            Admission::FailOpen { reason } => {
                metrics.suppression_errors += 1;
                tracing::warn!(%reason, fingerprint = %alert.fingerprint, "Suppression unavailable: alerting anyway");
                // A breakthrough, so that subscribers filtering on `notice` still receive it.
                let notice = Notice::Breakthrough {
                    reason: "noise control unavailable: sent without suppression",
                };
                Some((Some(notice), None))
            }
        }
    }

    /// The overflow message: its problems pass noise control like any alert (a problem suppressed one by one is
    /// suppressed here too, and is stored, so its digest and "resolved" come as usual). It goes out when at least
    /// one of them is admitted, or when a delivery held more distinct problems than it itemises.
    async fn overflow(&self, plan: &Plan, metrics: &mut Metrics) -> Option<(Message, Vec<Undo>)> {
        let mut admitted: Vec<Alert> = Vec::with_capacity(plan.overflow.len());
        let mut undos = Vec::new();
        let mut notice: Option<Notice> = None;
        let none = Report::none();
        // The problems the message itemises, most severe and frequent first (as it lists them), pass noise control
        // one by one while there is time; the others go in without a write of their own (fail open: a slow or
        // throttled table must not hold back the message, and the deadline must not come between writes and it).
        let mut ranked: Vec<&Alert> = plan.overflow.iter().collect();
        ranked.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.count.cmp(&a.count)));
        for (i, alert) in ranked.into_iter().enumerate() {
            if i >= OVERFLOW_ADMITTED || !self.has_time_for_a_step() {
                metrics.suppression_skipped += 1;
                admitted.push(alert.clone());
                continue;
            }
            let Some((why, undo)) = self.admit(alert, &none, metrics).await else {
                continue;
            };
            undos.extend(undo.map(|u| *u));
            // The most urgent reason among its problems: a breakthrough before a first occurrence before a digest.
            let rank = |n: &Option<Notice>| match n {
                Some(Notice::Breakthrough { .. }) => 3,
                Some(Notice::First) => 2,
                Some(_) => 1,
                None => 0,
            };
            if rank(&why) > rank(&notice) {
                notice = why;
            }
            admitted.push(alert.clone());
        }
        if admitted.is_empty() && plan.unlisted.is_empty() {
            return None;
        }
        let notice = notice.or_else(|| {
            self.suppressor
                .is_configured()
                .then_some(Notice::Breakthrough {
                    reason: "more distinct problems than one delivery itemises",
                })
        });
        render_overflow(&admitted, &plan.unlisted, notice.as_ref()).map(|m| (m, undos))
    }

    /// Publishes one message; when it cannot go out, takes back the suppression state that admitted it, so that
    /// the retry alerts again.
    async fn send(
        &self,
        message: &Message,
        undo: Vec<Undo>,
        metrics: &mut Metrics,
    ) -> Result<(), PublishError> {
        // Within the invocation's deadline, less what taking back the suppression state and answering need: a
        // message that cannot go out in time is taken back like any failed one, and the retry sends it.
        let publish = self.publisher.publish(message);
        let result = match self.deadline {
            Some(deadline) => {
                let left = deadline
                    .saturating_duration_since(std::time::Instant::now())
                    .saturating_sub(DEADLINE_MARGIN);
                tokio::time::timeout(left, publish)
                    .await
                    .unwrap_or_else(|_| {
                        Err(PublishError::Deadline {
                            subject: message.subject.clone(),
                        })
                    })
            }
            None => publish.await,
        };
        match result {
            Ok(id) => {
                metrics.alerts_sent += 1;
                tracing::info!(message_id = %id, subject = %message.subject, "Alert published");
                Ok(())
            }
            Err(error) => {
                metrics.publish_failures += 1;
                tracing::error!(%error, subject = %message.subject, "Alert not published");
                for undo in undo {
                    self.suppressor.undo(Box::new(undo)).await;
                }
                Err(error)
            }
        }
    }

    /// Whether one more problem can be taken on before the deadline (always, outside Lambda).
    fn has_time_for_a_step(&self) -> bool {
        self.deadline.is_none_or(|deadline| {
            deadline.saturating_duration_since(std::time::Instant::now())
                > DEADLINE_MARGIN + STEP_RESERVE
        })
    }

    /// A fresh invocation's limits.
    fn budget(&self) -> Budget {
        Budget {
            alerts: self.config.max_alerts_per_invocation,
            changes: self.remediator.max_changes(),
        }
    }

    /// One delivery's `data` (base64 of gzip of the subscription JSON), decoded and planned: what it says and
    /// every problem it holds, nothing sent yet. Its inflated buffer serves the next delivery.
    fn prepare(
        &self,
        data: &str,
        size: usize,
        metrics: &mut Metrics,
    ) -> Result<Prepared, HandlerError> {
        let json = match ingest::inflate(data, self.config.max_inflated_bytes) {
            Ok(json) => json,
            Err(source) => return Err(decode_failure(size, source, metrics)),
        };
        let result = self.plan_inflated(&json, data, size, metrics);
        // Read: its buffer serves the next delivery (no zeroing, no page faults).
        ingest::recycle(json);
        result
    }

    fn plan_inflated(
        &self,
        json: &[u8],
        data: &str,
        size: usize,
        metrics: &mut Metrics,
    ) -> Result<Prepared, HandlerError> {
        let batch = match ingest::parse_raw_batch(json) {
            Ok(batch) => batch,
            Err(source) => return Err(decode_failure(size, source, metrics)),
        };
        if batch.is_control_message() {
            metrics.control_messages += 1;
            tracing::info!(log_group = %batch.log_group, "Control message received");
            return Ok(Prepared {
                outcome: Outcome {
                    control_message: true,
                    ..Outcome::default()
                },
                plan: Plan::default(),
            });
        }
        let (found, mut plan) =
            plan_batch_within(&batch, self.config, self.config.max_alerts_per_invocation);
        let delivery = delivery_id(
            &batch.log_group,
            &batch.log_stream,
            batch.log_events.len(),
            data,
        );
        // What waits for the rest of the batch: only what the invocation can send or list of this delivery.
        plan.keep_top(self.config.max_alerts_per_invocation + OVERFLOW_ADMITTED);
        for alert in plan.alerts.iter_mut().chain(&mut plan.overflow) {
            alert.delivery = Some(delivery.clone());
        }
        metrics.events += batch.log_events.len() as u64;
        metrics.requests += found.requests;
        metrics.add_causes(&found.by_cause);
        metrics.add_problems(&plan);
        metrics.access_log_lines_unread += found.unread_access_log_lines;
        metrics.oversized_records += found.oversized_records;
        if found.oversized_records > 0 {
            tracing::warn!(
                log_group = %batch.log_group,
                records = found.oversized_records,
                "JSON records past an access-log format's bounds (depth, fields, key or record length) skipped unread"
            );
        }
        if found.unread_access_log_lines > 0 {
            tracing::warn!(
                log_group = %batch.log_group,
                lines = found.unread_access_log_lines,
                "Access-log lines in a CLF-like layout skipped: use a JSON access-log format"
            );
        }
        Ok(Prepared {
            outcome: Outcome {
                control_message: false,
                events: batch.log_events.len() as u64,
                requests: found.requests,
                causes: found
                    .by_cause
                    .iter()
                    .map(|(c, n)| (c.as_str().to_owned(), *n))
                    .collect(),
                unread_access_log_lines: found.unread_access_log_lines,
                alerts_sent: 0,
            },
            plan,
        })
    }

    /// Sends what an invocation's deliveries call for, ranked together ([`rank_invocation`]): each alert is
    /// published right after noise control admitted it, most severe first, and none is started without the time
    /// to finish, so a state written `open` always belongs to a message sent (or taken back): the deadline can cut
    /// the list short but never leave a problem recorded as alerted and unsent. Then the one overflow message.
    /// Remediation failures are reported in the alert; they never fail the invocation.
    async fn send_invocation(
        &self,
        plans: Vec<(usize, Plan)>,
        budget: &mut Budget,
        metrics: &mut Metrics,
    ) -> Sent {
        let Invocation {
            alerts,
            overflow,
            unlisted,
        } = rank_invocation(plans, budget.alerts);
        let mut sent = Sent::default();
        let has_overflow = !overflow.is_empty() || !unlisted.is_empty();
        budget.alerts = budget
            .alerts
            .saturating_sub(alerts.len() + usize::from(has_overflow));
        for (i, (index, alert)) in alerts.iter().enumerate() {
            if !self.has_time_for_a_step() {
                sent.cut(&alerts[i..], &overflow);
                break;
            }
            let mut report = self.remediator.remediate(alert, &mut budget.changes).await;
            metrics.add_remediation(&report);
            if !self.has_time_for_a_step() {
                sent.cut(&alerts[i..], &overflow);
                break;
            }
            let Some((notice, undo)) = self.admit(alert, &report, metrics).await else {
                continue;
            };
            self.offer(alert, &mut report, metrics).await;
            let message = render_noticed(alert, &report, notice.as_ref());
            let undo = undo.map(|u| vec![*u]).unwrap_or_default();
            let result = self.send(&message, undo, metrics).await;
            sent.record(result, [*index]);
        }
        if sent.not_tried == 0 && has_overflow {
            let (indexes, overflow): (Vec<usize>, Vec<Alert>) = overflow.into_iter().unzip();
            let plan = Plan {
                alerts: Vec::new(),
                overflow,
                unlisted,
            };
            if let Some((message, undo)) = self.overflow(&plan, metrics).await {
                // Every delivery with a problem in it is retried when it cannot go out.
                let result = self.send(&message, undo, metrics).await;
                sent.record(result, indexes);
            }
        }
        if sent.not_tried > 0 {
            metrics.deadline_cut += sent.not_tried as u64;
            tracing::error!(
                left = sent.not_tried,
                sent = sent.sent,
                "Deadline before every alert was tried: failing so that the retry sends the rest"
            );
        }
        sent
    }
}

/// One delivery decoded and planned, nothing sent yet.
struct Prepared {
    outcome: Outcome,
    plan: Plan,
}

/// What [`Handler::send_invocation`] did.
#[derive(Default)]
struct Sent {
    /// Messages admitted and tried, and of them published.
    tried: usize,
    sent: u64,
    /// The first publish failure, and the deliveries whose messages failed.
    first_failure: Option<PublishError>,
    failed_records: std::collections::BTreeSet<usize>,
    /// Alerts (and the overflow message) not started for lack of time, and the deliveries they belong to.
    not_tried: usize,
    cut_records: std::collections::BTreeSet<usize>,
}

impl Sent {
    /// One message tried for these deliveries.
    fn record(
        &mut self,
        result: Result<(), PublishError>,
        deliveries: impl IntoIterator<Item = usize>,
    ) {
        self.tried += 1;
        match result {
            Ok(()) => self.sent += 1,
            Err(error) => {
                self.failed_records.extend(deliveries);
                self.first_failure.get_or_insert(error);
            }
        }
    }

    /// The deadline came: `left` and the overflow after them are not tried; their deliveries are retried.
    fn cut(&mut self, left: &[(usize, Alert)], overflow: &[(usize, Alert)]) {
        self.not_tried = left.len() + usize::from(!overflow.is_empty());
        self.cut_records
            .extend(left.iter().chain(overflow).map(|(i, _)| *i));
    }
}

/// The pure part of an invocation: what a decoded batch says, and the alerts it calls for.
pub fn plan_batch(batch: &RawBatch<'_>, config: &Config) -> (Findings, Plan) {
    plan_batch_within(batch, config, config.max_alerts_per_invocation)
}

/// [`plan_batch`] when only `max_alerts` problems may still get an alert of their own.
pub fn plan_batch_within(
    batch: &RawBatch<'_>,
    config: &Config,
    max_alerts: usize,
) -> (Findings, Plan) {
    let origin = Origin::new(&batch.owner, &batch.log_group, &batch.log_stream)
        .with_mapping(&config.access_log_apis);
    let mut grouping = Grouping::new(&config.region, config.sample_request_ids);
    let found = find_escaped_each(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.escaped())),
        |problem| grouping.add_problem(problem),
    );
    (found, grouping.plan(max_alerts))
}

/// The messages a batch calls for when nothing is remediated (snapshots, previews).
pub fn plan_messages(batch: &RawBatch<'_>, config: &Config) -> (Findings, Vec<Message>) {
    let (found, plan) = plan_batch(batch, config);
    let none = Report::none();
    let messages = plan
        .alerts
        .iter()
        .map(|alert| render(alert, &none))
        .chain(render_overflow(&plan.overflow, &plan.unlisted, None))
        .collect();
    (found, messages)
}

fn decode_failure(size: usize, source: DecodeError, metrics: &mut Metrics) -> HandlerError {
    metrics.decode_failures += 1;
    // The payload itself is never logged: it is the customer's logs. Size and reason are what an operator needs
    // to find it in the on-failure destination.
    tracing::error!(size, kind = source.kind(), error = %source, "Delivery could not be decoded");
    HandlerError::Decode { size, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records what would have been published.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<Message>>,
        fail: bool,
    }

    impl Publisher for Recorder {
        async fn publish(&self, message: &Message) -> Result<String, PublishError> {
            if self.fail {
                return Err(PublishError::Sns {
                    topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
                    reason: "service unavailable".into(),
                });
            }
            let mut sent = self.sent.lock().unwrap();
            sent.push(message.clone());
            Ok(format!("m{}", sent.len()))
        }
    }

    fn event(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn run(
        event: &[u8],
        publisher: &Recorder,
        metrics: &mut Metrics,
    ) -> Result<Outcome, HandlerError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(handle(
            event,
            &Config::default(),
            publisher,
            &crate::remediate::Disabled,
            metrics,
        ))
    }

    /// A delivery from `log_group` with one message per record.
    fn access_delivery(log_group: &str, records: &[&str]) -> Vec<u8> {
        crate::ingest::encode(&crate::ingest::Batch {
            message_type: "DATA_MESSAGE".into(),
            owner: "123456789012".into(),
            log_group: log_group.into(),
            log_stream: "s".into(),
            subscription_filters: vec!["apigw-doctor".into()],
            log_events: records
                .iter()
                .enumerate()
                .map(|(i, r)| crate::ingest::LogEvent {
                    id: i.to_string().into(),
                    timestamp: 1_764_000_000_000 + i as i64,
                    message: (*r).into(),
                })
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn an_unmapped_access_log_record_names_no_api_in_an_alert() {
        // The probe: a 200 whose unescaped User-Agent adds case variants of existing keys, and a 500 whose record
        // claims another API. Neither may raise an alert on the API the text names.
        let forged = r#"{"requestId":"r1","apiId":"a1b2c3d4e5","status":"200","userAgent":"x","Status":"502","IntegrationErrorMessage":"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration","ApiId":"victim0001","ua":"y"}"#;
        let claimed = r#"{"requestId":"r2","apiId":"victim0001","stage":"prod","status":"500","routeKey":"POST /orders","integrationErrorMessage":"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration. Check the permissions and try again."}"#;
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        run(
            &access_delivery("/team/access-orders", &[forged, claimed]),
            &recorder,
            &mut metrics,
        )
        .unwrap();
        let sent = recorder.sent.lock().unwrap();
        assert_eq!(sent.len(), 1, "only the real 500");
        assert!(
            !sent[0].subject.contains("victim0001"),
            "{}",
            sent[0].subject
        );
        assert!(!sent[0].bodies.email().contains("victim0001"));
        assert!(
            sent[0]
                .attributes
                .iter()
                .all(|(k, v)| *k != "api_id" || v == "unknown"),
            "{:?}",
            sent[0].attributes
        );
    }

    #[test]
    fn a_record_nested_past_the_bounds_is_counted_and_the_real_alert_still_goes_out() {
        // The probe's record: 50 levels of 2,000-character keys (219 KB), beside a real failure.
        let key = "k".repeat(2_000);
        let nested = format!(
            "{}\"status\":\"500\"{}",
            format!("{{\"{key}\":").repeat(50),
            "}".repeat(50)
        );
        let real = r#"{"requestId":"r2","status":"500","routeKey":"POST /orders","integrationErrorMessage":"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration. Check the permissions and try again."}"#;
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let outcome = run(
            &access_delivery("/team/access-orders", &[&nested, real]),
            &recorder,
            &mut metrics,
        )
        .unwrap();
        assert_eq!(metrics.oversized_records, 1);
        assert_eq!(outcome.alerts_sent, 1);
        assert!(
            recorder.sent.lock().unwrap()[0]
                .subject
                .contains("missing_invoke_permission")
        );
    }

    #[test]
    fn mixed_batch_gives_one_alert_per_problem() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let outcome = run(&event("mixed-batch"), &recorder, &mut metrics).unwrap();
        assert_eq!(outcome.requests, 7);
        assert_eq!(outcome.alerts_sent, 3);
        assert_eq!(outcome.causes["ok"], 3);
        let subjects: Vec<String> = recorder
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.subject.clone())
            .collect();
        // The most severe first (the deadline may cut the list short), first appearance among equals.
        assert_eq!(
            subjects,
            [
                "[apigw-doctor] 500 missing_invoke_permission on uwe3g5jm54/Prod (1)",
                "[apigw-doctor] 502 malformed_proxy_response on uwe3g5jm54/Prod POST /receipt (1)",
                "[apigw-doctor] 502 function_timeout on uwe3g5jm54/Prod GET /echo (1)",
            ]
        );
        assert_eq!(metrics.alerts_sent, 3);
    }

    /// The base64 of a delivery's gzip'd JSON (what a Kinesis record carries): `n` failing requests of `owner` on
    /// distinct routes, each with the sentence `failure`.
    fn record_data(owner: &str, n: usize, failure: &str) -> String {
        let messages: Vec<String> = (0..n)
            .flat_map(|i| {
                let id = format!("{i:08x}-aaaa-4bbb-8ccc-{owner}");
                [
                    format!("({id}) HTTP Method: POST, Resource Path: /r{i}"),
                    format!("({id}) {failure}"),
                    format!("({id}) Method completed with status: 500"),
                ]
            })
            .collect();
        let wire = crate::ingest::encode(&crate::ingest::Batch {
            message_type: "DATA_MESSAGE".into(),
            owner: owner.into(),
            log_group: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
            log_stream: "s".into(),
            subscription_filters: vec!["apigw-doctor".into()],
            log_events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| crate::ingest::LogEvent {
                    id: i.to_string().into(),
                    timestamp: 1_764_000_000_000 + i as i64,
                    message: m.as_str().into(),
                })
                .collect(),
        })
        .unwrap();
        let delivery: serde_json::Value = serde_json::from_slice(&wire).unwrap();
        delivery["awslogs"]["data"].as_str().unwrap().to_owned()
    }

    #[test]
    fn a_noisy_account_first_in_a_batch_cannot_starve_anothers_critical_problem() {
        // Record 0: a noisy account, thirty functions timing out (high). Record 1: one route of another account
        // whose function lost its invoke permission (critical).
        let noisy = record_data(
            "111122223333",
            30,
            "Execution failed due to a timeout error",
        );
        let critical = record_data(
            "444455556666",
            1,
            "Execution failed due to configuration error: Invalid permissions on Lambda function",
        );
        let payload = serde_json::to_vec(&serde_json::json!({"Records": [
            {"kinesis": {"data": noisy, "sequenceNumber": "1"}},
            {"kinesis": {"data": critical, "sequenceNumber": "2"}},
        ]}))
        .unwrap();
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let config = Config {
            max_alerts_per_invocation: 4,
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(handle_payload(
                &payload,
                &config,
                &recorder,
                &crate::remediate::Disabled,
                &mut metrics,
            ))
            .unwrap();
        let sent = recorder.sent.lock().unwrap();
        let subjects: Vec<&String> = sent.iter().map(|m| &m.subject).collect();
        assert_eq!(sent.len(), 4, "{subjects:?}");
        // The critical problem of the second record has an alert of its own, sent first.
        assert!(
            subjects[0].contains("missing_invoke_permission"),
            "{subjects:?}"
        );
        // The noisy record's other problems are in the one overflow message, not dropped.
        assert!(
            subjects.iter().any(|s| s.contains("28 more problems")),
            "{subjects:?}"
        );
    }

    #[test]
    fn a_record_waiting_in_a_batch_keeps_only_what_the_invocation_can_send_and_counts_the_rest() {
        // 400 distinct routes in one record: 120 (20 alerts + 100 listed) itemised, 280 counted, none lost.
        let data = record_data(
            "111122223333",
            400,
            "Execution failed due to a timeout error",
        );
        let config = Config::default();
        let recorder = Recorder::default();
        let handler = Handler::new(
            &config,
            &recorder,
            &crate::remediate::Disabled,
            &NoSuppression,
        );
        let mut metrics = Metrics::default();
        let prepared = handler.prepare(&data, data.len(), &mut metrics).unwrap();
        let itemised = prepared.plan.alerts.len() + prepared.plan.overflow.len();
        assert_eq!(
            itemised,
            config.max_alerts_per_invocation + OVERFLOW_ADMITTED
        );
        assert_eq!(prepared.plan.unlisted.totals(), (280, 280));
    }

    /// A Kinesis batch of `records` copies of one delivery's data (mixed-batch: three problems each).
    fn kinesis_batch(records: usize) -> Vec<u8> {
        let delivery: serde_json::Value = serde_json::from_slice(&event("mixed-batch")).unwrap();
        let data = delivery["awslogs"]["data"].as_str().unwrap();
        let records: Vec<serde_json::Value> = (0..records)
            .map(
                |i| serde_json::json!({"kinesis": {"data": data, "sequenceNumber": i.to_string()}}),
            )
            .collect();
        serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
    }

    #[test]
    fn the_alert_limit_is_per_invocation_not_per_kinesis_record() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let config = Config {
            max_alerts_per_invocation: 4,
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime
            .block_on(handle_payload(
                &kinesis_batch(5),
                &config,
                &recorder,
                &crate::remediate::Disabled,
                &mut metrics,
            ))
            .unwrap();
        assert!(matches!(response, Response::Kinesis(r) if r.batch_item_failures.is_empty()));
        // Five records of three problems: three alerts, one overflow, and no more for this invocation.
        let sent = recorder.sent.lock().unwrap();
        assert_eq!(
            sent.len(),
            4,
            "{:?}",
            sent.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        assert_eq!(
            sent.iter()
                .filter(|m| m.subject.contains("more problems"))
                .count(),
            1
        );
        // The records are one invocation: the other twelve problems are all in its one overflow message, none only
        // logged (a later record's problems used to be).
        assert!(
            sent.iter().any(|m| m.subject.contains("12 more problems")),
            "{:?}",
            sent.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        assert_eq!(metrics.alerts_not_sent, 0);
    }

    /// Self-healing that "applies" a change for every alert while the budget lasts, and counts them.
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Remediator for Counting {
        async fn remediate(&self, _alert: &crate::alert::Alert, budget: &mut usize) -> Report {
            if *budget > 0 {
                *budget -= 1;
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Report::none()
        }
        fn max_changes(&self) -> usize {
            3
        }
    }

    #[test]
    fn the_change_budget_is_per_invocation_not_per_kinesis_record() {
        let recorder = Recorder::default();
        let remediator = Counting(Default::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(handle_payload(
                &kinesis_batch(5),
                &Config::default(),
                &recorder,
                &remediator,
                &mut Metrics::default(),
            ))
            .unwrap();
        // Five records with three alerts each: three changes in all, as REMEDIATION_MAX_CHANGES says.
        assert_eq!(remediator.0.load(std::sync::atomic::Ordering::Relaxed), 3);
    }

    /// An SNS endpoint that accepts and never answers.
    struct Hanging;

    impl Publisher for Hanging {
        async fn publish(&self, _message: &Message) -> Result<String, PublishError> {
            std::future::pending().await
        }
    }

    #[test]
    fn a_hanging_endpoint_gives_up_before_the_deadline_and_fails_the_invocation_for_a_retry() {
        let config = Config::default();
        let mut handler = Handler::new(
            &config,
            &Hanging,
            &crate::remediate::Disabled,
            &NoSuppression,
        );
        handler.deadline = Some(
            std::time::Instant::now()
                + DEADLINE_MARGIN
                + STEP_RESERVE
                + std::time::Duration::from_millis(300),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let mut metrics = Metrics::default();
        let err = runtime
            .block_on(handler.payload(&event("mixed-batch"), &mut metrics))
            .unwrap_err();
        // The first alert's publish is abandoned at the margin; no other is started after it.
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        let HandlerError::Deadline { left, total, sent } = err else {
            panic!("a deadline error: {err}");
        };
        assert_eq!((left, total, sent), (2, 3, 0));
        assert_eq!(metrics.publish_failures, 1);
        assert_eq!(metrics.deadline_cut, 2);
    }

    /// A table that takes `delay` to admit, and remembers what it admitted and what was taken back.
    #[derive(Default)]
    struct SlowTable {
        delay: std::time::Duration,
        admitted: std::sync::Mutex<Vec<String>>,
        undone: std::sync::Mutex<Vec<String>>,
    }

    impl Suppressor for SlowTable {
        fn is_configured(&self) -> bool {
            true
        }
        async fn admit(&self, alert: &Alert, _: &Report) -> Admission {
            tokio::time::sleep(self.delay).await;
            self.admitted
                .lock()
                .unwrap()
                .push(alert.fingerprint.clone());
            Admission::Send {
                notice: Some(Notice::First),
                undo: Some(Box::new(crate::suppress::Undo {
                    previous: None,
                    written_version: 1,
                    fingerprint: alert.fingerprint.clone(),
                })),
            }
        }
        async fn undo(&self, undo: Box<crate::suppress::Undo>) {
            self.undone.lock().unwrap().push(undo.fingerprint);
        }
        async fn sweep(&self) -> Result<Vec<crate::suppress::SweepItem>, SuppressError> {
            Ok(Vec::new())
        }
        async fn close(&self, _: &crate::suppress::SweepItem) -> Result<bool, SuppressError> {
            Ok(true)
        }
        async fn remember(&self, _: &str, _: i64) -> Result<bool, SuppressError> {
            Ok(true)
        }
    }

    /// Remembers the subject of every message published.
    #[derive(Default)]
    struct Recording(std::sync::Mutex<Vec<String>>);

    impl Publisher for Recording {
        async fn publish(&self, message: &Message) -> Result<String, PublishError> {
            self.0.lock().unwrap().push(message.subject.clone());
            Ok("id".to_owned())
        }
    }

    #[test]
    fn a_slow_table_at_the_deadline_never_leaves_a_problem_admitted_and_unsent() {
        let config = Config::default();
        let table = SlowTable {
            delay: std::time::Duration::from_millis(400),
            ..SlowTable::default()
        };
        let publisher = Recording::default();
        let mut handler = Handler::new(&config, &publisher, &crate::remediate::Disabled, &table);
        // Time for two problems of three at 400 ms an admission.
        handler.deadline = Some(
            std::time::Instant::now()
                + DEADLINE_MARGIN
                + STEP_RESERVE
                + std::time::Duration::from_millis(600),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mut metrics = Metrics::default();
        let err = runtime
            .block_on(handler.payload(&event("mixed-batch"), &mut metrics))
            .unwrap_err();
        let HandlerError::Deadline { left, sent, .. } = err else {
            panic!("a deadline error: {err}");
        };
        assert_eq!((left, sent), (1, 2));
        // Every state written is a message sent: nothing admitted waits for a publish that never comes.
        let admitted = table.admitted.lock().unwrap().clone();
        let published = publisher.0.lock().unwrap().clone();
        assert!(table.undone.lock().unwrap().is_empty());
        assert_eq!(admitted.len(), 2);
        assert_eq!(published.len(), 2, "{published:?}");
        // The most severe first: the permission problem (critical) went out before the deadline.
        assert!(
            published[0].contains("missing_invoke_permission"),
            "{published:?}"
        );
    }

    #[test]
    fn bad_payload_fails_the_invocation_and_is_counted() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let err = run(&event("bad-payload"), &recorder, &mut metrics).unwrap_err();
        assert!(matches!(err, HandlerError::Decode { .. }));
        assert_eq!(metrics.decode_failures, 1);
        assert!(recorder.sent.lock().unwrap().is_empty());
    }

    #[test]
    fn control_message_sends_nothing() {
        let recorder = Recorder::default();
        let mut metrics = Metrics::default();
        let outcome = run(&event("control-message"), &recorder, &mut metrics).unwrap();
        assert!(outcome.control_message);
        assert_eq!(metrics.control_messages, 1);
        assert!(recorder.sent.lock().unwrap().is_empty());
    }

    #[test]
    fn publish_failure_fails_the_invocation_after_trying_every_alert() {
        let recorder = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let mut metrics = Metrics::default();
        let err = run(&event("mixed-batch"), &recorder, &mut metrics).unwrap_err();
        assert!(
            matches!(
                err,
                HandlerError::Publish {
                    failed: 3,
                    total: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(metrics.publish_failures, 3);
    }
}
