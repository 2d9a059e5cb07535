//! What a subscription delivery holds, in the two views the rest of the crate reads: [`Batch`] (strings
//! unescaped where needed; the CLI, tests and samples) and [`RawBatch`] (messages left escaped in the inflated
//! buffer; the hot path). Both [`super::delivery`] (through serde) and [`super::scan`] produce them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One decoded delivery. Strings borrow from the inflated JSON buffer where they carry no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One CloudWatch Logs event: one API Gateway log entry, which may span several physical lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent<'a> {
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    #[serde(default)]
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// A JSON string exactly as the delivery holds it: borrowed, still escaped, never copied. The hot path works on
/// this form (every signature starts with plain ASCII that JSON never escapes) and unescapes only what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawText<'a>(&'a str);

impl<'a> RawText<'a> {
    /// A string's content between its quotes, as [`super::scan`] found it.
    pub(crate) fn from_escaped(escaped: &'a str) -> Self {
        RawText(escaped)
    }

    /// The string's content between its quotes, escapes included.
    pub fn escaped(&self) -> &'a str {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // serde_json's RawValue borrows the value's text from the input, escapes and all.
        let raw = <&'a serde_json::value::RawValue>::deserialize(deserializer)?.get();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => Ok(RawText(inner)),
            None => Err(D::Error::custom("expected a string")),
        }
    }
}

/// The JSON unescaping of `escaped` (borrowed when there is nothing to unescape).
pub fn unescape(escaped: &str) -> Cow<'_, str> {
    if !escaped.contains('\\') {
        return Cow::Borrowed(escaped);
    }
    match serde_json::from_str::<String>(&format!("\"{escaped}\"")) {
        Ok(text) => Cow::Owned(text),
        // Validated when the delivery was parsed; keep the raw text rather than lose it.
        Err(_) => Cow::Borrowed(escaped),
    }
}

/// The hot path's view of a delivery: like [`Batch`], with messages left escaped in the buffer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBatch<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_events: Vec<RawEvent<'a>>,
}

/// One event of a [`RawBatch`].
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    #[serde(default)]
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: RawText<'a>,
}

impl RawBatch<'_> {
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

impl Batch<'_> {
    /// CloudWatch Logs sends `CONTROL_MESSAGE` batches to check the destination is reachable.
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}
