//! Noise control across invocations: the first occurrence of a problem alerts at once, repeats inside the
//! suppression window are counted, a digest goes out when the window ends while the problem persists (and the
//! window doubles up to a maximum), a higher severity or a remediation event breaks through, and after a quiet
//! period one "resolved" message closes the problem (same Chatbot thread: the fingerprint).
//!
//! State is kept per fingerprint (account, region, API, stage, route, cause: never request ids or message text).
//! [`on_occurrence`] and [`on_sweep`] are pure; [`dynamo`] keeps the state in DynamoDB with conditional writes so
//! that concurrent invocations agree on who alerts. Any storage error fails open: the alert goes out.

pub mod dynamo;

use std::future::Future;

use serde::Serialize;

use crate::alert::{Alert, Severity};
use crate::remediate::Report;

/// Suppression timings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The first window after an alert.
    pub window_ms: i64,
    /// Windows double after each digest up to this.
    pub max_window_ms: i64,
    /// No occurrence for this long closes the problem ("resolved").
    pub quiet_ms: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            window_ms: 5 * 60_000,
            max_window_ms: 60 * 60_000,
            quiet_ms: 15 * 60_000,
        }
    }
}

/// What is remembered about one fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub fingerprint: String,
    pub open: bool,
    /// When this episode of the problem started (ms since the epoch, our clock).
    pub first_seen: i64,
    pub last_seen: i64,
    /// When the last message went out: the current window starts here.
    pub last_sent: i64,
    pub window_ms: i64,
    /// Requests since `last_sent` that no message has reported yet.
    pub suppressed: u64,
    /// Requests in this episode.
    pub total: u64,
    pub severity: u8,
    /// The last remediation status reported for it (`none`, `dry-run`, `applied`, `refused`, `failed`).
    pub remediation: String,
    /// Bumped on every write; writes are conditional on it.
    pub version: u64,
    /// The last deliveries counted ([`crate::alert::delivery_id`]), newest last: a retried one is not counted
    /// again.
    pub deliveries: Vec<String>,
    // What the sweep needs to say which problem it closes.
    pub cause: String,
    pub status: Option<u16>,
    pub account: Option<String>,
    pub region: String,
    pub api_id: Option<String>,
    pub stage: Option<String>,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub log_group: Option<String>,
}

/// Why a message goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A new problem (or one back after a quiet period): at once.
    First,
    /// The window ended while the problem persisted: `count` requests since `since` (ms), the last at `last`.
    Digest { count: u64, since: i64, last: i64 },
    /// Sent inside the window because it matters now.
    Breakthrough { reason: &'static str },
    /// Not failing yet: the configuration audit found what will make the route fail (no request counted).
    Latent,
    /// No occurrence for the quiet period.
    Resolved {
        total: u64,
        first_seen: i64,
        last_seen: i64,
    },
}

impl Notice {
    pub fn as_str(&self) -> &'static str {
        match self {
            Notice::First => "first",
            Notice::Digest { .. } => "digest",
            Notice::Breakthrough { .. } => "breakthrough",
            Notice::Resolved { .. } => "resolved",
            Notice::Latent => "latent",
        }
    }
}

/// Whether a remediation report is an event people must hear about now: a permission was just added, or
/// self-healing started failing. A failure that persists is not news again: it rides along in digests.
pub fn is_remediation_event(report: &Report, previous: Option<&State>) -> bool {
    let added = report
        .actions
        .iter()
        .any(|a| a.outcome == "applied" && a.reason.is_none());
    let newly_failed =
        report.status == "failed" && previous.is_none_or(|p| p.remediation != "failed");
    added || newly_failed
}

fn severity_rank(severity: Severity) -> u8 {
    severity as u8
}

