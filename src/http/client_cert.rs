//! Client certificates forwarded by a trusted TLS-terminating proxy (SPEC §3, mTLS): RFC 9440
//! `Client-Cert` with `Client-Cert-Chain`, or nginx's URL-encoded PEM in `X-Ssl-Cert`.
//!
//! A header is an unauthenticated string until it parses: every certificate in it, leaf and
//! chain, must be exactly one well-formed X.509 certificate with nothing after it. Anything
//! else is the client's (or the proxy's) error and gets 400 here, before Authlete sees it.

use actix_web::HttpRequest;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};
use rustls_pki_types::pem::{PemObject, SectionKind};

use super::headers::single_header;
use crate::config::CertHeader;
use crate::error::GatewayError;

/// Standard base64, padded or not.
const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The leaf certificate and the rest of the chain, each as PEM.
pub type CertAndChain = (String, Vec<String>);

const MALFORMED_CERT: GatewayError =
    GatewayError::InvalidRequest("malformed client certificate header");

/// The certificate the proxy forwarded in `header`, or `None` when it sent none.
pub fn from_header(
    req: &HttpRequest,
    header: CertHeader,
) -> Result<Option<CertAndChain>, GatewayError> {
    match header {
        CertHeader::ClientCert => rfc9440(req),
        CertHeader::XSslCert => x_ssl_cert(req),
    }
}

/// RFC 9440: `Client-Cert: :<base64 DER>:` and `Client-Cert-Chain: :<b64>:, :<b64>:`.
fn rfc9440(req: &HttpRequest) -> Result<Option<CertAndChain>, GatewayError> {
    let Some(leaf) = single_header(req, "client-cert").map_err(|_| MALFORMED_CERT)? else {
        return Ok(None);
    };
    let leaf = sf_binary(&leaf)?;
    let mut chain = Vec::new();
    for value in req.headers().get_all("client-cert-chain") {
        let text = value.to_str().map_err(|_| MALFORMED_CERT)?;
        for item in text.split(',').filter(|s| !s.trim().is_empty()) {
            chain.push(pem(&sf_binary(item)?));
        }
    }
    Ok(Some((pem(&leaf), chain)))
}

/// One structured-field byte sequence holding a DER certificate.
fn sf_binary(item: &str) -> Result<Vec<u8>, GatewayError> {
    let inner = item
        .trim()
        .strip_prefix(':')
        .and_then(|s| s.strip_suffix(':'))
        .ok_or(MALFORMED_CERT)?;
    // RFC 8941 §4.2.7: parsers should not fail on missing `=` padding.
    let der = STANDARD_ANY_PADDING
        .decode(inner)
        .map_err(|_| MALFORMED_CERT)?;
    x509(der)
}

/// nginx's `X-Ssl-Cert`: URL-encoded PEM; empty or `(null)` means no certificate.
fn x_ssl_cert(req: &HttpRequest) -> Result<Option<CertAndChain>, GatewayError> {
    let Some(value) = single_header(req, "x-ssl-cert").map_err(|_| MALFORMED_CERT)? else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() || value == "(null)" {
        return Ok(None);
    }
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| MALFORMED_CERT)?;
    let mut pems = pem_certificates(decoded.as_bytes())?
        .into_iter()
        .map(|der| pem(&der));
    let leaf = pems.next().ok_or(MALFORMED_CERT)?;
    Ok(Some((leaf, pems.collect())))
}

const BEGIN_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END_CERT: &[u8] = b"-----END CERTIFICATE-----";

/// The DER of every `CERTIFICATE` section in `text`. Unlike a PEM reader, which skips what it
/// does not want, text outside the sections and sections of any other kind are refused: a
/// proxy that forwards them is misconfigured, and a skipped part could have been the
/// certificate meant.
fn pem_certificates(text: &[u8]) -> Result<Vec<Vec<u8>>, GatewayError> {
    let mut rest = text.trim_ascii_start();
    let mut ders = Vec::new();
    while !rest.is_empty() {
        if !rest.starts_with(BEGIN_CERT) {
            return Err(MALFORMED_CERT);
        }
        let end = rest
            .windows(END_CERT.len())
            .position(|window| window == END_CERT)
            .ok_or(MALFORMED_CERT)?
            + END_CERT.len();
        let (section, next) = rest.split_at(end);
        // Read as (kind, DER) so that another kind's section nested inside is refused, not
        // skipped.
        match <(SectionKind, Vec<u8>)>::from_pem_slice(section) {
            Ok((SectionKind::Certificate, der)) => ders.push(x509(der)?),
            _ => return Err(MALFORMED_CERT),
        }
        rest = next.trim_ascii_start();
    }
    Ok(ders)
}

/// `der` when it is exactly one X.509 certificate, trailing bytes refused.
fn x509(der: Vec<u8>) -> Result<Vec<u8>, GatewayError> {
    match x509_parser::parse_x509_certificate(&der) {
        Ok(([], _)) => Ok(der),
        _ => Err(MALFORMED_CERT),
    }
}

