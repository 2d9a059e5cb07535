//! One install for an organisation, over the real wire: two member accounts in moto (each reached with STS
//! `AssumeRole`: moto keeps each assumed account's resources apart), each with a REST API whose route's function
//! lacks the permission and an execution log group nobody subscribed; one sweep of the compiled function.
//!
//! Where moto differs from AWS: it reads a CloudWatch Logs destination ARN given to `PutSubscriptionFilter` as a log
//! group (`destination:NAME` → a group `NAME` of that account must exist), so the test creates one of the
//! destination's name; and its STS assumes any role, existing or not (a removed role is unit-tested in
//! `src/lambda/members`).

use serde_json::Value;

use crate::discovery::filters;
use crate::lambda_e2e::{Running, bootstrap, emulator, post};
use crate::remediate::{Stack, policy_statements};
use crate::support::{Topic, sdk};

const MONITORING: &str = "123456789012";
const ROLE: &str = "apigw-doctor-member";

/// A member account's SDK configuration: its role assumed from the monitoring account's credentials.
async fn member(account: &str) -> aws_config::SdkConfig {
    apigw_doctor::lambda::aws::sdk_config_assuming(
        Some("us-east-1"),
        None,
        &format!("arn:aws:iam::{account}:role/{ROLE}"),
    )
    .await
}

/// A member account with an API whose function lacks the permission, and its execution log group, unsubscribed.
async fn member_with_a_latent_500(account: &str) -> (aws_config::SdkConfig, Stack, String) {
    let sdk = member(account).await;
    let stack = Stack::create(&sdk).await;
    assert!(
        stack.function_arn.contains(account),
        "{}",
        stack.function_arn
    );
    let group = format!("API-Gateway-Execution-Logs_{}/prod", stack.api_id);
    aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    (sdk, stack, group)
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn one_sweep_subscribes_audits_and_heals_every_member_account_and_names_each() {
    let accounts = ["210987654321", "345678901234"];
    let mut members = Vec::new();
    for account in accounts {
        members.push(member_with_a_latent_500(account).await);
    }
    let sdk = sdk().await;
    // The fan-in destination (moto: a log group of its name, see above).
    let destination_name = crate::support::unique("apigw-doctor-fanin");
    let destination = format!("arn:aws:logs:us-east-1:{MONITORING}:destination:{destination_name}");
    let _ = aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .create_log_group()
        .log_group_name(&destination_name)
        .send()
        .await;
    let table = crate::suppression::create_table(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let only: Vec<&str> = members.iter().map(|(_, s, _)| s.api_id.as_str()).collect();

    let (port, _emulator) = emulator();
    let mut command = bootstrap(port, Some(&topic.arn));
    command
        .env("SUPPRESSION_TABLE", &table)
        .env("DISCOVERY", "on")
        .env("DISCOVERY_ONLY", only.join(","))
        .env("LATENT_AUDIT_HOURS", "6")
        .env("REMEDIATION_MODE", "auto")
        .env("REMEDIATION_ALLOWED_FUNCTIONS", "orders-*")
        .env("MEMBER_ACCOUNTS", accounts.join(","))
        .env("MEMBER_ROLE_NAME", ROLE)
        .env("FAN_IN_DESTINATION_ARN", &destination)
        .env("AWS_REGION", "us-east-1");
    let _function = Running(command.spawn().unwrap());
    let (status, body) = post(
        port,
        "/2015-03-31/functions/_/invocations",
        br#"{"apigw-doctor":"sweep"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).unwrap();
    let report = &outcome["members"];
    let mut swept: Vec<&str> = report["swept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    swept.sort_unstable();
    assert_eq!(swept, accounts, "{body}");
    assert_eq!(report["subscribed"], 2, "{body}");
    assert_eq!(report["latent_alerts"], 2, "{body}");
    assert_eq!(report["fixed"], 2, "{body}");

    for (member_sdk, stack, group) in &members {
        // Subscribed to the fan-in destination, in the member account.
        let on_group = filters(&aws_sdk_cloudwatchlogs::Client::new(member_sdk), group).await;
        assert_eq!(on_group.len(), 1, "{on_group:?}");
        assert_eq!(on_group[0].1, destination);
        // Exactly one least-privilege statement, in the member account.
        let statements = policy_statements(member_sdk, &stack.function_arn).await;
        assert_eq!(statements.len(), 1, "{statements:#?}");
        assert_eq!(
            statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
            format!(
                "arn:aws:execute-api:us-east-1:{}:{}/*/POST/orders/*",
                &stack.function_arn.split(':').nth(4).unwrap(),
                stack.api_id
            )
        );
    }
    // One latent alert per member account, each naming its account; nothing else.
    let received = topic.drain(&queue).await;
    let mut named: Vec<String> = received
        .iter()
        .map(|(body, attributes)| {
            assert_eq!(attributes["notice"], "latent");
            let account = attributes["account"].as_str().unwrap().to_owned();
            // The alert says which role acted.
            let alert: Value = serde_json::from_str(body).unwrap();
            assert_eq!(alert["remediation"]["status"], "applied", "{alert:#}");
            assert_eq!(
                alert["remediation"]["acted_as"],
                format!("arn:aws:iam::{account}:role/{ROLE}")
            );
            account
        })
        .collect();
    named.sort();
    assert_eq!(named, accounts);
    // The same functions' names in the monitoring account have no policy at all (nothing was created there).
    for (_, stack, _) in &members {
        let name = stack.function_arn.split(':').nth(6).unwrap();
        let here = format!("arn:aws:lambda:us-east-1:{MONITORING}:function:{name}");
        assert!(policy_statements(&sdk, &here).await.is_empty());
    }

    // The next sweep: every account was swept this period, nothing is done twice.
    let (_, body) = post(
        port,
        "/2015-03-31/functions/_/invocations",
        br#"{"apigw-doctor":"sweep"}"#,
    );
    let again: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(again["members"]["swept"], serde_json::json!([]), "{body}");
    assert!(topic.drain(&queue).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn audit_all_apis_of_another_account_in_one_command() {
    // An account of its own, so that other tests' APIs are not in it.
    let account = "456789012345";
    let role = format!("arn:aws:iam::{account}:role/{ROLE}");
    let sdk = member(account).await;
    let rest = Stack::create(&sdk).await;
    let http = crate::v2::HttpApi::create(&sdk).await;
    let (code, stdout, stderr) = crate::live::cli(&[
        "audit",
        "--all-apis",
        "--role-arn",
        &role,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (api_id, path) in [
        (&rest.api_id, "/orders/{id}"),
        (&http.api_id, "/orders/{id}"),
    ] {
        let check = results
            .iter()
            .find(|r| {
                r["check"] == "invoke_permission"
                    && r["api_id"] == api_id.as_str()
                    && r["resource_path"] == path
            })
            .unwrap_or_else(|| panic!("{api_id}: {stdout}"));
        assert_eq!(check["status"], "fail");
        assert!(
            check["command"]
                .as_str()
                .unwrap()
                .contains(&format!("--source-account {account}")),
            "{check}"
        );
    }
    // Nothing else than these two APIs' checks: the account's, not the caller's.
    assert!(
        results
            .iter()
            .all(|r| r["api_id"] == rest.api_id.as_str() || r["api_id"] == http.api_id.as_str()),
        "{stdout}"
    );
}
