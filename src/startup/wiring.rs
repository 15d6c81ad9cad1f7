//! The shared state, wired from validated settings: every long-lived part is built here, once,
//! and handed to the parts that use it. Threads start here too (the background runtime of
//! `/complete` and the deadlines, the outbox's delivery thread).

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Once};

use crate::app::AppState;
use crate::authlete::AuthleteTarget;
use crate::cache::MetadataCache;
use crate::ciba::background::Background;
use crate::ciba::bridge::{Bridge, BridgeParts};
use crate::ciba::decision::DecisionKeys;
use crate::ciba::lockout::UserCodeLockout;
use crate::ciba::longpoll::LongPolling;
use crate::ciba::pending::PendingGuard;
use crate::ciba::poll::PollControl;
use crate::ciba::Ciba;
use crate::clock::SharedClock;
use crate::config::{Backend, Settings, UserSource};
use crate::directory::{Directory, HttpDirectory, StaticDirectory};
use crate::http::callers::IntrospectionCallers;
use crate::http::peer::Proxies;
use crate::http::CredentialRules;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::state::State;
use crate::telemetry::Tracing;

/// Builds what handlers share; `target` and `tls` serve the background thread's Authlete
/// client.
pub(super) fn app_state(
    settings: Arc<Settings>,
    metrics: Metrics,
    clock: SharedClock,
    target: Arc<AuthleteTarget>,
    tls: Arc<rustls::ClientConfig>,
) -> Result<AppState, String> {
    let s = &settings;
    let proxies = Proxies::new(s.server.trusted_proxies.clone());
    let credentials = CredentialRules {
        realm: s.realm().to_owned(),
        proxies: proxies.clone(),
        cert_header: s.server.client_cert_header,
    };
    let keys = decision_keys(s)?;
    let state = Arc::new(State::from_settings(
        s,
        clock.clone(),
        metrics.clone(),
        keys.material(),
    )?);
    let tracing = Tracing::new(&s.telemetry)?;
    let outbox = Outbox::new(
        s,
        metrics.clone(),
        clock.clone(),
        state.shared_outbox(),
        tracing.tracer(),
    )?;
    let background = Background::start(s, target, tls, metrics.clone(), tracing.tracer())?;
    let ciba = ciba(
        s,
        &metrics,
        &clock,
        (state, keys),
        outbox.clone(),
        background,
    )?;
    Ok(AppState {
        metadata: MetadataCache::new(s, metrics.clone()),
        introspection: IntrospectionCallers::new(
            s.introspection.clients.clone(),
            &credentials.realm,
        ),
        ciba,
        outbox,
        console: Default::default(),
        ready: AtomicBool::new(false),
        tracing,
        proxies,
        credentials,
        settings,
        metrics,
        clock,
    })
}

/// The CIBA side path: directory, guards, polling control and the device bridge.
fn ciba(
    s: &Settings,
    metrics: &Metrics,
    clock: &SharedClock,
    (state, keys): (Arc<State>, DecisionKeys),
    outbox: Arc<Outbox>,
    background: Background,
) -> Result<Ciba, String> {
    let directory = Arc::new(directory(s)?);
    let pending = Arc::new(PendingGuard::new(state.clone()));
    let poll = Arc::new(PollControl::new(state.clone()));
    let bridge = Arc::new(Bridge::new(
        s,
        BridgeParts {
            keys,
            state: state.clone(),
            pending: pending.clone(),
            poll: poll.clone(),
            outbox,
            background,
            directory: directory.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
        },
    ));
    crate::ciba::deadline::start(&bridge);
    Ok(Ciba {
        long_poll: LongPolling::new(s, state.clone(), clock.clone(), metrics.clone()),
        lockout: UserCodeLockout::new(state),
        directory,
        pending,
        poll,
        bridge,
        binding_message: s.ciba.binding_message_pattern.clone(),
        clock: clock.clone(),
        metrics: metrics.clone(),
        realm: s.realm().to_owned(),
        interval_warning: Once::new(),
    })
}

fn directory(s: &Settings) -> Result<Directory, String> {
    Ok(match s.users.source {
        UserSource::Static => Directory::Static(StaticDirectory::new(s.users.static_users.clone())),
        UserSource::Http => {
            let http = s
                .users
                .http
                .as_ref()
                .ok_or("users.http is required with users.source = \"http\"")?;
            Directory::Http(HttpDirectory::new(http)?)
        }
    })
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
