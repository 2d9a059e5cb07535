//! Access-log records (REST and HTTP APIs) → [`Request`].
//!
//! Each team names its own fields, so values are found by meaning: a key is compared after lower-casing it and
//! dropping everything but letters and digits (`integration_error`, `integrationError` and
//! `$context.integration.error` are one name). Nested objects are flattened first. `-` means "no value".

use std::borrow::Cow;

use super::request::{Request, Signal, Source};
use crate::signature::{self, Failure, Kind};

// Not `statusCode`: that is a Lambda proxy response, not an access-log record.
const STATUS: &[&str] = &["status", "contextstatus", "httpstatus"];
const REQUEST_ID: &[&str] = &["requestid", "contextrequestid", "extendedrequestid"];
const INTEGRATION_ERROR: &[&str] = &[
    "integrationerrormessage",
    "integrationerror",
    "contextintegrationerrormessage",
    "contextintegrationerror",
];
const RESPONSE_TYPE: &[&str] = &[
    "errorresponsetype",
    "responsetype",
    "contexterrorresponsetype",
];
const ERROR_MESSAGE: &[&str] = &["errormessage", "contexterrormessage", "errormessagestring"];
const AUTHORIZER_ERROR: &[&str] = &["authorizererror", "contextauthorizererror"];
const METHOD: &[&str] = &["httpmethod", "method", "contexthttpmethod"];
const RESOURCE_PATH: &[&str] = &["resourcepath", "contextresourcepath"];
const ROUTE_KEY: &[&str] = &["routekey", "contextroutekey"];
const API_ID: &[&str] = &["apiid", "contextapiid"];
const STAGE: &[&str] = &["stage", "contextstage"];
const INTEGRATION_LATENCY: &[&str] = &["integrationlatency", "contextintegrationlatency"];

/// What a field means to us: the lists above, each a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    Status,
    RequestId,
    IntegrationError,
    ResponseType,
    ErrorMessage,
    AuthorizerError,
    Method,
    ResourcePath,
    RouteKey,
    ApiId,
    Stage,
    IntegrationLatency,
}

const MEANINGS: [(Meaning, &[&str]); 12] = [
    (Meaning::Status, STATUS),
    (Meaning::RequestId, REQUEST_ID),
    (Meaning::IntegrationError, INTEGRATION_ERROR),
    (Meaning::ResponseType, RESPONSE_TYPE),
    (Meaning::ErrorMessage, ERROR_MESSAGE),
    (Meaning::AuthorizerError, AUTHORIZER_ERROR),
    (Meaning::Method, METHOD),
    (Meaning::ResourcePath, RESOURCE_PATH),
    (Meaning::RouteKey, ROUTE_KEY),
    (Meaning::ApiId, API_ID),
    (Meaning::Stage, STAGE),
    (Meaning::IntegrationLatency, INTEGRATION_LATENCY),
];

/// A normalised field name → its meaning and its name's place in that meaning's list (one lookup a field, not
/// one scan of the record a name).
static MEANING_OF: std::sync::LazyLock<
    std::collections::HashMap<&'static [u8], (Meaning, usize), foldhash::fast::FixedState>,
> = std::sync::LazyLock::new(|| {
    MEANINGS
        .iter()
        .flat_map(|(meaning, names)| {
            names
                .iter()
                .enumerate()
                .map(move |(rank, name)| (name.as_bytes(), (*meaning, rank)))
        })
        .collect()
});

/// How deep a record may nest (formats nest one level: `{"integration":{"error":...}}`).
pub const MAX_RECORD_DEPTH: usize = 4;
/// How many fields a record may hold (a format rarely has 40).
pub const MAX_RECORD_FIELDS: usize = 256;
/// How long a key may be.
pub const MAX_KEY_BYTES: usize = 128;
/// How long a record may be.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Whether a JSON-looking line stays within what an access-log format can produce: checked on the bytes, before
/// anything is built (a record nested 50 deep with 2,000-character keys took a 128 MB function to 1 GB). A
/// record past these bounds is counted and skipped, never parsed.
pub fn within_bounds(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_RECORD_BYTES {
        return false;
    }
    let (mut depth, mut fields) = (0usize, 0usize);
    let mut last_string = 0..0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // To the closing quote, escape to escape (an unclosed string ends the text).
                let start = i + 1;
                let mut at = start;
                loop {
                    let Some(found) = memchr::memchr2(b'"', b'\\', &bytes[at.min(bytes.len())..])
                    else {
                        return true;
                    };
                    at += found;
                    if bytes[at] == b'"' {
                        break;
                    }
                    at += 2;
                }
                last_string = start..at;
                i = at;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_RECORD_DEPTH {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b':' => {
                fields += 1;
                if fields > MAX_RECORD_FIELDS || last_string.len() > MAX_KEY_BYTES {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// Parses one access-log record, or `None` when the text is not a JSON object with a status or request id.
pub fn parse_record(text: &str) -> Option<Request<'static>> {
    parse(text, false)
}

/// [`parse_record`] of a text whose trimmed form the caller has already found [`within_bounds`].
pub fn parse_record_within_bounds(text: &str) -> Option<Request<'static>> {
    parse(text, true)
}

fn parse(text: &str, bounds_checked: bool) -> Option<Request<'static>> {
    let trimmed = text.trim();
    // A format written through a template engine that doubles braces (`{{ "requestId": ... }}`) logs them doubled.
    let trimmed = match trimmed
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
    {
        Some(inner) if inner.trim_start().starts_with('"') => {
            return parse(&format!("{{{inner}}}"), false);
        }
        _ => trimmed,
    };
    if !(trimmed.starts_with('{')
        && trimmed.ends_with('}')
        && (bounds_checked || within_bounds(trimmed)))
    {
        return None;
    }
    // A record whose object repeats a key is not one API Gateway wrote as the format says: a variable it does not
    // escape (the User-Agent) closed its string and added fields. Such a record counts for nothing.
    request_of(read_fields(trimmed)?, |value| {
        Cow::Owned(value.into_owned())
    })
}

/// [`parse_record`] of `unescape(escaped)`, read from the still-escaped text of a delivery, or `None` when it is
/// not the common record: one flat object of strings, plain integers, booleans and nulls, no escape in a key or
/// value, ASCII spaces only, within the bounds (the caller then unescapes and parses it). A record of the
/// delivery's 16 MiB is then neither copied nor read by serde_json (issue 29: failing records cost 5.5 × a
/// realistic delivery per byte). A property test holds it equal to [`parse_record`] wherever it answers.
pub fn parse_escaped_record(escaped: &str) -> Option<Request<'_>> {
    request_of(read_flat_escaped(escaped)?, |value| value)
}

