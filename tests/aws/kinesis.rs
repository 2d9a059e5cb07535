//! Organisation-wide fan-in over the wire: the sample deliveries written into a Kinesis stream on moto, read back
//! with GetRecords, turned into the event Lambda's event source mapping sends, handled by the library publishing
//! to SNS on moto. The corrupt record, and only it, comes back in `batchItemFailures`.

use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{Response, handle_payload};
use apigw_doctor::publish::sns::SnsPublisher;
use apigw_doctor::remediate::Disabled;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Topic, event, sdk, unique};

/// The four payloads of events/kinesis-fan-in.json: what CloudWatch Logs destinations write into the stream.
fn sample_payloads() -> Vec<(String, Vec<u8>)> {
    let sample: Value = serde_json::from_slice(&event("kinesis-fan-in")).unwrap();
    sample["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let data = base64::engine::general_purpose::STANDARD
                .decode(r["kinesis"]["data"].as_str().unwrap())
                .unwrap();
            (
                r["kinesis"]["partitionKey"].as_str().unwrap().to_owned(),
                data,
            )
        })
        .collect()
}

/// Writes the payloads into a new stream on moto and reads them back as Lambda's Kinesis event.
async fn kinesis_event_from_moto(sdk: &aws_config::SdkConfig) -> (Value, Vec<String>) {
    let kinesis = aws_sdk_kinesis::Client::new(sdk);
    let name = unique("fan-in");
    kinesis
        .create_stream()
        .stream_name(&name)
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let description = kinesis
        .describe_stream()
        .stream_name(&name)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    let stream_arn = description.stream_arn;
    let shard_id = description.shards[0].shard_id.clone();
    let mut written = Vec::new();
    for (key, data) in sample_payloads() {
        let put = kinesis
            .put_record()
            .stream_name(&name)
            .partition_key(key)
            .data(Blob::new(data))
            .send()
            .await
            .unwrap();
        written.push(put.sequence_number);
    }
    let iterator = kinesis
        .get_shard_iterator()
        .stream_name(&name)
        .shard_id(&shard_id)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let records = kinesis
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .unwrap()
        .records;
    assert_eq!(records.len(), 4);
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(r.data.as_ref()),
                    "approximateArrivalTimestamp": 1_732_440_000.0,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{shard_id}:{}", r.sequence_number),
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "eventSourceARN": stream_arn,
            })
        })
        .collect();
    (json!({ "Records": records }), written)
}

#[tokio::test]
#[ignore = "needs moto's server: run scripts/test.sh"]
async fn a_kinesis_batch_alerts_for_every_good_record_and_reports_only_the_corrupt_one() {
    let sdk = sdk().await;
    let topic = Topic::create(&sdk).await;
    let queue = topic.subscribe(&sdk, true, None).await;
    let (event, sequence_numbers) = kinesis_event_from_moto(&sdk).await;
    let payload = serde_json::to_vec(&event).unwrap();

    let mut metrics = Metrics::default();
    let response = handle_payload(
        &payload,
        &Config::default(),
        &SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), &topic.arn),
        &Disabled,
        &mut metrics,
    )
    .await
    .unwrap();

    // What Lambda reads back: exactly the third record (cut short in transit), by moto's sequence number.
    let Response::Kinesis(response) = response else {
        panic!("a Kinesis event gets a partial batch response");
    };
    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(
        wire,
        json!({ "batchItemFailures": [{ "itemIdentifier": sequence_numbers[2] }] })
    );
    assert_eq!(metrics.records_failed, 1);
    assert_eq!(metrics.decode_failures, 1);
    assert_eq!(metrics.control_messages, 1);

    // The alerts of both sender accounts went out, each naming its own account.
    let mut got: Vec<(String, String, String)> = topic
        .drain(&queue)
        .await
        .iter()
        .map(|(body, _)| {
            let alert: Value = serde_json::from_str(body).unwrap();
            (
                alert["account"].as_str().unwrap().to_owned(),
                alert["cause"].as_str().unwrap().to_owned(),
                // An access-log group nobody mapped names no API (its records' `apiId` is request text).
                alert["api_source"].as_str().unwrap_or("none").to_owned(),
            )
        })
        .collect();
    got.sort();
    let expected: Vec<(String, String, String)> = [
        ("111122223333", "function_timeout", "log_group"),
        (
            "444455556666",
            "authorizer_missing_invoke_permission",
            "none",
        ),
        ("444455556666", "function_error", "none"),
        ("444455556666", "function_timeout", "none"),
        ("444455556666", "missing_invoke_permission", "none"),
    ]
    .iter()
    .map(|(a, c, s)| ((*a).to_owned(), (*c).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(got, expected);
}
