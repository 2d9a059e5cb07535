//! The pure planner: given what the log group and the API's own configuration say, decide whether to add
//! `lambda:InvokeFunction` for `apigateway.amazonaws.com`, and exactly which statement. No I/O here.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `off` makes no AWS call at all; `dry-run` looks up and says what it would do; `approve` does the same and keeps
/// the plan for a person to approve (a chat button); `auto` does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Off,
    DryRun,
    Approve,
    Auto,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::DryRun => "dry-run",
            Mode::Approve => "approve",
            Mode::Auto => "auto",
        }
    }
}

/// How wide the added permission is: one route (`{api}/*/{METHOD}/{path}`), or the whole API (`{api}/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Route,
    Api,
}

/// Lambda's resource policy limit is 20 KB; we stop well before it.
pub const POLICY_SIZE_GUARD: usize = 18 * 1024;

/// A Lambda function ARN, parsed: `arn:{partition}:lambda:{region}:{account}:function:{name}[:{qualifier}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionRef {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    pub fn parse(arn: &str) -> Option<FunctionRef> {
        let parts: Vec<&str> = arn.split(':').collect();
        let ok = matches!(parts.len(), 7 | 8)
            && parts[0] == "arn"
            && parts[2] == "lambda"
            && parts[5] == "function"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && valid_name(parts[6])
            && parts.get(7).is_none_or(|q| valid_name(q));
        ok.then(|| FunctionRef {
            partition: parts[1].to_owned(),
            region: parts[3].to_owned(),
            account: parts[4].to_owned(),
            name: parts[6].to_owned(),
            qualifier: parts.get(7).map(|q| (*q).to_owned()),
        })
    }

    /// The unqualified ARN (what `--function-name` takes, with `--qualifier` beside it).
    pub fn unqualified_arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 140
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$')
}

/// Whether an integration (or authorizer) URI invokes a Lambda function: the path form every API kind takes
/// (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function-arn}/invocations`) or the bare function
/// ARN HTTP APIs also accept (`arn:aws:lambda:{region}:{account}:function:{name}`).
pub fn is_lambda_uri(uri: &str) -> bool {
    uri.contains(LAMBDA_PATH)
        || (uri.starts_with("arn:") && uri.contains(":lambda:") && uri.contains(":function:"))
}

const LAMBDA_PATH: &str = ":lambda:path/2015-03-31/functions/";

/// The function ARN inside a Lambda integration URI (either form of [`is_lambda_uri`]), with
/// `${stageVariables.name}` replaced from the stage.
pub fn function_from_integration_uri(
    uri: &str,
    stage_variables: &[(String, String)],
) -> Result<FunctionRef, String> {
    if !is_lambda_uri(uri) {
        return Err("the integration is not a Lambda integration".to_owned());
    }
    let arn = match uri.find(LAMBDA_PATH) {
        Some(at) => {
            let rest = &uri[at + LAMBDA_PATH.len()..];
            rest.strip_suffix("/invocations").unwrap_or(rest)
        }
        None => uri,
    };
    let mut resolved = String::with_capacity(arn.len());
    let mut remaining = arn;
    while let Some(start) = remaining.find("${stageVariables.") {
        resolved.push_str(&remaining[..start]);
        let after = &remaining[start + "${stageVariables.".len()..];
        let end = after
            .find('}')
            .ok_or_else(|| "the integration URI has an unterminated stage variable".to_owned())?;
        let name = &after[..end];
        let value = stage_variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                format!("stage variable {name} used by the integration is not set on the stage")
            })?;
        resolved.push_str(value);
        remaining = &after[end + 1..];
    }
    resolved.push_str(remaining);
    // A stage variable may hold a bare function name or name:alias rather than an ARN.
    if !resolved.starts_with("arn:") {
        return Err(format!(
            "the integration's function {resolved:?} is not a full ARN; refusing to guess its account"
        ));
    }
    FunctionRef::parse(&resolved)
        .ok_or_else(|| format!("{resolved:?} is not a Lambda function ARN"))
}

