//! apigw-doctor: tells why an Amazon API Gateway API answered 5xx, from its logs.
//!
//! A pure core with I/O at the edges:
//!
//! ```text
//! event bytes ─decode─► Batch ─reassemble─► [Request] ─classify─► [Diagnosis] ─► [Finding] ─► alerts
//!  (awslogs)    (pure)          (pure)                  (pure)                    (pure)
//! ```
//!
//! - [`decode`]: subscription delivery → [`decode::Batch`], typed [`decode::DecodeError`], inflate cap
//! - [`logline`]: `(request-id) message` and the text forms people paste
//! - [`signature`]: the table of real log sentences, matched at the start of each message
//! - [`request`]: reassembly of events into [`request::Request`]s
//! - [`access_log`]: access-log records (REST and HTTP APIs) into requests
//! - [`classify`]: request → [`classify::Diagnosis`] with a [`classify::Cause`] label
//! - [`shape`]: what is wrong with a malformed Lambda proxy response, from its shape
//! - [`advice`]: cause → explanation and fix
//! - [`finding`]: a diagnosis with its origin (account, log group, API, stage)
//! - [`input`]: the inputs the CLI accepts

pub mod access_log;
pub mod advice;
pub mod classify;
pub mod decode;
pub mod finding;
pub mod input;
pub mod logline;
pub mod request;
pub mod shape;
pub mod signature;