/// A new episode for `alert`.
fn opened(alert: &Alert, now: i64, timing: &Timing, version: u64) -> State {
    State {
        fingerprint: alert.fingerprint.clone(),
        open: true,
        first_seen: now,
        last_seen: now,
        last_sent: now,
        window_ms: timing.window_ms,
        suppressed: 0,
        total: alert.count,
        severity: severity_rank(alert.severity),
        remediation: String::new(),
        version,
        deliveries: Vec::new(),
        cause: alert.cause.as_str().to_owned(),
        status: alert.status,
        account: alert.account.clone(),
        region: alert.region.clone(),
        api_id: alert.api_id.clone(),
        stage: alert.stage.clone(),
        method: alert.method.clone(),
        resource_path: alert.resource_path.clone(),
        log_group: alert.log_group.clone(),
    }
}

/// One invocation saw `alert` at `now`: the message to send, if any, and the state to write.
pub fn on_occurrence(
    previous: Option<&State>,
    alert: &Alert,
    remediation: &Report,
    now: i64,
    timing: &Timing,
) -> (Option<Notice>, State) {
    let version = previous.map_or(0, |p| p.version) + 1;
    let remediation_event = is_remediation_event(remediation, previous);
    let Some(prev) = previous.filter(|p| p.open && now - p.last_seen < timing.quiet_ms) else {
        // Never seen, resolved, or back after a quiet period the sweep has not closed yet.
        let mut next = opened(alert, now, timing, version);
        next.remediation = remediation.status.to_owned();
        if let Some(delivery) = &alert.delivery {
            remember(&mut next.deliveries, delivery);
        }
        return (Some(Notice::First), next);
    };
    let mut next = prev.clone();
    next.version = version;
    if let Some(delivery) = &alert.delivery {
        if prev.deliveries.contains(delivery) {
            // Lambda retrying a delivery whose invocation failed after this problem was counted (or sent).
            return (None, next);
        }
        remember(&mut next.deliveries, delivery);
    }
    next.remediation = remediation.status.to_owned();
    next.last_seen = now;
    next.total += alert.count;
    next.status = alert.status.or(prev.status);
    let rank = severity_rank(alert.severity);
    let breakthrough = if rank > prev.severity {
        Some("higher severity")
    } else if remediation_event {
        Some("remediation")
    } else {
        None
    };
    next.severity = prev.severity.max(rank);
    if let Some(reason) = breakthrough {
        next.last_sent = now;
        next.suppressed = 0;
        return (Some(Notice::Breakthrough { reason }), next);
    }
    if now < prev.last_sent + prev.window_ms {
        next.suppressed += alert.count;
        return (None, next);
    }
    let notice = Notice::Digest {
        count: prev.suppressed + alert.count,
        since: prev.last_sent,
        last: now,
    };
    next.last_sent = now;
    next.suppressed = 0;
    next.window_ms = (prev.window_ms * 2).min(timing.max_window_ms);
    (Some(notice), next)
}

/// Deliveries a state remembers: Lambda retries a failed asynchronous invocation twice, within hours at most,
/// while other deliveries keep arriving; eight covers the retries of an invocation among its neighbours.
const REMEMBERED_DELIVERIES: usize = 8;

fn remember(deliveries: &mut Vec<String>, delivery: &str) {
    deliveries.push(delivery.to_owned());
    let excess = deliveries.len().saturating_sub(REMEMBERED_DELIVERIES);
    deliveries.drain(..excess);
}

/// The scheduled sweep at `now`: closes a quiet problem, or sends the digest of a window that ended with
/// suppressed requests and no delivery since to trigger it.
pub fn on_sweep(state: &State, now: i64, timing: &Timing) -> Option<(Notice, State)> {
    if !state.open {
        return None;
    }
    let mut next = state.clone();
    next.version += 1;
    if now - state.last_seen >= timing.quiet_ms {
        next.open = false;
        next.last_sent = now;
        return Some((
            Notice::Resolved {
                total: state.total,
                first_seen: state.first_seen,
                last_seen: state.last_seen,
            },
            next,
        ));
    }
    if state.suppressed > 0 && now >= state.last_sent + state.window_ms {
        next.last_sent = now;
        next.suppressed = 0;
        next.window_ms = (state.window_ms * 2).min(timing.max_window_ms);
        return Some((
            Notice::Digest {
                count: state.suppressed,
                since: state.last_sent,
                last: state.last_seen,
            },
            next,
        ));
    }
    None
}

