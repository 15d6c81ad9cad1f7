//! The `GATEWAY_` environment overlay: `GATEWAY_SERVER__TLS__CERT_FILE=...` sets
//! `server.tls.cert_file`, `GATEWAY_INTROSPECTION__CLIENTS__0__SECRET=...` the secret of the
//! first introspection client.
//!
//! The overlay works on the untyped TOML tree, so it cannot know a key's type. Each value goes
//! in as the verbatim string; when deserialization then finds a type error at that key (a number,
//! boolean or array was expected), `decode` swaps in the value parsed as TOML and tries again.
//! Strings therefore stay verbatim even when they look like numbers (`12345`, `0x1F`, `+1`).
//! The exception is `users.static[n].claims`, which takes any JSON: there the TOML reading wins
//! (`...__CLAIMS__EMAIL_VERIFIED=true` is a boolean).

use std::cmp::Ordering;

use serde::Deserialize;
use toml::Value;

const PREFIX: &str = "GATEWAY_";
const SEPARATOR: &str = "__";

/// One step of a path into the configuration tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path the way operators write it: `introspection.clients[0].secret`.
pub(super) fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) if out.is_empty() => out.push_str(key),
            Seg::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Seg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    if out.is_empty() {
        out.push_str("(top level)");
    }
    out
}

/// An environment variable applied to the tree, kept so that `decode` can retype its value.
#[derive(Debug)]
pub(super) struct Override {
    pub var: String,
    pub path: Vec<Seg>,
    /// The value parsed as TOML, while the tree still holds the verbatim string and the raw
    /// value is a number, boolean, array or table in TOML syntax.
    typed: Option<Value>,
}

impl Override {
    /// The TOML-typed value, once: after it is taken the override has no other reading.
    pub fn take_typed(&mut self) -> Option<Value> {
        self.typed.take()
    }
}

/// Applies every `GATEWAY_*__*` variable of `env` to `value`. Returns the overrides applied and
/// one message per variable that could not be applied (naming the variable, never its value).
pub(super) fn apply(
    value: &mut Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> (Vec<Override>, Vec<String>) {
    let mut vars: Vec<(String, Vec<String>, String)> = env
        .into_iter()
        .filter_map(|(var, raw)| {
            let rest = var.strip_prefix(PREFIX)?;
            if !rest.contains(SEPARATOR) {
                return None;
            }
            let names = rest
                .to_lowercase()
                .split(SEPARATOR)
                .map(str::to_owned)
                .collect();
            Some((var, names, raw))
        })
        .collect();
    // Lower indexes first, so `..__0__ID` creates the element that `..__1__ID` appends after.
    vars.sort_by(|a, b| compare_paths(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));

    let mut overrides = Vec::new();
    let mut errors = Vec::new();
    for (var, names, raw) in vars {
        if names.iter().any(String::is_empty) {
            errors.push(format!(
                "{var}: empty path segment (use `__` only between keys)"
            ));
            continue;
        }
        let typed = parse_typed(&raw);
        let (initial, typed) = match typed {
            Some(typed) if is_free_form(&names) => (typed, None),
            typed => (Value::String(raw), typed),
        };
        match set(value, &names, initial) {
            Ok(path) => overrides.push(Override { var, path, typed }),
            Err(message) => errors.push(format!("{var}: {message}")),
        }
    }
    (overrides, errors)
}

/// Compares two env paths segment by segment, numbers numerically.
fn compare_paths(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// `raw` read as a TOML value, when it is one and is not a plain string.
fn parse_typed(raw: &str) -> Option<Value> {
    match Value::deserialize(toml::de::ValueDeserializer::new(raw)) {
        Ok(Value::String(_) | Value::Datetime(_)) | Err(_) => None,
        Ok(typed) => Some(typed),
    }
}

/// Keys whose type is "any JSON" (OIDC claims), where the TOML reading is the only one.
fn is_free_form(names: &[String]) -> bool {
    names.len() > 4 && names[0] == "users" && names[1] == "static" && names[3] == "claims"
}

/// Sets `leaf` at `names`, creating tables and appending array elements on the way.
fn set(root: &mut Value, names: &[String], leaf: Value) -> Result<Vec<Seg>, String> {
    let mut path = Vec::with_capacity(names.len());
    let Some((last, parents)) = names.split_last() else {
        return Err("empty path".into());
    };
    let mut node = root;
    for (i, name) in parents.iter().enumerate() {
        let next_is_index = names[i + 1].parse::<usize>().is_ok();
        let fresh = if next_is_index {
            Value::Array(Vec::new())
        } else {
            Value::Table(toml::Table::new())
        };
        node = slot(node, name, fresh, &mut path)?;
    }
    let target = slot(node, last, Value::Boolean(false), &mut path)?;
    *target = leaf;
    Ok(path)
}

/// The child `name` of `node`, created as `fresh` when missing; records the step in `path`.
fn slot<'a>(
    node: &'a mut Value,
    name: &str,
    fresh: Value,
    path: &mut Vec<Seg>,
) -> Result<&'a mut Value, String> {
    match node {
        Value::Table(table) => {
            path.push(Seg::Key(name.to_owned()));
            Ok(table.entry(name.to_owned()).or_insert(fresh))
        }
        Value::Array(items) => {
            let Ok(index) = name.parse::<usize>() else {
                return Err(format!(
                    "{} is an array: `{name}` is not an index",
                    display_path(path)
                ));
            };
            if index > items.len() {
                return Err(format!(
                    "index {index} is out of range: {} has {} element(s), so the next index is {}",
                    display_path(path),
                    items.len(),
                    items.len()
                ));
            }
            if index == items.len() {
                let element = match fresh {
                    Value::Array(_) => fresh,
                    _ => Value::Table(toml::Table::new()),
                };
                items.push(element);
            }
            path.push(Seg::Index(index));
            Ok(&mut items[index])
        }
        _ => Err(format!(
            "{} is a value, not a table or array",
            display_path(path)
        )),
    }
}

/// True when the `key: message` problem is about `key` or a key below it.
pub(super) fn names_key(problem: &str, key: &str) -> bool {
    let named = problem.split(": ").next().unwrap_or_default();
    named
        .strip_prefix(key)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Appends `(set by GATEWAY_...)` to a `key: message` problem whose key an override set.
pub(super) fn attribute(problem: String, overrides: &[Override]) -> String {
    let source = overrides
        .iter()
        .find(|o| names_key(&problem, &display_path(&o.path)));
    match source {
        Some(o) => format!("{problem} (set by {})", o.var),
        None => problem,
    }
}

/// The node at an existing `path`, if every step is there.
pub(super) fn node_at<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut node = root;
    for seg in path {
        node = match (node, seg) {
            (Value::Table(table), Seg::Key(key)) => table.get_mut(key)?,
            (Value::Array(items), Seg::Index(index)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests;
