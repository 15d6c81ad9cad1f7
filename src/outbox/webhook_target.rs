//! The configured device webhook (SPEC §5.2): where messages go, the time per attempt, and the
//! Standard Webhooks signer with every configured secret.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{DeviceChannel, Settings};

/// Standard base64 with or without padding, as `--check-config` accepts secrets.
const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The configured webhook: where, how long per attempt, and the signing keys.
pub(super) struct WebhookTarget {
    pub url: String,
    pub timeout: Duration,
    pub tls: Arc<rustls::ClientConfig>,
    pub signer: Signer,
}

impl WebhookTarget {
    /// `device.webhook`, when the webhook channel is selected.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let Some(webhook) = &settings.device.webhook else {
            return Ok(None);
        };
        if settings.device.channel != DeviceChannel::Webhook {
            return Ok(None);
        }
        match webhook.url.scheme() {
            "https" => {}
            "http" if webhook.allow_insecure_http => log::warn!(
                "device.webhook.allow_insecure_http = true: webhook messages, decision tokens \
                 included, travel unencrypted"
            ),
            _ => return Err("device.webhook.url must be https".into()),
        }
        Ok(Some(Self {
            url: webhook.url.to_string(),
            timeout: webhook.timeout,
            tls: Arc::new(crate::tls::client_config(&[])?),
            signer: Signer::new(webhook.secrets.0.iter().map(|s| s.expose()))?,
        }))
    }
}

/// Signs messages with every configured key (rotation: receivers accept any one).
pub(super) struct Signer {
    keys: Vec<Hmac<Sha256>>,
}

impl Signer {
    /// From `whsec_<base64>` secrets.
    pub fn new<'a>(secrets: impl Iterator<Item = &'a str>) -> Result<Self, String> {
        let keys = secrets
            .enumerate()
            .map(|(i, secret)| {
                let problem = || format!("device.webhook.secrets[{i}] is not whsec_<base64>");
                let encoded = secret.strip_prefix("whsec_").ok_or_else(problem)?;
                let key = STANDARD_ANY_PADDING
                    .decode(encoded)
                    .map_err(|_| problem())?;
                Hmac::<Sha256>::new_from_slice(&key).map_err(|_| problem())
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("device.webhook.secrets: at least one secret is required".into());
        }
        Ok(Self { keys })
    }

    /// The `webhook-signature` value: `v1,<base64>` per key, separated by single spaces.
    pub fn sign(&self, id: &str, timestamp: u64, body: &str) -> String {
        let signed = format!("{id}.{timestamp}.{body}");
        self.keys
            .iter()
            .map(|key| {
                let mut mac = key.clone();
                mac.update(signed.as_bytes());
                let tag = mac.finalize().into_bytes();
                format!(
                    "v1,{}",
                    base64::engine::general_purpose::STANDARD.encode(tag)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_signs_id_timestamp_and_body() {
        // The Standard Webhooks reference example.
        let signer = Signer::new(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"].into_iter()).unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = Signer::new(["whsec_AAAA", "whsec_AQEB"].into_iter()).unwrap();
        assert_eq!(two.sign("a", 1, "{}").split(' ').count(), 2);
    }

    #[test]
    fn a_secret_without_the_prefix_is_refused() {
        assert!(Signer::new(["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"].into_iter()).is_err());
        assert!(Signer::new(std::iter::empty()).is_err());
    }
}
