//! `*_file` variants of secret keys.

pub(super) fn resolve(_value: &mut toml::Value) -> Vec<String> {
    Vec::new()
}
