//! Snapshots (insta) of what people receive: the email text, the Chatbot JSON, subject and attributes, for a few
//! representative deliveries. Time comes from the log events, so the output is deterministic.

use apigw_doctor::ingest;
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::plan_messages;

use crate::repo_path;

fn messages(event: &str) -> Vec<apigw_doctor::publish::render::Message> {
    let wire = std::fs::read(repo_path(&format!("events/{event}.json"))).unwrap();
    let json = ingest::decode(&wire, ingest::DEFAULT_MAX_INFLATED_BYTES).unwrap();
    let batch = ingest::parse_raw_batch(&json).unwrap();
    let config = Config {
        region: "eu-west-2".to_owned(),
        ..Config::default()
    };
    plan_messages(&batch, &config).1
}

fn snapshot(event: &str) {
    for (i, message) in messages(event).iter().enumerate() {
        let name = format!("{event}-{i}");
        let attributes: Vec<String> = message
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        insta::assert_snapshot!(
            format!("{name}-email"),
            format!(
                "Subject: {}\nAttributes: {}\n\n{}",
                message.subject,
                attributes.join(" "),
                message.bodies.email()
            )
        );
        let chatbot: serde_json::Value = serde_json::from_str(message.bodies.https()).unwrap();
        // Key order depends on serde_json's features, which differ between test and release builds.
        insta::with_settings!({ sort_maps => true }, {
            insta::assert_json_snapshot!(format!("{name}-chatbot"), chatbot);
        });
    }
}

#[test]
fn malformed_proxy_response_renders() {
    snapshot("malformed-proxy-response");
}

#[test]
fn function_timeout_renders() {
    snapshot("function-timeout");
}

#[test]
fn missing_invoke_permission_renders() {
    snapshot("missing-invoke-permission");
}

#[test]
fn authorizer_missing_invoke_permission_renders() {
    snapshot("authorizer-missing-invoke-permission");
}

#[test]
fn machine_json_of_an_alert_renders() {
    let message = &messages("function-timeout")[0];
    let machine: serde_json::Value = serde_json::from_str(message.bodies.machine()).unwrap();
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("function-timeout-machine", machine);
    });
}