/// What the permission must allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Route {
        method: String,
        resource_path: String,
    },
    /// A route of an HTTP or WebSocket API named by its key alone: `$default`, `$connect`, `$disconnect`, or a
    /// WebSocket API's own route key (`sendmessage`).
    RouteKey {
        key: String,
    },
    Api,
    Authorizer {
        authorizer_id: String,
    },
}

impl Source {
    /// The route's source: `METHOD /path` (REST resources, HTTP API routes) or a bare route key (`method` empty).
    pub fn of_route(method: &str, resource_path: &str) -> Source {
        if method.is_empty() {
            Source::RouteKey {
                key: resource_path.to_owned(),
            }
        } else {
            Source::Route {
                method: method.to_owned(),
                resource_path: resource_path.to_owned(),
            }
        }
    }
}

/// The partition of a region's ARNs: `aws`, `aws-cn`, `aws-us-gov`.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The `SourceArn` of the statement: least privilege. Path parameters (`{id}`) and greedy parameters
/// (`{proxy+}`) become `*`; `ANY` becomes `*`; the stage is always `*` (the permission outlives stage names).
pub fn source_arn(region: &str, account: &str, api_id: &str, source: &Source) -> String {
    let base = format!(
        "arn:{}:execute-api:{region}:{account}:{api_id}",
        partition_of(region)
    );
    match source {
        Source::Api => format!("{base}/*"),
        Source::Authorizer { authorizer_id } => format!("{base}/authorizers/{authorizer_id}"),
        // HTTP API `$default`, WebSocket `$connect` and custom keys: `{api}/{stage}/{key}`.
        Source::RouteKey { key } => format!("{base}/*/{key}"),
        Source::Route {
            method,
            resource_path,
        } => {
            let method = if method.eq_ignore_ascii_case("ANY") {
                "*".to_owned()
            } else {
                method.to_ascii_uppercase()
            };
            let path: Vec<&str> = resource_path
                .trim_start_matches('/')
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') && segment.ends_with('}') {
                        "*"
                    } else {
                        segment
                    }
                })
                .collect();
            format!("{base}/*/{method}/{}", path.join("/"))
        }
    }
}

/// A source ARN of one concrete request of a route (the stage's name, a sample path where the template has
/// parameters, `GET` for `ANY`): what a resource policy must allow for that route to work.
pub fn concrete_source(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    resource_path: &str,
) -> String {
    let api = source_arn(region, account, api_id, &Source::Api);
    let api = api.trim_end_matches("/*");
    if method.is_empty() {
        return format!("{api}/{stage}/{resource_path}");
    }
    let method = if method.eq_ignore_ascii_case("ANY") {
        "GET"
    } else {
        method
    };
    let sample: Vec<&str> = resource_path
        .trim_start_matches('/')
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect();
    format!(
        "{api}/{stage}/{}/{}",
        method.to_ascii_uppercase(),
        sample.join("/")
    )
}

/// `apigw-doctor-` + a short hash of the source ARN: the same fix always has the same id, so a retried
/// invocation cannot add it twice.
pub fn statement_id(source_arn: &str, qualifier: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source_arn.as_bytes());
    if let Some(q) = qualifier {
        hasher.update(b"\x1f");
        hasher.update(q.as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("apigw-doctor-{hex}")
}

/// IAM-style wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        // A `*` of the pattern is a wildcard first, also where the text has a `*` too.
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// What `GetPolicy` said, as far as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyState {
    /// The policy document's size in bytes (0 when the function has no policy).
    pub size: usize,
    pub statement_ids: Vec<String>,
    /// Whether some statement already lets API Gateway invoke for this source.
    pub allows_source: bool,
}

impl PolicyState {
    pub fn none() -> PolicyState {
        PolicyState {
            size: 0,
            statement_ids: Vec::new(),
            allows_source: false,
        }
    }

