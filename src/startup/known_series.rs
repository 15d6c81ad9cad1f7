//! The gateway's metrics with every label combination known in advance exported at 0 (SPEC
//! §8), so that `increase()` and `rate()` see the first event after a restart. Here, in the
//! composition root, because the vocabularies belong to the modules that use them.

use crate::actions::documented;
use crate::authlete::api::DOCUMENT_SERVED;
use crate::authlete::{Action, Api, FailReason, FAILURE_ACTIONS};
use crate::cache::Document;
use crate::ciba::USER_CODE_LOCKED;
use crate::config::Settings;
use crate::endpoints::{PUBLIC, UNMATCHED};
use crate::metrics::{
    Bounds, Metrics, ATTEMPT_RESULTS, CACHE_RESULTS, DECISIONS, LONG_POLL_CAUSES,
    NOTIFICATION_OUTCOMES, STATE_RESULTS, STATUS_CLASSES, WEBHOOK_OUTCOMES,
};
use crate::outbox::{NotificationMode, WebhookType};
use crate::state::{Op, OutboxKind};

/// A fresh registry with every known series at 0, its histograms reaching the longest timeout
/// and request lifetime of `settings`. HTTP statuses are not known in advance and appear with
/// their first request (status classes are, for the latency histogram); the mismatch gauges appear with the first discovery check, since 0
/// would claim a check that has not happened.
pub fn metrics(settings: &Settings) -> Metrics {
    let metrics = Metrics::with_bounds(bounds(settings));
    for api in Api::ALL {
        for action in action_labels(api) {
            metrics
                .authlete_requests
                .with_label_values(&[api.name(), action]);
        }
        metrics.authlete_duration.with_label_values(&[api.name()]);
    }
    let reasons = FailReason::ALL.map(FailReason::as_str);
    for reason in reasons.into_iter().chain([USER_CODE_LOCKED]) {
        metrics.backchannel_failures.with_label_values(&[reason]);
    }
    for decision in DECISIONS {
        metrics.device_decisions.with_label_values(&[decision]);
    }
    for mode in NotificationMode::ALL.map(|mode| mode.label()) {
        for outcome in NOTIFICATION_OUTCOMES {
            metrics.notifications.with_label_values(&[mode, outcome]);
        }
        for result in ATTEMPT_RESULTS {
            metrics
                .notification_attempts
                .with_label_values(&[mode, result]);
        }
        metrics.notification_duration.with_label_values(&[mode]);
    }
    for kind in WebhookType::ALL.map(WebhookType::label) {
        for outcome in WEBHOOK_OUTCOMES {
            metrics.webhook_messages.with_label_values(&[kind, outcome]);
        }
    }
    for result in ATTEMPT_RESULTS {
        metrics.webhook_attempts.with_label_values(&[result]);
    }
    for kind in OutboxKind::ALL.map(OutboxKind::label) {
        metrics.outbox_depth.with_label_values(&[kind]);
        metrics.outbox_in_flight.with_label_values(&[kind]);
        metrics.outbox_reclaimed.with_label_values(&[kind]);
    }
    for route in PUBLIC.iter().map(|r| r.path).chain([UNMATCHED]) {
        for class in STATUS_CLASSES {
            metrics.http_duration.with_label_values(&[route, class]);
        }
    }
    for document in Document::ALL {
        for result in CACHE_RESULTS {
            metrics
                .cache_requests
                .with_label_values(&[document.label(), result]);
        }
    }
    for op in Op::ALL.map(Op::label) {
        for result in STATE_RESULTS {
            metrics.state_operations.with_label_values(&[op, result]);
        }
        metrics.state_duration.with_label_values(&[op]);
    }
    for cause in LONG_POLL_CAUSES {
        metrics.long_poll_wakeups.with_label_values(&[cause]);
    }
    metrics
}

/// The longest call any timeout of `settings` allows, and the longest a notification may be
/// retried.
fn bounds(settings: &Settings) -> Bounds {
    let a = &settings.authlete;
    let calls = [
        a.connect_timeout + a.request_timeout,
        a.connect_timeout + a.token_timeout,
        a.connect_timeout + a.complete_timeout,
        settings.notifications.timeout,
        settings.state.redis.command_timeout,
    ];
    let directory = settings.users.http.as_ref().map(|http| http.timeout);
    let webhook = settings.device.webhook.as_ref().map(|hook| hook.timeout);
    let longest_call = calls.into_iter().chain(directory).chain(webhook).max();
    Bounds {
        longest_call: longest_call.unwrap_or_default(),
        longest_delivery: settings.ciba.max_request_lifetime,
    }
}

/// Every `action` label a call to `api` can be counted under: the actions it documents (or `OK`
/// for a raw document), then the failures.
fn action_labels(api: Api) -> Vec<&'static str> {
    let answered: Vec<&'static str> = if api.is_raw_document() {
        vec![DOCUMENT_SERVED]
    } else {
        Action::NAMES
            .iter()
            .copied()
            .filter(|name| documented(api, &Action::from_name(name)))
            .collect()
    };
    answered.into_iter().chain(FAILURE_ACTIONS).collect()
}
