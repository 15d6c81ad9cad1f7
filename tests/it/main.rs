//! The integration tests: the gateway and the emulator on port 0, driven over real HTTP as a
//! client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod backchannel;
mod credentials;
mod emulator;
mod http_rules;
mod identification;
mod outbox;
mod support;
mod tls;
mod token;
mod upstream;