    /// Reads a policy document and checks it against `concrete_source` (a source ARN with the real stage and a
    /// sample path, e.g. `arn:aws:execute-api:us-east-1:1:a1/prod/POST/orders/x`).
    pub fn parse(document: &str, concrete_source: &str, account: &str) -> PolicyState {
        let statements = serde_json::from_str::<Value>(document)
            .ok()
            .and_then(|v| v.get("Statement").cloned())
            .map(|s| match s {
                Value::Array(items) => items,
                other => vec![other],
            })
            .unwrap_or_default();
        PolicyState {
            size: document.len(),
            statement_ids: statements
                .iter()
                .filter_map(|s| s.get("Sid").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            allows_source: statements
                .iter()
                .any(|s| statement_allows(s, concrete_source, account)),
        }
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statement_allows(statement: &Value, source: &str, account: &str) -> bool {
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    let principal_ok = match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(p)) => {
            strings(p.get("Service")).contains(&"apigateway.amazonaws.com")
                || strings(p.get("AWS")).contains(&"*")
        }
        _ => false,
    };
    let action_ok = strings(statement.get("Action"))
        .iter()
        .any(|a| wildcard_match(&a.to_ascii_lowercase(), "lambda:invokefunction"));
    if !(principal_ok && action_ok) {
        return false;
    }
    let Some(Value::Object(conditions)) = statement.get("Condition") else {
        return true;
    };
    conditions.iter().all(|(operator, block)| {
        let Value::Object(block) = block else {
            return false;
        };
        block.iter().all(|(key, expected)| {
            let expected = strings(Some(expected));
            match key.to_ascii_lowercase().as_str() {
                "aws:sourcearn" => expected.iter().any(|pattern| {
                    if operator.contains("Like") {
                        wildcard_match(pattern, source)
                    } else {
                        *pattern == source
                    }
                }),
                "aws:sourceaccount" => expected.contains(&account),
                // A condition we do not model: do not claim it allows.
                _ => false,
            }
        })
    })
}

/// The statement to add (or that would be added), and how to undo and declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub function_arn: String,
    pub function_name: String,
    pub qualifier: Option<String>,
    pub statement_id: String,
    pub principal: &'static str,
    pub action: &'static str,
    pub source_arn: String,
    pub source_account: String,
}

impl Fix {
    pub fn new(function: &FunctionRef, source_arn: String, source_account: &str) -> Fix {
        Fix {
            function_arn: function.unqualified_arn(),
            function_name: function.name.clone(),
            qualifier: function.qualifier.clone(),
            statement_id: statement_id(&source_arn, function.qualifier.as_deref()),
            principal: "apigateway.amazonaws.com",
            action: "lambda:InvokeFunction",
            source_arn,
            source_account: source_account.to_owned(),
        }
    }

    fn qualifier_flag(&self) -> String {
        self.qualifier
            .as_ref()
            .map(|q| format!(" --qualifier {q}"))
            .unwrap_or_default()
    }

    pub fn add_command(&self) -> String {
        format!(
            "aws lambda add-permission --function-name {}{} --statement-id {} --action {} --principal {} --source-arn {} --source-account {}",
            self.function_arn,
            self.qualifier_flag(),
            self.statement_id,
            self.action,
            self.principal,
            self.source_arn,
            self.source_account
        )
    }

    pub fn undo_command(&self) -> String {
        format!(
            "aws lambda remove-permission --function-name {}{} --statement-id {}",
            self.function_arn,
            self.qualifier_flag(),
            self.statement_id
        )
    }

    /// What to put in the team's template so the next deploy does not drift back.
    pub fn template_snippet(&self) -> String {
        let function = match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function_arn),
            None => self.function_arn.clone(),
        };
        format!(
            "ApiGatewayInvokePermission:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: {function}\n    Action: lambda:InvokeFunction\n    Principal: apigateway.amazonaws.com\n    SourceAccount: \"{}\"\n    SourceArn: {}",
            self.source_account, self.source_arn
        )
    }
}

/// Everything the decision depends on, gathered from the log group and the API's configuration.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub mode: Mode,
    pub allowed_functions: &'a [String],
    pub allowed_apis: &'a [String],
    /// From the delivery's owner and the log group name.
    pub account: &'a str,
    pub api_id: &'a str,
    /// From the API's own configuration.
    pub function: &'a FunctionRef,
    pub credentials: Option<&'a str>,
    pub source_arn: String,
    pub policy: &'a PolicyState,
}

