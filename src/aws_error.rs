//! An AWS SDK error in one line: what was asked, what AWS answered (its error code and message), and the likely fix
//! (credentials, region, the exact IAM action). The SDK's own rendering is a 1.5 KB chain of debug structures; it
//! is kept for `-v` (and for the function's own log, where nobody is at a terminal).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

static FULL_CHAIN: AtomicBool = AtomicBool::new(false);

/// Adds the SDK's whole error chain after the line (the CLI's `-v`; the deployed function always).
pub fn show_full_chain(on: bool) {
    FULL_CHAIN.store(on, Ordering::Relaxed);
}

/// What went wrong, as far as the fix depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NoCredentials,
    BadCredentials,
    AccessDenied,
    NotFound,
    Throttled,
    Unreachable,
    TimedOut,
    Other,
}

/// The kind of failure from the SDK's variant, the service's error code and the error chain's text.
pub fn kind(code: Option<&str>, dispatch: bool, timeout: bool, chain: &str) -> Kind {
    let chain_has = |needle: &str| chain.to_ascii_lowercase().contains(needle);
    match code {
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "UnauthorizedException",
        ) => Kind::AccessDenied,
        // API Gateway answers a missing permission with 403 ForbiddenException.
        Some("ForbiddenException") if !chain_has("security token") => Kind::AccessDenied,
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "ForbiddenException"
            | "SignatureDoesNotMatch",
        ) => Kind::BadCredentials,
        Some(
            "NotFoundException"
            | "ResourceNotFoundException"
            | "NotFound"
            | "NoSuchEntity"
            | "NotFoundError",
        ) => Kind::NotFound,
        Some(
            "TooManyRequestsException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "LimitExceededException",
        ) => Kind::Throttled,
        // The SDK's words: `CredentialsNotLoaded`, "no providers in chain provided credentials".
        _ if chain_has("credentialsnotloaded")
            || chain_has("provided credentials")
            || chain_has("failed to load credentials")
            || chain_has("no credentials") =>
        {
            Kind::NoCredentials
        }
        _ if timeout => Kind::TimedOut,
        _ if dispatch => Kind::Unreachable,
        _ => Kind::Other,
    }
}

/// One line: `AWS answered {code}: {message}; {fix}`, for an error the SDK returned for a call that needs `action`
/// (the IAM action, e.g. `apigateway:GET`). The caller's error names what was asked.
pub fn explain<E, R>(action: &str, error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let chain = DisplayErrorContext(error).to_string();
    let (dispatch, timeout) = match error {
        SdkError::DispatchFailure(d) => (true, d.is_timeout()),
        SdkError::TimeoutError(_) => (true, true),
        _ => (false, false),
    };
    let code = error.code();
    let kind = kind(code, dispatch, timeout, &chain);
    let mut line = String::new();
    match (code, error.message()) {
        (Some(code), Some(message)) => {
            let _ = write!(line, "AWS answered {code}: {}", one_line(message));
        }
        (Some(code), None) => {
            let _ = write!(line, "AWS answered {code}");
        }
        _ => line.push_str(match kind {
            Kind::NoCredentials => "no AWS credentials found",
            Kind::TimedOut => "AWS did not answer in time",
            Kind::Unreachable => "could not reach AWS",
            _ => "the call failed",
        }),
    }
    line.push_str("; ");
    line.push_str(&fix(kind, action));
    if FULL_CHAIN.load(Ordering::Relaxed) {
        let _ = write!(line, "\n  full error: {chain}");
    }
    line
}

/// The likely fix for a kind of failure of a call that needs `action`.
pub fn fix(kind: Kind, action: &str) -> String {
    match kind {
        Kind::NoCredentials => {
            "run `aws configure` (or `aws sso login`), or pass --profile NAME / set AWS_PROFILE".to_owned()
        }
        Kind::BadCredentials => {
            "the credentials are invalid or expired: refresh them (`aws sso login`, new keys) or pass --profile NAME"
                .to_owned()
        }
        Kind::AccessDenied => format!("your identity needs {action}: add it to its IAM policy"),
        Kind::NotFound => {
            "check the id or name, and that --region (or AWS_REGION) is the region it lives in".to_owned()
        }
        Kind::Throttled => "AWS is throttling these calls: wait a moment and run it again".to_owned(),
        Kind::Unreachable => {
            "check the network, --region and any AWS_ENDPOINT_URL setting; -v shows the full error".to_owned()
        }
        Kind::TimedOut => "AWS did not answer in time: run it again; -v shows the full error".to_owned(),
        Kind::Other => "-v shows the full error".to_owned(),
    }
}

/// A service message on one line, at most 300 characters.
fn one_line(message: &str) -> String {
    let flat: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    flat.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_gets_its_own_fix() {
        assert_eq!(
            kind(Some("AccessDeniedException"), false, false, ""),
            Kind::AccessDenied
        );
        assert!(
            fix(Kind::AccessDenied, "logs:FilterLogEvents").contains("needs logs:FilterLogEvents")
        );
        assert_eq!(
            kind(Some("NotFoundException"), false, false, ""),
            Kind::NotFound
        );
        assert!(fix(Kind::NotFound, "apigateway:GET").contains("--region"));
        assert_eq!(
            kind(Some("UnrecognizedClientException"), false, false, ""),
            Kind::BadCredentials
        );
        assert_eq!(
            kind(
                Some("ForbiddenException"),
                false,
                false,
                "The security token included in the request is invalid"
            ),
            Kind::BadCredentials
        );
        assert_eq!(
            kind(Some("ForbiddenException"), false, false, "not authorized"),
            Kind::AccessDenied
        );
        assert_eq!(
            kind(
                None,
                true,
                false,
                "dispatch failure: other: the credential provider was not enabled: no providers in chain provided \
                 credentials (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None), source: \
                 CredentialsNotLoaded(CredentialsNotLoaded { source: Some(\"no providers in chain provided \
                 credentials\") }), connection: Unknown } }))"
            ),
            Kind::NoCredentials
        );
        assert!(fix(Kind::NoCredentials, "x").contains("aws configure"));
        assert_eq!(kind(None, true, false, "io error"), Kind::Unreachable);
        assert_eq!(kind(None, true, true, "timeout"), Kind::TimedOut);
    }

    #[test]
    fn a_service_message_stays_on_one_line() {
        assert_eq!(one_line(" a\nb\tc "), "a b c");
        assert_eq!(one_line(&"x".repeat(400)).len(), 300);
    }
}
