//! Deterministic synthetic deliveries for benchmarks and load tests: realistic REST execution logs (about 21
//! lines per request, 150 to 1,024 bytes a line, bodies cut at 1 KB with ` [TRUNCATED]`), with a known share of
//! failing requests spread over every cause, and the ground truth to check the engine against.

use std::collections::BTreeMap;

use apigw_doctor::diagnose::classify::Cause;
use apigw_doctor::ingest::{Batch, LogEvent};

/// A small, fast, seedable generator (SplitMix64): the same seed always gives the same delivery.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }

    fn b64(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| char::from(A[self.below(64) as usize]))
            .collect()
    }

    /// Application text: words from a small vocabulary, as JSON bodies mostly are.
    fn words(&mut self, len: usize) -> String {
        const WORDS: &[&str] = &[
            "order",
            "item",
            "status",
            "pending",
            "shipped",
            "customer",
            "address",
            "street",
            "city",
            "price",
            "currency",
            "EUR",
            "USD",
            "quantity",
            "created",
            "updated",
            "true",
            "false",
            "null",
            "discount",
            "warehouse",
            "express",
            "standard",
            "payment",
            "card",
            "visa",
            "refund",
            "total",
            "tax",
            "line",
        ];
        let mut out = String::with_capacity(len + 12);
        while out.len() < len {
            out.push_str(WORDS[self.below(WORDS.len() as u64) as usize]);
            out.push(if self.below(5) == 0 { '-' } else { ' ' });
        }
        out.truncate(len);
        out
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-{}{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            ["8", "9", "a", "b"][self.below(4) as usize],
            self.hex(3),
            self.hex(12)
        )
    }
}

/// The failing causes the generator spreads its failures over, each with the status it produces.
pub const FAILURES: &[(Cause, u16)] = &[
    (Cause::MalformedProxyResponse, 502),
    (Cause::FunctionError, 502),
    (Cause::FunctionTimeout, 502),
    (Cause::IntegrationTimeout, 504),
    (Cause::MissingInvokePermission, 500),
    (Cause::AuthorizerMissingInvokePermission, 500),
    (Cause::AuthorizerError, 500),
    (Cause::LambdaThrottled, 500),
    (Cause::PayloadTooLarge, 502),
    (Cause::LambdaKmsError, 500),
    (Cause::LambdaServiceError, 500),
    (Cause::MappingError, 500),
    (Cause::BackendError, 500),
    (Cause::Unknown5xx, 503),
    (Cause::Throttled, 429),
];

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/orders"),
    ("GET", "/orders/{id}"),
    ("GET", "/users/{id}"),
    ("PUT", "/users/{id}/settings"),
    ("GET", "/catalog/{proxy+}"),
    ("DELETE", "/sessions/{id}"),
];

/// What the generator wrote: requests per cause.
pub type GroundTruth = BTreeMap<Cause, u64>;

/// Settings of one synthetic delivery.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Stop adding requests once this many lines are written.
    pub lines: usize,
    /// Failing requests per thousand.
    pub failures_per_mille: u64,
    pub seed: u64,
}

/// Generates one delivery (a decoded batch, owned) and its ground truth.
pub fn generate(shape: Shape) -> (Batch<'static>, GroundTruth) {
    let mut rng = Rng::new(shape.seed);
    // API Gateway invokes Lambda with one role session for a while: its token repeats across a delivery.
    let session_token = rng.b64(620);
    let mut truth = GroundTruth::new();
    let mut messages: Vec<String> = Vec::with_capacity(shape.lines + 32);
    let mut failure_turn = 0usize;
    while messages.len() < shape.lines {
        let failing = rng.below(1000) < shape.failures_per_mille;
        let (cause, lines) = if failing {
            let (cause, status) = FAILURES[failure_turn % FAILURES.len()];
            failure_turn += 1;
            (
                cause,
                request(&mut rng, &session_token, Some((cause, status))),
            )
        } else {
            (Cause::Ok, request(&mut rng, &session_token, None))
        };
        *truth.entry(cause).or_default() += 1;
        messages.extend(lines);
    }
    let batch = batch_of(messages);
    (batch, truth)
}

