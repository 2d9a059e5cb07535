//! Findings → one [`Alert`] per distinct problem: grouped by fingerprint (account, region, API id, stage,
//! method + resource path, cause), never per log line. The fingerprint hashes those fields only, never a
//! request id or a raw message, so the same problem has the same fingerprint in every delivery.

use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasher;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diagnose::classify::Cause;
use crate::diagnose::finding::{ApiSource, Finding, Problem};
use crate::diagnose::redact::{RedactedLines, redact};

/// How urgent a cause is: a subscriber can filter on it (SNS message attribute `severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn of(cause: Cause) -> Severity {
        match cause {
            // Every request on the route fails until someone changes configuration.
            Cause::MissingInvokePermission
            | Cause::AuthorizerMissingInvokePermission
            | Cause::LambdaKmsError => Severity::Critical,
            Cause::Unknown5xx
            | Cause::Ok
            | Cause::ClientError
            | Cause::Throttled
            | Cause::Incomplete => Severity::Medium,
            _ => Severity::High,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The fields that make two failing requests "the same problem".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FingerprintKey {
    pub account: Option<String>,
    pub region: String,
    pub api_id: Option<String>,
    pub stage: Option<String>,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub cause: Cause,
}

/// What grouping reads of a failing request, borrowed: from a [`Finding`], or from a [`Problem`] that is made a
/// finding only when its alert is new.
struct Seen<'a> {
    cause: Cause,
    status: Option<u16>,
    first_timestamp: Option<i64>,
    last_timestamp: Option<i64>,
    account: Option<&'a str>,
    api_id: Option<&'a str>,
    stage: Option<&'a str>,
    method: Option<&'a str>,
    resource_path: Option<&'a str>,
    function_arn: Option<&'a str>,
    authorizer_arn: Option<&'a str>,
    authorizer_id: Option<&'a str>,
    log_stream: Option<&'a str>,
    request_id: Option<&'a str>,
    lambda_request_id: Option<&'a str>,
    trace_id: Option<&'a str>,
}

impl<'a> Seen<'a> {
    fn of_finding(f: &'a Finding) -> Seen<'a> {
        Seen {
            cause: f.cause,
            status: f.status,
            first_timestamp: f.first_timestamp,
            last_timestamp: f.last_timestamp,
            account: f.account.as_deref(),
            api_id: f.api_id.as_deref(),
            stage: f.stage.as_deref(),
            method: f.method.as_deref(),
            resource_path: f.resource_path.as_deref(),
            function_arn: f.function_arn.as_deref(),
            authorizer_arn: f.authorizer_arn.as_deref(),
            authorizer_id: f.authorizer_id.as_deref(),
            log_stream: f.log_stream.as_deref(),
            request_id: f.request_id.as_deref(),
            lambda_request_id: f.lambda_request_id.as_deref(),
            trace_id: f.trace_id.as_deref(),
        }
    }

    /// The same fields [`Problem::into_finding`] would give the finding.
    fn of_problem(p: &'a Problem<'_>) -> Seen<'a> {
        let origin = p.origin();
        Seen {
            cause: p.diagnosis.cause,
            status: p.diagnosis.status,
            first_timestamp: p.first_timestamp,
            last_timestamp: p.last_timestamp,
            account: origin.owner.as_deref(),
            api_id: p.api_id.as_deref(),
            stage: p.stage.as_deref(),
            method: p.method.as_deref(),
            resource_path: p.resource_path.as_deref(),
            function_arn: p.function_arn.as_deref(),
            authorizer_arn: p.authorizer_arn.as_deref(),
            authorizer_id: p.authorizer_id.as_deref(),
            log_stream: origin.log_stream.as_deref(),
            request_id: p.request_id.as_deref(),
            lambda_request_id: p.lambda_request_id.as_deref(),
            trace_id: p.trace_id.as_deref(),
        }
    }
}

/// Where [`Grouping`] puts a failing request.
enum Place {
    /// Into the alert at this index.
    At(usize),
    /// A new alert, pushed (the key's hash in the index).
    New(u64),
    /// A new alert in place of the one at this index, which is counted as unlisted.
    Replace(usize, u64),
    /// Counted as unlisted already.
    Unlisted,
}

