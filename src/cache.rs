//! The metadata cache (SPEC §3.3, §7): discovery and the JWK Set, fetched from Authlete at most
//! once per key however many requests miss together, and kept as stale copies to serve while
//! Authlete fails.
//!
//! Built once in `AppState` and shared by every worker. Two moka caches hold the documents: the
//! fresh one expires after the document's TTL, the last-good one after TTL plus
//! `cache.stale_if_error_secs`. The loader runs on the worker whose request missed first (moka
//! does not require the init future to be `Send`, so the worker's `!Send` awc client can make
//! the call); requests on other workers wait for its result instead of calling again.

mod mismatch;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};

use crate::authlete::{Api, AuthleteClient, UpstreamError};
use crate::config::Settings;
use crate::error::GatewayError;
use crate::metrics::Metrics;

pub use mismatch::MismatchCheck;

/// A cached document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    Discovery,
    Jwks,
}

impl Document {
    /// Every cached document, for the metrics exported before the first lookup.
    pub const ALL: [Document; 2] = [Document::Discovery, Document::Jwks];

    /// The `cache` label of `gateway_cache_requests_total`.
    pub fn label(self) -> &'static str {
        match self {
            Document::Discovery => "discovery",
            Document::Jwks => "jwks",
        }
    }

    fn api(self) -> Api {
        match self {
            Document::Discovery => Api::ServiceConfiguration,
            Document::Jwks => Api::Jwks,
        }
    }
}

/// Authlete's body, verbatim, and its strong entity tag.
#[derive(Debug)]
pub struct Cached {
    pub body: Bytes,
    /// `"<hex>"`: the first 128 bits of the body's SHA-256, quoted.
    pub etag: String,
}

impl Cached {
    fn new(body: Bytes) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Self { body, etag }
    }
}

/// What a lookup served.
#[derive(Debug, Clone)]
pub struct Served {
    pub document: Arc<Cached>,
    /// True when Authlete failed and this is a copy past its TTL.
    pub stale: bool,
}

/// Per-document lifetimes: the TTL, or the TTL plus the stale window.
#[derive(Debug, Clone, Copy)]
struct Lifetimes {
    discovery: Duration,
    jwks: Duration,
}

impl Lifetimes {
    fn of(&self, document: Document) -> Duration {
        match document {
            Document::Discovery => self.discovery,
            Document::Jwks => self.jwks,
        }
    }
}

impl Expiry<Document, Arc<Cached>> for Lifetimes {
    fn expire_after_create(&self, key: &Document, _: &Arc<Cached>, _: Instant) -> Option<Duration> {
        Some(self.of(*key))
    }

    // A refreshed copy lives a whole lifetime again (moka's default keeps the old deadline).
    fn expire_after_update(
        &self,
        key: &Document,
        _: &Arc<Cached>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.of(*key))
    }
}

/// Discovery and JWKS, fresh and last-good.
pub struct MetadataCache {
    fresh: Cache<Document, Arc<Cached>>,
    last_good: Cache<Document, Arc<Cached>>,
    ttl: Lifetimes,
    metrics: Metrics,
    mismatch: MismatchCheck,
}

/// One entry per document; the bound is explicit only to say so.
const MAX_ENTRIES: u64 = 2;

impl MetadataCache {
    pub fn new(settings: &Settings, metrics: Metrics) -> Self {
        let c = &settings.cache;
        let ttl = Lifetimes {
            discovery: c.metadata_ttl,
            jwks: c.jwks_ttl,
        };
        let stale = c.stale_if_error;
        let kept = Lifetimes {
            discovery: ttl.discovery + stale,
            jwks: ttl.jwks + stale,
        };
        let build = |lifetimes: Lifetimes| {
            Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .expire_after(lifetimes)
                .build()
        };
        Self {
            fresh: build(ttl),
            last_good: build(kept),
            ttl,
            mismatch: MismatchCheck::new(settings.public_base(), metrics.clone()),
            metrics,
        }
    }

