//! Self-healing over the real wire: a REST API, a function and its policy in moto; the handler in each mode.
//! Asserted with GetPolicy and on the SNS message.

use apigw_doctor::ingest::{Batch, LogEvent, encode};
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::handle;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::publish::sns::SnsPublisher;
use apigw_doctor::remediate::Settings;
use apigw_doctor::remediate::aws::live;
use apigw_doctor::remediate::plan::{Mode, Scope};
use aws_sdk_apigateway::types::IntegrationType;
use serde_json::Value;

use crate::support::{
    Topic, create_function, create_role, resource_id, root_resource, sdk, unique,
};

const ACCOUNT: &str = "123456789012";
/// A REST API in moto with `POST /orders/{id}` integrated (AWS_PROXY) with a fresh function, and a decoy
/// function that only the log lines name.
pub(crate) struct Stack {
    pub(crate) api_id: String,
    function_name: String,
    pub(crate) function_arn: String,
    decoy_arn: String,
}

/// Integrates `method` of `resource` with `function_arn` (AWS_PROXY), replacing any integration it had.
async fn integrate(
    apigw: &aws_sdk_apigateway::Client,
    api_id: &str,
    resource: &str,
    method: &str,
    function_arn: &str,
) {
    apigw
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource)
        .http_method(method)
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
        ))
        .send()
        .await
        .unwrap();
}

/// A resource `path_part` under `parent` whose `method` is integrated (AWS_PROXY) with `function_arn`; its id.
async fn lambda_route(
    apigw: &aws_sdk_apigateway::Client,
    api_id: &str,
    parent: &str,
    path_part: &str,
    method: &str,
    function_arn: &str,
) -> String {
    let resource = apigw
        .create_resource()
        .rest_api_id(api_id)
        .parent_id(parent)
        .path_part(path_part)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    apigw
        .put_method()
        .rest_api_id(api_id)
        .resource_id(&resource)
        .http_method(method)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    integrate(apigw, api_id, &resource, method, function_arn).await;
    resource
}

impl Stack {
    pub(crate) async fn create(sdk: &aws_config::SdkConfig) -> Stack {
        let role = create_role(sdk).await;
        let function_name = unique("orders");
        let function_arn = create_function(sdk, &role, &function_name).await;
        let decoy_arn = create_function(sdk, &role, &unique("orders-decoy")).await;
        let apigw = aws_sdk_apigateway::Client::new(sdk);
        let api_id = apigw
            .create_rest_api()
            .name(unique("api"))
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        let root = root_resource(&apigw, &api_id).await;
        let orders = apigw
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(root)
            .path_part("orders")
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        lambda_route(&apigw, &api_id, &orders, "{id}", "POST", &function_arn).await;
        apigw
            .create_deployment()
            .rest_api_id(&api_id)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        Stack {
            api_id,
            function_name,
            function_arn,
            decoy_arn,
        }
    }

    /// A delivery from this API's execution log group. `lines` follow the `(request-id) ` prefix.
    fn delivery(&self, lines: &[String]) -> Vec<u8> {
        let messages: Vec<String> = lines
            .iter()
            .map(|l| format!("(4f6c1d2a-0000-4000-8000-00000000aaaa) {l}"))
            .collect();
        encode(&Batch {
            message_type: "DATA_MESSAGE".into(),
            owner: ACCOUNT.into(),
            log_group: format!("API-Gateway-Execution-Logs_{}/prod", self.api_id).into(),
            log_stream: "0123456789abcdef0123456789abcdef".into(),
            subscription_filters: vec!["apigw-doctor".into()],
            log_events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| LogEvent {
                    id: i.to_string().into(),
                    timestamp: 1_732_440_000_000 + i as i64,
                    message: m.as_str().into(),
                })
                .collect(),
        })
        .unwrap()
    }

    /// A missing-permission failure whose logged endpoint names the decoy, not the configured function.
    fn permission_failure(&self) -> Vec<u8> {
        self.delivery(&[
            "Starting execution for request: 4f6c1d2a-0000-4000-8000-00000000aaaa".to_owned(),
            "HTTP Method: POST, Resource Path: /orders/{id}".to_owned(),
            format!(
                "Method request body before transformations: {{\"arn\":\"{}\",\"x\":\"Execution failed due to configuration error: Invalid permissions on Lambda function\"}}",
                self.decoy_arn
            ),
            format!(
                "Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{}/invocations",
                self.decoy_arn
            ),
            "Execution failed due to configuration error: Invalid permissions on Lambda function".to_owned(),
            "Method completed with status: 500".to_owned(),
        ])
    }
}