/// A [`FingerprintKey`]'s fields borrowed from a finding: looked up and hashed without cloning six strings for
/// every failing request (15,700 distinct ones spent a fifth of their time there). The fields are in the owned
/// key's order and a `String` hashes as its `str`, so both hash alike with the same hasher.
#[derive(Hash)]
struct KeyView<'a> {
    account: Option<&'a str>,
    region: &'a str,
    api_id: Option<&'a str>,
    stage: Option<&'a str>,
    method: Option<&'a str>,
    resource_path: Option<&'a str>,
    cause: Cause,
}

impl<'a> KeyView<'a> {
    fn of(seen: &Seen<'a>, region: &'a str) -> KeyView<'a> {
        KeyView {
            account: seen.account,
            region,
            api_id: seen.api_id,
            stage: seen.stage,
            method: seen.method,
            resource_path: seen.resource_path,
            cause: seen.cause,
        }
    }

    fn is(&self, key: &FingerprintKey) -> bool {
        self.cause == key.cause
            && self.resource_path == key.resource_path.as_deref()
            && self.method == key.method.as_deref()
            && self.api_id == key.api_id.as_deref()
            && self.stage == key.stage.as_deref()
            && self.account == key.account.as_deref()
            && self.region == key.region
    }

    fn to_key(&self) -> FingerprintKey {
        FingerprintKey {
            account: self.account.map(str::to_owned),
            region: self.region.to_owned(),
            api_id: self.api_id.map(str::to_owned),
            stage: self.stage.map(str::to_owned),
            method: self.method.map(str::to_owned),
            resource_path: self.resource_path.map(str::to_owned),
            cause: self.cause,
        }
    }
}

impl FingerprintKey {
    /// A short stable hash: the Chatbot thread id and the suppression key.
    pub fn id(&self) -> String {
        // SHA-256 of the fields joined by U+001F ("-" for a missing one), fed part by part.
        fn dash(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("-")
        }
        let parts = [
            dash(&self.account),
            self.region.as_str(),
            dash(&self.api_id),
            dash(&self.stage),
            dash(&self.method),
            dash(&self.resource_path),
            self.cause.as_str(),
        ];
        let mut hash = Sha256::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                hash.update("\u{1f}".as_bytes());
            }
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        digest[..8]
            .iter()
            .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
            .map(char::from)
            .collect()
    }
}

/// A short id of one subscription delivery, the same when Lambda retries it: its log group and stream, its
/// number of events and the end of its base64 data (the gzip trailer: the CRC-32 and size of the inflated
/// batch). Reading the ends only keeps it free on a 1 MB delivery.
pub fn delivery_id(log_group: &str, log_stream: &str, events: usize, data: &str) -> String {
    let tail = &data.as_bytes()[data.len().saturating_sub(32)..];
    let mut hash = Sha256::new();
    for part in [log_group.as_bytes(), log_stream.as_bytes(), tail] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.update((events as u64).to_le_bytes());
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One distinct problem seen in one invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub fingerprint: String,
    pub cause: Cause,
    pub severity: Severity,
    /// The most frequent status among the grouped requests.
    pub status: Option<u16>,
    pub status_inferred: bool,
    pub count: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub account: Option<String>,
    pub region: String,
    pub api_id: Option<String>,
    pub stage: Option<String>,
    pub api_source: Option<ApiSource>,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub function_arns: Vec<String>,
    pub authorizer_arns: Vec<String>,
    pub authorizer_ids: Vec<String>,
    pub sample_request_ids: Vec<String>,
    pub sample_lambda_request_ids: Vec<String>,
    /// X-Ray trace ids of sample requests (only well-formed ones reach a finding).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_trace_ids: Vec<String>,
    pub evidence: Vec<String>,
    pub detail: Option<String>,
    pub summary: &'static str,
    /// The cause's fix; rendering fills in what the alert knows ([`crate::publish::fix`]).
    pub advice: std::borrow::Cow<'static, str>,
    pub log_group: Option<String>,
    pub log_streams: Vec<String>,
    #[serde(skip)]
    statuses: Vec<(u16, u64)>,
    /// Which delivery these requests came from ([`delivery_id`]): noise control counts a delivery once, so the
    /// retry of a delivery whose invocation failed half-way does not count its requests again.
    #[serde(skip)]
    pub delivery: Option<String>,
}

/// What one invocation will send: an alert per problem, and when there are more problems than allowed one by
/// one, the rest listed together in one overflow message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub alerts: Vec<Alert>,
    pub overflow: Vec<Alert>,
    /// Problems past [`MAX_GROUPED`] distinct ones in a delivery: counted, not itemised.
    pub unlisted: Unlisted,
}

