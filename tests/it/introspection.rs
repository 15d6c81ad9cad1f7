//! `/introspection` callers with and without `rs_uri` (SPEC §3.4): Authlete answers with a JWT
//! only for a resource server it knows by URI, so the caller's entry supplies `rsUri`.

use serde_json::json;

use authlete_gateway::config::IntrospectionClient;

use crate::support::*;

const JWT: &str = "application/token-introspection+jwt";

fn caller(toml_text: &str) -> IntrospectionClient {
    toml::from_str(toml_text).unwrap()
}

async fn gateway() -> TestGateway {
    let clients = vec![
        caller("id = \"rs\"\nsecret = \"rs-secret\"\n"),
        caller(
            "id = \"rs-jwt\"\nsecret = \"jwt-secret\"\nrs_uri = \"https://rs.example.com/api\"\n",
        ),
    ];
    let gw = TestGateway::start_with(move |s| s.introspection.clients = clients).await;
    gw.answer(
        "auth/introspection/standard",
        json!({"action": "OK", "responseContent": "{\"active\":false}"}),
    )
    .await;
    gw
}

async fn introspect(gw: &TestGateway, id: &str, secret: &str) -> Reply {
    let auth = basic(id, secret);
    gw.post_form(
        "/introspection",
        "token=abc",
        &[("Authorization", &auth), ("Accept", JWT)],
    )
    .await
}

#[actix_web::test]
async fn a_caller_with_rs_uri_sends_it_to_authlete_as_rs_uri() {
    let gw = gateway().await;
    let reply = introspect(&gw, "rs-jwt", "jwt-secret").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        gw.received("auth/introspection/standard").await,
        vec![json!({
            "parameters": "token=abc",
            "httpAcceptHeader": JWT,
            "rsUri": "https://rs.example.com/api"
        })]
    );
}

#[actix_web::test]
async fn a_caller_without_rs_uri_sends_no_rs_uri_member() {
    let gw = gateway().await;
    let reply = introspect(&gw, "rs", "rs-secret").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let received = gw.received("auth/introspection/standard").await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["httpAcceptHeader"], JWT);
    assert!(received[0].get("rsUri").is_none(), "{}", received[0]);
}
