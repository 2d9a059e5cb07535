//! Tests over the real wire: the AWS SDK against moto's server, and the compiled `bootstrap` driven through
//! cargo-lambda's Lambda Runtime API emulator. `scripts/test.sh` starts moto on 127.0.0.1, exports
//! `AWS_ENDPOINT_URL` and dummy credentials, and runs these with `--include-ignored`; a plain `cargo test` skips
//! them (they are `#[ignore]`d) rather than failing for want of a server.

// Tests panic on purpose: an unwrap failing is a test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod discovery;
mod kinesis;
mod lambda_e2e;
mod live;
mod organisation;
mod remediate;
mod sns;
mod support;
mod suppression;
mod v2;
