//! The integration tests: the gateway on port 0, driven over real HTTP as a client would.

mod admin;
mod backchannel;
mod credentials;
mod http_rules;
mod identification;
mod support;
mod tls;
mod token;
mod upstream;
