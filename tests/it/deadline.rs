//! The ping/push deadline against a wiremock Authlete that fails for a while: the deadline's
//! `/complete` is retried until the request expires, and a decision in between still applies.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

const COMPLETE: &str = "backchannel/authentication/complete";
const NOTIFICATION_TOKEN: &str = "client-notification-token-456";

/// A gateway whose wiremock Authlete identifies alice for a ping client and issues `req-1`
/// (lifetime 600 s, so the deadline is at 480 s).
async fn ping_gateway() -> TestGateway {
    let gw = TestGateway::start_with(|s| {
        s.notifications.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
        s.notifications.allow_insecure_http = true;
    })
    .await;
    let mut identification = user_identification("alice@example.com");
    identification["deliveryMode"] = json!("PING");
    gw.issue_req_1(identification).await;
    gw
}

/// The next `times` calls to `/complete` answer `template`, ahead of any later mock.
async fn first_complete_calls(gw: &TestGateway, times: u64, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(api_path(COMPLETE)))
        .respond_with(template)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&gw.authlete)
        .await;
}

/// Waits until Authlete has received a first `/complete` call.
async fn first_complete_call(gw: &TestGateway) {
    eventually("a /complete call", || async {
        !gw.received(COMPLETE).await.is_empty()
    })
    .await;
}

/// Moves the manual clock a second per look until `server` has a request, for at most 90 s:
/// well inside the 120 s between the deadline and the request's expiry.
async fn advance_until_received(gw: &TestGateway, server: &MockServer) -> Vec<Request> {
    let mut advanced = 0;
    eventually("a notification within 90 s of clock time", || {
        if advanced < 90 {
            gw.clock.advance(Duration::from_secs(1));
            advanced += 1;
        }
        async {
            let requests = server.received_requests().await.unwrap_or_default();
            (!requests.is_empty()).then_some(requests)
        }
    })
    .await
}

async fn await_no_pending(gw: &TestGateway) {
    eventually("the request to leave the list", || async {
        gw.pending().await.is_empty()
    })
    .await;
}

#[actix_web::test]
async fn a_deadline_that_authlete_refuses_twice_is_retried_and_the_client_is_notified() {
    let gw = ping_gateway().await;
    let receiver = receiver(204).await;
    first_complete_calls(&gw, 2, ResponseTemplate::new(503)).await;
    gw.answer(COMPLETE, ping_notification(&receiver, NOTIFICATION_TOKEN))
        .await;
    gw.clock.advance(Duration::from_secs(481));
    first_complete_call(&gw).await;
    assert_eq!(
        gw.pending().await.len(),
        1,
        "the request stays listed while its deadline is retried"
    );
    let notifications = advance_until_received(&gw, &receiver).await;
    assert_eq!(notifications.len(), 1);
    let notification = &notifications[0];
    assert_eq!(
        notification.headers.get("authorization").unwrap(),
        &format!("Bearer {NOTIFICATION_TOKEN}")
    );
    let body: Value = serde_json::from_slice(&notification.body).unwrap();
    assert_eq!(body, json!({"auth_req_id": "req-1"}));
    let calls = gw.received(COMPLETE).await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    for call in &calls {
        assert_eq!(call["ticket"], "ticket-1");
        assert_eq!(call["result"], "TRANSACTION_FAILED");
    }
    await_no_pending(&gw).await;
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="timeout"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="unknown"}"#
        ),
        0.0
    );
    assert_eq!(sample(&metrics, "gateway_ciba_pending_requests"), 0.0);
}

#[actix_web::test]
async fn a_decision_between_deadline_retries_applies_and_ends_the_retries() {
    let gw = ping_gateway().await;
    let receiver = receiver(204).await;
    let token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    first_complete_calls(&gw, 1, ResponseTemplate::new(503)).await;
    // The decision's call gets the notification; any later one would find the ticket consumed.
    first_complete_calls(
        &gw,
        1,
        ResponseTemplate::new(200).set_body_json(ping_notification(&receiver, NOTIFICATION_TOKEN)),
    )
    .await;
    gw.answer(
        COMPLETE,
        json!({"action": "SERVER_ERROR", "resultCode": "A196203"}),
    )
    .await;
    gw.clock.advance(Duration::from_secs(481));
    first_complete_call(&gw).await;
    assert_eq!(gw.pending().await.len(), 1);
    let decided = gw.decide(&token, r#"{"decision":"approve"}"#).await;
    assert_eq!(decided.status, 204, "{}", decided.body);
    let notifications = advance_until_received(&gw, &receiver).await;
    let body: Value = serde_json::from_slice(&notifications[0].body).unwrap();
    assert_eq!(body, json!({"auth_req_id": "req-1"}));
    await_no_pending(&gw).await;
    // Past every retry the deadline could still have made, and past the expiry.
    gw.clock.advance(Duration::from_secs(180));
    eventually("the deadline's last wait to end", || async {
        gw.clock.sleepers() == 0
    })
    .await;
    // A call it made now would come in a moment; an absence cannot be awaited, so give it one.
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let calls = gw.received(COMPLETE).await;
    assert_eq!(calls.len(), 2, "the deadline stops once decided: {calls:?}");
    assert_eq!(calls[1]["result"], "AUTHORIZED");
    let metrics = gw.metrics().await;
    for (decision, count) in [("approve", 1.0), ("timeout", 0.0), ("unknown", 0.0)] {
        let series = format!(r#"gateway_device_decisions_total{{decision="{decision}"}}"#);
        assert_eq!(sample(&metrics, &series), count, "{decision}");
    }
}
