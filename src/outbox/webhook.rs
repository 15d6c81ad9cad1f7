//! The authentication-device webhook channel's transport (SPEC §5.2): Standard Webhooks
//! signatures, re-signed with a fresh timestamp on every attempt, retried until the message's
//! deadline.

use std::rc::Rc;

use awc::http::header::{self, HeaderValue};

use super::http::{describe, post};
use super::queue::Place;
use super::webhook_target::WebhookTarget;
use super::worker::Worker;
use super::WebhookMessage;
use crate::backoff::{backoff, next_wait};
use crate::outbound::{Reply, StatusClass};

/// Delivers one message, retrying every non-2xx answer and failure until its deadline.
pub(super) async fn deliver(worker: Rc<Worker>, message: WebhookMessage, _place: Place) {
    let request_id = &message.request_id;
    let (Some(target), Some(client)) = (&worker.config.webhook, &worker.webhooks) else {
        log::warn!("request_id={request_id} no device webhook is configured; message dropped");
        return;
    };
    let (Ok(id), Ok(request_id_value)) = (
        HeaderValue::from_str(&message.id),
        HeaderValue::from_str(request_id),
    ) else {
        log::error!("request_id={request_id} webhook id is not a valid header value; dropped");
        return;
    };
    let clock = &worker.config.clock;
    let mut attempts = 0;
    let mut last = "deadline passed before the first attempt".to_owned();
    while clock.now() < message.deadline {
        let headers = [("webhook-id", &id), ("X-Request-Id", &request_id_value)];
        let answer = attempt(&worker, client, target, &message, headers).await;
        attempts += 1;
        let retry_after = match answer {
            Ok(reply) if reply.class() == StatusClass::Success => {
                log::debug!("request_id={request_id} webhook {} accepted", message.id);
                return;
            }
            Ok(reply) => {
                last = describe(&reply);
                reply.retry_after().map(str::to_owned)
            }
            Err(error) => {
                last = error;
                None
            }
        };
        let wait = backoff(attempts, worker.config.max_backoff);
        let Some(wait) = next_wait(wait, retry_after.as_deref(), clock.now(), message.deadline)
        else {
            break;
        };
        log::debug!(
            "request_id={request_id} webhook {} retried ({last})",
            message.id
        );
        clock.sleep_until(clock.instant() + wait).await;
    }
    log::warn!(
        "request_id={request_id} webhook {} not accepted before its deadline after {attempts} \
         attempts (last: {last})",
        message.id
    );
}

/// One signed POST, within the webhook's timeout; waiting for an in-flight place is not part
/// of it.
async fn attempt(
    worker: &Worker,
    client: &awc::Client,
    target: &WebhookTarget,
    message: &WebhookMessage,
    headers: [(&str, &HeaderValue); 2],
) -> Result<Reply, String> {
    let _in_flight = worker.webhook_in_flight.acquire().await;
    // Signed now, not when queued: receivers reject stale timestamps (replay protection).
    let timestamp = worker.config.clock.unix_secs();
    let mut request = client
        .post(&target.url)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header((
            "webhook-signature",
            target.signer.sign(&message.id, timestamp, &message.body),
        ));
    for (name, value) in headers {
        request = request.insert_header((name, value.clone()));
    }
    post(request, message.body.clone(), target.timeout).await
}
