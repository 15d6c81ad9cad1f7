//! CIBA flows through a running gateway: start a request, list it, decide it, poll for tokens.

use serde_json::Value;

use super::{basic, client, read, Reply, TestGateway};

impl TestGateway {
    /// POSTs a JSON body to a full URL with extra headers.
    pub async fn post_json(&self, url: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = client()
            .post(url)
            .insert_header(("Content-Type", "application/json"));
        for (name, value) in headers {
            request = request.append_header((*name, *value));
        }
        read(request.send_body(body.to_owned()).await).await
    }

    /// The console's JSON feed of pending requests.
    pub async fn pending(&self) -> Vec<Value> {
        let reply = self.get(&format!("{}/console/requests", self.admin)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json().as_array().cloned().unwrap_or_default()
    }

    /// Starts a CIBA request for `login_hint` as `client`; returns the acknowledgement.
    pub async fn start_ciba(&self, client: (&str, &str), extra: &str) -> Value {
        let body = format!("scope=openid%20email&login_hint=alice%40example.com{extra}");
        let reply = self
            .post_form(
                "/backchannel/authentication",
                &body,
                &[("Authorization", &basic(client.0, client.1))],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Authlete identifies the user with `identification` and issues `req-1`; a backchannel
    /// request for alice is then issued.
    pub async fn issue_req_1(&self, identification: Value) {
        self.answer("backchannel/authentication", identification)
            .await;
        self.answer(
            "backchannel/authentication/issue",
            super::issued("req-1", 5),
        )
        .await;
        let reply = self
            .post_form(
                "/backchannel/authentication",
                "scope=openid&login_hint=alice%40example.com",
                &[],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    /// Polls the token endpoint once for `auth_req_id` as `client`.
    pub async fn poll(&self, client: (&str, &str), auth_req_id: &str) -> Reply {
        let body = format!(
            "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={auth_req_id}"
        );
        self.post_form(
            "/token",
            &body,
            &[("Authorization", &basic(client.0, client.1))],
        )
        .await
    }

    /// Applies `decision` with `token` at `/device/decisions`.
    pub async fn decide(&self, token: &str, decision: &str) -> Reply {
        self.post_json(
            &format!("{}/device/decisions", self.base),
            decision,
            &[("Authorization", &format!("Bearer {token}"))],
        )
        .await
    }
}
