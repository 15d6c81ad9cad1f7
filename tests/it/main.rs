//! The integration-test binary: each module drives the product through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod emulator;
