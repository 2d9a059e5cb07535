//! Cause → what it means and how to fix it. Short, accurate, and true to `docs/how-it-decides.md` (§2 lists the advice
//! commonly given that is wrong).

use super::classify::Cause;

/// The explanation and the fix for one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    /// One sentence: what happened.
    pub summary: &'static str,
    /// What to do about it.
    pub fix: &'static str,
}

pub fn advice(cause: Cause) -> Advice {
    let (summary, fix) = match cause {
        Cause::Ok => ("The request succeeded.", "Nothing to do."),
        Cause::ClientError => (
            "API Gateway answered with a 4xx that is not a throttle (denied, invalid request, or a handled error mapped to 4xx).",
            "Check the caller's credentials and request; no server-side failure was logged.",
        ),
        Cause::Throttled => (
            "API Gateway's own stage, method or usage-plan throttle rejected the request with 429 before it reached the integration.",
            "Raise the stage/method throttle or the usage plan's rate and burst, or make the client back off and retry.",
        ),
        Cause::MalformedProxyResponse => (
            "The Lambda function returned a response API Gateway cannot map (Lambda proxy integration), so the client got 502.",
            "Return an object {\"statusCode\": <integer>, \"headers\": {<string>: <string>}, \"body\": <string>, \"isBase64Encoded\": <bool>} and nothing else; serialise the body with JSON.stringify / json.dumps.",
        ),
        Cause::FunctionError => (
            "The Lambda function raised an error, crashed, failed to initialise or exited early, so the client got 502 (500 on HTTP APIs).",
            "Read the function's own log stream for the Lambda request id in the evidence, fix the error, and return a proxy response with a 4xx/5xx statusCode for handled errors instead of throwing.",
        ),
        Cause::FunctionTimeout => (
            "The Lambda function hit its own configured timeout (not API Gateway's), so the client got 502 (500 on HTTP APIs).",
            "Find what the function waits on (downstream calls, cold start) or raise the function's Timeout setting; keep it below the API's integration timeout (29 s by default).",
        ),
        Cause::IntegrationTimeout => (
            "API Gateway stopped waiting for the integration (29 s by default) and answered 504 (503 on HTTP APIs).",
            "Make the backend answer sooner, or move long work to an asynchronous pattern. Regional and private REST APIs can raise the integration timeout above 29 s since June 2024 (quota L-E5AE38E3, may lower the account throttle); edge-optimized REST APIs and HTTP APIs (30 s maximum) cannot.",
        ),
        Cause::MissingInvokePermission => (
            "API Gateway is not allowed to invoke the integration's Lambda function (its resource policy lacks lambda:InvokeFunction for apigateway.amazonaws.com, or the integration's credentials role lacks it), so the client got 500.",
            "Add a resource-based permission: aws lambda add-permission --function-name <function> --statement-id apigateway-invoke --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn arn:aws:execute-api:<region>:<account>:<api-id>/*/<METHOD>/<path>; or, if the integration uses a credentials role, grant that role lambda:InvokeFunction. Declare it in your template (AWS::Lambda::Permission) so the next deploy keeps it.",
        ),
        Cause::AuthorizerMissingInvokePermission => (
            "API Gateway is not allowed to invoke the Lambda authorizer's function, so the client got 500 (AUTHORIZER_CONFIGURATION_ERROR).",
            "Add a resource-based permission on the authorizer's function for apigateway.amazonaws.com with --source-arn arn:aws:execute-api:<region>:<account>:<api-id>/authorizers/<authorizer-id>, or grant the authorizer's credentials role lambda:InvokeFunction.",
        ),
        Cause::AuthorizerError => (
            "The Lambda authorizer failed or returned something API Gateway cannot use (no valid policy, bad JSON, role not assumable), so the client got 500.",
            "Make the authorizer return {\"principalId\": ..., \"policyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": [...]}} (or the simple response for HTTP APIs), and check its credentials role's trust policy.",
        ),
        Cause::LambdaThrottled => (
            "Lambda refused the invocation with 429 (reserved or account concurrency exhausted); API Gateway answers 500 (502 in logs from 2018).",
            "Raise the function's reserved concurrency or the account's concurrency quota, add provisioned concurrency, or throttle the API stage below what the function can take.",
        ),
        Cause::PayloadTooLarge => (
            "The function's response exceeded Lambda's 6 MB synchronous response limit (hit before API Gateway's 10 MB limit), so the client got 502.",
            "Return large payloads through S3 (a pre-signed URL), paginate, or compress; REST APIs can stream responses (responseTransferMode STREAM) past these limits.",
        ),
        Cause::LambdaKmsError => (
            "Lambda could not decrypt the function's environment variables (KMS access denied), so the function never ran and the client got 500.",
            "Give the function's execution role kms:Decrypt on its KMS key (and check the key policy and that the key is enabled), then redeploy or update the function configuration.",
        ),
        Cause::LambdaServiceError => (
            "The Lambda service itself failed the invocation, so the client got 500.",
            "Retry with backoff; if it persists, check the AWS Health Dashboard for Lambda in the region and open a support case.",
        ),
        Cause::LambdaInvokeError => (
            "Lambda refused or failed the invocation before the function ran (VPC networking, the function not ready, its file system or runtime), so the client got 500 (502 when API Gateway then read Lambda's error as a malformed response). The function's code is not the cause.",
            "Act on what Lambda said: for a refusal with status 403, check organization SCPs and that the region is enabled for the account; for 404, fix the integration URI or stage variable that names the function, alias or version; for VPC networking free ENIs or IP addresses (larger or more subnets, fewer idle functions in the VPC) and check the execution role's ec2 network-interface permissions; for a function not ready, wait for it to become Active (or invoke it once to restore an Inactive one); for EFS, check the mount targets and security groups.",
        ),
        Cause::MappingError => (
            "A request or response mapping template (non-proxy integration) failed, so the client got 500.",
            "Test the method in the console and fix the mapping template or the method/integration responses; re-attaching the Lambda in the console also re-adds a missing invoke permission, which some of these failures hide.",
        ),
        Cause::ServiceIntegrationError => (
            "An AWS service integration (SQS, Step Functions, DynamoDB, S3, ...) answered an error, and no integration response maps it, so the client got 500. The service's answer is the cause, not the mapping.",
            "Act on the service's error in the detail: for AccessDenied, grant the integration's credentials role the action on the resource (and check the resource's and KMS key's policies); for a validation or unknown-operation error, fix the integration URI's action or the request template; then add integration responses for 4\\d{2} and 5\\d{2} (or a default one) so the service's errors reach the client as errors instead of 500.",
        ),
        Cause::BackendError => (
            "API Gateway could not reach the HTTP or VPC-link backend, or it answered badly.",
            "Check the integration's endpoint URL, DNS, the VPC link and its target health, and the backend's security groups and TLS certificate.",
        ),
        Cause::Unknown5xx => (
            "The request failed with a 5xx that none of the known signatures explains.",
            "Read the evidence and the full execution log for the request id; if it is a new signature, report it so it can be added.",
        ),
        Cause::Incomplete => (
            "The request's final status is not in these logs.",
            "Look at the next delivery or the log stream for the rest of the request.",
        ),
    };
    Advice { summary, fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_advice() {
        for cause in Cause::ALL {
            let a = advice(cause);
            assert!(a.summary.ends_with('.') && a.fix.ends_with('.'), "{cause}");
        }
    }

    #[test]
    fn advice_gets_the_statuses_articles_get_wrong_right() {
        assert!(
            advice(Cause::MissingInvokePermission)
                .summary
                .contains("500")
        );
        assert!(advice(Cause::IntegrationTimeout).summary.contains("504"));
        assert!(advice(Cause::PayloadTooLarge).summary.contains("6 MB"));
        assert!(advice(Cause::IntegrationTimeout).fix.contains("June 2024"));
    }
}
