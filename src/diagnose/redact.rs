//! One scrubber for every text taken from a log line into a finding (evidence, detail): what leaves the account
//! (alerts, machine JSON, DynamoDB items, the function's own log) carries no secret, no personal data and nothing
//! a terminal or a chat would act on. Request data in failure sentences is the usual source: a function's error
//! message quoting a token, `Illegal character in query` quoting the query string.
//!
//! Replaced: bearer and basic credentials, cookies, values of secret-looking keys as words or word endings
//! (`key=`, `DB_PASSWORD=`, `aws_secret_access_key =`, JSON `"password":"…"` also escaped, URL-encoded `%3D`),
//! JWTs (a lone segment too: a token split across lines), AWS access key ids, Luhn-valid card numbers, email
//! addresses (also `%40` and a fullwidth `＠`), phone numbers, US and UK national ids, long opaque tokens, IPv4 and
//! IPv6 addresses. Removed: control characters (ESC, BEL, NUL, ...; line breaks
//! and tabs stay) and bidirectional overrides. Neutralised: chat mentions (`<!channel>`, `<@U…>`, `@here`).

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use regex::{Regex, RegexSet};

/// (pattern, replacement), applied in order. Each pattern is linear-time (regex crate).
static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .filter_map(|(pattern, replacement)| Regex::new(pattern).ok().map(|r| (r, *replacement)))
        .collect()
});

/// All rules and [`OPAQUE`] in one automaton: one pass tells which rules can apply at all (most lines: none), so
/// a delivery of thousands of failing requests does not run seven searches over each evidence line.
static ANY_RULE: LazyLock<Option<RegexSet>> = LazyLock::new(|| {
    RegexSet::new(
        PATTERNS
            .iter()
            .map(|(pattern, _)| *pattern)
            .chain([OPAQUE_PATTERN, CARD_PATTERN]),
    )
    .ok()
});

static CARD: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(CARD_PATTERN).ok());

/// The Luhn check every card number passes (and most runs of digits do not).
fn luhn(digits: &str) -> bool {
    let digits: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

const OPAQUE_PATTERN: &str = r"[A-Za-z0-9_+/=.]{40,}";

/// Card numbers: 15 or 16 digits (Amex `3[47]`, Visa `4`, Mastercard `5[1-5]`/`2[2-7]`, Discover `6`), plain or in
/// groups of four (or 4-6-5) split by spaces or dashes; Luhn-checked below, so that ids and timestamps survive.
const CARD_PATTERN: &str =
    r"\b(?:3[47]\d{2}[ -]?\d{6}[ -]?\d{5}|(?:4\d|5[1-5]|2[2-7]|6\d)\d{2}(?:[ -]?\d{4}){3})\b";

const PATTERNS: [(&str, &str); 13] = [
    (r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+", "Bearer [redacted]"),
    (r"(?i)\bbasic\s+[A-Za-z0-9+/=]{4,}", "Basic [redacted]"),
    // A cookie's whole value (several `name=value;` pairs) up to the end of the header.
    (
        r#"(?i)\b((?:set-)?cookie)(\\?"?\s*[=:]\s*\\?"?)[^\n\r"\\]+"#,
        "$1$2[redacted]",
    ),
    // `key=value`, `key: value`, JSON `"key":"value"` (also JSON-escaped), URL-encoded `key%3Dvalue`.
    (
        concat!(
            r#"(?i)(^|[^A-Za-z0-9])("#,
            r"[A-Za-z0-9_.-]*(?:api[_-]?key|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?(?:access[_-]?)?key)?|private[_-]?key|token|password|passwd|pwd|passphrase|credentials?|signature|sig|session(?:[_-]?id)?|auth|authorization|key)",
            r#")(\\?"?\s*[=:]\s*\\?"?|%3[Dd])[^\s&,;"'}\]\\%]+"#
        ),
        "$1$2$3[redacted]",
    ),
    (r"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}", "[jwt]"),
    // AWS access key ids (long-term and temporary, and the other unique-id prefixes IAM uses).
    (
        r"\b(?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b",
        "[aws-key-id]",
    ),
    (
        r"[A-Za-z0-9._%+-]+(?:@|%40|＠)[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        "[email]",
    ),
    (
        r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
        "[ip]",
    ),
    (
        // Eight groups, or fewer around a `::`: three groups without one are a time of day (`02:24:48`).
        r"(?i)\b(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}(?::[0-9a-f]{1,4}){1,7})\b",
        "[ip]",
    ),
    // Phone numbers in international form, and North American `(415) 555-0123`.
    (
        r"\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}\b",
        "[phone]",
    ),
    (r"\(\d{3}\)\s?\d{3}[ .-]\d{4}\b", "[phone]"),
    // National ids: US social security numbers, UK national insurance numbers.
    (r"\b\d{3}-\d{2}-\d{4}\b", "[national-id]"),
    (
        r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        "[national-id]",
    ),
];

/// A run of token characters long enough to be a secret: checked for mixed case and digits below.
static OPAQUE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(OPAQUE_PATTERN).ok());

/// Short lines remembered with their scrubbed form: a delivery repeats the same evidence lines (`Method completed
/// with status: 502` on every failing request), and a lookup costs less than the rule pass. Bounded: at most
/// `MEMO_ENTRIES` lines of at most `MEMO_LINE_BYTES` each (under 200 KB), emptied when full.
const MEMO_ENTRIES: usize = 1024;
const MEMO_LINE_BYTES: usize = 96;

thread_local! {
    static MEMO: std::cell::RefCell<foldhash::HashMap<Box<str>, Box<str>>> = Default::default();
}

/// `text` with secrets and personal data replaced, control characters removed and chat mentions neutralised.
pub fn redact(text: &str) -> String {
    if text.len() > MEMO_LINE_BYTES {
        return scrub(text);
    }
    if let Some(known) = MEMO.with_borrow(|memo| memo.get(text).map(|s| String::from(&**s))) {
        return known;
    }
    let scrubbed = scrub(text);
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(text.into(), scrubbed.as_str().into());
    });
    scrubbed
}

