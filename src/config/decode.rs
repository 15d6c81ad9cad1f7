//! Turns the merged TOML tree into [`Settings`], giving each environment override the type its
//! key wants, and reporting the first type error with its key (and variable) but not its value.

use serde_path_to_error::Segment;
use toml::Value;

use super::overlay::{display_path, node_at, Override, Seg};
use super::Settings;

/// Most decoding problems reported for one file; past it the rest are not looked for.
const MAX_DECODE_PROBLEMS: usize = 50;

/// What decoding found: the settings read from the tree with every unreadable key set aside
/// (so their defaults stand in), when that is possible, and one problem per unreadable key.
pub(super) struct Decoded {
    pub settings: Option<Settings>,
    pub problems: Vec<String>,
    /// The keys set aside, so that validation does not judge the defaults standing in.
    pub set_aside: Vec<String>,
}

/// Deserializes `value`. An error at (or below) a key set from the environment as a verbatim
/// string is retried once with that value read as TOML, so each override is retyped at most once.
/// Any other error is recorded and its key set aside, so that one run reports every unknown or
/// mistyped key, not just the first.
pub(super) fn deserialize(mut value: Value, overrides: &mut [Override]) -> Decoded {
    let mut problems = Vec::new();
    let mut set_aside: Vec<Vec<Seg>> = Vec::new();
    let mut settings = None;
    while problems.len() < MAX_DECODE_PROBLEMS {
        let error = match serde_path_to_error::deserialize::<_, Settings>(value.clone()) {
            Ok(decoded) => {
                settings = Some(decoded);
                break;
            }
            Err(error) => error,
        };
        let path = segments(error.path());
        let retyped = overrides
            .iter_mut()
            .filter(|o| path.starts_with(&o.path))
            .find_map(|o| Some((o.path.clone(), o.take_typed()?)));
        if let Some((at, typed)) = retyped {
            if let Some(node) = node_at(&mut value, &at) {
                *node = typed;
                continue;
            }
        }
        let missing = missing_field(error.inner().message()).is_some();
        let problem = describe(&path, error.inner(), overrides);
        // A key set aside for a type error then shows up as missing: already reported.
        let repeated = missing && set_aside.iter().any(|p| problem_names(&problem, p));
        if !repeated {
            problems.push(problem);
        }
        match remove_at(&mut value, &path) {
            Some(removed) if !missing => set_aside.push(removed),
            _ => break,
        }
    }
    Decoded {
        settings,
        problems,
        set_aside: set_aside.iter().map(|p| display_path(p)).collect(),
    }
}

/// True when `problem` is about the key at `path`.
fn problem_names(problem: &str, path: &[Seg]) -> bool {
    problem.starts_with(&format!("{}:", display_path(path)))
}

/// Removes the table key at `path`, or, for an array element, the whole array (removing one
/// element would shift the indexes of the next). Returns the path removed.
fn remove_at(root: &mut Value, path: &[Seg]) -> Option<Vec<Seg>> {
    let end = path.iter().rposition(|seg| matches!(seg, Seg::Key(_)))?;
    let (Seg::Key(last), parent) = (&path[end], &path[..end]) else {
        return None;
    };
    let Some(Value::Table(table)) = node_at(root, parent) else {
        return None;
    };
    table.remove(last).map(|_| path[..=end].to_vec())
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// `key: message`, naming the environment variable that set the key, if one did.
fn describe(path: &[Seg], error: &toml::de::Error, overrides: &[Override]) -> String {
    // For an unknown key the path already ends with that key; a missing one is named here.
    let raw = error.message();
    let mut path = path.to_vec();
    let message = if let Some(field) = missing_field(raw) {
        path.push(Seg::Key(field.to_owned()));
        "is required".to_owned()
    } else if raw.contains("untagged enum Scalar") {
        // `Secret` accepts a string, integer or boolean; its untagged error says nothing useful.
        "invalid type, expected a string".to_owned()
    } else {
        without_value(raw)
    };
    let source = overrides
        .iter()
        .find(|o| path.starts_with(&o.path))
        .map(|o| format!(" (set by {})", o.var))
        .unwrap_or_default();
    format!("{}: {message}{source}", display_path(&path))
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// serde's message with the offending value cut out: `invalid type: string "x", expected u64`
/// becomes `invalid type: string, expected u64`. A misplaced secret must not reach a log.
pub(super) fn without_value(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The expected type comes from our own types; the value may hold anything.
            let (found, expected) = rest
                .rfind(", expected ")
                .map_or((rest, ""), |at| rest.split_at(at));
            let kind = found.split(['"', '`']).next().unwrap_or_default().trim();
            return format!("{prefix}{kind}{expected}");
        }
    }
    // An unknown variant stays as serde words it: enum values are names, never secrets, and
    // the operator needs to see which one was not understood.
    message.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::without_value;

    #[test]
    fn serde_messages_lose_the_offending_value() {
        assert_eq!(
            without_value(r#"invalid type: string "hunter2", expected u64"#),
            "invalid type: string, expected u64"
        );
        assert_eq!(
            without_value("invalid value: integer `300`, expected u8"),
            "invalid value: integer, expected u8"
        );
        assert_eq!(
            without_value("unknown variant `embeded`, expected `embedded` or `remote`"),
            "unknown variant `embeded`, expected `embedded` or `remote`"
        );
        assert_eq!(
            without_value(r#"invalid type: string "x, expected y", expected u64"#),
            "invalid type: string, expected u64"
        );
        assert_eq!(
            without_value("invalid type: floating point `1.5`, expected a string"),
            "invalid type: floating point, expected a string"
        );
        assert_eq!(
            without_value("missing field `backend`"),
            "missing field `backend`"
        );
    }
}
