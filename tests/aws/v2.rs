//! HTTP and WebSocket APIs (API Gateway v2) over the real wire: the APIs, routes, integrations, authorizers and
//! stages in moto's `apigatewayv2`; the built `apigw-doctor` (audit, live diagnose) and the compiled function
//! (driven through the Runtime API emulator) against them; asserted with GetPolicy and on the SNS messages.
//!
//! Where moto differs from AWS: moto's `GetApis`/`GetStages` ignore `MaxResults` and never page, and moto never
//! checks `apigateway:GET` (the template's `/apis` and `/apis/*` resources are checked by cfn-lint and by
//! `tests/core/template.rs`, not here). The planner's AWS-shaped documents are unit-tested in `src/remediate`.

use aws_sdk_apigatewayv2::types::{
    AccessLogSettings, AuthorizationType, AuthorizerType, IntegrationType, ProtocolType,
};
use serde_json::Value;

use crate::lambda_e2e::{Running, bootstrap, emulator, post};
use crate::live::{cli, put};
use crate::remediate::policy_statements;
use crate::support::{Topic, create_function, create_role, delivery, sdk, unique};

const ACCOUNT: &str = "123456789012";

/// The sentence an HTTP API logs in `$context.integrationErrorMessage` when it may not invoke the function (AWS
/// Knowledge Center, "api-gateway-http-lambda-integrations").
const HTTP_PERMISSION_ERROR: &str = "The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration. Check the permissions and try again.";

/// An HTTP API with `GET /orders/{id}` integrated (AWS_PROXY, payload 2.0, the bare function ARN as URI) and the
/// `$default` stage logging to its own access-log group.
pub(crate) struct HttpApi {
    pub(crate) api_id: String,
    pub(crate) function_arn: String,
    access_group: String,
}