/// The verdict for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// `auto`: add this statement.
    Apply { fix: Fix },
    /// `dry-run`: this statement would be added.
    DryRun { fix: Fix },
    /// Our own statement is already in the policy: added by an earlier run (often an earlier attempt of this
    /// very delivery whose alert did not go out). Reported as applied, with its undo command.
    AlreadyApplied { fix: Fix },
    /// Nothing will be done, and why.
    Refuse { reason: String, fix: Option<Fix> },
}

/// The decision table of the issue: every refusal explained, nothing applied outside the allow-lists.
pub fn decide(facts: &Facts<'_>) -> Decision {
    let fix = Fix::new(facts.function, facts.source_arn.clone(), facts.account);
    let refuse = |reason: String| Decision::Refuse {
        reason,
        fix: Some(fix.clone()),
    };
    if let Some(role) = facts.credentials {
        let reason = if role.contains(":user/*") || role == "arn:aws:iam::*:user/*" {
            "the integration invokes with the caller's credentials: a resource policy cannot fix that; the callers need lambda:InvokeFunction".to_owned()
        } else {
            format!(
                "the integration invokes with the credentials role {role}: a resource policy cannot fix that; grant that role lambda:InvokeFunction on {}",
                facts.function.unqualified_arn()
            )
        };
        return refuse(reason);
    }
    if facts.function.account != facts.account {
        return refuse(format!(
            "the function is in account {}, not in the API's account {}: cross-account changes are not made",
            facts.function.account, facts.account
        ));
    }
    if !facts.allowed_apis.is_empty() && !facts.allowed_apis.iter().any(|a| a == facts.api_id) {
        return refuse(format!(
            "API {} is not in REMEDIATION_ALLOWED_APIS",
            facts.api_id
        ));
    }
    if !facts
        .allowed_functions
        .iter()
        .any(|pattern| wildcard_match(pattern, &facts.function.name))
    {
        return refuse(format!(
            "function {} does not match REMEDIATION_ALLOWED_FUNCTIONS{}",
            facts.function.name,
            if facts.allowed_functions.is_empty() {
                " (empty: nothing is applied)"
            } else {
                ""
            }
        ));
    }
    if facts.policy.statement_ids.contains(&fix.statement_id) {
        return Decision::AlreadyApplied { fix };
    }
    if facts.policy.allows_source {
        return refuse(
            "the function's policy already allows API Gateway to invoke it for this source: the 500 has another cause (check the integration's credentials, the function's qualifier, or a recent deploy)".to_owned(),
        );
    }
    if facts.policy.size > POLICY_SIZE_GUARD {
        return refuse(format!(
            "the function's policy is {} bytes, close to Lambda's 20 KB limit: consolidate its statements first",
            facts.policy.size
        ));
    }
    match facts.mode {
        Mode::Auto => Decision::Apply { fix },
        Mode::DryRun | Mode::Approve | Mode::Off => Decision::DryRun { fix },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    fn function(arn: &str) -> FunctionRef {
        FunctionRef::parse(arn).unwrap()
    }

    fn route(method: &str, path: &str) -> Source {
        Source::Route {
            method: method.into(),
            resource_path: path.into(),
        }
    }

    #[test]
    fn source_arn_for_routes_apis_and_authorizers() {
        let arn = |s: &Source| source_arn("us-east-1", ACCOUNT, "a1b2c3d4e5", s);
        let base = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5";
        assert_eq!(arn(&route("GET", "/")), format!("{base}/*/GET/"));
        assert_eq!(
            arn(&route("post", "/orders")),
            format!("{base}/*/POST/orders")
        );
        assert_eq!(
            arn(&route("GET", "/orders/{id}")),
            format!("{base}/*/GET/orders/*")
        );
        assert_eq!(
            arn(&route("GET", "/files/{proxy+}")),
            format!("{base}/*/GET/files/*")
        );
        assert_eq!(arn(&route("ANY", "/{proxy+}")), format!("{base}/*/*/*"));
        assert_eq!(arn(&Source::Api), format!("{base}/*"));
        assert_eq!(
            arn(&Source::Authorizer {
                authorizer_id: "6ad5l1".into()
            }),
            format!("{base}/authorizers/6ad5l1")
        );
        assert!(source_arn("cn-north-1", ACCOUNT, "a", &Source::Api).starts_with("arn:aws-cn:"));
    }

    #[test]
    fn statement_id_is_stable_and_depends_on_source_and_qualifier() {
        let a = statement_id("arn:x/*/GET/orders", None);
        assert_eq!(a, statement_id("arn:x/*/GET/orders", None));
        assert!(a.starts_with("apigw-doctor-") && a.len() == "apigw-doctor-".len() + 12);
        assert_ne!(a, statement_id("arn:x/*/GET/users", None));
        assert_ne!(a, statement_id("arn:x/*/GET/orders", Some("live")));
    }

    #[test]
    fn integration_uri_gives_the_function_with_stage_variables_and_alias() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders:${stageVariables.alias}/invocations";
        let f = function_from_integration_uri(uri, &[("alias".into(), "live".into())]).unwrap();
        assert_eq!(f.name, "orders");
        assert_eq!(f.qualifier.as_deref(), Some("live"));
        assert_eq!(
            f.unqualified_arn(),
            "arn:aws:lambda:us-east-1:123456789012:function:orders"
        );
        let err = function_from_integration_uri(uri, &[]).unwrap_err();
        assert!(err.contains("stage variable alias"), "{err}");
        assert!(function_from_integration_uri("https://example.com/x", &[]).is_err());
        let bare = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${stageVariables.fn}/invocations";
        assert!(function_from_integration_uri(bare, &[("fn".into(), "orders".into())]).is_err());
    }

    #[test]
    fn wildcard_matches_like_iam() {
        assert!(wildcard_match("orders-*", "orders-prod"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match(
            "arn:aws:execute-api:*:1:api/*",
            "arn:aws:execute-api:r:1:api/prod/GET/x"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("orders-*", "payments"));
        assert!(!wildcard_match("a?c", "ac"));
        // A `*` in the text (a source ARN's `*/POST/...`) is still matched by the pattern's `*`.
        assert!(wildcard_match("*", "**"));
        assert!(wildcard_match("a*", "a*b"));
        assert!(wildcard_match(
            "arn:aws:execute-api:us-east-1:1:a1/*",
            "arn:aws:execute-api:us-east-1:1:a1/*/POST/orders/*"
        ));
        assert!(!wildcard_match("a*c", "a*b"));
    }

    fn policy(statements: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Id":"default","Statement":[{statements}]}}"#)
    }

    const CONCRETE: &str =
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/orders/x";

    #[test]
    fn policy_preflight_recognises_an_existing_grant() {
        let api_wide = policy(
            r#"{"Sid":"s1","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"f","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*"}}}"#,
        );
        let state = PolicyState::parse(&api_wide, CONCRETE, ACCOUNT);
        assert!(state.allows_source);
        assert_eq!(state.statement_ids, ["s1"]);
        let other_api = api_wide.replace("a1b2c3d4e5/*", "zzzzzzzzzz/*");
        assert!(!PolicyState::parse(&other_api, CONCRETE, ACCOUNT).allows_source);
        let other_principal = api_wide.replace("apigateway.amazonaws.com", "s3.amazonaws.com");
        assert!(!PolicyState::parse(&other_principal, CONCRETE, ACCOUNT).allows_source);
        let deny = api_wide.replace("\"Allow\"", "\"Deny\"");
        assert!(!PolicyState::parse(&deny, CONCRETE, ACCOUNT).allows_source);
        let unconditional = policy(
            r#"{"Sid":"s2","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:*","Resource":"f"}"#,
        );
        assert!(PolicyState::parse(&unconditional, CONCRETE, ACCOUNT).allows_source);
        assert!(!PolicyState::parse("not json", CONCRETE, ACCOUNT).allows_source);
    }

    fn facts<'a>(
        mode: Mode,
        allowed: &'a [String],
        apis: &'a [String],
        f: &'a FunctionRef,
        policy: &'a PolicyState,
    ) -> Facts<'a> {
        Facts {
            mode,
            allowed_functions: allowed,
            allowed_apis: apis,
            account: ACCOUNT,
            api_id: "a1b2c3d4e5",
            function: f,
            credentials: None,
            source_arn: source_arn(
                "us-east-1",
                ACCOUNT,
                "a1b2c3d4e5",
                &route("GET", "/orders/{id}"),
            ),
            policy,
        }
    }

    fn reason(d: Decision) -> String {
        match d {
            Decision::Refuse { reason, .. } => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn auto_applies_only_to_allow_listed_functions() {
        let f = function("arn:aws:lambda:us-east-1:123456789012:function:orders");
        let none = PolicyState::none();
        let allowed = vec!["orders*".to_owned()];
        match decide(&facts(Mode::Auto, &allowed, &[], &f, &none)) {
            Decision::Apply { fix } => {
                assert_eq!(
                    fix.source_arn,
                    "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/GET/orders/*"
                );
                assert_eq!(fix.principal, "apigateway.amazonaws.com");
                assert!(fix.undo_command().starts_with("aws lambda remove-permission --function-name arn:aws:lambda:us-east-1:123456789012:function:orders --statement-id apigw-doctor-"));
                assert!(
                    fix.template_snippet()
                        .contains("Type: AWS::Lambda::Permission")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            reason(decide(&facts(Mode::Auto, &[], &[], &f, &none)))
                .contains("empty: nothing is applied")
        );
        let others = vec!["payments-*".to_owned()];
        assert!(
            reason(decide(&facts(Mode::Auto, &others, &[], &f, &none))).contains("does not match")
        );
    }

    #[test]
    fn dry_run_says_what_it_would_do() {
        let f = function("arn:aws:lambda:us-east-1:123456789012:function:orders:live");
        let none = PolicyState::none();
        let allowed = vec!["*".to_owned()];
        match decide(&facts(Mode::DryRun, &allowed, &[], &f, &none)) {
            Decision::DryRun { fix } => {
                assert_eq!(fix.qualifier.as_deref(), Some("live"));
                assert!(fix.add_command().contains("--qualifier live"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_refusal_is_explained() {
        let allowed = vec!["*".to_owned()];
        let none = PolicyState::none();
        let f = function("arn:aws:lambda:us-east-1:123456789012:function:orders");
        let mut with_role = facts(Mode::Auto, &allowed, &[], &f, &none);
        with_role.credentials = Some("arn:aws:iam::123456789012:role/apigw-invoke");
        assert!(reason(decide(&with_role)).contains("grant that role lambda:InvokeFunction"));
        with_role.credentials = Some("arn:aws:iam::*:user/*");
        assert!(reason(decide(&with_role)).contains("caller's credentials"));

        let foreign = function("arn:aws:lambda:us-east-1:999999999999:function:orders");
        assert!(
            reason(decide(&facts(Mode::Auto, &allowed, &[], &foreign, &none)))
                .contains("account 999999999999")
        );

        let apis = vec!["zzzzzzzzzz".to_owned()];
        assert!(
            reason(decide(&facts(Mode::Auto, &allowed, &apis, &f, &none)))
                .contains("REMEDIATION_ALLOWED_APIS")
        );

        let allows = PolicyState {
            allows_source: true,
            ..PolicyState::none()
        };
        assert!(
            reason(decide(&facts(Mode::Auto, &allowed, &[], &f, &allows)))
                .contains("another cause")
        );

        let big = PolicyState {
            size: 19 * 1024,
            ..PolicyState::none()
        };
        assert!(reason(decide(&facts(Mode::Auto, &allowed, &[], &f, &big))).contains("20 KB"));
    }

    #[test]
    fn our_own_statement_id_already_present_means_done() {
        let allowed = vec!["*".to_owned()];
        let f = function("arn:aws:lambda:us-east-1:123456789012:function:orders");
        let none = PolicyState::none();
        let probe = facts(Mode::Auto, &allowed, &[], &f, &none);
        let sid = Fix::new(&f, probe.source_arn.clone(), ACCOUNT).statement_id;
        let state = PolicyState {
            statement_ids: vec![sid],
            ..PolicyState::none()
        };
        // A retried delivery whose first attempt added it: reported as applied, with its undo command.
        assert!(matches!(
            decide(&facts(Mode::Auto, &allowed, &[], &f, &state)),
            Decision::AlreadyApplied { .. }
        ));
    }
    #[test]
    fn every_route_form_has_its_least_privilege_source_arn() {
        let arn = |source: Source| source_arn("eu-west-2", "123456789012", "a1b2c3", &source);
        let base = "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3";
        // REST resources and HTTP API routes: `METHOD /path`, parameters and `ANY` as `*`.
        assert_eq!(
            arn(Source::of_route("GET", "/orders/{id}")),
            format!("{base}/*/GET/orders/*")
        );
        assert_eq!(
            arn(Source::of_route("ANY", "/{proxy+}")),
            format!("{base}/*/*/*")
        );
        assert_eq!(
            arn(Source::of_route("post", "/")),
            format!("{base}/*/POST/")
        );
        // HTTP API `$default`; WebSocket `$connect`, `$disconnect`, custom route keys.
        assert_eq!(
            arn(Source::of_route("", "$default")),
            format!("{base}/*/$default")
        );
        assert_eq!(
            arn(Source::of_route("", "$connect")),
            format!("{base}/*/$connect")
        );
        assert_eq!(
            arn(Source::of_route("", "$disconnect")),
            format!("{base}/*/$disconnect")
        );
        assert_eq!(
            arn(Source::of_route("", "sendmessage")),
            format!("{base}/*/sendmessage")
        );
        // Authorizers of every kind; the whole API.
        assert_eq!(
            arn(Source::Authorizer {
                authorizer_id: "x1y2".into()
            }),
            format!("{base}/authorizers/x1y2")
        );
        assert_eq!(arn(Source::Api), format!("{base}/*"));
        assert_eq!(
            source_arn("cn-north-1", "123456789012", "a1b2c3", &Source::Api),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3/*"
        );
    }

    #[test]
    fn concrete_sources_of_route_keys_are_allowed_by_their_statement() {
        let concrete = concrete_source(
            "eu-west-2",
            "123456789012",
            "a1b2c3",
            "prod",
            "",
            "$connect",
        );
        assert_eq!(
            concrete,
            "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3/prod/$connect"
        );
        let statement = source_arn(
            "eu-west-2",
            "123456789012",
            "a1b2c3",
            &Source::of_route("", "$connect"),
        );
        assert!(wildcard_match(&statement, &concrete));
        let other = concrete_source(
            "eu-west-2",
            "123456789012",
            "a1b2c3",
            "prod",
            "",
            "$disconnect",
        );
        assert!(!wildcard_match(&statement, &other));
        // A policy SAM writes for an HTTP API (`{api}/*/*`... with any route) allows the `$default` route too.
        let default = concrete_source(
            "eu-west-2",
            "123456789012",
            "a1b2c3",
            "$default",
            "",
            "$default",
        );
        assert!(wildcard_match(
            "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3/*",
            &default
        ));
    }

    #[test]
    fn both_uri_forms_of_an_http_api_integration_name_the_function() {
        let bare = "arn:aws:lambda:eu-west-2:123456789012:function:orders";
        let path = format!(
            "arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/{bare}/invocations"
        );
        for uri in [bare, path.as_str()] {
            assert!(is_lambda_uri(uri), "{uri}");
            let function = function_from_integration_uri(uri, &[]).unwrap();
            assert_eq!(function.unqualified_arn(), bare);
        }
        let aliased =
            "arn:aws:lambda:eu-west-2:123456789012:function:orders:${stageVariables.alias}";
        let function =
            function_from_integration_uri(aliased, &[("alias".into(), "live".into())]).unwrap();
        assert_eq!(function.qualifier.as_deref(), Some("live"));
        // HTTP proxies and AWS service integrations are not Lambda.
        for uri in [
            "https://example.com/{proxy}",
            "arn:aws:apigateway:eu-west-2:sqs:path/123456789012/queue",
            "arn:aws:states:eu-west-2:123456789012:stateMachine:orders",
        ] {
            assert!(!is_lambda_uri(uri), "{uri}");
            assert!(function_from_integration_uri(uri, &[]).is_err());
        }
    }
}