fn config(mode: Mode, allowed: &[&str]) -> Config {
    Config {
        remediation: Settings {
            mode,
            allowed_functions: allowed.iter().map(|s| (*s).to_owned()).collect(),
            allowed_apis: Vec::new(),
            scope: Scope::Route,
            max_changes: 3,
            home_account: None,
        },
        ..Config::default()
    }
}

pub(crate) async fn policy_statements(
    sdk: &aws_config::SdkConfig,
    function_arn: &str,
) -> Vec<Value> {
    match aws_sdk_lambda::Client::new(sdk)
        .get_policy()
        .function_name(function_arn)
        .send()
        .await
    {
        Ok(out) => serde_json::from_str::<Value>(&out.policy.unwrap()).unwrap()["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Vec::new()
        }
        Err(e) => panic!("{e:?}"),
    }
}

/// Runs the handler with the real adapters and returns what SQS received (body, attributes).
async fn run(
    sdk: &aws_config::SdkConfig,
    event: &[u8],
    config: &Config,
) -> (Metrics, Vec<(Value, serde_json::Map<String, Value>)>) {
    let topic = Topic::create(sdk).await;
    let queue = topic.subscribe(sdk, true, None).await;
    let remediator = live(config.remediation.clone(), sdk);
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(sdk), &topic.arn);
    let mut metrics = Metrics::default();
    handle(event, config, &publisher, &remediator, &mut metrics)
        .await
        .unwrap();
    let received = topic
        .drain(&queue)
        .await
        .into_iter()
        .map(|(body, attributes)| (serde_json::from_str(&body).unwrap(), attributes))
        .collect();
    (metrics, received)
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn auto_adds_exactly_one_least_privilege_statement_once_and_says_so() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    let config = config(Mode::Auto, &["orders-*"]);

    let (metrics, received) = run(&sdk, &stack.permission_failure(), &config).await;
    assert_eq!(received.len(), 1);
    let (alert, attributes) = &received[0];
    assert_eq!(attributes["remediation"], "applied");
    assert_eq!(alert["remediation"]["status"], "applied");
    assert_eq!(metrics.remediations_applied, 1);

    let statements = policy_statements(&sdk, &stack.function_arn).await;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let statement = &statements[0];
    let expected_source = format!(
        "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/POST/orders/*",
        stack.api_id
    );
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    assert_eq!(
        statement["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert_eq!(
        statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        expected_source
    );
    let fix = &alert["remediation"]["actions"][0]["fix"];
    assert_eq!(statement["Sid"], fix["statement_id"]);
    assert_eq!(fix["function_name"], stack.function_name.as_str());
    let sid = fix["statement_id"].as_str().unwrap();
    assert!(sid.starts_with("apigw-doctor-"));

    // The decoy named only by the log line is untouched.
    assert!(policy_statements(&sdk, &stack.decoy_arn).await.is_empty());

    // A retried invocation (its first attempt's alert may never have gone out) adds nothing (moto would accept a
    // duplicate statement id; the preflight prevents it) and still says what was applied, with the undo command,
    // not that the 500 has another cause.
    let (_, received) = run(&sdk, &stack.permission_failure(), &config).await;
    assert_eq!(received[0].1["remediation"], "applied");
    let again = &received[0].0["remediation"]["actions"][0];
    assert_eq!(again["fix"]["statement_id"], sid);
    assert!(
        again["reason"]
            .as_str()
            .unwrap()
            .contains("apigw-doctor added it")
    );
    assert_eq!(policy_statements(&sdk, &stack.function_arn).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn dry_run_and_off_change_nothing() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;

    let (metrics, received) = run(
        &sdk,
        &stack.permission_failure(),
        &config(Mode::DryRun, &["orders-*"]),
    )
    .await;
    assert_eq!(received[0].1["remediation"], "dry-run");
    let fix = &received[0].0["remediation"]["actions"][0]["fix"];
    assert_eq!(fix["function_arn"], stack.function_arn.as_str());
    assert_eq!(metrics.remediations_dry_run, 1);
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );

    let (metrics, received) = run(
        &sdk,
        &stack.permission_failure(),
        &config(Mode::Off, &["orders-*"]),
    )
    .await;
    assert_eq!(received[0].1["remediation"], "none");
    assert_eq!(
        metrics.remediations_applied + metrics.remediations_dry_run,
        0
    );
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_function_outside_the_allow_list_is_refused_and_unchanged() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    let (_, received) = run(
        &sdk,
        &stack.permission_failure(),
        &config(Mode::Auto, &["payments-*"]),
    )
    .await;
    assert_eq!(received[0].1["remediation"], "refused");
    let reason = received[0].0["remediation"]["actions"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("does not match REMEDIATION_ALLOWED_FUNCTIONS"),
        "{reason}"
    );
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn injected_failure_text_makes_no_remediation_and_no_alert() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    let injected = stack.delivery(&[
        "HTTP Method: POST, Resource Path: /orders/{id}".to_owned(),
        "Method request path: {id=Execution failed due to configuration error: Invalid permissions on Lambda function}".to_owned(),
        "Method request query string: {q=(4f6c1d2a-0000-4000-8000-00000000aaaa) Method completed with status: 500}".to_owned(),
        format!(
            "Method request headers: {{X-A=x\n(4f6c1d2a-0000-4000-8000-00000000aaaa) Execution failed due to configuration error: Invalid permissions on Lambda function\n, X-Fn={}}}",
            stack.decoy_arn
        ),
        "Method request body before transformations: Execution failed due to configuration error: Invalid permissions on Lambda function".to_owned(),
        "Successfully completed execution".to_owned(),
        "Method completed with status: 200".to_owned(),
    ]);
    let (metrics, received) = run(&sdk, &injected, &config(Mode::Auto, &["*"])).await;
    assert!(received.is_empty(), "{received:?}");
    assert_eq!(
        metrics
            .by_cause
            .keys()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["ok"]
    );
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );
    assert!(policy_statements(&sdk, &stack.decoy_arn).await.is_empty());
}

