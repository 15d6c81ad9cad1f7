//! Configuration: `config.toml`, the `GATEWAY_` environment overlay, `*_file` secrets, and one
//! validation pass that lists every problem at once.

mod decode;
mod emulator;
mod files;
#[cfg(test)]
pub(crate) mod fixtures;
mod overlay;
mod secret;
mod types;
mod validate;
mod values;

use std::path::Path;

pub use emulator::*;
pub use secret::{Secret, SecretList};
pub use types::*;
pub use values::{parse_http_url, parse_redis_url, CertHeader, Pattern};

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
        Self::parse(&text, &path.display().to_string(), env)
    }

    /// Parses `text` as if read from a file called `config.toml` (tests, embedded configs).
    pub fn from_toml_str(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigErrors> {
        Self::parse(text, "config.toml", env)
    }

    /// Parses `text` (read from `source`, which syntax errors name), applies the environment
    /// overlay and `*_file` secrets, and validates.
    fn parse(
        text: &str,
        source: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigErrors> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            let at = line.map(|n| format!(" line {n}")).unwrap_or_default();
            let message = e.message().trim_end().replace('\n', ": ");
            ConfigErrors(vec![format!("{source}{at}: {message}")])
        })?;
        let (mut overrides, mut errors) = overlay::apply(&mut value, env);
        errors.extend(files::resolve(&mut value));
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let decoded = decode::deserialize(value, &mut overrides);
        let mut problems = decoded.problems;
        if let Some(settings) = &decoded.settings {
            let judged = |problem: &String| {
                !decoded
                    .set_aside
                    .iter()
                    .any(|key| overlay::names_key(problem, key))
            };
            problems.extend(
                validate::validate(settings)
                    .into_iter()
                    .filter(judged)
                    .map(|problem| overlay::attribute(problem, &overrides)),
            );
        }
        match decoded.settings {
            Some(settings) if problems.is_empty() => Ok(settings),
            _ => Err(ConfigErrors(problems)),
        }
    }

    /// `server.realm`, or `server.public_url` when unset.
    pub fn realm(&self) -> &str {
        self.server.realm.as_deref().unwrap_or(self.public_base())
    }

    /// `server.public_url` without a trailing slash: the issuer, and the base that route paths
    /// are appended to.
    pub fn public_base(&self) -> &str {
        self.server.public_url.as_str().trim_end_matches('/')
    }

    /// `server.public_url`'s path without a trailing slash (`""` at the root): where the
    /// public routes are mounted.
    pub fn base_path(&self) -> &str {
        self.server.public_url.path().trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests;
