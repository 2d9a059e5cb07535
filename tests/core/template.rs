//! template.yaml and config.rs name the same variables (cfn-lint itself runs in scripts/test.sh).

use apigw_doctor::lambda::config::VARIABLES;

use crate::repo_path;

#[test]
fn the_template_sets_exactly_the_variables_config_reads() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let start = template
        .find("        Variables:\n")
        .expect("Environment.Variables in template.yaml");
    let set: Vec<&str> = template[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("          "))
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    let mut expected: Vec<&str> = VARIABLES.to_vec();
    let mut got = set.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
}

/// The `Variables:` map of the Apply fix custom action (name → path in the notification).
fn apply_fix_variables(template: &str) -> Vec<(String, String)> {
    let action = &template[template
        .find("  ApplyFixAction:\n")
        .expect("ApplyFixAction in template.yaml")..];
    let start = action.find("          Variables:\n").unwrap();
    action[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("            "))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The sample missing-permission delivery, decoded.
fn permission_event() -> Vec<u8> {
    let wire = std::fs::read(repo_path("events/missing-invoke-permission.json")).unwrap();
    apigw_doctor::ingest::decode(&wire, apigw_doctor::ingest::DEFAULT_MAX_INFLATED_BYTES).unwrap()
}

/// An approve-mode alert as the function renders it: the plan kept, this function named.
fn approve_mode_chat(function_name: &str, plan_id: &str) -> serde_json::Value {
    use apigw_doctor::remediate::approval::Offer;
    use apigw_doctor::remediate::plan::{Fix, FunctionRef};
    use apigw_doctor::remediate::{AWAITING_APPROVAL, Action, Report};
    let json = permission_event();
    let batch = apigw_doctor::ingest::parse_raw_batch(&json).unwrap();
    let (_, plan) = apigw_doctor::lambda::plan_batch(&batch, &Default::default());
    let alert = &plan.alerts[0];
    let function =
        FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:orders").unwrap();
    let report = Report {
        status: AWAITING_APPROVAL,
        api: None,
        acted_as: None,
        actions: vec![Action {
            outcome: AWAITING_APPROVAL,
            reason: None,
            fix: Some(Fix::new(
                &function,
                "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders/*".into(),
                "123456789012",
            )),
        }],
        approval: Some(Offer {
            plan_id: plan_id.to_owned(),
            function_name: Some(function_name.to_owned()),
            expires_at: 1_700_000_000_000,
        }),
    };
    let message = apigw_doctor::publish::render::render_noticed(alert, &report, None);
    serde_json::from_str(message.bodies.https()).unwrap()
}

#[test]
fn the_apply_fix_button_reads_what_an_approve_mode_alert_carries_within_chatbots_rules() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let variables = apply_fix_variables(&template);
    // Chatbot: at most five variables, keys [A-Za-z0-9-_]+ of 1-100 characters.
    assert!(
        !variables.is_empty() && variables.len() <= 5,
        "{variables:?}"
    );
    for (name, _) in &variables {
        assert!(
            (1..=100).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{name}"
        );
    }
    let plan_id = "0123456789abcdef0123456789abcdef";
    let chat = approve_mode_chat("apigw-doctor-Function-AbC123xyz", plan_id);
    let resolved: Vec<(String, String)> = variables
        .iter()
        .map(|(name, path)| {
            let mut value = &chat;
            for key in path.strip_prefix("event.").expect(path).split('.') {
                value = &value[key];
            }
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{path} is not a string in {chat}"));
            (name.clone(), value.to_owned())
        })
        .collect();
    for (name, value) in &resolved {
        // Variable values: printable ASCII (0x21-0x7F), at most 1,024 characters.
        assert!(
            (1..=1024).contains(&value.len()) && value.bytes().all(|b| (0x21..=0x7f).contains(&b)),
            "{name}={value:?}"
        );
    }
    assert!(resolved.contains(&("planId".to_owned(), plan_id.to_owned())));
    assert!(resolved.contains(&(
        "function".to_owned(),
        "apigw-doctor-Function-AbC123xyz".to_owned()
    )));
    // Every variable the command and the criteria use is defined.
    let action = &template[template.find("  ApplyFixAction:\n").unwrap()..];
    let action = &action[..action.find("\n\n").unwrap()];
    assert!(
        action.contains(r#"--payload {"approve":"$planId"}"#),
        "{action}"
    );
    for line in action.lines().filter(|l| l.contains("VariableName:")) {
        let name = line.split(':').nth(1).unwrap().trim();
        assert!(variables.iter().any(|(n, _)| n == name), "{name}");
    }
    // The notification's type fits a custom action's NotificationType pattern ([a-zA-Z0-9-]+).
    assert_eq!(chat["source"], "custom");
    let event_type = chat["metadata"]["eventType"].as_str().unwrap();
    assert!(
        event_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "{event_type}"
    );
}

#[test]
fn an_alert_without_a_kept_plan_shows_no_button() {
    let json = permission_event();
    let batch = apigw_doctor::ingest::parse_raw_batch(&json).unwrap();
    let (_, messages) = apigw_doctor::lambda::plan_messages(&batch, &Default::default());
    let chat: serde_json::Value = serde_json::from_str(messages[0].bodies.https()).unwrap();
    let context = &chat["metadata"]["additionalContext"];
    assert!(context.get("approve_plan").is_none(), "{context}");
    assert!(context.get("approve_function").is_none(), "{context}");
}

/// `key: value` lines of the Serverless Application Repository metadata (folded `>-` values joined).
fn sar_metadata(template: &str) -> Vec<(String, String)> {
    let start = template
        .find("  AWS::ServerlessRepo::Application:\n")
        .expect("SAR metadata in template.yaml");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in template[start..].lines().skip(1) {
        if !line.starts_with("    ") {
            break;
        }
        if line.starts_with("      ") {
            let last = out.last_mut().expect("a folded value after its key");
            if !last.1.is_empty() {
                last.1.push(' ');
            }
            last.1.push_str(line.trim());
        } else if let Some((key, value)) = line.trim().split_once(':') {
            let value = value.trim();
            out.push((
                key.to_owned(),
                if value == ">-" {
                    String::new()
                } else {
                    value.to_owned()
                },
            ));
        }
    }
    out
}

#[test]
fn the_sar_metadata_passes_the_serverless_application_repositorys_own_rules() {
    // The rules of CreateApplication (Serverless Application Repository API reference), which `sam publish` only
    // meets when it calls AWS: a wrong Author is found at publishing time, not by `sam validate`.
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let metadata = sar_metadata(&template);
    let get = |key: &str| {
        metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{key} missing from the SAR metadata"))
    };
    let name = get("Name");
    assert!(
        (1..=140).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "Name {name:?}"
    );
    // Author: ^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$, at most 127.
    let author = get("Author");
    let bytes = author.as_bytes();
    assert!(
        (1..=127).contains(&author.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
            && !author.contains("--"),
        "Author {author:?}"
    );
    let description = get("Description");
    assert!(
        (1..=256).contains(&description.len()),
        "Description is {} characters",
        description.len()
    );
    // SemanticVersion: semver 2.0, and the crate's own version.
    let version = get("SemanticVersion");
    let core = version.split(['-', '+']).next().unwrap();
    assert!(
        core.split('.').count() == 3
            && core.split('.').all(|n| !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))),
        "SemanticVersion {version:?}"
    );
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(get("SpdxLicenseId"), env!("CARGO_PKG_LICENSE"));
    for file in ["LicenseUrl", "ReadmeUrl"] {
        let path = get(file);
        assert!(
            repo_path(path).is_file(),
            "{file} {path} is not a file of the repository"
        );
    }
    // Labels: at most 10, each 1-127 characters of [a-zA-Z0-9+\-_:\/@].
    let labels = get("Labels");
    let labels: Vec<&str> = labels
        .trim_matches(['[', ']'])
        .split(',')
        .map(str::trim)
        .collect();
    assert!((1..=10).contains(&labels.len()), "{labels:?}");
    for label in labels {
        assert!(
            (1..=127).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-_:/@".contains(&b)),
            "label {label:?}"
        );
    }
    for url in ["HomePageUrl", "SourceCodeUrl"] {
        assert!(get(url).starts_with("https://"), "{url}");
    }
}

