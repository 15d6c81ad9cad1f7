//! What handlers share: settings, metrics, caches, the CIBA side path and the outbox. Built once
//! by `startup` (the composition root), outside the `HttpServer` factory; nothing here starts a
//! thread or parses configuration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cache::MetadataCache;
use crate::ciba::Ciba;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http::callers::IntrospectionCallers;
use crate::http::peer::Proxies;
use crate::http::CredentialRules;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::sink::NotificationSink;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub proxies: Proxies,
    pub credentials: CredentialRules,
    /// Discovery and JWKS, shared by every worker.
    pub metadata: MetadataCache,
    /// The resource servers allowed to call `/introspection`.
    pub introspection: IntrospectionCallers,
    pub ciba: Ciba,
    /// Client notifications and device webhook messages (SPEC §5.2, §6).
    pub outbox: Arc<Outbox>,
    /// The console's notification sink.
    pub console: NotificationSink,
    /// The application's tracer provider (SPEC §13).
    pub tracing: crate::telemetry::Tracing,
    /// False until the listeners serve, and again from the start of a graceful shutdown.
    pub ready: AtomicBool,
}

impl AppState {
    pub fn realm(&self) -> &str {
        &self.credentials.realm
    }

    /// The `route` label: a matched pattern relative to `public_url`'s path.
    pub fn route_label(&self, pattern: &str) -> String {
        let relative = pattern
            .strip_prefix(self.settings.base_path())
            .unwrap_or(pattern);
        if relative.is_empty() {
            "/".to_owned()
        } else {
            relative.to_owned()
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}
