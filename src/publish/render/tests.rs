//! The renderings' unit tests: sizes, cuts, links, attributes, subjects.

use super::links::{console_escape, insights_link, jsurl};
use super::overflow::cut;
use super::*;

#[test]
fn logs_insights_links_are_written_as_the_console_writes_them() {
    // The query part of a link the console produced (quoted in gh:cortexlabs/cortex#2085).
    assert_eq!(
        jsurl("fields @timestamp, @message\n| sort @timestamp desc\n"),
        "fields*20*40timestamp*2c*20*40message*0a*7c*20sort*20*40timestamp*20desc*0a"
    );
    assert_eq!(
        insights_link(
            "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2",
            "cortex",
            "x"
        ),
        "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'x~source~(~'cortex))"
    );
    assert_eq!(jsurl("a/b$é"), "a*2fb!*e9");
}

#[test]
fn links_follow_the_log_kind_and_never_carry_malformed_ids() {
    let mut alert = crate::alert::tests_support::alert();
    alert.sample_request_ids = vec!["5cb7ee58-39e6-11e9-be7e-29aff96747f2".to_owned()];
    let l = links(&alert);
    assert!(
        l.insights_query
            .as_deref()
            .unwrap()
            .contains("filter @message like \"(5cb7ee58-39e6-11e9-be7e-29aff96747f2)\"")
    );
    assert!(
        l.logs_insights
            .as_deref()
            .unwrap()
            .contains("editorString~'fields*20*40timestamp")
    );
    alert.log_group = Some("/aws/apigateway/access".to_owned());
    assert!(
        links(&alert)
            .insights_query
            .as_deref()
            .unwrap()
            .contains("filter requestId = \"5cb7ee58")
    );
    alert.sample_request_ids = vec!["x\" | display secret".to_owned()];
    assert_eq!(links(&alert).insights_query, None);
    // The function's own log: only for its errors, with a well-formed name and Lambda request id.
    alert.cause = Cause::FunctionError;
    alert.sample_lambda_request_ids = vec!["71952965-d5cc-4974-ae08-6e2138b2275c".to_owned()];
    let url = links(&alert).function_logs.unwrap();
    assert!(url.contains("source~(~'*2faws*2flambda*2forders)"), "{url}");
    assert!(
        url.contains("71952965-d5cc-4974-ae08-6e2138b2275c"),
        "{url}"
    );
    alert.sample_lambda_request_ids = vec!["not-a-uuid".to_owned()];
    assert_eq!(links(&alert).function_logs, None);
    assert_eq!(links(&alert).xray_trace, None);
    alert.sample_trace_ids = vec!["1-64754fe5-084fc11dc5ca6bb8641894f5".to_owned()];
    assert_eq!(
        links(&alert).xray_trace.as_deref(),
        Some(
            "https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2#xray:traces/1-64754fe5-084fc11dc5ca6bb8641894f5"
        )
    );
    alert.sample_trace_ids = vec!["1-64754fe5-084fc11d\"><a href=x>".to_owned()];
    assert_eq!(links(&alert).xray_trace, None);
}

#[test]
fn console_escape_matches_the_consoles_double_encoding() {
    assert_eq!(
        console_escape("API-Gateway-Execution-Logs_a1b2c3d4e5/prod"),
        "API-Gateway-Execution-Logs_a1b2c3d4e5$252Fprod"
    );
}

#[test]
fn a_digest_says_so_and_reports_its_own_count_in_the_same_thread() {
    let alert = crate::alert::tests_support::alert();
    let notice = Notice::Digest {
        count: 1240,
        since: 1_732_440_000_000,
        last: 1_732_441_860_000,
    };
    let m = render_noticed(&alert, &Report::none(), Some(&notice));
    assert!(
        m.subject
            .starts_with("[apigw-doctor] still failing: 502 malformed_proxy_response"),
        "{}",
        m.subject
    );
    assert!(m.subject.ends_with("(1240)"), "{}", m.subject);
    assert!(m.bodies.email().starts_with(
        "Still failing: 1240 requests since 2024-11-24T09:20:00Z, the last at 2024-11-24T09:51:00Z"
    ));
    assert!(m.attributes.contains(&("notice", "digest".to_owned())));
    let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
    assert_eq!(chat["metadata"]["threadId"], alert.fingerprint);
    let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
    assert_eq!(machine["notice"]["count"], 1240);
    assert_eq!(machine["count"], 1240);
    // Without a notice nothing changes.
    let plain = render(&alert, &Report::none());
    assert!(!plain.attributes.iter().any(|(k, _)| *k == "notice"));
    assert!(!plain.bodies.machine().contains("\"notice\""));
}