/// Problems counted but not grouped one by one, per cause: `(distinct problems, requests)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unlisted {
    pub by_cause: BTreeMap<Cause, (u64, u64)>,
    seen: HashSet<u64>,
}

impl Unlisted {
    /// Adds another delivery's uncounted problems (a Kinesis batch's records, one invocation).
    pub fn absorb(&mut self, other: Unlisted) {
        for (cause, (problems, requests)) in other.by_cause {
            let entry = self.by_cause.entry(cause).or_default();
            entry.0 += problems;
            entry.1 += requests;
        }
        self.seen.extend(other.seen);
    }

    /// Counts an alert that will not be itemised (a Kinesis record's problems past what the invocation can send).
    pub fn add_alert(&mut self, alert: &Alert) {
        use std::hash::BuildHasher;
        let key_hash =
            foldhash::quality::FixedState::with_seed(0x5eed).hash_one(&alert.fingerprint);
        self.add(key_hash, alert.cause, alert.count);
    }

    fn add(&mut self, key_hash: u64, cause: Cause, requests: u64) {
        let entry = self.by_cause.entry(cause).or_default();
        entry.0 += u64::from(self.seen.insert(key_hash));
        entry.1 += requests;
    }

    pub fn is_empty(&self) -> bool {
        self.by_cause.is_empty()
    }

    /// `(distinct problems, requests)` over all causes.
    pub fn totals(&self) -> (u64, u64) {
        self.by_cause
            .values()
            .fold((0, 0), |(p, r), (np, nr)| (p + np, r + nr))
    }
}

/// Distinct problems one delivery groups one by one. Each costs an [`Alert`] (a few hundred bytes to a few KB)
/// until the delivery is done: past this, a delivery of thousands of distinct routes would hold them all (the
/// worst-case memory in BENCHMARKS.md). A more severe problem still takes the place of the least severe one.
pub const MAX_GROUPED: usize = 1_000;

/// How many distinct ARNs and log streams an alert lists.
const MAX_LISTED: usize = 3;

/// A problem known from an API's configuration rather than from a logged request (the sweep's audit, a plan kept
/// for approval): the fields a live failure of that route or authorizer would carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProblem {
    pub cause: Cause,
    pub account: String,
    pub region: String,
    pub api_id: String,
    pub stage: String,
    pub method: Option<String>,
    pub resource_path: Option<String>,
    pub authorizer_id: Option<String>,
    /// The function the configuration names (the route's, or the authorizer's).
    pub function_arn: Option<String>,
    pub evidence: Vec<String>,
}

impl ConfiguredProblem {
    /// Its alert, with the same fingerprint as a live failure of the route, so that self-healing plans it the
    /// same way; `count` is 1 (the callers say what it means).
    pub fn alert(&self) -> Option<Alert> {
        let advice = crate::diagnose::advice::advice(self.cause);
        let authorizer = self.authorizer_id.is_some();
        let finding = Finding {
            request_id: None,
            status: Some(500),
            status_inferred: true,
            cause: self.cause,
            api_id: Some(self.api_id.clone()),
            stage: Some(self.stage.clone()),
            api_source: Some(ApiSource::LogGroup),
            method: self.method.clone(),
            resource_path: self.resource_path.clone(),
            function_arn: self.function_arn.clone().filter(|_| !authorizer),
            authorizer_arn: self.function_arn.clone().filter(|_| authorizer),
            authorizer_id: self.authorizer_id.clone(),
            lambda_request_id: None,
            trace_id: None,
            integration_latency_ms: None,
            first_timestamp: None,
            last_timestamp: None,
            account: Some(self.account.clone()),
            log_group: Some(format!(
                "API-Gateway-Execution-Logs_{}/{}",
                self.api_id, self.stage
            )),
            log_stream: None,
            evidence: RedactedLines::from_configuration(self.evidence.clone()),
            // The exact fix is the remediation report's (planned from the API's configuration).
            detail: None,
            confidence: Default::default(),
            quoted_line: None,
            summary: advice.summary,
            advice: advice.fix.into(),
        };
        let mut grouping = Grouping::new(&self.region, 1);
        grouping.add(&finding);
        grouping.plan(1).alerts.into_iter().next()
    }
}

/// Groups problem findings by fingerprint, in order of first appearance, then keeps the `max_alerts` most
/// severe and frequent as alerts of their own.
pub fn plan_alerts<'f>(
    findings: impl IntoIterator<Item = &'f Finding>,
    region: &str,
    sample_request_ids: usize,
    max_alerts: usize,
) -> Plan {
    let mut grouping = Grouping::new(region, sample_request_ids);
    for finding in findings {
        grouping.add(finding);
    }
    grouping.plan(max_alerts)
}

