//! Sealing what the `redis` backend stores (SPEC §12 "Secrets at rest"): XChaCha20-Poly1305
//! under a subkey HKDF-SHA256(decision key, "authlete-gateway/state/v1") of each decision key,
//! the associated data naming the purpose. The first key seals, every key opens, so values
//! sealed before a rotation still open while the retired key stays in `device.decision_keys`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const INFO: &[u8] = b"authlete-gateway/state/v1";
const NONCE_BYTES: usize = 24;

/// The subkeys of `device.decision_keys`, in their order.
pub struct Sealer {
    ciphers: Vec<XChaCha20Poly1305>,
}

impl Sealer {
    pub fn new(decision_keys: &[[u8; 32]]) -> Self {
        Self {
            ciphers: decision_keys
                .iter()
                .map(|key| XChaCha20Poly1305::new(&subkey(key).into()))
                .collect(),
        }
    }

    /// nonce ‖ ciphertext of `plaintext`, under the first key; None without keys.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
        let cipher = self.ciphers.first()?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = associated_data(purpose);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plaintext of a value `seal` made for `purpose`, under any key; None when it was
    /// sealed for another purpose, under an unknown key, or altered.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() <= NONCE_BYTES + 16 {
            return None;
        }
        let (nonce, sealed) = sealed.split_at(NONCE_BYTES);
        let aad = associated_data(purpose);
        self.ciphers.iter().find_map(|cipher| {
            let payload = Payload {
                msg: sealed,
                aad: &aad,
            };
            cipher.decrypt(XNonce::from_slice(nonce), payload).ok()
        })
    }
}

fn associated_data(purpose: &str) -> Vec<u8> {
    [INFO, b"/", purpose.as_bytes()].concat()
}

/// HKDF-SHA256 (RFC 5869) of a decision key, with an empty salt and `INFO`: 32 bytes.
fn subkey(key: &[u8; 32]) -> [u8; 32] {
    hkdf(key, INFO)
}

fn hkdf(ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 blocks: expand cannot fail.
    let _ = Hkdf::<Sha256>::new(None, ikm).expand(info, &mut okm);
    okm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_matches_rfc_5869_test_case_3() {
        // Empty salt and info; the first 32 bytes of the 42-byte OKM.
        let okm = hkdf(&[0x0b; 22], b"");
        assert_eq!(
            hex::encode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        );
    }

    #[test]
    fn sealed_values_open_under_any_key_and_only_for_their_purpose() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let sealed = Sealer::new(&[old]).seal("registry", b"secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        let rotated = Sealer::new(&[new, old]);
        assert_eq!(
            rotated.open("registry", &sealed).as_deref(),
            Some(&b"secret"[..])
        );
        assert_eq!(rotated.open("outbox", &sealed), None);
        assert_eq!(Sealer::new(&[new]).open("registry", &sealed), None);
        assert_eq!(Sealer::new(&[]).seal("registry", b"x"), None);
    }
}
