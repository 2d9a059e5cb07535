//! One install for a whole organisation: the monitoring account's sweep works in each member account through the
//! role that account's stack creates (`member/template.yaml`), with no code there.
//!
//! Per member account, per sweep: assume the role; discovery subscribes the account's API Gateway log groups to
//! the fan-in destination (`FAN_IN_DESTINATION_ARN`, a CloudWatch Logs destination of this account); the latent
//! audit and self-healing run there with the same planner, guards and audit trail as at home. What a member
//! account allows is what its role allows: the planner never reaches further.
//!
//! Bounded work: accounts are taken in turn ([`MEMBER_CONCURRENCY`] at once, each account's own calls
//! sequential), each remembered in the suppression table for `MEMBER_SWEEP_MINUTES` (so the next sweeps go on where
//! this one stopped), until [`MAX_MEMBER_ACCOUNTS_PER_SWEEP`] or the invocation's deadline (checked before each
//! account, each log group and each API audit). The SDK retries throttling with back-off. A role
//! that cannot be assumed is one alert a day naming the account and the role; the other accounts are still served.

pub mod aws;

use std::future::Future;

use serde::Serialize;

use super::{Budget, Handler, Metrics, NoLogs};
use crate::alert::Alert;
use crate::audit::auditor::{Auditor, NoAudit};
use crate::publish::render::render_member_unreachable;
use crate::publish::sns::Publisher;
use crate::remediate::approval::{Approval, PendingPlan};
use crate::remediate::plan::partition_of;
use crate::remediate::{Disabled, Remediator, Report};
use crate::subscribe::LogsApi;
use crate::suppress::Suppressor;

/// Member accounts swept in one invocation at most (each is a role assumption, discovery and an audit): six
/// rounds of [`MEMBER_CONCURRENCY`], about 30 s of AWS calls for accounts of 50 APIs (BENCHMARKS.md); the deadline
/// stops earlier when accounts are larger.
pub const MAX_MEMBER_ACCOUNTS_PER_SWEEP: usize = 48;
/// Member accounts worked on at once (each account's own calls stay sequential, within its own quotas).
pub const MEMBER_CONCURRENCY: usize = 8;
/// The sweep's schedule (template `SweepSchedule`: rate(5 minutes)).
pub const SWEEP_PERIOD_MS: u64 = 300_000;
/// A member account whose role cannot be assumed is reported again after this long.
pub const UNREACHABLE_REMINDER_MS: i64 = 24 * 3_600_000;

pub use super::config::MemberSettings as Settings;

/// The ports of one member account, reached through its role.
pub struct Member<L, A, R> {
    pub logs: L,
    pub auditor: A,
    pub remediator: R,
}

/// The ports a [`Members`] gives for one account.
pub type MemberOf<M> =
    Member<<M as Members>::Logs, <M as Members>::Auditor, <M as Members>::Remediator>;

/// Reaches member accounts: assumes the role and builds that account's ports.
pub trait Members {
    type Logs: LogsApi + Send + Sync;
    type Auditor: Auditor + Send + Sync;
    type Remediator: Remediator + Send + Sync;
    /// Whether there are member accounts to sweep.
    fn is_configured(&self) -> bool;
    /// Whether `account` is one of them.
    fn is_member(&self, account: &str) -> bool;
    /// The account's ports; `Err` says why its role cannot be assumed (removed, trust changed, no such account).
    fn connect(&self, account: &str)
    -> impl Future<Output = Result<MemberOf<Self>, String>> + Send;
}

/// No member accounts (a single-account install, the CLI, tests of other paths).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMembers;

impl Members for NoMembers {
    type Logs = NoLogs;
    type Auditor = NoAudit;
    type Remediator = Disabled;

    fn is_configured(&self) -> bool {
        false
    }

    fn is_member(&self, _: &str) -> bool {
        false
    }

    async fn connect(&self, account: &str) -> Result<Member<NoLogs, NoAudit, Disabled>, String> {
        Err(format!("no member accounts are configured ({account})"))
    }
}

/// Self-healing across the organisation: an alert is planned in the account it names (a Kinesis fan-in record's
/// owner, a latent problem's account), through that account's role; the home account's alerts as before. An
/// account that is neither is refused by the home remediator, as it always was.
pub struct Organisation<'a, R, M> {
    pub home: R,
    pub members: &'a M,
}

