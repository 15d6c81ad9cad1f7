//! Secret values: never printed by `Debug`, compared in constant time.

use std::fmt;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

/// A secret string. Its `Debug` prints `[redacted]`.
///
/// Deserializes from a TOML string, integer or boolean, so a numeric API key or service id
/// read from the environment stays a string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: call only where it is sent or compared.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with `other`.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(other).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Integer(i64),
            Bool(bool),
        }
        Ok(match Scalar::deserialize(deserializer)? {
            Scalar::Text(s) => Secret(s),
            Scalar::Integer(i) => Secret(i.to_string()),
            Scalar::Bool(b) => Secret(b.to_string()),
        })
    }
}

/// A list of secrets (decision keys, webhook secrets).
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct SecretList(pub Vec<Secret>);

impl fmt::Debug for SecretList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} redacted]", self.0.len())
    }
}