/// Evidence lines scrubbed by [`redact`] when first read, not when found: a delivery of thousands of failing
/// requests alerts on a few of them, and only those lines are ever shown (the rest are counted). The raw lines are
/// private: every way to read them (deref, iteration, equality, `Debug`, serialisation) goes through the scrub.
#[derive(Clone, Default)]
pub struct RedactedLines {
    raw: Vec<String>,
    scrubbed: OnceLock<Vec<String>>,
}

impl RedactedLines {
    pub fn new(raw: Vec<String>) -> RedactedLines {
        RedactedLines {
            raw,
            scrubbed: OnceLock::new(),
        }
    }

    /// Lines that did not come from a log (an audit of the API's own configuration): shown as they are.
    pub fn from_configuration(lines: Vec<String>) -> RedactedLines {
        RedactedLines {
            raw: lines.clone(),
            scrubbed: OnceLock::from(lines),
        }
    }

    /// The lines, scrubbed (once).
    pub fn lines(&self) -> &[String] {
        self.scrubbed
            .get_or_init(|| self.raw.iter().map(|line| redact(line)).collect())
    }

    /// Whether there are no lines (scrubbing never removes a line, so this reads nothing).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }
}

impl std::ops::Deref for RedactedLines {
    type Target = [String];
    fn deref(&self) -> &[String] {
        self.lines()
    }
}

impl<'a> IntoIterator for &'a RedactedLines {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.lines().iter()
    }
}

impl PartialEq for RedactedLines {
    fn eq(&self, other: &Self) -> bool {
        self.lines() == other.lines()
    }
}

impl Eq for RedactedLines {}

impl std::fmt::Debug for RedactedLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lines()).finish()
    }
}

impl serde::Serialize for RedactedLines {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lines().serialize(serializer)
    }
}

fn scrub(text: &str) -> String {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    if out.chars().any(is_control) {
        out = Cow::Owned(out.chars().filter(|c| !is_control(*c)).collect());
    }
    // Which rules match the text as it is now (a replacement never makes a later rule match: they insert only
    // `[redacted]`-style markers). Without the set, every rule runs.
    let hits = ANY_RULE
        .as_ref()
        .filter(|_| RULES.len() == PATTERNS.len())
        .map(|set| set.matches(&out));
    let applies = |i: usize| hits.as_ref().is_none_or(|h| h.matched(i));
    for (i, (rule, replacement)) in RULES.iter().enumerate() {
        if !applies(i) {
            continue;
        }
        if let Cow::Owned(replaced) = rule.replace_all(&out, *replacement) {
            out = Cow::Owned(replaced);
        }
    }
    if let Some(opaque) = OPAQUE.as_ref().filter(|_| applies(PATTERNS.len())) {
        let replaced = opaque.replace_all(&out, |m: &regex::Captures<'_>| {
            let token = &m[0];
            let mixed = token.bytes().any(|b| b.is_ascii_uppercase())
                && token.bytes().any(|b| b.is_ascii_lowercase())
                && token.bytes().any(|b| b.is_ascii_digit());
            if mixed {
                "[token]".to_owned()
            } else {
                token.to_owned()
            }
        });
        if let Cow::Owned(replaced) = replaced {
            out = Cow::Owned(replaced);
        }
    }
    if let Some(card) = CARD.as_ref().filter(|_| applies(PATTERNS.len() + 1)) {
        let replaced = card.replace_all(&out, |m: &regex::Captures<'_>| {
            if luhn(&m[0]) {
                "[card]".to_owned()
            } else {
                m[0].to_owned()
            }
        });
        if let Cow::Owned(replaced) = replaced {
            out = Cow::Owned(replaced);
        }
    }
    neutralise_mentions(&out)
}