#[test]
fn the_apply_fix_command_fits_chatbots_100_characters_for_any_stack_name() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let action = &template[template.find("  ApplyFixAction:\n").unwrap()..];
    let line = action
        .lines()
        .find(|l| l.trim_start().starts_with("CommandText:"))
        .unwrap();
    let command = line
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .trim_start_matches("!Sub")
        .trim()
        .trim_matches('\'');
    // A generated function name is at most 64 characters whatever the stack's (up to 128) name: the longest one
    // stands in for any `${Function}`; the variables are replaced by Chatbot at click time with values of the
    // notification (a 32-hex plan id, the function's name).
    let longest_function = "x".repeat(64);
    let resolved = command
        .replace("${Function}", &longest_function)
        .replace("$function", &longest_function)
        .replace("$planId", &"0".repeat(32));
    // CreateCustomAction: CommandText 1-100 characters (the template's text, before variables are replaced).
    assert!(
        command.replace("${Function}", &longest_function).len() <= 100,
        "{} characters: {command}",
        command.len()
    );
    assert!(
        !command.contains("${"),
        "no name of the stack in the command: {command}"
    );
    assert!(
        resolved.contains("lambda invoke --function-name "),
        "{resolved}"
    );
}

#[test]
fn setup_works_the_first_time() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    // The account's API Gateway CloudWatch role: optional (account-wide), off by default.
    let parameter = &template[template.find("\n  ApiGatewayAccountRole:\n").unwrap()..];
    assert!(parameter.contains("    Default: keep\n"), "off by default");
    assert!(template.contains("Type: AWS::ApiGateway::Account"));
    assert!(template.contains("AmazonAPIGatewayPushToCloudWatchLogs"));
    // An empty AlertEmail is said in the deploy output.
    let outputs = &template[template.find("\nOutputs:\n").unwrap()..];
    assert!(outputs.contains("  AlertEmailWarning:\n    Condition: NoAlertEmail"));
    // `sam deploy --guided` asks the parameters in the template's order: the email first.
    let parameters = &template[template.find("\nParameters:\n").unwrap()..];
    assert!(parameters.starts_with("\nParameters:\n  AlertEmail:\n"));
    let samconfig = std::fs::read_to_string(repo_path("samconfig.toml")).unwrap();
    assert!(!samconfig.contains("beta_features"), "no beta banner");
    let validate = &samconfig[samconfig.find("[default.validate.parameters]").unwrap()..];
    assert!(
        validate.contains("region = "),
        "sam validate needs a region"
    );
    assert!(samconfig.contains("[quick.deploy.parameters]"));
    let deploy = std::fs::read_to_string(repo_path("docs/deploy.md")).unwrap();
    for needed in [
        "op=replace,path=/cloudwatchRoleArn,value=",
        "ApiGatewayAccountRole=create",
        "sam deploy --config-env quick",
    ] {
        assert!(
            deploy.contains(needed),
            "docs/deploy.md does not say {needed}"
        );
    }
}

