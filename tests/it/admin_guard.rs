//! The admin guard (SPEC §2) against every equivalent spelling of every guarded path: for each
//! route of the tables that mount the guarded routes, each spelling is refused exactly like the
//! plain path, or routes nowhere (404), or is refused by the HTTP parser itself; it is never
//! served past the guard. Written on raw connections, so that no client normalises the target.

use actix_web::http::Method;
use authlete_gateway::endpoints::{Route, ADMIN_GUARDED, CONSOLE, CONSOLE_SCOPE};

use crate::support::*;

const TOKEN: &str = "console-token-of-at-least-32-characters";
/// A method no guarded route serves: its plain answer is the guard's, then 405.
const UNSERVED: &str = "DELETE";

/// Every guarded path (from the route tables) with the methods to try on it.
fn guarded() -> Vec<(String, Vec<&'static str>)> {
    let with_methods = |path: String, route: &Route| {
        assert!(
            route.methods().all(|m| m.as_str() != UNSERVED),
            "{path} serves {UNSERVED}"
        );
        let mut methods: Vec<&'static str> = route.methods().map(Method::as_str).collect();
        methods.push(UNSERVED);
        (path, methods)
    };
    let routes: Vec<_> = ADMIN_GUARDED
        .iter()
        .map(|r| with_methods(r.path.to_owned(), r))
        .chain(
            CONSOLE
                .iter()
                .map(|r| with_methods(format!("{CONSOLE_SCOPE}{}", r.path), r)),
        )
        .collect();
    assert!(routes.len() >= 6, "{routes:?}");
    routes
}

/// `%XX` of each byte of `text`, in upper or lower hex.
fn encoded(text: &str, upper: bool) -> String {
    text.bytes()
        .map(|b| match upper {
            true => format!("%{b:02X}"),
            false => format!("%{b:02x}"),
        })
        .collect()
}

/// The two-byte overlong UTF-8 form of an ASCII byte, percent-encoded (`c` → `%C1%A3`).
fn overlong(b: u8) -> String {
    format!("%{:02X}%{:02X}", 0xC0 | (b >> 6), 0x80 | (b & 0x3F))
}

/// Spellings of `path` (`/a/b`) that a lax router, a proxy or a browser might take for it.
fn spellings(path: &str) -> Vec<(String, Vec<u8>)> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let rest = |from: usize| segments[from..].join("/");
    let joined = |separator: &str| format!("/{}", segments.join(separator));
    // `change` applied to each segment in turn.
    let each = |change: &dyn Fn(&str) -> String| -> Vec<String> {
        (0..segments.len())
            .map(|i| {
                let mut changed = segments.clone();
                changed[i] = change(&segments[i]);
                format!("/{}", changed.join("/"))
            })
            .collect()
    };
    let first_encoded = |upper: bool| {
        move |s: &str| {
            let (head, tail) = s.split_at(1);
            format!("{}{tail}", encoded(head, upper))
        }
    };
    let mut texts: Vec<String> = vec![
        path.to_owned(),
        // Percent-encoded letters, upper and lower hex.
        format!(
            "/{}",
            segments
                .iter()
                .map(|s| encoded(s, true))
                .collect::<Vec<_>>()
                .join("/")
        ),
        format!(
            "/{}",
            segments
                .iter()
                .map(|s| encoded(s, false))
                .collect::<Vec<_>>()
                .join("/")
        ),
        // Encoded slashes.
        joined("%2F"),
        joined("%2f"),
        format!("/%2F{}", rest(0)),
        format!("{path}%2F"),
        // Double and trailing slashes.
        format!("/{path}"),
        joined("//"),
        format!("{path}/"),
        format!("{path}//"),
        // Dot segments, plain and encoded.
        format!("/.{path}"),
        joined("/./"),
        format!("{path}/."),
        format!("/x/..{path}"),
        format!("/x/%2e%2e{path}"),
        format!("/x/%2E%2E{path}"),
        format!("/%2e{path}"),
        format!("{path}/.."),
        format!("{path}/x/.."),
        // Case.
        path.to_ascii_uppercase(),
        // Matrix parameters, query, fragment.
        format!("{path};"),
        format!("{path};a=b"),
        format!("{path}?"),
        format!("{path}?a=b"),
        format!("{path}?/../x"),
        format!("{path}#"),
        format!("{path}#frag"),
        format!("{path}#/../x"),
        // Backslashes, raw and encoded.
        joined("\\"),
        format!("\\{}", rest(0)),
        format!("{path}\\"),
        joined("%5C"),
        format!("{path}%5c"),
        // Overlong UTF-8 slashes, NUL, and white space.
        joined("%C0%AF"),
        joined("%E0%80%AF"),
        format!("{path}%C0%AF"),
        format!("{path}%00"),
        format!("{path}%20"),
        format!("{path}%09"),
    ];
    texts.extend(each(&first_encoded(true)));
    texts.extend(each(&first_encoded(false)));
    texts.extend(each(&|s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }));
    texts.extend(each(&|s: &str| format!("{s};a=b")));
    texts.extend(each(&|s: &str| format!("{s}/")));
    texts.extend(each(&|s: &str| {
        let (head, tail) = s.split_at(1);
        format!("{}{tail}", overlong(head.as_bytes()[0]))
    }));
    let mut all: Vec<(String, Vec<u8>)> = texts
        .into_iter()
        .map(|t| (t.clone(), t.into_bytes()))
        .collect();
    // Raw bytes: an overlong slash and a Latin-1 byte as they are, not percent-encoded.
    let raw = |separator: &[u8]| {
        let mut bytes = Vec::new();
        for segment in &segments {
            bytes.extend_from_slice(separator);
            bytes.extend_from_slice(segment.as_bytes());
        }
        bytes
    };
    for (label, separator) in [("raw C0 AF", &b"/\xC0\xAF"[..]), ("raw E9", &b"/\xE9/"[..])] {
        all.push((format!("{path} ({label})"), raw(separator)));
    }
    all
}