/// Whether an alert goes out, and how to take its state change back if publishing fails.
#[derive(Debug)]
pub enum Admission {
    /// Send, with this notice (`None` when there is no cross-invocation state at all).
    Send {
        notice: Option<Notice>,
        undo: Option<Box<Undo>>,
    },
    /// Counted in the stored state; nothing to send.
    Suppress,
    /// The store failed: send anyway (fail open), counted in a metric.
    FailOpen { reason: String },
}

/// The write to revert when the message it admitted could not be published (so a retry alerts again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    pub previous: Option<State>,
    pub written_version: u64,
    pub fingerprint: String,
}

/// A message the sweep calls for: sent first, then `state` is written (closing the problem or opening the next
/// window) only if the item is still at `read_version`. Killed between the two, the next sweep sends it again: a
/// repeat, never a loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepItem {
    pub notice: Notice,
    pub state: State,
    pub read_version: u64,
}

/// Items one sweep handles at most: a run must end well within the function's timeout; the next sweep (every
/// five minutes) takes the rest.
pub const MAX_SWEEP_ITEMS: usize = 50;

#[derive(Debug, thiserror::Error)]
#[error("suppression table {table}: {reason}")]
pub struct SuppressError {
    pub table: String,
    pub reason: String,
}

/// Cross-invocation noise control, behind a port so the handler can run without it.
pub trait Suppressor {
    /// Whether there is cross-invocation state at all (messages then carry a `notice`).
    fn is_configured(&self) -> bool;
    fn admit(&self, alert: &Alert, remediation: &Report) -> impl Future<Output = Admission> + Send;
    fn undo(&self, undo: Box<Undo>) -> impl Future<Output = ()> + Send;
    /// What is due, at most [`MAX_SWEEP_ITEMS`]; nothing is written yet.
    fn sweep(&self) -> impl Future<Output = Result<Vec<SweepItem>, SuppressError>> + Send;
    /// Writes a swept item's new state after its message went out; `false` when a delivery changed it meanwhile.
    fn close(&self, item: &SweepItem) -> impl Future<Output = Result<bool, SuppressError>> + Send;
    /// Remembers `key` for `for_ms` unless it is already remembered: `true` when this call remembered it (the
    /// caller acts: an API audit is due, a latent problem is news), `false` when an earlier call still holds it.
    /// Concurrent callers agree: exactly one gets `true`.
    fn remember(
        &self,
        key: &str,
        for_ms: i64,
    ) -> impl Future<Output = Result<bool, SuppressError>> + Send;
    /// Keeps `value` under `key` for `for_ms` (a plan awaiting approval). Without a table there is nowhere to.
    fn keep(
        &self,
        key: &str,
        value: &str,
        for_ms: i64,
    ) -> impl Future<Output = Result<(), SuppressError>> + Send {
        let _ = (key, value, for_ms);
        async {
            Err(SuppressError {
                table: "(none)".to_owned(),
                reason: "no SUPPRESSION_TABLE to keep it in".to_owned(),
            })
        }
    }
    /// What [`Suppressor::keep`] kept under `key`, unless its time is over.
    fn recall(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, SuppressError>> + Send {
        let _ = key;
        async { Ok(None) }
    }
}

/// No `SUPPRESSION_TABLE`: every alert goes out, as before.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSuppression;

impl Suppressor for NoSuppression {
    fn is_configured(&self) -> bool {
        false
    }

    async fn admit(&self, _alert: &Alert, _remediation: &Report) -> Admission {
        Admission::Send {
            notice: None,
            undo: None,
        }
    }

    async fn undo(&self, _undo: Box<Undo>) {}

    async fn sweep(&self) -> Result<Vec<SweepItem>, SuppressError> {
        Ok(Vec::new())
    }

