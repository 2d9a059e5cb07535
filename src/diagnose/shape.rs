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
        Type::of_text(raw.get())
    }

    /// The type of a JSON value's text (valid JSON), from its first character.
    fn of_text(text: &str) -> Type {
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
        let raw = |name: &str| map.0.get(name).map(|v| Cow::Borrowed(v.get()));
        object_problems(&fields, raw("headers"), raw("multiValueHeaders"))
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

/// [`proxy_response_problems`] of `unescape(escaped)`, read from the still-escaped text of a delivery without
/// building the unescaped copy (a 256 KB body cost more to unescape and parse than the rest of its delivery), or
/// `None` when the escaped reader is not sure: anything but a valid JSON object in the plainest form (a key with an
/// escape, a `\u` escape outside a string, a surrogate, deep nesting) is left to [`proxy_response_problems`]. A body
/// cut by the log limit (` [TRUNCATED]`) is answered too when the object was plain up to the cut: its keys and their
/// types, as the reference's tolerant scan reads them. A property test holds the two equal wherever this one
/// answers. `escaped` is a JSON string's content as the delivery's reader accepted it (no raw quote, no raw
/// control character).
pub fn proxy_response_problems_escaped(escaped: &str) -> Option<Vec<String>> {
    let (text, truncated) = match escaped.trim_end().strip_suffix(TRUNCATED) {
        Some(head) => (head.trim_end_matches([' ', '\t']), true),
        None => (escaped, false),
    };
    let mut r = EscapedJson {
        b: text.as_bytes(),
        i: 0,
        ran_out: std::cell::Cell::new(false),
    };
    r.whitespace();
    r.eat(b'{')?;
    let mut members: Vec<(&str, Type, std::ops::Range<usize>)> = Vec::new();
    // The member being read: its key, and where its value starts once the colon is past.
    let mut pending: Option<(&str, Option<usize>)> = None;
    let read = r.items(b'}', |r| {
        r.eat(b'"')?;
        let key_start = r.i;
        let Some(backslash) = memchr::memchr(b'\\', &r.b[key_start..]) else {
            r.ran_out.set(true);
            return None;
        };
        let key_end = key_start + backslash;
        // A key with any escape in it (`\\"` closes it) is left to serde_json.
        if r.b.get(key_end + 1) != Some(&b'"') {
            return None;
        }
        let key = text.get(key_start..key_end)?;
        r.i = key_end + 2;
        pending = Some((key, None));
        r.whitespace();
        r.eat(b':')?;
        r.whitespace();
        let value_start = r.i;
        pending = Some((key, Some(value_start)));
        let first = r.peek()?.0;
        r.value(0)?;
        let value = value_start..r.i;
        let kind = match first {
            b'"' => Type::String,
            b'-' | b'0'..=b'9' => Type::of_text(text.get(value.clone())?),
            _ => Type::of_text(std::str::from_utf8(&[first]).ok()?),
        };
        members.push((key, kind, value));
        pending = None;
        Some(())
    });
    if read.is_none() {
        // Cut inside the object, and plain up to the cut: serde_json refuses it as the reference reads it, which
        // then scans the keys it can see (in order, repeats kept).
        return (truncated && r.ran_out.get()).then(|| {
            let mut fields: Vec<(&str, Type)> = members
                .iter()
                .map(|(k, _, v)| (*k, r.scanned_type(v.start)))
                .collect();
            if let Some((key, value_start)) = pending {
                fields.push((
                    key,
                    value_start.map_or(Type::Unknown, |at| r.scanned_type(at)),
                ));
            }
            field_problems(&fields, true)
        });
    }
    r.whitespace();
    if r.i != r.b.len() {
        return None;
    }
    // As `serde_json::Map`: sorted by key, a repeated key keeps its last value.
    members.sort_by(|a, b| a.0.cmp(b.0));
    members.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    let fields: Vec<(&str, Type)> = members.iter().map(|(k, t, _)| (*k, *t)).collect();
    let raw = |name: &str| {
        members
            .iter()
            .find(|(k, _, _)| *k == name)
            .and_then(|(_, _, range)| text.get(range.clone()))
            .map(crate::ingest::unescape)
    };
    Some(object_problems(
        &fields,
        raw("headers"),
        raw("multiValueHeaders"),
    ))
}

/// A reader of JSON text that is itself escaped as a JSON string's content (`{\"a\":1}`): each character is
/// read through its escape, and strings are skipped escape to escape. It only says yes to what serde_json
/// accepts; everything it is unsure of is a `None`.
struct EscapedJson<'a> {
    b: &'a [u8],
    i: usize,
    /// Set when a read needed more text than there is (the text was cut there).
    ran_out: std::cell::Cell<bool>,
}