#[test]
fn the_deployed_function_unwinds_on_a_panic() {
    // cargo-lambda (and so `sam build`) adds `panic = "abort"` to a release profile that does not set `panic`:
    // the manifest says unwind, so the runtime answers a panicking invocation as an error and the process lives on
    // (scripts/deploy-check.sh checks the built bootstrap carries the landing pads).
    let manifest = std::fs::read_to_string(repo_path("Cargo.toml")).unwrap();
    let release: Vec<&str> = manifest
        .lines()
        .skip_while(|l| l.trim() != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .collect();
    assert!(release.contains(&"panic = \"unwind\""), "{release:?}");
}

#[test]
fn the_functions_role_reads_no_functions_configuration_and_the_fan_in_trusts_only_its_senders() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    // GetFunctionConfiguration answers with environment variables: the role never has it.
    let granted: Vec<&str> = template
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with('#') && l.contains("lambda:GetFunctionConfiguration")
        })
        .collect();
    assert!(granted.is_empty(), "{granted:?}");
    // The destination role's trust names the sender accounts when they are listed.
    let role = &template[template.find("  FanInDestinationRole:\n").unwrap()..];
    let role = &role[..role.find("\n\n").unwrap()];
    assert!(role.contains("!Ref FanInSenderAccounts"), "{role}");
    assert!(role.contains("${AWS::AccountId}:*"), "{role}");
}