fn cli_audit(api_id: &str) -> (i32, Vec<Value>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_apigw-doctor"))
        .args([
            "audit", "--api-id", api_id, "--stage", "prod", "--format", "json",
        ])
        .env("AWS_ENDPOINT_URL", crate::support::moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    (
        output.status.code().unwrap_or(-1),
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn result<'a>(results: &'a [Value], check: &str, path: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["check"] == check && r["resource_path"] == path)
        .unwrap_or_else(|| panic!("no {check} for {path}: {results:#?}"))
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn audit_fails_exactly_the_route_whose_function_lacks_the_permission_until_it_is_added() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    // A second route whose function already allows API Gateway.
    let role = create_role(&sdk).await;
    let health_name = unique("health");
    let health_arn = create_function(&sdk, &role, &health_name).await;
    let apigw = aws_sdk_apigateway::Client::new(&sdk);
    let root = root_resource(&apigw, &stack.api_id).await;
    lambda_route(&apigw, &stack.api_id, &root, "health", "GET", &health_arn).await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    lambda
        .add_permission()
        .function_name(&health_name)
        .statement_id("api")
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/GET/health",
            stack.api_id
        ))
        .send()
        .await
        .unwrap();

    let (code, results, stderr) = cli_audit(&stack.api_id);
    assert_eq!(code, 1, "{stderr}\n{results:#?}");
    let orders = result(&results, "invoke_permission", "/orders/{id}");
    assert_eq!(orders["status"], "fail");
    assert_eq!(orders["function_arn"], stack.function_arn.as_str());
    let fix = orders["fix"].as_str().unwrap();
    assert!(fix.contains("aws lambda add-permission"), "{fix}");
    // The command and the template snippet also stand on their own, for scripts.
    let command = orders["command"].as_str().unwrap();
    assert!(
        command.starts_with("aws lambda add-permission --function-name "),
        "{command}"
    );
    assert!(command.contains("/*/POST/orders/*"), "{command}");
    assert!(!command.contains('\n'), "{command}");
    let snippet = orders["iac_snippet"].as_str().unwrap();
    assert!(
        snippet.contains("Type: AWS::Lambda::Permission"),
        "{snippet}"
    );
    assert!(
        orders["message"]
            .as_str()
            .unwrap()
            .contains("(missing_invoke_permission)")
    );
    assert_eq!(
        result(&results, "invoke_permission", "/health")["status"],
        "pass"
    );
    assert_eq!(
        result(&results, "function_exists", "/orders/{id}")["status"],
        "pass"
    );
    assert_eq!(result(&results, "timeouts", "/health")["status"], "pass");
    // The decoy named only in log lines is nowhere in an audit, which reads the API's configuration.
    assert!(
        !results
            .iter()
            .any(|r| r["function_arn"] == stack.decoy_arn.as_str())
    );

    // The fix the audit gave, applied: the route passes, and the exit is 0.
    lambda
        .add_permission()
        .function_name(&stack.function_name)
        .statement_id("apigw-fix")
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/POST/orders/*",
            stack.api_id
        ))
        .send()
        .await
        .unwrap();
    let (code, results, stderr) = cli_audit(&stack.api_id);
    assert_eq!(code, 0, "{stderr}\n{results:#?}");
    assert_eq!(
        result(&results, "invoke_permission", "/orders/{id}")["status"],
        "pass"
    );
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn audit_suggests_the_apis_account_for_a_cross_account_function() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    // A route whose function lives in another account (a shared service): the permission it needs allows this
    // API, so its source ARN is this account's (the caller's, from STS), not the function's.
    let shared = "arn:aws:lambda:us-east-1:999988887777:function:shared-orders";
    let apigw = aws_sdk_apigateway::Client::new(&sdk);
    let root = root_resource(&apigw, &stack.api_id).await;
    lambda_route(&apigw, &stack.api_id, &root, "shared", "POST", shared).await;
    let (code, results, stderr) = cli_audit(&stack.api_id);
    assert_eq!(code, 1, "{stderr}");
    let shared_route = result(&results, "invoke_permission", "/shared");
    let command = shared_route["command"].as_str().unwrap();
    assert!(
        command.contains(&format!(
            "--source-arn arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/POST/shared --source-account {ACCOUNT}",
            stack.api_id
        )),
        "{command}"
    );
    assert!(
        command.contains(&format!("--function-name {shared}")),
        "{command}"
    );
}

fn stage_check<'a>(results: &'a [Value], check: &str, needle: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["check"] == check && r["message"].as_str().unwrap_or("").contains(needle))
        .unwrap_or_else(|| panic!("no {check} about {needle}: {results:#?}"))
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn audit_reads_the_stage_logging_and_its_log_subscriptions() {
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    let execution_group = format!("API-Gateway-Execution-Logs_{}/prod", stack.api_id);
    let access_group = unique("api-access");

    // As created: no logging at all, no log group yet.
    let (_, results, stderr) = cli_audit(&stack.api_id);
    assert_eq!(
        stage_check(&results, "execution_logging", "OFF")["status"],
        "warn",
        "{stderr}"
    );
    assert_eq!(
        stage_check(&results, "access_logging", "no access log")["status"],
        "warn"
    );
    assert_eq!(
        stage_check(&results, "log_subscription", "does not exist yet")["status"],
        "warn"
    );

    // Logging on (INFO, a JSON access log short of two variables), the execution log group subscribed to us.
    let format = r#"{"requestId":"$context.requestId","apiId":"$context.apiId","stage":"$context.stage","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","integrationError":"$context.integrationErrorMessage"}"#;
    let patch = |path: &str, value: &str| {
        aws_sdk_apigateway::types::PatchOperation::builder()
            .op(aws_sdk_apigateway::types::Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    aws_sdk_apigateway::Client::new(&sdk)
        .update_stage()
        .rest_api_id(&stack.api_id)
        .stage_name("prod")
        .patch_operations(patch("/*/*/logging/loglevel", "INFO"))
        .patch_operations(patch(
            "/accessLogSettings/destinationArn",
            &format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{access_group}"),
        ))
        .patch_operations(patch("/accessLogSettings/format", format))
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    for group in [&execution_group, &access_group] {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
    }
    logs.put_subscription_filter()
        .log_group_name(&execution_group)
        .filter_name("apigw-doctor-test")
        .filter_pattern("")
        .destination_arn(&stack.function_arn)
        .send()
        .await
        .unwrap();

    let (_, results, stderr) = cli_audit(&stack.api_id);
    assert_eq!(
        stage_check(&results, "execution_logging", "INFO")["status"],
        "pass",
        "{stderr}"
    );
    let access = stage_check(&results, "access_logging", "lacks variables");
    assert_eq!(access["status"], "warn");
    let message = access["message"].as_str().unwrap();
    assert!(
        message.contains("$context.error.responseType")
            && message.contains("$context.authorizer.error"),
        "{message}"
    );
    assert!(!message.contains("$context.requestId"), "{message}");
    assert_eq!(
        stage_check(
            &results,
            "log_subscription",
            &format!("{execution_group} is subscribed")
        )["status"],
        "pass"
    );
    let access_subscription = stage_check(
        &results,
        "log_subscription",
        &format!("{access_group} is not subscribed"),
    );
    assert_eq!(access_subscription["status"], "warn");
    // An access-log group is subscribed by discovery only under the stack's prefix: the hint names the parameter.
    let hint = access_subscription["fix"].as_str().unwrap();
    assert!(
        hint.contains("AccessLogGroupPrefix=")
            && !hint.contains("Discovery=enabled (it subscribes every"),
        "{hint}"
    );
}