/// serde_json refuses nesting deeper than 128; the reader gives up well before.
const MAX_DEPTH: u32 = 100;

impl EscapedJson<'_> {
    /// The next character (ASCII only) and the bytes it takes in the escaped text.
    fn peek(&self) -> Option<(u8, usize)> {
        let Some(&c) = self.b.get(self.i) else {
            self.ran_out.set(true);
            return None;
        };
        if c != b'\\' {
            return c.is_ascii().then_some((c, 1));
        }
        let decoded = match *self.b.get(self.i + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' => 0x08,
            b'f' => 0x0c,
            _ => return None,
        };
        Some((decoded, 2))
    }

    /// The type of the value starting at `at` as the reference's tolerant scan of a cut body names it: by its
    /// first character; a number is an integer when it is digits and `-` only (up to where it stops).
    fn scanned_type(&self, at: usize) -> Type {
        let probe = EscapedJson {
            b: self.b,
            i: at,
            ran_out: std::cell::Cell::new(false),
        };
        match probe.peek() {
            None => Type::Unknown,
            Some((b'"', _)) => Type::String,
            Some((b'{', _)) => Type::Object,
            Some((b'[', _)) => Type::Array,
            Some((b't' | b'f', _)) => Type::Bool,
            Some((b'n', _)) => Type::Null,
            Some(_) => scanned_number(&self.b[at..]),
        }
    }

    fn next(&mut self) -> Option<u8> {
        let (c, width) = self.peek()?;
        self.i += width;
        Some(c)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        match self.peek()? {
            (c, width) if c == expected => {
                self.i += width;
                Some(())
            }
            _ => None,
        }
    }

    fn whitespace(&mut self) {
        while let Some((b' ' | b'\n' | b'\r' | b'\t', width)) = self.peek() {
            self.i += width;
        }
    }

    /// The items of an object or array up to `close`, its opening already read; `item` reads one.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.whitespace();
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            self.whitespace();
            item(self)?;
            self.whitespace();
            match self.next()? {
                b',' => {}
                c if c == close => return Some(()),
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.next()? {
            b'"' => self.string_rest(),
            b'{' => self.items(b'}', |r| {
                r.eat(b'"')?;
                r.string_rest()?;
                r.whitespace();
                r.eat(b':')?;
                r.whitespace();
                r.value(depth + 1)
            }),
            b'[' => self.items(b']', |r| r.value(depth + 1)),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'n' => self.literal(b"ull"),
            c @ (b'-' | b'0'..=b'9') => self.number(c),
            _ => None,
        }
    }

    /// The rest of a literal, in plain bytes.
    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        self.b
            .get(self.i..)?
            .starts_with(rest)
            .then(|| self.i += rest.len())
    }

    /// JSON's number grammar, in plain bytes (`first` already read).
    fn number(&mut self, first: u8) -> Option<()> {
        let digits = |r: &mut Self| {
            let n = r.b[r.i..].iter().take_while(|c| c.is_ascii_digit()).count();
            r.i += n;
            n
        };
        let lead = if first == b'-' {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            c
        } else {
            first
        };
        match lead {
            b'0' => {}
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        // A digit right after `0` (`01`) is no number; the caller's next read refuses it.
        Some(())
    }

    /// A string after its opening quote: skipped from one escape of the outer text to the next. `\"` closes it,
    /// `\\` starts one of its own escapes; a raw control character (`\n` in the outer text) is not allowed.
    fn string_rest(&mut self) -> Option<()> {
        loop {
            // Escapes come a few bytes apart (often one right after another) in a JSON body inside a message.
            let Some(at) = crate::ingest::batch::next_quote_or_backslash(self.b.get(self.i..)?)
            else {
                self.ran_out.set(true);
                return None;
            };
            self.i += at;
            if self.b[self.i] == b'"' {
                return None;
            }
            match *self.b.get(self.i + 1)? {
                b'"' => {
                    self.i += 2;
                    return Some(());
                }
                b'/' => self.i += 2,
                b'\\' => {
                    self.i += 2;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 4;
                        }
                        _ => return None,
                    }
                }
                b'u' => {
                    // A character written as `\uXXXX` in the outer text: fine unless it is a control character,
                    // a quote or backslash of the inner text, or half a surrogate pair.
                    let hex = std::str::from_utf8(self.b.get(self.i + 2..self.i + 6)?).ok()?;
                    let unit = u16::from_str_radix(hex, 16).ok()?;
                    if unit < 0x20
                        || unit == 0x22
                        || unit == 0x5c
                        || (0xD800..=0xDFFF).contains(&unit)
                    {
                        return None;
                    }
                    self.i += 6;
                }
                _ => return None,
            }
        }
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

