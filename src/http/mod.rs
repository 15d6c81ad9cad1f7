//! The common HTTP rules of SPEC §3: request ids and access logs, form bodies, client
//! credentials, proxies, and the 404/405 answers.

pub mod bearer;
pub mod callers;
pub mod cors;
pub mod credentials;
pub mod form;
pub mod host;
pub mod middleware;
pub mod peer;

pub use credentials::{CertHeader, CredentialRules};
pub use form::FormBody;
pub use middleware::RequestId;
