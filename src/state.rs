//! What handlers share: settings, metrics, caches and soft CIBA state, built once outside the
//! `HttpServer` factory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::authlete::AuthleteTarget;
use crate::cache::MetadataCache;
use crate::ciba::background::Background;
use crate::ciba::bridge::{Bridge, BridgeParts, DeviceBridge};
use crate::ciba::decision::DecisionKeys;
use crate::ciba::device::DeviceDispatch;
use crate::ciba::lockout::UserCodeLockout;
use crate::ciba::pending::PendingGuard;
use crate::ciba::poll::PollControl;
use crate::clock::SharedClock;
use crate::config::{Backend, Settings, UserSource};
use crate::directory::{Directory, HttpDirectory, StaticDirectory};
use crate::http::callers::IntrospectionCallers;
use crate::http::peer::Proxies;
use crate::http::CredentialRules;
use crate::metrics::Metrics;
use crate::outbox::Outbox;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub proxies: Proxies,
    pub credentials: CredentialRules,
    pub directory: Arc<Directory>,
    /// Discovery and JWKS, shared by every worker.
    pub metadata: MetadataCache,
    /// The resource servers allowed to call `/introspection`.
    pub introspection: IntrospectionCallers,
    pub lockout: UserCodeLockout,
    pub pending: Arc<PendingGuard>,
    pub poll: Arc<PollControl>,
    pub device: Arc<dyn DeviceDispatch>,
    pub bridge: Arc<Bridge>,
    /// Client notifications and device webhook messages (SPEC §5.2, §6).
    pub outbox: Arc<Outbox>,
    /// The console's notification sink.
    pub console: crate::endpoints::console::Sink,
    ready: AtomicBool,
    interval_warning: Once,
}

impl AppState {
    /// Builds the shared state from validated settings; `target` and `tls` serve the
    /// background thread's Authlete client.
    pub fn new(
        settings: Arc<Settings>,
        metrics: Metrics,
        clock: SharedClock,
        target: Arc<AuthleteTarget>,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, String> {
        let s = &settings;
        let proxies = Proxies::new(s.server.trusted_proxies.clone());
        let directory = Arc::new(match s.users.source {
            UserSource::Static => {
                Directory::Static(StaticDirectory::new(s.users.static_users.clone()))
            }
            UserSource::Http => {
                let http = s
                    .users
                    .http
                    .as_ref()
                    .ok_or("users.http is required with users.source = \"http\"")?;
                Directory::Http(HttpDirectory::new(http)?)
            }
        });
        let credentials = CredentialRules {
            realm: s.realm().to_owned(),
            proxies: proxies.clone(),
            cert_header: s.server.client_cert_header,
        };
        let lifetime = Duration::from_secs(s.ciba.max_request_lifetime_secs);
        let pending = Arc::new(PendingGuard::new(
            s.ciba.max_pending_per_user,
            clock.clone(),
        ));
        let poll = Arc::new(PollControl::new(
            s.cache.poll_max_entries,
            lifetime,
            Duration::from_millis(s.ciba.poll_leeway_ms),
            s.ciba.default_interval_secs.max(1),
        ));
        let outbox = Outbox::new(s, metrics.clone(), clock.clone())?;
        let bridge = Arc::new(Bridge::new(
            s,
            BridgeParts {
                keys: decision_keys(s)?,
                pending: pending.clone(),
                poll: poll.clone(),
                outbox: outbox.clone(),
                background: Background::start(s, target, tls, metrics.clone())?,
                directory: directory.clone(),
                metrics: metrics.clone(),
                clock: clock.clone(),
            },
        ));
        Ok(Self {
            lockout: UserCodeLockout::new(
                s.ciba.user_code_max_failures,
                Duration::from_secs(s.ciba.user_code_failure_window_secs),
                clock.clone(),
            ),
            pending,
            poll,
            device: Arc::new(DeviceBridge(bridge.clone())),
            bridge,
            outbox,
            console: Default::default(),
            metadata: MetadataCache::new(&settings, metrics.clone()),
            introspection: IntrospectionCallers::new(
                s.introspection.clients.clone(),
                &credentials.realm,
            ),
            ready: AtomicBool::new(false),
            interval_warning: Once::new(),
            settings,
            metrics,
            clock,
            proxies,
            credentials,
            directory,
        })
    }

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

    /// The issue acknowledgement as the client gets it: an `interval` ≤ 0 is removed (CIBA
    /// §7.3; clients then wait 5 s), anything else stays verbatim.
    pub fn acknowledgement(&self, content: &str) -> String {
        let Ok(serde_json::Value::Object(mut body)) = serde_json::from_str(content) else {
            return content.to_owned();
        };
        let non_positive = body
            .get("interval")
            .and_then(serde_json::Value::as_f64)
            .is_some_and(|i| i <= 0.0);
        if !non_positive {
            return content.to_owned();
        }
        body.remove("interval");
        self.interval_warning.call_once(|| {
            log::warn!(
                "Authlete issued auth_req_ids with interval <= 0; the gateway removes it from \
                 acknowledgements. Set the service's backchannelPollingInterval to at least 1."
            );
        });
        serde_json::Value::Object(body).to_string()
    }
}

/// `device.decision_keys`, or a random key for the embedded backend when none is set.
fn decision_keys(settings: &Settings) -> Result<DecisionKeys, String> {
    if settings.device.decision_keys.0.is_empty() && settings.authlete.backend == Backend::Embedded
    {
        log::warn!(
            "device.decision_keys is empty: using a random key, so decision tokens do not \
             survive a restart and other replicas cannot apply them"
        );
        return Ok(DecisionKeys::random());
    }
    DecisionKeys::from_config(&settings.device.decision_keys)
}
