#![no_main]

// Fields separated by newlines: integration URI, stage variables (`name=value;...`), the function's policy
// document, the allow-list pattern, method, resource path.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().unwrap_or("");
    let (uri, variables, policy, pattern, method, path) =
        (next(), next(), next(), next(), next(), next());
    let variables: Vec<(String, String)> = variables
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    apigw_doctor_fuzz::remediation_plan(uri, &variables, policy, pattern, method, path);
});
