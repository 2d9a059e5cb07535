//! Bytes → events: the first stage.
//!
//! In: what reaches the function (a CloudWatch Logs subscription delivery `{"awslogs":{"data":...}}`, or a Kinesis
//! event whose records each carry one). Out: the inflated JSON and a [`Batch`] / [`RawBatch`] borrowed from it, or
//! a [`DecodeError`] that names the step that failed.
//!
//! - [`batch`]: the two views of a delivery (unescaped [`Batch`], escaped-in-the-buffer [`RawBatch`])
//! - [`delivery`]: envelope, base64, capped inflate, parse; the entry point [`decode`]
//! - [`scan`]: a fast reader for CloudWatch Logs' own compact JSON layout (serde_json is the fallback)
//! - [`kinesis`]: the Kinesis fan-in event, read record by record

pub mod batch;
pub mod delivery;
pub mod kinesis;
pub mod scan;
mod string_ends;

pub use batch::{Batch, LogEvent, RawBatch, RawEvent, RawText, unescape};
pub use delivery::{
    DEFAULT_MAX_INFLATED_BYTES, DecodeError, MAX_EVENTS_PER_DELIVERY, base64_decode, decode,
    encode, encode_json, envelope_data, gunzip, gunzip_streaming, inflate, parse_batch,
    parse_raw_batch, parse_raw_batch_with_serde, plain_envelope, recycle,
};

/// `text` as it sits in a delivery: the content of a JSON string (what the escaped readers are given).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn escaped_for_tests(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}
