//! Events → requests: the second stage.
//!
//! In: `(timestamp, message)` pairs, from a delivery (messages still JSON-escaped in its buffer) or from pasted
//! text. Out: one [`Request`] per request, with its final status, route, function, failure lines and context.
//!
//! - [`request`]: the [`Request`] type and how one execution-log line updates it
//! - [`mod@reassemble`]: grouping lines into requests; the entry points [`reassemble()`] and [`reassemble_escaped`]
//! - [`logline`]: the `(request-id)` prefix, and the text forms people paste
//! - [`paste`]: the wrappers people and tools put around pasted log lines, each taken off by a named reader
//! - [`access`]: access-log records (REST and HTTP APIs), read by field meaning

pub mod access;
pub mod logline;
pub mod paste;
pub mod reassemble;
pub mod request;

pub use reassemble::{reassemble, reassemble_escaped};
pub use request::{Request, Signal, Source};