/// The problems of a response that is a JSON object: its members' types, and the values of `headers` and
/// `multiValueHeaders` (their JSON text).
fn object_problems(
    fields: &[(&str, Type)],
    headers: Option<Cow<'_, str>>,
    multi_value_headers: Option<Cow<'_, str>>,
) -> Vec<String> {
    let mut problems = field_problems(fields, false);
    problems.extend(header_problems(headers, multi_value_headers));
    problems
}

fn header_problems(
    headers: Option<Cow<'_, str>>,
    multi_value_headers: Option<Cow<'_, str>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let object = |raw: Option<Cow<'_, str>>| -> Option<serde_json::Map<String, Value>> {
        serde_json::from_str::<Value>(&raw?)
            .ok()?
            .as_object()
            .cloned()
    };
    if let Some(headers) = object(headers) {
        let bad = headers.values().filter(|v| !v.is_string()).count();
        if bad > 0 {
            problems.push(format!(
                "headers has {bad} value{} that {} not a string",
                if bad == 1 { "" } else { "s" },
                if bad == 1 { "is" } else { "are" }
            ));
        }
    }
    if let Some(headers) = object(multi_value_headers) {
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
            Some(_) => scanned_number(&b[i..]),
        };
        fields.push((key, kind));
        match skip_value(b, i) {
            Some(next) => i = next,
            None => return fields,
        }
    }
}

