//! Rules read from the source of `src/`:
//! - the module graph stays acyclic: each top-level module may use the modules below it, never
//!   one that uses it back (read as `use crate::...` and `crate::...` paths);
//! - a value named like a secret is never compared with `==`, `!=`, `.eq(` or `.ne(` (which stop
//!   at the first differing byte) outside a short allow-list: secrets are compared with
//!   `subtle`'s `ct_eq` (docs/security.md, "Constant-time comparisons").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a file under `src/` belongs to (`src/ciba/bridge.rs` → `ciba`).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// Every `crate::<module>` a file's text names, outside comments, grouped imports included
/// (`use crate::{a::X, b};` names `a` and `b`).
fn crate_references(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => found.extend(top_level_names(group)),
            None => found.extend(leading_name(rest)),
        }
    }
    found
}

/// The identifier `text` starts with.
fn leading_name(text: &str) -> Option<String> {
    let name: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The first identifier of each top-level item of a `{...}` group (`text` starts after `{`).
fn top_level_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                names.extend(leading_name(&text[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    names
}

fn visit(dir: &Path, root: &Path, graph: &mut BTreeMap<String, BTreeSet<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, root, graph);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let Some(module) = module_of(path.strip_prefix(root).unwrap()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let uses: Vec<String> = crate_references(&text)
                .into_iter()
                .filter(|m| *m != module)
                .collect();
            graph.entry(module).or_default().extend(uses);
        }
    }
}

/// A cycle through `start`, if any, as the path of modules.
fn cycle_from(start: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_top_level_module_uses_one_that_uses_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    visit(&root, &root, &mut graph);
    assert!(graph.len() > 10, "modules read: {:?}", graph.keys());
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_from(module, &graph))
        .map(|cycle| cycle.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_sees_a_cycle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        cycle_from("a", &graph).map(|c| c.join(" ")),
        Some("a b c a".into())
    );
    assert_eq!(cycle_from("d", &graph), None);
    assert_eq!(
        crate_references(
            "use crate::ciba::x;\n// crate::nope\nlet y = crate::metrics::M;\n\
             use crate::{\n    config::{A, B},\n    http,\n};"
        ),
        ["ciba", "config", "http", "metrics"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

/// Words that name a secret in an identifier, once split at `_` and at case changes.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "password",
    "passwd",
    "passphrase",
    "token",
    "tokens",
    "credential",
    "credentials",
    "nonce",
    "signature",
    "mac",
    "hmac",
    "digest",
    "otp",
    "pin",
    "ticket",
    "bearer",
    "apikey",
];

/// Adjacent word pairs that name a secret (`user_code_sha256`, `decision_keys`).
const SECRET_PAIRS: &[[&str; 2]] = &[
    ["caller", "digest"],
    ["user", "code"],
    ["api", "key"],
    ["private", "key"],
    ["decision", "key"],
    ["decision", "keys"],
    ["caller", "key"],
    ["access", "key"],
];

/// Comparisons of secret-named values that are not short-circuit comparisons of a secret
/// against what a caller sent: (file under `src/`, the compared text as the reader reports it,
/// why it is fine).
const ALLOWED: &[(&str, &str, &str)] = &[(
    "state/memory/claims.rs",
    "*held == token.0",
    "completion-claim tokens: random u128 the gateway made, never caller-supplied",
)];

/// `word`'s parts: split at `_` and before an upper-case letter that follows a lower-case one.
fn words(identifier: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut previous_lower = false;
    for c in identifier.chars() {
        if c == '_' {
            parts.push(String::new());
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            parts.push(String::new());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if let Some(last) = parts.last_mut() {
            last.push(c.to_ascii_lowercase());
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn names_a_secret(identifier: &str) -> bool {
    let words = words(identifier);
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|pair| {
            SECRET_PAIRS
                .iter()
                .any(|[a, b]| pair[0] == *a && pair[1] == *b)
        })
}

/// The code of a file: comments and the contents of string and char literals blanked (same
/// length, newlines kept), and nothing from a trailing `#[cfg(test)] mod tests` on.
fn code_of(text: &str) -> String {
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    let bytes = &text.as_bytes()[..end];
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |b: u8| if b == b'\n' { b'\n' } else { b' ' };
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            while i < bytes.len() && !bytes[i..].starts_with(b"*/") {
                out.push(blank(bytes[i]));
                i += 1;
            }
        } else if bytes[i] == b'"' {
            out.push(b'"');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                let escaped = bytes[i] == b'\\';
                out.push(blank(bytes[i]));
                i += 1;
                if escaped && i < bytes.len() {
                    out.push(blank(bytes[i]));
                    i += 1;
                }
            }
            if i < bytes.len() {
                out.push(b'"');
                i += 1;
            }
        } else if bytes[i] == b'\'' && rest.len() > 2 && (rest[2] == b'\'' || rest[1] == b'\\') {
            // A char literal ('a', '\n', '\''); a lifetime has no closing quote.
            out.push(b'\'');
            i += 1;
            while i < bytes.len() && bytes[i] != b'\'' {
                if bytes[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                out.push(b' ');
                i += 1;
            }
            out.push(b'\'');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn operand_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'*' | b'&' | b'!' | b'?')
}

/// The operand that ends just before `end`: a path, field or method chain, with its calls and
/// indexes (a chain may be broken over lines before its `.`).
fn operand_before(code: &[u8], end: usize) -> String {
    let mut i = end;
    while i > 0 && code[i - 1] == b' ' {
        i -= 1;
    }
    let stop = i;
    while i > 0 {
        let c = code[i - 1];
        if c == b')' || c == b']' {
            let (close, open) = if c == b')' {
                (b')', b'(')
            } else {
                (b']', b'[')
            };
            let mut depth = 0;
            while i > 0 {
                i -= 1;
                if code[i] == close {
                    depth += 1;
                } else if code[i] == open {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
        } else if operand_char(c) {
            i -= 1;
        } else if c.is_ascii_whitespace() && code[i] == b'.' {
            while i > 0 && code[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
        } else {
            break;
        }
    }
    String::from_utf8_lossy(&code[i..stop]).into_owned()
}

/// The operand that starts at `start`.
fn operand_after(code: &[u8], start: usize) -> String {
    let mut i = start;
    while i < code.len() && code[i] == b' ' {
        i += 1;
    }
    let begin = i;
    while i < code.len() {
        let c = code[i];
        if c == b'(' || c == b'[' {
            let (open, close) = if c == b'(' {
                (b'(', b')')
            } else {
                (b'[', b']')
            };
            let mut depth = 0;
            while i < code.len() {
                if code[i] == open {
                    depth += 1;
                } else if code[i] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                i += 1;
            }
            i += 1;
        } else if operand_char(c) {
            i += 1;
        } else if c.is_ascii_whitespace() {
            let mut j = i;
            while j < code.len() && code[j].is_ascii_whitespace() {
                j += 1;
            }
            if code.get(j) != Some(&b'.') || code.get(j + 1) == Some(&b'.') {
                break;
            }
            i = j;
        } else {
            break;
        }
    }
    String::from_utf8_lossy(&code[begin..i]).into_owned()
}

/// The identifiers an operand compares: its own path, not its calls' arguments or indexes
/// (`held.get(ticket)` compares what `get` returned, not the ticket).
fn compared_identifiers(operand: &str) -> Vec<String> {
    let mut outside = String::new();
    let mut depth = 0usize;
    for c in operand.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    outside
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// Each short-circuit comparison in `text` whose operands name a secret, as
/// (line, `left op right`).
fn secret_comparisons(text: &str) -> Vec<(usize, String)> {
    let code = code_of(text);
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (at, op) in code
        .match_indices(" == ")
        .chain(code.match_indices(" != "))
        .map(|(at, op)| (at, op.trim()))
    {
        let left = operand_before(bytes, at);
        let right = operand_after(bytes, at + op.len() + 2);
        found.push((at, format!("{left} {op} {right}"), left, right));
    }
    // Operators at the start of a line (rustfmt breaks long comparisons before them).
    for op in ["==", "!="] {
        for (at, _) in code.match_indices('\n') {
            let line = &code[at + 1..];
            let trimmed = line.trim_start();
            if trimmed.starts_with(&format!("{op} ")) {
                let op_at = at + 1 + (line.len() - trimmed.len());
                let left = operand_before(bytes, at);
                let right = operand_after(bytes, op_at + op.len() + 1);
                found.push((op_at, format!("{left} {op} {right}"), left, right));
            }
        }
    }
    for method in [".eq(", ".ne("] {
        for (at, _) in code.match_indices(method) {
            let left = operand_before(bytes, at);
            let call = operand_after(bytes, at + method.len() - 1);
            let right = call
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_owned();
            found.push((at, format!("{left}{method}{right})"), left, right));
        }
    }
    let mut hits: Vec<(usize, String)> = found
        .into_iter()
        .filter(|(_, _, left, right)| {
            compared_identifiers(left)
                .iter()
                .chain(compared_identifiers(right).iter())
                .any(|id| names_a_secret(id))
        })
        .map(|(at, shown, _, _)| {
            let line = code[..at].matches('\n').count() + 1;
            (line, shown.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect();
    hits.sort();
    hits.dedup();
    hits
}

fn visit_sources(dir: &Path, root: &Path, found: &mut Vec<(String, usize, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "tests" {
                visit_sources(&path, root, found);
            }
        } else if name.ends_with(".rs") && !matches!(name, "tests.rs" | "fixtures.rs") {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            for (line, shown) in secret_comparisons(&text) {
                found.push((relative.clone(), line, shown));
            }
        }
    }
}

#[test]
fn no_secret_is_compared_with_a_short_circuit_comparison() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    visit_sources(&root, &root, &mut found);
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(file, _, shown)| !ALLOWED.iter().any(|(f, s, _)| f == file && s == shown))
        .map(|(file, line, shown)| format!("src/{file}:{line}: {shown}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "compare secrets with subtle's ct_eq (or allow-list the line with its reason):\n{}",
        unexpected.join("\n")
    );
    for (file, shown, _) in ALLOWED {
        assert!(
            found.iter().any(|(f, _, s)| f == file && s == shown),
            "an allowed comparison is gone, drop it from the list: {file}: {shown}"
        );
    }
}

#[test]
fn the_reader_sees_a_secret_compared_and_nothing_else() {
    let shown = |text: &str| -> Vec<String> {
        secret_comparisons(text)
            .into_iter()
            .map(|(_, shown)| shown)
            .collect()
    };
    let flagged = [
        ("if given.secret == expected {", "given.secret == expected"),
        (
            "let ok = user_code != entry.code;",
            "user_code != entry.code",
        ),
        (
            "ok(self.console_token.eq(&given))",
            "self.console_token.eq(&given)",
        ),
        (
            "x\n    .clientSecret\n    == other;",
            "x .clientSecret == other",
        ),
        (
            "if found\n        .password()\n        == typed {",
            "found .password() == typed",
        ),
        ("if *held == token.0 {", "*held == token.0"),
    ];
    for (text, expected) in flagged {
        assert_eq!(shown(text), vec![expected.to_owned()], "{text}");
    }
    for text in [
        "if status == 200 {",
        "if x == \"token\" {",
        "// if secret == given",
        "if held.get(ticket) == Some(lease) {",
        "if secret.ct_eq(given.as_bytes()) {",
        "let tokens = a == b;",
        "if c == 'x' && secrets.is_empty() {",
        "#[cfg(test)]\nmod tests {\n    fn t() { assert!(secret == other); }\n}",
    ] {
        assert!(shown(text).is_empty(), "{text}: {:?}", shown(text));
    }
}