/// The fields of a flat record from its escaped text (`{\"status\":\"502\", \"n\":1}`), or `None`.
fn read_flat_escaped(text: &str) -> Option<Fields<'_>> {
    let b = text.as_bytes();
    // Unescaping never lengthens: an escaped text within the bound is an unescaped one within it.
    if b.len() > MAX_RECORD_BYTES {
        return None;
    }
    let mut i = 0;
    let spaces = |i: &mut usize| {
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
    };
    // `\"...\"` with no escape inside: its content.
    let plain_string = |i: &mut usize| -> Option<&str> {
        if !b.get(*i..)?.starts_with(b"\\\"") {
            return None;
        }
        let start = *i + 2;
        let end = start + memchr::memchr(b'\\', &b[start..])?;
        if b.get(end + 1) != Some(&b'"') {
            return None;
        }
        *i = end + 2;
        text.get(start..end)
    };
    spaces(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut fields = Fields {
        names: Vec::with_capacity(text.len() / 2),
        list: Vec::with_capacity(16),
        keys: Vec::with_capacity(16),
    };
    spaces(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            spaces(&mut i);
            let key = plain_string(&mut i)?;
            if !key.is_ascii()
                || key.len() > MAX_KEY_BYTES
                || fields.keys.len() >= MAX_RECORD_FIELDS
                // Every key held here passed this test: ASCII, so no need to ask `same_key` again per pair.
                || fields.keys.iter().any(|seen| seen.eq_ignore_ascii_case(key))
            {
                return None;
            }
            fields.keys.push(Cow::Borrowed(key));
            spaces(&mut i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            spaces(&mut i);
            let value = match *b.get(i)? {
                b'\\' => Some(plain_string(&mut i)?),
                b'0'..=b'9' => {
                    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    // As serde_json writes the number back: only plain integers of u64 are the same text.
                    if (digits > 1 && b[i] == b'0')
                        || digits > 18
                        || matches!(b.get(i + digits), Some(b'.' | b'e' | b'E'))
                    {
                        return None;
                    }
                    i += digits;
                    text.get(i - digits..i)
                }
                b't' if b[i..].starts_with(b"true") => {
                    i += 4;
                    Some("true")
                }
                b'f' if b[i..].starts_with(b"false") => {
                    i += 5;
                    Some("false")
                }
                b'n' if b[i..].starts_with(b"null") => {
                    i += 4;
                    None
                }
                _ => return None,
            };
            if let Some(value) = value {
                let at = fields.names.len();
                // Most keys are letters and digits only: copied whole and lowered in place, not pushed a byte at
                // a time through a filter (a sixth of a record's cost).
                if key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    fields.names.extend_from_slice(key.as_bytes());
                    fields.names[at..].make_ascii_lowercase();
                } else {
                    fields.names.extend(
                        key.bytes()
                            .filter(u8::is_ascii_alphanumeric)
                            .map(|b| b.to_ascii_lowercase()),
                    );
                }
                fields
                    .list
                    .push((at..fields.names.len(), Cow::Borrowed(value)));
            }
            spaces(&mut i);
            match b.get(i)? {
                b',' => i += 1,
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    spaces(&mut i);
    (i == b.len()).then_some(fields)
}

/// The request a record's fields describe, or `None` when they are no record API Gateway wrote. The values it
/// uses are moved into the request through `keep`: still borrowed from the delivery on the flat reader's path (not
/// copied), owned on serde_json's (whose text is a temporary).
fn request_of<'f, 'a>(
    mut fields: Fields<'f>,
    keep: impl Fn(Cow<'f, str>) -> Cow<'a, str>,
) -> Option<Request<'a>> {
    // By name first, in the order given: `requestId` wins over `extendedRequestId` wherever each sits.
    let resolved = fields.resolve();
    // Two fields that both say the status and disagree (`httpStatus` of the format, `status` added through the
    // User-Agent): not a record API Gateway wrote.
    if resolved.statuses_disagree {
        return None;
    }
    // Each field has one meaning, so each value is taken at most once.
    let best = resolved.best;
    let mut take = |meaning: Meaning| -> Option<Cow<'a, str>> {
        let (_, at) = best[meaning as usize]?;
        Some(keep(std::mem::take(&mut fields.list[at].1)))
    };
    let status = take(Meaning::Status).and_then(|s| s.trim().parse::<u16>().ok());
    let request_id = take(Meaning::RequestId);
    if status.is_none() && request_id.is_none() {
        return None;
    }
    let mut request = Request {
        source: Source::AccessLog,
        request_id,
        status,
        events: 1,
        ..Request::default()
    };
    let mut bare_key = false;
    if let Some(route) = take(Meaning::RouteKey) {
        match route.find(' ') {
            Some(space) => {
                let (method, path) = split_at_space(route, space);
                request.method = Some(method);
                request.resource_path = Some(path);
            }
            // `$default` (HTTP), `$connect`, `$disconnect`, `sendmessage` (WebSocket): a route named by its key,
            // whatever the method of the request it caught.
            None if is_route_key(&route) => {
                request.resource_path = Some(route);
                bare_key = true;
            }
            None => {}
        }
    }
    if let Some(method) = take(Meaning::Method).filter(|_| !bare_key) {
        request.method = Some(method);
    }
    // `$context.resourcePath` is the template; `$context.path` is what the client sent and is never read.
    if let Some(path) = take(Meaning::ResourcePath) {
        request.resource_path = Some(path);
    }
    request.integration_latency_ms = take(Meaning::IntegrationLatency).and_then(|v| v.parse().ok());
    request.response_type = take(Meaning::ResponseType);
    if let Some(message) = take(Meaning::ErrorMessage) {
        request.record_mut().error_message = Some(message);
    }
    if let Some(api) = take(Meaning::ApiId) {
        request.record_mut().api_id = Some(api);
    }
    if let Some(stage) = take(Meaning::Stage) {
        request.record_mut().stage = Some(stage);
    }
    // The status the client got decides: error fields of a record that did not answer 5xx explain nothing (a 4xx's
    // error fields are its own, and text in a record of a 200 is at most a forgery).
    if status.is_none_or(|s| s >= 500) {
        for value in [
            take(Meaning::IntegrationError),
            take(Meaning::AuthorizerError),
        ]
        .into_iter()
        .flatten()
        {
            push_signal(&mut request, value);
        }
    }
    Some(request)
}

/// `method path` split at its first space, each part borrowed where the whole is.
fn split_at_space(route: Cow<'_, str>, space: usize) -> (Cow<'_, str>, Cow<'_, str>) {
    match route {
        Cow::Borrowed(r) => (Cow::Borrowed(&r[..space]), Cow::Borrowed(&r[space + 1..])),
        Cow::Owned(mut r) => {
            let path = r.split_off(space + 1);
            r.truncate(space);
            (Cow::Owned(r), Cow::Owned(path))
        }
    }
}

/// A route key as API Gateway writes it: `$default`, `$connect`, or a WebSocket API's own key (letters, digits,
/// `_`, `-`, `.`, at most 128 characters).
fn is_route_key(key: &str) -> bool {
    let bare = key.strip_prefix('$').unwrap_or(key);
    !bare.is_empty()
        && key.len() <= 128
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A bare field value such as `The Lambda function returned the following error: ...`, as a Logs Insights query
/// over `integrationErrorMessage` returns it: one record whose other fields were not shown.
pub fn request_from_error_value(failure: Failure, text: &str) -> Request<'static> {
    let mut request = Request {
        source: Source::AccessLog,
        events: 1,
        ..Request::default()
    };
    let detail_at = signature::match_start(text)
        .map(|(_, rest)| text.len() - rest.len())
        .unwrap_or(0);
    request.signals.push(Signal {
        failure,
        line: Cow::Owned(text.to_owned()),
        detail_at,
    });
    request
}

/// A Common Log Format-like access-log line (API Gateway's CLF preset and its variants):
/// `<ip> <caller> <user> [<time>] "<method> <path> <protocol>" <status> ...`. We do not read these (no error
/// fields); they are counted so that the operator learns to switch to a JSON format.
pub fn is_clf_line(text: &str) -> bool {
    let mut parts = text.splitn(4, ' ');
    let (Some(ip), Some(_), Some(_), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let ip_like = !ip.is_empty()
        && ip
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':' || b == b'-');
    ip_like
        && rest.starts_with('[')
        && rest
            .find("] \"")
            .is_some_and(|at| rest[at + 3..].contains("\" "))
}

fn push_signal<'a>(request: &mut Request<'a>, value: Cow<'a, str>) {
    match signature::match_start(&value) {
        Some((Kind::Failure(failure), rest)) => {
            let detail_at = value.len() - rest.len();
            request.signals.push(Signal {
                failure,
                line: value,
                detail_at,
            });
        }
        _ => {
            request.record_mut().error_message.get_or_insert(value);
        }
    }
}

