//! What is wrong with a Lambda proxy response, from its JSON shape only: no value is ever copied out, since the
//! response may carry user data. Works on truncated bodies (execution logs cut events at 1 KB) by scanning the
//! top-level keys that survived.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

const TRUNCATED: &str = "[TRUNCATED]";
const PROXY_KEYS: &[&str] = &[
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

/// The JSON type of a value, as people name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    String,
    Integer,
    Number,
    Bool,
    Null,
    Object,
    Array,
    /// Cut off by truncation before its first character.
    Unknown,
}

impl Type {
    /// The type of a raw JSON value, from its first character (an integer: digits that fit 64 bits).
    fn of_raw(raw: &RawValue) -> Type {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => Type::String,
            Some(b'{') => Type::Object,
            Some(b'[') => Type::Array,
            Some(b't' | b'f') => Type::Bool,
            Some(b'n') => Type::Null,
            Some(_) if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() => Type::Integer,
            Some(_) => Type::Number,
            None => Type::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Integer => "an integer",
            Type::Number => "a decimal number",
            Type::Bool => "a boolean",
            Type::Null => "null",
            Type::Object => "a JSON object",
            Type::Array => "a JSON array",
            Type::Unknown => "cut off",
        }
    }
}

/// The problems with `body` as a Lambda proxy response (REST `AWS_PROXY`), in plain words.
/// Empty when the logged shape looks valid (or too little of it survived truncation to tell).
pub fn proxy_response_problems(body: &str) -> Vec<String> {
    let trimmed = body.trim();
    let (text, truncated) = match trimmed.strip_suffix(TRUNCATED) {
        Some(head) => (head.trim_end(), true),
        None => (trimmed, false),
    };
    if text.is_empty() || text == "null" {
        return vec!["the function returned nothing (null or an empty response)".into()];
    }
    // The top level only, values left raw: a body may be megabytes of escaped JSON, and only its keys and the
    // headers' values are looked at (serde_json still checks the whole of it is valid JSON). An object is read
    // in one pass; anything else (or an object that does not read) is told apart below.
    let object = |map: TopLevel<'_>| {
        let fields: Vec<(&str, Type)> = map
            .0
            .iter()
            .map(|(k, v)| (k.as_ref(), Type::of_raw(v)))
            .collect();
        let mut problems = field_problems(&fields, false);
        problems.extend(header_problems(&map));
        problems
    };
    if text.starts_with('{')
        && let Ok(map) = serde_json::from_str::<TopLevel<'_>>(text)
    {
        return object(map);
    }
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) if raw.get().starts_with('{') => {
            let Ok(map) = serde_json::from_str::<TopLevel<'_>>(raw.get()) else {
                return vec!["the function's response is not valid JSON".into()];
            };
            object(map)
        }
        Ok(raw) if raw.get().starts_with('"') => vec![
            "the function returned a bare string instead of an object with statusCode and body"
                .into(),
        ],
        Ok(raw) => vec![format!(
            "the function returned {} instead of an object with statusCode and body",
            Type::of_raw(raw).name()
        )],
        Err(_) if truncated && text.starts_with('{') => field_problems(&scan_top_level(text), true),
        Err(_) if truncated && text.starts_with('"') => vec![
            "the function returned a bare string instead of an object with statusCode and body"
                .into(),
        ],
        Err(_) if truncated => Vec::new(),
        Err(_) => vec!["the function's response is not valid JSON".into()],
    }
}

/// The message of Lambda's own error document, when `body` is exactly its shape: `Message` and `Type` and nothing
/// else, `Type` User, Service or null, a message that names Lambda. The function's own object of the same keys
/// and any other value: `None`.
pub fn lambda_error_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    let object = value.as_object()?;
    let message = object.get("Message")?.as_str()?;
    let kind = object.get("Type")?;
    let lambdas = kind.is_null() || matches!(kind.as_str(), Some("User" | "Service"));
    (object.len() == 2 && lambdas && message.contains("Lambda")).then(|| message.to_owned())
}

