//! apigw-doctor: tells why an Amazon API Gateway API answered 5xx, from its logs.
//!
//! A pure core with I/O at the edges:
//!
//! ```text
//! event bytes ─decode─► Batch ─reassemble─► [Request] ─classify─► [Diagnosis] ─► [Finding] ─plan─► [Alert]
//!  (awslogs)    (pure)          (pure)                  (pure)                    (pure)   (pure)
//!                                                                                      render ─► Publisher (SNS)
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
//! - [`alert`]: grouping by fingerprint, rendering (email, Chatbot, machine JSON), the SNS adapter
//! - [`config`]: environment → validated settings, shared by the Lambda and the CLI
//! - [`metrics`]: Embedded Metric Format counters
//! - [`handler`]: the order of steps, shared by the Lambda and `apigw-doctor handle`
//! - [`aws`]: the SDK configuration (one TLS stack)

pub mod access_log;
pub mod advice;
pub mod alert;
pub mod aws;
pub mod classify;
pub mod config;
pub mod decode;
pub mod finding;
pub mod handler;
pub mod input;
pub mod kinesis;
pub mod logline;
pub mod metrics;
pub mod remediate;
pub mod request;
pub mod scan;
pub mod shape;
pub mod signature;
pub mod suppress;
pub mod synth;
