//! `[server]`, `[server.tls]`, `[admin]` and `[log]`.

use std::net::SocketAddr;

use super::{is_blank, path_set, Problems};
use crate::config::{parse_http_url, AdminSettings, ServerSettings, Settings};

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let server = &settings.server;
    if server.public_url.query().is_some() {
        p.add("server.public_url", "must not have a query");
    }
    check_realm(settings, p);
    p.at_least("server.max_body_bytes", server.max_body_bytes as u64, 1);
    check_proxies_and_origins(server, p);
    if let Some(tls) = &server.tls {
        p.readable_file("server.tls.cert_file", &tls.cert_file);
        p.readable_file("server.tls.key_file", &tls.key_file);
        if let Some(ca) = path_set(&tls.client_ca_file) {
            p.readable_file("server.tls.client_ca_file", ca);
        }
    }
    let admin = &settings.admin;
    check_admin(admin, p);
    if overlaps(&server.listen, &admin.listen) {
        p.add(
            "admin.listen",
            "must not use the same address and port as server.listen",
        );
    }
    check_log(&settings.log.level, p);
    check_telemetry(&settings.telemetry, p);
}

fn check_telemetry(t: &crate::config::TelemetrySettings, p: &mut Problems) {
    if t.otlp_endpoint
        .as_ref()
        .is_some_and(|u| u.scheme() != "http")
    {
        // The exporter speaks plain HTTP to a collector beside the gateway (SPEC §13).
        p.add("telemetry.otlp_endpoint", "must be an http:// URL");
    }
    if !(0.0..=1.0).contains(&t.sample_ratio) {
        p.add("telemetry.sample_ratio", "must be between 0.0 and 1.0");
    }
    if t.service_name.trim().is_empty() || t.service_name.len() > 128 {
        p.add("telemetry.service_name", "must be 1 to 128 characters");
    }
    if t.otlp_timeout.is_zero() || t.otlp_timeout > std::time::Duration::from_secs(60) {
        p.add("telemetry.otlp_timeout_ms", "must be between 1 and 60000");
    }
}

fn check_realm(settings: &Settings, p: &mut Problems) {
    // The realm is written into `WWW-Authenticate: Basic realm="..."` as a quoted string.
    let realm = settings.realm();
    if realm.contains(['"', '\\']) || realm.chars().any(char::is_control) {
        let key = match settings.server.realm {
            Some(_) => "server.realm",
            None => "server.realm (defaulting to server.public_url)",
        };
        p.add(key, "must not contain `\"`, `\\` or control characters");
    }
}

fn check_proxies_and_origins(server: &ServerSettings, p: &mut Problems) {
    for (i, origin) in server.cors_allowed_origins.iter().enumerate() {
        if !is_origin(origin) {
            p.add(
                format!("server.cors_allowed_origins[{i}]"),
                "must be an origin: scheme://host[:port], without path or trailing slash",
            );
        }
    }
}

/// `scheme://host[:port]` exactly as browsers send it in `Origin`.
fn is_origin(value: &str) -> bool {
    match parse_http_url(value) {
        Ok(url) => url.path() == "/" && !value.ends_with('/') && url.query().is_none(),
        Err(_) => false,
    }
}

/// A console token must resist guessing: 32 characters of a random token carry ≥ 160 bits.
const MIN_CONSOLE_TOKEN_CHARS: usize = 32;

fn check_admin(admin: &AdminSettings, p: &mut Problems) {
    let exposed = !admin.listen.ip().is_loopback();
    if admin.console && exposed && is_blank(admin.console_token.as_ref().map(|t| t.expose())) {
        p.add(
            "admin.console_token",
            "is required when admin.console = true and admin.listen is not a loopback address",
        );
    }
    let token_chars = admin
        .console_token
        .as_ref()
        .map(|t| t.expose().chars().count());
    if token_chars.is_some_and(|n| n < MIN_CONSOLE_TOKEN_CHARS) {
        p.add(
            "admin.console_token",
            format!("must have at least {MIN_CONSOLE_TOKEN_CHARS} characters (e.g. `openssl rand -base64 32`)"),
        );
    }
    for (i, host) in admin.allowed_hosts.iter().enumerate() {
        if host.is_empty() || url::Host::parse(host).is_err() {
            p.add(
                format!("admin.allowed_hosts[{i}]"),
                "must be a host name or IP address, without scheme or port",
            );
        }
    }
}

/// Two listeners that would fight over one port (an unspecified address covers every other).
fn overlaps(a: &SocketAddr, b: &SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn check_log(level: &str, p: &mut Problems) {
    if level.trim().is_empty()
        || env_filter::Builder::new().try_parse(level).is_err()
        || !directives_are_explicit(level)
    {
        p.add(
            "log.level",
            "must be an env_logger filter: off, error, warn, info, debug, trace, or directives \
             such as `info,authlete_gateway=debug` (a module needs its level)",
        );
    }
}

/// env_filter reads any bare word as a module name, so `inof` would silently log nothing but
/// module `inof`. Require bare words to be levels and module names to be Rust paths.
fn directives_are_explicit(spec: &str) -> bool {
    let directives = spec.split('/').next().unwrap_or_default();
    directives
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .all(|directive| match directive.split_once('=') {
            Some((module, _)) => is_module_path(module.trim()),
            None => directive.parse::<log::LevelFilter>().is_ok(),
        })
}

fn is_module_path(module: &str) -> bool {
    module.split("::").all(|ident| {
        ident.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