    /// The TTL advertised in `Cache-Control: max-age`.
    pub fn ttl_secs(&self, document: Document) -> u64 {
        self.ttl.of(document).as_secs()
    }

    /// The document: cached, or fetched once for every request that missed together; a stale
    /// copy when Authlete fails; Authlete's failure when there is no copy at all.
    pub async fn get(
        &self,
        document: Document,
        authlete: &AuthleteClient,
        request_id: &str,
    ) -> Result<Served, GatewayError> {
        if let Some(cached) = self.fresh.get(&document).await {
            self.count(document, "hit");
            return Ok(Served {
                document: cached,
                stale: false,
            });
        }
        // The miss path, with its Authlete call, is boxed: a hit's future stays small.
        Box::pin(self.get_missed(document, authlete, request_id)).await
    }

    async fn get_missed(
        &self,
        document: Document,
        authlete: &AuthleteClient,
        request_id: &str,
    ) -> Result<Served, GatewayError> {
        let loaded = self
            .fresh
            .entry(document)
            .or_try_insert_with(self.load(document, authlete, request_id))
            .await;
        match loaded {
            Ok(entry) => {
                self.count(document, if entry.is_fresh() { "miss" } else { "hit" });
                Ok(Served {
                    document: entry.into_value(),
                    stale: false,
                })
            }
            Err(error) => match self.last_good.get(&document).await {
                Some(copy) => {
                    self.count(document, "stale");
                    log::warn!(
                        request_id = request_id; "serving a stale {} while Authlete fails",
                        document.label()
                    );
                    Ok(Served {
                        document: copy,
                        stale: true,
                    })
                }
                None => {
                    self.count(document, "miss");
                    Err(rebuild(&error))
                }
            },
        }
    }

    /// Empties the cache, stale copies included: the next request fetches anew.
    pub fn purge(&self) {
        self.fresh.invalidate_all();
        self.last_good.invalidate_all();
        log::info!("metadata cache purged");
    }

    /// One upstream call; a good answer also becomes the last-good copy.
    async fn load(
        &self,
        document: Document,
        authlete: &AuthleteClient,
        request_id: &str,
    ) -> Result<Arc<Cached>, GatewayError> {
        let raw = authlete.get_raw(document.api(), request_id).await?;
        let body = match (document, raw.status) {
            // Authlete answers 204 when the service has no keys (API v2 spec). Only then: any
            // other empty answer (a body lost on the way) is no JWK Set, and serving it as an
            // empty one would fail every signature check for a whole TTL.
            (Document::Jwks, 204) => Bytes::from_static(br#"{"keys":[]}"#),
            _ => raw.body,
        };
        let parsed = match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(unreadable(document, request_id)),
        };
        if document == Document::Discovery {
            self.mismatch.check(&parsed);
        }
        let cached = Arc::new(Cached::new(body));
        self.last_good.insert(document, cached.clone()).await;
        Ok(cached)
    }

    fn count(&self, document: Document, result: &str) {
        self.metrics
            .cache_requests
            .with_label_values(&[document.label(), result])
            .inc();
    }
}

/// A body that is not a JSON object is not cached: it would be served for a whole TTL.
fn unreadable(document: Document, request_id: &str) -> GatewayError {
    let error = UpstreamError::Body(format!("the {} is not a JSON object", document.label()));
    log::error!(
        request_id = request_id; "api={} {error}",
        document.api().name()
    );
    GatewayError::Upstream {
        error,
        retry_after_secs: 0,
    }
}

/// The loader's error is shared by every waiting request, so each gets its own copy.
fn rebuild(error: &GatewayError) -> GatewayError {
    match error {
        GatewayError::Upstream {
            error,
            retry_after_secs,
        } => GatewayError::Upstream {
            error: error.clone(),
            retry_after_secs: *retry_after_secs,
        },
        _ => GatewayError::Internal,
    }
}
