//! Outgoing mail: composing messages from templates, the transport (SMTP or the .eml
//! outbox), and the worker that drains the durable queue.

pub mod compose;
pub mod render;
pub mod smtp;
pub mod transport;
pub mod worker;

pub use compose::Composer;
pub use transport::{SendError, Transport};
pub use worker::QueueWorker;