/// Findings grouped into alerts as they arrive: a delivery of many failing requests costs one alert per
/// distinct problem, not one finding per request, and at most [`MAX_GROUPED`] alerts.
#[derive(Debug)]
pub struct Grouping {
    region: String,
    samples: usize,
    alerts: Vec<Alert>,
    keys: Vec<FingerprintKey>,
    /// Where each key's alert is (an index into `alerts` and `keys`), found by a borrowed [`KeyView`].
    index: hashbrown::HashTable<usize>,
    /// Seeded per process (keys hold routes from logs), and cheaper than SipHash on thousands of distinct routes.
    index_hasher: foldhash::fast::RandomState,
    unlisted: Unlisted,
    hasher: foldhash::quality::FixedState,
    cap: usize,
    /// Once the cap is reached, the least severity held: a problem no more severe than it cannot take a place,
    /// so its findings skip the scan for one.
    floor: Option<Severity>,
}

impl Grouping {
    pub fn new(region: &str, sample_request_ids: usize) -> Grouping {
        Grouping::with_cap(region, sample_request_ids, MAX_GROUPED)
    }

    /// A [`Grouping`] that itemises at most `cap` distinct problems.
    pub fn with_cap(region: &str, sample_request_ids: usize, cap: usize) -> Grouping {
        Grouping {
            region: region.to_owned(),
            samples: sample_request_ids,
            alerts: Vec::new(),
            keys: Vec::new(),
            index: hashbrown::HashTable::new(),
            index_hasher: foldhash::fast::RandomState::default(),
            unlisted: Unlisted::default(),
            hasher: foldhash::quality::FixedState::default(),
            cap,
            floor: None,
        }
    }

    /// Counts `finding` into its alert; findings that are not problems are ignored.
    pub fn add(&mut self, finding: &Finding) {
        if !finding.is_problem() {
            return;
        }
        let place = self.locate(&Seen::of_finding(finding));
        self.settle(place, finding);
    }

    /// [`Grouping::add`] for the hot path: a problem whose alert exists is counted from its borrowed fields, and
    /// made a [`Finding`] only when it opens an alert.
    pub fn add_problem(&mut self, problem: Problem<'_>) {
        if !problem.is_problem() {
            return;
        }
        let seen = Seen::of_problem(&problem);
        match self.locate(&seen) {
            Place::At(at) => absorb(
                &mut self.alerts[at],
                &seen,
                || problem.diagnosis.detail.as_deref().map(redact),
                self.samples,
            ),
            Place::Unlisted => {}
            place => self.settle(place, &problem.into_finding()),
        }
    }

    /// Finds the alert a problem counts into, or the place of a new one; counts it as unlisted when it gets none.
    fn locate(&mut self, seen: &Seen<'_>) -> Place {
        let view = KeyView::of(seen, &self.region);
        let hash = self.index_hasher.hash_one(&view);
        let keys = &self.keys;
        if let Some(&at) = self.index.find(hash, |&at| view.is(&keys[at])) {
            return Place::At(at);
        }
        if self.alerts.len() < self.cap {
            return Place::New(hash);
        }
        let severity = Severity::of(seen.cause);
        if self.floor.is_some_and(|floor| severity <= floor) {
            self.unlisted
                .add(self.hasher.hash_one(&view), seen.cause, 1);
            return Place::Unlisted;
        }
        match self.least_severe_below(severity) {
            Ok(at) => {
                // The floor may have risen: the next scan says.
                self.floor = None;
                Place::Replace(at, hash)
            }
            Err(floor) => {
                self.floor = Some(floor);
                self.unlisted
                    .add(self.hasher.hash_one(&view), seen.cause, 1);
                Place::Unlisted
            }
        }
    }

