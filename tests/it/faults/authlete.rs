//! Authlete failing (SPEC §3 "Upstream failures"): unreachable, slower than each timeout, broken
//! off, truncated, flooding, trickling, rate-limiting, failing in bursts. 503 with `Retry-After`
//! for what may pass, 500 for what will not; never a word of Authlete's; the first success is
//! served as if nothing had happened.

use std::time::{Duration, Instant};

use authlete_gateway::config::IntrospectionClient;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::*;
use crate::support::*;

const TOKEN_API: &str = "auth/token";
const TOKEN_FORM: &str = "grant_type=client_credentials";
const BACKCHANNEL_FORM: &str = "scope=openid&login_hint=alice";

fn token_ok() -> Value {
    json!({"action": "OK", "resultMessage": LEAK, "responseContent": "{\"access_token\":\"at-1\"}"})
}

fn series(api: &str, action: &str) -> String {
    format!("gateway_authlete_requests_total{{action=\"{action}\",api=\"{api}\"}}")
}

/// `gateway_authlete_requests_total{api, action}` now.
async fn calls(gw: &TestGateway, api: &str, action: &str) -> f64 {
    sample(&gw.metrics().await, &series(api, action))
}

/// How a broken answer should end.
enum Expect {
    /// 503 with the default `Retry-After`, counted `transport_error`, at the deadline.
    TimedOut,
    /// 503 with the default `Retry-After`, counted `transport_error`, before the deadline.
    Lost,
    /// 503, counted `http_error`, with this `Retry-After`.
    Unavailable(&'static str),
    /// 500, counted with this action, before the deadline.
    ServerError(&'static str),
}

#[actix_web::test]
async fn every_broken_answer_from_authlete_gets_the_answer_of_the_spec_then_the_first_success_is_served(
) {
    const TIMEOUT: Duration = Duration::from_millis(800);
    let unparseable = "{\"action\":\"OK\",\"responseContent\":\"{\\\"access_tok";
    let cases = [
        ("no answer at all", Fault::Silent, Expect::TimedOut),
        (
            "a body that trickles forever",
            Fault::Trickle {
                every: Duration::from_millis(20),
            },
            Expect::TimedOut,
        ),
        (
            "a reset before the answer",
            Fault::ResetBeforeAnswer,
            Expect::Lost,
        ),
        (
            "a reset mid-body",
            Fault::ResetMidBody { sent: unparseable },
            Expect::Lost,
        ),
        (
            "a close short of Content-Length",
            Fault::CloseMidBody { sent: unparseable },
            Expect::Lost,
        ),
        (
            "truncated JSON, complete as framed",
            Fault::text(200, unparseable),
            Expect::ServerError("unknown"),
        ),
        (
            "a body framed by the connection's close",
            Fault::CloseDelimited { body: unparseable },
            Expect::ServerError("unknown"),
        ),
        (
            "not JSON",
            Fault::text(200, "<html>upstream-secret-text</html>"),
            Expect::ServerError("unknown"),
        ),
        (
            "an undocumented action",
            Fault::json(
                200,
                json!({"action": "SOMETHING_NEW", "resultCode": "A999999", "resultMessage": LEAK}),
            ),
            Expect::ServerError("unknown"),
        ),
        (
            "a 2 MiB body",
            Fault::Huge {
                status: 200,
                bytes: 2 << 20,
            },
            Expect::ServerError("unknown"),
        ),
        (
            "a body without end, sent at full speed",
            Fault::Endless,
            Expect::ServerError("unknown"),
        ),
        (
            "500 with Authlete's text",
            Fault::json(500, authlete_text("A001101")),
            Expect::Unavailable("2"),
        ),
        (
            "502 without a body",
            Fault::status_with(502, &[]),
            Expect::Unavailable("2"),
        ),
        (
            "401: our credentials are wrong",
            Fault::json(401, authlete_text("A001202")),
            Expect::ServerError("http_error"),
        ),
        (
            "404: our configuration is wrong",
            Fault::json(404, authlete_text("A001215")),
            Expect::ServerError("http_error"),
        ),
    ];
    let mut script: Vec<Fault> = cases.iter().map(|(_, fault, _)| fault.clone()).collect();
    script.push(Fault::json(200, token_ok()));
    let authlete = FaultyServer::start(&api_path(TOKEN_API), script).await;
    let url = authlete.uri().parse().unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.authlete.base_url = Some(url);
        s.authlete.token_timeout = TIMEOUT;
    })
    .await;
    for (served, (case, _, expect)) in cases.iter().enumerate() {
        let action = match expect {
            Expect::TimedOut | Expect::Lost => "transport_error",
            Expect::Unavailable(_) => "http_error",
            Expect::ServerError(action) => action,
        };
        let before = calls(&gw, "token", action).await;
        let started = Instant::now();
        let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
        match expect {
            Expect::TimedOut => {
                assert_cut_at(case, started, TIMEOUT);
                assert_unavailable(case, &reply, "2");
            }
            Expect::Lost => {
                assert_before(case, started, TIMEOUT);
                assert_unavailable(case, &reply, "2");
            }
            Expect::Unavailable(retry_after) => {
                assert_before(case, started, TIMEOUT);
                assert_unavailable(case, &reply, retry_after);
            }
            Expect::ServerError(_) => {
                assert_before(case, started, TIMEOUT);
                assert_server_error(case, &reply);
            }
        }
        assert_eq!(
            calls(&gw, "token", action).await,
            before + 1.0,
            "{case}: counted as {action}"
        );
        assert_eq!(authlete.served(), served + 1, "{case}: one call, no retry");
    }
    let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
    assert_eq!(reply.status, 200, "the first success: {}", reply.body);
    assert_eq!(reply.json(), json!({"access_token": "at-1"}));
    assert_eq!(calls(&gw, "token", "OK").await, 1.0);
}