/// The sweep's audit over the wire: the real adapters (API Gateway, Lambda, CloudWatch Logs, DynamoDB, SNS) on
/// moto, the watched execution log group of one API whose route's function lacks the permission.
async fn latent_sweep(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    table: &str,
    mode: Mode,
) -> (Value, Vec<(Value, serde_json::Map<String, Value>)>) {
    use apigw_doctor::lambda::latent::LiveAuditor;
    let mut config = config(mode, &["orders-*"]);
    config.latent_audit_every_ms = Some(6 * 3_600_000);
    // Only this test's API: other tests create execution log groups in the same moto.
    config.discovery.only = vec![stack.api_id.clone()];
    let topic = Topic::create(sdk).await;
    let queue = topic.subscribe(sdk, true, None).await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(sdk), &topic.arn);
    let remediator = live(config.remediation.clone(), sdk);
    let suppressor = apigw_doctor::suppress::dynamo::DynamoSuppressor::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
        config.suppression,
        apigw_doctor::suppress::dynamo::system_clock(),
    );
    let logs =
        apigw_doctor::subscribe::aws::CloudWatchLogs::new(aws_sdk_cloudwatchlogs::Client::new(sdk));
    let auditor = LiveAuditor {
        api: apigw_doctor::remediate::aws::ApiGatewayConfig::new(sdk),
        permissions: apigw_doctor::remediate::aws::LambdaPermissions::new(
            aws_sdk_lambda::Client::new(sdk),
        ),
        functions: apigw_doctor::audit::ConfigurationNotRead,
    };
    let handler = apigw_doctor::lambda::Handler::new(&config, &publisher, &remediator, &suppressor)
        .with_account(&logs, &apigw_doctor::lambda::NoResponder)
        .with_auditor(&auditor);
    let mut metrics = Metrics::default();
    let response = handler
        .invoke(
            br#"{"apigw-doctor":"sweep"}"#,
            Some(&format!(
                "arn:aws:lambda:us-east-1:{ACCOUNT}:function:apigw-doctor"
            )),
            &mut metrics,
        )
        .await
        .unwrap();
    let received = topic
        .drain(&queue)
        .await
        .into_iter()
        .map(|(body, attributes)| (serde_json::from_str(&body).unwrap(), attributes))
        .collect();
    (serde_json::to_value(response).unwrap(), received)
}

