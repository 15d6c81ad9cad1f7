//! Logs and traces (SPEC §11, §13): the env_logger set-up with structured key-values, and the
//! W3C trace context that every request carries into its logs and outbound calls.

mod logs;
mod trace;

pub use logs::init;
pub(crate) use trace::with_current;
pub use trace::{current, scope, Scope, TraceContext, TRACEPARENT};
