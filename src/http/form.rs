//! Form bodies (`application/x-www-form-urlencoded`), read and checked strictly before any
//! Authlete call: media type, charset, size, percent-encoding and UTF-8.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::error::GatewayError;

/// How long a client may take to send its whole body; the request head has its own timeout.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A form body that passed every check; `raw` is forwarded verbatim as `parameters`.
#[derive(Debug, Clone)]
pub struct FormBody {
    pub raw: String,
    pub pairs: Vec<(String, String)>,
}

impl FormBody {
    /// The values of every parameter called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` when it appears exactly once.
    pub fn single<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let mut values = self.all(name);
        let first = values.next()?;
        values.next().is_none().then_some(first)
    }
}

/// True when the request's `Content-Type` is a form, with no charset or UTF-8.
pub fn is_form(req: &HttpRequest) -> Result<bool, GatewayError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(false);
    };
    let value = value
        .to_str()
        .map_err(|_| GatewayError::InvalidRequest("malformed Content-Type"))?;
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Ok(false);
    }
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.trim().eq_ignore_ascii_case("charset") {
            let charset = value.trim().trim_matches('"');
            if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
                return Err(GatewayError::InvalidRequest("charset must be UTF-8"));
            }
        }
    }
    Ok(true)
}

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, GatewayError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(GatewayError::PayloadTooLarge);
    }
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|_| GatewayError::InvalidRequest("unreadable request body"))?;
            if body.len() + chunk.len() > limit {
                return Err(GatewayError::PayloadTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    actix_web::rt::time::timeout(BODY_READ_TIMEOUT, read)
        .await
        .map_err(|_| GatewayError::BodyTimeout)?
}

/// Reads and checks a form body.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<FormBody, GatewayError> {
    if !is_form(req)? {
        return Err(GatewayError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = read_limited(req, payload, limit).await?;
    parse_strict(body)
}

/// Reads a form body that must carry at least one parameter, as every OAuth request the
/// gateway forwards does. An empty one is the client's error (400 here); forwarded, Authlete
/// would take the missing `parameters` for the authorization server's own fault and answer
/// `INTERNAL_SERVER_ERROR`, a 500 to the client.
pub async fn read_parameters(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<FormBody, GatewayError> {
    let form = read_form(req, payload, limit).await?;
    if form.pairs.is_empty() {
        return Err(GatewayError::InvalidRequest(
            "the request has no parameters",
        ));
    }
    Ok(form)
}

/// Parses a form body, refusing bad percent-escapes and invalid UTF-8 (which
/// `form_urlencoded` would silently replace).
pub fn parse_strict(body: Vec<u8>) -> Result<FormBody, GatewayError> {
    let raw = String::from_utf8(body)
        .map_err(|_| GatewayError::InvalidRequest("the body is not valid UTF-8"))?;
    let mut pairs = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(FormBody { raw, pairs })
}

/// Decodes one form component: `+` is a space, `%XX` must be two hex digits, and the result
/// must be UTF-8.
pub fn decode_component(input: &str) -> Result<String, GatewayError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(GatewayError::InvalidRequest("bad percent-encoding"))?;
                out.push(hex);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| GatewayError::InvalidRequest("invalid UTF-8 in the body"))
}

#[cfg(test)]
mod tests {
    use actix_web::dev::Payload;
    use actix_web::test::TestRequest;
    use actix_web::FromRequest;
    use bytes::Bytes;

    use super::*;

    const FORM: &str = "application/x-www-form-urlencoded";

    fn with_type(content_type: &str) -> HttpRequest {
        TestRequest::post()
            .insert_header((header::CONTENT_TYPE, content_type))
            .to_http_request()
    }

    /// A form request whose body arrives in `chunks`, with `declared` as its Content-Length.
    async fn sent(
        chunks: &[&'static [u8]],
        declared: Option<usize>,
    ) -> (HttpRequest, web::Payload) {
        let mut req = TestRequest::post().insert_header((header::CONTENT_TYPE, FORM));
        if let Some(len) = declared {
            req = req.insert_header((header::CONTENT_LENGTH, len));
        }
        let req = req.to_http_request();
        let chunks: Vec<_> = chunks
            .iter()
            .map(|c| Ok::<_, actix_web::error::PayloadError>(Bytes::from_static(c)))
            .collect();
        let mut stream: Payload = Payload::Stream {
            payload: Box::pin(futures_util::stream::iter(chunks)),
        };
        let payload = web::Payload::from_request(&req, &mut stream).await.unwrap();
        (req, payload)
    }

    #[test]
    fn a_form_is_the_media_type_with_no_charset_or_utf_8() {
        let forms = [
            FORM,
            "Application/X-WWW-Form-Urlencoded",
            " application/x-www-form-urlencoded ; charset=UTF-8",
            "application/x-www-form-urlencoded; charset=\"utf-8\"",
            "application/x-www-form-urlencoded;charset=utf8",
            "application/x-www-form-urlencoded; boundary=x; q",
        ];
        for value in forms {
            assert!(is_form(&with_type(value)).unwrap(), "{value}");
        }
        for value in [
            "application/json",
            "application/x-www-form-urlencoded-x",
            "text/plain; charset=utf-8",
        ] {
            assert!(!is_form(&with_type(value)).unwrap(), "{value}");
        }
        assert!(!is_form(&TestRequest::post().to_http_request()).unwrap());
        for value in [
            "application/x-www-form-urlencoded; charset=latin1",
            "application/x-www-form-urlencoded; charset=",
        ] {
            assert!(is_form(&with_type(value)).is_err(), "{value}");
        }
        let not_text = TestRequest::post()
            .insert_header((
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; a=\u{e9}",
            ))
            .to_http_request();
        assert!(is_form(&not_text).is_err());
    }

    #[actix_web::test]
    async fn the_body_is_read_across_chunks_up_to_exactly_the_limit() {
        let (req, payload) = sent(&[b"a=1&b=2&c", b"=3"], None).await;
        assert_eq!(
            read_limited(&req, payload, 11).await.unwrap(),
            b"a=1&b=2&c=3"
        );
        let (req, payload) = sent(&[b"a=1&b=2&c", b"=3"], None).await;
        assert!(matches!(
            read_limited(&req, payload, 10).await,
            Err(GatewayError::PayloadTooLarge)
        ));
        // Refused from its declared length alone, before any byte is read.
        let (req, payload) = sent(&[], Some(12)).await;
        assert!(matches!(
            read_limited(&req, payload, 11).await,
            Err(GatewayError::PayloadTooLarge)
        ));
        let (req, payload) = sent(&[b"a=1"], Some(11)).await;
        assert_eq!(read_limited(&req, payload, 11).await.unwrap(), b"a=1");
    }

    #[actix_web::test]
    async fn a_form_is_read_and_parsed_and_anything_else_refused_unread() {
        let (req, payload) = sent(&[b"a=1&b=x+y"], None).await;
        let form = read_form(&req, payload, 100).await.unwrap();
        assert_eq!(form.raw, "a=1&b=x+y");
        assert_eq!(form.single("b"), Some("x y"));

        let req = with_type("application/json");
        let mut stream = Payload::None;
        let payload = web::Payload::from_request(&req, &mut stream).await.unwrap();
        assert!(matches!(
            read_form(&req, payload, 100).await,
            Err(GatewayError::InvalidRequest(
                "the body must be application/x-www-form-urlencoded"
            ))
        ));
    }

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(
            decode_component("a+b%2Fc%C3%A9").ok().as_deref(),
            Some("a b/cé")
        );
    }

    #[test]
    fn refuses_bad_escapes_and_invalid_utf8() {
        assert!(decode_component("%zz").is_err());
        assert!(decode_component("%4").is_err());
        assert!(decode_component("%ff").is_err());
        assert!(
            decode_component("%+1").is_err(),
            "a sign is not a hex digit"
        );
        assert!(parse_strict(vec![b'a', b'=', 0xff]).is_err());
    }

    #[test]
    fn single_refuses_repeated_parameters() {
        let form = parse_strict(b"a=1&a=2&b=3".to_vec()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(form.single("a"), None);
        assert_eq!(form.single("b"), Some("3"));
        assert_eq!(form.all("a").count(), 2);
    }
}
