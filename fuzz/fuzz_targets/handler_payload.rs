#![no_main]

// The input is split on 0xFF bytes: the first part is the payload itself, and every part is also sent as one
// record of a Kinesis batch (gzip + base64), so that the fuzzer reaches both the raw and the decoded paths.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apigw_doctor_fuzz::handler_payload(data);
    let parts: Vec<&[u8]> = data.split(|b| *b == 0xff).collect();
    apigw_doctor_fuzz::handler_payload(&apigw_doctor_fuzz::kinesis_event(&parts));
});
