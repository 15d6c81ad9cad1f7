//! What the link connects with: one Redis server through a `ConnectionManager`, or a Redis
//! Cluster through a `ClusterConnection` (`state.redis.cluster`, SPEC §12). Both are one
//! `Connection`, so every operation and `Script::invoke_async` run unchanged on either.
//!
//! On a cluster every key carries the one hash tag `{<key_prefix>}`, so every script runs on the
//! master that owns that slot (its "home"); the cluster connection follows `MOVED` and `ASK` when
//! the slot moves, and reconnects to nodes by itself. The link above still bounds every command
//! and replaces the whole connection when Redis stops answering.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::io::tcp::TcpSettings;
use redis::{
    Arg, Client, Cmd, ConnectionInfo, FromRedisValue, Pipeline, RedisFuture, RedisResult, Value,
};

use super::endpoint::{endpoints, keepalive, millis, warn_about_plain_text};
use crate::config::RedisSettings;

/// How many times a cluster command is tried again (after a `MOVED` or `ASK` redirect, a
/// `TRYAGAIN`, a lost node), all within the command timeout.
const CLUSTER_RETRIES: u32 = 5;
/// The shortest wait before a cluster command is tried again after `TRYAGAIN` or a lost node
/// (the crate's default, 1.28 s, would outlast any command timeout); it doubles up to the
/// command timeout.
const CLUSTER_MIN_RETRY_WAIT: Duration = Duration::from_millis(10);

/// Makes connections; the probe of the link calls it once per attempt.
pub(super) enum Connector {
    Server {
        client: Client,
        config: ConnectionManagerConfig,
    },
    Cluster {
        client: ClusterClient,
        /// The master owning the slot of the hash tag, where every key lives.
        home: Route,
        hash_tag: String,
    },
}

/// A connection to a server or to a cluster; cheap to clone.
#[derive(Clone)]
pub(super) enum Connection {
    Server(ConnectionManager),
    /// With the route to the master of the hash tag's slot.
    Cluster(ClusterConnection, Route),
}

impl Connector {
    /// Checks the URLs of `settings` (`url`, or the seed nodes of `urls` on a cluster), warning
    /// about each plain `redis://` one to another host; `hash_tag` is `{<key_prefix>}`.
    pub(super) fn new(s: &RedisSettings, hash_tag: &str) -> Result<Self, String> {
        let mut endpoints = endpoints(s)?;
        warn_about_plain_text(s);
        if s.cluster {
            return Self::cluster(s, endpoints, hash_tag);
        }
        let server = endpoints.pop().ok_or("state.redis.url is required")?;
        Self::server(s, server)
    }

    fn server(s: &RedisSettings, server: ConnectionInfo) -> Result<Self, String> {
        let client =
            Client::open(server).map_err(|_| "state.redis.url is not a valid Redis URL")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(s.connect_timeout))
            .set_response_timeout(Some(s.command_timeout))
            // The prober of the link is the retry: one attempt per probe.
            .set_number_of_retries(0);
        Ok(Self::Server { client, config })
    }

    fn cluster(
        s: &RedisSettings,
        seeds: Vec<ConnectionInfo>,
        hash_tag: &str,
    ) -> Result<Self, String> {
        let min_wait = millis(CLUSTER_MIN_RETRY_WAIT);
        let client = ClusterClient::builder(seeds)
            .connection_timeout(s.connect_timeout)
            .response_timeout(s.command_timeout)
            // Redirects and retries included, a command ends within the command timeout.
            .overall_response_timeout(Some(s.command_timeout))
            .retries(CLUSTER_RETRIES)
            .min_retry_wait(min_wait)
            .max_retry_wait(millis(s.command_timeout).max(min_wait + 1))
            // For every node, the seeds and those the cluster names.
            .tcp_settings(keepalive(TcpSettings::default()))
            .build()
            // The seeds are parsed already: these messages name a setting, never a URL.
            .map_err(|e| format!("state.redis.urls: {e}"))?;
        Ok(Self::Cluster {
            client,
            home: Route::with_key(hash_tag, SlotAddr::Master),
            hash_tag: hash_tag.to_owned(),
        })
    }

    /// How many connection attempts, one after the other, making a connection may wait for:
    /// a cluster connects to its seed nodes, then to the nodes they name, and a node that went
    /// silent (a vanished host) holds each round up for `connect_timeout_ms`.
    pub(super) fn connect_rounds(&self) -> u32 {
        match self {
            Self::Server { .. } => 1,
            Self::Cluster { .. } => 2,
        }
    }

    /// A fresh connection: to one server, or to a cluster through its seed nodes (it learns
    /// the other nodes from them).
    pub(super) async fn connect(&self) -> RedisResult<Connection> {
        match self {
            Self::Server { client, config } => {
                ConnectionManager::new_with_config(client.clone(), config.clone())
                    .await
                    .map(Connection::Server)
            }
            Self::Cluster { client, home, .. } => {
                let connection = client.get_async_connection().await?;
                Ok(Connection::Cluster(connection, *home))
            }
        }
    }

    /// Whether Redis answers on `connection`: one server answers `PING`; a cluster answers
    /// `EXISTS` on the hash tag from the master serving its slot (a keyless command would pass
    /// while that slot has no master, or the cluster is down).
    pub(super) async fn check(&self, connection: &mut Connection) -> RedisResult<()> {
        match self {
            Self::Server { .. } => redis::cmd("PING").query_async(connection).await,
            Self::Cluster { hash_tag, .. } => {
                let mut exists = redis::cmd("EXISTS");
                exists.arg(hash_tag);
                exists.query_async::<i64>(connection).await.map(drop)
            }
        }
    }
}

