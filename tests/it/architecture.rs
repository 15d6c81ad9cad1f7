//! The module graph stays acyclic: each top-level module of `src/` may use the modules below it,
//! never one that uses it back. Read from the source, as `use crate::...` and `crate::...` paths.

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