/// The dashboard's JSON with its `${...}` substituted as CloudFormation would (`NS` for the namespace).
fn dashboard_body(template: &str) -> serde_json::Value {
    let start = template
        .find("      DashboardBody: !Sub\n        - |\n")
        .expect("a DashboardBody in template.yaml")
        + "      DashboardBody: !Sub\n        - |\n".len();
    let body: String = template[start..]
        .lines()
        .take_while(|l| l.starts_with("          "))
        .map(str::trim)
        .collect();
    let substituted = body
        .replace("${Namespace}", "NS")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("${Function}", "fn")
        .replace("${Queue}", "queue");
    assert!(!substituted.contains("${"), "{substituted}");
    serde_json::from_str(&substituted).unwrap_or_else(|e| panic!("{e}: {substituted}"))
}

#[test]
fn the_dashboard_is_json_and_names_only_metrics_the_function_emits() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let body = dashboard_body(&template);
    let emitted = apigw_doctor::lambda::metrics::metric_names();
    let mut named = Vec::new();
    for widget in body["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"].as_array().unwrap() {
            let metric = metric.as_array().unwrap();
            if metric[0] == "NS" {
                named.push(metric[1].as_str().unwrap().to_owned());
            }
            if let Some(expression) = metric[0]["expression"].as_str() {
                assert!(expression.contains("{NS,"), "{expression}");
                let name = expression
                    .split("MetricName=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap();
                named.push(name.to_owned());
            }
        }
    }
    for name in &named {
        assert!(emitted.contains(&name.as_str()), "{name} is not emitted");
    }
    for needed in [
        "RequestsByCause",
        "ProblemsByApi",
        "ProblemsByAccount",
        "AlertsSent",
        "AlertsSuppressed",
        "RemediationsApplied",
        "DecodeFailures",
        "PublishFailures",
    ] {
        assert!(
            named.iter().any(|n| n == needed),
            "{needed} not on the dashboard"
        );
    }
    // The function is told its dashboard (alerts link to it).
    assert!(template.contains("DASHBOARD_NAME: !Sub ${AWS::StackName}-apigw-doctor"));
    assert!(template.contains("DashboardName: !Sub ${AWS::StackName}-apigw-doctor"));
}

#[test]
fn the_member_template_is_plain_cloudformation_trusting_only_the_monitoring_role() {
    let member = std::fs::read_to_string(repo_path("member/template.yaml")).unwrap();
    assert!(!member.lines().any(|l| l.starts_with("Transform")));
    assert!(!member.contains("AWS::Serverless"));
    assert!(member.contains("Principal: { AWS: !Ref MonitoringRoleArn }"));
    // Healing: only AddPermission, only for API Gateway, only this account and region; never a function's
    // configuration (environment variables, secrets included).
    assert!(member.contains("Action: lambda:AddPermission"));
    assert!(member.contains("lambda:Principal: apigateway.amazonaws.com"));
    assert!(member.contains("aws:ResourceAccount: !Ref AWS::AccountId"));
    let actions: Vec<&str> = member
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("Action: ").or_else(|| l.strip_prefix("- ")))
        .collect();
    assert!(!actions.contains(&"lambda:GetFunctionConfiguration"));
    assert!(!member.contains("lambda:RemovePermission"));
    assert!(
        !actions
            .iter()
            .any(|a| *a == "\"*\"" || *a == "'*'" || *a == "lambda:*")
    );
    // The monitoring stack hands the role ARN the member template trusts, and assumes only that role name.
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    assert!(template.contains("  FunctionRoleArn:\n"));
    assert!(
        template.contains("Resource: !Sub arn:${AWS::Partition}:iam::*:role/${MemberRoleName}")
    );
    assert!(template.contains("aws:ResourceAccount: !Ref MemberAccounts"));
}
