//! Pub/sub subscriptions, each on a connection of its own: the outbox's nudges (SPEC §12
//! "Outbox", `{prefix}:outbox`, on which enqueue and hand-back publish) and the wake-ups of
//! parked long polls (SPEC §14, `{prefix}:wake`). A nudge only shortens the wait of the claim
//! loops, which also run about every 250 ms; a wake-up only shortens a parked poll, which also
//! ends at its timeout: a message lost while a subscription reconnects costs at most that.
//!
//! On a Redis Cluster a subscription is a plain `SUBSCRIBE` on one node (a seed, the next one
//! after each reconnection): the cluster bus carries a `PUBLISH` made on any node to the
//! subscribers of every node. Sharded pub/sub is not used; at CIBA rates the broadcast is
//! cheap.

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

/// What a subscription does with each message: false ends it (its listener is gone).
type OnMessage = Box<dyn FnMut(&redis::Msg) -> bool + Send>;

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
        let weak: Weak<Notify> = Arc::downgrade(&notify);
        let on_message = Box::new(move |_: &redis::Msg| match weak.upgrade() {
            Some(notify) => {
                notify.notify_one();
                true
            }
            None => false,
        });
        tokio::spawn(async move { subscriber.run(on_message, || true).await });
        Nudges { notify }
    }

    /// Subscribes until `alive` turns false (checked at each reconnection) or `on_message`
    /// returns false: after a lost connection it connects and subscribes again, to the next
    /// node, about a second later.
    pub(super) async fn run(self, mut on_message: OnMessage, alive: impl Fn() -> bool) {
        let mut clients = self.clients.iter().cycle();
        while alive() {
            let Some(client) = clients.next() else {
                return;
            };
            match self.subscribe(client).await {
                Ok(pubsub) => {
                    log::debug!("state backend: subscribed to {}", self.channel);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        if !on_message(&message) {
                            return;
                        }
                    }
                    log::debug!(
                        "state backend: subscription to {} lost; reconnecting",
                        self.channel
                    );
                }
                Err(e) => log::debug!(
                    "state backend: subscription to {} failed ({e})",
                    self.channel
                ),
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
