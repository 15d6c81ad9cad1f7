//! The four CIBA APIs: `/backchannel/authentication` and its `issue`, `fail` and `complete`.

pub(crate) mod authentication;
pub(crate) mod complete;
pub(crate) mod fail;
pub(crate) mod issue;