impl<R: Remediator + Sync, M: Members + Sync> Remediator for Organisation<'_, R, M> {
    async fn remediate(&self, alert: &Alert, budget: &mut usize) -> Report {
        match alert.account.as_deref() {
            Some(account) if self.members.is_member(account) => {
                match self.members.connect(account).await {
                    Ok(member) => member.remediator.remediate(alert, budget).await,
                    Err(reason) => Report::refused(format!(
                        "the API is in member account {account}, whose role cannot be assumed: {reason}"
                    )),
                }
            }
            _ => self.home.remediate(alert, budget).await,
        }
    }

    fn max_changes(&self) -> usize {
        self.home.max_changes()
    }

    async fn approve(&self, plan: &PendingPlan, budget: &mut usize) -> Approval {
        if self.members.is_member(&plan.account) {
            return match self.members.connect(&plan.account).await {
                Ok(member) => member.remediator.approve(plan, budget).await,
                Err(reason) => Approval::refused(format!(
                    "member account {}'s role cannot be assumed: {reason}",
                    plan.account
                )),
            };
        }
        self.home.approve(plan, budget).await
    }
}

/// A member account's remediator: every plan it makes says which role it was made (and applied) through.
pub struct ThroughRole<R> {
    pub inner: R,
    pub role: String,
}

impl<R: Remediator + Sync> Remediator for ThroughRole<R> {
    async fn remediate(&self, alert: &Alert, budget: &mut usize) -> Report {
        let mut report = self.inner.remediate(alert, budget).await;
        if !report.actions.is_empty() {
            report.acted_as = Some(self.role.clone());
        }
        report
    }

    fn max_changes(&self) -> usize {
        self.inner.max_changes()
    }

    async fn approve(&self, plan: &PendingPlan, budget: &mut usize) -> Approval {
        self.inner.approve(plan, budget).await
    }
}

/// What the sweep did in one member account.
#[derive(Debug, Default)]
struct AccountSwept {
    subscribed: u64,
    groups_left: u64,
    latent_alerts: u64,
    fixed: u64,
    failed: Vec<String>,
}

/// What the sweep did in member accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MembersReport {
    /// Accounts worked in this sweep.
    pub swept: Vec<String>,
    /// Log groups of member accounts subscribed to the fan-in destination (new or updated).
    pub subscribed: u64,
    /// Latent problems alerted in member accounts, and of those fixed.
    pub latent_alerts: u64,
    pub fixed: u64,
    /// `account: reason` for each account whose role could not be assumed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// Accounts left for the next sweeps (the cap or the deadline came first).
    pub left: u64,
    /// Log groups of swept accounts not looked at (the deadline): the next sweep of the account goes on.
    pub groups_left: u64,
    /// What could not be done (discovery or audit failures, per account).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