/// The type the tolerant scan gives a number at the start of `b`: an integer when its run of number characters is
/// digits and `-` only.
fn scanned_number(b: &[u8]) -> Type {
    let run = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || b"+-.eE".contains(c));
    if run.clone().all(|c| c.is_ascii_digit() || *c == b'-') {
        Type::Integer
    } else {
        Type::Number
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

    use crate::ingest::escaped_for_tests as escaped;

    #[test]
    fn the_escaped_reader_answers_plain_objects_as_the_reference_does() {
        for body in [
            r#"{"statusCode":200,"body":"{\"a\":\"line\\nbreak \\u00e9 \\\"q\\\" \\/\"}"}"#,
            r#"{"body":{"a":1},"statusCode":"200"}"#,
            r#"{"statusCode":200,"headers":{"a":1,"b":"x"},"multiValueHeaders":{"m":["a",2]},"isBase64Encoded":"no"}"#,
            r#"{"errorMessage":"boom","errorType":"Error","stackTrace":["at x"]}"#,
            " {\"statusCode\":-1.5e3,\"x\":[true,false,null,{\"é\":\"ü ☕\"}],\"x\":0,\"n\":-0,\"big\":18446744073709551616} ",
            "{\n\t\"statusCode\": 200,\r\n \"body\": \"\"\n}",
            "{}",
            r#"{"statusCode":200,"body":"caf\u00e9 \ud83d\ude00"}"#,
            // Cut by the log limit: the keys before the cut, and the one it cut.
            r#"{"statusCode":200,"body":"x"} [TRUNCATED]"#,
            r#"{"body":"{\"items\":[{\"a\":1}, [TRUNCATED]"#,
            r#"{"headers":{"a":"b"},"statusCode":20 [TRUNCATED]"#,
            r#"{"a":[1,{"b":null}],"isBase64Encoded":  [TRUNCATED]"#,
            r#"{"statusCode":"200","body" [TRUNCATED]"#,
            r#"{"statusCode":200,"bo [TRUNCATED]"#,
            r#"{"statusCode":200,"big":18446744073709551616,"n":-1.5e3,"x":"tr [TRUNCATED]"#,
            "{\"errorMessage\":\"boom\",\"errorType\":\"Error\",\n \"stackTrace\":[\"at x [TRUNCATED]",
        ] {
            assert_eq!(
                proxy_response_problems_escaped(&escaped(body)),
                Some(proxy_response_problems(body)),
                "{body}"
            );
        }
    }

    #[test]
    fn the_escaped_reader_leaves_what_it_is_unsure_of_to_the_reference() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(120), "]".repeat(120));
        for body in [
            r#"{"statusCode":200,"body":"x"#,
            r#"{"statusCode":-"#,
            r#"{"statusCode":-1.5e3,"x":tru [TRUNCATED]"#,
            r#"{"a\"b":1, [TRUNCATED]"#,
            r#"["statusCode", [TRUNCATED]"#,
            r#"{"statusCode":01}"#,
            r#"{"a\"b":1}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"raw\u{1}control\"}",
            "{\"a\":\"raw\nnewline\"}",
            "[1,2]",
            "\"str\"",
            "null",
            "\u{a0}{}",
            &deep,
        ] {
            assert_eq!(
                proxy_response_problems_escaped(&escaped(body)),
                None,
                "{body}"
            );
        }
    }

    mod escaped_reader {
        use super::*;
        use proptest::prelude::*;
        use serde_json::Value;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("statusCode".to_owned()),
                Just("body".to_owned()),
                Just("headers".to_owned()),
                Just("multiValueHeaders".to_owned()),
                Just("isBase64Encoded".to_owned()),
                "[a-zé\"\\\\]{0,4}",
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "[ -~é☕\u{1}\n\"\\\\\u{2028}\u{1F600}]{0,8}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    proptest::collection::vec((key(), inner), 0..5)
                        .prop_map(|members| Value::Object(members.into_iter().collect())),
                ]
            })
        }

        /// An object's text with possibly repeated keys, then perhaps damaged by one inserted or removed character.
        fn body() -> impl Strategy<Value = String> {
            (
                proptest::collection::vec((key(), value()), 0..6),
                any::<bool>(),
                any::<prop::sample::Index>(),
                prop_oneof![
                    Just(None),
                    "[{}\\[\\],:\"\\\\ 0-9a-z\n\u{1}]".prop_map(Some)
                ],
                prop_oneof![Just(None), any::<prop::sample::Index>().prop_map(Some)],
            )
                .prop_map(|(members, pretty, at, insert, cut)| {
                    let separator = if pretty { ",\n  " } else { "," };
                    let mut text = format!(
                        "{{{}}}",
                        members
                            .iter()
                            .map(|(k, v)| format!(
                                "{}:{}",
                                serde_json::to_string(k).unwrap(),
                                serde_json::to_string(v).unwrap()
                            ))
                            .collect::<Vec<_>>()
                            .join(separator)
                    );
                    let boundaries: Vec<usize> = (0..=text.len())
                        .filter(|&i| text.is_char_boundary(i))
                        .collect();
                    let at = boundaries[at.index(boundaries.len())];
                    match insert {
                        Some(c) => text.insert_str(at, &c),
                        None if at < text.len() => {
                            text.remove(at);
                        }
                        None => {}
                    }
                    // Cut by the log limit, as API Gateway writes it.
                    if let Some(cut) = cut {
                        let boundaries: Vec<usize> = (0..=text.len())
                            .filter(|&i| text.is_char_boundary(i))
                            .collect();
                        text.truncate(boundaries[cut.index(boundaries.len())]);
                        text.push_str(" [TRUNCATED]");
                    }
                    text
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn never_disagrees_with_the_reference(body in body()) {
                if let Some(fast) = proxy_response_problems_escaped(&escaped(&body)) {
                    prop_assert_eq!(fast, proxy_response_problems(&body), "{}", body);
                }
            }

            #[test]
            fn answers_every_undamaged_object(members in proptest::collection::vec((key(), value()), 0..6)) {
                // A key with an escape is left to the reference by design.
                let members = members.into_iter().map(|(k, v)| (k.replace(['"', '\\'], ""), v));
                let body = serde_json::to_string(&members.collect::<serde_json::Map<_, _>>()).unwrap();
                let fast = proxy_response_problems_escaped(&escaped(&body));
                prop_assert_eq!(fast, Some(proxy_response_problems(&body)), "{}", body);
            }
        }
    }
}
