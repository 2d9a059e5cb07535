//! What the CLI accepts, detected per input: a subscription delivery, a decoded `DATA_MESSAGE`, or pasted text.

use crate::decode::{self, DecodeError};
use crate::finding::{Finding, Origin, find, find_escaped};
use crate::logline::parse_text;

/// The kind of one input, as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `{"awslogs":{"data":"..."}}`
    Delivery,
    /// The decoded subscription JSON (`messageType`, `logEvents`, ...).
    DataMessage,
    /// Pasted log lines.
    Text,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("input is neither json nor utf-8 text")]
    NotText,
}

/// Settings for reading one input.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Print every request, not only problems.
    pub all: bool,
    /// Context for pasted text, which carries no log group of its own.
    pub log_group: Option<String>,
    pub max_inflated: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            all: false,
            log_group: None,
            max_inflated: decode::DEFAULT_MAX_INFLATED_BYTES,
        }
    }
}

/// Detects the kind of `bytes` without decoding it fully.
pub fn detect(bytes: &[u8]) -> InputKind {
    let head = bytes.trim_ascii_start();
    if !head.starts_with(b"{") {
        return InputKind::Text;
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        awslogs: Option<serde::de::IgnoredAny>,
        #[serde(rename = "messageType")]
        message_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "logEvents")]
        log_events: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(p) if p.awslogs.is_some() => InputKind::Delivery,
        Ok(p) if p.message_type.is_some() || p.log_events.is_some() => InputKind::DataMessage,
        _ => InputKind::Text,
    }
}

/// Diagnoses one input of any kind.
pub fn diagnose_input(bytes: &[u8], options: &ReadOptions) -> Result<Vec<Finding>, InputError> {
    match detect(bytes) {
        InputKind::Delivery => {
            let json = decode::decode(bytes, options.max_inflated)?;
            diagnose_json(&json, options)
        }
        InputKind::DataMessage => diagnose_json(bytes, options),
        InputKind::Text => {
            let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotText)?;
            let origin = Origin {
                log_group: options.log_group.clone(),
                ..Origin::default()
            };
            let events = parse_text(text);
            Ok(find(
                &origin,
                events.iter().map(|e| (None, e.message.as_str())),
                options.all,
            )
            .findings)
        }
    }
}

fn diagnose_json(json: &[u8], options: &ReadOptions) -> Result<Vec<Finding>, InputError> {
    // The same path as the Lambda: messages stay escaped in the buffer.
    let batch = decode::parse_raw_batch(json)?;
    let origin = Origin::new(&batch.owner, &batch.log_group, &batch.log_stream);
    Ok(find_escaped(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.escaped())),
        options.all,
    )
    .findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_tells_the_three_kinds_apart() {
        assert_eq!(detect(br#" {"awslogs":{"data":"x"}}"#), InputKind::Delivery);
        assert_eq!(
            detect(br#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#),
            InputKind::DataMessage
        );
        assert_eq!(
            detect(b"(a) Method completed with status: 500"),
            InputKind::Text
        );
        assert_eq!(
            detect(br#"{"status":"500","requestId":"x"}"#),
            InputKind::Text
        );
    }

    #[test]
    fn a_broken_delivery_is_an_error_not_text() {
        let err =
            diagnose_input(br#"{"awslogs":{"data":"!!"}}"#, &ReadOptions::default()).unwrap_err();
        assert!(matches!(
            err,
            InputError::Decode(DecodeError::Base64 { .. })
        ));
    }
}
