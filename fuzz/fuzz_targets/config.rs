//! The configuration decoder (`config.toml` and the `GATEWAY_` overlay): any text, no panic;
//! a refusal always says why.
//!
//! Input: the TOML text, then after a NUL byte `NAME=value` lines for the overlay.
#![no_main]

use authlete_gateway::config::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (toml, env) = text.split_once('\u{0}').unwrap_or((text, ""));
    let env: Vec<(String, String)> = env
        .lines()
        .filter_map(|line| line.split_once('='))
        // `*_FILE` names a file to read: not the decoder's input, and the fuzzer must not
        // read the machine's files.
        .filter(|(name, _)| !name.to_ascii_uppercase().ends_with("_FILE"))
        .map(|(name, value)| (format!("GATEWAY_{name}"), value.to_owned()))
        .collect();
    if toml.contains("_file") {
        return;
    }
    if let Err(errors) = Settings::from_toml_str(toml, env) {
        assert!(!errors.0.is_empty(), "a refusal lists its problems");
        assert!(errors.0.iter().all(|e| !e.trim().is_empty()));
    }
});
