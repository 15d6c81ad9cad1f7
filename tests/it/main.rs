//! The integration tests: the gateway and the emulator on port 0, driven over real HTTP as a
//! client would.
// clippy.toml's allow-unwrap-in-tests covers only `#[test]` functions and `#[cfg(test)]`
// modules; the helpers of an integration-test crate are neither, so the crate allows it here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod admin_guard;
mod architecture;
mod backchannel;
mod browser;
mod cli;
mod credentials;
mod deadline;
mod decisions;
mod delivery;
mod device;
mod device_payload;
mod directory;
mod dpop;
mod emulator;
mod exported;
mod faults;
mod forwarded;
mod http_rules;
mod identification;
mod introspection;
mod long_polling;
mod metadata;
mod openapi;
mod outbox;
mod outbox_crash;
mod polling;
mod prometheus;
mod resource;
mod shared_deadlines;
mod shared_guards;
mod shared_outbox;
mod shared_polling;
mod shared_registry;
mod shutdown;
mod signed_requests;
mod spans;
mod state;
mod state_acl;
mod state_cluster;
mod state_link;
mod state_outbox;
mod support;
mod tls;
mod token;
mod tracing;
mod userinfo;
mod webhook;
