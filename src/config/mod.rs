//! Configuration: `config.toml`, the `GATEWAY_` environment overlay, `*_file` secrets, and one
//! validation pass that lists every problem at once.

mod decode;
mod emulator;
mod files;
#[cfg(test)]
mod fixtures;
mod overlay;
mod secret;
mod types;
mod validate;

use std::path::Path;

pub use emulator::*;
pub use secret::{Secret, SecretList};
pub use types::*;

/// Every problem found in a configuration, one message per entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

impl Settings {
    /// Reads the file at `path`, then applies `env` (normally `std::env::vars()`).
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("{}: {e}", path.display())]))?;
        Self::from_toml_str(&text, env)
    }

    /// Parses `text`, applies the environment overlay and `*_file` secrets, and validates.
    pub fn from_toml_str(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigErrors> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            let at = line.map(|n| format!(" line {n}")).unwrap_or_default();
            let message = e.message().trim_end().replace('\n', ": ");
            ConfigErrors(vec![format!("config.toml{at}: {message}")])
        })?;
        let (mut overrides, mut errors) = overlay::apply(&mut value, env);
        errors.extend(files::resolve(&mut value));
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let settings = decode::deserialize(value, &mut overrides).map_err(ConfigErrors)?;
        let problems = validate::validate(&settings);
        if problems.is_empty() {
            Ok(settings)
        } else {
            let attributed = problems
                .into_iter()
                .map(|problem| overlay::attribute(problem, &overrides))
                .collect();
            Err(ConfigErrors(attributed))
        }
    }

    /// `server.realm`, or `server.public_url` when unset.
    pub fn realm(&self) -> &str {
        self.server
            .realm
            .as_deref()
            .unwrap_or(&self.server.public_url)
    }
}

#[cfg(test)]
mod tests;