/// A record's fields, flattened (`{"integration":{"error":..}}` is `integrationerror`), in the record's order,
/// values borrowed from the text where it has no escape. Names are normalised (lower case, letters and digits)
/// into one buffer: one allocation a record, not one a field.
#[derive(Default)]
struct Fields<'a> {
    names: Vec<u8>,
    list: Vec<(std::ops::Range<usize>, Cow<'a, str>)>,
    /// The raw keys of the objects being read, outermost first (for the repeated-key check).
    keys: Vec<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    /// Each meaning's value: the first non-empty value of the first of its names the record has, wherever the
    /// fields sit (`requestId` wins over `extendedRequestId`).
    fn resolve(&self) -> Resolved {
        let mut best: [Option<(usize, usize)>; MEANINGS.len()] = [None; MEANINGS.len()];
        let (mut status, mut statuses_disagree) = (None, false);
        for (at, (name, value)) in self.list.iter().enumerate() {
            let Some(&(meaning, rank)) = MEANING_OF.get(&self.names[name.clone()]) else {
                continue;
            };
            if is_empty_value(value) {
                continue;
            }
            if meaning == Meaning::Status {
                let this = value.trim();
                statuses_disagree |= status.is_some_and(|first| first != this);
                status.get_or_insert(this);
            }
            let slot = &mut best[meaning as usize];
            if slot.is_none_or(|(held, _)| rank < held) {
                *slot = Some((rank, at));
            }
        }
        Resolved {
            best,
            statuses_disagree,
        }
    }
}

