//! What an AWS service integration answered (SQS, Step Functions, DynamoDB, S3, ...) when no integration response
//! maps it: which service, its error code, and what the code says is wrong (the integration's role, or the request
//! API Gateway built), so the diagnosis names that instead of the mapping.

/// The service of an integration endpoint on an AWS host (`https://states.us-east-1.amazonaws.com/?Action=...`,
/// `https://sqs.us-east-2.amazonaws.com/...`), by its friendly name. Lambda is not a service integration here (its
/// failures have their own causes); any other host is an HTTP backend.
pub fn service_of(endpoint: &str) -> Option<&str> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', ':']).next()?;
    let base = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let labels: Vec<&str> = base.split('.').collect();
    let known = labels.iter().find_map(|label| friendly_name(label));
    match known {
        Some("Lambda") => None,
        Some(name) => Some(name),
        None => labels.first().copied().filter(|l| !l.is_empty()),
    }
}

fn friendly_name(label: &str) -> Option<&'static str> {
    Some(match label {
        "lambda" => "Lambda",
        "sqs" => "SQS",
        "states" => "Step Functions",
        "dynamodb" => "DynamoDB",
        "s3" => "S3",
        "sns" => "SNS",
        "kinesis" => "Kinesis",
        "firehose" => "Firehose",
        "events" => "EventBridge",
        "sts" => "STS",
        _ => return None,
    })
}

/// The error code an AWS service put in its answer: JSON `__type` (`com.amazon.coral.service#AccessDeniedException`
/// → `AccessDeniedException`), `code`/`Code`, or XML `<Code>`. The body is the first 1 KB the log keeps.
pub fn error_code(body: &str) -> Option<&str> {
    let json = ["\"__type\":\"", "\"code\":\"", "\"Code\":\""]
        .iter()
        .find_map(|key| {
            let at = body.find(key)? + key.len();
            let value = &body[at..];
            let value = &value[..value.find('"')?];
            Some(value.rsplit('#').next().unwrap_or(value))
        });
    let xml = || {
        let at = body.find("<Code>")? + "<Code>".len();
        let value = &body[at..];
        Some(&value[..value.find("</Code>")?])
    };
    json.or_else(xml).map(str::trim).filter(|c| {
        !c.is_empty() && c.len() <= 80 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    })
}

/// What an error code says is wrong, in words an operator acts on.
pub fn meaning(code: &str) -> &'static str {
    let has = |words: &[&str]| words.iter().any(|w| code.contains(w));
    if has(&[
        "AccessDenied",
        "NotAuthorized",
        "UnrecognizedClient",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "KMS",
        "Forbidden",
    ]) {
        "the integration's credentials role may not make this call (its policy, the resource's policy or its KMS \
         key refuses it): grant the role the action on the resource"
    } else if has(&[
        "Throttl",
        "TooManyRequests",
        "ProvisionedThroughputExceeded",
        "LimitExceeded",
    ]) {
        "the service throttled the call: retry with backoff or raise its limit"
    } else if has(&[
        "Validation",
        "UnknownOperation",
        "InvalidAction",
        "MissingAction",
        "InvalidParameter",
        "MissingParameter",
        "Serialization",
        "MalformedQueryString",
        "InvalidInput",
        "InvalidArn",
        "NotFound",
        "NonExistent",
        "DoesNotExist",
        "NoSuch",
    ]) {
        "the request API Gateway built is not one the service accepts (the integration URI's action or path, the \
         request template, its Content-Type, or a resource it names): test the method and compare the request with \
         the service's API reference"
    } else {
        "read the service's error in the endpoint response body"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_come_from_aws_hosts_only() {
        assert_eq!(
            service_of("https://states.us-east-1.amazonaws.com/?Action=StartExecution"),
            Some("Step Functions")
        );
        assert_eq!(
            service_of("https://sqs.us-east-2.amazonaws.com/123/q"),
            Some("SQS")
        );
        assert_eq!(
            service_of("https://bucket.s3.amazonaws.com/key"),
            Some("S3")
        );
        assert_eq!(
            service_of("https://glue.eu-west-1.amazonaws.com/"),
            Some("glue")
        );
        assert_eq!(
            service_of("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/x"),
            None
        );
        assert_eq!(service_of("https://backend.example.com/sqs"), None);
        assert_eq!(
            service_of("https://sqs.us-east-1.amazonaws.com.evil.io/"),
            None
        );
    }

    #[test]
    fn error_codes_come_from_json_and_xml_answers() {
        assert_eq!(
            error_code(r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#),
            Some("UnknownOperationException")
        );
        assert_eq!(
            error_code(
                r#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code></Error></ErrorResponse>"#
            ),
            Some("AccessDenied")
        );
        assert_eq!(error_code(r#"{"message":"no code here"}"#), None);
        // A value that is not a code (prose, markup) is not taken for one.
        assert_eq!(error_code(r#"{"code":"<script>alert(1)</script>"}"#), None);
    }

    #[test]
    fn codes_say_role_request_or_throttle() {
        assert!(meaning("AccessDeniedException").contains("credentials role"));
        assert!(meaning("AccessDenied").contains("credentials role"));
        assert!(meaning("UnknownOperationException").contains("request API Gateway built"));
        assert!(meaning("ValidationException").contains("request API Gateway built"));
        assert!(meaning("ThrottlingException").contains("throttled"));
        assert!(meaning("SomethingElse").contains("read the service's error"));
    }
}
