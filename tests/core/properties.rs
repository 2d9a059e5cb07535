//! Arbitrary bytes and strings into decode and the text parser never panic.

use apigw_doctor::ingest;
use apigw_doctor::input::{ReadOptions, diagnose_input};
use apigw_doctor::requests::logline::parse_text;
use apigw_doctor::requests::reassemble;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ingest::decode(&bytes, 1 << 16);
        let _ = ingest::gunzip(&bytes, 1 << 16);
        let _ = ingest::parse_batch(&bytes);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_awslogs_data(data in ".{0,256}") {
        let event = serde_json::json!({"awslogs": {"data": data}}).to_string();
        prop_assert!(ingest::decode(event.as_bytes(), 1 << 16).is_err());
    }

    #[test]
    fn text_parser_and_engine_never_panic_on_arbitrary_strings(text in "(?s).{0,600}") {
        let events = parse_text(&text);
        let _ = reassemble(events.iter().map(|e| (None, e.message.as_str())));
        let _ = diagnose_input(text.as_bytes(), &ReadOptions::default());
    }

    #[test]
    fn engine_never_panics_on_log_shaped_strings(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("(r) Method completed with status: ".to_owned()),
                Just("(r) Endpoint response body before transformations: ".to_owned()),
                Just("(r) Endpoint response headers: {".to_owned()),
                Just("(r) Lambda execution failed with status 200 due to customer function error: ".to_owned()),
                Just("(r) HTTP Method: ".to_owned()),
                Just("(r) Starting authorizer: ".to_owned()),
                Just("Wed Nov 02 10:19:35 UTC 2022 : ".to_owned()),
                Just("{\"status\":".to_owned()),
            ].prop_flat_map(|head| ".{0,80}".prop_map(move |tail| format!("{head}{tail}"))),
            0..20,
        )
    ) {
        let text = lines.join("\n");
        let _ = diagnose_input(text.as_bytes(), &ReadOptions { all: true, ..ReadOptions::default() });
    }
}