fn is_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t' || is_bidi_control(c)
}

/// Bidirectional overrides and isolates: they reorder what a terminal, an email or a chat shows ("Trojan
/// Source"), so a log line could make evidence read differently from what it says.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Chat markup that notifies people: Slack's `<!channel>`, `<!here>`, `<@U123>`, `<#C123>` and plain `@here`.
fn neutralise_mentions(text: &str) -> String {
    // Nearly every line: nothing to neutralise, and no searcher to build.
    if memchr::memchr2(b'<', b'@', text.as_bytes()).is_none() {
        return text.to_owned();
    }
    let mut out = text
        .replace("<!", "‹!")
        .replace("<@", "‹@")
        .replace("<#", "‹#");
    for word in ["@channel", "@here", "@everyone"] {
        let spaced = format!("@\u{200b}{}", &word[1..]);
        out = out.replace(word, &spaced);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazily_scrubbed_lines_never_show_the_raw_text() {
        let lines = RedactedLines::new(vec![
            "password=hunter2 rejected".to_owned(),
            "Method completed with status: 502".to_owned(),
        ]);
        assert_eq!(lines.len(), 2);
        assert!(!lines.is_empty());
        let shown = [
            format!("{lines:?}"),
            serde_json::to_string(&lines).unwrap(),
            lines.join("\n"),
            (&lines).into_iter().cloned().collect::<Vec<_>>().join("\n"),
            lines.clone().to_vec().join("\n"),
        ];
        for text in shown {
            assert!(
                !text.contains("hunter2") && text.contains("[redacted]"),
                "{text}"
            );
        }
        assert_eq!(
            lines,
            RedactedLines::from_configuration(vec![
                "password=[redacted] rejected".to_owned(),
                "Method completed with status: 502".to_owned(),
            ])
        );
    }

    #[test]
    fn a_remembered_line_scrubs_the_same_as_a_new_one() {
        for line in [
            "Method completed with status: 502",
            "token=abcdefghijklmnop then <!channel>",
            "user jane@example.com from 10.0.0.1",
        ] {
            let first = redact(line);
            assert_eq!(first, scrub(line));
            assert_eq!(redact(line), first, "{line}");
        }
        assert!(!redact("token=abcdefghijklmnop").contains("abcdefghijklmnop"));
    }

    /// Secrets as they reach execution logs inside failure sentences, and what must survive.
    const CASES: &[(&str, &str, &str)] = &[
        (
            "Lambda execution failed with status 200 due to customer function error: invalid Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
            "eyJhbGci",
            "customer function error",
        ),
        (
            "Execution failed due to configuration error: Illegal character in query at index 41: https://backend/orders?api_key=AKIAxyz123&token=s3cr3t&q=1",
            "s3cr3t",
            "Illegal character in query",
        ),
        (
            "customer function error: user jane.doe@example.com not found from 203.0.113.42",
            "jane.doe",
            "not found from [ip]",
        ),
        (
            "customer function error: password=hunter2 rejected; session: 9f8e7d6c",
            "hunter2",
            "rejected",
        ),
        (
            "customer function error: upstream 2001:db8::8a2e:370:7334 refused",
            "2001:db8",
            "refused",
        ),
        (
            "customer function error: opaque QmFzZTY0RW5jb2RlZFNlY3JldFRva2VuVmFsdWUxMjM0NTY3ODkw",
            "QmFzZTY0",
            "opaque [token]",
        ),
    ];

    #[test]
    fn secrets_and_personal_data_never_survive() {
        for (text, secret, kept) in CASES {
            let out = redact(text);
            assert!(!out.contains(secret), "{secret:?} survived: {out}");
            assert!(out.contains(kept), "{kept:?} lost: {out}");
        }
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), PATTERNS.len());
        assert!(ANY_RULE.is_some() && OPAQUE.is_some() && CARD.is_some());
    }

    /// The probe's secret shapes, each inside the kind of error line that carries it: (text, what must go).
    const SHAPES: &[(&str, &str)] = &[
        (
            "customer function error: connect failed DB_PASSWORD=hunter2",
            "hunter2",
        ),
        (
            "customer function error: secret_key=wJalrXUtnFEMIK7MDENG",
            "wJalrXUtnFEMIK7MDENG",
        ),
        (
            "error: aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
            "wJalrXUtnFEMI",
        ),
        (
            r#"error: body {"user":"a","password":"hunter2"}"#,
            "hunter2",
        ),
        (
            r#"error: body {\"user\":\"a\",\"password\":\"hunter2\"}"#,
            "hunter2",
        ),
        (
            "error: header Authorization: Basic dXNlcjpodW50ZXIy",
            "dXNlcjpodW50ZXIy",
        ),
        ("error: Cookie: session=abc123; theme=dark", "abc123"),
        (
            "error: Set-Cookie: sid=s3cr3tv4lu3; Path=/; HttpOnly",
            "s3cr3tv4lu3",
        ),
        (
            "Illegal character in query: /login?user=a&password%3Dhunter2",
            "hunter2",
        ),
        ("error: user jane.doe%40example.com not found", "jane.doe"),
        ("error: user jane.doe＠example.com not found", "jane.doe"),
        (
            "error: using AKIAIOSFODNN7EXAMPLE from env",
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "error: temporary ASIAY34FZKBOKMUTVV7A expired",
            "ASIAY34FZKBOKMUTVV7A",
        ),
        ("error: card 4111111111111111 declined", "4111111111111111"),
        (
            "error: card 4111 1111 1111 1111 declined",
            "4111 1111 1111 1111",
        ),
        (
            "error: card 3782-822463-10005 declined",
            "3782-822463-10005",
        ),
        ("error: call +1 415-555-0132 failed", "555-0132"),
        ("error: call +44 20 7946 0958 failed", "7946 0958"),
        ("error: call (415) 555-0132 failed", "555-0132"),
        ("error: ssn 078-05-1120 invalid", "078-05-1120"),
        ("error: nino AB 12 34 56 C invalid", "AB 12 34 56 C"),
        (
            "error: x-api-key: d41d8cd98f00b204e9800998ecf8427e",
            "d41d8cd98f",
        ),
        ("error: token eyJhbGciOiJIUzI1NiJ9.", "eyJhbGciOiJIUzI1NiJ9"),
        (
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
    ];

    #[test]
    fn every_secret_shape_is_scrubbed() {
        for (text, secret) in SHAPES {
            let out = redact(text);
            assert!(!out.contains(secret), "{secret:?} survived: {out}");
        }
    }

    #[test]
    fn ipv6_addresses_are_scrubbed_full_or_compressed() {
        for ip in [
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "2001:db8::8a2e:370:7334",
            "fe80::1",
        ] {
            assert_eq!(
                redact(&format!("from {ip} at 02:24:48")),
                "from [ip] at 02:24:48"
            );
        }
    }

    #[test]
    fn ids_arns_timestamps_statuses_and_durations_survive_the_new_rules() {
        let keep = [
            "(0b1c2d3e-0000-4000-8000-000000000039) Method completed with status: 500",
            "Received response. Status: 502, Integration latency: 15031 ms",
            "Lambda request id: 71952965-d5cc-4974-ae08-6e2138b2275c",
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders/*",
            "timestamp 1764000000000 and 2024-11-24T09:20:00.140Z, took 6.01 seconds",
            // A Logs Insights row's time of day (DataBiosphere/azul PR 6624) is no IPv6 address.
            "2024-06-13 02:24:48.874\tservice\t/index/bundles",
            "Endpoint response headers: {x-amzn-RequestId=5cb7ee58-39e6-11e9-be7e-29aff96747f2, X-Amz-Executed-Version=$LATEST}",
            "12345678-1234-1234-1234-123456789012",
            "AWS Integration Endpoint RequestId : 9f8e7d6c-1111-2222-3333-444455556666",
        ];
        for text in keep {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn what_people_need_survives() {
        let keep = [
            "Lambda execution failed with status 200 due to customer function error: 2019-02-27T11:31:11.456Z 71952965-d5cc-4974-ae08-6e2138b2275c Task timed out after 10.00 seconds. Lambda request id: 71952965-d5cc-4974-ae08-6e2138b2275c",
            "Execution failed due to configuration error: Invalid permissions on Lambda function",
            "Method completed with status: 502",
            "arn:aws:lambda:eu-west-2:123456789012:function:log-test-1-StartReceiptVerifyFunc-BEGOSV0XJRHI",
        ];
        for text in keep {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn terminals_and_chats_get_nothing_to_act_on() {
        let out = redact("error\u{1b}[2J\u{7}\u{0} <!channel> <@U024BE7LH> @here done\nnext");
        assert_eq!(
            out,
            "error[2J ‹!channel> ‹@U024BE7LH> @\u{200b}here done\nnext"
        );
    }
}
