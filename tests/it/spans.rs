//! Spans over OTLP/HTTP (SPEC §13): one ping flow through a gateway with the embedded emulator,
//! exported to a collector in the test, gives the spans of each step, joined to the backchannel
//! request's trace; no attribute holds a secret; a collector that is down or slow never delays
//! a request.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const PING: (&str, &str) = ("ping-client", "ping-secret");
const NOTIFICATION_TOKEN: &str = "client-notification-token-123";
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

async fn gateway(receiver: &MockServer, collector: &str) -> TestGateway {
    let endpoint = format!("{}/cb", receiver.uri());
    let collector = collector.to_owned();
    TestGateway::start_embedded(move |s| {
        let client: authlete_gateway::config::EmulatorClient = toml::from_str(&format!(
            r#"
client_id = "ping-client"
client_secret = "ping-secret"
delivery_mode = "ping"
notification_endpoint = "{endpoint}"
"#
        ))
        .unwrap();
        s.emulator.clients.push(client);
        s.telemetry.otlp_endpoint = Some(collector.parse().unwrap());
        s.telemetry.service_name = "gateway-under-test".into();
        s.telemetry.otlp_timeout = Duration::from_millis(500);
    })
    .await
}

fn by_name<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {:?}", names(spans)))
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

const EXPECTED: [&str; 9] = [
    "POST /backchannel/authentication",
    "authlete backchannel_authentication",
    "directory lookup",
    "authlete issue",
    "POST /device/decisions",
    "ciba decision",
    "authlete complete",
    "notification attempt",
    "POST /token",
];

#[actix_web::test]
async fn one_ping_flow_exports_the_spans_of_every_step_joined_to_the_backchannel_trace() {
    let receiver = receiver(204).await;
    let collector = collector().await;
    let gw = gateway(&receiver, &collector.uri()).await;
    let ack = gw
        .start_ciba(
            PING,
            &format!("&client_notification_token={NOTIFICATION_TOKEN}"),
        )
        .await;
    let auth_req_id = ack["auth_req_id"].as_str().unwrap().to_owned();
    let decision_token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        gw.decide(&decision_token, r#"{"decision":"approve"}"#)
            .await
            .status,
        204
    );
    eventually("the notification", || async {
        !receiver
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    })
    .await;
    let tokens = gw.poll(PING, &auth_req_id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access_token = tokens.json()["access_token"].as_str().unwrap().to_owned();

    let exported = eventually("every span of the flow", || async {
        let exported = spans(&collector).await;
        let have: Vec<&str> = exported.iter().map(|(_, s)| s.name.as_str()).collect();
        EXPECTED
            .iter()
            .all(|n| have.contains(n))
            .then_some(exported)
    })
    .await;
    assert!(exported
        .iter()
        .all(|(service, _)| service.contains("gateway-under-test")));
    let spans: Vec<Span> = exported.into_iter().map(|(_, s)| s).collect();

    let backchannel = by_name(&spans, "POST /backchannel/authentication");
    assert_eq!(backchannel.kind, SERVER);
    assert!(
        backchannel.parent_span_id.is_empty(),
        "a new trace starts here"
    );
    assert_eq!(
        attribute(backchannel, "http.route").as_deref(),
        Some("/backchannel/authentication")
    );
    assert_eq!(
        attribute(backchannel, "http.response.status_code").as_deref(),
        Some("200")
    );
    let trace = &backchannel.trace_id;
    let child_of = |span: &Span, parent: &Span| {
        assert_eq!(
            &span.trace_id, &parent.trace_id,
            "{} in {}'s trace",
            span.name, parent.name
        );
        assert_eq!(
            span.parent_span_id, parent.span_id,
            "{} below {}",
            span.name, parent.name
        );
    };
    for name in [
        "authlete backchannel_authentication",
        "directory lookup",
        "authlete issue",
    ] {
        child_of(by_name(&spans, name), backchannel);
    }
    let call = by_name(&spans, "authlete backchannel_authentication");
    assert_eq!(call.kind, CLIENT);
    assert_eq!(
        attribute(call, "authlete.api").as_deref(),
        Some("backchannel_authentication")
    );
    assert_eq!(
        attribute(call, "authlete.action").as_deref(),
        Some("USER_IDENTIFICATION")
    );
    assert!(attribute(call, "authlete.result_code").is_some());

    // The device's decision is a trace of its own; the work it starts continues the
    // backchannel request's trace and links back to the decision request.
    let decision_request = by_name(&spans, "POST /device/decisions");
    assert_ne!(&decision_request.trace_id, trace);
    let decision = by_name(&spans, "ciba decision");
    child_of(decision, backchannel);
    assert_eq!(decision.links.len(), 1);
    assert_eq!(decision.links[0].trace_id, decision_request.trace_id);
    assert_eq!(decision.links[0].span_id, decision_request.span_id);
    let complete = by_name(&spans, "authlete complete");
    child_of(complete, decision);
    assert_eq!(
        attribute(complete, "authlete.action").as_deref(),
        Some("NOTIFICATION")
    );
    let attempt = by_name(&spans, "notification attempt");
    child_of(attempt, decision);
    assert_eq!(attempt.kind, CLIENT);
    // The notification itself carried the trace on.
    let notification = &receiver.received_requests().await.unwrap()[0];
    let traceparent = notification
        .headers
        .get("traceparent")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(traceparent.contains(&hex::encode(trace)), "{traceparent}");

    // The token poll is the client's own trace, linked to the backchannel request (the poll
    // entry keeps its position after the decision); a search by the auth_req_id's fingerprint
    // joins them too.
    let token = by_name(&spans, "POST /token");
    let token_call = by_name(&spans, "authlete token");
    child_of(token_call, token);
    assert_ne!(token.trace_id, backchannel.trace_id);
    assert_eq!(token.links.len(), 1, "{token:?}");
    assert_eq!(token.links[0].trace_id, backchannel.trace_id);
    assert_eq!(token.links[0].span_id, backchannel.span_id);
    let fingerprint = attribute(backchannel, "ciba.auth_req_id_sha256").expect("a fingerprint");
    assert_eq!(fingerprint.len(), 16);
    assert_eq!(
        attribute(token, "ciba.auth_req_id_sha256"),
        Some(fingerprint)
    );

    let secrets = [
        "ping-secret",
        NOTIFICATION_TOKEN,
        "alice@example.com",
        auth_req_id.as_str(),
        decision_token.as_str(),
        access_token.as_str(),
    ];
    let mut seen: HashMap<String, String> = HashMap::new();
    for span in &spans {
        for a in &span.attributes {
            let text = format!("{:?}", a.value);
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{} on {} holds a secret",
                    a.key,
                    span.name
                );
            }
            for word in ["ticket", "hint", "secret", "user_code", "authorization"] {
                assert!(!a.key.contains(word), "{} on {}", a.key, span.name);
            }
            seen.insert(a.key.clone(), text);
        }
        for secret in secrets {
            assert!(!span.name.contains(secret), "{}", span.name);
        }
    }
    assert!(seen.contains_key("http.route"), "{seen:?}");
}