/// The keys of the document Lambda returns for an unhandled error (`{"errorMessage":..,"errorType":..}`).
const LAMBDA_ERROR_KEYS: &[&str] = &[
    "errorMessage",
    "errorType",
    "stackTrace",
    "trace",
    "requestId",
    "cause",
];

fn field_problems(fields: &[(&str, Type)], truncated: bool) -> Vec<String> {
    // Logs from before API Gateway logged the function error itself (2017) show only this: the body says what
    // happened, the cause label stays the log's.
    if fields.iter().any(|(k, _)| *k == "errorMessage")
        && fields.iter().all(|(k, _)| LAMBDA_ERROR_KEYS.contains(k))
    {
        return vec![
            "the body is Lambda's error document (errorMessage), not a response: the function raised an error or \
             crashed, and its own log says why"
                .to_owned(),
        ];
    }
    let mut problems = Vec::new();
    let get = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, t)| *t);
    match get("statusCode") {
        None if !truncated => problems.push("statusCode is missing".to_owned()),
        None | Some(Type::Integer | Type::Unknown) => {}
        Some(t) => problems.push(format!("statusCode is {}, not an integer", t.name())),
    }
    match get("body") {
        None | Some(Type::String | Type::Null | Type::Unknown) => {}
        Some(t) => problems.push(format!(
            "body is {}, not a string (serialise it: JSON.stringify / json.dumps)",
            t.name()
        )),
    }
    match get("headers") {
        None | Some(Type::Object | Type::Null | Type::Unknown) => {}
        Some(t) => problems.push(format!("headers is {}, not an object", t.name())),
    }
    match get("multiValueHeaders") {
        None | Some(Type::Object | Type::Null | Type::Unknown) => {}
        Some(t) => problems.push(format!("multiValueHeaders is {}, not an object", t.name())),
    }
    match get("isBase64Encoded") {
        None | Some(Type::Bool | Type::Unknown) => {}
        Some(t) => problems.push(format!("isBase64Encoded is {}, not a boolean", t.name())),
    }
    let unexpected: Vec<&str> = fields
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !PROXY_KEYS.contains(k))
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!(
            // "field", not "key:": the scrubber takes a `key: value` for a secret.
            "unexpected top-level field{}: {} (allowed: {})",
            if unexpected.len() == 1 { "" } else { "s" },
            describe_keys(&unexpected),
            PROXY_KEYS.join(", ")
        ));
    }
    problems
}

/// A JSON object's members, values unparsed (sorted by key, as `serde_json::Map`; a repeated key keeps the last).
#[derive(serde::Deserialize)]
struct TopLevel<'a>(#[serde(borrow)] BTreeMap<Cow<'a, str>, &'a RawValue>);

fn header_problems(map: &TopLevel<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    let object = |name: &str| -> Option<serde_json::Map<String, Value>> {
        let raw = map.0.get(name)?;
        serde_json::from_str::<Value>(raw.get())
            .ok()?
            .as_object()
            .cloned()
    };
    if let Some(headers) = object("headers") {
        let bad = headers.values().filter(|v| !v.is_string()).count();
        if bad > 0 {
            problems.push(format!(
                "headers has {bad} value{} that {} not a string",
                if bad == 1 { "" } else { "s" },
                if bad == 1 { "is" } else { "are" }
            ));
        }
    }
    if let Some(headers) = object("multiValueHeaders") {
        let bad = headers
            .values()
            .filter(|v| !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
            .count();
        if bad > 0 {
            problems.push(format!(
                "multiValueHeaders has {bad} value{} that {} not a list of strings",
                if bad == 1 { "" } else { "s" },
                if bad == 1 { "is" } else { "are" }
            ));
        }
    }
    problems
}

/// Key names are shown only when they look like identifiers; anything else is counted, never copied.
fn describe_keys(keys: &[&str]) -> String {
    let safe = |k: &&&str| {
        !k.is_empty()
            && k.len() <= 32
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let shown: Vec<&str> = keys.iter().filter(safe).take(5).copied().collect();
    let hidden = keys.len() - shown.len();
    match (shown.is_empty(), hidden) {
        (true, n) => format!("{n} key{}", if n == 1 { "" } else { "s" }),
        (false, 0) => shown.join(", "),
        (false, n) => format!("{} and {n} more", shown.join(", ")),
    }
}

/// The top-level keys of a (possibly cut-off) JSON object and the type of each value, by a tolerant scan.
fn scan_top_level(text: &str) -> Vec<(&str, Type)> {
    let b = text.as_bytes();
    let mut fields = Vec::new();
    let mut i = 1; // past '{'
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'"' {
            return fields;
        }
        let Some(key_end) = string_end(b, i) else {
            return fields;
        };
        let key = &text[i + 1..key_end];
        i = key_end + 1;
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b':') {
            i += 1;
        }
        let kind = match b.get(i) {
            None => Type::Unknown,
            Some(b'"') => Type::String,
            Some(b'{') => Type::Object,
            Some(b'[') => Type::Array,
            Some(b't' | b'f') => Type::Bool,
            Some(b'n') => Type::Null,
            Some(_) => {
                let end = b[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
                    .map_or(b.len(), |p| i + p);
                if text[i..end]
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c == b'-')
                {
                    Type::Integer
                } else {
                    Type::Number
                }
            }
        };
        fields.push((key, kind));
        match skip_value(b, i) {
            Some(next) => i = next,
            None => return fields,
        }
    }
}