impl<P, R, S, L, C, A, M> Handler<'_, P, R, S, L, C, A, M>
where
    P: Publisher,
    R: Remediator,
    S: Suppressor,
    L: LogsApi,
    C: super::custom_resource::Responder,
    A: Auditor,
    M: Members,
{
    /// The member accounts due, in turn, [`MEMBER_CONCURRENCY`] at a time, until the cap or the deadline. Never
    /// fails the sweep.
    pub(super) async fn sweep_members(&self, metrics: &mut Metrics) -> MembersReport {
        let mut report = MembersReport::default();
        let settings = &self.config.members;
        if !self.members.is_configured() {
            return report;
        }
        let n = settings.accounts.len();
        // Each 5-minute sweep starts further along the list: when more accounts are due than one sweep can do,
        // none waits for ever behind the others (those swept in the period are skipped either way).
        let now_ms = self.now_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        });
        let start =
            ((now_ms / SWEEP_PERIOD_MS) as usize).wrapping_mul(MAX_MEMBER_ACCOUNTS_PER_SWEEP) % n;
        let mut in_turn = settings.accounts.iter().cycle().skip(start).take(n);
        let mut looked_at = 0;
        loop {
            let taken = report.swept.len() + report.unreachable.len();
            if taken >= MAX_MEMBER_ACCOUNTS_PER_SWEEP || !self.has_time_for_a_step() {
                report.left = (n - looked_at) as u64;
                break;
            }
            // The next accounts due, remembered before the work: a sweep that dies mid-account does not retry it
            // at once, and two concurrent sweeps share the accounts. Without a table nothing is remembered.
            let room = MEMBER_CONCURRENCY.min(MAX_MEMBER_ACCOUNTS_PER_SWEEP - taken);
            let mut chunk = Vec::with_capacity(room);
            while chunk.len() < room {
                let Some(account) = in_turn.next() else { break };
                looked_at += 1;
                if !self.suppressor.is_configured() {
                    chunk.push(account.as_str());
                    continue;
                }
                let key = format!("member#{account}/{}", self.config.region);
                match self.suppressor.remember(&key, settings.every_ms).await {
                    Ok(true) => chunk.push(account.as_str()),
                    Ok(false) => {}
                    Err(error) => {
                        metrics.suppression_errors += 1;
                        report.failed.push(format!("{account}: {error}"));
                    }
                }
            }
            if chunk.is_empty() {
                break;
            }
            // Each account in its own account's quotas: working on several at once keeps every account's calls
            // sequential (CloudWatch Logs and API Gateway throttle per account) while the sweep ends sooner.
            let done = futures_util::future::join_all(chunk.iter().map(|account| async move {
                let mut own = Metrics::default();
                let outcome = self.sweep_member(account, &mut own).await;
                (account, outcome, own)
            }))
            .await;
            for (account, outcome, own) in done {
                metrics.absorb(own);
                match outcome {
                    Err(reason) => report.unreachable.push(format!("{account}: {reason}")),
                    Ok(one) => {
                        report.swept.push((*account).to_owned());
                        report.subscribed += one.subscribed;
                        report.groups_left += one.groups_left;
                        report.latent_alerts += one.latent_alerts;
                        report.fixed += one.fixed;
                        report.failed.extend(one.failed);
                    }
                }
            }
        }
        report
    }

    /// One member account: its role assumed, discovery to the fan-in destination, the latent audit and healing.
    async fn sweep_member(
        &self,
        account: &str,
        metrics: &mut Metrics,
    ) -> Result<AccountSwept, String> {
        let settings = &self.config.members;
        let member = match self.members.connect(account).await {
            Ok(member) => member,
            Err(reason) => {
                let role = settings.role_arn(partition_of(&self.config.region), account);
                tracing::error!(account, role, %reason, "Member account's role cannot be assumed");
                self.report_unreachable(account, &role, &reason, metrics)
                    .await;
                return Err(reason);
            }
        };
        let mut swept = AccountSwept::default();
        let handler = Handler {
            deadline: self.deadline,
            now_ms: self.now_ms,
            config: self.config,
            publisher: self.publisher,
            remediator: &member.remediator,
            suppressor: self.suppressor,
            logs: &member.logs,
            responder: self.responder,
            auditor: &member.auditor,
            members: &NoMembers,
        };
        if self.config.discovery.enabled
            && let Some(destination) = settings.destination_arn.as_deref()
        {
            let subscriptions = handler.discover(destination, metrics).await;
            swept.subscribed =
                (subscriptions.subscribed.len() + subscriptions.updated.len()) as u64;
            swept.groups_left = subscriptions.left;
            swept.failed.extend(
                subscriptions
                    .failed
                    .iter()
                    .map(|f| format!("{account}: {f}")),
            );
        }
        if let Some(every) = self.config.latent_audit_every_ms
            && member.auditor.is_configured()
        {
            let mut budget = Budget {
                alerts: self.config.max_alerts_per_invocation,
                changes: member.remediator.max_changes(),
            };
            let latent = handler
                .audit_latent(account, every, &mut budget, metrics)
                .await;
            swept.latent_alerts = latent.alerts_sent;
            swept.fixed = latent.fixed;
            swept
                .failed
                .extend(latent.failed.iter().map(|f| format!("{account}: {f}")));
        }
        Ok(swept)
    }

    /// One alert a day per member account whose role cannot be assumed: its APIs are not watched meanwhile.
    async fn report_unreachable(
        &self,
        account: &str,
        role: &str,
        reason: &str,
        metrics: &mut Metrics,
    ) {
        let key = format!("member-unreachable#{account}/{}", self.config.region);
        match self
            .suppressor
            .remember(&key, UNREACHABLE_REMINDER_MS)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                metrics.suppression_errors += 1;
                tracing::warn!(%error, "Unreachable member not remembered: alerting anyway");
            }
        }
        let message = render_member_unreachable(account, &self.config.region, role, reason);
        if let Err(error) = self.send(&message, Vec::new(), metrics).await {
            tracing::error!(%error, account, "Alert for an unreachable member account not sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::config::Config;
    use crate::publish::render::Message;
    use crate::publish::sns::PublishError;
    use crate::suppress::{Admission, SuppressError, SweepItem, Undo};
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// Remembers keys in memory; every alert goes out.
    #[derive(Default)]
    struct Memory(Mutex<HashSet<String>>);

    impl Suppressor for Memory {
        fn is_configured(&self) -> bool {
            true
        }
        async fn admit(&self, _: &Alert, _: &Report) -> Admission {
            Admission::Send {
                notice: None,
                undo: None,
            }
        }
        async fn undo(&self, _: Box<Undo>) {}
        async fn sweep(&self) -> Result<Vec<SweepItem>, SuppressError> {
            Ok(Vec::new())
        }
        async fn close(&self, _: &SweepItem) -> Result<bool, SuppressError> {
            Ok(true)
        }
        async fn remember(&self, key: &str, _: i64) -> Result<bool, SuppressError> {
            Ok(self.0.lock().unwrap().insert(key.to_owned()))
        }
    }

    #[derive(Default)]
    struct Recording(Mutex<Vec<Message>>);

    impl Publisher for Recording {
        async fn publish(&self, message: &Message) -> Result<String, PublishError> {
            self.0.lock().unwrap().push(message.clone());
            Ok("id".to_owned())
        }
    }

    /// Member accounts in memory: the ones in `gone` removed the role.
    struct Fake {
        accounts: Vec<String>,
        gone: Vec<String>,
        connects: Mutex<Vec<String>>,
    }

    impl Members for Fake {
        type Logs = NoLogs;
        type Auditor = NoAudit;
        type Remediator = Disabled;
        fn is_configured(&self) -> bool {
            true
        }
        fn is_member(&self, account: &str) -> bool {
            self.accounts.iter().any(|a| a == account)
        }
        async fn connect(
            &self,
            account: &str,
        ) -> Result<Member<NoLogs, NoAudit, Disabled>, String> {
            self.connects.lock().unwrap().push(account.to_owned());
            if self.gone.iter().any(|a| a == account) {
                return Err("AccessDenied: not authorized to perform sts:AssumeRole".to_owned());
            }
            Ok(Member {
                logs: NoLogs,
                auditor: NoAudit,
                remediator: Disabled,
            })
        }
    }

    fn accounts(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i as u64))
            .collect()
    }

    fn sweep(config: &Config, members: &Fake, table: &Memory, sent: &Recording) -> MembersReport {
        let handler = Handler::new(config, sent, &Disabled, table).with_members(members);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(handler.sweep_members(&mut Metrics::default()))
    }

    #[test]
    fn a_member_whose_role_is_gone_gets_one_alert_a_day_and_the_others_are_still_served() {
        let all = accounts(3);
        let config = Config {
            members: Settings {
                accounts: all.clone(),
                ..Settings::default()
            },
            ..Config::default()
        };
        let members = Fake {
            accounts: all.clone(),
            gone: vec![all[1].clone()],
            connects: Mutex::default(),
        };
        let (table, sent) = (Memory::default(), Recording::default());
        let report = sweep(&config, &members, &table, &sent);
        let mut swept = report.swept.clone();
        swept.sort();
        assert_eq!(swept, vec![all[0].clone(), all[2].clone()]);
        assert_eq!(report.unreachable.len(), 1);
        assert!(report.unreachable[0].starts_with(&all[1]));
        let messages = sent.0.lock().unwrap().clone();
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].subject,
            format!(
                "[apigw-doctor] Account {}: cannot assume apigw-doctor-member; its APIs are not watched",
                all[1]
            )
        );
        assert!(
            messages[0]
                .bodies
                .email()
                .contains(&format!("arn:aws:iam::{}:role/apigw-doctor-member", all[1]))
                && messages[0].bodies.email().contains("AccessDenied")
        );
        assert!(
            messages[0]
                .attributes
                .contains(&("account", all[1].clone()))
        );
        // The next sweep within the period: nobody is swept again, and the unreachable one is not re-alerted.
        let again = sweep(&config, &members, &table, &sent);
        assert!(
            again.swept.is_empty() && again.unreachable.is_empty(),
            "{again:?}"
        );
        assert_eq!(sent.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_sweep_takes_at_most_its_share_and_the_next_goes_on_where_it_stopped() {
        let all = accounts(MAX_MEMBER_ACCOUNTS_PER_SWEEP * 2 + 3);
        let config = Config {
            members: Settings {
                accounts: all.clone(),
                ..Settings::default()
            },
            ..Config::default()
        };
        let members = Fake {
            accounts: all.clone(),
            gone: Vec::new(),
            connects: Mutex::default(),
        };
        let (table, sent) = (Memory::default(), Recording::default());
        let mut seen = Vec::new();
        for _ in 0..3 {
            let report = sweep(&config, &members, &table, &sent);
            assert!(report.swept.len() <= MAX_MEMBER_ACCOUNTS_PER_SWEEP);
            seen.extend(report.swept);
        }
        seen.sort();
        assert_eq!(seen, all, "every account once over three sweeps");
    }
}
