//! Discovery and JWKS while Authlete fails (SPEC §3.3, §7): whatever the fault, once the copy is
//! past its TTL each request is answered within `authlete.request_timeout` with the last good
//! copy, verbatim, `max-age=0`; the first success replaces it.

use std::time::{Duration, Instant};

use authlete_gateway::config::Settings;
use serde_json::json;

use super::*;
use crate::support::*;

const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);

/// The faults of a refresh.
fn faults() -> Vec<(&'static str, Fault)> {
    let mut faults =
        broken_answers("{\"issuer\":\"https://as.example.com\",\"upstream-secret-text");
    faults.extend([
        (
            "JSON that is not an object",
            Fault::text(200, "[\"upstream-secret-text\"]"),
        ),
        (
            "an empty 200",
            Fault::Answer {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
            },
        ),
        (
            "429 with Retry-After",
            Fault::status_with(429, &[("Retry-After", "7")]),
        ),
        (
            "500 with a text",
            Fault::json(500, authlete_text("A001101")),
        ),
        (
            "401 with a text",
            Fault::json(401, authlete_text("A001202")),
        ),
    ]);
    faults
}

/// Runs every fault against `route` (Authlete `api`), whose TTL `set_ttl` makes 1 s.
async fn stale_while_failing(route: &str, api: &str, label: &str, set_ttl: fn(&mut Settings)) {
    let first = json!({"issuer": "https://as.example.com", "keys": [], "n": 1});
    let second = json!({"issuer": "https://as.example.com", "keys": [], "n": 2});
    let cases = faults();
    let mut script = vec![Fault::json(200, first.clone())];
    script.extend(cases.iter().map(|(_, fault)| fault.clone()));
    script.push(Fault::json(200, second.clone()));
    let authlete = FaultyServer::start(&api_path(api), script).await;
    let url = authlete.uri().parse().unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.authlete.base_url = Some(url);
        s.authlete.request_timeout = REQUEST_TIMEOUT;
        set_ttl(s);
    })
    .await;
    let fresh = gw.send("GET", route, &[], None).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.json(), first);
    assert_eq!(fresh.header("cache-control"), Some("public, max-age=1"));
    let etag = fresh.header("etag").unwrap().to_owned();
    assert_eq!(authlete.served(), 1);

    let stale = format!("gateway_cache_requests_total{{cache=\"{label}\",result=\"stale\"}}");
    for (n, (case, fault)) in cases.iter().enumerate() {
        // Until the TTL has passed the copy is fresh and Authlete is not asked.
        let (reply, started) = eventually(case, || async {
            let started = Instant::now();
            let reply = gw.send("GET", route, &[], None).await;
            (authlete.served() == n + 2).then_some((reply, started))
        })
        .await;
        assert_timely(case, fault, started, REQUEST_TIMEOUT);
        assert_eq!(reply.status, 200, "{case}: {}", reply.body);
        assert_eq!(reply.json(), first, "{case}");
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=0"),
            "{case}"
        );
        assert_eq!(reply.header("etag"), Some(etag.as_str()), "{case}");
        assert_no_leak(case, &reply);
        assert_eq!(
            sample(&gw.metrics().await, &stale),
            (n + 1) as f64,
            "{case}"
        );
    }

    let reply = gw.send("GET", route, &[], None).await;
    assert_eq!(reply.status, 200, "the first success: {}", reply.body);
    assert_eq!(reply.json(), second);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=1"));
    assert_ne!(reply.header("etag"), Some(etag.as_str()));
    let again = gw.send("GET", route, &[], None).await;
    assert_eq!(again.json(), second);
    assert_eq!(
        authlete.served(),
        cases.len() + 2,
        "fresh again: served from the cache"
    );
}

#[actix_web::test]
async fn discovery_stays_served_stale_through_every_fault_and_refreshes_at_the_first_success() {
    stale_while_failing(
        "/.well-known/openid-configuration",
        "service/configuration",
        "discovery",
        |s| s.cache.metadata_ttl = Duration::from_secs(1),
    )
    .await;
}

#[actix_web::test]
async fn the_jwk_set_stays_served_stale_through_every_fault_and_refreshes_at_the_first_success() {
    stale_while_failing("/jwks", "service/jwks/get", "jwks", |s| {
        s.cache.jwks_ttl = Duration::from_secs(1)
    })
    .await;
}
