#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| apigw_doctor_fuzz::decode(data));
