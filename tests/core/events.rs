//! Every sample event in events/ decodes to its readable twin in events/decoded/.

use apigw_doctor::ingest;
use serde_json::Value;

use crate::repo_path;

#[test]
fn every_sample_event_decodes_to_its_twin() {
    let mut checked = 0;
    for entry in std::fs::read_dir(repo_path("events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "kinesis-fan-in.json" {
            continue; // a batch of deliveries: its own test below
        }
        let twin: Value = serde_json::from_slice(
            &std::fs::read(repo_path(&format!("events/decoded/{name}"))).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}: twin: {e}"));
        let wire = std::fs::read(&path).unwrap();
        match twin.get("expected_error").and_then(Value::as_str) {
            Some(kind) => {
                let err = ingest::decode(&wire, ingest::DEFAULT_MAX_INFLATED_BYTES).unwrap_err();
                assert_eq!(err.kind(), kind, "{name}");
            }
            None => {
                let json = ingest::decode(&wire, ingest::DEFAULT_MAX_INFLATED_BYTES)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let decoded: Value = serde_json::from_slice(&json).unwrap();
                assert_eq!(decoded, twin, "{name} differs from its twin");
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} events");
}

#[test]
fn kinesis_sample_records_decode_to_their_twins_but_the_corrupt_one() {
    let wire = std::fs::read(repo_path("events/kinesis-fan-in.json")).unwrap();
    let twin: Value = serde_json::from_slice(
        &std::fs::read(repo_path("events/decoded/kinesis-fan-in.json")).unwrap(),
    )
    .unwrap();
    let event = apigw_doctor::ingest::kinesis::parse(&wire).unwrap();
    assert_eq!(event.records.len(), 4);
    let mut failed = Vec::new();
    for (record, expected) in event
        .records
        .iter()
        .zip(twin["records"].as_array().unwrap())
    {
        match ingest::inflate(&record.kinesis.data, ingest::DEFAULT_MAX_INFLATED_BYTES) {
            Ok(json) => {
                let decoded: Value = serde_json::from_slice(&json).unwrap();
                assert_eq!(&decoded, expected);
            }
            Err(error) => {
                assert_eq!(error.kind(), "gzip");
                failed.push(Value::from(record.kinesis.sequence_number.as_ref()));
            }
        }
    }
    assert_eq!(Value::from(failed), twin["expected_batch_item_failures"]);
}

#[test]
fn control_message_is_an_empty_batch() {
    let wire = std::fs::read(repo_path("events/control-message.json")).unwrap();
    let json = ingest::decode(&wire, ingest::DEFAULT_MAX_INFLATED_BYTES).unwrap();
    let batch = ingest::parse_batch(&json).unwrap();
    assert!(batch.is_control_message());
    assert!(batch.log_events.is_empty());
}

#[test]
fn every_event_is_documented_in_the_events_readme() {
    let readme = std::fs::read_to_string(repo_path("events/README.md")).unwrap();
    for entry in std::fs::read_dir(repo_path("events")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} is not in events/README.md"
            );
        }
    }
}
