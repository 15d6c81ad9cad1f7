//! A CIBA request's token delivery mode (CIBA §5). Lower case wherever the gateway writes it —
//! decision tokens (SPEC §5.1), device webhook messages — as CIBA spells it; Authlete's
//! upper-case `POLL`, `PING`, `PUSH` are mapped where its answers are read (`authlete::dto`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    Poll,
    Ping,
    Push,
}

impl DeliveryMode {
    /// Authlete's `deliveryMode`, whatever its case; `None` for a mode CIBA does not define.
    pub fn from_authlete(name: &str) -> Option<Self> {
        [Self::Poll, Self::Ping, Self::Push]
            .into_iter()
            .find(|mode| name.eq_ignore_ascii_case(mode.as_str()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Ping => "ping",
            Self::Push => "push",
        }
    }

    /// Ping and push clients hear of the outcome from the gateway's notification, so their
    /// requests are ended at the deadline and their decisions hold a notification queue place;
    /// poll clients ask.
    pub fn notifies(self) -> bool {
        matches!(self, Self::Ping | Self::Push)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authletes_names_map_to_the_lower_case_wire_form() {
        for (authlete, mode) in [
            ("POLL", DeliveryMode::Poll),
            ("PING", DeliveryMode::Ping),
            ("PUSH", DeliveryMode::Push),
        ] {
            assert_eq!(DeliveryMode::from_authlete(authlete), Some(mode));
            let wire = serde_json::to_string(&mode).unwrap_or_default();
            assert_eq!(wire, format!("\"{}\"", authlete.to_ascii_lowercase()));
        }
        assert_eq!(DeliveryMode::from_authlete("FAX"), None);
    }
}