#[actix_web::test]
async fn authlete_unreachable_gives_503_with_the_default_retry_after() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("{e}"));
    let gw = TestGateway::start_with(move |s| {
        s.authlete.base_url = Some(format!("http://{closed}").parse().unwrap());
    })
    .await;
    let started = Instant::now();
    let reply = gw
        .post_form("/backchannel/authentication", BACKCHANNEL_FORM, &[])
        .await;
    assert_before("unreachable", started, Duration::from_millis(1500));
    assert_unavailable("unreachable", &reply, "2");
    assert_eq!(
        calls(&gw, "backchannel_authentication", "transport_error").await,
        1.0
    );
}

/// Extra request headers.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// One client request: the Authlete API it calls, method, route, headers, body, and the
/// timeout that bounds its Authlete call.
type Call<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Headers<'a>,
    Option<&'a str>,
    Duration,
);

/// A gateway whose Authlete takes 5 s over every call, with a distinct timeout per class.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(300);
const TOKEN_TIMEOUT: Duration = Duration::from_millis(700);
const COMPLETE_TIMEOUT: Duration = Duration::from_millis(1100);

#[actix_web::test]
async fn each_authlete_call_is_cut_at_its_own_timeout() {
    let rs: IntrospectionClient = toml::from_str("id = \"rs\"\nsecret = \"rs-secret\"\n").unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.authlete.request_timeout = REQUEST_TIMEOUT;
        s.authlete.token_timeout = TOKEN_TIMEOUT;
        s.authlete.complete_timeout = COMPLETE_TIMEOUT;
        s.introspection.clients = vec![rs];
    })
    .await;
    // A request to decide, issued while Authlete is quick.
    gw.issue_req_1(user_identification("alice@example.com"))
        .await;
    let decision_token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.authlete.reset().await;
    let slow = || {
        ResponseTemplate::new(200)
            .set_body_json(token_ok())
            .set_delay(Duration::from_secs(5))
    };
    for verb in ["GET", "POST"] {
        Mock::given(method(verb))
            .respond_with(slow())
            .mount(&gw.authlete)
            .await;
    }
    let rs_auth = basic("rs", "rs-secret");
    let decision = format!("Bearer {decision_token}");
    let cases: [Call; 8] = [
        (
            "backchannel_authentication",
            "POST",
            "/backchannel/authentication",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(BACKCHANNEL_FORM),
            REQUEST_TIMEOUT,
        ),
        (
            "token",
            "POST",
            "/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(TOKEN_FORM),
            TOKEN_TIMEOUT,
        ),
        (
            "introspection",
            "POST",
            "/introspection",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &rs_auth),
            ],
            Some("token=abc"),
            REQUEST_TIMEOUT,
        ),
        (
            "revocation",
            "POST",
            "/revocation",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some("token=abc"),
            REQUEST_TIMEOUT,
        ),
        (
            "userinfo",
            "GET",
            "/userinfo",
            &[("Authorization", "Bearer at-1")],
            None,
            REQUEST_TIMEOUT,
        ),
        (
            "service_configuration",
            "GET",
            "/.well-known/openid-configuration",
            &[],
            None,
            REQUEST_TIMEOUT,
        ),
        ("jwks", "GET", "/jwks", &[], None, REQUEST_TIMEOUT),
        (
            "complete",
            "POST",
            "/device/decisions",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &decision),
            ],
            Some(r#"{"decision":"approve"}"#),
            COMPLETE_TIMEOUT,
        ),
    ];
    for (api, verb, route, headers, body, timeout) in cases {
        let before = calls(&gw, api, "transport_error").await;
        let started = Instant::now();
        let reply = gw.send(verb, route, headers, body).await;
        assert_cut_at(api, started, timeout);
        if api == "complete" {
            // Sent, and no answer: whether Authlete applied it is unknown (SPEC §5.3).
            assert_eq!(reply.status, 504, "{api}: {}", reply.body);
            assert_eq!(reply.json(), json!({"error": "outcome_unknown"}));
            assert_no_leak(api, &reply);
        } else {
            assert_unavailable(api, &reply, "2");
        }
        assert_eq!(
            calls(&gw, api, "transport_error").await,
            before + 1.0,
            "{api}"
        );
    }
}