/// Requests through a gateway whose collector is `collector`; each must finish in its normal
/// budget while the exporter is stuck.
async fn requests_are_not_delayed_by(collector: &str) {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver, collector).await;
    for _ in 0..40 {
        let reply = actix_web::rt::time::timeout(
            Duration::from_secs(5),
            gw.get(&format!("{}/.well-known/openid-configuration", gw.base)),
        )
        .await
        .expect("the request finished in its budget");
        assert_eq!(reply.status, 200);
    }
    let started = std::time::Instant::now();
    let ack = actix_web::rt::time::timeout(
        Duration::from_secs(5),
        gw.start_ciba(
            PING,
            &format!("&client_notification_token={NOTIFICATION_TOKEN}"),
        ),
    )
    .await
    .expect("the backchannel request finished in its budget");
    assert!(ack["auth_req_id"].is_string());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[actix_web::test]
async fn a_collector_that_is_down_never_delays_a_request() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    requests_are_not_delayed_by(&format!("http://{closed}")).await;
}

#[actix_web::test]
async fn a_collector_that_never_answers_never_delays_a_request() {
    let slow = MockServer::builder().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount(&slow)
        .await;
    requests_are_not_delayed_by(&slow.uri()).await;
}

#[actix_web::test]
async fn a_deadline_notification_continues_the_backchannel_trace() {
    let receiver = receiver(204).await;
    let collector = collector().await;
    let gw = gateway(&receiver, &collector.uri()).await;
    gw.start_ciba(
        PING,
        &format!("&client_notification_token={NOTIFICATION_TOKEN}"),
    )
    .await;
    // The deadline is 0.8 of the 600 s lifetime.
    gw.clock.advance(Duration::from_secs(481));
    let notification = eventually("the deadline's notification", || async {
        receiver.received_requests().await.unwrap_or_default().pop()
    })
    .await;
    let exported = eventually("the backchannel and attempt spans", || async {
        let spans: Vec<Span> = spans(&collector)
            .await
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        let have = names(&spans);
        (have.contains(&"POST /backchannel/authentication")
            && have.contains(&"notification attempt")
            && have.contains(&"authlete complete"))
        .then_some(spans)
    })
    .await;
    let backchannel = by_name(&exported, "POST /backchannel/authentication");
    let attempt = by_name(&exported, "notification attempt");
    assert_eq!(attempt.trace_id, backchannel.trace_id);
    assert_eq!(attempt.parent_span_id, backchannel.span_id);
    // The deadline's own /complete is recorded in the same trace.
    let complete = by_name(&exported, "authlete complete");
    assert_eq!(complete.trace_id, backchannel.trace_id);
    assert_eq!(
        attribute(complete, "authlete.action").as_deref(),
        Some("NOTIFICATION")
    );
    let traceparent = notification
        .headers
        .get("traceparent")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{}-", hex::encode(&backchannel.trace_id))),
        "{traceparent}"
    );
}