#[test]
fn the_structured_document_is_what_serde_json_writes_for_the_five_bodies() {
    let mut alert = crate::alert::tests_support::alert();
    alert.evidence.push(
        "Endpoint response body: {\"a\":\"line\\nbreak\", \"tab\":\"\t\", \"ctl\":\"\u{1}\", \"sep\":\"\u{2028}\", \"é\":\"</x>\"}"
            .to_owned(),
    );
    let m = render(&alert, &Report::none());
    assert_eq!(m.structured(), serde_json::to_string(&m.bodies).unwrap());
    let parsed: serde_json::Value = serde_json::from_str(m.structured()).unwrap();
    assert_eq!(parsed["default"], m.bodies.email());
    assert_eq!(parsed["email"], m.bodies.email());
    assert_eq!(parsed["https"], m.bodies.https());
    assert_eq!(parsed["sqs"], m.bodies.machine());
    assert_eq!(parsed["lambda"], m.bodies.machine());
}

#[test]
fn resolved_threads_with_the_alert_and_names_the_problem() {
    let state = State {
        fingerprint: "0123456789abcdef".to_owned(),
        cause: "function_timeout".to_owned(),
        status: Some(502),
        api_id: Some("a1b2c3d4e5".to_owned()),
        stage: Some("prod".to_owned()),
        method: Some("GET".to_owned()),
        resource_path: Some("/echo".to_owned()),
        region: "us-east-1".to_owned(),
        total: 9,
        first_seen: 1_732_440_000_000,
        last_seen: 1_732_440_060_000,
        ..State::default()
    };
    let notice = Notice::Resolved {
        total: 9,
        first_seen: state.first_seen,
        last_seen: state.last_seen,
    };
    let m = render_state(&state, &notice);
    assert_eq!(
        m.subject,
        "[apigw-doctor] resolved: 502 function_timeout on a1b2c3d4e5/prod GET /echo"
    );
    let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
    assert_eq!(chat["metadata"]["threadId"], "0123456789abcdef");
    assert!(m.bodies.email().starts_with(
        "Resolved: no occurrence since 2024-11-24T09:21:00Z (9 requests from 2024-11-24T09:20:00Z)."
    ));
    assert!(m.attributes.contains(&("notice", "resolved".to_owned())));
}

#[test]
fn iso_formats_milliseconds() {
    assert_eq!(
        iso(1_732_440_000_007).as_deref(),
        Some("2024-11-24T09:20:00.007Z")
    );
}

#[test]
fn subject_is_printable_ascii_and_short_whatever_the_route() {
    let mut alert = crate::alert::tests_support::alert();
    alert.resource_path = Some(format!("/{}\n/é", "x".repeat(300)));
    let s = subject(&alert);
    assert!(s.len() <= MAX_SUBJECT_CHARS, "{}", s.len());
    assert!(s.chars().all(|c| (' '..='~').contains(&c)), "{s}");
    assert!(s.ends_with("... (37)"), "{s}");
}

#[test]
fn huge_evidence_is_cut_to_fit_sns_but_the_headline_stays() {
    let mut alert = crate::alert::tests_support::alert();
    alert.evidence = vec!["e".repeat(100_000); 6];
    let m = render(&alert, &Report::none());
    assert!(m.structured().len() <= MAX_MESSAGE_BYTES);
    assert!(
        m.bodies
            .email()
            .starts_with("API Gateway answered 502 to 37 requests")
    );
    assert_eq!(m.subject, subject(&alert));
}

#[test]
fn the_overflow_fits_sns_whatever_the_number_of_problems_and_never_cuts_inside_a_character() {
    // 400 distinct problems on routes with multi-byte characters: a byte cut at a fixed place lands inside
    // one of them.
    let overflow: Vec<Alert> = (0..400)
        .map(|i| {
            let mut a = crate::alert::tests_support::alert();
            a.fingerprint = format!("{i:016x}");
            a.resource_path = Some(format!("/commandes/{}/é{i}", "ü".repeat(40)));
            a.count = i + 1;
            a
        })
        .collect();
    let m = render_overflow(&overflow, &Unlisted::default(), None).unwrap();
    assert!(
        m.structured().len() <= MAX_MESSAGE_BYTES,
        "{}",
        m.structured().len()
    );
    assert!(m.bodies.email().contains("400 more distinct problems"));
    assert!(m.bodies.email().contains("... and 300 more"));
    let chat: serde_json::Value = serde_json::from_str(m.bodies.https()).unwrap();
    let description = chat["content"]["description"].as_str().unwrap();
    assert!(description.chars().count() <= MAX_CHAT_DESCRIPTION_CHARS);
    assert!(description.ends_with('…'));
    let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
    assert_eq!(machine["problems"], 400);
    assert_eq!(machine["alerts_not_listed"], 300);
    // The most requests first.
    assert_eq!(machine["alerts"][0]["count"], 400);
}