impl Connection {
    /// Runs `cmd` where the gateway's keys live: on a cluster, the master of the hash tag's
    /// slot (a keyless command would otherwise go to a random node, or to every node).
    pub(super) async fn at_home<T: FromRedisValue>(&mut self, cmd: Cmd) -> RedisResult<T> {
        match self {
            Self::Cluster(c, home) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(*home));
                Ok(redis::from_redis_value(c.route_command(cmd, route).await?)?)
            }
            Self::Server(_) => cmd.query_async(self).await,
        }
    }
}

/// Every command as the server or the cluster routes it, but one: the `SCRIPT LOAD` that
/// `Script::invoke_async` sends after `NOSCRIPT`. A cluster client sends it to every node it
/// holds a connection to and fails unless all answer in time, so one silent node anywhere (a
/// vanished host; the old master after a failover, whose promoted replica has no scripts yet)
/// would fail every script; it only needs to reach the master that answered `NOSCRIPT`, the one
/// of the hash tag's slot.
impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Server(c) => c.req_packed_command(cmd),
            Self::Cluster(c, home) => {
                if is_script_load(cmd) {
                    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(*home));
                    Box::pin(c.route_command(cmd.clone(), route))
                } else {
                    c.req_packed_command(cmd)
                }
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Server(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c, _) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Server(c) => c.get_db(),
            Self::Cluster(c, _) => c.get_db(),
        }
    }
}

/// Whether `cmd` is `SCRIPT LOAD`.
fn is_script_load(cmd: &Cmd) -> bool {
    let mut words = cmd.args_iter().map(|arg| match arg {
        Arg::Simple(word) => word.to_ascii_uppercase(),
        _ => Vec::new(),
    });
    words.next().as_deref() == Some(b"SCRIPT") && words.next().as_deref() == Some(b"LOAD")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, SecretList};

    fn cluster(urls: &[&str]) -> RedisSettings {
        RedisSettings {
            cluster: true,
            urls: SecretList(urls.iter().map(|u| Secret::new(*u)).collect()),
            ..RedisSettings::default()
        }
    }

    #[test]
    fn a_cluster_connects_through_its_seed_nodes_and_homes_on_the_hash_tag_slot() {
        let settings = cluster(&["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]);
        let Ok(Connector::Cluster { home, .. }) = Connector::new(&settings, "{agw}") else {
            panic!("a cluster connector");
        };
        assert_eq!(home, Route::with_key("{agw}:poll:00", SlotAddr::Master));
        assert_ne!(home, Route::with_key("{other}", SlotAddr::Master));
    }

    #[test]
    fn only_script_load_is_singled_out() {
        assert!(is_script_load(
            redis::cmd("SCRIPT").arg("LOAD").arg("return 1")
        ));
        assert!(is_script_load(
            redis::cmd("script").arg("load").arg("return 1")
        ));
        for other in [
            redis::cmd("SCRIPT").arg("FLUSH").clone(),
            redis::cmd("EVALSHA").arg("abc").arg(0).clone(),
            redis::cmd("SCRIPT").clone(),
            redis::cmd("LOAD").clone(),
        ] {
            assert!(!is_script_load(&other));
        }
    }

    #[test]
    fn no_error_about_a_seed_node_repeats_its_password() {
        for urls in [
            &[
                "redis://:hunter2-secret@127.0.0.1:7000",
                "http://:hunter2-secret@x",
            ][..],
            &[
                "rediss://u:hunter2-secret@127.0.0.1:7000",
                "redis://:hunter2-secret@[::1",
            ],
            // Seeds that disagree are refused by the cluster client.
            &[
                "redis://:hunter2-secret@127.0.0.1:7000",
                "redis://:other@127.0.0.1:7001",
            ],
            &[
                "rediss://:hunter2-secret@127.0.0.1:7000",
                "redis://:hunter2-secret@x:7001",
            ],
        ] {
            let Err(e) = Connector::new(&cluster(urls), "{agw}") else {
                panic!("{urls:?} refused");
            };
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.starts_with("state.redis.urls"), "{e}");
        }
        let settings = RedisSettings {
            url: Some(Secret::new("redis://:hunter2-secret@[::1")),
            ..RedisSettings::default()
        };
        let Err(e) = Connector::new(&settings, "{agw}") else {
            panic!("refused");
        };
        assert!(
            !e.contains("hunter2") && e.starts_with("state.redis.url"),
            "{e}"
        );
    }
}
