//! The organisation sweep, simulated: 200 member accounts × 50 REST APIs each (one Lambda route per API, an
//! execution log group per API), every port a fake that counts the AWS calls it stands for. The real handler
//! (`Handler::sweep`: the rotation, the per-sweep cap, the suppression table's memory, discovery, the latent audit
//! through `LiveAuditor`) runs unchanged; nothing is asserted.
//!
//! `cargo bench --bench organisation` prints, per sweep until every account was swept once: accounts swept, AWS
//! calls by API, CPU time, and the wall time those calls would take at the AWS latencies given below.
//!
//! Under `cargo test` it runs one small simulation (3 accounts × 2 APIs) and checks that every account is swept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use apigw_doctor::alert::Alert;
use apigw_doctor::audit::ConfigurationNotRead;
use apigw_doctor::audit::auditor::LiveAuditor;
use apigw_doctor::lambda::Handler;
use apigw_doctor::lambda::config::{Config, MemberSettings};
use apigw_doctor::lambda::members::{MEMBER_CONCURRENCY, Member, Members};
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::publish::render::Message;
use apigw_doctor::publish::sns::{PublishError, Publisher};
use apigw_doctor::remediate::plan::{Fix, FunctionRef};
use apigw_doctor::remediate::{
    Added, ApiConfig, Authorizer, Disabled, Integration, PermissionApi, RemediateError, Report,
};
use apigw_doctor::subscribe::{Filter, LogsApi, SubscribeError};
use apigw_doctor::suppress::{Admission, SuppressError, Suppressor, SweepItem, Undo};

/// AWS calls made, by the API each stands for.
#[derive(Default)]
struct Calls(Mutex<BTreeMap<&'static str, u64>>);

impl Calls {
    fn add(&self, api: &'static str, n: u64) {
        *self.0.lock().unwrap().entry(api).or_default() += n;
    }
    fn take(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// Typical latency of each call from a Lambda in the same region (ms), for the projected wall time.
fn latency_ms(api: &str) -> f64 {
    match api {
        "sts:AssumeRole" => 60.0,
        "dynamodb:PutItem" => 8.0,
        _ => 30.0,
    }
}

const FILTER: &str = "apigw-doctor-org";
const DESTINATION: &str = "arn:aws:logs:us-east-1:123456789012:destination:org";

struct World {
    accounts: usize,
    apis: usize,
    calls: Calls,
    /// The simulated wall clock (ms), as the sweeps see it.
    now: std::sync::atomic::AtomicU64,
    /// Log groups already subscribed (account, group).
    subscribed: Mutex<HashSet<(String, String)>>,
}

fn api_id(account: &str, i: usize) -> String {
    format!("{}{:04}", &account[6..], i)
}

struct Logs<'w> {
    world: &'w World,
    account: String,
}

impl LogsApi for Logs<'_> {
    async fn log_groups(&self, prefix: &str) -> Result<Vec<String>, SubscribeError> {
        if !prefix.starts_with("API-Gateway-Execution-Logs_") {
            return Ok(Vec::new());
        }
        // DescribeLogGroups answers 50 groups a page.
        self.world.calls.add(
            "logs:DescribeLogGroups",
            self.world.apis.div_ceil(50) as u64,
        );
        Ok((0..self.world.apis)
            .map(|i| {
                format!(
                    "API-Gateway-Execution-Logs_{}/prod",
                    api_id(&self.account, i)
                )
            })
            .collect())
    }
    async fn filters(&self, group: &str) -> Result<Vec<Filter>, SubscribeError> {
        self.world.calls.add("logs:DescribeSubscriptionFilters", 1);
        let ours = self
            .world
            .subscribed
            .lock()
            .unwrap()
            .contains(&(self.account.clone(), group.to_owned()));
        Ok(ours
            .then(|| Filter {
                name: FILTER.to_owned(),
                destination_arn: DESTINATION.to_owned(),
                pattern: String::new(),
            })
            .into_iter()
            .collect())
    }
    async fn put_filter(
        &self,
        group: &str,
        _: &apigw_doctor::subscribe::Settings,
        _: &str,
    ) -> Result<(), SubscribeError> {
        self.world.calls.add("logs:PutSubscriptionFilter", 1);
        self.world
            .subscribed
            .lock()
            .unwrap()
            .insert((self.account.clone(), group.to_owned()));
        Ok(())
    }
    async fn delete_filter(&self, _: &str, _: &str) -> Result<(), SubscribeError> {
        self.world.calls.add("logs:DeleteSubscriptionFilter", 1);
        Ok(())
    }
}

/// Each API: one resource with one Lambda method; the function's policy already allows it (steady state).
struct Api<'w> {
    world: &'w World,
    account: String,
}