impl HttpApi {
    pub(crate) async fn create(sdk: &aws_config::SdkConfig) -> HttpApi {
        let role = create_role(sdk).await;
        let function_arn = create_function(sdk, &role, &unique("orders")).await;
        let v2 = aws_sdk_apigatewayv2::Client::new(sdk);
        let api_id = v2
            .create_api()
            .name(unique("http"))
            .protocol_type(ProtocolType::Http)
            .send()
            .await
            .unwrap()
            .api_id
            .unwrap();
        let integration = v2
            .create_integration()
            .api_id(&api_id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(&function_arn)
            .payload_format_version("2.0")
            .send()
            .await
            .unwrap()
            .integration_id
            .unwrap();
        v2.create_route()
            .api_id(&api_id)
            .route_key("GET /orders/{id}")
            .target(format!("integrations/{integration}"))
            .send()
            .await
            .unwrap();
        // A team's own name for the group: nothing in it says which API writes there.
        let access_group = format!("/aws/vendedlogs/{}", unique("orders-api"));
        v2.create_stage()
            .api_id(&api_id)
            .stage_name("$default")
            .auto_deploy(true)
            .access_log_settings(
                AccessLogSettings::builder()
                    .destination_arn(format!(
                        "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{access_group}"
                    ))
                    .format(r#"{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status","integrationErrorMessage":"$context.integrationErrorMessage"}"#)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        HttpApi {
            api_id,
            function_arn,
            access_group,
        }
    }

    fn source_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/*/GET/orders/*",
            self.api_id
        )
    }

    /// The access-log record of a request the missing permission failed: the field set of a real HTTP API record
    /// (serverless/serverless#7559) with the integration error the format above adds.
    fn failed_record(&self, request_id: &str) -> String {
        format!(
            r#"{{"requestId":"{request_id}","ip":"203.0.113.7","requestTime":"06/Dec/2026:19:27:25 +0000","httpMethod":"GET","routeKey":"GET /orders/{{id}}","status":"500","protocol":"HTTP/1.1","responseLength":"35","integrationErrorMessage":"{HTTP_PERMISSION_ERROR}"}}"#
        )
    }
}

fn audit(api_id: &str, stage: &str) -> (i32, Vec<Value>, String) {
    let (code, stdout, stderr) = cli(&[
        "audit", "--api-id", api_id, "--stage", stage, "--format", "json",
    ]);
    let results = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (code, results, stderr)
}

fn permission_check<'a>(results: &'a [Value], field: &str, value: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["check"] == "invoke_permission" && r[field] == value)
        .unwrap_or_else(|| panic!("no invoke_permission for {field}={value}: {results:#?}"))
}

fn invoke(port: u16, payload: &[u8]) -> Value {
    let (status, body) = post(port, "/2015-03-31/functions/_/invocations", payload);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The compiled function on its own emulator, with the template's settings for `mode`.
fn function(topic_arn: &str, mode: &str) -> (u16, Running, Running) {
    let (port, emulator) = emulator();
    let mut command = bootstrap(port, Some(topic_arn));
    command
        .env("REMEDIATION_MODE", mode)
        .env("REMEDIATION_ALLOWED_FUNCTIONS", "orders-*")
        .env("AWS_REGION", "us-east-1");
    (port, emulator, Running(command.spawn().unwrap()))
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn an_http_api_route_without_the_permission_is_audited_diagnosed_and_healed_once() {
    let sdk = sdk().await;
    let api = HttpApi::create(&sdk).await;

    // audit: kind detected, the route named, the exact command with the least-privilege source ARN.
    let (code, results, stderr) = audit(&api.api_id, "$default");
    assert_eq!(code, 1, "{stderr}");
    let check = permission_check(&results, "resource_path", "/orders/{id}");
    assert_eq!(check["status"], "fail");
    assert_eq!(check["method"], "GET");
    let command = check["command"].as_str().unwrap();
    assert!(
        command.starts_with(&format!(
            "aws lambda add-permission --function-name {}",
            api.function_arn
        )),
        "{command}"
    );
    assert!(
        command.contains(&format!("--source-arn {}", api.source_arn())),
        "{command}"
    );
    // An HTTP API waits 30 s; no execution log exists to check.
    assert!(results.iter().all(|r| r["check"] != "execution_logging"));

    // diagnose --api-id: the stage's access-log group, found through its AccessLogSettings.
    put(
        &sdk,
        &api.access_group,
        &[api.failed_record("Ab1cDEFGhijKLm=").as_str()],
    )
    .await;
    let (code, stdout, stderr) = cli(&[
        "diagnose",
        "--api-id",
        &api.api_id,
        "--stage",
        "$default",
        "--since",
        "1h",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains(&api.access_group), "{stderr}");
    let found: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let finding = found
        .iter()
        .find(|f| f["request_id"] == "Ab1cDEFGhijKLm=")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(finding["cause"], "missing_invoke_permission");
    assert_eq!(finding["status"], 500);
    assert_eq!(finding["api_id"], api.api_id.as_str());

    // dry-run through the compiled function: the plan, nothing changed.
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let event = delivery(
        &api.access_group,
        &[api.failed_record("r-dry")],
        1_765_000_000_000,
    );
    {
        let (port, _emulator, _function) = function(&topic.arn, "dry-run");
        let outcome = invoke(port, &event);
        assert_eq!(outcome["alerts_sent"], 1, "{outcome}");
    }
    let received = topic.drain(&queue).await;
    assert_eq!(received.len(), 1);
    let alert: Value = serde_json::from_str(&received[0].0).unwrap();
    assert_eq!(alert["remediation"]["status"], "dry-run", "{alert:#}");
    assert_eq!(
        alert["remediation"]["actions"][0]["fix"]["source_arn"],
        api.source_arn()
    );
    // The alert names the API its stage's configuration names, not a record's text.
    assert_eq!(received[0].1["api_id"], api.api_id.as_str());
    assert!(policy_statements(&sdk, &api.function_arn).await.is_empty());

    // auto: exactly that statement, once, however often the failure is delivered.
    {
        let (port, _emulator, _function) = function(&topic.arn, "auto");
        for request in ["r-auto-1", "r-auto-2"] {
            let event = delivery(
                &api.access_group,
                &[api.failed_record(request)],
                1_765_000_100_000,
            );
            invoke(port, &event);
        }
    }
    let statements = policy_statements(&sdk, &api.function_arn).await;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        api.source_arn()
    );
    let applied: Vec<Value> = topic
        .drain(&queue)
        .await
        .iter()
        .map(|(body, _)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(
        applied[0]["remediation"]["status"], "applied",
        "{applied:#?}"
    );

    // audit passes after.
    let (code, results, stderr) = audit(&api.api_id, "$default");
    assert_eq!(code, 0, "{stderr}\n{results:#?}");
    assert_eq!(
        permission_check(&results, "resource_path", "/orders/{id}")["status"],
        "pass"
    );
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn an_access_log_group_no_stage_names_changes_nothing_even_in_auto() {
    let sdk = sdk().await;
    let api = HttpApi::create(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    // The same record, from a group no stage logs to: its `routeKey` and any `apiId` are only text.
    let stray = format!("/aws/vendedlogs/{}", unique("stray"));
    let record = api
        .failed_record("r-stray")
        .replace("\"ip\"", &format!("\"apiId\":\"{}\",\"ip\"", api.api_id));
    {
        let (port, _emulator, _function) = function(&topic.arn, "auto");
        let outcome = invoke(port, &delivery(&stray, &[record], 1_765_000_200_000));
        assert_eq!(outcome["alerts_sent"], 1, "{outcome}");
    }
    let received = topic.drain(&queue).await;
    let alert: Value = serde_json::from_str(&received[0].0).unwrap();
    assert_eq!(alert["remediation"]["status"], "refused", "{alert:#}");
    assert!(policy_statements(&sdk, &api.function_arn).await.is_empty());
}

/// A WebSocket API whose `$connect` route uses a Lambda REQUEST authorizer; its authorizer function lacks the
/// permission, its integration function has it.
struct WebSocketApi {
    api_id: String,
    authorizer_id: String,
    authorizer_arn: String,
}

impl WebSocketApi {
    async fn create(sdk: &aws_config::SdkConfig) -> WebSocketApi {
        let role = create_role(sdk).await;
        let handler_arn = create_function(sdk, &role, &unique("orders-ws")).await;
        let authorizer_arn = create_function(sdk, &role, &unique("orders-auth")).await;
        let v2 = aws_sdk_apigatewayv2::Client::new(sdk);
        let api_id = v2
            .create_api()
            .name(unique("ws"))
            .protocol_type(ProtocolType::Websocket)
            .route_selection_expression("$request.body.action")
            .send()
            .await
            .unwrap()
            .api_id
            .unwrap();
        let lambda_uri = |arn: &str| {
            format!(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
            )
        };
        let integration = v2
            .create_integration()
            .api_id(&api_id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(lambda_uri(&handler_arn))
            .send()
            .await
            .unwrap()
            .integration_id
            .unwrap();
        let authorizer_id = v2
            .create_authorizer()
            .api_id(&api_id)
            .name("token")
            .authorizer_type(AuthorizerType::Request)
            .authorizer_uri(lambda_uri(&authorizer_arn))
            .identity_source("route.request.querystring.token")
            .send()
            .await
            .unwrap()
            .authorizer_id
            .unwrap();
        v2.create_route()
            .api_id(&api_id)
            .route_key("$connect")
            .authorization_type(AuthorizationType::Custom)
            .authorizer_id(&authorizer_id)
            .target(format!("integrations/{integration}"))
            .send()
            .await
            .unwrap();
        v2.create_stage()
            .api_id(&api_id)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        // The handler already may be invoked for $connect: only the authorizer is missing its permission.
        aws_sdk_lambda::Client::new(sdk)
            .add_permission()
            .function_name(&handler_arn)
            .statement_id("connect")
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(format!(
                "arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/$connect"
            ))
            .send()
            .await
            .unwrap();
        WebSocketApi {
            api_id,
            authorizer_id,
            authorizer_arn,
        }
    }

    /// The execution log of a `$connect` its authorizer could not be invoked for (corpus 21: a real WebSocket
    /// API's lines, prefixed with the extended request id).
    fn failed_connect(&self) -> Vec<u8> {
        let lines: Vec<String> = [
            "Execution failed due to configuration error: Invalid permissions on Lambda function",
            "Execution failed due to configuration error: Authorizer error",
            "Gateway response type: AUTHORIZER_CONFIGURATION_ERROR with status code: 500",
        ]
        .iter()
        .map(|l| format!("(PDS1PEC4oAMFpyA=) {l}"))
        .collect();
        delivery(
            &format!("API-Gateway-Execution-Logs_{}/prod", self.api_id),
            &lines,
            1_765_000_300_000,
        )
    }
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn a_websocket_connect_authorizer_without_the_permission_is_audited_and_healed() {
    let sdk = sdk().await;
    let api = WebSocketApi::create(&sdk).await;
    let source = format!(
        "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/authorizers/{}",
        api.api_id, api.authorizer_id
    );

    let (code, results, stderr) = audit(&api.api_id, "prod");
    assert_eq!(code, 1, "{stderr}");
    let authorizer = permission_check(&results, "authorizer_id", &api.authorizer_id);
    assert_eq!(authorizer["status"], "fail");
    assert_eq!(authorizer["routes"][0], "$connect");
    assert!(
        authorizer["command"]
            .as_str()
            .unwrap()
            .contains(&format!("--source-arn {source}")),
        "{authorizer:#}"
    );
    // The $connect integration is allowed by its route-key statement.
    assert_eq!(
        permission_check(&results, "resource_path", "$connect")["status"],
        "pass"
    );

    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    {
        let (port, _emulator, _function) = function(&topic.arn, "auto");
        let outcome = invoke(port, &api.failed_connect());
        assert_eq!(outcome["alerts_sent"], 1, "{outcome}");
        invoke(port, &api.failed_connect());
    }
    let received = topic.drain(&queue).await;
    let alert: Value = serde_json::from_str(&received[0].0).unwrap();
    assert_eq!(alert["cause"], "authorizer_missing_invoke_permission");
    assert_eq!(alert["remediation"]["status"], "applied", "{alert:#}");
    let statements = policy_statements(&sdk, &api.authorizer_arn).await;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        source
    );

    let (code, results, stderr) = audit(&api.api_id, "prod");
    assert_eq!(code, 0, "{stderr}\n{results:#?}");
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn discovery_subscribes_the_access_log_group_an_http_api_stage_names_and_removes_it_on_delete()
 {
    use crate::discovery::{Answers, STACK_ID, cloudformation_request, filters, log_group};
    use apigw_doctor::lambda::Handler;
    use apigw_doctor::lambda::config::Config;
    use apigw_doctor::lambda::latent::LiveAuditor;
    use apigw_doctor::lambda::metrics::Metrics;
    let sdk = sdk().await;
    let api = HttpApi::create(&sdk).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    log_group(&logs, &api.access_group).await;
    let role = create_role(&sdk).await;
    let function_arn = create_function(&sdk, &role, &unique("apigw-doctor")).await;
    let filter_name = unique("apigw-doctor-stack");
    // Discovery restricted to this API: by its id, as DISCOVERY_ONLY takes it.
    let config = Config::from_lookup(|name| match name {
        "DISCOVERY" => Some("on".to_owned()),
        "SUBSCRIPTION_FILTER_NAME" => Some(filter_name.clone()),
        "DISCOVERY_ONLY" => Some(api.api_id.clone()),
        "STACK_ID" => Some(STACK_ID.to_owned()),
        _ => None,
    })
    .unwrap();
    let adapter = apigw_doctor::subscribe::aws::CloudWatchLogs::new(logs.clone());
    let auditor = LiveAuditor {
        api: apigw_doctor::remediate::aws::ApiGatewayConfig::new(&sdk),
        permissions: apigw_doctor::remediate::aws::LambdaPermissions::new(
            aws_sdk_lambda::Client::new(&sdk),
        ),
        functions: apigw_doctor::audit::ConfigurationNotRead,
    };
    let answers = Answers::default();
    let publisher = apigw_doctor::publish::sns::SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk),
        "arn:aws:sns:us-east-1:123456789012:unused",
    );
    let handler = Handler::new(
        &config,
        &publisher,
        &apigw_doctor::remediate::Disabled,
        &apigw_doctor::suppress::NoSuppression,
    )
    .with_account(&adapter, &answers)
    .with_auditor(&auditor);
    let url = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws?X-Amz-Signature=abc";
    for (request_type, expected) in [("Create", 1), ("Delete", 0)] {
        let request = cloudformation_request(request_type, url, &function_arn);
        handler
            .invoke(
                request.to_string().as_bytes(),
                Some(&function_arn),
                &mut Metrics::default(),
            )
            .await
            .unwrap();
        let (_, answer) = answers.0.lock().unwrap().pop().unwrap();
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
        let on_group = filters(&logs, &api.access_group).await;
        assert_eq!(on_group.len(), expected, "{request_type}: {on_group:?}");
        if expected == 1 {
            assert_eq!(on_group[0], (filter_name.clone(), function_arn.clone()));
        }
    }
}

/// The SDK configuration of another account: a role there assumed through moto's STS (moto keeps each account's
/// resources apart by the assumed credentials).
async fn member_sdk(role_arn: &str) -> aws_config::SdkConfig {
    apigw_doctor::lambda::aws::sdk_config_assuming(Some("us-east-1"), None, role_arn).await
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn audit_with_role_arn_reads_another_accounts_api_and_suggests_its_account() {
    const MEMBER: &str = "111122223333";
    let role = format!("arn:aws:iam::{MEMBER}:role/apigw-doctor-member");
    let member = member_sdk(&role).await;
    let api = HttpApi::create(&member).await;
    assert!(api.function_arn.contains(MEMBER), "{}", api.function_arn);

    // With the role: the member account's API, and a fix naming the member account.
    let (code, stdout, stderr) = cli(&[
        "audit",
        "--api-id",
        &api.api_id,
        "--stage",
        "$default",
        "--format",
        "json",
        "--role-arn",
        &role,
    ]);
    assert_eq!(code, 1, "{stderr}");
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let command = permission_check(&results, "resource_path", "/orders/{id}")["command"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        command.contains(&format!(
            "--source-arn arn:aws:execute-api:us-east-1:{MEMBER}:{}/*/GET/orders/*",
            api.api_id
        )) && command.contains(&format!("--source-account {MEMBER}")),
        "{command}"
    );

    // Without it: this account has no such API (exit 2, one line naming it).
    let (code, _, stderr) = cli(&["audit", "--api-id", &api.api_id, "--stage", "$default"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&api.api_id), "{stderr}");

    // A malformed role is refused before any call.
    let (code, _, stderr) = cli(&["audit", "--api-id", &api.api_id, "--role-arn", "admin"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a role ARN"), "{stderr}");
}

#[tokio::test]
#[ignore = "needs moto's server and cargo-lambda: run scripts/test.sh"]
async fn an_http_api_fix_waits_for_approval_and_is_applied_once_for_the_api_its_stage_names() {
    let sdk = sdk().await;
    let api = HttpApi::create(&sdk).await;
    let table = crate::suppression::create_table(&sdk).await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (port, _emulator, _function) =
        crate::remediate::approving_function(&topic.arn, &table, "orders-*");

    let event = delivery(
        &api.access_group,
        &[api.failed_record("r-approve")],
        1_765_000_400_000,
    );
    let outcome = invoke(port, &event);
    assert_eq!(outcome["alerts_sent"], 1, "{outcome}");
    let received = topic.drain(&queue).await;
    let alert: Value = serde_json::from_str(&received[0].0).unwrap();
    assert_eq!(
        alert["remediation"]["status"], "awaiting-approval",
        "{alert:#}"
    );
    let plan_id = alert["remediation"]["approval"]["plan_id"]
        .as_str()
        .expect("the plan is kept for the API the stage names")
        .to_owned();
    assert!(policy_statements(&sdk, &api.function_arn).await.is_empty());

    let answer = invoke(port, format!(r#"{{"approve":"{plan_id}"}}"#).as_bytes());
    assert_eq!(answer["outcome"], "applied", "{answer}");
    let again = invoke(port, format!(r#"{{"approve":"{plan_id}"}}"#).as_bytes());
    assert_eq!(again["outcome"], "already-decided", "{again}");
    let statements = policy_statements(&sdk, &api.function_arn).await;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        api.source_arn()
    );
}
