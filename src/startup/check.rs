//! What `--check-config` verifies beyond the settings themselves.

use crate::config::Settings;
use crate::emulator;
use crate::tls;

/// What `--check-config` verifies beyond the settings themselves: every PEM file named holds
/// what its key says, and the pieces fit together, so a swapped certificate and key fail the
/// check rather than the start.
pub fn check_files(settings: &Settings) -> Vec<String> {
    tls::install_provider();
    let mut problems = Vec::new();
    if let Some(tls_settings) = &settings.server.tls {
        if let Err(e) = tls::server_config(tls_settings) {
            problems.push(format!(
                "server.tls: {}",
                e.trim_start_matches("server.tls: ")
            ));
        }
    }
    let ca_file = settings.notifications.ca_file.as_deref();
    if let Some(path) = ca_file.filter(|p| !p.is_empty()) {
        let checked = tls::read_ca_certs(path).and_then(|certs| tls::client_config(&certs));
        if let Err(e) = checked {
            problems.push(format!("notifications.ca_file: {e}"));
        }
    }
    let key_file = settings.emulator.signing_key_file.as_deref();
    if let Some(path) = key_file.filter(|p| !p.trim().is_empty()) {
        if let Err(e) = emulator::check_signing_key(path) {
            problems.push(format!("emulator.signing_key_file: {e}"));
        }
    }
    problems
}
