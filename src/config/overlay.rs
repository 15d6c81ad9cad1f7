//! The `GATEWAY_` environment overlay.

pub(super) fn apply(
    _value: &mut toml::Value,
    _env: impl IntoIterator<Item = (String, String)>,
) -> Vec<String> {
    Vec::new()
}
