//! Alerts, remediation reports and notices → SNS messages: the stage that speaks to people and machines.
//!
//! In: an [`crate::alert::Alert`] with what self-healing did ([`crate::remediate::Report`]) and what noise control
//! decided ([`crate::suppress::Notice`]), or a stored [`crate::suppress::State`] for digests and resolved notices.
//! Out: one [`render::Message`] (subject, a body per protocol, attributes), published through a
//! [`sns::Publisher`].
//!
//! - [`fix`]: the cause's fix with the known function, API, route and account filled in
//! - [`render`]: the email text, the Chatbot custom notification, the machine JSON, the attributes
//! - [`sns`]: the publishing port and its SNS adapter

pub mod fix;
pub mod render;
pub mod sns;
