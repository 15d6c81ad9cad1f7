//! Request headers that may appear at most once, read strictly: a repeated one is refused
//! rather than silently reduced to its first value.

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;

use crate::error::GatewayError;

/// The value of a header that may appear at most once.
pub fn single_header(req: &HttpRequest, name: &str) -> Result<Option<String>, GatewayError> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| GatewayError::InvalidRequest("bad header name"))?;
    let mut values = req.headers().get_all(&name);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(GatewayError::InvalidRequest(
            "a header appears more than once",
        ));
    }
    let text = first
        .to_str()
        .map_err(|_| GatewayError::InvalidRequest("a header is not visible ASCII"))?;
    Ok(Some(text.to_owned()))
}

/// The `DPoP` proof: at most one header, holding one value.
pub fn dpop(req: &HttpRequest) -> Result<Option<String>, GatewayError> {
    let mut values = req.headers().get_all("dpop");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(GatewayError::InvalidDpopProof);
    }
    let text = first.to_str().map_err(|_| GatewayError::InvalidDpopProof)?;
    if text.contains(',') || text.trim().is_empty() {
        return Err(GatewayError::InvalidDpopProof);
    }
    Ok(Some(text.trim().to_owned()))
}
