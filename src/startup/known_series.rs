//! The gateway's metrics with every label combination known in advance exported at 0 (SPEC
//! §8), so that `increase()` and `rate()` see the first event after a restart. Here, in the
//! composition root, because the vocabularies belong to the modules that use them.

use crate::actions::documented;
use crate::authlete::api::DOCUMENT_SERVED;
use crate::authlete::{Action, Api, FailReason, FAILURE_ACTIONS};
use crate::cache::Document;
use crate::ciba::USER_CODE_LOCKED;
use crate::metrics::{Metrics, CACHE_RESULTS, DECISIONS, NOTIFICATION_OUTCOMES, STATE_RESULTS};
use crate::outbox::NotificationMode;
use crate::state::{Op, OutboxKind};

/// A fresh registry with every known series at 0. HTTP statuses are not known in advance and
/// appear with their first request; the mismatch gauges appear with the first discovery check,
/// since 0 would claim a check that has not happened.
pub fn metrics() -> Metrics {
    let metrics = Metrics::new();
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
        metrics.notification_duration.with_label_values(&[mode]);
    }
    for kind in OutboxKind::ALL.map(OutboxKind::label) {
        metrics.outbox_depth.with_label_values(&[kind]);
        metrics.outbox_in_flight.with_label_values(&[kind]);
        metrics.outbox_reclaimed.with_label_values(&[kind]);
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
    metrics
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