    async fn close(&self, _item: &SweepItem) -> Result<bool, SuppressError> {
        Ok(true)
    }

    /// Nothing remembers: always news.
    async fn remember(&self, _key: &str, _for_ms: i64) -> Result<bool, SuppressError> {
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::tests_support::alert as sample;

    const MIN: i64 = 60_000;

    fn timing() -> Timing {
        Timing {
            window_ms: 5 * MIN,
            max_window_ms: 20 * MIN,
            quiet_ms: 15 * MIN,
        }
    }

    fn none() -> Report {
        Report::none()
    }

    fn report(outcome: &'static str, reason: Option<&str>) -> Report {
        Report {
            status: outcome,
            approval: None,
            api: None,
            acted_as: None,
            actions: vec![crate::remediate::Action {
                outcome,
                reason: reason.map(str::to_owned),
                fix: None,
            }],
        }
    }

    fn alert(count: u64) -> Alert {
        let mut a = sample();
        a.count = count;
        a
    }

    #[test]
    fn a_retried_delivery_is_counted_once() {
        let t = timing();
        let from = |delivery: &str, count| {
            let mut a = alert(count);
            a.delivery = Some(delivery.to_owned());
            a
        };
        let (n, s) = on_occurrence(None, &from("d1", 3), &none(), 0, &t);
        assert_eq!(n, Some(Notice::First));
        let (n, s) = on_occurrence(Some(&s), &from("d2", 10), &none(), MIN, &t);
        assert_eq!((n, s.suppressed), (None, 10));
        // Lambda retries d2 (another message of that invocation failed) and d1: nothing is counted twice.
        let (n, s) = on_occurrence(Some(&s), &from("d2", 10), &none(), 2 * MIN, &t);
        assert_eq!((n, s.suppressed, s.total), (None, 10, 13));
        let (n, s) = on_occurrence(Some(&s), &from("d1", 3), &none(), 6 * MIN, &t);
        assert_eq!((n, s.suppressed, s.total), (None, 10, 13));
        // The next new delivery ends the window: the digest counts each request once.
        let (n, s) = on_occurrence(Some(&s), &from("d3", 1), &none(), 6 * MIN, &t);
        assert!(matches!(n, Some(Notice::Digest { count: 11, .. })), "{n:?}");
        assert_eq!(s.deliveries, ["d1", "d2", "d3"]);
        // Only the last few are remembered.
        let mut s = s;
        for i in 4..20 {
            s = on_occurrence(Some(&s), &from(&format!("d{i}"), 1), &none(), 7 * MIN, &t).1;
        }
        assert_eq!(s.deliveries.len(), REMEMBERED_DELIVERIES);
        assert_eq!(s.deliveries.last().map(String::as_str), Some("d19"));
    }

    #[test]
    fn first_then_suppressed_then_digest_with_doubling_windows() {
        let t = timing();
        let (n, s) = on_occurrence(None, &alert(3), &none(), 0, &t);
        assert_eq!(n, Some(Notice::First));
        let (n, s) = on_occurrence(Some(&s), &alert(10), &none(), MIN, &t);
        assert_eq!(n, None);
        assert_eq!(s.suppressed, 10);
        let (n, s) = on_occurrence(Some(&s), &alert(5), &none(), 5 * MIN, &t);
        assert_eq!(
            n,
            Some(Notice::Digest {
                count: 15,
                since: 0,
                last: 5 * MIN
            })
        );
        assert_eq!(s.window_ms, 10 * MIN);
        assert_eq!(s.total, 18);
        // The next window is twice as long: 9 minutes later is still inside it.
        let (n, s) = on_occurrence(Some(&s), &alert(1), &none(), 14 * MIN, &t);
        assert_eq!(n, None);
        let (n, s) = on_occurrence(Some(&s), &alert(1), &none(), 15 * MIN, &t);
        assert!(matches!(n, Some(Notice::Digest { count: 2, .. })));
        assert_eq!(s.window_ms, 20 * MIN, "capped at the maximum");
        let (_, s) = on_occurrence(Some(&s), &alert(1), &none(), 16 * MIN, &t);
        let (n, s) = on_occurrence(Some(&s), &alert(1), &none(), 30 * MIN, &t);
        assert_eq!(n, None);
        let (n, s) = on_occurrence(Some(&s), &alert(1), &none(), 35 * MIN, &t);
        assert!(matches!(n, Some(Notice::Digest { .. })));
        assert_eq!(s.window_ms, 20 * MIN);
    }

    #[test]
    fn remediation_and_higher_severity_break_through() {
        let t = timing();
        let (_, s) = on_occurrence(None, &alert(1), &none(), 0, &t);
        let (n, s) = on_occurrence(Some(&s), &alert(1), &report("applied", None), MIN, &t);
        assert_eq!(
            n,
            Some(Notice::Breakthrough {
                reason: "remediation"
            })
        );
        // Self-healing starting to fail is news once; failing again is not.
        let (n, s) = on_occurrence(
            Some(&s),
            &alert(1),
            &report("failed", Some("denied")),
            MIN,
            &t,
        );
        assert!(matches!(n, Some(Notice::Breakthrough { .. })));
        let (n, s) = on_occurrence(
            Some(&s),
            &alert(1),
            &report("failed", Some("denied")),
            MIN,
            &t,
        );
        assert_eq!(n, None);
        // A statement found already there (a retried invocation) is not a new change.
        let (n, s) = on_occurrence(
            Some(&s),
            &alert(1),
            &report("applied", Some("already there")),
            MIN,
            &t,
        );
        assert_eq!(n, None);
        let mut worse = alert(1);
        worse.severity = Severity::Critical;
        let (n, _) = on_occurrence(Some(&s), &worse, &none(), 2 * MIN, &t);
        assert_eq!(
            n,
            Some(Notice::Breakthrough {
                reason: "higher severity"
            })
        );
    }

    #[test]
    fn sweep_resolves_after_the_quiet_period_and_a_new_occurrence_reopens() {
        let t = timing();
        let (_, s) = on_occurrence(None, &alert(2), &none(), 0, &t);
        assert_eq!(on_sweep(&s, 14 * MIN, &t), None);
        let (n, closed) = on_sweep(&s, 15 * MIN, &t).unwrap();
        assert_eq!(
            n,
            Notice::Resolved {
                total: 2,
                first_seen: 0,
                last_seen: 0
            }
        );
        assert!(!closed.open);
        assert_eq!(on_sweep(&closed, 60 * MIN, &t), None, "resolved once");
        let (n, reopened) = on_occurrence(Some(&closed), &alert(1), &none(), 61 * MIN, &t);
        assert_eq!(n, Some(Notice::First));
        assert_eq!(reopened.version, closed.version + 1);
    }

    #[test]
    fn sweep_sends_the_digest_of_a_window_no_delivery_closed() {
        let t = timing();
        let (_, s) = on_occurrence(None, &alert(1), &none(), 0, &t);
        let (_, s) = on_occurrence(Some(&s), &alert(7), &none(), MIN, &t);
        assert_eq!(on_sweep(&s, 4 * MIN, &t), None);
        let (n, s) = on_sweep(&s, 5 * MIN, &t).unwrap();
        assert_eq!(
            n,
            Notice::Digest {
                count: 7,
                since: 0,
                last: MIN
            }
        );
        assert_eq!(s.suppressed, 0);
        assert_eq!(on_sweep(&s, 6 * MIN, &t), None, "nothing new to report");
    }

    #[test]
    fn an_occurrence_after_the_quiet_period_opens_a_new_episode_even_unswept() {
        let t = timing();
        let (_, s) = on_occurrence(None, &alert(1), &none(), 0, &t);
        let (n, s) = on_occurrence(Some(&s), &alert(1), &none(), 16 * MIN, &t);
        assert_eq!(n, Some(Notice::First));
        assert_eq!(s.first_seen, 16 * MIN);
        assert_eq!(s.total, 1);
    }
}