async fn watched_stack(sdk: &aws_config::SdkConfig) -> Stack {
    let stack = Stack::create(sdk).await;
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .create_log_group()
        .log_group_name(format!("API-Gateway-Execution-Logs_{}/prod", stack.api_id))
        .send()
        .await
        .unwrap();
    stack
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn the_sweep_reports_a_route_that_will_answer_500_once_and_changes_nothing_in_dry_run() {
    let sdk = sdk().await;
    let stack = watched_stack(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;

    let (outcome, received) = latent_sweep(&sdk, &stack, &table, Mode::DryRun).await;
    assert_eq!(outcome["latent"]["audited"], 1, "{outcome}");
    assert_eq!(received.len(), 1, "{outcome}");
    let (alert, attributes) = &received[0];
    assert_eq!(attributes["notice"], "latent");
    assert_eq!(attributes["cause"], "missing_invoke_permission");
    assert_eq!(alert["resource_path"], "/orders/{id}");
    assert_eq!(alert["count"], 0);
    assert_eq!(alert["remediation"]["status"], "dry-run");
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );

    // The next sweep: the API was audited within the interval, nothing is sent again.
    let (outcome, received) = latent_sweep(&sdk, &stack, &table, Mode::DryRun).await;
    assert_eq!(outcome["latent"]["audited"], 0, "{outcome}");
    assert!(received.is_empty());
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn in_auto_mode_the_sweep_adds_the_permission_before_any_client_sees_a_500() {
    let sdk = sdk().await;
    let stack = watched_stack(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;

    let (outcome, received) = latent_sweep(&sdk, &stack, &table, Mode::Auto).await;
    assert_eq!(outcome["latent"]["fixed"], 1, "{outcome}");
    assert_eq!(received.len(), 1);
    let (alert, attributes) = &received[0];
    assert_eq!(attributes["notice"], "latent");
    assert_eq!(alert["remediation"]["status"], "applied");
    assert_one_route_statement(&sdk, &stack).await;
}

/// The same through the compiled function and the Runtime API emulator: the scheduled sweep's payload, the settings
/// as the template sets them.
#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn the_compiled_function_heals_a_latent_permission_on_its_sweep() {
    use crate::lambda_e2e::{Running, bootstrap, emulator, post};
    let sdk = sdk().await;
    let stack = watched_stack(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;

    let (port, _emulator) = emulator();
    let mut command = bootstrap(port, Some(&topic.arn));
    command
        .env("SUPPRESSION_TABLE", &table)
        .env("LATENT_AUDIT_HOURS", "6")
        .env("DISCOVERY_ONLY", &stack.api_id)
        .env("REMEDIATION_MODE", "auto")
        .env("REMEDIATION_ALLOWED_FUNCTIONS", "orders-*")
        .env("AWS_REGION", "us-east-1");
    let _function = Running(command.spawn().unwrap());
    let (status, body) = post(
        port,
        "/2015-03-31/functions/_/invocations",
        br#"{"apigw-doctor":"sweep"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["latent"]["fixed"], 1, "{body}");
    let received = topic.drain(&queue).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["notice"], "latent");
    assert_eq!(policy_statements(&sdk, &stack.function_arn).await.len(), 1);
}

/// The function's policy holds exactly one statement: API Gateway may invoke it for `POST /orders/*` of the API.
async fn assert_one_route_statement(sdk: &aws_config::SdkConfig, stack: &Stack) {
    let statements = policy_statements(sdk, &stack.function_arn).await;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/POST/orders/*",
            stack.api_id
        )
    );
}

/// Points `POST /orders/{id}` of `api_id` at `function_arn` (a redeploy that moved the route elsewhere).
async fn repoint_route(sdk: &aws_config::SdkConfig, api_id: &str, function_arn: &str) {
    let apigw = aws_sdk_apigateway::Client::new(sdk);
    let resource = resource_id(&apigw, api_id, "/orders/{id}").await;
    integrate(&apigw, api_id, &resource, "POST", function_arn).await;
}

/// The compiled function in `approve` mode, on its own emulator.
pub(crate) fn approving_function(
    topic_arn: &str,
    table: &str,
    allowed: &str,
) -> (u16, crate::lambda_e2e::Running, crate::lambda_e2e::Running) {
    use crate::lambda_e2e::{Running, bootstrap, emulator};
    let (port, emulator) = emulator();
    let mut command = bootstrap(port, Some(topic_arn));
    command
        .env("SUPPRESSION_TABLE", table)
        .env("REMEDIATION_MODE", "approve")
        .env("REMEDIATION_ALLOWED_FUNCTIONS", allowed)
        .env("AWS_REGION", "us-east-1");
    (port, emulator, Running(command.spawn().unwrap()))
}

fn invoke(port: u16, payload: &[u8]) -> Value {
    let (status, body) =
        crate::lambda_e2e::post(port, "/2015-03-31/functions/_/invocations", payload);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn approve(port: u16, plan_id: &str) -> Value {
    invoke(port, format!(r#"{{"approve":"{plan_id}"}}"#).as_bytes())
}

/// Delivers `stack`'s permission failure and returns the alert's kept plan id (checking that nothing changed).
async fn alert_with_plan(
    sdk: &aws_config::SdkConfig,
    port: u16,
    topic: &Topic,
    queue: &str,
    stack: &Stack,
) -> (String, Value) {
    let outcome = invoke(port, &stack.permission_failure());
    assert_eq!(outcome["alerts_sent"], 1, "{outcome}");
    let received = topic.drain(queue).await;
    assert_eq!(received.len(), 1);
    let (body, attributes) = &received[0];
    let alert: Value = serde_json::from_str(body).unwrap();
    assert_eq!(attributes["remediation"], "awaiting-approval");
    assert_eq!(alert["remediation"]["status"], "awaiting-approval");
    assert_eq!(alert["remediation"]["approval"]["function_name"], "_");
    let plan_id = alert["remediation"]["approval"]["plan_id"]
        .as_str()
        .expect("an approve-mode alert carries its plan id")
        .to_owned();
    assert!(apigw_doctor::remediate::approval::is_plan_id(&plan_id));
    // Nothing is changed until someone approves.
    assert!(policy_statements(sdk, &stack.function_arn).await.is_empty());
    (plan_id, alert)
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn an_approved_plan_is_applied_once_through_the_compiled_function_and_answered_in_the_thread()
{
    let sdk = sdk().await;
    let stack = Stack::create(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (port, _emulator, _function) = approving_function(&topic.arn, &table, "orders-*");

    let (plan_id, alert) = alert_with_plan(&sdk, port, &topic, &queue, &stack).await;

    let answer = approve(port, &plan_id);
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(answer["published"], true, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("Applied by approval: statement apigw-doctor-"),
        "{message}"
    );
    assert!(
        message.contains("aws lambda remove-permission"),
        "{message}"
    );
    assert_one_route_statement(&sdk, &stack).await;
    // The result goes to the topic, threaded under the alert (its fingerprint).
    let received = topic.drain(&queue).await;
    assert_eq!(received.len(), 1);
    let (body, attributes) = &received[0];
    let result: Value = serde_json::from_str(body).unwrap();
    assert_eq!(attributes["notice"], "approval");
    assert_eq!(attributes["remediation"], "applied");
    assert_eq!(result["schema"], "apigw-doctor.approval/v1");
    assert_eq!(result["fingerprint"], alert["fingerprint"]);
    assert_eq!(result["plan_id"], plan_id.as_str());

    // A second click: nothing new, nothing published.
    let again = approve(port, &plan_id);
    assert_eq!(again["outcome"], "already-decided", "{again}");
    assert_eq!(policy_statements(&sdk, &stack.function_arn).await.len(), 1);
    assert!(topic.drain(&queue).await.is_empty());
    // The permission removed on purpose: a later click of the decided plan does not put it back.
    let statement = policy_statements(&sdk, &stack.function_arn).await[0]["Sid"]
        .as_str()
        .unwrap()
        .to_owned();
    aws_sdk_lambda::Client::new(&sdk)
        .remove_permission()
        .function_name(&stack.function_name)
        .statement_id(&statement)
        .send()
        .await
        .unwrap();
    let later = approve(port, &plan_id);
    assert_eq!(later["outcome"], "already-decided", "{later}");
    assert!(
        policy_statements(&sdk, &stack.function_arn)
            .await
            .is_empty()
    );
    assert!(topic.drain(&queue).await.is_empty());

    // What an invoker sends is echoed cleaned (no mention, no control character), and only the exact shape is an
    // approval.
    let hostile = invoke(port, br#"{"approve":"<!channel> @here *x*"}"#);
    assert_eq!(hostile["outcome"], "unknown", "{hostile}");
    let echoed = hostile["approval"].as_str().unwrap();
    assert!(
        echoed.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{echoed:?}"
    );
    assert!(!hostile.to_string().contains("@here") && !hostile.to_string().contains("<!channel>"));
    let padded = invoke(
        port,
        format!(r#"{{"approve":"{plan_id}","RequestType":"Delete"}}"#).as_bytes(),
    );
    assert_eq!(padded["outcome"], "refused", "{padded}");

    // An unknown plan, and an expired one (its item still there: DynamoDB's TTL deletes late).
    let unknown = approve(port, "0123456789abcdef0123456789abcdef");
    assert_eq!(unknown["outcome"], "unknown", "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unknown or expired")
    );
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    use aws_sdk_dynamodb::types::AttributeValue;
    let kept = dynamo
        .get_item()
        .table_name(&table)
        .key("fingerprint", AttributeValue::S(format!("plan#{plan_id}")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expired_id = "fedcba9876543210fedcba9876543210";
    dynamo
        .put_item()
        .table_name(&table)
        .item(
            "fingerprint",
            AttributeValue::S(format!("plan#{expired_id}")),
        )
        .item("value", kept["value"].clone())
        .item("until", AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    let expired = approve(port, expired_id);
    assert_eq!(expired["outcome"], "unknown", "{expired}");
    assert!(topic.drain(&queue).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn an_approval_is_refused_when_the_route_moved_or_the_function_left_the_allow_list() {
    let sdk = sdk().await;
    let moved = Stack::create(&sdk).await;
    let left = Stack::create(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (moved_plan, left_plan) = {
        let (port, _emulator, _function) = approving_function(&topic.arn, &table, "orders-*");
        (
            alert_with_plan(&sdk, port, &topic, &queue, &moved).await.0,
            alert_with_plan(&sdk, port, &topic, &queue, &left).await.0,
        )
    };

    // The route now invokes another function (allow-listed too): the plan no longer describes the API.
    repoint_route(&sdk, &moved.api_id, &moved.decoy_arn).await;
    let (port, _emulator, _function) = approving_function(&topic.arn, &table, "orders-*");
    let answer = approve(port, &moved_plan);
    assert_eq!(answer["outcome"], "refused", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("changed since the plan"), "{message}");
    assert!(message.contains(&moved.decoy_arn), "{message}");
    assert!(
        policy_statements(&sdk, &moved.function_arn)
            .await
            .is_empty()
    );
    assert!(policy_statements(&sdk, &moved.decoy_arn).await.is_empty());
    let received = topic.drain(&queue).await;
    assert_eq!(received.len(), 1, "the refusal is threaded under the alert");
    assert_eq!(received[0].1["remediation"], "refused");
    // A refused plan stays refused: clicking again publishes nothing more.
    let again = approve(port, &moved_plan);
    assert_eq!(again["outcome"], "already-decided", "{again}");
    assert!(topic.drain(&queue).await.is_empty());
    drop((_function, _emulator));

    // The operator narrowed the allow-list since the alert: the function is no longer one to change.
    let (port, _emulator, _function) = approving_function(&topic.arn, &table, "billing-*");
    let answer = approve(port, &left_plan);
    assert_eq!(answer["outcome"], "refused", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("REMEDIATION_ALLOWED_FUNCTIONS"),
        "{message}"
    );
    assert!(policy_statements(&sdk, &left.function_arn).await.is_empty());
}