/// Where each meaning's value is among a record's fields (see [`Fields::resolve`]).
struct Resolved {
    best: [Option<(usize, usize)>; MEANINGS.len()],
    /// Two non-empty statuses the record gives, under any of its names, differ.
    statuses_disagree: bool,
}

/// Reads `text` as one JSON object into its flattened fields, in one pass of serde_json: `None` when it is not
/// valid JSON, not an object, or some object in it holds the same key twice (serde_json would silently keep the
/// last). Arrays and nulls are skipped; numbers and booleans are read as serde_json writes them.
fn read_fields(text: &str) -> Option<Fields<'_>> {
    use serde::de::Deserializer;
    // A format rarely has more than 16 fields; names take less room than the text they come from.
    let mut fields = Fields {
        names: Vec::with_capacity(text.len() / 2),
        list: Vec::with_capacity(16),
        keys: Vec::with_capacity(16),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Object {
        fields: &mut fields,
        prefix: 0..0,
    };
    let unrepeated = (&mut de).deserialize_map(seed).ok()?;
    de.end().ok()?;
    unrepeated.then_some(fields)
}

/// Keys compared without case: `Status` after `status` is the same field twice. (Not with punctuation dropped: a
/// real format has both `integrationStatus` and `integration.status`.) Lower-casing keeps the length of ASCII text,
/// so most keys of a record differ without being lowered.
fn same_key(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// An object whose fields are named `prefix` + each key; its value: no key repeated in it or below.
struct Object<'f, 'a> {
    fields: &'f mut Fields<'a>,
    prefix: std::ops::Range<usize>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Object<'_, 'de> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Object<'_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let keys_from = self.fields.keys.len();
        let mut unrepeated = true;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            unrepeated &= !self.fields.keys[keys_from..]
                .iter()
                .any(|seen| same_key(seen, &key));
            let at = self.fields.names.len();
            self.fields.names.extend_from_within(self.prefix.clone());
            self.fields.names.extend(
                key.bytes()
                    .filter(u8::is_ascii_alphanumeric)
                    .map(|b| b.to_ascii_lowercase()),
            );
            let name = at..self.fields.names.len();
            self.fields.keys.push(key);
            unrepeated &= map.next_value_seed(Field {
                fields: &mut *self.fields,
                name,
            })?;
        }
        self.fields.keys.truncate(keys_from);
        Ok(unrepeated)
    }
}

