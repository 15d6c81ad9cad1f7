//! The one reading of the `Authorization` header (RFC 9110 §11.6.2): exactly one header, split
//! into its scheme and its credentials. Each caller judges the scheme and answers a refusal its
//! own way (401 `invalid_client`, 400 `invalid_request`, 401 `invalid_token`, ...).

use actix_web::http::header::{self, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::form::decode_component;

/// One `Authorization` header, split at its first space, both parts trimmed; `credentials` is
/// empty when the value is a bare scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub scheme: &'a str,
    pub credentials: &'a str,
}

/// Why the header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationError {
    /// More than one `Authorization` header: which one counts would be a guess.
    Repeated,
    /// A value that is not visible ASCII.
    Malformed,
}

/// The request's only `Authorization` header, if it sent one.
pub fn authorization(headers: &HeaderMap) -> Result<Option<Authorization<'_>>, AuthorizationError> {
    let mut values = headers.get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthorizationError::Repeated);
    }
    let value = value
        .to_str()
        .map_err(|_| AuthorizationError::Malformed)?
        .trim();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    Ok(Some(Authorization {
        scheme,
        credentials: credentials.trim(),
    }))
}

impl Authorization<'_> {
    /// True when the scheme is `scheme`, compared case-insensitively as schemes are.
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The id and secret of `Basic` credentials, each form-decoded (RFC 6749 §2.3.1); `None`
    /// unless the credentials are base64 of UTF-8 `id:secret` with valid escapes. The caller
    /// checks the scheme.
    pub fn basic_pair(&self) -> Option<(String, String)> {
        let decoded = String::from_utf8(STANDARD.decode(self.credentials).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        Some((decode_component(id).ok()?, decode_component(secret).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(values: &[&'static [u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            let value = HeaderValue::from_bytes(value).unwrap_or(HeaderValue::from_static(""));
            map.append(header::AUTHORIZATION, value);
        }
        map
    }

    fn read(values: &[&'static [u8]]) -> Result<Option<(String, String)>, AuthorizationError> {
        let map = headers(values);
        let found = authorization(&map)?;
        Ok(found.map(|a| (a.scheme.to_owned(), a.credentials.to_owned())))
    }

    #[test]
    fn exactly_one_header_splits_into_scheme_and_credentials() {
        let pair = |s: &str, c: &str| Ok(Some((s.to_owned(), c.to_owned())));
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[b"Bearer  abc "]), pair("Bearer", "abc"));
        assert_eq!(read(&[b"Basic"]), pair("Basic", ""));
        assert_eq!(read(&[b"a", b"b"]), Err(AuthorizationError::Repeated));
        assert_eq!(read(&[b"Bearer \xff"]), Err(AuthorizationError::Malformed));
    }

    #[test]
    fn basic_credentials_are_base64_then_form_decoded() {
        let basic = |credentials| Authorization {
            scheme: "basic",
            credentials,
        };
        // "a+b%21:s%3As" → id "a b!", secret "s:s".
        assert_eq!(
            basic("YStiJTIxOnMlM0Fz").basic_pair(),
            Some(("a b!".into(), "s:s".into()))
        );
        assert!(basic("YStiJTIxOnMlM0Fz").is("BASIC"));
        assert_eq!(basic("bm9jb2xvbg==").basic_pair(), None, "no colon");
        assert_eq!(basic("!!").basic_pair(), None, "not base64");
        assert_eq!(basic("YSUyOmI=").basic_pair(), None, "bad escape");
    }
}
