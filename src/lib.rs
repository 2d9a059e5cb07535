//! apigw-doctor: tells why an Amazon API Gateway API answered 5xx, from its logs, heals the one cause that can
//! be healed safely, and alerts through SNS.
//!
//! A pure core with I/O at the edges. Every import points down this flow:
//!
//! ```text
//!  bytes ─ingest─► Batch ─requests─► [Request] ─diagnose─► [Finding] ─alert─► [Alert] ─┬─ remediate ─► Lambda/API Gateway
//! (awslogs,        (pure)            (pure)               (pure)       (pure)          ├─ suppress ──► DynamoDB
//!  Kinesis)                                                                            └─ publish ───► SNS
//!                                         lambda: the order of steps, config, metrics ◄─┘
//! ```
//!
//! - [`signature`]: the catalogue of real log sentences (the ground: reassembly and classification read it)
//! - [`aws_error`]: an AWS SDK error in one line: what was asked, what AWS answered, the likely fix
//! - [`ingest`]: bytes → events: envelope, base64, capped inflate, the JSON scanner, Kinesis records
//! - [`requests`]: events → [`requests::Request`]: reassembly, log-line prefixes and pasted forms, access logs
//! - [`diagnose`]: requests → [`diagnose::Diagnosis`] and [`diagnose::Finding`]: classify, shape, advice
//! - [`alert`]: findings → one [`alert::Alert`] per distinct problem (fingerprint)
//! - [`remediate`]: the guarded fix for a missing invoke permission: pure planner + AWS adapters
//! - [`suppress`]: noise control across invocations: pure state machine + DynamoDB adapter
//! - [`subscribe`]: keeps API Gateway's log groups subscribed (discovery): pure decisions + CloudWatch Logs adapter
//! - [`publish`]: alerts, reports and notices → SNS messages (email, Chatbot, machine JSON) + the SNS adapter
//! - [`audit`]: read-only checks of an API's configuration (invoke permissions, functions, timeouts)
//! - [`lambda`]: the edges: the handler (order of steps), config, metrics, the SDK set-up
//! - [`input`]: what the CLI accepts (files, pastes, saved events), above the pure stages
//! - [`report`]: what `diagnose` prints for one input (text or JSON lines), the findings printed as they come
//! - [`fetch`]: the CLI's live reader: a log group's failing requests from CloudWatch Logs, on demand

pub mod alert;
pub mod audit;
pub mod aws_error;
pub mod diagnose;
pub mod fetch;
pub mod ingest;
pub mod input;
pub mod lambda;
pub mod publish;
pub mod remediate;
pub mod report;
pub mod requests;
pub mod signature;
pub mod subscribe;
pub mod suppress;