/// One field's value: kept under `name` when it is a string, number or boolean; read as an object when it is one.
struct Field<'f, 'a> {
    fields: &'f mut Fields<'a>,
    name: std::ops::Range<usize>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Field<'_, 'de> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Field<'_, 'de> {
    fn keep(self, value: Cow<'de, str>) -> bool {
        self.fields.list.push((self.name, value));
        true
    }
}

impl<'de> serde::de::Visitor<'de> for Field<'_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        Object {
            fields: self.fields,
            prefix: self.name,
        }
        .visit_map(map)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        // Not kept, but read into a `Value` as the reader before did: `IgnoredAny` would let a number out of range
        // through, which makes the record no record there.
        while seq.next_element::<serde_json::Value>()?.is_some() {}
        Ok(true)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<bool, E> {
        Ok(self.keep(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(self.keep(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<bool, E> {
        Ok(self.keep(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
        Ok(self.keep(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
        Ok(self.keep(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<bool, E> {
        // As serde_json's `Number` writes it (`1e3` is `1000.0`).
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => self.keep(Cow::Owned(n.to_string())),
            None => true,
        })
    }
    fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
        Ok(self.keep(Cow::Borrowed(if v { "true" } else { "false" })))
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
}

fn is_empty_value(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_whatever_the_team_named_them() {
        let r = parse_record(
            r#"{"requestId":"x","status":"502","error_responseType":"INTEGRATION_FAILURE",
               "integration_error":"Lambda Customer Function Error:'AZUL_S3_BUCKET'","httpMethod":"GET",
               "resourcePath":"/health","apiId":"a1b2c3","stage":"prod"}"#,
        )
        .unwrap();
        assert_eq!(r.status, Some(502));
        assert_eq!(r.response_type.as_deref(), Some("INTEGRATION_FAILURE"));
        assert_eq!(r.signals[0].failure, Failure::AccessLogFunctionError);
        assert_eq!(r.signals[0].detail(), "'AZUL_S3_BUCKET'");
        assert_eq!(r.record_api_id(), Some("a1b2c3"));
        assert_eq!(r.resource_path.as_deref(), Some("/health"));
    }

    #[test]
    fn a_bare_route_key_names_an_http_or_websocket_route() {
        // The HTTP API `$default` route (corpus 26's format) and WebSocket keys.
        for key in ["$default", "$connect", "sendmessage"] {
            let line = format!(r#"{{"requestId":"r","routeKey":"{key}","status":"500"}}"#);
            let request = parse_record(&line).unwrap();
            assert_eq!(request.method, None, "{key}");
            assert_eq!(request.resource_path.as_deref(), Some(key));
        }
        // The `$default` route caught a GET: the route is the key, not `GET $default` (a TinyStacks docs record).
        let caught = parse_record(
            r#"{"requestId":"Q8NnAiztIAMEV4w=","httpMethod":"GET","routeKey":"$default","status":"500"}"#,
        )
        .unwrap();
        assert_eq!(caught.method, None);
        assert_eq!(caught.resource_path.as_deref(), Some("$default"));
        // Not a route key: nothing taken.
        let odd = parse_record(r#"{"requestId":"r","routeKey":"a;b","status":"500"}"#).unwrap();
        assert_eq!(odd.resource_path, None);
    }

    #[test]
    fn a_dash_is_no_value_and_route_key_gives_the_route() {
        let r = parse_record(
            r#"{"integrationErrorMessage":"-","requestId":"V=","resourcePath":"-","routeKey":"ANY /","status":"200"}"#,
        )
        .unwrap();
        assert!(r.signals.is_empty());
        assert_eq!(r.method.as_deref(), Some("ANY"));
        assert_eq!(r.resource_path.as_deref(), Some("/"));
    }

    #[test]
    fn nested_context_objects_are_flattened() {
        let r = parse_record(
            r#"{"requestId":"x","status":504,"error":{"responseType":"INTEGRATION_TIMEOUT","message":"Endpoint request timed out"}}"#,
        )
        .unwrap();
        assert_eq!(r.status, Some(504));
        assert_eq!(r.response_type.as_deref(), Some("INTEGRATION_TIMEOUT"));
    }

    #[test]
    fn clf_lines_are_recognised_to_be_skipped() {
        assert!(is_clf_line(
            r#"203.0.113.9 - - [24/Nov/2026:10:02:11 +0000] "GET /orders HTTP/1.1" 502 36 4f2c7a1e-4b8b-4f7e-9a55-0d3f2c1b7e10"#
        ));
        assert!(is_clf_line(
            r#"2001:db8::1 - - [24/Nov/2026:10:02:11 +0000] "POST /x HTTP/1.1" 200 2 id"#
        ));
        assert!(!is_clf_line("(abc) Method completed with status: 502"));
        assert!(!is_clf_line(
            "Starting execution for request: x [now] \"GET\" 5"
        ));
        assert!(!is_clf_line(r#"{"status":"502"}"#));
    }

    #[test]
    fn a_record_in_doubled_braces_is_read() {
        let record = r#"{{ "requestId":"r9", "status":"502", "integrationErrorMessage":"-" }}"#;
        let request = parse_record(record).unwrap();
        assert_eq!(
            (request.request_id.as_deref(), request.status),
            (Some("r9"), Some(502))
        );
        // Doubled braces around no record are nothing.
        assert!(parse_record(r#"{{"a":1}}"#).is_none());
    }

    #[test]
    fn the_request_id_is_request_id_when_both_ids_are_logged() {
        let record = r#"{"extendedRequestId":"Kx1FiAMEF=","requestId":"7c1d4e8a-9b2f-3d4c-5b6a-798012345678","status":"502"}"#;
        let request = parse_record(record).unwrap();
        assert_eq!(
            request.request_id.as_deref(),
            Some("7c1d4e8a-9b2f-3d4c-5b6a-798012345678")
        );
        let only_extended = r#"{"extendedRequestId":"Kx1FiAMEF=","status":"502"}"#;
        assert_eq!(
            parse_record(only_extended).unwrap().request_id.as_deref(),
            Some("Kx1FiAMEF=")
        );
    }

    #[test]
    fn json_without_status_or_request_id_is_not_a_record() {
        assert!(parse_record(r#"{"statusCode":200,"body":"x"}"#).is_none());
        assert!(parse_record(r#"{"hello":"world"}"#).is_none());
        assert!(parse_record("not json").is_none());
    }

    #[test]
    fn a_record_past_the_bounds_is_never_parsed() {
        let nested = format!(
            "{}\"status\":\"500\"{}",
            "{\"a\":".repeat(50),
            "}".repeat(50)
        );
        assert!(!within_bounds(&nested));
        assert!(parse_record(&nested).is_none());
        let long_key = format!(
            r#"{{"requestId":"r","status":"500","{}":"x"}}"#,
            "k".repeat(2_000)
        );
        assert!(!within_bounds(&long_key));
        let wide: String = (0..300).map(|i| format!(r#""f{i}":"v","#)).collect();
        let wide = format!(r#"{{{wide}"status":"500"}}"#);
        assert!(!within_bounds(&wide));
        // A colon inside a value, a brace inside a string, an escaped quote: not structure.
        let fine =
            r#"{"requestId":"r","status":"500","ua":"a:b {[ \"x\":","integration":{"error":"-"}}"#;
        assert!(within_bounds(fine));
        assert_eq!(parse_record(fine).unwrap().status, Some(500));
    }

    #[test]
    fn a_user_agent_that_adds_fields_cannot_turn_a_200_into_a_failure() {
        // API Gateway does not escape $context.identity.userAgent: a client can close the string and add keys.
        let forged = r#"{"requestId":"r1","status":"200","userAgent":"x","status":"500","integrationError":"Execution failed due to configuration error: Invalid permissions on Lambda function","ua":"y","integrationError":"-"}"#;
        assert!(parse_record(forged).is_none());
        // Without a repeated key, the real status still decides: a 200 carries no failure.
        let added = r#"{"requestId":"r1","status":"200","userAgent":"x","integrationError":"Execution failed due to configuration error: Invalid permissions on Lambda function"}"#;
        let r = parse_record(added).unwrap();
        assert_eq!(r.status, Some(200));
        assert!(r.signals.is_empty());
        // The same error field on a 500 is the real thing.
        let real = added.replace(r#""status":"200""#, r#""status":"500""#);
        assert_eq!(parse_record(&real).unwrap().signals.len(), 1);
        // The probe's case variants of existing keys are the same keys: refused.
        let variants = r#"{"requestId":"r1","apiId":"a1b2c3d4e5","status":"200","userAgent":"x","Status":"502","IntegrationErrorMessage":"The IAM role configured on the integration or API Gateway doesn't have permissions to call the integration","ApiId":"victim0001","ua":"y","integrationErrorMessage":"-"}"#;
        assert!(parse_record(variants).is_none());
        // Another name of the status, added: two statuses that disagree are no record API Gateway wrote.
        let other_name = r#"{"requestId":"r1","httpStatus":"200","userAgent":"x","status":"502","integrationError":"Execution failed due to configuration error: Invalid permissions on Lambda function"}"#;
        assert!(parse_record(other_name).is_none());
        // A real format with both integration statuses is read.
        let both = r#"{"requestId":"r1","status":"200","integrationStatus":"200","integration.status":"-"}"#;
        assert_eq!(parse_record(both).unwrap().status, Some(200));
    }

    /// The reader this module had before its one-pass form (issue 29: 16 MB of failing records cost 15.8 × the
    /// per-byte cost of a realistic delivery): the byte-by-byte bounds check, a serde pass for repeated keys, then
    /// `serde_json::Map` and an owned copy of every field. Kept as the reference the one-pass reader must equal.
    mod reference {
        use serde_json::{Map, Value};
        use std::borrow::Cow;

        pub fn within_bounds(text: &str) -> bool {
            use super::super::{
                MAX_KEY_BYTES, MAX_RECORD_BYTES, MAX_RECORD_DEPTH, MAX_RECORD_FIELDS,
            };
            let bytes = text.as_bytes();
            if bytes.len() > MAX_RECORD_BYTES {
                return false;
            }
            let (mut depth, mut fields) = (0usize, 0usize);
            let (mut in_string, mut escaped, mut string_start) = (false, false, 0usize);
            let mut last_string = (0usize, 0usize);
            for (i, &b) in bytes.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        last_string = (string_start, i);
                    }
                    continue;
                }
                match b {
                    b'"' => {
                        in_string = true;
                        string_start = i + 1;
                    }
                    b'{' | b'[' => {
                        depth += 1;
                        if depth > MAX_RECORD_DEPTH {
                            return false;
                        }
                    }
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    b':' => {
                        fields += 1;
                        if fields > MAX_RECORD_FIELDS
                            || last_string.1 - last_string.0 > MAX_KEY_BYTES
                        {
                            return false;
                        }
                    }
                    _ => {}
                }
            }
            true
        }

        /// Whether some JSON object in `text` holds the same key twice (serde_json would keep the last one silently).
        fn has_repeated_key(text: &str) -> bool {
            use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
            struct Check;
            impl<'de> Visitor<'de> for Check {
                type Value = bool;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
                    // Keys compared without case: `Status` after `status` is the same field twice. (Not with punctuation
                    // dropped: a real format has both `integrationStatus` and `integration.status`.)
                    let mut seen = std::collections::HashSet::new();
                    let mut repeated = false;
                    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                        repeated |= !seen.insert(key.to_lowercase());
                        repeated |= map.next_value::<Nested>()?.0;
                    }
                    Ok(repeated)
                }
            }
            /// A value: an object is checked too, anything else skipped.
            struct Nested(bool);
            impl<'de> serde::Deserialize<'de> for Nested {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    struct Any;
                    impl<'de> Visitor<'de> for Any {
                        type Value = bool;
                        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                            f.write_str("any JSON value")
                        }
                        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
                            Check.visit_map(map)
                        }
                        fn visit_seq<A: serde::de::SeqAccess<'de>>(
                            self,
                            mut seq: A,
                        ) -> Result<bool, A::Error> {
                            while seq.next_element::<IgnoredAny>()?.is_some() {}
                            Ok(false)
                        }
                        fn visit_str<E>(self, _: &str) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_string<E>(self, _: String) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_borrowed_str<E>(self, _: &'de str) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
                            Ok(false)
                        }
                        fn visit_unit<E>(self) -> Result<bool, E> {
                            Ok(false)
                        }
                    }
                    d.deserialize_any(Any).map(Nested)
                }
            }
            let mut de = serde_json::Deserializer::from_str(text);
            de.deserialize_map(Check).unwrap_or(false)
        }

        fn flatten(prefix: &str, object: &Map<String, Value>, out: &mut Vec<(String, String)>) {
            for (key, value) in object {
                let name: String = format!("{prefix}{key}")
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                match value {
                    Value::Object(inner) => flatten(&name, inner, out),
                    Value::String(s) => out.push((name, s.clone())),
                    Value::Number(n) => out.push((name, n.to_string())),
                    Value::Bool(b) => out.push((name, b.to_string())),
                    Value::Null | Value::Array(_) => {}
                }
            }
        }

        pub fn fields(text: &str) -> Option<Vec<(String, String)>> {
            if has_repeated_key(text) {
                return None;
            }
            let object: Map<String, Value> = serde_json::from_str(text).ok()?;
            let mut out = Vec::new();
            flatten("", &object, &mut out);
            Some(out)
        }
    }

    fn one_pass_fields(text: &str) -> Option<Vec<(String, String)>> {
        let f = read_fields(text)?;
        Some(
            f.list
                .iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8(f.names[k.clone()].to_vec()).unwrap(),
                        v.to_string(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn of_two_fields_of_one_name_the_first_is_read() {
        // `integration.error` nested and `integrationError` flat are one name: the record's order decides.
        let r = parse_record(
            r#"{"requestId":"r","status":"500","integration":{"error":"Execution failed due to configuration error: Invalid permissions on Lambda function"},"integrationError":"The Lambda function returned the following error: boom"}"#,
        )
        .unwrap();
        assert_eq!(r.signals.len(), 1);
        assert_eq!(r.signals[0].failure, Failure::InvalidPermissions);
        // A better-ranked name wins wherever it sits; an empty value (`-`) is no value.
        let r = parse_record(
            r#"{"extendedRequestId":"e1","status":"-","httpStatus":"502","requestId":"r1","integrationError":"-","integrationErrorMessage":"The Lambda function returned the following error: boom"}"#,
        )
        .unwrap();
        assert_eq!(r.request_id.as_deref(), Some("r1"));
        assert_eq!(r.status, Some(502));
        assert_eq!(r.signals.len(), 1);
    }

    #[test]
    fn a_number_out_of_range_in_an_array_is_no_record() {
        // serde_json refuses it into a `Value`, as the reader before did; skipping it unread would differ.
        let text = r#"{"requestId":"r","status":"500","xs":[1,10e00000000000000308]}"#;
        assert!(parse_record(text).is_none());
        assert_eq!(one_pass_fields(text), reference::fields(text));
    }

    #[test]
    fn the_common_records_are_read_from_the_escaped_text() {
        // tests/data/26 (compact, HTTP API) and tests/data/91 (the console's spaced format), then a failing record.
        for record in [
            r#"{"httpMethod":"GET","integrationErrorMessage":"-","protocol":"HTTP/1.1","requestId":"Vdntpho8IAMEVSQ=","requestTime":"18/Jul/2022:12:33:39 +0000","resourcePath":"-","responseLength":"607","routeKey":"ANY /","sourceIp":"107.21.85.89","status":"200"}"#,
            r#"{ "requestId":"Q8NnAiztIAMEV4w=", "ip": "73.239.102.103", "requestTime":"21/Apr/2022:17:09:26 +0000", "httpMethod":"GET","routeKey":"$default", "status":"200","protocol":"HTTP/1.1", "responseLength":"12", "resourcePath":"-" }"#,
            r#"{"requestId":"a3","status":500,"errorResponseType":"API_CONFIGURATION_ERROR","integrationError":"Execution failed due to configuration error: Invalid permissions on Lambda function","integrationLatency":null,"cached":false}"#,
        ] {
            let escaped = crate::ingest::escaped_for_tests(record);
            let fast = parse_escaped_record(&escaped);
            assert!(fast.is_some(), "{record}");
            assert_eq!(fast, parse_record(record));
        }
        // What it leaves to the full reader: nesting, escapes, doubled braces.
        for record in [
            r#"{"requestId":"r","status":"500","integration":{"error":"x"}}"#,
            r#"{"requestId":"r","status":"500","userAgent":"a \"quoted\" agent"}"#,
            r#"{{"requestId":"r","status":"500"}}"#,
        ] {
            assert_eq!(
                parse_escaped_record(&crate::ingest::escaped_for_tests(record)),
                None,
                "{record}"
            );
            assert!(parse_record(record).is_some(), "{record}");
        }
    }

    mod one_pass_equals_the_reference {
        use super::*;
        use proptest::prelude::*;
        use serde_json::Value;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("status".to_owned()),
                Just("Status".to_owned()),
                Just("requestId".to_owned()),
                Just("integration.error".to_owned()),
                Just("integrationError".to_owned()),
                Just("error".to_owned()),
                Just("É".to_owned()),
                Just("é".to_owned()),
                "[a-zA-Z._$ \\\"\u{e9}-]{0,12}",
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                (-1e300f64..1e300).prop_map(Value::from),
                "[ -~\u{e9}\n\t\\\"]{0,20}".prop_map(Value::String),
                Just(Value::String("-".into())),
            ];
            leaf.prop_recursive(4, 24, 5, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    proptest::collection::vec((key(), inner), 0..5).prop_map(|m| {
                        // Written out pair by pair below, so repeated keys survive.
                        Value::Array(
                            m.into_iter()
                                .map(|(k, v)| Value::Array(vec![Value::String(k), v]))
                                .collect(),
                        )
                    }),
                ]
            })
        }

        /// JSON text of `v`, where an array of `[key, value]` pairs is written as an object (keys may repeat).
        fn write(v: &Value, out: &mut String) {
            match v {
                Value::Array(items)
                    if !items.is_empty()
                        && items.iter().all(
                            |i| matches!(i, Value::Array(p) if p.len() == 2 && p[0].is_string()),
                        ) =>
                {
                    out.push('{');
                    for (n, item) in items.iter().enumerate() {
                        let Value::Array(pair) = item else {
                            unreachable!()
                        };
                        if n > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(&pair[0]).unwrap());
                        out.push(':');
                        write(&pair[1], out);
                    }
                    out.push('}');
                }
                other => out.push_str(&serde_json::to_string(other).unwrap()),
            }
        }

        fn record() -> impl Strategy<Value = String> {
            (
                proptest::collection::vec((key(), value()), 0..8),
                0usize..4,
                any::<usize>(),
                "[ {}\\\":,\\[\\]a1.e-]{0,3}",
            )
                .prop_map(|(members, damage, at, junk)| {
                    let mut out = String::from("{");
                    for (n, (k, v)) in members.iter().enumerate() {
                        if n > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(k).unwrap());
                        out.push(':');
                        write(v, &mut out);
                    }
                    out.push('}');
                    // Damaged records too: cut, or with a few JSON-ish bytes put in.
                    let mut at = at % (out.len() + 1);
                    while !out.is_char_boundary(at) {
                        at -= 1;
                    }
                    match damage {
                        1 => out.truncate(at),
                        2 => out.insert_str(at, &junk),
                        _ => {}
                    }
                    out
                })
        }

        use crate::ingest::escaped_for_tests as escaped;

        /// Records as formats write them: flat, strings mostly, spaced or not, and now and then something the
        /// flat reader must leave alone.
        fn flat_record() -> impl Strategy<Value = String> {
            let key = prop_oneof![
                4 => prop_oneof![
                    Just("status"),
                    Just("Status"),
                    Just("requestId"),
                    Just("httpMethod"),
                    Just("integrationError"),
                    Just("integration_error"),
                    Just("routeKey"),
                ]
                .prop_map(str::to_owned),
                1 => "[a-zA-Z._$ -]{0,8}",
                1 => key(),
            ];
            let value = prop_oneof![
                8 => "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
                2 => prop_oneof![Just("\"-\""), Just("\"502\""), Just("\"200\""), Just("\"GET /x\"")]
                    .prop_map(str::to_owned),
                2 => any::<u32>().prop_map(|n| n.to_string()),
                2 => "(0|-1|01|00|1.5|1e3|18446744073709551616|99999999999999999999|123456789012345678)"
                    .prop_map(String::from),
                2 => prop_oneof![Just("true"), Just("false"), Just("null"), Just("tru"), Just("nul")]
                    .prop_map(str::to_owned),
                1 => prop_oneof![Just("{\"error\":\"x\"}"), Just("[1]"), Just("\"a\\\"b\"")]
                    .prop_map(str::to_owned),
                1 => "\"[a-z\u{e9}\u{2028}\t\n/]{0,4}\"".prop_map(|s| s),
            ];
            (
                proptest::collection::vec((key, value), 0..6),
                prop_oneof![Just(""), Just(" "), Just("  ")],
                any::<bool>(),
            )
                .prop_map(|(members, space, with_id)| {
                    let mut members: Vec<String> = members
                        .into_iter()
                        .map(|(k, v)| format!("{}:{space}{v}", serde_json::to_string(&k).unwrap()))
                        .collect();
                    if with_id {
                        members.insert(0, "\"requestId\":\"r1\"".to_owned());
                    }
                    format!("{{{space}{}{space}}}", members.join(&format!(",{space}")))
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn the_escaped_flat_reader_answers_as_the_reference(text in prop_oneof![flat_record(), record()]) {
                if let Some(fast) = parse_escaped_record(&escaped(&text)) {
                    prop_assert_eq!(Some(fast), parse_record(&text), "{}", text);
                }
            }

            #[test]
            fn fields_and_bounds(text in record()) {
                prop_assert_eq!(within_bounds(&text), reference::within_bounds(&text));
                prop_assert_eq!(one_pass_fields(&text), reference::fields(&text));
            }

            #[test]
            fn bounds_on_any_text(text in "[ -~\\\\\"{}\\[\\]:]{0,300}") {
                prop_assert_eq!(within_bounds(&text), reference::within_bounds(&text));
            }
        }
    }
}
