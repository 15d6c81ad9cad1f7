//! Request input: the API body (a JSON object, or form-urlencoded scalars) and the
//! `parameters` string in which the authorization server forwards its client's form body.

// The accessors' `Err(())` means "present but not of that shape": each API handler answers it
// with its own Authlete error, so there is nothing for an error type to carry. (The module is
// public only for the fuzz targets.)
#![allow(clippy::result_unit_err)]

use serde_json::{Map, Value};

/// The body of an API call, read through lenient accessors so that JSON and form bodies behave
/// the same (`"300"` and `300` are both an integer).
#[derive(Debug, Default)]
pub struct Body {
    map: Map<String, Value>,
    /// Form bodies carry only strings, so shapes are checked in JSON bodies only.
    form: bool,
}

impl Body {
    /// Parses `bytes` according to `content_type` (JSON unless it says form-urlencoded).
    pub fn parse(content_type: &str, bytes: &[u8]) -> Result<Body, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(bytes).map_err(|e| e.to_string())?;
            return Ok(Self::from_pairs(pairs));
        }
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(map)) => Ok(Body { map, form: false }),
            Ok(_) => Err("the body is not a JSON object".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A query string read as a body (for the GET APIs).
    pub fn from_query(query: &str) -> Body {
        Self::from_pairs(serde_urlencoded::from_str(query).unwrap_or_default())
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Body {
        let mut map = Map::new();
        for (key, value) in pairs {
            match map.get_mut(&key) {
                Some(Value::Array(items)) => items.push(value.into()),
                Some(previous) => {
                    let first = previous.take();
                    *previous = Value::Array(vec![first, value.into()]);
                }
                None => {
                    map.insert(key, Value::String(value));
                }
            }
        }
        Body { map, form: true }
    }

    /// A scalar as a string; empty strings count as absent.
    pub fn string(&self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The first of `single_valued` that a form body repeats, which Authlete refuses.
    pub fn repeated<'k>(&self, single_valued: &[&'k str]) -> Option<&'k str> {
        let repeated = |key: &&str| matches!(self.map.get(*key), Some(Value::Array(_)));
        single_valued
            .iter()
            .copied()
            .find(|key| self.form && repeated(key))
    }

    /// An integer, or `Err` when present but not one.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        match self.map.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// A string list: a JSON array, or (in a form body) space-separated or repeated values.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        match self.map.get(key)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .flat_map(|s| s.split_whitespace())
                    .map(str::to_owned)
                    .collect(),
            ),
            Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
            _ => None,
        }
    }

    /// A JSON object given, as Authlete requires, as a string holding JSON; `Err` for any other
    /// shape.
    pub fn json_text_object(&self, key: &str) -> Result<Option<Map<String, Value>>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(_)) => self.json_object(key),
            Some(_) => Err(()),
        }
    }

    /// A string list that Authlete takes as a JSON array: `Err` when a JSON body gives any other
    /// shape. A form body may repeat the key or separate values with spaces.
    pub fn array(&self, key: &str) -> Result<Option<Vec<String>>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(self.list(key)),
            Some(Value::String(_)) if self.form => Ok(self.list(key)),
            Some(_) => Err(()),
        }
    }

    /// A JSON object given either as a string holding JSON or (in a JSON body) inline.
    pub fn json_object(&self, key: &str) -> Result<Option<Map<String, Value>>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                _ => Err(()),
            },
            Some(Value::Object(map)) => Ok(Some(map.clone())),
            Some(_) => Err(()),
        }
    }
}

/// Why the `parameters` of an API call cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// No `parameters`, or an empty one.
    Missing,
    /// Not `application/x-www-form-urlencoded`.
    Malformed,
    /// Parsed, but holding no parameter at all.
    Empty,
}

/// The `parameters` of an API call, parsed.
pub fn parameters(body: &Body) -> Result<Params, Unreadable> {
    let raw = body.string("parameters").ok_or(Unreadable::Missing)?;
    let params = Params::parse(&raw).map_err(|_| Unreadable::Malformed)?;
    if params.0.is_empty() {
        return Err(Unreadable::Empty);
    }
    Ok(params)
}

/// The client's form body, forwarded verbatim in `parameters`.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(text: &str) -> Result<Params, String> {
        serde_urlencoded::from_str(text)
            .map(Params)
            .map_err(|e| e.to_string())
    }

    /// Parameters that did not come from a form (a request object's claims).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }

    /// The first value of `key`, if non-empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first of `single_valued` that occurs more than once, which Authlete refuses.
    pub fn repeated<'k>(&self, single_valued: &[&'k str]) -> Option<&'k str> {
        single_valued
            .iter()
            .copied()
            .find(|key| self.count(key) > 1)
    }

    /// How many times `key` occurs, empty values included.
    pub fn count(&self, key: &str) -> usize {
        self.0.iter().filter(|(k, _)| k == key).count()
    }
}