    /// Counts `finding` at the place [`Grouping::locate`] found for it.
    fn settle(&mut self, place: Place, finding: &Finding) {
        let seen = Seen::of_finding(finding);
        let at = match place {
            Place::Unlisted => return,
            Place::At(at) => at,
            Place::New(hash) => {
                let key = KeyView::of(&seen, &self.region).to_key();
                self.alerts.push(new_alert(&key, finding));
                self.keys.push(key);
                let at = self.alerts.len() - 1;
                let (keys, hasher) = (&self.keys, &self.index_hasher);
                self.index
                    .insert_unique(hash, at, |&i| hasher.hash_one(&keys[i]));
                at
            }
            Place::Replace(at, hash) => {
                let key = KeyView::of(&seen, &self.region).to_key();
                let evicted = std::mem::replace(&mut self.alerts[at], new_alert(&key, finding));
                let old_hash = self.index_hasher.hash_one(&self.keys[at]);
                if let Ok(entry) = self.index.find_entry(old_hash, |&i| i == at) {
                    entry.remove();
                }
                let old_key = std::mem::replace(&mut self.keys[at], key);
                let (keys, hasher) = (&self.keys, &self.index_hasher);
                self.index
                    .insert_unique(hash, at, |&i| hasher.hash_one(&keys[i]));
                self.unlisted
                    .add(self.hasher.hash_one(&old_key), evicted.cause, evicted.count);
                at
            }
        };
        absorb(
            &mut self.alerts[at],
            &seen,
            || finding.detail.clone(),
            self.samples,
        );
    }

    /// The held alert to give up for a problem of `severity`: the least severe and smallest, if less severe;
    /// else the least severity held.
    fn least_severe_below(&self, severity: Severity) -> Result<usize, Severity> {
        match self
            .alerts
            .iter()
            .enumerate()
            .min_by_key(|(i, a)| (a.severity, a.count, std::cmp::Reverse(*i)))
        {
            Some((at, alert)) if alert.severity < severity => Ok(at),
            Some((_, alert)) => Err(alert.severity),
            None => Err(severity),
        }
    }

    /// The alerts, the `max_alerts` most severe and frequent as messages of their own.
    pub fn plan(self, max_alerts: usize) -> Plan {
        let unlisted = self.unlisted;
        let mut alerts = self.alerts;
        for (alert, key) in alerts.iter_mut().zip(&self.keys) {
            // Computed here, for the alerts kept: a delivery of thousands of distinct routes evicts most.
            alert.fingerprint = key.id();
            alert.status = alert
                .statuses
                .iter()
                .max_by_key(|(status, n)| (*n, *status))
                .map(|(s, _)| *s);
        }
        if alerts.len() <= max_alerts && unlisted.is_empty() {
            return Plan {
                alerts,
                overflow: Vec::new(),
                unlisted,
            };
        }
        let mut order: Vec<usize> = (0..alerts.len()).collect();
        order.sort_by_key(|&i| {
            (
                std::cmp::Reverse(alerts[i].severity),
                std::cmp::Reverse(alerts[i].count),
                i,
            )
        });
        // One slot goes to the overflow message, so the total sent stays within `max_alerts` (with no room left, a
        // later record of a Kinesis batch, every problem is overflow).
        let kept = max_alerts.saturating_sub(1);
        let mut slots: Vec<Option<Alert>> = alerts.into_iter().map(Some).collect();
        let mut plan = Plan {
            unlisted,
            ..Plan::default()
        };
        for (rank, &i) in order.iter().enumerate() {
            if let Some(alert) = slots[i].take() {
                if rank < kept {
                    plan.alerts.push(alert);
                } else {
                    plan.overflow.push(alert);
                }
            }
        }
        plan
    }
}

impl Plan {
    /// Keeps the `keep` most severe and frequent problems itemised and counts the rest in [`Plan::unlisted`]: a
    /// delivery waiting beside the other records of a Kinesis batch holds no more than the invocation can send or
    /// list (memory stays bounded by the batch size times `keep`, not by distinct routes).
    pub fn keep_top(&mut self, keep: usize) {
        if self.alerts.len() + self.overflow.len() <= keep {
            return;
        }
        let mut all: Vec<Alert> = std::mem::take(&mut self.alerts);
        all.append(&mut self.overflow);
        all.sort_by_key(|a| (std::cmp::Reverse(a.severity), std::cmp::Reverse(a.count)));
        for alert in all.drain(keep..) {
            self.unlisted.add_alert(&alert);
        }
        self.alerts = all;
    }
}

