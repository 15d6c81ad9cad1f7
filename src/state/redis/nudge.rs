//! The outbox's wake-up calls (SPEC §12 "Outbox"): a pub/sub subscription to `{prefix}:outbox`,
//! on a connection of its own, on which enqueue and hand-back publish. A nudge only shortens
//! the wait of the claim loops, which also run about every 250 ms: a nudge lost while the
//! subscription reconnects costs at most that.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::io::tcp::TcpSettings;
use redis::{Client, IntoConnectionInfo};
use tokio::sync::Notify;

use super::link::keepalive;

/// How long the subscriber waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// What the subscriber needs to (re)connect.
#[derive(Clone)]
pub(super) struct Subscriber {
    client: Client,
    channel: String,
    connect_timeout: Duration,
}

impl Subscriber {
    pub(super) fn new(
        url: &str,
        channel: String,
        connect_timeout: Duration,
    ) -> Result<Self, String> {
        // The parser's messages can repeat the URL, which may hold a password.
        let invalid = "state.redis.url is not a valid Redis URL";
        let info = url.into_connection_info().map_err(|_| invalid)?;
        let tcp: TcpSettings = keepalive(info.tcp_settings().clone());
        let client = Client::open(info.set_tcp_settings(tcp)).map_err(|_| invalid)?;
        Ok(Self {
            client,
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
        while notify.strong_count() > 0 {
            match self.subscribe().await {
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

    async fn subscribe(&self) -> Result<redis::aio::PubSub, String> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
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