impl Api<'_> {
    fn integration(&self) -> Integration {
        Integration {
            method: "POST".to_owned(),
            resource_path: "/orders".to_owned(),
            uri: Some(format!(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:{}:function:orders/invocations",
                self.account
            )),
            credentials: None,
            timeout_ms: None,
        }
    }
}

impl ApiConfig for Api<'_> {
    async fn route_integration(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Option<Integration>, RemediateError> {
        self.world.calls.add("apigateway:GET", 2);
        Ok(Some(self.integration()))
    }
    async fn lambda_integrations(&self, _: &str) -> Result<Vec<Integration>, RemediateError> {
        // GetResources, then GetIntegration per method.
        self.world.calls.add("apigateway:GET", 2);
        Ok(vec![self.integration()])
    }
    async fn authorizers(&self, _: &str) -> Result<Vec<Authorizer>, RemediateError> {
        self.world.calls.add("apigateway:GET", 1);
        Ok(Vec::new())
    }
    async fn stage_variables(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Vec<(String, String)>, RemediateError> {
        self.world.calls.add("apigateway:GET", 1);
        Ok(Vec::new())
    }
    async fn api_kind(
        &self,
        _: &str,
    ) -> Result<Option<apigw_doctor::remediate::ApiKind>, RemediateError> {
        self.world.calls.add("apigateway:GET", 1);
        Ok(Some(apigw_doctor::remediate::ApiKind::Rest))
    }
    async fn v2_stages(&self) -> Result<Vec<apigw_doctor::remediate::StageInfo>, RemediateError> {
        // GetApis: none of this account's APIs is HTTP or WebSocket.
        self.world.calls.add("apigateway:GET", 1);
        Ok(Vec::new())
    }
}

struct Lambda<'w> {
    world: &'w World,
}

impl PermissionApi for Lambda<'_> {
    async fn get_policy(&self, f: &FunctionRef) -> Result<Option<String>, RemediateError> {
        self.world.calls.add("lambda:GetPolicy", 1);
        Ok(Some(format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Service":"apigateway.amazonaws.com"}},"Action":"lambda:InvokeFunction","Condition":{{"ArnLike":{{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:{}:*"}}}}}}]}}"#,
            f.account
        )))
    }
    async fn add_permission(&self, _: &Fix) -> Result<Added, RemediateError> {
        self.world.calls.add("lambda:AddPermission", 1);
        Ok(Added::Created)
    }
}

struct Org<'w>(&'w World);

impl<'w> Members for Org<'w> {
    type Logs = Logs<'w>;
    type Auditor = LiveAuditor<Api<'w>, Lambda<'w>, ConfigurationNotRead>;
    type Remediator = Disabled;
    fn is_configured(&self) -> bool {
        true
    }
    fn is_member(&self, _: &str) -> bool {
        true
    }
    async fn connect(
        &self,
        account: &str,
    ) -> Result<Member<Logs<'w>, Self::Auditor, Disabled>, String> {
        self.0.calls.add("sts:AssumeRole", 1);
        Ok(Member {
            logs: Logs {
                world: self.0,
                account: account.to_owned(),
            },
            auditor: LiveAuditor {
                api: Api {
                    world: self.0,
                    account: account.to_owned(),
                },
                permissions: Lambda { world: self.0 },
                functions: ConfigurationNotRead,
            },
            remediator: Disabled,
        })
    }
}

/// The suppression table in memory (each `remember` is one conditional PutItem), its items expiring.
struct Table<'w>(&'w World, Mutex<std::collections::HashMap<String, u64>>);

impl Suppressor for Table<'_> {
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
    async fn remember(&self, key: &str, for_ms: i64) -> Result<bool, SuppressError> {
        self.0.calls.add("dynamodb:PutItem", 1);
        let now = self.0.now.load(std::sync::atomic::Ordering::Relaxed);
        let mut items = self.1.lock().unwrap();
        if items.get(key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        items.insert(key.to_owned(), now + for_ms as u64);
        Ok(true)
    }
}

struct Nowhere;

impl Publisher for Nowhere {
    async fn publish(&self, _: &Message) -> Result<String, PublishError> {
        Ok("id".to_owned())
    }
}

