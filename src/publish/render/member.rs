//! The alert for a member account the monitoring account can no longer reach: its APIs are not watched.

use super::*;

/// "apigw-doctor cannot assume {role} in account {account}": why, what stops, and how to restore it.
pub fn render_member_unreachable(account: &str, region: &str, role: &str, reason: &str) -> Message {
    let name = role.rsplit('/').next().unwrap_or(role);
    let subject = sanitize_subject(&format!(
        "[apigw-doctor] Account {account}: cannot assume {name}; its APIs are not watched"
    ));
    let fix = format!(
        "Deploy (or restore) the member stack in account {account}, region {region} (member/template.yaml, as the \
         StackSet does), or remove {account} from MemberAccounts."
    );
    let text = format!(
        "apigw-doctor could not assume {role} in account {account} ({region}): {reason}\n\nUntil it can, that \
         account's new log groups are not subscribed, its APIs are not audited and nothing is healed there; logs \
         already subscribed still arrive through the fan-in.\n\n{fix}\n-- apigw-doctor\n"
    );
    let fingerprint = format!("member-{account}-{region}");
    let machine = json!({
        "schema": "apigw-doctor.member/v1",
        "account": account,
        "region": region,
        "role": role,
        "reason": reason,
        "fix": fix,
    })
    .to_string();
    let chat = json!({
        "version": "1.0",
        "source": "custom",
        "id": message_id(&fingerprint, "unreachable", None),
        "content": {
            "textType": "client-markdown",
            "title": format!(":warning: Account {account}: cannot assume the apigw-doctor role"),
            "description": format!("{reason}\n{fix}"),
        },
        "metadata": {
            "threadId": fingerprint,
            "summary": subject,
            "eventType": "member-unreachable",
        },
    })
    .to_string();
    let mut attributes = filter_attributes(
        "member_unreachable",
        None,
        [
            &None,
            &None,
            &Some(account.to_owned()),
            &Some(region.to_owned()),
        ],
        Severity::High,
        "none",
    );
    attributes.push(("notice", "member-unreachable".to_owned()));
    Message {
        subject,
        attributes,
        bodies: Bodies::new(text, chat, machine),
    }
}
