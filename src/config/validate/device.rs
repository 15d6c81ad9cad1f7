//! `[device]`, `[notifications]` and `[[introspection.clients]]`.

use std::collections::HashSet;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};

use super::Problems;
use crate::config::{Backend, DeviceChannel, DeviceSettings, Secret, Settings};

/// Standard base64, with or without padding (SPEC §5.1).
const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    check_device(settings, p);
    check_notifications(settings, p);
    check_introspection(settings, p);
}

fn check_device(settings: &Settings, p: &mut Problems) {
    let device = &settings.device;
    match device.channel {
        DeviceChannel::Console if !settings.admin.console => p.add(
            "device.channel",
            "\"console\" requires admin.console = true",
        ),
        DeviceChannel::Webhook => check_webhook(device, p),
        DeviceChannel::Console => {}
    }
    for (i, key) in device.decision_keys.0.iter().enumerate() {
        let decoded = STANDARD_ANY_PADDING.decode(key.expose());
        if !decoded.is_ok_and(|bytes| bytes.len() == 32) {
            p.add(
                format!("device.decision_keys[{i}]"),
                "must be 32 random bytes in standard base64 (e.g. `openssl rand -base64 32`)",
            );
        }
    }
    if settings.authlete.backend == Backend::Remote && device.decision_keys.0.is_empty() {
        p.add(
            "device.decision_keys",
            "at least one key is required with authlete.backend = \"remote\" (replicas must \
             share it)",
        );
    }
    let ratio = device.timeout_ratio;
    if !(ratio > 0.0 && ratio <= 1.0) {
        p.add(
            "device.timeout_ratio",
            "must be greater than 0 and at most 1",
        );
    }
}

fn check_webhook(device: &DeviceSettings, p: &mut Problems) {
    let Some(webhook) = &device.webhook else {
        p.add(
            "device.webhook",
            "is required with device.channel = \"webhook\"",
        );
        return;
    };
    p.https_unless(
        "device.webhook.url",
        &webhook.url,
        webhook.allow_insecure_http,
    );
    p.not_zero("device.webhook.timeout_ms", webhook.timeout);
    if webhook.secrets.0.is_empty() {
        p.add("device.webhook.secrets", "at least one secret is required");
    }
    for (i, secret) in webhook.secrets.0.iter().enumerate() {
        if !is_webhook_secret(secret) {
            p.add(
                format!("device.webhook.secrets[{i}]"),
                "must be a Standard Webhooks secret: whsec_ followed by standard base64",
            );
        }
    }
}

fn is_webhook_secret(secret: &Secret) -> bool {
    secret
        .expose()
        .strip_prefix("whsec_")
        .map(|key| STANDARD_ANY_PADDING.decode(key))
        .is_some_and(|key| key.is_ok_and(|bytes| !bytes.is_empty()))
}

fn check_notifications(settings: &Settings, p: &mut Problems) {
    let n = &settings.notifications;
    p.not_zero("notifications.timeout_ms", n.timeout);
    p.not_zero("notifications.max_backoff_ms", n.max_backoff);
    for (key, value) in [
        ("queue_capacity", n.queue_capacity as u64),
        ("max_in_flight", n.max_in_flight as u64),
        ("max_in_flight_per_host", n.max_in_flight_per_host as u64),
    ] {
        p.at_least(format!("notifications.{key}"), value, 1);
    }
    if let Some(ca) = super::path_set(&n.ca_file) {
        p.readable_file("notifications.ca_file", ca);
    }
}

fn check_introspection(settings: &Settings, p: &mut Problems) {
    let mut ids = HashSet::new();
    for (i, client) in settings.introspection.clients.iter().enumerate() {
        let key = format!("introspection.clients[{i}]");
        if client.id.trim().is_empty() {
            p.add(format!("{key}.id"), "must not be empty");
        } else if !ids.insert(client.id.as_str()) {
            p.add(format!("{key}.id"), "is listed twice");
        }
        match (&client.secret, &client.secret_sha256) {
            (Some(_), Some(_)) => p.add(&key, "set only one of secret and secret_sha256"),
            (None, None) => p.add(&key, "needs secret or secret_sha256"),
            (Some(secret), None) if secret.is_empty() => {
                p.add(format!("{key}.secret"), "must not be empty")
            }
            (None, Some(hash)) => p.sha256_hex(format!("{key}.secret_sha256"), hash.expose()),
            (Some(_), None) => {}
        }
        if let Some(uri) = &client.rs_uri {
            if let Err(e) = url::Url::parse(uri) {
                p.add(
                    format!("{key}.rs_uri"),
                    format!("must be an absolute URI such as https://rs.example.com ({e})"),
                );
            }
        }
    }
}