/// 400 from the HTTP parser (a target it cannot read): no body, so no handler wrote it.
fn refused_by_the_parser(reply: &RawReply) -> bool {
    reply.status == 400 && reply.body.is_empty()
}

async fn gateway() -> TestGateway {
    TestGateway::start_with(|s| {
        s.admin.console_token = Some(authlete_gateway::config::Secret::new(TOKEN));
    })
    .await
}

/// Sends `method target` to `base` with `headers` (a JSON body for a POST).
async fn send_raw(base: &str, method: &str, target: &[u8], headers: &[&str]) -> RawReply {
    let body = (method == "POST").then_some("{}");
    raw_request(base, method, target, headers, body).await
}

/// Every spelling of every guarded route, with `headers`: the plain path's answer, a 404, or
/// the parser's 400; with `plain_is` checked on the plain path first.
async fn assert_every_spelling_answers_like_the_plain_path(
    base: &str,
    headers: &[&str],
    plain_is: impl Fn(&str, &str, u16) -> bool,
) -> usize {
    let mut reached = 0;
    for (path, methods) in guarded() {
        for method in methods {
            let plain = send_raw(base, method, path.as_bytes(), headers).await;
            assert!(
                plain_is(method, &path, plain.status),
                "{method} {path} {headers:?}: {plain:?}"
            );
            for (label, target) in spellings(&path) {
                let reply = send_raw(base, method, &target, headers).await;
                assert!(
                    reply.status == plain.status
                        || reply.status == 404
                        || refused_by_the_parser(&reply),
                    "{method} {label} {headers:?}: {} (plain {}): {}",
                    reply.status,
                    plain.status,
                    reply.body
                );
                if reply.status == 421 {
                    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
                    assert_eq!(body, serde_json::json!({"error": "misdirected_request"}));
                }
                if reply.status == plain.status && reply.status != 404 {
                    reached += 1;
                }
            }
        }
    }
    reached
}

