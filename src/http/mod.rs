//! The common HTTP rules of SPEC §3: request ids and access logs, form bodies, client
//! credentials, proxies, and the 404/405 answers.

pub mod authorization;
pub mod bearer;
pub mod callers;
pub mod client_cert;
pub mod cors;
pub mod credentials;
pub mod form;
pub mod headers;
pub mod host;
pub mod peer;
pub mod request_id;

pub use credentials::CredentialRules;
pub use form::FormBody;
pub use request_id::RequestId;
