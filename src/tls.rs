//! TLS: the public listener's server config (optional client certificates, FAPI cipher
//! suites) and the client config for outgoing HTTPS.

use std::any::Any;
use std::sync::Arc;

use actix_web::dev::Extensions;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::{self, PemObject};

use crate::config::TlsSettings;
use crate::http::peer::PeerCertificates;

/// The one crypto provider of the process. Installing it explicitly keeps rustls from
/// panicking when more than one provider is compiled in.
pub fn install_provider() {
    // Err means a provider is already installed (another Application in the same process).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Client config for outgoing HTTPS (Authlete, directory, webhook, notifications): the system's
/// trusted roots plus `extra_roots` (DER). Where the system has none (a minimal container
/// without ca-certificates), the Mozilla roots compiled into the binary stand in.
pub fn client_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<rustls::ClientConfig, String> {
    let mut roots = system_roots().clone();
    for root in extra_roots {
        roots
            .add(root.clone())
            .map_err(|e| format!("a CA certificate was refused: {e}"))?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The system's roots, read once per process: they do not change while it runs, and reading
/// the store for every client would slow every start.
fn system_roots() -> &'static rustls::RootCertStore {
    static ROOTS: std::sync::OnceLock<rustls::RootCertStore> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let (added, _) =
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if added == 0 {
            log::warn!("no system CA certificates found; using the built-in Mozilla roots");
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

/// Reads every certificate of a PEM file.
pub fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))
}

/// Reads a CA file: at least one certificate, or the file is not what its key says.
pub fn read_ca_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = read_certs(path)?;
    if certs.is_empty() {
        return Err(format!("{path} holds no certificate"));
    }
    Ok(certs)
}

fn read_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => format!("{path}: no private key found"),
        e => format!("{path}: {e}"),
    })
}

/// The public listener's server config.
pub fn server_config(tls: &TlsSettings) -> Result<rustls::ServerConfig, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if tls.fapi {
        use rustls::CipherSuite::*;
        provider.cipher_suites.retain(|suite| match suite {
            rustls::SupportedCipherSuite::Tls13(_) => true,
            rustls::SupportedCipherSuite::Tls12(_) => matches!(
                suite.suite(),
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            ),
        });
    }
    let provider = Arc::new(provider);
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    // An empty path means unset, as validation reads it.
    let client_ca_file = tls.client_ca_file.as_deref().filter(|p| !p.is_empty());
    let builder = match client_ca_file {
        Some(ca_file) => {
            let hints = root_hints(&read_ca_certs(ca_file)?)?;
            builder.with_client_cert_verifier(Arc::new(AnyClientCert { provider, hints }))
        }
        None => builder.with_no_client_auth(),
    };
    let certs = read_certs(&tls.cert_file)?;
    let key = read_key(&tls.key_file)?;
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("server.tls: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The subjects of the configured client CAs, sent as hints in the certificate request.
fn root_hints(cas: &[CertificateDer<'static>]) -> Result<Vec<DistinguishedName>, String> {
    let mut store = rustls::RootCertStore::empty();
    for ca in cas {
        store
            .add(ca.clone())
            .map_err(|e| format!("server.tls.client_ca_file: {e}"))?;
    }
    Ok(store.subjects())
}

/// Requests a client certificate without requiring one, and accepts any certificate whose
/// holder proves possession of its key: chain and subject checks belong to Authlete
/// (`tls_client_auth` with the service's trusted roots).
#[derive(Debug)]
struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    hints: Vec<DistinguishedName>,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `on_connect` hook: keeps the TLS session's client certificates for the request handlers.
pub fn capture_peer_certificates(connection: &dyn Any, extensions: &mut Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    let Some(stream) = connection.downcast_ref::<Tls>() else {
        return;
    };
    let (_, session) = stream.get_ref();
    if let Some(certs) = session.peer_certificates() {
        let ders = certs
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect::<Vec<_>>();
        if !ders.is_empty() {
            extensions.insert(PeerCertificates(ders));
        }
    }
}
