//! The table of real API Gateway log messages, matched at the start of an event's own message.
//!
//! Every entry cites its row in `docs/how-it-decides.md` (the catalogue). Matching is anchored: a sentence
//! counts only when it *begins* the event's message after the `(request-id) ` prefix, so the same words inside
//! a logged body, header or path (attacker-controlled) are never a signal. One index lookup per event (an
//! anchored Aho-Corasick search over the same table is the reference it is tested against).

use std::sync::LazyLock;

/// What one event's message is, judged by how it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    // Context lines (§3 "Order of lines").
    StartingExecution,
    HttpMethod,
    /// `Method request path: {name=value, ...}`: the path parameters, to turn the logged path back into its template.
    MethodRequestPath,
    EndpointRequestUri,
    /// `Endpoint request headers: {...}`: on a Lambda integration they carry `X-Amz-Source-Arn` with the route.
    EndpointRequestHeaders,
    SendingRequest,
    ReceivedResponse,
    EndpointResponseBody,
    EndpointResponseHeaders,
    MethodCompleted,
    Succeeded,
    IntegrationEndpointRequestId,
    StartingAuthorizer,
    AuthorizerResultBody,
    AuthorizerSucceeded,
    Unauthorized,
    GatewayResponse,
    ExecutionLogHeader,
    /// A sentence that explains a failure.
    Failure(Failure),
}

/// The failure sentences of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    MalformedProxyResponse,
    InvalidPermissions,
    AuthorizerError,
    CouldNotParsePolicy,
    AuthorizerInvalidJson,
    CannotAssumeRole,
    AuthorizerConfigurationException,
    RateExceeded,
    UnableToTransformRequest,
    OutputMappingInvalid,
    /// No integration response matches the integration's answer and none is the default: the answer (an AWS
    /// service's refusal, a backend's error) is what failed.
    NoOutputMappingMatch,
    Base64DecodeBody,
    InternalErrorExecuting,
    /// The integration endpoint's TLS certificate is not for the host API Gateway connected to (HTTP / VPC link).
    TlsHostNameMismatch,
    InvalidEndpointAddress,
    NetworkError,
    OtherConfigurationError,
    IntegrationTimeout,
    CustomerFunctionError,
    LambdaInvocationFailed,
    KeyThrottle,
    /// HTTP API wording of a function error (`$context.integrationErrorMessage`).
    HttpApiFunctionError,
    /// REST access-log wording of a function error (`$context.integration.error`).
    AccessLogFunctionError,
    HttpApiIntegrationPermission,
    HttpApiAuthorizerPermission,
}

impl Failure {
    /// Whether the sentence's variable part may run over several lines (a function's error message and stack
    /// trace, an authorizer's answer, a sentence we do not know). The others are one line: in a paste, whatever
    /// follows them on the next lines is not theirs.
    pub fn may_span_lines(self) -> bool {
        matches!(
            self,
            Failure::CustomerFunctionError
                | Failure::HttpApiFunctionError
                | Failure::AccessLogFunctionError
                | Failure::AuthorizerInvalidJson
                | Failure::CouldNotParsePolicy
                | Failure::OtherConfigurationError
        )
    }
}

const CONFIG_ERROR: &str = "Execution failed due to configuration error: ";