/// The plans of one invocation's deliveries (each tagged with its delivery's index), ranked together: the most
/// severe and frequent problems of the whole invocation get the `max_alerts` alerts (one slot kept for the overflow
/// message when there are more), whatever delivery or account they came from; every other problem goes into the
/// one overflow message. A noisy account first in a Kinesis batch cannot starve another's critical problem.
pub fn rank_invocation(plans: Vec<(usize, Plan)>, max_alerts: usize) -> Invocation {
    let mut all: Vec<(usize, Alert)> = Vec::new();
    let mut unlisted = Unlisted::default();
    for (index, plan) in plans {
        all.extend(plan.alerts.into_iter().map(|a| (index, a)));
        all.extend(plan.overflow.into_iter().map(|a| (index, a)));
        unlisted.absorb(plan.unlisted);
    }
    // Stable: first appearance breaks ties (delivery order, then order within it).
    all.sort_by_key(|(_, a)| (std::cmp::Reverse(a.severity), std::cmp::Reverse(a.count)));
    let kept = if all.len() <= max_alerts && unlisted.is_empty() {
        all.len()
    } else {
        max_alerts.saturating_sub(1)
    };
    let overflow = all.split_off(kept.min(all.len()));
    Invocation {
        alerts: all,
        overflow,
        unlisted,
    }
}

/// What one invocation sends: alerts of their own and the overflow, each tagged with the delivery it came from.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub alerts: Vec<(usize, Alert)>,
    pub overflow: Vec<(usize, Alert)>,
    pub unlisted: Unlisted,
}

fn new_alert(key: &FingerprintKey, first: &Finding) -> Alert {
    Alert {
        // Set by `plan`, for the alerts it keeps.
        fingerprint: String::new(),
        cause: first.cause,
        severity: Severity::of(first.cause),
        status: None,
        status_inferred: first.status_inferred,
        count: 0,
        first_seen: None,
        last_seen: None,
        account: first.account.clone(),
        region: key.region.clone(),
        api_id: first.api_id.clone(),
        stage: first.stage.clone(),
        api_source: first.api_source,
        method: first.method.clone(),
        resource_path: first.resource_path.clone(),
        function_arns: Vec::new(),
        authorizer_arns: Vec::new(),
        authorizer_ids: Vec::new(),
        sample_request_ids: Vec::new(),
        sample_lambda_request_ids: Vec::new(),
        sample_trace_ids: Vec::new(),
        evidence: first.evidence.to_vec(),
        detail: first.detail.clone(),
        summary: first.summary,
        advice: first.advice.clone(),
        log_group: first.log_group.clone(),
        log_streams: Vec::new(),
        statuses: Vec::new(),
        delivery: None,
    }
}

/// Counts a request into its alert. `detail` gives the request's, scrubbed (asked when the alert has none yet).
fn absorb(
    alert: &mut Alert,
    finding: &Seen<'_>,
    detail: impl FnOnce() -> Option<String>,
    samples: usize,
) {
    alert.count += 1;
    let (first, last) = (
        finding.first_timestamp.or(finding.last_timestamp),
        finding.last_timestamp.or(finding.first_timestamp),
    );
    alert.first_seen = min_opt(alert.first_seen, first);
    alert.last_seen = max_opt(alert.last_seen, last);
    if let Some(status) = finding.status {
        match alert.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => alert.statuses.push((status, 1)),
        }
    }
    push_distinct(&mut alert.function_arns, finding.function_arn, MAX_LISTED);
    push_distinct(
        &mut alert.authorizer_arns,
        finding.authorizer_arn,
        MAX_LISTED,
    );
    push_distinct(&mut alert.log_streams, finding.log_stream, MAX_LISTED);
    push_distinct(&mut alert.sample_request_ids, finding.request_id, samples);
    push_distinct(
        &mut alert.sample_lambda_request_ids,
        finding.lambda_request_id,
        samples,
    );
    push_distinct(&mut alert.sample_trace_ids, finding.trace_id, samples);
    push_distinct(&mut alert.authorizer_ids, finding.authorizer_id, MAX_LISTED);
    if alert.detail.is_none() {
        alert.detail = detail();
    }
}

