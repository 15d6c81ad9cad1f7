//! What every emulated API shares: settings, the clock, credentials, clients, the signing key,
//! the database and the fault handle. Built once per emulator, outside the server factory.

use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{Rng, RngCore};

use super::clients::Clients;
use super::faults::Faults;
use super::keys::SigningKey;
use super::store::Store;
use crate::clock::SharedClock;
use crate::config::EmulatorSettings;

/// The emulated Authlete service.
pub(crate) struct Emulator {
    pub settings: EmulatorSettings,
    /// The issuer, without a trailing slash; endpoint URLs are this plus the route.
    pub issuer: String,
    pub clock: SharedClock,
    pub service_id: u64,
    pub access_token: String,
    pub api_secret: String,
    pub clients: Clients,
    pub key: Arc<SigningKey>,
    pub faults: Faults,
    store: Mutex<Store>,
}

impl Emulator {
    pub fn new(
        settings: EmulatorSettings,
        public_url: &str,
        clock: SharedClock,
        key: Arc<SigningKey>,
    ) -> Self {
        let clients = Clients::new(&settings.clients);
        Emulator {
            settings,
            issuer: public_url.trim_end_matches('/').to_owned(),
            clock,
            service_id: rand::thread_rng().gen_range(10_000_000_000..100_000_000_000_000),
            access_token: random_token(),
            api_secret: random_token(),
            clients,
            key,
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.unix_millis()
    }

    /// `issuer` + `route`, e.g. `/token`.
    pub fn endpoint(&self, route: &str) -> String {
        format!("{}{route}", self.issuer)
    }
}

/// 256 random bits, base64url without padding: 43 characters, like Authlete's tickets.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