/// (message start, kind). Longest match wins, so a full sentence beats the generic configuration-error prefix.
static TABLE: &[(&str, Kind)] = &[
    // §3 lines 5–16: the structure of one REST/WebSocket execution (context, not failures).
    ("Starting execution for request: ", Kind::StartingExecution),
    ("HTTP Method: ", Kind::HttpMethod),
    ("Method request path:", Kind::MethodRequestPath),
    ("Endpoint request URI: ", Kind::EndpointRequestUri),
    ("Endpoint request headers: ", Kind::EndpointRequestHeaders),
    ("Sending request to ", Kind::SendingRequest),
    ("Received response.", Kind::ReceivedResponse),
    (
        "Endpoint response body before transformations:",
        Kind::EndpointResponseBody,
    ),
    ("Endpoint response headers: ", Kind::EndpointResponseHeaders),
    ("Method completed with status: ", Kind::MethodCompleted),
    ("Successfully completed execution", Kind::Succeeded),
    (
        "AWS Integration Endpoint RequestId : ",
        Kind::IntegrationEndpointRequestId,
    ),
    // §1 row 7 and kc:api-gateway-logs: the authorizer phase.
    ("Starting authorizer: ", Kind::StartingAuthorizer),
    (
        "Authorizer result body before parsing:",
        Kind::AuthorizerResultBody,
    ),
    (
        "Successfully completed authorizer execution",
        Kind::AuthorizerSucceeded,
    ),
    // §1 row 19: authorizer denied, 401.
    ("Unauthorized request: ", Kind::Unauthorized),
    // §1 row 6: seen on a WebSocket authorizer (corpus 21).
    ("Gateway response type: ", Kind::GatewayResponse),
    // §3: console "Test" header.
    ("Execution log for request ", Kind::ExecutionLogHeader),
    // §1 row 1 (corpus 01, 14) and row 8b (corpus 06, 2018 throttling).
    (
        "Execution failed due to configuration error: Malformed Lambda proxy response",
        Kind::Failure(Failure::MalformedProxyResponse),
    ),
    // §1 rows 5 and 6 (corpus 09, 21).
    (
        "Execution failed due to configuration error: Invalid permissions on Lambda function",
        Kind::Failure(Failure::InvalidPermissions),
    ),
    // §1 row 6/7 (corpus 21).
    (
        "Execution failed due to configuration error: Authorizer error",
        Kind::Failure(Failure::AuthorizerError),
    ),
    // §1 row 7 (corpus 17).
    (
        "Execution failed due to configuration error: Could not parse policy",
        Kind::Failure(Failure::CouldNotParsePolicy),
    ),
    // §1 row 7.
    (
        "Execution failed due to configuration error: Invalid JSON in response",
        Kind::Failure(Failure::AuthorizerInvalidJson),
    ),
    // §1 row 7.
    (
        "Execution failed due to configuration error: API Gateway does not have permission to assume the provided role",
        Kind::Failure(Failure::CannotAssumeRole),
    ),
    // §1 row 7 (corpus 17).
    (
        "AuthorizerConfigurationException",
        Kind::Failure(Failure::AuthorizerConfigurationException),
    ),
    // §1 row 8 (2025 behaviour).
    (
        "Execution failed due to configuration error: Rate Exceeded.",
        Kind::Failure(Failure::RateExceeded),
    ),
    (
        "Lambda invocation failed with status: ",
        Kind::Failure(Failure::LambdaInvocationFailed),
    ),
    // §1 rows 12, 13 (corpus 23).
    (
        "Execution failed due to configuration error: Unable to transform request",
        Kind::Failure(Failure::UnableToTransformRequest),
    ),
    (
        "Execution failed due to configuration error: Output mapping refers to an invalid method response",
        Kind::Failure(Failure::OutputMappingInvalid),
    ),
    // Row 13b (corpus 89, 90): `... configured. Endpoint Response Status Code: 400`.
    (
        "Execution failed due to configuration error: No match for output mapping and no default output mapping configured",
        Kind::Failure(Failure::NoOutputMappingMatch),
    ),
    // Row 12b (corpus 77): content handling (CONVERT_TO_BINARY) met a payload that is not base64 text.
    (
        "Execution failed due to configuration error: Unable to base64 decode the body",
        Kind::Failure(Failure::Base64DecodeBody),
    ),
    // §1 rows 14, 15, 16.
    (
        "Execution failed due to configuration error: There was an internal error while executing your request",
        Kind::Failure(Failure::InternalErrorExecuting),
    ),
    // The same sentence as people quote it, without its prefix (corpus 66); only where a message begins.
    (
        "There was an internal error while executing your request",
        Kind::Failure(Failure::InternalErrorExecuting),
    ),
    // §1 row 14b (corpus 52): the name is the integration's host, followed by `does not match the certificate
    // subject provided by the peer (CN=...)`.
    (
        "Execution failed due to configuration error: Host name '",
        Kind::Failure(Failure::TlsHostNameMismatch),
    ),
    (
        "Execution failed due to configuration error: Invalid endpoint address",
        Kind::Failure(Failure::InvalidEndpointAddress),
    ),
    (
        "Execution failed due to a network error communicating with endpoint",
        Kind::Failure(Failure::NetworkError),
    ),
    // Any other configuration error: a failure we can show but not name.
    (
        CONFIG_ERROR,
        Kind::Failure(Failure::OtherConfigurationError),
    ),
    // §1 row 4 (corpus 05): API Gateway's own integration timeout.
    (
        "Execution failed due to a timeout error",
        Kind::Failure(Failure::IntegrationTimeout),
    ),
    // §1 rows 2, 3, 9 (corpus 02, 11): the function raised, timed out or answered too much.
    (
        "Lambda execution failed with status ",
        Kind::Failure(Failure::CustomerFunctionError),
    ),
    // §1 row 17 (corpus 03): stage/method throttle, 429.
    (
        "Key throttle limit exceeded for ",
        Kind::Failure(Failure::KeyThrottle),
    ),
    // §1 rows 2b, 3b (corpus 27): HTTP API access-log wording.
    (
        "The Lambda function returned the following error: ",
        Kind::Failure(Failure::HttpApiFunctionError),
    ),
    // §1 rows 2a, 9: REST access-log wording (no space after the colon).
    (
        "Lambda Customer Function Error:",
        Kind::Failure(Failure::AccessLogFunctionError),
    ),
    // §1 rows 5b, 6b.
    (
        "The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration",
        Kind::Failure(Failure::HttpApiIntegrationPermission),
    ),
    (
        "The IAM role configured on the authorizer or API Gateway doesn't have permissions to call the authorizer",
        Kind::Failure(Failure::HttpApiAuthorizerPermission),
    ),
];