/// One sweep's figures: accounts swept, AWS calls by API, CPU ms.
type Sweep = (usize, BTreeMap<&'static str, u64>, f64);

/// Runs sweeps five minutes apart until every account was swept `rounds` times (the first round meets every log
/// group unsubscribed, the next ones find them subscribed); the sweeps of each round.
fn simulate(accounts: usize, apis: usize, rounds: usize) -> Vec<Vec<Sweep>> {
    let world = World {
        accounts,
        apis,
        calls: Calls::default(),
        now: std::sync::atomic::AtomicU64::new(1_765_000_000_000),
        subscribed: Mutex::default(),
    };
    let ids: Vec<String> = (0..world.accounts)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64))
        .collect();
    let mut config = Config::from_lookup(|name| match name {
        "DISCOVERY" => Some("on".to_owned()),
        "SUBSCRIPTION_FILTER_NAME" => Some(FILTER.to_owned()),
        "LATENT_AUDIT_HOURS" => Some("6".to_owned()),
        "FAN_IN_DESTINATION_ARN" => Some(DESTINATION.to_owned()),
        _ => None,
    })
    .unwrap();
    config.members = MemberSettings {
        accounts: ids.clone(),
        ..config.members
    };
    let (org, table) = (Org(&world), Table(&world, Mutex::default()));
    let handler = Handler::new(&config, &Nowhere, &Disabled, &table).with_members(&org);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    let mut all = vec![Vec::new(); rounds];
    let mut sweeps = 0;
    while times.len() < ids.len() || times.values().any(|n| *n < rounds) {
        assert!(sweeps < 1000, "the sweeps do not cover every account");
        let now = world
            .now
            .fetch_add(300_000, std::sync::atomic::Ordering::Relaxed);
        let at = Handler {
            now_ms: Some(now),
            ..handler
        };
        let started = Instant::now();
        let outcome = runtime
            .block_on(at.sweep(None, &mut Metrics::default()))
            .unwrap();
        let cpu_ms = started.elapsed().as_secs_f64() * 1000.0;
        let report = outcome.members.unwrap();
        sweeps += 1;
        let round = times
            .values()
            .copied()
            .min()
            .filter(|_| times.len() == ids.len())
            .unwrap_or(0);
        for account in &report.swept {
            *times.entry(account.clone()).or_default() += 1;
        }
        if round < rounds && !report.swept.is_empty() {
            all[round].push((report.swept.len(), world.calls.take(), cpu_ms));
        } else {
            world.calls.take();
        }
    }
    all
}

fn wall_s(calls: &BTreeMap<&'static str, u64>) -> f64 {
    calls
        .iter()
        .map(|(k, v)| latency_ms(k) * *v as f64)
        .sum::<f64>()
        / 1000.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        simulate(3, 2, 2);
        println!(
            "organisation simulation: every account swept twice (run with cargo bench for the figures)"
        );
        return;
    }
    let (accounts, apis) = (200, 50);
    let rounds = simulate(accounts, apis, 2);
    println!("{accounts} member accounts × {apis} REST APIs; a sweep every 5 minutes\n");
    println!(
        "| round | sweep | accounts | AssumeRole | DescribeLogGroups | DescribeSubscriptionFilters | PutSubscriptionFilter | apigateway:GET | GetPolicy | DynamoDB | all calls | CPU ms | AWS call time, s (one after another) | wall s, {MEMBER_CONCURRENCY} accounts at once |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (r, sweeps) in rounds.iter().enumerate() {
        for (i, (n, calls, cpu)) in sweeps.iter().enumerate() {
            let get = |k: &str| calls.get(k).copied().unwrap_or(0);
            let all: u64 = calls.values().sum();
            // The accounts are alike: a round of them at once takes one account's time.
            let per_account = wall_s(calls) / *n as f64;
            let concurrent = n.div_ceil(MEMBER_CONCURRENCY) as f64 * per_account;
            println!(
                "| {} | {} | {n} | {} | {} | {} | {} | {} | {} | {} | {all} | {cpu:.1} | {:.1} | {concurrent:.1} |",
                r + 1,
                i + 1,
                get("sts:AssumeRole"),
                get("logs:DescribeLogGroups"),
                get("logs:DescribeSubscriptionFilters"),
                get("logs:PutSubscriptionFilter"),
                get("apigateway:GET"),
                get("lambda:GetPolicy"),
                get("dynamodb:PutItem"),
                wall_s(calls),
            );
        }
    }
    println!();
    for (r, sweeps) in rounds.iter().enumerate() {
        let swept: usize = sweeps.iter().map(|s| s.0).sum();
        let calls: u64 = sweeps.iter().map(|s| s.1.values().sum::<u64>()).sum();
        let wall: f64 = sweeps.iter().map(|s| wall_s(&s.1)).sum();
        let cpu: f64 = sweeps.iter().map(|s| s.2).sum();
        let per_account = wall / swept as f64;
        let sweeps_needed = sweeps.len();
        println!(
            "round {}: {swept} accounts in {sweeps_needed} sweeps ({} minutes), {:.0} AWS calls and {per_account:.2} s of \
             AWS calls per account, {:.2} ms CPU per account",
            r + 1,
            sweeps_needed * 5,
            calls as f64 / swept as f64,
            cpu / swept as f64,
        );
    }
}