fn push_distinct(list: &mut Vec<String>, value: Option<&str>, max: usize) {
    if let Some(v) = value
        && list.len() < max
        && !list.iter().any(|x| x == v)
    {
        list.push(v.to_owned());
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A representative alert for rendering tests.
    pub fn alert() -> Alert {
        Alert {
            fingerprint: "0123456789abcdef".to_owned(),
            cause: Cause::MalformedProxyResponse,
            severity: Severity::High,
            status: Some(502),
            status_inferred: false,
            count: 37,
            first_seen: Some(1_732_440_000_000),
            last_seen: Some(1_732_440_005_000),
            account: Some("123456789012".to_owned()),
            region: "eu-west-2".to_owned(),
            api_id: Some("a1b2c3d4e5".to_owned()),
            stage: Some("prod".to_owned()),
            api_source: Some(ApiSource::LogGroup),
            method: Some("POST".to_owned()),
            resource_path: Some("/orders".to_owned()),
            function_arns: vec!["arn:aws:lambda:eu-west-2:123456789012:function:orders".to_owned()],
            authorizer_arns: Vec::new(),
            authorizer_ids: Vec::new(),
            sample_request_ids: vec!["r1".to_owned(), "r2".to_owned()],
            sample_lambda_request_ids: Vec::new(),
            sample_trace_ids: Vec::new(),
            evidence: vec![
                "Execution failed due to configuration error: Malformed Lambda proxy response"
                    .to_owned(),
                "Method completed with status: 502".to_owned(),
            ],
            detail: Some("body is a JSON object, not a string".to_owned()),
            summary: crate::diagnose::advice::advice(Cause::MalformedProxyResponse).summary,
            advice: crate::diagnose::advice::advice(Cause::MalformedProxyResponse)
                .fix
                .into(),
            log_group: Some("API-Gateway-Execution-Logs_a1b2c3d4e5/prod".to_owned()),
            log_streams: vec!["e369853df766fa44e1ed0ff613f563bd".to_owned()],
            statuses: vec![(502, 37)],
            delivery: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::{Origin, find};

    fn findings(text: &str) -> Vec<Finding> {
        let origin = Origin::new(
            "123456789012",
            "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
            "s",
        );
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        find(
            &origin,
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| (Some(i as i64), l.as_str())),
            false,
        )
        .findings
    }

    fn failing(ids: std::ops::Range<usize>, path: &str, failure: &str, status: u16) -> String {
        ids.map(|i| {
            format!(
                "(r{i}) HTTP Method: POST, Resource Path: {path}\n(r{i}) {failure}\n(r{i}) Method completed with status: {status}\n"
            )
        })
        .collect()
    }

    const PERMISSION: &str =
        "Execution failed due to configuration error: Invalid permissions on Lambda function";
    const MALFORMED: &str =
        "Execution failed due to configuration error: Malformed Lambda proxy response";

    #[test]
    fn a_borrowed_key_hashes_and_compares_as_the_owned_key() {
        let text =
            failing(0..1, "/orders/1", MALFORMED, 502) + &failing(1..2, "/users/1", MALFORMED, 502);
        let found = findings(&text);
        let problems: Vec<&Finding> = found.iter().filter(|f| f.is_problem()).collect();
        assert_eq!(problems.len(), 2);
        let fixed = foldhash::quality::FixedState::default();
        let seeded = foldhash::fast::RandomState::default();
        for (i, a) in problems.iter().enumerate() {
            let seen = Seen::of_finding(a);
            let view = KeyView::of(&seen, "eu-west-1");
            let key = view.to_key();
            assert_eq!(
                (key.resource_path.as_deref(), key.region.as_str(), key.cause),
                (a.resource_path.as_deref(), "eu-west-1", a.cause)
            );
            assert_eq!(fixed.hash_one(&view), fixed.hash_one(&key));
            assert_eq!(seeded.hash_one(&view), seeded.hash_one(&key));
            for (j, b) in problems.iter().enumerate() {
                let other = KeyView::of(&Seen::of_finding(b), "eu-west-1").to_key();
                assert_eq!(view.is(&other), i == j);
            }
            assert!(!view.is(&KeyView::of(&seen, "us-east-1").to_key()));
        }
    }

    #[test]
    fn past_the_cap_problems_are_counted_and_a_more_severe_one_takes_the_place_of_the_least() {
        // Five distinct 502 routes (high), then a missing permission (critical), with room for three.
        let mut text = String::new();
        for (i, path) in ["/a", "/b", "/c", "/d", "/e"].iter().enumerate() {
            text += &failing(i * 10..i * 10 + 1 + i, path, MALFORMED, 502);
        }
        text += &failing(100..102, "/pay", PERMISSION, 500);
        let mut grouping = Grouping::with_cap("us-east-1", 5, 3);
        for finding in &findings(&text) {
            grouping.add(finding);
        }
        let plan = grouping.plan(20);
        let held: Vec<_> = plan
            .alerts
            .iter()
            .chain(&plan.overflow)
            .map(|a| (a.resource_path.as_deref().unwrap(), a.count))
            .collect();
        // "/a" (1 request, the smallest) gave its place to "/pay"; "/d" and "/e" arrived with no place left.
        assert_eq!(held.len(), 3);
        assert!(held.contains(&("/pay", 2)), "{held:?}");
        assert!(
            held.contains(&("/b", 2)) && held.contains(&("/c", 3)),
            "{held:?}"
        );
        assert_eq!(
            plan.unlisted.by_cause,
            BTreeMap::from([(Cause::MalformedProxyResponse, (3, 1 + 4 + 5))])
        );
        assert_eq!(plan.unlisted.totals(), (3, 10));
    }

    #[test]
    fn the_cap_bounds_what_a_delivery_of_distinct_routes_holds() {
        let text: String = (0..3_000)
            .map(|i| failing(i..i + 1, &format!("/r{i}"), MALFORMED, 502))
            .collect();
        let mut grouping = Grouping::new("us-east-1", 5);
        for finding in &findings(&text) {
            grouping.add(finding);
        }
        let plan = grouping.plan(20);
        assert_eq!(plan.alerts.len() + plan.overflow.len(), MAX_GROUPED);
        assert_eq!(plan.unlisted.totals(), (2_000, 2_000));
    }

    #[test]
    fn ten_thousand_failures_of_one_cause_on_one_route_are_one_alert() {
        let found = findings(&failing(0..10_000, "/orders", MALFORMED, 502));
        assert_eq!(found.len(), 10_000);
        let plan = plan_alerts(&found, "us-east-1", 5, 20);
        assert_eq!(plan.alerts.len(), 1);
        assert_eq!(plan.alerts[0].count, 10_000);
        assert_eq!(
            plan.alerts[0].sample_request_ids,
            ["r0", "r1", "r2", "r3", "r4"]
        );
        assert_eq!(plan.alerts[0].first_seen, Some(0));
        assert_eq!(plan.alerts[0].last_seen, Some(29_999));
    }

    #[test]
    fn a_different_route_or_cause_is_a_different_alert() {
        let text = failing(0..3, "/orders", MALFORMED, 502)
            + &failing(3..5, "/users", MALFORMED, 502)
            + &failing(5..6, "/orders", PERMISSION, 500);
        let plan = plan_alerts(&findings(&text), "us-east-1", 5, 20);
        let got: Vec<_> = plan
            .alerts
            .iter()
            .map(|a| (a.resource_path.as_deref().unwrap(), a.cause, a.count))
            .collect();
        assert_eq!(
            got,
            [
                ("/orders", Cause::MalformedProxyResponse, 3),
                ("/users", Cause::MalformedProxyResponse, 2),
                ("/orders", Cause::MissingInvokePermission, 1)
            ]
        );
        let ids: std::collections::HashSet<_> =
            plan.alerts.iter().map(|a| &a.fingerprint).collect();
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn fingerprint_ignores_request_ids_and_timestamps() {
        let a = plan_alerts(
            &findings(&failing(0..2, "/x", MALFORMED, 502)),
            "eu-west-1",
            5,
            20,
        );
        let b = plan_alerts(
            &findings(&failing(7..9, "/x", MALFORMED, 502)),
            "eu-west-1",
            5,
            20,
        );
        assert_eq!(a.alerts[0].fingerprint, b.alerts[0].fingerprint);
        let c = plan_alerts(
            &findings(&failing(7..9, "/x", MALFORMED, 502)),
            "eu-west-2",
            5,
            20,
        );
        assert_ne!(a.alerts[0].fingerprint, c.alerts[0].fingerprint);
    }

    #[test]
    fn more_problems_than_allowed_keep_the_most_severe_and_list_the_rest() {
        let text: String = (0..5)
            .map(|i| failing(i * 10..i * 10 + 1 + i, &format!("/r{i}"), MALFORMED, 502))
            .collect::<String>()
            + &failing(100..101, "/p", PERMISSION, 500);
        let plan = plan_alerts(&findings(&text), "us-east-1", 5, 3);
        assert_eq!(plan.alerts.len(), 2);
        assert_eq!(plan.alerts[0].cause, Cause::MissingInvokePermission);
        assert_eq!(plan.alerts[1].resource_path.as_deref(), Some("/r4"));
        assert_eq!(plan.overflow.len(), 4);
    }

    #[test]
    fn healthy_requests_make_no_alert() {
        let found =
            findings("(a) Successfully completed execution\n(a) Method completed with status: 200");
        assert!(plan_alerts(&found, "us-east-1", 5, 20).alerts.is_empty());
    }
}