/// Index of the closing quote of the string starting at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Index just past the value starting at `start`, or `None` if the text ends inside it.
fn skip_value(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start)? {
        b'"' => string_end(b, start).map(|e| e + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => i = string_end(b, i)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let end = b[start..].iter().position(|c| *c == b',' || *c == b'}')?;
            Some(start + end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_body_is_named() {
        let p = proxy_response_problems(
            r#"{"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": {"hey": "dude"}}"#,
        );
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("body is a JSON object, not a string"),
            "{p:?}"
        );
    }

    #[test]
    fn object_body_is_found_in_a_truncated_response() {
        let p = proxy_response_problems(
            r#"{"statusCode":500,"body":{"message":"Request failed with status code 502\n\n\"Error [TRUNCATED]"#,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("body is a JSON object"));
    }

    #[test]
    fn bare_string_is_named() {
        let p = proxy_response_problems(r#""Bad response""#);
        assert!(p[0].contains("bare string"));
    }

    #[test]
    fn missing_and_string_status_codes_are_named() {
        assert_eq!(
            proxy_response_problems(r#"{"body":"ok"}"#),
            ["statusCode is missing"]
        );
        assert_eq!(
            proxy_response_problems(r#"{"statusCode":"200","body":"ok"}"#),
            ["statusCode is a string, not an integer"]
        );
    }

    #[test]
    fn non_string_header_values_are_counted_not_copied() {
        let p = proxy_response_problems(
            r#"{"statusCode":200,"headers":{"X-Count":3,"X-Secret":"s3cr3t"},"body":""}"#,
        );
        assert_eq!(p, ["headers has 1 value that is not a string"]);
    }

    #[test]
    fn unexpected_keys_are_listed_by_name_only_when_safe() {
        let p = proxy_response_problems(r#"{"statusCode":200,"body":"","message":"x","a b c":1}"#);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("unexpected top-level fields: message and 1 more"),
            "{p:?}"
        );
    }

    #[test]
    fn lambdas_error_document_is_named_as_such() {
        let p = proxy_response_problems(
            r#"{"errorMessage": "RequestId: d27362eb-dc3a-11e6-ad1e-d97a8717a019 Process exited before completing request"}"#,
        );
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("the body is Lambda's error document"),
            "{p:?}"
        );
        let p = proxy_response_problems(r#"{"errorMessage":"x","statusCode":500}"#);
        assert!(
            p.iter()
                .any(|p| p.starts_with("unexpected top-level field: errorMessage")),
            "{p:?}"
        );
    }

    #[test]
    fn a_valid_response_has_no_problem() {
        assert!(
            proxy_response_problems(
                r#"{"statusCode":200,"headers":{"a":"b"},"body":"{}","isBase64Encoded":false}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn text_that_is_not_json_is_named() {
        assert_eq!(
            proxy_response_problems("Internal Server Error"),
            ["the function's response is not valid JSON"]
        );
    }
}