/// A subscription batch of `messages` from one execution log group, ids and timestamps as CloudWatch Logs sets them.
pub fn batch_of(messages: Vec<String>) -> Batch<'static> {
    let base_ts = 1_732_440_000_000_i64;
    Batch {
        message_type: "DATA_MESSAGE".into(),
        owner: "123456789012".into(),
        log_group: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".into(),
        log_stream: "e369853df766fa44e1ed0ff613f563bd".into(),
        subscription_filters: vec!["apigw-doctor".into()],
        log_events: messages
            .into_iter()
            .enumerate()
            .map(|(i, message)| LogEvent {
                id: format!("{:056}", 36_000_000_000u64 + i as u64).into(),
                timestamp: base_ts + i as i64 * 3,
                message: message.into(),
            })
            .collect(),
    }
}

/// Cuts a line at 1 KB the way execution logging does.
fn truncate_1kb(mut line: String) -> String {
    if line.len() > 1024 {
        let mut cut = 1024 - " [TRUNCATED]".len();
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str(" [TRUNCATED]");
    }
    line
}

fn request(rng: &mut Rng, session_token: &str, failure: Option<(Cause, u16)>) -> Vec<String> {
    let id = rng.uuid();
    let p = |s: String| truncate_1kb(format!("({id}) {s}"));
    let (method, path) = ROUTES[rng.below(ROUTES.len() as u64) as usize];
    let function = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:svc-{}",
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("root")
    );
    let uri = format!(
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{function}/invocations"
    );
    let trace = format!("1-{}-{}", rng.hex(8), rng.hex(24));
    let lambda_id = rng.uuid();
    let ip = format!(
        "{}.{}.{}.{}",
        rng.below(223) + 1,
        rng.below(255),
        rng.below(255),
        rng.below(255)
    );
    let mut out = vec![
        p(format!("Extended Request Id: {}=", rng.b64(15))),
        p(format!(
            "Verifying Usage Plan for request: {id}. API Key: API Stage: a1b2c3d4e5/prod"
        )),
        p(format!(
            "API Key authorized because method '{method} {path}' does not require API Key. Request will not contribute to throttle or quota limits"
        )),
    ];
    if let Some((Cause::Throttled, _)) = failure {
        out.push(p(format!(
            "Key throttle limit exceeded for RestApi a1b2c3d4e5, Stage prod, Resource {}, HttpMethod {method}. Limit: 100.00 Burst: 50",
            rng.hex(6)
        )));
        out.push(p("Method completed with status: 429".to_owned()));
        return out;
    }
    out.push(p(
        "Usage Plan check succeeded for API Key and API Stage a1b2c3d4e5/prod".to_owned(),
    ));
    let authorizer_failure = matches!(
        failure,
        Some((
            Cause::AuthorizerMissingInvokePermission | Cause::AuthorizerError,
            _
        ))
    );
    if authorizer_failure {
        out.push(p(format!(
            "Starting authorizer: {} for request: {id}",
            rng.hex(6)
        )));
        out.push(p(format!("Incoming identity: ***{}", rng.b64(6))));
        out.push(p(
            "Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:authorizer/invocations"
                .to_owned(),
        ));
        if let Some((Cause::AuthorizerError, status)) = failure {
            out.push(p("Authorizer result body before parsing: null".to_owned()));
            out.push(p(
                "Execution failed due to configuration error: Could not parse policy".to_owned(),
            ));
            out.push(p(format!("Method completed with status: {status}")));
        } else {
            out.push(p("Execution failed due to configuration error: Invalid permissions on Lambda function".to_owned()));
            out.push(p(
                "Execution failed due to configuration error: Authorizer error".to_owned(),
            ));
            out.push(p("Method completed with status: 500".to_owned()));
        }
        return out;
    }
    let concrete = path
        .replace("{id}", &rng.hex(12))
        .replace("{proxy+}", &format!("{}/{}", rng.hex(6), rng.hex(10)));
    out.push(p(format!("Starting execution for request: {id}")));
    out.push(p(format!("HTTP Method: {method}, Resource Path: {path}")));
    out.push(p(format!("Method request path: {{id={}}}", rng.hex(12))));
    out.push(p(format!(
        "Method request query string: {{page={}, limit=50}}",
        rng.below(100)
    )));
    out.push(p(format!(
        "Method request headers: {{Accept=application/json, Authorization=************************{}, CloudFront-Forwarded-Proto=https, CloudFront-Is-Desktop-Viewer=true, CloudFront-Viewer-Country=GB, Content-Type=application/json, Host=a1b2c3d4e5.execute-api.us-east-1.amazonaws.com, User-Agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36, Via=1.1 {}.cloudfront.net (CloudFront), X-Amz-Cf-Id={}==, X-Amzn-Trace-Id=Root={trace}, X-Forwarded-For={ip}, 130.176.{}.{}, X-Forwarded-Port=443, X-Forwarded-Proto=https}}",
        rng.hex(6),
        100 + rng.below(40),
        rng.hex(32),
        rng.b64(54),
        rng.below(255),
        rng.below(255)
    )));
    let body_len = 40 + rng.below(500) as usize;
    out.push(p(format!(
        "Method request body before transformations: {{\"orderId\":\"{}\",\"items\":[{}],\"note\":\"{}\"}}",
        rng.uuid(),
        (0..3).map(|_| format!("{{\"sku\":\"{}\",\"qty\":{}}}", rng.hex(10), rng.below(9) + 1)).collect::<Vec<_>>().join(","),
        rng.words(body_len)
    )));
    out.push(p(format!("Endpoint request URI: {uri}")));
    out.push(p(format!(
        "Endpoint request headers: {{x-amzn-lambda-integration-tag={id}, Authorization={}{}, X-Amz-Date=20241124T092000Z, x-amzn-apigateway-api-id=a1b2c3d4e5, X-Amz-Source-Arn=arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/{method}{concrete}, Accept=application/json, User-Agent=AmazonAPIGateway_a1b2c3d4e5, X-Amz-Security-Token={}}}",
        "*".repeat(380),
        rng.hex(6),
        session_token
    )));
    out.push(p(format!(
        "Endpoint request body after transformations: {{\"resource\":\"{path}\",\"path\":\"{concrete}\",\"httpMethod\":\"{method}\",\"headers\":{{\"Accept\":\"application/json\",\"Host\":\"a1b2c3d4e5.execute-api.us-east-1.amazonaws.com\",\"X-Forwarded-For\":\"{ip}\"}},\"requestContext\":{{\"requestId\":\"{id}\",\"extendedRequestId\":\"{}=\"}},\"body\":\"{}\"}}",
        rng.b64(15),
        {
            let n = 100 + rng.below(500) as usize;
            rng.words(n)
        }
    )));
    out.push(p(format!("Sending request to {uri}")));
    match failure {
        Some((Cause::IntegrationTimeout, status)) => {
            out.push(p("Execution failed due to a timeout error".to_owned()));
            out.push(p(format!("Method completed with status: {status}")));
            return out;
        }
        Some((Cause::MissingInvokePermission, status)) => {
            out.push(p("Execution failed due to configuration error: Invalid permissions on Lambda function".to_owned()));
            out.push(p(format!("Method completed with status: {status}")));
            return out;
        }
        Some((Cause::LambdaThrottled, status)) => {
            out.push(p(format!(
                "Lambda invocation failed with status: 429. Lambda request id: {lambda_id}"
            )));
            out.push(p(
                "Execution failed due to configuration error: Rate Exceeded.".to_owned(),
            ));
            out.push(p(format!("Method completed with status: {status}")));
            return out;
        }
        Some((Cause::MappingError, status)) => {
            out.push(p(
                "Execution failed due to configuration error: Unable to transform request"
                    .to_owned(),
            ));
            out.push(p(format!("Method completed with status: {status}")));
            return out;
        }
        Some((Cause::BackendError, status)) => {
            out.push(p("Execution failed due to configuration error: There was an internal error while executing your request".to_owned()));
            out.push(p(format!("Method completed with status: {status}")));
            return out;
        }
        _ => {}
    }
    let latency = 5 + rng.below(800);
    // Lambda's own status: the Invoke API's for its errors (KMSAccessDeniedException 502, ServiceException 500),
    // 200 when the function ran.
    let lambda_status = match failure {
        Some((Cause::LambdaKmsError, _)) => 502,
        Some((Cause::LambdaServiceError, _)) => 500,
        _ => 200,
    };
    out.push(p(format!(
        "Received response. Status: {lambda_status}, Integration latency: {latency} ms"
    )));
    let function_error = matches!(
        failure,
        Some((
            Cause::FunctionError | Cause::FunctionTimeout | Cause::PayloadTooLarge,
            _
        ))
    );
    let body = match failure {
        Some((Cause::MalformedProxyResponse, _)) => format!(
            "{{\"statusCode\":200,\"body\":{{\"id\":\"{}\",\"total\":{}}}}}",
            rng.uuid(),
            rng.below(10_000)
        ),
        Some((Cause::LambdaKmsError, _)) => "{\"Message\":\"Lambda was unable to decrypt the environment variables because KMS access was denied. Please check the function's KMS key settings. KMS Exception: AccessDeniedExceptionKMS Message: denied\",\"Type\":null}".to_owned(),
        Some((Cause::LambdaServiceError, _)) => "{ \"Message\": \"An error occurred and the request cannot be processed.\", \"Type\": \"Service\" }".to_owned(),
        Some(_) if function_error => format!(
            "{{\"errorType\":\"Error\",\"errorMessage\":\"{}\",\"trace\":[\"Error: at handler (/var/task/index.js:{}:{})\"]}}",
            rng.b64(40),
            rng.below(300),
            rng.below(80)
        ),
        _ => format!(
            "{{\"statusCode\":200,\"headers\":{{\"Content-Type\":\"application/json\"}},\"body\":\"{{\\\"id\\\":\\\"{}\\\",\\\"data\\\":\\\"{}\\\"}}\"}}",
            rng.uuid(),
            {
                let n = 60 + rng.below(500) as usize;
                rng.words(n)
            }
        ),
    };
    out.push(p(format!(
        "Endpoint response body before transformations: {body}"
    )));
    out.push(p(format!(
        "Endpoint response headers: {{Date=Sun, 24 Nov 2024 09:20:00 GMT, Content-Type=application/json, Content-Length={}, Connection=keep-alive, x-amzn-RequestId={lambda_id}, {}x-amzn-Remapped-Content-Length=0, X-Amz-Executed-Version=$LATEST, X-Amzn-Trace-Id=root={trace};sampled=0}}",
        body.len(),
        if function_error { "X-Amz-Function-Error=Unhandled, " } else { "" }
    )));
    match failure {
        Some((Cause::FunctionError, status)) => {
            out.push(p(format!(
                "Lambda execution failed with status 200 due to customer function error: Error: {}. Lambda request id: {lambda_id}",
                rng.b64(30)
            )));
            out.push(p(format!("Method completed with status: {status}")));
        }
        Some((Cause::FunctionTimeout, status)) => {
            out.push(p(format!(
                "Lambda execution failed with status 200 due to customer function error: 2024-11-24T09:20:00.000Z {lambda_id} Task timed out after 10.00 seconds. Lambda request id: {lambda_id}"
            )));
            out.push(p(format!("Method completed with status: {status}")));
        }
        Some((Cause::PayloadTooLarge, status)) => {
            out.push(p(format!(
                "Lambda execution failed with status 200 due to customer function error: Response payload size exceeded maximum allowed payload size (6291556 bytes).. Lambda request id: {lambda_id}"
            )));
            out.push(p(format!("Method completed with status: {status}")));
        }
        Some((Cause::MalformedProxyResponse, status)) => {
            out.push(p(
                "Execution failed due to configuration error: Malformed Lambda proxy response"
                    .to_owned(),
            ));
            out.push(p(format!("Method completed with status: {status}")));
        }
        Some((_, status)) => out.push(p(format!("Method completed with status: {status}"))),
        None => {
            out.push(p(format!(
                "Method response body after transformations: {{\"id\":\"{}\",\"data\":\"{}\"}}",
                rng.uuid(),
                {
                    let n = 60 + rng.below(400) as usize;
                    rng.words(n)
                }
            )));
            out.push(p(format!(
                "Method response headers: {{X-Amzn-Trace-Id=Root={trace};Sampled=0, Content-Type=application/json}}"
            )));
            out.push(p("Successfully completed execution".to_owned()));
            out.push(p("Method completed with status: 200".to_owned()));
        }
    }
    out.push(p(format!(
        "AWS Integration Endpoint RequestId : {lambda_id}"
    )));
    out.push(p(format!("X-ray Tracing ID : {trace}")));
    out
}
