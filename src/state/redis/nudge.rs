//! The outbox's wake-up calls (SPEC §12 "Outbox"): a pub/sub subscription to `{prefix}:outbox`,
//! on a connection of its own, on which enqueue and hand-back publish. A nudge only shortens
//! the wait of the claim loops, which also run about every 250 ms: a nudge lost while the
//! subscription reconnects costs at most that.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::Client;
use tokio::sync::Notify;

use super::endpoint::endpoints;
use crate::config::RedisSettings;

/// How long the subscriber waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// What the subscriber needs to (re)connect.
#[derive(Clone)]
pub(super) struct Subscriber {
    /// The server, or each seed node of a cluster: a cluster delivers a message published on
    /// any node to the subscribers of every node, so each reconnection tries the next one.
    clients: Arc<[Client]>,
    channel: String,
    connect_timeout: Duration,
}

impl Subscriber {
    pub(super) fn new(
        settings: &RedisSettings,
        channel: String,
        connect_timeout: Duration,
    ) -> Result<Self, String> {
        let clients = endpoints(settings)?
            .into_iter()
            .map(Client::open)
            .collect::<Result<Arc<[Client]>, _>>()
            // The endpoints are parsed already: the message names a setting, never a URL.
            .map_err(|_| "state.redis.url or urls is not a valid Redis URL")?;
        Ok(Self {
            clients,
            channel,
            connect_timeout,
        })
    }

    /// Starts listening on the current tokio runtime; the task ends once the returned
    /// `Nudges` is dropped and the next message or reconnection notices.
    pub(super) fn listen(&self) -> Nudges {
        let notify = Arc::new(Notify::new());
        let subscriber = self.clone();
        let weak = Arc::downgrade(&notify);
        tokio::spawn(async move { subscriber.run(weak).await });
        Nudges { notify }
    }

    async fn run(self, notify: Weak<Notify>) {
        let mut clients = self.clients.iter().cycle();
        while notify.strong_count() > 0 {
            let Some(client) = clients.next() else {
                return;
            };
            match self.subscribe(client).await {
                Ok(pubsub) => {
                    let mut messages = pubsub.into_on_message();
                    while messages.next().await.is_some() {
                        let Some(notify) = notify.upgrade() else {
                            return;
                        };
                        notify.notify_one();
                    }
                    log::debug!("state backend: outbox subscription lost; reconnecting");
                }
                Err(e) => log::debug!("state backend: outbox subscription failed ({e})"),
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }

    async fn subscribe(&self, client: &Client) -> Result<redis::aio::PubSub, String> {
        let connect = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within the connect timeout".into()),
        }
    }
}

/// Wakes a claim loop when any replica enqueued or handed back a message.
pub struct Nudges {
    notify: Arc<Notify>,
}

impl Nudges {
    /// Resolves at the next nudge (at once if one came since the last call).
    pub async fn next(&self) {
        self.notify.notified().await;
    }
}
