//! The remote user directory failing (SPEC §4.1): hanging, trickling, resetting, truncating,
//! flooding. Each lookup ends within `users.http.timeout_ms` as `SERVER_ERROR` at Authlete's
//! `/fail`, nothing of the directory's answer reaches the client, and the first good answer
//! after the faults identifies the user.

use std::time::Instant;

use serde_json::json;

use super::*;
use crate::directory::{fail_reasons, gateway_at, BACKCHANNEL, BODY, DIRECTORY_TIMEOUT};
use crate::support::*;

const FAILURES: &str = r#"gateway_backchannel_failures_total{reason="SERVER_ERROR"}"#;

#[actix_web::test]
async fn every_directory_fault_is_a_server_error_within_its_timeout_then_the_first_answer_serves() {
    let garbage = "{\"subject\":\"carol\",\"claims\":{\"name\":\"upstream-secret-text";
    let mut cases = broken_answers(garbage);
    cases.push((
        "503 with a text",
        Fault::json(503, json!({"message": LEAK})),
    ));
    let mut script: Vec<Fault> = cases.iter().map(|(_, fault)| fault.clone()).collect();
    script.push(Fault::json(
        200,
        json!({"subject": "carol", "claims": {"name": "Carol"}}),
    ));
    let directory = FaultyServer::start("/lookup", script).await;
    let gw = gateway_at(&format!("{}/lookup", directory.uri())).await;
    for (n, (case, fault)) in cases.iter().enumerate() {
        let started = Instant::now();
        let reply = gw.post_form(BACKCHANNEL, BODY, &[]).await;
        assert_timely(case, fault, started, DIRECTORY_TIMEOUT);
        // Authlete's `/fail` answer (BAD_REQUEST here) is the client's.
        assert_eq!(reply.status, 400, "{case}: {}", reply.body);
        assert_no_leak(case, &reply);
        assert_eq!(directory.served(), n + 1, "{case}: one lookup, no retry");
        assert_eq!(
            sample(&gw.metrics().await, FAILURES),
            (n + 1) as f64,
            "{case}"
        );
    }
    let reasons = fail_reasons(&gw).await;
    assert_eq!(reasons, vec![json!("SERVER_ERROR"); cases.len()]);

    let reply = gw.post_form(BACKCHANNEL, BODY, &[]).await;
    assert_eq!(reply.status, 200, "the first good answer: {}", reply.body);
    assert_eq!(reply.json()["auth_req_id"], "req-1");
    assert_eq!(
        fail_reasons(&gw).await.len(),
        cases.len(),
        "no further /fail"
    );
    let issued = gw.received("backchannel/authentication/issue").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["ticket"], "ticket-1");
}