#[actix_web::test]
async fn every_spelling_of_every_guarded_route_is_refused_like_the_plain_path() {
    let gw = gateway().await;
    // A foreign Host: the plain path gets the guard's 421, and so does every spelling the
    // router sends to a guarded route.
    let reached = assert_every_spelling_answers_like_the_plain_path(
        &gw.admin,
        &[
            "Host: rebind.evil.example",
            "Content-Type: application/json",
        ],
        |_, _, status| status == 421,
    )
    .await;
    assert!(reached > 50, "spellings that reached the guard: {reached}");
    // An allowed Host with a wrong console token and a body that is not JSON: the plain path's
    // answer is the token's 401, the JSON rule's 415, 405, or the page (which needs neither).
    let reached = assert_every_spelling_answers_like_the_plain_path(
        &gw.admin,
        &[
            "Host: localhost",
            "Authorization: Bearer wrong-token-of-at-least-32-characters",
            "Content-Type: text/plain",
        ],
        |method, path, status| match (method, status) {
            (UNSERVED, 405) | ("POST", 415) | ("GET", 401) => true,
            ("GET", 200) => !path.ends_with("/requests") && !path.ends_with("/notifications"),
            _ => false,
        },
    )
    .await;
    assert!(reached > 50, "spellings that reached the checks: {reached}");
    // With the right Host and token, a decoded spelling reaches the route and is served.
    let token = format!("Authorization: Bearer {TOKEN}");
    let reply = send_raw(
        &gw.admin,
        "GET",
        b"/%63onsole/%72equests",
        &["Host: localhost", &token],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = send_raw(
        &gw.admin,
        "POST",
        b"/c%61che/%70urge",
        &["Host: localhost", "Content-Type: application/json"],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[actix_web::test]
async fn an_absolute_form_target_or_a_second_host_is_checked_like_the_host_header() {
    let gw = gateway().await;
    let port = gw.admin.rsplit(':').next().unwrap().to_owned();
    let wrong_token = "Authorization: Bearer wrong-token-of-at-least-32-characters";
    for (path, methods) in guarded() {
        for method in methods {
            let allowed = send_raw(
                &gw.admin,
                method,
                path.as_bytes(),
                &["Host: localhost", wrong_token],
            )
            .await;
            assert_ne!(allowed.status, 421, "{method} {path}");
            // RFC 9112 §3.2.2: the target's authority is the request's host; the Host header
            // must be allowed too.
            for (authority, host) in [
                ("rebind.evil.example".to_owned(), "localhost"),
                (format!("rebind.evil.example:{port}"), "localhost"),
                (format!("localhost:{port}"), "rebind.evil.example"),
                (format!("127.0.0.1:{port}"), "rebind.evil.example"),
            ] {
                for (label, spelled) in spellings(&path) {
                    let mut target = format!("http://{authority}").into_bytes();
                    target.extend_from_slice(&spelled);
                    let reply = send_raw(
                        &gw.admin,
                        method,
                        &target,
                        &[&format!("Host: {host}"), wrong_token],
                    )
                    .await;
                    assert!(
                        reply.status == 421 || reply.status == 404 || refused_by_the_parser(&reply),
                        "{method} http://{authority}{label} Host {host}: {}: {}",
                        reply.status,
                        reply.body
                    );
                }
            }
            let target = format!("http://localhost:{port}{path}");
            let reply = send_raw(
                &gw.admin,
                method,
                target.as_bytes(),
                &[&format!("Host: localhost:{port}"), wrong_token],
            )
            .await;
            assert_eq!(reply.status, allowed.status, "{method} {target}");
            // Two Host headers are one too many (RFC 9112 §3.2), whichever comes first.
            for hosts in [
                ["Host: localhost", "Host: rebind.evil.example"],
                ["Host: rebind.evil.example", "Host: localhost"],
            ] {
                let reply = send_raw(
                    &gw.admin,
                    method,
                    path.as_bytes(),
                    &[hosts[0], hosts[1], wrong_token],
                )
                .await;
                assert!(
                    reply.status == 421 || refused_by_the_parser(&reply),
                    "{method} {path} {hosts:?}: {}",
                    reply.status
                );
            }
        }
    }
}

#[actix_web::test]
async fn no_spelling_of_a_guarded_route_is_served_on_the_public_listener() {
    let gw = gateway().await;
    let token = format!("Authorization: Bearer {TOKEN}");
    for (path, methods) in guarded() {
        for method in methods {
            let mut targets = spellings(&path);
            targets.push((
                format!("http://localhost{path}"),
                format!("http://localhost{path}").into_bytes(),
            ));
            for (label, target) in targets {
                let reply = send_raw(
                    &gw.base,
                    method,
                    &target,
                    &["Host: localhost", "Content-Type: application/json", &token],
                )
                .await;
                assert!(
                    reply.status == 404 || refused_by_the_parser(&reply),
                    "public {method} {label}: {}: {}",
                    reply.status,
                    reply.body
                );
            }
        }
    }
}
