//! `*_file` variants of secret keys: `access_token_file = "/run/secrets/authlete"` reads the
//! secret from a file (Kubernetes and Docker secrets), trimmed; list secrets take one entry per
//! non-empty line. Runs after the environment overlay, so `GATEWAY_..._FILE` works too.

use toml::{Table, Value};

/// How a secret key is read from its file.
#[derive(Clone, Copy)]
enum Shape {
    /// The whole file, trimmed.
    Scalar,
    /// One entry per non-empty line, each trimmed.
    Lines,
}

/// Every secret key: the tables that hold it (`[]` = each element of an array) and its name.
const SECRET_KEYS: &[(&[&str], &str, Shape)] = &[
    (&["admin"], "console_token", Shape::Scalar),
    (&["authlete"], "access_token", Shape::Scalar),
    (&["authlete"], "api_key", Shape::Scalar),
    (&["authlete"], "api_secret", Shape::Scalar),
    (&["users", "static", "[]"], "user_code", Shape::Scalar),
    (
        &["users", "static", "[]"],
        "user_code_sha256",
        Shape::Scalar,
    ),
    (&["users", "http"], "bearer_token", Shape::Scalar),
    (&["device"], "decision_keys", Shape::Lines),
    (&["state", "redis"], "url", Shape::Scalar),
    (&["state", "redis"], "urls", Shape::Lines),
    (&["state", "redis"], "key_hash_secret", Shape::Scalar),
    (&["device", "webhook"], "secrets", Shape::Lines),
    (&["introspection", "clients", "[]"], "secret", Shape::Scalar),
    (
        &["introspection", "clients", "[]"],
        "secret_sha256",
        Shape::Scalar,
    ),
    (
        &["emulator", "clients", "[]"],
        "client_secret",
        Shape::Scalar,
    ),
];

/// Replaces each `k_file` by `k` read from the file. Returns one message per problem, naming the
/// key and the path, never the contents.
pub(super) fn resolve(value: &mut Value) -> Vec<String> {
    let mut errors = Vec::new();
    for (tables, key, shape) in SECRET_KEYS {
        visit(value, tables, "", &mut |at, table| {
            if let Err(message) = resolve_key(table, key, *shape) {
                errors.push(format!("{at}.{key}_file: {message}"));
            }
        });
    }
    errors
}

/// Calls `f` with every table found at `rest` below `node`, and its dotted name.
fn visit(node: &mut Value, rest: &[&str], at: &str, f: &mut dyn FnMut(&str, &mut Table)) {
    match (rest.split_first(), node) {
        (None, Value::Table(table)) => f(at, table),
        (Some((&"[]", tail)), Value::Array(items)) => {
            for (index, item) in items.iter_mut().enumerate() {
                visit(item, tail, &format!("{at}[{index}]"), f);
            }
        }
        (Some((key, tail)), Value::Table(table)) => {
            if let Some(child) = table.get_mut(*key) {
                let at = if at.is_empty() {
                    (*key).to_owned()
                } else {
                    format!("{at}.{key}")
                };
                visit(child, tail, &at, f);
            }
        }
        // A wrong shape is reported by deserialization, with its path.
        _ => {}
    }
}

fn resolve_key(table: &mut Table, key: &str, shape: Shape) -> Result<(), String> {
    let file_key = format!("{key}_file");
    let Some(path) = table.remove(&file_key) else {
        return Ok(());
    };
    if table.contains_key(key) {
        return Err(format!(
            "{key} is set too; set only one of {key} and {file_key}"
        ));
    }
    let Value::String(path) = path else {
        return Err("must be a string (the path of the file)".into());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let secret = match shape {
        Shape::Scalar => Value::String(text.trim().to_owned()),
        Shape::Lines => Value::Array(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| Value::String(line.to_owned()))
                .collect(),
        ),
    };
    table.insert(key.to_owned(), secret);
    Ok(())
}

#[cfg(test)]
mod tests;