#[test]
fn the_overflow_counts_problems_past_the_cap_and_carries_its_notice() {
    let mut grouping = crate::alert::Grouping::with_cap("us-east-1", 5, 1);
    let origin = crate::diagnose::Origin::new(
        "123456789012",
        "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
        "s",
    );
    let text: String = (0..4)
        .map(|i| format!("(r{i}) HTTP Method: GET, Resource Path: /r{i}\n(r{i}) Execution failed due to configuration error: Malformed Lambda proxy response\n(r{i}) Method completed with status: 502\n"))
        .collect();
    for finding in crate::diagnose::find(&origin, text.lines().map(|l| (None, l)), false).findings {
        grouping.add(&finding);
    }
    let plan = grouping.plan(1);
    assert!(plan.alerts.is_empty());
    assert_eq!(plan.overflow.len(), 1);
    let m = render_overflow(&plan.overflow, &plan.unlisted, Some(&Notice::First)).unwrap();
    assert!(
        m.bodies
            .email()
            .contains("4 more distinct problems (4 requests)"),
        "{}",
        m.bodies.email()
    );
    assert!(
        m.bodies
            .email()
            .contains("malformed_proxy_response: 4 problems (4 requests)")
    );
    assert!(m.bodies.email().contains("... and 3 more"));
    assert!(m.attributes.contains(&("notice", "first".to_owned())));
    let machine: serde_json::Value = serde_json::from_str(m.bodies.machine()).unwrap();
    assert_eq!(machine["problems"], 4);
    assert_eq!(machine["alerts_not_listed"], 3);
    // Nothing itemised and nothing counted: no message.
    assert!(render_overflow(&[], &Unlisted::default(), None).is_none());
}

#[test]
fn cut_keeps_whole_characters() {
    let mut s = "aé".repeat(10);
    // Byte 5 falls inside the second é.
    cut(&mut s, 5);
    assert_eq!(s, "aéa");
    let mut s = "aé".to_owned();
    cut(&mut s, 2);
    assert_eq!(s, "a");
}

#[test]
fn an_approval_result_is_threaded_under_its_alert() {
    let plan = crate::remediate::approval::PendingPlan {
        fingerprint: "0123456789abcdef".into(),
        cause: "missing_invoke_permission".into(),
        account: "123456789012".into(),
        region: "eu-west-2".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
        method: Some("POST".into()),
        resource_path: Some("/orders/{id}".into()),
        authorizer_ids: Vec::new(),
        fixes: Vec::new(),
        created_at: 0,
    };
    let approval = Approval {
        outcome: "applied",
        message: "Applied by approval: statement apigw-doctor-x on orders (undo: ...).".into(),
        report: None,
    };
    let message = render_approval(&plan, "00ff", &approval, 1_700_000_000_000);
    assert_eq!(
        message.subject,
        "[apigw-doctor] Applied by approval: missing_invoke_permission on a1b2c3d4e5/prod POST /orders/{id}"
    );
    assert!(
        message
            .attributes
            .contains(&("notice", "approval".to_owned()))
    );
    assert!(
        message
            .attributes
            .contains(&("remediation", "applied".to_owned()))
    );
    let chat: serde_json::Value = serde_json::from_str(message.bodies.https()).unwrap();
    assert_eq!(chat["metadata"]["threadId"], "0123456789abcdef");
    assert_eq!(chat["metadata"]["eventType"], "missing-invoke-permission");
    assert!(message.bodies.email().starts_with("Applied by approval"));
    assert!(message.bodies.email().contains("Plan 00ff"));
}

#[test]
fn chatbot_context_values_are_strings_and_every_message_has_its_own_id() {
    let mut alert = crate::alert::tests_support::alert();
    alert.api_id = None;
    alert.stage = None;
    let links = links(&alert);
    let first: serde_json::Value =
        serde_json::from_str(&chatbot(&alert, &links, &Report::none(), None)).unwrap();
    let context = first["metadata"]["additionalContext"].as_object().unwrap();
    assert!(
        context.values().all(serde_json::Value::is_string),
        "{context:?}"
    );
    let digest = Notice::Digest {
        count: 3,
        since: 1,
        last: 2,
    };
    let second: serde_json::Value =
        serde_json::from_str(&chatbot(&alert, &links, &Report::none(), Some(&digest))).unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(
        first["metadata"]["threadId"],
        second["metadata"]["threadId"]
    );
}

#[test]
fn a_long_chat_description_is_cut_with_its_ellipsis_inside_the_limit_and_its_code_block_closed() {
    use super::chat::cut_description;
    let text = format!("*Cause:* x\n```\n{}\n```", "é".repeat(5_000));
    let cut = cut_description(&text);
    assert!(
        cut.chars().count() <= MAX_CHAT_DESCRIPTION_CHARS,
        "{}",
        cut.chars().count()
    );
    assert!(cut.ends_with("…\n```"), "{}", &cut[cut.len() - 10..]);
    assert_eq!(cut.matches("```").count() % 2, 0);
    let short = "fits";
    assert_eq!(cut_description(short), short);
}
