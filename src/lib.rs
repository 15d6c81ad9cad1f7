//! authlete-gateway: an OpenID CIBA authorization server in front of Authlete.

pub mod clock;
pub mod config;
pub mod emulator;
