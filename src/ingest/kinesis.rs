//! Organisation-wide fan-in: a Kinesis event whose records each carry one CloudWatch Logs payload, as a
//! CloudWatch Logs destination writes it (the gzip'd subscription JSON, base64-encoded by Lambda in `data`).
//!
//! Read leniently, record by record: one record that cannot be decoded must fail alone (it goes into
//! `batchItemFailures`), so the envelope keeps `data` as text and decoding happens per record.

use std::borrow::Cow;

use serde::Deserialize;

/// The Kinesis event Lambda sends (only what we use).
#[derive(Debug, Deserialize)]
pub struct KinesisEvent<'a> {
    #[serde(rename = "Records", borrow)]
    pub records: Vec<KinesisRecord<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct KinesisRecord<'a> {
    #[serde(borrow)]
    pub kinesis: KinesisData<'a>,
    #[serde(rename = "eventSourceARN", borrow, default)]
    pub event_source_arn: Cow<'a, str>,
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisData<'a> {
    /// base64 of the gzip'd CloudWatch Logs JSON: exactly what `awslogs.data` holds.
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    /// The `itemIdentifier` of a batch item failure.
    #[serde(borrow)]
    pub sequence_number: Cow<'a, str>,
    #[serde(borrow, default)]
    pub partition_key: Cow<'a, str>,
}

/// What an invocation payload is, told from its top-level keys without decoding the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// `{"awslogs":{"data":...}}`: a subscription filter pointing at the function.
    Logs,
    /// `{"Records":[{"kinesis":...}]}`: an event source mapping on the fan-in stream.
    Kinesis,
    /// `{"apigw-doctor":"sweep"}`: the scheduled sweep that closes quiet problems.
    Sweep,
    /// A CloudFormation custom-resource request (`RequestType`, `ResponseURL`): the stack's own set-up.
    CustomResource,
    /// `{"approve":"<plan id>"}`: a person approved a planned fix (`REMEDIATION_MODE=approve`).
    Approval,
    Unknown,
}

pub fn payload_kind(payload: &[u8]) -> PayloadKind {
    #[derive(Deserialize)]
    struct Probe<'a> {
        awslogs: Option<serde::de::IgnoredAny>,
        #[serde(rename = "Records")]
        records: Option<serde::de::IgnoredAny>,
        #[serde(rename = "apigw-doctor", borrow)]
        apigw_doctor: Option<Cow<'a, str>>,
        #[serde(rename = "RequestType")]
        request_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "ResponseURL")]
        response_url: Option<serde::de::IgnoredAny>,
        approve: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe<'_>>(payload) {
        Ok(p) if p.awslogs.is_some() => PayloadKind::Logs,
        Ok(p) if p.records.is_some() => PayloadKind::Kinesis,
        Ok(p) if p.apigw_doctor.as_deref() == Some("sweep") => PayloadKind::Sweep,
        Ok(p) if p.request_type.is_some() && p.response_url.is_some() => {
            PayloadKind::CustomResource
        }
        Ok(p) if p.approve.is_some() => PayloadKind::Approval,
        _ => PayloadKind::Unknown,
    }
}

pub fn parse(payload: &[u8]) -> Result<KinesisEvent<'_>, serde_json::Error> {
    serde_json::from_slice(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_kinds_are_told_apart() {
        assert_eq!(
            payload_kind(br#"{"approve":"0123456789abcdef0123456789abcdef"}"#),
            PayloadKind::Approval
        );
        assert_eq!(
            payload_kind(br#"{"awslogs":{"data":"x"}}"#),
            PayloadKind::Logs
        );
        assert_eq!(
            payload_kind(br#"{"Records":[{"kinesis":{"data":"eA==","sequenceNumber":"1"}}]}"#),
            PayloadKind::Kinesis
        );
        assert_eq!(
            payload_kind(br#"{"apigw-doctor":"sweep"}"#),
            PayloadKind::Sweep
        );
        assert_eq!(
            payload_kind(br#"{"RequestType":"Create","ResponseURL":"https://x","StackId":"s"}"#),
            PayloadKind::CustomResource
        );
        assert_eq!(payload_kind(br#"{"hello":1}"#), PayloadKind::Unknown);
        assert_eq!(payload_kind(b"not json"), PayloadKind::Unknown);
    }

    #[test]
    fn records_keep_their_data_as_text() {
        let event = parse(
            br#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"p","sequenceNumber":"495","data":"!!not base64","approximateArrivalTimestamp":1.5},"eventSource":"aws:kinesis","eventID":"shardId-000000000000:495","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}"#,
        )
        .unwrap();
        assert_eq!(event.records.len(), 1);
        assert_eq!(event.records[0].kinesis.data, "!!not base64");
        assert_eq!(event.records[0].kinesis.sequence_number, "495");
    }
}