/// Authlete's advice on when to retry, header by header (SPEC §3: its own value in seconds,
/// capped at 60, else `authlete.retry_after_secs`).
#[actix_web::test]
async fn authletes_rate_limit_headers_become_the_clients_retry_after() {
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    let past = httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(30));
    let cases: [(u16, Headers, &str); 16] = [
        (429, &[("Retry-After", "7")], "7"),
        (503, &[("Retry-After", "7")], "7"),
        (429, &[("Retry-After", "3600")], "60"),
        (429, &[], "9"),
        (500, &[], "9"),
        (429, &[("Retry-After", "0")], "9"),
        (429, &[("Retry-After", "soon")], "9"),
        (429, &[("Retry-After", past.as_str())], "9"),
        (429, &[("Retry-After", soon.as_str())], "30"),
        (429, &[("RateLimit-Reset", "12")], "12"),
        (429, &[("X-RateLimit-Reset", "11")], "11"),
        (429, &[("RateLimit-Reset", "120")], "60"),
        (
            429,
            &[("RateLimit-Reset", "12"), ("Retry-After", "7")],
            "12",
        ),
        (
            429,
            &[("X-RateLimit-Reset", "4"), ("Retry-After", "7")],
            "4",
        ),
        (429, &[("RateLimit-Reset", "0"), ("Retry-After", "5")], "5"),
        (
            503,
            &[("RateLimit-Reset", "-3"), ("X-RateLimit-Reset", "3")],
            "3",
        ),
    ];
    let gw = TestGateway::start_with(|s| s.authlete.retry_after = Duration::from_secs(9)).await;
    for (n, (status, headers, expected)) in cases.iter().enumerate() {
        let case = format!("{status} {headers:?}");
        gw.authlete.reset().await;
        let mut template = ResponseTemplate::new(*status).set_body_json(authlete_text("A001101"));
        for (name, value) in *headers {
            template = template.insert_header(*name, *value);
        }
        answer(&gw.authlete, TOKEN_API, template).await;
        let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
        if *expected == "30" {
            // An HTTP date, a whole second or two may pass on the way.
            let secs: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((28..=30).contains(&secs), "{case}: {secs}");
            assert_unavailable(&case, &reply, &secs.to_string());
        } else {
            assert_unavailable(&case, &reply, expected);
        }
        assert_eq!(
            calls(&gw, "token", "http_error").await,
            (n + 1) as f64,
            "{case}"
        );
    }
}