/// DER → PEM, as Authlete expects in `clientCertificate`.
pub fn pem(der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A fresh self-signed certificate (DER).
    pub(in crate::http) fn certificate() -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        rcgen::CertificateParams::new(vec!["client.example.com".to_owned()])
            .and_then(|p| p.self_signed(&key))
            .unwrap()
            .der()
            .to_vec()
    }

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = actix_web::test::TestRequest::post();
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    /// `der` as an RFC 8941 byte sequence, as `Client-Cert` carries it.
    pub(in crate::http) fn sf(der: &[u8]) -> String {
        format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    fn url_encoded(pems: &str) -> String {
        percent_encoding::utf8_percent_encode(pems, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    #[test]
    fn client_cert_gives_the_leaf_and_every_chain_item_in_order() {
        let (leaf, a, b) = (certificate(), certificate(), certificate());
        // Two Client-Cert-Chain fields, one with an empty member and unpadded base64.
        let unpadded = sf(&b).replace('=', "");
        let chain_one = format!("{}, ", sf(&a));
        let req = request(&[
            ("client-cert", &sf(&leaf)),
            ("client-cert-chain", &chain_one),
            ("client-cert-chain", &unpadded),
        ]);
        let read = from_header(&req, CertHeader::ClientCert).unwrap();
        assert_eq!(read, Some((pem(&leaf), vec![pem(&a), pem(&b)])));
        // The other header kind reads nothing from it.
        assert_eq!(from_header(&req, CertHeader::XSslCert).unwrap(), None);
    }

    #[test]
    fn client_cert_refuses_what_is_not_one_certificate_per_item() {
        let leaf = sf(&certificate());
        let two_leaves = [("client-cert", leaf.as_str()), ("client-cert", &leaf)];
        let no_colons = leaf.trim_matches(':').to_owned();
        let bad_chain = format!("{leaf}, :AAAA:");
        let cases: [&[(&str, &str)]; 5] = [
            &two_leaves,
            &[("client-cert", &no_colons)],
            &[("client-cert", ":not base64!:")],
            &[("client-cert", ":AAAA:")],
            &[("client-cert", &leaf), ("client-cert-chain", &bad_chain)],
        ];
        for headers in cases {
            let read = from_header(&request(headers), CertHeader::ClientCert);
            assert!(
                matches!(read, Err(GatewayError::InvalidRequest(_))),
                "{headers:?}"
            );
        }
        assert_eq!(
            from_header(&request(&[]), CertHeader::ClientCert).unwrap(),
            None
        );
    }

    #[test]
    fn x_ssl_cert_gives_the_leaf_then_the_chain_and_nothing_for_an_empty_value() {
        let (leaf, ca) = (certificate(), certificate());
        let value = url_encoded(&format!("{}{}", pem(&leaf), pem(&ca)));
        let read = from_header(&request(&[("x-ssl-cert", &value)]), CertHeader::XSslCert);
        assert_eq!(read.unwrap(), Some((pem(&leaf), vec![pem(&ca)])));
        for empty in ["", "  ", "(null)"] {
            let req = request(&[("x-ssl-cert", empty)]);
            assert_eq!(
                from_header(&req, CertHeader::XSslCert).unwrap(),
                None,
                "{empty:?}"
            );
        }
        assert_eq!(
            from_header(&request(&[]), CertHeader::XSslCert).unwrap(),
            None
        );
        assert_eq!(
            from_header(&request(&[("x-ssl-cert", &value)]), CertHeader::ClientCert).unwrap(),
            None
        );
    }

    #[test]
    fn x_ssl_cert_refuses_text_that_is_not_certificates() {
        let one = url_encoded(&pem(&certificate()));
        let cases = [
            vec![("x-ssl-cert", "junk")],
            vec![("x-ssl-cert", "%FF%FE")],
            vec![("x-ssl-cert", one.as_str()), ("x-ssl-cert", one.as_str())],
        ];
        for headers in cases {
            let read = from_header(&request(&headers), CertHeader::XSslCert);
            assert!(
                matches!(read, Err(GatewayError::InvalidRequest(_))),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn certificate_sections_are_read_in_order_whatever_the_line_endings() {
        let (leaf, ca) = (certificate(), certificate());
        let text = format!("\r\n{}\n{}", pem(&leaf).replace('\n', "\r\n"), pem(&ca));
        assert_eq!(pem_certificates(text.as_bytes()).unwrap(), vec![leaf, ca]);
    }

    #[test]
    fn a_section_of_another_kind_inside_a_certificate_section_is_refused() {
        let text = "-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMAMCAQU=\n\
                    -----END PRIVATE KEY-----\n-----END CERTIFICATE-----\n";
        assert!(pem_certificates(text.as_bytes()).is_err());
    }

    #[test]
    fn a_certificate_section_without_its_end_is_refused() {
        let text = pem(&certificate()).replace("-----END CERTIFICATE-----\n", "");
        assert!(pem_certificates(text.as_bytes()).is_err());
    }

    #[test]
    fn text_after_an_end_marker_is_refused() {
        let text =
            pem(&certificate()).replace("END CERTIFICATE-----\n", "END CERTIFICATE-----junk\n");
        assert!(pem_certificates(text.as_bytes()).is_err());
    }
}
