//! Authlete's `action`: what an answer asks the gateway to do next. One enum for every API;
//! which API documents which action, and what the gateway answers for it, is the table in
//! `crate::actions`.

use std::fmt;

use serde::{Deserialize, Deserializer};

macro_rules! actions {
    ($($variant:ident = $name:literal,)*) => {
        /// An action, from Authlete's UPPER_CASE name.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Action {
            $($variant,)*
            /// A name no API of the gateway documents, kept for the log (it never reaches a
            /// client: the call fails as a server error).
            Unknown(String),
        }

        impl Action {
            /// Every action the gateway knows by name.
            pub const NAMES: &'static [&'static str] = &[$($name,)*];

            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => Action::$variant,)*
                    other => Action::Unknown(other.to_owned()),
                }
            }

            /// Authlete's name; `None` for an unknown action.
            pub fn name(&self) -> Option<&'static str> {
                match self {
                    $(Action::$variant => Some($name),)*
                    Action::Unknown(_) => None,
                }
            }
        }
    };
}

actions! {
    Ok = "OK",
    BadRequest = "BAD_REQUEST",
    Unauthorized = "UNAUTHORIZED",
    Forbidden = "FORBIDDEN",
    InternalServerError = "INTERNAL_SERVER_ERROR",
    UserIdentification = "USER_IDENTIFICATION",
    InvalidTicket = "INVALID_TICKET",
    InvalidClient = "INVALID_CLIENT",
    Password = "PASSWORD",
    TokenExchange = "TOKEN_EXCHANGE",
    JwtBearer = "JWT_BEARER",
    IdTokenReissuable = "ID_TOKEN_REISSUABLE",
    NativeSso = "NATIVE_SSO",
    Jwt = "JWT",
    Json = "JSON",
    Notification = "NOTIFICATION",
    NoAction = "NO_ACTION",
    ServerError = "SERVER_ERROR",
}

impl Action {
    /// The `action` label of `gateway_authlete_requests_total`: the name, or `unknown`.
    pub fn label(&self) -> &'static str {
        self.name().unwrap_or("unknown")
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Unknown(name) => f.write_str(name),
            known => f.write_str(known.label()),
        }
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|name| Action::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_anything_else_is_unknown() {
        for name in Action::NAMES {
            assert_eq!(Action::from_name(name).name(), Some(*name));
        }
        let odd = Action::from_name("ok");
        assert_eq!(odd, Action::Unknown("ok".into()));
        assert_eq!((odd.label(), odd.to_string()), ("unknown", "ok".into()));
    }
}
