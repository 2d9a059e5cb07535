//! Requests → diagnoses → findings: the third stage, pure.
//!
//! In: reassembled [`crate::requests::Request`]s and where they came from ([`Origin`]). Out: a [`Diagnosis`] per
//! request (its [`Cause`] label, the status the client got, the evidence) and [`Findings`] ready to group into
//! alerts or to print.
//!
//! - [`mod@classify`]: request → [`Diagnosis`] with a [`Cause`] label; the catalogue's pitfalls as rules
//! - [`shape`]: what is wrong with a malformed Lambda proxy response, from its JSON shape
//! - [`service`]: what an AWS service integration answered (its error code) and what that says is wrong
//! - [`advice`]: cause → what it means and how to fix it
//! - [`redact`]: the one scrubber for text taken from log lines (secrets, personal data, control characters)
//! - [`finding`]: a diagnosis joined with its origin; the entry points [`find`], [`find_escaped`] and [`find_escaped_each`]
//!   (the hot path's, which hands on a [`Problem`] still borrowing the delivery, made a [`Finding`] only for a new alert)

pub mod advice;
pub mod classify;
pub mod finding;
pub mod redact;
pub mod service;
pub mod shape;

pub use classify::{Cause, Diagnosis, classify};
pub use finding::{Finding, Findings, Origin, Problem, find, find_escaped, find_escaped_each};