/// The table indexed by each pattern's first 8 bytes (every pattern is longer), longest pattern first in each
/// group. Every pattern a message starts with shares the message's first 8 bytes, so the first hit in its group
/// is the longest match (what a leftmost-longest anchored Aho-Corasick search would answer, several times faster
/// on lines that match nothing, which are most lines).
static INDEX: LazyLock<Vec<(u64, Vec<usize>)>> = LazyLock::new(|| {
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    for (i, (pattern, _)) in TABLE.iter().enumerate() {
        let Some(key) = head(pattern) else { continue };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    for (_, members) in &mut groups {
        members.sort_by_key(|&i| std::cmp::Reverse(TABLE[i].0.len()));
    }
    groups.sort_by_key(|(key, _)| *key);
    groups
});

fn head(text: &str) -> Option<u64> {
    Some(u64::from_le_bytes(
        text.as_bytes().get(..8)?.try_into().ok()?,
    ))
}

/// The kind of a message (the text after any `(request-id) ` prefix) and the rest of it after the matched start.
/// `None` for lines that carry nothing we use (request headers, bodies after transformations, ...).
pub fn match_start(message: &str) -> Option<(Kind, &str)> {
    let key = head(message)?;
    let at = INDEX.binary_search_by_key(&key, |(k, _)| *k).ok()?;
    INDEX[at].1.iter().find_map(|&i| {
        let (pattern, kind) = TABLE[i];
        message.strip_prefix(pattern).map(|rest| (kind, rest))
    })
}

/// The longest failure sentence of the table that `text` holds anywhere (not only where a message begins): for
/// the CLI's hint when a paste quotes one inside prose, which counts for nothing. Not for the hot path.
pub fn failure_sentence_within(text: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .filter(|(pattern, kind)| matches!(kind, Kind::Failure(_)) && text.contains(pattern))
        .map(|(pattern, _)| pattern.trim_end())
        .max_by_key(|pattern| pattern.len())
}

/// Where failure sentences and the final-status sentence begin inside `text`, wherever they stand (byte offsets,
/// ascending, a shorter sentence inside a longer one not counted twice), each with what must stand before it to
/// make it the sentence API Gateway writes: a configuration error is often quoted without its
/// `Execution failed due to configuration error: ` prefix (only its distinctive part, 27 characters or more, counts
/// then). Only for pasted text that no anchored line explains: in a delivery, a sentence that does not begin its
/// line is request data and counts for nothing.
pub fn sentence_starts_within(text: &str) -> Vec<(usize, &'static str)> {
    let mut starts: Vec<(usize, usize, &'static str)> = Vec::new();
    for (pattern, kind) in TABLE {
        if !matches!(kind, Kind::Failure(_) | Kind::MethodCompleted) {
            continue;
        }
        starts.extend(text.match_indices(pattern).map(|(at, p)| (at, p.len(), "")));
        if let Some(tail) = pattern.strip_prefix(CONFIG_ERROR).filter(|t| t.len() >= 27) {
            starts.extend(
                text.match_indices(tail)
                    .map(|(at, t)| (at, t.len(), CONFIG_ERROR)),
            );
        }
    }
    starts.sort_unstable_by_key(|&(at, len, _)| (at, std::cmp::Reverse(len)));
    let mut out: Vec<(usize, &'static str)> = Vec::new();
    let mut covered = 0;
    for (at, len, prefix) in starts {
        if at >= covered || out.is_empty() {
            out.push((at, prefix));
            covered = at + len;
        }
    }
    out
}

/// True when a message starts with a sentence of the table: in pasted text without prefixes, such a line opens a
/// new event, anything else continues the one before.
pub fn starts_an_event(message: &str) -> bool {
    match_start(message).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: an anchored leftmost-longest Aho-Corasick search over the same table.
    fn reference(message: &str) -> Option<(Kind, &str)> {
        use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
        let automaton = AhoCorasick::builder()
            .start_kind(StartKind::Anchored)
            .match_kind(MatchKind::LeftmostLongest)
            .build(TABLE.iter().map(|(pattern, _)| pattern))
            .unwrap();
        let found = automaton.find(Input::new(message).anchored(Anchored::Yes))?;
        Some((TABLE[found.pattern().as_usize()].1, &message[found.end()..]))
    }

    #[test]
    fn every_pattern_is_indexed() {
        assert!(TABLE.iter().all(|(p, _)| p.len() > 8));
        assert_eq!(
            INDEX.iter().map(|(_, m)| m.len()).sum::<usize>(),
            TABLE.len()
        );
    }

    proptest::proptest! {
        #[test]
        fn the_index_agrees_with_aho_corasick(
            entry in 0..TABLE.len(),
            cut in 0usize..120,
            tail in "[ -~]{0,30}",
        ) {
            // A table entry, cut anywhere and followed by anything: prefixes, exact hits, longer sentences.
            let pattern = TABLE[entry].0;
            let message = format!("{}{tail}", &pattern[..cut.min(pattern.len())]);
            proptest::prop_assert_eq!(match_start(&message), reference(&message));
        }
    }

    #[test]
    fn full_sentence_beats_the_generic_configuration_error() {
        let (kind, rest) = match_start(
            "Execution failed due to configuration error: Invalid permissions on Lambda function",
        )
        .unwrap();
        assert_eq!(kind, Kind::Failure(Failure::InvalidPermissions));
        assert_eq!(rest, "");
        let (kind, rest) =
            match_start("Execution failed due to configuration error: Something new").unwrap();
        assert_eq!(kind, Kind::Failure(Failure::OtherConfigurationError));
        assert_eq!(rest, "Something new");
    }

    #[test]
    fn a_sentence_inside_a_body_is_not_a_match() {
        let body = r#"Method request body before transformations: {"x":"Execution failed due to a timeout error"}"#;
        assert_eq!(match_start(body), None);
        assert_eq!(
            match_start(" Execution failed due to a timeout error"),
            None
        );
    }

    #[test]
    fn every_entry_is_reachable() {
        for (pattern, kind) in TABLE {
            assert_eq!(match_start(pattern).map(|m| m.0), Some(*kind), "{pattern}");
        }
    }
}