#[actix_web::test]
async fn a_burst_of_503s_ends_at_the_first_success_with_one_call_per_request() {
    const BURST: usize = 5;
    let gw = TestGateway::start().await;
    Mock::given(method("POST"))
        .and(path(api_path(TOKEN_API)))
        .respond_with(ResponseTemplate::new(503).set_body_json(authlete_text("A001101")))
        .up_to_n_times(BURST as u64)
        .mount(&gw.authlete)
        .await;
    gw.answer(TOKEN_API, token_ok()).await;
    for n in 0..BURST {
        let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
        assert_unavailable(&format!("503 number {}", n + 1), &reply, "2");
    }
    // No breaker held open, no back-off of the gateway's own: the next request goes through.
    for _ in 0..2 {
        let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json(), json!({"access_token": "at-1"}));
    }
    assert_eq!(gw.received_requests(TOKEN_API).await.len(), BURST + 2);
    assert_eq!(calls(&gw, "token", "http_error").await, BURST as f64);
    assert_eq!(calls(&gw, "token", "OK").await, 2.0);
    let metrics = gw.metrics().await;
    assert_eq!(
        sample_or_zero(
            &metrics,
            r#"gateway_http_requests_total{method="POST",route="/token",status="503"}"#
        ),
        BURST as f64
    );
}

#[actix_web::test]
async fn an_answer_longer_than_max_response_bytes_is_a_server_error() {
    let mut long = token_ok();
    long["padding"] = json!("x".repeat(100 * 1024));
    for (limit, status) in [(None, 200), (Some(64 * 1024), 500)] {
        let gw = TestGateway::start_with(|s| {
            if let Some(limit) = limit {
                s.authlete.max_response_bytes = limit;
            }
        })
        .await;
        gw.answer(TOKEN_API, long.clone()).await;
        let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
        assert_eq!(reply.status, status, "limit {limit:?}: {}", reply.body);
        if status == 500 {
            assert_server_error("over the limit", &reply);
            assert_eq!(calls(&gw, "token", "unknown").await, 1.0);
        }
    }
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs
/// until the client gives up (a host that drops packets, as seen from the gateway).
async fn unaccepting_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(200), connect).await {
            Ok(Ok(stream)) => queued.push(stream),
            _ => return (listener, queued),
        }
    }
    panic!("the accept queue of {addr} never filled");
}

#[actix_web::test]
async fn a_connection_authlete_never_accepts_is_cut_at_the_connect_timeout() {
    const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
    let (listener, _queued) = unaccepting_listener().await;
    let addr = listener.local_addr().unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.authlete.base_url = Some(format!("http://{addr}").parse().unwrap());
        s.authlete.connect_timeout = CONNECT_TIMEOUT;
        s.authlete.token_timeout = Duration::from_secs(5);
    })
    .await;
    let started = Instant::now();
    let reply = gw.post_form("/token", TOKEN_FORM, &[]).await;
    // Not sent, so tried once more (SPEC §3: only a call that was certainly not sent is).
    assert_cut_at("connect timeout", started, CONNECT_TIMEOUT * 2);
    assert_unavailable("connect timeout", &reply, "2");
    assert_eq!(calls(&gw, "token", "transport_error").await, 1.0);
}
