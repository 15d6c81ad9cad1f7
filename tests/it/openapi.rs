//! `openapi.yaml` stays true to the gateway: it names exactly the routes and methods the
//! listeners mount (the route tables of `endpoints`, from which the routers are built), each
//! on its listener; and each table entry is what a running gateway serves.

use std::collections::BTreeSet;

use actix_web::http::Method;
use authlete_gateway::endpoints::{Route, ADMIN, ADMIN_GUARDED, CONSOLE, CONSOLE_SCOPE, PUBLIC};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{send, TestGateway};

const METHODS: [&str; 8] = [
    "get", "head", "post", "put", "delete", "options", "patch", "trace",
];

const ORIGIN: &str = "https://app.example";

/// The admin listener's address in the document's `servers`.
const ADMIN_SERVER: &str = "http://127.0.0.1:9464";

/// `(listener, path, method)`, lower-case methods.
type Operation = (&'static str, String, String);

fn document() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "one document");
    docs.remove(0)
}

fn documented(doc: &Yaml) -> BTreeSet<Operation> {
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document"
    );
    let paths = doc["paths"].as_hash().expect("paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("a path is a string").to_owned();
        let listener = match item["servers"][0]["url"].as_str() {
            None => "public",
            Some(ADMIN_SERVER) => "admin",
            Some(other) => panic!("{path}: unknown server {other}"),
        };
        let item = item.as_hash().expect("a path item");
        for key in item.keys() {
            let key = key.as_str().expect("a key");
            if METHODS.contains(&key) {
                operations.insert((listener, path.clone(), key.to_owned()));
            } else {
                assert!(
                    ["servers", "parameters", "summary", "description"].contains(&key),
                    "{path}: unexpected {key}"
                );
            }
        }
    }
    operations
}

fn operations<'a>(
    listener: &'static str,
    prefix: &'a str,
    routes: &'a [Route],
) -> impl Iterator<Item = Operation> + 'a {
    routes.iter().flat_map(move |route| {
        route.methods().map(move |method| {
            (
                listener,
                format!("{prefix}{}", route.path),
                method.as_str().to_ascii_lowercase(),
            )
        })
    })
}

fn mounted() -> BTreeSet<Operation> {
    operations("public", "", PUBLIC)
        .chain(operations("admin", "", ADMIN))
        .chain(operations("admin", "", ADMIN_GUARDED))
        .chain(operations("admin", CONSOLE_SCOPE, CONSOLE))
        .collect()
}

#[test]
fn the_openapi_document_names_exactly_the_mounted_routes() {
    let documented = documented(&document());
    let mounted = mounted();
    let missing: Vec<_> = mounted.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        missing.is_empty(),
        "mounted but not in openapi.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "in openapi.yaml but not mounted: {extra:?}"
    );
}

#[test]
fn every_documented_reference_resolves() {
    let doc = document();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    let mut unresolved = Vec::new();
    for reference in text.split("$ref: \"").skip(1) {
        let target = reference.split('"').next().unwrap_or("");
        let mut node = &doc;
        for part in target.trim_start_matches("#/").split('/') {
            node = &node[part];
        }
        if node.is_badvalue() {
            unresolved.push(target.to_owned());
        }
    }
    assert!(unresolved.is_empty(), "{unresolved:?}");
}

/// The tables are what runs: every route answers each of its methods with something other
/// than 404 or 405, and any other method with 405 and its `Allow`.
#[actix_web::test]
async fn every_route_in_the_tables_is_served_by_a_running_gateway() {
    let gw = TestGateway::start_embedded(|s| {
        s.admin.console = true;
        s.server.cors_allowed_origins = vec![ORIGIN.to_owned()];
    })
    .await;
    let listeners = [
        (&gw.base, "", PUBLIC),
        (&gw.admin, "", ADMIN),
        (&gw.admin, "", ADMIN_GUARDED),
        (&gw.admin, CONSOLE_SCOPE, CONSOLE),
    ];
    for (base, prefix, routes) in listeners {
        for route in routes {
            let path = format!("{prefix}{}", route.path);
            for method in route.methods() {
                // A preflight is answered only for an allowed origin.
                let preflight = [("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")];
                let headers: &[(&str, &str)] = match *method {
                    Method::OPTIONS => &preflight,
                    _ => &[],
                };
                let reply = send(base, method.as_str(), &path, headers, Some("")).await;
                assert!(
                    ![404, 405].contains(&reply.status.as_u16()),
                    "{method} {path}: {}",
                    reply.status
                );
            }
            let reply = send(base, "PATCH", &path, &[], None).await;
            assert_eq!(reply.status, 405, "PATCH {path}");
            assert_eq!(reply.header("allow"), Some(route.allow), "PATCH {path}");
        }
    }
    let reply = send(&gw.base, "GET", "/not-a-route", &[], None).await;
    assert_eq!(reply.status, 404);
    gw.stop().await;
}
